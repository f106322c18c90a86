"""The losses of ``minidl.nn.functional`` beyond cross-entropy/NLL/MSE/BCE, and the distance functions.

Elementwise losses (L1, smooth L1, Huber, KL divergence, Poisson NLL) run one row of
:data:`minidl.ops.loss.POINTWISE_LOSSES`; the others are short compositions of ops written as PyTorch
defines them (Gaussian NLL, cosine embedding, margin ranking, triplet margin, multi-label soft margin,
``normalize``, ``cosine_similarity``, ``pairwise_distance``), so their gradients are those of the ops.
Signatures are PyTorch's, including the deprecated ``size_average``/``reduce`` flags where it has them.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import functions as fns
from .. import ops
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._functional_args import _check_reduction, _check_tensor, legacy_reduction

__all__ = [
    "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
    "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss", "multilabel_soft_margin_loss",
    "soft_margin_loss", "normalize", "cosine_similarity", "pairwise_distance", "ctc_loss",
]  # fmt: skip

_pointwise = ops.pointwise_losses


def _as_tensor(x: Any, like: Tensor) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x, dtype=like._data.dtype))


def _check_same_size(input: Tensor, target: Tensor) -> None:
    """PyTorch's warning when the target's shape differs from the input's (they are then broadcast)."""
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=3)


def _check_broadcast(a: Tensor, b: Tensor) -> None:
    """PyTorch's error for shapes that do not broadcast, naming the first mismatched dimension."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                               f"non-singleton dimension {i}")


def _reduced(losses: Tensor, reduction: str) -> Tensor:
    """PyTorch's ``apply_loss_reduction`` on per-element losses."""
    if reduction == "mean":
        return fns.mean(losses)
    if reduction == "sum":
        return fns.sum(losses)
    return losses


def _elementwise(name: str, input: Tensor, target: Any, reduction: str, weight: Tensor | None = None,
                 weighted_mean: str = "weight", **params: Any) -> Tensor:
    """One row of the pointwise-loss table, with PyTorch's optional elementwise ``weight`` (then the
    'mean' divides by Σ weight for L1/MSE, by the element count for Huber: ``weighted_mean``)."""
    _check_tensor(name, input)
    _check_reduction(name, reduction)
    target = _as_tensor(target, input)
    _check_broadcast(input, target)
    if weight is None:
        return _pointwise[name](input, target, reduction=reduction, **params)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    losses = fns.mul(_pointwise[name](input, target, reduction="none", **params), weight)
    if reduction == "mean" and weighted_mean == "weight":
        return fns.div(fns.sum(losses), fns.sum(weight))
    return _reduced(losses, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    r"""ℓ = |x − y| (times ``weight``; 'mean' then divides by Σ weight)."""
    _check_size(input, target)
    return _elementwise("l1_loss", input, target, legacy_reduction(size_average, reduce, reduction), weight)


def _check_size(input: Any, target: Any) -> None:
    """Warn when the target's shape differs from the input's, refuse it when the two do not broadcast."""
    if isinstance(input, Tensor) and isinstance(target, Tensor):
        _check_same_size(input, target)
        _check_broadcast(input, target)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    r"""ℓ = ½(x − y)²/β where |x − y| < β, else |x − y| − β/2 (plain L1 for β = 0)."""
    _check_size(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _elementwise("l1_loss", input, target, reduction)
    return _elementwise("smooth_l1_loss", input, target, reduction, beta=float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    r"""ℓ = ½(x − y)² where |x − y| < δ, else δ(|x − y| − δ/2) (times ``weight``; 'mean' over elements)."""
    _check_size(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _elementwise("huber_loss", input, target, reduction, weight, weighted_mean="count", delta=float(delta))


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    r"""ℓ = y (log y − x) for log-probabilities x (``log_target``: eʸ (y − x)). 'batchmean' divides the sum by
    the batch size (the KL divergence per sample); 'mean' by the element count, with PyTorch's warning."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    if reduction == "batchmean":
        total = _elementwise("kl_div", input, target, "sum", log_target=bool(log_target))
        return fns.div(total, input.shape[0]) if input.ndim != 0 else total
    return _elementwise("kl_div", input, target, reduction, log_target=bool(log_target))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8, reduce: bool | None = None,
                     reduction: str = "mean") -> Tensor:
    r"""ℓ = eˣ − y·x (``log_input``) or x − y·log(x + eps), plus Stirling's y log y − y + ½ log(2πy) for y > 1
    when ``full``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _elementwise("poisson_nll_loss", input, target, reduction, log_input=bool(log_input), full=bool(full),
                        eps=float(eps))


def _clamped_min(t: Tensor, eps: float) -> Tensor:
    """max(t, eps) whose gradient is that of t itself: PyTorch clamps a clone in place under ``no_grad``."""
    t = fns.clone(t)
    with no_grad():
        t.clamp_(min=eps)
    return t


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    r"""ℓ = ½ (log max(σ², eps) + (x − y)² / max(σ², eps)) (+ ½ log 2π when ``full``); ``var`` is one σ² per
    element, or per sample with one dimension fewer or of size 1 (homoscedastic)."""
    _check_tensor("gaussian_nll_loss", input)
    if isinstance(var, int | float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = fns.full_like(input, float(var))
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = fns.unsqueeze(var, -1)
        elif not (input.ndim == var.ndim
                  and sum(b for a, b in zip(input.shape, var.shape, strict=True) if a != b) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    var = _clamped_min(var, eps)
    diff = fns.sub(input, target)
    loss = fns.mul(fns.add(fns.log(var), fns.div(fns.mul(diff, diff), var)), 0.5)
    if full:
        loss = fns.add(loss, 0.5 * math.log(2 * math.pi))
    return _reduced(loss, reduction)


def _loss_reduction(size_average: bool | None, reduce: bool | None, reduction: str, name: str) -> str:
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


_EPSILON = 1e-12  # PyTorch's cosine_embedding_loss adds it to both squared norms


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    r"""ℓ = 1 − cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) − margin) where y = −1 (0 for other y), with
    cos = x₁·x₂ / √((‖x₁‖² + 1e-12)(‖x₂‖² + 1e-12)) along the last dimension of (N, D) or (D,) inputs."""
    reduction = _loss_reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    _check_tensor("cosine_embedding_loss", input1)
    tdim = target.ndim
    if tdim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = 2 if tdim == 1 else 1
    if input1.ndim != expected or input2.ndim != expected:
        raise RuntimeError(f"{tdim}D target tensor expects {expected}D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    prod = fns.sum(fns.mul(input1, input2), tdim)
    mag1 = fns.add(fns.sum(fns.mul(input1, input1), tdim), _EPSILON)
    mag2 = fns.add(fns.sum(fns.mul(input2, input2), tdim), _EPSILON)
    cos = fns.div(prod, fns.sqrt(fns.mul(mag1, mag2)))
    zeros = fns.zeros_like(cos)
    pos = fns.rsub(cos, 1)
    neg = fns.clamp(fns.sub(cos, margin), min=0)
    t = target._data
    return _reduced(fns.add(fns.where(t == 1, pos, zeros), fns.where(t == -1, neg, zeros)), reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    r"""ℓ = max(0, −y·(x₁ − x₂) + margin)."""
    reduction = _loss_reduction(size_average, reduce, reduction, "margin_ranking_loss")
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduced(fns.clamp(fns.add(fns.mul(fns.neg(target), fns.sub(input1, input2)), margin), min=0), reduction)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    r"""‖x₁ − x₂ + eps‖_p along the last dimension (inputs broadcast)."""
    _check_tensor("pairwise_distance", x1)
    dim = max(x1.ndim, x2.ndim) - 1
    return fns.norm(fns.add(fns.sub(x1, x2), eps), p, dim=max(dim, 0), keepdim=keepdim)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: bool | None = None,
                        reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    r"""ℓ = max(0, d(a, p) − d(a, n) + margin), d = :func:`pairwise_distance`; ``swap`` uses
    min(d(a, n), d(p, n)) for the negative distance."""
    reduction = _loss_reduction(size_average, reduce, reduction, "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D "
                           "inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = fns.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduced(fns.clamp(fns.sub(fns.add(d_pos, margin), d_neg), min=0), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    r"""ℓₙ = −(1/C) Σ_c w_c (y_c log σ(x_c) + (1 − y_c) log σ(−x_c)) over the classes (last dimension)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_tensor("multilabel_soft_margin_loss", input)
    target = _as_tensor(target, input)
    logsig = ops.activations["logsigmoid"]
    loss = fns.neg(fns.add(fns.mul(target, logsig(input)), fns.mul(fns.rsub(target, 1), logsig(fns.neg(input)))))
    if weight is not None:
        loss = fns.mul(loss, weight)
    class_dim = input.ndim - 1
    loss = fns.div(fns.sum(loss, class_dim), input.shape[class_dim])
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    return _reduced(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                     reduction: str = "mean") -> Tensor:
    r"""ℓ = log(1 + exp(−y·x)) = softplus(−y·x), computed stably."""
    reduction = _loss_reduction(size_average, reduce, reduction, "soft_margin_loss")
    _check_tensor("soft_margin_loss", input)
    z = fns.neg(fns.mul(_as_tensor(target, input), input))
    return _reduced(ops.activations["softplus"](z, beta=1.0, threshold=math.inf), reduction)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    r"""x / max(‖x‖_p, eps) along ``dim``."""
    _check_tensor("normalize", input)
    denom = fns.clamp(fns.norm(input, p, dim, keepdim=True), min=eps)
    result = fns.div(input, denom)
    return result if out is None else out.copy_(result)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    r"""Σ (x₁/max(‖x₁‖, eps)) ⊙ (x₂/max(‖x₂‖, eps)) along ``dim`` (inputs broadcast). As in PyTorch the norms are
    clamped without changing their gradient, and each input is divided by its norm before the product."""
    _check_tensor("cosine_similarity", x1)
    _check_broadcast(x1, x2)
    shape = tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    a, b = fns.broadcast_to(x1, shape), fns.broadcast_to(x2, shape)
    na = _clamped_min(fns.norm(a, 2, dim, keepdim=True), eps)
    nb = _clamped_min(fns.norm(b, 2, dim, keepdim=True), eps)
    return fns.sum(fns.mul(fns.div(a, na), fns.div(b, nb)), dim)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    r"""Connectionist temporal classification loss of log-probabilities (T, N, C) (or unbatched (T, C))
    against targets, padded (N, S) or concatenated 1-D; 'mean' divides each sample's loss by its target
    length (at least 1), then averages over the batch (PyTorch's rule)."""
    _check_tensor("ctc_loss", log_probs)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    il, tl = np.asarray(_array_of(input_lengths)), np.asarray(_array_of(target_lengths))
    batched = log_probs.ndim == 3
    lp = log_probs if batched else fns.unsqueeze(log_probs, 1)
    tg = np.asarray(_array_of(targets))
    if not batched:
        tg, il, tl = tg.reshape(1, -1), il.reshape(1), tl.reshape(1)
    losses = ops.ctc_loss(lp, tg, il, tl, blank=int(blank), zero_infinity=bool(zero_infinity))
    if reduction == "mean":
        lengths = Tensor._wrap(np.maximum(tl.reshape(-1), 1).astype(losses._data.dtype))
        return fns.mean(fns.div(losses, lengths))
    if reduction == "sum":
        return fns.sum(losses)
    return losses if batched else fns.squeeze(losses, 0)


def _array_of(x: Any) -> Any:
    """A tensor's array, or a sequence of ints as given (CTC lengths may be tuples)."""
    return x._data if isinstance(x, Tensor) else x
