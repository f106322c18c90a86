"""``Fold`` and ``Unfold``: sliding blocks to columns (im2col) and back (col2im), over ``F.unfold``/``F.fold``."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = ["Fold", "Unfold"]


class _SlidingBlocks(Module):
    """The block geometry both layers keep: kernel_size, dilation, padding, stride (ints or pairs)."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Unfold(_SlidingBlocks):
    r"""(N, C, H, W) -> (N, C·kh·kw, L): each of the L sliding blocks (kernel_size, dilation, padding, stride)
    as a column, entries in (c, i, j) order."""

    def forward(self, input: Tensor) -> Tensor:
        self._check_tensor(input)
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)


class Fold(_SlidingBlocks):
    r"""(N, C·kh·kw, L) -> (N, C, *output_size): the columns summed back onto the pixels of their blocks
    (the adjoint of ``Unfold``)."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        self._check_tensor(input)
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, {super().extra_repr()}"
