"""CTC loss against PyTorch: padded and concatenated targets, lengths as tensors or tuples, repeated labels,
empty targets, impossible alignments with and without zero_infinity, every reduction, float32, unbatched
input, the module, and errors; and a brute-force oracle summing over every alignment."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch, torch
from minidl.gradcheck import gradcheck

T, N, C = 8, 4, 5
TARGETS = np.array([[1, 2, 2, 3], [3, 1, 0, 0], [4, 4, 4, 1], [2, 0, 0, 0]])
INPUT_LENGTHS = np.array([8, 5, 7, 3])
TARGET_LENGTHS = np.array([4, 2, 4, 0])  # sample 2 needs 7 steps (4 labels, 2 repeats): just possible


def run(lib, logits, targets, il, tl, dout=None, **kw):
    x = lib.tensor(logits.copy(), requires_grad=True)
    lp = x.log_softmax(2) if logits.ndim == 3 else x.log_softmax(1)
    mod = F if lib is minidl else torch.nn.functional
    loss = mod.ctc_loss(lp, targets, il, tl, **kw)
    loss.backward(None if dout is None else lib.tensor(dout))
    return loss.detach().numpy(), x.grad.numpy()


def lib_args(lib, targets, il, tl, as_tuple=False):
    if as_tuple:
        return lib.tensor(targets), tuple(int(v) for v in il), tuple(int(v) for v in tl)
    return lib.tensor(targets), lib.tensor(il), lib.tensor(tl)


@requires_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("layout", ["padded", "concatenated", "tuples"])
@pytest.mark.parametrize("blank", [0, 4])
def test_ctc_matches_torch(reduction, layout, blank, rng):
    logits = rng.standard_normal((T, N, C)) * 2
    targets = TARGETS.copy()
    if blank == 4:  # labels must avoid the blank: relabel 4 -> 0
        targets[targets == 4] = 0
    if layout == "concatenated":
        targets = np.concatenate([t[:n] for t, n in zip(targets, TARGET_LENGTHS, strict=True)])
    dout = rng.standard_normal(N) if reduction == "none" else None
    out = []
    for lib in (minidl, torch):
        args = lib_args(lib, targets, INPUT_LENGTHS, TARGET_LENGTHS, as_tuple=layout == "tuples")
        out.append(run(lib, logits, *args, dout=dout, blank=blank, reduction=reduction))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-10)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_impossible_alignments_and_zero_infinity(zero_infinity, rng):
    logits = rng.standard_normal((4, 2, C))
    targets, il, tl = np.array([[1, 1, 1], [2, 3, 0]]), np.array([4, 4]), np.array([3, 2])  # 1,1,1 needs 5 steps
    res = []
    for lib in (minidl, torch):
        res.append(run(lib, logits, *lib_args(lib, targets, il, tl), reduction="none", zero_infinity=zero_infinity,
                       dout=np.ones(2)))
    (loss, grad), (tloss, tgrad) = res
    np.testing.assert_allclose(loss, tloss, rtol=1e-10)
    assert (loss[0] == 0.0) if zero_infinity else np.isinf(loss[0])
    if zero_infinity:
        np.testing.assert_allclose(grad, tgrad, rtol=1e-9, atol=1e-12)
        assert not grad[:, 0].any()


@requires_torch
def test_float32_and_unbatched_input_match_torch(rng):
    logits = rng.standard_normal((T, N, C)).astype(np.float32)
    ours = run(minidl, logits, *lib_args(minidl, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS))
    theirs = run(torch, logits, *lib_args(torch, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS))
    assert ours[0].dtype == np.float32 and ours[1].dtype == np.float32
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-6)
    single = rng.standard_normal((T, C))
    a = run(minidl, single, minidl.tensor([1, 3, 3]), minidl.tensor(8), minidl.tensor(3), reduction="none")
    b = run(torch, single, torch.tensor([1, 3, 3]), torch.tensor(8), torch.tensor(3), reduction="none")
    assert a[0].shape == b[0].shape == ()
    np.testing.assert_allclose(a[0], b[0], rtol=1e-10)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-9, atol=1e-12)


def brute_force_nll(log_probs: np.ndarray, target: list[int], blank: int = 0) -> float:
    """−log Σ over every path of length T that collapses (merge repeats, drop blanks) to the target."""
    steps, classes = log_probs.shape
    total = -math.inf
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [k for i, k in enumerate(path) if k != blank and (i == 0 or k != path[i - 1])]
        if collapsed == target:
            total = np.logaddexp(total, sum(log_probs[t, k] for t, k in enumerate(path)))
    return -total


@pytest.mark.parametrize("target", [[1], [1, 1], [2, 1], [], [1, 2, 1]])
def test_matches_the_sum_over_all_alignments(target, rng):
    logits = rng.standard_normal((5, 1, 3))
    lp = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    loss = F.ctc_loss(minidl.tensor(lp), minidl.tensor(np.array([target + [0] * (3 - len(target))])),
                      (5,), (len(target),), reduction="none")
    assert loss.item() == pytest.approx(brute_force_nll(lp[:, 0], target), rel=1e-12)


def test_gradient_through_log_softmax_is_the_true_gradient(rng):
    report = gradcheck(lambda x: F.ctc_loss(x.log_softmax(2), minidl.tensor(TARGETS), minidl.tensor(INPUT_LENGTHS),
                                            minidl.tensor(TARGET_LENGTHS)), rng.standard_normal((T, N, C)))
    assert report.ok, str(report)


@requires_torch
def test_module_and_errors():
    m, tm = nn.CTCLoss(blank=1, zero_infinity=True), torch.nn.CTCLoss(blank=1, zero_infinity=True)
    assert repr(m) == repr(tm) and m.blank == 1 and m.zero_infinity
    lp = minidl.randn(5, 2, 4).log_softmax(2)
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, minidl.tensor([[1, 2]]), (5, 4), (2, 2), blank=4)
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 5"):
        F.ctc_loss(lp, minidl.tensor([[1, 2], [3, 1]]), (5, 6), (2, 2))
    with pytest.raises(RuntimeError, match="Expected tensor to have size at least 3 at dimension 1"):
        F.ctc_loss(lp, minidl.tensor([[1, 2], [3, 1]]), (5, 4), (3, 2))
    with pytest.raises(RuntimeError, match="target labels must be in"):
        F.ctc_loss(lp, minidl.tensor([[1, 4], [3, 1]]), (5, 4), (2, 2))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.ctc_loss(lp, minidl.tensor([[1, 2], [3, 1]]), (5, 4), (2, 2), reduction="avg")
