"""Samplers: which indices of a dataset an epoch visits, and in what order (``torch.utils.data`` names).

A sampler is an iterable of ints. minidl's samplers also have ``epoch_indices()``, the whole epoch as one
int array, so the :class:`~minidl.utils.data.DataLoader` slices batches out of it instead of pulling one
Python int at a time.

Shuffling and exact resume
--------------------------
A shuffling sampler draws one 63-bit *epoch seed* per epoch from its generator (an explicit
``numpy.random.Generator``, or minidl's global one, :func:`minidl.random.default_generator`, which
:func:`minidl.manual_seed` reseeds) and builds the epoch's permutation from ``default_rng(epoch_seed)``.
The permutation is therefore a pure function of that seed, and ``state_dict()`` records it together with
the state of an explicit generator; ``load_state_dict(state, resume_epoch=True)`` replays the same epoch.
The global generator's state is *not* part of a sampler's state (restoring it would rewind dropout and
init too): save :func:`minidl.random.get_rng_state` next to it, as a checkpoint does.

Samplers run on the host with NumPy: data loading never runs on an accelerator.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized
from itertools import islice
from typing import Any

import numpy as np

from ...random import Generator, default_generator

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "BatchSampler",
    "resolve_generator",
]

_SEED_BOUND = 2**63 - 1


def resolve_generator(generator: Any, owner: str) -> np.random.Generator | None:
    """Validate a ``generator`` argument: a :class:`minidl.Generator`, a ``numpy.random.Generator``, an int seed,
    or ``None``.

    ``None`` stays ``None`` so that callers look up minidl's global generator *at draw time*
    (``manual_seed`` replaces that generator object, so it must not be cached).
    """
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"{owner}: generator must be a minidl.Generator, a numpy.random.Generator, an int seed or None, "
        f"got {type(generator).__name__}"
    )


def _check_length(n: Any, owner: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"{owner}: expected a non-negative int, got {n!r}")
    return int(n)


class Sampler:
    """Base class: an iterable over dataset indices with a length (subclasses define ``__iter__``)."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class _ArraySampler(Sampler):
    """A sampler that draws a whole epoch at once as an array (``epoch_indices``)."""

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def epoch_indices(self) -> np.ndarray:
        """The indices of one full pass, as an int64 array (a shuffling sampler starts a new epoch)."""
        raise NotImplementedError


class SequentialSampler(_ArraySampler):
    """``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __len__(self) -> int:
        return len(self.data_source)

    def epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict, resume_epoch: bool = False) -> None:
        """Nothing to restore: the order never changes."""


class _ShuffleSampler(_ArraySampler):
    """Shared machinery of the shuffling samplers: one seed per epoch, saved for exact resume."""

    def __init__(self, generator: Any) -> None:
        self.generator = resolve_generator(generator, type(self).__name__)
        self._epoch_seed: int | None = None
        self._replay_seed: int | None = None

    def _epoch_rng(self) -> np.random.Generator:
        if self._replay_seed is not None:
            seed, self._replay_seed = self._replay_seed, None
        else:
            gen = self.generator if self.generator is not None else default_generator()
            seed = int(gen.integers(0, _SEED_BOUND))
        self._epoch_seed = seed
        return np.random.default_rng(seed)

    def state_dict(self) -> dict:
        """``{"epoch_seed": ..., "generator": ...}``: the latest epoch's seed (or ``None``) and the state
        of an explicit generator (``None`` for the global one). Plain ints and dicts: JSON-serialisable.
        """
        gen = None if self.generator is None else self.generator.bit_generator.state
        return {"epoch_seed": self._epoch_seed, "generator": gen}

    def load_state_dict(self, state: dict, resume_epoch: bool = False) -> None:
        """Restore :meth:`state_dict`; with ``resume_epoch`` the next epoch repeats the saved one's order."""
        if not isinstance(state, dict) or "epoch_seed" not in state:
            raise ValueError(f"{type(self).__name__}.load_state_dict: not a sampler state: {state!r}")
        gen_state = state.get("generator")
        if gen_state is not None:
            if self.generator is None:
                bit_generator = getattr(np.random, gen_state["bit_generator"])
                self.generator = np.random.Generator(bit_generator())
            self.generator.bit_generator.state = gen_state
        self._epoch_seed = state["epoch_seed"]
        self._replay_seed = state["epoch_seed"] if resume_epoch else None


class RandomSampler(_ShuffleSampler):
    """A random permutation of ``range(len(data_source))`` each epoch.

    With ``replacement=True``, ``num_samples`` indices drawn uniformly with replacement instead.
    ``generator`` (a ``numpy.random.Generator`` or int seed) defaults to minidl's global generator.
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: Any = None) -> None:
        super().__init__(generator)
        self.data_source = data_source
        self.replacement = bool(replacement)
        if num_samples is not None:
            _check_length(num_samples, "RandomSampler num_samples")
            if not replacement and num_samples > len(data_source):
                raise ValueError(
                    f"RandomSampler: num_samples={num_samples} exceeds the dataset size {len(data_source)} "
                    "without replacement"
                )
        self._num_samples = num_samples

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self) -> int:
        return self.num_samples

    def epoch_indices(self) -> np.ndarray:
        n = len(self.data_source)
        rng = self._epoch_rng()
        if self.replacement:
            if n == 0:
                raise ValueError("RandomSampler: cannot sample with replacement from an empty dataset")
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        return rng.permutation(n)[: self.num_samples].astype(np.int64, copy=False)


class SubsetRandomSampler(_ShuffleSampler):
    """The given ``indices`` in a random order each epoch (without replacement)."""

    def __init__(self, indices: Sequence[int] | np.ndarray, generator: Any = None) -> None:
        super().__init__(generator)
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __len__(self) -> int:
        return len(self.indices)

    def epoch_indices(self) -> np.ndarray:
        return self.indices[self._epoch_rng().permutation(len(self.indices))]


class BatchSampler(Sampler):
    """Group a sampler's indices into lists of ``batch_size`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler: Sampler | Sequence[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"BatchSampler: batch_size must be a positive int, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:  # type: ignore[override]
        for batch in self.index_batches():
            yield batch.tolist()

    def index_batches(self) -> Iterator[np.ndarray]:
        """One epoch of batches as int arrays.

        The epoch's indices are drawn now (not at the first ``next``), so a sampler's state right after
        this call already describes the epoch being iterated.
        """
        epoch = getattr(self.sampler, "epoch_indices", None)
        if epoch is not None:
            return self._slices(epoch())
        return self._chunks(iter(self.sampler))

    def _slices(self, idx: np.ndarray) -> Iterator[np.ndarray]:
        bs, n = self.batch_size, len(idx)
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            yield idx[start : start + bs]

    def _chunks(self, it: Iterator[int]) -> Iterator[np.ndarray]:
        # a plain iterable sampler (possibly lazy): take batch_size ints at a time
        while True:
            chunk = list(islice(it, self.batch_size))
            if not chunk or (self.drop_last and len(chunk) < self.batch_size):
                return
            yield np.asarray(chunk, dtype=np.int64)
