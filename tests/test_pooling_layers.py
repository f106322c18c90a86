"""1-D pools, adaptive max and average pools, return_indices and max unpooling: against PyTorch (functional and
modules, values, indices and gradients, float64), central differences, and errors that name the pool."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch
from minidl.gradcheck import gradcheck
from torch_parity import check_functional, check_module, same_error


def ties(shape, rng):
    """ReLU'd normals rounded to 0.5: whole windows tie at 0 and elsewhere, so the first-maximum rule shows."""
    return np.round(np.maximum(rng.standard_normal(shape), 0) * 2) / 2


# ------------------------------------------------------------------------------------------------ 1-D pools
POOL1D = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True},
    {"kernel_size": (3,), "stride": (1,)},
]


@requires_torch
@pytest.mark.parametrize("params", POOL1D, ids=str)
@pytest.mark.parametrize("dilation", [1, 2])
def test_max_pool1d_values_indices_and_gradients_match_torch(params, dilation, rng):
    x = ties((2, 3, 11), rng)
    check_functional(lambda F, x: F.max_pool1d(x, dilation=dilation, **params), x)
    _, indices = check_functional(lambda F, x: F.max_pool1d(x, dilation=dilation, return_indices=True, **params), x)
    assert indices.dtype == np.int64
    check_functional(lambda F, x: F.max_pool1d(x, dilation=dilation, **params), x[0])  # unbatched


@requires_torch
@pytest.mark.parametrize("params", [p for p in POOL1D] + [{"kernel_size": 3, "padding": 1,
                                                            "count_include_pad": False},
                                                           {"kernel_size": 4, "stride": 3, "padding": 2,
                                                            "ceil_mode": True, "count_include_pad": False}], ids=str)
def test_avg_pool1d_matches_torch(params, rng):
    x = rng.standard_normal((2, 3, 11))
    check_functional(lambda F, x: F.avg_pool1d(x, **params), x)
    check_functional(lambda F, x: F.avg_pool1d(x, **params), x[1])


@requires_torch
@pytest.mark.parametrize("params", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
                                    {"kernel_size": (3, 2), "stride": (2, 1), "dilation": (1, 2), "ceil_mode": True}],
                         ids=str)
def test_max_pool2d_return_indices_matches_torch(params, rng):
    x = ties((2, 3, 7, 8), rng)
    check_functional(lambda F, x: F.max_pool2d(x, return_indices=True, **params), x)
    check_functional(lambda F, x: F.max_pool2d_with_indices(x, **params), x[0])
    check_module(lambda nn: nn.MaxPool2d(return_indices=True, **params), x)


@requires_torch
@pytest.mark.parametrize("make", [
    lambda nn: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
    lambda nn: nn.MaxPool1d(2, return_indices=True),
    lambda nn: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
    lambda nn: nn.AvgPool1d(2, ceil_mode=True),
    lambda nn: nn.AdaptiveMaxPool1d(4),
    lambda nn: nn.AdaptiveMaxPool1d(3, return_indices=True),
    lambda nn: nn.AdaptiveAvgPool1d(4),
], ids=["max-options", "max-indices", "avg-options", "avg-ceil", "adaptive-max", "adaptive-max-indices",
        "adaptive-avg"])
def test_1d_pool_modules_match_torch(make, rng):
    x = ties((2, 3, 9), rng)
    check_module(make, x)
    check_module(make, x[0])


# ------------------------------------------------------------------------------------------------ adaptive
ADAPTIVE = [
    ((2, 3, 7, 9), (3, 4)),  # uneven, overlapping windows
    ((2, 3, 8, 8), 4),  # windows that tile
    ((1, 2, 3, 2), (5, 4)),  # more outputs than inputs: windows repeat pixels
    ((2, 2, 6, 5), (None, 2)),  # None keeps that size
    ((1, 1, 5, 5), 1),  # global
]


@requires_torch
@pytest.mark.parametrize(("shape", "size"), ADAPTIVE, ids=str)
def test_adaptive_max_pool2d_matches_torch(shape, size, rng):
    x = ties(shape, rng)
    check_functional(lambda F, x: F.adaptive_max_pool2d(x, size), x)
    check_functional(lambda F, x: F.adaptive_max_pool2d(x, size, return_indices=True), x)
    check_functional(lambda F, x: F.adaptive_max_pool2d_with_indices(x, size), x[0])
    check_module(lambda nn: nn.AdaptiveMaxPool2d(size), x)


@requires_torch
@pytest.mark.parametrize(("length", "size"), [(9, 4), (8, 4), (3, 5), (6, 1), (7, (3,))])
def test_adaptive_1d_pools_match_torch(length, size, rng):
    x = ties((2, 3, length), rng)
    check_functional(lambda F, x: F.adaptive_max_pool1d(x, size, return_indices=True), x)
    check_functional(lambda F, x: F.adaptive_max_pool1d_with_indices(x, size), x[0])
    check_functional(lambda F, x: F.adaptive_avg_pool1d(x, size), x)


def test_adaptive_max_pool_gradcheck(rng):
    x = rng.permutation(2 * 2 * 5 * 7).reshape(2, 2, 5, 7) / 10.0  # distinct: no ties at the kinks
    assert gradcheck(lambda a: F.adaptive_max_pool2d(a, (3, 4)), x).ok
    assert gradcheck(lambda a: F.adaptive_max_pool1d(a, 5), x[:, :, 0, :3]).ok  # windows overlap and repeat


# ------------------------------------------------------------------------------------------------ unpooling
@requires_torch
@pytest.mark.parametrize(("shape", "params", "output_size"), [
    ((2, 3, 8, 10), {"kernel_size": 2}, None),
    ((2, 3, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1}, None),
    ((2, 3, 8, 10), {"kernel_size": 3, "stride": 2, "padding": 1}, (8, 10)),  # one more than the default size
    ((2, 3, 7, 9), {"kernel_size": 2, "stride": 2}, [2, 3, 7, 9]),  # N and C in front, as PyTorch allows
], ids=str)
def test_max_unpool2d_undoes_max_pool2d_like_torch(shape, params, output_size, rng):
    x = rng.standard_normal(shape)

    def roundtrip(F, x):
        pooled, indices = F.max_pool2d(x, return_indices=True, **params)
        return F.max_unpool2d(pooled, indices, output_size=output_size, **params)

    out = check_functional(roundtrip, x)[0]
    assert out.shape == x.shape
    kept = out != 0
    assert 0 < kept.sum() <= np.prod(F.max_pool2d(minidl.tensor(x), **params).shape)  # overlapping windows share
    np.testing.assert_array_equal(out[kept], x[kept])  # the maxima, back where they were
    check_functional(roundtrip, x[0])


@requires_torch
@pytest.mark.parametrize("output_size", [None, (12,)])
def test_max_unpool1d_and_modules_match_torch(output_size, rng):
    x = rng.standard_normal((2, 3, 12))

    def roundtrip(F, x):
        pooled, indices = F.max_pool1d(x, 3, stride=3, return_indices=True)
        return F.max_unpool1d(pooled, indices, 3, output_size=output_size)

    check_functional(roundtrip, x)
    check_functional(roundtrip, x[1])
    for lib in (minidl, __import__("torch")):
        pool, unpool = lib.nn.MaxPool1d(3, return_indices=True), lib.nn.MaxUnpool1d(3)
        assert repr(unpool) == "MaxUnpool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
        out = unpool(*pool(lib.tensor(x)))
        np.testing.assert_array_equal(out.numpy(), check_functional(roundtrip, x)[0])
    assert repr(nn.MaxUnpool2d(2)) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"


def test_max_unpool_gradcheck(rng):
    _, indices = F.max_pool2d(minidl.tensor(rng.standard_normal((1, 2, 4, 6))), 2, return_indices=True)
    assert gradcheck(lambda a: F.max_unpool2d(a, indices, 2), rng.standard_normal((1, 2, 2, 3))).ok


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: F.max_pool1d(minidl.zeros(2, 3, 4), 5), RuntimeError,
     "max_pool1d: kernel_size 5 .* is larger than the input of length 4"),
    (lambda: F.max_pool1d(minidl.zeros(2, 3, 4), 2, padding=2), ValueError,
     "max_pool1d: padding 2 must be at most half of kernel_size 2"),
    (lambda: F.avg_pool1d(minidl.zeros(2, 3, 4, 5), 2), RuntimeError,
     r"avg_pool1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input, got input of shape \(2, 3, 4, 5\)"),
    (lambda: F.adaptive_max_pool2d(minidl.zeros(4), 2), RuntimeError, "adaptive_max_pool2d: expected a 3-D"),
    (lambda: F.adaptive_max_pool1d(minidl.zeros(2, 3, 4), (2, 2)), TypeError,
     "adaptive_max_pool1d: output_size must be an int or a sequence of 1 of ints"),
    (lambda: F.max_unpool2d(minidl.zeros(1, 1, 2, 2), minidl.zeros(1, 1, 2, 2, dtype=minidl.int64), 2,
                            output_size=(6, 4)), ValueError,
     r'max_unpool2d: invalid output_size "\(6, 4\)" \(dim 0 must be between 2 and 6\)'),
    (lambda: F.max_unpool2d(minidl.zeros(1, 1, 2, 2), minidl.full((1, 1, 2, 2), 16, dtype=minidl.int64), 2),
     RuntimeError, "max_unpool2d: found an invalid max index 16 .output planes are of size 4x4"),
    (lambda: F.max_unpool2d(minidl.zeros(1, 1, 2, 2), minidl.zeros(1, 1, 2, 2), 2), TypeError,
     "indices must be an integer array"),
    (lambda: F.max_unpool2d(minidl.zeros(1, 1, 2, 2), minidl.zeros(1, 1, 3, 2, dtype=minidl.int64), 2),
     RuntimeError, r"indices of shape \(1, 1, 3, 2\) must have the input's shape \(1, 1, 2, 2\)"),
])
def test_pool_functional_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_pool_modules_name_themselves_in_errors():
    with pytest.raises(ValueError, match=r"MaxPool1d\(kernel_size=2.*expected 3-D input \(N, C, L\) or 2-D input "
                                         r"\(C, L\), got shape \(2, 3, 4, 5\)"):
        nn.MaxPool1d(2)(minidl.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"AdaptiveMaxPool2d\(output_size=2\) expected 4-D input"):
        nn.AdaptiveMaxPool2d(2)(minidl.zeros(3))
    with pytest.raises(ValueError, match=r"MaxUnpool2d\(kernel_size=\(2, 2\).* expected 4-D input"):
        nn.MaxUnpool2d(2)(minidl.zeros(3), minidl.zeros(3, dtype=minidl.int64))


@requires_torch
@pytest.mark.parametrize("fn", [
    lambda F, x: F.max_pool1d(x[0], 5),
    lambda F, x: F.adaptive_max_pool2d(x[0, 0, 0], 2),
    lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1] + 100, 1),
])
def test_pool_errors_are_pytorchs_error_classes(fn):
    same_error(fn, np.zeros((1, 2, 3, 4)))
