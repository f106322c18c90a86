"""Reductions over axes: sum, mean, max, min."""

from __future__ import annotations

import warnings

import numpy as np

from ..backend import xp
from .base import Op


def _axes(axis: int | tuple[int, ...]) -> tuple[int, ...]:
    return (axis,) if isinstance(axis, int | np.integer) else tuple(axis)


def _keep(dout: np.ndarray, shape: tuple[int, ...], axis: int | tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if keepdims or axis is None:
        return dout.reshape([1] * len(shape)) if axis is None and not keepdims else dout
    return xp.expand_dims(dout, tuple(int(a) % len(shape) for a in _axes(axis)))


def _count(shape: tuple[int, ...], axis: int | tuple[int, ...] | None) -> int:
    if axis is None:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in _axes(axis)], dtype=np.int64))


class Sum(Op):
    r"""z = Σ_axis a.  dz/da = 1: the upstream gradient is broadcast back over the summed axes."""

    name = "sum"
    saves = ()

    def forward(self, a, axis=None, keepdims=False):
        return xp.sum(a, axis=axis, keepdims=keepdims), (a.shape, axis, keepdims)

    def backward(self, dout, cache, needs=None):
        shape, axis, keepdims = cache
        return (xp.broadcast_to(_keep(dout, shape, axis, keepdims), shape),)


class Mean(Op):
    r"""z = (1/n) Σ_axis a over n reduced elements.  dz/da = 1/n everywhere."""

    name = "mean"
    saves = ()

    def forward(self, a, axis=None, keepdims=False):
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of nothing is NaN, as in PyTorch
            return xp.mean(a, axis=axis, keepdims=keepdims), (a.shape, axis, keepdims)

    def backward(self, dout, cache, needs=None):
        shape, axis, keepdims = cache
        g = _keep(dout, shape, axis, keepdims) / _count(shape, axis)
        return (xp.broadcast_to(g, shape),)


class AMax(Op):
    r"""z = max_axis a.  dz/da = 1/k on each of the k elements equal to the max, else 0 (PyTorch's amax)."""

    name = "amax"
    saves = (0, -1)
    _reduce = staticmethod(xp.max)

    def forward(self, a, axis=None, keepdims=False):
        out = self._reduce(a, axis=axis, keepdims=keepdims)
        return out, (a, out, axis, keepdims)

    def backward(self, dout, cache, needs=None):
        a, out, axis, keepdims = cache
        hit = a == _keep(out, a.shape, axis, keepdims)
        ties = xp.sum(hit, axis=axis, keepdims=True)
        return (hit * (_keep(dout, a.shape, axis, keepdims) / ties),)


class AMin(AMax):
    r"""z = min_axis a.  Gradient shared equally among the elements equal to the min."""

    name = "amin"
    _reduce = staticmethod(xp.min)


class Prod(Op):
    r"""z = Π_axis a.  dz/daᵢ = Π_{j≠i} aⱼ: z/aᵢ where aᵢ ≠ 0; where aᵢ = 0 it is the product of the other
    elements if aᵢ is the slice's only zero, else 0 (no division by zero)."""

    name = "prod"
    saves = (0, -1)

    def forward(self, a, axis=None, keepdims=False):
        out = xp.prod(a, axis=axis, keepdims=keepdims)
        return out, (a, out, axis, keepdims)

    def backward(self, dout, cache, needs=None):
        a, out, axis, keepdims = cache
        d = _keep(dout, a.shape, axis, keepdims)
        zero = a == 0
        if not zero.any():
            return (d * (_keep(out, a.shape, axis, keepdims) / a),)
        zeros = xp.sum(zero, axis=axis, keepdims=True)
        others = xp.prod(xp.where(zero, 1, a), axis=axis, keepdims=True)  # product of the non-zero elements
        with np.errstate(divide="ignore", invalid="ignore"):
            g = xp.where(zero, (zeros == 1) * others, (zeros == 0) * others / xp.where(zero, 1, a))
        return (d * g.astype(a.dtype, copy=False),)


class LogSumExp(Op):
    r"""z = log Σ_axis exp(a) = m + log Σ exp(a − m), m = max a (no overflow).  dz/da = exp(a − z) (softmax)."""

    name = "logsumexp"
    saves = (0, -1)

    def forward(self, a, axis=None, keepdims=False):
        m = xp.max(a, axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) slices: shift by 0
        with np.errstate(divide="ignore", over="ignore"):
            out = xp.log(xp.sum(xp.exp(a - m), axis=axis, keepdims=True)) + m
        res = out if keepdims else (out.reshape(()) if axis is None else xp.squeeze(out, axis=axis))
        return res, (a, out, axis, keepdims)

    def backward(self, dout, cache, needs=None):
        a, out, axis, keepdims = cache
        with np.errstate(invalid="ignore", over="ignore"):
            return (_keep(dout, a.shape, axis, keepdims) * xp.exp(a - out),)


class CumSum(Op):
    r"""zᵢ = Σ_{j≤i} aⱼ along ``axis``.  dL/daⱼ = Σ_{i≥j} dL/dzᵢ: a cumulative sum from the end."""

    name = "cumsum"
    saves = ()

    def forward(self, a, axis):
        return xp.cumsum(a, axis=axis), axis

    def backward(self, dout, cache, needs=None):
        axis = cache
        return (xp.flip(xp.cumsum(xp.flip(dout, axis), axis=axis), axis),)


class CumProd(Op):
    r"""zᵢ = Π_{j≤i} aⱼ along ``axis``.  dL/daⱼ = Σ_{i≥j} dL/dzᵢ · zᵢ / aⱼ, computed without dividing when a
    slice holds zeros (then per position j: the products with aⱼ replaced by 1)."""

    name = "cumprod"
    saves = (0, -1)

    def forward(self, a, axis):
        out = xp.cumprod(a, axis=axis)
        return out, (a, out, axis)

    def backward(self, dout, cache, needs=None):
        a, out, axis = cache
        if not (a == 0).any():
            rev = xp.flip(xp.cumsum(xp.flip(dout * out, axis), axis=axis), axis)
            return (rev / a,)
        am = xp.moveaxis(a, axis, -1)
        dm = xp.moveaxis(dout, axis, -1)
        g = xp.empty_like(am)
        for j in range(am.shape[-1]):
            without = am.copy()
            without[..., j] = 1
            partial = xp.cumprod(without, axis=-1)
            g[..., j] = (dm[..., j:] * partial[..., j:]).sum(axis=-1)
        return (xp.moveaxis(g, -1, axis),)


class Norm(Op):
    r"""z = (Σ |a|ᵖ)^(1/p) over ``axis`` (p = inf: max |a|, p = 0: the count of non-zeros).

    dz/da = sign(a)·|a|^(p−1) / z^(p−1); for p = 2 that is a / z, taken as 0 where z = 0 (PyTorch's
    subgradient); for p = inf the gradient is shared by the elements equal to the max; p = 0 has none.
    """

    name = "norm"
    saves = (0, -1)

    def forward(self, a, p=2.0, axis=None, keepdims=False):
        absa = xp.abs(a)
        if p == 2:
            out = xp.sqrt(xp.sum(a * a, axis=axis, keepdims=keepdims))
        elif p == 1:
            out = xp.sum(absa, axis=axis, keepdims=keepdims)
        elif p == float("inf"):
            out = xp.max(absa, axis=axis, keepdims=keepdims)
        elif p == float("-inf"):
            out = xp.min(absa, axis=axis, keepdims=keepdims)
        elif p == 0:
            out = xp.sum(absa != 0, axis=axis, keepdims=keepdims).astype(a.dtype)
        else:
            with np.errstate(over="ignore", divide="ignore"):
                out = xp.sum(absa**p, axis=axis, keepdims=keepdims) ** (1.0 / p)
        return out, (a, out, float(p), axis, keepdims)

    def backward(self, dout, cache, needs=None):
        a, out, p, axis, keepdims = cache
        d = _keep(dout, a.shape, axis, keepdims)
        z = _keep(out, a.shape, axis, keepdims)
        if p == 0:
            return (xp.zeros_like(a),)
        if p == 1:
            return (d * xp.sign(a),)
        if p in (float("inf"), float("-inf")):
            hit = xp.abs(a) == z
            return (d * xp.sign(a) * hit / xp.sum(hit, axis=axis, keepdims=True),)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                g = a / z
            else:
                g = xp.sign(a) * xp.abs(a) ** (p - 1) / z ** (p - 1)
        return (d * xp.where(z == 0, 0, g),)


sum, mean, amax, amin = Sum(), Mean(), AMax(), AMin()
prod, logsumexp, cumsum, cumprod, norm = Prod(), LogSumExp(), CumSum(), CumProd(), Norm()
