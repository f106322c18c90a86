"""``minidl.xpu``: like :mod:`minidl.cuda`, an accelerator minidl does not have (``is_available()`` is False)."""

from .cuda import device_count, empty_cache, is_available, manual_seed, manual_seed_all, synchronize

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "synchronize", "empty_cache"]
