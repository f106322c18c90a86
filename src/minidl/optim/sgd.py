"""Stochastic gradient descent with momentum (PyTorch's ``torch.optim.SGD``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import xp
from .optimizer import Optimizer, ParamsT, check_nonnegative

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

    With learning rate γ, momentum μ, dampening τ and weight decay λ, each step computes

        g ← ∇f(θ)  (−∇f(θ) when ``maximize``),   g ← g + λ·θ
        b ← g at the first step,  b ← μ·b + (1 − τ)·g afterwards      (only when μ ≠ 0)
        d ← g + μ·b with Nesterov,  d ← b with plain momentum,  d ← g without momentum
        θ ← θ − γ·d

    The momentum buffer starts as a copy of the first gradient (no dampening on that step), exactly as
    PyTorch does; it is stored as ``state[p]['momentum_buffer']``.
    """

    _optional_state_keys = ("momentum_buffer",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        check_nonnegative("SGD", group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires a momentum and zero dampening, got momentum="
                f"{group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        g = self._effective_grad(p, grad, float(group["weight_decay"]), group["maximize"])
        d = g
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                dampening = float(group["dampening"])
                if dampening == 0:
                    buf += g
                else:
                    buf += xp.multiply(g, 1 - dampening, out=self._scratch(p, 1))
            if group["nesterov"]:
                d = xp.multiply(buf, momentum, out=self._scratch(p, 1))
                d += g
            else:
                d = buf
        # θ + (−γ)·d, PyTorch's add_(d, alpha=-lr), with the product in a scratch array
        p += xp.multiply(d, -lr, out=self._scratch(p, 1))
