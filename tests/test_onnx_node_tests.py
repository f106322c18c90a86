"""ONNX's backend node tests of every operator minidl.onnx.load implements, regenerated from the test-case
generators shipped in the onnx wheel (onnx.backend.test.case.node; the wheel has no data files).

Each case is a one-node model with inputs and expected outputs. A case passes when minidl's outputs match
within the case's tolerances; a case may instead be refused with an UnsupportedError only for the features
listed in REFUSED (other ranks than 2-D pooling, random training-mode dropout, ...), never by a wrong result.
One test per operator runs all of its cases; the generated cases are built once per session."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import minidl
from minidl.errors import UnsupportedError

pytest.importorskip("onnx", reason="the onnx extra is not installed: pip install 'minidl[onnx]'")
from minidl.onnx import SUPPORTED_OPERATORS, load  # noqa: E402

# features minidl refuses, as (test-name pattern, reason in the error); anything else must pass
REFUSED = [
    (r"_(1d|3d)", r"only 2-D"),
    (r"test_averagepool_2d_(same_upper|same_lower|pads)$", r"without count_include_pad"),
    (r"test_averagepool_2d_dilations", r"dilated AveragePool"),
    (r"training_mode|test_training_dropout", r"training_mode"),
    (r"test_maxpool_with_argmax", r"Indices output|storage_order"),
    (r"test_convtranspose", r"conv_transpose2d op|auto_pad and output_shape|asymmetric"),
    (r"test_(edge|reflect|wrap)_pad", r"padding needs minidl's pad op|circular"),
    (r"test_resize_.*cubic", r"mode 'cubic'"),
    (r"test_resize_.*(tf_crop|half_pixel_symmetric)", r"coordinate_transformation_mode"),
    (r"test_resize_.*(antialias|axes|not_larger|not_smaller)", r"antialias, axes"),
    (r".", r"which minidl tensors do not hold|casting to"),  # bfloat16, float8, int4, ...: no such tensors
    (r"test_layer_normalization_.*(_expanded|stash)|test_layer_normalization", r"Mean and InvStdDev|stash_type"),
    (r"empty_set", r"empty"),
]


@pytest.fixture(scope="session")
def cases():
    """op type -> its node test cases whose operators minidl implements."""
    from onnx.backend.test.case import node

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generated = node.collect_testcases()
    out: dict[str, list] = {}
    for case in generated:
        ops = {n.op_type for n in case.model.graph.node}
        if len(ops) == 1 and ops <= set(SUPPORTED_OPERATORS):
            out.setdefault(ops.pop(), []).append(case)
    return out


def _compare(got, expected, rtol, atol):
    got = np.asarray(got)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    if expected.dtype.kind in "fc":
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(got, expected)


def _array(v):
    """A case's value: an array, or a TensorProto (for types NumPy lacks) read by onnx."""
    from onnx import TensorProto, numpy_helper

    return numpy_helper.to_array(v) if isinstance(v, TensorProto) else np.asarray(v)


def run_case(case) -> str:
    """'pass', or 'refused: <reason>' for an UnsupportedError; raises on a wrong result."""
    try:
        model = load(case.model).eval()
        for inputs, outputs in case.data_sets:
            with minidl.no_grad():
                got = model(*[_array(v) for v in inputs])
            got = got if isinstance(got, tuple) else (got,)
            for g, e in zip(got, outputs, strict=False):
                _compare(g.numpy() if isinstance(g, minidl.Tensor) else g, _array(e), case.rtol, case.atol)
    except UnsupportedError as e:
        return f"refused: {e}"
    return "pass"


@pytest.mark.parametrize("op_type", SUPPORTED_OPERATORS)
def test_node_cases(op_type, cases):
    mine = cases.get(op_type, [])
    if not mine:
        pytest.skip(f"onnx ships no single-operator node test of {op_type}")
    problems = []
    for case in mine:
        result = run_case(case)
        if result == "pass":
            continue
        allowed = [why for pattern, why in REFUSED if re.search(pattern, case.name)]
        if not any(re.search(why, result) for why in allowed):
            problems.append(f"{case.name}: {result}")
    assert not problems, "\n".join(problems)


def test_node_case_totals(cases, capsys):
    """The count reported for the issue: how many of the node tests of the implemented operators pass."""
    results = [run_case(c) for group in cases.values() for c in group]
    passed = results.count("pass")
    with capsys.disabled():
        print(f"\nONNX node tests of the {len(SUPPORTED_OPERATORS)} implemented operators: {passed} of "
              f"{len(results)} pass, {len(results) - passed} refused as unsupported")
    assert passed >= 250
