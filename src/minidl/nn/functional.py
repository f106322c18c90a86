"""``minidl.nn.functional`` (``import minidl.nn.functional as F``): PyTorch's functional API.

Each function checks and normalises its arguments, then runs exactly one op from :mod:`minidl.ops`
through the autograd engine. There is no math here: it lives with the ops, as forward/backward pairs.
"""

from __future__ import annotations

from typing import Any

from .. import ops
from ..errors import DTypeError
from ..tensor import Tensor
from ._functional_args import _array, _check_reduction, _check_tensor, legacy_reduction, maybe_inplace
from ._functional_loss import _check_size
from ._functional_pooling import max_pool2d_with_indices

__all__ = [
    "linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "layer_norm",
    "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "cross_entropy",
    "nll_loss", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "relu_", "leaky_relu_",
]  # fmt: skip

def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, weight of shape (out_features, in_features). Input, weight and bias share one dtype, as
    PyTorch requires (a float64 or integer input to a float32 layer is an error, not a silent cast)."""
    _check_tensor("linear", input)
    dts = [t.dtype for t in (input, weight, bias) if isinstance(t, Tensor)]
    if any(d != dts[0] for d in dts):
        raise DTypeError(f"linear: mat1 and mat2 must have the same dtype, but got {', '.join(map(str, dts))} "
                         "(input, weight, bias); convert the input, e.g. x.float(), or the layer, e.g. .double()")
    return ops.linear(input, weight, bias)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) on NCHW input, weight (out, in/groups, kh, kw)."""
    _check_tensor("conv2d", input)
    if input.ndim == 3:  # one unbatched sample (C, H, W), as PyTorch allows
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    return ops.conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over kernel windows; ``stride`` defaults to ``kernel_size``; padding counts as -inf. With
    ``return_indices`` also the flat index h·W + w of each maximum (see ``max_pool2d_with_indices``)."""
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    _check_tensor("max_pool2d", input)
    if input.ndim == 3:
        return max_pool2d(input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode).squeeze(0)
    return ops.max_pool2d(input, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                          ceil_mode=ceil_mode)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over kernel windows; ``stride`` defaults to ``kernel_size``."""
    _check_tensor("avg_pool2d", input)
    if input.ndim == 3:
        return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override).squeeze(0)
    return ops.avg_pool2d(input, kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
                          count_include_pad=count_include_pad, divisor_override=divisor_override)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed output size (PyTorch's window bounds: floor(i·H/o) to ceil((i+1)·H/o))."""
    _check_tensor("adaptive_avg_pool2d", input)
    if input.ndim == 3:
        return adaptive_avg_pool2d(input.unsqueeze(0), output_size).squeeze(0)
    return ops.adaptive_avg_pool2d(input, output_size=output_size)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over all axes but 1 (channels). In training the running stats update in place."""
    _check_tensor("batch_norm", input)
    return ops.batch_norm(input, weight, bias, running_mean=_array(running_mean), running_var=_array(running_var),
                          training=training, momentum=momentum, eps=eps)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` axes of each sample."""
    _check_tensor("layer_norm", input)
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    return ops.layer_norm(input, weight, bias, normalized_shape=tuple(normalized_shape), eps=eps)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); ``inplace=True`` writes it into ``input`` (see ``maybe_inplace``)."""
    _check_tensor("relu", input)
    return maybe_inplace(ops.relu, input, inplace)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope·x otherwise."""
    _check_tensor("leaky_relu", input)
    return maybe_inplace(lambda x: ops.leaky_relu(x, negative_slope=negative_slope), input, inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def sigmoid(input: Tensor) -> Tensor:
    return ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return ops.tanh(input)


def softmax(input: Tensor, dim: int) -> Tensor:
    return ops.softmax(input, dim=dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return ops.log_softmax(input, dim=dim)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C, ...) against class indices (N, ...), fused and stable."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_tensor("cross_entropy", input)
    _check_reduction("cross_entropy", reduction)
    # class-probability targets are differentiable (as in PyTorch); class indices are not
    probs = isinstance(target, Tensor) and target._data.dtype.kind == "f"
    return ops.cross_entropy(input, target if probs else _array(target), weight=_array(weight),
                             ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C, ...) against class indices (N, ...)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_tensor("nll_loss", input)
    _check_reduction("nll_loss", reduction)
    return ops.nll_loss(input, _array(target), weight=_array(weight), ignore_index=ignore_index,
                        reduction=reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error (x - y)² (times ``weight``; 'mean' then divides by Σ weight, as PyTorch)."""
    _check_size(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_tensor("mse_loss", input)
    _check_reduction("mse_loss", reduction)
    if weight is None:
        return ops.mse_loss(input, target, reduction=reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    losses = ops.mul(ops.mse_loss(input, target, reduction="none"), weight)
    if reduction == "none":
        return losses
    return ops.sum(losses) if reduction == "sum" else ops.div(ops.sum(losses), ops.sum(weight))


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """-(y log p + (1-y) log(1-p)) on probabilities p, with logs clamped at -100 like PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_tensor("binary_cross_entropy", input)
    _check_reduction("binary_cross_entropy", reduction)
    return ops.binary_cross_entropy(input, target, weight=_array(weight), reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op on logits."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_tensor("binary_cross_entropy_with_logits", input)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    return ops.binary_cross_entropy_with_logits(input, target, weight=_array(weight),
                                                pos_weight=_array(pos_weight), reduction=reduction)


# the families kept in their own modules (their functions are part of this namespace)
from ._functional_activation import *  # noqa: E402, F403
from ._functional_activation import __all__ as _activation_all  # noqa: E402
from ._functional_attention import *  # noqa: E402, F403
from ._functional_attention import __all__ as _attention_all  # noqa: E402
from ._functional_conv import *  # noqa: E402, F403
from ._functional_conv import __all__ as _conv_all  # noqa: E402
from ._functional_loss import *  # noqa: E402, F403
from ._functional_loss import __all__ as _loss_all  # noqa: E402
from ._functional_normalization import *  # noqa: E402, F403
from ._functional_normalization import __all__ as _normalization_all  # noqa: E402
from ._functional_pooling import *  # noqa: E402, F403
from ._functional_pooling import __all__ as _pooling_all  # noqa: E402
from ._functional_sparse import *  # noqa: E402, F403
from ._functional_sparse import __all__ as _sparse_all  # noqa: E402
from ._functional_vision import *  # noqa: E402, F403
from ._functional_vision import __all__ as _vision_all  # noqa: E402

__all__ += (_activation_all + _attention_all + _loss_all + _normalization_all + _sparse_all + _conv_all + _pooling_all
            + _vision_all)
