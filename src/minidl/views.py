"""How a view was taken from its base, step by step, and the memory layout PyTorch would give it.

A view tensor records its base and the steps that took it (``Tensor._view_fns``): indexing, a reshape, a
permutation, an expansion. Each step is a callable on arrays, so the engine can take the same view of the
base's storage or of a gradient (:mod:`minidl.ops.shape`'s ``view_of`` / ``view_scatter``).

The steps also tell which layout the tensor would have in PyTorch. minidl's own arrays are sometimes laid
out differently (convolutions work channels-last), so ``is_contiguous()``, ``stride()`` and whether ``view()``
is allowed are decided on PyTorch's layout: the steps are replayed on a stand-in array with C-contiguous
strides over a one-byte buffer (strided views never read memory, and a reshape is asked never to copy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Index", "Reshape", "Permute", "Expand", "torch_layout", "contiguous_strides"]


class Index:
    """``a[index]`` with a basic index (ints, slices, None, Ellipsis)."""

    __slots__ = ("index",)

    def __init__(self, index: Any) -> None:
        self.index = index

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return a[self.index]


class Reshape:
    """``a.reshape(shape)`` (recorded only when it is a view of the storage)."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(self.shape)


class Permute:
    """``a.transpose(axes)``."""

    __slots__ = ("axes",)

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.axes = axes

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return a.transpose(self.axes)


class Expand:
    """``np.broadcast_to(a, shape)``: size-1 dims repeated without copying (read-only)."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, self.shape)


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Element strides of a C-contiguous array of ``shape``."""
    strides = []
    step = 1
    for s in reversed(shape):
        strides.append(step)
        step *= max(s, 1)
    return tuple(reversed(strides))


def _stand_in(shape: tuple[int, ...]) -> np.ndarray:
    """A C-contiguous array of ``shape`` (element strides, as the itemsize is 1) that owns no memory."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=shape, strides=contiguous_strides(shape),
                                           writeable=False)


def torch_layout(base_shape: tuple[int, ...], steps: tuple[Any, ...]) -> np.ndarray:
    """A stand-in array with the shape and element strides PyTorch would give the view ``steps`` of a
    contiguous base. Where PyTorch's reshape would copy, the layout starts again contiguous."""
    a = _stand_in(base_shape)
    for step in steps:
        if isinstance(step, Reshape):
            try:
                a = a.reshape(step.shape, copy=False)
            except ValueError:
                a = _stand_in(a.reshape(step.shape).shape)  # PyTorch copies: a new contiguous tensor
        else:
            a = step(a)
    return a


def is_contiguous(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """C-contiguity as PyTorch checks it: the strides of dims of size 1 do not matter."""
    return all(st == c for s, st, c in zip(shape, strides, contiguous_strides(shape), strict=True) if s != 1)
