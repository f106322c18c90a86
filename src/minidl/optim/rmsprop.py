"""RMSprop (PyTorch's ``torch.optim.RMSprop``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import xp
from .optimizer import Optimizer, ParamsT, check_nonnegative

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    With learning rate γ, smoothing α, momentum μ and weight decay λ:

        g ← ∇f(θ)  (−∇f(θ) when ``maximize``),   g ← g + λ·θ
        v ← α·v + (1 − α)·g²                                   (``square_avg``)
        centered:  ḡ ← ḡ + (1 − α)·(g − ḡ),  s ← √(v − ḡ²) + ε     (``grad_avg``, a variance estimate)
        otherwise: s ← √v + ε
        μ > 0:     b ← μ·b + g / s,  θ ← θ − γ·b                    (``momentum_buffer``, starts at 0)
        μ = 0:     θ ← θ − γ·g / s

    In the centered form v − ḡ² ≥ 0 holds in exact arithmetic (a weighted mean of squares bounds the
    square of the mean); it is clamped at 0 so that rounding can't produce the square root of a negative.
    State also holds ``step`` (int), as in PyTorch.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        check_nonnegative("RMSprop", group, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        keys: tuple[str, ...] = ("step", "square_avg")
        if group["momentum"] > 0:
            keys += ("momentum_buffer",)
        if group["centered"]:
            keys += ("grad_avg",)
        return keys

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        state["step"] += 1
        g = self._effective_grad(p, grad, float(group["weight_decay"]), group["maximize"])
        v = state["square_avg"]
        work = self._scratch(p, 1)

        v *= alpha
        xp.multiply(g, g, out=work)
        work *= 1 - alpha
        v += work

        if group["centered"]:
            g_avg = state["grad_avg"]
            xp.subtract(g, g_avg, out=work)
            work *= 1 - alpha
            g_avg += work
            xp.multiply(g_avg, g_avg, out=work)
            xp.subtract(v, work, out=work)
            xp.maximum(work, 0, out=work)
            s = xp.sqrt(work, out=work)
        else:
            s = xp.sqrt(v, out=work)
        s += eps

        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += xp.divide(g, s, out=work)
            xp.multiply(buf, -lr, out=work)
        else:
            xp.divide(g, s, out=work)
            work *= -lr
        p += work
