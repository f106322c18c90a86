"""Resizing array images: PyTorch's ``interpolate`` kernels (as torchvision's tensor ``resize`` calls them).

Every mode is separable: the output along one axis is a weighted sum of a few input samples ("taps") along
that axis, ``out[i] = sum_k w[i, k] in[idx[i, k]]``. :func:`resize_planes` applies the taps of the width,
then of the height. With ``s = in_size / out_size`` and output pixel ``i``:

* ``nearest``: source ``min(floor(i * s), in - 1)``; ``nearest-exact``: ``min(floor((i + 0.5) s), in - 1)``.
* ``bilinear`` (no antialias): source position ``x = max(s (i + 0.5) - 0.5, 0)``; weights ``1 - t`` and
  ``t = x - floor(x)`` on ``floor(x)`` and the next sample (the last one repeats at the border).
* ``bicubic`` (no antialias): ``x = s (i + 0.5) - 0.5`` unclamped, Keys' cubic convolution with
  ``a = -0.75`` on the four samples ``floor(x) - 1 .. floor(x) + 2``, indices clamped to the image.
* antialiased ``bilinear``/``bicubic`` (PIL's resampling, PyTorch's ``antialias=True``): the filter (triangle,
  or cubic with ``a = -0.5``) is stretched by ``max(s, 1)``: support ``r = (1 or 2) max(s, 1)`` around the
  centre ``c = s (i + 0.5)``; the samples ``j`` in ``[trunc(c - r + 0.5), trunc(c + r + 0.5))`` (within the
  image) get ``filter((j - c + 0.5) / max(s, 1))``, normalised to sum 1.

Weights are computed with PyTorch's mix of single and double precision, and the taps are summed one after
another in its order, so float32 results agree with PyTorch's to the last bit or nearly. Integer images are
resized in float32 and rounded back (half to even), as torchvision does; bicubic uint8 results are clamped
to [0, 255] first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["resize_planes", "resize_taps", "output_size", "MODES"]

MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")
_F64 = np.float64


def _cubic_near(x: np.ndarray, a: np.floating) -> np.ndarray:
    """Keys' kernel for ``|x| < 1``: ``((a + 2) x - (a + 3)) x^2 + 1`` (in ``x``'s dtype)."""
    one, two, three = (x.dtype.type(v) for v in (1, 2, 3))
    return ((a + two) * x - (a + three)) * x * x + one


def _cubic_far(x: np.ndarray, a: np.floating) -> np.ndarray:
    """Keys' kernel for ``1 <= |x| < 2``: ``((a x - 5 a) x + 8 a) x - 4 a``."""
    five, eight, four = (x.dtype.type(v) for v in (5, 8, 4))
    return ((a * x - five * a) * x + eight * a) * x - four * a


def _aa_filter(x: np.ndarray, mode: str) -> np.ndarray:
    x = np.abs(x)
    one = x.dtype.type(1)
    if mode == "bilinear":
        return np.where(x < one, one - x, x.dtype.type(0))
    a = x.dtype.type(-0.5)
    return np.where(x < one, _cubic_near(x, a), np.where(x < 2, _cubic_far(x, a), x.dtype.type(0)))


def _antialias_taps(n_in: int, n_out: int, mode: str, dt: type) -> tuple[np.ndarray, np.ndarray]:
    scale = dt(n_in) / dt(n_out)
    half_width = 1.0 if mode == "bilinear" else 2.0
    support = dt(half_width * _F64(scale)) if scale >= 1.0 else dt(half_width)
    invscale = dt(1.0 / _F64(scale)) if scale >= 1.0 else dt(1.0)
    max_taps = int(np.ceil(support)) * 2 + 1
    centre = (scale * (np.arange(n_out, dtype=_F64) + 0.5)).astype(dt)
    # C++'s int64 cast truncates toward zero
    lo = np.maximum(np.trunc((centre - support).astype(_F64) + 0.5), 0).astype(np.int64)
    hi = np.minimum(np.trunc((centre + support).astype(_F64) + 0.5), n_in).astype(np.int64)
    count = np.clip(hi - lo, 0, max_taps)
    k = np.arange(max_taps)
    idx = lo[:, None] + k
    dist = (((idx.astype(dt) - centre[:, None]).astype(_F64) + 0.5) * _F64(invscale)).astype(dt)
    w = np.where(k < count[:, None], _aa_filter(dist, mode), dt(0))
    total = w[:, 0].copy()
    for j in range(1, max_taps):  # summed in order, in the weights' precision
        total += w[:, j]
    w = np.where(total[:, None] != 0, w / np.where(total == 0, dt(1), total)[:, None], w)
    return np.minimum(idx, n_in - 1), w


def _source_positions(n_in: int, n_out: int, cubic: bool, dt: type) -> np.ndarray:
    """``s (i + 0.5) - 0.5`` (clamped at 0 unless ``cubic``): the scale in the weights' precision, the rest in
    double precision, rounded back (PyTorch's promotions)."""
    scale = dt(n_in) / dt(n_out)
    x = (_F64(scale) * (np.arange(n_out) + 0.5) - 0.5).astype(dt)
    return x if cubic else np.maximum(x, dt(0))


def resize_taps(n_in: int, n_out: int, mode: str, antialias: bool, dtype: Any = _F64
                ) -> tuple[np.ndarray, np.ndarray]:
    """Tap indices and weights ``(n_out, K)`` of one axis (module docstring), weights in ``dtype``."""
    dt = np.dtype(dtype).type
    if mode in ("bilinear", "bicubic") and antialias:
        return _antialias_taps(n_in, n_out, mode, dt)
    i = np.arange(n_out)
    if n_in == n_out:  # PyTorch copies an axis whose size does not change
        return i[:, None], np.ones((n_out, 1), dtype=dt)
    if mode == "bilinear":
        x = _source_positions(n_in, n_out, False, dt)
        x0 = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
        t = np.clip(x - x0.astype(dt), dt(0), dt(1))
        idx = np.stack([x0, np.where(x0 < n_in - 1, x0 + 1, x0)], 1)
        return idx, np.stack([dt(1) - t, t], 1)
    if mode == "bicubic":
        x = _source_positions(n_in, n_out, True, dt)
        x0 = np.floor(x).astype(np.int64)
        t = x - x0.astype(dt)
        a = dt(-0.75)
        # the four taps at distances t + 1, t, 1 - t, 2 - t
        weights = np.stack([_cubic_far(t + dt(1), a), _cubic_near(t, a), _cubic_near(dt(1) - t, a),
                            _cubic_far(dt(1) - t + dt(1), a)], 1)
        return np.clip(x0[:, None] + np.arange(-1, 3), 0, n_in - 1), weights
    raise ValueError(f"resize: no taps for mode {mode!r}")


def _nearest_index(n_in: int, n_out: int, exact: bool) -> np.ndarray:
    # PyTorch computes the scale and the source position in float32; float64 would pick other pixels at ties
    scale = np.float32(n_in) / np.float32(n_out)
    if n_out == n_in:
        return np.arange(n_out)
    if exact:  # (i + 0.5) * scale is formed in double precision, then rounded to float32 by floorf
        pos = ((np.arange(n_out) + 0.5) * np.float64(scale)).astype(np.float32)
    elif n_out == 2 * n_in:
        return np.arange(n_out) >> 1
    else:
        pos = np.arange(n_out, dtype=np.float32) * scale
    return np.minimum(np.floor(pos).astype(np.int64), n_in - 1)


def _apply_taps(x: np.ndarray, idx: np.ndarray, w: np.ndarray, axis: int) -> np.ndarray:
    """``out[..., i] = sum_k w[i, k] x[..., idx[i, k]]`` along ``axis`` (-1 or -2), summed in tap order."""
    if axis == -1:
        out = x[..., idx[:, 0]] * w[:, 0]
        for k in range(1, idx.shape[1]):
            out += x[..., idx[:, k]] * w[:, k]
    else:
        out = x[..., idx[:, 0], :] * w[:, 0, None]
        for k in range(1, idx.shape[1]):
            out += x[..., idx[:, k], :] * w[:, k, None]
    return out


def resize_planes(x: np.ndarray, size: tuple[int, int], mode: str, antialias: bool) -> np.ndarray:
    """Resize the last two axes of ``x`` to ``size = (height, width)``; same dtype out (module docstring)."""
    out_h, out_w = size
    in_h, in_w = x.shape[-2:]
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        rows = _nearest_index(in_h, out_h, exact)
        cols = _nearest_index(in_w, out_w, exact)
        return x[..., rows[:, None], cols[None, :]]
    if mode not in MODES:
        raise ValueError(f"resize: interpolation {mode!r} is not supported for arrays and tensors "
                         f"(choose from {', '.join(MODES)})")
    work = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    out = np.ascontiguousarray(x, dtype=work)  # gathers along a strided (HWC) view are several times slower
    if out_w != in_w or not antialias:
        out = _apply_taps(out, *resize_taps(in_w, out_w, mode, antialias, work), axis=-1)
    if out_h != in_h or not antialias:
        out = _apply_taps(out, *resize_taps(in_h, out_h, mode, antialias, work), axis=-2)
    return _finish(out, x.dtype, mode)


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

