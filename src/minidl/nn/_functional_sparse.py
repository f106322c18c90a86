"""Embeddings and one-hot encoding in ``minidl.nn.functional`` (PyTorch's ``torch.nn.functional`` sparse
functions): ``embedding``, ``embedding_bag``, ``one_hot``."""

from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..errors import UnsupportedError
from ..ops.embedding import check_indices
from ..tensor import Tensor, _counter
from ._functional_args import _array, _check_tensor

__all__ = ["embedding", "embedding_bag", "one_hot"]


def _padding_idx(padding_idx: int | None, num_embeddings: int) -> int:
    """PyTorch's normalisation of ``padding_idx`` (negative counts from the end; -1 internally means none)."""
    if padding_idx is None:
        return -1
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def _renorm_(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    r"""Rescale, in place and outside autograd, the rows of ``weight`` used by ``indices`` whose p-norm exceeds
    ``max_norm`` to max_norm/(‖row‖ + 1e-7) times themselves (PyTorch's ``embedding_renorm_``)."""
    with no_grad():
        rows = xp.unique(indices.reshape(-1))
        w = weight._data
        norms = xp.linalg.norm(w[rows], ord=norm_type, axis=1)
        big = norms > max_norm
        w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
        if big.any():
            _counter(weight).value += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input`` indices; the row
    ``padding_idx`` gets no gradient; with ``max_norm`` the looked-up rows are first renormalised in place."""
    _check_tensor("embedding", weight)
    if sparse:
        raise UnsupportedError("embedding: sparse=True (sparse gradients) is not supported by minidl; use "
                               "sparse=False (the default), whose dense gradient has the same values")
    pad = _padding_idx(padding_idx, weight.shape[0])
    idx = check_indices("embedding", _array(input), weight.shape[0])
    if max_norm is not None:
        _renorm_(weight, idx, float(max_norm), float(norm_type))
    return ops.embedding(weight, idx, padding_idx=pad, scale_grad_by_freq=bool(scale_grad_by_freq))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings: rows of ``input`` (B, N) are bags of N indices, or a 1-D
    ``input`` is cut into bags at ``offsets`` (with ``include_last_offset``, offsets has B + 1 entries)."""
    _check_tensor("embedding_bag", weight)
    if sparse:
        raise UnsupportedError("embedding_bag: sparse=True is not supported by minidl; use sparse=False")
    idx = np.asarray(_array(input))
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != idx.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, "
                         f"then it must have the same shape as the input ({idx.shape})")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        offs = np.arange(0, idx.size, idx.shape[1], dtype=np.int64) if idx.shape[1] else np.zeros(idx.shape[0],
                                                                                                  np.int64)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        offs = np.asarray(_array(offsets))
        if offs.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        if include_last_offset:
            offs = offs[:-1]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    pad = _padding_idx(padding_idx, weight.shape[0])
    flat = check_indices("embedding_bag", idx.reshape(-1), weight.shape[0])
    if max_norm is not None:
        _renorm_(weight, flat, float(max_norm), float(norm_type))
    return ops.embedding_bag(weight, flat, offs, per_sample_weights, mode=mode, padding_idx=pad,
                             scale_grad_by_freq=bool(scale_grad_by_freq))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: a new last dimension of ``num_classes`` (max + 1 when -1) with a 1 at each index."""
    _check_tensor("one_hot", tensor)
    t = tensor._data
    if t.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(t.max()) + 1
    if t.size:
        if t.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if t.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = xp.zeros((*t.shape, num_classes), dtype=np.int64)
    xp.put_along_axis(out, t[..., None], 1, axis=-1)
    return Tensor._wrap(out)
