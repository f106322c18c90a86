"""minidl.optim.LBFGS: iterates, evaluation counts and state equal to PyTorch's, with and without the
strong-Wolfe line search; state dicts; errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import optim

OPTIONS = [
    {},
    {"line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "max_iter": 5, "history_size": 3},
    {"lr": 1.0, "max_iter": 30, "history_size": 2, "line_search_fn": "strong_wolfe"},
    {"max_iter": 10, "max_eval": 12, "line_search_fn": "strong_wolfe"},
    {"tolerance_grad": 1e-3, "tolerance_change": 1e-4},
    {"lr": 0.1, "max_iter": 1},
]
IDS = [str(o) for o in OPTIONS]


def rosenbrock(v: np.ndarray) -> tuple[float, np.ndarray]:
    """Σ 100(vᵢ₊₁ − vᵢ²)² + (1 − vᵢ)² and its gradient."""
    r = v[1:] - v[:-1] ** 2
    loss = float(np.sum(100 * r**2 + (1 - v[:-1]) ** 2))
    g = np.zeros_like(v)
    g[:-1] += -400 * v[:-1] * r - 2 * (1 - v[:-1])
    g[1:] += 200 * r
    return loss, g


_RNG = np.random.default_rng(3)
_M = _RNG.standard_normal((6, 6))
_H, _C = _M @ _M.T + np.eye(6), _RNG.standard_normal(6)


def quartic(v: np.ndarray) -> tuple[float, np.ndarray]:
    """½ yᵀHy + Σ y⁴ with y = v − c, and its gradient."""
    y = v - _C
    return float(0.5 * y @ _H @ y + np.sum(y**4)), _H @ y + 4 * y**3


STARTS = {"rosenbrock": [np.array([-1.2, 1.0, -0.5]), np.array([[1.0], [0.8]])], "quartic": [_RNG.standard_normal(6)]}
FUNCTIONS = {"rosenbrock": rosenbrock, "quartic": quartic}


def run(lib: Any, kind: str, options: dict[str, Any], steps: int = 4, dtype: Any = np.float64) -> dict[str, Any]:
    """Optimise FUNCTIONS[kind] with each library's LBFGS. The closure computes the loss and gradient in
    NumPy and assigns the gradients, so both optimizers see bit-identical values: only their own arithmetic
    can make them differ (autograd's rounding would otherwise be amplified by these ill-conditioned problems)."""
    params = [lib.tensor(a.astype(dtype), requires_grad=True) for a in STARTS[kind]]
    opt = (optim.LBFGS if lib is minidl else torch.optim.LBFGS)(params, **options)
    calls = []

    def closure() -> Any:
        calls.append(1)
        flat = np.concatenate([p.detach().numpy().reshape(-1) for p in params]).astype(np.float64)
        loss, grad = FUNCTIONS[kind](flat)
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = lib.tensor(grad[offset:offset + n].reshape(tuple(p.shape)).astype(dtype))
            offset += n
        return lib.tensor(loss, dtype=lib.float64)

    losses = [float(opt.step(closure)) for _ in range(steps)]
    state = opt.state[params[0]]
    return {"params": [p.detach().numpy().copy() for p in params], "losses": losses, "calls": len(calls),
            "func_evals": state["func_evals"], "n_iter": state["n_iter"], "ro": [float(r) for r in state["ro"]],
            "d": np.asarray(state["d"]), "t": float(state["t"]), "H_diag": float(state["H_diag"]),
            "keys": sorted(state)}


@requires_torch
@pytest.mark.parametrize("kind", ["rosenbrock", "quartic"])
@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
def test_iterates_and_counts_match_torch(kind: str, options: dict[str, Any]) -> None:
    """Same evaluations and iterations; same iterates to 1e-9 on the well-conditioned bowl. Rosenbrock's
    valley amplifies last-bit differences (PyTorch's ``add_(x, alpha=a)`` rounds once, as a fused
    multiply-add; NumPy rounds the product and the sum), so there 1e-4 after 80 iterations."""
    ours, theirs = run(minidl, kind, options), run(torch, kind, options)
    assert ours["calls"] == theirs["calls"] and ours["func_evals"] == theirs["func_evals"]
    assert ours["n_iter"] == theirs["n_iter"] and ours["keys"] == theirs["keys"]
    rtol = 1e-9 if kind == "quartic" else 1e-4
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=rtol, atol=1e-12)
    for p, tp in zip(ours["params"], theirs["params"], strict=True):
        np.testing.assert_allclose(p, tp, rtol=rtol, atol=1e-12)
    if kind == "quartic":  # the curvature pairs of the valley's last steps are differences of near-equal values
        np.testing.assert_allclose(ours["ro"], theirs["ro"], rtol=rtol)
        np.testing.assert_allclose(ours["d"], theirs["d"], rtol=rtol * 10, atol=1e-12)
        assert ours["t"] == pytest.approx(theirs["t"], rel=rtol)
        assert ours["H_diag"] == pytest.approx(theirs["H_diag"], rel=rtol)


def test_strong_wolfe_minimises_rosenbrock() -> None:
    result = run(minidl, "rosenbrock", {"line_search_fn": "strong_wolfe", "max_iter": 200, "max_eval": 400}, steps=3)
    np.testing.assert_allclose(np.concatenate([p.reshape(-1) for p in result["params"]]), 1.0, atol=1e-4)
    assert result["losses"][-1] < 1e-8


@requires_torch
def test_float32_parameters_stay_float32_and_track_torch() -> None:
    ours = run(minidl, "quartic", {"line_search_fn": "strong_wolfe"}, steps=2, dtype=np.float32)
    theirs = run(torch, "quartic", {"line_search_fn": "strong_wolfe"}, steps=2, dtype=np.float32)
    assert ours["params"][0].dtype == np.float32
    np.testing.assert_allclose(ours["params"][0], theirs["params"][0], rtol=1e-4, atol=1e-5)


def test_state_dict_round_trip_continues_identically() -> None:
    options = {"history_size": 4, "max_iter": 3, "line_search_fn": "strong_wolfe"}
    x = minidl.tensor(STARTS["quartic"][0].copy(), requires_grad=True)
    opt = optim.LBFGS([x], **options)

    def closure_for(o: Any, p: Any) -> Any:
        def closure() -> Any:
            o.zero_grad()
            loss, grad = quartic(p.detach().numpy())
            p.grad = minidl.tensor(grad)
            return minidl.tensor(loss)
        return closure

    for _ in range(2):
        opt.step(closure_for(opt, x))
    sd = opt.state_dict()
    assert sorted(sd["state"][0]) == sorted(["func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro",
                                             "H_diag", "prev_flat_grad", "prev_loss", "al"])
    assert sd["param_groups"][0]["line_search_fn"] == "strong_wolfe"
    x2 = minidl.tensor(x.detach().numpy().copy(), requires_grad=True)
    opt2 = optim.LBFGS([x2], **options)
    opt2.load_state_dict(sd)
    opt.step(closure_for(opt, x))
    opt2.step(closure_for(opt2, x2))
    np.testing.assert_array_equal(x.detach().numpy(), x2.detach().numpy())


def test_parameters_without_gradient_count_as_zero() -> None:
    x = minidl.tensor(np.array([3.0, -1.0]), requires_grad=True)
    unused = minidl.tensor(np.array([5.0]), requires_grad=True)
    opt = optim.LBFGS([x, unused], line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), 0.0, atol=1e-6)
    assert unused.item() == 5.0


def test_errors() -> None:
    p = minidl.tensor(np.zeros(2), requires_grad=True)
    q = minidl.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [q]}])
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([p]).add_param_group({"params": [q]})
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([p], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="lr"):
        optim.LBFGS([p], lr=-1.0)
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([p]).step(None)
    assert optim.LBFGS([p], max_iter=8).defaults["max_eval"] == 10  # PyTorch's max_iter·5/4
