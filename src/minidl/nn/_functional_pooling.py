"""Pooling in ``minidl.nn.functional`` beyond the 2-D max/average pools: the 1-D pools, adaptive max pooling,
pooling with indices and max unpooling.

The 1-D pools are the 2-D ops on a height-1 input (see :mod:`._functional_conv`): the same kernels, so
``ceil_mode``, ``count_include_pad`` and the tie rules are those of the 2-D pools. ``return_indices`` gives
PyTorch's int64 indices: the flat position (h·W + w, or l in 1-D) of each output's maximum in its plane, the
same argmax that backward routes the gradient to; ``max_unpool`` puts values back at such positions.
"""

from __future__ import annotations

from typing import Any

from .. import ops
from ..errors import ShapeError
from ..ops.conv import as_tuple
from ..tensor import Tensor
from ._functional_conv import batched, lift

__all__ = [
    "max_pool1d", "max_pool1d_with_indices", "max_pool2d_with_indices", "avg_pool1d",
    "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices", "adaptive_avg_pool1d", "max_unpool1d", "max_unpool2d",
]  # fmt: skip


def _stride(value: Any) -> Any:
    """PyTorch's default stride: None (or an empty sequence) means the kernel size."""
    return None if value is None or (isinstance(value, tuple | list) and not value) else value


def _pool1d_args(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1) -> dict:
    """The 2-D op's arguments for a 1-D pool, after the 1-D checks (kernel within the padded input)."""
    kernel = lift(op, "kernel_size", kernel_size, 1, 1)
    pad, dil = lift(op, "padding", padding, 0, 0), lift(op, "dilation", dilation, 1, 1)
    if pad[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {pad[1]} must be at most half of kernel_size {kernel[1]}")
    if x.shape[-1] + 2 * pad[1] < dil[1] * (kernel[1] - 1) + 1:
        raise ShapeError(f"{op}: kernel_size {kernel[1]} (dilation {dil[1]}) is larger than the input of length "
                         f"{x.shape[-1]} padded by {pad[1]} on each side")
    stride = _stride(stride)
    return {"kernel_size": kernel, "stride": None if stride is None else lift(op, "stride", stride, 1, 1),
            "padding": pad, "dilation": dil}


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``max_pool2d`` and the flat index h·W + w of each output's maximum in its (H, W) plane."""
    def run(x: Tensor) -> tuple[Tensor, Tensor]:
        found: list = []
        out = ops.max_pool2d(x, kernel_size=kernel_size, stride=_stride(stride), padding=padding, dilation=dilation,
                             ceil_mode=ceil_mode, indices_out=found)
        return out, Tensor._wrap(found[0])

    return batched("max_pool2d", input, 2, run)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``max_pool1d`` and the index of each output's maximum along L."""
    def run(x: Tensor) -> tuple[Tensor, Tensor]:
        found: list = []
        args = _pool1d_args("max_pool1d", x, kernel_size, stride, padding, dilation)
        out = ops.max_pool2d(x.unsqueeze(2), ceil_mode=ceil_mode, indices_out=found, **args)
        return out.squeeze(2), Tensor._wrap(found[0]).squeeze(2)

    return batched("max_pool1d", input, 1, run)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over windows of (N, C, L) input; ``stride`` defaults to ``kernel_size``; padding counts as -inf."""
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)

    def run(x: Tensor) -> Tensor:
        args = _pool1d_args("max_pool1d", x, kernel_size, stride, padding, dilation)
        return ops.max_pool2d(x.unsqueeze(2), ceil_mode=ceil_mode, **args).squeeze(2)

    return batched("max_pool1d", input, 1, run)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows of (N, C, L) input; ``stride`` defaults to ``kernel_size``."""
    def run(x: Tensor) -> Tensor:
        args = _pool1d_args("avg_pool1d", x, kernel_size, stride, padding)
        del args["dilation"]
        return ops.avg_pool2d(x.unsqueeze(2), ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                              **args).squeeze(2)

    return batched("avg_pool1d", input, 1, run)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool2d`` and the flat index h·W + w of each output's maximum in its plane."""
    def run(x: Tensor) -> tuple[Tensor, Tensor]:
        found: list = []
        out = ops.adaptive_max_pool2d(x, output_size=output_size, indices_out=found)
        return out, Tensor._wrap(found[0])

    return batched("adaptive_max_pool2d", input, 2, run)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed (oh, ow): window a spans rows ⌊a·H/oh⌋ to ⌈(a+1)·H/oh⌉ (columns likewise)."""
    if return_indices:
        return adaptive_max_pool2d_with_indices(input, output_size)
    return batched("adaptive_max_pool2d", input, 2, lambda x: ops.adaptive_max_pool2d(x, output_size=output_size))


def _adaptive_1d(op: str, output_size: Any) -> tuple[int, Any]:
    return 1, as_tuple(op, "output_size", output_size, 1, 1)[0]


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = True) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool1d`` and the index of each output's maximum along L."""
    def run(x: Tensor) -> tuple[Tensor, Tensor]:
        found: list = []
        out = ops.adaptive_max_pool2d(x.unsqueeze(2), output_size=_adaptive_1d("adaptive_max_pool1d", output_size),
                                      indices_out=found)
        return out.squeeze(2), Tensor._wrap(found[0]).squeeze(2)

    return batched("adaptive_max_pool1d", input, 1, run)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, L) input to a fixed length."""
    if return_indices:
        return adaptive_max_pool1d_with_indices(input, output_size)
    size = _adaptive_1d("adaptive_max_pool1d", output_size)
    return batched("adaptive_max_pool1d", input, 1,
                   lambda x: ops.adaptive_max_pool2d(x.unsqueeze(2), output_size=size).squeeze(2))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, L) input to a fixed length."""
    size = _adaptive_1d("adaptive_avg_pool1d", output_size)
    return batched("adaptive_avg_pool1d", input, 1,
                   lambda x: ops.adaptive_avg_pool2d(x.unsqueeze(2), output_size=size).squeeze(2))


def unpool_output_size(op: str, input: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...],
                       padding: tuple[int, ...], output_size: Any) -> tuple[int, ...]:
    """PyTorch's unpooling size: (L − 1)·s + k − 2p per axis by default; a given ``output_size`` (the spatial
    sizes, or with N and C in front) must lie strictly within a stride of that."""
    default = [(input.shape[-len(kernel) + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(len(kernel))]
    if output_size is None:
        return tuple(default)
    size = list(output_size)
    if len(size) == len(kernel) + 2:
        size = size[2:]
    if len(size) != len(kernel):
        raise ValueError(f"{op}: output_size should be a sequence containing {len(kernel)} or {len(kernel) + 2} "
                         f"elements, but it has a length of '{len(size)}'")
    for d, n in enumerate(size):
        if not default[d] - stride[d] < n < default[d] + stride[d]:
            raise ValueError(f'{op}: invalid output_size "{tuple(size)}" (dim {d} must be between '
                             f"{default[d] - stride[d]} and {default[d] + stride[d]})")
    return tuple(int(n) for n in size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Put each value of (N, C, H, W) input at its index (from ``max_pool2d(..., return_indices=True)``) in a
    zero (N, C, H_out, W_out) output: the partial inverse of max pooling."""
    op = "max_unpool2d"
    kernel = as_tuple(op, "kernel_size", kernel_size, 1, 2)
    step = kernel if _stride(stride) is None else as_tuple(op, "stride", stride, 1, 2)
    size = unpool_output_size(op, input, kernel, step, as_tuple(op, "padding", padding, 0, 2), output_size)
    return batched(op, input, 2, lambda x: ops.max_unpool2d(x, _indices(indices, x), output_size=size))


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Put each value of (N, C, L) input at its index in a zero (N, C, L_out) output."""
    op = "max_unpool1d"
    kernel = as_tuple(op, "kernel_size", kernel_size, 1, 1)
    step = kernel if _stride(stride) is None else as_tuple(op, "stride", stride, 1, 1)
    (length,) = unpool_output_size(op, input, kernel, step, as_tuple(op, "padding", padding, 0, 1), output_size)
    return batched(op, input, 1, lambda x: ops.max_unpool2d(x.unsqueeze(2), _indices(indices, x).unsqueeze(2),
                                                            output_size=(1, length)).squeeze(2))


def _indices(indices: Tensor, x: Tensor) -> Tensor:
    """The indices of input ``x``, given a batch axis of one when ``x`` was given one."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"max_unpool: indices must be a minidl.Tensor, got {type(indices).__name__}")
    return indices.unsqueeze(0) if indices.ndim == x.ndim - 1 else indices
