"""Adamax (PyTorch's ``torch.optim.Adamax``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import xp
from .adam import Adam
from .optimizer import ParamsT, lerp_

__all__ = ["Adamax"]


class Adamax(Adam):
    r"""Adamax (Kingma & Ba 2015, §7.1): Adam with the infinity norm in place of the second moment.

    With learning rate γ, betas (β₁, β₂), ε, weight decay λ and step count t:

        g ← ∇f(θ)  (−∇f(θ) when ``maximize``),   g ← g + λ·θ
        m ← m + (1 − β₁)·(g − m)                 (``exp_avg``)
        u ← max(β₂·u, |g| + ε)                   (``exp_inf``)
        θ ← θ − (γ / (1 − β₁ᵗ)) · m / u

    State: ``step``, ``exp_avg``, ``exp_inf``. ``foreach`` is accepted and ignored.
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super(Adam, self).__init__(params, defaults)

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_inf")

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        state["step"] += 1
        g = self._effective_grad(p, grad, float(group["weight_decay"]), group["maximize"])
        m, u = state["exp_avg"], state["exp_inf"]
        work = self._scratch(p, 1)
        lerp_(m, g, 1 - beta1, work)
        u *= beta2
        xp.maximum(u, xp.add(xp.abs(g, out=work), eps, out=work), out=u)
        clr = lr / (1 - beta1 ** state["step"])
        xp.multiply(m, -clr, out=work)
        work /= u
        p += work
