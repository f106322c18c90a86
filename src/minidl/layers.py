"""The classic homework layer API (CS231n conventions), as thin adapters over :mod:`minidl.ops`.

Each layer is a ``*_forward(inputs..., param_dict) -> (out, cache)`` / ``*_backward(dout, cache) -> grads``
pair working on plain arrays, with the names, shapes and parameter dictionaries learners know. None of them
holds any math of its own: they reshape, translate the parameter dictionary into the op's keyword
arguments and call ``op.forward`` / ``op.backward``, the very functions the autograd engine runs for
``minidl.nn``. So a gradient-checked homework layer is a gradient-checked engine op, and vice versa.

The ``cache`` a forward returns is opaque: pass it unchanged to the matching backward. Each docstring says
what it holds.

Conventions: ``N`` batch size, ``D`` input features, ``M`` output features, ``C`` classes or channels,
``H``/``W`` height/width, ``F`` conv filters, ``HH``/``WW`` filter height/width. dtypes are kept: float32 in
gives float32 out, float64 stays float64.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import ops
from .backend import xp
from .random import default_generator

__all__ = [
    "fc_forward", "fc_backward", "affine_forward", "affine_backward",
    "relu_forward", "relu_backward", "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "softmax_loss", "l2_regularization",
    "conv_forward", "conv_backward", "max_pool_forward", "max_pool_backward",
    "batchnorm_forward", "batchnorm_backward", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
]  # fmt: skip

_REQUIRED = object()  # marks a parameter-dict key without a default
_MODES = ("train", "test")


def _param(params: Any, key: str, layer: str, default: Any = _REQUIRED) -> Any:
    """``params[key]`` with a clear error naming the layer when the dict or the key is wrong."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{layer}: expected a dict of parameters, got {type(params).__name__}")
    if key in params:
        return params[key]
    if default is _REQUIRED:
        raise ValueError(f"{layer}: parameter dict needs key {key!r}, got keys {sorted(params)}")
    return default


def _mode(params: Mapping, layer: str) -> str:
    mode = _param(params, "mode", layer)
    if mode not in _MODES:
        raise ValueError(f"{layer}: mode must be 'train' or 'test', got {mode!r}")
    return mode


def _check_ndim(layer: str, name: str, a: Any, ndim: int, layout: str) -> None:
    if not hasattr(a, "ndim") or a.ndim != ndim:
        got = getattr(a, "shape", type(a).__name__)
        raise ValueError(f"{layer}: expected {name} of shape {layout} ({ndim}-D), got {got}")


# ------------------------------------------------------------------------------------------ fully connected
def fc_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    r"""Fully-connected (affine) layer: out = x̃ w + b, where x̃ is x flattened to (N, D).

    Inputs: x (N, d_1, ..., d_k) with D = d_1 ⋯ d_k; w (D, M); b (M,).
    Returns out (N, M) and cache = (shape of x, the ``ops.linear`` cache (x̃, wᵀ, has_bias)).

    ``ops.linear`` computes x Wᵀ + b with W of PyTorch's shape (M, D); the classic w (D, M) is passed as the
    view W = wᵀ, so no weight is copied.
    """
    _check_ndim("fc_forward", "w", w, 2, "(D, M)")
    if not hasattr(x, "ndim") or x.ndim < 1:
        raise ValueError(f"fc_forward: expected x of shape (N, d_1, ..., d_k), got {getattr(x, 'shape', x)}")
    d = int(np.prod(x.shape[1:]))
    if d != w.shape[0]:
        raise ValueError(f"fc_forward: x of shape {x.shape} has D = {d} features per sample, "
                         f"but w of shape {w.shape} expects D = {w.shape[0]}")
    if b is not None and b.shape != (w.shape[1],):
        raise ValueError(f"fc_forward: expected b of shape ({w.shape[1]},) to match w {w.shape}, got {b.shape}")
    out, cache = ops.linear.forward(x.reshape(x.shape[0], d), w.T, b)
    return out, (x.shape, cache)


def fc_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Backward of :func:`fc_forward`: dx = dout wᵀ (reshaped like x), dw = x̃ᵀ dout, db = Σ_n dout.

    Inputs: dout (N, M); cache from :func:`fc_forward`. Returns dx (N, d_1, ..., d_k), dw (D, M), db (M,).
    """
    x_shape, op_cache = cache
    dx, dw_t, db = ops.linear.backward(dout, op_cache)
    return dx.reshape(x_shape), dw_t.T, db


# the names the original assignment used
affine_forward, affine_backward = fc_forward, fc_backward


# ------------------------------------------------------------------------------------------ activations
def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    r"""out = max(0, x), any shape. Returns out and the ``ops.relu`` cache."""
    return ops.relu.forward(x)


def relu_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    r"""dx = dout · [x > 0]."""
    return ops.relu.backward(dout, cache)[0]


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    r"""out = σ(x) = 1 / (1 + e⁻ˣ), any shape. Returns out and the ``ops.sigmoid`` cache."""
    return ops.sigmoid.forward(x)


def sigmoid_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    r"""dx = dout · σ(x)(1 − σ(x))."""
    return ops.sigmoid.backward(dout, cache)[0]


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    r"""out = tanh(x), any shape. Returns out and the ``ops.tanh`` cache."""
    return ops.tanh.forward(x)


def tanh_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    r"""dx = dout · (1 − tanh²(x))."""
    return ops.tanh.backward(dout, cache)[0]


# ------------------------------------------------------------------------------------------ losses
def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[Any, np.ndarray]:
    r"""Softmax cross-entropy, averaged over the batch, and its gradient (``ops.cross_entropy``).

    L = −(1/N) Σ_i log softmax(x_i)_{y_i},   dL/dx_i = (softmax(x_i) − onehot(y_i)) / N.

    Inputs: x (N, C) scores; y (N,) integer labels in [0, C). Returns (loss, dx) with dx (N, C). Stable for
    any finite scores: the op works with log-softmax, never with exp of large numbers.
    """
    loss, cache = ops.cross_entropy.forward(x, y, reduction="mean")
    dx, _ = ops.cross_entropy.backward(xp.ones_like(loss), cache)
    return loss[()], dx


def l2_regularization(w: np.ndarray, reg: float) -> tuple[Any, np.ndarray]:
    r"""L2 penalty R = ½·reg·Σ w² and its gradient dR/dw = reg·w (any shape; dtype kept)."""
    return 0.5 * reg * xp.vdot(w, w), reg * w


# ------------------------------------------------------------------------------------------ convolution, pooling
def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: Mapping) -> tuple[np.ndarray, Any]:
    r"""Convolution (cross-correlation) of x with F filters, via ``ops.conv2d``.

    out[n, f, i, j] = b[f] + Σ_{c, p, q} w[f, c, p, q] · x̂[n, c, i·s + p, j·s + q], x̂ = x zero-padded by ``pad``.

    Inputs: x (N, C, H, W); w (F, C, HH, WW); b (F,); conv_param {'stride': s (default 1), 'pad': P
    (default 0)}. Returns out (N, F, H', W') with H' = 1 + (H + 2P − HH) // s, W' = 1 + (W + 2P − WW) // s,
    and the ``ops.conv2d`` cache.
    """
    stride = _param(conv_param, "stride", "conv_forward", 1)
    pad = _param(conv_param, "pad", "conv_forward", 0)
    return ops.conv2d.forward(x, w, b, stride=stride, padding=pad)


def conv_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Backward of :func:`conv_forward`: returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,) = Σ_{n,i,j} dout."""
    return ops.conv2d.backward(dout, cache)


def max_pool_forward(x: np.ndarray, pool_param: Mapping) -> tuple[np.ndarray, Any]:
    r"""Max pooling, via ``ops.max_pool2d``: out[n, c, i, j] = max of the window at (i·s, j·s).

    Inputs: x (N, C, H, W); pool_param {'pool_height', 'pool_width', 'stride' (default: the pool size)}.
    Returns out (N, C, H', W') with H' = 1 + (H − pool_height) // s, and the ``ops.max_pool2d`` cache.
    """
    kernel = (_param(pool_param, "pool_height", "max_pool_forward"), _param(pool_param, "pool_width",
                                                                            "max_pool_forward"))
    stride = _param(pool_param, "stride", "max_pool_forward", None)
    return ops.max_pool2d.forward(x, kernel, stride=stride)


def max_pool_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    r"""dx routes each dout[n, c, i, j] to the arg-max of its window (N, C, H, W)."""
    return ops.max_pool2d.backward(dout, cache)[0]


# ------------------------------------------------------------------------------------------ normalisation
def _batchnorm(layer: str, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict, ndim: int,
               layout: str) -> tuple[np.ndarray, Any]:
    """The shared body of :func:`batchnorm_forward` and :func:`spatial_batchnorm_forward`."""
    _check_ndim(layer, "x", x, ndim, layout)
    mode = _mode(bn_param, layer)
    eps = _param(bn_param, "eps", layer, 1e-5)
    momentum = _param(bn_param, "momentum", layer, 0.9)
    channels = x.shape[1]
    if "running_mean" not in bn_param:
        bn_param["running_mean"] = xp.zeros(channels, dtype=x.dtype)
    if "running_var" not in bn_param:
        bn_param["running_var"] = xp.ones(channels, dtype=x.dtype)
    # classic: running = momentum·running + (1 − momentum)·batch;  op (PyTorch): running = (1 − m)·running + m·batch
    return ops.batch_norm.forward(x, gamma, beta, running_mean=bn_param["running_mean"],
                                  running_var=bn_param["running_var"], training=mode == "train",
                                  momentum=1.0 - momentum, eps=eps)


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict) -> tuple[np.ndarray, Any]:
    r"""Batch normalisation of (N, D) features, via ``ops.batch_norm``.

    Train mode: μ = mean_n x, σ² = var_n x (biased), x̂ = (x − μ)/√(σ² + eps), out = γ x̂ + β, and the running
    statistics, stored in ``bn_param`` and updated in place, follow
    running = momentum·running + (1 − momentum)·batch statistic.
    Test mode: x̂ uses running_mean and running_var instead.

    Inputs: x (N, D); gamma, beta (D,); bn_param {'mode': 'train' | 'test', 'eps' (1e-5), 'momentum' (0.9),
    'running_mean' (D,), 'running_var' (D,)}; missing running statistics are created as zeros / ones.
    Returns out (N, D) and the ``ops.batch_norm`` cache.

    One difference from the original assignment: like PyTorch, ``running_var`` accumulates the *unbiased*
    batch variance N/(N − 1)·σ², while the normalisation itself uses the biased σ².
    """
    return _batchnorm("batchnorm_forward", x, gamma, beta, bn_param, 2, "(N, D)")


def batchnorm_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward of :func:`batchnorm_forward`: returns dx (N, D), dgamma (D,), dbeta (D,).

    dβ = Σ_n dout, dγ = Σ_n dout·x̂; train mode dx = (γ / (N√(σ² + eps))) · (N·dout − dβ − x̂·dγ), test mode
    (constant running statistics) dx = dout·γ/√(running_var + eps).
    """
    return ops.batch_norm.backward(dout, cache)


def spatial_batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                              bn_param: dict) -> tuple[np.ndarray, Any]:
    r"""Batch normalisation per channel of (N, C, H, W) images: statistics over N, H and W.

    Same math and ``bn_param`` as :func:`batchnorm_forward`; gamma, beta and the running stats have shape (C,).
    Returns out (N, C, H, W) and the ``ops.batch_norm`` cache.
    """
    return _batchnorm("spatial_batchnorm_forward", x, gamma, beta, bn_param, 4, "(N, C, H, W)")


def spatial_batchnorm_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward of :func:`spatial_batchnorm_forward`: dx (N, C, H, W), dgamma (C,), dbeta (C,)."""
    return ops.batch_norm.backward(dout, cache)


def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                      ln_param: Mapping) -> tuple[np.ndarray, Any]:
    r"""Layer normalisation of each sample over its D features, via ``ops.layer_norm``.

    μ_n = mean_d x[n], σ²_n = var_d x[n] (biased), out = γ (x − μ_n)/√(σ²_n + eps) + β; the same in train
    and test.

    Inputs: x (N, D); gamma, beta (D,); ln_param {'eps' (default 1e-5)}. Returns out (N, D) and the
    ``ops.layer_norm`` cache.
    """
    _check_ndim("layernorm_forward", "x", x, 2, "(N, D)")
    eps = _param(ln_param, "eps", "layernorm_forward", 1e-5)
    return ops.layer_norm.forward(x, gamma, beta, normalized_shape=(x.shape[1],), eps=eps)


def layernorm_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward of :func:`layernorm_forward`: dx (N, D), dgamma (D,), dbeta (D,)."""
    return ops.layer_norm.backward(dout, cache)


# ------------------------------------------------------------------------------------------ dropout
def dropout_forward(x: np.ndarray, dropout_param: Mapping) -> tuple[np.ndarray, Any]:
    r"""Inverted dropout, via ``ops.dropout``.

    Train mode: out = x · m / p with m_i ~ Bernoulli(p) kept independently, so E[out] = x. Test mode: out = x.

    Inputs: x of any shape; dropout_param {'p': the probability of KEEPING a unit (classic meaning; the op
    and PyTorch take the drop probability 1 − p), 'mode': 'train' | 'test', 'seed' (optional): when given,
    the mask comes from ``numpy.random.default_rng(seed)`` so it is reproducible; otherwise from minidl's
    global generator (``minidl.manual_seed``)}. Returns out (shape of x) and the ``ops.dropout`` cache.
    """
    keep = _param(dropout_param, "p", "dropout_forward")
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"dropout_forward: keep probability p must be in (0, 1], got {keep}")
    mode = _mode(dropout_param, "dropout_forward")
    seed = _param(dropout_param, "seed", "dropout_forward", None)
    generator = np.random.default_rng(seed) if seed is not None else default_generator()
    return ops.dropout.forward(x, p=1.0 - keep, training=mode == "train", generator=generator)


def dropout_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    r"""dx = dout · m / p in train mode (the same mask), dx = dout in test mode."""
    return ops.dropout.backward(dout, cache)[0]
