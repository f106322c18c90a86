"""The model zoo: homework classifiers (classic hand-set checks, numeric gradients) and nn.Module models
(shapes, parameter counts, state_dict keys, PyTorch parity, learning)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import models, nn, optim
from minidl.gradcheck import eval_numerical_gradient, rel_error, scaled_error
from minidl.models import (
    MLP,
    Autoencoder,
    BatchNormCNN,
    FullyConnectedNet,
    LeNet5,
    LinearClassifier,
    StridedCNN,
    TwoLayerNet,
    XORNet,
)


# ------------------------------------------------------------------------------------------ helpers
def _softmax_loss(scores: np.ndarray, y: np.ndarray) -> float:
    """Mean softmax cross-entropy written out with plain NumPy (the independent oracle)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].mean())


def _check_gradients(model, X: np.ndarray, y: np.ndarray, rel_tol: dict[str, float] | None = None,
                     zero_grad: tuple[str, ...] = ()) -> None:
    """Every parameter's engine gradient against central differences (classic h = 1e-5, float64).

    Two measures: the classic elementwise ``rel_error`` with the notebooks' tolerance for that parameter
    (default 1e-5: "around e-6 or less"; rounding noise of ~1e-11 makes tiny entries reach e-6), and the
    error relative to the gradient's scale, which must be < 1e-6 everywhere.
    Parameters in ``zero_grad`` have a true gradient of exactly zero (a bias right before batchnorm).
    """
    rel_tol = rel_tol or {}
    _, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name, w in model.params.items():
        assert grads[name].shape == w.shape and grads[name].dtype == w.dtype
        num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], w, verbose=False, h=1e-5)
        if name in zero_grad:
            assert np.abs(grads[name]).max() < 1e-12 and np.abs(num).max() < 1e-8, name
            continue
        assert np.abs(num).max() > 1e-6, f"{name}: numeric gradient is zero, the check would be vacuous"
        assert scaled_error(grads[name], num) < 1e-6, name
        assert rel_error(num, grads[name]) < rel_tol.get(name, 1e-5), (name, rel_error(num, grads[name]))


def _classic_two_layer() -> tuple[TwoLayerNet, np.ndarray, np.ndarray]:
    N, D, H, C = 3, 5, 50, 7
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    return model, X, np.asarray([0, 5, 1])


# ------------------------------------------------------------------------------------------ TwoLayerNet
def test_two_layer_net_init() -> None:
    minidl.manual_seed(0)
    model = TwoLayerNet(input_dim=300, hidden_dim=100, num_classes=10, weight_scale=1e-2)
    p = model.params
    assert p["W1"].shape == (300, 100) and p["b1"].shape == (100,)
    assert p["W2"].shape == (100, 10) and p["b2"].shape == (10,)
    assert all(v.dtype == np.float64 for v in p.values())  # float64 by default, as the course's checks need
    assert abs(p["W1"].std() - 1e-2) < 1e-3 and abs(p["W1"].mean()) < 1e-3
    assert not p["b1"].any() and not p["b2"].any()


def test_two_layer_net_classic_scores_and_loss() -> None:
    model, X, y = _classic_two_layer()
    p = model.params
    hidden = np.maximum(0, X @ p["W1"] + p["b1"])
    expected_scores = hidden @ p["W2"] + p["b2"]
    scores = model.loss(X)
    assert scores.dtype == np.float64
    assert rel_error(scores, expected_scores) < 1e-6
    # the values published with the classic assignment
    assert scores[0, 0] == pytest.approx(11.53165108, abs=1e-8)
    assert scores[2, 6] == pytest.approx(16.2846319, abs=1e-8)

    loss, _ = model.loss(X, y)
    assert rel_error(loss, _softmax_loss(expected_scores, y)) < 1e-10
    assert loss == pytest.approx(3.4702243556, abs=1e-10)
    model.reg = 1.0
    loss, _ = model.loss(X, y)
    l2 = 0.5 * 1.0 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    assert rel_error(loss, _softmax_loss(expected_scores, y) + l2) < 1e-10
    assert loss == pytest.approx(26.5948426952, abs=1e-10)


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_net_gradients(reg: float) -> None:
    rng = np.random.default_rng(231)
    N, D, H, C = 3, 5, 50, 7
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-1, reg=reg, dtype=np.float64)
    X, y = rng.standard_normal((N, D)), rng.integers(C, size=N)
    _check_gradients(model, X, y)


def test_homework_input_errors() -> None:
    model = TwoLayerNet(input_dim=5, hidden_dim=4, num_classes=3)
    with pytest.raises(ValueError, match=r"TwoLayerNet.loss: expected 5 features.*\(2, 6\)"):
        model.loss(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="integer labels"):
        model.loss(np.zeros((2, 5)), np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="normalization"):
        FullyConnectedNet([4], normalization="groupnorm")


def test_homework_float32_end_to_end() -> None:
    model = FullyConnectedNet([6, 5], input_dim=4, num_classes=3, normalization="batchnorm",
                              dropout_keep_ratio=0.8, seed=1, dtype=np.float32)
    X = np.random.default_rng(0).standard_normal((8, 2, 2))  # float64 input, flattened and cast
    loss, grads = model.loss(X, np.arange(8) % 3)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert model.loss(X).dtype == np.float32
    assert np.isfinite(loss)


# ------------------------------------------------------------------------------------------ LinearClassifier
def test_linear_classifier_losses() -> None:
    rng = np.random.default_rng(0)
    model = LinearClassifier(input_dim=6, num_classes=4, weight_scale=0.5, reg=0.3, dtype=np.float64)
    X, y = rng.standard_normal((5, 6)), rng.integers(4, size=5)
    s = X @ model.params["W"] + model.params["b"]
    l2 = 0.5 * 0.3 * np.sum(model.params["W"] ** 2)
    assert rel_error(model.loss(X, y)[0], _softmax_loss(s, y) + l2) < 1e-12
    model.loss_type = "svm"
    margins = np.maximum(0, s - s[np.arange(5), y][:, None] + 1)
    margins[np.arange(5), y] = 0
    assert rel_error(model.loss(X, y)[0], margins.sum() / 5 + l2) < 1e-12


@pytest.mark.parametrize("loss", ["softmax", "svm"])
def test_linear_classifier_gradients(loss: str) -> None:
    rng = np.random.default_rng(3)
    model = LinearClassifier(input_dim=7, num_classes=5, weight_scale=1.0, reg=0.1, loss=loss, dtype=np.float64)
    _check_gradients(model, rng.standard_normal((6, 7)), rng.integers(5, size=6))


# ------------------------------------------------------------------------------------------ FullyConnectedNet
N_FC, D_FC, H1, H2, C_FC = 4, 15, 20, 30, 10


def _fc_data(seed: int = 231) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N_FC, D_FC)), rng.integers(C_FC, size=N_FC)


def test_fc_net_params_layout() -> None:
    model = FullyConnectedNet([H1, H2], input_dim=D_FC, num_classes=C_FC, normalization="batchnorm")
    assert sorted(model.params) == sorted(["W1", "b1", "W2", "b2", "W3", "b3", "gamma1", "beta1", "gamma2",
                                           "beta2"])
    assert model.params["W2"].shape == (H1, H2) and model.params["gamma2"].shape == (H2,)
    assert len(model.bn_params) == 2 and model.bn_params[1]["running_mean"].shape == (H2,)


@pytest.mark.parametrize("reg", [0.0, 3.14])
def test_fc_net_gradients_reg(reg: float) -> None:
    X, y = _fc_data()
    model = FullyConnectedNet([H1, H2], input_dim=D_FC, num_classes=C_FC, reg=reg, weight_scale=5e-2,
                              dtype=np.float64)
    # classic notebook: "errors on the order of e-7 or smaller; W2 on the order of e-5 is fine for reg = 0"
    # (ReLU kinks and tiny entries inflate the elementwise error; the scaled error stays < 1e-6)
    _check_gradients(model, X, y, rel_tol={"W1": 1e-4, "W2": 1e-4} if reg == 0 else None)


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_fc_net_gradients_normalization(normalization: str) -> None:
    X, y = _fc_data()
    model = FullyConnectedNet([H1, H2], input_dim=D_FC, num_classes=C_FC, normalization=normalization,
                              reg=0.1, weight_scale=5e-2, dtype=np.float64)
    # batchnorm notebook: "1e-4 ~ 1e-10 for W, 1e-8 ~ 1e-10 for b, 1e-8 ~ 1e-9 for beta and gamma"
    tol = {f"W{i}": 1e-4 for i in (1, 2, 3)}
    zero = ("b1", "b2") if normalization == "batchnorm" else ()  # batchnorm removes a constant shift exactly
    _check_gradients(model, X, y, rel_tol=tol, zero_grad=zero)


@pytest.mark.parametrize("keep", [0.5, 0.75])
def test_fc_net_gradients_dropout(keep: float) -> None:
    # (with data seed 231 one layer-2 pre-activation sits 1.7e-6 from the ReLU kink, closer than the step
    # h = 1e-5, where central differences are invalid; seed 7 keeps every unit clear of it)
    X, y = _fc_data(7)
    model = FullyConnectedNet([H1, H2], input_dim=D_FC, num_classes=C_FC, dropout_keep_ratio=keep, seed=123,
                              weight_scale=5e-2, dtype=np.float64)
    # dropout notebook: "relative errors should be around e-6 or less"
    _check_gradients(model, X, y, rel_tol={f"W{i}": 1e-5 for i in (1, 2, 3)})


def test_fc_net_dropout_modes() -> None:
    X, y = _fc_data()
    model = FullyConnectedNet([H1, H2], input_dim=D_FC, num_classes=C_FC, dropout_keep_ratio=0.5, seed=3,
                              dtype=np.float64)
    same_seed = model.loss(X, y)[0], model.loss(X, y)[0]
    assert same_seed[0] == same_seed[1]  # seeded: same masks at every call
    model.dropout_param["seed"] = 4
    assert model.loss(X, y)[0] != same_seed[0]  # a different seed drops different units
    # test mode: no dropout, so the scores equal those of the same weights without dropout
    plain = FullyConnectedNet([H1, H2], input_dim=D_FC, num_classes=C_FC, dtype=np.float64)
    plain.params = dict(model.params)
    assert np.array_equal(model.loss(X), plain.loss(X))


@requires_torch
@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_fc_net_matches_torch(normalization: str) -> None:
    X, y = _fc_data(11)
    model = FullyConnectedNet([H1, H2], input_dim=D_FC, num_classes=C_FC, normalization=normalization,
                              reg=0.05, weight_scale=0.2, dtype=np.float64)
    loss, grads = model.loss(X, y)
    tp = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in model.params.items()}
    run_mean = [torch.zeros(d, dtype=torch.float64) for d in (H1, H2)]
    run_var = [torch.ones(d, dtype=torch.float64) for d in (H1, H2)]

    def forward(training: bool):
        h = torch.tensor(X)
        for i in (1, 2):
            h = h @ tp[f"W{i}"] + tp[f"b{i}"]
            if normalization == "batchnorm":
                h = torch.nn.functional.batch_norm(h, run_mean[i - 1], run_var[i - 1], tp[f"gamma{i}"],
                                                   tp[f"beta{i}"], training=training, momentum=0.1, eps=1e-5)
            else:
                h = torch.nn.functional.layer_norm(h, (h.shape[1],), tp[f"gamma{i}"], tp[f"beta{i}"], eps=1e-5)
            h = torch.relu(h)
        return h @ tp["W3"] + tp["b3"]

    t_loss = torch.nn.functional.cross_entropy(forward(True), torch.tensor(y))
    t_loss = t_loss + 0.5 * 0.05 * sum((tp[f"W{i}"] ** 2).sum() for i in (1, 2, 3))
    t_loss.backward()
    assert rel_error(loss, t_loss.item()) < 1e-10
    for k in model.params:
        assert rel_error(grads[k], tp[k].grad.numpy()) < 1e-6, k
    # test mode uses the running statistics gathered by the train-mode call
    with torch.no_grad():
        expected = forward(False).numpy()
    assert rel_error(model.loss(X), expected) < 1e-8


# ------------------------------------------------------------------------------------------ module models
def _shapes(model: nn.Sequential, x: minidl.Tensor) -> dict[str, tuple[int, ...]]:
    out = {}
    for name, layer in model.named_children():
        x = layer(x)
        out[name] = x.shape
    return out


def test_lenet5_structure() -> None:
    model = LeNet5()
    assert sum(p.numel() for p in model.parameters()) == 34_622
    assert list(model.state_dict()) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                        "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    shapes = _shapes(model, minidl.randn(2, 1, 28, 28))
    assert shapes["pool1"] == (2, 6, 12, 12) and shapes["pool2"] == (2, 16, 4, 4)
    assert shapes["flatten"] == (2, 256) and shapes["fc2"] == (2, 10)


def test_strided_cnn_structure() -> None:
    model = StridedCNN()
    shapes = _shapes(model, minidl.randn(3, 1, 28, 28))
    assert [shapes[k][2] for k in ("conv1", "pool1", "conv2", "conv3")] == [14, 7, 7, 4]
    assert shapes["flatten"] == (3, 256) and shapes["fc"] == (3, 10)
    acts = [n for n, m in model.named_children() if isinstance(m, nn.LeakyReLU)]
    assert acts == ["act1", "act2", "act3"]  # one after every convolution


def test_batchnorm_cnn_structure() -> None:
    model = BatchNormCNN()
    names = [n for n, _ in model.named_children()]
    for i in (1, 2, 3):  # batchnorm right after each convolution
        assert names[names.index(f"conv{i}") + 1] == f"bn{i}"
        assert isinstance(getattr(model, f"bn{i}"), nn.BatchNorm2d)
    assert "bn1.running_mean" in model.state_dict()
    assert model(minidl.randn(2, 1, 28, 28)).shape == (2, 10)


def test_mlp_structure() -> None:
    model = MLP(input_dim=12, hidden_dims=(8, 6), num_classes=3, activation="tanh", dropout=0.2, batchnorm=True)
    assert [n for n, _ in model.named_children()] == ["flatten", "fc1", "bn1", "act1", "drop1", "fc2", "bn2",
                                                      "act2", "drop2", "fc3"]
    assert isinstance(model.act1, nn.Tanh)
    assert model(minidl.randn(5, 3, 4)).shape == (5, 3)
    with pytest.raises(ValueError, match="activation"):
        MLP(activation="swish")


def test_autoencoder_structure() -> None:
    model = Autoencoder(input_dim=20, encoder_dims=(12, 4))
    x = minidl.rand(3, 1, 4, 5)
    out = model(x)
    assert out.shape == x.shape and 0 < out.detach().numpy().min() and out.detach().numpy().max() < 1
    assert model.encode(x).shape == (3, 4)
    linears = [m for m in model.decoder if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4, 12), (12, 20)]  # mirrored
    custom = Autoencoder(input_dim=20, encoder_dims=(12, 4), decoder_dims=(6, 9))
    assert [m.out_features for m in custom.decoder if isinstance(m, nn.Linear)] == [6, 9, 20]


def _torch_twin(model: nn.Sequential):
    """The same architecture in PyTorch, with the same layer names (so the same state_dict keys)."""
    tnn = torch.nn
    layers = OrderedDict()
    for name, m in model.named_children():
        if isinstance(m, nn.Conv2d):
            t = tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
                           bias=m.bias is not None)
        elif isinstance(m, nn.Linear):
            t = tnn.Linear(m.in_features, m.out_features)
        elif isinstance(m, nn.BatchNorm2d):
            t = tnn.BatchNorm2d(m.num_features)
        elif isinstance(m, nn.BatchNorm1d):
            t = tnn.BatchNorm1d(m.num_features)
        elif isinstance(m, nn.LeakyReLU):
            t = tnn.LeakyReLU(m.negative_slope)
        else:
            t = {nn.ReLU: tnn.ReLU, nn.Flatten: tnn.Flatten, nn.Tanh: tnn.Tanh, nn.Dropout: tnn.Dropout,
                 nn.MaxPool2d: lambda: tnn.MaxPool2d(2), nn.AvgPool2d: lambda: tnn.AvgPool2d(2)}[type(m)]()
        layers[name] = t
    twin = tnn.Sequential(layers).double()
    twin.load_state_dict({k: torch.tensor(np.array(v.detach().numpy(), dtype=np.float64)) for k, v in model.state_dict().items()})
    return twin


@requires_torch
@pytest.mark.parametrize("factory", [LeNet5, StridedCNN, BatchNormCNN, lambda: MLP(784, (32, 16), batchnorm=True)])
def test_module_models_match_torch(factory) -> None:
    model = factory().double()
    twin = _torch_twin(model)
    assert list(twin.state_dict()) == list(model.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28))
    y = np.array([1, 0, 3, 9])
    # eval mode: deterministic, batchnorm uses running statistics
    model.eval()
    twin.eval()
    with minidl.no_grad():
        out = model(minidl.tensor(x)).detach().numpy()
    assert rel_error(out, twin(torch.tensor(x)).detach().numpy()) < 1e-6
    # train mode (no dropout in these): loss and parameter gradients
    model.train()
    twin.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    for m in twin.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    loss = minidl.nn.functional.cross_entropy(model(minidl.tensor(x)), minidl.tensor(y))
    loss.backward()
    t_loss = torch.nn.functional.cross_entropy(twin(torch.tensor(x)), torch.tensor(y))
    t_loss.backward()
    assert rel_error(loss.item(), t_loss.item()) < 1e-10
    t_params = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        assert rel_error(p.grad.detach().numpy(), t_params[name].grad.numpy()) < 1e-6, name


def test_xornet_learns_xor() -> None:
    X = minidl.tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32))
    y = minidl.tensor(np.array([0, 1, 1, 0]))
    model = XORNet()
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        loss = minidl.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    assert np.array_equal(model(X).detach().numpy().argmax(axis=1), y.detach().numpy())


def test_autoencoder_learns_to_reconstruct() -> None:
    rng = np.random.default_rng(0)
    # data on a 3-dimensional subspace: a 3-unit code can reconstruct it
    x = minidl.tensor((1 / (1 + np.exp(-(rng.standard_normal((64, 3)) @ rng.standard_normal((3, 16)))))
                       ).astype(np.float32))
    model = Autoencoder(input_dim=16, encoder_dims=(12, 3))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        loss = minidl.nn.functional.mse_loss(model(x), x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


# ------------------------------------------------------------------------------------------ registry
def test_registry() -> None:
    assert models.list_models() == sorted(["mlp", "lenet5", "strided_cnn", "bn_cnn", "autoencoder", "xor",
                                           "logistic_regression", *models.IMAGENET_MODELS])
    assert isinstance(models.get("lenet5"), LeNet5)
    assert isinstance(models.get("LeNet"), LeNet5)
    assert isinstance(models.get("batchnorm-cnn"), BatchNormCNN)
    mlp = models.get("mlp", input_dim=10, hidden_dims=(4,), num_classes=2)
    assert mlp.fc2.out_features == 2
    with pytest.raises(ValueError, match=r"unknown model 'resnet'.*lenet5"):
        models.get("resnet")
    models.register("tiny_xor", lambda: XORNet(hidden_dim=2))
    try:
        assert models.get("tiny_xor").fc1.out_features == 2
    finally:
        models._REGISTRY.pop("tiny_xor")
