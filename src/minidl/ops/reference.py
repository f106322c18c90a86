r"""Reference kernels: the math of the layer ops as plain loops, for reading and as the tests' oracle.

The fast ops (:mod:`.conv`, :mod:`.pool`, :mod:`.padding`, :mod:`.resample`, :mod:`.sliding_blocks`,
:mod:`.norm`, :mod:`.loss`, :mod:`.linalg`) choose among memory layouts, GEMM shapes and fused passes. Each
class here computes the same function straight from the formula
in the fast op's docstring: a loop over output positions (and over the values of each normalised group),
written so that every line is one term of the formula. Read these first; read the fast file for how the
same sums are arranged to be fast.

They follow the op protocol (:mod:`.base`): ``forward`` takes the fast op's arguments and returns
``(out, cache)``, ``backward(dout, cache)`` returns the same gradients, so a test swaps one for the other,
and calling an instance on tensors runs it through the autograd engine. The loops make them slow: use them
on small arrays. Two oracles keep them honest: ``tests/test_reference.py`` checks every backward here
against central differences (:func:`minidl.gradcheck.gradcheck`), and the fast kernels, every variant of
them, are tested against these (``tests/test_perf_kernels.py``).

Argument rules (pairs, the padding rule, output sizes) are shared with the fast ops rather than repeated:
they are rules, not arithmetic, and each has a single definition.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from .base import Op
from .conv import Pair, _check_conv, _transposed_conv_geometry, as_pair, conv_padding, output_hw
from .padding import MODES as PAD_MODES
from .padding import _pieces, pad_sizes
from .pool import _adaptive_output_size, _adaptive_windows, _check_unpool, _pool_geometry
from .sliding_blocks import _blocks

__all__ = ["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_max_pool2d", "max_unpool2d", "pad",
           "interpolate", "unfold", "fold", "batch_norm", "layer_norm", "log_softmax", "softmax_cross_entropy",
           "linear"]


def _windows(out_hw: Pair, kernel: Pair, stride: Pair, dilation: Pair) -> Iterator[tuple[int, int, slice, slice]]:
    """Each output pixel (a, b) with the rows and columns of the (padded) input its window reads:
    a·s + i·d for i < k, per axis."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    for a in range(out_hw[0]):
        for b in range(out_hw[1]):
            yield a, b, slice(a * sh, a * sh + dh * (kh - 1) + 1, dh), slice(b * sw, b * sw + dw * (kw - 1) + 1, dw)


def _pad(x: np.ndarray, top: int, bottom: int, left: int, right: int, fill: float = 0.0) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)


# ------------------------------------------------------------------------------------------------ convolution
class Conv2d(Op):
    r"""y[n, o, a, b] = bias[o] + Σ_{c, i, j} W[o, c, i, j] · xpad[n, g(o)·C/G + c, a·sh + i·dh, b·sw + j·dw].

    Backward, for every output pixel, window and filter o: dW[o] += dy · window, dxpad[window] += dy · W[o],
    dbias[o] += dy; dx is dxpad without its padding. Fast version: :class:`minidl.ops.conv.Conv2d`.
    """

    name = "conv2d"

    def forward(self, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        _check_conv(x, weight, bias, groups)
        n_out, cg, kh, kw = weight.shape
        stride = as_pair(self.name, "stride", stride, 1)
        dilation = as_pair(self.name, "dilation", dilation, 1)
        pads = conv_padding(self.name, padding, (kh, kw), stride, dilation)
        out_hw = output_hw(self.name, x.shape, (kh, kw), stride, pads, dilation)
        xpad = _pad(x, *pads[0], *pads[1])
        out = np.zeros((x.shape[0], n_out, *out_hw), dtype=x.dtype)
        for n in range(x.shape[0]):
            for o in range(n_out):
                group = slice(o // (n_out // groups) * cg, (o // (n_out // groups) + 1) * cg)
                for a, b, rows, cols in _windows(out_hw, (kh, kw), stride, dilation):
                    out[n, o, a, b] = np.sum(xpad[n, group, rows, cols] * weight[o])
                    if bias is not None:
                        out[n, o, a, b] += bias[o]
        return out, (xpad, weight, bias is not None, stride, dilation, groups, pads, x.shape)

    def backward(self, dout, cache, needs=None):
        xpad, weight, has_bias, stride, dilation, groups, pads, x_shape = cache
        n_out, cg, kh, kw = weight.shape
        dxpad, dw = np.zeros_like(xpad), np.zeros_like(weight)
        db = np.zeros(n_out, dtype=dout.dtype) if has_bias else None
        for n in range(dout.shape[0]):
            for o in range(n_out):
                group = slice(o // (n_out // groups) * cg, (o // (n_out // groups) + 1) * cg)
                for a, b, rows, cols in _windows(dout.shape[2:], (kh, kw), stride, dilation):
                    dw[o] += dout[n, o, a, b] * xpad[n, group, rows, cols]
                    dxpad[n, group, rows, cols] += dout[n, o, a, b] * weight[o]
                    if has_bias:
                        db[o] += dout[n, o, a, b]
        (top, _), (left, _) = pads
        return dxpad[:, :, top:top + x_shape[2], left:left + x_shape[3]], dw, db


class ConvTranspose2d(Op):
    r"""Every input pixel (a, b) scatters its kernel into the output: for each filter c of x's group,
    ypad[n, group's outputs, a·sh + i·dh, b·sw + j·dw] += x[n, c, a, b] · W[c, :, i, j]; y is ypad without
    its padding (rows past H_out + ph only exist for output_padding), plus bias.

    Backward, per input pixel: dx[n, c, a, b] = Σ dypad[window] · W[c], dW[c] += x[n, c, a, b] · dypad[window],
    dbias = Σ dy. Fast version: :class:`minidl.ops.conv.ConvTranspose2d`.
    """

    name = "conv_transpose2d"

    def forward(self, x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        geo = _transposed_conv_geometry(x, weight, bias, stride, padding, output_padding, groups, dilation)
        (kh, kw), ((ph, _), (pw, _)), (h_out, w_out) = geo.kernel, geo.pads, geo.x_shape[2:]
        c_per_group, o_per_group = x.shape[1] // groups, weight.shape[1]
        ypad = np.zeros((x.shape[0], geo.x_shape[1], h_out + 2 * ph, w_out + 2 * pw), dtype=x.dtype)
        for n, c in np.ndindex(*x.shape[:2]):
            outs = slice(c // c_per_group * o_per_group, (c // c_per_group + 1) * o_per_group)
            for a, b, rows, cols in _windows(x.shape[2:], (kh, kw), geo.stride, geo.dilation):
                ypad[n, outs, rows, cols] += x[n, c, a, b] * weight[c]
        out = ypad[:, :, ph:ph + h_out, pw:pw + w_out]
        if bias is not None:
            out = out + bias[:, None, None]
        return out, (x, weight, bias is not None, geo)

    def backward(self, dout, cache, needs=None):
        x, weight, has_bias, geo = cache
        (ph, _), (pw, _) = geo.pads
        dypad = np.pad(dout, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        dx, dw = np.zeros_like(x), np.zeros_like(weight)
        c_per_group, o_per_group = x.shape[1] // geo.groups, weight.shape[1]
        for n, c in np.ndindex(*x.shape[:2]):
            outs = slice(c // c_per_group * o_per_group, (c // c_per_group + 1) * o_per_group)
            for a, b, rows, cols in _windows(x.shape[2:], geo.kernel, geo.stride, geo.dilation):
                dx[n, c, a, b] = np.sum(dypad[n, outs, rows, cols] * weight[c])
                dw[c] += x[n, c, a, b] * dypad[n, outs, rows, cols]
        return dx, dw, dout.sum(axis=(0, 2, 3)) if has_bias else None


# ------------------------------------------------------------------------------------------------ pooling
class MaxPool2d(Op):
    r"""y[n, c, a, b] = max of the window xpad[n, c, a·sh + i·dh, b·sw + j·dw], padding counting as −∞.

    Backward: each dy goes to the window's first maximum in row-major order. Fast version:
    :class:`minidl.ops.pool.MaxPool2d`.
    """

    name = "max_pool2d"

    def forward(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        geo = _pool_geometry(self.name, x, kernel_size, stride, padding, dilation, ceil_mode)
        (ph, pw), (kh, kw), (dh, dw) = geo.padding, geo.kernel, geo.dilation
        # ceil mode's last windows may run past the input: the extra −∞ rows and columns cover them
        xpad = _pad(x, ph, ph + dh * kh, pw, pw + dw * kw, fill=-np.inf)
        out = np.zeros((*x.shape[:2], *geo.out_hw), dtype=x.dtype)
        for n, c in np.ndindex(*x.shape[:2]):
            for a, b, rows, cols in _windows(geo.out_hw, geo.kernel, geo.stride, geo.dilation):
                out[n, c, a, b] = np.max(xpad[n, c, rows, cols])
        return out, (xpad, geo)

    def backward(self, dout, cache, needs=None):
        xpad, geo = cache
        dxpad = np.zeros_like(xpad)
        (sh, sw), (dh, dw) = geo.stride, geo.dilation
        for n, c in np.ndindex(*dout.shape[:2]):
            for a, b, rows, cols in _windows(geo.out_hw, geo.kernel, geo.stride, geo.dilation):
                i, j = np.unravel_index(np.argmax(xpad[n, c, rows, cols]), geo.kernel)
                dxpad[n, c, a * sh + i * dh, b * sw + j * dw] += dout[n, c, a, b]
        (ph, pw), (h, w) = geo.padding, geo.x_shape[2:]
        return (dxpad[:, :, ph:ph + h, pw:pw + w],)


class AvgPool2d(Op):
    r"""y[n, c, a, b] = (1/D) Σ x over the window's real pixels, the window being rows a·sh − p ≤ r < a·sh − p + k
    (columns likewise) clipped to the padded input.

    D: ``divisor_override`` if given; else the clipped window's size with ``count_include_pad``, else its
    number of real pixels. Backward: every real pixel of the window gets dy / D. Fast version:
    :class:`minidl.ops.pool.AvgPool2d`.
    """

    name = "avg_pool2d"

    def forward(self, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
        geo = _pool_geometry(self.name, x, kernel_size, stride, padding, 1, ceil_mode)
        out = np.zeros((*x.shape[:2], *geo.out_hw), dtype=x.dtype)
        for a, b, rows, cols, divisor in self._windows(geo, count_include_pad, divisor_override):
            out[:, :, a, b] = x[:, :, rows, cols].sum(axis=(2, 3)) / divisor
        return out, (geo, count_include_pad, divisor_override)

    def backward(self, dout, cache, needs=None):
        geo, count_include_pad, divisor_override = cache
        dx = np.zeros(geo.x_shape, dtype=dout.dtype)
        for a, b, rows, cols, divisor in self._windows(geo, count_include_pad, divisor_override):
            dx[:, :, rows, cols] += dout[:, :, a, b, None, None] / divisor
        return (dx,)

    @staticmethod
    def _windows(geo, count_include_pad, divisor_override):
        """Each output (a, b), the real rows and columns of its window, and its divisor D."""
        (h, w), (kh, kw), (sh, sw), (ph, pw) = geo.x_shape[2:], geo.kernel, geo.stride, geo.padding
        for a in range(geo.out_hw[0]):
            for b in range(geo.out_hw[1]):
                r0, c0 = a * sh - ph, b * sw - pw
                r1, c1 = min(r0 + kh, h + ph), min(c0 + kw, w + pw)  # clipped to the padded input
                padded_size = (r1 - r0) * (c1 - c0)
                r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, h), min(c1, w)  # ... and to the real one
                divisor = divisor_override or (padded_size if count_include_pad else (r1 - r0) * (c1 - c0))
                yield a, b, slice(r0, r1), slice(c0, c1), divisor


class AdaptiveMaxPool2d(Op):
    r"""y[n, c, a, b] = max of x[n, c] over rows ⌊a·H/oh⌋ ≤ h < ⌈(a+1)·H/oh⌉, columns ⌊b·W/ow⌋ ≤ w < ⌈(b+1)·W/ow⌉.

    Backward: each dy goes to its window's first maximum in row-major order. Fast version:
    :class:`minidl.ops.pool.AdaptiveMaxPool2d`.
    """

    name = "adaptive_max_pool2d"

    def forward(self, x, output_size, indices_out=None):
        oh, ow = _adaptive_output_size(self.name, x, output_size)
        (r0, r1), (c0, c1) = _adaptive_windows(x.shape[2], oh), _adaptive_windows(x.shape[3], ow)
        out = np.zeros((*x.shape[:2], oh, ow), dtype=x.dtype)
        indices = np.zeros(out.shape, dtype=np.int64)
        for n, c, a, b in np.ndindex(*out.shape):
            window = x[n, c, r0[a]:r1[a], c0[b]:c1[b]]
            i, j = np.unravel_index(np.argmax(window), window.shape)
            out[n, c, a, b] = window[i, j]
            indices[n, c, a, b] = (r0[a] + i) * x.shape[3] + c0[b] + j
        if indices_out is not None:
            indices_out.append(indices)
        return out, (indices, x.shape)

    def backward(self, dout, cache, needs=None):
        indices, x_shape = cache
        dx = np.zeros(x_shape, dtype=dout.dtype)
        for n, c, a, b in np.ndindex(*dout.shape):
            h, w = divmod(indices[n, c, a, b], x_shape[3])
            dx[n, c, h, w] += dout[n, c, a, b]
        return (dx,)


class MaxUnpool2d(Op):
    r"""y[n, c] is zero but at flat position indices[n, c, a, b] = h·W + w, which holds x[n, c, a, b].
    Backward: dx[n, c, a, b] = dy[n, c, h, w]. Fast version: :class:`minidl.ops.pool.MaxUnpool2d`."""

    name = "max_unpool2d"

    def forward(self, x, indices, output_size):
        h, w = _check_unpool(self.name, x, indices, output_size)
        out = np.zeros((*x.shape[:2], h, w), dtype=x.dtype)
        for n, c, a, b in np.ndindex(*x.shape):
            out[n, c, indices[n, c, a, b] // w, indices[n, c, a, b] % w] = x[n, c, a, b]
        return out, (indices, w)

    def backward(self, dout, cache, needs=None):
        indices, w = cache
        dx = np.zeros(indices.shape, dtype=dout.dtype)
        for n, c, a, b in np.ndindex(*indices.shape):
            dx[n, c, a, b] = dout[n, c, indices[n, c, a, b] // w, indices[n, c, a, b] % w]
        return dx, None


class Unfold(Op):
    r"""cols[n, :, a·Wo + b] = the window of block (a, b), xpad[n, :, a·sh + i·dh, b·sw + j·dw] in (c, i, j)
    order. Backward: each column added back onto its window of dxpad. Fast version:
    :class:`minidl.ops.sliding_blocks.Unfold`."""

    name = "unfold"

    def forward(self, x, kernel_size, dilation=1, padding=0, stride=1):
        geo = _blocks(self.name, x.shape, kernel_size, dilation, padding, stride)
        (ph, pw), wo = geo.padding, geo.out_hw[1]
        xpad = _pad(x, ph, ph, pw, pw)
        cols = np.zeros((x.shape[0], x.shape[1] * geo.kernel[0] * geo.kernel[1], geo.out_hw[0] * wo), dtype=x.dtype)
        for a, b, rows, columns in _windows(geo.out_hw, geo.kernel, geo.stride, geo.dilation):
            cols[:, :, a * wo + b] = xpad[:, :, rows, columns].reshape(x.shape[0], -1)
        return cols, (geo, xpad.shape)

    def backward(self, dout, cache, needs=None):
        geo, padded_shape = cache
        dxpad = np.zeros(padded_shape, dtype=dout.dtype)
        for a, b, rows, columns in _windows(geo.out_hw, geo.kernel, geo.stride, geo.dilation):
            dxpad[:, :, rows, columns] += dout[:, :, a * geo.out_hw[1] + b].reshape(*padded_shape[:2], *geo.kernel)
        (ph, pw), (h, w) = geo.padding, geo.size
        return (dxpad[:, :, ph:ph + h, pw:pw + w],)


class Fold(Op):
    r"""ypad[n, :, a·sh + i·dh, b·sw + j·dw] += column a·Wo + b of cols, read in (c, i, j) order, for every
    block (a, b); y is ypad without its padding. Backward: column a·Wo + b of dcols is block (a, b)'s window
    of dypad. Fast version: :class:`minidl.ops.sliding_blocks.Fold`."""

    name = "fold"

    def forward(self, cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
        kh, kw = as_pair(self.name, "kernel_size", kernel_size, 1)
        n, c = cols.shape[0], cols.shape[1] // (kh * kw)
        geo = _blocks(self.name, (n, c, *as_pair(self.name, "output_size", output_size, 1)), kernel_size, dilation,
                      padding, stride)
        (ph, pw), (h, w), wo = geo.padding, geo.size, geo.out_hw[1]
        ypad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
        for a, b, rows, columns in _windows(geo.out_hw, geo.kernel, geo.stride, geo.dilation):
            ypad[:, :, rows, columns] += cols[:, :, a * wo + b].reshape(n, c, kh, kw)
        return ypad[:, :, ph:ph + h, pw:pw + w], (geo, cols.shape)

    def backward(self, dout, cache, needs=None):
        geo, cols_shape = cache
        (ph, pw), wo = geo.padding, geo.out_hw[1]
        dypad = _pad(dout, ph, ph, pw, pw)
        dcols = np.zeros(cols_shape, dtype=dout.dtype)
        for a, b, rows, columns in _windows(geo.out_hw, geo.kernel, geo.stride, geo.dilation):
            dcols[:, :, a * wo + b] = dypad[:, :, rows, columns].reshape(cols_shape[0], -1)
        return (dcols,)


# ------------------------------------------------------------------------------------------------ padding
def _pad_source(j: int, size: int, lo: int, hi: int, mode: str) -> int | None:
    """The input index output index j of a padded axis reads (None: the fill value)."""
    u = j - lo  # the position on the original axis
    if mode == "constant":
        return u if 0 <= u < size else None
    if mode == "reflect":
        return -u if u < 0 else 2 * (size - 1) - u if u >= size else u
    if mode == "replicate":
        return min(max(u, 0), size - 1)
    cut = max(-lo, 0)  # circular: crop by the negative paddings, then wrap around what is left
    return cut + (j - max(lo, 0)) % (size - cut - max(-hi, 0))


class Pad(Op):
    r"""y[..., j₁, j₂, …] = x[..., s₁(j₁), s₂(j₂), …], each padded axis mapping its output index to an input
    index by the mode's formula (:func:`_pad_source`), or the fill value for constant padding outside x.
    Backward: dx[..., s(j)] += dy[..., j] for every output index. Fast version: :class:`minidl.ops.padding.Pad`.
    """

    name = "pad"

    def forward(self, x, pad, mode="constant", value=0.0):
        if mode not in PAD_MODES:
            raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
        sizes = pad_sizes(self.name, x.shape, pad)
        lead = x.ndim - len(sizes)
        for k, (lo, hi) in enumerate(sizes):
            _pieces(self.name, x.shape[lead + k], lo, hi, mode, lead + k)  # PyTorch's size checks
        spatial = [(size, lo, hi) for size, (lo, hi) in zip(x.shape[lead:], sizes, strict=True)]
        out = np.full(x.shape[:lead] + tuple(s + lo + hi for s, lo, hi in spatial),
                      np.asarray(value or 0).astype(x.dtype), dtype=x.dtype)
        sources = {}
        for j in np.ndindex(*out.shape[lead:]):
            src = tuple(_pad_source(i, *axis, mode) for i, axis in zip(j, spatial, strict=True))
            if None not in src:
                out[(Ellipsis,) + tuple(j)] = x[(Ellipsis,) + tuple(src)]
                sources[j] = src
        return out, (sources, x.shape)

    def backward(self, dout, cache, needs=None):
        sources, x_shape = cache
        dx = np.zeros(x_shape, dtype=dout.dtype)
        for j, src in sources.items():
            dx[(Ellipsis,) + tuple(src)] += dout[(Ellipsis,) + tuple(j)]
        return (dx,)


# ------------------------------------------------------------------------------------------------ resampling
def _keys(d: float, a: float) -> float:
    """Keys' cubic convolution kernel at distance d."""
    d = abs(d)
    if d < 1:
        return ((a + 2) * d - (a + 3)) * d * d + 1
    return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a if d < 2 else 0.0


def _resample_taps(n_in: int, n_out: int, mode: str, align_corners: bool, scale: float | None, antialias: bool,
                   two_d: bool) -> list[list[tuple[int, float]]]:
    """For each output index of one axis, the (input index, weight) pairs it sums (PyTorch's rules)."""
    if align_corners:
        s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        s = 1.0 / scale if scale else n_in / n_out
    taps = []
    for i in range(n_out):
        if mode == "nearest" and (scale is None or two_d) and n_out in (n_in, 2 * n_in):
            taps.append([(i * n_in // n_out, 1.0)])  # PyTorch's shortcut for a copied or doubled axis
        elif mode in ("nearest", "nearest-exact"):  # in float32, as PyTorch computes it
            pos = np.float32(i) * np.float32(s) if mode == "nearest" else np.float32((i + 0.5) * float(np.float32(s)))
            taps.append([(min(math.floor(pos), n_in - 1), 1.0)])
        elif antialias:
            support, stretch = (1.0 if mode == "bilinear" else 2.0) * max(s, 1.0), max(s, 1.0)
            centre = s * (i + 0.5)
            window = range(max(int(centre - support + 0.5), 0), min(int(centre + support + 0.5), n_in))
            filt = [max(0.0, 1 - abs(d)) if mode == "bilinear" else _keys(d, -0.5)
                    for d in ((j - centre + 0.5) / stretch for j in window)]
            taps.append([(j, f / sum(filt)) for j, f in zip(window, filt, strict=True)])
        elif mode == "bicubic":
            x = s * i if align_corners else s * (i + 0.5) - 0.5
            x0 = math.floor(x)
            taps.append([(min(max(x0 - 1 + k, 0), n_in - 1), _keys(x - x0 + 1 - k, -0.75)) for k in range(4)])
        elif n_in == n_out:  # linear: PyTorch copies an axis whose size does not change
            taps.append([(i, 1.0)])
        else:
            x = s * i if align_corners else max(s * (i + 0.5) - 0.5, 0.0)
            x0 = min(math.floor(x), n_in - 1)
            t = min(max(x - x0, 0.0), 1.0)
            taps.append([(x0, 1 - t), (min(x0 + 1, n_in - 1), t)])
    return taps


class Interpolate(Op):
    r"""Along each resampled axis, last axis first: y[..., i, ...] = Σ_k w_k · x[..., j_k, ...] over the pairs
    (j_k, w_k) of output index i (:func:`_resample_taps`: nearest, linear, cubic and antialiased filters).
    Backward, axis by axis: dx[..., j_k, ...] += w_k · dy[..., i, ...]. Fast version:
    :class:`minidl.ops.resample.Interpolate`.
    """

    name = "interpolate"

    def forward(self, x, size, mode="nearest", align_corners=False, scales=None, antialias=False):
        scales = scales or (None,) * len(size)
        kind = "bilinear" if mode in ("linear", "trilinear") else mode
        axes = []
        for axis, n_out, scale in zip(range(-len(size), 0), size, scales, strict=True):
            n_in = x.shape[axis]
            if antialias and n_in == n_out:
                continue  # an antialiased axis of the same size is left alone
            axes.append((axis, n_in, _resample_taps(n_in, n_out, kind, bool(align_corners), scale, antialias,
                                                    len(size) == 2)))
        out = x
        for axis, _, taps in reversed(axes):
            shape = list(out.shape)
            shape[axis] = len(taps)
            y = np.zeros(shape, dtype=x.dtype)
            for i, pairs in enumerate(taps):
                for j, w in pairs:
                    np.moveaxis(y, axis, 0)[i] += w * np.moveaxis(out, axis, 0)[j]
            out = y
        return out, axes

    def backward(self, dout, cache, needs=None):
        g = dout
        for axis, n_in, taps in cache:
            shape = list(g.shape)
            shape[axis] = n_in
            dx = np.zeros(shape, dtype=g.dtype)
            for i, pairs in enumerate(taps):
                for j, w in pairs:
                    np.moveaxis(dx, axis, 0)[j] += w * np.moveaxis(g, axis, 0)[i]
            g = dx
        return (g,)


# ------------------------------------------------------------------------------------------------ normalisation
def _normalize(v: np.ndarray, eps: float, mean: float | None = None, var: float | None = None) -> tuple:
    """x̂ = (v − μ)/√(σ² + ε) of one group of values, with its mean and biased variance unless given."""
    mu = float(np.mean(v)) if mean is None else mean
    sigma2 = float(np.mean((v - mu) ** 2)) if var is None else var
    return (v - mu) / np.sqrt(sigma2 + eps), mu, sigma2


def _normalize_backward(dxhat: np.ndarray, v: np.ndarray, mean: float, var: float, eps: float) -> np.ndarray:
    """dv of x̂ = (v − μ)/√(σ² + ε) with μ and σ² the group's own statistics, by the chain rule through both:

        dσ² = Σ dx̂ (v − μ) · (−½)(σ² + ε)^(−3/2),   dμ = −Σ dx̂ / √(σ² + ε) + dσ² · Σ −2(v − μ)/M,
        dv = dx̂ / √(σ² + ε) + dσ² · 2(v − μ)/M + dμ / M.
    """
    m = v.size
    dvar = np.sum(dxhat * (v - mean)) * -0.5 * (var + eps) ** -1.5
    dmean = -np.sum(dxhat) / np.sqrt(var + eps) + dvar * np.sum(-2 * (v - mean)) / m
    return dxhat / np.sqrt(var + eps) + dvar * 2 * (v - mean) / m + dmean / m


class BatchNorm(Op):
    r"""Per channel c, over its M = N·H·W values: y = γ_c x̂ + β_c, x̂ = (x − μ_c)/√(σ²_c + ε).

    Training (or without running statistics): μ, σ² are the batch's mean and biased variance, and the running
    buffers move towards them (r_σ² with the unbiased σ² M/(M − 1)). Eval: μ, σ² are the running statistics,
    constants. Backward: the chain rule through x̂ (and, in training, through μ and σ²); dγ = Σ dy x̂,
    dβ = Σ dy. Fast version: :class:`minidl.ops.norm.BatchNorm`.
    """

    name = "batch_norm"

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None, training=False,
                momentum=0.1, eps=1e-5):
        batch_stats = training or running_mean is None
        out, stats = np.zeros_like(x), []
        for c in range(x.shape[1]):
            v = x[:, c]
            if batch_stats:
                xhat, mean, var = _normalize(v, eps)
                if running_mean is not None:
                    running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean
                    running_var[c] = (1 - momentum) * running_var[c] + momentum * var * v.size / (v.size - 1)
            else:
                xhat, mean, var = _normalize(v, eps, running_mean[c], running_var[c])
            out[:, c] = xhat * (1 if weight is None else weight[c]) + (0 if bias is None else bias[c])
            stats.append((xhat, mean, var))
        return out, (x, weight, bias is not None, stats, batch_stats, eps)

    def backward(self, dout, cache, needs=None):
        x, weight, has_bias, stats, batch_stats, eps = cache
        dx = np.zeros_like(x)
        dw = None if weight is None else np.zeros_like(weight)
        db = np.zeros(x.shape[1], dtype=x.dtype) if has_bias else None
        for c, (xhat, mean, var) in enumerate(stats):
            g = dout[:, c]
            dxhat = g * (1 if weight is None else weight[c])
            if batch_stats:
                dx[:, c] = _normalize_backward(dxhat, x[:, c], mean, var, eps)
            else:
                dx[:, c] = dxhat / np.sqrt(var + eps)
            if dw is not None:
                dw[c] = np.sum(g * xhat)
            if db is not None:
                db[c] = np.sum(g)
        return dx, dw, db


class LayerNorm(Op):
    r"""Per sample, over its D trailing values (``normalized_shape``): y = γ ⊙ x̂ + β, x̂ = (x − μ)/√(σ² + ε).

    Backward: the chain rule through x̂, μ and σ² of each sample; dγ = Σ_samples dy ⊙ x̂, dβ = Σ_samples dy.
    Fast version: :class:`minidl.ops.norm.LayerNorm`.
    """

    name = "layer_norm"

    def forward(self, x, weight=None, bias=None, normalized_shape=None, eps=1e-5):
        nshape = (normalized_shape,) if np.isscalar(normalized_shape) else tuple(normalized_shape)
        d = math.prod(nshape)
        rows = x.reshape(-1, d)
        out, stats = np.zeros_like(rows), []
        for r in range(rows.shape[0]):
            xhat, mean, var = _normalize(rows[r], eps)
            out[r] = xhat * (1 if weight is None else weight.reshape(d)) + (0 if bias is None else bias.reshape(d))
            stats.append((xhat, mean, var))
        return out.reshape(x.shape), (rows, weight, bias is not None, stats, eps, nshape)

    def backward(self, dout, cache, needs=None):
        rows, weight, has_bias, stats, eps, nshape = cache
        d = rows.shape[1]
        g = dout.reshape(rows.shape)
        dx = np.zeros_like(rows)
        dw = None if weight is None else np.zeros(d, dtype=rows.dtype)
        db = np.zeros(d, dtype=rows.dtype) if has_bias else None
        for r, (xhat, mean, var) in enumerate(stats):
            dxhat = g[r] * (1 if weight is None else weight.reshape(d))
            dx[r] = _normalize_backward(dxhat, rows[r], mean, var, eps)
            if dw is not None:
                dw += g[r] * xhat
            if db is not None:
                db += g[r]
        return (dx.reshape(dout.shape), None if dw is None else dw.reshape(nshape),
                None if db is None else db.reshape(nshape))


# ------------------------------------------------------------------------------------------------ softmax and loss
def _rows_along(x: np.ndarray, axis: int) -> np.ndarray:
    """x with ``axis`` moved last, as rows (R, C): one row per position, one column per class."""
    return np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])


def _from_rows(rows: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    moved = list(shape)
    moved.append(moved.pop(axis))
    return np.moveaxis(rows.reshape(moved), -1, axis)


def _log_softmax_row(z: np.ndarray) -> np.ndarray:
    """log pⱼ = zⱼ − m − log Σₖ exp(zₖ − m), m = maxₖ zₖ."""
    m = np.max(z)
    return z - m - np.log(np.sum(np.exp(z - m)))


class LogSoftmax(Op):
    r"""yⱼ = xⱼ − log Σₖ exp xₖ along ``dim``, row by row. Backward: dxⱼ = dyⱼ − pⱼ Σₖ dyₖ with p = exp y.
    Fast version: :class:`minidl.ops.activation.LogSoftmax`."""

    name = "log_softmax"

    def forward(self, x, dim):
        axis = dim % x.ndim
        rows = _rows_along(x, axis)
        logp = np.stack([_log_softmax_row(z) for z in rows])
        return _from_rows(logp, x.shape, axis), (logp, x.shape, axis)

    def backward(self, dout, cache, needs=None):
        logp, shape, axis = cache
        g = _rows_along(dout, axis)
        dx = np.stack([g[r] - np.exp(logp[r]) * np.sum(g[r]) for r in range(len(logp))])
        return (_from_rows(dx, shape, axis),)


class SoftmaxCrossEntropy(Op):
    r"""ℓᵢ = −log pᵢ[tᵢ] with pᵢ = softmax(xᵢ) over the class axis (1; 0 for a single sample (C,)), reduced by
    ``reduction`` ('mean' over the samples, 'sum' or 'none'). Backward: dxᵢ = dℓᵢ · (pᵢ − onehot(tᵢ)).
    Fast version: :class:`minidl.ops.loss.CrossEntropy` (its class weights, ``ignore_index`` and label smoothing
    are left out here).
    """

    name = "cross_entropy"

    def forward(self, input, target, reduction="mean"):
        axis = 0 if input.ndim == 1 else 1
        rows, labels = _rows_along(input, axis), np.ravel(target)
        logp = np.stack([_log_softmax_row(z) for z in rows])
        losses = np.array([-logp[i, labels[i]] for i in range(len(labels))], dtype=input.dtype)
        if reduction == "none":
            out = losses.reshape(np.shape(target))
        else:
            out = np.asarray(np.mean(losses) if reduction == "mean" else np.sum(losses), dtype=input.dtype)
        return out, (logp, labels, input.shape, axis, reduction)

    def backward(self, dout, cache, needs=None):
        logp, labels, shape, axis, reduction = cache
        if reduction == "none":
            dloss = np.ravel(dout)
        else:  # dℓᵢ is the same for every sample: 1 for 'sum', 1/N for 'mean'
            dloss = np.full(len(labels), dout / len(labels) if reduction == "mean" else dout)
        dx = np.zeros_like(logp)
        for i in range(len(labels)):
            dx[i] = dloss[i] * np.exp(logp[i])
            dx[i, labels[i]] -= dloss[i]
        return _from_rows(dx, shape, axis), None


# ------------------------------------------------------------------------------------------------ linear
class Linear(Op):
    r"""y[r, o] = b[o] + Σᵢ x[r, i] W[o, i] for every row r of x (…, in). Backward: dx[r] += dy[r, o] W[o],
    dW[o] += dy[r, o] x[r], db[o] += dy[r, o]. Fast version: :class:`minidl.ops.linalg.Linear`."""

    name = "linear"

    def forward(self, x, weight, bias=None):
        rows = x.reshape(-1, weight.shape[1])
        out = np.zeros((rows.shape[0], weight.shape[0]), dtype=x.dtype)
        for r in range(rows.shape[0]):
            for o in range(weight.shape[0]):
                out[r, o] = np.dot(rows[r], weight[o]) + (0 if bias is None else bias[o])
        return out.reshape(*x.shape[:-1], weight.shape[0]), (rows, weight, bias is not None, x.shape)

    def backward(self, dout, cache, needs=None):
        rows, weight, has_bias, x_shape = cache
        g = dout.reshape(rows.shape[0], weight.shape[0])
        dx, dw = np.zeros_like(rows), np.zeros_like(weight)
        db = np.zeros(weight.shape[0], dtype=g.dtype) if has_bias else None
        for r in range(rows.shape[0]):
            for o in range(weight.shape[0]):
                dx[r] += g[r, o] * weight[o]
                dw[o] += g[r, o] * rows[r]
                if has_bias:
                    db[o] += g[r, o]
        return dx.reshape(x_shape), dw, db


conv2d, conv_transpose2d, pad = Conv2d(), ConvTranspose2d(), Pad()
max_pool2d, avg_pool2d, adaptive_max_pool2d, max_unpool2d = MaxPool2d(), AvgPool2d(), AdaptiveMaxPool2d(), MaxUnpool2d()
interpolate, unfold, fold = Interpolate(), Unfold(), Fold()
batch_norm, layer_norm = BatchNorm(), LayerNorm()
log_softmax, softmax_cross_entropy, linear = LogSoftmax(), SoftmaxCrossEntropy(), Linear()
