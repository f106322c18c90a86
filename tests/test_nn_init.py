"""minidl.nn.init and the layers' default initialisation: gains and fans against PyTorch, distributions checked
statistically on large tensors (bounds exactly; mean and std within many standard errors), seeded
reproducibility through minidl.manual_seed and explicit generators."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from conftest import requires_torch, torch
from minidl.nn import init

BIG = (600, 500)  # 300k samples: std estimates within ~0.2 %, mean within ~0.2 % of the std


def check_uniform(x, bound):
    """Samples of U(-bound, bound): inside the bounds, filling them, with mean 0 and std bound/√3."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    assert np.all(np.abs(x) <= bound * (1 + 1e-6))  # slack: the bound itself is rounded to float32
    assert x.max() > bound * (1 - 20 / n) and x.min() < -bound * (1 - 20 / n)
    std = bound / math.sqrt(3)
    assert abs(x.mean()) < 6 * std / math.sqrt(n)
    assert abs(x.std() / std - 1) < 0.01


def check_normal(x, mean, std):
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    assert abs(x.mean() - mean) < 6 * std / math.sqrt(n)
    assert abs(x.std() / std - 1) < 0.01
    # a normal's 4th standardised moment is 3 (a uniform's is 1.8): the shape is right, not only the scale
    z = (x - mean) / std
    assert abs(np.mean(z**4) - 3) < 0.1


@requires_torch
def test_calculate_gain_matches_torch():
    cases = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
             ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)]
    for nonlinearity, param in cases:
        assert init.calculate_gain(nonlinearity, param) == pytest.approx(
            torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@requires_torch
@pytest.mark.parametrize("shape", [(3, 4), (6, 3, 5, 5), (2, 3, 4, 5, 6), (7, 1, 1)])
def test_fans_match_torch(shape):
    fans = init._calculate_fan_in_and_fan_out(minidl.zeros(*shape))
    assert fans == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    assert init._calculate_fan_in_and_fan_out(np.zeros(shape)) == fans


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(minidl.zeros(5))
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_uniform_(minidl.zeros(3, 3), mode="fan_avg")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_basic_fills_in_place_keep_dtype_and_return_the_tensor(dtype):
    t = minidl.zeros(*BIG, dtype=dtype)
    arr = t.detach().numpy()
    assert init.uniform_(t, -0.3, 0.7) is t and t.detach().numpy() is arr and t.dtype == dtype
    x = t.detach().numpy().astype(np.float64)
    assert x.min() >= -0.3 and x.max() <= 0.7
    check_uniform(x - 0.2, 0.5)
    assert init.normal_(t, mean=2.0, std=0.05) is t and t.dtype == dtype
    check_normal(t.detach().numpy(), 2.0, 0.05)
    assert init.constant_(t, 0.25) is t and np.all(t.detach().numpy() == 0.25)
    assert np.all(init.ones_(t).detach().numpy() == 1) and np.all(init.zeros_(t).detach().numpy() == 0)
    assert init.uniform_(t).detach().numpy().min() >= 0  # default U(0, 1)


def test_init_on_parameters_records_no_graph():
    p = nn.Parameter(minidl.zeros(4, 3))
    init.normal_(p, std=0.1)
    assert p.is_leaf and p.requires_grad and p.grad is None and isinstance(p, nn.Parameter)


@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_xavier(gain):
    t = minidl.zeros(*BIG)
    fan_in, fan_out = BIG[1], BIG[0]
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    check_uniform(init.xavier_uniform_(t, gain=gain).detach().numpy(), math.sqrt(3) * std)
    check_normal(init.xavier_normal_(t, gain=gain).detach().numpy(), 0.0, std)


@pytest.mark.parametrize("a, mode, nonlinearity", [(0, "fan_in", "leaky_relu"), (0, "fan_out", "relu"),
                                                     (0.2, "fan_in", "leaky_relu"), (0, "fan_in", "tanh")])
def test_kaiming_on_a_conv_weight(a, mode, nonlinearity):
    shape = (200, 40, 5, 6)  # fan_in = 40·30 = 1200, fan_out = 200·30 = 6000
    fan = 1200 if mode == "fan_in" else 6000
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    t = minidl.zeros(*shape)
    check_uniform(init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity).detach().numpy(), math.sqrt(3) * std)
    check_normal(init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity).detach().numpy(), 0.0, std)


def test_zero_element_tensor_warns_and_non_float_is_rejected():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(minidl.zeros(0, 3))
    with pytest.raises(TypeError, match="floating"):
        init.normal_(minidl.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="Tensor or numpy.ndarray"):
        init.zeros_([1.0, 2.0])
    arr = np.zeros((2, 2))
    assert init.ones_(arr) is arr and np.all(arr == 1)


def test_generator_argument_and_global_seed():
    a, b = minidl.zeros(5, 4), minidl.zeros(5, 4)
    init.xavier_normal_(a, generator=np.random.default_rng(3))
    init.xavier_normal_(b, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    minidl.manual_seed(11)
    init.uniform_(a)
    minidl.manual_seed(11)
    init.uniform_(b)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


# --------------------------------------------------------------------------------------------- layer defaults
def test_linear_default_init_is_pytorchs():
    lin = nn.Linear(400, 800)
    bound = 1 / math.sqrt(400)
    assert lin.weight.shape == (800, 400) and lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    check_uniform(lin.weight.detach().numpy(), bound)  # kaiming_uniform_(a=√5) has bound gain·√3/√fan_in = 1/√fan_in
    assert np.all(np.abs(lin.bias.detach().numpy()) <= bound) and lin.bias.detach().numpy().std() > 0.4 * bound
    assert nn.Linear(3, 2, bias=False).bias is None


def test_conv2d_default_init_uses_fan_in_per_group():
    conv = nn.Conv2d(64, 128, (3, 5), groups=4)
    fan_in = 64 // 4 * 3 * 5
    assert conv.weight.shape == (128, 16, 3, 5) and conv.weight.dtype == np.float32
    check_uniform(conv.weight.detach().numpy(), 1 / math.sqrt(fan_in))
    assert np.all(np.abs(conv.bias.detach().numpy()) <= 1 / math.sqrt(fan_in))


def test_norm_layers_default_init():
    bn = nn.BatchNorm2d(6)
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(6))
    np.testing.assert_array_equal(bn.bias.detach().numpy(), np.zeros(6))
    np.testing.assert_array_equal(bn.running_mean.detach().numpy(), np.zeros(6))
    np.testing.assert_array_equal(bn.running_var.detach().numpy(), np.ones(6))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.item() == 0
    assert bn.weight.dtype == bn.running_var.dtype == np.float32
    bn.running_mean.data += 3
    bn.num_batches_tracked.data += 2
    bn.reset_running_stats()
    assert bn.running_mean.detach().numpy().sum() == 0 and bn.num_batches_tracked.item() == 0
    ln = nn.LayerNorm((3, 4))
    assert ln.weight.shape == (3, 4) and np.all(ln.weight.detach().numpy() == 1) and np.all(ln.bias.detach().numpy() == 0)
    assert nn.BatchNorm1d(3, affine=False).weight is None
    assert nn.BatchNorm1d(3, track_running_stats=False).running_mean is None


def test_manual_seed_makes_model_init_reproducible():
    def build():
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(36, 10))

    minidl.manual_seed(7)
    a = build()
    minidl.manual_seed(7)
    b = build()
    minidl.manual_seed(8)
    c = build()
    for (k, va), vb, vc in zip(a.state_dict().items(), b.state_dict().values(), c.state_dict().values(),
                               strict=True):
        np.testing.assert_array_equal(va.detach().numpy(), vb.detach().numpy(), err_msg=k)
        assert not np.array_equal(va.detach().numpy(), vc.detach().numpy()), k
    a[2].reset_parameters()  # re-drawing gives new values
    assert not np.array_equal(a[2].weight.detach().numpy(), b[2].weight.detach().numpy())


@requires_torch
def test_default_init_distribution_agrees_with_torch():
    """Two-sample Kolmogorov–Smirnov distance between minidl's and torch's default Linear weights: same law."""
    w = np.sort(nn.Linear(300, 400).weight.detach().numpy().ravel().astype(np.float64))
    torch.manual_seed(0)
    tw = np.sort(torch.nn.Linear(300, 400).weight.detach().numpy().ravel().astype(np.float64))
    grid = np.linspace(-0.06, 0.06, 241)
    d = np.max(np.abs(np.searchsorted(w, grid) / w.size - np.searchsorted(tw, grid) / tw.size))
    # the KS critical value at the 0.1 % level; a bound off by √(4/3) (fan_out instead of fan_in) gives d ≈ 0.07
    assert d < 1.95 * math.sqrt(2 / w.size)
