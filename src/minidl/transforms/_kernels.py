"""Padding, cropping and Gaussian blur of array images (last two axes H, W): torchvision's tensor semantics.

* :func:`pad_planes`: ``constant`` (``fill``), ``edge`` (repeat the border pixel), ``reflect`` (mirror
  without repeating the border: ``[1 2 3]`` padded by 2 gives ``3 2 [1 2 3] 2 1``) and ``symmetric``
  (mirror repeating it: ``2 1 [1 2 3] 3 2``). Negative amounts crop. Reflect needs the padding to be
  smaller than the image, as PyTorch requires.
* :func:`crop_planes`: a window that may extend past the image; the outside reads zero.
* :func:`gaussian_blur_planes`: ``k[i] = exp(-x_i^2 / (2 sigma^2))`` at ``x_i = i - (size - 1) / 2``,
  normalised to sum 1, one kernel per axis (their outer product is torchvision's 2-D kernel), applied as a
  correlation after reflect padding by ``size // 2``, so the image keeps its shape. Non-float images are
  blurred in float32 and rounded back.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

__all__ = ["PADDING_MODES", "parse_padding", "pad_planes", "crop_planes", "gaussian_kernel1d",
           "gaussian_blur_planes"]

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def parse_padding(padding: int | Sequence[int], owner: str) -> tuple[int, int, int, int]:
    """``padding`` as ``(left, top, right, bottom)``: one int for all sides, ``(left/right, top/bottom)``
    or the four sides, as torchvision accepts them."""
    if isinstance(padding, bool) or not isinstance(padding, int | np.integer | Sequence):
        raise TypeError(f"{owner}: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")
    vals = [padding] if isinstance(padding, int | np.integer) else list(padding)
    if len(vals) not in (1, 2, 4) or any(isinstance(v, bool) or not isinstance(v, int | np.integer)
                                         for v in vals):
        raise ValueError(f"{owner}: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")
    if len(vals) == 1:
        vals = vals * 4
    elif len(vals) == 2:
        vals = [vals[0], vals[1], vals[0], vals[1]]
    return int(vals[0]), int(vals[1]), int(vals[2]), int(vals[3])


def pad_planes(x: np.ndarray, ltrb: Sequence[int], fill: float | numbers.Real | Sequence[float] = 0,
               padding_mode: str = "constant") -> np.ndarray:
    """Pad the last two axes of ``x`` by ``(left, top, right, bottom)`` (module docstring)."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"pad: padding_mode must be one of {', '.join(PADDING_MODES)}, got {padding_mode!r}")
    if min(ltrb) < 0:
        cl, ct, cr, cb = (max(-p, 0) for p in ltrb)
        x = x[..., ct:x.shape[-2] - cb, cl:x.shape[-1] - cr]
        ltrb = [max(p, 0) for p in ltrb]
    left, top, right, bottom = ltrb
    if padding_mode == "reflect" and (max(top, bottom) >= x.shape[-2] or max(left, right) >= x.shape[-1]):
        raise ValueError(f"pad: reflect padding {tuple(ltrb)} (left, top, right, bottom) must be smaller than "
                         f"the image it pads, of size {x.shape[-2:]} (H, W)")
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode != "constant":
        return np.pad(x, widths, mode=padding_mode)  # type: ignore[call-overload]  # mode is a str variable
    fills = np.asarray(fill if fill is not None else 0)
    if fills.ndim == 0 or fills.size == 1:
        return np.pad(x, widths, mode="constant", constant_values=fills.reshape(()).astype(x.dtype))
    # one fill value per channel (the axis before H, W)
    if x.ndim < 3 or fills.size != x.shape[-3]:
        raise ValueError(f"pad: {fills.size} fill values for an image of shape {x.shape}")
    out = np.empty(x.shape[:-2] + (x.shape[-2] + top + bottom, x.shape[-1] + left + right), dtype=x.dtype)
    out[...] = fills.astype(x.dtype).reshape(-1, 1, 1)
    out[..., top:top + x.shape[-2], left:left + x.shape[-1]] = x
    return out


def crop_planes(x: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """``x[..., top:top+height, left:left+width]``, zero where the window leaves the image."""
    h, w = x.shape[-2:]
    bottom, right = top + height, left + width
    if left >= 0 and top >= 0 and right <= w and bottom <= h:
        return x[..., top:bottom, left:right]
    inner = x[..., max(top, 0):max(min(bottom, h), 0), max(left, 0):max(min(right, w), 0)]
    ltrb = (max(-left, 0), max(-top, 0), width - max(-left, 0) - inner.shape[-1],
            height - max(-top, 0) - inner.shape[-2])
    return pad_planes(inner, ltrb, 0, "constant")


def gaussian_kernel1d(size: int, sigma: float, dtype: np.dtype) -> np.ndarray:
    """The normalised Gaussian taps at ``i - (size - 1) / 2`` (module docstring), in ``dtype``."""
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size).astype(dtype)
    pdf = np.exp(dtype.type(-0.5) * (x / dtype.type(sigma)) ** 2)
    return pdf / pdf.sum()


def _correlate(x: np.ndarray, taps: np.ndarray, axis: int) -> np.ndarray:
    """``out[i] = sum_k taps[k] x[i + k]`` along ``axis`` (-2 or -1): the valid part only."""
    n = x.shape[axis] - len(taps) + 1

    def window(k: int) -> np.ndarray:
        return x[..., k:k + n, :] if axis == -2 else x[..., k:k + n]

    out = taps[0] * window(0)
    for k in range(1, len(taps)):
        out += taps[k] * window(k)
    return out


def gaussian_blur_planes(x: np.ndarray, kernel_size: Sequence[int], sigma: Sequence[float]) -> np.ndarray:
    """Blur the last two axes with the separable Gaussian of ``kernel_size = (kx, ky)`` and
    ``sigma = (sx, sy)`` (module docstring)."""
    work = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    kx, ky = kernel_size
    padded = pad_planes(x.astype(work, copy=False), (kx // 2, ky // 2, kx // 2, ky // 2), 0, "reflect")
    rows = _correlate(padded, gaussian_kernel1d(ky, sigma[1], work), -2)
    out = _correlate(rows, gaussian_kernel1d(kx, sigma[0], work), -1)
    if out.dtype != x.dtype:
        if x.dtype.kind in "iu":
            np.rint(out, out=out)
        out = out.astype(x.dtype)
    return out
