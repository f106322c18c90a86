r"""Recurrent layers with PyTorch's names, gate order, parameter names and initialisation: ``RNN``, ``LSTM``,
``GRU`` and their single-step ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Each step is written with the op library's differentiable functions (``linear``, ``sigmoid``, ``tanh``, products
and sums), so autograd differentiates through time with no recurrent op of its own. The input projections of
all time steps are one GEMM before the loop; only the hidden-to-hidden product runs per step. With
gates split in PyTorch's order (x_t the input, h the previous hidden state, W_i·/W_h· the rows of
``weight_ih``/``weight_hh`` for that gate):

* RNN:  h' = tanh(W_i x + b_i + W_h h + b_h)  (or ReLU)
* LSTM: i, f, g, o = σ, σ, tanh, σ of (W_i x + b_i + W_h h + b_h) split in four;
  c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
* GRU:  r, z = σ(W_ir x + b_ir + W_hr h + b_hr), σ(W_iz x + b_iz + W_hz h + b_hz);
  n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h

Every parameter starts U(−1/√hidden_size, 1/√hidden_size), as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

from .. import functions as fns
from .. import ops
from ..errors import ShapeError, UnsupportedError
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, _empty_parameter, _factory_dtype

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(mode: str, gx: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor,
          b_hh: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """One time step from the input's projection ``gx`` = W_ih x + b_ih: the new (h, c)."""
    gh = F.linear(h, w_hh, b_hh)
    if mode == "LSTM":
        i, f, g, o = fns.chunk(gx + gh, 4, -1)
        assert c is not None
        c = fns.sigmoid(f) * c + fns.sigmoid(i) * fns.tanh(g)
        return fns.sigmoid(o) * fns.tanh(c), c
    if mode == "GRU":
        xr, xz, xn = fns.chunk(gx, 3, -1)
        hr, hz, hn = fns.chunk(gh, 3, -1)
        r, z = fns.sigmoid(xr + hr), fns.sigmoid(xz + hz)
        n = fns.tanh(xn + r * hn)
        return n + z * (h - n), None  # (1 − z) n + z h
    pre = gx + gh
    return (fns.tanh(pre) if mode == "RNN_TANH" else fns.relu(pre)), None


class RNNBase(Module):
    """The shared body of ``RNN``, ``LSTM`` and ``GRU``: parameters ``weight_ih_l{k}[_reverse]``,
    ``weight_hh_l{k}[_reverse]``, ``bias_ih_l{k}[_reverse]``, ``bias_hh_l{k}[_reverse]`` per layer and direction."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if proj_size:
            raise UnsupportedError(f"{name}: proj_size (projected LSTM) is not supported")
        dt = _factory_dtype(device, dtype)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * directions
            for d in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                shapes: list[tuple[str, tuple[int, ...]]] = [("weight_ih", (gate, layer_in)),
                                                             ("weight_hh", (gate, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                for kind, shape in shapes:
                    setattr(self, kind + suffix, _empty_parameter(shape, dt))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _initial(self, hx: Any, batch: int, unbatched: bool, like: Tensor) -> Tensor:
        shape = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if hx is None:
            return fns.zeros(shape, dtype=like.dtype)
        if not isinstance(hx, Tensor):
            raise TypeError(f"{self._name()}: hidden states must be Tensors, got {type(hx).__name__}")
        h = hx.unsqueeze(1) if unbatched else hx
        if tuple(h.shape) != shape:
            want = shape[:1] + shape[2:] if unbatched else shape
            raise ShapeError(f"{self._name()}: expected hidden size {want}, got {tuple(hx.shape)}")
        return h

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        name = self._name()
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ShapeError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        unbatched = input.dim() == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.shape[-1]}")
        if input.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} does not match the weights' {self.weight_ih_l0.dtype}")
        batch = x.shape[1]
        lstm = self.mode == "LSTM"
        if lstm:
            if hx is not None and not (isinstance(hx, tuple | list) and len(hx) == 2):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0)")
            h0 = self._initial(None if hx is None else hx[0], batch, unbatched, x)
            c0 = self._initial(None if hx is None else hx[1], batch, unbatched, x)
        else:
            h0, c0 = self._initial(hx, batch, unbatched, x), None
        directions = 2 if self.bidirectional else 1
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
                b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
                b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
                gx = F.linear(x, w_ih, b_ih)  # every step's input projection in one GEMM
                k = layer * directions + d
                h, c = h0[k], (c0[k] if c0 is not None else None)
                if lstm:  # the whole recurrence as one op (ops.recurrent), the reverse direction on flipped time
                    assert c is not None
                    scan = ops.lstm_scan(gx if b_hh is None else gx + b_hh, h, c, w_hh) if not d else \
                        ops.lstm_scan((gx if b_hh is None else gx + b_hh).flip(0), h, c, w_hh).flip(0)
                    H = self.hidden_size
                    outs.append(scan[:, :, :H])
                    last = scan[0] if d else scan[-1]
                    hs.append(last[:, :H])
                    cs.append(last[:, H:])
                    continue
                steps = range(x.shape[0] - 1, -1, -1) if d else range(x.shape[0])
                seq: list[Tensor] = []
                for t in steps:
                    h, _ = _step(self.mode, gx[t], h, None, w_hh, b_hh)
                    seq.append(h)
                if d:
                    seq.reverse()
                outs.append(fns.stack(seq))
                hs.append(h)
            x = outs[0] if directions == 1 else fns.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n = fns.stack(hs)
        out = x.squeeze(1) if unbatched else (x.transpose(0, 1) if self.batch_first else x)
        if unbatched:
            h_n = h_n.squeeze(1)
        if lstm:
            c_n = fns.stack(cs)
            return out, (h_n, c_n.squeeze(1) if unbatched else c_n)
        return out, h_n


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) (``nonlinearity='relu'``: ReLU)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; ``forward(input, (h_0, c_0))`` returns ``output, (h_n, c_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit (PyTorch's variant: the reset gate multiplies W_hn h + b_hn)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)


class RNNCellBase(Module):
    """One step of a recurrent layer: parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        dt = _factory_dtype(device, dtype)
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        gate = _GATES[mode] * hidden_size
        self.weight_ih = _empty_parameter((gate, input_size), dt)
        self.weight_hh = _empty_parameter((gate, hidden_size), dt)
        if bias:
            self.bias_ih = _empty_parameter((gate,), dt)
            self.bias_hh = _empty_parameter((gate,), dt)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s

    def _state(self, hx: Any, input: Tensor, unbatched: bool) -> Tensor:
        batch = 1 if unbatched else input.shape[0]
        if hx is None:
            return fns.zeros((batch, self.hidden_size), dtype=input.dtype)
        h = hx.unsqueeze(0) if unbatched else hx
        if tuple(h.shape) != (batch, self.hidden_size):
            raise ShapeError(f"{type(self).__name__}: hidden state has shape {tuple(hx.shape)}, expected "
                             f"{(batch, self.hidden_size) if not unbatched else (self.hidden_size,)}")
        return h

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ShapeError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input has {input.shape[-1]} features, expected input_size {self.input_size}")
        unbatched = input.dim() == 1
        x = input.unsqueeze(0) if unbatched else input
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        if self.mode == "LSTM":
            h, c = (None, None) if hx is None else hx
            h, c = _step("LSTM", gx, self._state(h, x, unbatched), self._state(c, x, unbatched), self.weight_hh,
                         self.bias_hh)
            assert c is not None
            return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)
        h, _ = _step(self.mode, gx, self._state(hx, x, unbatched), None, self.weight_hh, self.bias_hh)
        return h.squeeze(0) if unbatched else h


class RNNCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity: {nonlinearity}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, bias,
                         device, dtype)
        self.nonlinearity = nonlinearity


class LSTMCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)


class GRUCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)
