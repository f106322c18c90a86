"""In-place changes, views and the autograd API, against PyTorch's semantics.

The same scenario runs under both libraries (written once against a namespace ``L``); gradients, values,
identities and errors must agree. Without torch, the cases still run on minidl against hand-computed values.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minidl
from conftest import torch

LIBS = [minidl] + ([torch] if torch is not None else [])


def _t(L, a, grad=False):
    t = L.tensor(np.array(a, dtype=np.float64))
    return t.requires_grad_(True) if grad else t


def _np(t):
    return t.detach().numpy()


def both(fn):
    """Run ``fn(L)`` under minidl and torch; return both results (torch's is None without torch)."""
    m = fn(minidl)
    t = fn(torch) if torch is not None else None
    return m, t


def assert_same(m, t, rtol=1e-12):
    if t is None:
        return
    if isinstance(m, tuple | list):
        assert len(m) == len(t)
        for a, b in zip(m, t, strict=True):
            assert_same(a, b, rtol)
    elif m is None:
        assert t is None
    else:
        np.testing.assert_allclose(np.asarray(m.detach().numpy() if hasattr(m, "detach") else m),
                                   np.asarray(t.detach().numpy() if hasattr(t, "detach") else t), rtol=rtol)


# ------------------------------------------------------------------------------------------ manual updates
@pytest.mark.parametrize("L", LIBS, ids=lambda m: m.__name__)
def test_manual_sgd_update_under_no_grad_updates_the_parameter(L):
    w = _t(L, [1.0, -2.0, 0.5], grad=True)
    x = _t(L, [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    for _ in range(3):
        loss = ((x @ w) ** 2).sum()
        loss.backward()
        before = id(w)
        with L.no_grad():
            w -= 0.01 * w.grad
            w.grad.zero_()
        assert id(w) == before and w.requires_grad and w.is_leaf
    # the same three steps by hand: grad = 2 xᵀ(x w)
    wn, xn = np.array([1.0, -2.0, 0.5]), np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    for _ in range(3):
        wn = wn - 0.01 * 2 * xn.T @ (xn @ wn)
    np.testing.assert_allclose(_np(w), wn, rtol=1e-12)


def test_manual_update_keeps_optimizer_state_attached():
    p = minidl.nn.Parameter(minidl.tensor([1.0, 2.0]))
    opt = minidl.optim.SGD([p], lr=0.1, momentum=0.9)
    (p * p).sum().backward()
    opt.step()
    buf = opt.state[p]["momentum_buffer"]
    with minidl.no_grad():
        p.mul_(0.5)
    assert opt.state[p]["momentum_buffer"] is buf  # same parameter object: its state is still found
    np.testing.assert_allclose(_np(p), 0.5 * (np.array([1.0, 2.0]) - 0.1 * np.array([2.0, 4.0])))


@pytest.mark.parametrize("L", LIBS, ids=lambda m: m.__name__)
def test_data_attribute_updates_are_not_tracked(L):
    w = _t(L, [1.0, 2.0], grad=True)
    w.data.add_(1.0)  # allowed outside no_grad, the old tutorials' idiom
    w.data -= 0.5
    np.testing.assert_allclose(_np(w), [1.5, 2.5])
    y = w * w
    w.data.mul_(10)  # not seen by autograd: backward uses the new value, silently, as in torch
    y.sum().backward()
    np.testing.assert_allclose(_np(w.grad), 2 * np.array([15.0, 25.0]))


# ------------------------------------------------------------------------------------------ refused in place
@pytest.mark.parametrize("L", LIBS, ids=lambda m: m.__name__)
def test_in_place_on_a_leaf_that_requires_grad_is_refused(L):
    w = _t(L, [1.0, 2.0], grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0] = 5.0
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[1:].zero_()
    np.testing.assert_allclose(_np(w), [1.0, 2.0])  # nothing changed


@pytest.mark.parametrize("L", LIBS, ids=lambda m: m.__name__)
def test_modified_saved_tensor_makes_backward_raise(L):
    x = _t(L, [0.5, 1.0], grad=True)
    y = x.exp()  # exp saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    a = x * 2
    z = a * a  # mul saves its inputs
    a.sub_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    d = x.sigmoid()
    d.detach().zero_()  # a detached alias shares the version counter
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        d.sum().backward()


@pytest.mark.parametrize("L", LIBS, ids=lambda m: m.__name__)
def test_in_place_after_an_op_that_saved_nothing_is_fine(L):
    x = _t(L, [0.5, 1.0], grad=True)
    y = x + 1  # add saves nothing
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), [3.0, 3.0])


@pytest.mark.parametrize("L", LIBS, ids=lambda m: m.__name__)
def test_in_place_result_dtype_rules(L):
    i = L.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += 1.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        i /= 2
    f = L.tensor([1.0, 2.0])
    f += L.tensor([0.5, 0.25], dtype=L.float64)
    assert str(f.dtype).endswith("float32")
    i += 3
    assert i.tolist() == [4, 5] and str(i.dtype).endswith("int64")
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        f += L.ones(2, 2)


# ------------------------------------------------------------------------------------------ recorded in place
def _inplace_chain(L):
    x = _t(L, [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], grad=True)
    b = _t(L, [0.1, 0.2, 0.3], grad=True)
    y = x * 2
    y.add_(b)
    y.mul_(b)  # saves the original y and b
    y.sub_(x, alpha=0.5)
    y.clamp_(max=0.7)
    y.relu_()  # saves its output: nothing may change y after this
    (y * y).sum().backward()
    return y, x.grad, b.grad


def test_recorded_in_place_chain_matches_torch():
    m, t = both(_inplace_chain)
    assert_same(m, t)


@pytest.mark.parametrize("L", LIBS, ids=lambda m: m.__name__)
def test_in_place_after_relu_in_place_raises_with_torchs_versions(L):
    x = _t(L, [0.5, -1.0], grad=True)
    y = x * 2
    y.add_(1)
    y.relu_()
    y.sub_(x)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="at version 4; expected version 2 instead"):
        y.sum().backward()


def _views(L):
    x = _t(L, [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], grad=True)
    v = _t(L, [3.0, 4.0], grad=True)
    h = x * 1
    h[0] += x[1]  # getitem view, in place, then setitem
    h[:, 1].mul_(2)  # column view
    h.t()[2].add_(v)  # a view of a view (transpose, then a row)
    flat = h.view(-1)
    flat[1] = v[0] * 10  # setitem through a reshape view, value with its own history
    out = (h * h).sum() + flat[4]
    out.backward()
    return h, x.grad, v.grad


def test_in_place_through_views_matches_torch():
    m, t = both(_views)
    assert_same(m, t)


def test_views_share_storage_both_ways():
    x = minidl.zeros(2, 3)
    row, col, flat, tr = x[1], x[:, 2], x.view(-1), x.t()
    row.fill_(1.0)
    col += 5
    flat[0] = 7
    tr[1, 0] = -1
    np.testing.assert_allclose(x.numpy(), [[7, -1, 5], [1, 1, 6]])
    assert x._version == row._version == 4
    c = x.clone()
    c.zero_()
    assert x.numpy()[0, 0] == 7  # a clone does not share


def test_expanded_view_cannot_be_written():
    x = minidl.zeros(3, 1).expand(3, 4)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        x.add_(1)


def _setitem(L):
    x = _t(L, np.arange(12.0).reshape(3, 4), grad=True)
    v = _t(L, [9.0, 8.0, 7.0], grad=True)
    y = x * 2
    y[:, 0] = v
    y[y > 10] = 0.0
    y[L.tensor([2, 0]), 1] = v[:2] * v[1:]
    (y * L.tensor(np.arange(1.0, 13.0).reshape(3, 4))).sum().backward()
    return y, x.grad, v.grad


def test_setitem_records_gradients_like_torch():
    m, t = both(_setitem)
    assert_same(m, t)


# ------------------------------------------------------------------------------------------ hooks and grad
def _hooks(L):
    x = _t(L, [1.0, 2.0, 3.0], grad=True)
    seen = []
    hx = x.register_hook(lambda g: g * 2)
    y = x * x
    y.retain_grad()
    y.register_hook(lambda g: seen.append(g.clone()))
    z = y.sum() * 3
    z.backward()
    hx.remove()
    z2 = (x * 1).sum()
    z2.backward()
    return x.grad, y.grad, seen[0]


def test_tensor_hooks_and_retain_grad_match_torch():
    m, t = both(_hooks)
    assert_same(m, t)
    np.testing.assert_allclose(_np(m[0]), 2 * 2 * 3 * np.array([1.0, 2.0, 3.0]) + 1)


def test_post_accumulate_grad_hook_sees_the_updated_grad():
    p = minidl.tensor([1.0, 2.0], requires_grad=True)
    got = []
    p.register_post_accumulate_grad_hook(lambda t: got.append(t.grad.numpy().copy()))
    (p * 3).sum().backward()
    (p * 3).sum().backward()
    np.testing.assert_allclose(got, [[3.0, 3.0], [6.0, 6.0]])


def _autograd_grad(L):
    x = _t(L, [1.0, 2.0], grad=True)
    w = _t(L, [0.5, -1.0], grad=True)
    unused = _t(L, [1.0], grad=True)
    h = x * w
    y = (h * h).sum()
    gx, gh, gu = L.autograd.grad(y, [x, h, unused], retain_graph=True, allow_unused=True)
    gy = L.autograd.grad(h, w, grad_outputs=L.ones(2, dtype=L.float64))
    return gx, gh, gu, gy[0], x.grad


def test_autograd_grad_matches_torch():
    m, t = both(_autograd_grad)
    assert_same(m, t)
    assert m[2] is None and m[4] is None  # nothing accumulated into .grad


def test_autograd_grad_errors():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    u = minidl.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        minidl.autograd.grad(y, [x, u], retain_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        minidl.autograd.grad(y, x, create_graph=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        minidl.autograd.grad(minidl.ones(1).sum(), x)


def test_backward_with_inputs_accumulates_only_those():
    a = minidl.tensor([1.0], requires_grad=True)
    b = minidl.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_grad_fn_is_a_node_with_next_functions():
    x = minidl.tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    assert y.grad_fn.name() == "ExpBackward" and y.grad_fn.op is minidl.ops.exp
    (mul_node, _), = y.grad_fn.next_functions
    assert mul_node.name() == "MulBackward"
    acc = mul_node.next_functions[0][0]
    assert acc.name() == "AccumulateGrad" and acc.variable is x


# ------------------------------------------------------------------------------------------ custom Function
def _functions(L):
    class MulAdd(L.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            ctx.save_for_backward(a, b)
            ctx.k = k
            idx = a.argmax()
            ctx.mark_non_differentiable(idx)
            return a * b * k, a + b, idx

        @staticmethod
        def backward(ctx, g_prod, g_sum, g_idx):
            a, b = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False, False)
            return g_prod * b * ctx.k + g_sum, None, None

    a = _t(L, [1.0, 2.0, 3.0], grad=True)
    b = _t(L, [0.5, 0.5, 2.0])
    prod, s, idx = MulAdd.apply(a, b, 3.0)
    (prod.sum() + (s * s).sum()).backward()
    return prod, s, idx, a.grad, idx.requires_grad


def test_custom_function_with_several_outputs_matches_torch():
    m, t = both(_functions)
    assert_same(m[:4], None if t is None else t[:4])
    assert m[4] is False


class Square(minidl.autograd.Function):
    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


def test_custom_function_setup_context_style_and_gradcheck():
    x = minidl.tensor([0.3, -1.2, 2.0], dtype=minidl.float64, requires_grad=True)
    assert minidl.autograd.gradcheck(Square.apply, (x,))
    y = Square.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_custom_function_saved_tensor_changed_in_place_raises():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = Square.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_gradcheck_detects_a_wrong_backward():
    class Wrong(minidl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = minidl.tensor([1.0, 2.0], dtype=minidl.float64, requires_grad=True)
    with pytest.raises(minidl.autograd.GradcheckError, match="Jacobian mismatch"):
        minidl.autograd.gradcheck(Wrong.apply, (x,))
    assert minidl.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False


# ------------------------------------------------------------------------------------------ copies
def test_deepcopy_and_pickle_keep_leaves_and_parameters():
    model = minidl.nn.Linear(3, 2)
    model(minidl.randn(4, 3)).sum().backward()
    clone = copy.deepcopy(model)
    assert isinstance(clone.weight, minidl.nn.Parameter) and clone.weight is not model.weight
    np.testing.assert_array_equal(clone.weight.detach().numpy(), model.weight.detach().numpy())
    np.testing.assert_array_equal(clone.weight.grad.numpy(), model.weight.grad.numpy())
    t = pickle.loads(pickle.dumps(minidl.tensor([1.0, 2.0], requires_grad=True)))
    assert t.requires_grad and t.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(model.weight * 2)


def test_queued_callback_runs_after_every_leaf_gradient():
    from minidl.autograd.engine import queue_callback

    a = minidl.tensor([1.0, 2.0], requires_grad=True)
    b = minidl.tensor([3.0], requires_grad=True)
    seen = []
    a.register_post_accumulate_grad_hook(lambda t: queue_callback(lambda: seen.append((a.grad.tolist(),
                                                                                         b.grad.tolist()))))
    (a * b).sum().backward()
    assert seen == [([3.0, 3.0], [3.0])]  # both leaves were updated when it ran
    with pytest.raises(RuntimeError, match="during a backward pass"):
        queue_callback(lambda: None)
