"""Dropout as a forward/backward pair: inverted dropout of elements or of whole channels, and alpha dropout."""

from __future__ import annotations

import math

from ..backend import xp
from ..random import default_generator
from .activation import check_float
from .base import Op

# λα of SELU: alpha dropout sets dropped values to SELU's negative saturation −λα (PyTorch's constant)
_ALPHA_PRIME = 1.7580993408473766


class Dropout(Op):
    r"""y = x ⊙ m / (1 − p), with mᵢ = [uᵢ ≥ p] for uᵢ ~ U[0, 1) drawn from ``generator``.

    Each element is kept with probability 1 − p and scaled so that E[y] = x (inverted dropout: nothing to
    rescale at test time). dy/dx = m / (1 − p), the cached scaled mask. For p = 1 every mᵢ = 0 and the
    output is 0. ``training=False`` (or p = 0) is the identity.

    * ``feature=True`` draws one m per channel, shape (N, C, 1, …), and drops whole feature maps
      (PyTorch's ``feature_dropout``: ``Dropout1d/2d/3d``).
    * ``alpha=True`` is alpha dropout for self-normalising (SELU) networks: dropped values become
      α' = −λα (SELU's saturation) and an affine correction keeps the mean and variance,
      y = a·(x ⊙ m + α'(1 − m)) + b with a = ((1 − p)(1 + p α'²))^{−½}, b = −a α' p; dy/dx = a·m.

    ``generator`` is a NumPy ``Generator``, by default minidl's global one (see :func:`minidl.manual_seed`).
    """

    name = "dropout"
    saves = ()

    def forward(self, x, p=0.5, training=True, generator=None, feature=False, alpha=False):
        check_float(self.name, x)
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{self.name}: probability has to be between 0 and 1, but got {p}")
        if not training or p == 0.0 or x.size == 0:
            return x, None
        if p == 1.0:
            mask = xp.zeros((), dtype=x.dtype)
            return x * mask, mask
        if feature and x.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape
        gen = default_generator() if generator is None else generator
        keep = gen.random(shape) >= p
        if not alpha:
            mask = xp.multiply(keep, x.dtype.type(1.0 / (1.0 - p)), dtype=x.dtype)
            return x * mask, mask
        a = 1.0 / math.sqrt((_ALPHA_PRIME * _ALPHA_PRIME * p + 1) * (1 - p))
        mask = xp.multiply(keep, x.dtype.type(a), dtype=x.dtype)
        shift = (keep - x.dtype.type(1)) * x.dtype.type(_ALPHA_PRIME * a) + x.dtype.type(_ALPHA_PRIME * a * p)
        return x * mask + shift, mask

    def backward(self, dout, cache, needs=None):
        return (dout if cache is None else dout * cache,)


dropout = Dropout()
