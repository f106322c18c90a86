"""``minidl.set_num_threads`` / ``get_num_threads``: the number of threads BLAS (NumPy's matrix products)
may use, through threadpoolctl (the ``perf`` extra). Without threadpoolctl the setting is recorded but
cannot be applied, and a warning says so."""

from __future__ import annotations

import os
import warnings
from typing import Any

__all__ = ["set_num_threads", "get_num_threads"]

_limiter: Any = None
_threads: int | None = None


def set_num_threads(n: int) -> None:
    global _limiter, _threads
    if int(n) < 1:
        raise ValueError("set_num_threads expects a positive integer")
    _threads = int(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        warnings.warn("minidl.set_num_threads needs threadpoolctl (pip install 'minidl[perf]') to limit BLAS "
                      "threads; the setting is not applied", UserWarning, stacklevel=2)
        return
    _limiter = threadpool_limits(limits=_threads, user_api="blas")


def get_num_threads() -> int:
    if _threads is not None:
        return _threads
    try:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return int(max(counts))
    except ImportError:
        pass
    return os.cpu_count() or 1
