"""``minidl.nn.utils``: gradient clipping and flat parameter vectors (PyTorch's ``torch.nn.utils``), and
:func:`evaluating`, minidl's own context for running a model in eval mode without autograd."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ... import functions as fns
from ...autograd.grad_mode import no_grad
from ...backend import xp
from ...tensor import Tensor, _counter
from . import rnn  # noqa: E402 - nn.utils.rnn.pad_sequence, as in PyTorch

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "evaluating", "rnn"]


@contextlib.contextmanager
def evaluating(model: Any) -> Iterator[Any]:
    """Run the block with ``model`` in eval mode and under ``no_grad``, then give it its mode back (even when
    the block raises): what evaluation, prediction and shape probes of a model share. A model without
    ``train``/``training`` (a plain function) is used as it is."""
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.train(False)
    try:
        with no_grad():
            yield model
    finally:
        if was_training is not None:
            model.train(was_training)


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _pnorm(v: np.ndarray, p: float) -> float:
    r"""‖v‖_p as a Python float, free of overflow and underflow for any finite v.

    ∞-norm: max |vᵢ|. 2-norm: √(v·v) by one BLAS dot when v·v is a comfortable float (the common case);
    otherwise, and for any other p, the scaled form ‖v‖_p = m·(Σ (|vᵢ|/m)^p)^{1/p} with m = max |vᵢ|,
    whose terms all lie in [0, 1].
    """
    v = v.reshape(-1)
    if v.size == 0:
        return 0.0
    if p == 2:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            sq = float(xp.dot(v, v))
        if 1e-30 < sq < 1e30:  # far from the float32 range limits: no precision lost to over/underflow
            return math.sqrt(sq)
    m = float(xp.max(xp.abs(v)))
    if p == math.inf or m == 0.0 or not math.isfinite(m):
        return m  # for p < ∞, a non-finite entry makes the norm inf or nan like m
    if p == 1:
        return float(xp.sum(xp.abs(v), dtype=xp.float64))
    scaled = xp.abs(v).astype(xp.float64) / m
    return m * float(xp.sum(scaled**p)) ** (1.0 / p)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    r"""Scale all gradients together so that their joint norm is at most ``max_norm``; return that norm.

    total = ‖(‖g₁‖_p, ‖g₂‖_p, ...)‖_p (the p-norm of all gradients as one vector; p may be ``inf``). When
    total > max_norm every gradient is multiplied in place by max_norm / (total + 1e-6) (PyTorch's rule).
    The total is returned as a 0-d tensor in the gradients' dtype. A non-finite total raises
    ``RuntimeError`` if ``error_if_nonfinite``; otherwise the gradients are scaled by it as in PyTorch.
    ``foreach`` is accepted for compatibility and ignored.
    """
    p = float(norm_type)
    if not p > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}")
    grads = [t.grad._data for t in _as_list(parameters) if t.grad is not None]
    if not grads:
        return Tensor._wrap(xp.zeros((), dtype=np.float32))
    total = _pnorm(np.array([_pnorm(g, p) for g in grads], dtype=np.float64), p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {p} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    coef = float(max_norm) / (total + 1e-6)
    if not coef >= 1.0:  # also true for a nan total: the grads become nan, as in PyTorch
        with np.errstate(invalid="ignore"):
            for g in grads:
                g *= coef
    with np.errstate(over="ignore"):
        return Tensor._wrap(xp.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place (PyTorch's order: the lower bound,
    then the upper one, so a negative ``clip_value`` sets every element to it). ``foreach`` is accepted."""
    c = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is not None:
            xp.minimum(xp.maximum(g._data, -c, out=g._data), c, out=g._data)
            _counter(g).value += 1  # an in-place change, as PyTorch's clamp_


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened (``view(-1)``: each must be contiguous, as in PyTorch) and concatenated into one
    1-D tensor, a differentiable copy."""
    return fns.cat([p.view(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Give each parameter, in order, the next slice of the 1-D ``vec`` as its data: as in PyTorch the
    parameters then share ``vec``'s storage (and dtype); a ``vec`` too short for them raises."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected minidl.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in parameters:
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p)
        pointer += n
