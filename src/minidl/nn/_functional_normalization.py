"""Normalisation and regularisation in ``minidl.nn.functional``: group, instance and local response
normalisation, and the dropout family (element, channel-wise 1d/2d/3d, alpha, feature alpha).

Group norm and local response norm run their ops; instance norm is batch norm over the reshaped input
(1, N·C, *spatial), exactly as PyTorch computes it (running statistics included); the dropouts run the one
dropout op with its ``feature``/``alpha`` options. ``inplace=True`` writes into the input as PyTorch does.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import ops
from ..random import default_generator
from ..tensor import Tensor
from ._functional_args import _array, _check_tensor, maybe_inplace

__all__ = [
    "group_norm", "instance_norm", "local_response_norm", "dropout", "dropout1d", "dropout2d", "dropout3d",
    "alpha_dropout", "feature_alpha_dropout",
]  # fmt: skip


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    r"""Normalise each group of C/G channels of each sample, then γ_c·x̂ + β_c per channel."""
    _check_tensor("group_norm", input)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    c = input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    size = [input.shape[0] * c // num_groups, num_groups, *input.shape[2:]]
    if size[0] * math.prod(size[2:]) == 1:  # PyTorch's check, on the shape it hands to batch-norm statistics
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    return ops.group_norm(input, weight, bias, num_groups=int(num_groups), eps=eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    r"""Normalise each channel of each sample over its spatial values: batch norm of (1, N·C, *spatial), with
    γ, β and the running statistics repeated N times; the running statistics are then the mean over the
    N copies (PyTorch's definition)."""
    _check_tensor("instance_norm", input)
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected input of shape (N, C, *spatial), got {tuple(input.shape)}")
    n, c = input.shape[:2]
    if use_input_stats and math.prod(input.shape[2:]) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {list(input.shape)}")
    x = input.reshape(1, n * c, *input.shape[2:])
    w = None if weight is None else ops.tile(weight, reps=(n,))
    b = None if bias is None else ops.tile(bias, reps=(n,))
    stats = [None if s is None else np.tile(_array(s), n) for s in (running_mean, running_var)]
    out = ops.batch_norm(x, w, b, running_mean=stats[0], running_var=stats[1], training=use_input_stats,
                         momentum=momentum, eps=eps)
    for buffer, repeated in zip((running_mean, running_var), stats, strict=True):
        if buffer is not None and repeated is not None:
            buffer._data[...] = repeated.reshape(n, c).mean(axis=0)
    return out.reshape(input.shape)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    r"""x_c / (k + α·mean_{j near c} x_j²)^β over a window of ``size`` channels (AlexNet's normalisation)."""
    _check_tensor("local_response_norm", input)
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    return ops.local_response_norm(input, size=int(size), alpha=float(alpha), beta=float(beta), k=float(k))


# --------------------------------------------------------------------------------------------- dropout
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool = False,
             alpha: bool = False) -> Tensor:
    _check_p(p)
    if not training or p == 0.0:
        return input
    return maybe_inplace(lambda x: ops.dropout(x, p=p, training=True, generator=default_generator(),
                                               feature=feature, alpha=alpha), input, inplace)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted dropout)."""
    _check_tensor("dropout", input)
    return _dropout(input, p, training, inplace)


def _unbatched(fn: Any, input: Tensor, batched: bool, inplace: bool) -> Tensor:
    """``fn`` on the input with a batch dimension of 1 added when it has none (PyTorch's handling of
    channel-wise dropout of one sample)."""
    if batched:
        return fn(input)
    if inplace:  # write through a view of the input, which is then returned
        fn(input.unsqueeze(0))
        return input
    return fn(input.unsqueeze(0)).squeeze(0)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p``, scaling the rest by 1/(1-p)."""
    _check_tensor("dropout1d", input)
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _unbatched(lambda x: _dropout(x, p, training, inplace, feature=True), input, input.ndim == 3, inplace)


def _nd_warning(name: str, ndim: int, dims: tuple[int, int], spatial: int) -> None:
    if ndim not in dims:
        warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in an "
                      f"error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead. Note that {name} exists to provide channel-wise dropout on inputs with "
                      f"{spatial} spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{dims[0]}D or {dims[1]}D inputs).", UserWarning, stacklevel=3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels (feature maps) of (N, C, H, W) input with probability ``p``, scaling the rest by
    1/(1-p). As in PyTorch, 3-D input is taken as (N, C, L), with a warning."""
    _check_tensor("dropout2d", input)
    _check_p(p)
    _nd_warning("dropout2d", input.ndim, (3, 4), 2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", UserWarning, stacklevel=2)
    return _dropout(input, p, training, inplace, feature=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    _check_tensor("dropout3d", input)
    _check_p(p)
    _nd_warning("dropout3d", input.ndim, (4, 5), 3)
    return _unbatched(lambda x: _dropout(x, p, training, inplace, feature=True), input, input.ndim == 5, inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps the mean and variance of SELU activations (dropped values go to SELU's saturation)."""
    _check_tensor("alpha_dropout", input)
    return _dropout(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels."""
    _check_tensor("feature_alpha_dropout", input)
    return _dropout(input, p, training, inplace, feature=True, alpha=True)
