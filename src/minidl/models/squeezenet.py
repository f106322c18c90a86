"""SqueezeNet 1.0 and 1.1 (Iandola et al., 2016), with torchvision's modules and ``state_dict`` keys.

A Fire module squeezes the channels with a 1×1 convolution, then expands them again with parallel 1×1 and
3×3 convolutions whose outputs are concatenated. The classifier is a 1×1 convolution to one map per class,
ReLU, and global average pooling, after dropout. Max pooling uses ``ceil_mode`` (a last, partial window is
kept), so a 224×224 image gives 13×13 maps at the end: 224 → 111 → 55 → ... for 1.1.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..functions import cat, flatten
from ..tensor import Tensor
from ._pretrained import build

__all__ = ["Fire", "SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


class Fire(nn.Module):
    """squeeze (1×1, ReLU) → [expand1x1 (1×1, ReLU) ‖ expand3x3 (3×3 pad 1, ReLU)] concatenated on channels."""

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int, expand3x3_planes: int) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return cat([self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1)


# (out of the first convolution, its kernel) and the feature layers after it: a Fire's (squeeze, expand)
# channels, or "M" for a 3×3/2 max pool in ceil mode
_VERSIONS: dict[str, tuple[int, int, list[Any]]] = {
    "1_0": (96, 7, ["M", (16, 64), (16, 64), (32, 128), "M", (32, 128), (48, 192), (48, 192), (64, 256), "M",
                    (64, 256)]),
    "1_1": (64, 3, ["M", (16, 64), (16, 64), "M", (32, 128), (32, 128), "M", (48, 192), (48, 192), (64, 256),
                    (64, 256)]),
}


class SqueezeNet(nn.Module):
    """``features`` (convolutions, Fire modules, pools) → ``classifier`` (dropout, 1×1 conv to
    ``num_classes`` maps, ReLU, global average pool) → flatten. Initialised as torchvision does: Kaiming-uniform
    convolutions, the final one N(0, 0.01²), zero biases."""

    head = "classifier.1"

    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        if version not in _VERSIONS:
            raise ValueError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")
        self.num_classes = num_classes
        width, kernel, plan = _VERSIONS[version]
        layers: list[nn.Module] = [nn.Conv2d(3, width, kernel_size=kernel, stride=2), nn.ReLU(inplace=True)]
        channels = width
        for item in plan:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True))
            else:
                squeeze, expand = item
                layers.append(Fire(channels, squeeze, expand, expand))
                channels = 2 * expand
        self.features = nn.Sequential(*layers)
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return flatten(self.classifier(self.features(x)), 1)


def squeezenet1_0(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.0 (1.25 M parameters). ``weights``: a path (.pth, .safetensors, .npz) or a table name
    (``"IMAGENET1K_V1"``/``"DEFAULT"``: torchvision's ImageNet weights, downloaded by :mod:`minidl.hub`)."""
    return build("squeezenet1_0", SqueezeNet, weights, progress, kwargs, "1_0")


def squeezenet1_1(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.1: 2.4x less computation than 1.0 for the same accuracy (1.24 M parameters); ``weights``
    as for :func:`squeezenet1_0`."""
    return build("squeezenet1_1", SqueezeNet, weights, progress, kwargs, "1_1")
