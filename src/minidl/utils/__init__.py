"""Utilities mirroring ``torch.utils``: :mod:`minidl.utils.data` (datasets, samplers, DataLoader), and
torchvision's :func:`make_grid` and :func:`save_image` (:mod:`minidl.utils.images`)."""

from . import data
from .images import make_grid, save_image

__all__ = ["data", "make_grid", "save_image"]
