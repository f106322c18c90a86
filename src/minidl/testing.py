"""``minidl.testing.assert_close``: PyTorch's closeness check for tensors, arrays, numbers and containers.

Default tolerances depend on the dtype, as in PyTorch: float16 rtol 1e-3 / atol 1e-5, float32 rtol 1.3e-6 /
atol 1e-5, float64 rtol 1e-7 / atol 1e-7, integers and bools exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["assert_close"]

_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}


def _array(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def assert_close(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_dtype: bool = True, msg: str | None = None) -> None:
    """Raise AssertionError unless ``|actual − expected| ≤ atol + rtol·|expected|`` elementwise, with equal
    shapes (and dtypes, for tensors, unless ``check_dtype=False``); containers are compared item by item."""
    if isinstance(actual, Mapping):
        if not isinstance(expected, Mapping) or set(actual) != set(expected):
            raise AssertionError(msg or f"the mappings have different keys: {sorted(actual)} vs {sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                         msg=msg)
        return
    if isinstance(actual, Sequence) and not isinstance(actual, str):
        if not isinstance(expected, Sequence) or len(actual) != len(expected):
            raise AssertionError(msg or "the sequences have different lengths")
        for a, e in zip(actual, expected, strict=True):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and isinstance(actual, Tensor) and isinstance(expected, Tensor) and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.")
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(np.promote_types(a.dtype, e.dtype), (0.0, 0.0))
    assert rtol is not None and atol is not None
    ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not np.all(ok):
        bad = int(np.size(ok) - np.count_nonzero(ok))
        diff = np.abs(a.astype(np.float64) - e.astype(np.float64))
        raise AssertionError(msg or f"Tensor-likes are not close!\n\nMismatched elements: {bad} / {np.size(ok)}\n"
                                    f"Greatest absolute difference: {np.nanmax(diff)} (up to {atol} allowed)\n"
                                    f"(rtol={rtol}, atol={atol})")
