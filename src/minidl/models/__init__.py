"""The model zoo: homework-style classifiers (``params`` + ``loss``) and ``nn.Module`` models.

``get(name, **kwargs)`` builds a module model by name and ``list_models()`` lists the names (used by the CLI).

The ImageNet classifiers ``squeezenet1_0``, ``squeezenet1_1``, ``resnet18``, ``resnet34``, ``mobilenet_v2``,
``vgg11_bn`` and ``alexnet`` have torchvision's modules and ``state_dict`` keys, so torchvision's weights
load as they are; each takes ``num_classes=`` and ``weights=`` (a file, or a name from its table in
:mod:`.weights`, downloaded by :mod:`minidl.hub`). :func:`replace_head` swaps a classifier layer for a new
one, for fine-tuning on other classes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._pretrained import replace_head
from .alexnet import AlexNet, alexnet
from .autoencoder import Autoencoder
from .cnn import BatchNormCNN, LeNet5, StridedCNN
from .homework import ConvNet, FullyConnectedNet, LinearClassifier, TwoLayerNet
from .logistic import LogisticRegression
from .mlp import MLP
from .mobilenetv2 import MobileNetV2, mobilenet_v2
from .resnet import ResNet, resnet18, resnet34
from .squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from .vgg import VGG, vgg11_bn
from .weights import Weights, get_weights, list_weights
from .xor import XORNet

__all__ = [
    "LinearClassifier", "TwoLayerNet", "FullyConnectedNet", "ConvNet",
    "MLP", "LeNet5", "StridedCNN", "BatchNormCNN", "Autoencoder", "XORNet", "LogisticRegression",
    "get", "list_models", "register",
    "SqueezeNet", "ResNet", "MobileNetV2", "VGG", "AlexNet", "squeezenet1_0", "squeezenet1_1", "resnet18",
    "resnet34", "mobilenet_v2", "vgg11_bn", "alexnet", "Weights", "get_weights", "list_weights", "replace_head",
    "IMAGENET_MODELS",
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
#: the ImageNet classifiers with torchvision's structure and published weights
IMAGENET_MODELS: dict[str, Callable[..., Any]] = {
    "squeezenet1_0": squeezenet1_0, "squeezenet1_1": squeezenet1_1, "resnet18": resnet18, "resnet34": resnet34,
    "mobilenet_v2": mobilenet_v2, "vgg11_bn": vgg11_bn, "alexnet": alexnet,
}  # fmt: skip
_REGISTRY.update(IMAGENET_MODELS)
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
