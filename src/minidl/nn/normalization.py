"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``, ``GroupNorm``, ``InstanceNorm1d``,
``InstanceNorm2d``, ``InstanceNorm3d``, ``LocalResponseNorm``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..backend import xp
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, _empty_parameter, _factory_dtype

__all__ = ["BatchNorm1d", "BatchNorm2d", "SyncBatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm"]


def _affine_parameters(module: Module, shape: tuple[int, ...], dtype: np.dtype, affine: bool, bias: bool) -> None:
    """Register ``weight`` (and ``bias`` unless ``bias=False``) of ``shape``, or ``None`` for both without
    ``affine``; :func:`_reset_affine` gives them their initial values (PyTorch's ones and zeros)."""
    module.register_parameter("weight", _empty_parameter(shape, dtype) if affine else None)
    module.register_parameter("bias", _empty_parameter(shape, dtype) if affine and bias else None)


def _reset_affine(module: Module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    r"""y = (x - μ) / √(σ² + eps) · γ + β per channel (axis 1), PyTorch's batch norm.

    Training: μ, σ² are the batch statistics over every axis but 1 (σ² biased); the buffers are updated in
    place, running = (1 - m)·running + m·stat with the unbiased batch variance for ``running_var``, and
    ``num_batches_tracked`` (int64) counts the updates. ``momentum=None`` means a cumulative average:
    m = 1/num_batches_tracked. Evaluation: μ, σ² are the running buffers (batch statistics when
    ``track_running_stats=False``). γ = 1, β = 0 initially.
    """

    _expected_ndims: tuple[int, ...] = ()
    _expected_text = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        dt = _factory_dtype(device, dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, (num_features,), dt, affine, bias)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(xp.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor._wrap(xp.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(xp.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        self._check_tensor(input)
        if input.ndim not in self._expected_ndims or input.shape[1] != self.num_features:
            raise self._input_error(self._expected_text.format(C=self.num_features), input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        # batch statistics in training, and in eval when there are no running statistics to use
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_buffers = not self.training or self.track_running_stats
        return self._batch_norm(input, self.running_mean if keep_buffers else None,
                                self.running_var if keep_buffers else None, use_batch_stats, factor)

    def _batch_norm(self, input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                    use_batch_stats: bool, factor: float) -> Tensor:
        return F.batch_norm(input, running_mean, running_var, self.weight, self.bias, use_batch_stats, factor,
                            self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) input (statistics over N, or over N and L)."""

    _expected_ndims = (2, 3)
    _expected_text = "2-D or 3-D input (N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) input (statistics over N, H, W per channel)."""

    _expected_ndims = (4,)
    _expected_text = "4-D input (N, {C}, H, W)"


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics span every rank of a data-parallel job
    (:class:`minidl.ops.norm.SyncBatchNorm` has the math): N ranks with B samples each normalise exactly as
    one process with N·B would. Outside a multi-rank job, and in eval mode, it is :class:`BatchNorm2d`
    (of any input with a channel axis 1). :meth:`convert_sync_batchnorm` swaps a model's batch norms for it.
    """

    _expected_ndims = (2, 3, 4, 5)
    _expected_text = "input (N, {C}, *spatial)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group: Any = None, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _batch_norm(self, input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                    use_batch_stats: bool, factor: float) -> Tensor:
        from .. import distributed as dist
        from .. import ops

        if not (self.training and use_batch_stats and dist.rank_and_size()[1] > 1):
            return super()._batch_norm(input, running_mean, running_var, use_batch_stats, factor)
        return ops.sync_batch_norm(input, self.weight, self.bias, running_mean=running_mean,
                                   running_var=running_var, momentum=factor, eps=self.eps,
                                   reduce=dist.allreduce_arrays)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every batch norm layer replaced by a :class:`SyncBatchNorm` holding the same
        parameters, buffers and mode (the module itself when it is one; its children are replaced in place)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group,
                            dtype=module.weight.dtype if module.weight is not None else None)
            if module.weight is not None and module.bias is None:
                converted.register_parameter("bias", None)
            for name in ("weight", "bias"):
                if getattr(module, name) is not None:
                    setattr(converted, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(converted, name, getattr(module, name))
            converted.train(module.training)
        for name, child in list(module.named_children()):
            new = cls.convert_sync_batchnorm(child, process_group)
            if new is not child:
                setattr(module, name, new)
        return converted


class LayerNorm(Module):
    r"""y = (x - μ) / √(σ² + eps) · γ + β, μ and σ² (biased) over the trailing ``normalized_shape`` axes of
    each sample; γ (ones) and β (zeros) have shape ``normalized_shape`` when ``elementwise_affine``."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        dt = _factory_dtype(device, dtype)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, dt, elementwise_affine, bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        self._check_tensor(input)
        k = len(self.normalized_shape)
        if input.ndim < k or input.shape[input.ndim - k:] != self.normalized_shape:
            raise self._input_error(f"input with trailing dimensions {self.normalized_shape}", input)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    r"""y = (x − μ) / √(σ² + eps) · γ + β with μ, σ² (biased) over each group of ``num_channels /
    num_groups`` channels of each sample (and their spatial values); γ (ones) and β (zeros) are per channel."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError("num_channels must be divisible by num_groups")
        dt = _factory_dtype(device, dtype)
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, (num_channels,), dt, affine, bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        self._check_tensor(input)
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise self._input_error(f"input of shape (N, {self.num_channels}, *)", input)
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    r"""y = (x − μ) / √(σ² + eps) · γ + β with μ, σ² over the spatial values of each channel of each sample.

    Defaults differ from batch norm (``affine=False``, ``track_running_stats=False``). With running stats,
    training updates them with the mean over the batch of the per-sample statistics, and eval uses them.
    Input without a batch dimension is accepted, as in PyTorch. ``num_batches_tracked`` exists but, as in
    PyTorch, is not counted.
    """

    _no_batch_dim = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_tensor(input)
        nb = self._no_batch_dim
        if input.ndim not in (nb, nb + 1):
            raise ValueError(f"{type(self).__name__}: expected {nb}D or {nb + 1}D input (got {input.ndim}D input)")
        feature_dim = input.ndim - nb
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{type(self).__name__}: expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: {input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False",
                          UserWarning, stacklevel=2)
        unbatched = input.ndim == nb
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or (C, L) input."""

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or (C, H, W) input."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W) or (C, D, H, W) input."""

    _no_batch_dim = 4


class LocalResponseNorm(Module):
    r"""y_c = x_c / (k + α/n · Σ_{window of n = size channels} x_j²)^β (AlexNet's normalisation)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
