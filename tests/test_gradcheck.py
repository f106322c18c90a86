"""The numeric-gradient tools: classic helpers, ``gradcheck`` reports, and the built-in check registry."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
from minidl import layers, ops
from minidl.gradcheck import (
    GradcheckCase,
    PairOp,
    check_registry,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    gradcheck,
    rel_error,
)
from minidl.ops.base import Op
from minidl.random import default_generator


class WrongSquare(Op):
    """z = x², with a deliberately wrong backward (3x instead of 2x)."""

    name = "wrong_square"

    def forward(self, x):
        return x * x, x

    def backward(self, dout, cache, needs=None):
        return (3 * cache * dout,)


class HalfWrongMul(Op):
    """z = a·b with the right dz/da = b but a wrong dz/db = a + 1."""

    name = "half_wrong_mul"

    def forward(self, a, b):
        return a * b, (a, b)

    def backward(self, dout, cache, needs=None):
        a, b = cache
        return dout * b, dout * (a + 1)


wrong_square, half_wrong_mul = WrongSquare(), HalfWrongMul()


# ------------------------------------------------------------------------------------------ classic helpers
def test_eval_numerical_gradient_of_sum_of_squares_is_2x(rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    grad = eval_numerical_gradient(lambda v: np.sum(v**2), x, verbose=False)
    assert rel_error(grad, 2 * x) < 1e-8
    np.testing.assert_array_equal(x, before)  # x is perturbed in place but restored


def test_eval_numerical_gradient_of_a_nonlinear_function(rng):
    x = rng.uniform(0.5, 2.0, 5)
    grad = eval_numerical_gradient(lambda v: np.sum(np.sin(v) * np.log(v)), x, verbose=False)
    assert rel_error(grad, np.cos(x) * np.log(x) + np.sin(x) / x) < 1e-7


def test_eval_numerical_gradient_verbose_prints_each_entry(capsys):
    eval_numerical_gradient(lambda v: np.sum(v**2), np.array([1.0, 2.0]), verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("(1,)")


def test_eval_numerical_gradient_array_is_the_vector_jacobian_product(rng):
    x = rng.standard_normal((2, 3))
    a = rng.standard_normal((3, 4))
    dout = rng.standard_normal((2, 4))
    assert rel_error(eval_numerical_gradient_array(lambda v: v @ a, x, dout), dout @ a.T) < 1e-8
    dcube = rng.standard_normal((2, 3))
    assert rel_error(eval_numerical_gradient_array(lambda v: v**3, x, dcube), 3 * x**2 * dcube) < 1e-7


def test_rel_error_semantics():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(1.0, 1.1) == pytest.approx(0.1 / 2.1)
    assert rel_error(1.1, 1.0) == rel_error(1.0, 1.1)  # symmetric
    # the maximum over elements, each relative to its own magnitude
    assert rel_error([1.0, 100.0], [1.0, 101.0]) == pytest.approx(1 / 201)
    assert rel_error([1e-3, 5.0], [2e-3, 5.0]) == pytest.approx(1 / 3)
    # tiny values: the denominator is floored at 1e-8
    assert rel_error(0.0, 1e-10) == pytest.approx(1e-2)
    assert rel_error(0.0, 0.0) == 0.0


# ------------------------------------------------------------------------------------------ gradcheck
def test_gradcheck_passes_for_correct_ops(rng):
    report = gradcheck(lambda a, b: ops.mul(a, b), rng.standard_normal((2, 3)), rng.standard_normal((3,)))
    assert report.ok and bool(report)
    assert report.max_rel_error < 1e-8
    assert [e.shape for e in report.entries] == [(2, 3), (3,)]


def test_gradcheck_reports_a_wrong_backward(rng):
    x = rng.standard_normal((2, 3)) + 3.0
    report = gradcheck(lambda t: wrong_square(t), x, names=["x"])
    assert not report.ok and not bool(report)
    assert not report["x"].ok
    # analytic 3x against numeric 2x: off by a third of the gradient's scale
    assert report.max_rel_error == pytest.approx(1 / 3, rel=1e-4)
    assert "FAIL" in str(report)


def test_gradcheck_reports_per_input(rng):
    report = gradcheck(lambda a, b: half_wrong_mul(a, b), rng.standard_normal(4), rng.standard_normal(4),
                       names=["a", "b"])
    assert report["a"].ok and not report["b"].ok
    assert [e.name for e in report.entries] == ["a", "b"]
    with pytest.raises(KeyError):
        report["c"]


def test_gradcheck_default_names_skip_integer_inputs(rng):
    y = np.array([0, 2, 1])
    x = rng.standard_normal((3, 4))
    report = gradcheck(lambda t, labels: t[np.arange(3), labels].sum(), x, y)
    assert [e.name for e in report.entries] == ["input0"]  # the integer labels are not checked
    assert report.ok


def test_gradcheck_works_in_float64_on_float32_inputs(rng):
    x = rng.standard_normal((3, 3)).astype(np.float32)
    report = gradcheck(lambda t: (t * t).exp(), x * 0.5)
    assert report.ok  # float32 central differences would be far off 1e-6


def test_gradcheck_tolerance_is_used(rng):
    x = rng.standard_normal(5)
    assert gradcheck(lambda t: t.exp(), x, tol=1e-6).ok
    assert not gradcheck(lambda t: t.exp(), x, tol=1e-30).ok


def test_gradcheck_needs_a_float_input():
    with pytest.raises(ValueError, match="no floating-point input"):
        gradcheck(lambda y: y, np.array([1, 2]))


def test_gradcheck_dropout_is_seeded(rng):
    x = rng.standard_normal((4, 5))
    seeded = gradcheck(lambda t: ops.dropout(t, p=0.5, training=True, generator=default_generator()), x)
    assert seeded.ok
    # a fresh unseeded mask at every evaluation breaks central differences: the seeding is what makes it work
    unseeded = gradcheck(lambda t: ops.dropout(t, p=0.5, training=True, generator=np.random.default_rng()), x)
    assert not unseeded.ok


def test_gradcheck_of_a_homework_pair():
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    good = PairOp(lambda a: (a**3, a), lambda dout, a: dout * 3 * a**2)
    bad = PairOp(lambda a: (a**3, a), lambda dout, a: dout * a**2)
    assert gradcheck(lambda t: good(t), x).ok
    assert not gradcheck(lambda t: bad(t), x).ok
    # the (loss, dx) form of softmax_loss / l2_regularization
    loss_ok = PairOp(lambda a: (np.sum(a**2), 2 * a))
    loss_bad = PairOp(lambda a: (np.sum(a**2), a))
    assert gradcheck(lambda t: loss_ok(t), x).ok
    assert not gradcheck(lambda t: loss_bad(t), x).ok


# ------------------------------------------------------------------------------------------ registry
REGISTRY = check_registry()


def test_registry_ids_are_unique_and_named():
    ids = [c.id for c in REGISTRY]
    assert len(ids) == len(set(ids))
    assert all(c.group in ("ops", "layers") for c in REGISTRY)


def test_registry_covers_every_op_and_homework_layer():
    op_names = {n for n in ops.__all__ if n not in ("Op", "wants")}
    op_cases = {c.name for c in REGISTRY if c.group == "ops"}
    missing = {n for n in op_names if not any(c == n or c.startswith(n + "_") for c in op_cases)}
    assert not missing, f"ops without a gradcheck case: {missing}"
    for extra in ("batch_norm_train", "batch_norm_eval", "conv2d_stride_pad", "conv2d_groups", "dropout"):
        assert extra in op_cases
    aliases = {"affine_backward"}
    stems = {n.removesuffix("_backward") for n in layers.__all__ if n.endswith("_backward") and n not in aliases}
    layer_cases = {c.name for c in REGISTRY if c.group == "layers"}
    assert stems | {"softmax_loss", "l2_regularization"} <= layer_cases


def _float_inputs(case: GradcheckCase) -> list[str]:
    """Names of the floating inputs of ``case``, the ones that get a gradient row."""
    arrays = case.make_inputs(np.random.default_rng(0))
    return [n for n, a in zip(case.inputs, arrays, strict=True) if np.issubdtype(np.asarray(a).dtype, np.floating)]


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.id)
def test_registry_case_passes(case: GradcheckCase):
    report = case.run(tol=1e-6, seed=0)
    assert [e.name for e in report.entries] == [f"grad_{n}" for n in _float_inputs(case)]
    assert report.entries, "nothing was checked"
    assert report.ok, str(report)


@pytest.mark.parametrize("case", [c for c in REGISTRY if c.name in ("conv2d_groups", "max_pool2d_overlap",
                                                                     "batch_norm_train", "dropout", "fc")],
                         ids=lambda c: c.id)
def test_registry_cases_pass_for_other_seeds(case: GradcheckCase):
    for seed in (1, 2):
        assert case.run(seed=seed).ok


def test_registry_case_detects_a_wrong_op():
    case = GradcheckCase("wrong_square", lambda x: wrong_square(x), {"x": (2, 3)})
    report = case.run()
    assert [e.name for e in report.entries] == ["grad_x"]
    assert not report.ok


def test_gradcheck_reseeds_minidl_generator():
    # the global generator is reseeded before each evaluation, so a case's result does not depend on prior draws
    minidl.manual_seed(99)
    a = next(c for c in REGISTRY if c.id == "ops.dropout").run(seed=5)
    default_generator().standard_normal(10)
    b = next(c for c in REGISTRY if c.id == "ops.dropout").run(seed=5)
    assert a.max_rel_error == b.max_rel_error
