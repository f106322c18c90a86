"""The array module behind every op.

All array math in minidl goes through ``xp``. Today it is NumPy; a CuPy backend would swap this one
binding (plus the few stride tricks in :mod:`minidl.ops.conv`), leaving op code untouched.
"""

from __future__ import annotations

import numpy as np

xp = np

def is_float(dtype: np.dtype) -> bool:
    """True for floating dtypes, the only ones that may require gradients."""
    return np.issubdtype(dtype, np.floating)
