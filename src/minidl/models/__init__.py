"""The model zoo: homework-style classifiers (``params`` + ``loss``) and ``nn.Module`` models.

``get(name, **kwargs)`` builds a module model by name and ``list_models()`` lists the names (used by the CLI).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autoencoder import Autoencoder
from .cnn import BatchNormCNN, LeNet5, StridedCNN
from .homework import ConvNet, FullyConnectedNet, LinearClassifier, TwoLayerNet
from .logistic import LogisticRegression
from .mlp import MLP
from .xor import XORNet

__all__ = [
    "LinearClassifier", "TwoLayerNet", "FullyConnectedNet", "ConvNet",
    "MLP", "LeNet5", "StridedCNN", "BatchNormCNN", "Autoencoder", "XORNet", "LogisticRegression",
    "get", "list_models", "register",
]  # fmt: skip

_REGISTRY: dict[str, Callable[..., Any]] = {
    "mlp": MLP,
    "lenet5": LeNet5,
    "strided_cnn": StridedCNN,
    "bn_cnn": BatchNormCNN,
    "autoencoder": Autoencoder,
    "xor": XORNet,
    "logistic_regression": LogisticRegression,
}
_ALIASES = {"lenet": "lenet5", "stridedcnn": "strided_cnn", "batchnorm_cnn": "bn_cnn", "batchnormcnn": "bn_cnn",
            "bncnn": "bn_cnn", "xornet": "xor", "logreg": "logistic_regression",
            "softmax_regression": "logistic_regression"}


def _canonical(name: str) -> str:
    key = name.lower().replace("-", "_")
    return _ALIASES.get(key, key)


def register(name: str, factory: Callable[..., Any]) -> None:
    """Add a model factory under ``name`` (lowercase) so ``get(name)`` and the CLI can build it."""
    if not callable(factory):
        raise TypeError(f"register: factory for {name!r} must be callable, got {type(factory).__name__}")
    _REGISTRY[_canonical(name)] = factory


def list_models() -> list[str]:
    """Names accepted by :func:`get`, sorted."""
    return sorted(_REGISTRY)


def get(name: str, **kwargs: Any) -> Any:
    """Build the model registered as ``name`` (case-insensitive; aliases such as ``lenet`` work)."""
    if not isinstance(name, str):
        raise TypeError(f"models.get: name must be a string, got {type(name).__name__}")
    key = _canonical(name)
    if key not in _REGISTRY:
        raise ValueError(f"models.get: unknown model {name!r}; available: {list_models()}")
    return _REGISTRY[key](**kwargs)
