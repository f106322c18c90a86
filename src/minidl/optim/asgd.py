"""Averaged SGD (PyTorch's ``torch.optim.ASGD``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_nonnegative, scalar_dtype

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent (Polyak & Juditsky 1992), with PyTorch's step-size schedule.

    With learning rate γ, decay λ (``lambd``), power α, averaging start t₀, weight decay w and step count t:

        g ← ∇f(θ)  (−∇f(θ) when ``maximize``),   g ← g + w·θ
        θ ← θ·(1 − λη) − η·g                              (η = ``eta``, γ at the start)
        ā ← ā + μ·(θ − ā), or ā ← θ while μ = 1           (``ax``, the running average)
        η ← γ / (1 + λγt)^α,   μ ← 1 / max(1, t − t₀)

    State: ``step``, ``eta``, ``mu`` (0-d values in PyTorch's scalar dtype, float32 by default, so rounded
    alike) and ``ax``. ``foreach`` is accepted and ignored.
    """

    _scalar_state_keys = ("eta", "mu")

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        check_nonnegative("ASGD", group, "lr", "weight_decay")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "eta", "mu", "ax")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        dt = scalar_dtype()
        return {"step": 0, "eta": xp.asarray(float(group["lr"]), dtype=dt), "mu": xp.ones((), dtype=dt),
                "ax": xp.zeros_like(p._data)}

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, lambd, alpha, t0 = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0"))
        state["step"] += 1
        g = self._effective_grad(p, grad, float(group["weight_decay"]), group["maximize"])
        eta = float(state["eta"])
        p *= 1 - lambd * eta
        work = self._scratch(p, 1)
        p += xp.multiply(g, -eta, out=work)
        ax, mu = state["ax"], state["mu"]
        if float(mu) != 1:
            xp.subtract(p, ax, out=work)
            work *= float(mu)
            ax += work
        else:
            ax[...] = p
        step = float(state["step"])
        state["eta"] = xp.asarray(lr / ((1 + lambd * lr * step) ** alpha), dtype=mu.dtype)
        state["mu"] = xp.asarray(1 / max(1, step - t0), dtype=mu.dtype)
