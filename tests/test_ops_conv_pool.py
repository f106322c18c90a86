"""Convolution and pooling ops: numeric gradients (float64), PyTorch parity, dtypes, errors.

Oracles: central differences (``minidl.gradcheck``), and PyTorch forward/backward in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
import minidl.nn.functional as F
from conftest import requires_torch, to_torch, torch
from minidl.gradcheck import eval_numerical_gradient_array, gradcheck
from minidl.ops import adaptive_avg_pool2d, avg_pool2d, conv2d, max_pool2d

TOL = 1e-6


def close(ours: np.ndarray, theirs: Any, rtol: float = TOL) -> None:
    """Elementwise relative agreement (atol only absorbs float64 rounding near zero)."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-10)


def close32(ours: np.ndarray, ref64: np.ndarray) -> None:
    """float32 results against float64 ones: float32 rounding, relative to the result's scale."""
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref64, rtol=1e-4, atol=1e-5 * float(np.abs(ref64).max()))


def channels_last(x: np.ndarray) -> np.ndarray:
    """The same NCHW values, stored NHWC (the layout conv2d returns)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


# ------------------------------------------------------------------------------------------------ conv2d
# (N, C, H, W, O, kh, kw, params, bias)
CONV_CASES = [
    pytest.param((2, 3, 7, 7, 4, 3, 3, {}, True), id="k3"),
    pytest.param((2, 3, 8, 7, 4, 3, 3, {"stride": 2, "padding": 1}, True), id="k3-s2-p1-odd"),
    pytest.param((1, 2, 9, 9, 3, 5, 5, {"stride": 3, "padding": 2}, True), id="k5-s3-p2-batch1"),
    pytest.param((2, 2, 6, 5, 3, 1, 1, {}, False), id="k1-nobias"),
    pytest.param((2, 3, 7, 9, 2, 2, 4, {"stride": (1, 2), "padding": (2, 1)}, True), id="nonsquare"),
    pytest.param((2, 2, 9, 8, 3, 3, 3, {"padding": 2, "dilation": 2}, True), id="dilation2"),
    pytest.param((2, 3, 8, 8, 2, 3, 2, {"stride": 2, "dilation": (2, 1)}, False), id="dilation-s2-nobias"),
    pytest.param((2, 4, 6, 6, 6, 3, 3, {"padding": 1, "groups": 2}, True), id="groups2"),
    pytest.param((2, 4, 6, 7, 4, 3, 3, {"stride": 2, "padding": 1, "groups": 4}, True), id="depthwise"),
    pytest.param((2, 16, 4, 4, 3, 3, 3, {"padding": 1}, True), id="16-channels-in"),
    pytest.param((1, 8, 5, 5, 16, 2, 2, {"stride": 2, "padding": 1}, True), id="16-channels-out"),
    pytest.param((2, 3, 6, 6, 2, 4, 4, {"padding": "same"}, True), id="same-even-kernel"),
    pytest.param((2, 3, 5, 5, 2, 3, 3, {"padding": "valid", "stride": 2}, True), id="valid"),
]


def make_conv(case, rng):
    n, c, h, w, o, kh, kw, params, has_bias = case
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((o, c // params.get("groups", 1), kh, kw))
    bias = rng.standard_normal(o) if has_bias else None
    return x, weight, bias, params


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_gradcheck(case, rng):
    x, weight, bias, params = make_conv(case, rng)
    if bias is None:
        report = gradcheck(lambda a, b: F.conv2d(a, b, None, **params), x, weight)
    else:
        report = gradcheck(lambda a, b, c: F.conv2d(a, b, c, **params), x, weight, bias)
    assert report.ok, str(report)
    assert report.max_rel_error < TOL


@requires_torch
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's note on 'same' with an even kernel
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_torch(case, rng):
    x, weight, bias, params = make_conv(case, rng)
    out, cache = conv2d.forward(x, weight, bias, **params)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d.backward(dout, cache)

    tx, tw = to_torch(x, True), to_torch(weight, True)
    tb = to_torch(bias, True) if bias is not None else None
    tout = torch.nn.functional.conv2d(tx, tw, tb, **params)
    tout.backward(to_torch(dout))
    close(out, tout)
    close(dx, tx.grad)
    close(dw, tw.grad)
    if bias is None:
        assert db is None
    else:
        close(db, tb.grad)


def test_conv2d_pair_by_hand_against_numeric_gradient(rng):
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    out, cache = conv2d.forward(x, w, b, stride=2, padding=1)
    assert out.shape == (2, 4, 4, 3)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d.backward(dout, cache)

    dx_num = eval_numerical_gradient_array(lambda a: conv2d.forward(a, w, b, stride=2, padding=1)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda a: conv2d.forward(x, a, b, stride=2, padding=1)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda a: conv2d.forward(x, w, a, stride=2, padding=1)[0], b, dout)
    close(dx, dx_num, rtol=1e-6)
    close(dw, dw_num, rtol=1e-6)
    close(db, db_num, rtol=1e-6)


def test_conv2d_backward_skips_unwanted_gradients(rng):
    x, w, b = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    out, cache = conv2d.forward(x, w, b)
    dx, dw, db = conv2d.backward(np.ones_like(out), cache, needs=(False, True, False))
    assert dx is None and db is None
    assert dw.shape == w.shape


@requires_torch
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 2), groups=st.sampled_from([1, 2, 3]), c_per_group=st.integers(1, 9),
    o_per_group=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 4),
    kw=st.integers(1, 4), stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)), dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    bias=st.booleans(), seed=st.integers(0, 2**16),
)
def test_conv2d_random_geometry_matches_torch(n, groups, c_per_group, o_per_group, h, w, kh, kw, stride, padding,
                                              dilation, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, groups * c_per_group, h, w))
    wt = rng.standard_normal((groups * o_per_group, c_per_group, kh, kw))
    b = rng.standard_normal(groups * o_per_group) if bias else None
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if any(size + 2 * p - d * (k - 1) - 1 < 0 for size, p, d, k in zip((h, w), padding, dilation, (kh, kw), strict=True)):
        with pytest.raises(ValueError, match="conv2d"):
            conv2d.forward(x, wt, b, **params)
        return
    out, cache = conv2d.forward(x, wt, b, **params)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d.backward(dout, cache)
    tx, tw = to_torch(x, True), to_torch(wt, True)
    tb = to_torch(b, True) if bias else None
    tout = torch.nn.functional.conv2d(tx, tw, tb, **params)
    tout.backward(to_torch(dout))
    close(out, tout)
    close(dx, tx.grad)
    close(dw, tw.grad)
    if bias:
        close(db, tb.grad)


def test_conv2d_channels_last_input_gives_same_result(rng):
    x, w, b = rng.standard_normal((2, 5, 6, 6)), rng.standard_normal((4, 5, 3, 3)), rng.standard_normal(4)
    out1, _ = conv2d.forward(x, w, b, padding=1)
    out2, _ = conv2d.forward(channels_last(x), w, b)  # no padding: the strided view is read in place
    out3, _ = conv2d.forward(channels_last(x), w, b, padding=1)
    close(out2, conv2d.forward(x, w, b)[0])
    close(out3, out1)


# ------------------------------------------------------------------------------------------------ max pooling
MAX_CASES = [
    pytest.param((2, 3, 8, 8), {"kernel_size": 2}, id="k2-tiles"),
    pytest.param((1, 2, 7, 7), {"kernel_size": 2}, id="k2-odd-floor"),
    pytest.param((2, 2, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1}, id="k3-s2-p1"),
    pytest.param((2, 2, 7, 7), {"kernel_size": 2, "ceil_mode": True}, id="ceil"),
    pytest.param((1, 2, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, id="ceil-pad"),
    pytest.param((1, 2, 5, 6), {"kernel_size": 2, "padding": 1, "ceil_mode": True}, id="ceil-drops-last"),
    pytest.param((1, 2, 9, 8), {"kernel_size": (2, 3), "stride": (1, 2)}, id="nonsquare-overlap"),
    pytest.param((1, 2, 9, 10), {"kernel_size": 3, "stride": 1, "dilation": 2, "padding": 1}, id="dilation2"),
    pytest.param((1, 3, 10, 9), {"kernel_size": (2, 3), "stride": 3, "dilation": (2, 1), "ceil_mode": True},
                 id="dilation-ceil"),
    pytest.param((2, 3, 5, 5), {"kernel_size": 1, "stride": 2}, id="k1"),
    pytest.param((1, 16, 6, 6), {"kernel_size": 5, "stride": 1, "padding": 2}, id="k5-16ch"),
]


@requires_torch
@pytest.mark.parametrize("params", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1},
                                    {"kernel_size": 2, "stride": 1, "ceil_mode": True}])
def test_max_pool2d_ties_route_to_first_max_like_torch(params, rng):
    # after a ReLU whole windows are 0: every tie must go to the first element, as in PyTorch
    x = np.maximum(rng.standard_normal((2, 3, 6, 6)), 0.0)
    x[0, 0] = 0.0
    x[1, 1, :, ::2] = 1.0
    out, cache = max_pool2d.forward(x, **params)
    dout = rng.standard_normal(out.shape)
    (dx,) = max_pool2d.backward(dout, cache)
    tx = to_torch(x, True)
    torch.nn.functional.max_pool2d(tx, **params).backward(to_torch(dout))
    close(dx, tx.grad)


def test_max_pool2d_tie_goes_to_first_element_of_window():
    out, cache = max_pool2d.forward(np.zeros((1, 1, 2, 2)), kernel_size=2)
    (dx,) = max_pool2d.backward(np.full((1, 1, 1, 1), 3.0), cache)
    np.testing.assert_array_equal(dx[0, 0], [[3.0, 0.0], [0.0, 0.0]])


def test_max_pool2d_pair_by_hand_against_numeric_gradient(rng):
    x = rng.standard_normal((2, 2, 7, 7))
    params = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    out, cache = max_pool2d.forward(x, **params)
    dout = rng.standard_normal(out.shape)
    (dx,) = max_pool2d.backward(dout, cache)
    close(dx, eval_numerical_gradient_array(lambda a: max_pool2d.forward(a, **params)[0], x, dout))


# ------------------------------------------------------------------------------------------------ average pooling
AVG_CASES = [
    pytest.param((2, 3, 8, 8), {"kernel_size": 2}, id="k2-tiles"),
    pytest.param((2, 3, 6, 9), {"kernel_size": 3, "divisor_override": 5}, id="tiles-divisor-override"),
    pytest.param((1, 2, 7, 7), {"kernel_size": 2}, id="k2-odd-floor"),
    pytest.param((2, 2, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1}, id="k3-s2-p1"),
    pytest.param((2, 2, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
                 id="exclude-pad"),
    pytest.param((1, 2, 7, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, id="ceil-pad"),
    pytest.param((1, 2, 7, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                                "count_include_pad": False}, id="ceil-pad-exclude"),
    pytest.param((1, 2, 7, 7), {"kernel_size": 2, "ceil_mode": True}, id="ceil-nopad"),
    pytest.param((1, 2, 5, 6), {"kernel_size": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
                 id="ceil-drops-last"),
    pytest.param((1, 2, 6, 9), {"kernel_size": (3, 2), "stride": (1, 3), "padding": (1, 0),
                                "divisor_override": 4}, id="nonsquare-divisor-override"),
    pytest.param((1, 16, 5, 5), {"kernel_size": 5, "stride": 1, "padding": 2, "count_include_pad": False},
                 id="k5-16ch"),
    pytest.param((2, 3, 5, 5), {"kernel_size": 1}, id="k1"),
]


# every max and average pooling case, as (op name, shape, params), with the cases' own ids
POOL_CASES = [pytest.param(name, *case.values, id=f"{name}-{case.id}")
              for name, cases in (("max_pool2d", MAX_CASES), ("avg_pool2d", AVG_CASES)) for case in cases]


@pytest.mark.parametrize(("op", "shape", "params"), POOL_CASES)
def test_pool2d_gradcheck(op, shape, params, rng):
    x = rng.standard_normal(shape)
    report = gradcheck(lambda a: getattr(F, op)(a, **params), x)
    assert report.ok, str(report)


@requires_torch
@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize(("op", "shape", "params"), POOL_CASES)
def test_pool2d_matches_torch(op, shape, params, layout, rng):
    x = rng.standard_normal(shape)
    x = channels_last(x) if layout == "channels_last" else x
    pool = {"max_pool2d": max_pool2d, "avg_pool2d": avg_pool2d}[op]
    out, cache = pool.forward(x, **params)
    dout = rng.standard_normal(out.shape)
    (dx,) = pool.backward(dout, cache)
    tx = to_torch(x, True)
    tout = getattr(torch.nn.functional, op)(tx, **params)
    tout.backward(to_torch(dout))
    close(out, tout)
    close(dx, tx.grad)


def test_avg_pool2d_pair_by_hand_against_numeric_gradient(rng):
    x = rng.standard_normal((2, 2, 7, 6))
    params = {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False, "ceil_mode": True}
    out, cache = avg_pool2d.forward(x, **params)
    dout = rng.standard_normal(out.shape)
    (dx,) = avg_pool2d.backward(dout, cache)
    close(dx, eval_numerical_gradient_array(lambda a: avg_pool2d.forward(a, **params)[0], x, dout))


# ------------------------------------------------------------------------------------------------ adaptive average
ADAPTIVE_CASES = [
    pytest.param((2, 3, 7, 7), 1, id="7x7-to-1x1"),
    pytest.param((2, 3, 7, 7), 2, id="7x7-to-2x2"),
    pytest.param((2, 3, 7, 7), (3, 5), id="7x7-to-3x5"),
    pytest.param((1, 2, 10, 9), (4, 4), id="nondivisible"),
    pytest.param((1, 2, 6, 9), (None, 4), id="keep-height"),
    pytest.param((1, 2, 3, 4), (5, 6), id="upsample"),
    pytest.param((1, 16, 8, 8), (2, 2), id="divisible-16ch"),
]


@pytest.mark.parametrize(("shape", "size"), ADAPTIVE_CASES)
def test_adaptive_avg_pool2d_gradcheck(shape, size, rng):
    report = gradcheck(lambda a: F.adaptive_avg_pool2d(a, size), rng.standard_normal(shape))
    assert report.ok, str(report)


@requires_torch
@pytest.mark.parametrize(("shape", "size"), ADAPTIVE_CASES)
def test_adaptive_avg_pool2d_matches_torch(shape, size, rng):
    x = rng.standard_normal(shape)
    out, cache = adaptive_avg_pool2d.forward(x, output_size=size)
    dout = rng.standard_normal(out.shape)
    (dx,) = adaptive_avg_pool2d.backward(dout, cache)
    tx = to_torch(x, True)
    tout = torch.nn.functional.adaptive_avg_pool2d(tx, size)
    tout.backward(to_torch(dout))
    close(out, tout)
    close(dx, tx.grad)


# ------------------------------------------------------------------------------------------------ through the engine
@requires_torch
def test_conv_pool_chain_through_engine_matches_torch(rng):
    arrays = {
        "x": rng.standard_normal((2, 3, 12, 11)),
        "w1": rng.standard_normal((6, 3, 3, 3)), "b1": rng.standard_normal(6),
        "w2": rng.standard_normal((8, 3, 3, 3)), "b2": rng.standard_normal(8),
    }  # fmt: skip

    def net(f, t):
        y = f.conv2d(t["x"], t["w1"], t["b1"], padding=1)
        y = f.max_pool2d(y, 2, ceil_mode=True)
        y = f.conv2d(y, t["w2"], t["b2"], stride=1, padding=1, groups=2)
        y = f.avg_pool2d(y, 3, stride=2, padding=1, count_include_pad=False)
        return f.adaptive_avg_pool2d(y, (2, 1))

    ours = {k: minidl.tensor(v, requires_grad=True) for k, v in arrays.items()}
    theirs = {k: to_torch(v, True) for k, v in arrays.items()}
    out, tout = net(F, ours), net(torch.nn.functional, theirs)
    close(out.detach().numpy(), tout)
    dout = rng.standard_normal(out.shape)
    out.backward(dout)
    tout.backward(to_torch(dout))
    for k in arrays:
        assert ours[k].grad is not None
        close(ours[k].grad.detach().numpy(), theirs[k].grad)


def test_conv_pool_chain_gradcheck(rng):
    def net(x, w, b):
        y = F.max_pool2d(F.conv2d(x, w, b, padding=1), 2)
        return F.adaptive_avg_pool2d(F.avg_pool2d(y, 2, stride=1), 1)

    report = gradcheck(net, rng.standard_normal((2, 2, 6, 7)), rng.standard_normal((3, 2, 3, 3)),
                       rng.standard_normal(3))
    assert report.ok, str(report)


def test_functional_records_graph_and_accumulates(rng):
    x = minidl.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = minidl.tensor(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w)
    assert y.grad_fn.op is conv2d and y.shape == (1, 2, 3, 3)
    y.sum().backward()
    g1 = w.grad.detach().numpy().copy()
    F.conv2d(x, w).sum().backward()
    close(w.grad.detach().numpy(), 2 * g1)


# ------------------------------------------------------------------------------------------------ dtypes
POOL_CALLS = [
    pytest.param(max_pool2d, {"kernel_size": 2}, id="max-tiles"),
    pytest.param(max_pool2d, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, id="max-general"),
    pytest.param(avg_pool2d, {"kernel_size": 2}, id="avg-tiles"),
    pytest.param(avg_pool2d, {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
                 id="avg-general"),
    pytest.param(adaptive_avg_pool2d, {"output_size": (3, 2)}, id="adaptive"),
]


@pytest.mark.parametrize(("op", "params"), POOL_CALLS)
def test_pool_float32_stays_float32(op, params, rng):
    x64 = rng.standard_normal((2, 3, 8, 8))
    x32 = x64.astype(np.float32)
    out, cache = op.forward(x32, **params)
    assert out.dtype == np.float32
    dout = rng.standard_normal(out.shape).astype(np.float32)
    (dx,) = op.backward(dout, cache)
    assert dx.dtype == np.float32
    out64, cache64 = op.forward(x64, **params)
    close32(out, out64)
    close32(dx, op.backward(dout.astype(np.float64), cache64)[0])


@pytest.mark.parametrize("params", [{}, {"stride": 2, "padding": 1, "groups": 2}, {"padding": 1, "dilation": 2}])
def test_conv2d_float32_stays_float32(params, rng):
    x, w, b = rng.standard_normal((2, 4, 7, 7)), rng.standard_normal((4, 4 // params.get("groups", 1), 3, 3)), \
        rng.standard_normal(4)
    out, cache = conv2d.forward(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), **params)
    assert out.dtype == np.float32
    dout = rng.standard_normal(out.shape)
    grads = conv2d.backward(dout.astype(np.float32), cache)
    assert all(g.dtype == np.float32 for g in grads)
    out64, cache64 = conv2d.forward(x, w, b, **params)
    close32(out, out64)
    for g, g64 in zip(grads, conv2d.backward(dout, cache64), strict=True):
        close32(g, g64)


def test_float32_tensors_through_engine(rng):
    x = minidl.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    w = minidl.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.adaptive_avg_pool2d(F.avg_pool2d(F.max_pool2d(F.conv2d(x, w, padding=1), 2), 2), 1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "error", "match"),
    [
        ((3, 5, 5), (2, 3, 3, 3), {}, ValueError, r"conv2d: expected a 4-D input .*\(3, 5, 5\)"),
        ((1, 3, 5, 5), (2, 3, 3), {}, ValueError, r"conv2d: expected a 4-D weight .*\(2, 3, 3\)"),
        ((1, 4, 5, 5), (2, 3, 3, 3), {}, ValueError, r"conv2d: input has 4 channels .*\(2, 3, 3, 3\).*expects 3"),
        ((1, 4, 5, 5), (2, 3, 3, 3), {"groups": 2}, ValueError, r"conv2d: input has 4 channels .*expects 6"),
        ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, ValueError, r"conv2d: out channels 3 .*groups=2"),
        ((1, 3, 2, 5), (2, 3, 3, 3), {}, ValueError, r"conv2d: kernel \(3, 3\).*larger.*\(1, 3, 2, 5\)"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"dilation": 3}, ValueError, r"conv2d: kernel .*larger"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"stride": 0}, ValueError, r"conv2d: stride must be at least 1"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"padding": -1}, ValueError, r"conv2d: padding must be at least 0"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"stride": (1, 2, 3)}, TypeError, r"conv2d: stride must be an int or a pair"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"stride": 1.5}, TypeError, r"conv2d: stride"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"padding": "same", "stride": 2}, ValueError, r"conv2d: padding='same'"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"padding": "full"}, ValueError, r"conv2d: padding must be"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"groups": 0}, ValueError, r"conv2d: groups"),
    ],
)
def test_conv2d_bad_input_raises_clear_error(x_shape, w_shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        conv2d.forward(np.zeros(x_shape), np.zeros(w_shape), None, **kwargs)


def test_conv2d_bad_bias_and_dtypes():
    x, w = np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(2,\).*got \(3,\)"):
        conv2d.forward(x, w, np.zeros(3))
    with pytest.raises(TypeError, match=r"conv2d: .*share a dtype"):
        conv2d.forward(x.astype(np.float32), w)
    with pytest.raises(TypeError, match=r"conv2d: input must be a floating array"):
        conv2d.forward(np.zeros((1, 3, 5, 5), dtype=np.int64), w)
    with pytest.raises(TypeError, match=r"conv2d: expected a minidl.Tensor"):
        F.conv2d(x, minidl.tensor(w))


@pytest.mark.parametrize(
    ("op", "shape", "kwargs", "error", "match"),
    [
        (max_pool2d, (3, 5, 5), {"kernel_size": 2}, ValueError, r"max_pool2d: expected a 4-D input .*\(3, 5, 5\)"),
        (max_pool2d, (1, 1, 5, 5), {"kernel_size": 3, "padding": 2}, ValueError,
         r"max_pool2d: padding \(2, 2\) must be at most half of kernel_size \(3, 3\)"),
        (max_pool2d, (1, 1, 2, 5), {"kernel_size": 3}, ValueError, r"max_pool2d: kernel .*larger.*\(1, 1, 2, 5\)"),
        (max_pool2d, (1, 1, 5, 5), {"kernel_size": 0}, ValueError, r"max_pool2d: kernel_size must be at least 1"),
        (max_pool2d, (1, 1, 5, 5), {"kernel_size": 2, "dilation": 0}, ValueError, r"max_pool2d: dilation"),
        (avg_pool2d, (1, 1, 5, 5), {"kernel_size": 2, "padding": 2}, ValueError, r"avg_pool2d: padding"),
        (avg_pool2d, (1, 1, 5, 5), {"kernel_size": 2, "divisor_override": 0}, ValueError,
         r"avg_pool2d: divisor_override"),
        (avg_pool2d, (5, 5), {"kernel_size": 2}, ValueError, r"avg_pool2d: expected a 4-D input .*\(5, 5\)"),
        (adaptive_avg_pool2d, (1, 1, 5, 5), {"output_size": 0}, ValueError,
         r"adaptive_avg_pool2d: output_size must be at least 1"),
        (adaptive_avg_pool2d, (1, 1, 5, 5), {"output_size": (1, 2, 3)}, TypeError, r"adaptive_avg_pool2d"),
        (adaptive_avg_pool2d, (1, 5, 5), {"output_size": 2}, ValueError, r"adaptive_avg_pool2d: expected a 4-D"),
    ],
)
def test_pool_bad_input_raises_clear_error(op, shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        op.forward(np.zeros(shape), **kwargs)
