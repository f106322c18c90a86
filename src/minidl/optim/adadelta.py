"""Adadelta (PyTorch's ``torch.optim.Adadelta``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import xp
from .optimizer import Optimizer, ParamsT, check_nonnegative, scaled_product

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler 2012): step sizes from running averages of squared gradients and squared updates.

    With learning rate γ, decay ρ, ε and weight decay λ:

        g ← ∇f(θ)  (−∇f(θ) when ``maximize``),   g ← g + λ·θ
        v ← ρ·v + (1 − ρ)·g²                          (``square_avg``)
        Δ ← √(u + ε) / √(v + ε) · g
        u ← ρ·u + (1 − ρ)·Δ²                          (``acc_delta``)
        θ ← θ − γ·Δ

    State: ``step``, ``square_avg``, ``acc_delta``. The arithmetic follows PyTorch's single-tensor code in
    order, so results agree to the last bits. ``foreach`` is accepted and ignored (one implementation).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        check_nonnegative("Adadelta", group, "lr", "eps", "weight_decay")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho value: {group['rho']!r} (must be in [0, 1])")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "square_avg", "acc_delta")

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        state["step"] += 1
        g = self._effective_grad(p, grad, float(group["weight_decay"]), group["maximize"])
        v, u = state["square_avg"], state["acc_delta"]
        work, delta = self._scratch(p, 1), self._scratch(p, 2)
        v *= rho
        v += scaled_product(g, 1 - rho, g, work)
        std = xp.sqrt(xp.add(v, eps, out=work), out=work)
        xp.sqrt(xp.add(u, eps, out=delta), out=delta)
        delta /= std
        delta *= g
        u *= rho
        u += scaled_product(delta, 1 - rho, delta, work)
        p += xp.multiply(delta, -lr, out=work)

