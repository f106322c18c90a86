"""Tensor constructors, PyTorch-style (float32 unless a dtype is given)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import DEFAULT_FLOAT, xp
from .random import default_generator
from .tensor import Tensor, _shape_arg


def _make(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(data)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _make(xp.zeros(_shape_arg(shape), dtype=dtype), requires_grad)


def ones(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _make(xp.ones(_shape_arg(shape), dtype=dtype), requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _make(xp.full(_shape_arg((shape,)), fill_value, dtype=dtype), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(xp.zeros(t.shape, dtype=dtype or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(xp.ones(t.shape, dtype=dtype or t.dtype), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    data = xp.arange(start, end, step) if end is not None else xp.arange(start)
    if dtype is not None:
        data = data.astype(dtype)
    elif data.dtype.kind == "f":
        data = data.astype(DEFAULT_FLOAT)
    return Tensor._wrap(data)


def randn(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
          generator: np.random.Generator | None = None) -> Tensor:
    """Standard normal samples from minidl's seeded generator (see :func:`minidl.manual_seed`)."""
    g = generator or default_generator()
    return _make(g.standard_normal(_shape_arg(shape)).astype(dtype), requires_grad)


def rand(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
         generator: np.random.Generator | None = None) -> Tensor:
    """Uniform [0, 1) samples from minidl's seeded generator."""
    g = generator or default_generator()
    return _make(g.random(_shape_arg(shape)).astype(dtype), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap an array without copying (shares memory, as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)
