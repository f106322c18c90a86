"""Loss modules over ``minidl.nn.functional``: ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss``, ``BCELoss``,
``BCEWithLogitsLoss``.

Signatures match PyTorch's, including the deprecated ``size_average``/``reduce`` pair (mapped to
``reduction`` as PyTorch does). Class weights and ``pos_weight`` are registered as buffers (so they appear in
``state_dict`` under the same keys as in PyTorch); arrays are accepted and wrapped as tensors.
"""

from __future__ import annotations

from typing import Any

from ..functions.creation import as_tensor
from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss"]


def _optional_tensor(value: Any) -> Tensor | None:
    return value if value is None or isinstance(value, Tensor) else as_tensor(value)


class _Loss(Module):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        reduction = F.legacy_reduction(size_average, reduce, reduction)
        F._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Any = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(weight))


class CrossEntropyLoss(_WeightedLoss):
    r"""Softmax cross-entropy of logits (N, C, ...) against class indices (N, ...).

    ℓₙ = -w_{yₙ} log softmax(xₙ)_{yₙ} (with label smoothing ε the target is (1-ε)·onehot + ε/C); 'mean'
    divides by Σ w_{yₙ} over targets that are not ``ignore_index``.
    """

    def __init__(self, weight: Any = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    r"""ℓₙ = -w_{yₙ} x_{n, yₙ} on log-probabilities x (N, C, ...); 'mean' divides by Σ w_{yₙ}."""

    def __init__(self, weight: Any = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    r"""ℓ = (x - y)², reduced by ``reduction``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    r"""ℓ = -w (y log p + (1 - y) log(1 - p)) on probabilities p, logs clamped at -100 (PyTorch)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r"""ℓ = -w (p_w·y log σ(x) + (1 - y) log(1 - σ(x))) on logits x, computed stably; p_w is ``pos_weight``."""

    def __init__(self, weight: Any = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(weight))
        self.register_buffer("pos_weight", _optional_tensor(pos_weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
