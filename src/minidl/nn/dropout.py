"""Dropout layers: ``Dropout``, ``Dropout1d``, ``Dropout2d``, ``Dropout3d``, ``AlphaDropout``, ``FeatureAlphaDropout``.

Each zeroes (or, for the alpha kinds, saturates) with probability ``p`` in training mode and is the identity
in eval mode; masks are drawn from minidl's generator (:func:`minidl.manual_seed`). ``inplace=True`` writes
into the input, as PyTorch does.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    """A dropout layer: its function of ``minidl.nn.functional`` applied with ``p``, the mode and ``inplace``."""

    #: the function of minidl.nn.functional, and whether PyTorch's layer passes ``inplace`` on to it
    _function: Any = staticmethod(F.dropout)
    _passes_inplace = True

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return self._function(input, self.p, self.training, self.inplace and self._passes_inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    r"""Inverted dropout: in training y = x·m/(1-p) with m ~ Bernoulli(1-p) drawn from minidl's generator;
    identity in eval mode. ``p`` is the probability of zeroing an element."""

    _function = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    r"""Zero whole channels of (N, C, L) or (C, L) input with probability ``p`` (scaling the rest by 1/(1-p))."""

    _function = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    r"""Zero whole feature maps of (N, C, H, W) input with probability ``p`` (scaling the rest by 1/(1-p))."""

    _function = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    r"""Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""

    _function = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    r"""Dropout for SELU networks: keeps zero mean and unit variance of its input (see ``ops.dropout``)."""

    _function = staticmethod(F.alpha_dropout)
    _passes_inplace = False  # as PyTorch's layer, which ignores it


class FeatureAlphaDropout(_DropoutNd):
    r"""Alpha dropout of whole channels."""

    _function = staticmethod(F.feature_alpha_dropout)
    _passes_inplace = False  # as PyTorch's layer, which ignores it
