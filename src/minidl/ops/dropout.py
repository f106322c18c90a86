"""Inverted dropout as a forward/backward pair."""

from __future__ import annotations

from ..backend import xp
from ..random import default_generator
from .activation import check_float
from .base import Op


class Dropout(Op):
    r"""y = x ⊙ m / (1 − p), with mᵢ = [uᵢ ≥ p] for uᵢ ~ U[0, 1) drawn from ``generator``.

    Each element is kept with probability 1 − p and scaled so that E[y] = x (inverted dropout: nothing to
    rescale at test time). dy/dx = m / (1 − p), the cached scaled mask. For p = 1 every mᵢ = 0 and the
    scale is taken as 0 (no division by zero). ``training=False`` (or p = 0) is the identity.
    ``generator`` is a NumPy ``Generator``, by default minidl's global one (see :func:`minidl.manual_seed`).
    """

    name = "dropout"
    saves = ()

    def forward(self, x, p=0.5, training=True, generator=None):
        check_float(self.name, x)
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{self.name}: probability has to be between 0 and 1, but got {p}")
        if not training or p == 0.0:
            return x, None
        gen = default_generator() if generator is None else generator
        scale = x.dtype.type(0.0 if p == 1.0 else 1.0 / (1.0 - p))
        mask = xp.multiply(gen.random(x.shape) >= p, scale, dtype=x.dtype)
        return x * mask, mask

    def backward(self, dout, cache, needs=None):
        return (dout if cache is None else dout * cache,)


dropout = Dropout()
