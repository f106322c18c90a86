"""``DistributedDataParallel``: every rank trains a replica on its own share of each batch, and the replicas'
gradients are averaged before the optimizer step, so that all ranks take the same step.

With N ranks each computing the mean loss L_k of its B samples, the average of their gradients
(1/N) Σ_k ∂L_k/∂θ is the gradient of the mean loss over all N·B samples: N ranks with batch B step exactly as
one process with batch N·B (up to the order of floating-point sums). The replicas start equal (rank 0's
parameters and buffers are broadcast when the model is wrapped) and so stay equal.

How the averaging is scheduled (PyTorch's reducer, in small): the parameters are grouped into *buckets* of
about ``bucket_cap_mb`` in reverse registration order, roughly the order backward produces their gradients.
Each parameter has a post-accumulate-grad hook; when the last gradient of a bucket has arrived, the bucket's
gradients are copied into one flat array and a non-blocking allreduce of it starts, while backward carries on
with earlier layers. A callback queued for the end of the backward pass waits for every bucket, divides by N
and writes the averages back into ``.grad``. ``overlap=False`` (a minidl option) waits instead for the end
of backward and reduces every bucket then, blocking: ``benchmarks/PERFORMANCE.md`` measures both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ... import distributed as dist
from ...autograd.engine import queue_callback
from ...autograd.grad_mode import is_grad_enabled
from ..module import Module

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Parameters whose gradients are reduced together, as one flat array."""

    def __init__(self, params: list[Any], dtype: np.dtype) -> None:
        self.params = params
        self.sizes = [p._data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        self.flat = np.zeros(self.offsets[-1], dtype=dtype)
        self.ready: set[int] = set()
        self.work: dist.Work | None = None

    def view(self, i: int) -> np.ndarray:
        return self.flat[self.offsets[i]:self.offsets[i + 1]]


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the ranks of the initialised process group.

    The wrapped model is ``self.module`` (so ``state_dict`` keys start with ``module.``, as in PyTorch).
    ``broadcast_buffers``: at each training forward, every rank takes rank 0's buffers (batch norm's running
    statistics; with :class:`~minidl.nn.SyncBatchNorm` they are equal anyway). ``find_unused_parameters``:
    parameters that took no part in a rank's loss count as a zero gradient there (and keep ``.grad`` untouched
    when no rank used them); without it such a parameter is an error naming it, since its bucket would never
    be reduced. ``bucket_cap_mb``: bucket size (default 25 MB, PyTorch's). ``device_ids``, ``output_device``,
    ``dim`` are accepted for CPU-only scripts and must be ``None``/0.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group: Any = None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False, *,
                 overlap: bool = True) -> None:
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: Default process group has not been initialized, please "
                               "make sure to call init_process_group.")
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu") or dim != 0:
            raise ValueError("DistributedDataParallel: minidl runs on the CPU; leave device_ids and output_device "
                             f"as None and dim as 0 (got {device_ids!r}, {output_device!r}, {dim!r})")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.overlap = overlap
        self.world_size = dist.get_world_size()
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 2**20)
        self._named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._sync_state()
        self.buckets = self._make_buckets()
        self._where: dict[int, tuple[_Bucket, int]] = {}
        for b in self.buckets:
            for i, p in enumerate(b.params):
                self._where[id(p)] = (b, i)
        self._hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for _, p in self._named]
        self.require_backward_grad_sync = True
        self._expect_reduction = False
        self._queued = False

    # ------------------------------------------------------------------------------------------ setup
    def _sync_state(self) -> None:
        """Every rank takes rank 0's parameters and buffers (one broadcast per dtype)."""
        arrays = [p._data for p in self.module.parameters()] + [b._data for b in self.module.buffers()]
        _broadcast_arrays(arrays)

    def _make_buckets(self) -> list[_Bucket]:
        buckets: list[_Bucket] = []
        current: list[Any] = []
        size = 0
        for _, p in reversed(self._named):
            if current and (p._data.dtype != current[0]._data.dtype or size + p._data.nbytes > self.bucket_bytes_cap):
                buckets.append(_Bucket(current, current[0]._data.dtype))
                current, size = [], 0
            current.append(p)
            size += p._data.nbytes
        if current:
            buckets.append(_Bucket(current, current[0]._data.dtype))
        return buckets

    # ------------------------------------------------------------------------------------------ forward
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self.world_size > 1 and self.training and self.broadcast_buffers:
            buffers = [b._data for b in self.module.buffers()]
            if buffers:
                _broadcast_arrays(buffers)
        self._expect_reduction = self.world_size > 1 and self.require_backward_grad_sync and is_grad_enabled()
        for b in self.buckets:
            b.ready.clear()
            b.work = None
        self._queued = False
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes inside accumulate gradients locally without averaging them; the first backward
        after the block averages the accumulated sums (gradient accumulation over several batches)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ------------------------------------------------------------------------------------------ reduction
    def _grad_ready(self, param: Any) -> None:
        if not self._expect_reduction:
            return
        if not self._queued:
            queue_callback(self._finish_reduction)
            self._queued = True
        bucket, i = self._where[id(param)]
        bucket.ready.add(i)
        # collectives must start in the same order on every rank: with unused parameters a bucket may fill on
        # one rank and not on another, so then every bucket waits for the end of backward
        if self.overlap and not self.find_unused_parameters and len(bucket.ready) == len(bucket.params):
            self._launch(bucket)
        for b in self.buckets:  # MPI progresses non-blocking collectives only when called: poll the ones running
            if b.work is not None:
                b.work.is_completed()

    def _launch(self, bucket: _Bucket) -> None:
        for i, p in enumerate(bucket.params):
            view = bucket.view(i)
            if i in bucket.ready:
                view[...] = p.grad._data.reshape(-1)
            else:  # a parameter this rank did not use (find_unused_parameters): contributes zero
                view[...] = 0
        bucket.work = dist.all_reduce(bucket.flat, async_op=True)

    def _finish_reduction(self) -> None:
        self._expect_reduction = False
        unready = [(b, i) for b in self.buckets for i in range(len(b.params)) if i not in b.ready]
        if unready and not self.find_unused_parameters:
            names = {id(p): n for n, p in self._named}
            missing = ", ".join(names[id(b.params[i])] for b, i in unready)
            raise RuntimeError(
                f"DistributedDataParallel (rank {dist.get_rank()}): parameters took no part in producing the "
                f"loss, so their gradients cannot be averaged: {missing}. Pass find_unused_parameters=True to "
                "DistributedDataParallel, or make sure every parameter of the model is used in forward")
        used = None
        if self.find_unused_parameters:  # which parameters some rank used: the others keep .grad untouched
            used = np.zeros(sum(len(b.params) for b in self.buckets), dtype=np.int32)
            k = 0
            for b in self.buckets:
                for i in range(len(b.params)):
                    used[k] = i in b.ready
                    k += 1
            dist.all_reduce(used, dist.ReduceOp.MAX)
        for b in self.buckets:
            if b.work is None:
                self._launch(b)
        k = 0
        for b in self.buckets:
            assert b.work is not None
            b.work.wait()
            b.flat /= self.world_size
            for i, p in enumerate(b.params):
                if used is None or used[k]:
                    if p.grad is None:
                        p.grad = type(p)._wrap(b.view(i).reshape(p._data.shape).astype(p._data.dtype))
                    else:
                        p.grad._data[...] = b.view(i).reshape(p._data.shape)
                k += 1


def _broadcast_arrays(arrays: list[np.ndarray]) -> None:
    """Rank 0's values into every rank's ``arrays``, one broadcast per dtype."""
    by_dtype: dict[np.dtype, list[np.ndarray]] = {}
    for a in arrays:
        by_dtype.setdefault(a.dtype, []).append(a)
    for dtype, group in by_dtype.items():
        flat = np.concatenate([a.reshape(-1) for a in group]) if group else np.zeros(0, dtype)
        dist.broadcast(flat, 0)
        start = 0
        for a in group:
            a[...] = flat[start:start + a.size].reshape(a.shape)
            start += a.size
