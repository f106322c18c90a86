"""Map-style datasets (``torch.utils.data`` names) and the batched fast path.

A dataset maps an index in ``range(len(ds))`` to one sample. The :class:`DataLoader` normally builds a
batch by calling ``ds[i]`` once per index and collating the samples, a Python call per sample. A dataset
whose samples live in memory as arrays can do better: :meth:`Dataset.batch_fetcher` returns a function
``fetch(indices) -> batch`` that gathers a whole batch with one fancy-index per array (and applies batched
transforms). Its contract: ``fetch(idx)`` returns, as NumPy arrays or tensors, exactly what
``default_collate([ds[i] for i in idx])`` returns as tensors. The loader uses it whenever it collates
with the default collate; a custom ``collate_fn`` always receives the list of samples.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...functions.creation import from_numpy
from ...random import default_generator
from ...tensor import Tensor, as_array
from .sampler import resolve_generator

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "BatchFetcher"]

#: ``fetch(indices) -> batch``: the fast-path protocol (see the module docstring).
BatchFetcher = Callable[[np.ndarray], Any]


class Dataset:
    """Base class of map-style datasets: define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def batch_fetcher(self) -> BatchFetcher | None:
        """A function gathering a whole batch at once, or ``None`` (samples are read one by one)."""
        return None


def _as_array(t: Any) -> np.ndarray:
    """A tensor's array (shared), an ndarray as is, other data with minidl's dtype rules."""
    if isinstance(t, Tensor):
        return t._data
    if isinstance(t, np.ndarray):
        return t
    return as_array(t)


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors or arrays: ``ds[i] == (t0[i], t1[i], ...)``.

    Arrays are kept without copying (a tensor's memory is shared, as in PyTorch); items come back as
    minidl tensors. ``arrays()`` gives the arrays themselves, and batches are gathered with one fancy
    index per array.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        arrays = tuple(_as_array(t) for t in tensors)
        shapes = [a.shape for a in arrays]
        if any(a.ndim == 0 for a in arrays) or len({a.shape[0] for a in arrays}) != 1:
            raise ValueError(
                "TensorDataset: all tensors must have the same size in their first dimension, "
                f"got shapes {shapes}"
            )
        self._arrays = arrays
        self.tensors = tuple(from_numpy(a) for a in arrays)

    def __len__(self) -> int:
        return self._arrays[0].shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(from_numpy(np.asarray(a[index])) for a in self._arrays)

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The underlying arrays (shared, not copied)."""
        return self._arrays

    def batch_fetcher(self) -> BatchFetcher:
        arrays = self._arrays
        return lambda idx: tuple(a[idx] for a in arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``; keeps the parent's batched fast path."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(
                f"Subset: indices must be a 1-D sequence of ints, got shape {idx.shape} and dtype {idx.dtype}"
            )
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Subset: indices must lie in [-{n}, {n}) for a dataset of length {n}")
        self.dataset = dataset
        self.indices = np.where(idx < 0, idx + n, idx).astype(np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def batch_fetcher(self) -> BatchFetcher | None:
        inner = getattr(self.dataset, "batch_fetcher", None)
        parent = inner() if inner is not None else None
        if parent is None:
            return None
        indices = self.indices
        return lambda idx: parent(indices[idx])


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} out of range for length {n}")
        index %= n
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][index - start]


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Turn fractions summing to 1 into counts summing to ``n`` (PyTorch's rule) or check given counts.

    Fractions: ``floor(n * f)`` each, then the remainder handed out one by one, round-robin from the first.
    """
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, int | np.integer) and not isinstance(x, bool) for x in lengths):
        counts = [int(x) for x in lengths]
        if any(c < 0 for c in counts) or sum(counts) != n:
            raise ValueError(
                f"random_split: lengths {counts} must be non-negative and sum to the dataset length {n}"
            )
        return counts
    fracs = [float(x) for x in lengths]
    if any(not 0.0 <= f <= 1.0 for f in fracs) or not math.isclose(sum(fracs), 1.0) or sum(fracs) > 1 + 1e-9:
        raise ValueError(
            f"random_split: lengths {lengths} must be ints summing to {n} or fractions in [0, 1] summing to 1"
        )
    counts = [math.floor(n * f) for f in fracs]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset: Any, lengths: Sequence[float], generator: Any = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)`` or fractions summing to 1 (as in PyTorch).
    ``generator`` (``numpy.random.Generator`` or int seed) defaults to minidl's global generator.
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    gen = resolve_generator(generator, "random_split") or default_generator()
    perm = gen.permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
