"""Elementwise arithmetic and math, each op a forward/backward pair.

Binary ops broadcast like NumPy. Their backward returns gradients in the output's (broadcast) shape;
the engine sums them back to each input's shape (see :func:`minidl.tensor.unbroadcast`).
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from . import special
from .base import Op, wants


class Add(Op):
    r"""z = a + b.  dz/da = 1, dz/db = 1."""

    name = "add"
    saves = ()

    def forward(self, a, b):
        return a + b, None

    def backward(self, dout, cache, needs=None):
        return dout, dout


class Sub(Op):
    r"""z = a - b.  dz/da = 1, dz/db = -1."""

    name = "sub"
    saves = ()

    def forward(self, a, b):
        return a - b, None

    def backward(self, dout, cache, needs=None):
        return dout, (-dout if wants(needs, 1) else None)


class Mul(Op):
    r"""z = a · b.  dz/da = b, dz/db = a."""

    name = "mul"
    saves = (0, 1)

    def forward(self, a, b):
        return a * b, (a, b)

    def backward(self, dout, cache, needs=None):
        a, b = cache
        return (dout * b if wants(needs, 0) else None), (dout * a if wants(needs, 1) else None)


class Div(Op):
    r"""z = a / b.  dz/da = 1/b, dz/db = -a/b² = -z/b."""

    name = "div"
    saves = (1, -1)

    def forward(self, a, b):
        out = a / b
        return out, (b, out)

    def backward(self, dout, cache, needs=None):
        b, out = cache
        da = dout / b
        return (da if wants(needs, 0) else None), (-da * out if wants(needs, 1) else None)


class Pow(Op):
    r"""z = a ** b (both tensors).  dz/da = b·a^(b-1), dz/db = z·ln a (defined for a > 0)."""

    name = "pow"
    saves = (0, 1, -1)

    def forward(self, a, b):
        out = a**b
        return out, (a, b, out)

    def backward(self, dout, cache, needs=None):
        a, b, out = cache
        da = dout * b * a ** (b - 1) if wants(needs, 0) else None
        db = None
        if wants(needs, 1):
            with np.errstate(divide="ignore", invalid="ignore"):
                db = dout * out * xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), 0)
        return da, db


class PowScalar(Op):
    r"""z = a ** p for a constant exponent p.  dz/da = p·a^(p-1)."""

    name = "pow_scalar"
    saves = (0,)

    def forward(self, a, exponent):
        return a**exponent, (a, exponent)

    def backward(self, dout, cache, needs=None):
        a, p = cache
        if p == 2:
            return (dout * 2 * a,)
        return (dout * p * a ** (p - 1),)


class Neg(Op):
    r"""z = -a.  dz/da = -1."""

    name = "neg"
    saves = ()

    def forward(self, a):
        return -a, None

    def backward(self, dout, cache, needs=None):
        return (-dout,)


class Exp(Op):
    r"""z = eᵃ.  dz/da = eᵃ = z."""

    name = "exp"
    saves = (-1,)

    def forward(self, a):
        with np.errstate(over="ignore"):  # e^a past the dtype's range is inf, as in PyTorch
            out = xp.exp(a)
        return out, out

    def backward(self, dout, cache, needs=None):
        return (dout * cache,)


class Log(Op):
    r"""z = ln a.  dz/da = 1/a."""

    name = "log"
    saves = (0,)

    def forward(self, a):
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf, log(-1) = nan, as in PyTorch
            return xp.log(a), a

    def backward(self, dout, cache, needs=None):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (dout / cache,)


class Sqrt(Op):
    r"""z = √a.  dz/da = 1/(2√a) = 1/(2z)."""

    name = "sqrt"
    saves = (-1,)

    def forward(self, a):
        with np.errstate(invalid="ignore"):  # sqrt(-1) = nan, as in PyTorch
            out = xp.sqrt(a)
        return out, out

    def backward(self, dout, cache, needs=None):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (dout / (2 * cache),)


class Abs(Op):
    r"""z = |a|.  dz/da = sign(a) (0 at a = 0, as in PyTorch)."""

    name = "abs"
    saves = (0,)

    def forward(self, a):
        return xp.abs(a), a

    def backward(self, dout, cache, needs=None):
        return (dout * xp.sign(cache),)


class Clip(Op):
    r"""z = min(max(a, lo), hi).  dz/da = 1 where lo ≤ a ≤ hi, else 0 (PyTorch's ``clamp``)."""

    name = "clip"
    saves = (0,)

    def forward(self, a, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clip needs at least one of min and max")
        return xp.clip(a, min, max), (a, min, max)

    def backward(self, dout, cache, needs=None):
        a, lo, hi = cache
        mask = xp.ones(a.shape, dtype=bool)
        if lo is not None:
            mask &= a >= lo
        if hi is not None:
            mask &= a <= hi
        return (dout * mask,)


class Maximum(Op):
    r"""z = max(a, b) elementwise.  The gradient goes to the larger input; ties split it in half (PyTorch)."""

    name = "maximum"
    saves = (0, 1)
    _pick = staticmethod(xp.maximum)
    _wins = staticmethod(xp.greater)

    def forward(self, a, b):
        return self._pick(a, b), (a, b)

    def backward(self, dout, cache, needs=None):
        a, b = cache
        share = (self._wins(a, b) + 0.5 * (a == b)).astype(dout.dtype)
        return dout * share, dout * (1 - share)


class Minimum(Maximum):
    r"""z = min(a, b) elementwise.  The gradient goes to the smaller input; ties split it in half."""

    name = "minimum"
    _pick = staticmethod(xp.minimum)
    _wins = staticmethod(xp.less)


class Where(Op):
    r"""z = a where cond else b.  dz/da = cond, dz/db = ¬cond; ``cond`` gets no gradient."""

    name = "where"
    saves = (0,)

    def forward(self, cond, a, b):
        cond = xp.asarray(cond, dtype=bool)
        return xp.where(cond, a, b), cond

    def backward(self, dout, cache, needs=None):
        zero = xp.zeros((), dtype=dout.dtype)
        return None, xp.where(cache, dout, zero), xp.where(cache, zero, dout)


class Cast(Op):
    r"""z = a converted to ``dtype``.  dz/da = 1, cast back to a's dtype."""

    name = "cast"
    saves = ()

    def forward(self, a, dtype):
        return a.astype(dtype), a.dtype

    def backward(self, dout, cache, needs=None):
        return (dout.astype(cache),)


class Clone(Op):
    r"""z = copy of a.  dz/da = 1."""

    name = "clone"
    saves = ()

    def forward(self, a):
        return a.copy(), None

    def backward(self, dout, cache, needs=None):
        return (dout,)


add, sub, mul, div, pow, pow_scalar = Add(), Sub(), Mul(), Div(), Pow(), PowScalar()
neg, exp, log, sqrt, abs, clip = Neg(), Exp(), Log(), Sqrt(), Abs(), Clip()
maximum, minimum, where, cast, clone = Maximum(), Minimum(), Where(), Cast(), Clone()


class Unary(Op):
    r"""z = f(a) elementwise, for one row of a derivative table such as :data:`UNARY`: f and dz/da next to
    each other.

    ``grad(a, z)`` gives dz/da from the input and/or the output (the ``saves`` of the row say which the
    cache keeps). Keyword parameters of the op (``round``'s ``decimals``, an activation's ``alpha``) go to
    both ``f`` and ``grad``. Functions that are piecewise constant (floor, sign, ...) have ``grad=None``: zero
    gradient, as in PyTorch. Warnings for values outside the domain are silenced: like PyTorch, log(-1) is nan.
    """

    def __init__(self, name: str, f, grad, saves: tuple[int, ...]) -> None:
        self.name, self._f, self._grad, self.saves = name, f, grad, saves

    def forward(self, a, **params):
        with np.errstate(all="ignore"):
            out = self._f(a, **params) if params else self._f(a)
        keep_in = 0 in self.saves
        keep_out = -1 in self.saves
        return out, ((a if keep_in else None), (out if keep_out else None), a.shape, params)

    def backward(self, dout, cache, needs=None):
        a, out, shape, params = cache
        if self._grad is None:
            return (xp.zeros(shape, dtype=dout.dtype),)
        with np.errstate(all="ignore"):
            return (dout * (self._grad(a, out, **params) if params else self._grad(a, out)),)


_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))
_TWO_OVER_SQRT_PI = 2 / float(np.sqrt(np.pi))  # erf'(x) = (2/√π)·e^{−x²}

#: name: (f, dz/da as a function of (a, z), what backward needs: 0 = the input, -1 = the output)
UNARY = {
    "log1p": (xp.log1p, lambda a, z: 1 / (1 + a), (0,)),
    "expm1": (xp.expm1, lambda a, z: z + 1, (-1,)),
    "log2": (xp.log2, lambda a, z: 1 / (a * _LN2), (0,)),
    "log10": (xp.log10, lambda a, z: 1 / (a * _LN10), (0,)),
    "exp2": (xp.exp2, lambda a, z: z * _LN2, (-1,)),
    "sin": (xp.sin, lambda a, z: xp.cos(a), (0,)),
    "cos": (xp.cos, lambda a, z: -xp.sin(a), (0,)),
    "tan": (xp.tan, lambda a, z: 1 + z * z, (-1,)),
    "asin": (xp.arcsin, lambda a, z: 1 / xp.sqrt(1 - a * a), (0,)),
    "acos": (xp.arccos, lambda a, z: -1 / xp.sqrt(1 - a * a), (0,)),
    "atan": (xp.arctan, lambda a, z: 1 / (1 + a * a), (0,)),
    "sinh": (xp.sinh, lambda a, z: xp.cosh(a), (0,)),
    "cosh": (xp.cosh, lambda a, z: xp.sinh(a), (0,)),
    "rsqrt": (lambda a: 1 / xp.sqrt(a), lambda a, z: -0.5 * z * z * z, (-1,)),
    "reciprocal": (xp.reciprocal, lambda a, z: -z * z, (-1,)),
    "square": (xp.square, lambda a, z: 2 * a, (0,)),
    "floor": (xp.floor, None, ()),
    "ceil": (xp.ceil, None, ()),
    "trunc": (xp.trunc, None, ()),
    "round": (lambda a, decimals=0: xp.round(a, decimals), None, ()),
    "sign": (xp.sign, None, ()),
    "frac": (lambda a: a - xp.trunc(a), lambda a, z: 1, ()),
    "erf": (special.erf, lambda a, z: _TWO_OVER_SQRT_PI * xp.exp(-a * a), (0,)),
    "erfc": (special.erfc, lambda a, z: -_TWO_OVER_SQRT_PI * xp.exp(-a * a), (0,)),
}
unary = {name: Unary(name, f, g, saves) for name, (f, g, saves) in UNARY.items()}
