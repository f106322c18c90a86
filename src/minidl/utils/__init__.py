"""Utilities mirroring ``torch.utils``: :mod:`minidl.utils.data` (datasets, samplers, DataLoader)."""

from . import data

__all__ = ["data"]
