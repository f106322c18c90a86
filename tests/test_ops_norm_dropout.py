"""Batch norm, layer norm and dropout: numeric gradients, PyTorch parity, running statistics, dropout
statistics and determinism, dtypes, extreme values and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from conftest import requires_torch, to_torch, torch
from minidl import ops
from minidl.gradcheck import eval_numerical_gradient_array, gradcheck

RTOL = 1e-6


def close(a, b) -> None:
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-10)


# ============================================================================================ batch norm
BN_SHAPES = [(8, 3), (4, 3, 6), (4, 3, 5, 5)]


@requires_torch
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_torch(shape, training, affine, rng):
    c = shape[1]
    x = rng.standard_normal(shape) * 2 + 0.5
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    rm, rv = rng.standard_normal(c), rng.random(c) + 0.5
    dout = rng.standard_normal(shape)

    X = minidl.tensor(x, requires_grad=True)
    W, B = (minidl.tensor(w, requires_grad=True), minidl.tensor(b, requires_grad=True)) if affine else (None, None)
    m_rm, m_rv = rm.copy(), rv.copy()
    out = F.batch_norm(X, m_rm, m_rv, W, B, training=training, momentum=0.3, eps=1e-4)
    out.backward(dout)

    TX = to_torch(x, True)
    TW, TB = (to_torch(w, True), to_torch(b, True)) if affine else (None, None)
    t_rm, t_rv = to_torch(rm), to_torch(rv)
    t_out = torch.nn.functional.batch_norm(TX, t_rm, t_rv, TW, TB, training=training, momentum=0.3, eps=1e-4)
    t_out.backward(torch.tensor(dout))

    close(out.detach().numpy(), t_out.detach().numpy())
    close(X.grad.detach().numpy(), TX.grad.numpy())
    if affine:
        close(W.grad.detach().numpy(), TW.grad.numpy())
        close(B.grad.detach().numpy(), TB.grad.numpy())
    close(m_rm, t_rm.numpy())  # updated in place in training, untouched in eval
    close(m_rv, t_rv.numpy())
    assert training == (not np.array_equal(m_rm, rm))


@requires_torch
def test_batch_norm_running_stats_over_several_steps_match_torch(rng):
    bn = torch.nn.BatchNorm2d(3, momentum=0.2, dtype=torch.float64)
    rm, rv = np.zeros(3), np.ones(3)
    for _ in range(4):
        x = rng.standard_normal((5, 3, 4, 4)) * 3 + 1
        F.batch_norm(minidl.tensor(x), rm, rv, training=True, momentum=0.2)
        bn(to_torch(x))
    close(rm, bn.running_mean.numpy())
    close(rv, bn.running_var.numpy())
    x = rng.standard_normal((2, 3, 4, 4))  # eval uses the accumulated statistics
    bn.eval()
    close(F.batch_norm(minidl.tensor(x), rm, rv, training=False).detach().numpy(), bn(to_torch(x)).detach().numpy())


@requires_torch
def test_batch_norm_without_running_stats_uses_batch_stats_in_eval(rng):
    x = rng.standard_normal((6, 4))
    X = minidl.tensor(x, requires_grad=True)
    out = F.batch_norm(X, None, None, training=False)
    out.backward(np.arange(24.0).reshape(6, 4))
    TX = to_torch(x, True)
    t_out = torch.nn.functional.batch_norm(TX, None, None, training=True)  # what nn.BatchNorm does here
    t_out.backward(torch.arange(24.0, dtype=torch.float64).reshape(6, 4))
    close(out.detach().numpy(), t_out.detach().numpy())
    close(X.grad.detach().numpy(), TX.grad.numpy())


@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 2, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(shape, training, rng):
    c = shape[1]
    rm, rv = rng.standard_normal(c), rng.random(c) + 0.5

    def fn(x, w, b):
        # fresh copies: the running stats must not drift between numeric-gradient evaluations
        return F.batch_norm(x, rm.copy(), rv.copy(), w, b, training=training)

    report = gradcheck(fn, rng.standard_normal(shape), rng.standard_normal(c), rng.standard_normal(c))
    assert report.ok, str(report)


def test_batch_norm_hand_api_matches_numeric_gradient(rng):
    x, w, b = rng.standard_normal((4, 3, 2)), rng.standard_normal(3), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3, 2))
    _, cache = ops.batch_norm.forward(x, w, b, training=True)
    dx, dw, db = ops.batch_norm.backward(dout, cache)
    for i, (grad, arg) in enumerate([(dx, x), (dw, w), (db, b)]):
        def f(a, i=i):
            args = [x, w, b]
            args[i] = a
            return ops.batch_norm.forward(*args, training=True)[0]

        np.testing.assert_allclose(grad, eval_numerical_gradient_array(f, arg, dout), rtol=1e-6, atol=1e-8)


def test_batch_norm_training_output_is_normalised(rng):
    x = rng.standard_normal((16, 4, 3, 3)) * 5 + 3
    out, _ = ops.batch_norm.forward(x, None, None, training=True, eps=0.0)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), np.zeros(4), atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), np.ones(4), rtol=1e-12)


def test_batch_norm_float32(rng):
    x = minidl.tensor(rng.standard_normal((4, 3, 2, 2)).astype(np.float32), requires_grad=True)
    w = minidl.tensor(np.ones(3, np.float32), requires_grad=True)
    b = minidl.tensor(np.zeros(3, np.float32), requires_grad=True)
    rm, rv = np.zeros(3, np.float64), np.ones(3, np.float64)  # float64 buffers do not upcast the output
    for training in (True, False):
        out = F.batch_norm(x, rm, rv, w, b, training=training)
        out.sum().backward()
        assert out.dtype == np.float32
        assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


@pytest.mark.parametrize("dtype, scale", [(np.float32, 1e30), (np.float32, 3e38), (np.float64, 1e300)])
def test_norms_near_overflow_stay_finite_and_exact(dtype, scale, rng):
    base = rng.standard_normal((6, 2, 3))
    x = (base * scale / np.abs(base).max()).astype(dtype)
    expected_bn, _ = ops.batch_norm.forward(base, None, None, training=True, eps=0.0)
    expected_ln, _ = ops.layer_norm.forward(base, None, None, normalized_shape=(2, 3), eps=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bn, _ = ops.batch_norm.forward(x, None, None, training=True)
        ln, _ = ops.layer_norm.forward(x, None, None, normalized_shape=(2, 3))
    assert bn.dtype == ln.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(bn, expected_bn, rtol=tol, atol=tol)
    np.testing.assert_allclose(ln, expected_ln, rtol=tol, atol=tol)


def test_norm_gradients_near_overflow_scale_inversely(rng):
    # x̂ is invariant to x → s·x, so dL/dx scales by 1/s: checks the inverse std of the rescaled path
    base = rng.standard_normal((6, 2, 3))
    dout = rng.standard_normal((6, 2, 3))
    s = 1e300
    for op, kw in [(ops.batch_norm, {"training": True}), (ops.layer_norm, {"normalized_shape": (3,)})]:
        _, cache = op.forward(base, None, None, eps=0.0, **kw)
        expected = op.backward(dout, cache)[0]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _, cache = op.forward(base * s, None, None, eps=0.0, **kw)
            dx = op.backward(dout, cache)[0]
        np.testing.assert_allclose(dx * s, expected, rtol=1e-10, atol=1e-12)


def test_batch_norm_errors():
    x = minidl.tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\), got \(4,\)"):
        F.batch_norm(x, None, None, minidl.tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"batch_norm: running_var must have shape \(3,\), got \(2,\)"):
        F.batch_norm(x, np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(minidl.tensor(np.zeros((1, 3))), np.zeros(3), np.ones(3), training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(minidl.tensor(np.zeros((1, 3, 1, 1))), None, None)
    with pytest.raises(NotImplementedError, match="momentum=None"):
        F.batch_norm(x, np.zeros(3), np.ones(3), training=True, momentum=None)
    with pytest.raises(ValueError, match=r"batch_norm: expected input of shape \(N, C\)"):
        F.batch_norm(minidl.tensor(np.zeros(3)), np.zeros(3), np.ones(3))
    # eval with a single sample is fine: the statistics are the running ones
    assert F.batch_norm(minidl.tensor(np.zeros((1, 3))), np.zeros(3), np.ones(3)).shape == (1, 3)


# ============================================================================================ layer norm
@requires_torch
@pytest.mark.parametrize("shape, nshape", [((4, 6), (6,)), ((3, 4, 5), (5,)), ((3, 4, 5), (4, 5))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(shape, nshape, affine, rng):
    x = rng.standard_normal(shape) * 2 + 1
    w, b = rng.standard_normal(nshape), rng.standard_normal(nshape)
    dout = rng.standard_normal(shape)
    X = minidl.tensor(x, requires_grad=True)
    W, B = (minidl.tensor(w, requires_grad=True), minidl.tensor(b, requires_grad=True)) if affine else (None, None)
    out = F.layer_norm(X, nshape, W, B, eps=1e-3)
    out.backward(dout)
    TX = to_torch(x, True)
    TW, TB = (to_torch(w, True), to_torch(b, True)) if affine else (None, None)
    t_out = torch.nn.functional.layer_norm(TX, nshape, TW, TB, eps=1e-3)
    t_out.backward(torch.tensor(dout))
    close(out.detach().numpy(), t_out.detach().numpy())
    close(X.grad.detach().numpy(), TX.grad.numpy())
    if affine:
        close(W.grad.detach().numpy(), TW.grad.numpy())
        close(B.grad.detach().numpy(), TB.grad.numpy())


@pytest.mark.parametrize("nshape", [(4,), (3, 4)])
def test_layer_norm_gradcheck(nshape, rng):
    report = gradcheck(lambda x, w, b: F.layer_norm(x, nshape, w, b), rng.standard_normal((2, 3, 4)),
                       rng.standard_normal(nshape), rng.standard_normal(nshape))
    assert report.ok, str(report)
    report = gradcheck(lambda x: F.layer_norm(x, 4), rng.standard_normal((3, 4)))
    assert report.ok, str(report)


def test_layer_norm_float32_and_int_normalized_shape(rng):
    x = minidl.tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    w = minidl.tensor(np.ones(5, np.float32), requires_grad=True)
    out = F.layer_norm(x, 5, w, None)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == np.float32
    np.testing.assert_allclose(out.detach().numpy().mean(-1), np.zeros(3), atol=1e-6)


def test_layer_norm_errors():
    x = minidl.tensor(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 5\) does not end with .*\(4,\)"):
        F.layer_norm(x, 4)
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 5\) does not end with .*\(2, 5, 1\)"):
        F.layer_norm(x, (2, 5, 1))
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(5,\), got \(4,\)"):
        F.layer_norm(x, 5, minidl.tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"layer_norm: bias must have shape \(5,\)"):
        F.layer_norm(x, 5, None, minidl.tensor(np.ones((1, 5))))


# ============================================================================================ dropout
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    minidl.manual_seed(3)
    n = 200_000
    x = np.full(n, 2.0)
    out, mask = ops.dropout.forward(x, p=p)
    kept = out != 0
    sigma = np.sqrt(p * (1 - p) / n)  # standard deviation of the kept fraction
    assert abs(kept.mean() - (1 - p)) < 5 * sigma
    np.testing.assert_allclose(out[kept], 2.0 / (1 - p), rtol=1e-12)  # survivors scaled by 1/(1-p)
    assert abs(out.mean() - 2.0) < 5 * 2.0 * sigma / (1 - p)  # expectation preserved


def test_dropout_deterministic_under_manual_seed(rng):
    x = minidl.tensor(rng.standard_normal((50, 40)))
    minidl.manual_seed(7)
    a = F.dropout(x, 0.3).detach().numpy()
    minidl.manual_seed(7)
    b = F.dropout(x, 0.3).detach().numpy()
    minidl.manual_seed(8)
    c = F.dropout(x, 0.3).detach().numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dropout_mask_follows_the_given_generator(rng):
    x = rng.standard_normal((6, 7))
    out, _ = ops.dropout.forward(x, p=0.4, generator=np.random.default_rng(11))
    u = np.random.default_rng(11).random((6, 7))  # the documented draw: keep where u >= p
    np.testing.assert_allclose(out, np.where(u >= 0.4, x / 0.6, 0.0), rtol=1e-12)


def test_dropout_backward_is_the_scaled_mask(rng):
    x_np = np.abs(rng.standard_normal((30, 20))) + 0.5
    x = minidl.tensor(x_np, requires_grad=True)
    out = F.dropout(x, 0.25)
    dout = rng.standard_normal((30, 20))
    out.backward(dout)
    mask = out.detach().numpy() / x_np  # 0 or 1/(1-p) per element
    assert set(np.round(np.unique(mask), 12)) == {0.0, round(1 / 0.75, 12)}
    np.testing.assert_allclose(x.grad.detach().numpy(), dout * mask, rtol=1e-12)


def test_dropout_gradcheck(rng):
    # gradcheck reseeds minidl's generator before every evaluation, so the mask is fixed
    report = gradcheck(lambda x: F.dropout(x, 0.4), rng.standard_normal((4, 5)))
    assert report.ok, str(report)


def test_dropout_edge_probabilities_and_eval(rng):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, mask = ops.dropout.forward(x, p=1.0)
    np.testing.assert_array_equal(out, np.zeros_like(x))
    assert out.dtype == np.float32 and mask.dtype == np.float32
    for kw in ({"p": 0.0}, {"p": 0.7, "training": False}):
        out, cache = ops.dropout.forward(x, **kw)
        np.testing.assert_array_equal(out, x)
        np.testing.assert_array_equal(ops.dropout.backward(x, cache)[0], x)
    with pytest.raises(ValueError, match="dropout: probability has to be between 0 and 1"):
        ops.dropout.forward(x, p=1.5)


def test_dropout_float32(rng):
    x = minidl.tensor(rng.standard_normal((8, 8)).astype(np.float32), requires_grad=True)
    out = F.dropout(x, 0.5)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == np.float32
