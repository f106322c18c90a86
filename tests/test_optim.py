"""minidl.optim: step-for-step parity with torch.optim, state dicts, errors, convergence on a quadratic."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import optim

SHAPES = [(3, 4), (5,), (2, 1, 3)]
STEPS = 24
RTOL, ATOL = 1e-10, 1e-12

# (optimizer name, keyword options): every option of every optimizer, alone and combined
CASES: list[tuple[str, dict[str, Any]]] = [
    ("SGD", {}),
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.5, weight_decay=0.05, maximize=True)),
    ("Adam", {}),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", {}),
    ("AdamW", dict(lr=0.05, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05, amsgrad=True, weight_decay=0.2, maximize=True)),
    ("RMSprop", {}),
    ("RMSprop", dict(alpha=0.9)),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(momentum=0.9)),
    ("RMSprop", dict(weight_decay=0.1)),
    ("RMSprop", dict(maximize=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.95, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.05, eps=1e-6,
                     maximize=True)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.8)),
    ("Adadelta", dict(rho=0.0, eps=1e-3)),
    ("Adadelta", dict(weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Adadelta", dict(lr=0.3, rho=0.95, eps=1e-4, weight_decay=0.05, maximize=True)),
    ("Adamax", {}),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.3, 0.5), eps=1e-3)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, momentum_decay=0.1)),
    ("NAdam", dict(lr=0.05, betas=(0.3, 0.8), eps=1e-3)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.0, maximize=True)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, betas=(0.4, 0.7))),  # rho_t passes 5 within the run: both branches
    ("RAdam", dict(lr=0.05, eps=1e-3, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05, betas=(0.6, 0.9), maximize=True)),
    ("ASGD", {}),
    ("ASGD", dict(lr=0.1)),
    ("ASGD", dict(lr=0.1, lambd=0.01, alpha=0.5)),
    ("ASGD", dict(lr=0.1, t0=5)),  # averaging starts within the run
    ("ASGD", dict(lr=0.05, t0=3, lambd=0.1, alpha=1.0, weight_decay=0.1, maximize=True)),
]
CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]

# parameter groups with different learning rates and per-group options: (defaults, [group options])
GROUP_CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    ("SGD", dict(lr=0.05), [dict(lr=0.1, momentum=0.9), dict(lr=0.02, momentum=0.5, nesterov=True)]),
    ("Adam", dict(lr=0.02), [dict(lr=0.1), dict(lr=0.01, amsgrad=True, betas=(0.8, 0.99))]),
    ("AdamW", dict(lr=0.02), [dict(lr=0.1, weight_decay=0.0), dict(weight_decay=0.3)]),
    ("RMSprop", dict(lr=0.01), [dict(centered=True), dict(lr=0.001, momentum=0.3)]),
    ("Adagrad", dict(lr=0.1), [dict(lr=0.3), dict(lr=0.05, lr_decay=0.1)]),
    ("Adadelta", dict(lr=0.5), [dict(rho=0.5), dict(lr=1.0, weight_decay=0.1)]),
    ("Adamax", dict(lr=0.02), [dict(lr=0.1), dict(betas=(0.5, 0.9))]),
    ("NAdam", dict(lr=0.02), [dict(momentum_decay=0.01), dict(lr=0.1, weight_decay=0.1)]),
    ("RAdam", dict(lr=0.02), [dict(lr=0.1), dict(betas=(0.5, 0.8))]),
    ("ASGD", dict(lr=0.05), [dict(t0=4), dict(lr=0.1, lambd=0.01)]),
]


# --------------------------------------------------------------------------------------------- helpers
def initial_values(seed: int = 0, dtype: Any = np.float64) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def grad_sequence(steps: int, seed: int = 1, dtype: Any = np.float64) -> list[list[np.ndarray | None]]:
    """Random gradients per step; parameter 1 has no gradient every fourth step (it must be skipped)."""
    rng = np.random.default_rng(seed)
    seq = []
    for step in range(steps):
        grads: list[np.ndarray | None] = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        if step % 4 == 2:
            grads[1] = None
        seq.append(grads)
    return seq


def minidl_params(values: list[np.ndarray]) -> list[minidl.Tensor]:
    return [minidl.tensor(v.copy(), requires_grad=True) for v in values]


def torch_params(values: list[np.ndarray]) -> list[Any]:
    return [torch.tensor(v.copy(), requires_grad=True) for v in values]


def set_grads(params: list[Any], grads: list[np.ndarray | None], wrap: Any) -> None:
    for p, g in zip(params, grads, strict=True):
        p.grad = None if g is None else wrap(g.copy())


def grouped(params: list[Any], groups: list[dict[str, Any]] | None) -> list[Any]:
    """Parameter 0 in the first group, the others in the second (or a flat list without groups)."""
    if groups is None:
        return params
    return [{"params": params[:1], **groups[0]}, {"params": params[1:], **groups[1]}]


def make_optimizer(name: str, params: list[Any], kwargs: dict[str, Any], groups: Any = None) -> Any:
    return getattr(optim, name)(grouped(params, groups), **kwargs)


def make_torch_optimizer(name: str, params: list[Any], kwargs: dict[str, Any], groups: Any = None) -> Any:
    return getattr(torch.optim, name)(grouped(params, groups), foreach=False, **kwargs)


def run(opt: Any, params: list[Any], grads: list[list[np.ndarray | None]]) -> None:
    for step_grads in grads:
        set_grads(params, step_grads, minidl.tensor)
        opt.step()


def assert_state_dicts_match(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert set(ours) == {"state", "param_groups"}
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for idx, tstate in theirs["state"].items():
        state = ours["state"][idx]
        assert set(state) == set(tstate), idx
        for key, tval in tstate.items():
            if key == "step":
                assert state[key] == float(tval)
            else:
                np.testing.assert_allclose(state[key], tval.numpy(), rtol=RTOL, atol=ATOL, err_msg=key)
    assert len(ours["param_groups"]) == len(theirs["param_groups"])
    for group, tgroup in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        for key, value in group.items():
            assert key in tgroup, key
            if key == "foreach":  # the tests run torch's single-tensor code (foreach=False); ours keeps None
                continue
            tvalue = tgroup[key]
            assert (list(value) == list(tvalue)) if isinstance(tvalue, tuple) else value == tvalue, key


def assert_plain(value: Any, where: str = "state_dict") -> None:
    """Only tensors, Python numbers, strings, bools, None, lists, tuples and dicts: storable without pickle."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, int | str), f"{where}: key {k!r}"
            assert_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            assert_plain(v, f"{where}[{i}]")
    else:
        assert value is None or type(value) in (bool, int, float, str, minidl.Tensor), f"{where}: {type(value)}"


# --------------------------------------------------------------------------------------------- torch parity
def _parity(name: str, kwargs: dict[str, Any], groups: Any = None) -> None:
    values = initial_values()
    ps, tps = minidl_params(values), torch_params(values)
    arrays = [p.detach().numpy() for p in ps]
    opt = make_optimizer(name, ps, kwargs, groups)
    topt = make_torch_optimizer(name, tps, kwargs, groups)
    for step, grads in enumerate(grad_sequence(STEPS)):
        set_grads(ps, grads, minidl.tensor)
        set_grads(tps, grads, torch.tensor)
        opt.step()
        topt.step()
        for i, (p, tp, g) in enumerate(zip(ps, tps, grads, strict=True)):
            np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=RTOL, atol=ATOL,
                                       err_msg=f"parameter {i} after step {step}")
            if g is not None:
                np.testing.assert_array_equal(p.grad.detach().numpy(), g)  # the gradient is read, never modified
    assert all(p.detach().numpy() is a for p, a in zip(ps, arrays, strict=True))  # updated in place, identity kept
    assert_state_dicts_match(opt.state_dict(), topt.state_dict())


@requires_torch
@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_matches_torch_step_for_step(name: str, kwargs: dict[str, Any]) -> None:
    _parity(name, kwargs)


@requires_torch
@pytest.mark.parametrize("name, defaults, groups", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_param_groups_match_torch(name: str, defaults: dict[str, Any], groups: list[dict[str, Any]]) -> None:
    _parity(name, defaults, groups)


@requires_torch
@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05)),
                                          ("RMSprop", dict(centered=True))])
def test_add_param_group_mid_run_matches_torch(name: str, kwargs: dict[str, Any]) -> None:
    values = initial_values()
    ps, tps = minidl_params(values), torch_params(values)
    opt = make_optimizer(name, ps[:1], kwargs)
    topt = make_torch_optimizer(name, tps[:1], kwargs)
    for step, grads in enumerate(grad_sequence(STEPS)):
        if step == 8:
            opt.add_param_group({"params": ps[1:], "lr": 0.01})
            topt.add_param_group({"params": tps[1:], "lr": 0.01})
            assert set(opt.param_groups[1]) == set(opt.param_groups[0])  # defaults filled in
        n = len(opt.param_groups[0]["params"]) + (len(opt.param_groups[1]["params"]) if step >= 8 else 0)
        set_grads(ps[:n], grads[:n], minidl.tensor)
        set_grads(tps[:n], grads[:n], torch.tensor)
        opt.step()
        topt.step()
        for p, tp in zip(ps, tps, strict=True):
            np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=RTOL, atol=ATOL)
    assert_state_dicts_match(opt.state_dict(), topt.state_dict())


@requires_torch
@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                          ("Adam", dict(lr=0.05, amsgrad=True)), ("AdamW", dict(lr=0.05)),
                                          ("RMSprop", dict(momentum=0.5)), ("Adagrad", dict(lr=0.2)),
                                          ("Adadelta", dict(lr=1.0)), ("Adamax", dict(lr=0.1)), ("NAdam", dict(lr=0.1)),
                                          ("RAdam", dict(lr=0.1)), ("ASGD", dict(lr=0.1, t0=5))])
def test_quadratic_loss_through_autograd_matches_torch(name: str, kwargs: dict[str, Any]) -> None:
    """Gradients from each library's own backward of f(x) = Σ d·(x − c)², then the optimizers' steps."""
    rng = np.random.default_rng(7)
    x0, c, d = rng.standard_normal(6), rng.standard_normal(6), rng.uniform(0.5, 2.0, 6)
    x, tx = minidl.tensor(x0.copy(), requires_grad=True), torch.tensor(x0.copy(), requires_grad=True)
    opt, topt = getattr(optim, name)([x], **kwargs), getattr(torch.optim, name)([tx], foreach=False, **kwargs)
    for _ in range(20):
        for o, var, cc, dd in ((opt, x, minidl.tensor(c), minidl.tensor(d)),
                               (topt, tx, torch.tensor(c), torch.tensor(d))):
            o.zero_grad()
            ((var - cc) * (var - cc) * dd).sum().backward()
            o.step()
        np.testing.assert_allclose(x.detach().numpy(), tx.detach().numpy(), rtol=RTOL, atol=ATOL)


@requires_torch
@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_float32_stays_float32_and_matches_torch(name: str, kwargs: dict[str, Any]) -> None:
    values = initial_values(dtype=np.float32)
    ps, tps = minidl_params(values), torch_params(values)
    opt, topt = make_optimizer(name, ps, kwargs), make_torch_optimizer(name, tps, kwargs)
    for grads in grad_sequence(12, dtype=np.float32):
        set_grads(ps, grads, minidl.tensor)
        set_grads(tps, grads, torch.tensor)
        opt.step()
        topt.step()
    for p, tp in zip(ps, tps, strict=True):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=2e-5, atol=2e-6)
    for state in opt.state_dict()["state"].values():
        for key, value in state.items():
            if key != "step":
                assert value.dtype == np.float32, key


# --------------------------------------------------------------------------------------------- state dicts
@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_state_dict_round_trip_resumes_exactly(name: str, kwargs: dict[str, Any]) -> None:
    values, grads = initial_values(), grad_sequence(20)
    straight = minidl_params(values)
    run(make_optimizer(name, straight, kwargs), straight, grads)

    first = minidl_params(values)
    opt = make_optimizer(name, first, kwargs)
    run(opt, first, grads[:10])
    sd = opt.state_dict()
    assert_plain(sd)
    resumed = minidl_params([p.detach().numpy() for p in first])
    fresh = make_optimizer(name, resumed, {**kwargs, "lr": 123.0})  # the saved lr must win
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for s in sd["state"].values():  # loading copied the arrays: the checkpoint can't alias live state
        for v in s.values():
            if isinstance(v, minidl.Tensor):
                v[...] = np.nan
    run(fresh, resumed, grads[10:])
    for p, q in zip(straight, resumed, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_state_dict_holds_copies() -> None:
    ps = minidl_params(initial_values())
    opt = optim.Adam(ps, lr=0.1)
    run(opt, ps, grad_sequence(3))
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"][...] = 7.0
    sd["param_groups"][0]["lr"] = 5.0
    assert not np.any(opt.state[ps[0]]["exp_avg"] == 7.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_state_dict_layout_and_json_style_keys() -> None:
    ps = minidl_params(initial_values())
    opt = optim.Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}], betas=(0.8, 0.9))
    run(opt, ps, grad_sequence(3))
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.8, 0.9)
    assert sd["state"][1]["step"] == 2  # parameter 1 had no gradient at the third step
    assert sd["state"][2]["exp_avg"].shape == SHAPES[2]
    # a checkpoint written as JSON has string keys; loading still works and betas become a tuple again
    sd["state"] = {str(k): v for k, v in sd["state"].items()}
    other = minidl_params(initial_values())
    opt2 = optim.Adam([{"params": other[:2]}, {"params": other[2:]}])
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["betas"] == (0.8, 0.9) and opt2.param_groups[1]["lr"] == 0.5
    np.testing.assert_array_equal(opt2.state[other[2]]["exp_avg_sq"], opt.state[ps[2]]["exp_avg_sq"])


def test_load_state_dict_casts_to_parameter_dtype() -> None:
    ps = minidl_params(initial_values())
    opt = optim.RMSprop(ps, momentum=0.5, centered=True)
    run(opt, ps, grad_sequence(3))
    ps32 = minidl_params(initial_values(dtype=np.float32))
    opt32 = optim.RMSprop(ps32, momentum=0.5, centered=True)
    opt32.load_state_dict(opt.state_dict())
    for key in ("square_avg", "momentum_buffer", "grad_avg"):
        assert opt32.state[ps32[0]][key].dtype == np.float32
    run(opt32, ps32, grad_sequence(2, dtype=np.float32))
    assert all(p.dtype == np.float32 for p in ps32)


def _adam_state_dict() -> tuple[Any, dict[str, Any]]:
    ps = minidl_params(initial_values())
    opt = optim.Adam([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.05, amsgrad=True)
    run(opt, ps, grad_sequence(3))
    return opt, opt.state_dict()


def _drop(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


BAD_STATE_DICTS = {
    "not a dict": (lambda sd: [sd["state"], sd["param_groups"]], "expected a dict"),
    "no state": (lambda sd: _drop(sd, "state"), "expected a dict with keys"),
    "group count": (lambda sd: {**sd, "param_groups": sd["param_groups"][:1]},
                    "has 1 parameter group.*optimizer has 2"),
    "group size": (lambda sd: {**sd, "param_groups": [{**sd["param_groups"][0], "params": [0]},
                                                      sd["param_groups"][1]]},
                   "group 0 has 1 parameter.*but 2"),
    "array shape": (lambda sd: {**sd, "state": {**sd["state"], 0: {**sd["state"][0],
                                                                   "exp_avg": np.zeros((4, 3))}}},
                    r"'exp_avg' has shape \(4, 3\), but the parameter has shape \(3, 4\)"),
    "unknown index": (lambda sd: {**sd, "state": {**sd["state"], 9: sd["state"][0]}}, "parameter index 9"),
    "missing entry": (lambda sd: {**sd, "state": {**sd["state"], 0: _drop(sd["state"][0], "max_exp_avg_sq")}},
                      "missing"),
    "unknown entry": (lambda sd: {**sd, "state": {**sd["state"], 0: {**sd["state"][0], "junk": np.zeros(1)}}},
                      "unknown"),
    "bad step": (lambda sd: {**sd, "state": {**sd["state"], 0: {**sd["state"][0], "step": -1}}}, "'step'"),
    "not an array": (lambda sd: {**sd, "state": {**sd["state"], 0: {**sd["state"][0], "exp_avg": 1.0}}},
                     "must be an array"),
    "bad lr": (lambda sd: {**sd, "param_groups": [{**sd["param_groups"][0], "lr": -1.0},
                                                  sd["param_groups"][1]]}, "invalid lr"),
}


@pytest.mark.parametrize("case", list(BAD_STATE_DICTS))
def test_bad_state_dicts_raise_and_change_nothing(case: str) -> None:
    mutate, message = BAD_STATE_DICTS[case]
    opt, sd = _adam_state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(mutate(sd))
    after = opt.state_dict()
    assert after["param_groups"] == sd["param_groups"]
    for idx, state in sd["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(after["state"][idx][key], value)


# --------------------------------------------------------------------------------------------- behaviour
def test_zero_grad() -> None:
    ps = minidl_params(initial_values())
    opt = optim.SGD(ps, lr=0.1)
    set_grads(ps, grad_sequence(1)[0], minidl.tensor)
    arrays = [p.grad.detach().numpy() for p in ps]
    opt.zero_grad(set_to_none=False)
    for p, a in zip(ps, arrays, strict=True):
        assert p.grad.detach().numpy() is a and not np.any(a)
    opt.zero_grad()
    assert all(p.grad is None for p in ps)
    before = [p.detach().numpy().copy() for p in ps]
    opt.step()  # nothing has a gradient: nothing changes, no state is created
    assert all(np.array_equal(p.detach().numpy(), b) for p, b in zip(ps, before, strict=True))
    assert opt.state_dict()["state"] == {}


def test_step_skips_parameters_without_gradient() -> None:
    ps = minidl_params(initial_values())
    opt = optim.Adam(ps, lr=0.1)
    ps[0].grad = minidl.tensor(np.ones(SHAPES[0]))
    before = ps[1].detach().numpy().copy()
    opt.step()
    np.testing.assert_array_equal(ps[1].detach().numpy(), before)
    assert ps[1] not in opt.state and opt.state[ps[0]]["step"] == 1
    assert list(opt.state_dict()["state"]) == [0]


def test_closure_is_evaluated_with_grad_and_its_loss_returned() -> None:
    c = np.array([1.0, -2.0, 3.0])
    x = minidl.tensor(np.zeros(3), requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    calls = []

    def closure() -> minidl.Tensor:
        calls.append(1)
        opt.zero_grad()
        loss = ((x - minidl.tensor(c)) * (x - minidl.tensor(c))).sum()
        loss.backward()
        return loss

    with minidl.no_grad():  # step re-enables recording for the closure, as in PyTorch
        loss = opt.step(closure)
    assert len(calls) == 1
    assert loss.item() == pytest.approx(float(c @ c))
    # d/dx Σ(x − c)² = 2(x − c) = −2c at x = 0, so one SGD step lands on 0.2·c
    np.testing.assert_allclose(x.detach().numpy(), 0.2 * c, rtol=1e-15)
    assert opt.step() is None


def test_scratch_buffers_never_alias_parameters_or_grads() -> None:
    """Parameters of several sizes share scratch space; each update must use only its own values."""
    big, small = minidl.tensor(np.ones(50), requires_grad=True), minidl.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([small, big], lr=0.1, weight_decay=0.1, maximize=True)
    big.grad, small.grad = minidl.tensor(np.full(50, 2.0)), minidl.tensor(np.full(3, -1.0))
    opt.step()
    # first Adam step moves each coordinate by lr·sign(g) (up to eps), with g = −grad + 0.1·θ
    np.testing.assert_allclose(big.detach().numpy(), 1.1 * np.ones(50), rtol=1e-7)
    np.testing.assert_allclose(small.detach().numpy(), 0.9 * np.ones(3), rtol=1e-7)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                                  "RAdam", "ASGD"])
def test_zero_learning_rate_keeps_parameters_and_advances_state(name: str) -> None:
    """lr = 0 is valid (a cosine schedule reaches it): no division by zero, parameters stay put."""
    ps = minidl_params(initial_values())
    before = [p.detach().numpy().copy() for p in ps]
    opt = getattr(optim, name)(ps, lr=0.0, **({"momentum": 0.9} if name == "SGD" else {}))
    run(opt, ps, grad_sequence(3))
    for p, b in zip(ps, before, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), b)
    state = opt.state_dict()["state"][0]
    assert state.get("step", 3) == 3 and all(np.any(v) for v in state.values() if isinstance(v, np.ndarray))


BAD_OPTIONS = [
    ("SGD", dict(lr=-0.1), "lr"), ("SGD", dict(lr=float("nan")), "lr"),
    ("SGD", dict(momentum=-0.5), "momentum"),
    ("SGD", dict(weight_decay=-1e-3), "weight_decay"), ("SGD", dict(nesterov=True), "Nesterov"),
    ("SGD", dict(momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    ("Adam", dict(lr=-1.0), "lr"), ("Adam", dict(betas=(1.0, 0.999)), "index 0"),
    ("Adam", dict(betas=(-0.1, 0.999)), "index 0"), ("Adam", dict(betas=(0.9, 1.0)), "index 1"),
    ("Adam", dict(eps=-1e-8), "eps"), ("Adam", dict(weight_decay=-0.1), "weight_decay"),
    ("AdamW", dict(betas=(0.9, 1.5)), "index 1"), ("AdamW", dict(weight_decay=-0.1), "weight_decay"),
    ("RMSprop", dict(lr=-1.0), "lr"), ("RMSprop", dict(alpha=-0.1), "alpha"),
    ("RMSprop", dict(eps=-1.0), "eps"),
    ("RMSprop", dict(momentum=-0.1), "momentum"), ("RMSprop", dict(weight_decay=-0.1), "weight_decay"),
    ("Adagrad", dict(lr=-1.0), "lr"), ("Adagrad", dict(lr_decay=-0.1), "lr_decay"),
    ("Adagrad", dict(weight_decay=-0.1), "weight_decay"),
    ("Adagrad", dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    ("Adagrad", dict(eps=-1.0), "eps"),
    ("Adadelta", dict(lr=-1.0), "lr"), ("Adadelta", dict(rho=1.5), "rho"), ("Adadelta", dict(eps=-1.0), "eps"),
    ("Adadelta", dict(weight_decay=-0.1), "weight_decay"),
    ("Adamax", dict(lr=-1.0), "lr"), ("Adamax", dict(betas=(1.0, 0.9)), "index 0"), ("Adamax", dict(eps=-1.0), "eps"),
    ("NAdam", dict(lr=-1.0), "lr"), ("NAdam", dict(betas=(0.9, 1.0)), "index 1"),
    ("NAdam", dict(momentum_decay=-0.1), "momentum_decay"), ("NAdam", dict(weight_decay=-0.1), "weight_decay"),
    ("RAdam", dict(lr=-1.0), "lr"), ("RAdam", dict(betas=(-0.1, 0.9)), "index 0"), ("RAdam", dict(eps=-1.0), "eps"),
    ("ASGD", dict(lr=-1.0), "lr"), ("ASGD", dict(weight_decay=-0.1), "weight_decay"),
]


@pytest.mark.parametrize("name, kwargs, message", BAD_OPTIONS)
def test_invalid_hyperparameters_raise(name: str, kwargs: dict[str, Any], message: str) -> None:
    p = minidl.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([p], **kwargs)
    with pytest.raises(ValueError, match=message):  # options given per group are checked too
        getattr(optim, name)([{"params": [p], **kwargs}])


@requires_torch
@pytest.mark.parametrize("name, kwargs, message", [c for c in BAD_OPTIONS if "nan" not in str(c[1])])
def test_torch_rejects_the_same_hyperparameters(name: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)


def test_bad_parameters_raise() -> None:
    p = minidl.tensor(np.zeros(2), requires_grad=True)
    q = minidl.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(p)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2.0])
    with pytest.raises(TypeError, match="floating"):
        optim.SGD([minidl.tensor(np.zeros(2, dtype=np.int64))])
    with pytest.raises(ValueError, match="twice"):
        optim.SGD([p, p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [q, p]}])
    with pytest.raises(TypeError, match="ordered collection"):
        optim.SGD({p})
    with pytest.raises(ValueError, match="'params'"):
        optim.SGD([{"lr": 0.1}])
    opt = optim.SGD([p])
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([q])


def test_bad_gradients_raise() -> None:
    p = minidl.tensor(np.zeros((2, 3)), requires_grad=True)
    opt = optim.Adam([p])
    with pytest.raises(RuntimeError, match="assign a gradient of size"):  # refused on assignment, as in torch
        p.grad = minidl.tensor(np.zeros((3, 2)))
    p.grad = minidl.zeros_like(p)
    p.grad.data = minidl.tensor(np.zeros((3, 2)))  # swapping the storage bypasses that check: step() catches it
    with pytest.raises(ValueError, match=r"Adam.step: gradient has shape \(3, 2\).*shape \(2, 3\)"):
        opt.step()
    p.grad.data = minidl.tensor(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="dtype float32"):
        opt.step()


def test_adagrad_state_exists_before_the_first_step() -> None:
    ps = minidl_params(initial_values())
    opt = optim.Adagrad(ps[:1], initial_accumulator_value=0.25)
    opt.add_param_group({"params": ps[1:], "initial_accumulator_value": 0.5})
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2]
    assert sd["state"][0]["step"] == 0 and np.all(sd["state"][0]["sum"] == 0.25)
    assert np.all(sd["state"][2]["sum"] == 0.5)


def test_scheduler_writable_lr_is_used_and_repr() -> None:
    p = minidl.tensor(np.zeros(2), requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    opt.param_groups[0]["lr"] = np.float64(0.5)  # numpy scalars are fine and become floats in state_dict
    p.grad = minidl.tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), [-0.5, -0.5])
    assert type(opt.state_dict()["param_groups"][0]["lr"]) is float
    assert "Parameter Group 0" in repr(opt) and "lr: 0.5" in repr(opt)


# --------------------------------------------------------------------------------------------- convergence
QUADRATIC_C = np.array([1.5, -2.0, 0.5, 3.0])
QUADRATIC_D = np.array([1.0, 2.0, 0.5, 1.5])

CONVERGENCE = [
    ("SGD", dict(lr=0.1), 300, 0.0),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True), 300, 0.0),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.5, weight_decay=0.2), 400, 0.2),
    ("Adam", dict(lr=0.05), 1500, 0.0),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.2), 1500, 0.2),
    ("AdamW", dict(lr=0.05, weight_decay=0.0), 1500, 0.0),
    ("RMSprop", dict(lr=0.01), 1500, 0.0),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5), 1500, 0.0),
    ("Adagrad", dict(lr=0.5), 1500, 0.0),
    ("Adagrad", dict(lr=0.5, weight_decay=0.2, initial_accumulator_value=0.1), 1500, 0.2),
]


@pytest.mark.parametrize("name, kwargs, steps, l2", CONVERGENCE)
def test_minimises_a_quadratic(name: str, kwargs: dict[str, Any], steps: int, l2: float) -> None:
    """f(x) = ½ Σ d·(x − c)², plus the L2 penalty ½ λ |x|² from weight decay, has its minimum at
    x* = d·c / (d + λ); every optimizer must get there from x = 0 using minidl's own gradients."""
    x = minidl.tensor(np.zeros(4), requires_grad=True)
    c, d = minidl.tensor(QUADRATIC_C), minidl.tensor(QUADRATIC_D)
    opt = getattr(optim, name)([x], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        (((x - c) * (x - c) * d).sum() * 0.5).backward()
        opt.step()
    np.testing.assert_allclose(x.detach().numpy(), QUADRATIC_D * QUADRATIC_C / (QUADRATIC_D + l2), atol=1e-3)


def test_maximize_climbs() -> None:
    x = minidl.tensor(np.zeros(4), requires_grad=True)
    c, d = minidl.tensor(QUADRATIC_C), minidl.tensor(QUADRATIC_D)
    opt = optim.SGD([x], lr=0.1, maximize=True)
    for _ in range(300):
        opt.zero_grad()
        (-((x - c) * (x - c) * d).sum() * 0.5).backward()
        opt.step()
    np.testing.assert_allclose(x.detach().numpy(), QUADRATIC_C, atol=1e-3)
