"""Activations and the softmax family, each op a forward/backward pair.

Every op here keeps its input's dtype, is free of overflow warnings for any finite input, and avoids
``np.where`` on data-dependent masks (branch-free forms are several times faster, see perf notes).

The stable building blocks :func:`stable_sigmoid` and :func:`log_softmax_array` are shared with the fused
losses in :mod:`minidl.ops.loss`, so the numerics live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import xp
from ..errors import DTypeError
from . import special
from .base import Op, wants
from .elementwise import Unary


def check_float(name: str, a: np.ndarray, what: str = "input") -> None:
    """Raise a TypeError naming the op unless ``a`` holds floating-point numbers."""
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        kind = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
        raise DTypeError(f"{name}: expected a floating-point array as {what}, got {kind}")


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
    if not -n <= dim < n:  # PyTorch's IndexError and wording
        raise IndexError(f"{name}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got "
                         f"{dim})")
    return int(dim) % n


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """x − max(x) along ``axis``: every entry ≤ 0, so exp cannot overflow.

    The subtraction itself overflows only when the spread of x exceeds the dtype's range; the result is then
    −inf, whose exp is the correct 0, so that overflow is silenced.
    """
    if x.shape[axis] == 0:  # nothing to normalise over (a max of nothing has no value)
        return x.copy()
    with np.errstate(over="ignore", invalid="ignore"):  # invalid: inf − inf = NaN, as in PyTorch
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
    if classes == 0:
        return x.copy()
    if classes > _CLASS_MAJOR_MAX_CLASSES or x.size < _CLASS_MAJOR_MIN_ROWS * classes:
        z = _shifted(x, axis)
        z -= xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
        return z
    z = xp.moveaxis(x, axis, 0).copy()  # contiguous, classes outermost
    with np.errstate(over="ignore", invalid="ignore"):  # as in _shifted
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
    The same math row by row: :class:`minidl.ops.reference.LogSoftmax`.
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


# --------------------------------------------------------------------------------------------- the table
# Elementwise activations as rows of one table, each the function next to its derivative (the ops are
# :class:`Activation` instances, ``ops.activations[name]``). Every f(x, **params) and dy/dx = grad(x, y,
# **params) below is finite and warning-free for any finite x: exponentials are only taken of arguments
# that cannot overflow, or their overflow is the exact limit and is selected away by ``where``.

_SQRT_HALF = float(np.sqrt(0.5))
_INV_SQRT_2PI = float(1 / np.sqrt(2 * np.pi))
_GELU_K = float(np.sqrt(2 / np.pi))  # tanh approximation: Φ(x) ≈ (1 + tanh(k(x + c x³)))/2 = σ(2k(x + c x³))
_GELU_C = 0.044715
_GELU_SATURATED = 1e5  # past this |x|, σ(2u)(1 − σ(2u)) is exactly 0: keep x³ finite in the derivative


# SELU's constants (Klambauer et al. 2017), as PyTorch spells them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x) = erfc(−x/√2)/2, accurate in both tails (1 + erf(x/√2) would cancel for x ≪ 0)."""
    return special.erfc(x * -_SQRT_HALF) * 0.5


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        return x * stable_sigmoid(_gelu_tanh_arg(x))
    return x * _normal_cdf(x)


def _gelu_tanh_arg(x):
    """2u, u = k(x + c x³): (1 + tanh u)/2 = σ(2u), which unlike 1 + tanh u does not cancel for x ≪ 0."""
    return (2 * _GELU_K) * (x + _GELU_C * x * x * x)


def _gelu_grad(x, y, approximate="none"):
    if approximate == "tanh":
        # d/dx x·σ(2u) = σ(2u) + x·2σ(2u)(1 − σ(2u))·k(1 + 3c x²); past |x| = 1e5 the second term is 0
        s = stable_sigmoid(_gelu_tanh_arg(x))
        xc = xp.clip(x, -_GELU_SATURATED, _GELU_SATURATED)
        return s + xc * (2 * _GELU_K) * s * (1 - s) * (1 + 3 * _GELU_C * xc * xc)
    return _normal_cdf(x) + x * (_INV_SQRT_2PI * xp.exp(-0.5 * x * x))


def _elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    # branch-free: max(x, 0) is 0 and min(x, 0) is x exactly where x ≤ 0, and e^0 − 1 = 0 where x > 0
    out = xp.expm1(xp.minimum(x, 0) * input_scale)
    out *= scale * alpha
    out += xp.maximum(x, 0) * scale
    return out


def _elu_grad(x, y, alpha=1.0, scale=1.0, input_scale=1.0):
    pos = x > 0
    g = xp.exp(xp.minimum(x, 0) * input_scale)
    g *= scale * alpha * input_scale
    g *= ~pos
    g += pos * x.dtype.type(scale)
    return g


def _softplus(x, beta=1.0, threshold=20.0):
    bx = x * beta
    return xp.where(bx > threshold, x, (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta)


def _softplus_grad(x, y, beta=1.0, threshold=20.0):
    bx = x * beta
    return xp.where(bx > threshold, 1, stable_sigmoid(bx))


def _mish_grad(x, y):
    t = xp.tanh(_softplus(x))
    return t + x * stable_sigmoid(x) * (1 - t * t)


def _hardswish_grad(x, y):
    # 0 below −3, x/3 + 1/2 on [−3, 3] (both ends included, as in PyTorch), 1 above: mask arithmetic
    g = x / 3 + 0.5
    g *= (x >= -3) & (x <= 3)
    g += x > 3
    return g


#: name: (f(x, **params), dy/dx = grad(x, y, **params), what backward needs: 0 = the input, -1 = the output)
ACTIVATIONS: dict[str, tuple[Callable[..., Any], Callable[..., Any], tuple[int, ...]]] = {
    # GELU: x·Φ(x) (Φ the standard normal CDF), or its tanh approximation; dy/dx = Φ(x) + x·φ(x)
    "gelu": (_gelu, _gelu_grad, (0,)),
    # ELU family (PyTorch's elu(x; α, scale, input_scale)): scale·x for x > 0, else scale·α·(e^{input_scale·x} − 1);
    # SELU is α, scale = the SELU constants, CELU is input_scale = 1/α
    "elu": (_elu, _elu_grad, (0,)),
    # SiLU: x·σ(x);  dy/dx = σ(x)·(1 + x·(1 − σ(x)))
    "silu": (lambda x: x * stable_sigmoid(x),
             lambda x, y: (lambda s: s * (1 + x * (1 - s)))(stable_sigmoid(x)), (0,)),
    # Mish: x·tanh(softplus(x));  dy/dx = tanh(sp) + x·σ(x)·(1 − tanh²(sp))
    "mish": (lambda x: x * xp.tanh(_softplus(x)), _mish_grad, (0,)),
    # softplus: log(1 + e^{βx})/β, or x where βx > threshold;  dy/dx = σ(βx) (1 past the threshold)
    "softplus": (_softplus, _softplus_grad, (0,)),
    # softsign: x / (1 + |x|);  dy/dx = 1 / (1 + |x|)²
    "softsign": (lambda x: x / (1 + xp.abs(x)), lambda x, y: 1 / ((1 + xp.abs(x)) * (1 + xp.abs(x))), (0,)),
    # hardtanh: clamp(x, min_val, max_val);  dy/dx = 1 strictly inside (0 at the ends, as in PyTorch)
    "hardtanh": (lambda x, min_val=-1.0, max_val=1.0: xp.clip(x, min_val, max_val),
                 lambda x, y, min_val=-1.0, max_val=1.0: (x > min_val) & (x < max_val), (0,)),
    # hardswish: x·relu6(x + 3)/6;  dy/dx = 0 below −3, x/3 + 1/2 up to 3, then 1
    "hardswish": (lambda x: x * (xp.clip(x + 3, 0, 6) / 6), _hardswish_grad, (0,)),
    # hardsigmoid: relu6(x + 3)/6;  dy/dx = 1/6 strictly inside (−3, 3)
    "hardsigmoid": (lambda x: xp.clip(x + 3, 0, 6) / 6, lambda x, y: ((x > -3) & (x < 3)) * x.dtype.type(1 / 6),
                    (0,)),
    # log σ(x) = min(x, 0) − log(1 + e^{−|x|});  dy/dx = 1 − σ(x) = σ(−x)
    "logsigmoid": (lambda x: xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x))), lambda x, y: stable_sigmoid(-x), (0,)),
    # threshold: x where x > threshold, else value;  dy/dx = [x > threshold]
    "threshold": (lambda x, threshold, value: xp.where(x > threshold, x, value),
                  lambda x, y, threshold, value: x > threshold, (0,)),
}  # fmt: skip


class Activation(Unary):
    """One row of :data:`ACTIVATIONS`: a :class:`~minidl.ops.elementwise.Unary` op for floating inputs whose
    output and gradient keep the input's dtype."""

    def forward(self, x, **params):
        check_float(self.name, x)
        out, cache = super().forward(x, **params)
        return xp.asarray(out, dtype=x.dtype), cache

    def backward(self, dout, cache, needs=None):
        (dx,) = super().backward(dout, cache, needs)
        return (xp.asarray(dx, dtype=dout.dtype),)


activations = {name: Activation(name, f, g, saves) for name, (f, g, saves) in ACTIVATIONS.items()}


class PReLU(Op):
    r"""y = max(x, 0) + w·min(x, 0) with a learnt slope w per channel (axis 1; one slope for all when w has
    one element).  dy/dx = 1 for x > 0, else w;  dy/dw = Σ min(x, 0)·dout over all axes but the channel."""

    name = "prelu"
    saves = (0, 1)

    def forward(self, x, weight):
        check_float(self.name, x)
        w = weight.astype(x.dtype, copy=False)
        if w.size != 1:
            channels = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else 1)
            if w.ndim != 1 or w.size != channels:
                raise ValueError(f"{self.name}: weight has {w.size} elements but the input of shape {x.shape} "
                                 f"has {channels} channels (expected 1 or {channels} elements)")
            axis = 1 if x.ndim >= 2 else 0
            w = w.reshape([-1 if i == axis else 1 for i in range(x.ndim)])
        else:
            w = w.reshape(())
        neg = xp.minimum(x, 0)
        return xp.maximum(x, 0) + w * neg, (x, w, weight.shape)

    def backward(self, dout, cache, needs=None):
        x, w, wshape = cache
        pos = x > 0
        dx = xp.where(pos, dout, w * dout) if wants(needs, 0) else None
        dw = None
        if wants(needs, 1):
            contrib = xp.where(pos, 0, x * dout)
            axes = tuple(i for i in range(x.ndim) if w.ndim == 0 or w.shape[i] == 1)
            dw = contrib.sum(axis=axes).reshape(wshape).astype(dout.dtype, copy=False)
        return dx, dw


prelu = PReLU()
