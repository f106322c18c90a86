"""The classic homework API (minidl.layers): golden values, numeric gradients, statistics, delegation to ops."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import requires_torch, to_torch, torch
from minidl import layers as L
from minidl import ops
from minidl.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error

TOL = 1e-7  # classic threshold for rel_error against float64 numeric gradients


def num_grads(forward, inputs, dout):
    """Numeric gradients of sum(forward(*inputs)[0] * dout) w.r.t. each input (classic style)."""
    grads = []
    for i in range(len(inputs)):
        def f(v, i=i):
            args = list(inputs)
            args[i] = v
            return forward(*args)[0]
        grads.append(eval_numerical_gradient_array(f, inputs[i], dout))
    return grads


# ------------------------------------------------------------------------------------------ golden values
def test_fc_forward_golden():
    x = np.linspace(-0.2, 0.2, 36).reshape(1, 4, 3, 3)
    w = np.linspace(-0.1, 0.1, 360).reshape(36, 10)
    b = np.linspace(-0.2, 0.2, 10)
    out, _ = L.fc_forward(x, w, b)
    expected = np.array([[0.04735376, 0.0917982, 0.13624265, 0.18068709, 0.22513154, 0.26957598,
                          0.31402043, 0.35846487, 0.40290932, 0.44735376]])
    assert out.shape == (1, 10)
    assert rel_error(out, expected) < 1e-7


def test_relu_forward_golden():
    x = np.linspace(-0.5, 0.5, 12).reshape(3, 4)
    out, _ = L.relu_forward(x)
    expected = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.04545455, 0.13636364],
                         [0.22727273, 0.31818182, 0.40909091, 0.5]])
    assert rel_error(out, expected) < 5e-8


def test_softmax_loss_extreme_scores_are_stable():
    x = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0], [0.0, -1000.0, 1000.0]])
    y = np.array([0, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any NumPy overflow/underflow/invalid warning fails the test
        loss, dx = L.softmax_loss(x, y)
    assert loss == 0.0
    assert np.all(np.isfinite(dx)) and dx.shape == x.shape
    assert np.max(np.abs(dx)) < 1e-12  # perfectly confident and right: nothing to learn


def test_softmax_loss_of_small_scores_is_log_c(rng):
    x = 0.001 * rng.standard_normal((50, 10))
    y = rng.integers(0, 10, 50)
    loss, _ = L.softmax_loss(x, y)
    assert abs(loss - np.log(10)) < 0.01


def test_l2_regularization(rng):
    w = rng.standard_normal((3, 4))
    loss, dw = L.l2_regularization(w, 0.3)
    assert loss == pytest.approx(0.5 * 0.3 * np.sum(w**2))
    num = eval_numerical_gradient(lambda v: L.l2_regularization(v, 0.3)[0], w, verbose=False)
    assert rel_error(dw, num) < TOL


# ------------------------------------------------------------------------------------------ numeric gradients
def test_fc_backward(rng):
    x, w, b = rng.standard_normal((10, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    dout = rng.standard_normal((10, 5))
    _, cache = L.fc_forward(x, w, b)
    dx, dw, db = L.fc_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    for analytic, numeric in zip((dx, dw, db), num_grads(L.fc_forward, (x, w, b), dout), strict=True):
        assert rel_error(analytic, numeric) < TOL


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation_backward(name, rng):
    forward, backward = getattr(L, f"{name}_forward"), getattr(L, f"{name}_backward")
    x = rng.standard_normal((10, 10))
    x += np.copysign(0.01, x)  # keep away from relu's kink at 0
    dout = rng.standard_normal(x.shape)
    _, cache = forward(x)
    dx = backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: forward(v)[0], x, dout)) < TOL


def test_softmax_loss_gradient(rng):
    x = rng.standard_normal((8, 5))
    y = rng.integers(0, 5, 8)
    _, dx = L.softmax_loss(x, y)
    num = eval_numerical_gradient(lambda v: L.softmax_loss(v, y)[0], x, verbose=False)
    assert rel_error(dx, num) < TOL


@pytest.mark.parametrize("conv_param", [{"stride": 1, "pad": 1}, {"stride": 2, "pad": 1}, {"stride": 2, "pad": 0}])
def test_conv_forward_backward(conv_param, rng):
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    out, cache = L.conv_forward(x, w, b, conv_param)
    s, p = conv_param["stride"], conv_param["pad"]
    assert out.shape == (2, 2, 1 + (5 + 2 * p - 3) // s, 1 + (5 + 2 * p - 3) // s)
    dout = rng.standard_normal(out.shape)
    grads = L.conv_backward(dout, cache)
    numeric = num_grads(lambda *a: L.conv_forward(*a, conv_param), (x, w, b), dout)
    for analytic, num in zip(grads, numeric, strict=True):
        assert rel_error(analytic, num) < TOL


def test_conv_forward_matches_a_direct_sum(rng):
    # an independent oracle: the definition out[n,f,i,j] = b[f] + Σ w[f] · window, written as loops
    x, w, b = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((3, 3, 3, 3)), rng.standard_normal(3)
    out, _ = L.conv_forward(x, w, b, {"stride": 2, "pad": 1})
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.empty((2, 3, 2, 2))
    for i in range(2):
        for j in range(2):
            window = xp[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
            expected[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    assert rel_error(out, expected) < 1e-12


def test_max_pool_forward_backward(rng):
    x = rng.permutation(3 * 2 * 8 * 8).reshape(3, 2, 8, 8) * 0.01  # distinct values: no ties
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = L.max_pool_forward(x, pool_param)
    np.testing.assert_array_equal(out, x.reshape(3, 2, 4, 2, 4, 2).max(axis=(3, 5)))
    dout = rng.standard_normal(out.shape)
    dx = L.max_pool_backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: L.max_pool_forward(v, pool_param)[0], x, dout)) < TOL


def test_max_pool_overlapping_windows(rng):
    x = rng.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) * 0.01
    pool_param = {"pool_height": 3, "pool_width": 2, "stride": 1}
    out, cache = L.max_pool_forward(x, pool_param)
    assert out.shape == (2, 2, 3, 4)
    dout = rng.standard_normal(out.shape)
    dx = L.max_pool_backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: L.max_pool_forward(v, pool_param)[0], x, dout)) < TOL


@pytest.mark.parametrize("spatial", [False, True])
def test_batchnorm_backward(spatial, rng):
    shape = (4, 3, 2, 3) if spatial else (6, 4)
    forward = L.spatial_batchnorm_forward if spatial else L.batchnorm_forward
    backward = L.spatial_batchnorm_backward if spatial else L.batchnorm_backward
    c = shape[1]
    x = 5 * rng.standard_normal(shape) + 12
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    dout = rng.standard_normal(shape)
    _, cache = forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = backward(dout, cache)
    numeric = num_grads(lambda *a: forward(*a, {"mode": "train"}), (x, gamma, beta), dout)
    for analytic, num in zip((dx, dgamma, dbeta), numeric, strict=True):
        assert rel_error(analytic, num) < 1e-6  # dx has entries near 0, where rel_error is harsh


def test_layernorm_backward(rng):
    x = 5 * rng.standard_normal((4, 5)) + 12
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    _, cache = L.layernorm_forward(x, gamma, beta, {"eps": 1e-5})
    grads = L.layernorm_backward(dout, cache)
    numeric = num_grads(lambda *a: L.layernorm_forward(*a, {"eps": 1e-5}), (x, gamma, beta), dout)
    for analytic, num in zip(grads, numeric, strict=True):
        assert rel_error(analytic, num) < 1e-6


def test_dropout_backward(rng):
    x = rng.standard_normal((10, 10)) + 10
    param = {"mode": "train", "p": 0.2, "seed": 123}
    dout = rng.standard_normal(x.shape)
    out, cache = L.dropout_forward(x, param)
    dx = L.dropout_backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: L.dropout_forward(v, param)[0], x, dout)) < 1e-9
    np.testing.assert_array_equal(dx == 0, out == 0)  # the gradient flows through the kept units only


# ------------------------------------------------------------------------------------------ statistics
def test_batchnorm_train_mode_statistics(rng):
    n, d = 200, 3
    x = 11 * rng.standard_normal((n, d)) + 50
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    out, _ = L.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-9)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-5)  # eps=1e-5 shrinks σ by ~1e-8 relative


def test_batchnorm_running_stats_use_classic_momentum(rng):
    x = 3 * rng.standard_normal((20, 4)) + 2
    param = {"mode": "train", "momentum": 0.8}
    L.batchnorm_forward(x, np.ones(4), np.zeros(4), param)
    # created as zeros / ones, then running = momentum·running + (1 − momentum)·batch (unbiased variance)
    np.testing.assert_allclose(param["running_mean"], 0.2 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(param["running_var"], 0.8 + 0.2 * x.var(axis=0, ddof=1), rtol=1e-12)


def test_batchnorm_test_mode_uses_running_stats(rng):
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([0.0, -1.0, 4.0])
    param = {"mode": "train"}  # default momentum 0.9
    for _ in range(60):
        L.batchnorm_forward(3 * rng.standard_normal((200, 3)) + 7, gamma, beta, param)
    param["mode"] = "test"
    x = 3 * rng.standard_normal((2000, 3)) + 7
    out, _ = L.batchnorm_forward(x, gamma, beta, param)
    # sampling noise of the running and test statistics: the mean is off by ~0.03·γ (one σ), the std by ~3%
    assert np.all(np.abs(out.mean(axis=0) - beta) < 0.15 * gamma)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=0.15)
    # and test mode is exactly the affine map of the running statistics
    expected = gamma * (x - param["running_mean"]) / np.sqrt(param["running_var"] + 1e-5) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_spatial_batchnorm_is_batchnorm_over_n_h_w(rng):
    x = 4 * rng.standard_normal((3, 2, 4, 5)) + 3
    gamma, beta = rng.standard_normal(2), rng.standard_normal(2)
    out, _ = L.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    flat = x.transpose(0, 2, 3, 1).reshape(-1, 2)
    ref, _ = L.batchnorm_forward(flat, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out, ref.reshape(3, 4, 5, 2).transpose(0, 3, 1, 2), rtol=1e-12, atol=1e-12)


def test_layernorm_statistics(rng):
    x = 7 * rng.standard_normal((4, 50)) - 3
    out, _ = L.layernorm_forward(x, np.ones(50), np.zeros(50), {})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("keep", [0.25, 0.4, 0.7])
def test_dropout_statistics(keep, rng):
    x = rng.standard_normal((500, 500)) + 10
    out, _ = L.dropout_forward(x, {"mode": "train", "p": keep, "seed": 123})
    assert abs(np.mean(out == 0) - (1 - keep)) < 0.01  # fraction dropped ≈ 1 − keep
    assert abs(out.mean() - x.mean()) < 0.05 * x.mean()  # inverted dropout keeps the expectation
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / keep, rtol=1e-12)
    test_out, _ = L.dropout_forward(x, {"mode": "test", "p": keep})
    np.testing.assert_array_equal(test_out, x)


def test_dropout_seed_reproducible(rng):
    x = rng.standard_normal((20, 20))
    a, _ = L.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 1})
    b, _ = L.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 1})
    c, _ = L.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 2})
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dropout_test_mode_backward_is_identity(rng):
    dout = rng.standard_normal((3, 4))
    _, cache = L.dropout_forward(rng.standard_normal((3, 4)), {"mode": "test", "p": 0.3})
    np.testing.assert_array_equal(L.dropout_backward(dout, cache), dout)


# ------------------------------------------------------------------------------------------ delegation
class Spy:
    """Wraps an op, recording forward/backward calls, to prove a layer delegates to it."""

    def __init__(self, op):
        self.op, self.calls = op, []

    def forward(self, *args, **kwargs):
        self.calls.append("forward")
        return self.op.forward(*args, **kwargs)

    def backward(self, *args, **kwargs):
        self.calls.append("backward")
        return self.op.backward(*args, **kwargs)


def _labels(rng):
    return rng.integers(0, 4, 5)


# layer -> (op name, forward call, backward call or None)
DELEGATION = {
    "fc": ("linear", lambda r: L.fc_forward(r.standard_normal((5, 2, 3)), r.standard_normal((6, 4)),
                                            r.standard_normal(4)), L.fc_backward),
    "relu": ("relu", lambda r: L.relu_forward(r.standard_normal((3, 4))), L.relu_backward),
    "sigmoid": ("sigmoid", lambda r: L.sigmoid_forward(r.standard_normal((3, 4))), L.sigmoid_backward),
    "tanh": ("tanh", lambda r: L.tanh_forward(r.standard_normal((3, 4))), L.tanh_backward),
    "conv": ("conv2d", lambda r: L.conv_forward(r.standard_normal((2, 3, 5, 5)), r.standard_normal((4, 3, 3, 3)),
                                                r.standard_normal(4), {"stride": 2, "pad": 1}), L.conv_backward),
    "max_pool": ("max_pool2d", lambda r: L.max_pool_forward(r.standard_normal((2, 3, 4, 4)),
                                                            {"pool_height": 2, "pool_width": 2, "stride": 2}),
                 L.max_pool_backward),
    "batchnorm": ("batch_norm", lambda r: L.batchnorm_forward(r.standard_normal((5, 3)), r.standard_normal(3),
                                                              r.standard_normal(3), {"mode": "train"}),
                  L.batchnorm_backward),
    "spatial_batchnorm": ("batch_norm", lambda r: L.spatial_batchnorm_forward(
        r.standard_normal((2, 3, 2, 2)), r.standard_normal(3), r.standard_normal(3), {"mode": "train"}),
        L.spatial_batchnorm_backward),
    "layernorm": ("layer_norm", lambda r: L.layernorm_forward(r.standard_normal((5, 3)), r.standard_normal(3),
                                                              r.standard_normal(3), {}), L.layernorm_backward),
    "dropout": ("dropout", lambda r: L.dropout_forward(r.standard_normal((5, 3)), {"mode": "train", "p": 0.5}),
                L.dropout_backward),
    "softmax_loss": ("cross_entropy", lambda r: L.softmax_loss(r.standard_normal((5, 4)), _labels(r)), None),
}


@pytest.mark.parametrize("layer", list(DELEGATION))
def test_layer_delegates_to_its_op(layer, monkeypatch, rng):
    op_name, forward_call, backward = DELEGATION[layer]
    spy = Spy(getattr(ops, op_name))
    monkeypatch.setattr(ops, op_name, spy)
    out, cache = forward_call(rng)
    if backward is not None:
        backward(np.ones_like(out), cache)
    assert spy.calls == ["forward", "backward"]


def test_adapters_return_exactly_the_ops_output(rng):
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    out, cache = L.conv_forward(x, w, b, {"stride": 2, "pad": 1})
    ref, ref_cache = ops.conv2d.forward(x, w, b, stride=2, padding=1)
    np.testing.assert_array_equal(out, ref)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(L.conv_backward(dout, cache), ops.conv2d.backward(dout, ref_cache), strict=True):
        np.testing.assert_array_equal(got, want)

    pooled, _ = L.max_pool_forward(x, {"pool_height": 3, "pool_width": 2, "stride": 1})
    np.testing.assert_array_equal(pooled, ops.max_pool2d.forward(x, (3, 2), stride=1)[0])

    flat_w = rng.standard_normal((3 * 6 * 6, 5))
    fc_out, _ = L.fc_forward(x, flat_w, b[:1].repeat(5))
    np.testing.assert_array_equal(fc_out, ops.linear.forward(x.reshape(2, -1), flat_w.T, b[:1].repeat(5))[0])

    y = rng.integers(0, 4, 2)
    scores = rng.standard_normal((2, 4))
    loss, _ = L.softmax_loss(scores, y)
    assert loss == ops.cross_entropy.forward(scores, y)[0]

    xs = rng.standard_normal((6, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    bn_out, _ = L.batchnorm_forward(xs, gamma, beta, {"mode": "train", "eps": 1e-3})
    np.testing.assert_array_equal(bn_out, ops.batch_norm.forward(xs, gamma, beta, training=True, eps=1e-3)[0])

    drop, _ = L.dropout_forward(xs, {"mode": "train", "p": 0.6, "seed": 7})
    ref_drop, _ = ops.dropout.forward(xs, p=1.0 - 0.6, training=True, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(drop, ref_drop)


# ------------------------------------------------------------------------------------------ dtypes
def test_float32_in_float32_out(rng):
    f = np.float32
    x = rng.standard_normal((2, 3, 4, 4)).astype(f)
    w, b = rng.standard_normal((2, 3, 3, 3)).astype(f), rng.standard_normal(2).astype(f)
    out, cache = L.conv_forward(x, w, b, {"stride": 1, "pad": 1})
    assert out.dtype == f and all(g.dtype == f for g in L.conv_backward(np.ones_like(out), cache))
    out, cache = L.max_pool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert out.dtype == f and L.max_pool_backward(np.ones_like(out), cache).dtype == f
    fw, fb = rng.standard_normal((48, 5)).astype(f), rng.standard_normal(5).astype(f)
    out, cache = L.fc_forward(x, fw, fb)
    assert out.dtype == f and all(g.dtype == f for g in L.fc_backward(np.ones_like(out), cache))
    for name in ("relu", "sigmoid", "tanh"):
        out, cache = getattr(L, f"{name}_forward")(x)
        assert out.dtype == f and getattr(L, f"{name}_backward")(np.ones_like(out), cache).dtype == f
    param = {"mode": "train"}
    out, cache = L.spatial_batchnorm_forward(x, np.ones(3, f), np.zeros(3, f), param)
    assert out.dtype == f and param["running_mean"].dtype == f and param["running_var"].dtype == f
    assert all(g.dtype == f for g in L.spatial_batchnorm_backward(np.ones_like(out), cache))
    out, _ = L.layernorm_forward(x[:, :, 0, 0], np.ones(3, f), np.zeros(3, f), {})
    assert out.dtype == f
    out, cache = L.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 0})
    assert out.dtype == f and L.dropout_backward(np.ones_like(out), cache).dtype == f
    loss, dx = L.softmax_loss(x[:, :, 0, 0], np.array([0, 2]))
    assert np.asarray(loss).dtype == f and dx.dtype == f
    loss, dw = L.l2_regularization(fw, 0.1)
    assert np.asarray(loss).dtype == f and dw.dtype == f


# ------------------------------------------------------------------------------------------ PyTorch oracle
@requires_torch
def test_fc_and_conv_match_torch(rng):
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    out, cache = L.conv_forward(x, w, b, {"stride": 2, "pad": 1})
    dout = rng.standard_normal(out.shape)
    tx, tw, tb = to_torch(x, True), to_torch(w, True), to_torch(b, True)
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=2, padding=1)
    tout.backward(to_torch(dout))
    assert rel_error(out, tout.detach().numpy()) < 1e-6
    for g, t in zip(L.conv_backward(dout, cache), (tx, tw, tb), strict=True):
        assert rel_error(g, t.grad.numpy()) < 1e-6

    fw, fb = rng.standard_normal((75, 6)), rng.standard_normal(6)
    out, cache = L.fc_forward(x, fw, fb)
    dout = rng.standard_normal(out.shape)
    tx, tw, tb = to_torch(x, True), to_torch(fw, True), to_torch(fb, True)
    tout = tx.reshape(2, -1) @ tw + tb
    tout.backward(to_torch(dout))
    assert rel_error(out, tout.detach().numpy()) < 1e-6
    for g, t in zip(L.fc_backward(dout, cache), (tx, tw, tb), strict=True):
        assert rel_error(g, t.grad.numpy()) < 1e-6


@requires_torch
def test_batchnorm_running_stats_match_torch(rng):
    bn = torch.nn.BatchNorm1d(3, momentum=0.1, dtype=torch.float64)
    param = {"mode": "train", "momentum": 0.9}  # classic 0.9 == PyTorch's 0.1
    gamma, beta = np.ones(3), np.zeros(3)
    for _ in range(3):
        x = 2 * rng.standard_normal((8, 3)) + 1
        out, _ = L.batchnorm_forward(x, gamma, beta, param)
        tout = bn(to_torch(x))
        assert rel_error(out, tout.detach().numpy()) < 1e-6
    assert rel_error(param["running_mean"], bn.running_mean.numpy()) < 1e-6
    assert rel_error(param["running_var"], bn.running_var.numpy()) < 1e-6


@requires_torch
def test_softmax_loss_matches_torch(rng):
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    loss, dx = L.softmax_loss(x, y)
    tx = to_torch(x, True)
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(y))
    tloss.backward()
    assert rel_error(loss, tloss.item()) < 1e-6
    assert rel_error(dx, tx.grad.numpy()) < 1e-6


# ------------------------------------------------------------------------------------------ errors
def test_fc_forward_shape_error_names_layer_and_shapes(rng):
    with pytest.raises(ValueError, match=r"fc_forward.*\(2, 3, 4\).*12.*\(10, 5\).*10"):
        L.fc_forward(rng.standard_normal((2, 3, 4)), rng.standard_normal((10, 5)), rng.standard_normal(5))
    with pytest.raises(ValueError, match=r"fc_forward: expected b of shape \(5,\)"):
        L.fc_forward(rng.standard_normal((2, 10)), rng.standard_normal((10, 5)), rng.standard_normal(4))
    with pytest.raises(ValueError, match=r"fc_forward: expected w of shape \(D, M\)"):
        L.fc_forward(rng.standard_normal((2, 10)), rng.standard_normal(10), rng.standard_normal(4))


def test_parameter_dict_errors(rng):
    x = rng.standard_normal((4, 3))
    with pytest.raises(ValueError, match="batchnorm_forward.*'mode'"):
        L.batchnorm_forward(x, np.ones(3), np.zeros(3), {})
    with pytest.raises(ValueError, match="batchnorm_forward: mode must be 'train' or 'test', got 'eval'"):
        L.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "eval"})
    with pytest.raises(TypeError, match="batchnorm_forward: expected a dict"):
        L.batchnorm_forward(x, np.ones(3), np.zeros(3), "train")
    with pytest.raises(ValueError, match=r"batchnorm_forward: expected x of shape \(N, D\).*\(2, 3, 2, 2\)"):
        L.batchnorm_forward(rng.standard_normal((2, 3, 2, 2)), np.ones(3), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"spatial_batchnorm_forward: expected x of shape \(N, C, H, W\)"):
        L.spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"dropout_forward: keep probability p must be in \(0, 1\], got 0"):
        L.dropout_forward(x, {"mode": "train", "p": 0})
    with pytest.raises(ValueError, match="max_pool_forward.*'pool_width'"):
        L.max_pool_forward(rng.standard_normal((1, 1, 4, 4)), {"pool_height": 2, "stride": 2})
