"""minidl.optim.lr_scheduler: lr sequences against PyTorch and closed forms, state dicts, errors."""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from typing import Any

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import optim
from minidl.optim import lr_scheduler

LRS = (0.1, 0.02)  # two parameter groups with different learning rates
EPOCHS = 50

SCHEDULERS: list[tuple[str, dict[str, Any]]] = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("StepLR", dict(step_size=1)),
    ("MultiStepLR", dict(milestones=[30, 5, 12, 12], gamma=0.3)),  # unsorted, with a repeated milestone
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),  # 50 epochs run through several restarts
    ("CosineAnnealingLR", dict(T_max=50)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.02)),
]
IDS = [f"{name}-{kw}" for name, kw in SCHEDULERS]


def make_optimizer(lib: Any) -> Any:
    """SGD over two parameter groups; ``lib`` is minidl or torch."""
    if lib is minidl:
        params = [minidl.tensor(np.zeros(2), requires_grad=True) for _ in LRS]
        return optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, LRS, strict=True)], lr=1.0)
    params = [torch.zeros(2, requires_grad=True) for _ in LRS]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, LRS, strict=True)], lr=1.0)


def lr_history(opt: Any, sched: Any, epochs: int, metrics: list[float] | None = None) -> list[list[float]]:
    history = []
    for epoch in range(epochs):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        history.append(sched.get_last_lr())
    return history


# --------------------------------------------------------------------------------------------- torch parity
@requires_torch
@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=IDS)
def test_lr_sequence_matches_torch(name: str, kwargs: dict[str, Any]) -> None:
    opt, topt = make_optimizer(minidl), make_optimizer(torch)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    assert sched.get_last_lr() == tsched.get_last_lr() == list(LRS)
    assert sched.base_lrs == tsched.base_lrs == list(LRS)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    assert sched.last_epoch == tsched.last_epoch == 0
    # the recursive formulas are evaluated in the same order, so the floats agree exactly
    assert lr_history(opt, sched, EPOCHS) == lr_history(topt, tsched, EPOCHS)
    assert sched.last_epoch == tsched.last_epoch == EPOCHS


@requires_torch
@pytest.mark.parametrize("name, kwargs", [SCHEDULERS[0], SCHEDULERS[4]], ids=[IDS[0], IDS[4]])
def test_resuming_with_last_epoch_matches_torch(name: str, kwargs: dict[str, Any]) -> None:
    runs = []
    for lib, module in ((minidl, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = make_optimizer(lib)
        sched = getattr(module, name)(opt, **kwargs)
        lr_history(opt, sched, 9)
        resumed = getattr(module, name)(opt, last_epoch=sched.last_epoch, **kwargs)
        runs.append(lr_history(opt, resumed, 20))
    assert runs[0] == runs[1]


# a metric that improves in steps, with plateaus, sub-threshold improvements (1e-5 relative) and noise
# and a final plateau longer than the default patience of 10
PLATEAU_METRICS = [1.0, 0.9, 0.9, 0.89999, 0.9, 0.95, 0.91, 0.8, 0.8, 0.8, 0.79999, 0.8, 0.8, 0.8, 0.6, 0.61,
                   0.62, 0.6, 0.6, 0.6, 0.6, 0.55, 0.55, 0.7, 0.7, 0.7, 0.7, 0.7, 0.5, 0.5, 0.49, 0.49,
                   0.3] + [0.3 + 1e-6 * (i % 3) for i in range(17)]
PLATEAU_CASES: list[tuple[dict[str, Any], list[float]]] = [
    (dict(patience=2), PLATEAU_METRICS),
    (dict(), PLATEAU_METRICS),
    (dict(patience=1, cooldown=2, factor=0.5), PLATEAU_METRICS),
    (dict(patience=0, factor=0.5, min_lr=0.004), PLATEAU_METRICS),
    (dict(patience=1, factor=0.2, min_lr=[0.001, 0.0005], cooldown=1), PLATEAU_METRICS),
    (dict(patience=1, threshold=0.05, threshold_mode="abs", eps=1e-3), PLATEAU_METRICS),
    (dict(mode="max", patience=1), [-m for m in PLATEAU_METRICS]),
    (dict(mode="max", patience=2, threshold=0.1, threshold_mode="abs", cooldown=3, factor=0.3),
     [1 - m for m in PLATEAU_METRICS]),
]


@requires_torch
@pytest.mark.parametrize("kwargs, metrics", PLATEAU_CASES, ids=[str(k) for k, _ in PLATEAU_CASES])
def test_reduce_on_plateau_matches_torch(kwargs: dict[str, Any], metrics: list[float]) -> None:
    assert len(metrics) == EPOCHS
    opt, topt = make_optimizer(minidl), make_optimizer(torch)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    assert "initial_lr" not in opt.param_groups[0]  # like PyTorch, this scheduler doesn't set it
    for epoch in range(EPOCHS):
        opt.step()
        topt.step()
        sched.step(metrics[epoch])
        tsched.step(metrics[epoch])
        assert sched.get_last_lr() == tsched.get_last_lr(), epoch
        for attr in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
            assert getattr(sched, attr) == getattr(tsched, attr), (epoch, attr)
    assert sched.get_last_lr() != list(LRS)  # the script did trigger reductions


# --------------------------------------------------------------------------------------------- closed forms
def closed_form(name: str, kwargs: dict[str, Any], base: float, e: int) -> float:
    """The schedules' textbook formulas, an oracle independent of the recursive implementation."""
    if name == "StepLR":
        return base * kwargs.get("gamma", 0.1) ** (e // kwargs["step_size"])
    if name == "MultiStepLR":
        return base * kwargs["gamma"] ** bisect_right(sorted(kwargs["milestones"]), e)
    if name == "ExponentialLR":
        return base * kwargs["gamma"] ** e
    eta_min = kwargs.get("eta_min", 0.0)
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / kwargs["T_max"])) / 2


@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=IDS)
def test_lr_sequence_matches_closed_form(name: str, kwargs: dict[str, Any]) -> None:
    opt = make_optimizer(minidl)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    history = lr_history(opt, sched, EPOCHS)
    expected = [[closed_form(name, kwargs, base, e) for base in LRS] for e in range(1, EPOCHS + 1)]
    np.testing.assert_allclose(history, expected, rtol=1e-9, atol=1e-14)


def test_reduce_on_plateau_rules_by_hand() -> None:
    opt = make_optimizer(minidl)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1, min_lr=0.015)
    lrs = []
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]:
        sched.step(minidl.tensor(metric))  # one-element tensors are accepted as metrics
        lrs.append(sched.get_last_lr())
    # epochs 2 and 3 are bad -> halve at epoch 3; epoch 4 is cooldown; epochs 5, 6 bad -> halve again,
    # with the second group's rate clamped at min_lr (0.02 -> 0.015, then no change below 0.015)
    assert lrs == [[0.1, 0.02], [0.1, 0.02], [0.05, 0.015], [0.05, 0.015], [0.05, 0.015], [0.025, 0.015],
                   [0.025, 0.015]]
    assert sched.best == 0.5 and sched.num_bad_epochs == 0


# --------------------------------------------------------------------------------------------- state dicts
ROUND_TRIP = [(name, kwargs, None) for name, kwargs in SCHEDULERS] + [
    ("ReduceLROnPlateau", kwargs, metrics) for kwargs, metrics in PLATEAU_CASES[2:5]
]


@pytest.mark.parametrize("name, kwargs, metrics", ROUND_TRIP, ids=[f"{n}-{k}" for n, k, _ in ROUND_TRIP])
def test_state_dict_round_trip_resumes_exactly(name: str, kwargs: dict[str, Any], metrics: Any) -> None:
    cls = getattr(lr_scheduler, name)
    opt = make_optimizer(minidl)
    straight = lr_history(opt, cls(opt, **kwargs), EPOCHS, metrics)

    opt = make_optimizer(minidl)
    sched = cls(opt, **kwargs)
    first = lr_history(opt, sched, 20, metrics)
    # plain data: a JSON round trip (which also turns int dict keys into strings) loses nothing
    opt_sd = json.loads(json.dumps(opt.state_dict()))
    sched_sd = json.loads(json.dumps(sched.state_dict()))
    opt2 = make_optimizer(minidl)
    sched2 = cls(opt2, **{**kwargs, **({"gamma": 0.123} if "gamma" in kwargs else {})})
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    assert sched2.get_last_lr() == sched.get_last_lr()
    rest = lr_history(opt2, sched2, EPOCHS - 20, None if metrics is None else metrics[20:])
    assert first + rest == straight


def test_state_dict_is_a_copy() -> None:
    opt = make_optimizer(minidl)
    sched = lr_scheduler.MultiStepLR(opt, milestones=[3, 3, 5])
    sd = sched.state_dict()
    assert sd["milestones"] == {3: 2, 5: 1} and type(sd["milestones"]) is dict
    sd["base_lrs"][0] = 99.0
    assert sched.base_lrs == list(LRS)


# --------------------------------------------------------------------------------------------- errors
def test_bad_arguments_raise() -> None:
    opt = make_optimizer(minidl)
    with pytest.raises(TypeError, match="expected an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=3)
    with pytest.raises(TypeError, match="expected an Optimizer"):
        lr_scheduler.ReduceLROnPlateau(object())
    with pytest.raises(ValueError, match="step_size"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(TypeError, match="milestones"):
        lr_scheduler.MultiStepLR(opt, milestones=[2.5])
    with pytest.raises(ValueError, match="initial_lr"):
        lr_scheduler.ExponentialLR(opt, gamma=0.9, last_epoch=4)
    with pytest.raises(ValueError, match="factor"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold_mode"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 2 min_lrs"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1])


def test_plateau_min_lrs_must_follow_new_groups() -> None:
    opt = make_optimizer(minidl)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [minidl.tensor(np.zeros(1), requires_grad=True)]})
    sched.step(1.0)
    with pytest.raises(ValueError, match="3 parameter groups but 2 min_lrs"):
        sched.step(2.0)


def test_bad_state_dicts_raise() -> None:
    sched = lr_scheduler.StepLR(make_optimizer(minidl), step_size=2)
    sd = sched.state_dict()
    with pytest.raises(ValueError, match="missing"):
        sched.load_state_dict({k: v for k, v in sd.items() if k != "gamma"})
    with pytest.raises(ValueError, match="unknown"):
        sched.load_state_dict({**sd, "optimizer": None})
    with pytest.raises(ValueError, match="expected a dict"):
        sched.load_state_dict([sd])
