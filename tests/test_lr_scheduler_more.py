"""The schedulers beyond StepLR/MultiStepLR/ExponentialLR/CosineAnnealingLR/ReduceLROnPlateau: learning
rates (and cycled momenta) equal to PyTorch's at every step, over many options; SequentialLR and
ChainedScheduler compositions; step(epoch); state dicts; errors."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import optim
from minidl.optim import lr_scheduler

LRS = (0.1, 0.02)
EPOCHS = 60


class Warmup:
    """A callable object with state (saved in the state dict as its __dict__, as in PyTorch)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, e: int) -> float:
        return min(1.0, (e + 1) / self.n)


def lam(e: int) -> float:
    return 0.95**e


def make_optimizer(lib: Any, kind: str = "sgd") -> Any:
    mod = optim if lib is minidl else torch.optim
    params = [lib.tensor(np.zeros(2), requires_grad=True) for _ in LRS]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, LRS, strict=True)]
    if kind == "adam":
        return mod.Adam(groups, lr=1.0)
    return mod.SGD(groups, lr=1.0, momentum=0.9 if kind == "momentum" else 0)


def lib_module(lib: Any) -> Any:
    return lr_scheduler if lib is minidl else torch.optim.lr_scheduler


# name, keyword arguments (a function of the library, so nested schedulers are built per library), optimizer
CASES: list[tuple[str, Any, str]] = [
    ("LambdaLR", lambda L, o: dict(lr_lambda=lam), "sgd"),
    ("LambdaLR", lambda L, o: dict(lr_lambda=[lam, Warmup(7)]), "sgd"),
    ("MultiplicativeLR", lambda L, o: dict(lr_lambda=lambda e: 0.9 if e % 3 else 1.05), "sgd"),
    ("ConstantLR", lambda L, o: dict(), "sgd"),
    ("ConstantLR", lambda L, o: dict(factor=0.5, total_iters=12), "sgd"),
    ("LinearLR", lambda L, o: dict(), "sgd"),
    ("LinearLR", lambda L, o: dict(start_factor=0.1, end_factor=0.7, total_iters=25), "sgd"),
    ("LinearLR", lambda L, o: dict(start_factor=1.0, end_factor=0.0, total_iters=40), "sgd"),
    ("PolynomialLR", lambda L, o: dict(), "sgd"),
    ("PolynomialLR", lambda L, o: dict(total_iters=30, power=2.0), "sgd"),
    ("PolynomialLR", lambda L, o: dict(total_iters=45, power=0.5), "sgd"),
    ("CosineAnnealingWarmRestarts", lambda L, o: dict(T_0=10), "sgd"),
    ("CosineAnnealingWarmRestarts", lambda L, o: dict(T_0=5, T_mult=2, eta_min=0.001), "sgd"),
    ("CosineAnnealingWarmRestarts", lambda L, o: dict(T_0=3, T_mult=3), "sgd"),
    ("CyclicLR", lambda L, o: dict(base_lr=0.01, max_lr=0.1, step_size_up=7), "momentum"),
    ("CyclicLR", lambda L, o: dict(base_lr=[0.01, 0.002], max_lr=[0.1, 0.05], step_size_up=5, step_size_down=9,
                                   mode="triangular2"), "momentum"),
    ("CyclicLR", lambda L, o: dict(base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range", gamma=0.97,
                                   base_momentum=0.7, max_momentum=0.95), "adam"),
    ("CyclicLR", lambda L, o: dict(base_lr=0.01, max_lr=0.1, step_size_up=4, cycle_momentum=False,
                                   scale_fn=lambda x: 1 / x, scale_mode="cycle"), "sgd"),
    ("CyclicLR", lambda L, o: dict(base_lr=0.01, max_lr=0.1, step_size_up=4, scale_fn=lambda x: 0.99**x,
                                   scale_mode="iterations"), "momentum"),
    ("OneCycleLR", lambda L, o: dict(max_lr=0.1, total_steps=EPOCHS), "momentum"),
    ("OneCycleLR", lambda L, o: dict(max_lr=[0.1, 0.3], epochs=6, steps_per_epoch=10, pct_start=0.25,
                                     anneal_strategy="linear"), "adam"),
    ("OneCycleLR", lambda L, o: dict(max_lr=0.1, total_steps=EPOCHS, three_phase=True, div_factor=10.0,
                                     final_div_factor=100.0, base_momentum=[0.8, 0.7], max_momentum=0.9), "momentum"),
    ("OneCycleLR", lambda L, o: dict(max_lr=0.2, total_steps=EPOCHS, cycle_momentum=False), "sgd"),
    ("SequentialLR", lambda L, o: dict(schedulers=[L.LinearLR(o, start_factor=0.1, total_iters=5),
                                                   L.ExponentialLR(o, gamma=0.9)], milestones=[5]), "sgd"),
    ("SequentialLR", lambda L, o: dict(schedulers=[L.ConstantLR(o, factor=0.5, total_iters=4),
                                                   L.StepLR(o, step_size=6, gamma=0.5),
                                                   L.CosineAnnealingLR(o, T_max=10)], milestones=[8, 30]), "sgd"),
    ("SequentialLR", lambda L, o: dict(schedulers=[L.LinearLR(o, start_factor=0.2, total_iters=10),
                                                   L.MultiStepLR(o, milestones=[5, 15], gamma=0.3),
                                                   L.PolynomialLR(o, total_iters=10)], milestones=[3, 20]), "sgd"),
    ("ChainedScheduler", lambda L, o: dict(schedulers=[L.ConstantLR(o, factor=0.1, total_iters=2),
                                                       L.ExponentialLR(o, gamma=0.9)]), "sgd"),
    ("ChainedScheduler", lambda L, o: dict(schedulers=[L.LinearLR(o, start_factor=0.5, total_iters=8),
                                                       L.CosineAnnealingLR(o, T_max=12),
                                                       L.MultiplicativeLR(o, lr_lambda=lam)]), "sgd"),
]
IDS = [f"{i}-{c[0]}" for i, c in enumerate(CASES)]


def build(lib: Any, name: str, make_kwargs: Any, kind: str) -> tuple[Any, Any]:
    opt = make_optimizer(lib, kind)
    mod = lib_module(lib)
    kwargs = make_kwargs(mod, opt)
    if name == "ChainedScheduler":
        return opt, mod.ChainedScheduler(kwargs["schedulers"])
    return opt, getattr(mod, name)(opt, **kwargs)


def momenta(opt: Any) -> list[Any]:
    return [g.get("momentum", None) if "betas" not in g else g["betas"][0] for g in opt.param_groups]


def history(opt: Any, sched: Any, epochs: int) -> list[tuple[list[float], list[Any]]]:
    out = []
    for _ in range(epochs):
        opt.step()
        sched.step()
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        out.append((sched.get_last_lr(), momenta(opt)))
    return out


@requires_torch
@pytest.mark.parametrize("name, make_kwargs, kind", CASES, ids=IDS)
def test_rates_and_momenta_match_torch_at_every_step(name: str, make_kwargs: Any, kind: str) -> None:
    opt, sched = build(minidl, name, make_kwargs, kind)
    topt, tsched = build(torch, name, make_kwargs, kind)
    assert sched.get_last_lr() == tsched.get_last_lr()
    assert momenta(opt) == momenta(topt)
    for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
        assert [g.get(key) for g in opt.param_groups] == [g.get(key) for g in topt.param_groups], key
    steps = EPOCHS - 1 if name == "OneCycleLR" else EPOCHS
    ours, theirs = history(opt, sched, steps), history(topt, tsched, steps)
    # the recursive formulas are evaluated in PyTorch's order: equal floats, not just close ones
    assert ours == theirs
    assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)


@requires_torch
@pytest.mark.parametrize("name, kwargs", [
    ("ConstantLR", dict(factor=0.5, total_iters=4)), ("LinearLR", dict(start_factor=0.2, total_iters=7)),
    ("PolynomialLR", dict(total_iters=9, power=2.0)), ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 6], gamma=0.5)), ("ExponentialLR", dict(gamma=0.8)),
    ("CosineAnnealingLR", dict(T_max=7)), ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2)),
    ("LambdaLR", dict(lr_lambda=lam)),
])
def test_step_with_an_epoch_uses_the_closed_form_like_torch(name: str, kwargs: dict[str, Any]) -> None:
    results = []
    for lib in (minidl, torch):
        opt = make_optimizer(lib)
        sched = getattr(lib_module(lib), name)(opt, **kwargs)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 1, 8, 8, 2.5 if name == "CosineAnnealingWarmRestarts" else 5, 0, 11):
                opt.step()
                sched.step(epoch)
                lrs.append(sched.get_last_lr())
        results.append(lrs)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-14)
    if name != "CosineAnnealingWarmRestarts":  # its step(epoch) is not deprecated
        with pytest.warns(UserWarning, match="epoch parameter"):
            getattr(lr_scheduler, name)(make_optimizer(minidl), **kwargs).step(2)


@pytest.mark.parametrize("name, make_kwargs, kind", CASES, ids=IDS)
def test_state_dict_round_trip_resumes_exactly(name: str, make_kwargs: Any, kind: str) -> None:
    steps = EPOCHS - 1 if name == "OneCycleLR" else EPOCHS
    opt, sched = build(minidl, name, make_kwargs, kind)
    straight = history(opt, sched, steps)
    opt, sched = build(minidl, name, make_kwargs, kind)
    first = history(opt, sched, 20)
    opt_sd = json.loads(json.dumps(opt.state_dict()))
    sched_sd = json.loads(json.dumps(sched.state_dict()))
    opt2, sched2 = build(minidl, name, make_kwargs, kind)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    for g in opt2.param_groups:  # JSON turned Adam's betas into a list; the optimizer restores the tuple
        assert not isinstance(g.get("betas"), list)
    rest = history(opt2, sched2, steps - 20)
    assert [lr for lr, _ in first + rest] == [lr for lr, _ in straight]


def test_lambda_state_dict_saves_callable_objects_not_functions() -> None:
    opt = make_optimizer(minidl)
    sched = lr_scheduler.LambdaLR(opt, [lam, Warmup(7)])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"n": 7}]
    other = lr_scheduler.LambdaLR(make_optimizer(minidl), [lam, Warmup(3)])
    other.load_state_dict(sd)
    assert other.lr_lambdas[1].n == 7


def test_linear_warmup_then_cosine_by_hand() -> None:
    """The common recipe: 5 epochs of linear warm-up from 10%, then cosine decay (closed forms as oracle)."""
    opt = make_optimizer(minidl)
    warm = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
    cos = lr_scheduler.CosineAnnealingLR(opt, T_max=20)
    sched = lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[5])
    lrs = [sched.get_last_lr()[0]] + [lr[0] for lr, _ in history(opt, sched, 25)]
    expected = [0.1 * (0.1 + 0.9 * e / 5) for e in range(5)] + \
               [0.1 * (1 + math.cos(math.pi * e / 20)) / 2 for e in range(21)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_errors() -> None:
    opt = make_optimizer(minidl)
    L = lr_scheduler
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        L.LambdaLR(opt, [lam])
    with pytest.raises(TypeError, match="should be a function"):
        L.MultiplicativeLR(opt, 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        L.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="greater than 0"):
        L.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="T_0"):
        L.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult"):
        L.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="momentum or beta1"):
        L.CyclicLR(optim.Adagrad(opt.param_groups[0]["params"]), base_lr=0.1, max_lr=1.0)
    with pytest.raises(ValueError, match="mode is invalid"):
        L.CyclicLR(opt, 0.1, 1.0, mode="square", cycle_momentum=False)
    with pytest.raises(ValueError, match="base_lr must have the same length"):
        L.CyclicLR(opt, [0.1], 1.0, cycle_momentum=False)
    with pytest.raises(ValueError, match="total_steps OR"):
        L.OneCycleLR(opt, max_lr=0.1, cycle_momentum=False)
    with pytest.raises(ValueError, match="pct_start"):
        L.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1, cycle_momentum=False)
    with pytest.raises(ValueError, match="anneal_strategy"):
        L.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp", cycle_momentum=False)
    one = L.OneCycleLR(make_optimizer(minidl), max_lr=0.1, total_steps=3, cycle_momentum=False)
    for _ in range(3):
        one.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        one.step()
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        L.SequentialLR(opt, [L.StepLR(opt, 2)], milestones=[3])
    other = make_optimizer(minidl)
    with pytest.raises(ValueError, match="same optimizer"):
        L.SequentialLR(opt, [L.StepLR(opt, 2), L.StepLR(other, 2)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        L.ChainedScheduler([L.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="at least one scheduler"):
        L.ChainedScheduler([])
