"""The Tensor and its autograd engine: dtypes, accumulation, graph reuse, depth, no_grad, errors."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl.tensor import unbroadcast


class TestConstruction:
    def test_python_floats_default_to_float32(self):
        assert minidl.tensor([1.0, 2.0]).dtype == np.float32
        assert minidl.tensor(3.5).dtype == np.float32

    def test_float64_arrays_stay_float64(self):
        assert minidl.tensor(np.ones(3)).dtype == np.float64

    def test_explicit_dtype_and_ints(self):
        assert minidl.tensor([1, 2], dtype=np.float64).dtype == np.float64
        assert minidl.tensor([1, 2]).dtype == np.int64
        assert minidl.tensor([True, False]).dtype == np.bool_

    def test_tensor_copies_its_input(self):
        a = np.zeros(3)
        t = minidl.tensor(a)
        a[0] = 5
        assert t.detach().numpy()[0] == 0

    def test_only_floats_require_grad(self):
        with pytest.raises(RuntimeError, match="floating"):
            minidl.tensor([1, 2], requires_grad=True)

    def test_rejects_non_numeric(self):
        with pytest.raises(TypeError):
            minidl.tensor(["a", "b"])

    def test_basic_accessors(self):
        t = minidl.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        assert t.shape == (2, 3) and t.ndim == 2 and t.numel() == 6 and t.size(1) == 3 and len(t) == 2
        assert minidl.tensor([[4.0]]).item() == 4.0
        assert t.detach().requires_grad is False
        assert np.shares_memory(t.detach().numpy(), t.data.numpy())
        with pytest.raises(RuntimeError, match="detach"):
            t.numpy()
        with pytest.raises(RuntimeError, match="6 elements cannot be converted to Scalar"):
            t.item()

    def test_python_scalars_keep_the_tensor_dtype(self):
        x = minidl.tensor([1.0, 2.0])
        for y in (x * 2.0, 2.0 * x, x + 1, x / 3.0, 1.0 - x, x**2, 2.0**x):
            assert y.dtype == np.float32


class TestBackward:
    def test_simple_chain_rule(self):
        x = minidl.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = (x * x * x).sum()  # dy/dx = 3x²
        y.backward()
        np.testing.assert_allclose(x.grad.detach().numpy(), 3 * x.detach().numpy()**2)

    def test_gradients_accumulate_until_zeroed(self):
        x = minidl.tensor([1.0, 2.0], requires_grad=True)
        (x * 3).sum().backward()
        (x * x).sum().backward()
        np.testing.assert_allclose(x.grad.detach().numpy(), 3 + 2 * x.detach().numpy())
        x.grad = None
        (x * 3).sum().backward()
        np.testing.assert_allclose(x.grad.detach().numpy(), [3.0, 3.0])

    def test_reused_node_gets_sum_of_gradients(self):
        x = minidl.tensor(2.0, requires_grad=True)
        y = x * 3  # used three times below
        z = y * y + y  # dz/dx = (2y + 1)·3 = 39
        z.backward()
        assert x.grad.item() == pytest.approx(39.0)

    def test_diamond_graph(self):
        x = minidl.tensor(1.5, requires_grad=True)
        a, b = x.exp(), x * x
        (a * b).backward()  # d(eˣx²)/dx = eˣ(x² + 2x)
        assert x.grad.item() == pytest.approx(np.exp(1.5) * (1.5**2 + 3.0), rel=1e-6)

    def test_graph_100k_ops_deep(self):
        x = minidl.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(100_000):
            y = y * 1.0 + 0.0
        y.backward()
        assert x.grad.item() == 1.0

    def test_backward_twice_needs_retain_graph(self):
        x = minidl.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_allclose(x.grad.detach().numpy(), 4 * x.detach().numpy())
        with pytest.raises(RuntimeError, match="second time"):
            y.backward()

    def test_nonscalar_backward_needs_gradient(self):
        x = minidl.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        with pytest.raises(RuntimeError, match="only for scalar outputs"):
            y.backward()
        with pytest.raises(RuntimeError, match="Mismatch in shape"):
            y.backward(np.ones(3))
        y.backward(np.array([1.0, 10.0]))
        np.testing.assert_allclose(x.grad.detach().numpy(), [2.0, 20.0])

    def test_backward_without_grad_raises(self):
        with pytest.raises(RuntimeError, match="does not require grad"):
            minidl.tensor([1.0]).sum().backward()

    def test_leaf_grads_never_share_memory(self):
        # add's backward hands the same array to both inputs; the leaves must still own separate grads
        a = minidl.tensor([1.0, 2.0], requires_grad=True)
        b = minidl.tensor([3.0, 4.0], requires_grad=True)
        (a + b).sum().backward()
        a.grad.data *= 10
        np.testing.assert_allclose(b.grad.detach().numpy(), [1.0, 1.0])

    def test_retain_grad_on_intermediate(self):
        x = minidl.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        (y * y).sum().backward()
        np.testing.assert_allclose(y.grad.detach().numpy(), 2 * y.detach().numpy())
        assert x.is_leaf and not y.is_leaf

    def test_grad_dtype_follows_leaf(self):
        x = minidl.tensor([1.0, 2.0], requires_grad=True)  # float32
        w = minidl.tensor(np.array([0.5, 0.5]), requires_grad=True)  # float64
        (x * w).sum().backward()
        assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64

    def test_differentiable_cast(self):
        x = minidl.tensor([1.0, 2.0], requires_grad=True)
        y = x.double()
        assert y.dtype == np.float64
        (y * y).sum().backward()
        assert x.grad.dtype == np.float32
        np.testing.assert_allclose(x.grad.detach().numpy(), [2.0, 4.0])


class TestNoGrad:
    def test_no_graph_under_no_grad(self):
        x = minidl.tensor([1.0], requires_grad=True)
        with minidl.no_grad():
            y = x * 2
            with minidl.enable_grad():
                z = x * 2
        assert not y.requires_grad and y.grad_fn is None
        assert z.requires_grad
        assert minidl.is_grad_enabled()

    def test_no_grad_as_decorator(self):
        @minidl.no_grad()
        def f(t):
            return t * 2

        assert not f(minidl.tensor([1.0], requires_grad=True)).requires_grad

    def test_comparisons_are_bool_and_not_differentiable(self):
        x = minidl.tensor([1.0, 2.0, 3.0], requires_grad=True)
        m = x > 1.5
        assert m.dtype == np.bool_ and not m.requires_grad
        np.testing.assert_array_equal(m.detach().numpy(), [False, True, True])
        np.testing.assert_array_equal((x == x).detach().numpy(), [True, True, True])


class TestUnbroadcast:
    @pytest.mark.parametrize(
        ("grad_shape", "shape"),
        [((2, 3), (3,)), ((2, 3), (1, 3)), ((4, 2, 3), (2, 1)), ((2, 3), ()), ((5, 1, 4), (1, 4)), ((3, 1), (3, 1))],
    )
    def test_sums_over_broadcast_axes(self, grad_shape, shape):
        g = np.random.default_rng(0).standard_normal(grad_shape)
        out = unbroadcast(g, shape)
        assert out.shape == shape
        # oracle: each input element's gradient is the sum of the grads of all its broadcast copies
        idx = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), grad_shape)
        expect = np.bincount(idx.ravel(), weights=g.ravel(), minlength=int(np.prod(shape))).reshape(shape)
        np.testing.assert_allclose(out, expect)


def test_manual_seed_reproducible():
    minidl.manual_seed(7)
    a = minidl.randn(3, 4)
    minidl.manual_seed(7)
    b = minidl.randn(3, 4)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert a.dtype == np.float32
    with pytest.raises(TypeError):
        minidl.manual_seed("seven")


def test_creation_functions():
    assert minidl.zeros(2, 3).shape == (2, 3) and minidl.zeros((2, 3)).dtype == np.float32
    assert minidl.ones(4, dtype=np.float64).dtype == np.float64
    assert minidl.arange(5).dtype == np.int64 and minidl.arange(0.0, 1.0, 0.5).dtype == np.float32
    arr = np.ones(3)
    assert minidl.from_numpy(arr).numpy() is arr


@requires_torch
def test_engine_matches_torch_on_a_composite_expression():
    rng = np.random.default_rng(3)
    a_np, b_np = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    a, b = minidl.tensor(a_np, requires_grad=True), minidl.tensor(b_np, requires_grad=True)
    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)

    def expr(x, y, lib):
        z = (x * y + x / (1 + y * y)) ** 2
        return (lib.exp(-z) * x).sum() + z.mean()

    expr(a, b, minidl).backward()
    expr(ta, tb, torch).backward()
    np.testing.assert_allclose(a.grad.detach().numpy(), ta.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(b.grad.detach().numpy(), tb.grad.numpy(), rtol=1e-10)
