"""Conv1d, ConvTranspose1d/2d and the padding modes of Conv1d/2d: against PyTorch (functional and modules,
forward and backward, float64), central differences, default initialisation, and errors that name the layer.
The kernels of conv_transpose2d are checked path by path in tests/test_perf_kernels.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch
from minidl.gradcheck import gradcheck
from minidl.ops.conv import as_pair
from torch_parity import check_functional, check_module, same_error

# ------------------------------------------------------------------------------------------------ conv1d
# (N, C, L, O, k, params)
CONV1D = [
    ((2, 3, 10, 4, 3), {}),
    ((2, 3, 11, 4, 3), {"stride": 2, "padding": 1}),
    ((1, 2, 12, 3, 2), {"dilation": 3, "padding": 2}),
    ((2, 4, 9, 6, 3), {"groups": 2, "padding": "same"}),
    ((2, 2, 8, 3, 4), {"padding": "same", "dilation": 2}),
    ((2, 3, 7, 2, 5), {"padding": "valid", "stride": 3}),
    ((2, 4, 7, 4, 1), {"groups": 4}),
]


@requires_torch
@pytest.mark.parametrize(("shape", "params"), CONV1D, ids=str)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's note on 'same' with an even kernel
def test_conv1d_matches_torch(shape, params, bias, rng):
    n, c, length, o, k = shape
    x, w = rng.standard_normal((n, c, length)), rng.standard_normal((o, c // params.get("groups", 1), k))
    arrays = (x, w, rng.standard_normal(o)) if bias else (x, w)
    check_functional(lambda F, *t: F.conv1d(*t, **params), *arrays)
    check_functional(lambda F, *t: F.conv1d(t[0][0], *t[1:], **params), *arrays)  # one unbatched sample


@requires_torch
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, 2, "same"])
def test_conv1d_module_padding_modes_match_torch(mode, padding, rng):
    m = check_module(lambda nn: nn.Conv1d(3, 4, 3, padding=padding, padding_mode=mode, dilation=2 if padding == 2
                                          else 1), rng.standard_normal((2, 3, 9)))
    assert m.weight.shape == (4, 3, 3) and m.padding_mode == mode


@requires_torch
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's note on 'same' with an even kernel
@pytest.mark.parametrize("params", [{"padding": 1}, {"padding": (2, 1), "stride": 2}, {"padding": "same"},
                                    {"padding": (1, 2), "groups": 2, "bias": False}], ids=str)
def test_conv2d_module_padding_modes_match_torch(mode, params, rng):
    check_module(lambda nn: nn.Conv2d(4, 6, (3, 4) if params["padding"] == "same" else 3, padding_mode=mode,
                                      **params), rng.standard_normal((2, 4, 6, 7)))
    check_module(lambda nn: nn.Conv2d(4, 6, 3, padding_mode=mode, **params), rng.standard_normal((4, 6, 7)))


def test_conv1d_gradcheck_and_float32(rng):
    report = gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
                       rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 2, 3)), rng.standard_normal(6))
    assert report.ok, str(report)
    layer = nn.Conv1d(2, 3, 3, padding_mode="circular", padding=1)
    assert gradcheck(lambda x, w: F.conv1d(F.pad(x, (1, 1), mode="circular"), w), rng.standard_normal((1, 2, 6)),
                     rng.standard_normal((3, 2, 3))).ok
    out = layer(minidl.randn(4, 2, 8))
    assert out.dtype == minidl.float32 and out.shape == (4, 3, 8)


# ------------------------------------------------------------------------------------------------ transposed
# (N, C_in, H, W, C_out, kh, kw, params)
CONV_T2D = [
    ((2, 3, 4, 5, 2, 3, 3), {}),
    ((3, 4, 1, 1, 2, 4, 4), {}),  # DCGAN's first layer: a 1x1 code to a 4x4 map
    ((2, 4, 4, 4, 3, 4, 4), {"stride": 2, "padding": 1}),  # DCGAN's upsampling layers
    ((2, 4, 3, 4, 2, 2, 2), {"stride": 2}),  # U-Net's up-convolution
    ((2, 2, 5, 4, 4, 3, 3), {"stride": 1, "padding": 1}),  # 'same'-style: the forward runs as a convolution
    ((2, 4, 3, 3, 6, 3, 2), {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2), "groups": 2}),
    ((1, 2, 4, 5, 3, 3, 3), {"dilation": 2, "output_padding": 1}),  # output_padding < dilation, stride 1
    ((2, 6, 3, 3, 3, 3, 3), {"stride": 3, "padding": 2, "dilation": 2, "output_padding": 2, "groups": 3}),
    ((2, 2, 3, 8, 32, 3, 3), {"stride": 2}),  # many output channels
    ((2, 8, 6, 6, 2, 3, 3), {"padding": 1}),  # few input channels of the adjoint conv: wide columns
]


@requires_torch
@pytest.mark.parametrize(("shape", "params"), CONV_T2D, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_matches_torch(shape, params, bias, rng):
    n, c, h, w, o, kh, kw = shape
    x, weight = rng.standard_normal((n, c, h, w)), rng.standard_normal((c, o // params.get("groups", 1), kh, kw))
    arrays = (x, weight, rng.standard_normal(o)) if bias else (x, weight)
    check_functional(lambda F, *t: F.conv_transpose2d(*t, **params), *arrays)
    check_functional(lambda F, *t: F.conv_transpose2d(t[0][-1], *t[1:], **params), *arrays)  # unbatched


@requires_torch
@pytest.mark.parametrize("params", [{}, {"stride": 2, "padding": 1, "output_padding": 1}, {"dilation": 3},
                                    {"stride": 3, "groups": 2, "output_padding": 2}], ids=str)
def test_conv_transpose1d_matches_torch(params, rng):
    x, w = rng.standard_normal((2, 4, 7)), rng.standard_normal((4, 6 // params.get("groups", 1), 3))
    check_functional(lambda F, *t: F.conv_transpose1d(*t, **params), x, w, rng.standard_normal(6))
    check_functional(lambda F, *t: F.conv_transpose1d(*t, **params), x[0], w)


@requires_torch
@pytest.mark.parametrize("make", [
    lambda nn: nn.ConvTranspose2d(4, 2, 4, 1, 0, bias=False),
    lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=(1, 2)),
    lambda nn: nn.ConvTranspose1d(4, 3, 5, stride=2, padding=2, output_padding=1),
    lambda nn: nn.ConvTranspose1d(2, 2, 1, bias=False),
], ids=["dcgan", "options", "1d", "1d-pointwise"])
def test_conv_transpose_modules_match_torch(make, rng):
    layer = make(nn)
    x = rng.standard_normal((2, layer.in_channels) + (3,) * (layer.weight.ndim - 2))
    check_module(make, x)
    check_module(make, x[0])


@requires_torch
def test_conv_transpose2d_output_size_matches_torch(rng):
    make = lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=(2, 3), padding=1)  # noqa: E731
    x = rng.standard_normal((2, 3, 4, 5))
    for size in [(7, 13), (8, 15), [2, 2, 8, 14]]:  # every output size the strides allow, with N and C or not
        check_module(make, x, size)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size of \[9, 13\], but valid sizes "
                                         r"range from \[7, 13\] to \[8, 15\]"):
        make(nn)(minidl.tensor(x), (9, 13))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        make(nn)(minidl.tensor(x), (7,))


def test_conv_transpose_is_the_adjoint_of_conv(rng):
    """<conv(x), y> = <x, conv_transpose(y)> with the same weight and settings: the definition of the transposed
    convolution (output_padding restores the input rows the strided conv skipped)."""
    w = minidl.tensor(rng.standard_normal((3, 2, 3, 4)))
    for params in [{}, {"stride": 2, "padding": 1}, {"stride": (1, 3), "dilation": 2}]:
        x = minidl.tensor(rng.standard_normal((2, 2, 9, 10)))
        cx = F.conv2d(x, w, **params)
        y = minidl.tensor(rng.standard_normal(tuple(cx.shape)))
        stride, dilation = as_pair("", "", params.get("stride", 1), 1), as_pair("", "", params.get("dilation", 1), 1)
        p = params.get("padding", 0)
        extra = tuple(size - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
                      for size, o, s, d, k in zip((9, 10), cx.shape[2:], stride, dilation, (3, 4), strict=True))
        ty = F.conv_transpose2d(y, w, **params, output_padding=extra)
        assert ty.shape == x.shape
        assert float((cx * y).sum()) == pytest.approx(float((x * ty).sum()), rel=1e-10)


def test_conv_transpose_gradcheck(rng):
    report = gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                       rng.standard_normal((2, 3, 3, 3)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(2))
    assert report.ok, str(report)
    report = gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=2, groups=2),
                       rng.standard_normal((1, 4, 4)), rng.standard_normal((4, 1, 3)))
    assert report.ok, str(report)


def test_conv_transpose_default_init_and_dtype():
    minidl.manual_seed(0)
    layer = nn.ConvTranspose2d(16, 8, 3, groups=2)
    assert layer.weight.shape == (16, 4, 3, 3) and layer.bias.shape == (8,)
    bound = 1 / math.sqrt(4 * 3 * 3)  # fan_in from weight.shape[1]·kh·kw, as PyTorch computes it
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound
    assert layer(minidl.randn(1, 16, 2, 2)).dtype == minidl.float32
    assert nn.ConvTranspose1d(2, 3, 2, dtype=minidl.float64).weight.dtype == minidl.float64


# ------------------------------------------------------------------------------------------------ errors
def test_conv_layers_name_themselves_in_errors():
    with pytest.raises(ValueError, match=r"Conv1d\(3, 4, kernel_size=\(3,\).*expected 3-D input \(N, 3, L\) or 2-D "
                                         r"input \(3, L\), got shape \(2, 5, 9\)"):
        nn.Conv1d(3, 4, 3)(minidl.zeros(2, 5, 9))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(4, 2.*expected 4-D input \(N, 4, H, W\)"):
        nn.ConvTranspose2d(4, 2, 3)(minidl.zeros(2, 3, 5, 5))
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(4, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="ConvTranspose1d: padding must be an int"):
        nn.ConvTranspose1d(4, 2, 3, padding="same")
    with pytest.raises(ValueError, match="Conv1d: padding_mode must be one of"):
        nn.Conv1d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="Conv1d: padding='same' is not supported for strided convolutions"):
        nn.Conv1d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="ConvTranspose2d: in_channels \\(3\\) must be divisible by groups"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
    with pytest.raises(TypeError, match="Conv1d: kernel_size must be an int or a sequence of 1 of ints"):
        nn.Conv1d(1, 1, (2, 3))


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: F.conv_transpose2d(minidl.zeros(1, 2, 3, 3), minidl.zeros(2, 1, 3, 3), output_padding=1), ValueError,
     r"conv_transpose2d: output_padding \(1, 1\) must be smaller than either stride \(1, 1\) or dilation"),
    (lambda: F.conv_transpose2d(minidl.zeros(1, 2, 1, 1), minidl.zeros(2, 1, 3, 3), padding=2), ValueError,
     r"gives an output of size \(-1, -1\), which is too small"),
    (lambda: F.conv_transpose2d(minidl.zeros(1, 3, 3, 3), minidl.zeros(2, 1, 3, 3)), ValueError,
     r"conv_transpose2d: weight \(2, 1, 3, 3\) \(in_channels, out_channels/groups, kh, kw\) expects an input with 2 "
     r"channels, got input of shape \(1, 3, 3, 3\)"),
    (lambda: F.conv_transpose2d(minidl.zeros(1, 2, 3, 3), minidl.zeros(2, 1, 3, 3), minidl.zeros(2)), ValueError,
     r"conv_transpose2d: bias must have shape \(1,\)"),
    (lambda: F.conv_transpose2d(minidl.zeros(1, 3, 3, 3), minidl.zeros(3, 1, 3, 3), groups=2), ValueError,
     "not divisible by groups=2"),
    (lambda: F.conv1d(minidl.zeros(2, 3, 4), minidl.zeros(2, 3, 5)), RuntimeError,
     r"conv1d: calculated padded input size per channel: \(4\). Kernel size: \(5\)"),
    (lambda: F.conv1d(minidl.zeros(2, 3, 4), minidl.zeros(2, 2, 3)), RuntimeError,
     r"conv1d: given groups=1, weight of size \[2, 2, 3\], expected input\[2, 3, 4\] to have 2 channels"),
    (lambda: F.conv1d(minidl.zeros(2, 3, 4, 4), minidl.zeros(2, 3, 3)), RuntimeError,
     r"conv1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input"),
    (lambda: F.conv1d(minidl.zeros(2, 3, 4), minidl.zeros(2, 3, 3, 3)), RuntimeError, "expected a 3-D weight"),
    (lambda: F.conv_transpose1d(minidl.zeros(2, 3, 4), minidl.zeros(2, 3, 3)), RuntimeError,
     r"conv_transpose1d: given groups=1, weight of size \[2, 3, 3\], expected input\[2, 3, 4\] to have 2 channels"),
])
def test_conv_functional_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@requires_torch
@pytest.mark.parametrize("fn", [
    lambda F, x, w: F.conv_transpose2d(x, w, output_padding=1),  # output_padding >= stride and dilation
    lambda F, x, w: F.conv_transpose2d(x, w, padding=3),  # output too small
    lambda F, x, w: F.conv_transpose2d(x[:, :1], w),  # channels
    lambda F, x, w: F.conv1d(x[:, :, 0], w[:, :, 0]),  # kernel larger than the input
])
def test_conv_errors_are_pytorchs_error_classes(fn):
    same_error(fn, np.zeros((1, 2, 2, 2)), np.zeros((2, 2, 3, 3)))


@requires_torch
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 2), groups=st.sampled_from([1, 2, 3]), c_per_group=st.integers(1, 5),
    o_per_group=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6), kh=st.integers(1, 4),
    kw=st.integers(1, 4), stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)), dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    extra=st.tuples(st.integers(0, 2), st.integers(0, 2)), bias=st.booleans(), seed=st.integers(0, 2**16),
)
def test_conv_transpose2d_random_geometry_matches_torch(n, groups, c_per_group, o_per_group, h, w, kh, kw, stride,
                                                        padding, dilation, extra, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, groups * c_per_group, h, w))
    weight = rng.standard_normal((groups * c_per_group, o_per_group, kh, kw))
    arrays = (x, weight, rng.standard_normal(groups * o_per_group)) if bias else (x, weight)
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
              "output_padding": tuple(min(e, max(s, d) - 1) for e, s, d in zip(extra, stride, dilation, strict=True))}
    sizes = [(size - 1) * s - 2 * p + d * (k - 1) + e + 1 for size, s, p, d, k, e in
             zip((h, w), stride, padding, dilation, (kh, kw), params["output_padding"], strict=True)]
    if min(sizes) < 1:
        same_error(lambda F, *t: F.conv_transpose2d(*t, **params), *arrays)
        return
    check_functional(lambda F, *t: F.conv_transpose2d(*t, **params), *arrays)
