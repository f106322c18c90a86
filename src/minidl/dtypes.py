"""Dtypes as PyTorch names them, and PyTorch's type-promotion rules, decided in this one place.

``minidl.float32``, ``minidl.long``, … are :class:`dtype` objects wrapping a NumPy dtype. They print as
``minidl.float32``, answer ``is_floating_point``/``is_signed``/``itemsize``, compare equal to the matching
NumPy dtype (``minidl.float32 == np.float32``) and are accepted anywhere NumPy takes a dtype (NumPy reads
their ``.dtype`` attribute), so array code inside minidl can pass them straight through.

Type promotion (:func:`result_type`) follows ``torch.result_type``, which differs from NumPy's:

* operands are ranked by kind: tensors with dimensions > zero-dimensional tensors > Python scalars;
* within a rank, dtypes promote as usual (int32 ⊗ int64 → int64, float32 ⊗ float64 → float64), except that an
  integer meeting a float gives that float (int64 ⊗ float16 → float16, where NumPy says float64);
* a lower rank changes the result only if it is of a higher *category* (bool < integer < floating): so
  ``float32_tensor * 2.5``, ``float32_tensor * float64_scalar_tensor`` and ``float32 ⊗ int64 tensor`` stay
  float32, ``int_tensor * 2.5`` becomes the default float dtype and ``uint8_tensor + 300`` stays uint8;
* a Python float counts as the default dtype (float32 unless :func:`set_default_dtype` says otherwise), a
  Python int as int64, a bool as bool.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "dtype", "float16", "half", "float32", "float64", "double", "bfloat16", "uint8", "int8", "int16",
    "short", "int32", "int64", "long", "bool_", "complex64", "complex128", "to_dtype", "to_numpy_dtype",
    "result_type", "promote_types", "can_cast", "get_default_dtype", "set_default_dtype", "default_float",
    "finfo", "iinfo", "is_floating_point_dtype",
]  # fmt: skip


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type, e.g. ``minidl.float32``. Wraps the NumPy dtype ``self.dtype``."""

    __slots__ = ("name", "dtype", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self.dtype = np.dtype(np_dtype)
        kind = self.dtype.kind
        self.is_floating_point = kind == "f"
        self.is_complex = kind == "c"
        self.is_signed = kind in "ifc"
        self.itemsize = self.dtype.itemsize

    def __repr__(self) -> str:
        return f"minidl.{self.name}"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dtype):
            return other is self
        try:
            return self.dtype == np.dtype(other)  # type: ignore[call-overload]  # any dtype-like
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __reduce__(self) -> str:
        return self.name  # pickles as the module attribute of that name

    def to_real(self) -> dtype:
        return self

    def to_complex(self) -> dtype:
        raise TypeError("minidl has no complex tensors")


# PyTorch's aliases that shadow Python builtins (float, int, bool) are defined in minidl/__init__.py only.
float16 = half = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = double = dtype("float64", np.float64)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = long = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)
complex64 = dtype("complex64", np.complex64)
complex128 = dtype("complex128", np.complex128)


class _BFloat16:
    """``minidl.bfloat16`` names PyTorch's 16-bit brain float so that code mentioning it imports; NumPy has no
    such type, so tensors cannot have it (saved bfloat16 weights are up-cast to float32 when loaded)."""

    name = "bfloat16"
    is_floating_point = True
    is_complex = False
    is_signed = True
    itemsize = 2

    def __repr__(self) -> str:
        return "minidl.bfloat16"


bfloat16 = _BFloat16()

_BY_NUMPY: dict[np.dtype, dtype] = {
    d.dtype: d for d in (float16, float32, float64, uint8, int8, int16, int32, int64, bool_, complex64, complex128)
}
_PYTHON_TYPES = {float: float64, int: int64, bool: bool_, complex: complex128}


def to_dtype(d: Any) -> dtype:
    """The minidl dtype for ``d``: a minidl dtype, a NumPy dtype or type, a name, or a Python type (as torch:
    ``float`` is float64, ``int`` int64)."""
    if isinstance(d, dtype):
        return d
    if d is bfloat16:
        raise TypeError("minidl has no bfloat16 tensors (NumPy has no such type); use minidl.float32")
    if d in _PYTHON_TYPES:
        return _PYTHON_TYPES[d]
    try:
        return _BY_NUMPY[np.dtype(d)]
    except (TypeError, KeyError):
        raise TypeError(f"{d!r} is not a dtype minidl supports") from None


def to_numpy_dtype(d: Any) -> np.dtype:
    """The NumPy dtype behind ``d`` (anything :func:`to_dtype` accepts)."""
    return to_dtype(d).dtype


def of_array(a: np.ndarray) -> dtype:
    """The minidl dtype of an array (errors for dtypes minidl has no name for)."""
    try:
        return _BY_NUMPY[a.dtype]
    except KeyError:
        raise TypeError(f"arrays of dtype {a.dtype} cannot be tensors") from None


# ----------------------------------------------------------------------------------------- default dtype
_default = float32


def get_default_dtype() -> dtype:
    """The dtype of tensors built from Python floats (float32 unless changed)."""
    return _default


def set_default_dtype(d: Any) -> None:
    """Make ``d`` (float32 or float64) the dtype of tensors built from Python floats, as torch's function."""
    global _default
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default = d


def default_float() -> np.dtype:
    """The NumPy dtype of the default float dtype."""
    return _default.dtype


# ----------------------------------------------------------------------------------------- promotion
def _category(d: np.dtype) -> int:
    """bool 0 < integer 1 < floating 2 < complex 3."""
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[d.kind]


def promote_types(a: Any, b: Any) -> np.dtype:
    """The smallest dtype both promote to, PyTorch's table: NumPy's, except integer ⊗ float = that float."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca == 2 and cb < 2:
        return a
    if cb == 2 and ca < 2:
        return b
    return np.promote_types(a, b)


def _scalar_dtype(x: Any) -> np.dtype:
    """The dtype a Python scalar stands for (PyTorch's "wrapped number")."""
    if isinstance(x, bool | np.bool_):
        return np.dtype(np.bool_)
    if isinstance(x, int | np.integer):
        return np.dtype(np.int64)
    if isinstance(x, float | np.floating):
        return default_float()
    if isinstance(x, complex | np.complexfloating):
        return np.dtype(np.complex128)
    raise TypeError(f"expected a tensor or a number, got {type(x).__name__}")


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """Let a lower-ranked result change a higher one only if it is of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if _category(higher) >= 2:
        return higher
    if higher.kind == "b" or _category(lower) >= 2:
        return promote_types(higher, lower)
    return higher


def result_type(*operands: Any) -> np.dtype:
    """The NumPy dtype of ``op(*operands)`` under PyTorch's promotion (see the module docstring).

    Operands are tensors (anything with ``_data``), NumPy arrays (ranked like tensors) or Python scalars.
    """
    ranks: list[np.dtype | None] = [None, None, None]  # dim tensors, zero-dim tensors, scalars
    for x in operands:
        arr = getattr(x, "_data", x)
        if isinstance(arr, np.ndarray):
            r, d = (0 if arr.ndim else 1), arr.dtype
        else:
            r, d = 2, _scalar_dtype(x)
        ranks[r] = d if ranks[r] is None else promote_types(ranks[r], d)
    out = _combine(ranks[0], _combine(ranks[1], ranks[2]))
    assert out is not None, "result_type needs at least one operand"
    return out


def can_cast(src: Any, dst: Any) -> bool:
    """PyTorch's ``can_cast`` for in-place results: never float to integer or bool, never integer to bool."""
    return _category(np.dtype(src)) <= _category(np.dtype(dst))


def is_floating_point_dtype(d: Any) -> bool:
    return np.dtype(d).kind == "f"


# ----------------------------------------------------------------------------------------- finfo / iinfo
class finfo:  # noqa: N801 - PyTorch's name
    """Machine limits of a float dtype (``eps``, ``max``, ``min``, ``tiny``, ``resolution``, ``bits``)."""

    def __init__(self, type: Any = None) -> None:  # noqa: A002
        d = to_numpy_dtype(type if type is not None else _default)
        if d.kind != "f":
            raise TypeError(f"finfo needs a floating dtype, got {d}")
        fi = np.finfo(d)
        self.bits, self.eps, self.max, self.min = fi.bits, float(fi.eps), float(fi.max), \
            float(fi.min)
        self.tiny = self.smallest_normal = float(fi.tiny)
        self.resolution = float(fi.resolution)
        self.dtype = str(d)

    def __repr__(self) -> str:
        return f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, eps={self.eps}, " \
               f"smallest_normal={self.tiny}, tiny={self.tiny}, dtype={self.dtype})"


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer dtype (``bits``, ``max``, ``min``)."""

    def __init__(self, type: Any) -> None:  # noqa: A002
        d = to_numpy_dtype(type)
        if d.kind not in "iub":
            raise TypeError(f"iinfo needs an integer dtype, got {d}")
        ii = np.iinfo(np.uint8 if d.kind == "b" else d)
        self.bits, self.max, self.min, self.dtype = ii.bits, int(ii.max), int(ii.min), str(d)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
