"""Comparisons (``eq``, ``lt``, ``isclose``, ``isnan``, …): bool results, after PyTorch's type promotion.
Not differentiable, so they work on the arrays directly."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..backend import xp
from ..tensor import Tensor
from ._args import finish

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "isclose", "allclose", "equal", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isin", "is_nonzero"]


def _arrays(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both operands as arrays of their promoted dtype (so int64 vs float32 compares as float32, as torch)."""
    dt = dtypes.result_type(a, b)
    aa = a._data if isinstance(a, Tensor) else xp.asarray(a)
    bb = b._data if isinstance(b, Tensor) else xp.asarray(b)
    return aa.astype(dt, copy=False), bb.astype(dt, copy=False)


def _comparison(name: str, fn: Any) -> Any:
    def compare(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        a, b = _arrays(input, other)
        with np.errstate(invalid="ignore"):
            return finish(Tensor._wrap(xp.asarray(fn(a, b))), out)

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise ``{name}`` after type promotion; a bool tensor."
    return compare


eq = _comparison("eq", xp.equal)
ne = not_equal = _comparison("ne", xp.not_equal)
lt = less = _comparison("lt", xp.less)
le = less_equal = _comparison("le", xp.less_equal)
gt = greater = _comparison("gt", xp.greater)
ge = greater_equal = _comparison("ge", xp.greater_equal)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input − other| ≤ atol + rtol·|other|, elementwise."""
    a, b = _arrays(input, other)
    return Tensor._wrap(xp.asarray(xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool(eq(input, other)._data.all())


def isnan(input: Tensor) -> Tensor:
    return Tensor._wrap(xp.isnan(input._data) if input._data.dtype.kind == "f" else xp.zeros(input._data.shape, bool))


def isinf(input: Tensor) -> Tensor:
    return Tensor._wrap(xp.isinf(input._data) if input._data.dtype.kind == "f" else xp.zeros(input._data.shape, bool))


def isfinite(input: Tensor) -> Tensor:
    return Tensor._wrap(xp.isfinite(input._data) if input._data.dtype.kind == "f" else xp.ones(input._data.shape, bool))


def isposinf(input: Tensor) -> Tensor:
    a = input._data
    return Tensor._wrap(xp.isposinf(a) if a.dtype.kind == "f" else xp.zeros(a.shape, bool))


def isneginf(input: Tensor) -> Tensor:
    a = input._data
    return Tensor._wrap(xp.isneginf(a) if a.dtype.kind == "f" else xp.zeros(a.shape, bool))


def isin(elements: Any, test_elements: Any, *, invert: bool = False) -> Tensor:
    a = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return Tensor._wrap(xp.isin(a, b, invert=invert))


def is_nonzero(input: Tensor) -> bool:
    if input._data.size != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()))
