"""``MLP``: a multilayer perceptron for flattened inputs (e.g. 28×28 images → 784 features)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from .. import nn

__all__ = ["MLP", "make_activation"]

_ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name: ``'relu'``, ``'leaky_relu'``, ``'tanh'`` or ``'sigmoid'``."""
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(_ACTIVATIONS)}") from None


class MLP(nn.Sequential):
    """flatten – {linear – [batchnorm] – activation – [dropout]} × len(hidden_dims) – linear (logits).

    Layers are named ``fc1, bn1, act1, drop1, fc2, …`` so the state_dict keys read ``fc1.weight``,
    ``bn1.running_mean``, ...; the output layer is ``fc{len(hidden_dims)+1}``.
    """

    def __init__(self, input_dim: int = 784, hidden_dims: Sequence[int] = (100,), num_classes: int = 10,
                 activation: str = "relu", dropout: float = 0.0, batchnorm: bool = False) -> None:
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        sizes = [input_dim, *hidden_dims, num_classes]
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in sizes):
            raise ValueError(f"MLP: input_dim, hidden_dims and num_classes must be positive integers, got "
                             f"input_dim={input_dim!r}, hidden_dims={list(hidden_dims)!r}, num_classes={num_classes!r}")
        layers: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())
        dims = [input_dim, *hidden_dims]
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True), start=1):
            layers[f"fc{i}"] = nn.Linear(d_in, d_out)
            if batchnorm:
                layers[f"bn{i}"] = nn.BatchNorm1d(d_out)
            layers[f"act{i}"] = make_activation(activation)
            if dropout > 0:
                layers[f"drop{i}"] = nn.Dropout(dropout)
        layers[f"fc{len(dims)}"] = nn.Linear(dims[-1], num_classes)
        super().__init__(layers)
