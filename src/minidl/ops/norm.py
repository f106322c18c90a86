"""Normalisation layers: batch, layer and group norm (and local response norm), each op a forward/backward pair.

Both normalise groups of M values, x̂ = (x − μ) / √(σ² + ε) with the group mean μ and biased variance σ²,
then apply an optional affine map y = γ x̂ + β. They share one implementation of the statistics and of the
backward through the normalisation; only the grouping differs. Arrays are worked on as a 2-D view whose
groups a small :class:`_Groups` object knows how to reduce and broadcast:

* layer norm: (R, D), D = product of ``normalized_shape``, one group per row;
* batch norm: (N, F), F = C·S features (S = product of the spatial sizes), one group per channel. The
  features are ordered (c, s) for NCHW memory and (s, c) for channels-last memory (a convolution's
  output), so the view is free either way; per-channel vectors are expanded to per-feature rows of F
  values (``np.repeat`` / ``np.tile``), so every elementwise pass broadcasts one contiguous row over N
  rows. (The former (N, C, S) view copied channels-last inputs and broadcast over a narrow axis there:
  measured 3x slower.)

Backward through x̂ (the classic compact form), for dL/dx̂ = g over a group of M values:
    dx = (1/M) · (1/√(σ² + ε)) · (M g − Σ g − x̂ Σ (g ⊙ x̂)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import xp
from ..errors import ShapeError
from ..tensor import Tensor
from .activation import check_float
from .base import Op, wants
from .conv import is_channels_last


class _Groups:
    """The groups of a 2-D working view: per-group reductions return compact vectors (one value per
    group), and ``expand`` shapes such a vector to broadcast against the view."""

    count: int  # M, the number of values in one group

    def sum(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def dot(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Σ a ⊙ b over each group, without materialising the product."""
        raise NotImplementedError

    def max_abs(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def expand(self, v: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class _Rows(_Groups):
    """Layer norm: every row of an (R, D) view is a group."""

    def __init__(self, d: int) -> None:
        self.count = d

    def sum(self, a):
        return xp.einsum("rd->r", a)

    def dot(self, a, b):
        return xp.einsum("rd,rd->r", a, b)

    def max_abs(self, a):
        return xp.abs(a).max(axis=1)

    def expand(self, v):
        return v[:, None]


class _Channels(_Groups):
    """Batch norm: channel c of x (N, C, *spatial), in the (N, F) feature view of the module docstring.

    einsum's column sums run their own SIMD loops: within ~1.4x of a BLAS product with a ones vector, yet
    free of the multi-millisecond stalls that threaded OpenBLAS matrix-vector products showed here on
    2-8 MB arrays with shared cores.
    """

    def __init__(self, x: np.ndarray) -> None:
        self.shape = x.shape
        self.c, self.s = x.shape[1], math.prod(x.shape[2:])
        self.count = x.shape[0] * self.s
        self.channels_last = x.ndim == 4 and self.s > 1 and is_channels_last(x)

    def view(self, a: np.ndarray) -> np.ndarray:
        """The (N, F) view of an array shaped like x (a copy only if its memory is in neither order)."""
        if self.channels_last:
            return a.transpose(0, 2, 3, 1).reshape(a.shape[0], -1)
        return a.reshape(a.shape[0], -1)

    def restore(self, a2: np.ndarray) -> np.ndarray:
        """An (N, F) array back as x's shape (a view in x's memory order)."""
        if self.channels_last:
            n, c, h, w = self.shape
            return a2.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        return a2.reshape(self.shape)

    def _fold(self, f: np.ndarray, reduce: Any = np.add) -> np.ndarray:
        """Per-feature values (F,) reduced to per-channel ones (C,)."""
        if self.channels_last:
            return reduce.reduce(f.reshape(self.s, self.c), axis=0)
        return reduce.reduce(f.reshape(self.c, self.s), axis=1)

    def sum(self, a):
        return self._fold(xp.einsum("nf->f", a))

    def dot(self, a, b):
        return self._fold(xp.einsum("nf,nf->f", a, b))

    def max_abs(self, a):
        return self._fold(xp.abs(a).max(axis=0), np.maximum)

    def expand(self, v):
        return xp.tile(v, self.s) if self.channels_last else xp.repeat(v, self.s)


def _affine(xhat: np.ndarray, w: np.ndarray | None, b: np.ndarray | None) -> np.ndarray:
    """γ x̂ + β with optional γ, β (already shaped to broadcast against the working view)."""
    if w is None:
        return xhat if b is None else xhat + b
    out = xhat * w
    if b is not None:
        out += b
    return out


def _normalize(x: np.ndarray, groups: _Groups, eps: float) -> tuple:
    """x̂ (shaped like ``x``), and per group (compact) 1/√(σ² + ε), μ and σ² of the working view ``x``.

    The statistics are two-pass (stable); if they overflow (|x| near the dtype's maximum), they are
    recomputed on x / max|x| per group, which is exact: x̂ = (x/s − μ/s) / √(σ²/s² + ε/s²).
    """
    count = groups.count
    with np.errstate(over="ignore", invalid="ignore"):
        mean = groups.sum(x) / count
        xc = x - groups.expand(mean)
        var = groups.dot(xc, xc) / count
    if not (xp.isfinite(mean).all() and xp.isfinite(var).all()):
        return _normalize_scaled(x, groups, eps)
    inv_std = 1.0 / xp.sqrt(var + eps)
    xc *= groups.expand(inv_std)
    return xc, inv_std, mean, var


def _normalize_scaled(x: np.ndarray, groups: _Groups, eps: float) -> tuple:
    """:func:`_normalize` near overflow: statistics of x/s with s = max|x| per group (so |x/s| ≤ 1)."""
    count = groups.count
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        s = groups.max_abs(x)
        s[s == 0] = 1
        xs = x / groups.expand(s)
        mean_s = groups.sum(xs) / count
        xs -= groups.expand(mean_s)
        var_s = groups.dot(xs, xs) / count
        inv_std_s = 1.0 / xp.sqrt(var_s + eps / (s * s))
        xs *= groups.expand(inv_std_s)
        # the true σ² may exceed the dtype's range: it is then +inf (used only for running statistics)
        return xs, inv_std_s / s, mean_s * s, var_s * (s * s)


def _normalized_grad(dy: np.ndarray, xhat: np.ndarray, scale: np.ndarray, groups: _Groups) -> tuple:
    """dx = scale · (dy − (Σ dy + x̂ Σ dy ⊙ x̂)/M) over each group; also returns Σ dy and Σ dy ⊙ x̂ (compact).

    With dy = dL/dx̂ and scale = 1/√(σ² + ε) this is the compact formula of the module docstring; batch norm
    passes dy = dL/dy and scale = γ/√(σ² + ε) instead (γ is constant over its groups) and reuses both sums
    as the gradients of β and γ.
    """
    s_dy = groups.sum(dy)
    s_dyx = groups.dot(dy, xhat)
    return _grad_from_sums(dy, xhat, scale, groups, s_dy, s_dyx, groups.count), s_dy, s_dyx


def _grad_from_sums(dy: np.ndarray, xhat: np.ndarray, scale: np.ndarray, groups: _Groups, s_dy: np.ndarray,
                    s_dyx: np.ndarray, count: float) -> np.ndarray:
    """scale · (dy − (Σ dy + x̂ Σ dy ⊙ x̂)/M) from the sums (over one process, or over every rank)."""
    dx = xhat * groups.expand(s_dyx / count)
    dx += groups.expand(s_dy / count)
    xp.subtract(dy, dx, out=dx)
    dx *= groups.expand(scale)
    return dx


def _check_param(name: str, what: str, a: Any, shape: tuple[int, ...]) -> None:
    if a is not None and tuple(a.shape) != shape:
        raise ShapeError(f"{name}: {what} must have shape {shape}, got {tuple(a.shape)}")


def _buffer(name: str, what: str, a: Any) -> np.ndarray | None:
    """A running-statistics buffer as the array updated in place (a Tensor's array, not a copy)."""
    a = a._data if isinstance(a, Tensor) else a
    if a is not None and not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: {what} must be an array (it is updated in place), got {type(a).__name__}")
    return a


class BatchNorm(Op):
    r"""Batch normalisation over every axis but the channel axis 1 of x (N, C) or (N, C, *spatial).

    y = γ x̂ + β with x̂ = (x − μ_c) / √(σ²_c + ε), γ = ``weight`` and β = ``bias`` of shape (C,) or None.

    * Training (or no running statistics): μ, σ² are the batch mean and biased variance over the M = N·S
      values of each channel, and the running buffers are updated in place (PyTorch's rule, unbiased σ²):
      r_μ ← (1 − m) r_μ + m μ,  r_σ² ← (1 − m) r_σ² + m σ² M/(M − 1). Backward, with g = dL/dy:
      dx = γ/(M √(σ² + ε)) · (M g − Σ g − x̂ Σ g x̂),  dγ = Σ g x̂,  dβ = Σ g (sums over N and spatial axes).
    * Eval: μ, σ² are the running statistics, constants, so y is the affine map x · γ/√(r_σ² + ε) + const:
      dx = g γ/√(r_σ² + ε),  dγ = Σ g x̂,  dβ = Σ g.

    The same math channel by channel, with the backward by the chain rule through μ and σ²:
    :class:`minidl.ops.reference.BatchNorm`.
    """

    name = "batch_norm"
    saves = (0, 1)

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None, training=False,
                momentum=0.1, eps=1e-5):
        check_float(self.name, x)
        if x.ndim < 2:
            raise ValueError(f"{self.name}: expected input of shape (N, C) or (N, C, *spatial), "
                             f"got {x.shape}")
        if momentum is None:
            raise NotImplementedError(f"{self.name}: momentum=None (cumulative moving average) is not "
                                      "supported")
        n, c = x.shape[:2]
        running_mean = _buffer(self.name, "running_mean", running_mean)
        running_var = _buffer(self.name, "running_var", running_var)
        for what, a in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
            _check_param(self.name, what, a, (c,))
        if (running_mean is None) != (running_var is None):
            raise ValueError(f"{self.name}: give both running_mean and running_var, or neither")
        groups = _Channels(x)
        x2 = groups.view(x)
        count = groups.count
        batch_stats = training or running_mean is None
        if batch_stats and count <= 1:
            raise ValueError(f"{self.name}: Expected more than 1 value per channel when training, "
                             f"got input size {x.shape}")
        w, b = (None if a is None else a.astype(x.dtype, copy=False) for a in (weight, bias))
        if not batch_stats:
            # eval: y = x · scale + shift, two passes over x (x̂ is built in backward, only for dγ)
            mean, var = (a.astype(x.dtype, copy=False) for a in (running_mean, running_var))
            inv_std = 1.0 / xp.sqrt(var + eps)
            scale = inv_std if w is None else inv_std * w
            shift = -mean * scale if b is None else b - mean * scale
            out = x2 * groups.expand(scale)
            out += groups.expand(shift)
            cache = (groups, None, (x2, mean, inv_std), scale, w is not None, b is not None)
            return groups.restore(out), cache
        xhat, inv_std, mean, var = _normalize(x2, groups, eps)
        if training and running_mean is not None:
            m = float(momentum)
            running_mean *= 1 - m
            running_mean += m * mean
            running_var *= 1 - m
            running_var += (m * count / (count - 1)) * var
        out = _affine(xhat, None if w is None else groups.expand(w), None if b is None else groups.expand(b))
        scale = inv_std if w is None else inv_std * w
        return groups.restore(out), (groups, xhat, None, scale, w is not None, b is not None)

    def backward(self, dout, cache, needs=None):
        groups, xhat, eval_inputs, scale, has_w, has_b = cache
        want_w, want_b = has_w and wants(needs, 1), has_b and wants(needs, 2)
        d2 = groups.view(dout)
        batch_stats = eval_inputs is None
        if not batch_stats:  # eval caches x and the running statistics; x̂ is rebuilt only for dγ
            x2, mean, inv_std = eval_inputs
            xhat = (x2 - groups.expand(mean)) * groups.expand(inv_std) if want_w else None
        if batch_stats and wants(needs, 0):
            dx, s_dy, s_dyx = _normalized_grad(d2, xhat, scale, groups)
            dx = groups.restore(dx)
        else:  # eval: y is affine in x; or only γ, β want gradients
            dx = groups.restore(d2 * groups.expand(scale)) if wants(needs, 0) else None
            s_dy = groups.sum(d2) if want_b else None
            s_dyx = groups.dot(d2, xhat) if want_w else None
        dw = s_dyx if want_w else None
        db = s_dy if want_b else None
        return dx, dw, db


class LayerNorm(Op):
    r"""Layer normalisation over the trailing ``normalized_shape`` axes of x.

    y = γ ⊙ x̂ + β, x̂ = (x − μ) / √(σ² + ε), with μ, σ² (biased) over the D = ∏ normalized_shape trailing
    values of each sample, and γ = ``weight``, β = ``bias`` of shape ``normalized_shape`` or None.
    Backward, with g = dL/dy and ĝ = γ ⊙ g:  dx = 1/(D √(σ² + ε)) · (D ĝ − Σ ĝ − x̂ Σ ĝ x̂) over each sample,
    dγ = Σ g ⊙ x̂ and dβ = Σ g over all samples.
    The same math sample by sample: :class:`minidl.ops.reference.LayerNorm`.
    """

    name = "layer_norm"
    saves = (1,)

    def forward(self, x, weight=None, bias=None, normalized_shape=None, eps=1e-5):
        check_float(self.name, x)
        if normalized_shape is None:
            raise TypeError(f"{self.name}: normalized_shape is required")
        nshape = (normalized_shape,) if np.isscalar(normalized_shape) else normalized_shape
        nshape = tuple(int(s) for s in nshape)
        k = len(nshape)
        if k == 0 or x.ndim < k or x.shape[x.ndim - k :] != nshape:
            raise ShapeError(f"{self.name}: input of shape {x.shape} does not end with "
                             f"normalized_shape {nshape}")
        _check_param(self.name, "weight", weight, nshape)
        _check_param(self.name, "bias", bias, nshape)
        d = math.prod(nshape)
        w, b = (None if a is None else a.astype(x.dtype, copy=False).reshape(d) for a in (weight, bias))
        groups = _Rows(d)
        xhat, inv_std, _, _ = _normalize(x.reshape(math.prod(x.shape[: x.ndim - k]), d), groups, eps)
        return _affine(xhat, w, b).reshape(x.shape), (xhat, inv_std, w, b is not None, nshape)

    def backward(self, dout, cache, needs=None):
        xhat, inv_std, w, has_b, nshape = cache
        d2 = dout.reshape(xhat.shape)
        dx = dw = db = None
        if wants(needs, 0):
            dx, _, _ = _normalized_grad(d2 if w is None else d2 * w, xhat, inv_std, _Rows(xhat.shape[1]))
            dx = dx.reshape(dout.shape)
        if w is not None and wants(needs, 1):
            dw = xp.einsum("rd,rd->d", d2, xhat).reshape(nshape)
        if has_b and wants(needs, 2):
            db = xp.einsum("rd->d", d2).reshape(nshape)
        return dx, dw, db


class SyncBatchNorm(Op):
    r"""Batch normalisation in training whose statistics span every rank of a data-parallel job.

    The ranks' batches are one batch of M = Σ_k M_k values per channel. Each rank computes its own mean m_k
    and sum of squared deviations S_k = Σ (x − m_k)² (two-pass, as :class:`BatchNorm`), and one ``reduce``
    (in float64) sums M_k, M_k m_k, M_k m_k² and S_k over the ranks; then μ = Σ M_k m_k / M and
    M σ² = Σ S_k + Σ M_k m_k² − M μ² (the parallel combination of moments; the last two terms, the spread of
    the ranks' means, are summed in float64), exactly the statistics of the whole batch with one message.
    The backward pass needs, for dx, the sums Σ g and Σ g x̂ over the whole batch, where rank k's g is the
    gradient of its own loss:
    dx = γ/√(σ² + ε) · (g − (Σ g + x̂ Σ g x̂)/M). Data-parallel training averages the parameters' gradients
    over the N ranks, so with L = (1/N) Σ_k L_k this is exactly N · dL/dx, the N that the averaging of
    the upstream parameters' gradients takes out again. dγ = Σ g x̂ and dβ = Σ g are this rank's own sums
    (the averaging over the ranks completes them). ``reduce`` sums a list of arrays over the ranks
    (:func:`minidl.distributed.allreduce_arrays`); the identity makes this :class:`BatchNorm` in training.
    """

    name = "sync_batch_norm"
    saves = (0, 1)

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None, momentum=0.1, eps=1e-5,
                reduce=None):
        check_float(self.name, x)
        if x.ndim < 2:
            raise ValueError(f"{self.name}: expected input of shape (N, C) or (N, C, *spatial), got {x.shape}")
        c = x.shape[1]
        running_mean = _buffer(self.name, "running_mean", running_mean)
        running_var = _buffer(self.name, "running_var", running_var)
        for what, a in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
            _check_param(self.name, what, a, (c,))
        reduce = reduce or (lambda arrays: arrays)
        groups = _Channels(x)
        x2 = groups.view(x)
        m_k = groups.count
        mean_k = groups.sum(x2) / max(m_k, 1)
        xhat = x2 - groups.expand(mean_k)
        mean_k = mean_k.astype(np.float64)
        n, first, second, deviations = reduce([np.full(c, float(m_k)), m_k * mean_k, m_k * mean_k * mean_k,
                                               groups.dot(xhat, xhat).astype(np.float64)])
        count = float(n[0])
        if count <= 1:
            raise ValueError(f"{self.name}: Expected more than 1 value per channel when training, got input size "
                             f"{x.shape} on this rank and {count:.0f} values per channel on all ranks")
        mu = first / count
        mean = mu.astype(x.dtype)
        var = (np.maximum(deviations + second - count * mu * mu, 0.0) / count).astype(x.dtype)
        xhat -= groups.expand((mu - mean_k).astype(x.dtype))  # deviations from the global mean
        inv_std = 1.0 / xp.sqrt(var + eps)
        xhat *= groups.expand(inv_std)
        if running_mean is not None:
            m = float(momentum)
            running_mean *= 1 - m
            running_mean += m * mean
            running_var *= 1 - m
            running_var += (m * count / (count - 1)) * var
        w, b = (None if a is None else a.astype(x.dtype, copy=False) for a in (weight, bias))
        out = _affine(xhat, None if w is None else groups.expand(w), None if b is None else groups.expand(b))
        scale = inv_std if w is None else inv_std * w
        return groups.restore(out), (groups, xhat, scale, count, reduce, w is not None, b is not None)

    def backward(self, dout, cache, needs=None):
        groups, xhat, scale, count, reduce, has_w, has_b = cache
        d2 = groups.view(dout)
        s_dy, s_dyx = groups.sum(d2), groups.dot(d2, xhat)  # this rank's sums: dβ and dγ
        dx = None
        if wants(needs, 0):
            all_dy, all_dyx = reduce([s_dy, s_dyx])
            dx = groups.restore(_grad_from_sums(d2, xhat, scale, groups, all_dy, all_dyx, count))
        return dx, s_dyx if has_w and wants(needs, 1) else None, s_dy if has_b and wants(needs, 2) else None


batch_norm, layer_norm, sync_batch_norm = BatchNorm(), LayerNorm(), SyncBatchNorm()


class GroupNorm(Op):
    r"""Group normalisation: the C channels of each sample of x (N, C, *spatial) split into G groups of C/G
    channels; each group (its C/G·S values) is normalised, then each channel gets its affine map:

        y_nc = γ_c x̂_nc + β_c,   x̂ = (x − μ_ng) / √(σ²_ng + ε)   (μ, σ² biased, over the group's values).

    Backward, with g = dL/dy and ĝ = γ_c g (per channel): dx = the compact formula of the module docstring
    applied to ĝ over each group, dγ_c = Σ_{n,s} g x̂, dβ_c = Σ_{n,s} g. Instance norm is G = C, layer norm
    over (C, *spatial) with per-channel affine is G = 1.
    """

    name = "group_norm"
    saves = (1,)

    def forward(self, x, weight=None, bias=None, num_groups=1, eps=1e-5):
        check_float(self.name, x)
        if x.ndim < 2:
            raise ValueError(f"{self.name}: expected input of shape (N, C, *), got {x.shape}")
        n, c = x.shape[:2]
        if num_groups <= 0 or c % num_groups:
            raise ValueError(f"{self.name}: Expected number of channels in input to be divisible by num_groups, but "
                             f"got input of shape {list(x.shape)} and num_groups={num_groups}")
        _check_param(self.name, "weight", weight, (c,))
        _check_param(self.name, "bias", bias, (c,))
        w, b = (None if a is None else a.astype(x.dtype, copy=False)[:, None] for a in (weight, bias))
        rows = _Rows(x.size // max(n * num_groups, 1))
        xhat, inv_std, _, _ = _normalize(x.reshape(n * num_groups, -1), rows, eps)
        out = _affine(xhat.reshape(n, c, -1), w, b).reshape(x.shape)
        return out, (xhat, inv_std, w, b is not None, (n, c))

    def backward(self, dout, cache, needs=None):
        xhat, inv_std, w, has_b, (n, c) = cache
        d3 = dout.reshape(n, c, -1)
        dx = dw = db = None
        if wants(needs, 0):
            dxhat = (d3 if w is None else d3 * w).reshape(xhat.shape)
            dx, _, _ = _normalized_grad(dxhat, xhat, inv_std, _Rows(xhat.shape[1]))
            dx = dx.reshape(dout.shape)
        if w is not None and wants(needs, 1):
            dw = xp.einsum("ncs,ncs->c", d3, xhat.reshape(n, c, -1))
        if has_b and wants(needs, 2):
            db = xp.einsum("ncs->c", d3)
        return dx, dw, db


def _channel_window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """Σ_{j = c − before}^{c + after} a_j along axis 1 (channels), zero outside: one slice-add per offset."""
    c = a.shape[1]
    out = xp.zeros_like(a)
    for off in range(-before, after + 1):
        lo, hi = max(0, -off), min(c, c - off)
        if lo < hi:
            out[:, lo:hi] += a[:, lo + off:hi + off]
    return out


class LocalResponseNorm(Op):
    r"""Local response normalisation across channels (Krizhevsky et al. 2012), as PyTorch computes it:

        y_c = x_c / d_c^β,   d_c = k + α · (1/n) Σ_{j ∈ W(c)} x_j²,   W(c) = [c − ⌊n/2⌋, c + ⌈n/2⌉ − 1]

    (zero beyond the channel range, the mean always dividing by n = ``size``). Backward, with g = dL/dy:
    dx_i = g_i d_i^{−β} − (2αβ/n) x_i Σ_{c: i ∈ W(c)} g_c x_c d_c^{−β−1}, the last sum being a window sum with
    the offsets reversed.
    """

    name = "local_response_norm"
    saves = (0,)

    def forward(self, x, size, alpha=1e-4, beta=0.75, k=1.0):
        check_float(self.name, x)
        if x.ndim < 3:
            raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
        before, after = size // 2, (size - 1) // 2
        d = _channel_window_sum(x * x, before, after)
        d /= size
        d *= alpha
        d += k
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = d**-beta  # d^{−β}
        return x * scale, (x, d, scale, size, alpha, beta)

    def backward(self, dout, cache, needs=None):
        x, d, scale, size, alpha, beta = cache
        before, after = size // 2, (size - 1) // 2
        with np.errstate(divide="ignore", invalid="ignore"):
            t = dout * x * scale / d  # g_c x_c d_c^{−β−1}
        dx = dout * scale
        dx -= (2 * alpha * beta / size) * x * _channel_window_sum(t, after, before)
        return (dx,)


group_norm, local_response_norm = GroupNorm(), LocalResponseNorm()
