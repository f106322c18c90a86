"""``DistributedSampler``: each rank of a data-parallel job reads its own share of every epoch
(``torch.utils.data.distributed.DistributedSampler``'s semantics).

Epoch e's order is a permutation of all N samples drawn from ``seed + e`` (so every rank draws the same one
without communicating, and ``set_epoch`` must be called each epoch for a new order). With R ranks it is
padded to a multiple of R by repeating its first indices (``drop_last=False``: at most R − 1 samples are
seen twice per epoch) or cut to one (``drop_last=True``), and rank r takes every R-th index from position r.

Why strided: with B samples per rank per batch, batch i of all ranks together is positions i·B·R … (i+1)·B·R
of the permutation, one contiguous block, whatever R is. A run with global batch B·R therefore visits the
same global batches on any number of ranks, which is what lets a checkpoint written by R ranks resume on R′.
"""

from __future__ import annotations

import math
from collections.abc import Sized

import numpy as np

from .sampler import _ArraySampler

__all__ = ["DistributedSampler"]


class DistributedSampler(_ArraySampler):
    """The indices of rank ``rank`` of ``num_replicas`` (default: this process's rank and the group's size).

    ``shuffle``: a new permutation each epoch (from ``seed + epoch``; call :meth:`set_epoch`); else the
    dataset order. ``drop_last``: drop the tail instead of padding it, so that no sample repeats.
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ...distributed import get_rank, get_world_size, is_initialized

            if not is_initialized():
                raise RuntimeError("DistributedSampler: give num_replicas and rank, or call "
                                   "minidl.distributed.init_process_group() first")
            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, rank
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # PyTorch's arithmetic
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch about to start: its number seeds the shuffle, so that each epoch has its own order."""
        self.epoch = int(epoch)

    def epoch_indices(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n).astype(np.int64, copy=False)
        else:
            order = np.arange(n, dtype=np.int64)
        if self.total_size > n:  # pad by repeating the order from its start (as many times as needed)
            order = np.resize(order, self.total_size) if n else order
        order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas]

    def state_dict(self) -> dict:
        """``{"epoch": ..., "seed": ...}``: all an epoch's order depends on, and nothing about the ranks."""
        return {"epoch": self.epoch, "seed": self.seed}

    def load_state_dict(self, state: dict, resume_epoch: bool = False) -> None:
        if not isinstance(state, dict) or "epoch" not in state:
            raise ValueError(f"DistributedSampler.load_state_dict: not a DistributedSampler state: {state!r}")
        self.epoch, self.seed = int(state["epoch"]), int(state.get("seed", self.seed))
