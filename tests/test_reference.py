"""The reference kernels (minidl.ops.reference) are the oracle of the fast kernels' tests, so they are checked
on their own, without PyTorch: every backward against central differences, every forward against values
worked out by hand. The fast kernels are compared with them in tests/test_perf_kernels.py."""

from __future__ import annotations

import numpy as np
import pytest

from minidl.gradcheck import gradcheck
from minidl.ops import reference as ref

TOL = 1e-7


def check(fn, *inputs):
    report = gradcheck(fn, *inputs)
    assert report.ok and report.max_rel_error < TOL, str(report)


# ------------------------------------------------------------------------------------------ numeric gradients
@pytest.mark.parametrize("params", [
    {}, {"stride": 2, "padding": 1}, {"padding": "same"}, {"dilation": 2, "stride": (1, 2)},
    {"padding": (1, 0), "groups": 2},
], ids=str)
def test_conv2d_reference_gradients(params, rng):
    x = rng.standard_normal((2, 2, 5, 6))
    w = rng.standard_normal((4, 2 // params.get("groups", 1), 3, 2))
    check(lambda a, b, c: ref.conv2d(a, b, c, **params), x, w, rng.standard_normal(4))


@pytest.mark.parametrize("params", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": 2, "stride": 1, "dilation": 2},
    {"kernel_size": 2, "ceil_mode": True},
], ids=str)
def test_max_pool2d_reference_gradients(params, rng):
    x = rng.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) / 10.0  # distinct values: no ties at the kinks
    check(lambda a: ref.max_pool2d(a, **params), x)


@pytest.mark.parametrize("params", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 2, "ceil_mode": True}, {"kernel_size": 2, "divisor_override": 3},
], ids=str)
def test_avg_pool2d_reference_gradients(params, rng):
    check(lambda a: ref.avg_pool2d(a, **params), rng.standard_normal((2, 2, 5, 5)))


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_reference_gradients(shape, training, rng):
    c = shape[1]
    stats = {"running_mean": rng.standard_normal(c), "running_var": rng.random(c) + 0.5}
    check(lambda a, w, b: ref.batch_norm(a, w, b, training=training, **stats),
          rng.standard_normal(shape), rng.standard_normal(c), rng.standard_normal(c))


@pytest.mark.parametrize("nshape", [(4,), (2, 3)])
def test_layer_norm_reference_gradients(nshape, rng):
    check(lambda a, w, b: ref.layer_norm(a, w, b, normalized_shape=nshape),
          rng.standard_normal((3, *nshape)), rng.standard_normal(nshape), rng.standard_normal(nshape))


@pytest.mark.parametrize(("shape", "dim"), [((4, 5), 1), ((3, 4, 2), 1), ((4, 5), 0)])
def test_log_softmax_reference_gradients(shape, dim, rng):
    check(lambda a: ref.log_softmax(a, dim), rng.standard_normal(shape) * 3)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2), (4,)])
def test_softmax_cross_entropy_reference_gradients(shape, reduction, rng):
    target = rng.integers(0, 4, shape[:1] + shape[2:] if len(shape) > 1 else ())
    check(lambda a: ref.softmax_cross_entropy(a, target, reduction=reduction), rng.standard_normal(shape) * 3)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 3, 3)])
def test_linear_reference_gradients(x_shape, rng):
    check(lambda a, w, b: ref.linear(a, w, b), rng.standard_normal(x_shape), rng.standard_normal((5, 3)),
          rng.standard_normal(5))


# ------------------------------------------------------------------------------------------ values by hand
def test_conv2d_reference_values_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    ones = np.ones((1, 1, 2, 2))
    out, _ = ref.conv2d.forward(x, ones, np.array([0.5]), stride=2)
    # each output is the sum of a 2x2 block, plus the bias
    np.testing.assert_array_equal(out[0, 0], [[0 + 1 + 4 + 5 + 0.5, 2 + 3 + 6 + 7 + 0.5],
                                              [8 + 9 + 12 + 13 + 0.5, 10 + 11 + 14 + 15 + 0.5]])
    out, _ = ref.conv2d.forward(x, ones, None, padding=1)
    assert out.shape == (1, 1, 5, 5) and out[0, 0, 0, 0] == 0.0 and out[0, 0, 4, 4] == 15.0  # corners see one pixel
    # groups: each output channel sees only its own input channel
    xg = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))])[None]
    out, _ = ref.conv2d.forward(xg, np.ones((2, 1, 3, 3)), None, groups=2)
    np.testing.assert_array_equal(out.ravel(), [9.0, 18.0])
    # 'same' with an even kernel pads one row/column on top/left and two on the bottom/right, as PyTorch does:
    # the windows of the last row and column hold 2 real rows/columns, the others 3
    out, _ = ref.conv2d.forward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)), None, padding="same")
    np.testing.assert_array_equal(out[0, 0], [[9, 9, 6], [9, 9, 6], [6, 6, 4]])


def test_pooling_reference_values_by_hand():
    x = np.array([[1.0, 5, 2, 0], [3, 4, 8, 1], [0, 2, 6, 7], [9, 1, 3, 3]])[None, None]
    out, cache = ref.max_pool2d.forward(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[5, 8], [9, 7]])
    (dx,) = ref.max_pool2d.backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]])
    (dx,) = ref.max_pool2d.backward(np.ones((1, 1, 1, 1)), ref.max_pool2d.forward(np.ones((1, 1, 2, 2)), 2)[1])
    np.testing.assert_array_equal(dx[0, 0], [[1, 0], [0, 0]])  # a tie: the first maximum in row-major order
    out, _ = ref.avg_pool2d.forward(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[13 / 4, 11 / 4], [12 / 4, 19 / 4]])
    # a 3x3 window at padding 1 over the top-left corner holds 4 real pixels of 9
    corner = (1 + 5 + 3 + 4)
    out, _ = ref.avg_pool2d.forward(x, 3, stride=2, padding=1)
    assert out[0, 0, 0, 0] == corner / 9
    out, _ = ref.avg_pool2d.forward(x, 3, stride=2, padding=1, count_include_pad=False)
    assert out[0, 0, 0, 0] == corner / 4
    out, _ = ref.avg_pool2d.forward(x, 3, stride=2, padding=1, divisor_override=2)
    assert out[0, 0, 0, 0] == corner / 2


def test_normalisation_reference_values_by_hand(rng):
    x = rng.standard_normal((6, 3, 2, 2)) * 4 + 1
    out, _ = ref.batch_norm.forward(x, None, None, training=True, eps=0.0)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-12)
    rm, rv = np.zeros(3), np.ones(3)
    ref.batch_norm.forward(x, None, None, rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm, 0.5 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(rv, 0.5 + 0.5 * x.var(axis=(0, 2, 3), ddof=1))  # the unbiased variance
    out, _ = ref.batch_norm.forward(x, np.full(3, 2.0), np.full(3, 1.0), rm, rv, eps=0.0)  # eval
    np.testing.assert_allclose(out, 2 * (x - rm[:, None, None]) / np.sqrt(rv[:, None, None]) + 1)
    out, _ = ref.layer_norm.forward(x, None, None, normalized_shape=(2, 2), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=(2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(2, 3)), 1, rtol=1e-12)


def test_loss_and_linear_reference_values_by_hand():
    # equal logits: p = 1/C for every class, so the loss is log C and the gradient (1/C − onehot)/N
    loss, cache = ref.softmax_cross_entropy.forward(np.zeros((2, 4)), np.array([1, 3]))
    assert loss == pytest.approx(np.log(4))
    dx, _ = ref.softmax_cross_entropy.backward(np.float64(1.0), cache)
    np.testing.assert_allclose(dx, (np.full((2, 4), 0.25) - np.eye(4)[[1, 3]]) / 2)
    logp, _ = ref.log_softmax.forward(np.array([[1000.0, 1000.0]]), 1)  # no overflow
    np.testing.assert_allclose(logp, np.log(0.5))
    out, _ = ref.linear.forward(np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [5.0, 6.0]]), np.array([0.5, -0.5]))
    np.testing.assert_array_equal(out, [[1 * 3 + 2 * 4 + 0.5, 1 * 5 + 2 * 6 - 0.5]])
