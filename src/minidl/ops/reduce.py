"""Reductions over axes: sum, mean, max, min."""

from __future__ import annotations

import numpy as np

from ..backend import xp
from .base import Op


def _keep(dout: np.ndarray, shape: tuple[int, ...], axis, keepdims: bool) -> np.ndarray:
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if keepdims or axis is None:
        return dout.reshape([1] * len(shape)) if axis is None and not keepdims else dout
    axes = (axis,) if np.isscalar(axis) else axis
    return xp.expand_dims(dout, tuple(a % len(shape) for a in axes))


def _count(shape: tuple[int, ...], axis) -> int:
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if np.isscalar(axis) else axis
    return int(np.prod([shape[a] for a in axes]))


class Sum(Op):
    r"""z = Σ_axis a.  dz/da = 1: the upstream gradient is broadcast back over the summed axes."""

    name = "sum"

    def forward(self, a, axis=None, keepdims=False):
        return xp.sum(a, axis=axis, keepdims=keepdims), (a.shape, axis, keepdims)

    def backward(self, dout, cache, needs=None):
        shape, axis, keepdims = cache
        return (xp.broadcast_to(_keep(dout, shape, axis, keepdims), shape),)


class Mean(Op):
    r"""z = (1/n) Σ_axis a over n reduced elements.  dz/da = 1/n everywhere."""

    name = "mean"

    def forward(self, a, axis=None, keepdims=False):
        return xp.mean(a, axis=axis, keepdims=keepdims), (a.shape, axis, keepdims)

    def backward(self, dout, cache, needs=None):
        shape, axis, keepdims = cache
        g = _keep(dout, shape, axis, keepdims) / _count(shape, axis)
        return (xp.broadcast_to(g, shape),)


class AMax(Op):
    r"""z = max_axis a.  dz/da = 1/k on each of the k elements equal to the max, else 0 (PyTorch's amax)."""

    name = "amax"
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


sum, mean, amax, amin = Sum(), Mean(), AMax(), AMin()
