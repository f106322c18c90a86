r"""Sliding blocks: ``unfold`` (im2col, PyTorch's ``F.unfold``) and its adjoint ``fold`` (col2im, ``F.fold``).

With windows of size (kh, kw), stride s, padding p and dilation d over an (H, W) plane, block l = (a, b) of
the L = Ho·Wo blocks (Ho, Wo by the convolution's size rule) covers xpad[a·sh + i·dh, b·sw + j·dw] for its
kernel offsets (i, j). ``unfold`` lays every block out as a column, rows ordered (c, i, j):

    cols[n, (c·kh + i)·kw + j, a·Wo + b] = xpad[n, c, a·sh + i·dh, b·sw + j·dw],

and ``fold`` is its adjoint, summing each column entry back onto its pixel (pixels in several blocks receive
the sum; the padding's share is dropped). So each one's gradient is the other: d(unfold)ᵀ = fold and
d(fold)ᵀ = unfold, one pair of functions below serving all four passes. Both run one whole-batch slice
copy (or add) per kernel offset, over the offset views of :func:`~minidl.ops.conv.window_slices`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..backend import xp
from ..errors import ShapeError
from .base import Op
from .conv import Pair, as_pair, check_nchw, output_hw, pad_nchw, window_slices


class _Blocks(NamedTuple):
    size: Pair  # (H, W) of the unpadded plane
    kernel: Pair
    dilation: Pair
    padding: Pair
    stride: Pair
    out_hw: Pair  # (Ho, Wo) blocks


def _blocks(op: str, x_shape: tuple[int, ...], kernel_size: Any, dilation: Any, padding: Any,
            stride: Any) -> _Blocks:
    """The blocks of the (N, C, H, W) plane ``x_shape`` (fold: its output), after checking the arguments."""
    kernel, dil = as_pair(op, "kernel_size", kernel_size, 1), as_pair(op, "dilation", dilation, 1)
    pad, step = as_pair(op, "padding", padding, 0), as_pair(op, "stride", stride, 1)
    out_hw = output_hw(op, x_shape, kernel, step, ((pad[0], pad[0]), (pad[1], pad[1])), dil)
    return _Blocks((x_shape[2], x_shape[3]), kernel, dil, pad, step, out_hw)


def _unfold(x: np.ndarray, geo: _Blocks) -> np.ndarray:
    """(N, C, H, W) -> (N, C·kh·kw, L): every block as a column (module docstring)."""
    n, c = x.shape[:2]
    (ph, pw), (kh, kw), (ho, wo) = geo.padding, geo.kernel, geo.out_hw
    xpad = pad_nchw(x, ((ph, ph), (pw, pw)), 0, channels_last=False) if ph or pw else x
    cols = xp.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for i, j, rows, columns in window_slices(geo.kernel, geo.stride, geo.dilation, geo.out_hw):
        cols[:, :, i, j] = xpad[:, :, rows, columns]
    return cols.reshape(n, c * kh * kw, ho * wo)


def _fold(cols: np.ndarray, geo: _Blocks) -> np.ndarray:
    """(N, C·kh·kw, L) -> (N, C, H, W): every column entry added onto its pixel (module docstring)."""
    n = cols.shape[0]
    (ph, pw), (kh, kw), (h, w), (ho, wo) = geo.padding, geo.kernel, geo.size, geo.out_hw
    c = cols.shape[1] // (kh * kw)
    blocks = cols.reshape(n, c, kh, kw, ho, wo)
    out = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i, j, rows, columns in window_slices(geo.kernel, geo.stride, geo.dilation, geo.out_hw):
        out[:, :, rows, columns] += blocks[:, :, i, j]
    return out[:, :, ph:ph + h, pw:pw + w]


class Unfold(Op):
    r"""cols[n, (c·kh + i)·kw + j, a·Wo + b] = xpad[n, c, a·sh + i·dh, b·sw + j·dw], PyTorch's ``unfold``
    (module docstring). dL/dx = fold(dL/dcols): each column entry's gradient added onto its pixel.
    The same math as loops: :class:`minidl.ops.reference.Unfold`."""

    name = "unfold"
    saves = ()

    def forward(self, x, kernel_size, dilation=1, padding=0, stride=1):
        check_nchw("unfold", x)
        geo = _blocks("unfold", x.shape, kernel_size, dilation, padding, stride)
        return _unfold(x, geo), geo

    def backward(self, dout, cache, needs=None):
        return (_fold(dout, cache),)


class Fold(Op):
    r"""y[n, c, h, w] = Σ of the entries cols[n, (c·kh + i)·kw + j, a·Wo + b] whose block (a, b) covers
    (h, w) at offset (i, j), PyTorch's ``fold``: the adjoint of :class:`Unfold` for an (H, W) =
    ``output_size`` plane. dL/dcols = unfold(dL/dy). The same math as loops:
    :class:`minidl.ops.reference.Fold`."""

    name = "fold"
    saves = ()

    def forward(self, cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
        if not (hasattr(cols, "ndim") and cols.ndim == 3 and np.issubdtype(cols.dtype, np.floating)):
            raise ShapeError(f"fold: expected a floating 3-D input (N, C·kh·kw, L), got "
                             f"{getattr(cols, 'dtype', type(cols).__name__)} of shape {tuple(np.shape(cols))}")
        kh, kw = as_pair("fold", "kernel_size", kernel_size, 1)
        if cols.shape[1] % (kh * kw):
            raise ShapeError(f"fold: expected size of input's dimension 1 to be divisible by the product of "
                             f"kernel_size, but got input.size(1)={cols.shape[1]} and kernel_size={(kh, kw)}")
        size = (cols.shape[0], cols.shape[1] // (kh * kw), *as_pair("fold", "output_size", output_size, 1))
        geo = _blocks("fold", size, kernel_size, dilation, padding, stride)
        if cols.shape[2] != geo.out_hw[0] * geo.out_hw[1]:
            raise ShapeError(f"fold: given output_size={geo.size}, kernel_size={geo.kernel}, dilation={geo.dilation}, "
                             f"padding={geo.padding}, stride={geo.stride}, expected size of input's dimension 2 to "
                             f"match the calculated number of sliding blocks {geo.out_hw[0]} * {geo.out_hw[1]} = "
                             f"{geo.out_hw[0] * geo.out_hw[1]}, but got input.size(2)={cols.shape[2]}")
        return _fold(cols, geo), geo

    def backward(self, dout, cache, needs=None):
        return (_unfold(dout, cache),)


unfold, fold = Unfold(), Fold()
