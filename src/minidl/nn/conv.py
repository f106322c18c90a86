"""``Conv2d``."""

from __future__ import annotations

from typing import Any

from ..ops.conv import as_pair, conv_padding
from ..tensor import Tensor
from . import functional as F
from .linear import _default_init_
from .module import Module, _empty_parameter, _factory_dtype

__all__ = ["Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    r"""2-D convolution (cross-correlation) of NCHW input, PyTorch's ``nn.Conv2d``.

    out[n, o] = b[o] + Σ_{c in group(o)} Σ_{i,j} w[o, c, i, j] · x_pad[n, c, s·h + d·i, s·w + d·j].
    Weight (out_channels, in_channels/groups, kh, kw), bias (out_channels,), both initialised
    U(-1/√fan_in, 1/√fan_in) with fan_in = in_channels/groups·kh·kw. Output size per axis:
    ⌊(H + 2p - d(k-1) - 1)/s⌋ + 1. ``padding`` may be an int, a pair, "valid" (0) or "same" (stride 1 only;
    an odd total padding d(k-1) puts the extra row/column at the bottom/right, as PyTorch does); the rule is
    :func:`minidl.ops.conv.conv_padding`, the one ``F.conv2d`` follows. Only ``padding_mode="zeros"`` is
    implemented.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        dt = _factory_dtype(device, dtype)
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode={padding_mode!r} is not implemented, only 'zeros'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = as_pair("Conv2d", "stride", stride, 1)
        self.dilation = as_pair("Conv2d", "dilation", dilation, 1)
        self.groups = groups
        self.padding_mode = padding_mode
        # checked now, resolved by F.conv2d through the same rule; a string stays a string, as in PyTorch
        conv_padding("Conv2d", padding, self.kernel_size, self.stride, self.dilation)
        self.padding: Any = padding if isinstance(padding, str) else as_pair("Conv2d", "padding", padding, 0)
        self.weight = _empty_parameter((out_channels, in_channels // groups, *self.kernel_size), dt)
        if bias:
            self.bias = _empty_parameter((out_channels,), dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _default_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_tensor(input)
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            raise self._input_error(f"4-D input (N, {self.in_channels}, H, W)", input)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
