"""The homework models' layer-by-layer API (``forward -> (scores, cache)``, ``backward(dscores, cache) ->
grads``, ``parameters()``), gradient-checked with the course's ``eval_numerical_gradient`` in float64; the
homework ``ConvNet``; and the ``Solver`` fed from a DataLoader or any iterable of batches."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
from minidl import layers as L
from minidl.gradcheck import eval_numerical_gradient, rel_error, scaled_error
from minidl.models import ConvNet, FullyConnectedNet, LeNet5, LinearClassifier, LogisticRegression, TwoLayerNet
from minidl.training import Solver
from minidl.utils.data import DataLoader, TensorDataset


def _softmax_oracle(scores: np.ndarray, y: np.ndarray) -> float:
    shifted = scores - scores.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def _models() -> dict[str, tuple]:
    """name -> (model, X, y) small enough for numeric gradients of every entry."""
    rng = np.random.default_rng(7)
    x_flat, y = rng.standard_normal((4, 6)), np.array([0, 2, 1, 2])
    x_img = rng.standard_normal((3, 1, 6, 8))
    return {
        "linear": (LinearClassifier(input_dim=6, num_classes=3, weight_scale=0.5, reg=0.2), x_flat, y),
        "two_layer": (TwoLayerNet(input_dim=6, hidden_dim=5, num_classes=3, weight_scale=0.5, reg=0.1), x_flat, y),
        "fc_batchnorm": (FullyConnectedNet([5, 4], input_dim=6, num_classes=3, normalization="batchnorm",
                                           weight_scale=0.5, reg=0.05), x_flat, y),
        "fc_dropout": (FullyConnectedNet([5, 4], input_dim=6, num_classes=3, dropout_keep_ratio=0.7, seed=3,
                                         weight_scale=0.5), x_flat, y),
        "conv": (ConvNet((1, 6, 8), num_filters=(2, 3), filter_size=3, hidden_dim=4, num_classes=3, reg=0.1),
                 x_img, y[:3]),
        "conv_batchnorm": (ConvNet((1, 6, 8), num_filters=(2,), filter_size=3, hidden_dim=4, num_classes=3,
                                   normalization="batchnorm"), x_img, y[:3]),
    }


#: biases that feed a batch norm directly
_BEFORE_BATCHNORM = {"fc_batchnorm": ("b1", "b2"), "conv_batchnorm": ("b1",)}


@pytest.mark.parametrize("name", list(_models()))
def test_forward_backward_against_numeric_gradients(name: str) -> None:
    model, X, y = _models()[name]
    assert model.parameters() is model.params
    assert all(v.dtype == np.float64 for v in model.params.values())  # the course's checks need float64

    def total_loss() -> float:
        scores, _ = model.forward(X)
        data_loss, _ = L.softmax_loss(scores, y)
        penalty = 0.5 * model.reg * sum(np.sum(w * w) for k, w in model.params.items() if k.startswith("W"))
        return float(data_loss) + penalty

    scores, cache = model.forward(X)
    assert scores.shape == (len(X), 3) and scores.dtype == np.float64
    data_loss, dscores = L.softmax_loss(scores, y)
    assert data_loss == pytest.approx(_softmax_oracle(scores, y), rel=1e-12)
    grads = model.backward(dscores, cache)
    assert set(grads) == set(model.params)
    for k, w in model.params.items():
        assert grads[k].shape == w.shape and grads[k].dtype == w.dtype
        num = eval_numerical_gradient(lambda _: total_loss(), w, verbose=False, h=1e-5)
        if k in _BEFORE_BATCHNORM.get(name, ()):  # batch norm removes a constant shift: zero gradient exactly
            assert np.abs(grads[k]).max() < 1e-12 and np.abs(num).max() < 1e-8
            continue
        assert np.abs(num).max() > 1e-8, f"{k}: the numeric gradient is zero, the check would prove nothing"
        assert scaled_error(grads[k], num) < 1e-6, (k, scaled_error(grads[k], num))
        assert rel_error(grads[k], num) < 1e-4, (k, rel_error(grads[k], num))


@pytest.mark.parametrize("name", ["two_layer", "conv"])
def test_loss_and_forward_backward_agree(name: str) -> None:
    model, X, y = _models()[name]
    loss, grads = model.loss(X, y)
    scores, cache = model.forward(X)
    data_loss, dscores = L.softmax_loss(scores, y)
    penalty = 0.5 * model.reg * sum(np.sum(w * w) for k, w in model.params.items() if k.startswith("W"))
    assert loss == pytest.approx(float(data_loss) + penalty, rel=1e-12)
    grads2 = model.backward(dscores, cache)
    for k in grads:
        assert rel_error(grads[k], grads2[k]) < 1e-10
    assert np.allclose(model.loss(X), model.forward(X, train=False)[0])  # test mode: the same scores


def test_backward_errors() -> None:
    model, X, y = _models()["two_layer"]
    scores, cache = model.forward(X)
    with pytest.raises(minidl.errors.ShapeError, match=r"dscores must have the scores' shape \(4, 3\)"):
        model.backward(np.ones((4, 2)), cache)
    model.backward(np.ones_like(scores), cache)
    with pytest.raises(RuntimeError, match="second time"):  # a cache serves one backward
        model.backward(np.ones_like(scores), cache)


def test_conv_net_layout_and_errors() -> None:
    model = ConvNet((1, 36, 120), num_filters=(16, 32), filter_size=3, hidden_dim=64, normalization="batchnorm")
    p = model.params
    assert p["W1"].shape == (16, 1, 3, 3) and p["W2"].shape == (32, 16, 3, 3) and p["gamma2"].shape == (32,)
    assert p["W3"].shape == (32 * 9 * 30, 64) and p["W4"].shape == (64, 4)  # 36x120 -> 18x60 -> 9x30
    assert abs(p["W3"].std() - np.sqrt(2 / (32 * 9 * 30))) < 2e-4  # He initialisation by default
    X = np.zeros((2, 36 * 120))  # flattened rows are reshaped to images
    assert model.loss(X).shape == (2, 4)
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 1, 36, 120\)"):
        model.loss(np.zeros((2, 1, 36, 121)))
    with pytest.raises(ValueError, match="normalization"):
        ConvNet(normalization="layernorm")


def test_lenet5_adapts_to_the_input_size() -> None:
    assert sum(p.numel() for p in LeNet5().parameters()) == 34_622  # 28x28x1, 16*4*4 features
    # 32x32x3: conv1 3*6*25+6, conv2 6*16*25+16, fc1 (16*5*5)*120+120, fc2 120*10+10
    m = LeNet5(in_channels=3, image_size=32)
    assert sum(p.numel() for p in m.parameters()) == 456 + 2416 + 48120 + 1210
    assert tuple(m(minidl.zeros(2, 3, 32, 32)).shape) == (2, 10)
    with pytest.raises(ValueError, match="at least 16"):
        LeNet5(image_size=12)


def test_logistic_regression_is_softmax_of_a_linear_map() -> None:
    model = LogisticRegression(input_dim=6, num_classes=3)
    x = minidl.randn(4, 1, 2, 3)
    w, b = model.fc.weight.detach().numpy(), model.fc.bias.detach().numpy()
    expected = x.numpy().reshape(4, 6) @ w.T + b
    assert np.allclose(model(x).detach().numpy(), expected, atol=1e-6)
    assert set(model.state_dict()) == {"fc.weight", "fc.bias"}


# ------------------------------------------------------------------------------------------ Solver from batches
def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(0).standard_normal((3, 6)) * 4
    y = rng.integers(0, 3, size=n)
    return (centers[y] + rng.standard_normal((n, 6))), y


def _loaders(n: int = 240) -> tuple[DataLoader, DataLoader, tuple]:
    xt, yt = _blobs(n, 1)
    xv, yv = _blobs(n // 2, 2)
    train = DataLoader(TensorDataset(xt, yt), batch_size=20, shuffle=True, generator=np.random.default_rng(0))
    val = DataLoader(TensorDataset(xv, yv), batch_size=50)
    return train, val, (xt, yt, xv, yv)


def test_solver_trains_from_loaders() -> None:
    train, val, (_, _, xv, yv) = _loaders()
    model = TwoLayerNet(input_dim=6, hidden_dim=20, num_classes=3, weight_scale=1e-1)
    solver = Solver(model, {"train": train, "val": val}, update_rule="adam", optim_config={"learning_rate": 1e-2},
                    num_epochs=4, verbose=False, num_train_samples=None)
    solver.train()
    assert len(solver.loss_history) == 4 * len(train)  # an epoch is one pass over the loader
    assert len(solver.val_acc_history) == 4 + 1
    assert solver.best_val_acc >= 0.9
    # the accuracy over the val loader equals the accuracy over the same samples as arrays
    assert solver.check_accuracy(val) == pytest.approx(solver.check_accuracy(xv, yv))
    assert solver.best_val_acc == pytest.approx(solver.check_accuracy(xv, yv))


def test_solver_mixes_batches_and_arrays_and_takes_any_reiterable() -> None:
    train, _, (xt, yt, xv, yv) = _loaders()
    batches = [(xt[i:i + 30], yt[i:i + 30]) for i in range(0, len(xt), 30)]  # a plain list of array pairs

    class NoLen:  # an iterable without __len__
        def __iter__(self):
            return iter(batches)

    for source in (train, batches, NoLen()):
        model = LinearClassifier(input_dim=6, num_classes=3, weight_scale=1e-2)
        solver = Solver(model, {"train": source, "X_val": xv, "y_val": yv}, update_rule="sgd",
                        optim_config={"learning_rate": 0.1}, num_epochs=2, verbose=False, num_train_samples=50)
        solver.train()
        assert solver.best_val_acc >= 0.9 and len(solver.val_acc_history) == 3
    assert len(solver.loss_history) == 2 * len(batches)


def test_solver_rejects_one_shot_and_missing_batches() -> None:
    _, val, (xt, yt, _, _) = _loaders()
    model = LinearClassifier(input_dim=6, num_classes=3)
    with pytest.raises(TypeError, match="one-shot iterator"):
        Solver(model, {"train": ((xt[i:i + 10], yt[i:i + 10]) for i in range(0, 30, 10)), "val": val})
    with pytest.raises(ValueError, match=r"missing X_val/y_val \(arrays\) or 'val' \(batches\)"):
        Solver(model, {"train": val})
    with pytest.raises(TypeError, match=r"data\['train'\] must be a DataLoader"):
        Solver(model, {"train": 5, "val": val})
    solver = Solver(model, {"train": [], "val": val}, num_epochs=1, verbose=False)
    with pytest.raises(ValueError, match="yielded no batches in epoch 1"):
        solver.train()


def test_solver_trains_a_conv_net_from_a_loader() -> None:
    rng = np.random.default_rng(0)
    # class 1: a bright square in the left half, class 0: in the right half
    x = rng.random((96, 1, 8, 8)) * 0.2
    y = np.arange(96) % 2
    for i in range(96):
        c = rng.integers(0, 2) + (0 if y[i] else 4)
        x[i, 0, 2:5, c:c + 3] += 1.0
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=np.random.default_rng(1))
    model = ConvNet((1, 8, 8), num_filters=(4,), filter_size=3, hidden_dim=8, num_classes=2,
                    normalization="batchnorm")
    solver = Solver(model, {"train": loader, "val": loader}, update_rule="adam",
                    optim_config={"learning_rate": 1e-2}, num_epochs=5, verbose=False)
    solver.train()
    assert solver.best_val_acc >= 0.95
    assert np.all(model.bn_params[0]["running_var"] != 1.0)  # running statistics were updated in training
