"""Elementwise, reduction, shape and matrix ops: numeric gradients, PyTorch parity and NumPy properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidl
from conftest import requires_torch, to_torch, torch
from minidl import ops
from minidl.gradcheck import eval_numerical_gradient_array, gradcheck, rel_error

RNG = np.random.default_rng(42)


def randn(*shape):
    return RNG.standard_normal(shape)


def positive(*shape):
    return RNG.uniform(0.5, 2.0, shape)


# name, function of tensors (minidl or torch), inputs
CASES = [
    ("add_broadcast", lambda a, b: a + b, [randn(3, 1, 4), randn(2, 1)]),
    ("sub_broadcast", lambda a, b: a - b, [randn(4), randn(3, 4)]),
    ("mul_broadcast", lambda a, b: a * b, [randn(2, 3, 4), randn(3, 1)]),
    ("div", lambda a, b: a / b, [randn(3, 4), positive(4)]),
    ("pow_tensor", lambda a, b: a**b, [positive(3, 4), randn(3, 4)]),
    ("pow_scalar", lambda a: a**3, [randn(3, 4)]),
    ("pow_half", lambda a: a**0.5, [positive(5)]),
    ("neg", lambda a: -a, [randn(3)]),
    ("exp", lambda a: a.exp(), [randn(3, 4)]),
    ("log", lambda a: a.log(), [positive(3, 4)]),
    ("sqrt", lambda a: a.sqrt(), [positive(3, 4)]),
    ("abs", lambda a: a.abs(), [randn(3, 4)]),
    ("clip", lambda a: a.clip(-0.5, 0.5), [randn(4, 5)]),
    ("maximum", lambda a, b: a.maximum(b), [randn(3, 4), randn(4)]),
    ("minimum", lambda a, b: a.minimum(b), [randn(3, 4), randn(3, 1)]),
    ("sum_all", lambda a: a.sum(), [randn(3, 4)]),
    ("sum_axis", lambda a: a.sum(dim=1), [randn(3, 4, 2)]),
    ("sum_axes_keep", lambda a: a.sum(dim=(0, 2), keepdim=True), [randn(3, 4, 2)]),
    ("mean_axis", lambda a: a.mean(dim=-1), [randn(3, 4)]),
    ("mean_all", lambda a: a.mean(), [randn(2, 5)]),
    ("amax", lambda a: a.amax(dim=1) if hasattr(a, "amax") else a.max(dim=1), [randn(4, 6)]),
    ("amin_keep", lambda a: a.amin(dim=0, keepdim=True) if hasattr(a, "amin") else a.min(dim=0, keepdim=True),
     [randn(4, 6)]),
    ("reshape", lambda a: a.reshape(6, 4) * a.reshape(6, 4), [randn(2, 3, 4)]),
    ("permute", lambda a: a.permute(2, 0, 1) * 2, [randn(2, 3, 4)]),
    ("transpose", lambda a: a.transpose(0, 2), [randn(2, 3, 4)]),
    ("flatten", lambda a: a.flatten(1), [randn(2, 3, 4)]),
    ("squeeze_unsqueeze", lambda a: a.squeeze(1).unsqueeze(0), [randn(3, 1, 4)]),
    ("getitem_basic", lambda a: a[1:, ::2, 0], [randn(3, 4, 2)]),
    ("getitem_int_array", lambda a: a[np.array([0, 2, 2, 0])], [randn(3, 4)]),
    ("getitem_pairs", lambda a: a[np.array([0, 1, 1]), np.array([2, 3, 3])], [randn(3, 4)]),
    ("matmul_2d", lambda a, b: a @ b, [randn(3, 4), randn(4, 5)]),
    ("matmul_batched_broadcast", lambda a, b: a @ b, [randn(2, 3, 4), randn(4, 5)]),
    ("matmul_vec_mat", lambda a, b: a @ b, [randn(4), randn(2, 4, 3)]),
    ("matmul_mat_vec", lambda a, b: a @ b, [randn(3, 4), randn(4)]),
    ("matmul_vec_vec", lambda a, b: a @ b, [randn(4), randn(4)]),
]


@pytest.mark.parametrize(("name", "fn", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_numeric_gradient(name, fn, inputs):
    report = gradcheck(fn, *inputs)
    assert report.ok, f"{name}\n{report}"


@requires_torch
@pytest.mark.parametrize(("name", "fn", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, fn, inputs):
    ours = [minidl.tensor(x, requires_grad=True) for x in inputs]
    theirs = [to_torch(x, requires_grad=True) for x in inputs]
    out, tout = fn(*ours), fn(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-12)
    dout = RNG.standard_normal(out.shape)
    out.backward(dout)
    tout.backward(torch.tensor(dout))
    for a, ta in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad.detach().numpy(), ta.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_where_routes_gradient():
    a = minidl.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = minidl.tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    out = minidl.where(np.array([True, False, True]), a, b)
    np.testing.assert_array_equal(out.detach().numpy(), [1.0, 20.0, 3.0])
    out.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad.detach().numpy(), [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(b.grad.detach().numpy(), [0.0, 2.0, 0.0])


def test_cat_and_stack_split_gradients():
    xs = [randn(2, 3), randn(4, 3)]
    assert gradcheck(lambda a, b: minidl.cat([a, b], dim=0) ** 2, *xs).ok
    ys = [randn(2, 3), randn(2, 3), randn(2, 3)]
    assert gradcheck(lambda a, b, c: minidl.stack([a, b, c], dim=1) ** 2, *ys).ok


def test_maximum_ties_split_the_gradient_like_torch():
    a = minidl.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = minidl.tensor(np.array([1.0, 3.0]), requires_grad=True)
    a.maximum(b).sum().backward()
    np.testing.assert_array_equal(a.grad.detach().numpy(), [0.5, 0.0])
    np.testing.assert_array_equal(b.grad.detach().numpy(), [0.5, 1.0])


def test_op_pair_callable_by_hand():
    """The forward/backward pair works on plain arrays, homework-style, without the engine."""
    x, w, b = randn(5, 4), randn(3, 4), randn(3)
    out, cache = ops.linear.forward(x, w, b)
    np.testing.assert_allclose(out, x @ w.T + b)
    dout = randn(5, 3)
    dx, dw, db = ops.linear.backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: ops.linear.forward(v, w, b)[0], x, dout)) < 1e-8
    assert rel_error(dw, eval_numerical_gradient_array(lambda v: ops.linear.forward(x, v, b)[0], w, dout)) < 1e-8
    assert rel_error(db, eval_numerical_gradient_array(lambda v: ops.linear.forward(x, w, v)[0], b, dout)) < 1e-8


def test_linear_shape_error_names_the_shapes():
    with pytest.raises(ValueError, match=r"linear.*\(2, 5\).*\(3, 4\)"):
        ops.linear.forward(np.ones((2, 5)), np.ones((3, 4)))


def test_float32_preserved_through_ops():
    x = minidl.tensor(RNG.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    w = minidl.tensor(RNG.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
    y = ((x @ w).exp().mean(dim=0) / 3.0 + (x**2).sum()).sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


# ----------------------------------------------------------------------------------- properties (hypothesis)
floats = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@st.composite
def broadcastable_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    a = draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=floats))
    b = draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=floats))
    return a, b


@settings(max_examples=60, deadline=None)
@given(broadcastable_pair(), st.sampled_from(["add", "sub", "mul"]))
def test_broadcast_binary_ops_match_numpy(pair, opname):
    a, b = pair
    np_fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply}[opname]
    ta, tb = minidl.tensor(a, requires_grad=True), minidl.tensor(b, requires_grad=True)
    out = getattr(ops, opname)(ta, tb)
    expect = np_fn(a, b)
    np.testing.assert_allclose(out.detach().numpy(), expect)
    (out * 1.0).sum().backward()
    # d/da Σ f(a, b): each element of a collects its partial over every broadcast copy
    ones = np.ones(expect.shape)
    da = {"add": ones, "sub": ones, "mul": np.broadcast_to(b, expect.shape)}[opname]
    db = {"add": ones, "sub": -ones, "mul": np.broadcast_to(a, expect.shape)}[opname]
    exp_a = np.broadcast_to(da, expect.shape).copy()
    exp_b = np.broadcast_to(db, expect.shape).copy()
    for full, small, got in ((exp_a, a, ta.grad.detach().numpy()), (exp_b, b, tb.grad.detach().numpy())):
        lead = full.ndim - small.ndim
        red = full.sum(axis=tuple(range(lead))) if lead else full
        red = red.sum(axis=tuple(i for i, s in enumerate(small.shape) if s == 1), keepdims=True) if small.ndim else red
        np.testing.assert_allclose(got, np.reshape(red, small.shape), atol=1e-9)


@st.composite
def array_and_axis(draw):
    arr = draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), elements=floats))
    axis = draw(st.one_of(st.none(), st.integers(-arr.ndim, arr.ndim - 1)))
    return arr, axis, draw(st.booleans())


@settings(max_examples=80, deadline=None)
@given(array_and_axis(), st.sampled_from(["sum", "mean", "max", "min"]))
def test_reductions_match_numpy(case, name):
    arr, axis, keepdims = case
    t = minidl.tensor(arr, requires_grad=True)
    out = getattr(t, {"max": "amax", "min": "amin"}.get(name, name))(axis=axis, keepdims=keepdims)
    expect = getattr(np, name)(arr, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.detach().numpy(), expect)
    out.sum().backward()
    g = t.grad.detach().numpy()
    n = arr.size if axis is None else arr.shape[axis]
    if name == "sum":
        np.testing.assert_allclose(g, np.ones_like(arr))
    elif name == "mean":
        np.testing.assert_allclose(g, np.full_like(arr, 1.0 / n))
    else:
        # each reduced slice passes gradient 1 in total, shared among its extreme elements
        np.testing.assert_allclose(g.sum(), expect.size)
        hit = arr == getattr(np, name)(arr, axis=axis, keepdims=True)
        assert np.all(g[~hit] == 0)
