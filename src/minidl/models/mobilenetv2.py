"""MobileNetV2 (Sandler et al., 2018), with torchvision's modules and ``state_dict`` keys.

Inverted residual blocks expand the channels with a 1×1 convolution, filter each channel alone with a 3×3
depthwise convolution (``groups`` = channels), and project back with a linear 1×1 convolution; the input is
added back when the shape allows. Activations are ReLU6. Channel counts are multiples of 8
(:func:`make_divisible`), scaled by ``width_mult``.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..functions import flatten
from ..nn import functional as F
from ..tensor import Tensor
from ._pretrained import build

__all__ = ["Conv2dNormActivation", "InvertedResidual", "MobileNetV2", "mobilenet_v2", "make_divisible"]


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``, default ``divisor``), but
    never more than 10% below ``v`` (the rule of the original TensorFlow code, as torchvision applies it)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class Conv2dNormActivation(nn.Sequential):
    """Conv2d ('same' padding for odd kernels, no bias) → BatchNorm2d → ReLU6: torchvision.ops'
    ``Conv2dNormActivation`` as MobileNetV2 uses it (children ``0``, ``1``, ``2``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 groups: int = 1) -> None:
        super().__init__(nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2,
                                   groups=groups, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU6(inplace=True))
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """``conv``: [1×1 expand (if expand_ratio ≠ 1)] → 3×3 depthwise (stride) → 1×1 linear projection → BN;
    x + conv(x) when the stride is 1 and the channels are unchanged."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1))
        layers += [Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                   nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# expansion t, output channels c, repeats n, first stride s
_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


class MobileNetV2(nn.Module):
    """``features`` (stem 3×3/2 conv, 17 inverted residual blocks, 1×1 conv to 1280 channels) → global
    average pool → ``classifier`` (dropout, linear). Initialised as torchvision does: Kaiming-normal
    convolutions (fan out), batch norms at γ = 1, β = 0, linear weights N(0, 0.01²), zero biases."""

    head = "classifier.1"

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting: list[list[int]] | None = None, round_nearest: int = 8,
                 dropout: float = 0.2) -> None:
        super().__init__()
        setting = _SETTING if inverted_residual_setting is None else inverted_residual_setting
        if len(setting) == 0 or len(setting[0]) != 4:
            raise ValueError(f"inverted_residual_setting should be non-empty or a 4-element list, got {setting}")
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [Conv2dNormActivation(3, input_channel, stride=2)]
        for t, c, n, s in setting:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, expand_ratio=t))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(flatten(x, 1))


def mobilenet_v2(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> MobileNetV2:
    """MobileNetV2 (3.5 M parameters). ``weights``: a path (.pth, .safetensors, .npz) or a table name
    (``"IMAGENET1K_V1"``, ``"IMAGENET1K_V2"``, ``"DEFAULT"`` = V2: torchvision's ImageNet weights, downloaded
    by :mod:`minidl.hub`)."""
    return build("mobilenet_v2", MobileNetV2, weights, progress, kwargs)
