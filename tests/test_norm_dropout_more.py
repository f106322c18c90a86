"""GroupNorm, InstanceNorm1d/2d/3d, BatchNorm1d on (N, C, L), LocalResponseNorm, the dropout family and
nn.utils (clip_grad_value_, parameters_to_vector, vector_to_parameters): against PyTorch, forward and
backward, running statistics, modules, errors."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch, torch
from minidl.gradcheck import gradcheck


def load(m, tm):
    """Copy torch module tm's parameters and buffers into m."""
    m.load_state_dict({k: minidl.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})


def run_module(m, x, dout):
    lib = minidl if isinstance(m, nn.Module) else torch
    t = lib.tensor(x.copy(), requires_grad=True)
    y = m(t)
    y.backward(lib.tensor(dout))
    grads = {n: p.grad.numpy().copy() for n, p in m.named_parameters() if p.grad is not None}
    return y.detach().numpy(), t.grad.numpy(), grads


def assert_modules_match(m, tm, shape, rng, steps=3, rtol=1e-10):
    load(m, tm)
    m, tm = m.double(), tm.double()
    for _ in range(steps):
        x = rng.standard_normal(shape) * 2 + 1
        dout = rng.standard_normal(shape)  # every layer here keeps the input's shape
        y, gx, gp = run_module(m, x, dout)
        ty, tgx, tgp = run_module(tm, x, dout)
        np.testing.assert_allclose(y, ty, rtol=rtol, atol=1e-12)
        np.testing.assert_allclose(gx, tgx, rtol=rtol, atol=1e-12)
        assert set(gp) == set(tgp)
        for k in gp:
            np.testing.assert_allclose(gp[k], tgp[k], rtol=rtol, atol=1e-12)
        for (k, b), (tk, tb) in zip(m.state_dict().items(), tm.state_dict().items(), strict=True):
            assert k == tk
            np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=rtol, err_msg=k)


# --------------------------------------------------------------------------------------------- group norm
@requires_torch
@pytest.mark.parametrize("groups, channels, shape, kw", [
    (2, 4, (3, 4, 5), {}), (1, 6, (2, 6, 3, 3), {}), (6, 6, (2, 6, 4), {}), (3, 6, (5, 6), {"eps": 1e-2}),
    (2, 4, (3, 4, 2, 2, 2), {"affine": False}), (2, 4, (3, 4, 5), {"bias": False}),
])
def test_group_norm_matches_torch(groups, channels, shape, kw, rng):
    m, tm = nn.GroupNorm(groups, channels, **kw), torch.nn.GroupNorm(groups, channels, **kw)
    assert repr(m) == repr(tm)
    if m.weight is not None:
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
            if tm.bias is not None:
                tm.bias.uniform_(-0.5, 0.5)
    assert_modules_match(m, tm, shape, rng, steps=1)


def test_group_norm_errors_and_gradcheck(rng):
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(minidl.randn(2, 4, 3), 3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.group_norm(minidl.randn(1, 2), 2)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 4.*expected input of shape \(N, 4, \*\)"):
        nn.GroupNorm(2, 4)(minidl.randn(2, 3, 3))
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), rng.standard_normal((2, 4, 3)),
                     rng.standard_normal(4), rng.standard_normal(4)).ok


# --------------------------------------------------------------------------------------------- instance norm
INSTANCE = [
    ("InstanceNorm1d", (4, 3, 6), {}), ("InstanceNorm1d", (3, 6), {}),
    ("InstanceNorm1d", (4, 3, 6), {"affine": True}),
    ("InstanceNorm1d", (4, 3, 6), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm1d", (4, 3, 6), {"track_running_stats": True, "momentum": None}),
    ("InstanceNorm2d", (2, 3, 4, 5), {}), ("InstanceNorm2d", (3, 4, 5), {"affine": True}),
    ("InstanceNorm2d", (2, 3, 4, 5), {"affine": True, "track_running_stats": True, "momentum": 0.3}),
    ("InstanceNorm3d", (2, 3, 2, 3, 2), {"affine": True, "bias": False}),
]


@requires_torch
@pytest.mark.parametrize("name, shape, kw", INSTANCE, ids=[f"{n}-{s}-{k}" for n, s, k in INSTANCE])
def test_instance_norm_train_and_eval_match_torch(name, shape, kw, rng):
    m, tm = getattr(nn, name)(3, **kw), getattr(torch.nn, name)(3, **kw)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    if kw.get("affine"):
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
    assert_modules_match(m, tm, shape, rng)
    m.eval()
    tm.eval()
    assert_modules_match(m, tm, shape, rng, steps=1)


def test_instance_norm_checks_like_torch():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.InstanceNorm1d(3)(minidl.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(3, affine=True)(minidl.randn(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(minidl.randn(2, 4, 5))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(minidl.randn(2, 3, 1))


@requires_torch
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False}])
def test_batchnorm1d_on_sequences_matches_torch(kw, rng):
    m, tm = nn.BatchNorm1d(3, **kw), torch.nn.BatchNorm1d(3, **kw)
    assert_modules_match(m, tm, (5, 3, 7), rng)
    m.eval()
    tm.eval()
    assert_modules_match(m, tm, (5, 3, 7), rng, steps=1)


# --------------------------------------------------------------------------------------------- LRN
@requires_torch
@pytest.mark.parametrize("size, kw, shape", [(3, {}, (2, 7, 4)), (5, {"alpha": 0.1, "beta": 0.5, "k": 2.0}, (2, 6, 3, 3)),
                                             (2, {"alpha": 1.0}, (1, 4, 5)), (4, {"alpha": 0.3}, (2, 9, 2, 2, 2)),
                                             (1, {}, (2, 3, 4)), (10, {"alpha": 0.5}, (2, 4, 3))])
def test_local_response_norm_matches_torch(size, kw, shape, rng):
    m, tm = nn.LocalResponseNorm(size, **kw), torch.nn.LocalResponseNorm(size, **kw)
    assert repr(m) == repr(tm)
    assert_modules_match(m, tm, shape, rng, steps=1)


def test_local_response_norm_gradcheck_and_errors(rng):
    assert gradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5), rng.standard_normal((2, 5, 3))).ok
    with pytest.raises(ValueError, match="Expected 3D or higher"):
        F.local_response_norm(minidl.randn(2, 3), 2)


# --------------------------------------------------------------------------------------------- dropout
def masks(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return y != 0 if x.all() else None


@pytest.mark.parametrize("fn, shape, channel_axes", [
    (F.dropout1d, (8, 16, 50), (0, 1)), (F.dropout1d, (16, 50), (0,)), (F.dropout2d, (8, 16, 5, 6), (0, 1)),
    (F.dropout3d, (4, 16, 2, 3, 4), (0, 1)), (F.dropout3d, (16, 2, 3, 4), (0,)),
])
def test_channel_dropout_zeroes_whole_channels_at_rate_p(fn, shape, channel_axes):
    x = minidl.ones(*shape, dtype=minidl.float64)
    y = fn(x, p=0.3).numpy()
    kept = y != 0
    spatial = tuple(range(len(channel_axes), len(shape)))
    assert np.all(kept.all(axis=spatial) | (~kept).all(axis=spatial))  # a channel is all kept or all dropped
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    rate = 1 - kept.all(axis=spatial).mean()
    assert 0.15 < rate < 0.45


def test_dropout_family_eval_and_p_edge_cases():
    x = minidl.randn(4, 3, 5, 5)
    for m in (nn.Dropout(), nn.Dropout1d(), nn.Dropout2d(), nn.Dropout3d(), nn.AlphaDropout(), nn.FeatureAlphaDropout()):
        m.eval()
        inp = x[0] if isinstance(m, nn.Dropout1d) else x.unsqueeze(0) if isinstance(m, nn.Dropout3d) else x
        assert m(inp) is inp
    assert F.dropout2d(x, p=0.0) is x and F.alpha_dropout(x, p=0.5) is x  # alpha_dropout defaults to training=False
    assert not F.dropout2d(x, p=1.0).numpy().any()
    assert not F.alpha_dropout(x, p=1.0, training=True).numpy().any()  # p = 1: zeros, as in PyTorch
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(x, p=-0.1)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(x)


@requires_torch
def test_dropout2d_warnings_match_torch():
    for mod, lib in ((F, minidl), (torch.nn.functional, torch)):
        with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
            mod.dropout2d(lib.ones(2, 3, 4))
        with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
            mod.dropout2d(lib.ones(2, 3))
    assert repr(nn.Dropout2d(0.25, True)) == repr(torch.nn.Dropout2d(0.25, True))
    assert repr(nn.AlphaDropout(0.2)) == repr(torch.nn.AlphaDropout(0.2))


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_mean_and_variance_of_standard_normal_input(feature):
    x = minidl.randn(400, 50, 20, dtype=minidl.float64)
    y = (F.feature_alpha_dropout if feature else F.alpha_dropout)(x, p=0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    a = 1 / np.sqrt((1.7580993408473766**2 * 0.2 + 1) * 0.8)
    dropped = np.isclose(y, -1.7580993408473766 * a * 0.8)  # a·(−λα) + b: dropped values all land there
    assert 0.18 < dropped.mean() < 0.22


@pytest.mark.parametrize("fn", [lambda x: F.dropout2d(x.unsqueeze(0), 0.4), lambda x: F.alpha_dropout(x, 0.3, True),
                                lambda x: F.feature_alpha_dropout(x, 0.3, True), lambda x: F.dropout1d(x, 0.5)])
def test_dropout_gradient_is_the_mask(fn, rng):
    assert gradcheck(fn, rng.standard_normal((3, 4, 5))).ok


@requires_torch
def test_dropout_inplace_writes_into_the_input():
    x = minidl.ones(4, 6, 3, 3)
    y = F.dropout2d(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}
    z = minidl.ones(6, 3, 3, 3)
    assert F.dropout3d(z, 0.5, inplace=True) is z and set(np.unique(z.numpy())) <= {0.0, 2.0}
    leaf = minidl.randn(3, 4, requires_grad=True)
    h = leaf * 1.0
    out = nn.Dropout(0.5, inplace=True)(h)
    assert out is h
    out.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), (h.detach().numpy() != 0) * 2.0)


# --------------------------------------------------------------------------------------------- nn.utils
@requires_torch
@pytest.mark.parametrize("clip", [0.5, 2.0, -1.0])
def test_clip_grad_value_matches_torch(clip, rng):
    g = [rng.standard_normal((3, 4)) * 2, rng.standard_normal(5)]
    ps = [minidl.tensor(a, requires_grad=True) for a in g]
    tps = [torch.tensor(a, requires_grad=True) for a in g]
    for p, tp, a in zip(ps, tps, g, strict=True):
        p.grad, tp.grad = minidl.tensor(a.copy()), torch.tensor(a.copy())
    assert nn.utils.clip_grad_value_(ps, clip) is None
    torch.nn.utils.clip_grad_value_(tps, clip)
    for p, tp in zip(ps, tps, strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
    single = minidl.tensor(np.ones(2), requires_grad=True)
    single.grad = minidl.tensor(np.array([5.0, -5.0]))
    nn.utils.clip_grad_value_(single, 1)
    assert single.grad.tolist() == [1.0, -1.0]


@requires_torch
def test_parameters_to_vector_and_back_match_torch(rng):
    m, tm = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    load(m, tm)
    v, tv = nn.utils.parameters_to_vector(m.parameters()), torch.nn.utils.parameters_to_vector(tm.parameters())
    np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
    assert v.requires_grad and tv.requires_grad  # differentiable, as in PyTorch
    (v * minidl.arange(8.0)).sum().backward()
    np.testing.assert_array_equal(m.weight.grad.numpy().reshape(-1), np.arange(6.0))
    new = minidl.tensor(np.arange(10.0, 18.0, dtype=np.float32))
    weight = m.weight
    nn.utils.vector_to_parameters(new, m.parameters())
    assert m.weight is weight  # the same Parameter, now holding a view of the vector
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.arange(10.0, 16.0).reshape(2, 3))
    new[0] = -1.0  # as in PyTorch, the parameters share the vector's storage
    assert m.weight[0, 0].item() == -1.0
    with pytest.raises(RuntimeError, match="is invalid for input of size 4"):
        nn.utils.vector_to_parameters(minidl.arange(4.0), m.parameters())
    with pytest.raises(TypeError, match="expected minidl.Tensor"):
        nn.utils.vector_to_parameters([1.0, 2.0], m.parameters())
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        nn.utils.parameters_to_vector([nn.Parameter(minidl.zeros(3, 2)).t()])
