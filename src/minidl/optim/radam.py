"""RAdam (PyTorch's ``torch.optim.RAdam``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import xp
from .adam import Adam
from .optimizer import ParamsT, lerp_, scaled_product

__all__ = ["RAdam"]


class RAdam(Adam):
    r"""RAdam (Liu et al. 2020): Adam whose adaptive step is switched on only once the variance of the
    adaptive learning rate is tractable, and rectified.

    With learning rate γ, betas (β₁, β₂), ε, weight decay λ and step count t:

        g ← ∇f(θ)  (−∇f(θ) when ``maximize``);  g ← g + λ·θ, or θ ← θ(1 − γλ) if ``decoupled_weight_decay``
        m ← m + (1 − β₁)·(g − m),   v ← β₂·v + (1 − β₂)·g²,   m̂ = m / (1 − β₁ᵗ)
        ρ∞ = 2/(1 − β₂) − 1,   ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
        ρₜ > 5:  r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)),   θ ← θ − γ·m̂·√(1 − β₂ᵗ)/(√v + ε)·r
        else:    θ ← θ − γ·m̂

    State: ``step``, ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, decoupled_weight_decay=decoupled_weight_decay)
        super(Adam, self).__init__(params, defaults)

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq")

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        state["step"] += 1
        step = float(state["step"])
        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            p *= 1 - lr * wd
        g = self._effective_grad(p, grad, 0.0 if decoupled else wd, group["maximize"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        work, update = self._scratch(p, 1), self._scratch(p, 2)
        lerp_(m, g, 1 - beta1, work)
        v *= beta2
        v += scaled_product(g, 1 - beta2, g, work)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        xp.divide(m, bias_correction1, out=update)
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = xp.sqrt(v, out=work)
            adaptive += eps
            xp.divide(bias_correction2**0.5, adaptive, out=adaptive)
            update *= adaptive
            update *= rect
        p -= update
