"""Learning-rate schedulers (PyTorch's ``torch.optim.lr_scheduler``).

A scheduler rewrites ``group['lr']`` of its optimizer's parameter groups each time ``step()`` is called
(once per epoch, after ``optimizer.step()``). Constructing one records each group's starting rate as
``group['initial_lr']`` (kept in ``base_lrs``) and takes an initial step to epoch 0, like PyTorch.

The epoch-to-epoch schedules use PyTorch's *recursive* (chainable) formulas, which multiply the current
``group['lr']``, so their values match PyTorch's to the last bit and they compose with other changes to the
rate. Where PyTorch has a closed form too, ``step(epoch)`` (deprecated there) and :class:`SequentialLR`'s
milestones use it, as there. ``state_dict()`` returns plain data (numbers, strings, lists, dicts, ``None``),
no pickle needed.

Schedules: :class:`StepLR`, :class:`MultiStepLR`, :class:`ExponentialLR`, :class:`CosineAnnealingLR`,
:class:`ReduceLROnPlateau`, :class:`LambdaLR`, :class:`MultiplicativeLR`, :class:`ConstantLR`,
:class:`LinearLR`, :class:`PolynomialLR`, :class:`CosineAnnealingWarmRestarts`, :class:`CyclicLR`,
:class:`OneCycleLR`; and the combinators :class:`SequentialLR` and :class:`ChainedScheduler`.
"""

from __future__ import annotations

import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from numbers import Real
from typing import Any

from .optimizer import Optimizer

__all__ = [
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau", "LambdaLR",
    "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR", "CosineAnnealingWarmRestarts", "CyclicLR",
    "OneCycleLR", "SequentialLR", "ChainedScheduler",
]  # fmt: skip

_EPOCH_DEPRECATION = ("The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
                      "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
                      "epoch is different from None, the closed form is used instead of the new chainable form, "
                      "where available.")


def _group_lrs(optimizer: Optimizer) -> list[float]:
    return [group["lr"] for group in optimizer.param_groups]


class LRScheduler:
    """Base class: subclasses define :meth:`get_lr`, the rates for epoch ``last_epoch``.

    ``last_epoch=-1`` starts a new schedule; a value >= 0 resumes one, which needs every group to carry
    its ``'initial_lr'`` already (restored with the optimizer's state dict).
    """

    #: attributes saved by :meth:`state_dict`; subclasses add their hyperparameters
    _state_keys: tuple[str, ...] = ("base_lrs", "last_epoch", "_step_count", "_last_lr")

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"{type(self).__name__}: resuming with last_epoch={last_epoch} needs 'initial_lr' in "
                        f"param_groups[{i}]; load the optimizer's state dict first, or pass last_epoch=-1"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._is_initial = False
        self._initial_step()

    def _initial_step(self) -> None:
        """The step to epoch 0 taken at construction (and by :class:`SequentialLR` when it switches)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for epoch ``last_epoch`` (computed during :meth:`step`)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the latest :meth:`step`."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and write the new rates into the optimizer's groups. ``epoch`` (deprecated, as in
        PyTorch) jumps to that epoch, using the closed form of the schedule where it has one."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            lrs = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = _group_lrs(self.optimizer)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's counters and hyperparameters as plain data (lists are copied)."""
        return {k: _copy_plain(getattr(self, k)) for k in self._state_keys}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; it must hold exactly this scheduler's keys."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
        missing = [k for k in self._state_keys if k not in state_dict]
        unknown = [k for k in state_dict if k not in self._state_keys]
        if missing or unknown:
            raise ValueError(f"{name}.load_state_dict: expected keys {sorted(self._state_keys)}"
                             + (f"; missing {missing}" if missing else "")
                             + (f"; unknown {unknown}" if unknown else ""))
        for k in self._state_keys:
            setattr(self, k, _copy_plain(state_dict[k]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


def _copy_plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_copy_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy_plain(v) for k, v in value.items()}
    return value


def _check_positive_int(owner: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")


def _check_real(owner: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {type(value).__name__}")


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs: lrₑ = lr₀ · γ^⌊e / step_size⌋.

    Recursive form (PyTorch's): lrₑ = lrₑ₋₁ · γ when e > 0 and e is a multiple of step_size, else lrₑ₋₁.
    """

    _state_keys = LRScheduler._state_keys + ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        _check_positive_int("StepLR", "step_size", step_size)
        _check_real("StepLR", "gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _group_lrs(self.optimizer)
        return [lr * self.gamma for lr in _group_lrs(self.optimizer)]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` at each milestone epoch: lrₑ = lr₀ · γ^(number of milestones ≤ e).

    A milestone listed k times multiplies by γᵏ. Recursive form: lrₑ = lrₑ₋₁ · γ^count(e).
    """

    _state_keys = LRScheduler._state_keys + ("milestones", "gamma")

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        milestones = list(milestones)
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, int):
                raise TypeError(f"MultiStepLR: milestones must be ints, got {m!r}")
        _check_real("MultiStepLR", "gamma", gamma)
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return _group_lrs(self.optimizer)
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in _group_lrs(self.optimizer)]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch) for base in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["milestones"] = dict(self.milestones)  # a plain {epoch: count} dict, not a Counter
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        # JSON checkpoints turn the int epoch keys into strings
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})


class ExponentialLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every epoch: lrₑ = lr₀ · γᵉ (recursively lrₑ = lrₑ₋₁ · γ)."""

    _state_keys = LRScheduler._state_keys + ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_real("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return _group_lrs(self.optimizer)
        return [lr * self.gamma for lr in _group_lrs(self.optimizer)]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the base rate down to ``eta_min`` over ``T_max`` epochs (SGDR without restarts).

    Closed form: lrₑ = η_min + (lr₀ − η_min)·(1 + cos(π·e / T_max)) / 2, which keeps oscillating with
    period 2·T_max past T_max. PyTorch (and minidl) compute it recursively:

        lrₑ = η_min + (lrₑ₋₁ − η_min) · (1 + cos(π·e / T)) / (1 + cos(π·(e − 1) / T))

    except at e − 1 ≡ T (mod 2T), where that denominator is 0 and the rate restarts upward:
    lrₑ = lrₑ₋₁ + (lr₀ − η_min)·(1 − cos(π / T)) / 2.
    """

    _state_keys = LRScheduler._state_keys + ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        _check_positive_int("CosineAnnealingLR", "T_max", T_max)
        _check_real("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = _group_lrs(self.optimizer)
        if self._is_initial:
            return lrs
        e, t, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (e - 1 - t) % (2 * t) == 0:
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / t)) / 2
                    for lr, base in zip(lrs, self.base_lrs, strict=True)]
        ratio = (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t))
        return [ratio * (lr - eta_min) + eta_min for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    r"""Reduce the rate by ``factor`` when a metric stops improving for more than ``patience`` epochs.

    ``step(metric)`` once per epoch. A metric is an improvement over the best so far when

        mode='min', rel: m < best·(1 − threshold)      mode='min', abs: m < best − threshold
        mode='max', rel: m > best·(1 + threshold)      mode='max', abs: m > best + threshold

    After ``patience + 1`` epochs in a row without improvement each rate becomes max(lr·factor, min_lr)
    (skipped when the change would be <= ``eps``), then ``cooldown`` epochs pass in which bad epochs are
    not counted. Like PyTorch, it neither sets ``'initial_lr'`` nor steps at construction.
    """

    _state_keys = ("factor", "min_lrs", "default_min_lr", "patience", "cooldown", "cooldown_counter", "mode",
                   "threshold", "threshold_mode", "best", "num_bad_epochs", "mode_worse", "eps",
                   "last_epoch", "_last_lr")

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: list[float] | float = 0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        _check_real(name, "factor", factor)
        if not factor < 1.0:
            raise ValueError(f"{name}: factor should be < 1.0, got {factor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if isinstance(min_lr, list | tuple):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"{name}: expected {len(optimizer.param_groups)} min_lrs (one per parameter "
                                 f"group), got {len(min_lr)}")
            self.default_min_lr: float | None = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.optimizer = optimizer
        self.factor = factor
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = _group_lrs(optimizer)
        self.base_lrs = list(self._last_lr)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` by more than the threshold (see the class docstring)."""
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if rel else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if rel else best + self.threshold)

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Record this epoch's metric (a number or one-element tensor) and reduce the rates if it stalled."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown don't count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_lrs(self.optimizer)

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but "
                                 f"{len(self.min_lrs)} min_lrs were given; update min_lrs")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def get_lr(self) -> list[float]:
        return _group_lrs(self.optimizer)


# ============================================================================================ more schedules
def _lambdas(owner: str, optimizer: Optimizer, lr_lambda: Any) -> list[Callable[[int], float]]:
    """One function per parameter group (one given for all, or a list of them)."""
    if not isinstance(lr_lambda, list | tuple):
        lambdas = [lr_lambda] * len(optimizer.param_groups)
    elif len(lr_lambda) != len(optimizer.param_groups):
        raise ValueError(f"{owner}: expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
    else:
        lambdas = list(lr_lambda)
    for fn in lambdas:
        if not callable(fn):
            raise TypeError(f"{owner}: lr_lambda should be a function, but got {type(fn).__name__}")
    return lambdas


class _LambdaSchedule(LRScheduler):
    """A schedule of user functions λ (one per parameter group). Its state dict, as in PyTorch, saves a plain
    function as ``None`` and a callable object as a copy of its ``__dict__`` (restored into it on load)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(type(self).__name__, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else _copy_plain(dict(fn.__dict__))
                            for fn in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        saved = state_dict.pop("lr_lambdas", None)
        super().load_state_dict(state_dict)
        for fn, attrs in zip(self.lr_lambdas, saved or [], strict=False):
            if attrs is not None:
                fn.__dict__.update(attrs)


class LambdaLR(_LambdaSchedule):
    r"""lrₑ = lr₀ · λ(e), with one function λ for all parameter groups or one per group."""

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs, strict=True)]


class MultiplicativeLR(_LambdaSchedule):
    r"""lrₑ = lrₑ₋₁ · λ(e) for e > 0 (λ per group, as for :class:`LambdaLR`)."""

    def get_lr(self) -> list[float]:
        lrs = _group_lrs(self.optimizer)
        if self._is_initial:
            return lrs
        return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, lrs, strict=True)]


class ConstantLR(LRScheduler):
    r"""lrₑ = lr₀ · factor for e < total_iters, lr₀ afterwards (recursively: × factor at e = 0, ÷ at total_iters)."""

    _state_keys = LRScheduler._state_keys + ("factor", "total_iters")

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("ConstantLR: constant multiplicative factor expected to be between 0 and 1, "
                             f"got {factor}")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = _group_lrs(self.optimizer)
        if self.last_epoch == 0:
            return [lr * self.factor for lr in lrs]
        if self.last_epoch != self.total_iters:
            return lrs
        return [lr * (1.0 / self.factor) for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    r"""The factor of lr₀ goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` epochs:
    lrₑ = lr₀ · (s + (f − s)·min(e, T)/T), computed recursively as PyTorch does."""

    _state_keys = LRScheduler._state_keys + ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("LinearLR: starting multiplicative factor expected to be greater than 0 and less or "
                             f"equal to 1, got {start_factor}")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError(f"LinearLR: ending multiplicative factor expected to be between 0 and 1, got {end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = _group_lrs(self.optimizer)
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in lrs]
        if self._is_initial or self.last_epoch > self.total_iters:
            return lrs
        s, f, t = self.start_factor, self.end_factor, self.total_iters
        ratio = 1.0 + (f - s) / (t * s + (self.last_epoch - 1) * (f - s))
        return [lr * ratio for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        s, f, t = self.start_factor, self.end_factor, self.total_iters
        return [base * (s + (f - s) * min(t, self.last_epoch) / t) for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""lrₑ = lr₀ · (1 − min(e, T)/T)^power over ``total_iters`` = T epochs (recursively, as PyTorch)."""

    _state_keys = LRScheduler._state_keys + ("total_iters", "power")

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = _group_lrs(self.optimizer)
        if self._is_initial or self.last_epoch > self.total_iters:
            return lrs
        t, e = self.total_iters, self.last_epoch
        decay = ((1.0 - e / t) / (1.0 - (e - 1) / t)) ** self.power
        return [lr * decay for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        t = self.total_iters
        return [base * (1.0 - min(t, self.last_epoch) / t) ** self.power for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""SGDR (Loshchilov & Hutter 2017): cosine annealing that restarts every Tᵢ epochs, Tᵢ₊₁ = Tᵢ·T_mult:

        lr = η_min + (lr₀ − η_min)·(1 + cos(π·T_cur/Tᵢ))/2

    ``step(epoch)`` may be given fractional epochs (per-batch stepping), as in PyTorch."""

    _state_keys = LRScheduler._state_keys + ("T_0", "T_i", "T_mult", "eta_min", "T_cur")

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected positive integer T_0, but got {T_0}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected integer T_mult >= 1, but got {T_mult}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, float | int):
            raise ValueError(f"CosineAnnealingWarmRestarts: expected float or int eta_min, but got {eta_min}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur: float = last_epoch  # fractional when step(epoch) gets a float epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to ``epoch`` (fractional allowed), restarting the cosine as needed."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._step_count += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = _group_lrs(self.optimizer)


def _per_group(owner: str, name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """A hyperparameter given once for all parameter groups, or as one value per group."""
    if isinstance(value, list | tuple):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{owner}: {name} must have the same length as optimizer.param_groups. {name} has "
                             f"{len(value)} values, param_groups has {len(optimizer.param_groups)}.")
        return list(value)
    return [value] * len(optimizer.param_groups)


def _set_momentum(optimizer: Optimizer, use_beta1: bool, values: list[float]) -> None:
    """Write a momentum per group: SGD's ``momentum``, or the β₁ of Adam-like optimizers."""
    for group, m in zip(optimizer.param_groups, values, strict=True):
        if use_beta1:
            group["betas"] = (m, *group["betas"][1:])
        else:
            group["momentum"] = m


def _cycled_momentum(owner: str, optimizer: Optimizer, base_momentum: Any, max_momentum: Any,
                     last_epoch: int) -> tuple[bool, list[float], list[float]]:
    """Set up momentum cycling: (use β₁, base momentums, max momentums); a new schedule starts at the max."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{owner}: optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    use_beta1 = "betas" in optimizer.defaults
    bases = _per_group(owner, "base_momentum", optimizer, base_momentum)
    maxes = _per_group(owner, "max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        _set_momentum(optimizer, use_beta1, maxes)
        for group, m, b in zip(optimizer.param_groups, maxes, bases, strict=True):
            group["max_momentum"], group["base_momentum"] = m, b
    return use_beta1, bases, maxes


class CyclicLR(LRScheduler):
    r"""Cyclical learning rates (Smith 2017): the rate goes from ``base_lr`` up to ``max_lr`` over
    ``step_size_up`` steps and back down over ``step_size_down``, the amplitude scaled per cycle
    ('triangular': 1, 'triangular2': halved each cycle) or per step ('exp_range': γ^step), or by ``scale_fn``.
    With ``cycle_momentum`` the momentum (or β₁) cycles inversely, between ``max_momentum`` and
    ``base_momentum``. Step it after every batch."""

    _state_keys = LRScheduler._state_keys + ("max_lrs", "total_size", "step_ratio", "mode", "gamma", "scale_mode",
                                             "cycle_momentum", "base_momentums", "max_momentums", "use_beta1")

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float], max_lr: float | list[float],
                 step_size_up: int = 2000, step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float = 0.8, max_momentum: float = 0.9,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"CyclicLR: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        base_lrs = _per_group("CyclicLR", "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                group["lr"] = lr
        self.max_lrs = _per_group("CyclicLR", "max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("CyclicLR: mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = False
        self.base_momentums: list[float] = []
        self.max_momentums: list[float] = []
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _cycled_momentum(
                "CyclicLR", optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or step) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale_factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * scale_factor * scale for base, top in zip(self.base_lrs, self.max_lrs,
                                                                                strict=True)]
        if self.cycle_momentum:
            _set_momentum(self.optimizer, self.use_beta1,
                          [top - (top - base) * scale_factor * scale
                           for base, top in zip(self.base_momentums, self.max_momentums, strict=True)])
        return lrs


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy (Smith & Topin 2017): the rate rises from max_lr/``div_factor`` to ``max_lr`` over
    the first ``pct_start`` of ``total_steps``, then anneals to initial_lr/``final_div_factor`` ('cos' or
    'linear'); ``three_phase`` returns to the initial rate before the final annealing. Momentum (or β₁)
    moves the opposite way between ``max_momentum`` and ``base_momentum``. Step it after every batch."""

    _state_keys = LRScheduler._state_keys + ("total_steps", "_schedule_phases", "_anneal_func_type",
                                             "cycle_momentum", "use_beta1")

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True, base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if total_steps is not None:
            if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise ValueError(f"OneCycleLR: expected positive integer {name}, but got {value}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: you must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        up_end = float(pct_start * self.total_steps) - 1
        phase = lambda end, lr0, lr1, m0, m1: {"end_step": end, "start_lr": lr0, "end_lr": lr1,  # noqa: E731
                                                "start_momentum": m0, "end_momentum": m1}
        if three_phase:
            self._schedule_phases = [
                phase(up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                phase(float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr", "base_momentum",
                      "max_momentum"),
                phase(self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._schedule_phases = [
                phase(up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                phase(self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        max_lrs = _per_group("OneCycleLR", "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for top, group in zip(max_lrs, optimizer.param_groups, strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = False
        if cycle_momentum:
            self.use_beta1, _, _ = _cycled_momentum("OneCycleLR", optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is {self.total_steps}")
        lrs, momentums = [], []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, ph in enumerate(self._schedule_phases):
                end = ph["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[ph["start_lr"]], group[ph["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentums.append(self._anneal(group[ph["start_momentum"]], group[ph["end_momentum"]], pct))
                    break
                start = ph["end_step"]
        if self.cycle_momentum:
            _set_momentum(self.optimizer, self.use_beta1, momentums)
        return lrs


class _Combined(LRScheduler):
    """A scheduler made of others (of one optimizer, none a ReduceLROnPlateau); its state dict nests theirs."""

    _schedulers: list[LRScheduler]

    def _check_members(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], what: str) -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler{what}, but got no scheduler.")
        for i, sched in enumerate(schedulers):
            if not hasattr(sched, "optimizer"):
                raise TypeError(f"{name} at index {i} should have `optimizer` as its attribute.")
            if isinstance(sched, ReduceLROnPlateau):
                raise ValueError(f"{name} does not support `ReduceLROnPlateau` scheduler as it requires additional "
                                 "kwargs to be specified when calling `step`, but got one at index "
                                 f"{i} in the given schedulers sequence.")
            if sched.optimizer is not optimizer:
                raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, but got scheduler "
                                 f"{type(sched).__name__} at index {i} with a different optimizer.")

    def state_dict(self) -> dict[str, Any]:
        sd = {k: _copy_plain(getattr(self, k)) for k in self._state_keys}
        sd["_schedulers"] = [sched.state_dict() for sched in self._schedulers]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        nested = state_dict.pop("_schedulers", None)
        if not isinstance(nested, list) or len(nested) != len(self._schedulers):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected '_schedulers', a list of "
                             f"{len(self._schedulers)} state dicts")
        LRScheduler.load_state_dict(self, state_dict)
        for sched, sd in zip(self._schedulers, nested, strict=True):
            sched.load_state_dict(sd)


class SequentialLR(_Combined):
    r"""Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted from its epoch 0 there,
    by its closed form where it has one), and so on: warm-up followed by a decay, for instance."""

    _state_keys = ("_milestones", "last_epoch", "_last_lr")

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1) -> None:
        self._check_members(optimizer, schedulers, "")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be one more than the "
                             f"number of milestone points, but got number of schedulers {len(schedulers)} and the "
                             f"number of milestones to be equal to {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # undo the steps the schedulers took when they were built, and restart the first one
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo(self)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def _undo(self, sched: Any) -> None:
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._update_lr(0)
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()


class ChainedScheduler(_Combined):
    r"""Step every scheduler in ``schedulers`` at each step, so their (chainable) changes to the rate compose."""

    _state_keys = ("_last_lr",)

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        self._check_members(optimizer, schedulers, " to be chained")
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = _group_lrs(self._schedulers[-1].optimizer)

    def step(self) -> None:  # type: ignore[override]
        for sched in self._schedulers:
            sched.step()
        self._last_lr = _group_lrs(self._schedulers[-1].optimizer)
