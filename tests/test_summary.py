"""``minidl.summary`` / ``minidl summary``: rows, hand-counted parameters, torchsummary's size formulas, and
PyTorch's output shapes."""

from __future__ import annotations

import math
import re
from collections import OrderedDict

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import cli, models, nn
from minidl.report.summary import ModelSummary

MB = 1024.0**2


def lenet_rows() -> list[tuple[str, list[int], int]]:
    """LeNet5 on 1×28×28, by hand: 28 -5+1-> 24 /2-> 12 -5+1-> 8 /2-> 4, 16·4·4 = 256 features."""
    conv1 = 6 * 1 * 5 * 5 + 6  # 156
    conv2 = 16 * 6 * 5 * 5 + 16  # 2,416
    fc1 = 256 * 120 + 120  # 30,840
    fc2 = 120 * 10 + 10  # 1,210
    return [
        ("Conv2d-1", [-1, 6, 24, 24], conv1), ("ReLU-2", [-1, 6, 24, 24], 0), ("MaxPool2d-3", [-1, 6, 12, 12], 0),
        ("Conv2d-4", [-1, 16, 8, 8], conv2), ("ReLU-5", [-1, 16, 8, 8], 0), ("MaxPool2d-6", [-1, 16, 4, 4], 0),
        ("Flatten-7", [-1, 256], 0), ("Linear-8", [-1, 120], fc1), ("ReLU-9", [-1, 120], 0),
        ("Linear-10", [-1, 10], fc2),
    ]  # fmt: skip


def test_lenet5_matches_hand_count_and_torchsummary_sizes():
    s = minidl.summary(models.LeNet5(), (1, 28, 28))
    assert isinstance(s, ModelSummary)
    expected = lenet_rows()
    assert [(r.name, r.output_shape, r.params) for r in s.layers] == expected
    assert s.total_params == 156 + 2416 + 30840 + 1210 == 34622
    assert s.trainable_params == 34622 and s.non_trainable_params == 0
    # torchsummary: 4 bytes a number; batch -1 gives per-sample sizes (absolute values)
    outputs = sum(math.prod(shape[1:]) for _, shape, _ in expected)
    assert s.input_size_mb == pytest.approx(28 * 28 * 4 / MB, rel=1e-12)
    assert s.forward_backward_size_mb == pytest.approx(2 * outputs * 4 / MB, rel=1e-12)
    assert s.params_size_mb == pytest.approx(34622 * 4 / MB, rel=1e-12)
    assert s.total_size_mb == pytest.approx((28 * 28 + 2 * outputs + 34622) * 4 / MB, rel=1e-12)

    text = str(s)
    lines = text.splitlines()
    assert lines[0] == "-" * 64 and lines[2] == "=" * 64
    assert re.fullmatch(r"\s+Layer \(type\)\s+Output Shape\s+Param #", lines[1])
    assert re.fullmatch(r"\s+Conv2d-1\s+\[-1, 6, 24, 24\]\s+156", lines[3])
    assert re.fullmatch(r"\s+Linear-8\s+\[-1, 120\]\s+30,840", lines[10])
    assert "Total params: 34,622" in lines and "Trainable params: 34,622" in lines
    assert "Non-trainable params: 0" in lines
    assert f"Forward/backward pass size (MB): {2 * outputs * 4 / MB:0.2f}" in lines
    assert f"Params size (MB): {34622 * 4 / MB:0.2f}" in lines
    assert f"Estimated Total Size (MB): {s.total_size_mb:0.2f}" in lines


def test_batch_size_scales_shapes_and_sizes():
    s = minidl.summary(models.LeNet5(), (1, 28, 28), batch_size=16)
    assert s.layers[0].output_shape == [16, 6, 24, 24]
    per_sample = minidl.summary(models.LeNet5(), (1, 28, 28))
    assert s.input_size_mb == pytest.approx(16 * per_sample.input_size_mb)
    assert s.forward_backward_size_mb == pytest.approx(16 * per_sample.forward_backward_size_mb)
    assert s.params_size_mb == per_sample.params_size_mb
    assert minidl.summary(models.LeNet5().double(), (1, 28, 28), dtype=np.float64).params_size_mb == pytest.approx(
        34622 * 8 / MB)
    with pytest.raises(ValueError, match="summary: dtype is float64 but the parameters of LeNet5 are float32"):
        minidl.summary(models.LeNet5(), (1, 28, 28), dtype=np.float64)


def test_mlp_with_batchnorm_hand_count():
    model = models.MLP(hidden_dims=(64, 32), batchnorm=True)
    s = minidl.summary(model, (1, 28, 28))
    fc1, bn1 = 784 * 64 + 64, 2 * 64  # BatchNorm: weight and bias are parameters
    fc2, bn2 = 64 * 32 + 32, 2 * 32
    fc3 = 32 * 10 + 10
    assert [(r.type, r.params) for r in s.layers] == [
        ("Flatten", 0), ("Linear", fc1), ("BatchNorm1d", bn1), ("ReLU", 0), ("Linear", fc2), ("BatchNorm1d", bn2),
        ("ReLU", 0), ("Linear", fc3)]
    # running_mean / running_var are buffers: counted neither as trainable nor as non-trainable parameters
    assert s.total_params == fc1 + bn1 + fc2 + bn2 + fc3 == 52_842
    assert s.non_trainable_params == 0
    assert sum(b.numel() for b in model.buffers()) > 0


def test_batchnorm_cnn_hand_count():
    s = minidl.summary(models.BatchNormCNN(), (1, 28, 28))
    convs = [32 * 1 * 3 * 3, 64 * 32 * 3 * 3, 128 * 64 * 3 * 3]  # bias=False
    bns = [2 * 32, 2 * 64, 2 * 128]
    fcs = [1152 * 128 + 128, 128 * 10 + 10]  # 128·3·3 = 1152 features
    assert [r.params for r in s.layers if r.type == "Conv2d"] == convs
    assert [r.params for r in s.layers if r.type == "BatchNorm2d"] == bns
    assert [r.params for r in s.layers if r.type == "Linear"] == fcs
    assert s.total_params == sum(convs + bns + fcs) == 241_770
    assert (s.trainable_params, s.non_trainable_params) == (241_770, 0)
    assert [r.output_shape for r in s.layers if r.type == "MaxPool2d"] == [
        [-1, 32, 14, 14], [-1, 64, 7, 7], [-1, 128, 3, 3]]


def test_frozen_parameters_are_non_trainable():
    model = models.LeNet5()
    model.conv1.requires_grad_(False)
    s = minidl.summary(model, (1, 28, 28))
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (34622, 34622 - 156, 156)
    assert "Non-trainable params: 156" in str(s)


def test_shared_module_counts_once_and_own_parameters_are_not_missed():
    shared = nn.Linear(4, 4)

    class Custom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(np.ones(4, dtype=np.float32))  # a parameter of a non-leaf module
            self.body = nn.Sequential(shared, nn.ReLU(), shared)

        def forward(self, x):
            return self.body(x) * self.scale

    model = Custom()
    s = minidl.summary(model, (4,))
    assert [r.name for r in s.layers] == ["Linear-1", "ReLU-2", "Linear-3", "Custom-4"]
    assert [r.params for r in s.layers] == [4 * 4 + 4, 0, 0, 4]
    assert s.total_params == sum(p.numel() for p in model.parameters()) == 24


def test_summary_leaves_model_and_random_state_alone():
    model = models.BatchNormCNN()
    model.train()
    before = {k: np.array(v.detach().numpy()) for k, v in model.state_dict().items()}
    rng_state = minidl.random.get_rng_state()
    minidl.summary(model, (1, 28, 28))
    assert model.training
    assert minidl.random.get_rng_state() == rng_state
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k], err_msg=k)  # running statistics untouched
    assert all(not m._forward_hooks for m in model.modules())


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="summary: expected a minidl.nn.Module"):
        minidl.summary(object(), (1, 28, 28))
    with pytest.raises(ValueError, match=r"summary: input shape dimensions must be positive ints, got \(1, 0, 28\)"):
        minidl.summary(models.LeNet5(), (1, 0, 28))
    with pytest.raises(TypeError, match="summary: an input shape"):
        minidl.summary(models.LeNet5(), "1,28,28")
    with pytest.raises(ValueError, match="summary: batch_size"):
        minidl.summary(models.LeNet5(), (1, 28, 28), batch_size=0)
    # LeNet5's first linear layer expects 256 features; 3x32x32 inputs give 16·5·5 = 400
    with pytest.raises(ValueError, match=r"summary: the forward pass of LeNet5 failed .*\[2, 3, 32, 32\]"):
        minidl.summary(models.LeNet5(in_channels=3), (3, 32, 32))


def test_to_dict_matches_properties():
    s = minidl.summary(models.LeNet5(), (1, 28, 28))
    d = s.to_dict()
    assert d["total_params"] == 34622 and len(d["layers"]) == 10
    assert d["layers"][0] == {"name": "Conv2d-1", "path": "conv1", "type": "Conv2d",
                              "output_shape": [-1, 6, 24, 24], "params": 156, "trainable_params": 156}
    assert d["total_size_mb"] == s.total_size_mb and d["non_trainable_params"] == 0


# ------------------------------------------------------------------------------------------ PyTorch oracle
def torch_lenet5():
    tnn = torch.nn
    return tnn.Sequential(OrderedDict(
        conv1=tnn.Conv2d(1, 6, 5), relu1=tnn.ReLU(), pool1=tnn.MaxPool2d(2),
        conv2=tnn.Conv2d(6, 16, 5), relu2=tnn.ReLU(), pool2=tnn.MaxPool2d(2), flatten=tnn.Flatten(),
        fc1=tnn.Linear(256, 120), relu3=tnn.ReLU(), fc2=tnn.Linear(120, 10)))  # fmt: skip


def torch_bn_cnn():
    tnn = torch.nn
    layers = OrderedDict()
    c_in = 1
    for i, c_out in enumerate((32, 64, 128), start=1):
        layers[f"conv{i}"] = tnn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        layers[f"bn{i}"] = tnn.BatchNorm2d(c_out)
        layers[f"relu{i}"] = tnn.ReLU()
        layers[f"pool{i}"] = tnn.MaxPool2d(2)
        c_in = c_out
    layers.update(flatten=tnn.Flatten(), drop1=tnn.Dropout(0.3), fc1=tnn.Linear(1152, 128), relu4=tnn.ReLU(),
                  drop2=tnn.Dropout(0.3), fc2=tnn.Linear(128, 10))
    return tnn.Sequential(layers)


def torch_rows(model, shape):
    """(type, output shape, parameter count) of every leaf module in a torch forward pass."""
    rows = []
    hooks = [m.register_forward_hook(lambda mod, i, o: rows.append(
        (type(mod).__name__, [-1, *o.shape[1:]], sum(p.numel() for p in mod.parameters(recurse=False)))))
        for m in model.modules() if not list(m.children())]
    model.eval()
    with torch.no_grad():
        model(torch.rand(2, *shape))
    for h in hooks:
        h.remove()
    return rows


@requires_torch
@pytest.mark.parametrize("name, torch_model", [("lenet5", torch_lenet5), ("bn_cnn", torch_bn_cnn)])
def test_shapes_and_counts_match_torch(name, torch_model):
    s = minidl.summary(models.get(name), (1, 28, 28))
    assert [(r.type, r.output_shape, r.params) for r in s.layers] == torch_rows(torch_model(), (1, 28, 28))
    assert s.total_params == sum(p.numel() for p in torch_model().parameters())


# ------------------------------------------------------------------------------------------ CLI
def test_cli_summary_default_shape(capsys):
    assert cli.main(["summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert out == str(minidl.summary(models.LeNet5(), (1, 28, 28)))


def test_cli_summary_options(capsys):
    assert cli.main(["summary", "mlp", "--model-arg", "hidden_dims=[32]", "--batch-size", "8"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Linear-2\s+\[8, 32\]\s+25,120", out)  # 784·32 + 32
    assert "Total params: 25,450" in out  # + 32·10 + 10
    assert cli.main(["summary", "lenet5", "--input-shape", "3,28,28"]) == 0  # in_channels follows the shape
    assert "Total params: 34,922" in capsys.readouterr().out  # conv1 = 6·3·5·5 + 6 = 456 instead of 156


def test_cli_summary_xor_uses_vector_input(capsys):
    assert cli.main(["summary", "xor"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Linear-1\s+\[-1, 4\]\s+12", out) and "Total params: 22" in out  # 2·4+4 + 4·2+2


@pytest.mark.parametrize("argv, message", [
    (["summary", "nosuch"], "unknown model 'nosuch'"),
    (["summary", "lenet5", "--input-shape", "1,28,40"], "does not accept inputs of shape [1, 28, 40]"),
    (["summary", "lenet5", "--input-shape", "1,12,12"], "images must be at least 16×16"),
    (["summary", "mlp", "--model-arg", "widths=3"], "takes no argument 'widths'"),
])
def test_cli_summary_errors(capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("minidl summary: error:") and message in err
