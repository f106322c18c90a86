"""F.pad (constant, reflect, replicate, circular; negative padding crops) and the padding layers: against
PyTorch (values and gradients, float64; PyTorch's error classes), central differences, memory layout."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch
from minidl import ops
from minidl.gradcheck import gradcheck
from minidl.ops import reference as ref
from torch_parity import check_functional, check_module, same_error

# (input shape, pad, mode): every number of padded dims each mode takes, batched and not, negative pads
PADS = [
    ((2, 3, 4, 5), (1, 2), "constant"),
    ((2, 3, 4, 5), (1, 2, 3, 0), "constant"),
    ((2, 3, 4, 5), (1, -2, -1, 2, 1, 1, 0, 1), "constant"),  # every dim, cropping some
    ((5,), (2, 3), "constant"),
    ((2, 5), (2, 3), "reflect"),
    ((2, 3, 5), (4, 1), "reflect"),
    ((3, 4, 5), (2, 3, 1, 3), "reflect"),
    ((2, 3, 4, 5), (2, 3, 1, 3), "reflect"),
    ((3, 4, 5, 6), (2, 3, 1, 3, 1, 2), "reflect"),
    ((2, 3, 4, 5, 6), (2, 3, 1, 3, 1, 2), "reflect"),
    ((2, 5), (-2, 4), "reflect"),  # PyTorch reflects about the original edge even when the other side crops
    ((2, 5), (4, -2), "reflect"),
    ((2, 5), (2, 7), "replicate"),
    ((2, 3, 4, 5), (2, 3, -1, 3), "replicate"),
    ((2, 3, 4, 5, 6), (2, 3, 1, 3, 4, 1), "replicate"),
    ((2, 3, 5), (2, 5), "circular"),  # a whole period
    ((2, 3, 4, 5), (2, 3, 3, -1), "circular"),
    ((1, 3, 4, 5, 6), (2, 3, 1, 3, 1, 2), "circular"),
    ((2, 5), (-2, 3), "circular"),  # PyTorch crops first, then wraps what is left
]


@requires_torch
@pytest.mark.parametrize(("shape", "pad", "mode"), PADS, ids=str)
def test_pad_matches_torch(shape, pad, mode, rng):
    x = rng.standard_normal(shape)
    value = 0.75 if mode == "constant" else None
    check_functional(lambda F, x: F.pad(x, pad, mode=mode, value=value), x)


def test_pad_values_by_hand():
    row = minidl.tensor([[0.0, 1, 2, 3, 4]])
    assert F.pad(row, (2, 1), mode="reflect").tolist() == [[2, 1, 0, 1, 2, 3, 4, 3]]
    assert F.pad(row, (2, 1), mode="replicate").tolist() == [[0, 0, 0, 1, 2, 3, 4, 4]]
    assert F.pad(row, (2, 1), mode="circular").tolist() == [[3, 4, 0, 1, 2, 3, 4, 0]]
    assert F.pad(row, (2, 1), value=9).tolist() == [[9, 9, 0, 1, 2, 3, 4, 9]]
    assert F.pad(row, (-1, -2)).tolist() == [[1, 2]]
    assert F.pad(minidl.tensor([[1, 2]]), (1, 0), value=2.7).tolist() == [[2, 1, 2]]  # the value cast, as PyTorch


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode, rng):
    report = gradcheck(lambda x: F.pad(x, (2, 1, 1, 2), mode=mode), rng.standard_normal((1, 2, 3, 4)))
    assert report.ok, str(report)


def test_pad_keeps_channels_last_and_dtype(rng):
    x = minidl.tensor(np.ascontiguousarray(rng.standard_normal((2, 5, 6, 3)).astype(np.float32))).permute(0, 3, 1, 2)
    out = F.pad(x, (1, 1, 2, 2), mode="reflect")
    a = out.detach().numpy()
    assert a.strides[1] < a.strides[3] and out.dtype == minidl.float32  # a conv after it reads NHWC for free


@requires_torch
@pytest.mark.parametrize(("shape", "pad", "mode", "value"), [
    ((2, 3, 4, 5), (1, 1), "reflect", None),  # 4-D input with 1 padded dim
    ((5,), (1, 1), "replicate", None),
    ((2, 3), (1, 1, 1, 1), "circular", None),
    ((2, 3, 4, 5), (1, 2, 3), "constant", None),
    ((2, 3), (1, 1, 1, 1, 1, 1), "constant", None),
    ((2, 5), (5, 0), "reflect", None),
    ((2, 5), (-5, 0), "reflect", None),
    ((2, 5), (6, 0), "circular", None),
    ((2, 5), (-6, 0), "constant", None),
    ((2, 5), (1, 1), "wrap", None),
], ids=str)
def test_pad_errors_are_pytorchs(shape, pad, mode, value):
    error = same_error(lambda F, x: F.pad(x, pad, mode=mode, value=value), np.zeros(shape))
    assert "pad" in str(error)


# ------------------------------------------------------------------------------------------------ layers
@requires_torch
@pytest.mark.parametrize(("make", "shape"), [
    (lambda nn: nn.ZeroPad1d(2), (2, 3, 5)),
    (lambda nn: nn.ZeroPad2d((1, 0, 2, -1)), (2, 3, 4, 5)),
    (lambda nn: nn.ZeroPad3d(1), (2, 2, 3, 4)),
    (lambda nn: nn.ConstantPad1d((3, 1), 2.5), (3, 5)),
    (lambda nn: nn.ConstantPad2d(1, -1.0), (2, 3, 4, 5)),
    (lambda nn: nn.ConstantPad3d((1, 0, 0, 1, 2, 2), 0.5), (1, 2, 3, 4, 2)),
    (lambda nn: nn.ReflectionPad1d((3, 1)), (2, 3, 5)),
    (lambda nn: nn.ReflectionPad2d(2), (3, 4, 5)),
    (lambda nn: nn.ReflectionPad2d((1, 0, 2, 1)), (2, 3, 4, 5)),
    (lambda nn: nn.ReflectionPad3d(1), (1, 2, 3, 4, 5)),
    (lambda nn: nn.ReplicationPad1d(3), (2, 3, 2)),
    (lambda nn: nn.ReplicationPad2d((1, 2, 3, 0)), (2, 3, 4, 5)),
    (lambda nn: nn.ReplicationPad3d(2), (2, 3, 4, 5)),
    (lambda nn: nn.CircularPad1d(2), (2, 3, 5)),
    (lambda nn: nn.CircularPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    (lambda nn: nn.CircularPad3d(1), (1, 2, 3, 4, 5)),
], ids=lambda v: v if isinstance(v, tuple) else "")
def test_padding_layers_match_torch(make, shape, rng):
    check_module(make, rng.standard_normal(shape))


def test_pad_refuses_what_pytorch_cannot_do_reliably():
    # wrapping around more than the cropped part: PyTorch's copy reads what it is writing (an error for some
    # inputs, an order-dependent result for others)
    with pytest.raises(RuntimeError, match=r"circular padding \(-3, 3\) of axis 1 \(size 5\): the padding is "
                                           "larger than the 2 cropped elements it wraps around"):
        F.pad(minidl.zeros(2, 5), (-3, 3), mode="circular")
    with pytest.raises(ValueError, match='Padding mode "reflect" doesn\'t take in value argument'):
        F.pad(minidl.zeros(2, 5), (1, 1), mode="reflect", value=1.0)
    assert F.pad(minidl.ones(2, 5), (1, 1), mode="reflect", value=0).shape == (2, 7)  # 0 is accepted


def test_padding_layers_check_their_arguments():
    with pytest.raises(TypeError, match="ZeroPad2d: padding must be an int or a sequence of 4 of ints"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match=r"CircularPad2d\(\(1, 1, 1, 1\)\) expected 3-D or 4-D input"):
        nn.CircularPad2d(1)(minidl.zeros(2))
    with pytest.raises(RuntimeError, match="reflect padding"):
        nn.ReflectionPad1d(5)(minidl.zeros(2, 3, 5))


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=4), mode=st.sampled_from(["constant", "reflect",
                                                                                       "replicate", "circular"]),
       pads=st.lists(st.integers(-3, 4), min_size=2, max_size=4), seed=st.integers(0, 2**16))
def test_pad_matches_the_reference_for_any_padding(shape, mode, pads, seed):
    """The fast op against the loop-level reference (without PyTorch): every size it accepts, the same errors."""
    pad = tuple(pads[: 2 * (len(pads) // 2)])
    x = np.random.default_rng(seed).standard_normal(shape)
    try:
        expected, ref_cache = ref.pad.forward(x, pad, mode)
    except ValueError as e:
        with pytest.raises(type(e)):
            ops.pad.forward(x, pad, mode)
        return
    out, cache = ops.pad.forward(x, pad, mode)
    np.testing.assert_array_equal(out, expected)
    dout = np.random.default_rng(seed + 1).standard_normal(out.shape)
    np.testing.assert_allclose(ops.pad.backward(dout, cache)[0], ref.pad.backward(dout, ref_cache)[0], atol=1e-12)
