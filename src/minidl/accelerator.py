"""``minidl.accelerator``: PyTorch's device-agnostic accelerator API. minidl computes on the CPU (NumPy), so
there is no accelerator and scripts written for one fall back to the CPU as they do in PyTorch."""

from __future__ import annotations

from typing import Any

__all__ = ["is_available", "current_accelerator", "device_count", "synchronize"]


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> Any:
    """None: no accelerator (PyTorch returns None too when there is none)."""
    return None


def device_count() -> int:
    return 0


def synchronize(device: Any = None) -> None:
    """Nothing runs asynchronously on the CPU."""
