"""Homework-style models (the CS231n classifier API) whose gradients come from minidl's autograd engine.

A model keeps its weights in ``model.params``, a dict of NumPy arrays (``model.parameters()`` returns that
very dict, so updating its arrays in place updates the model), and offers two ways in:

* the Solver's: ``model.loss(X)`` (test mode) gives the class scores (N, C); ``model.loss(X, y)`` (train
  mode) gives ``(loss, grads)``, the scalar loss and a dict of dL/d``params[k]`` arrays with the same keys,
  shapes and dtypes as ``params``;
* the layer-by-layer one: ``scores, cache = model.forward(X)`` and ``grads = model.backward(dscores, cache)``,
  where ``dscores`` is the gradient of the data loss with respect to the scores (for instance the second
  output of :func:`minidl.layers.softmax_loss`), so any loss can be put on top.

Both run the same code: ``forward`` wraps each parameter array as a leaf :class:`~minidl.Tensor` (sharing
memory, no copy) and runs the forward pass through the ops (``@``, ``relu``, ``conv2d``, ``batch_norm``,
``layer_norm``, ``dropout``, ``max_pool2d``); the cache holds that graph, and ``backward`` runs the engine's
backward from the scores with ``dscores`` as their gradient. ``loss`` puts the softmax cross-entropy on the
same graph. There is no hand-written second backward pass. Because the forward pass reads ``params`` at
every call, perturbing an entry in place (as ``eval_numerical_gradient`` does) changes the next result,
so the models can be gradient-checked directly.

The loss is the mean data loss plus the L2 penalty ``0.5 · reg · Σ ‖W‖²`` over the weight matrices and
kernels (not the biases or normalisation parameters); ``backward`` includes the penalty's gradient
``reg · W`` too, so ``backward(dscores)`` is the gradient of ``data loss + penalty`` whenever ``dscores`` is
the data loss's. Inputs are cast to the parameters' dtype, **float64 by default**: the course's numeric
gradient checks (``eval_numerical_gradient`` with h = 1e-5) need it, since float32 rounding alone would
make them report relative errors near 1. Fully connected models flatten inputs (N, d₁, …, d_k) to
(N, d₁·…·d_k); :class:`ConvNet` takes images (N, C, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import ops
from ..autograd import backward as run_backward
from ..errors import ShapeError
from ..functions.creation import from_numpy
from ..nn import functional as F
from ..random import default_generator
from ..tensor import Tensor, no_grad, tensor

__all__ = ["LinearClassifier", "TwoLayerNet", "FullyConnectedNet", "ConvNet", "ForwardCache"]


def _normal(shape: tuple[int, ...], scale: float, dtype: Any) -> np.ndarray:
    """N(0, scale²) samples from minidl's global generator (seed it with ``minidl.manual_seed``)."""
    return (default_generator().standard_normal(shape) * scale).astype(dtype)


@dataclass
class ForwardCache:
    """What ``forward`` hands to ``backward``: the scores as a graph node, the L2 penalty (None without
    ``reg``) and the parameter leaves. One cache serves one ``backward`` (the engine then frees its graph)."""

    scores: Tensor
    penalty: Tensor | None
    leaves: dict[str, Tensor]


class _HomeworkModel:
    """Shared ``forward``/``backward``/``loss``: subclasses define ``_scores`` (the forward pass on tensors)
    and may override ``_data_loss`` and ``_input``; everything else (input checks, test/train modes, L2
    penalty, backward) lives here."""

    params: dict[str, np.ndarray]
    reg: float

    def _scores(self, X: Tensor, p: dict[str, Tensor], train: bool) -> Tensor:
        raise NotImplementedError

    def _data_loss(self, scores: Tensor, y: np.ndarray) -> Tensor:
        """Mean softmax cross-entropy: L = −1/N Σᵢ log(exp(s_{i,yᵢ}) / Σⱼ exp(s_{i,j}))."""
        return F.cross_entropy(scores, tensor(y))

    @property
    def dtype(self) -> np.dtype:
        """The floating dtype the model computes in: that of its parameters."""
        return next(iter(self.params.values())).dtype

    def parameters(self) -> dict[str, np.ndarray]:
        """The parameter arrays by name: ``model.params`` itself (change its arrays in place to update)."""
        return self.params

    def _input(self, X: Any) -> np.ndarray:
        X = np.asarray(X)
        name = type(self).__name__
        if X.ndim < 2:
            raise ValueError(f"{name}.loss: expected X of shape (N, d1, ..., dk), got shape {X.shape}")
        D = self.params[self._first_weight].shape[0]
        X = X.reshape(X.shape[0], -1)
        if X.shape[1] != D:
            raise ValueError(f"{name}.loss: expected {D} features per sample (X of shape (N, {D}) or "
                             f"(N, ...) with {D} values per sample), got shape {X.shape}")
        return X.astype(self.dtype, copy=False)

    _first_weight = "W1"

    def _graph(self, X: np.ndarray, train: bool) -> ForwardCache:
        """The forward pass with every parameter a leaf that requires grad, and the L2 penalty."""
        p = {k: from_numpy(v).requires_grad_(True) for k, v in self.params.items()}
        scores = self._scores(tensor(X), p, train=train)
        penalty = None
        if self.reg:
            for k, t in p.items():
                if k.startswith("W"):
                    term = (t * t).sum() * (0.5 * self.reg)
                    penalty = term if penalty is None else penalty + term
        return ForwardCache(scores, penalty, p)

    def _grads(self, cache: ForwardCache) -> dict[str, np.ndarray]:
        return {k: (t.grad._data if t.grad is not None else np.zeros_like(t._data)) for k, t in cache.leaves.items()}

    def forward(self, X: Any, train: bool = True) -> tuple[np.ndarray, ForwardCache]:
        """Class scores (N, C) of ``X`` and the cache for :meth:`backward`; ``train`` selects the training
        behaviour of dropout and batch norm (which then updates its running statistics)."""
        cache = self._graph(self._input(X), train)
        return cache.scores._data, cache

    def backward(self, dscores: Any, cache: ForwardCache) -> dict[str, np.ndarray]:
        """Gradients of every parameter, given ``dscores`` = dL/dscores (N, C) for the ``cache`` of a
        :meth:`forward`; the L2 penalty's gradient ``reg · W`` is included (see the module docstring)."""
        d = np.asarray(dscores)
        if d.shape != tuple(cache.scores.shape):
            raise ShapeError(f"{type(self).__name__}.backward: dscores must have the scores' shape "
                             f"{tuple(cache.scores.shape)}, got {d.shape}")
        roots = [cache.scores] + ([cache.penalty] if cache.penalty is not None else [])
        grads = [tensor(d.astype(cache.scores._data.dtype))] + ([tensor(1.0, dtype=cache.penalty.dtype)]
                                                               if cache.penalty is not None else [])
        run_backward(roots, grads)
        return self._grads(cache)

    def loss(self, X: Any, y: Any = None) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Scores (N, C) when ``y`` is None, else ``(loss, grads)`` (see the module docstring)."""
        X = self._input(X)
        if y is None:
            with no_grad():
                p = {k: from_numpy(v) for k, v in self.params.items()}
                return self._scores(tensor(X), p, train=False)._data
        y = np.asarray(y)
        if y.shape != (X.shape[0],) or y.dtype.kind not in "iu":
            raise ValueError(f"{type(self).__name__}.loss: expected integer labels y of shape ({X.shape[0]},), "
                             f"got shape {y.shape} and dtype {y.dtype}")
        cache = self._graph(X, train=True)
        loss = self._data_loss(cache.scores, y)
        if cache.penalty is not None:
            loss = loss + cache.penalty
        loss.backward()
        return float(loss.item()), self._grads(cache)


def _batch_norm(h: Tensor, bn: dict[str, Any], gamma: Tensor, beta: Tensor, train: bool) -> Tensor:
    """Batch norm of (N, D) or (N, C, H, W) activations with a classic ``bn_param`` dict (``momentum`` is the
    classic one: running ← momentum·running + (1 − momentum)·batch statistic)."""
    bn["mode"] = "train" if train else "test"
    return F.batch_norm(h, bn["running_mean"], bn["running_var"], gamma, beta, training=train,
                        momentum=1.0 - bn.get("momentum", 0.9), eps=bn.get("eps", 1e-5))


def _bn_params(dims: Any, dtype: Any) -> list[dict[str, Any]]:
    return [{"mode": "train", "momentum": 0.9, "eps": 1e-5, "running_mean": np.zeros(d, dtype=dtype),
             "running_var": np.ones(d, dtype=dtype)} for d in dims]


class LinearClassifier(_HomeworkModel):
    """A linear classifier: scores = X W + b, with W (D, C) ~ N(0, weight_scale²) and b = 0.

    ``loss='softmax'`` uses the softmax cross-entropy; ``loss='svm'`` the multiclass hinge loss
    L = 1/N Σᵢ Σ_{j≠yᵢ} max(0, s_{i,j} − s_{i,yᵢ} + 1).
    """

    _first_weight = "W"

    def __init__(self, input_dim: int = 3 * 32 * 32, num_classes: int = 10, weight_scale: float = 1e-3,
                 reg: float = 0.0, loss: str = "softmax", dtype: Any = np.float64) -> None:
        if loss not in ("softmax", "svm"):
            raise ValueError(f"LinearClassifier: loss must be 'softmax' or 'svm', got {loss!r}")
        self.reg = reg
        self.loss_type = loss
        self.params = {"W": _normal((input_dim, num_classes), weight_scale, dtype),
                       "b": np.zeros(num_classes, dtype=dtype)}

    def _scores(self, X: Tensor, p: dict[str, Tensor], train: bool) -> Tensor:
        return X @ p["W"] + p["b"]

    def _data_loss(self, scores: Tensor, y: np.ndarray) -> Tensor:
        if self.loss_type == "softmax":
            return super()._data_loss(scores, y)
        N = scores.shape[0]
        correct = scores[np.arange(N), y].reshape(N, 1)
        # the j = yᵢ term is max(0, 1) = 1 for every sample (with zero gradient): subtract it once per row
        margins = (scores - correct + 1.0).clip(min=0.0)
        return (margins.sum() - N) / N


class TwoLayerNet(_HomeworkModel):
    """affine – relu – affine – softmax, with W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).

    Weights are N(0, weight_scale²), biases zero. Loss: mean softmax cross-entropy + 0.5·reg·(‖W1‖² + ‖W2‖²).
    """

    def __init__(self, input_dim: int = 3 * 32 * 32, hidden_dim: int = 100, num_classes: int = 10,
                 weight_scale: float = 1e-3, reg: float = 0.0, dtype: Any = np.float64) -> None:
        self.reg = reg
        self.params = {
            "W1": _normal((input_dim, hidden_dim), weight_scale, dtype), "b1": np.zeros(hidden_dim, dtype=dtype),
            "W2": _normal((hidden_dim, num_classes), weight_scale, dtype), "b2": np.zeros(num_classes, dtype=dtype),
        }  # fmt: skip

    def _scores(self, X: Tensor, p: dict[str, Tensor], train: bool) -> Tensor:
        hidden = F.relu(X @ p["W1"] + p["b1"])
        return hidden @ p["W2"] + p["b2"]


class FullyConnectedNet(_HomeworkModel):
    """{affine – [batch/layer norm] – relu – [dropout]} × (L − 1) – affine – softmax.

    Parameters ``W1..WL``, ``b1..bL`` and, with ``normalization``, ``gamma1..gamma(L-1)`` (ones) and
    ``beta1..beta(L-1)`` (zeros). With ``'batchnorm'``, ``bn_params[i]`` holds layer i+1's running mean and
    variance (updated in train mode as running ← momentum·running + (1 − momentum)·batch stat, classic
    ``momentum`` 0.9) used in test mode. ``dropout_keep_ratio`` < 1 keeps each hidden unit with that
    probability (inverted dropout); with ``seed`` every ``loss`` call draws the same masks, which makes the
    model deterministic for gradient checks.
    """

    def __init__(self, hidden_dims: list[int] | tuple[int, ...], input_dim: int = 3 * 32 * 32,
                 num_classes: int = 10, dropout_keep_ratio: float = 1, normalization: str | None = None,
                 reg: float = 0.0, weight_scale: float = 1e-2, dtype: Any = np.float64,
                 seed: int | None = None) -> None:
        if normalization not in (None, "batchnorm", "layernorm"):
            raise ValueError(f"FullyConnectedNet: normalization must be None, 'batchnorm' or 'layernorm', "
                             f"got {normalization!r}")
        if not 0 < dropout_keep_ratio <= 1:
            raise ValueError(f"FullyConnectedNet: dropout_keep_ratio must be in (0, 1], got {dropout_keep_ratio}")
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        dims = [input_dim, *hidden_dims, num_classes]
        self.params: dict[str, np.ndarray] = {}
        for i in range(1, self.num_layers + 1):
            self.params[f"W{i}"] = _normal((dims[i - 1], dims[i]), weight_scale, dtype)
            self.params[f"b{i}"] = np.zeros(dims[i], dtype=dtype)
            if normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(dims[i], dtype=dtype)
                self.params[f"beta{i}"] = np.zeros(dims[i], dtype=dtype)
        self.dropout_param: dict[str, Any] = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio, "seed": seed}
        self.bn_params: list[dict[str, Any]] = []
        if normalization == "batchnorm":
            self.bn_params = _bn_params(hidden_dims, dtype)

    def _scores(self, X: Tensor, p: dict[str, Tensor], train: bool) -> Tensor:
        mode = "train" if train else "test"
        gen = None
        if self.use_dropout:
            self.dropout_param["mode"] = mode
            seed = self.dropout_param.get("seed")
            gen = np.random.default_rng(seed) if seed is not None else default_generator()
        h = X
        for i in range(1, self.num_layers):
            h = h @ p[f"W{i}"] + p[f"b{i}"]
            if self.normalization == "batchnorm":
                h = _batch_norm(h, self.bn_params[i - 1], p[f"gamma{i}"], p[f"beta{i}"], train)
            elif self.normalization == "layernorm":
                h = F.layer_norm(h, h.shape[-1], p[f"gamma{i}"], p[f"beta{i}"])
            h = F.relu(h)
            if self.use_dropout and train:
                h = ops.dropout(h, p=1.0 - self.dropout_param["p"], training=True, generator=gen)
        L = self.num_layers
        return h @ p[f"W{L}"] + p[f"b{L}"]


class ConvNet(_HomeworkModel):
    """{conv k×k (stride 1, padding k // 2) – [spatial batch norm] – relu – 2×2 max pool} × L – affine – relu –
    affine – softmax, for images (N, C, H, W).

    Parameters: conv kernels ``W1..WL`` (F, C, k, k) and biases ``b1..bL``; with ``normalization='batchnorm'``
    also ``gamma1..gammaL``/``beta1..betaL`` (running statistics in ``bn_params``, as in
    :class:`FullyConnectedNet`); then the hidden affine layer ``W{L+1}`` (D, hidden_dim), ``b{L+1}`` and the
    output layer ``W{L+2}`` (hidden_dim, num_classes), ``b{L+2}``. Each 2×2 pooling halves H and W
    (rounding down), so D = F_L · (H / 2^L) · (W / 2^L). Weights are N(0, weight_scale²), or with
    ``weight_scale=None`` He-initialised, N(0, 2 / fan_in), which keeps activations from fading through the
    layers without normalisation; biases are zero.
    """

    def __init__(self, input_dim: tuple[int, int, int] = (1, 36, 120), num_filters: tuple[int, ...] = (16, 32),
                 filter_size: int = 5, hidden_dim: int = 64, num_classes: int = 4, normalization: str | None = None,
                 weight_scale: float | None = None, reg: float = 0.0, dtype: Any = np.float64) -> None:
        if normalization not in (None, "batchnorm"):
            raise ValueError(f"ConvNet: normalization must be None or 'batchnorm', got {normalization!r}")
        if len(input_dim) != 3 or filter_size % 2 != 1 or not num_filters:
            raise ValueError(f"ConvNet: input_dim must be (C, H, W), filter_size odd and num_filters non-empty, "
                             f"got {input_dim}, {filter_size}, {num_filters}")
        c, h, w = input_dim
        if h >> len(num_filters) < 1 or w >> len(num_filters) < 1:
            raise ValueError(f"ConvNet: {len(num_filters)} poolings shrink {h}x{w} images to nothing")
        self.input_dim = tuple(int(d) for d in input_dim)
        self.normalization = normalization
        self.reg = reg
        self.num_conv = len(num_filters)
        self.params: dict[str, np.ndarray] = {}

        def weights(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
            return _normal(shape, weight_scale if weight_scale is not None else float(np.sqrt(2.0 / fan_in)), dtype)

        for i, f in enumerate(num_filters, start=1):
            self.params[f"W{i}"] = weights((f, c, filter_size, filter_size), c * filter_size * filter_size)
            self.params[f"b{i}"] = np.zeros(f, dtype=dtype)
            if normalization is not None:
                self.params[f"gamma{i}"] = np.ones(f, dtype=dtype)
                self.params[f"beta{i}"] = np.zeros(f, dtype=dtype)
            c, h, w = f, h // 2, w // 2
        L = self.num_conv
        self.params[f"W{L + 1}"] = weights((c * h * w, hidden_dim), c * h * w)
        self.params[f"b{L + 1}"] = np.zeros(hidden_dim, dtype=dtype)
        self.params[f"W{L + 2}"] = weights((hidden_dim, num_classes), hidden_dim)
        self.params[f"b{L + 2}"] = np.zeros(num_classes, dtype=dtype)
        self.bn_params = _bn_params(num_filters, dtype) if normalization == "batchnorm" else []

    def _input(self, X: Any) -> np.ndarray:
        X = np.asarray(X)
        shape = self.input_dim
        if X.ndim >= 2 and X.shape[1:] != shape and int(np.prod(X.shape[1:])) == int(np.prod(shape)):
            X = X.reshape(X.shape[0], *shape)  # flattened rows of images
        if X.ndim != 4 or X.shape[1:] != shape:
            raise ValueError(f"ConvNet.loss: expected images of shape (N, {', '.join(map(str, shape))}), "
                             f"got shape {X.shape}")
        return X.astype(self.dtype, copy=False)

    def _scores(self, X: Tensor, p: dict[str, Tensor], train: bool) -> Tensor:
        h = X
        k = self.params["W1"].shape[-1]
        for i in range(1, self.num_conv + 1):
            h = F.conv2d(h, p[f"W{i}"], p[f"b{i}"], padding=k // 2)
            if self.normalization == "batchnorm":
                h = _batch_norm(h, self.bn_params[i - 1], p[f"gamma{i}"], p[f"beta{i}"], train)
            h = F.max_pool2d(F.relu(h), 2)
        L = self.num_conv
        h = F.relu(h.reshape(h.shape[0], -1) @ p[f"W{L + 1}"] + p[f"b{L + 1}"])
        return h @ p[f"W{L + 2}"] + p[f"b{L + 2}"]
