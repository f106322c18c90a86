"""Colour kernels on array images ``(..., C, H, W)`` (C = 1 or 3): torchvision's tensor formulas.

Integer images follow torchvision's arithmetic: products with a Python number are float32, and the result is
truncated (not rounded) back to the integer dtype, which is what ``Tensor.to(torch.uint8)`` does.

* grayscale ``L = 0.2989 R + 0.587 G + 0.114 B`` (ITU-R 601-2 luma, torchvision's weights);
* ``blend(a, b, r) = clamp(r a + (1 - r) b, 0, max)`` with max 255 for uint8 and 1 for floats;
  brightness blends with black, contrast with the mean grey level, saturation with the grey image;
* hue: to HSV, ``h <- (h + factor) mod 1``, back to RGB; uint8 goes through floats in [0, 1] and back as
  ``trunc(x * 255.999)`` (torchvision's ``convert_image_dtype``).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError

__all__ = ["max_value", "channels", "to_grayscale", "blend", "adjust_brightness", "adjust_contrast",
           "adjust_saturation", "adjust_hue", "convert_image_dtype"]

_F32 = np.float32


def max_value(dtype: np.dtype) -> int | float:
    """The value of full intensity: the largest integer of an integer dtype, 1 for floats."""
    return int(np.iinfo(dtype).max) if dtype.kind in "iu" else 1


def channels(x: np.ndarray, owner: str, allowed: tuple[int, ...] = (1, 3)) -> int:
    c = 1 if x.ndim == 2 else x.shape[-3]
    if c not in allowed:
        raise ShapeError(f"{owner}: expects images with {' or '.join(map(str, allowed))} channels, got {c} "
                         f"(shape {x.shape})")
    return c


def _work(x: np.ndarray) -> np.ndarray:
    """``x`` in the dtype torchvision computes in: its own for floats, float32 otherwise."""
    return x if x.dtype.kind == "f" else x.astype(_F32)


def _cast_back(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return y if y.dtype == dtype else y.astype(dtype)  # float -> int truncates, as Tensor.to does


def to_grayscale(x: np.ndarray, num_output_channels: int, owner: str = "rgb_to_grayscale") -> np.ndarray:
    """``(..., 3, H, W)`` RGB to ``(..., 1, H, W)`` luma (or 3 equal channels); a 1-channel image is copied."""
    if x.ndim < 3:
        raise ShapeError(f"{owner}: an array image needs a channel axis (..., C, H, W), got shape {x.shape}")
    if num_output_channels not in (1, 3):
        raise ValueError(f"{owner}: num_output_channels should be either 1 or 3, got {num_output_channels!r}")
    if channels(x, owner) == 3:
        w = _work(x)
        dt = w.dtype.type
        r, g, b = w[..., 0, :, :], w[..., 1, :, :], w[..., 2, :, :]
        gray = _cast_back(dt(0.2989) * r + dt(0.587) * g + dt(0.114) * b, x.dtype)[..., None, :, :]
    else:
        gray = x.copy()
    if num_output_channels == 3:
        return np.broadcast_to(gray, gray.shape[:-3] + (3,) + gray.shape[-2:]).copy()
    return gray


def blend(a: np.ndarray, b: np.ndarray | float, ratio: float) -> np.ndarray:
    """``clamp(ratio a + (1 - ratio) b, 0, max)`` in ``a``'s dtype (module docstring)."""
    w = _work(a)
    dt = w.dtype.type
    out = dt(ratio) * w + dt(1.0 - ratio) * np.asarray(b, dtype=w.dtype)
    np.clip(out, 0, max_value(a.dtype), out=out)
    return _cast_back(out, a.dtype)


def adjust_brightness(x: np.ndarray, factor: float) -> np.ndarray:
    channels(x, "adjust_brightness")
    return blend(x, 0.0, factor)


def adjust_contrast(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the image's mean grey level (one number per image, over its channels and pixels)."""
    c = channels(x, "adjust_contrast")
    gray = to_grayscale(x, 1) if c == 3 else x
    work = x.dtype if x.dtype.kind == "f" else np.dtype(_F32)
    axes = (-2, -1) if gray.ndim == 2 else (-3, -2, -1)
    mean = gray.mean(axis=axes, keepdims=True, dtype=np.float64).astype(work)
    return blend(x, mean, factor)


def adjust_saturation(x: np.ndarray, factor: float) -> np.ndarray:
    if channels(x, "adjust_saturation") == 1:
        return x
    return blend(x, to_grayscale(x, 1), factor)


def convert_image_dtype(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """torchvision's ``convert_image_dtype``: rescale between integer ranges and [0, 1] floats.

    int to float: ``x / max``; float to int: ``trunc(x * (max + 1 - 0.001))``; int to a wider int multiplies,
    to a narrower one floor-divides by the ratio of the ranges plus one.
    """
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    if x.dtype.kind == "f":
        if dtype.kind == "f":
            return x.astype(dtype)
        if (x.dtype == np.float32 and dtype in (np.int32, np.int64)) or (x.dtype == np.float64 and dtype == np.int64):
            raise TypeError(f"convert_image_dtype: the cast from {x.dtype} to {dtype} cannot be performed safely")
        return (x * x.dtype.type(max_value(dtype) + 1.0 - 1e-3)).astype(dtype)
    in_max = max_value(x.dtype)
    if dtype.kind == "f":
        return x.astype(dtype) / dtype.type(in_max)
    out_max = max_value(dtype)
    if in_max > out_max:
        return (x // ((in_max + 1) // (out_max + 1))).astype(dtype)
    return x.astype(dtype) * ((out_max + 1) // (in_max + 1))


def _rgb_to_hsv(img: np.ndarray) -> np.ndarray:
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc = img.max(axis=-3)
    minc = img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    one = img.dtype.type(1)
    s = cr / np.where(eqc, one, maxc)
    div = np.where(eqc, one, cr)
    rc, gc, bc = (maxc - r) / div, (maxc - g) / div, (maxc - b) / div
    # the hue sector is chosen by which channel is the maximum (red first, then green)
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (img.dtype.type(2) + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (img.dtype.type(4) + gc - rc)
    h = np.fmod((hr + hg + hb) / img.dtype.type(6) + one, one)
    return np.stack((h, s, maxc), axis=-3)


def _hsv_to_rgb(img: np.ndarray) -> np.ndarray:
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    dt = img.dtype.type
    i = np.floor(h * dt(6))
    f = h * dt(6) - i
    sector = i.astype(np.int32) % 6
    p = np.clip(v * (dt(1) - s), 0, 1)
    q = np.clip(v * (dt(1) - s * f), 0, 1)
    t = np.clip(v * (dt(1) - s * (dt(1) - f)), 0, 1)
    r = np.choose(sector, (v, q, p, p, t, v))
    g = np.choose(sector, (t, v, v, q, p, p))
    b = np.choose(sector, (p, p, t, v, v, q))
    return np.stack((r, g, b), axis=-3)


def adjust_hue(x: np.ndarray, factor: float) -> np.ndarray:
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"adjust_hue: hue_factor ({factor}) is not in [-0.5, 0.5]")
    if channels(x, "adjust_hue") == 1:
        return x
    img = convert_image_dtype(x, np.dtype(_F32)) if x.dtype.kind != "f" else x
    hsv = _rgb_to_hsv(img)
    hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + img.dtype.type(factor), img.dtype.type(1))
    return convert_image_dtype(_hsv_to_rgb(hsv), x.dtype)
