"""float16 and bfloat16 tensors from other libraries' files become float32, with a note.

minidl computes in float32 (or float64 on request), so half-precision weights published for PyTorch are
up-cast once, on load. Both conversions are exact: every float16 and every bfloat16 value is a float32 value.

bfloat16 has no NumPy dtype. Its 16 bits are the upper half of a float32 (same sign and 8-bit exponent,
mantissa cut to 7 bits), so the float32 value is the bit pattern ``b << 16`` read as float32; NaN payloads
and infinities carry over unchanged.

Files minidl wrote itself keep their dtypes exactly; only files written by other libraries (PyTorch files,
safetensors files without minidl's marker) are up-cast. One :class:`UserWarning` per file says how many
tensors were changed.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np

__all__ = ["bfloat16_to_float32", "Upcasts"]


def bfloat16_to_float32(bits: np.ndarray) -> np.ndarray:
    """float32 values of bfloat16 numbers given as their 16-bit patterns (any byte order, any strides)."""
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


class Upcasts:
    """Counts the tensors of one file that were up-cast, and reports them in one warning."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: Counter[str] = Counter()

    def float32(self, arr: np.ndarray, dtype_name: str) -> np.ndarray:
        """``arr`` (float16 values, or bfloat16 bit patterns when ``dtype_name`` is ``'bfloat16'``) as float32."""
        self.counts[dtype_name] += 1
        return bfloat16_to_float32(arr) if dtype_name == "bfloat16" else arr.astype(np.float32)

    def warn(self, stacklevel: int) -> None:
        """The note, if anything was up-cast; ``stacklevel`` counts from this method (1) up to the user's code."""
        if self.counts:
            what = " and ".join(f"{n} {name}" for name, n in sorted(self.counts.items()))
            warnings.warn(f"minidl.load({self.name!r}): up-cast {what} tensor(s) to float32 "
                          "(minidl computes in float32 or float64; the conversion is exact)", UserWarning,
                          stacklevel=stacklevel)
