"""Activations, softmax and losses: numeric gradients, PyTorch parity, extreme inputs, dtypes, errors."""

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


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random values with |x| ≥ 0.1, so numeric gradients never straddle a kink at 0."""
    x = rng.standard_normal(shape)
    return np.sign(x) * (0.1 + np.abs(x))


def run_minidl(fn, arrays, dout=None):
    """fn on float64 leaf tensors; returns the output array and every input's gradient."""
    leaves = [minidl.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward(dout)
    return out.detach().numpy(), [leaf.grad.detach().numpy() for leaf in leaves]


def run_torch(fn, arrays, dout=None):
    leaves = [to_torch(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward(None if dout is None else torch.tensor(dout))
    return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


def assert_parity(mfn, tfn, arrays, rng, scalar_out=False):
    """Forward and backward (random upstream gradient) of minidl against PyTorch, float64, relative 1e-6."""
    out_shape = np.shape(mfn(*[minidl.tensor(a) for a in arrays]).detach().numpy())
    dout = None if scalar_out and out_shape == () else rng.standard_normal(out_shape)
    out, grads = run_minidl(mfn, arrays, dout)
    t_out, t_grads = run_torch(tfn, arrays, dout)
    np.testing.assert_allclose(out, t_out, rtol=RTOL, atol=1e-12)
    for g, tg in zip(grads, t_grads, strict=True):
        np.testing.assert_allclose(g, tg, rtol=RTOL, atol=1e-12)


# ============================================================================================ activations
SLOPES = [0.01, 0.2, 0.0, 1.0, -0.5, 1.5]

ACTIVATIONS = {
    "relu": (F.relu, lambda t: torch.relu(t)),
    "sigmoid": (F.sigmoid, lambda t: torch.sigmoid(t)),
    "tanh": (F.tanh, lambda t: torch.tanh(t)),
    **{f"leaky_relu_{a}": (lambda t, a=a: F.leaky_relu(t, a),
                           lambda t, a=a: torch.nn.functional.leaky_relu(t, a)) for a in SLOPES},
    **{f"softmax_{d}": (lambda t, d=d: F.softmax(t, d), lambda t, d=d: torch.softmax(t, d)) for d in (0, 1, 2, -1)},
    **{f"log_softmax_{d}": (lambda t, d=d: F.log_softmax(t, d), lambda t, d=d: torch.log_softmax(t, d))
       for d in (0, 1, 2, -1)},
}  # fmt: skip


@requires_torch
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_torch(name, rng):
    mfn, tfn = ACTIVATIONS[name]
    assert_parity(mfn, tfn, [rng.standard_normal((3, 4, 5)) * 3], rng)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_gradcheck(name, rng):
    report = gradcheck(ACTIVATIONS[name][0], away_from_zero(rng, (2, 3, 4)))
    assert report.ok, str(report)


@requires_torch
@pytest.mark.parametrize("slope", [0.01, -0.5, 1.5])
def test_relu_family_gradient_at_zero_follows_torch(slope):
    # PyTorch's convention at the kink: relu'(0) = 0, leaky_relu'(0) = slope
    x = np.array([-1.0, 0.0, 2.0])
    assert_parity(F.relu, torch.relu, [x], np.random.default_rng(0))
    assert_parity(lambda t: F.leaky_relu(t, slope), lambda t: torch.nn.functional.leaky_relu(t, slope), [x],
                  np.random.default_rng(0))


def test_leaky_relu_every_slope_is_piecewise_linear():
    x = np.array([-3.0, -0.5, 0.5, 3.0])
    for a in SLOPES:
        out, _ = ops.leaky_relu.forward(x, negative_slope=a)
        np.testing.assert_array_equal(out, np.array([-3.0 * a, -0.5 * a, 0.5, 3.0]))


@requires_torch
@pytest.mark.parametrize("name", ["sigmoid", "softmax_1", "log_softmax_0", "log_softmax_-1", "tanh"])
def test_activation_extreme_inputs_finite_and_correct(name):
    mfn, tfn = ACTIVATIONS[name]
    x = np.array([[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -999.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (g,) = run_minidl(mfn, [x], np.ones((3, 3)))
    assert np.isfinite(out).all() and np.isfinite(g).all()
    t_out, (tg,) = run_torch(tfn, [x], np.ones((3, 3)))
    np.testing.assert_allclose(out, t_out, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=RTOL, atol=1e-12)


def test_sigmoid_keeps_relative_accuracy_in_the_tails():
    x = np.array([-700.0, -40.0, 40.0])
    out, _ = ops.sigmoid.forward(x)
    expected = np.array([np.exp(-700.0), np.exp(-40.0) / (1 + np.exp(-40.0)), 1.0])  # σ(x) = eˣ/(1+eˣ)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_softmax_survives_a_spread_beyond_the_float32_range():
    x = np.array([[-3e38, 3e38, 0.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, _ = ops.softmax.forward(x, dim=1)
        logp, _ = ops.log_softmax.forward(x, dim=1)
    np.testing.assert_array_equal(p, np.array([[0.0, 1.0, 0.0]], dtype=np.float32))
    assert logp[0, 1] == 0 and logp[0, 0] < -1e38


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_float32_in_float32_out(name, rng):
    x = minidl.tensor(rng.standard_normal((4, 3, 2)).astype(np.float32), requires_grad=True)
    out = ACTIVATIONS[name][0](x)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_activation_hand_api_matches_numeric_gradient(rng):
    # homework style: forward/backward on plain arrays, checked against eval_numerical_gradient_array
    x = away_from_zero(rng, (3, 5))
    dout = rng.standard_normal((3, 5))
    for op, params in [(ops.sigmoid, {}), (ops.leaky_relu, {"negative_slope": 0.1}), (ops.log_softmax, {"dim": 0})]:
        _, cache = op.forward(x, **params)
        (dx,) = op.backward(dout, cache)
        num = eval_numerical_gradient_array(lambda a, op=op, params=params: op.forward(a, **params)[0], x, dout)
        np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)


def test_softmax_of_a_scalar_and_rows_sum_to_one(rng):
    assert ops.softmax.forward(np.array(3.0), dim=0)[0] == 1.0
    p, _ = ops.softmax.forward(rng.standard_normal((4, 6)), dim=-1)
    np.testing.assert_allclose(p.sum(-1), np.ones(4), rtol=1e-12)


def test_activation_errors():
    # PyTorch raises IndexError for a dim out of range (tests/test_bad_inputs.py checks it against torch)
    with pytest.raises(IndexError, match=r"softmax: Dimension out of range \(expected to be in range of \[-2, 1\], but got 2"):
        F.softmax(minidl.tensor(np.zeros((2, 3))), 2)
    with pytest.raises(IndexError, match="log_softmax: Dimension out of range .* but got -3"):
        F.log_softmax(minidl.tensor(np.zeros((2, 3))), -3)
    with pytest.raises(TypeError, match="sigmoid: expected a floating-point"):
        ops.sigmoid.forward(np.arange(3))


# ============================================================================================ cross-entropy
def class_problem(rng, shape, n_ignored=1, ignore_index=-100):
    """Logits of ``shape`` (class axis 1, or 0 when 1-D) and matching int targets, some ignored."""
    axis = 0 if len(shape) == 1 else 1
    c = shape[axis]
    tshape = shape[:axis] + shape[axis + 1 :]
    x = rng.standard_normal(shape) * 2
    t = rng.integers(0, c, tshape)
    if n_ignored and t.size > 1:
        t.flat[rng.choice(t.size, n_ignored, replace=False)] = ignore_index
    return x, t, c


SHAPES = [(6, 5), (3, 4, 2, 3), (5,)]


@requires_torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_cross_entropy_matches_torch(shape, weighted, reduction, smoothing, rng):
    x, t, c = class_problem(rng, shape, n_ignored=2)
    w = rng.random(c) + 0.2 if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    assert_parity(lambda a: F.cross_entropy(a, minidl.tensor(t), None if w is None else minidl.tensor(w), **kw),
                  lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(t), None if w is None else
                                                              torch.tensor(w), **kw), [x], rng, scalar_out=True)


@requires_torch
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_custom_ignore_index_inside_class_range(weighted, rng):
    x, t, c = class_problem(rng, (8, 4), n_ignored=0)
    t[:3] = 1
    w = rng.random(c) + 0.2 if weighted else None
    kw = {"ignore_index": 1, "label_smoothing": 0.1}
    assert_parity(lambda a: F.cross_entropy(a, t, None if w is None else minidl.tensor(w), **kw),
                  lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(t), None if w is None else
                                                              torch.tensor(w), **kw), [x], rng, scalar_out=True)


@requires_torch
@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 4)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_probability_targets_match_torch(shape, weighted, smoothing, reduction, rng):
    x = rng.standard_normal(shape)
    y = rng.random(shape)
    y /= y.sum(axis=1, keepdims=True)
    w = rng.random(shape[1]) + 0.2 if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    # probability targets are differentiable: compare both gradients
    assert_parity(lambda a, b: ops.cross_entropy(a, b, weight=w, **kw),
                  lambda a, b: torch.nn.functional.cross_entropy(a, b, None if w is None else torch.tensor(w),
                                                                 **kw), [x, y], rng, scalar_out=True)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_gradcheck(shape, smoothing, reduction, rng):
    x, t, c = class_problem(rng, shape, n_ignored=1)
    w = rng.random(c) + 0.2
    report = gradcheck(lambda a: F.cross_entropy(a, t, minidl.tensor(w), reduction=reduction, label_smoothing=smoothing), x)
    assert report.ok, str(report)


def test_cross_entropy_probability_targets_gradcheck(rng):
    x = rng.standard_normal((3, 4))
    y = rng.random((3, 4))
    report = gradcheck(lambda a, b: ops.cross_entropy(a, b, weight=np.array([1.0, 2.0, 0.5, 1.0]),
                                                      label_smoothing=0.1), x, y)
    assert report.ok, str(report)


def test_cross_entropy_equals_nll_of_log_softmax(rng):
    x, t, c = class_problem(rng, (7, 4), n_ignored=2)
    w = rng.random(c) + 0.5
    a = F.cross_entropy(minidl.tensor(x), t, minidl.tensor(w)).item()
    b = F.nll_loss(F.log_softmax(minidl.tensor(x), 1), t, minidl.tensor(w)).item()
    assert a == pytest.approx(b, rel=1e-12)


@requires_torch
def test_cross_entropy_extreme_logits_are_finite_and_match_torch(rng):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [1000.0, 1000.0, -1000.0]])
    t = np.array([1, 2, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (g,) = run_minidl(lambda a: F.cross_entropy(a, t, label_smoothing=0.1), [x])
    assert np.isfinite(out) and np.isfinite(g).all()
    t_out, (tg,) = run_torch(lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(t), label_smoothing=0.1),
                             [x])
    np.testing.assert_allclose(out, t_out, rtol=RTOL)
    np.testing.assert_allclose(g, tg, rtol=RTOL, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_all_targets_ignored_gives_nan_and_zero_gradient_like_torch(op):
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.full(3, -100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (g,) = run_minidl(lambda a: getattr(F, op)(a, t), [x])
    t_out, (tg,) = run_torch(lambda a: getattr(torch.nn.functional, op)(a, torch.tensor(t)), [x])
    assert np.isnan(out) and np.isnan(t_out)
    np.testing.assert_array_equal(g, tg)


def test_cross_entropy_validation():
    """Out-of-range labels raise IndexError, as in PyTorch ("Target 3 is out of bounds")."""
    x = minidl.tensor(np.zeros((4, 3)))
    with pytest.raises(IndexError, match=r"target value 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, np.array([0, 1, 3, 2]))
    with pytest.raises(IndexError, match=r"target value -2 .*3 classes"):
        F.cross_entropy(x, np.array([0, -100, -2, 2]))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4,\).*\(5,\)"):
        F.cross_entropy(x, np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match=r"cross_entropy: .*\(4, 3\).*\(4, 2\)"):
        F.cross_entropy(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(x, np.zeros(4, dtype=np.int64), minidl.tensor(np.ones(4)))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, np.zeros(4, dtype=np.int64), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        ops.cross_entropy.forward(x.detach().numpy(), np.zeros(4, dtype=np.int64), reduction="avg")
    with pytest.raises(IndexError, match=r"nll_loss: target value 7"):
        F.nll_loss(x, np.array([0, 1, 7, 2]))


def test_cross_entropy_hand_api_matches_numeric_gradient(rng):
    x, t, c = class_problem(rng, (4, 5), n_ignored=1)
    params = {"weight": rng.random(c) + 0.5, "label_smoothing": 0.2, "reduction": "sum"}
    _, cache = ops.cross_entropy.forward(x, t, **params)
    dx, dt = ops.cross_entropy.backward(np.array(1.0), cache)
    num = eval_numerical_gradient_array(lambda a: ops.cross_entropy.forward(a, t, **params)[0], x, np.array(1.0))
    assert dt is None
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)


# ============================================================================================ nll_loss
@requires_torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_torch(shape, weighted, reduction, rng):
    x, t, c = class_problem(rng, shape, n_ignored=1)
    w = rng.random(c) + 0.2 if weighted else None
    assert_parity(lambda a: F.nll_loss(a, t, None if w is None else minidl.tensor(w), reduction=reduction),
                  lambda a: torch.nn.functional.nll_loss(a, torch.tensor(t), None if w is None else torch.tensor(w),
                                                         reduction=reduction), [x], rng, scalar_out=True)


def test_nll_loss_gradcheck(rng):
    x, t, c = class_problem(rng, (2, 3, 2, 2), n_ignored=2)
    report = gradcheck(lambda a: F.nll_loss(a, t, minidl.tensor(np.array([0.5, 1.0, 2.0]))), x)
    assert report.ok, str(report)


# ============================================================================================ mse
@requires_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(reduction, rng):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert_parity(lambda a, b: F.mse_loss(a, b, reduction=reduction),
                  lambda a, b: torch.nn.functional.mse_loss(a, b, reduction=reduction), [x, y], rng, scalar_out=True)


@requires_torch
def test_mse_loss_broadcast_warns_and_reduces_gradients_like_torch(rng):
    x, y = rng.standard_normal((4, 1)), rng.standard_normal(4)
    with pytest.warns(UserWarning, match=r"Using a target size \(minidl.Size\(\[4\]\)\) that is different to the "
                                         r"input size \(minidl.Size\(\[4, 1\]\)\)"):
        out, grads = run_minidl(lambda a, b: F.mse_loss(a, b), [x, y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out, t_grads = run_torch(lambda a, b: torch.nn.functional.mse_loss(a, b), [x, y])
    np.testing.assert_allclose(out, t_out, rtol=RTOL)
    for g, tg in zip(grads, t_grads, strict=True):
        np.testing.assert_allclose(g, tg, rtol=RTOL)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of tensor b \(3\) at "
                                           "non-singleton dimension 1"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F.mse_loss(minidl.tensor(np.zeros((4, 2))), minidl.tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(3,\).*\(4, 2\)"):  # the op itself
        ops.mse_loss(np.zeros((4, 2)), np.zeros(3))


def test_mse_loss_gradcheck(rng):
    report = gradcheck(lambda a, b: F.mse_loss(a, b, reduction="none"), rng.standard_normal((3, 2)),
                       rng.standard_normal((3, 2)))
    assert report.ok, str(report)


# ============================================================================================ binary cross-entropy
@requires_torch
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_matches_torch(weighted, reduction, rng):
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.random((4, 3))  # soft labels: the target gradient is non-trivial
    w = rng.random(3) + 0.5 if weighted else None
    assert_parity(lambda a, b: F.binary_cross_entropy(a, b, None if w is None else minidl.tensor(w), reduction=reduction),
                  lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, None if w is None else torch.tensor(w),
                                                                        reduction=reduction),
                  [p, y], rng, scalar_out=True)


@requires_torch
def test_binary_cross_entropy_clamps_logs_at_the_ends_like_torch(rng):
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, grads = run_minidl(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"), [p, y], np.ones(6))
    t_out, t_grads = run_torch(lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, reduction="none"),
                               [p, y], np.ones(6))
    np.testing.assert_allclose(out, t_out, rtol=RTOL, atol=1e-12)
    assert out[2] == 100.0 and out[3] == 100.0  # −log 0 clamped
    np.testing.assert_allclose(grads[0], t_grads[0], rtol=RTOL)
    assert np.isfinite(grads[1]).all()


def test_binary_cross_entropy_gradcheck(rng):
    report = gradcheck(lambda a, b: F.binary_cross_entropy(a, b, minidl.tensor(np.array([1.0, 2.0]))),
                       rng.uniform(0.1, 0.9, (3, 2)), rng.random((3, 2)))
    assert report.ok, str(report)


def test_binary_cross_entropy_validation():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: .*\[0, 1\]"):
        F.binary_cross_entropy(minidl.tensor(np.array([0.5, 1.2])), minidl.tensor(np.array([0.0, 1.0])))
    with pytest.raises(ValueError, match=r"target shape \(3,\) must match input shape \(2,\)"):
        F.binary_cross_entropy(minidl.tensor(np.array([0.5, 0.2])), minidl.tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\)"):
        F.binary_cross_entropy(minidl.tensor(np.array([0.5, 0.2])), minidl.tensor(np.zeros(2)), minidl.tensor(np.ones(3)))


@requires_torch
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_torch(weighted, pos_weighted, reduction, rng):
    x = rng.standard_normal((5, 3)) * 3
    y = rng.random((5, 3))
    w = rng.random((5, 1)) + 0.5 if weighted else None
    pw = rng.random(3) * 3 + 0.2 if pos_weighted else None

    def t_opt(a):
        return None if a is None else torch.tensor(a)

    assert_parity(lambda a, b: F.binary_cross_entropy_with_logits(a, b, None if w is None else minidl.tensor(w),
                                                                  reduction=reduction,
                                                                  pos_weight=None if pw is None else minidl.tensor(pw)),
                  lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(a, b, t_opt(w),
                                                                                    reduction=reduction,
                                                                                    pos_weight=t_opt(pw)),
                  [x, y], rng, scalar_out=True)


@requires_torch
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_extreme_logits(pos_weighted):
    x = np.array([-1000.0, 1000.0, -1000.0, 1000.0, 0.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    pw = np.array([2.5]) if pos_weighted else None
    kw_m = {"pos_weight": None if pw is None else minidl.tensor(pw), "reduction": "none"}
    kw_t = {"pos_weight": None if pw is None else torch.tensor(pw), "reduction": "none"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, grads = run_minidl(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kw_m), [x, y], np.ones(5))
    assert np.isfinite(out).all() and all(np.isfinite(g).all() for g in grads)
    t_out, t_grads = run_torch(lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(a, b, **kw_t),
                               [x, y], np.ones(5))
    np.testing.assert_allclose(out, t_out, rtol=RTOL, atol=1e-12)
    for g, tg in zip(grads, t_grads, strict=True):
        np.testing.assert_allclose(g, tg, rtol=RTOL, atol=1e-12)


def test_bce_with_logits_gradcheck(rng):
    report = gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=minidl.tensor(np.array([0.5, 3.0]))),
                       rng.standard_normal((3, 2)), rng.random((3, 2)))
    assert report.ok, str(report)


def test_bce_with_logits_small_losses_keep_relative_accuracy():
    # x ≪ 0 with y = 0: the loss log1p(eˣ) ≈ eˣ must not vanish in cancellation
    out, _ = ops.binary_cross_entropy_with_logits.forward(np.array([-30.0]), np.array([0.0]), reduction="none")
    np.testing.assert_allclose(out, np.log1p(np.exp(-30.0)), rtol=1e-12)


def test_bce_with_logits_validation():
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target shape"):
        F.binary_cross_entropy_with_logits(minidl.tensor(np.zeros((2, 3))), minidl.tensor(np.zeros((3, 2))))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\)"):
        F.binary_cross_entropy_with_logits(minidl.tensor(np.zeros((2, 3))), minidl.tensor(np.zeros((2, 3))),
                                           pos_weight=minidl.tensor(np.ones(2)))


# ============================================================================================ dtypes
LOSSES_F32 = {
    "cross_entropy": lambda x, rng: F.cross_entropy(x, rng.integers(0, 3, 4), minidl.tensor(np.ones(3, np.float32)),
                                                    label_smoothing=0.1),
    "cross_entropy_probs": lambda x, rng: F.cross_entropy(x, minidl.tensor(np.full((4, 3), 1 / 3))),
    "nll_loss": lambda x, rng: F.nll_loss(x, rng.integers(0, 3, 4)),
    "mse_loss": lambda x, rng: F.mse_loss(x, minidl.tensor(rng.standard_normal((4, 3)))),  # float64 target is cast
    "binary_cross_entropy": lambda x, rng: F.binary_cross_entropy(F.sigmoid(x), minidl.tensor(np.ones((4, 3)))),
    "bce_with_logits": lambda x, rng: F.binary_cross_entropy_with_logits(
        x, minidl.tensor(np.zeros((4, 3))), pos_weight=minidl.tensor(np.ones(3))),
}


@pytest.mark.parametrize("name", list(LOSSES_F32))
def test_losses_keep_float32(name, rng):
    x = minidl.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    out = LOSSES_F32[name](x, rng)
    out.backward()
    assert out.dtype == np.float32 and out.shape == () and x.grad.dtype == np.float32


@pytest.mark.parametrize("op, args", [
    (ops.cross_entropy, (np.zeros((4, 3), np.float32), np.array([0, 1, 2, 0]))),
    (ops.nll_loss, (np.zeros((4, 3), np.float32), np.array([0, 1, 2, 0]))),
    (ops.mse_loss, (np.zeros((4, 3), np.float32), np.ones((4, 3)))),
    (ops.binary_cross_entropy, (np.full((4, 3), 0.5, np.float32), np.ones((4, 3)))),
    (ops.binary_cross_entropy_with_logits, (np.zeros((4, 3), np.float32), np.ones((4, 3)))),
])  # fmt: skip
def test_loss_reduction_none_keeps_shape_and_float32(op, args):
    out, cache = op.forward(*args, reduction="none")
    assert out.dtype == np.float32 and out.shape == args[1].shape
    grads = op.backward(np.ones_like(out), cache)
    assert grads[0].dtype == np.float32 and grads[0].shape == args[0].shape


def test_losses_work_through_minidl_seeded_engine():
    minidl.manual_seed(0)
    x = minidl.randn(8, 3, requires_grad=True)
    F.cross_entropy(x, minidl.tensor(np.array([0, 1, 2, 0, 1, 2, 0, 1]))).backward()
    # the gradient of a mean cross-entropy sums to zero over classes in every row
    np.testing.assert_allclose(x.grad.detach().numpy().sum(axis=1), np.zeros(8), atol=1e-6)
