"""Keep freed memory for reuse: stop glibc from returning every large array's pages to the OS.

A training step allocates and frees the same large arrays (column matrices, activations, gradients of
0.5-30 MB) every step. glibc's malloc serves blocks above its mmap threshold with fresh ``mmap`` pages and
trims free memory at the top of the heap above its trim threshold; both thresholds start at 128 KB and
adapt only partly. The pages handed back are page-faulted (zero-filled by the kernel) again on the next
step: measured 400-800 minor faults per LeNet step, about 1 ms of a 8-9 ms step (10%), and 4% of the strided
CNN's. Serving blocks up to 32 MB (glibc's maximum) from the heap and trimming only above 256 MB makes the
step fault-free; the peak memory of the benchmark runs did not change (the same blocks are reused), but
memory freed after a peak stays reserved by the process, as with a caching allocator.

This changes the allocator of the whole process, so it is opt-in: ``import minidl`` leaves it alone. It is
turned on by :func:`keep_freed_memory` (``minidl.ops.keep_freed_memory()``), which ``Trainer.fit``, the
``minidl`` command and the benchmarks call, and by ``MINIDL_MALLOC_TUNING=1`` in the environment, which
turns it on when minidl is imported. ``MINIDL_MALLOC_TUNING=0`` keeps it off everywhere, those calls
included. Only glibc (Linux) is touched; elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's maximum (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 256 * 2**20
ENV = "MINIDL_MALLOC_TUNING"

_done = False


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (see the module docstring).

    Returns True if they are raised (now or by an earlier call); False when ``MINIDL_MALLOC_TUNING=0`` or
    the C library is not glibc.
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or os.environ.get(ENV, "") == "0":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...): leave the allocator alone
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # both together: setting either one alone also freezes the other at its 128 KB default
    done = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    _done = bool(done) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _done


def keep_freed_memory_if_asked() -> bool:
    """At import: tune the allocator only when the environment asks for it (``MINIDL_MALLOC_TUNING=1``)."""
    return os.environ.get(ENV, "") == "1" and keep_freed_memory()
