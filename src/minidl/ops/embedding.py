"""Embedding lookups, each op a forward/backward pair: ``embedding`` (one row per index) and
``embedding_bag`` (the sum, mean or max of the rows of each bag of indices).

Indices are integer arrays, not differentiable; the gradient goes to the weight (and to the per-sample
weights of a weighted bag sum). Gradients are dense, with the weight's shape (PyTorch's ``sparse=False``).
"""

from __future__ import annotations

import numpy as np

from ..backend import xp
from ..errors import ShapeError
from .activation import check_float
from .base import Op, wants


def check_indices(name: str, indices: np.ndarray, num_embeddings: int) -> np.ndarray:
    """Integer indices in [0, num_embeddings), or PyTorch's errors (RuntimeError for the dtype, IndexError)."""
    indices = xp.asarray(indices)
    if indices.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {indices.dtype} instead (while checking arguments for {name})")
    if indices.size and (indices.min() < 0 or indices.max() >= num_embeddings):
        bad = indices[(indices < 0) | (indices >= num_embeddings)].flat[0]
        raise IndexError(f"index out of range in self ({name}: index {int(bad)} is outside [0, {num_embeddings}))")
    return indices


def _row_scales(indices: np.ndarray, num_embeddings: int) -> np.ndarray:
    """1 / (occurrences of each index in the batch): PyTorch's ``scale_grad_by_freq``."""
    counts = xp.bincount(indices.reshape(-1), minlength=num_embeddings)
    return 1.0 / counts[indices.reshape(-1)]


class Embedding(Op):
    r"""y[...] = W[i[...]]: the rows of the weight W (V, D) picked by the indices i (any shape).

    dL/dW[v] = Σ_{positions p with i_p = v} dout_p, times 1/count(v) with ``scale_grad_by_freq``; the row
    ``padding_idx`` (if ≥ 0) gets no gradient, as in PyTorch.
    """

    name = "embedding"
    saves = (1,)

    def forward(self, weight, indices, padding_idx=-1, scale_grad_by_freq=False):
        check_float(self.name, weight, "weight")
        if weight.ndim != 2:
            raise ShapeError(f"{self.name}: weight must be 2-D (num_embeddings, embedding_dim), got {weight.shape}")
        indices = check_indices(self.name, indices, weight.shape[0])
        return weight[indices], (indices, weight.shape, weight.dtype, padding_idx, scale_grad_by_freq)

    def backward(self, dout, cache, needs=None):
        indices, shape, dtype, padding_idx, by_freq = cache
        flat = indices.reshape(-1)
        rows = dout.reshape(-1, shape[1])
        if by_freq:
            rows = rows * _row_scales(indices, shape[0])[:, None].astype(dtype)
        dw = xp.zeros(shape, dtype=dtype)
        xp.add.at(dw, flat, rows)
        if padding_idx >= 0:
            dw[padding_idx] = 0
        return dw, None


_MODES = ("sum", "mean", "max")


class EmbeddingBag(Op):
    r"""One output row per bag: the sum, mean or max (per dimension) of the weight rows W[iₖ] of its indices.

    Bag b holds the entries offsets[b] ≤ k < offsets[b + 1] of the 1-D ``indices`` (the last bag runs to the
    end). Entries equal to ``padding_idx`` are left out (also from the mean's count); an empty bag gives 0.
    'sum' may weigh each entry by ``per_sample_weights`` sₖ. Backward, g_b = dL/dy_b:

    * sum: dW[iₖ] += sₖ g_b(k),  ds_k = g_b(k)·W[iₖ];   mean: dW[iₖ] += g_b(k) / |b(k)|;
    * max: each dimension's gradient goes to the entry that attained the maximum (the first one on ties).
    """

    name = "embedding_bag"
    saves = (1, 2, 3)

    def forward(self, weight, indices, offsets, per_sample_weights=None, mode="mean", padding_idx=-1,
                scale_grad_by_freq=False):
        check_float(self.name, weight, "weight")
        if mode not in _MODES:
            raise ValueError("mode has to be one of sum, mean or max")
        v, d = weight.shape
        indices = check_indices(self.name, indices, v).reshape(-1)
        offsets = xp.asarray(offsets).astype(np.int64, copy=False).reshape(-1)
        m = indices.size
        if offsets.size and offsets[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                               f"from position 0. However, got {int(offsets[0])}")
        if offsets.size and (xp.any(xp.diff(offsets) < 0) or offsets[-1] > m):
            raise RuntimeError(f"{self.name}: offsets must be non-decreasing and at most the number of indices "
                               f"({m}), got {offsets.tolist()}")
        n_bags = offsets.size
        bag_of = xp.repeat(xp.arange(n_bags), xp.diff(xp.append(offsets, m)))
        keep = indices != padding_idx if padding_idx >= 0 else xp.ones(m, dtype=bool)
        idx, bags = indices[keep], bag_of[keep]
        psw = None if per_sample_weights is None else xp.asarray(per_sample_weights).reshape(-1)[keep]
        counts = xp.bincount(bags, minlength=n_bags)
        rows = weight[idx]
        out = xp.zeros((n_bags, d), dtype=weight.dtype)
        argmax = None
        if mode == "max":
            argmax = xp.full((n_bags, d), -1, dtype=np.int64)
            nonempty = counts > 0
            if idx.size:
                starts = xp.concatenate([[0], xp.cumsum(counts)[:-1]])[nonempty]
                top = xp.maximum.reduceat(rows, starts, axis=0)
                out[nonempty] = top
                # the first entry of each bag attaining the maximum, per dimension
                hit = rows == top[xp.repeat(xp.arange(top.shape[0]), counts[nonempty])]
                pos = xp.where(hit, xp.arange(idx.size)[:, None], idx.size)
                argmax[nonempty] = xp.minimum.reduceat(pos, starts, axis=0)
        else:
            contrib = rows if psw is None else rows * psw[:, None].astype(weight.dtype)
            xp.add.at(out, bags, contrib)
            if mode == "mean":
                out /= xp.maximum(counts, 1)[:, None].astype(weight.dtype)
        cache = (idx, bags, counts, psw, rows if psw is not None else None, mode, argmax, weight.shape,
                 weight.dtype, scale_grad_by_freq, keep, m)
        return out, cache

    def backward(self, dout, cache, needs=None):
        idx, bags, counts, psw, rows, mode, argmax, shape, dtype, by_freq, keep, m = cache
        dw = dpsw = None
        if wants(needs, 0):
            dw = xp.zeros(shape, dtype=dtype)
            if mode == "max":
                hit = argmax >= 0
                xp.add.at(dw, (idx[argmax[hit]], xp.nonzero(hit)[1]), dout[hit])
            else:
                g = dout[bags]
                if mode == "mean":
                    g = g / counts[bags][:, None].astype(dtype)
                if psw is not None:
                    g = g * psw[:, None].astype(dtype)
                if by_freq:
                    g = g * _row_scales(idx, shape[0])[:, None].astype(dtype)
                xp.add.at(dw, idx, g)
        if psw is not None and wants(needs, 3):
            dpsw = xp.zeros(m, dtype=dout.dtype)
            dpsw[keep] = xp.einsum("kd,kd->k", dout[bags], rows)
        return dw, None, None, dpsw


embedding, embedding_bag = Embedding(), EmbeddingBag()
