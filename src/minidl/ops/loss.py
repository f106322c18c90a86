"""Loss functions with PyTorch's semantics, each op a forward/backward pair.

Shapes: inputs of the classification losses are (N, C) or (N, C, d₁, …) (or unbatched (C,)), with the
class axis at 1 (0 when unbatched); their index targets drop that axis. Elementwise losses compare arrays
of the same shape.

Reductions (shared by every loss): ``'none'`` returns the per-element losses ℓᵢ, ``'sum'`` returns Σᵢ ℓᵢ
and ``'mean'`` returns Σᵢ ℓᵢ / D, where D is the number of elements, or for class-weighted index targets
the total weight Σᵢ w[tᵢ] of the targets that are not ``ignore_index`` (PyTorch's rule; D = 0 gives nan
and a zero gradient). Backward scales the upstream gradient by the same rule.

Losses keep the input's float dtype: targets and weights are cast to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..backend import xp
from ..errors import DTypeError, ShapeError, ValueRangeError
from .activation import check_float, log_softmax_array, stable_sigmoid
from .base import Op, wants

_REDUCTIONS = ("mean", "sum", "none")


# --------------------------------------------------------------------------------------------- reductions
def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(losses: np.ndarray, reduction: str, denom: Any) -> np.ndarray:
    """Apply ``reduction`` to per-element losses; ``denom`` is D of the module docstring."""
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return xp.asarray(total)
    # D = 0 (every target ignored) gives nan, as in PyTorch
    with np.errstate(invalid="ignore", divide="ignore"):
        return xp.asarray(total / denom)


def _upstream(dout: np.ndarray, reduction: str, denom: Any) -> np.ndarray:
    """dL/dℓᵢ: per element for 'none', else one scalar that broadcasts (1 for 'sum', 1/D for 'mean')."""
    dout = xp.asarray(dout)
    if reduction == "mean":
        return dout / denom if denom != 0 else dout * 0
    return dout


def _cast(name: str, a: Any, dtype: np.dtype, what: str) -> np.ndarray | None:
    """An optional target/weight argument as an array of the input's dtype."""
    if a is None:
        return None
    a = xp.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name}: {what} must be numeric, got dtype {a.dtype}")
    return a.astype(dtype, copy=False)


def _check_broadcast(name: str, a: np.ndarray | None, shape: tuple[int, ...], what: str) -> None:
    """``a`` must broadcast to ``shape`` without enlarging it (weights, pos_weight)."""
    if a is None:
        return
    try:
        ok = np.broadcast_shapes(a.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: {what} of shape {a.shape} does not broadcast to the input shape {shape}")


def _same_shape(name: str, x: np.ndarray, y: np.ndarray) -> None:
    if x.shape != y.shape:
        raise ValueError(f"{name}: target shape {y.shape} must match input shape {x.shape}")


def _binary_args(name: str, input: np.ndarray, target: Any, weight: Any,
                 reduction: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate the arguments shared by the binary losses; return (target, weight) in the input's dtype."""
    check_float(name, input)
    _check_reduction(name, reduction)
    y = _cast(name, target, input.dtype, "target")
    if y is None:
        raise TypeError(f"{name}: target is required")
    _same_shape(name, input, y)
    w = _cast(name, weight, input.dtype, "weight")
    _check_broadcast(name, w, input.shape, "weight")
    return y, w


# --------------------------------------------------------------------------------------------- class targets
class _Targets(NamedTuple):
    """Class-index targets prepared for gathering along the class axis."""

    axis: int  # the class axis of the input
    gather: np.ndarray  # targets with ignored entries replaced by 0, class axis re-inserted (size 1)
    valid: np.ndarray | None  # 1.0 where the target is not ignore_index (input dtype); None: all valid
    wt: np.ndarray | None  # per-target weight w[tᵢ]·validᵢ (input dtype); None: all weights are 1
    denom: Any  # Σᵢ wt: the divisor of reduction='mean'


def _class_axis(name: str, x: np.ndarray) -> int:
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class axis: (C,), (N, C) or (N, C, d1, ...), "
                         "got shape ()")
    return 0 if x.ndim == 1 else 1


def _class_weight(name: str, weight: Any, n_classes: int, dtype: np.dtype) -> np.ndarray | None:
    w = _cast(name, weight, dtype, "weight")
    if w is not None and w.shape != (n_classes,):
        raise ShapeError(f"{name}: weight must have shape ({n_classes},) (one per class), got {w.shape}")
    return w


def _index_targets(name: str, x: np.ndarray, target: np.ndarray, w: np.ndarray | None,
                   ignore_index: int) -> _Targets:
    """Validate class-index targets and compute the per-target weights; see :class:`_Targets`."""
    axis = _class_axis(name, x)
    n_classes = x.shape[axis]
    expected = x.shape[:axis] + x.shape[axis + 1 :]
    if target.shape != expected:
        raise ShapeError(f"{name}: for input of shape {x.shape} the class-index target must have shape "
                         f"{expected}, got {target.shape}")
    if target.dtype not in (np.int64, np.uint8):  # PyTorch: "expected target dtype to be Long or Byte"
        raise DTypeError(f"{name}: class-index target must be int64 (long) or uint8, got dtype {target.dtype}")
    t, valid = target, None
    if t.size:
        lo, hi = int(t.min()), int(t.max())
        if lo <= ignore_index <= hi:
            valid = t != ignore_index
        if lo < 0 or hi >= n_classes:  # only then look for the culprit, elementwise
            bad = (t < 0) | (t >= n_classes)
            if valid is not None:
                bad &= valid
            if bad.any():
                raise IndexError(f"{name}: target value {int(t[bad].flat[0])} is out of bounds for "
                                 f"{n_classes} classes (expected 0 <= target < {n_classes} or "
                                 f"ignore_index={ignore_index})")
        if valid is not None:
            t = t * valid  # ignored entries gather class 0; their weight is 0
            valid = valid.astype(x.dtype)
    index = xp.expand_dims(t, axis)
    if w is not None:
        wt = w[t] if valid is None else w[t] * valid
    else:
        wt = valid
    denom = int(t.size) if wt is None else wt.sum()
    return _Targets(axis, index, valid, wt, denom)


def _gather(a: np.ndarray, tg: _Targets) -> np.ndarray:
    """aᵢ[tᵢ] along the class axis, one value per target."""
    return xp.take_along_axis(a, tg.gather, axis=tg.axis).squeeze(tg.axis)


def _scatter_add(d: np.ndarray, tg: _Targets, values: np.ndarray) -> None:
    """dᵢ[tᵢ] += valuesᵢ in place (each position has a single target, so no index repeats)."""
    v = xp.take_along_axis(d, tg.gather, axis=tg.axis) + _expand(values, tg.axis)
    xp.put_along_axis(d, tg.gather, v, axis=tg.axis)


def _expand(a: np.ndarray, axis: int) -> np.ndarray:
    """Re-insert the class axis into a per-target array (a scalar stays a scalar)."""
    return a if a.ndim == 0 else xp.expand_dims(a, axis)


def _weighted(a: np.ndarray | Any, wt: np.ndarray | None) -> np.ndarray:
    return a if wt is None else a * wt


def _class_shape(w: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    """Class weights (C,) shaped to broadcast along the class axis."""
    return w.reshape([-1 if i == axis else 1 for i in range(ndim)])


# --------------------------------------------------------------------------------------------- ops
class CrossEntropy(Op):
    r"""Softmax cross-entropy of logits, fused with log-softmax: ℓᵢ = −Σ_c q_ic log p_ic, p = softmax(xᵢ).

    Class-index targets tᵢ, class weights w (default 1), label smoothing ε, validᵢ = [tᵢ ≠ ignore_index]:
        q_ic = validᵢ · ((1 − ε) w_c [c = tᵢ] + ε w_c / C),
    i.e. ℓᵢ = (1 − ε)·w[tᵢ]·(−log p_i,tᵢ) + (ε/C)·Σ_c w_c·(−log p_ic), and 'mean' divides by Σᵢ w[tᵢ]·validᵢ
    (PyTorch's formula, smoothing term included). Class-probability targets y (floating, the input's shape):
    q_ic = w_c ((1 − ε) y_ic + ε/C), and 'mean' divides by the number of samples.

    Gradient: since Σ_c ∂log p_ic/∂x_ij = δ_cj − p_ij,  dℓᵢ/dxᵢ = pᵢ · Σ_c q_ic − qᵢ. For probability
    targets also dℓᵢ/dy_ic = −(1 − ε) w_c log p_ic. Index targets get no gradient.

    log p = x − m − log Σ exp(x − m) is finite for any finite logits (±1000 included), so are the gradients.
    The same math for index targets, sample by sample: :class:`minidl.ops.reference.SoftmaxCrossEntropy`.
    """

    name = "cross_entropy"
    saves = ()

    def forward(self, input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        check_float(self.name, input)
        _check_reduction(self.name, reduction)
        eps = float(label_smoothing)
        if not 0.0 <= eps <= 1.0:
            raise ValueRangeError(f"{self.name}: label_smoothing must be between 0.0 and 1.0, "
                             f"got {label_smoothing}")
        target = xp.asarray(target)
        axis = _class_axis(self.name, input)
        n_classes = input.shape[axis]
        w = _class_weight(self.name, weight, n_classes, input.dtype)
        if target.dtype.kind == "f":
            if ignore_index >= 0:
                raise RuntimeError("ignore_index is not supported for floating point target")
            if target.shape != input.shape:
                raise ShapeError(f"{self.name}: class-probability target must have the input's shape "
                                 f"{input.shape}, got {target.shape}")
            return self._forward_probs(input, target.astype(input.dtype, copy=False), w, eps, reduction, axis)
        tg = _index_targets(self.name, input, target, w, ignore_index)
        logp = log_softmax_array(input, axis)
        losses = -_weighted(_gather(logp, tg), tg.wt)
        if eps:
            # the smoothing term −(ε/C) Σ_c w_c log p_ic of every non-ignored target
            smooth = (logp if w is None else logp * _class_shape(w, logp.ndim, axis)).sum(axis=axis)
            losses *= 1 - eps
            losses -= _weighted(smooth, tg.valid) * (eps / n_classes)
        out = _reduce(losses, reduction, tg.denom)
        return out, ("index", logp, tg, w, eps, reduction)

    def _forward_probs(self, x, y, w, eps, reduction, axis):
        logp = log_softmax_array(x, axis)
        q = y * (1 - eps) + eps / x.shape[axis] if eps else y
        if w is not None:
            q = q * _class_shape(w, x.ndim, axis)
        losses = -(q * logp).sum(axis=axis)
        denom = losses.size
        return _reduce(losses, reduction, denom), ("probs", logp, q, w, eps, reduction, axis, denom)

    def backward(self, dout, cache, needs=None):
        if cache[0] == "probs":
            return self._backward_probs(dout, cache, needs)
        _, logp, tg, w, eps, reduction = cache
        g = _upstream(dout, reduction, tg.denom)
        n_classes = logp.shape[tg.axis]
        on_target = _weighted(g * (1 - eps), tg.wt)  # g·(1 − ε)·w[t], per target or a scalar
        mass = on_target  # Σ_c q_ic · g
        if eps:
            w_sum = n_classes if w is None else w.sum()
            mass = on_target + _weighted(g * (eps / n_classes * w_sum), tg.valid)
        dx = xp.exp(logp)
        dx *= _expand(mass, tg.axis)
        _scatter_add(dx, tg, -on_target)
        if eps:
            spread = _expand(_weighted(g * (eps / n_classes), tg.valid), tg.axis)
            dx -= spread if w is None else spread * _class_shape(w, dx.ndim, tg.axis)
        return dx, None

    def _backward_probs(self, dout, cache, needs):
        _, logp, q, w, eps, reduction, axis, denom = cache
        g = _expand(_upstream(dout, reduction, denom), axis)
        dx = dy = None
        if wants(needs, 0):
            dx = xp.exp(logp)
            dx *= q.sum(axis=axis, keepdims=True) * g
            dx -= q * g
        if wants(needs, 1):
            dy = logp * (-(1 - eps) * g)
            if w is not None:
                dy *= _class_shape(w, dy.ndim, axis)
        return dx, dy


class NLLLoss(Op):
    r"""Negative log-likelihood of log-probabilities: ℓᵢ = −w[tᵢ] · x_i,tᵢ · [tᵢ ≠ ignore_index].

    'mean' divides by Σᵢ w[tᵢ]·[tᵢ ≠ ignore_index]. dℓᵢ/dx_ic = −w[tᵢ]·[c = tᵢ] (non-ignored targets only);
    targets get no gradient.
    """

    name = "nll_loss"
    saves = ()

    def forward(self, input, target, weight=None, ignore_index=-100, reduction="mean"):
        check_float(self.name, input)
        _check_reduction(self.name, reduction)
        axis = _class_axis(self.name, input)
        w = _class_weight(self.name, weight, input.shape[axis], input.dtype)
        tg = _index_targets(self.name, input, xp.asarray(target), w, ignore_index)
        losses = -_weighted(_gather(input, tg), tg.wt)
        return _reduce(losses, reduction, tg.denom), (input.shape, input.dtype, tg, reduction)

    def backward(self, dout, cache, needs=None):
        shape, dtype, tg, reduction = cache
        dx = xp.zeros(shape, dtype=dtype)
        _scatter_add(dx, tg, -_weighted(_upstream(dout, reduction, tg.denom), tg.wt))
        return dx, None


class MSELoss(Op):
    r"""ℓᵢ = (xᵢ − yᵢ)².  dℓᵢ/dxᵢ = 2(xᵢ − yᵢ), dℓᵢ/dyᵢ = −2(xᵢ − yᵢ).

    Like PyTorch, shapes that differ but broadcast are accepted (``F.mse_loss`` warns: usually a bug, e.g.
    (N, 1) against (N,)); gradients are returned in the broadcast shape, and the engine sums them back.
    """

    name = "mse_loss"
    saves = ()

    def forward(self, input, target, reduction="mean"):
        check_float(self.name, input)
        _check_reduction(self.name, reduction)
        y = _cast(self.name, target, input.dtype, "target")
        if y.shape != input.shape:
            try:
                np.broadcast_shapes(input.shape, y.shape)
            except ValueError:
                raise ValueError(f"{self.name}: target shape {y.shape} does not match (or broadcast to) "
                                 f"input shape {input.shape}") from None
        diff = input - y
        losses = diff * diff
        return _reduce(losses, reduction, losses.size), (diff, reduction)

    def backward(self, dout, cache, needs=None):
        diff, reduction = cache
        d = diff * (2 * _upstream(dout, reduction, diff.size))
        return (d if wants(needs, 0) else None), (-d if wants(needs, 1) else None)


class BinaryCrossEntropy(Op):
    r"""ℓᵢ = −wᵢ (yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)) on probabilities p ∈ [0, 1], each log clamped at −100.

    dℓᵢ/dpᵢ = wᵢ (pᵢ − yᵢ) / max(pᵢ(1 − pᵢ), 1e-12)  (PyTorch's formula: the exact derivative inside (0, 1),
    kept finite at the ends), and dℓᵢ/dyᵢ = wᵢ (log(1 − pᵢ) − log pᵢ) with the clamped logs.
    """

    name = "binary_cross_entropy"
    saves = (0, 1)

    def forward(self, input, target, weight=None, reduction="mean"):
        y, w = _binary_args(self.name, input, target, weight, reduction)
        if input.size and not (input.min() >= 0 and input.max() <= 1):
            raise ValueRangeError(f"{self.name}: all elements of input should be probabilities in [0, 1], found "
                             f"values in [{input.min()}, {input.max()}]")
        with np.errstate(divide="ignore"):  # log 0 = −inf, clamped to −100 just below
            log_p = xp.maximum(xp.log(input), -100)
            log_q = xp.maximum(xp.log1p(-input), -100)
        # both terms ≤ 0 are added as they are (no y·(log p − log q) rewrite, which cancels when p → 1)
        losses = (y - 1) * log_q
        losses -= y * log_p
        if w is not None:
            losses *= w
        return _reduce(losses, reduction, losses.size), (input, y, w, log_p, log_q, reduction)

    def backward(self, dout, cache, needs=None):
        p, y, w, log_p, log_q, reduction = cache
        g = _upstream(dout, reduction, p.size)
        if w is not None:
            g = g * w
        dp = dy = None
        if wants(needs, 0):
            dp = (p - y) * g
            dp /= xp.maximum(p * (1 - p), p.dtype.type(1e-12))
        if wants(needs, 1):
            dy = (log_q - log_p) * g
        return dp, dy


class BinaryCrossEntropyWithLogits(Op):
    r"""Sigmoid + binary cross-entropy on logits x, stable for any finite x:

        ℓᵢ = wᵢ [pos_weight · yᵢ · softplus(−xᵢ) + (1 − yᵢ) · softplus(xᵢ)],
        softplus(±x) = −log σ(∓x) = max(±x, 0) + log1p(e^{−|x|}).

    For pos_weight = 1 this is PyTorch's max(x, 0) − x y + log1p(e^{−|x|}); summing two non-negative terms
    instead avoids its cancellation when x ≪ 0, y = 0. ``pos_weight`` broadcasts against the class (last)
    axis. With l = 1 + (pos_weight − 1) y:
        dℓ/dx = w (l σ(x) − pos_weight · y),   dℓ/dy = w (pos_weight · softplus(−x) − softplus(x)),
    the latter being −w x when pos_weight = 1.
    """

    name = "binary_cross_entropy_with_logits"
    saves = (0, 1)

    def forward(self, input, target, weight=None, pos_weight=None, reduction="mean"):
        y, w = _binary_args(self.name, input, target, weight, reduction)
        pw = _cast(self.name, pos_weight, input.dtype, "pos_weight")
        _check_broadcast(self.name, pw, input.shape, "pos_weight")
        log1p_e = xp.log1p(xp.exp(-xp.abs(input)))  # e^{−|x|} ≤ 1: no overflow
        sp_pos = xp.maximum(input, 0) + log1p_e
        sp_neg = xp.maximum(-input, 0) + log1p_e
        pos = y if pw is None else pw * y
        losses = (1 - y) * sp_pos
        losses += pos * sp_neg
        if w is not None:
            losses *= w
        return _reduce(losses, reduction, losses.size), (input, y, w, pw, sp_pos, sp_neg, reduction)

    def backward(self, dout, cache, needs=None):
        x, y, w, pw, sp_pos, sp_neg, reduction = cache
        g = _upstream(dout, reduction, x.size)
        if w is not None:
            g = g * w
        dx = dy = None
        if wants(needs, 0):
            s = stable_sigmoid(x)
            if pw is None:
                dx = s - y
            else:
                pos = pw * y
                dx = (1 - y + pos) * s - pos
            dx *= g
        if wants(needs, 1):
            dy = -x * g if pw is None else (pw * sp_neg - sp_pos) * g
        return dx, dy


cross_entropy, nll_loss, mse_loss = CrossEntropy(), NLLLoss(), MSELoss()
binary_cross_entropy, binary_cross_entropy_with_logits = BinaryCrossEntropy(), BinaryCrossEntropyWithLogits()


# --------------------------------------------------------------------------------------------- pointwise losses
# Losses of one input and one target element each, as rows of a table: ℓ(x, y), ∂ℓ/∂x and ∂ℓ/∂y next to
# each other (d = x − y). Parameters of a row (beta, delta, log_target, ...) go to all three functions.
def _smooth_l1(x, y, beta=1.0):
    # branch-free with m = min(|d|, β): ½m²/β + (|d| − m) is ½d²/β inside, |d| − β/2 outside
    a = xp.abs(x - y)
    m = xp.minimum(a, beta)
    a -= m
    m *= m
    m *= 0.5 / beta
    return m + a


def _huber(x, y, delta=1.0):
    # branch-free with m = min(|d|, δ): ½m² + δ(|d| − m) is ½d² inside, δ(|d| − δ/2) outside
    a = xp.abs(x - y)
    m = xp.minimum(a, delta)
    a -= m
    a *= delta
    m *= m
    m *= 0.5
    return m + a


def _xlogy(y):
    """y·log y with 0·log 0 = 0 (and nan for y < 0, as PyTorch's xlogy)."""
    return xp.where(y == 0, 0, y * xp.log(xp.where(y == 0, 1, y)))


def _kl_div(x, y, log_target=False):
    return xp.exp(y) * (y - x) if log_target else _xlogy(y) - y * x


def _kl_div_dy(x, y, log_target=False):
    # d(y log y)/dy = log y + 1; at y = 0 PyTorch's backward gives 0·log 0 / 0 = nan, and so does this
    return xp.exp(y) * (y - x + 1) if log_target else xp.log(y) + y / y - x


def _stirling(y):
    """y log y − y + ½ log(2πy) for y > 1, else 0: the Stirling term of the full Poisson NLL."""
    big = y > 1
    safe = xp.where(big, y, 2)
    return xp.where(big, safe * xp.log(safe) - safe + 0.5 * xp.log(2 * np.pi * safe), 0)


def _poisson_nll(x, y, log_input=True, full=False, eps=1e-8):
    loss = xp.exp(x) - y * x if log_input else x - y * xp.log(x + eps)
    return loss + _stirling(y) if full else loss


def _poisson_nll_dy(x, y, log_input=True, full=False, eps=1e-8):
    dy = -x if log_input else -xp.log(x + eps)
    if full:  # PyTorch masks the term where y ≤ 1 after taking its logs: its gradient there is 0, nan at y = 0
        dy = dy + (y > 1) * (xp.log(y) + 0.5 / y)
    return dy


#: name: (ℓ(x, y, **params), ∂ℓ/∂x, ∂ℓ/∂y) for the elementwise losses
POINTWISE_LOSSES: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    # |x − y|;  ∂ℓ/∂x = sign(x − y)
    "l1_loss": (lambda x, y: xp.abs(x - y), lambda x, y: xp.sign(x - y), lambda x, y: -xp.sign(x - y)),
    # ½d²/β where |d| < β, else |d| − β/2;  ∂ℓ/∂x = clamp(d/β, −1, 1)
    "smooth_l1_loss": (_smooth_l1, lambda x, y, beta=1.0: xp.clip((x - y) / beta, -1, 1),
                       lambda x, y, beta=1.0: -xp.clip((x - y) / beta, -1, 1)),
    # ½d² where |d| < δ, else δ(|d| − δ/2);  ∂ℓ/∂x = clamp(d, −δ, δ)
    "huber_loss": (_huber, lambda x, y, delta=1.0: xp.clip(x - y, -delta, delta),
                   lambda x, y, delta=1.0: -xp.clip(x - y, -delta, delta)),
    # y(log y − x) on log-probabilities x (log_target: eʸ(y − x));  ∂ℓ/∂x = −y (−eʸ)
    "kl_div": (_kl_div, lambda x, y, log_target=False: -(xp.exp(y) if log_target else y), _kl_div_dy),
    # eˣ − yx (log_input), x − y log(x + eps) otherwise; full: + Stirling's y log y − y + ½ log 2πy for y > 1
    "poisson_nll_loss": (_poisson_nll,
                         lambda x, y, log_input=True, full=False, eps=1e-8: xp.exp(x) - y if log_input
                         else 1 - y / (x + eps),
                         _poisson_nll_dy),
}  # fmt: skip


class PointwiseLoss(Op):
    r"""ℓᵢ = f(xᵢ, yᵢ), reduced (see the module docstring), for one row of :data:`POINTWISE_LOSSES`.

    Input and target broadcast against each other (PyTorch warns when their shapes differ; the functional
    layer does); gradients go to both, in the broadcast shape: dL/dxᵢ = g·∂ℓ/∂x, dL/dyᵢ = g·∂ℓ/∂y with g
    the upstream gradient of ℓᵢ (1/D of it for 'mean').
    """

    saves = (0, 1)

    def __init__(self, name: str, f, dx, dy) -> None:
        self.name, self._f, self._dx, self._dy = name, f, dx, dy

    def forward(self, input, target, reduction="mean", **params):
        check_float(self.name, input)
        _check_reduction(self.name, reduction)
        y = _cast(self.name, target, input.dtype, "target")
        try:
            shape = np.broadcast_shapes(input.shape, y.shape)
        except ValueError:
            raise ValueError(f"{self.name}: target shape {y.shape} does not broadcast to input shape "
                             f"{input.shape}") from None
        with np.errstate(all="ignore"):  # log 0, 0/0: nan or inf as in PyTorch
            losses = _full(self._f(input, y, **params), shape, input.dtype)
        return _reduce(losses, reduction, losses.size), (input, y, shape, reduction, params)

    def backward(self, dout, cache, needs=None):
        x, y, shape, reduction, params = cache
        g = _upstream(dout, reduction, math.prod(shape))
        dx = dy = None
        with np.errstate(all="ignore"):
            if wants(needs, 0):
                dx = _full(g * self._dx(x, y, **params), shape, x.dtype)
            if wants(needs, 1):
                dy = _full(g * self._dy(x, y, **params), shape, x.dtype)
        return dx, dy


def _full(a: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``a`` as a writable array of ``shape`` and ``dtype`` (broadcast and copied only when it must be)."""
    a = xp.asarray(a, dtype=dtype)
    return a if a.shape == shape else xp.broadcast_to(a, shape).copy()


pointwise_losses = {name: PointwiseLoss(name, *row) for name, row in POINTWISE_LOSSES.items()}
