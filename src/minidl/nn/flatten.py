"""``Flatten``."""

from __future__ import annotations

from ..tensor import Tensor
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Merge dims ``start_dim``..``end_dim`` into one: (N, C, H, W) -> (N, C·H·W) by default.

    A reshape (a view, no copy); the functional API has no flatten, so this calls ``Tensor.flatten``, which
    runs the engine's reshape op.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        self._check_tensor(input)
        n = input.ndim
        start = self.start_dim + n if self.start_dim < 0 else self.start_dim
        end = self.end_dim + n if self.end_dim < 0 else self.end_dim
        if not (0 <= start < max(n, 1) and 0 <= end < max(n, 1)) or start > end:
            raise self._input_error(f"input in which dims {self.start_dim}..{self.end_dim} exist, in order", input)
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
