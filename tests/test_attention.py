"""scaled_dot_product_attention, MultiheadAttention and the Transformer encoder against PyTorch (values, attention
weights and every gradient in float64; reprs and state_dict keys), a finite-difference check, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch, torch
from minidl.errors import ShapeError, UnsupportedError


def _copy(m, tm) -> None:
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    m.load_state_dict({k: minidl.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})


def _close(a, b, tol=1e-10) -> None:
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


def _upstream(t, lib):
    return lib.tensor(np.cos(np.arange(t.numel(), dtype=np.float64)).reshape(tuple(t.shape)))


@requires_torch
@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": "bool"}, {"mask": "float"}])
def test_scaled_dot_product_attention_matches_torch(kw, rng):
    q, k, v = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 6, 4)), rng.standard_normal((2, 3, 6, 7))
    kw = dict(kw)
    mask = kw.pop("mask", None)
    if mask == "bool":
        m = rng.random((5, 6)) > 0.3
        m[:, 0] = True  # every query attends somewhere
    else:
        m = rng.standard_normal((5, 6)) if mask == "float" else None
    outs, grads = [], []
    for lib, fn in ((minidl, F.scaled_dot_product_attention), (torch, torch.nn.functional.scaled_dot_product_attention)):
        leaves = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = fn(*leaves, attn_mask=None if m is None else lib.tensor(m), **kw)
        (out * _upstream(out, lib)).sum().backward()
        outs.append(out)
        grads.append([t.grad for t in leaves])
    _close(outs[0], outs[1])
    for a, b in zip(*grads, strict=True):
        _close(a, b)


MHA_CASES = [{}, {"key_padding_mask": "bool"}, {"attn_mask": "float"}, {"average_attn_weights": False},
             {"need_weights": False, "key_padding_mask": "bool", "attn_mask": "bool"}, {"is_causal": "self"}]


@requires_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("case", MHA_CASES, ids=[str(i) for i in range(len(MHA_CASES))])
def test_multihead_attention_matches_torch(case, batch_first, rng):
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    m = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=minidl.float64)
    assert repr(m) == repr(tm)
    _copy(m, tm)
    self_attention = case.get("is_causal") == "self"
    n, length, source = 3, 5, 5 if self_attention else 6
    layout = (lambda s: (n, s, 8)) if batch_first else (lambda s: (s, n, 8))
    x, y = rng.standard_normal(layout(length)), rng.standard_normal(layout(source))
    masks = {"key_padding_mask": rng.random((n, source)) > 0.7,
             "attn_mask": rng.standard_normal((length, source)) if case.get("attn_mask") == "float"
             else rng.random((length, source)) > 0.7}
    masks["key_padding_mask"][:, 0] = False
    if case.get("attn_mask") == "bool":
        masks["attn_mask"][:, 0] = False
    results = []
    for lib, module in ((minidl, m), (torch, tm)):
        kw = {k: (lib.tensor(masks[k]) if k in masks else v) for k, v in case.items() if k != "is_causal"}
        xt = lib.tensor(x, requires_grad=True)
        if self_attention:  # PyTorch needs the causal mask itself alongside is_causal
            mask = lib.tensor(np.triu(np.ones((length, length), bool), 1))
            out, weights = module(xt, xt, xt, attn_mask=mask, is_causal=True)
        else:
            yt = lib.tensor(y)
            out, weights = module(xt, yt, yt, **kw)
        (out * _upstream(out, lib)).sum().backward()
        results.append((out, weights, xt.grad, [p.grad for p in module.parameters()]))
    (out, w, gx, gp), (tout, tw, tgx, tgp) = results
    _close(out, tout)
    assert (w is None) == (tw is None)
    if w is not None:
        _close(w, tw)
    _close(gx, tgx)
    for a, b in zip(gp, tgp, strict=True):
        _close(a, b)


@requires_torch
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_matches_torch(norm_first, activation, rng):
    layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation=activation,
                                             norm_first=norm_first, batch_first=True)
    tenc = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False).double()
    menc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                                            activation=activation, norm_first=norm_first,
                                                            batch_first=True, dtype=minidl.float64),
                                 2, norm=nn.LayerNorm(8, dtype=minidl.float64), enable_nested_tensor=False)
    assert repr(menc) == repr(tenc)
    _copy(menc, tenc)
    x = rng.standard_normal((3, 5, 8))
    pad = np.zeros((3, 5), bool)
    pad[1, 3:] = True
    results = []
    for lib, module in ((minidl, menc), (torch, tenc)):
        xt = lib.tensor(x, requires_grad=True)
        out = module(xt, src_key_padding_mask=lib.tensor(pad))
        (out * _upstream(out, lib)).sum().backward()
        results.append((out, xt.grad, [p.grad for p in module.parameters()]))
    (out, gx, gp), (tout, tgx, tgp) = results
    _close(out, tout, 1e-9)
    _close(gx, tgx, 1e-9)
    for a, b in zip(gp, tgp, strict=True):
        _close(a, b, 1e-9)


def test_attention_gradients_match_finite_differences(rng):
    q, k, v = (minidl.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    assert minidl.autograd.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                                     (q, k, v))


def test_default_initialisation_and_layout():
    m = nn.MultiheadAttention(16, 4)
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 48))  # Xavier-uniform over the packed (3E, E) matrix
    assert w.shape == (48, 16) and np.abs(w).max() <= bound and not m.in_proj_bias.detach().numpy().any()
    assert not m.out_proj.bias.detach().numpy().any()
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, batch_first=True), 3)
    assert len(enc.layers) == 3 and enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    enc.eval()
    assert tuple(enc(minidl.zeros(2, 7, 16)).shape) == (2, 7, 16)


def test_errors():
    with pytest.raises(ShapeError, match="MultiheadAttention: query must be"):
        nn.MultiheadAttention(8, 2)(minidl.zeros(3, 2, 6), minidl.zeros(3, 2, 6), minidl.zeros(3, 2, 6))
    with pytest.raises(ShapeError, match="key_padding_mask should have shape"):
        x = minidl.zeros(3, 2, 8)
        nn.MultiheadAttention(8, 2)(x, x, x, key_padding_mask=minidl.zeros(3, 3, dtype=minidl.bool))
    with pytest.raises(UnsupportedError, match="kdim"):
        nn.MultiheadAttention(8, 2, kdim=4)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ShapeError, match="do not fit"):
        F.scaled_dot_product_attention(minidl.zeros(2, 3, 4), minidl.zeros(2, 5, 3), minidl.zeros(2, 5, 3))


@requires_torch
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_decoder_transformer_matches_torch(norm_first, rng):
    tt = torch.nn.Transformer(16, 2, 2, 2, 32, dropout=0.0, norm_first=norm_first).double()
    mt = nn.Transformer(16, 2, 2, 2, 32, dropout=0.0, norm_first=norm_first, dtype=minidl.float64)
    assert repr(mt) == repr(tt)
    _copy(mt, tt)
    src, tgt = rng.standard_normal((7, 3, 16)), rng.standard_normal((5, 3, 16))
    pad = np.zeros((3, 7), bool)
    pad[2, 5:] = True
    masks = (nn.Transformer.generate_square_subsequent_mask(5, dtype=minidl.float64),
             torch.nn.Transformer.generate_square_subsequent_mask(5).double())
    np.testing.assert_array_equal(masks[0].numpy(), masks[1].numpy())
    results = []
    for lib, module, mask in ((minidl, mt, masks[0]), (torch, tt, masks[1])):
        s, t = lib.tensor(src, requires_grad=True), lib.tensor(tgt, requires_grad=True)
        out = module(s, t, tgt_mask=mask, src_key_padding_mask=lib.tensor(pad), memory_key_padding_mask=lib.tensor(pad))
        (out * _upstream(out, lib)).sum().backward()
        results.append([out, s.grad, t.grad, *[p.grad for p in module.parameters()]])
    for a, b in zip(*results, strict=True):
        _close(a, b, 1e-9)
