"""Affine warps of array images (rotate, affine): torchvision's tensor path, ``grid_sample`` included.

The output pixel ``(i, j)`` of an ``oh x ow`` image, in coordinates centred on the image,
``x = j - (ow - 1) / 2`` and ``y = i - (oh - 1) / 2``, samples the input at

    u = m0 x + m1 y + m2 + (w - 1) / 2,        v = m3 x + m4 y + m5 + (h - 1) / 2

where ``m`` is the *inverse* affine matrix (output to input, :func:`inverse_affine_matrix`). ``nearest`` takes
the pixel at ``(round(v), round(u))`` (half to even); ``bilinear`` blends the four around it by area. Samples
outside the image read zero. With a ``fill``, an all-ones plane is warped alongside: the result is
``warped * mask + fill * (1 - mask)`` (bilinear) or ``fill`` where ``mask < 0.5`` (nearest), so the area the
image moved away from shows ``fill`` with the edge blended. Non-float images are warped in float32 and
rounded back, as torchvision does.

Grid coordinates are formed in the working dtype in torchvision's order (normalised to [-1, 1], then back
to pixels), so nearest-neighbour picks agree with it except at exact ties.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["inverse_affine_matrix", "warp_planes", "expanded_size"]


def inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float], scale: float,
                          shear: Sequence[float], inverted: bool = True) -> list[float]:
    """The 2x3 matrix (row-major, 6 numbers) of rotation by ``angle`` degrees, scaling, shear (degrees, along
    x then y) about ``center``, then translation; inverted (output to input) unless ``inverted=False``.

    Forward map: ``M = T C R S Sh_y Sh_x C^-1`` with ``R S Sh = s [[cos(a - sy)/cos(sy),
    -cos(a - sy) tan(sx)/cos(sy) - sin(a)], [sin(a - sy)/cos(sy), -sin(a - sy) tan(sx)/cos(sy) + cos(a)]]``
    (determinant ``s^2``), the convention of torchvision and of Pillow's ``Image.transform``.
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        # the inverse of [[a, b], [c, d]] (determinant 1) divided by the scale, then the shifts undone
        m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
        m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
        m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    else:
        m = [a * scale, b * scale, 0.0, c * scale, d * scale, 0.0]
        m[2] += m[0] * -cx + m[1] * -cy + cx + tx
        m[5] += m[3] * -cx + m[4] * -cy + cy + ty
    return m


def expanded_size(matrix: Sequence[float], w: int, h: int) -> tuple[int, int]:
    """``(width, height)`` that holds the whole image after the warp (rotation with ``expand=True``).

    The image's corners go through the 2x3 ``matrix`` (float32, as torchvision computes it); the extent is
    rounded outward after cutting the coordinates to 1e-4, so float noise does not add a pixel.
    """
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    new = pts @ theta.T
    half = np.array([w * 0.5, h * 0.5], dtype=np.float32)
    lo, hi = new.min(axis=0) + half, new.max(axis=0) + half
    tol = np.float32(1e-4)
    cmax = np.ceil(np.trunc(hi / tol) * tol)
    cmin = np.floor(np.trunc(lo / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def _source_coords(matrix: Sequence[float], w: int, h: int, ow: int, oh: int, dtype: np.dtype
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Input pixel coordinates ``(u, v)`` sampled by each output pixel, each of shape (oh, ow)."""
    t = np.asarray(matrix, dtype=dtype).reshape(2, 3)
    # columns of the matrix scaled to grid_sample's normalised [-1, 1] coordinates
    rx = t[0] / dtype.type(0.5 * w)
    ry = t[1] / dtype.type(0.5 * h)
    xs = np.arange(ow, dtype=dtype) - dtype.type((ow - 1) * 0.5)
    ys = (np.arange(oh, dtype=dtype) - dtype.type((oh - 1) * 0.5))[:, None]
    gx = xs * rx[0] + ys * rx[1] + rx[2]
    gy = xs * ry[0] + ys * ry[1] + ry[2]
    one = dtype.type(1)
    u = ((gx + one) * dtype.type(w) - one) / dtype.type(2)
    v = ((gy + one) * dtype.type(h) - one) / dtype.type(2)
    return u, v


def _gather(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x[..., rows, cols]`` with zero where the index lies outside the image, and the in-bounds mask."""
    h, w = x.shape[-2:]
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    vals = x[..., np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)]
    return np.where(inside, vals, 0), inside


def warp_planes(x: np.ndarray, matrix: Sequence[float], mode: str, fill: Sequence[float] | float | None,
                out_size: tuple[int, int] | None = None) -> np.ndarray:
    """Warp the last two axes of ``x`` by the inverse affine ``matrix`` (module docstring); same dtype out.

    ``out_size = (height, width)`` defaults to the input's. ``fill`` is one value or one per channel.
    """
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation {mode!r} is not supported for arrays and tensors: use nearest or bilinear")
    h, w = x.shape[-2:]
    oh, ow = (h, w) if out_size is None else out_size
    work = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    u, v = _source_coords(matrix, w, h, ow, oh, work)
    img = x.astype(work, copy=False)
    if mode == "nearest":
        out, inside = _gather(img, np.rint(v).astype(np.int64), np.rint(u).astype(np.int64))
        mask = inside.astype(work)
    else:
        u0, v0 = np.floor(u), np.floor(v)
        fu, fv = u - u0, v - v0
        c0, r0 = u0.astype(np.int64), v0.astype(np.int64)
        out = np.zeros(x.shape[:-2] + (oh, ow), dtype=work)
        mask = np.zeros((oh, ow), dtype=work)
        one = work.type(1)
        for dr, dc, wgt in ((0, 0, (one - fv) * (one - fu)), (0, 1, (one - fv) * fu),
                            (1, 0, fv * (one - fu)), (1, 1, fv * fu)):
            vals, inside = _gather(img, r0 + dr, c0 + dc)
            out += vals * wgt
            mask += np.where(inside, wgt, 0)
    if fill is not None:
        fill_arr = np.asarray(fill, dtype=work)
        if fill_arr.ndim == 1 and x.ndim >= 3:
            fill_arr = fill_arr.reshape(-1, 1, 1)
        elif fill_arr.ndim == 1:  # a (H, W) image: one value
            fill_arr = fill_arr.reshape(())
        if mode == "nearest":
            out = np.where(mask < 0.5, fill_arr, out).astype(work, copy=False)
        else:
            out = out * mask + (work.type(1) - mask) * fill_arr
    if out.dtype != x.dtype:
        if x.dtype.kind in "iu":
            out = np.rint(out)
        out = out.astype(x.dtype)
    return out
