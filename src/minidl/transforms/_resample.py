"""Resizing array images as torchvision's tensor ``resize`` does: PyTorch's ``interpolate`` kernels
(:mod:`minidl.ops.resample`, shared with ``F.interpolate``) on float planes, with torchvision's handling of
integer images and its output-size rule.

Integer images are resized in float32 and rounded back (half to even), as torchvision does; bicubic uint8
results are clamped to [0, 255] first. Nearest modes gather the pixels themselves, in any dtype.
"""

from __future__ import annotations

import numpy as np

from ..ops.resample import MODES, resize

__all__ = ["resize_planes", "output_size", "MODES"]


def resize_planes(x: np.ndarray, size: tuple[int, int], mode: str, antialias: bool) -> np.ndarray:
    """Resize the last two axes of ``x`` to ``size = (height, width)``; same dtype out."""
    if mode in ("nearest", "nearest-exact"):
        return resize(x, size, mode)
    if mode not in MODES:
        raise ValueError(f"resize: interpolation {mode!r} is not supported for arrays and tensors "
                         f"(choose from {', '.join(MODES)})")
    work = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    return _finish(resize(x.astype(work, copy=False), size, mode, antialias), x.dtype, mode)


def _finish(out: np.ndarray, dtype: np.dtype, mode: str) -> np.ndarray:
    if out.dtype == dtype:
        return out
    if dtype == np.uint8 and mode == "bicubic":
        np.clip(out, 0, 255, out=out)
    if dtype.kind in "iu":
        np.rint(out, out=out)
    return out.astype(dtype)


def output_size(height: int, width: int, size: list[int], max_size: int | None) -> tuple[int, int]:
    """torchvision's output size: ``[h, w]`` as given, or one number for the smaller edge (aspect kept,
    the longer edge truncated), the longer edge capped at ``max_size``."""
    if len(size) == 2:
        return int(size[0]), int(size[1])
    short, long = (width, height) if width <= height else (height, width)
    new_short = int(size[0])
    new_long = int(new_short * long / short)
    if max_size is not None:
        if max_size <= new_short:
            raise ValueError(f"Resize: max_size = {max_size} must be strictly greater than the requested size "
                             f"for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    return new_h, new_w
