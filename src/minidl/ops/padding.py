r"""Padding, PyTorch's ``F.pad``: constant, reflect, replicate and circular, over the trailing axes.

Along one axis of length L padded by lo before and hi after (negative values crop), output index j stands
for position u = j − lo of the original axis, and reads

* constant:  x[u] for 0 ≤ u < L, else the fill value;
* reflect:   x[−u] for u < 0, x[2(L − 1) − u] for u ≥ L (mirrored about the edge, which is not repeated);
* replicate: x[clamp(u, 0, L − 1)];
* circular:  the axis is first cropped by the negative paddings to x[c : c + L_c], c = max(−lo, 0), and
  then wrapped: x[c + ((j − max(lo, 0)) mod L_c)] (PyTorch crops first in this mode only).

Each axis's map is a few runs ("pieces"): the interior, read forwards, and per border a run read forwards
(circular), backwards (reflect), one element repeated (replicate) or the fill. Over several axes the output
is the product of their pieces: block by block, each block one slice copy of x (or a fill), so every output
element is written once. The gradient is the same blocks run backwards: each block's dL/dy is added onto
the input slice it was read from (summed over a repeated axis first), so dL/dx[t] = Σ of dL/dy over every
output that read x[t].
"""

from __future__ import annotations

import itertools
import operator
from typing import Any, NamedTuple

import numpy as np

from ..backend import xp
from ..errors import ShapeError
from .base import Op

MODES = ("constant", "reflect", "replicate", "circular")


class _Piece(NamedTuple):
    """Output indices [dst, dst + n) of one axis read input indices src, src + step, ... (step 1 or −1),
    or input index src n times (step 0), or the fill value (src None)."""

    dst: int
    n: int
    src: int | None
    step: int

    def out(self) -> slice:
        return slice(self.dst, self.dst + self.n)

    def source(self) -> slice:
        assert self.src is not None, "a fill piece reads no input"
        if self.step == 0:
            return slice(self.src, self.src + 1)
        stop = self.src + self.step * self.n
        return slice(self.src, None if stop < 0 else stop, self.step)


def pad_sizes(op: str, x_shape: tuple[int, ...], pad: Any) -> list[tuple[int, int]]:
    """``pad`` = (last_lo, last_hi, second_last_lo, ...) as (lo, hi) per padded axis, first axis first."""
    try:
        flat = [operator.index(p) for p in pad]
    except TypeError:
        raise TypeError(f"{op}: pad must be a sequence of ints, got {pad!r}") from None
    if len(flat) % 2:
        raise ShapeError(f"{op}: Padding length must be divisible by 2, got pad {tuple(flat)}")
    if len(flat) // 2 > len(x_shape):
        raise ShapeError(f"{op}: Padding length should be less than or equal to two times the input dimension but "
                         f"got padding length {len(flat)} and input of dimension {len(x_shape)}")
    return [(flat[2 * k], flat[2 * k + 1]) for k in reversed(range(len(flat) // 2))]


def _pieces(op: str, size: int, lo: int, hi: int, mode: str, axis: int) -> list[_Piece]:
    """The runs of one axis (module docstring), after PyTorch's checks of the sizes."""
    where = f"padding ({lo}, {hi}) of axis {axis} (size {size})"
    first, cut = max(lo, 0), max(-lo, 0)  # where the interior starts in the output, and in x
    inner = size - cut - max(-hi, 0)
    out_size = size + lo + hi
    if out_size < 0 or inner < 0 or (mode in ("reflect", "replicate") and out_size < 1):
        raise ShapeError(f"{op}: {where} leaves an output of size {out_size}")
    if mode == "reflect" and (lo >= size or hi >= size):
        raise ShapeError(f"{op}: reflect {where}: the padding must be smaller than the input size")
    if mode == "circular" and (lo > size or hi > size):
        raise ShapeError(f"{op}: circular {where}: the padding wraps around more than once")
    if mode == "circular" and max(lo, hi) > inner:
        raise ShapeError(f"{op}: circular {where}: the padding is larger than the {inner} cropped elements it "
                         "wraps around")
    pieces = [_Piece(first, inner, cut, 1)] if inner else []
    if lo > 0:
        left = {"constant": (None, 1), "reflect": (lo, -1), "replicate": (0, 0), "circular": (cut + inner - lo, 1)}
        pieces.append(_Piece(0, lo, *left[mode]))
    if hi > 0:
        right = {"constant": (None, 1), "reflect": (size - 2, -1), "replicate": (size - 1, 0), "circular": (cut, 1)}
        pieces.append(_Piece(first + inner, hi, *right[mode]))
    return pieces


class PadCache(NamedTuple):
    x_shape: tuple[int, ...]
    blocks: list[tuple[_Piece, ...]]  # one piece per padded axis
    axes: int  # how many trailing axes are padded


class Pad(Op):
    r"""y = x padded over its trailing axes (module docstring for the index map of each mode).

    ``pad`` is PyTorch's flat (lo, hi) list, last axis first; ``mode`` one of constant, reflect, replicate,
    circular; ``value`` the constant fill. dL/dx[t] = Σ_{outputs j that read x[t]} dL/dy[j], computed as
    slice-adds of the output blocks onto their sources. The output keeps x's memory layout (a channels-last
    input gives a channels-last output). Cache: the blocks. Loops: :class:`minidl.ops.reference.Pad`.
    """

    name = "pad"
    saves = ()

    def forward(self, x, pad, mode="constant", value=0.0):
        if mode not in MODES:
            raise ValueError(f"pad: mode must be one of {MODES}, got {mode!r}")
        sizes = pad_sizes("pad", x.shape, pad)
        lead = x.ndim - len(sizes)
        pieces = [_pieces("pad", x.shape[lead + k], lo, hi, mode, lead + k) for k, (lo, hi) in enumerate(sizes)]
        out_shape = x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[lead:], sizes, strict=True))
        out = xp.empty_like(x, shape=out_shape)  # x's memory order
        fill = np.asarray(value if value is not None else 0).astype(x.dtype)  # PyTorch casts the value
        blocks = list(itertools.product(*pieces))
        for block in blocks:
            dst = (Ellipsis, *(p.out() for p in block))
            if any(p.src is None for p in block):
                out[dst] = fill
            else:
                out[dst] = x[(Ellipsis,) + tuple(p.source() for p in block)]
        return out, PadCache(x.shape, [b for b in blocks if all(p.src is not None for p in b)], len(sizes))

    def backward(self, dout, cache, needs=None):
        dx = xp.zeros_like(dout, shape=cache.x_shape)
        lead = len(cache.x_shape) - cache.axes
        for block in cache.blocks:
            g = dout[(Ellipsis,) + tuple(p.out() for p in block)]
            repeated = tuple(lead + k for k, p in enumerate(block) if p.step == 0)
            if repeated:
                g = g.sum(axis=repeated, keepdims=True)
            dx[(Ellipsis,) + tuple(p.source() for p in block)] += g
        return (dx,)


pad = Pad()
