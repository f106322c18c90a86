"""Activations and the softmax family, each op a forward/backward pair.

Every op here keeps its input's dtype, is free of overflow warnings for any finite input, and avoids
``np.where`` on data-dependent masks (branch-free forms are several times faster, see perf notes).

The stable building blocks :func:`stable_sigmoid` and :func:`log_softmax_array` are shared with the fused
losses in :mod:`minidl.ops.loss`, so the numerics live in one place.
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from .base import Op


def check_float(name: str, a: np.ndarray, what: str = "input") -> None:
    """Raise a TypeError naming the op unless ``a`` holds floating-point numbers."""
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        kind = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
        raise TypeError(f"{name}: expected a floating-point array as {what}, got {kind}")


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    r"""σ(x) = 1 / (1 + e⁻ˣ), exact in both tails and without warnings.

    For x ≪ 0, e⁻ˣ overflows to +inf and 1/(1 + inf) = 0 is the correctly rounded limit, so the overflow is
    silenced rather than avoided. This is the plain formula PyTorch evaluates, and it measures ~1.8x faster
    than the branch-free exp(-|x|) form and ~10x faster than ``np.where`` on random signs. It stays accurate
    for large negative x (1/(1 + e⁴⁰) ≈ 4.2e-18 with full relative precision), unlike 0.5·(1 + tanh(x/2)).
    """
    with np.errstate(over="ignore"):
        e = xp.exp(-x)
    e += 1
    return xp.reciprocal(e, out=e)


def _axis(name: str, ndim: int, dim: int) -> int:
    """Normalise PyTorch's ``dim`` (negative allowed) to a non-negative axis, or raise naming the op."""
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)  # a 0-d tensor accepts dim 0 / -1, as in PyTorch
    if not -n <= dim < n:
        raise ValueError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dims "
                         f"(expected {-n} <= dim < {n})")
    return int(dim) % n


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """x − max(x) along ``axis``: every entry ≤ 0, so exp cannot overflow.

    The subtraction itself overflows only when the spread of x exceeds the dtype's range; the result is then
    −inf, whose exp is the correct 0, so that overflow is silenced.
    """
    with np.errstate(over="ignore"):
        return x - x.max(axis=axis, keepdims=True)


# Classes along a short axis of a larger array (logits (N, 10)) are reduced faster outermost: NumPy reduces a
# short inner axis row by row, an outer one with long vectorised loops. Measured log-softmax of (256, 10)
# 34 -> 19 µs, (1000, 10) 96 -> 24 µs; below ~128 rows, or over many classes, the copy does not pay.
_CLASS_MAJOR_MAX_CLASSES = 128
_CLASS_MAJOR_MIN_ROWS = 128


def log_softmax_array(x: np.ndarray, axis: int) -> np.ndarray:
    r"""log softmax(x)ᵢ = (xᵢ − m) − log Σⱼ exp(xⱼ − m), m = maxⱼ xⱼ (the sum is ≥ 1, so the log is safe).

    A new array; for few classes over many rows it is stored class-major (see _CLASS_MAJOR_MAX_CLASSES).
    """
    classes = x.shape[axis]
    if classes > _CLASS_MAJOR_MAX_CLASSES or x.size < _CLASS_MAJOR_MIN_ROWS * classes:
        z = _shifted(x, axis)
        z -= xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
        return z
    z = xp.moveaxis(x, axis, 0).copy()  # contiguous, classes outermost
    with np.errstate(over="ignore"):  # as in _shifted
        z -= z.max(axis=0)
    z -= xp.log(xp.exp(z).sum(axis=0))
    return xp.moveaxis(z, 0, axis)


class ReLU(Op):
    r"""y = max(x, 0).  dy/dx = 1 where x > 0, else 0 (0 at x = 0, as in PyTorch).

    The cache is the output: y > 0 exactly where x > 0, and the gradient is dout · [y > 0] by mask
    arithmetic (a bool mask times a float array keeps the float dtype).
    """

    name = "relu"
    saves = (-1,)

    def forward(self, x):
        out = xp.maximum(x, 0)
        return out, out

    def backward(self, dout, cache, needs=None):
        return (dout * (cache > 0),)


class LeakyReLU(Op):
    r"""y = x for x > 0, a·x otherwise (a = ``negative_slope``).  dy/dx = 1 for x > 0, a otherwise.

    Branch-free forward: x − a·x = (1 − a)·x has the sign of x when a < 1, so y = max(x, a·x) for every
    a ≤ 1 (negative slopes included), and y = min(x, a·x) when a > 1. The gradient a + (1 − a)·[x > 0] is
    mask arithmetic (PyTorch's convention: the slope a at x = 0).
    """

    name = "leaky_relu"
    saves = (0,)

    def forward(self, x, negative_slope=0.01):
        check_float(self.name, x)
        a = float(negative_slope)
        out = x * x.dtype.type(a)  # then max/min in place: two passes, one allocation
        (xp.maximum if a <= 1 else xp.minimum)(out, x, out=out)
        return out, (x, a)

    def backward(self, dout, cache, needs=None):
        x, a = cache
        t = x.dtype.type
        slope = (x > 0) * t(1 - a)  # scalars typed so that bool * scalar stays in x's dtype
        slope += t(a)
        slope *= dout  # in place: the slope array becomes dx
        return (slope,)


class Sigmoid(Op):
    r"""y = σ(x) = 1 / (1 + e⁻ˣ).  dy/dx = σ(x)(1 − σ(x)) = y(1 − y).

    Evaluated by :func:`stable_sigmoid`: finite, warning-free and accurate at x = ±1000.
    """

    name = "sigmoid"
    saves = (-1,)

    def forward(self, x):
        check_float(self.name, x)
        out = stable_sigmoid(x)
        return out, out

    def backward(self, dout, cache, needs=None):
        dx = 1 - cache
        dx *= cache
        dx *= dout
        return (dx,)


class Tanh(Op):
    r"""y = tanh x.  dy/dx = 1 − tanh² x = 1 − y²."""

    name = "tanh"
    saves = (-1,)

    def forward(self, x):
        check_float(self.name, x)
        out = xp.tanh(x)
        return out, out

    def backward(self, dout, cache, needs=None):
        dx = cache * cache
        xp.subtract(1, dx, out=dx)
        dx *= dout
        return (dx,)


class Softmax(Op):
    r"""yᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m) along ``dim``, with m = maxⱼ xⱼ (the shift cancels, exp ≤ 1).

    Jacobian ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ), so dx = y ⊙ (dout − Σⱼ doutⱼ yⱼ).
    """

    name = "softmax"
    saves = (-1,)

    def forward(self, x, dim):
        check_float(self.name, x)
        axis = _axis(self.name, x.ndim, dim)
        xr = x.reshape(1) if x.ndim == 0 else x
        e = xp.exp(_shifted(xr, axis))
        e /= e.sum(axis=axis, keepdims=True)
        return e.reshape(x.shape), (e, axis)

    def backward(self, dout, cache, needs=None):
        y, axis = cache
        d = dout.reshape(y.shape)
        dx = d - (d * y).sum(axis=axis, keepdims=True)
        dx *= y
        return (dx.reshape(dout.shape),)


class LogSoftmax(Op):
    r"""yᵢ = xᵢ − m − log Σⱼ exp(xⱼ − m) along ``dim`` (m = maxⱼ xⱼ; no overflow, no log 0).

    ∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ, so dx = dout − exp(y) Σᵢ doutᵢ.
    """

    name = "log_softmax"
    saves = (-1,)

    def forward(self, x, dim):
        check_float(self.name, x)
        axis = _axis(self.name, x.ndim, dim)
        out = log_softmax_array(x.reshape(1) if x.ndim == 0 else x, axis)
        return out.reshape(x.shape), (out, axis)

    def backward(self, dout, cache, needs=None):
        y, axis = cache
        d = dout.reshape(y.shape)
        dx = xp.exp(y)
        dx *= d.sum(axis=axis, keepdims=True)
        return ((d - dx).reshape(dout.shape),)


relu, leaky_relu, sigmoid, tanh = ReLU(), LeakyReLU(), Sigmoid(), Tanh()
softmax, log_softmax = Softmax(), LogSoftmax()
