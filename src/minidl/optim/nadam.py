"""NAdam (PyTorch's ``torch.optim.NAdam``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import xp
from ..tensor import Tensor
from .adam import Adam
from .optimizer import ParamsT, check_nonnegative, lerp_, scalar_dtype, scaled_product

__all__ = ["NAdam"]


class NAdam(Adam):
    r"""NAdam (Dozat 2016): Adam with Nesterov momentum, and PyTorch's momentum-decay schedule.

    With learning rate γ, betas (β₁, β₂), ε, weight decay λ, momentum decay ψ and step count t:

        g ← ∇f(θ)  (−∇f(θ) when ``maximize``);  g ← g + λ·θ, or θ ← θ(1 − γλ) if ``decoupled_weight_decay``
        μₜ = β₁·(1 − ½·0.96^{tψ}),  μₜ₊₁ = β₁·(1 − ½·0.96^{(t+1)ψ}),  Πₜ = μ₁⋯μₜ     (``mu_product``)
        m ← m + (1 − β₁)·(g − m),   v ← β₂·v + (1 − β₂)·g²
        d = √(v / (1 − β₂ᵗ)) + ε
        θ ← θ − γ(1 − μₜ)/(1 − Πₜ) · g/d − γ·μₜ₊₁/(1 − Πₜμₜ₊₁) · m/d

    State: ``step``, ``mu_product`` (a 0-d value in PyTorch's scalar dtype, float32 by default, so it is
    rounded the same way), ``exp_avg``, ``exp_avg_sq``.
    """

    _scalar_state_keys = ("mu_product",)

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach)
        super(Adam, self).__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        check_nonnegative("NAdam", group, "momentum_decay")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "mu_product", "exp_avg", "exp_avg_sq")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = super()._init_state(p, group)
        state["mu_product"] = xp.ones((), dtype=scalar_dtype())
        return state

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        psi = float(group["momentum_decay"])
        state["step"] += 1
        step = float(state["step"])
        bias_correction2 = 1 - beta2**step
        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            p *= 1 - lr * wd
        g = self._effective_grad(p, grad, 0.0 if decoupled else wd, group["maximize"])
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
        mu_product = state["mu_product"]
        mu_product *= mu  # in the scalar dtype, as PyTorch's 0-d tensor
        mu_product_next = float(mu_product) * mu_next
        m, v = state["exp_avg"], state["exp_avg_sq"]
        work, denom = self._scratch(p, 1), self._scratch(p, 2)
        lerp_(m, g, 1 - beta1, work)
        v *= beta2
        v += scaled_product(g, 1 - beta2, g, work)
        xp.sqrt(xp.divide(v, bias_correction2, out=denom), out=denom)
        denom += eps
        p += xp.divide(xp.multiply(g, -lr * (1.0 - mu) / (1.0 - float(mu_product)), out=work), denom, out=work)
        p += xp.divide(xp.multiply(m, (-lr * mu_next) / (1.0 - mu_product_next), out=work), denom, out=work)
