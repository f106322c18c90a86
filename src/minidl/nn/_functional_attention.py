r"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``, composed of the op
library's matmul, softmax, masking and dropout (so autograd differentiates them with no op of their own).

Scaled dot-product attention of queries Q (…, L, E), keys K (…, S, E) and values V (…, S, Ev):

    A = softmax(Q Kᵀ · scale + M),  out = A V,  scale = 1/√E by default,

where the additive mask M is 0 where attention is allowed and −∞ where not (a boolean mask marks the
allowed places with True here, as in PyTorch's ``scaled_dot_product_attention``; ``MultiheadAttention``'s
boolean masks mark the *forbidden* places with True, as in PyTorch).
"""

from __future__ import annotations

import math
from typing import Any

from .. import functions as fns
from ..errors import ShapeError, UnsupportedError
from ..tensor import Tensor
from ._functional_normalization import dropout

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _additive(mask: Tensor | None, allowed_when_true: bool, dtype: Any) -> Tensor | None:
    """A mask as the additive M above: a float mask as it is, a boolean one as 0 / −∞."""
    if mask is None:
        return None
    if mask.dtype.is_floating_point:
        return mask
    forbidden = fns.logical_not(mask) if allowed_when_true else mask
    return fns.zeros(tuple(mask.shape), dtype=dtype).masked_fill(forbidden, float("-inf"))


def _attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float, scale: float,
            training: bool) -> tuple[Tensor, Tensor]:
    scores = fns.matmul(q, k.transpose(-2, -1)) * scale
    if mask is not None:
        scores = scores + mask
    weights = fns.softmax(scores, -1)
    if dropout_p > 0 and training:  # the weights returned are the ones applied, dropped out (as in PyTorch)
        weights = dropout(weights, dropout_p, True)
    return fns.matmul(weights, v), weights


def _causal(L: int, S: int, dtype: Any) -> Tensor:
    """The additive mask letting position i attend to positions ≤ i (PyTorch's top-left aligned causal mask)."""
    mask = _additive(fns.tril(fns.ones((L, S)), 0) > 0, True, dtype)
    assert mask is not None
    return mask


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q Kᵀ · scale + M) V over the last two axes (PyTorch's ``F.scaled_dot_product_attention``):
    ``attn_mask`` boolean (True: may attend) or float (added); ``is_causal`` masks the future."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention: {name} must be a Tensor, got {type(t).__name__}")
    if enable_gqa:
        raise UnsupportedError("scaled_dot_product_attention: enable_gqa is not supported")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: query {tuple(query.shape)}, key {tuple(key.shape)} and "
                         f"value {tuple(value.shape)} do not fit (query and key need the same last size, key and "
                         "value the same sequence length)")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal, not both")
    L, S = query.shape[-2], key.shape[-2]
    mask = _causal(L, S, query.dtype) if is_causal else _additive(attn_mask, True, query.dtype)
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return _attend(query, key, value, mask, dropout_p, s, True)[0]


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, num_heads: int,
                                 in_proj_weight: Tensor, in_proj_bias: Tensor | None, out_proj_weight: Tensor,
                                 out_proj_bias: Tensor | None, dropout_p: float = 0.0, training: bool = True,
                                 key_padding_mask: Tensor | None = None, need_weights: bool = True,
                                 attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                                 is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on (L, N, E) queries and (S, N, E) keys and values (PyTorch's sequence-first
    layout): the in-projection splits into ``num_heads`` heads of E/num_heads, each attends, the heads are
    concatenated and projected out. Boolean masks mark forbidden places with True; ``key_padding_mask`` is
    (N, S), ``attn_mask`` (L, S) or (N·heads, L, S). Returns the output and, with ``need_weights``, the
    attention weights (averaged over heads unless ``average_attn_weights=False``)."""
    L, N, E = query.shape
    S = key.shape[0]
    if E % num_heads:
        raise ValueError(f"MultiheadAttention: embed_dim {E} is not divisible by num_heads {num_heads}")
    hd = E // num_heads
    w_q, w_k, w_v = fns.chunk(in_proj_weight, 3, 0)
    b_q, b_k, b_v = fns.chunk(in_proj_bias, 3, 0) if in_proj_bias is not None else (None, None, None)
    from .functional import linear

    def heads(x: Tensor, w: Tensor, b: Tensor | None, length: int) -> Tensor:  # (len, N, E) -> (N, H, len, hd)
        return linear(x, w, b).reshape(length, N, num_heads, hd).permute(1, 2, 0, 3)

    q, k, v = heads(query, w_q, b_q, L), heads(key, w_k, b_k, S), heads(value, w_v, b_v, S)
    mask = None
    if is_causal and attn_mask is None:
        mask = _causal(L, S, query.dtype)
    elif attn_mask is not None:
        m = _additive(attn_mask, False, query.dtype)
        assert m is not None
        if m.dim() == 2:
            if tuple(m.shape) != (L, S):
                raise ShapeError(f"MultiheadAttention: the 2-D attn_mask should have shape {(L, S)}, got "
                                 f"{tuple(m.shape)}")
            mask = m
        elif m.dim() == 3:
            if tuple(m.shape) != (N * num_heads, L, S):
                raise ShapeError(f"MultiheadAttention: the 3-D attn_mask should have shape "
                                 f"{(N * num_heads, L, S)}, got {tuple(m.shape)}")
            mask = m.reshape(N, num_heads, L, S)
        else:
            raise ShapeError(f"MultiheadAttention: attn_mask must be 2-D or 3-D, got {m.dim()}-D")
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise ShapeError(f"MultiheadAttention: key_padding_mask should have shape {(N, S)}, got "
                             f"{tuple(key_padding_mask.shape)}")
        pad = _additive(key_padding_mask, False, query.dtype)
        assert pad is not None
        pad = pad.reshape(N, 1, 1, S)
        mask = pad if mask is None else mask + pad
    out, weights = _attend(q, k, v, mask, dropout_p, 1.0 / math.sqrt(hd), training)
    out = linear(out.permute(2, 0, 1, 3).reshape(L, N, E), out_proj_weight, out_proj_bias)
    if not need_weights:
        return out, None
    return out, (weights.mean(1) if average_attn_weights else weights)
