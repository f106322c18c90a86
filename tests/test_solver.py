"""The homework Solver and the classic update rules.

Oracles: the update formulas written out in the test on the classic linspace inputs, PyTorch's optimizers
(float64 trajectories over several steps), and end-to-end behaviour of Solver runs.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from conftest import requires_torch, torch
from minidl.gradcheck import rel_error
from minidl.models import LinearClassifier, TwoLayerNet
from minidl.training import CheckpointError, Solver, adam, load_tree, rmsprop, sgd, sgd_momentum
from minidl.training.optim_rules import get_update_rule

N, D = 4, 5


def _classic_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    s = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    return w, dw, s


# ------------------------------------------------------------------------------------------ golden values
def test_sgd_golden() -> None:
    w, dw, _ = _classic_inputs()
    next_w, config = sgd(w, dw, {"learning_rate": 1e-3})
    assert rel_error(next_w, w - 1e-3 * dw) < 1e-12
    _, config = sgd(w, dw)
    assert config["learning_rate"] == 1e-2


def test_sgd_momentum_golden() -> None:
    w, dw, v = _classic_inputs()
    next_w, config = sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v.copy()})
    expected_v = 0.9 * v - 1e-3 * dw
    assert rel_error(config["velocity"], expected_v) < 1e-12
    assert rel_error(next_w, w + expected_v) < 1e-12
    # spot check one entry by hand: w[0,0] = -0.4, dw[0,0] = -0.6, v[0,0] = 0.6
    assert next_w[0, 0] == pytest.approx(-0.4 + 0.9 * 0.6 + 1e-3 * 0.6, rel=1e-12)
    _, cfg = sgd_momentum(w, dw)
    assert cfg["momentum"] == 0.9 and cfg["learning_rate"] == 1e-2
    assert np.array_equal(cfg["velocity"], -1e-2 * dw)


def test_rmsprop_golden() -> None:
    w, dw, cache = _classic_inputs()
    next_w, config = rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache.copy()})
    expected_cache = 0.99 * cache + 0.01 * dw**2
    assert rel_error(config["cache"], expected_cache) < 1e-12
    assert rel_error(next_w, w - 1e-2 * dw / (np.sqrt(expected_cache) + 1e-8)) < 1e-12
    _, cfg = rmsprop(w, dw)
    assert (cfg["decay_rate"], cfg["epsilon"], cfg["learning_rate"]) == (0.99, 1e-8, 1e-2)


def test_adam_golden_increments_t_first() -> None:
    w, dw, _ = _classic_inputs()
    m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    config = {"learning_rate": 1e-2, "m": m.copy(), "v": v.copy(), "t": 5}
    next_w, config = adam(w, dw, config)
    t = 6  # incremented before the bias correction
    em = 0.9 * m + 0.1 * dw
    ev = 0.999 * v + 0.001 * dw**2
    ew = w - 1e-2 * (em / (1 - 0.9**t)) / (np.sqrt(ev / (1 - 0.999**t)) + 1e-8)
    assert config["t"] == 6
    assert rel_error(config["m"], em) < 1e-12
    assert rel_error(config["v"], ev) < 1e-12
    assert rel_error(next_w, ew) < 1e-12
    _, cfg = adam(w, dw)
    assert (cfg["beta1"], cfg["beta2"], cfg["epsilon"], cfg["t"]) == (0.9, 0.999, 1e-8, 1)
    # first step from zero moments: m̂ = dw, v̂ = dw², so the step is lr·sign(dw) up to ε
    w1, _ = adam(w, dw, {"learning_rate": 1e-3})
    assert np.allclose(w1, w - 1e-3 * np.sign(dw), atol=1e-9)


@pytest.mark.parametrize("rule", [sgd, sgd_momentum, rmsprop, adam])
def test_rules_keep_float32(rule) -> None:
    w, dw, _ = _classic_inputs()
    cfg = None
    w32, dw32 = w.astype(np.float32), dw.astype(np.float32)
    for _ in range(3):
        w32, cfg = rule(w32, dw32, cfg)
    assert w32.dtype == np.float32
    assert all(v.dtype == np.float32 for v in cfg.values() if isinstance(v, np.ndarray))


def test_rules_reject_bad_input() -> None:
    w, dw, _ = _classic_inputs()
    with pytest.raises(ValueError, match=r"adam: .*\(4, 5\).*\(5, 4\)"):
        adam(w, dw.T)
    with pytest.raises(TypeError, match="sgd"):
        sgd(w, dw, config=[1])
    with pytest.raises(ValueError, match="unknown update_rule"):
        get_update_rule("nesterov")


@requires_torch
@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_rules_match_torch_trajectory(name: str) -> None:
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(5)]
    lr = 3e-2
    p = torch.tensor(w0.copy(), requires_grad=True)
    opt = {
        "sgd": lambda: torch.optim.SGD([p], lr=lr),
        # classic v ← μv − lr·g, w ← w + v equals torch's b ← μb + g, w ← w − lr·b (v = −lr·b)
        "sgd_momentum": lambda: torch.optim.SGD([p], lr=lr, momentum=0.9),
        "rmsprop": lambda: torch.optim.RMSprop([p], lr=lr, alpha=0.99, eps=1e-8),
        "adam": lambda: torch.optim.Adam([p], lr=lr, betas=(0.9, 0.999), eps=1e-8),
    }[name]()
    rule = get_update_rule(name)
    w, cfg = w0.copy(), {"learning_rate": lr}
    for g in grads:
        w, cfg = rule(w, g, cfg)
        p.grad = torch.tensor(g)
        opt.step()
    assert rel_error(w, p.detach().numpy()) < 1e-10


# ------------------------------------------------------------------------------------------ Solver
def _blobs(n: int, d: int = 6, c: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """Well separated Gaussian blobs: an easy classification problem."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((c, d)) * 4

    def split(m: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, c, size=m)
        return (centers[y] + rng.standard_normal((m, d))).astype(np.float32), y

    X_train, y_train = split(n)
    X_val, y_val = split(n // 2)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_solver_trains_two_layer_net(rule: str) -> None:
    data = _blobs(200)
    model = TwoLayerNet(input_dim=6, hidden_dim=20, num_classes=3, weight_scale=1e-1)
    lr = {"sgd": 0.3, "sgd_momentum": 0.05, "rmsprop": 3e-3, "adam": 1e-2}[rule]
    solver = Solver(model, data, update_rule=rule, optim_config={"learning_rate": lr}, lr_decay=0.9,
                    num_epochs=5, batch_size=20, verbose=False, num_train_samples=100, rng=1)
    solver.train()
    iters_per_epoch = 200 // 20
    assert len(solver.loss_history) == 5 * iters_per_epoch
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 5 + 1  # first iteration + each epoch
    assert np.mean(solver.loss_history[-5:]) < np.mean(solver.loss_history[:5])
    assert solver.best_val_acc >= 0.9
    assert solver.best_val_acc == max(solver.val_acc_history)
    for k, v in model.params.items():
        assert v.dtype == np.float64  # the model's default dtype, kept by every update
        assert np.array_equal(v, solver.best_params[k])
        # lr_decay applied once per epoch to every parameter's own config
        assert solver.optim_configs[k]["learning_rate"] == pytest.approx(lr * 0.9**5)
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == pytest.approx(solver.best_val_acc)


def test_solver_per_parameter_configs_are_independent() -> None:
    data = _blobs(60)
    model = LinearClassifier(input_dim=6, num_classes=3, weight_scale=1e-2)
    solver = Solver(model, data, update_rule="adam", num_epochs=1, batch_size=30, verbose=False)
    solver.train()
    W_cfg, b_cfg = solver.optim_configs["W"], solver.optim_configs["b"]
    assert W_cfg["m"].shape == (6, 3) and b_cfg["m"].shape == (3,)
    assert W_cfg is not b_cfg and W_cfg["t"] == b_cfg["t"] == 2


def test_solver_callable_rule_and_printing(capsys) -> None:
    calls = []

    def halve(w, dw, config=None):
        calls.append(w.shape)
        return w - 0.5 * dw, config or {}

    data = _blobs(40)
    model = LinearClassifier(input_dim=6, num_classes=3, loss="svm")
    solver = Solver(model, data, update_rule=halve, num_epochs=2, batch_size=20, print_every=1)
    solver.train()
    out = capsys.readouterr().out
    assert "(Iteration 1 / 4) loss:" in out and "(Epoch 2 / 2) train acc:" in out
    assert len(calls) == 4 * 2  # 4 iterations x 2 parameters


def test_solver_checkpoints_are_pickle_free(tmp_path) -> None:
    data = _blobs(40)
    model = TwoLayerNet(input_dim=6, hidden_dim=8, num_classes=3, weight_scale=1e-1)
    name = tmp_path / "run"
    solver = Solver(model, data, update_rule="sgd_momentum", num_epochs=2, batch_size=20, verbose=False,
                    checkpoint_name=name)
    solver.train()
    path = tmp_path / "run_epoch_2.npz"
    assert path.exists() and (tmp_path / "run_epoch_1.npz").exists()
    with np.load(path, allow_pickle=False) as z:
        assert "params/W1" in z.files and "optim_configs/W1/velocity" in z.files
    tree = load_tree(path, kind="solver")
    assert tree["epoch"] == 2 and tree["update_rule"] == "sgd_momentum"
    assert tree["loss_history"] == solver.loss_history[: len(tree["loss_history"])]

    fresh = TwoLayerNet(input_dim=6, hidden_dim=8, num_classes=3)
    other = Solver(fresh, data, verbose=False)
    other.load_checkpoint(path)
    assert other.epoch == 2 and other.update_rule is sgd_momentum
    assert np.array_equal(other.optim_configs["W2"]["velocity"], tree["optim_configs"]["W2"]["velocity"])
    assert np.array_equal(fresh.params["W1"], tree["params"]["W1"])

    wrong = Solver(TwoLayerNet(input_dim=6, hidden_dim=9, num_classes=3), data, verbose=False)
    with pytest.raises(CheckpointError, match="run_epoch_2.npz"):
        wrong.load_checkpoint(path)
    # a torn file is reported with its name, not as a zip traceback
    torn = tmp_path / "torn.npz"
    torn.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="torn.npz"):
        other.load_checkpoint(torn)
    assert zipfile.is_zipfile(path)


def test_solver_rejects_bad_arguments() -> None:
    data = _blobs(20)
    model = TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3)
    with pytest.raises(ValueError, match="missing"):
        Solver(model, {"X_train": data["X_train"]})
    with pytest.raises(ValueError, match="X_train has 20"):
        Solver(model, {**data, "y_train": data["y_train"][:5]})
    with pytest.raises(ValueError, match="unknown update_rule"):
        Solver(model, data, update_rule="lbfgs")
    with pytest.raises(TypeError, match="params"):
        Solver(object(), data)
