"""PyTorch's legacy typed tensor classes: ``minidl.FloatTensor(2, 3)``, ``minidl.LongTensor([1, 2])``, and
``isinstance(t, minidl.FloatTensor)``. Each is :class:`~minidl.Tensor`'s legacy constructor with a fixed dtype."""

from __future__ import annotations

from typing import Any

from . import dtypes
from .functions.creation import empty
from .tensor import Size, Tensor, as_array

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor"]


class _TypedTensorMeta(type):
    """``isinstance(t, FloatTensor)`` holds for float32 tensors; calling the class builds one."""

    dtype: dtypes.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        if not args or (len(args) == 1 and isinstance(args[0], Size)) or all(
                isinstance(a, int) and not isinstance(a, bool) for a in args):
            shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
            return empty(*shape, dtype=cls.dtype, device=device) if args else empty(0, dtype=cls.dtype)
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}() takes sizes (ints) or one data argument")
        return Tensor._wrap(as_array(args[0], cls.dtype))


def _typed(name: str, dtype: dtypes.dtype) -> type:
    return _TypedTensorMeta(name, (), {"dtype": dtype, "__doc__": f"Legacy constructor of {dtype} tensors."})


FloatTensor = _typed("FloatTensor", dtypes.float32)
DoubleTensor = _typed("DoubleTensor", dtypes.float64)
HalfTensor = _typed("HalfTensor", dtypes.float16)
LongTensor = _typed("LongTensor", dtypes.int64)
IntTensor = _typed("IntTensor", dtypes.int32)
ShortTensor = _typed("ShortTensor", dtypes.int16)
CharTensor = _typed("CharTensor", dtypes.int8)
ByteTensor = _typed("ByteTensor", dtypes.uint8)
BoolTensor = _typed("BoolTensor", dtypes.bool_)
