"""``make_grid`` and ``save_image``: torchvision's ``utils`` for looking at a batch of images.

``make_grid`` tiles ``B`` images ``(C, H, W)`` into one ``(C', rows (H + p) + p, cols (W + p) + p)`` image,
``cols = min(nrow, B)`` per row, separated and framed by ``p = padding`` pixels of ``pad_value``; one-channel
images become three equal channels. With ``normalize``, values are clipped to ``value_range`` (default: the
batch's min and max, or each image's with ``scale_each``) and mapped linearly to [0, 1]:
``x <- (clip(x, lo, hi) - lo) / max(hi - lo, 1e-5)``.

``save_image`` writes that grid as an image file through Pillow (the ``images`` extra), pixels
``trunc(clip(255 x + 0.5, 0, 255))``; a path is written atomically (:mod:`minidl._atomic`), a file object
directly.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import IO, Any

import numpy as np

from .._atomic import atomic_path
from ..tensor import Tensor

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor: Tensor | list[Tensor]) -> np.ndarray:
    if isinstance(tensor, list):
        if not all(isinstance(t, Tensor) for t in tensor):
            bad = next(type(t).__name__ for t in tensor if not isinstance(t, Tensor))
            raise TypeError(f"make_grid: tensor or list of tensors expected, got a list containing {bad}")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise ValueError(f"make_grid: the images must have equal shapes, got {sorted(shapes)}")
        return np.stack([t._data for t in tensor])
    if not isinstance(tensor, Tensor):
        raise TypeError(f"make_grid: tensor or list of tensors expected, got {type(tensor).__name__}")
    return tensor._data


def _normalized(x: np.ndarray, value_range: tuple[float, float] | None) -> np.ndarray:
    """Clip to ``value_range`` (default: ``x``'s own min and max) and map it to [0, 1], in ``x``'s dtype."""
    lo, hi = (float(x.min()), float(x.max())) if value_range is None else value_range
    dt = x.dtype.type if x.dtype.kind == "f" else np.float32
    out = np.clip(x, dt(lo), dt(hi)).astype(dt, copy=False)
    return (out - dt(lo)) / dt(max(hi - lo, 1e-5))


def make_grid(tensor: Tensor | list[Tensor], nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Tile a batch ``(B, C, H, W)`` (or a list of ``(C, H, W)`` tensors, or one image) into one image
    tensor (module docstring); a single image is returned as ``(C, H, W)`` without padding."""
    x = _as_batch(tensor)
    if x.ndim == 2:  # one (H, W) image
        x = x[None]
    if x.ndim == 3:  # one (C, H, W) image
        x = np.concatenate([x] * 3) if x.shape[0] == 1 else x
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W), got shape {x.shape}")
    if x.shape[1] == 1:
        x = np.concatenate([x] * 3, axis=1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified")
        x = np.stack([_normalized(img, value_range) for img in x]) if scale_each else _normalized(x, value_range)
    if x.shape[0] == 1:
        return Tensor._wrap(np.array(x[0]))
    n, c, h, w = x.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((c, cell_h * rows + padding, cell_w * cols + padding), pad_value, dtype=x.dtype)
    for k in range(n):
        top, left = (k // cols) * cell_h + padding, (k % cols) * cell_w + padding
        grid[:, top:top + h, left:left + w] = x[k]
    return Tensor._wrap(grid)


def save_image(tensor: Tensor | list[Tensor], fp: str | os.PathLike | IO[bytes], format: str | None = None,
               **kwargs: Any) -> None:
    """Save :func:`make_grid` of ``tensor`` (keyword arguments go to it) as an image file; ``format``
    (PNG, JPEG, ...) defaults to the file extension. Needs Pillow (``pip install "minidl[images]"``)."""
    from ..transforms._image import pillow

    image = pillow()
    grid = make_grid(tensor, **kwargs)._data
    pixels = np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8)
    im = image.fromarray(np.ascontiguousarray(np.moveaxis(pixels, 0, -1)))
    if isinstance(fp, str | os.PathLike):
        dest = Path(fp)
        # the temporary file keeps the extension, from which Pillow picks the format
        with atomic_path(dest, suffix=dest.suffix or ".tmp") as tmp:
            im.save(tmp, format=format)
    else:
        im.save(fp, format=format)
