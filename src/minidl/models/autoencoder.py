"""``Autoencoder``: a fully connected autoencoder with a sigmoid output, trained with MSE to reconstruct x."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import nn
from ..tensor import Tensor

__all__ = ["Autoencoder"]


#: hidden activations by name (``activation=`` of :class:`Autoencoder`)
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
}


def _stack(dims: Sequence[int], last_activation: nn.Module | None, activation: str = "relu") -> nn.Sequential:
    """linear – act – … – linear, with ``last_activation`` (or nothing) after the last linear layer."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(dims) - 2:
            layers.append(ACTIVATIONS[activation]())
    if last_activation is not None:
        layers.append(last_activation)
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """x (N, …) → flatten → encoder → code (N, encoder_dims[-1]) → decoder → sigmoid → x̂ (shape of x).

    The encoder is linear – act – … – linear (a linear code), ``act`` the hidden ``activation`` (ReLU by
    default; see :data:`ACTIVATIONS`). The decoder's hidden sizes are
    ``decoder_dims``, by default the encoder's mirrored (``(256, 64)`` gives decoder 64 → 256 → input_dim).
    The output is reshaped to the input's shape, so ``F.mse_loss(model(x), x)`` trains it; inputs are
    expected in [0, 1] like the sigmoid's range.
    """

    def __init__(self, input_dim: int = 784, encoder_dims: Sequence[int] = (256, 64),
                 decoder_dims: Sequence[int] | None = None, activation: str = "relu") -> None:
        super().__init__()
        if not encoder_dims:
            raise ValueError("Autoencoder: encoder_dims must name at least the code size")
        if activation not in ACTIVATIONS:
            raise ValueError(f"Autoencoder: activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        if decoder_dims is None:
            decoder_dims = tuple(reversed(encoder_dims[:-1]))
        self.input_dim = input_dim
        self.flatten = nn.Flatten()
        self.encoder = _stack([input_dim, *encoder_dims], None, activation)
        self.decoder = _stack([encoder_dims[-1], *decoder_dims, input_dim], nn.Sigmoid(), activation)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(self.flatten(x))

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x)).reshape(x.shape)
