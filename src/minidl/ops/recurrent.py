r"""The LSTM recurrence over a whole sequence as one op: the time loop runs in NumPy, forward and backward,
so a step costs one GEMM and a few fused elementwise passes instead of a dozen autograd nodes.

Input: ``gx`` (T, N, 4H), every step's input projection W_ih x_t + b_ih + b_hh (one GEMM before the op),
the initial states ``h0``, ``c0`` (N, H) and ``w_hh`` (4H, H). With PyTorch's gate order i, f, g, o:

    a_t = gx_t + h_{t−1} W_hhᵀ;  i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g)
    c_t = f ⊙ c_{t−1} + i ⊙ g;   h_t = o ⊙ tanh(c_t)

Output: (T, N, 2H), [h_t | c_t] for every step (the layer reads the hidden sequence and the last cell state
from it). Backward through time, with dh, dc the gradients reaching step t from its output and from t + 1:

    dc ← dc + dh ⊙ o ⊙ (1 − tanh²c_t);  da_i = dc ⊙ g ⊙ i(1 − i),  da_f = dc ⊙ c_{t−1} ⊙ f(1 − f),
    da_g = dc ⊙ i ⊙ (1 − g²),  da_o = dh ⊙ tanh c_t ⊙ o(1 − o);  dh_{t−1} = da W_hh,  dc_{t−1} = dc ⊙ f

and dW_hh = Σ_t da_tᵀ h_{t−1} (one GEMM over all steps), d gx_t = da_t.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..backend import xp
from ..errors import ShapeError
from .base import Op, wants

__all__ = ["lstm_scan"]


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """σ in place, stable for any finite input: ½(1 + tanh(a/2))."""
    a *= 0.5
    xp.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a


class LSTMScanCache(NamedTuple):
    acts: np.ndarray  # (T, N, 4H): i, f, g, o after their nonlinearities
    cells: np.ndarray  # (T + 1, N, H): c_{-1} = c0, c_0, ..., c_{T-1}
    tanh_c: np.ndarray  # (T, N, H)
    hidden: np.ndarray  # (T + 1, N, H): h0, h_0, ..., h_{T-1}
    w_hh: np.ndarray


class LSTMScan(Op):
    name = "lstm_scan"
    saves = (3,)  # w_hh; the states it keeps are its own arrays

    def forward(self, gx: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_hh: np.ndarray) -> tuple[np.ndarray, Any]:
        if gx.ndim != 3 or gx.shape[2] % 4 or w_hh.shape != (gx.shape[2], gx.shape[2] // 4):
            raise ShapeError(f"lstm_scan: gx must be (T, N, 4H) and w_hh (4H, H), got {gx.shape} and {w_hh.shape}")
        T, N, G = gx.shape
        H = G // 4
        if h0.shape != (N, H) or c0.shape != (N, H):
            raise ShapeError(f"lstm_scan: h0 and c0 must be {(N, H)}, got {h0.shape} and {c0.shape}")
        dt = np.result_type(gx, h0, c0, w_hh)
        acts = xp.empty((T, N, G), dtype=dt)
        cells = xp.empty((T + 1, N, H), dtype=dt)
        hidden = xp.empty((T + 1, N, H), dtype=dt)
        tanh_c = xp.empty((T, N, H), dtype=dt)
        cells[0], hidden[0] = c0, h0
        w_t = xp.ascontiguousarray(w_hh.T)
        for t in range(T):
            a = acts[t]
            xp.matmul(hidden[t], w_t, out=a)
            a += gx[t]
            _sigmoid_(a[:, :2 * H])
            xp.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
            _sigmoid_(a[:, 3 * H:])
            c = cells[t + 1]
            xp.multiply(a[:, H:2 * H], cells[t], out=c)
            c += a[:, :H] * a[:, 2 * H:3 * H]
            xp.tanh(c, out=tanh_c[t])
            xp.multiply(a[:, 3 * H:], tanh_c[t], out=hidden[t + 1])
        out = xp.concatenate([hidden[1:], cells[1:]], axis=2)
        return out, LSTMScanCache(acts, cells, tanh_c, hidden, w_hh)

    def backward(self, dout: np.ndarray, cache: LSTMScanCache, needs: tuple[bool, ...] | None = None) -> tuple:
        acts, cells, tanh_c, hidden, w_hh = cache
        T, N, G = acts.shape
        H = G // 4
        da = xp.empty_like(acts)
        dh = xp.zeros((N, H), dtype=acts.dtype)
        dc = xp.zeros((N, H), dtype=acts.dtype)
        for t in range(T - 1, -1, -1):
            a = acts[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            dh += dout[t, :, :H]
            dc += dout[t, :, H:]
            dc += dh * o * (1.0 - tanh_c[t] * tanh_c[t])
            d = da[t]
            xp.multiply(dc * g, i * (1.0 - i), out=d[:, :H])
            xp.multiply(dc * cells[t], f * (1.0 - f), out=d[:, H:2 * H])
            xp.multiply(dc * i, 1.0 - g * g, out=d[:, 2 * H:3 * H])
            xp.multiply(dh * tanh_c[t], o * (1.0 - o), out=d[:, 3 * H:])
            dc *= f
            xp.matmul(d, w_hh, out=dh)
        d_w = None
        if wants(needs, 3):
            d_w = xp.matmul(da.reshape(T * N, G).T, hidden[:-1].reshape(T * N, H))
        return (da if wants(needs, 0) else None, dh if wants(needs, 1) else None,
                dc if wants(needs, 2) else None, d_w)


lstm_scan = LSTMScan()
