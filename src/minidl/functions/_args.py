"""Argument handling shared by the ``minidl.*`` functions: operands and type promotion, dims, ``out=``.

Type promotion is decided by :func:`minidl.dtypes.result_type`; here operands are cast to the result dtype
(with the differentiable ``cast`` op) before the op runs, so every op sees inputs of one dtype.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..backend import xp
from ..errors import DTypeError
from ..ops import cast
from ..tensor import Tensor, _dim, _mark_view, as_array

__all__ = ["binary", "promoted", "operand", "floating", "dim", "dims", "finish", "view", "check_tensor"]


def check_tensor(name: str, x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x


def to(x: Tensor, dt: np.dtype) -> Tensor:
    """``x`` in dtype ``dt`` (itself if it already is; a recorded cast otherwise)."""
    return x if x._data.dtype == dt else cast(x, dtype=dt)


def operand(x: Any, dt: np.dtype) -> Tensor:
    """A tensor or Python number as a tensor of dtype ``dt`` (numbers become 0-d constants)."""
    if isinstance(x, Tensor):
        return to(x, dt)
    if isinstance(x, bool | int | float | np.number | np.bool_):
        return Tensor._wrap(xp.asarray(x).astype(dt))  # out-of-range ints wrap around, as in PyTorch
    return Tensor._wrap(as_array(x, dt))


def promoted(*xs: Any) -> tuple[Tensor, ...]:
    """The operands as tensors of their promoted dtype (PyTorch's ``result_type``)."""
    dt = dtypes.result_type(*xs)
    return tuple(operand(x, dt) for x in xs)


def binary(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op in their common dtype; no work when they already share it."""
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.dtype == b._data.dtype:
        return a, b
    if isinstance(a, Tensor) and isinstance(b, float) and a._data.dtype.kind == "f":
        return a, Tensor._wrap(xp.asarray(b, dtype=a._data.dtype))  # the common `x * 0.5`
    return promoted(a, b)  # type: ignore[return-value]


def floating(x: Tensor) -> Tensor:
    """Integer and bool inputs of floating functions (exp, sqrt, mean of ratios...) become the default float."""
    return x if x._data.dtype.kind == "f" else cast(x, dtype=dtypes.default_float())


def require_float(name: str, x: Tensor) -> None:
    if x._data.dtype.kind != "f":
        raise DTypeError(f"{name}(): could not infer output dtype. Input dtype must be either a floating point or "
                         f"complex dtype. Got: {_title(x._data.dtype)}")


def _title(dt: np.dtype) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "float32": "Float", "float64": "Double", "float16": "Half"}.get(dt.name, dt.name)


def dim(d: Any, ndim: int) -> int:
    """One dim, negative allowed, checked against ``ndim`` (IndexError as in PyTorch)."""
    return _dim(d, ndim)


def dims(d: Any, ndim: int) -> tuple[int, ...] | None:
    """``None`` (all dims), an int, or a sequence of ints, as a tuple of distinct non-negative dims."""
    if d is None:
        return None
    if isinstance(d, Sequence) and not isinstance(d, str):
        out = tuple(_dim(x, ndim) for x in d)
        if len(set(out)) != len(out):
            raise RuntimeError(f"dim {list(d)} appears multiple times in the list of dims")
        return out if out else None
    return (_dim(d, ndim),)


def reduction_axes(d: Any, ndim: int) -> tuple[int, ...] | None:
    """Axes for a NumPy reduction over ``d`` of a tensor with ``ndim`` dims (a 0-d tensor has none)."""
    axes = dims(d, ndim)
    if ndim == 0:
        return None
    return axes


def finish(result: Tensor, out: Tensor | None) -> Tensor:
    """Honour ``out=``: copy ``result`` into ``out`` (resized if needed) and return ``out``, as PyTorch does."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if result._requires_grad:
        raise RuntimeError("functions with out=... arguments don't support automatic differentiation, but one of "
                           "the arguments requires grad.")
    if out._data.shape != result._data.shape:
        out._data = xp.empty(result._data.shape, dtype=out._data.dtype)
    out._data[...] = result._data
    if out._vc is not None:
        out._vc.value += 1
    return out


def view(out: Tensor, src: Tensor, fn: Any) -> Tensor:
    """Mark ``out`` as a view of ``src`` taken by ``fn`` (see :mod:`minidl.tensor`)."""
    return _mark_view(out, src, fn)


def index(i: Any) -> int:
    return operator.index(i)


def numpy_names(fn: Any) -> Any:
    """Let ``fn`` also take NumPy's ``axis``/``keepdims`` for ``dim``/``keepdim``, as PyTorch's functions do."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    return wrapper
