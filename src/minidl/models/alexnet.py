"""AlexNet (Krizhevsky, 2014, "One weird trick..."), with torchvision's modules and ``state_dict`` keys.

``features``: five convolutions (11×11/4, 5×5, then three 3×3) with ReLU and three 3×3/2 max pools;
``avgpool`` adapts the maps to 6×6; ``classifier``: dropout, linear 9216 → 4096, ReLU, dropout,
4096 → 4096, ReLU, 4096 → classes.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..functions import flatten
from ..tensor import Tensor
from ._pretrained import build

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """torchvision's AlexNet (PyTorch's default initialisation of each layer)."""

    head = "classifier.6"

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )  # fmt: skip
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


def alexnet(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> AlexNet:
    """AlexNet (61.1 M parameters). ``weights``: a path (.pth, .safetensors, .npz) or a table name
    (``"IMAGENET1K_V1"``/``"DEFAULT"``: torchvision's ImageNet weights, downloaded by :mod:`minidl.hub`)."""
    return build("alexnet", AlexNet, weights, progress, kwargs)
