"""``XORNet``: the smallest network that learns XOR (not linearly separable, so it needs a hidden layer)."""

from __future__ import annotations

from collections import OrderedDict

from .. import nn

__all__ = ["XORNet"]


class XORNet(nn.Sequential):
    """linear 2→hidden – tanh – linear hidden→2 (class logits for XOR = 0 / 1).

    Two hidden units suffice in principle; the default of 4 avoids the bad local minima that a 2-unit net
    falls into from some initialisations.
    """

    def __init__(self, hidden_dim: int = 4, in_features: int = 2, num_classes: int = 2) -> None:
        super().__init__(OrderedDict(
            fc1=nn.Linear(in_features, hidden_dim), act=nn.Tanh(), fc2=nn.Linear(hidden_dim, num_classes),
        ))  # fmt: skip
