"""VGG-11 with batch normalisation (Simonyan & Zisserman, 2014), with torchvision's modules and keys.

``features``: 3×3 convolutions (padding 1) each followed by batch norm and ReLU, with 2×2 max pools between
the stages (configuration "A": 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M); ``avgpool`` adapts the
maps to 7×7; ``classifier``: linear 25088 → 4096 → 4096 → classes with ReLU and dropout.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..functions import flatten
from ..tensor import Tensor
from ._pretrained import build

__all__ = ["VGG", "make_layers", "vgg11_bn", "CONFIGS"]

CONFIGS: dict[str, list[Any]] = {"A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]}


def make_layers(cfg: list[Any], batch_norm: bool = False) -> nn.Sequential:
    """The feature layers of a VGG configuration: an int is a 3×3 convolution to that many channels (then
    batch norm, if asked, and ReLU), "M" a 2×2 max pool."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """``features`` → ``avgpool`` (adaptive, 7×7) → flatten → ``classifier``. Initialised as torchvision does:
    Kaiming-normal convolutions (fan out, ReLU gain), batch norms at γ = 1, β = 0, linear weights
    N(0, 0.01²), zero biases."""

    head = "classifier.6"

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )  # fmt: skip
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


class _VGG11BN(VGG):
    """VGG with configuration "A" and batch norm, built from ``num_classes`` etc. alone (what
    :func:`~minidl.models._pretrained.build` constructs)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(make_layers(CONFIGS["A"], batch_norm=True), **kwargs)

    def _get_name(self) -> str:
        return "VGG"


def vgg11_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11 with batch normalisation (132.9 M parameters). ``weights``: a path (.pth, .safetensors, .npz)
    or a table name (``"IMAGENET1K_V1"``/``"DEFAULT"``: torchvision's ImageNet weights, downloaded by
    :mod:`minidl.hub`)."""
    return build("vgg11_bn", _VGG11BN, weights, progress, kwargs)
