"""``map_location`` as ``torch.load`` takes it, for a library that computes on the CPU only.

Accepted, as in torch: ``None``; a device string (``'cpu'``, ``'cpu:0'``); a device object (anything with a
``.type`` attribute, such as ``minidl.device('cpu')`` or a ``torch.device``); a dict mapping the locations
saved in the file to locations (``{'cuda:0': 'cpu'}``); or a callable ``f(storage, location)`` returning the
storage (or ``None`` for the default), as ``lambda storage, loc: storage``.

Whatever is asked for must be the CPU: a string, device or dict value naming ``cuda``, ``mps`` or any other
device raises :class:`~minidl.errors.DeviceError` before the file is opened, and a callable that moves a
storage (``storage.cuda()``) raises it when called. Storages saved on a GPU load onto the CPU without any
``map_location``, because the CPU is the only place minidl has (torch needs ``map_location='cpu'`` there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import DeviceError

__all__ = ["device_type", "check_map_location", "require_cpu"]


def device_type(device: Any) -> str:
    """The device type named by ``device``: a string (``'cuda:1'`` -> ``'cuda'``), bytes, a device object or
    an int (a CUDA index, as torch reads it)."""
    if isinstance(device, bytes):
        device = device.decode("ascii", "replace")
    if isinstance(device, str):
        return device.partition(":")[0].strip().lower()
    if isinstance(device, int) and not isinstance(device, bool):
        return "cuda"
    kind = getattr(device, "type", None)
    if isinstance(kind, str):
        return kind
    raise TypeError(f"map_location: expected a device string, a device, a dict or a callable, "
                    f"got {type(device).__name__}")


def require_cpu(device: Any, what: str) -> None:
    if device_type(device) != "cpu":
        raise DeviceError(f"minidl.load: {what} asks for device {str(device)!r}, but minidl runs on the CPU "
                          "only; use map_location='cpu' (or leave it out)")


def check_map_location(map_location: Any) -> Callable[[Any, str], Any] | None:
    """Validate ``map_location``; return the user's callable (to be applied to every storage of a PyTorch
    file) or ``None`` when everything simply stays on the CPU."""
    if map_location is None:
        return None
    if isinstance(map_location, dict):
        for source, target in map_location.items():
            require_cpu(target, f"map_location[{source!r}]")
        return None
    if callable(map_location) and not hasattr(map_location, "type"):
        return map_location
    require_cpu(map_location, "map_location")
    return None
