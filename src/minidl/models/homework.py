"""Homework-style models (the CS231n classifier API) whose gradients come from minidl's autograd engine.

A model keeps its weights in ``model.params``, a dict of NumPy arrays, and has one method:

* ``model.loss(X)`` (test mode): class scores, an array (N, C);
* ``model.loss(X, y)`` (train mode): ``(loss, grads)``, the scalar loss and a dict of dL/d``params[k]``
  arrays with the same keys, shapes and dtypes as ``params``.

``loss`` wraps each parameter array as a leaf :class:`~minidl.Tensor` (sharing memory, no copy), runs the
forward pass through the ops (``@``, ``relu``, ``batch_norm``, ``layer_norm``, ``dropout``,
``cross_entropy``), then calls ``.backward()``: the gradients are the engine's, there is no hand-written
second backward pass. Because ``loss`` reads ``params`` at every call, perturbing an entry in place (as
``eval_numerical_gradient`` does) changes the next loss, so the models can be gradient-checked directly.

The loss is the mean data loss plus the L2 penalty ``0.5 · reg · Σ ‖W‖²`` over the weight matrices (not the
biases or normalisation parameters). Inputs of shape (N, d₁, …, d_k) are flattened to (N, d₁·…·d_k) and cast
to the parameters' dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..functions.creation import from_numpy
from ..nn import functional as F
from ..random import default_generator
from ..tensor import Tensor, no_grad, tensor

__all__ = ["LinearClassifier", "TwoLayerNet", "FullyConnectedNet"]


def _normal(shape: tuple[int, ...], scale: float, dtype: Any) -> np.ndarray:
    """N(0, scale²) samples from minidl's global generator (seed it with ``minidl.manual_seed``)."""
    return (default_generator().standard_normal(shape) * scale).astype(dtype)


class _HomeworkModel:
    """Shared ``loss``: subclasses define ``_scores`` (the forward pass on tensors) and may override
    ``_data_loss``; everything else (input checks, test/train modes, L2 penalty, backward) lives here."""

    params: dict[str, np.ndarray]
    reg: float

    def _scores(self, X: Tensor, p: dict[str, Tensor], train: bool) -> Tensor:
        raise NotImplementedError

    def _data_loss(self, scores: Tensor, y: np.ndarray) -> Tensor:
        """Mean softmax cross-entropy: L = −1/N Σᵢ log(exp(s_{i,yᵢ}) / Σⱼ exp(s_{i,j}))."""
        return F.cross_entropy(scores, y)

    @property
    def dtype(self) -> np.dtype:
        """The floating dtype the model computes in: that of its parameters."""
        return next(iter(self.params.values())).dtype

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
        p = {k: from_numpy(v).requires_grad_(True) for k, v in self.params.items()}
        loss = self._data_loss(self._scores(tensor(X), p, train=True), y)
        if self.reg:
            for k, t in p.items():
                if k.startswith("W"):
                    loss = loss + (t * t).sum() * (0.5 * self.reg)
        loss.backward()
        grads = {k: (t.grad._data if t.grad is not None else np.zeros_like(t._data)) for k, t in p.items()}
        return float(loss.item()), grads


class LinearClassifier(_HomeworkModel):
    """A linear classifier: scores = X W + b, with W (D, C) ~ N(0, weight_scale²) and b = 0.

    ``loss='softmax'`` uses the softmax cross-entropy; ``loss='svm'`` the multiclass hinge loss
    L = 1/N Σᵢ Σ_{j≠yᵢ} max(0, s_{i,j} − s_{i,yᵢ} + 1).
    """

    _first_weight = "W"

    def __init__(self, input_dim: int = 3 * 32 * 32, num_classes: int = 10, weight_scale: float = 1e-3,
                 reg: float = 0.0, loss: str = "softmax", dtype: Any = np.float32) -> None:
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
                 weight_scale: float = 1e-3, reg: float = 0.0, dtype: Any = np.float32) -> None:
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
                 reg: float = 0.0, weight_scale: float = 1e-2, dtype: Any = np.float32,
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
            self.bn_params = [{"mode": "train", "momentum": 0.9, "eps": 1e-5,
                               "running_mean": np.zeros(d, dtype=dtype), "running_var": np.ones(d, dtype=dtype)}
                              for d in hidden_dims]

    def _scores(self, X: Tensor, p: dict[str, Tensor], train: bool) -> Tensor:
        mode = "train" if train else "test"
        for bn in self.bn_params:
            bn["mode"] = mode
        gen = None
        if self.use_dropout:
            self.dropout_param["mode"] = mode
            seed = self.dropout_param.get("seed")
            gen = np.random.default_rng(seed) if seed is not None else default_generator()
        h = X
        for i in range(1, self.num_layers):
            h = h @ p[f"W{i}"] + p[f"b{i}"]
            if self.normalization == "batchnorm":
                bn = self.bn_params[i - 1]
                h = F.batch_norm(h, bn["running_mean"], bn["running_var"], p[f"gamma{i}"], p[f"beta{i}"],
                                 training=train, momentum=1.0 - bn.get("momentum", 0.9), eps=bn.get("eps", 1e-5))
            elif self.normalization == "layernorm":
                h = F.layer_norm(h, h.shape[-1], p[f"gamma{i}"], p[f"beta{i}"])
            h = F.relu(h)
            if self.use_dropout and train:
                h = ops.dropout(h, p=1.0 - self.dropout_param["p"], training=True, generator=gen)
        L = self.num_layers
        return h @ p[f"W{L}"] + p[f"b{L}"]
