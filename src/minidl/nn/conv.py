"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``."""

from __future__ import annotations

from typing import Any

from ..ops.conv import as_tuple, conv_padding
from ..tensor import Tensor
from . import functional as F
from .linear import _default_init_
from .module import Module, _empty_parameter, _factory_dtype

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    r"""What the convolution layers share: arguments as per-dim tuples, parameters, initialisation, repr.

    Weight (out_channels, in_channels/groups, *kernel) for a convolution, (in_channels, out_channels/groups,
    *kernel) for a transposed one; weight and bias ~ U(-1/√fan_in, 1/√fan_in) with fan_in = weight.shape[1]·∏
    kernel (PyTorch's default, for both kinds).
    """

    _dims = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, groups: int, bias: bool, padding_mode: str, output_padding: Any = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name, n = type(self).__name__, self._dims
        dt = _factory_dtype(device, dtype)
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_tuple(name, "kernel_size", kernel_size, 1, n)
        self.stride = as_tuple(name, "stride", stride, 1, n)
        self.dilation = as_tuple(name, "dilation", dilation, 1, n)
        self.output_padding = as_tuple(name, "output_padding", output_padding, 0, n)
        self.groups = groups
        self.transposed = self._transposed
        self.padding_mode = padding_mode
        if isinstance(padding, str):  # checked now by the rule F.conv* resolves it with; a string stays a string
            if self._transposed:
                raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
            conv_padding(name, padding, (1,) * (2 - n) + self.kernel_size, (1,) * (2 - n) + self.stride,
                         (1,) * (2 - n) + self.dilation)
            self.padding: Any = padding
        else:
            self.padding = as_tuple(name, "padding", padding, 0, n)
        # F.pad's (last_lo, last_hi, ...) for the non-zero padding modes: 'same' puts the odd one at the end
        totals = [0 if self.padding == "valid" else d * (k - 1) for d, k in zip(self.dilation, self.kernel_size,
                                                                                strict=True)]
        pads = ([(t // 2, t - t // 2) for t in totals] if isinstance(self.padding, str) else
                [(p, p) for p in self.padding])
        self._reversed_padding_repeated_twice = [v for pair in reversed(pads) for v in pair]
        shape = ((in_channels, out_channels // groups) if self._transposed else
                 (out_channels, in_channels // groups))
        self.weight = _empty_parameter((*shape, *self.kernel_size), dt)
        if bias:
            self.bias = _empty_parameter((out_channels,), dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _default_init_(self.weight, self.bias)

    def _check_input(self, input: Any) -> None:
        """(N, C_in, *spatial) or one unbatched sample (C_in, *spatial), with C_in the layer's in_channels."""
        self._check_tensor(input)
        n = self._dims
        if input.ndim not in (n + 1, n + 2) or input.shape[-n - 1] != self.in_channels:
            spatial = "H, W" if n == 2 else "L"
            raise self._input_error(f"{n + 2}-D input (N, {self.in_channels}, {spatial}) or {n + 1}-D input "
                                    f"({self.in_channels}, {spatial})", input)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """A convolution: ``padding_mode`` other than 'zeros' pads with :func:`F.pad` first, then convolves
    without padding (PyTorch's order)."""

    _functional: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        conv = type(self)._functional
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_Conv):
    r"""1-D convolution (cross-correlation) of (N, C_in, L) input, PyTorch's ``nn.Conv1d``.

    out[n, o, l] = b[o] + Σ_{c in group(o)} Σ_k w[o, c, k] · x_pad[n, c, s·l + d·k]; L_out =
    ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1. ``padding``: an int, "valid" or "same" (stride 1); ``padding_mode``:
    zeros, reflect, replicate or circular. Runs as the 2-D convolution of a height-1 image.
    """

    _dims = 1
    _functional = staticmethod(F.conv1d)


class Conv2d(_Conv):
    r"""2-D convolution (cross-correlation) of NCHW input, PyTorch's ``nn.Conv2d``.

    out[n, o] = b[o] + Σ_{c in group(o)} Σ_{i,j} w[o, c, i, j] · x_pad[n, c, s·h + d·i, s·w + d·j].
    Weight (out_channels, in_channels/groups, kh, kw), bias (out_channels,), both initialised
    U(-1/√fan_in, 1/√fan_in) with fan_in = in_channels/groups·kh·kw. Output size per axis:
    ⌊(H + 2p - d(k-1) - 1)/s⌋ + 1. ``padding`` may be an int, a pair, "valid" (0) or "same" (stride 1 only;
    an odd total padding d(k-1) puts the extra row/column at the bottom/right, as PyTorch does); the rule is
    :func:`minidl.ops.conv.conv_padding`, the one ``F.conv2d`` follows. ``padding_mode``: zeros, reflect,
    replicate or circular (the input is padded by :func:`F.pad` first, as in PyTorch).
    """

    _dims = 2
    _functional = staticmethod(F.conv2d)


class _ConvTranspose(_ConvNd):
    """A transposed convolution: ``forward(input, output_size=None)`` picks the output_padding that gives
    ``output_size`` (PyTorch's rule)."""

    _transposed = True
    _functional: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        self._check_input(input)
        extra = self._output_padding(input, output_size)
        return type(self)._functional(input, self.weight, self.bias, self.stride, self.padding, extra, self.groups,
                                      self.dilation)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """``output_padding``, or the one giving ``output_size`` (the spatial sizes, maybe with N and C in
        front): within stride − 1 of the smallest size (L − 1)·s − 2p + d(k − 1) + 1."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        lead = 2 if input.ndim == n + 2 else 1
        size = list(output_size)
        if len(size) == lead + n:
            size = size[lead:]
        if len(size) != n:
            raise ValueError(f"{type(self).__name__}: for {input.ndim}D input, output_size must have {n} or "
                             f"{lead + n} elements (got {len(output_size)})")
        smallest = [(input.shape[lead + d] - 1) * self.stride[d] - 2 * self.padding[d]
                    + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        largest = [m + s - 1 for m, s in zip(smallest, self.stride, strict=True)]
        if any(not lo <= v <= hi for v, lo, hi in zip(size, smallest, largest, strict=True)):
            raise ValueError(f"{type(self).__name__}: requested an output size of {list(size)}, but valid sizes range "
                             f"from {smallest} to {largest} (for an input of {list(input.shape[lead:])})")
        return tuple(v - m for v, m in zip(size, smallest, strict=True))


class ConvTranspose1d(_ConvTranspose):
    r"""1-D transposed convolution of (N, C_in, L) input, PyTorch's ``nn.ConvTranspose1d``: the gradient of a
    Conv1d with respect to its input. Weight (in_channels, out_channels/groups, k); L_out =
    (L − 1)·s − 2p + d(k − 1) + output_padding + 1."""

    _dims = 1
    _functional = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    r"""2-D transposed convolution of NCHW input, PyTorch's ``nn.ConvTranspose2d``: the gradient of a Conv2d
    with respect to its input, so each input pixel scatters its kernel, weighted, into the output.

    Weight (in_channels, out_channels/groups, kh, kw); H_out = (H − 1)·s − 2p + d(kh − 1) + output_padding + 1
    (W likewise), output_padding < stride or dilation. ``forward(input, output_size)`` chooses the
    output_padding that gives ``output_size``. See :class:`minidl.ops.conv.ConvTranspose2d`.
    """

    _dims = 2
    _functional = staticmethod(F.conv_transpose2d)
