"""F.interpolate and the Upsample layers, pixel (un)shuffle, fold/unfold: against PyTorch (values and gradients,
float64 and float32; PyTorch's error classes), central differences, and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch
from minidl.gradcheck import gradcheck
from torch_parity import check_functional, check_module, same_error

SHAPES = {1: (2, 3, 7), 2: (2, 2, 5, 7), 3: (1, 2, 4, 5, 3)}
# (mode, spatial dims): every mode with every input it takes
MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1), ("nearest-exact", 2),
         ("nearest-exact", 3), ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3), ("area", 1),
         ("area", 2)]


def torch_backward_shortcut(mode: str, dim: int, shape: tuple, scale: float | None) -> bool:
    """Whether PyTorch's backward kernel takes a shortcut its forward does not (see ops.resample.Interpolate):
    with a scale factor, an axis of unchanged size (bicubic; 1-D/3-D nearest) or a doubled one (1-D/3-D
    nearest). There its gradient is not that of its output, so it is no oracle; central differences are."""
    if scale is None:
        return False
    sizes = [(n, math.floor(n * scale)) for n in shape[2:]]
    if mode == "bicubic":
        return any(o == n for n, o in sizes)
    return mode == "nearest" and dim != 2 and any(o in (n, 2 * n) for n, o in sizes)


@requires_torch
@pytest.mark.parametrize(("mode", "dim"), MODES, ids=str)
@pytest.mark.parametrize("align_corners", [None, False, True])
@pytest.mark.parametrize(("size", "scale", "recompute"), [
    (None, 2, None), (None, 0.5, None), (None, 1.7, None), (None, 2.05, None), (None, 1.1, None),
    (None, 0.4, True), (None, 1.7, True), (4, None, None), (11, None, None), (1, None, None),
], ids=str)
def test_interpolate_matches_torch(mode, dim, align_corners, size, scale, recompute, rng):
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        return  # an error, checked below
    shape = SHAPES[dim]
    x = rng.standard_normal(shape)
    kwargs = {"size": size, "scale_factor": scale, "mode": mode, "align_corners": align_corners,
              "recompute_scale_factor": recompute}
    shortcut = torch_backward_shortcut(mode, dim, shape, None if recompute else scale)
    check_functional(lambda F, x: F.interpolate(x, **kwargs), x, grads=not shortcut)
    if shortcut:
        assert gradcheck(lambda a: F.interpolate(a, **kwargs), x).ok
    # float32 inputs: the same source positions and weights as PyTorch, summed in its order
    check_functional(lambda F, x: F.interpolate(x, **kwargs), x.astype(np.float32), rtol=2e-6, atol=2e-6,
                     grads=not shortcut)


@requires_torch
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize(("size", "scale", "align_corners"), [
    ((3, 4), None, False), ((12, 9), None, False), ((4, 4), None, True), (None, 0.45, False), ((9, 3), None, False),
], ids=str)
def test_interpolate_antialias_matches_torch(mode, size, scale, align_corners, rng):
    x = rng.standard_normal((2, 2, 9, 11))
    check_functional(lambda F, x: F.interpolate(x, size, scale, mode, align_corners, antialias=True), x)


def test_interpolate_values_by_hand():
    x = minidl.tensor([[[0.0, 1.0, 3.0]]])
    # align_corners: outputs at 0, 0.5, 1, 1.5, 2 of the input grid
    assert F.interpolate(x, size=5, mode="linear", align_corners=True).tolist() == [[[0, 0.5, 1, 2, 3]]]
    # half-pixel centres: output i samples 0.6 (i + 0.5) - 0.5, clamped at 0
    expected = [0.0, 0.4, 1.0, 2.2, 3.0]  # at 0 (clamped), 0.4, 1.0, 1.6, 2.2 (past the last sample: it repeats)
    np.testing.assert_allclose(F.interpolate(x, size=5, mode="linear").numpy()[0, 0], expected, rtol=1e-6)
    assert F.interpolate(x, scale_factor=2).tolist() == [[[0, 0, 1, 1, 3, 3]]]
    assert F.interpolate(x, size=2, mode="area").tolist() == [[[0.5, 2.0]]]  # windows [0, 2) and [1, 3)


def test_interpolate_gradcheck_and_float32(rng):
    x = rng.standard_normal((1, 2, 3, 4))
    for kwargs in [{"scale_factor": 2, "mode": "bilinear", "align_corners": True},
                   {"size": (5, 3), "mode": "bicubic"}, {"size": (7, 2), "mode": "nearest-exact"}]:
        assert gradcheck(lambda a, kw=kwargs: F.interpolate(a, **kw), x).ok, kwargs
    out = F.interpolate(minidl.randn(1, 1, 4, 4), scale_factor=2, mode="bilinear")
    assert out.dtype == minidl.float32 and out.shape == (1, 1, 8, 8)


@requires_torch
@pytest.mark.parametrize(("shape", "kwargs"), [
    ((2, 3, 4), {}),  # neither size nor scale_factor
    ((2, 3, 4), {"size": 2, "scale_factor": 2}),
    ((2, 3, 4, 5), {"size": (2,)}),
    ((2, 3, 4, 5), {"scale_factor": (2, 2, 2)}),
    ((2, 3, 4), {"size": 2, "mode": "bilinear"}),
    ((2, 3, 4, 5), {"size": 2, "mode": "linear"}),
    ((2, 3, 4, 5), {"size": 2, "mode": "trilinear"}),
    ((2, 3, 4, 5), {"size": 2, "mode": "nearest", "align_corners": True}),
    ((2, 3, 4, 5), {"size": 2, "mode": "bilinear", "recompute_scale_factor": True}),
    ((2, 3, 4), {"size": 2, "mode": "linear", "antialias": True}),
    ((2, 3, 4, 5), {"size": 2, "mode": "bogus"}),
    ((3, 4), {"size": 2}),
    ((2, 3, 4, 5), {"scale_factor": 0.1}),
], ids=str)
def test_interpolate_errors_are_pytorchs(shape, kwargs):
    same_error(lambda F, x: F.interpolate(x, **kwargs), np.zeros(shape))


@requires_torch
@pytest.mark.parametrize(("make", "shape"), [
    (lambda nn: nn.Upsample(scale_factor=2), (2, 3, 4, 5)),
    (lambda nn: nn.Upsample(scale_factor=(1.5, 2), mode="bilinear"), (2, 3, 4, 5)),
    (lambda nn: nn.Upsample(size=(3, 7), mode="bicubic", align_corners=True), (2, 3, 4, 5)),
    (lambda nn: nn.Upsample(size=9, mode="linear"), (2, 3, 4)),
    (lambda nn: nn.Upsample(scale_factor=1.7, mode="nearest-exact", recompute_scale_factor=True), (2, 3, 4, 5)),
    (lambda nn: nn.Upsample(size=(5, 6, 4), mode="trilinear"), (1, 2, 3, 4, 2)),
    (lambda nn: nn.UpsamplingNearest2d(scale_factor=3), (2, 3, 4, 5)),
    (lambda nn: nn.UpsamplingBilinear2d(size=(7, 9)), (2, 3, 4, 5)),
], ids=lambda v: v if isinstance(v, tuple) else "")
def test_upsample_layers_match_torch(make, shape, rng):
    check_module(make, rng.standard_normal(shape))


@requires_torch
def test_deprecated_upsample_functions_warn_and_match_torch(rng):
    x = rng.standard_normal((1, 2, 3, 4))
    for name, kwargs in [("upsample", {"scale_factor": 2, "mode": "bilinear"}), ("upsample_nearest", {"size": 5}),
                         ("upsample_bilinear", {"scale_factor": 2})]:
        with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
            check_functional(lambda F, x, n=name, kw=kwargs: getattr(F, n)(x, **kw), x)


# ------------------------------------------------------------------------------------------------ pixel shuffle
@requires_torch
@pytest.mark.parametrize("shape", [(2, 8, 3, 4), (8, 3, 4), (2, 3, 18, 2, 5)])
def test_pixel_shuffle_and_unshuffle_match_torch(shape, rng):
    r = 2 if shape[-3] % 9 else 3
    x = rng.standard_normal(shape)
    check_functional(lambda F, x: F.pixel_shuffle(x, r), x)
    check_functional(lambda F, x: F.pixel_unshuffle(F.pixel_shuffle(x, r), r), x)
    check_module(lambda nn: nn.PixelShuffle(r), x)
    check_module(lambda nn: nn.PixelUnshuffle(r), rng.standard_normal((*shape[:-3], 2, 6, 12)))


def test_pixel_shuffle_by_hand_and_errors():
    x = minidl.arange(8.0).reshape(1, 4, 1, 2)  # channel (i, j) = 2i + j, pixel values 2c + w
    assert F.pixel_shuffle(x, 2)[0, 0].tolist() == [[0, 2, 1, 3], [4, 6, 5, 7]]
    with pytest.raises(RuntimeError, match=r"divisible by the square of upscale_factor, but input.size\(-3\)=4 is "
                                           "not divisible by 9"):
        F.pixel_shuffle(x, 3)
    with pytest.raises(RuntimeError, match=r"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                                           r"input.size\(-1\)=2 is not divisible by 4"):
        F.pixel_unshuffle(minidl.zeros(1, 1, 4, 2), 4)
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(minidl.zeros(4, 2), 2)


# ------------------------------------------------------------------------------------------------ fold / unfold
FOLDS = [
    {"kernel_size": 2},
    {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": (2, 1)},
    {"kernel_size": 3, "padding": 2, "stride": 3},
]


@requires_torch
@pytest.mark.parametrize("params", FOLDS, ids=str)
def test_unfold_and_fold_match_torch(params, rng):
    x = rng.standard_normal((2, 3, 6, 7))
    cols = check_functional(lambda F, x: F.unfold(x, **params), x)[0]
    check_functional(lambda F, x: F.unfold(x, **params), x[0])
    check_functional(lambda F, c: F.fold(c, (6, 7), **params), rng.standard_normal(cols.shape))
    check_functional(lambda F, c: F.fold(c, (6, 7), **params), rng.standard_normal(cols.shape[1:]))
    check_module(lambda nn: nn.Unfold(**params), x)
    check_module(lambda nn: nn.Fold((6, 7), **params), rng.standard_normal(cols.shape))


def test_fold_of_unfold_counts_the_blocks_of_each_pixel():
    """fold(unfold(1)) = the number of blocks covering each pixel: for 2x2 blocks at stride 1 on 3x3,
    the centre is in 4, edges in 2, corners in 1."""
    ones = minidl.ones(1, 1, 3, 3)
    counts = F.fold(F.unfold(ones, 2), (3, 3), 2)
    assert counts[0, 0].tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    assert F.unfold(minidl.arange(4.0).reshape(1, 1, 2, 2), 2).tolist() == [[[0], [1], [2], [3]]]


@requires_torch
@pytest.mark.parametrize("fn", [
    lambda F, x: F.unfold(x, 7),  # kernel larger than the input
    lambda F, x: F.fold(x[0], (3, 3), 2),  # 3 rows of columns: not a multiple of 4
    lambda F, x: F.fold(x[0, :1].reshape(1, 4, 5), (3, 3), 2),  # 5 blocks, not 4
])
def test_fold_errors_are_pytorchs(fn):
    error = same_error(fn, np.zeros((1, 3, 4, 5)))
    assert "fold" in str(error)


def test_fold_layers_name_themselves_in_errors():
    with pytest.raises(RuntimeError, match=r"unfold: expected a 3-D \(unbatched\) or 4-D \(batched\) input"):
        F.unfold(minidl.zeros(4, 5), 2)  # (PyTorch raises an IndexError here)
    with pytest.raises(RuntimeError, match=r"fold: given output_size=\(3, 3\), kernel_size=\(2, 2\), dilation=\(1, "
                                           r"1\), padding=\(0, 0\), stride=\(1, 1\), expected size of input's "
                                           r"dimension 2 to match the calculated number of sliding blocks 2 \* 2 = 4, "
                                           r"but got input.size\(2\)=5"):
        nn.Fold((3, 3), 2)(minidl.zeros(1, 4, 5))
    assert repr(nn.Fold((4, 5), 2)) == "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)"
