r"""Reference kernels: the math of the layer ops as plain loops, for reading and as the tests' oracle.

The fast ops (:mod:`.conv`, :mod:`.pool`, :mod:`.norm`, :mod:`.loss`, :mod:`.linalg`) choose among memory
layouts, GEMM shapes and fused passes. Each class here computes the same function straight from the formula
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
from .conv import Pair, _check_conv, as_pair, conv_padding, output_hw
from .pool import _pool_geometry

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "layer_norm", "log_softmax",
           "softmax_cross_entropy", "linear"]


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


# ------------------------------------------------------------------------------------------------ normalisation
def _normalize(v: np.ndarray, eps: float, mean: float | None = None, var: float | None = None) -> tuple:
    """x̂ = (v − μ)/√(σ² + ε) of one group of values, with its mean and biased variance unless given."""
    mean = np.mean(v) if mean is None else mean
    var = np.mean((v - mean) ** 2) if var is None else var
    return (v - mean) / np.sqrt(var + eps), mean, var


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


conv2d, max_pool2d, avg_pool2d = Conv2d(), MaxPool2d(), AvgPool2d()
batch_norm, layer_norm = BatchNorm(), LayerNorm()
log_softmax, softmax_cross_entropy, linear = LogSoftmax(), SoftmaxCrossEntropy(), Linear()
