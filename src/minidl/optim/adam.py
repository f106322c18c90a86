"""Adam and AdamW (PyTorch's ``torch.optim.Adam`` and ``torch.optim.AdamW``)."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np

from ..backend import xp
from .optimizer import Optimizer, ParamsT, check_nonnegative

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam: adaptive moment estimation, with optional AMSGrad, L2 or decoupled weight decay.

    With learning rate γ, betas (β₁, β₂), weight decay λ and step count t (per parameter, from 1):

        g ← ∇f(θ)  (−∇f(θ) when ``maximize``)
        g ← g + λ·θ                       (L2 penalty; AdamW instead decays θ ← θ·(1 − γλ))
        m ← m + (1 − β₁)·(g − m)           (first moment, PyTorch's lerp form of β₁·m + (1 − β₁)·g)
        v ← β₂·v + (1 − β₂)·g²             (second moment)
        v̂ ← max(v̂, v) with AMSGrad, v̂ = v otherwise
        θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + ε)

    The bias corrections 1 − β₁ᵗ and √(1 − β₂ᵗ) are Python floats computed, like the whole update, in the
    order of PyTorch's single-tensor code.
    State: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with AMSGrad, ``max_exp_avg_sq`` (v̂).
    All arithmetic is in place on the parameter's dtype, using two reusable scratch arrays.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if isinstance(betas, list):
            betas = tuple(betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        check_nonnegative(name, group, "lr", "eps", "weight_decay")
        betas = group["betas"]
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if isinstance(beta, bool) or not isinstance(beta, Real):
                raise TypeError(f"{name}: beta parameter at index {i} must be a real number, got "
                                f"{type(beta).__name__}")
            if not 0.0 <= float(beta) < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {beta!r} (must be in [0, 1))")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        keys = ("step", "exp_avg", "exp_avg_sq")
        return keys + ("max_exp_avg_sq",) if group["amsgrad"] else keys

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        state["step"] += 1
        step = state["step"]
        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            p *= 1 - lr * wd
        g = self._effective_grad(p, grad, 0.0 if decoupled else wd, group["maximize"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        work = self._scratch(p, 1)

        xp.subtract(g, m, out=work)
        work *= 1 - beta1
        m += work

        v *= beta2
        xp.multiply(g, g, out=work)
        work *= 1 - beta2
        v += work

        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        # the step size multiplies last: m / (√v̂/√b₂ + ε) is bounded by about 1/√(1 − β₂), so no
        # learning rate, however small, can overflow an intermediate (folding it into the denominator,
        # as PyTorch's capturable path does, saves one pass but overflows for lr below ~1e-19 in float32)
        denom = xp.sqrt(v, out=work)
        denom /= bias_correction2_sqrt
        denom += eps
        xp.divide(m, denom, out=work)
        work *= -step_size
        p += work


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ·(1 − γλ) before the Adam step.

    The decay does not enter the moment estimates, unlike Adam's L2 penalty g ← g + λθ. Same update and
    state as :class:`Adam` otherwise (see its docstring); default ``weight_decay=1e-2``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
