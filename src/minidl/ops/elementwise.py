"""Elementwise arithmetic and math, each op a forward/backward pair.

Binary ops broadcast like NumPy. Their backward returns gradients in the output's (broadcast) shape;
the engine sums them back to each input's shape (see :func:`minidl.tensor.unbroadcast`).
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from .base import Op, wants


class Add(Op):
    r"""z = a + b.  dz/da = 1, dz/db = 1."""

    name = "add"

    def forward(self, a, b):
        return a + b, None

    def backward(self, dout, cache, needs=None):
        return dout, dout


class Sub(Op):
    r"""z = a - b.  dz/da = 1, dz/db = -1."""

    name = "sub"

    def forward(self, a, b):
        return a - b, None

    def backward(self, dout, cache, needs=None):
        return dout, (-dout if wants(needs, 1) else None)


class Mul(Op):
    r"""z = a · b.  dz/da = b, dz/db = a."""

    name = "mul"

    def forward(self, a, b):
        return a * b, (a, b)

    def backward(self, dout, cache, needs=None):
        a, b = cache
        return (dout * b if wants(needs, 0) else None), (dout * a if wants(needs, 1) else None)


class Div(Op):
    r"""z = a / b.  dz/da = 1/b, dz/db = -a/b² = -z/b."""

    name = "div"

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

    def forward(self, a):
        return -a, None

    def backward(self, dout, cache, needs=None):
        return (-dout,)


class Exp(Op):
    r"""z = eᵃ.  dz/da = eᵃ = z."""

    name = "exp"

    def forward(self, a):
        out = xp.exp(a)
        return out, out

    def backward(self, dout, cache, needs=None):
        return (dout * cache,)


class Log(Op):
    r"""z = ln a.  dz/da = 1/a."""

    name = "log"

    def forward(self, a):
        return xp.log(a), a

    def backward(self, dout, cache, needs=None):
        return (dout / cache,)


class Sqrt(Op):
    r"""z = √a.  dz/da = 1/(2√a) = 1/(2z)."""

    name = "sqrt"

    def forward(self, a):
        out = xp.sqrt(a)
        return out, out

    def backward(self, dout, cache, needs=None):
        return (dout / (2 * cache),)


class Abs(Op):
    r"""z = |a|.  dz/da = sign(a) (0 at a = 0, as in PyTorch)."""

    name = "abs"

    def forward(self, a):
        return xp.abs(a), a

    def backward(self, dout, cache, needs=None):
        return (dout * xp.sign(cache),)


class Clip(Op):
    r"""z = min(max(a, lo), hi).  dz/da = 1 where lo ≤ a ≤ hi, else 0 (PyTorch's ``clamp``)."""

    name = "clip"

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

    def forward(self, cond, a, b):
        cond = xp.asarray(cond, dtype=bool)
        return xp.where(cond, a, b), cond

    def backward(self, dout, cache, needs=None):
        zero = xp.zeros((), dtype=dout.dtype)
        return None, xp.where(cache, dout, zero), xp.where(cache, zero, dout)


class Cast(Op):
    r"""z = a converted to ``dtype``.  dz/da = 1, cast back to a's dtype."""

    name = "cast"

    def forward(self, a, dtype):
        return a.astype(dtype), a.dtype

    def backward(self, dout, cache, needs=None):
        return (dout.astype(cache),)


class Clone(Op):
    r"""z = copy of a.  dz/da = 1."""

    name = "clone"

    def forward(self, a):
        return a.copy(), None

    def backward(self, dout, cache, needs=None):
        return (dout,)


add, sub, mul, div, pow, pow_scalar = Add(), Sub(), Mul(), Div(), Pow(), PowScalar()
neg, exp, log, sqrt, abs, clip = Neg(), Exp(), Log(), Sqrt(), Abs(), Clip()
maximum, minimum, where, cast, clone = Maximum(), Minimum(), Where(), Cast(), Clone()
