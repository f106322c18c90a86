"""Pooling layers: max, average, adaptive max and adaptive average pooling in 1-D and 2-D, and max unpooling.

Each takes a batched input (N, C, *spatial) or one unbatched sample (C, *spatial), as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from ..ops.conv import as_tuple
from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "MaxUnpool1d", "MaxUnpool2d"]


class _Pool(Module):
    """Input check shared by the pools: (N, C, *spatial) or (C, *spatial)."""

    _dims = 2

    def _check(self, input: Any) -> None:
        self._check_tensor(input)
        n = self._dims
        if input.ndim not in (n + 1, n + 2):
            axes = "H, W" if n == 2 else "L"
            raise self._input_error(f"{n + 2}-D input (N, C, {axes}) or {n + 1}-D input (C, {axes})", input)


class _MaxPoolNd(_Pool):
    """Max pooling: out = max over each window (dilation d), padding counting as -inf; ``stride`` defaults to
    ``kernel_size``. Backward sends each gradient to its window's first maximum; ``return_indices`` also
    returns where that maximum is (the flat index in its plane), for ``MaxUnpool``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        self._check(input)
        pool = F.max_pool2d if self._dims == 2 else F.max_pool1d
        return pool(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                    return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    r"""out[n, c, l] = max_k x_pad[n, c, s·l + d·k] over (N, C, L) input, PyTorch's ``nn.MaxPool1d``."""

    _dims = 1


class MaxPool2d(_MaxPoolNd):
    r"""out[n, c, h, w] = max over the window at (s·h - p, s·w - p) of size k (dilation d), padding = -∞,
    PyTorch's ``nn.MaxPool2d``."""

    _dims = 2


class AvgPool1d(_Pool):
    r"""out[n, c, l] = (1/D) Σ over the window of (N, C, L) input; D = the window size (with the padding if
    ``count_include_pad``). Arguments are kept as 1-tuples, as in PyTorch."""

    _dims = 1

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = as_tuple("AvgPool1d", "kernel_size", kernel_size, 1, 1)
        self.stride = as_tuple("AvgPool1d", "stride", stride if stride is not None else kernel_size, 1, 1)
        self.padding = as_tuple("AvgPool1d", "padding", padding, 0, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_Pool):
    r"""out[n, c, h, w] = (1/D) Σ over the window; D = window size (with padding if ``count_include_pad``),
    or ``divisor_override``. ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(_Pool):
    """Pooling to a fixed output size: window a spans ⌊a·L/o⌋ to ⌈(a+1)·L/o⌉ along each axis."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        self._check(input)
        pool = F.adaptive_max_pool2d if self._dims == 2 else F.adaptive_max_pool1d
        return pool(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    r"""Max pooling of (N, C, L) input to length ``output_size``, PyTorch's ``nn.AdaptiveMaxPool1d``."""

    _dims = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    r"""Max pooling to (oh, ow) = ``output_size`` (an int, or a pair whose None keeps that input size),
    PyTorch's ``nn.AdaptiveMaxPool2d``."""

    _dims = 2


class _AdaptiveAvgPool(_AdaptivePool):
    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        pool = F.adaptive_avg_pool2d if self._dims == 2 else F.adaptive_avg_pool1d
        return pool(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    r"""Average pooling of (N, C, L) input to length ``output_size``, PyTorch's ``nn.AdaptiveAvgPool1d``."""

    _dims = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    r"""Average pooling to a fixed (oh, ow): window i spans ⌊i·H/oh⌋ to ⌈(i+1)·H/oh⌉ (likewise for W)."""

    _dims = 2


class _MaxUnpool(_Pool):
    """The partial inverse of max pooling: ``forward(input, indices, output_size=None)`` puts each value at
    its index (from the max pool's ``return_indices``) in a zero output, of the default size
    (L − 1)·s + k − 2p per axis unless ``output_size`` says otherwise."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        name, n = type(self).__name__, self._dims
        self.kernel_size = as_tuple(name, "kernel_size", kernel_size, 1, n)
        self.stride = as_tuple(name, "stride", stride if stride is not None else kernel_size, 1, n)
        self.padding = as_tuple(name, "padding", padding, 0, n)

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        self._check(input)
        unpool = F.max_unpool2d if self._dims == 2 else F.max_unpool1d
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    r"""Max unpooling of (N, C, L) input, PyTorch's ``nn.MaxUnpool1d``."""

    _dims = 1


class MaxUnpool2d(_MaxUnpool):
    r"""Max unpooling of (N, C, H, W) input, PyTorch's ``nn.MaxUnpool2d``."""

    _dims = 2
