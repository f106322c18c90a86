"""Embedding, EmbeddingBag, F.embedding, F.embedding_bag and F.one_hot against PyTorch: lookups, gradients
(padding_idx, scale_grad_by_freq, per-sample weights, max bags), max_norm renormalisation, from_pretrained,
state dicts, reprs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch, torch
from minidl.errors import UnsupportedError


def pair(cls_name, *args, **kwargs):
    m, tm = getattr(nn, cls_name)(*args, **kwargs), getattr(torch.nn, cls_name)(*args, **kwargs)
    m.load_state_dict({k: minidl.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    return m, tm


def backward_both(m, tm, inputs, tinputs, rng):
    y, ty = m(*inputs), tm(*tinputs)
    dout = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    y.backward(minidl.tensor(dout))
    ty.backward(torch.tensor(dout))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)  # float32: summation order differs
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0},
                                {"padding_idx": 0, "scale_grad_by_freq": True, "max_norm": 2.0}])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), ()])
def test_embedding_matches_torch(kw, shape, rng):
    m, tm = pair("Embedding", 9, 4, **kw)
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict()) == ["weight"]
    idx = rng.integers(0, 9, shape)
    if idx.size > 2:
        idx.flat[:3] = [2, 2, 8]  # repeats (scale_grad_by_freq) and the padding rows
    backward_both(m, tm, [minidl.tensor(idx)], [torch.tensor(idx)], rng)


def test_embedding_initialisation_and_padding_row():
    m = nn.Embedding(1000, 8, padding_idx=3)
    w = m.weight.detach().numpy()
    assert m.weight.dtype == minidl.float32 and not w[3].any()
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05  # N(0, 1), as in PyTorch
    assert nn.Embedding(5, 2, dtype=minidl.float64).weight.dtype == minidl.float64


@requires_torch
def test_from_pretrained_shares_storage_and_freezes(rng):
    table = rng.standard_normal((6, 3)).astype(np.float32)
    t = minidl.tensor(table)
    m = nn.Embedding.from_pretrained(t, padding_idx=1)
    tm = torch.nn.Embedding.from_pretrained(torch.tensor(table), padding_idx=1)
    assert repr(m) == repr(tm)
    assert not m.weight.requires_grad and m.weight[1].abs().sum().item() > 0  # the padding row is not zeroed
    t[0, 0] = 99.0
    assert m.weight[0, 0].item() == 99.0
    assert nn.Embedding.from_pretrained(t, freeze=False).weight.requires_grad
    bag = nn.EmbeddingBag.from_pretrained(t, mode="sum")
    assert not bag.weight.requires_grad and bag.mode == "sum"
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(minidl.zeros(3))


BAG_CASES = [
    ("mean", {}, False), ("sum", {}, False), ("max", {}, False), ("sum", {}, True),
    ("mean", {"padding_idx": 4}, False), ("sum", {"padding_idx": 4}, True), ("max", {"padding_idx": 4}, False),
    ("sum", {"max_norm": 1.0}, False),
    ("mean", {"include_last_offset": True}, False),
]


# every case with flat indices and offsets; with a 2-D batch of bags too, except include_last_offset (offsets only)
BAG_RUNS = [(*case, layout) for case in BAG_CASES for layout in ("offsets", "2d")
            if layout == "offsets" or not case[1].get("include_last_offset")]


@requires_torch
@pytest.mark.parametrize("mode, kw, weighted, layout", BAG_RUNS, ids=[f"{lay}-{m}-{k}-{w}" for m, k, w, lay in BAG_RUNS])
def test_embedding_bag_matches_torch(mode, kw, weighted, layout, rng):
    m, tm = pair("EmbeddingBag", 10, 3, mode=mode, **kw)
    assert repr(m) == repr(tm)
    if layout == "2d":
        idx = rng.integers(0, 10, (4, 5))
        idx[0, :2] = [4, 4]
        idx[1] = 4  # a bag of padding only
        offsets = None
    else:
        idx = rng.integers(0, 10, 12)
        idx[:3] = [4, 7, 4]
        offsets = np.array([0, 3, 3, 7, 12] if kw.get("include_last_offset") else [0, 3, 3, 7, 11])  # empty bags
    psw = rng.standard_normal(idx.shape).astype(np.float32) if weighted else None
    args = [minidl.tensor(idx), None if offsets is None else minidl.tensor(offsets)]
    targs = [torch.tensor(idx), None if offsets is None else torch.tensor(offsets)]
    if weighted:
        p, tp = minidl.tensor(psw, requires_grad=True), torch.tensor(psw, requires_grad=True)
        args.append(p)
        targs.append(tp)
    backward_both(m, tm, args, targs, rng)
    if weighted:
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("mode", ["mean", "sum"])
def test_embedding_bag_scale_grad_by_freq_is_the_embedding_rule(mode, rng):
    """Each entry's gradient divided by its index's count in the batch, as F.embedding does (the oracle is
    PyTorch's embedding followed by the bag sums). PyTorch's own embedding_bag kernel applies the counts to
    other rows ([2, 3, 3, 4] in bags of two scales row 4 by 1/2), which minidl does not copy."""
    idx = rng.integers(0, 6, 10)
    offsets = np.array([0, 4, 4, 7])
    w = rng.standard_normal((6, 3)).astype(np.float32)
    dout = rng.standard_normal((4, 3)).astype(np.float32)
    m = nn.EmbeddingBag(6, 3, mode=mode, scale_grad_by_freq=True, _weight=minidl.tensor(w.copy()))
    m(minidl.tensor(idx), minidl.tensor(offsets)).backward(minidl.tensor(dout))
    tw = torch.tensor(w, requires_grad=True)
    rows = torch.nn.functional.embedding(torch.tensor(idx), tw, scale_grad_by_freq=True)
    bags = torch.tensor(np.repeat(np.arange(4), np.diff(np.append(offsets, 10))))
    out = torch.zeros(4, 3).index_add(0, bags, rows)
    if mode == "mean":
        out = out / torch.bincount(bags, minlength=4).clamp(min=1)[:, None]
    out.backward(torch.tensor(dout))
    np.testing.assert_allclose(m.weight.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_embedding_bag_errors():
    w = minidl.randn(10, 3)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(minidl.tensor([[1, 2]]), w, minidl.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(minidl.tensor([1, 2]), w)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(minidl.tensor([1, 2]), w, minidl.tensor([0]), per_sample_weights=minidl.ones(2))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(minidl.tensor([1, 2]), w, minidl.tensor([0]), mode="avg")
    with pytest.raises(RuntimeError, match=r"offsets\[0\] has to be 0"):
        F.embedding_bag(minidl.tensor([1, 2]), w, minidl.tensor([1]))
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding_bag(minidl.tensor([1, 12]), w, minidl.tensor([0]))


def test_embedding_errors():
    w = minidl.randn(10, 3)
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types: Long, Int"):
        F.embedding(minidl.tensor([1.0, 2.0]), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(minidl.tensor([10]), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(minidl.tensor([-1]), w)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(UnsupportedError, match="sparse=True"):
        nn.Embedding(5, 3, sparse=True)
    assert F.embedding(minidl.tensor(np.array([1, 2], dtype=np.int32)), w).shape == (2, 3)


# --------------------------------------------------------------------------------------------- one_hot
@requires_torch
@pytest.mark.parametrize("shape, classes", [((5,), -1), ((2, 3), 7), ((), 4), ((0,), 3)])
def test_one_hot_matches_torch(shape, classes, rng):
    t = rng.integers(0, 4, shape)
    y, ty = F.one_hot(minidl.tensor(t), classes), torch.nn.functional.one_hot(torch.tensor(t), classes)
    assert y.dtype == minidl.int64 and tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


def test_one_hot_errors_match_torch():
    for bad, message in [(minidl.tensor([0.0, 1.0]), "only applicable to index tensor of type LongTensor"),
                         (minidl.tensor([-1, 2]), "Class values must be non-negative"),
                         (minidl.tensor(np.array([0, 1], dtype=np.int32)), "LongTensor")]:
        with pytest.raises(RuntimeError, match=message):
            F.one_hot(bad, 3)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(minidl.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
        F.one_hot(minidl.tensor(np.zeros(0, dtype=np.int64)))
