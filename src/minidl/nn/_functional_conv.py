"""Convolutions and sliding blocks in ``minidl.nn.functional``: ``conv1d``, ``conv_transpose1d``,
``conv_transpose2d``, ``unfold``, ``fold``.

The 1-D forms are the 2-D ops on a height-1 input: (N, C, L) is viewed as (N, C, 1, L), the kernel as
(1, k), and every 1-D argument becomes the pair (neutral, value); the result is viewed back. So they share
every kernel (and every speed path) of the 2-D ops; only the argument checks, which must speak of the
1-D shapes the caller gave, are their own. Like PyTorch, each also takes one unbatched sample (C, *spatial).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import ops
from ..errors import ShapeError
from ..ops.conv import as_tuple
from ..tensor import Tensor
from ._functional_args import _check_tensor

__all__ = ["conv1d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]


def batched(name: str, input: Tensor, spatial: int, fn: Callable[[Tensor], Any]) -> Any:
    """``fn`` of ``input`` with a batch axis: (N, C, *spatial) as it is; one sample (C, *spatial) as a batch of
    one, the batch axis dropped again from the result (or from each result of a tuple)."""
    _check_tensor(name, input)
    if input.ndim == spatial + 2:
        return fn(input)
    if input.ndim != spatial + 1:
        raise ShapeError(f"{name}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, got "
                         f"input of shape {tuple(input.shape)}")
    out = fn(input.unsqueeze(0))
    return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)


def lift(op: str, name: str, value: Any, neutral: int, minimum: int) -> Any:
    """A 1-D argument (an int or a 1-sequence) as the pair (neutral, value) of the height-1 2-D op; a padding
    string stays itself."""
    if isinstance(value, str):
        return value
    return neutral, as_tuple(op, name, value, minimum, 1)[0]


def _check_conv1d(name: str, x: Tensor, weight: Tensor, groups: int, transposed: bool, padding: Any = 0,
                  dilation: Any = 1) -> None:
    """PyTorch's complaints about a 1-D convolution's shapes, in its own 1-D terms."""
    if weight.ndim != 3:
        raise ShapeError(f"{name}: expected a 3-D weight, got weight of shape {tuple(weight.shape)}")
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != expected:
        raise ShapeError(f"{name}: given groups={groups}, weight of size {list(weight.shape)}, expected input"
                         f"{list(x.shape)} to have {expected} channels, but got {x.shape[1]} channels instead")
    if transposed or padding == "same":
        return
    padded = x.shape[2] + 2 * (0 if padding == "valid" else lift(name, "padding", padding, 0, 0)[1])
    span = lift(name, "dilation", dilation, 1, 1)[1] * (weight.shape[2] - 1) + 1
    if padded < span:
        raise ShapeError(f"{name}: calculated padded input size per channel: ({padded}). Kernel size: ({span}). "
                         "Kernel size can't be greater than actual input size")


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) of (N, C, L) input with weight (out, C/groups, k); ``padding`` may
    be an int, 'valid' or 'same'."""
    def run(x: Tensor) -> Tensor:
        _check_conv1d("conv1d", x, weight, groups, False, padding, dilation)
        op = "conv1d"
        out = ops.conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, stride=lift(op, "stride", stride, 1, 1),
                         padding=lift(op, "padding", padding, 0, 0), dilation=lift(op, "dilation", dilation, 1, 1),
                         groups=groups)
        return out.squeeze(2)

    return batched("conv1d", input, 1, run)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-D transposed convolution of (N, C_in, H, W) input with weight (C_in, C_out/groups, kh, kw): the
    gradient of ``conv2d`` with respect to its input (see :class:`minidl.ops.conv.ConvTranspose2d`)."""
    return batched("conv_transpose2d", input, 2, lambda x: ops.conv_transpose2d(
        x, weight, bias, stride=stride, padding=padding, output_padding=output_padding, groups=groups,
        dilation=dilation))


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-D transposed convolution of (N, C_in, L) input with weight (C_in, C_out/groups, k)."""
    def run(x: Tensor) -> Tensor:
        _check_conv1d("conv_transpose1d", x, weight, groups, True)
        op = "conv_transpose1d"
        out = ops.conv_transpose2d(x.unsqueeze(2), weight.unsqueeze(2), bias, stride=lift(op, "stride", stride, 1, 1),
                                   padding=lift(op, "padding", padding, 0, 0),
                                   output_padding=lift(op, "output_padding", output_padding, 0, 0), groups=groups,
                                   dilation=lift(op, "dilation", dilation, 1, 1))
        return out.squeeze(2)

    return batched("conv_transpose1d", input, 1, run)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding blocks of (N, C, H, W) input as columns (N, C·kh·kw, L) (im2col)."""
    return batched("unfold", input, 2, lambda x: ops.unfold(x, kernel_size=kernel_size, dilation=dilation,
                                                            padding=padding, stride=stride))


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Columns (N, C·kh·kw, L) summed back into an (N, C, *output_size) image (col2im; unfold's adjoint)."""
    _check_tensor("fold", input)
    if input.ndim not in (2, 3):
        raise ShapeError(f"fold: expected a 2-D (unbatched) or 3-D (batched) input (N, C·kh·kw, L), got input "
                         f"of shape {tuple(input.shape)}")
    cols = input if input.ndim == 3 else input.unsqueeze(0)
    out = ops.fold(cols, output_size=output_size, kernel_size=kernel_size, dilation=dilation, padding=padding,
                   stride=stride)
    return out if input.ndim == 3 else out.squeeze(0)
