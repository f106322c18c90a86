"""Devices, as PyTorch names them. minidl computes on the CPU (NumPy), so ``cpu`` is the only device a
tensor can live on; ``minidl.device('cuda')`` can be built (as in PyTorch without a GPU) but moving anything
there raises :class:`~minidl.errors.DeviceError`.

The usual device-selection idioms therefore pick the CPU unchanged::

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else "cpu"
"""

from __future__ import annotations

from typing import Any

from .errors import DeviceError

__all__ = ["device", "as_device", "check_device", "CPU", "set_default_device", "get_default_device"]

_KNOWN = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "privateuseone")


class device:  # noqa: N801 - PyTorch's name
    """``device('cpu')``, ``device('cuda:1')``, ``device('cuda', 1)``: a device type and an optional index."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):  # device(0) means cuda:0 in torch
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string or a device, got {type.__class__.__name__}")
        name, _, idx = type.partition(":")
        if name not in _KNOWN:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN)} device type at start of device string: {type}")
        if idx:
            if index is not None:
                raise RuntimeError(f"device string {type!r} already holds an index")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        self.type = name
        self.index = index

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:  # ``with torch.device('cpu'):`` sets a default device in torch
        check_device(self)
        return self

    def __exit__(self, *exc: object) -> None:
        return None


CPU = device("cpu")


def set_default_device(d: Any) -> None:
    """PyTorch's default device for new tensors: minidl accepts only the CPU (``None`` resets it)."""
    if d is not None:
        check_device(d)


def get_default_device() -> device:
    return CPU


def as_device(d: Any) -> device:
    """A :class:`device` from a device, a string like ``'cpu'`` or ``'cuda:0'``, or an int (a CUDA index)."""
    return d if isinstance(d, device) else device(d)


def check_device(d: Any) -> device:
    """``d`` as a device, which must be the CPU: anything else raises a clear :class:`DeviceError`."""
    dev = as_device(d)
    if dev.type != "cpu":
        raise DeviceError(f"minidl runs on the CPU only and has no {dev.type.upper()} device "
                          f"(asked for {str(dev)!r}); use 'cpu', e.g. device = minidl.device('cpu')")
    return dev
