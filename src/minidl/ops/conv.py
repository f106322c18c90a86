"""2-D convolution as im2col + one GEMM, and the window helpers the pooling ops share.

Memory layout
-------------
The public layout is NCHW, as in PyTorch, but the convolution works channels-last (NHWC) inside:

* the input is read through an NHWC view (``x.transpose(0, 2, 3, 1)``; padding, when asked for, is one copy
  into an NHWC buffer); im2col takes a zero-copy ``as_strided`` window view of it and copies that once into
  the column matrix, columns ordered (kh, kw, C) so that every column run is a contiguous channel vector;
* the GEMM ``cols (M, K) @ W (K, O)`` with M = N·Ho·Wo then yields the output already in NHWC order:
  no transpose is ever materialised. The op returns its NCHW *view*, an array of shape (N, O, Ho, Wo) stored
  channels-last, like PyTorch's ``channels_last`` memory format. Elementwise ops keep that layout, the
  pooling ops below keep it, and the next convolution's NHWC view of it is contiguous again, so a conv net
  runs channels-last end to end with no conversions between layers;
* backward: dW is one GEMM ``colsᵀ dY``; the column gradient is one GEMM ``W dYᵀ`` built as (K, M), so that
  col2im, one strided slice-add per kernel offset (kh·kw of them, each over the whole batch), reads a
  contiguous block per offset and writes an NCHW-ordered dx (the fastest pairing measured, see ``_col2im``).

When the input has few channels (the first layer of an image net), columns ordered (kh, kw, C) are short
runs, so the column matrix is built transposed, (K, M), where each row is a long run along W, and handed to
BLAS as its F-ordered transpose (measured several times faster for C = 1).

Groups split C and O into G blocks; the GEMMs are batched over the group axis (one BLAS call per group).
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from ..backend import xp
from .base import Op, wants

Pair = tuple[int, int]

# Up to this many channels per group the column matrix is built as (K, M): see the module docstring
# (measured: (K, M) is 1.2-2x faster for C <= 6, (M, K) 1.3-3x faster for C >= 8).
_K_MAJOR_MAX_CHANNELS = 6


# ------------------------------------------------------------------------------ helpers shared with pool.py
def as_pair(op: str, name: str, value: Any, minimum: int) -> Pair:
    """``value`` (an int, or a pair for (H, W)) as a pair of ints, each at least ``minimum``."""
    items = value if isinstance(value, tuple | list) else (value, value)
    try:
        if len(items) != 2:
            raise TypeError
        pair = (operator.index(items[0]), operator.index(items[1]))
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return pair


def check_nchw(op: str, x: Any, name: str = "input", axes: str = "(N, C, H, W)") -> None:
    """Raise a clear error unless ``x`` is a floating 4-D array (axes named ``axes`` in the message)."""
    if not (hasattr(x, "ndim") and hasattr(x, "dtype")):
        raise TypeError(f"{op}: {name} must be an array, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D {name} {axes}, got shape {tuple(x.shape)}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{op}: {name} must be a floating array, got dtype {x.dtype}")


def output_hw(op: str, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, pads: tuple[Pair, Pair],
              dilation: Pair, ceil_mode: bool = False) -> Pair:
    """PyTorch's output size per axis, with pads = ((top, bottom), (left, right)).

    L_out = ⌊(L + p_lo + p_hi − d(k−1) − 1) / s⌋ + 1. In ceil mode ⌈·⌉ replaces ⌊·⌋, but a last window that
    would start past the input and the leading padding (at (L_out−1)·s ≥ L + p_lo) is dropped.
    """
    sizes = []
    for size, k, s, (lo, hi), d in zip(x_shape[2:], kernel, stride, pads, dilation, strict=True):
        span = size + lo + hi - d * (k - 1) - 1
        if span < 0:
            raise ValueError(
                f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded input: input shape "
                f"{tuple(x_shape)}, padding {pads}, so the output would be empty"
            )
        n = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (n - 1) * s >= size + lo:
            n -= 1
        sizes.append(n)
    return sizes[0], sizes[1]


def window_slices(kernel: Pair, stride: Pair, dilation: Pair,
                  out_hw: Pair) -> Iterator[tuple[int, int, slice, slice]]:
    """For each kernel offset (i, j), row-major, the row and column slices of the (padded) input it reads.

    Offset (i, j) of output (oh, ow) reads input row i·dh + oh·sh and column j·dw + ow·sw, so across all
    outputs it reads rows ``i·dh : i·dh + sh·(Ho−1) + 1 : sh`` (columns likewise): one strided view, and a
    window op becomes kh·kw whole-batch array ops. With stride == kernel and no dilation these slices are
    exactly the reshape views ``x.reshape(N, C, Ho, kh, Wo, kw)[:, :, :, i, :, j]``.
    """
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            yield i, j, rows, slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)


def is_channels_last(x: np.ndarray) -> bool:
    """Whether the NCHW array ``x`` is stored channels-last (its NHWC transpose is the cheap one to walk)."""
    return x.strides[1] < x.strides[3]


def empty_nchw(shape: tuple[int, ...], dtype: Any, channels_last: bool) -> np.ndarray:
    """An uninitialised (N, C, H, W) array, stored channels-last if asked."""
    n, c, h, w = shape
    if channels_last:
        return xp.empty((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)
    return xp.empty(shape, dtype=dtype)


def pad_nchw(x: np.ndarray, pads: tuple[Pair, Pair], fill: float, channels_last: bool) -> np.ndarray:
    """``x`` (N, C, H, W) surrounded by ``fill``, pads = ((top, bottom), (left, right)); NCHW shape.

    One copy of the interior; only the border is filled. Stored channels-last if asked.
    """
    n, c, h, w = x.shape
    (top, bottom), (left, right) = pads
    out = empty_nchw((n, c, h + top + bottom, w + left + right), x.dtype, channels_last)
    out[:, :, :top] = fill
    out[:, :, top + h:] = fill
    out[:, :, top:top + h, :left] = fill
    out[:, :, top:top + h, left + w:] = fill
    out[:, :, top:top + h, left:left + w] = x
    return out


# ------------------------------------------------------------------------------------------------ convolution
class _ConvGeometry(NamedTuple):
    x_shape: tuple[int, ...]
    kernel: Pair
    stride: Pair
    pads: tuple[Pair, Pair]
    dilation: Pair
    groups: int
    out_hw: Pair


def _conv_pads(padding: Any, kernel: Pair, stride: Pair, dilation: Pair) -> tuple[Pair, Pair]:
    """((top, bottom), (left, right)) from an int, a pair, or PyTorch's strings 'valid' and 'same'.

    'same' pads d(k−1) in total per axis, the odd one on the bottom/right as PyTorch does.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return (totals[0] // 2, totals[0] - totals[0] // 2), (totals[1] // 2, totals[1] - totals[1] // 2)
    ph, pw = as_pair("conv2d", "padding", padding, 0)
    return (ph, ph), (pw, pw)


def _check_conv(x: Any, weight: Any, bias: Any, groups: Any) -> None:
    check_nchw("conv2d", x)
    check_nchw("conv2d", weight, "weight", "(out_channels, in_channels/groups, kh, kw)")
    if not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    n_out, c_per_group = weight.shape[:2]
    if x.shape[1] != c_per_group * groups:
        raise ValueError(
            f"conv2d: input has {x.shape[1]} channels (shape {tuple(x.shape)}) but weight "
            f"{tuple(weight.shape)} with groups={groups} expects {c_per_group * groups}"
        )
    if n_out % groups:
        raise ValueError(
            f"conv2d: out channels {n_out} (weight {tuple(weight.shape)}) not divisible by groups={groups}"
        )
    if bias is not None and tuple(getattr(bias, "shape", ())) != (n_out,):
        raise ValueError(f"conv2d: bias must have shape ({n_out},) for weight {tuple(weight.shape)}, "
                         f"got {tuple(getattr(bias, 'shape', ()))}")
    dtypes = {a.dtype for a in (x, weight, bias) if a is not None}
    if len(dtypes) > 1:
        raise TypeError(f"conv2d: input, weight and bias must share a dtype, got {sorted(map(str, dtypes))}")


def _im2col(xh: np.ndarray, geo: _ConvGeometry) -> np.ndarray:
    """Column matrices (G, M, K) of the padded NHWC input ``xh``: row (n, oh, ow), column (i, j, c).

    ``as_strided`` gives every window without copying (stride and dilation are just larger strides); the one
    copy reshapes it into a matrix, built (K, M) and returned transposed when channels are few.
    """
    n, _, _, c = xh.shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo), g = geo.kernel, geo.stride, geo.dilation, geo.out_hw, geo.groups
    cg = c // g
    s0, s1, s2, s3 = xh.strides
    win = xp.lib.stride_tricks.as_strided(
        xh, (n, ho, wo, kh, kw, g, cg), (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3 * cg, s3), writeable=False
    )
    m, k = n * ho * wo, kh * kw * cg
    if cg <= _K_MAJOR_MAX_CHANNELS:
        return win.transpose(5, 3, 4, 6, 0, 1, 2).reshape(g, k, m).transpose(0, 2, 1)
    return win.transpose(5, 0, 1, 2, 3, 4, 6).reshape(g, m, k)


class Conv2d(Op):
    r"""2-D cross-correlation (PyTorch's ``conv2d``): x (N, C, H, W), weight (O, C/G, kh, kw), bias (O,)/None.

    y[n, o, a, b] = bias[o] + Σ_{c, i, j} W[o, c, i, j] · xpad[n, g(o)·C/G + c, a·sh + i·dh, b·sw + j·dw]

    With the windows unrolled into columns X (M = N·Ho·Wo rows, K = kh·kw·C/G columns) and W as a (K, O)
    matrix, per group: Y = X W + 1 biasᵀ. Hence

        dW = Xᵀ dY,    dbias = 1ᵀ dY,    dX = dY Wᵀ,    dx = col2im(dX),

    where col2im adds each column entry back onto the input pixel it was read from (pixels read by several
    windows receive the sum; padding's share is dropped). ``stride``, ``padding`` (int, pair, 'valid' or
    'same'), ``dilation`` are ints or (h, w) pairs. The output is an NCHW view stored channels-last; see the
    module docstring for why. Cache: the column matrix, the weight matrix and the geometry.
    """

    name = "conv2d"

    def forward(self, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        _check_conv(x, weight, bias, groups)
        kernel = (weight.shape[2], weight.shape[3])
        stride = as_pair("conv2d", "stride", stride, 1)
        dilation = as_pair("conv2d", "dilation", dilation, 1)
        pads = _conv_pads(padding, kernel, stride, dilation)
        out_hw = output_hw("conv2d", x.shape, kernel, stride, pads, dilation)
        geo = _ConvGeometry(x.shape, kernel, stride, pads, dilation, int(groups), out_hw)

        n, o, g = x.shape[0], weight.shape[0], geo.groups
        xh = (pad_nchw(x, pads, 0, channels_last=True) if any(pads[0] + pads[1]) else x).transpose(0, 2, 3, 1)
        cols = _im2col(xh, geo)
        # weight (O, C/G, kh, kw) -> (G, K, O/G) with rows ordered (i, j, c) like the columns
        wmat = weight.reshape(g, o // g, -1, *kernel).transpose(0, 3, 4, 2, 1).reshape(g, -1, o // g)
        out = xp.matmul(cols, wmat)  # (G, M, O/G); for G = 1 already contiguous (M, 1, O) after the transpose
        out = xp.ascontiguousarray(out.transpose(1, 0, 2)).reshape(n, *out_hw, o)
        if bias is not None:
            # out is a contiguous NHWC buffer: adding the bias tiled over one sample's Ho·Wo pixels is
            # 1.4-6x faster than broadcasting it over a narrow trailing axis of O channels
            per_sample = out.reshape(n, -1)
            per_sample += xp.tile(bias, out_hw[0] * out_hw[1])
        return out.transpose(0, 3, 1, 2), (cols, wmat, geo, bias is not None)

    def backward(self, dout, cache, needs=None):
        cols, wmat, geo, has_bias = cache
        g, (m, o) = geo.groups, (cols.shape[1], dout.shape[1])
        # free when dout is channels-last; also turns a zero-stride broadcast dout (from a sum's backward)
        # into a matrix BLAS can read, instead of NumPy's slow non-BLAS matmul loop
        d = xp.ascontiguousarray(dout.transpose(0, 2, 3, 1)).reshape(m, o)
        dg = d.reshape(m, g, o // g).transpose(1, 0, 2)  # (G, M, O/G), a strided view BLAS reads directly

        db = xp.ones(m, dtype=d.dtype) @ d if has_bias and wants(needs, 2) else None
        dw = None
        if wants(needs, 1):
            (kh, kw), cg = geo.kernel, cols.shape[2] // (geo.kernel[0] * geo.kernel[1])
            dwm = xp.matmul(cols.transpose(0, 2, 1), dg)  # (G, K, O/G)
            dw = dwm.reshape(g, kh, kw, cg, o // g).transpose(0, 4, 3, 1, 2).reshape(o, cg, kh, kw)
        # dcols is built transposed, (G, K, M): each kernel offset's block is then contiguous for col2im
        dx = _col2im(xp.matmul(wmat, dg.transpose(0, 2, 1)), geo) if wants(needs, 0) else None
        return dx, dw, db


def _col2im(dcols_t: np.ndarray, geo: _ConvGeometry) -> np.ndarray:
    """Scatter-add transposed column gradients (G, K, M) back onto an NCHW input gradient.

    One strided slice-add per kernel offset (i, j): its rows of dcolsᵀ form one contiguous (C, N, Ho, Wo)
    block, and the NCHW buffer takes it in runs along W. Measured 1.05-3x faster than reading (M, K)
    columns (which drags every cache line of the whole matrix through each of the kh·kw passes) and than
    writing an NHWC buffer, so dx comes back NCHW-ordered (the interior of a contiguous padded buffer).
    """
    n, c, h, w = geo.x_shape
    g, (kh, kw), (ho, wo), ((top, bottom), (left, right)) = geo.groups, geo.kernel, geo.out_hw, geo.pads
    dc = dcols_t.reshape(g, kh, kw, c // g, n, ho, wo)
    dxp = xp.zeros((n, g, c // g, h + top + bottom, w + left + right), dtype=dcols_t.dtype)
    dxp_t = dxp.transpose(1, 2, 0, 3, 4)  # (G, C/G, N, Hp, Wp), the axis order of each block
    for i, j, rows, cols in window_slices(geo.kernel, geo.stride, geo.dilation, geo.out_hw):
        dxp_t[..., rows, cols] += dc[:, i, j]
    return dxp.reshape(n, c, h + top + bottom, w + left + right)[:, :, top:top + h, left:left + w]


conv2d = Conv2d()
