"""Adagrad (PyTorch's ``torch.optim.Adagrad``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_nonnegative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad: per-coordinate learning rates shrinking with the accumulated squared gradients.

    With learning rate γ, learning-rate decay η, weight decay λ and step count t (per parameter, from 1):

        g ← ∇f(θ)  (−∇f(θ) when ``maximize``),   g ← g + λ·θ
        γₜ ← γ / (1 + (t − 1)·η)
        s ← s + g²                         (``sum``, starting at ``initial_accumulator_value``)
        θ ← θ − γₜ · g / (√s + ε)

    As in PyTorch, the state (``step`` = 0 and ``sum``) is created for every parameter as soon as its
    group is added, so ``state_dict()`` lists all parameters even before the first step.
    """

    _eager_state = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        check_nonnegative("Adagrad", group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value",
                          "eps")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "sum")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "sum": xp.full_like(p._data, group["initial_accumulator_value"])}

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] += 1
        clr = float(group["lr"]) / (1 + (state["step"] - 1) * float(group["lr_decay"]))
        g = self._effective_grad(p, grad, float(group["weight_decay"]), group["maximize"])
        acc = state["sum"]
        work = self._scratch(p, 1)
        acc += xp.multiply(g, g, out=work)
        std = xp.sqrt(acc, out=work)
        std += float(group["eps"])
        xp.divide(g, std, out=work)
        work *= -clr
        p += work
