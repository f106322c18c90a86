"""The speed paths chosen inside the ops (issue "Performance"): every kernel variant must give the same
results (float64, 1e-6) whichever one the shape selects, and the selection itself must pick the fast variant
for the course models.

Two oracles: the loop-level reference kernels (:mod:`minidl.ops.reference`, themselves checked against
numeric gradients in tests/test_reference.py), which need nothing but NumPy, and PyTorch where it is
installed. Variants are forced by patching the selection constants of the op modules, so each one is tested
on the same inputs: conv2d's wide columns (B > 1, up to the widest blocks the shape allows) against plain
im2col (B = 1), the fused bias against the added one, column matrices kept or rebuilt in slabs, K-major
column matrices, the three dx forms (transposed convolution, wide patches, per-offset blocks), both memory
layouts of the input and of the incoming gradient for pooling and batch norm, row- and class-major
log-softmax.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
import minidl.ops.activation as activation_mod
import minidl.ops.conv as conv_mod
from conftest import requires_torch, to_torch, torch
from minidl import ops
from minidl.gradcheck import gradcheck
from minidl.ops import reference

TOL = 1e-6

# every kernel variant is compared with both oracles; PyTorch's runs only where it is installed
ORACLES = ["reference", pytest.param("torch", marks=requires_torch)]


def close(ours, theirs, rtol: float = TOL) -> None:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-10)


def channels_last(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def oracle_pass(oracle: str, op: str, inputs: tuple, params: dict, dout: np.ndarray, torch_fn=None) -> tuple:
    """(out, *gradients of the floating inputs) of ``op`` from the reference kernel or from PyTorch
    (``torch_fn``, default ``torch.nn.functional.<op>``), for upstream gradient ``dout``."""
    if oracle == "reference":
        kernel = getattr(reference, op)
        out, cache = kernel.forward(*inputs, **params)
        return (out, *(g for g in kernel.backward(dout, cache) if g is not None))
    leaves = [to_torch(a, True) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else
              torch.from_numpy(np.asarray(a)) if isinstance(a, np.ndarray) else a for a in inputs]
    out = (torch_fn or getattr(torch.nn.functional, op))(*leaves, **params)
    out.backward(to_torch(dout))
    return (out, *(t.grad for t in leaves if isinstance(t, torch.Tensor) and t.requires_grad))


# ------------------------------------------------------------------------------------------------ conv2d
# (N, C, H, W, O, kh, kw, params): shapes where the default picks wide columns, 'same' padding (dx as a
# transposed convolution), strides and dilation (per-offset blocks), groups
CONV_CASES = [
    pytest.param((2, 1, 10, 10, 3, 3, 3, {}), id="wide-c1"),
    pytest.param((2, 3, 9, 8, 4, 3, 2, {}), id="wide-odd"),
    pytest.param((2, 3, 8, 8, 5, 3, 3, {"padding": 1}), id="same"),
    pytest.param((2, 4, 7, 9, 6, 3, 3, {"padding": (2, 1)}), id="pad-uneven"),
    pytest.param((2, 3, 9, 9, 4, 3, 3, {"stride": 2, "padding": 1}), id="stride2"),
    pytest.param((1, 2, 9, 10, 3, 3, 2, {"stride": (1, 2), "dilation": (1, 2)}), id="dilation"),
    pytest.param((2, 4, 8, 8, 6, 3, 3, {"padding": 1, "groups": 2}), id="groups-same"),
    pytest.param((2, 4, 7, 8, 4, 2, 3, {"groups": 4}), id="depthwise-wide"),
    pytest.param((1, 2, 6, 6, 3, 4, 4, {"padding": "same"}), id="same-even"),
]

# forcing: plain im2col everywhere / the widest blocks the shape allows / no fused bias / no transposed-conv dx /
# K-major column matrices / column matrices rebuilt in slabs
VARIANTS = {
    "default": {},
    "plain-im2col": {"_WIDE_MAX_OUT": 0},
    "widest-blocks": {"_WIDE_MAX_OUT": 10**6, "_WIDE_MAX_K": 10**6, "_WIDE_MAX_INFLATION": 10**6,
                      "_WIDE_MAX_OUT_ONE_CHANNEL": 10**6},
    "bias-added": {"_FUSE_BIAS_MAX_K": 0},
    "no-transposed-dx": {"_transposed_is_same": lambda geo: False},
    "k-major": {"_K_MAJOR_MAX_CHANNELS": 64, "_WIDE_MAX_OUT": 0},
    # column matrices too big to keep: built one image at a time, rebuilt the same way for dW
    "slabs": {"_KEEP_COLS_MAX_BYTES": 0, "_KEEP_COLS_MAX_RATIO": 0, "_SLAB_BYTES": 1},
    "slabs-plain-im2col": {"_KEEP_COLS_MAX_BYTES": 0, "_KEEP_COLS_MAX_RATIO": 0, "_SLAB_BYTES": 1,
                           "_WIDE_MAX_OUT": 0},
}


def conv_inputs(case, layout, rng):
    n, c, h, w, o, kh, kw, params = case
    x = rng.standard_normal((n, c, h, w))
    x = channels_last(x) if layout == "channels-last" else x
    weight = rng.standard_normal((o, c // params.get("groups", 1), kh, kw))
    return x, weight, rng.standard_normal(o), params


@pytest.mark.parametrize("oracle", ORACLES)
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("layout", ["nchw", "channels-last"])
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's note on 'same' with an even kernel
def test_conv2d_every_kernel_variant_matches_the_oracle(case, variant, layout, oracle, rng, monkeypatch):
    for name, value in VARIANTS[variant].items():
        monkeypatch.setattr(conv_mod, name, value)
    x, weight, bias, params = conv_inputs(case, layout, rng)
    out, cache = ops.conv2d.forward(x, weight, bias, **params)
    dout = rng.standard_normal(out.shape)
    ours = (out, *ops.conv2d.backward(dout, cache))
    expected = oracle_pass(oracle, "conv2d", (x, weight, bias), params, dout)
    for a, b in zip(ours, expected, strict=True):
        close(a, b)


def test_conv2d_variants_cover_every_path(rng, monkeypatch):
    """The variant matrix above reaches every path: several block sizes, both column-matrix orders, both bias
    forms, kept and rebuilt column matrices, and all three dx forms."""
    seen = defaultdict(set)
    for patches in VARIANTS.values():
        with monkeypatch.context() as m:
            for name, value in patches.items():
                m.setattr(conv_mod, name, value)
            for case in CONV_CASES:
                x, weight, bias, params = conv_inputs(case.values[0], "nchw", rng)
                cache = ops.conv2d.forward(x, weight, bias, **params)[1]
                seen["block"].add(cache.plan.block)
                seen["k_major"].add(cache.plan.k_major)
                seen["fuse_bias"].add(cache.plan.fuse_bias)
                seen["kept"].add(cache.cols is not None)
                seen["dx"].add("transposed" if conv_mod._transposed_is_same(cache.geo) else
                               "patches" if cache.plan.block > 1 else "offsets")
    assert len(seen["block"]) >= 4 and 1 in seen["block"], seen["block"]
    assert seen["k_major"] == seen["fuse_bias"] == seen["kept"] == {True, False}
    assert seen["dx"] == {"transposed", "patches", "offsets"}


@pytest.mark.parametrize("case", CONV_CASES[:3] + CONV_CASES[6:7])
def test_conv2d_wide_and_fused_paths_pass_gradcheck(case, rng):
    n, c, h, w, o, kh, kw, params = case
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((o, c // params.get("groups", 1), kh, kw))
    bias = rng.standard_normal(o)
    report = gradcheck(lambda a, b, d: F.conv2d(a, b, d, **params), x, weight, bias)
    assert report.ok, str(report)
    assert report.max_rel_error < TOL


def test_conv2d_plan_picks_wide_columns_for_lenet_and_plain_ones_for_wide_layers():
    def plan(x_shape, w_shape, **params):
        x = np.zeros(x_shape, np.float32)
        _, cache = ops.conv2d.forward(x, np.zeros(w_shape, np.float32), np.zeros(w_shape[0], np.float32),
                                      **params)
        return cache.plan

    lenet1 = plan((2, 1, 28, 28), (6, 1, 5, 5))
    lenet2 = plan((2, 6, 12, 12), (16, 6, 5, 5))
    wide64 = plan((2, 64, 7, 7), (64, 64, 3, 3), padding=1)
    assert (lenet1.block, lenet1.span, lenet1.fuse_bias) == (8, 12, True)
    assert (lenet2.block, lenet2.span, lenet2.fuse_bias) == (4, 8, True)
    assert (wide64.block, wide64.fuse_bias) == (1, False)
    assert plan((2, 16, 12, 12), (32, 16, 5, 5)).block == 2  # K = 400: wide pays up to B·O = 64
    assert plan((2, 1, 28, 28), (32, 1, 5, 5)).k_major  # one channel, O = 32: plain K-major columns


def test_conv2d_keeps_small_column_matrices_and_rebuilds_big_ones_in_slabs():
    small = np.zeros((8, 1, 28, 28), np.float32)
    _, cache = ops.conv2d.forward(small, np.zeros((6, 1, 5, 5), np.float32))
    assert cache.cols is not None and cache.padded is None  # the column matrix itself
    # the strided benchmark's middle layer: 29 MB of columns, nine times its input
    big = channels_last(np.zeros((256, 64, 7, 7), np.float32))
    xh = conv_mod.pad_nchw(big, ((1, 1), (1, 1)), 0, True).transpose(0, 2, 3, 1)
    _, cache = ops.conv2d.forward(big, np.zeros((64, 64, 3, 3), np.float32), padding=1)
    assert cache.cols is None and cache.padded.shape == xh.shape  # only the padded NHWC input is kept
    slabs = conv_mod._slabs(xh, cache.geo, cache.plan)
    assert slabs[0].start == 0 and slabs[-1].stop == 256 and len(slabs) > 1
    assert all(a.stop == b.start for a, b in zip(slabs, slabs[1:], strict=False))


def test_conv2d_dx_form_follows_the_geometry():
    def geo(x_shape, w_shape, padding):
        _, cache = ops.conv2d.forward(np.zeros(x_shape), np.zeros(w_shape), padding=padding)
        return cache.geo

    assert conv_mod._transposed_is_same(geo((1, 2, 7, 7), (3, 2, 3, 3), 1))  # 'same': dx is a convolution
    assert not conv_mod._transposed_is_same(geo((1, 2, 12, 12), (3, 2, 5, 5), 0))  # valid: it would grow


@pytest.mark.parametrize("case", CONV_CASES[:4])
def test_conv2d_float32_paths_stay_float32(case, rng):
    n, c, h, w, o, kh, kw, params = case
    x = rng.standard_normal((n, c, h, w))
    weight, bias = rng.standard_normal((o, c, kh, kw)), rng.standard_normal(o)
    out64, cache64 = ops.conv2d.forward(x, weight, bias, **params)
    out32, cache32 = ops.conv2d.forward(*(a.astype(np.float32) for a in (x, weight, bias)), **params)
    dout = rng.standard_normal(out64.shape)
    grads64 = ops.conv2d.backward(dout, cache64)
    grads32 = ops.conv2d.backward(dout.astype(np.float32), cache32)
    for ours, ref in zip((out32, *grads32), (out64, *grads64), strict=True):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5 * float(np.abs(ref).max()))


def test_first_conv_layer_never_computes_its_input_gradient(rng, monkeypatch):
    """The engine passes ``needs``: a conv on data (no grad) must skip dx entirely."""
    for name in ("_col2im", "_col2im_patches"):
        monkeypatch.setattr(conv_mod, name, lambda *a, **k: pytest.fail("dx computed for a data input"))
    layer = minidl.nn.Conv2d(1, 4, 3, padding=1)  # 'same': dx would go through the forward path
    seen = []
    real_conv = conv_mod._conv
    monkeypatch.setattr(conv_mod, "_conv", lambda *a: seen.append(1) or real_conv(*a))
    x = minidl.tensor(rng.standard_normal((2, 1, 6, 6)).astype(np.float32))
    layer(x).sum().backward()
    assert len(seen) == 1  # the forward only
    assert layer.weight.grad is not None and layer.bias.grad is not None


# ------------------------------------------------------------------------------------------------ pooling
# windows that tile the input (the reshape fast path) and overlapping, padded, dilated and ceil-mode ones;
# average pooling's band matrices with every divisor rule
POOL_CASES = [
    ("max_pool2d", {"kernel_size": 2}),
    ("max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("max_pool2d", {"kernel_size": 3, "stride": 1}),
    ("max_pool2d", {"kernel_size": 2, "stride": 2, "dilation": 2}),
    ("max_pool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ("avg_pool2d", {"kernel_size": 2}),
    ("avg_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("avg_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ("avg_pool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ("avg_pool2d", {"kernel_size": 2, "divisor_override": 3}),
]


@pytest.mark.parametrize("oracle", ORACLES)
@pytest.mark.parametrize(("op", "params"), POOL_CASES, ids=lambda v: v if isinstance(v, str) else
                         "-".join(f"{k}{v}" for k, v in v.items()))
@pytest.mark.parametrize("x_layout", ["nchw", "channels-last"])
@pytest.mark.parametrize("dout_layout", ["nchw", "channels-last"])
def test_pooling_every_path_in_either_layout_matches_the_oracle(op, params, x_layout, dout_layout, oracle, rng):
    x = np.maximum(rng.standard_normal((2, 5, 8, 8)), 0.0)  # ReLU'd: whole windows tie at 0
    x[1, 2, :, ::2] = 1.0  # ties inside windows, across rows
    x = channels_last(x) if x_layout == "channels-last" else x
    out, cache = getattr(ops, op).forward(x, **params)
    dout = rng.standard_normal(out.shape)
    dout = channels_last(dout) if dout_layout == "channels-last" else dout  # e.g. from a Flatten: NCHW
    (dx,) = getattr(ops, op).backward(dout, cache)
    expected_out, expected_dx = oracle_pass(oracle, op, (x,), params, dout)
    close(out, expected_out)
    close(dx, expected_dx)


def test_max_pool2d_output_keeps_the_input_layout(rng):
    x = channels_last(rng.standard_normal((2, 3, 8, 8)))
    out, _ = ops.max_pool2d.forward(x, kernel_size=2)
    assert out.strides[1] < out.strides[3]  # channels-last, like the conv output it pools


# ------------------------------------------------------------------------------------------------ batch norm
@pytest.mark.parametrize("oracle", ORACLES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("layout", ["nchw", "channels-last"])
def test_batch_norm_either_layout_matches_the_oracle(training, layout, oracle, rng):
    x = rng.standard_normal((4, 3, 5, 6)) * 2 + 0.5
    x = channels_last(x) if layout == "channels-last" else x
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    dout = rng.standard_normal(x.shape)
    orm, orv = rm.copy(), rv.copy()  # the oracle's buffers, copied before ours are updated in place
    out, cache = ops.batch_norm.forward(x, w, b, rm, rv, training=training)
    ours = (out, *ops.batch_norm.backward(dout, cache))
    if oracle == "reference":
        expected = oracle_pass(oracle, "batch_norm", (x, w, b), {"running_mean": orm, "running_var": orv,
                                                                  "training": training}, dout)
    else:
        orm, orv = to_torch(orm), to_torch(orv)
        expected = oracle_pass(oracle, "batch_norm", (x, orm, orv, w, b), {"training": training}, dout)
    for a, e in zip(ours, expected, strict=True):
        close(a, e)
    close(rm, orm)
    close(rv, orv)
    assert (out.strides[1] < out.strides[3]) == (layout == "channels-last")  # no layout change


# ------------------------------------------------------------------------------------------------ activations
def test_leaky_relu_forward_leaves_its_input_alone(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    before = x.copy()
    out, _ = ops.leaky_relu.forward(x, negative_slope=0.1)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(out, np.where(before > 0, before, np.float32(0.1) * before), rtol=1e-7)


@pytest.mark.parametrize("oracle", ORACLES)
@pytest.mark.parametrize("order", ["row-major", "class-major"])
@pytest.mark.parametrize(("shape", "dim"), [((300, 10), 1), ((40, 5, 7), 1), ((300, 10), 0), ((8, 10), 1)])
def test_log_softmax_and_cross_entropy_match_the_oracle_in_both_memory_orders(shape, dim, order, oracle, rng,
                                                                             monkeypatch):
    """Few classes over many rows run class-major (activation._CLASS_MAJOR_*), the rest row-major; each
    order is forced on every shape."""
    if order == "row-major":
        monkeypatch.setattr(activation_mod, "_CLASS_MAJOR_MAX_CLASSES", 0)
    else:
        monkeypatch.setattr(activation_mod, "_CLASS_MAJOR_MIN_ROWS", 0)
    x = rng.standard_normal(shape) * 4
    x.flat[::7] = 1000.0  # extreme logits stay finite
    x.flat[3::11] = -1000.0
    out, cache = ops.log_softmax.forward(x, dim)
    dout = rng.standard_normal(out.shape)
    (dx,) = ops.log_softmax.backward(dout, cache)
    expected_out, expected_dx = oracle_pass(oracle, "log_softmax", (x, dim), {}, dout)
    close(out, expected_out)
    close(dx, expected_dx)
    if dim == 1:
        target = rng.integers(0, shape[1], (shape[0], *shape[2:]))
        loss, cache = ops.cross_entropy.forward(x, target)
        (dx, _) = ops.cross_entropy.backward(np.float64(1.0), cache)
        name = "softmax_cross_entropy" if oracle == "reference" else "cross_entropy"
        expected_loss, expected_dx = oracle_pass(oracle, name, (x, target), {}, np.float64(1.0))
        close(np.asarray(loss), expected_loss)
        close(dx, expected_dx)


# ------------------------------------------------------------------------------------------------ profiler
def test_op_profiler_times_every_op_and_restores_them(rng):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from op_profile import timed_ops
    finally:
        sys.path.pop(0)
    forward, backward = type(ops.conv2d).forward, type(ops.conv2d).backward
    table: defaultdict = defaultdict(list)
    with timed_ops(table):
        x = minidl.tensor(rng.standard_normal((2, 1, 6, 6)), requires_grad=True)
        F.relu(F.conv2d(x, minidl.tensor(rng.standard_normal((2, 1, 3, 3)), requires_grad=True))).sum().backward()
    recorded = {(name, kind) for name, _, kind in table}
    assert recorded >= {("conv2d", "fwd"), ("conv2d", "bwd"), ("relu", "fwd")}
    assert all(t >= 0 for times in table.values() for t in times)
    assert type(ops.conv2d).forward is forward and type(ops.conv2d).backward is backward


# ------------------------------------------------------------------------------------------------ scaling study
def test_scaling_tables_compute_ratios_per_value_and_thread_count():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import scaling
        import train_speed
    finally:
        sys.path.pop(0)

    def point(value: int, threads: int, ours: float, theirs: float | None):
        result = train_speed.Result("mlp", threads, 10, ours, theirs, None if theirs is None else ours / theirs,
                                    1.0, None, 0.1, None, 1.0, None, None, 0.5, None)
        return scaling.Point("width", "mlp", "hidden", value, threads, 256, 2560, 1.0, result)

    series = scaling.Series("width", "mlp", "hidden", [(64, None), (128, None)])
    points = [point(64, 1, 3.0, 2.0), point(64, 2, 2.0, 1.0), point(128, 1, 4.0, None), point(128, 2, 1.0, None)]
    rows = scaling.table(series, points, [1, 2]).splitlines()[2:]
    # value 64: ratio 3/2 at 1 thread, 2/1 at 2; each library's 1-thread over 2-thread time on the 2-thread row
    assert rows[0].split("|")[1:-1] == [" 64 ", " 1 ", " 3.00 ", " 2.00 ", " 1.50 ", "  ", "  "]
    assert rows[1].split("|")[1:-1] == [" 64 ", " 2 ", " 2.00 ", " 1.00 ", " 2.00 ", " 1.50 ", " 2.00 "]
    # without torch the torch columns read "–"
    assert rows[3].split("|")[1:-1] == [" 128 ", " 2 ", " 1.00 ", " – ", " – ", " 4.00 ", " – "]
