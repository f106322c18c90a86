"""Convolutional networks for 1×28×28 images (Fashion-MNIST, MNIST) and other small images.

Every model is an ``nn.Sequential`` of named layers, so state_dict keys read ``conv1.weight``,
``bn1.running_var``, ``fc1.bias``, ... and a model summary lists each layer with its output shape.
"""

from __future__ import annotations

from collections import OrderedDict

from .. import nn

__all__ = ["LeNet5", "StridedCNN", "BatchNormCNN"]


class LeNet5(nn.Sequential):
    """LeNet-5 (ReLU and max-pool variant), sized for its input.

    conv 5×5 in→6 – relu – maxpool 2 – conv 5×5 6→16 – relu – maxpool 2 – flatten – linear F→120 – relu –
    linear 120→num_classes, where F = 16·s·s with s = ((image_size − 4) // 2 − 4) // 2 the side of the last
    feature map. On 28×28 inputs (Fashion-MNIST): 28 → 24 → 12 → 8 → 4, F = 256 and 34,622 parameters for one
    input channel and 10 classes; on 32×32 inputs (CIFAR-10, the original LeNet-5): 32 → 28 → 14 → 10 → 5,
    F = 400. ``minidl train`` passes the dataset's channels and size.
    """

    head = "fc2"  # the classifier layer (fine-tuning replaces it)

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28) -> None:
        side = ((image_size - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"LeNet5: images must be at least 16×16 for two 5×5 convolutions and two 2×2 "
                             f"poolings, got image_size={image_size}")
        super().__init__(OrderedDict(
            conv1=nn.Conv2d(in_channels, 6, 5), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(6, 16, 5), relu2=nn.ReLU(), pool2=nn.MaxPool2d(2),
            flatten=nn.Flatten(),
            fc1=nn.Linear(16 * side * side, 120), relu3=nn.ReLU(),
            fc2=nn.Linear(120, num_classes),
        ))  # fmt: skip


class StridedCNN(nn.Sequential):
    """A CNN that downsamples with strides and average pooling, LeakyReLU after every convolution.

    conv 3×3/2 pad 1 in→64 – leaky relu – avgpool 2 – conv 3×3 pad 1 64→64 – leaky relu –
    conv 3×3/2 pad 1 64→16 – leaky relu – flatten – linear 256→num_classes.
    Spatial sizes on 28×28: 28 → 14 → 7 → 7 → 4, so 16·4·4 = 256 features.
    """

    head = "fc"

    def __init__(self, in_channels: int = 1, num_classes: int = 10, negative_slope: float = 0.01) -> None:
        super().__init__(OrderedDict(
            conv1=nn.Conv2d(in_channels, 64, 3, stride=2, padding=1), act1=nn.LeakyReLU(negative_slope),
            pool1=nn.AvgPool2d(2),
            conv2=nn.Conv2d(64, 64, 3, padding=1), act2=nn.LeakyReLU(negative_slope),
            conv3=nn.Conv2d(64, 16, 3, stride=2, padding=1), act3=nn.LeakyReLU(negative_slope),
            flatten=nn.Flatten(),
            fc=nn.Linear(16 * 4 * 4, num_classes),
        ))  # fmt: skip


class BatchNormCNN(nn.Sequential):
    """The zoo's most accurate Fashion-MNIST model: three conv blocks with batch normalisation.

    {conv 3×3 pad 1 (no bias) – batchnorm – relu – maxpool 2} with in→32→64→128 channels, then dropout and
    two linear layers. Spatial sizes on 28×28: 28 → 14 → 7 → 3, so 128·3·3 = 1152 features.
    """

    head = "fc2"

    def __init__(self, in_channels: int = 1, num_classes: int = 10, widths: tuple[int, int, int] = (32, 64, 128),
                 hidden: int = 128, dropout: float = 0.3, image_size: int = 28) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c_in, size = in_channels, image_size
        for i, c_out in enumerate(widths, start=1):
            layers[f"conv{i}"] = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
            layers[f"bn{i}"] = nn.BatchNorm2d(c_out)
            layers[f"relu{i}"] = nn.ReLU()
            layers[f"pool{i}"] = nn.MaxPool2d(2)
            c_in, size = c_out, size // 2
        layers["flatten"] = nn.Flatten()
        layers["drop1"] = nn.Dropout(dropout)
        layers["fc1"] = nn.Linear(c_in * size * size, hidden)
        layers[f"relu{len(widths) + 1}"] = nn.ReLU()
        layers["drop2"] = nn.Dropout(dropout)
        layers["fc2"] = nn.Linear(hidden, num_classes)
        super().__init__(layers)
