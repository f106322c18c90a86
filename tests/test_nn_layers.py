"""minidl.nn layers and losses against PyTorch (same architecture, torch's weights loaded through NumPy, float64)
and against float64 central differences; input checks and their messages."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch, to_torch, torch
from minidl.gradcheck import gradcheck

if torch is not None:
    import torch.nn as tnn


def assert_close(a, b, tol=1e-6, what=""):
    """max |a - b| / max |b| < tol: relative to the scale of the reference. References that are zero up to
    rounding (e.g. the gradient of a conv bias followed by batch norm, ~1e-17) are compared absolutely."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-8)
    err = float(np.max(np.abs(a - b), initial=0.0)) / scale
    assert err < tol, f"{what}: relative error {err:.2e}"


def tnp(t):
    return t.detach().numpy()


def load_torch_weights(model, tmodel):
    """The documented way to move weights from PyTorch: through NumPy arrays."""
    tsd = tmodel.state_dict()
    msd = model.state_dict()
    assert list(msd) == list(tsd)
    assert [tuple(v.shape) for v in msd.values()] == [tuple(v.shape) for v in tsd.values()]
    model.load_state_dict({k: v.numpy() for k, v in tsd.items()})


def compare_grads(model, tmodel, what=""):
    named, tnamed = list(model.named_parameters()), list(tmodel.named_parameters())
    assert [n for n, _ in named] == [n for n, _ in tnamed]
    for (name, p), (_, tp) in zip(named, tnamed, strict=True):
        assert p.grad is not None and p.grad.dtype == p.dtype, name
        assert_close(p.grad.detach().numpy(), tnp(tp.grad), what=f"{what} grad of {name}")


def run_pair(model, tmodel, x_np, loss_fn, tloss_fn, target):
    """Forward both nets on the same input, backward the same loss; compare outputs and every gradient."""
    x = minidl.tensor(x_np, requires_grad=True)
    tx = to_torch(x_np, requires_grad=True)
    out, tout = model(x), tmodel(tx)
    assert_close(out.detach().numpy(), tnp(tout), what="forward")
    t_target = torch.from_numpy(np.asarray(target))
    loss, tloss = loss_fn(out, minidl.tensor(target)), tloss_fn(tout, t_target)
    assert_close(loss.detach().numpy(), tnp(tloss), what="loss")
    loss.backward()
    tloss.backward()
    assert_close(x.grad.detach().numpy(), tnp(tx.grad), what="input grad")
    compare_grads(model, tmodel)


def mlp(lib):
    return lib.Sequential(lib.Linear(7, 16), lib.ReLU(), lib.Linear(16, 12), lib.Tanh(), lib.Linear(12, 5))


def conv_net(lib):
    """(N, 2, 10, 10) -> conv/bn/relu -> maxpool 5x5 -> grouped conv -> leaky -> avgpool 4x4 -> adaptive 3x3
    (uneven windows) -> dropout -> flatten -> linear."""
    return lib.Sequential(
        lib.Conv2d(2, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(4, 6, 3, padding=1, groups=2), lib.LeakyReLU(0.1), lib.AvgPool2d(2, stride=1),
        lib.AdaptiveAvgPool2d(3), lib.Dropout(0.3), lib.Flatten(), lib.Linear(54, 5),
    )


def layernorm_net(lib):
    return lib.Sequential(lib.Linear(6, 8), lib.LayerNorm(8), lib.Sigmoid(), lib.Linear(8, 3),
                          lib.LogSoftmax(dim=1))


def pair(builder):
    """The same architecture in minidl and torch, float64, torch's weights loaded into minidl."""
    model, tmodel = builder(nn).double(), builder(tnn).double()
    load_torch_weights(model, tmodel)
    return model, tmodel


# --------------------------------------------------------------------------------------------- nets vs torch
@requires_torch
def test_mlp_matches_torch(rng):
    model, tmodel = pair(mlp)
    run_pair(model, tmodel, rng.standard_normal((9, 7)), nn.CrossEntropyLoss(), tnn.CrossEntropyLoss(),
             rng.integers(0, 5, 9))


@requires_torch
def test_conv_net_matches_torch_and_batchnorm_running_stats_after_three_steps(rng):
    model, tmodel = pair(conv_net)
    for net in (model, tmodel):
        net.train()
        net[8].eval()  # dropout off, batch norm in training mode
    lr = 0.1
    for step in range(3):
        x = rng.standard_normal((4, 2, 10, 10)) * (1 + step)
        target = rng.integers(0, 5, 4)
        run_pair(model, tmodel, x, nn.CrossEntropyLoss(), tnn.CrossEntropyLoss(), target)
        with torch.no_grad():
            for p, tp in zip(model.parameters(), tmodel.parameters(), strict=True):
                p.data -= lr * p.grad.detach().numpy()
                tp -= lr * tp.grad
        model.zero_grad()
        tmodel.zero_grad()
    bn, tbn = model[1], tmodel[1]
    assert bn.num_batches_tracked.dtype == np.int64 and int(bn.num_batches_tracked.item()) == 3
    assert int(tbn.num_batches_tracked) == 3
    assert_close(bn.running_mean.detach().numpy(), tnp(tbn.running_mean), what="running_mean")
    assert_close(bn.running_var.detach().numpy(), tnp(tbn.running_var), what="running_var")
    for k, v in model.state_dict().items():
        assert_close(v.detach().numpy(), tnp(tmodel.state_dict()[k]), what=k)
    model.eval()
    tmodel.eval()
    x = rng.standard_normal((3, 2, 10, 10))
    assert_close(model(minidl.tensor(x)).detach().numpy(), tnp(tmodel(to_torch(x))), what="eval forward")
    assert int(bn.num_batches_tracked.item()) == 3  # eval does not count


@requires_torch
def test_layernorm_net_matches_torch(rng):
    model, tmodel = pair(layernorm_net)
    run_pair(model, tmodel, rng.standard_normal((10, 6)), nn.NLLLoss(), tnn.NLLLoss(), rng.integers(0, 3, 10))


@requires_torch
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-2}])
def test_layernorm_over_two_trailing_dims_matches_torch(rng, kwargs):
    model, tmodel = pair(lambda lib: lib.LayerNorm((4, 5), **kwargs))
    with torch.no_grad():
        for p, tp in zip(model.parameters(), tmodel.parameters(), strict=True):
            tp.uniform_(0.5, 1.5)
            p.detach().numpy()[...] = tnp(tp)
    run_pair(model, tmodel, rng.standard_normal((2, 3, 4, 5)), nn.MSELoss(), tnn.MSELoss(),
             rng.standard_normal((2, 3, 4, 5)))


@requires_torch
@pytest.mark.parametrize("shape", [(8, 5), (6, 5, 4)])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.3, "affine": False},
                                    {"track_running_stats": False}, {"bias": False}])
def test_batchnorm1d_train_and_eval_match_torch(rng, shape, kwargs):
    model, tmodel = pair(lambda lib: lib.BatchNorm1d(5, **kwargs))
    for _ in range(3):
        run_pair(model, tmodel, rng.standard_normal(shape) * 3 + 1, nn.MSELoss(reduction="sum"),
                 tnn.MSELoss(reduction="sum"), rng.standard_normal(shape))
    for k, v in model.state_dict().items():
        assert_close(v.detach().numpy(), tnp(tmodel.state_dict()[k]), what=k)
    model.eval()
    tmodel.eval()
    run_pair(model, tmodel, rng.standard_normal(shape), nn.MSELoss(), tnn.MSELoss(), rng.standard_normal(shape))


@requires_torch
def test_conv_padding_same_and_pool_options_match_torch(rng):
    def net(lib):
        return lib.Sequential(lib.Conv2d(3, 4, 3, padding="same", dilation=2), lib.Tanh(),
                              lib.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                              lib.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
                              lib.Conv2d(4, 2, (1, 3), stride=(1, 2), bias=False), lib.Flatten(0, -1))

    model, tmodel = pair(net)
    x = rng.standard_normal((2, 3, 9, 7))
    run_pair(model, tmodel, x, nn.MSELoss(), tnn.MSELoss(), rng.standard_normal(tnp(tmodel(to_torch(x))).shape))


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's note on 'same' with an even kernel
def test_conv2d_module_and_functional_share_the_padding_rule(rng):
    """nn.Conv2d(padding='same') with an even kernel pads asymmetrically, exactly as F.conv2d (and PyTorch)."""
    layer = nn.Conv2d(2, 3, 4, padding="same", dtype=minidl.float64)
    assert layer.padding == "same" and "padding=same" in repr(layer)
    x = minidl.tensor(rng.standard_normal((1, 2, 5, 6)))
    out = layer(x)
    assert out.shape == (1, 3, 5, 6)
    np.testing.assert_array_equal(out.detach().numpy(),
                                  F.conv2d(x, layer.weight, layer.bias, padding="same").detach().numpy())
    # top/left get d(k − 1) // 2 = 1, bottom/right the other 2: the same as explicit zero padding
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 2), (1, 2)))
    np.testing.assert_allclose(out.detach().numpy(), F.conv2d(minidl.tensor(padded), layer.weight, layer.bias)
                               .detach().numpy(), rtol=1e-6)
    if torch is not None:
        tlayer = torch.nn.Conv2d(2, 3, 4, padding="same").double()
        tlayer.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in layer.state_dict().items()})
        np.testing.assert_allclose(out.detach().numpy(), tlayer(to_torch(x.numpy())).detach().numpy(), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("make", [
    lambda n: n.ReLU(), lambda n: n.LeakyReLU(0.2), lambda n: n.LeakyReLU(), lambda n: n.Sigmoid(),
    lambda n: n.Tanh(), lambda n: n.Softmax(dim=0), lambda n: n.LogSoftmax(dim=-1), lambda n: n.Identity(),
    lambda n: n.Flatten(), lambda n: n.Dropout(0.4),
])
def test_parameterless_layers_match_torch(rng, make):
    m, t = make(nn).eval(), make(tnn).eval()
    x_np = rng.standard_normal((3, 4, 2))
    x, tx = minidl.tensor(x_np, requires_grad=True), to_torch(x_np, requires_grad=True)
    out, tout = m(x), t(tx)
    assert_close(out.detach().numpy(), tnp(tout), what=repr(m))
    up = rng.standard_normal(tout.shape)
    (out * minidl.tensor(up)).sum().backward()
    tout.backward(torch.from_numpy(up))
    assert_close(x.grad.detach().numpy(), tnp(tx.grad), what=repr(m))


@requires_torch
def test_softmax_without_dim_uses_pytorchs_legacy_choice(rng):
    x = rng.standard_normal((2, 3, 4))
    for m, t in ((nn.Softmax(), tnn.Softmax()), (nn.LogSoftmax(), tnn.LogSoftmax())):
        with pytest.warns(UserWarning, match="Implicit dimension"):
            out = m(minidl.tensor(x))
        with pytest.warns(UserWarning):
            tout = t(to_torch(x))
        assert_close(out.detach().numpy(), tnp(tout))


# --------------------------------------------------------------------------------------------- losses vs torch
def _targets(rng):
    return {
        "class": rng.integers(0, 4, 6),
        "class_with_ignored": np.array([0, 1, 3, 1, 2, 1]),
        "spatial": rng.integers(0, 4, (6, 3)),
        "prob": rng.uniform(0, 1, (6, 4)),
    }


LOSS_CASES = [
    # (name, kwargs builder(lib, weight tensor factory), input kind, target kind)
    ("CrossEntropyLoss", lambda w: {}, "logits", "class"),
    ("CrossEntropyLoss", lambda w: {"weight": w([1.0, 2.0, 0.5, 1.5]), "ignore_index": 1,
                                    "label_smoothing": 0.1}, "logits", "class_with_ignored"),
    ("CrossEntropyLoss", lambda w: {"reduction": "none"}, "logits_spatial", "spatial"),
    ("CrossEntropyLoss", lambda w: {"reduction": "sum", "label_smoothing": 0.2}, "logits", "class"),
    ("NLLLoss", lambda w: {"weight": w([0.3, 1.0, 2.0, 1.0])}, "logits", "class"),
    ("NLLLoss", lambda w: {"ignore_index": 1, "reduction": "sum"}, "logits", "class_with_ignored"),
    ("MSELoss", lambda w: {}, "logits", "prob"),
    ("MSELoss", lambda w: {"reduction": "none"}, "logits", "prob"),
    ("BCELoss", lambda w: {"weight": w([1.0, 2.0, 0.5, 3.0])}, "probs", "prob"),
    ("BCEWithLogitsLoss", lambda w: {"weight": w([1.0, 2.0, 0.5, 3.0]), "pos_weight": w([2.0, 1.0, 0.3, 1.0])},
     "logits", "prob"),
    ("BCEWithLogitsLoss", lambda w: {"reduction": "sum"}, "logits", "prob"),
]


@requires_torch
@pytest.mark.parametrize("name, make_kwargs, input_kind, target_kind", LOSS_CASES)
def test_loss_modules_match_torch(rng, name, make_kwargs, input_kind, target_kind):
    inputs = {"logits": rng.standard_normal((6, 4)) * 2, "logits_spatial": rng.standard_normal((6, 4, 3)),
              "probs": rng.uniform(0.05, 0.95, (6, 4))}
    x_np, y_np = inputs[input_kind], _targets(rng)[target_kind]
    loss = getattr(nn, name)(**make_kwargs(lambda v: np.array(v)))  # arrays are accepted as weights
    tloss = getattr(tnn, name)(**make_kwargs(lambda v: torch.tensor(v, dtype=torch.float64)))
    assert list(loss.state_dict()) == list(tloss.state_dict())
    assert repr(loss) == repr(tloss)
    x, tx = minidl.tensor(x_np, requires_grad=True), to_torch(x_np, requires_grad=True)
    out, tout = loss(x, minidl.tensor(y_np)), tloss(tx, torch.from_numpy(y_np))
    assert out.dtype == np.float64
    assert_close(out.detach().numpy(), tnp(tout), what=name)
    up = rng.standard_normal(tout.shape)
    (out * minidl.tensor(up)).sum().backward()
    tout.backward(torch.from_numpy(up))
    assert_close(x.grad.detach().numpy(), tnp(tx.grad), what=name)
    # targets may also be plain arrays
    assert_close(loss(minidl.tensor(x_np), y_np).detach().numpy(), tnp(tout), what=name)


def test_loss_reduction_validation_and_legacy_flags():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")
    with pytest.warns(DeprecationWarning):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(DeprecationWarning):
        assert nn.CrossEntropyLoss(reduce=False).reduction == "none"


# --------------------------------------------------------------------------------------------- numeric oracle
def test_conv_net_input_gradient_matches_central_differences(rng):
    model = conv_net(nn).double()
    model[8].eval()
    report = gradcheck(lambda x: model(x), rng.standard_normal((2, 2, 10, 10)))
    assert report.ok, str(report)


def test_layernorm_net_input_gradient_matches_central_differences(rng):
    model = layernorm_net(nn).double()
    report = gradcheck(lambda x: model(x), rng.standard_normal((4, 6)))
    assert report.ok, str(report)


# --------------------------------------------------------------------------------------------- dtype, dropout
def test_float32_by_default_end_to_end(rng):
    model = conv_net(nn)
    x = minidl.tensor(rng.standard_normal((3, 2, 10, 10)).astype(np.float32), requires_grad=True)
    out = model(x)
    assert out.dtype == np.float32
    loss = nn.CrossEntropyLoss()(out, minidl.tensor(np.array([0, 1, 2])))
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float32


def test_dropout_layer_train_and_eval():
    d = nn.Dropout(0.3)
    x = minidl.ones(200, 200)
    minidl.manual_seed(5)
    y = d(x).detach().numpy()
    minidl.manual_seed(5)
    np.testing.assert_array_equal(d(x).detach().numpy(), y)  # reproducible under manual_seed
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    d.eval()
    np.testing.assert_array_equal(d(x).detach().numpy(), x.detach().numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# --------------------------------------------------------------------------------------------- input checks
def test_linear_shape_error_names_layer_expected_and_actual():
    with pytest.raises(ValueError) as info:
        nn.Linear(784, 10)(minidl.zeros(32, 100))
    assert str(info.value) == ("Linear(in_features=784, out_features=10, bias=True) expected input with last "
                               "dimension 784, got shape (32, 100)")


@pytest.mark.parametrize("layer, x_shape, pieces", [
    (lambda: nn.Conv2d(3, 6, 5), (2, 4, 8, 8), ["Conv2d(3, 6, kernel_size=(5, 5)", "(N, 3, H, W)", "(2, 4, 8, 8)"]),
    (lambda: nn.Conv2d(3, 6, 5), (8, 8), ["4-D input", "3-D input (3, H, W)", "(8, 8)"]),  # (C, H, W) is allowed
    (lambda: nn.BatchNorm1d(4), (2, 4, 3, 3), ["BatchNorm1d(4", "2-D or 3-D", "(2, 4, 3, 3)"]),
    (lambda: nn.BatchNorm1d(4), (2, 3), ["(N, 4)", "(2, 3)"]),
    (lambda: nn.BatchNorm2d(4), (2, 4), ["BatchNorm2d(4", "4-D input (N, 4, H, W)", "(2, 4)"]),
    (lambda: nn.BatchNorm2d(4), (2, 3, 5, 5), ["(N, 4, H, W)", "(2, 3, 5, 5)"]),
    (lambda: nn.LayerNorm((4, 5)), (2, 5, 4), ["LayerNorm((4, 5)", "trailing dimensions (4, 5)", "(2, 5, 4)"]),
    (lambda: nn.MaxPool2d(2), (1, 2, 3, 8, 8), ["MaxPool2d(kernel_size=2", "4-D input", "(1, 2, 3, 8, 8)"]),
    (lambda: nn.AvgPool2d(2), (8, 8), ["AvgPool2d", "(8, 8)"]),
    (lambda: nn.AdaptiveAvgPool2d(1), (8,), ["AdaptiveAvgPool2d", "(8,)"]),
    (lambda: nn.Flatten(2), (3, 4), ["Flatten(start_dim=2", "(3, 4)"]),
    (lambda: nn.Linear(3, 2), (), ["last dimension 3", "()"]),
])
def test_layers_check_input_shapes(layer, x_shape, pieces):
    with pytest.raises(ValueError) as info:
        layer()(minidl.zeros(*x_shape))
    for piece in pieces:
        assert piece in str(info.value)


def test_layers_reject_bad_arguments_and_inputs():
    with pytest.raises(TypeError, match="Linear: expected a minidl.Tensor"):
        nn.Linear(3, 2)(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int, a pair, 'valid' or 'same'"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(TypeError, match="Conv2d: kernel_size must be an int or a pair"):
        nn.Conv2d(1, 1, (2, 3, 4))
    with pytest.raises(TypeError, match="floating"):
        nn.Linear(2, 2, dtype=np.int64)
    with pytest.raises(RuntimeError, match="CPU"):
        nn.Linear(2, 2, device="cuda")
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(minidl.zeros(1, 3))
    assert nn.Linear(2, 2, dtype=np.float64).weight.dtype == np.float64
    assert nn.BatchNorm2d(2, dtype=minidl.float64).running_var.dtype == np.float64


@pytest.mark.parametrize("dtype", ["float64", "int64", "float16"])
def test_linear_refuses_an_input_of_another_dtype(dtype):
    """PyTorch raises for a float64, integer or float16 input to a float32 Linear; minidl did a silent cast."""
    layer = nn.Linear(4, 3)
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
        layer(minidl.zeros(2, 4, dtype=getattr(minidl, dtype)))
    assert layer.double()(minidl.zeros(2, 4, dtype=minidl.float64)).dtype == minidl.float64
