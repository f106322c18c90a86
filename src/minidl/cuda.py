"""``minidl.cuda``: minidl has no GPU, so ``is_available()`` is False and the seeding and synchronisation
calls scripts make unconditionally are harmless no-ops. Anything that would need a GPU raises
:class:`~minidl.errors.DeviceError`."""

from __future__ import annotations

from typing import Any

from .errors import DeviceError

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "synchronize", "empty_cache",
           "current_device", "get_device_name", "is_bf16_supported"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Seeds the CUDA generators in PyTorch; there are none here (use ``minidl.manual_seed``)."""


def manual_seed_all(seed: int) -> None:
    """See :func:`manual_seed`."""


def synchronize(device: Any = None) -> None:
    """Nothing runs asynchronously on the CPU."""


def empty_cache() -> None:
    """No GPU memory to release."""


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def current_device() -> int:
    raise DeviceError("minidl has no CUDA device (minidl.cuda.is_available() is False)")


def get_device_name(device: Any = None) -> str:
    raise DeviceError("minidl has no CUDA device (minidl.cuda.is_available() is False)")
