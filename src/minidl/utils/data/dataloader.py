"""``DataLoader``: batches of a dataset as minidl tensors, in one process.

Per batch the loader takes a slice of the epoch's index array (see :mod:`.sampler`) and either

* calls the dataset's batch fetcher (:meth:`Dataset.batch_fetcher`) once, when the loader uses the
  default collate: one fancy index per array, no per-sample Python; or
* calls ``dataset[i]`` per index and hands the list of samples to ``collate_fn``.

Both give the same batch. Exact resume: ``loader.state_dict()`` records the shuffle state of the epoch in
progress and how many batches of it were already yielded; ``loader.load_state_dict(state)`` makes the
next ``iter(loader)`` replay that epoch's order and skip those batches without reading them. When the
loader shuffles with minidl's global generator (no ``generator`` given), also save and restore
:func:`minidl.random.get_rng_state` (checkpoints do), since later epochs draw their seeds from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ...functions.creation import from_numpy
from ...tensor import Tensor
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, resolve_generator

__all__ = ["DataLoader", "default_collate", "default_convert"]


def default_convert(data: Any) -> Any:
    """Turn the arrays inside ``data`` (nested tuples, lists, dicts) into tensors sharing their memory."""
    if isinstance(data, np.ndarray):
        return from_numpy(data)
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, tuple | list):
        return type(data)(default_convert(v) for v in data)
    return data


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(
            f"default_collate: samples must have equal shapes to be stacked, got shapes {sorted(shapes)}"
        )
    return np.stack(arrays)


def _collate(batch: list[Any]) -> Any:
    """Array-valued collate: the structure of one sample, with a leading batch axis on every leaf."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([b._data for b in batch])
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: cannot collate arrays of dtype {elem.dtype}")
        return _stack(batch)
    if isinstance(elem, np.generic):
        return np.array(batch)  # NumPy scalars keep their dtype
    # bool before int: bool is a subclass of int
    if isinstance(elem, bool):
        return np.array(batch, dtype=np.bool_)
    if isinstance(elem, int):
        return np.array(batch, dtype=np.int64)
    if isinstance(elem, float):
        return np.array(batch, dtype=np.float64)  # PyTorch's default_collate: Python floats give float64
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, Mapping):
        return {k: _collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, Sequence):
        if len({len(s) for s in batch}) != 1:
            raise ValueError("default_collate: every sample in a batch must have the same number of fields")
        fields = [_collate(list(s)) for s in zip(*batch, strict=True)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):
            return type(elem)(*fields)
        return fields  # a list for tuple samples too, as PyTorch's default_collate returns
    raise TypeError(f"default_collate: cannot collate samples of type {type(elem).__name__}")


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch of minidl tensors, recursively through tuples, lists and dicts.

    Arrays and tensors are stacked along a new first axis and keep their dtype (float32 images stay
    float32); Python ints become int64, Python floats float64 (as PyTorch's default_collate), bools bool;
    strings stay a list. A tuple or list sample gives a list of batches (as in PyTorch), a namedtuple the
    same namedtuple, a dict a dict.
    """
    if len(batch) == 0:
        raise ValueError("default_collate: empty batch")
    return default_convert(_collate(list(batch)))


class DataLoader:
    """Iterate over ``dataset`` in batches (PyTorch's names and defaults; single process).

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch.
        shuffle: a new random order each epoch, drawn from ``generator`` or minidl's global generator
            (so ``minidl.manual_seed(s)`` fixes it).
        sampler: an iterable of indices (exclusive with ``shuffle``).
        batch_sampler: an iterable of index lists (exclusive with the four options above).
        collate_fn: builds a batch from a list of samples; default :func:`default_collate`.
        drop_last: drop the final incomplete batch.
        generator: ``numpy.random.Generator`` or int seed used for shuffling.
        num_workers, pin_memory: accepted for PyTorch compatibility; loading always runs in this process.

    With the default collate and a dataset offering :meth:`Dataset.batch_fetcher` (in-memory arrays, no or
    only batchable transforms), each batch is one fancy index per array. ``state_dict()`` /
    ``load_state_dict()`` save and restore the position in the epoch and the shuffle state, for exact
    resume (module docstring); a custom sampler takes part by defining ``state_dict()`` and
    ``load_state_dict(state, resume_epoch)``.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, *,
                 sampler: Sampler | Sequence[int] | None = None, batch_sampler: Any = None,
                 num_workers: int = 0, collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, generator: Any = None) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"DataLoader: dataset must define __getitem__ and __len__, got {type(dataset).__name__}"
            )
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative int, got {num_workers!r}")
        self.dataset = dataset
        self.generator = resolve_generator(generator, "DataLoader")
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler "
                    "and drop_last"
                )
            self.batch_size: int | None = None
            self.drop_last = False
            self.sampler = getattr(batch_sampler, "sampler", None)
        else:
            if sampler is not None and shuffle:
                raise ValueError("DataLoader: sampler is mutually exclusive with shuffle")
            if sampler is None:
                if shuffle:
                    sampler = RandomSampler(dataset, generator=self.generator)
                else:
                    sampler = SequentialSampler(dataset)
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
            self.batch_size = batch_sampler.batch_size
            self.drop_last = bool(drop_last)
            self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self._active: _BatchIterator | None = None
        self._resume_skip = 0

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self) -> _BatchIterator:
        skip, self._resume_skip = self._resume_skip, 0
        self._active = _BatchIterator(self, skip)
        return self._active

    def _index_batches(self) -> Iterator[np.ndarray]:
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler.index_batches()
        return (np.asarray(b, dtype=np.int64) for b in self.batch_sampler)

    def _fetcher(self) -> Callable[[np.ndarray], Any] | None:
        if self.collate_fn is not default_collate:
            return None
        make = getattr(self.dataset, "batch_fetcher", None)
        return make() if make is not None else None

    # ------------------------------------------------------------------------------------- resume
    def _state_owner(self) -> Any:
        for obj in (self.sampler, self.batch_sampler):
            if obj is not None and hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict"):
                return obj
        return None

    def state_dict(self) -> dict:
        """Where iteration stands: ``{"sampler": ..., "epoch_in_progress": bool, "batches_done": int}``.

        ``sampler`` is the sampler's own ``state_dict()`` (``None`` if it has none: a plain sampler is
        assumed deterministic). JSON-serialisable for minidl's samplers.
        """
        it = self._active
        in_progress = it is not None and not it.exhausted
        batches_done = it.batches_done if it is not None and in_progress else 0
        owner = self._state_owner()
        return {
            "sampler": owner.state_dict() if owner is not None else None,
            "epoch_in_progress": in_progress,
            "batches_done": batches_done,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`: the next ``iter(self)`` continues the saved epoch where it stopped."""
        try:
            in_progress = bool(state["epoch_in_progress"])
            done = int(state["batches_done"])
            sampler_state = state["sampler"]
        except (KeyError, TypeError) as e:
            raise ValueError(
                f"DataLoader.load_state_dict: not a DataLoader state ({e!r}): {state!r}"
            ) from None
        owner = self._state_owner()
        if sampler_state is not None:
            if owner is None:
                raise ValueError(
                    "DataLoader.load_state_dict: the state has a sampler state but this sampler has none"
                )
            owner.load_state_dict(sampler_state, resume_epoch=in_progress)
        self._active = None
        self._resume_skip = done if in_progress else 0


class _BatchIterator:
    """One epoch of a :class:`DataLoader`; counts the batches it yielded for ``state_dict``."""

    def __init__(self, loader: DataLoader, skip: int) -> None:
        self._loader = loader
        self._dataset = loader.dataset
        self._collate = loader.collate_fn
        self._fetch = loader._fetcher()
        self._batches = loader._index_batches()
        self.batches_done = 0
        self.exhausted = False
        for _ in range(skip):  # resume: skip the indices without reading their samples
            if next(self._batches, None) is None:
                break
            self.batches_done += 1

    def __iter__(self) -> _BatchIterator:
        return self

    def __len__(self) -> int:
        return len(self._loader) - self.batches_done

    def __next__(self) -> Any:
        idx = next(self._batches, None)
        if idx is None:
            self.exhausted = True
            raise StopIteration
        if self._fetch is not None:
            batch = default_convert(self._fetch(idx))
            if type(batch) is tuple:  # what default_collate gives for tuple samples: a list
                batch = list(batch)
        else:
            batch = self._collate([self._dataset[i] for i in idx.tolist()])
        self.batches_done += 1
        return batch
