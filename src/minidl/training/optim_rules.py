"""Classic first-order update rules, homework-style (the CS231n ``optim.py`` conventions).

Each rule is a plain function ``rule(w, dw, config=None) -> (next_w, config)`` on NumPy arrays:

* ``w``: current weights, ``dw``: dL/dw of the same shape;
* ``config``: a dict of hyperparameters plus the rule's running state (velocity, moments, step count).
  Missing hyperparameters are filled in with the classic defaults; state arrays are created on first use
  with ``w``'s shape and dtype, so float32 weights stay float32.

The :class:`~minidl.training.Solver` keeps one config per parameter and threads it through the calls.
These are the textbook formulas; :mod:`minidl.optim` holds the PyTorch-style optimizers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import xp

__all__ = ["sgd", "sgd_momentum", "rmsprop", "adam", "get_update_rule", "UPDATE_RULES"]

UpdateRule = Callable[[np.ndarray, np.ndarray, "dict[str, Any] | None"], "tuple[np.ndarray, dict[str, Any]]"]


def _check(name: str, w: np.ndarray, dw: np.ndarray, config: dict[str, Any] | None) -> dict[str, Any]:
    """Validate the arguments shared by every rule and return the (possibly new) config dict."""
    if not isinstance(w, np.ndarray) or not isinstance(dw, np.ndarray):
        raise TypeError(f"{name}: w and dw must be numpy arrays, got {type(w).__name__} and {type(dw).__name__}")
    if w.shape != dw.shape:
        raise ValueError(f"{name}: dw must have the shape of w: expected {w.shape}, got {dw.shape}")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise TypeError(f"{name}: config must be a dict or None, got {type(config).__name__}")
    return config


def _state(config: dict[str, Any], key: str, w: np.ndarray) -> np.ndarray:
    """The running-state array ``config[key]``, created as zeros like ``w`` on first use."""
    s = config.get(key)
    if s is None:
        s = xp.zeros_like(w)
    return s


def sgd(w: np.ndarray, dw: np.ndarray, config: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Vanilla stochastic gradient descent: w ← w − lr·dw.

    config: ``learning_rate`` (default 1e-2).
    """
    config = _check("sgd", w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w: np.ndarray, dw: np.ndarray,
                 config: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """SGD with momentum: v ← μ·v − lr·dw, w ← w + v.

    config: ``learning_rate`` (1e-2), ``momentum`` μ (0.9), ``velocity`` v (zeros like w at first).
    """
    config = _check("sgd_momentum", w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * _state(config, "velocity", w) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def rmsprop(w: np.ndarray, dw: np.ndarray,
            config: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """RMSProp: c ← ρ·c + (1 − ρ)·dw², w ← w − lr·dw / (√c + ε).

    config: ``learning_rate`` (1e-2), ``decay_rate`` ρ (0.99), ``epsilon`` ε (1e-8), ``cache`` c (zeros).
    """
    config = _check("rmsprop", w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    rho = config["decay_rate"]
    cache = rho * _state(config, "cache", w) + (1 - rho) * (dw * dw)
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (xp.sqrt(cache) + config["epsilon"])
    return next_w, config


def adam(w: np.ndarray, dw: np.ndarray, config: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Adam, with the step counter incremented *before* the bias correction (as in the classic assignment)::

        t ← t + 1
        m ← β₁·m + (1 − β₁)·dw          m̂ = m / (1 − β₁ᵗ)
        v ← β₂·v + (1 − β₂)·dw²         v̂ = v / (1 − β₂ᵗ)
        w ← w − lr·m̂ / (√v̂ + ε)

    config: ``learning_rate`` (1e-3, the classic Adam default), ``beta1`` (0.9), ``beta2`` (0.999),
    ``epsilon`` (1e-8), ``m``, ``v`` (zeros), ``t`` (0).
    """
    config = _check("adam", w, dw, config)
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    b1, b2 = config["beta1"], config["beta2"]
    t = int(config["t"]) + 1
    m = b1 * _state(config, "m", w) + (1 - b1) * dw
    v = b2 * _state(config, "v", w) + (1 - b2) * (dw * dw)
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    next_w = w - config["learning_rate"] * m_hat / (xp.sqrt(v_hat) + config["epsilon"])
    config.update(t=t, m=m, v=v)
    return next_w, config


UPDATE_RULES: dict[str, UpdateRule] = {"sgd": sgd, "sgd_momentum": sgd_momentum, "rmsprop": rmsprop, "adam": adam}


def get_update_rule(rule: str | UpdateRule) -> UpdateRule:
    """Resolve an update rule given by name (``'sgd'``, ``'sgd_momentum'``, ``'rmsprop'``, ``'adam'``) or callable."""
    if callable(rule):
        return rule
    if isinstance(rule, str) and rule in UPDATE_RULES:
        return UPDATE_RULES[rule]
    raise ValueError(f"Solver: unknown update_rule {rule!r}; expected one of {sorted(UPDATE_RULES)} or a callable")
