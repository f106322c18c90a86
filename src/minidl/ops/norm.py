"""Normalisation layers: batch norm and layer norm, each op a forward/backward pair.

Both normalise groups of M values, x̂ = (x − μ) / √(σ² + ε) with the group mean μ and biased variance σ²,
then apply an optional affine map y = γ x̂ + β. They share one implementation of the statistics and of the
backward through the normalisation; only the grouping differs. Arrays are viewed in a working layout where
every group is reduced by one einsum:

* batch norm: (N, C, S), S = product of the spatial sizes, one group per channel (reduce axes 0 and 2);
* layer norm: (R, D), D = product of ``normalized_shape``, one group per row (reduce axis 1).

Backward through x̂ (the classic compact form), for dL/dx̂ = g over a group of M values:
    dx = (1/M) · (1/√(σ² + ε)) · (M g − Σ g − x̂ Σ (g ⊙ x̂)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import xp
from ..tensor import Tensor
from .activation import check_float
from .base import Op, wants

_REDUCED_AXES = {3: (0, 2), 2: (1,)}  # working-layout ndim -> axes of one group


def _group_sum(a: np.ndarray) -> np.ndarray:
    """Σ over each group (keepdims).

    einsum runs its own single-threaded SIMD loops: within ~1.4x of a BLAS product with a ones vector on
    small arrays and 1.5x faster than ``ndarray.sum`` over several axes, yet free of the multi-millisecond
    stalls that threaded OpenBLAS matrix-vector products showed here on 2-8 MB arrays with shared cores.
    """
    if a.ndim == 3:
        return xp.einsum("ncs->c", a)[None, :, None]
    return xp.einsum("rd->r", a)[:, None]


def _group_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ a ⊙ b over each group (keepdims), without materialising the product."""
    if a.ndim == 3:
        return xp.einsum("ncs,ncs->c", a, b)[None, :, None]
    return xp.einsum("rd,rd->r", a, b)[:, None]


def _group_count(a: np.ndarray) -> int:
    """M, the number of values in one group of the working layout."""
    return a.shape[0] * a.shape[2] if a.ndim == 3 else a.shape[1]


def _affine(xhat: np.ndarray, w: np.ndarray | None, b: np.ndarray | None) -> np.ndarray:
    """γ x̂ + β with optional γ, β (already shaped to broadcast against the working layout)."""
    if w is None:
        return xhat if b is None else xhat + b
    out = xhat * w
    if b is not None:
        out += b
    return out


def _normalize(x: np.ndarray, eps: float) -> tuple:
    """x̂, 1/√(σ² + ε), μ and σ² (keepdims) of every group of the working-layout array ``x``.

    The statistics are two-pass (stable); if they overflow (|x| near the dtype's maximum), they are
    recomputed on x / max|x| per group, which is exact: x̂ = (x/s − μ/s) / √(σ²/s² + ε/s²).
    """
    count = _group_count(x)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = _group_sum(x) / count
        xc = x - mean
        var = _group_dot(xc, xc) / count
    if not (xp.isfinite(mean).all() and xp.isfinite(var).all()):
        return _normalize_scaled(x, eps, count)
    inv_std = 1.0 / xp.sqrt(var + eps)
    xc *= inv_std
    return xc, inv_std, mean, var


def _normalize_scaled(x: np.ndarray, eps: float, count: int) -> tuple:
    """:func:`_normalize` near overflow: statistics of x/s with s = max|x| per group (so |x/s| ≤ 1)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        s = xp.abs(x).max(axis=_REDUCED_AXES[x.ndim], keepdims=True)
        s[s == 0] = 1
        xs = x / s
        mean_s = _group_sum(xs) / count
        xs -= mean_s
        var_s = _group_dot(xs, xs) / count
        inv_std_s = 1.0 / xp.sqrt(var_s + eps / (s * s))
        xs *= inv_std_s
        # the true σ² may exceed the dtype's range: it is then +inf (used only for running statistics)
        return xs, inv_std_s / s, mean_s * s, var_s * (s * s)


def _normalized_grad(dy: np.ndarray, xhat: np.ndarray, scale: np.ndarray) -> tuple:
    """dx = scale · (dy − (Σ dy + x̂ Σ dy ⊙ x̂)/M) over each group; also returns Σ dy and Σ dy ⊙ x̂.

    With dy = dL/dx̂ and scale = 1/√(σ² + ε) this is the compact formula of the module docstring; batch norm
    passes dy = dL/dy and scale = γ/√(σ² + ε) instead (γ is constant over its groups) and reuses both sums
    as the gradients of β and γ.
    """
    count = _group_count(dy)
    s_dy = _group_sum(dy)
    s_dyx = _group_dot(dy, xhat)
    dx = xhat * (s_dyx / count)
    dx += s_dy / count
    xp.subtract(dy, dx, out=dx)
    dx *= scale
    return dx, s_dy, s_dyx


def _check_param(name: str, what: str, a: Any, shape: tuple[int, ...]) -> None:
    if a is not None and tuple(a.shape) != shape:
        raise ValueError(f"{name}: {what} must have shape {shape}, got {tuple(a.shape)}")


def _buffer(name: str, what: str, a: Any) -> np.ndarray | None:
    """A running-statistics buffer as the array updated in place (a Tensor's array, not a copy)."""
    a = a.data if isinstance(a, Tensor) else a
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
    """

    name = "batch_norm"

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
        x3 = x.reshape(n, c, math.prod(x.shape[2:]))
        count = _group_count(x3)
        batch_stats = training or running_mean is None
        if batch_stats and count <= 1:
            raise ValueError(f"{self.name}: Expected more than 1 value per channel when training, "
                             f"got input size {x.shape}")
        w, b = (None if a is None else a.astype(x.dtype, copy=False).reshape(1, c, 1) for a in (weight, bias))
        if not batch_stats:
            # eval: y = x · scale + shift, two passes over x (x̂ is built in backward, only for dγ)
            mean, var = (a.astype(x.dtype, copy=False).reshape(1, c, 1) for a in (running_mean, running_var))
            inv_std = 1.0 / xp.sqrt(var + eps)
            scale = inv_std if w is None else inv_std * w
            shift = -mean * scale if b is None else b - mean * scale
            out = x3 * scale
            out += shift
            return out.reshape(x.shape), (None, (x3, mean, inv_std), scale, w is not None, b is not None)
        xhat, inv_std, mean, var = _normalize(x3, eps)
        if training and running_mean is not None:
            m = float(momentum)
            running_mean *= 1 - m
            running_mean += m * mean.reshape(c)
            running_var *= 1 - m
            running_var += (m * count / (count - 1)) * var.reshape(c)
        out = _affine(xhat, w, b)
        scale = inv_std if w is None else inv_std * w
        return out.reshape(x.shape), (xhat, None, scale, w is not None, b is not None)

    def backward(self, dout, cache, needs=None):
        xhat, eval_inputs, scale, has_w, has_b = cache
        want_w, want_b = has_w and wants(needs, 1), has_b and wants(needs, 2)
        batch_stats = eval_inputs is None
        if batch_stats:
            d3 = dout.reshape(xhat.shape)
        else:  # eval caches x and the running statistics; x̂ is rebuilt only for dγ
            x3, mean, inv_std = eval_inputs
            d3 = dout.reshape(x3.shape)
            xhat = (x3 - mean) * inv_std if want_w else None
        if batch_stats and wants(needs, 0):
            dx, s_dy, s_dyx = _normalized_grad(d3, xhat, scale)
            dx = dx.reshape(dout.shape)
        else:  # eval: y is affine in x; or only γ, β want gradients
            dx = (d3 * scale).reshape(dout.shape) if wants(needs, 0) else None
            s_dy = _group_sum(d3) if want_b else None
            s_dyx = _group_dot(d3, xhat) if want_w else None
        dw = s_dyx.reshape(-1) if want_w else None
        db = s_dy.reshape(-1) if want_b else None
        return dx, dw, db


class LayerNorm(Op):
    r"""Layer normalisation over the trailing ``normalized_shape`` axes of x.

    y = γ ⊙ x̂ + β, x̂ = (x − μ) / √(σ² + ε), with μ, σ² (biased) over the D = ∏ normalized_shape trailing
    values of each sample, and γ = ``weight``, β = ``bias`` of shape ``normalized_shape`` or None.
    Backward, with g = dL/dy and ĝ = γ ⊙ g:  dx = 1/(D √(σ² + ε)) · (D ĝ − Σ ĝ − x̂ Σ ĝ x̂) over each sample,
    dγ = Σ g ⊙ x̂ and dβ = Σ g over all samples.
    """

    name = "layer_norm"

    def forward(self, x, weight=None, bias=None, normalized_shape=None, eps=1e-5):
        check_float(self.name, x)
        if normalized_shape is None:
            raise TypeError(f"{self.name}: normalized_shape is required")
        nshape = (normalized_shape,) if np.isscalar(normalized_shape) else normalized_shape
        nshape = tuple(int(s) for s in nshape)
        k = len(nshape)
        if k == 0 or x.ndim < k or x.shape[x.ndim - k :] != nshape:
            raise ValueError(f"{self.name}: input of shape {x.shape} does not end with "
                             f"normalized_shape {nshape}")
        _check_param(self.name, "weight", weight, nshape)
        _check_param(self.name, "bias", bias, nshape)
        d = math.prod(nshape)
        w, b = (None if a is None else a.astype(x.dtype, copy=False).reshape(d) for a in (weight, bias))
        xhat, inv_std, _, _ = _normalize(x.reshape(math.prod(x.shape[: x.ndim - k]), d), eps)
        return _affine(xhat, w, b).reshape(x.shape), (xhat, inv_std, w, b is not None, nshape)

    def backward(self, dout, cache, needs=None):
        xhat, inv_std, w, has_b, nshape = cache
        d2 = dout.reshape(xhat.shape)
        dx = dw = db = None
        if wants(needs, 0):
            dx, _, _ = _normalized_grad(d2 if w is None else d2 * w, xhat, inv_std)
            dx = dx.reshape(dout.shape)
        if w is not None and wants(needs, 1):
            dw = xp.einsum("rd,rd->d", d2, xhat).reshape(nshape)
        if has_b and wants(needs, 2):
            db = xp.einsum("rd->d", d2).reshape(nshape)
        return dx, dw, db


batch_norm, layer_norm = BatchNorm(), LayerNorm()
