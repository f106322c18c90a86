"""RNN, LSTM, GRU and their cells: PyTorch's names, reprs, state_dict keys and default initialisation; outputs,
final states and every gradient equal to PyTorch's for the same weights (float64, 1e-10); numeric gradient
checks; errors naming the layer."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from conftest import requires_torch, torch
from minidl.errors import ShapeError, UnsupportedError
from minidl.func import functional_call


def _flat(out):
    return [t for e in out for t in _flat(e)] if isinstance(out, tuple) else [out]


def _weights(n: int) -> np.ndarray:
    return np.cos(np.arange(n, dtype=np.float64))


def _run(lib, module, x: np.ndarray, hx):
    """Output and final states of ``module`` on ``x``, then the gradients of a fixed weighting of all of them."""
    xt = lib.tensor(x.copy(), requires_grad=True)
    args = [xt] if hx is None else [xt, tuple(lib.tensor(h) for h in hx) if isinstance(hx, tuple) else lib.tensor(hx)]
    outs = _flat(module(*args))
    loss = sum((o * lib.tensor(_weights(o.numel()).reshape(tuple(o.shape)))).sum() for o in outs)
    loss.backward()
    grads = [xt.grad.numpy()] + [p.grad.numpy() for p in module.parameters()]
    return [o.detach().numpy() for o in outs], grads


RNN_CASES = [
    ("LSTM", dict(input_size=4, hidden_size=6), (5, 3, 4), None),
    ("LSTM", dict(input_size=4, hidden_size=6, num_layers=2), (5, 3, 4), "states"),
    ("LSTM", dict(input_size=4, hidden_size=6, num_layers=2, bidirectional=True, batch_first=True), (3, 5, 4), None),
    ("LSTM", dict(input_size=3, hidden_size=4, bias=False), (6, 3), None),  # unbatched
    ("LSTM", dict(input_size=4, hidden_size=5, num_layers=3, dropout=0.0), (4, 2, 4), "states"),
    ("GRU", dict(input_size=4, hidden_size=5), (5, 3, 4), "states"),
    ("GRU", dict(input_size=4, hidden_size=5, num_layers=2, bidirectional=True), (5, 3, 4), None),
    ("GRU", dict(input_size=4, hidden_size=5, batch_first=True), (2, 7, 4), None),
    ("RNN", dict(input_size=4, hidden_size=5), (5, 3, 4), "states"),
    ("RNN", dict(input_size=4, hidden_size=5, nonlinearity="relu", num_layers=2, bidirectional=True), (5, 3, 4),
     None),
    ("RNN", dict(input_size=4, hidden_size=5, bias=False), (5, 4), "states"),
]


def _initial_states(cls: str, kw: dict, shape: tuple, rng) -> object:
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    batch = () if len(shape) == 2 else (shape[0] if kw.get("batch_first") else shape[1],)
    h = rng.standard_normal((layers, *batch, kw["hidden_size"]))
    return (h, rng.standard_normal(h.shape)) if cls == "LSTM" else h


@requires_torch
@pytest.mark.parametrize(("cls", "kw", "shape", "states"), RNN_CASES,
                         ids=[f"{c}-{i}" for i, (c, *_) in enumerate(RNN_CASES)])
def test_recurrent_layers_match_torch(cls, kw, shape, states, rng):
    tm = getattr(torch.nn, cls)(**kw).double()
    m = getattr(nn, cls)(**kw, dtype=minidl.float64)
    assert repr(m) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    m.load_state_dict({k: minidl.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    x = rng.standard_normal(shape)
    hx = _initial_states(cls, kw, shape, rng) if states else None
    (ours, our_grads), (theirs, their_grads) = _run(minidl, m, x, hx), _run(torch, tm, x, hx)
    assert [o.shape for o in ours] == [t.shape for t in theirs]
    for a, b in zip(ours + our_grads, theirs + their_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


CELL_CASES = [("LSTMCell", {}, (3, 4)), ("LSTMCell", dict(bias=False), (4,)), ("GRUCell", {}, (3, 4)),
              ("GRUCell", {}, (4,)), ("RNNCell", {}, (3, 4)), ("RNNCell", dict(nonlinearity="relu"), (3, 4))]


@requires_torch
@pytest.mark.parametrize(("cls", "kw", "shape"), CELL_CASES, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(CELL_CASES)])
@pytest.mark.parametrize("states", [False, True])
def test_cells_match_torch(cls, kw, shape, states, rng):
    tm = getattr(torch.nn, cls)(4, 6, **kw).double()
    m = getattr(nn, cls)(4, 6, **kw, dtype=minidl.float64)
    assert repr(m) == repr(tm) and list(m.state_dict()) == list(tm.state_dict())
    m.load_state_dict({k: minidl.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    x = rng.standard_normal(shape)
    hx = None
    if states:
        h = rng.standard_normal((*shape[:-1], 6))
        hx = (h, rng.standard_normal(h.shape)) if cls == "LSTMCell" else h
    (ours, our_grads), (theirs, their_grads) = _run(minidl, m, x, hx), _run(torch, tm, x, hx)
    for a, b in zip(ours + our_grads, theirs + their_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_gradients_match_finite_differences(cls):
    minidl.manual_seed(0)
    m = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True, dtype=minidl.float64)
    x = minidl.tensor(np.random.default_rng(1).standard_normal((4, 2, 3)), requires_grad=True)
    names = [n for n, _ in m.named_parameters()]

    def f(x, *ps):  # output and final states as functions of the input and of every parameter
        return tuple(_flat(functional_call(m, dict(zip(names, ps, strict=True)), (x,))))

    assert minidl.autograd.gradcheck(f, (x, *[p.detach().clone().requires_grad_(True) for p in m.parameters()]))


def test_default_initialisation_is_uniform_in_one_over_sqrt_hidden():
    m = nn.LSTM(10, 64, num_layers=2)
    bound = 1 / np.sqrt(64)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert m.weight_ih_l0.dtype == minidl.float32
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.01 * bound  # U(−b, b) has std b/√3


def test_dropout_between_layers_only_in_training():
    minidl.manual_seed(0)
    m = nn.GRU(3, 5, num_layers=2, dropout=0.5)
    x = minidl.tensor(np.random.default_rng(0).standard_normal((4, 2, 3)).astype(np.float32))
    m.eval()
    a, b = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    m.train()
    assert not np.allclose(m(x)[0].detach().numpy(), a)


def test_errors_name_the_layer():
    m = nn.LSTM(4, 6)
    with pytest.raises(ShapeError, match="LSTM: input.size"):
        m(minidl.zeros(5, 3, 7))
    with pytest.raises(ShapeError, match=r"LSTM: expected hidden size \(1, 3, 6\)"):
        m(minidl.zeros(5, 3, 4), (minidl.zeros(1, 2, 6), minidl.zeros(1, 3, 6)))
    with pytest.raises(ShapeError, match="Expected input to be 2D or 3D"):
        m(minidl.zeros(5))
    with pytest.raises(TypeError, match="does not match the weights"):
        m(minidl.zeros(5, 3, 4, dtype=minidl.float64))
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        nn.RNN(4, 6, nonlinearity="sigmoid")
    with pytest.raises(UnsupportedError, match="proj_size"):
        nn.LSTM(4, 6, proj_size=2)
    with pytest.raises(ShapeError, match="GRUCell: input has 5 features"):
        nn.GRUCell(4, 6)(minidl.zeros(2, 5))


def test_lstm_scan_equals_the_step_by_step_composition(rng):
    """The fused recurrence against the same LSTM written step by step with autograd (no PyTorch needed)."""
    from minidl import ops
    from minidl.nn.rnn import _step

    arrays = [rng.standard_normal(s) for s in ((6, 3, 16), (3, 4), (3, 4), (16, 4))]
    fused = [minidl.tensor(a, requires_grad=True) for a in arrays]
    stepped = [minidl.tensor(a, requires_grad=True) for a in arrays]
    out = ops.lstm_scan(*fused)
    gx, h, c, w = stepped
    states = []
    for t in range(6):
        h, c = _step("LSTM", gx[t], h, c, w, None)
        states.append(minidl.cat([h, c], -1))
    ref = minidl.stack(states)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = minidl.tensor(rng.standard_normal(tuple(out.shape)))
    (out * upstream).sum().backward()
    (ref * upstream).sum().backward()
    for a, b in zip(fused, stepped, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("kw", [{}, {"batch_first": True}, {"padding_value": -1.0, "padding_side": "left"}])
def test_pad_sequence_matches_torch(kw, rng):
    from torch.nn.utils.rnn import pad_sequence as torch_pad

    from minidl.nn.utils.rnn import pad_sequence

    arrays = [rng.standard_normal((n, 3)) for n in (4, 2, 5)]
    ours = [minidl.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    a, b = pad_sequence(ours, **kw), torch_pad(theirs, **kw)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    w = _weights(a.numel()).reshape(tuple(a.shape))
    (a * minidl.tensor(w)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    for x, y in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())
    with pytest.raises(ShapeError, match="pad_sequence: sequence 1"):
        pad_sequence([minidl.zeros(2, 3), minidl.zeros(2, 4)])
