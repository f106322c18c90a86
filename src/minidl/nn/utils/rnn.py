"""``nn.utils.rnn.pad_sequence``: variable-length sequences stacked into one padded tensor (PyTorch's layout)."""

from __future__ import annotations

from collections.abc import Sequence

from ... import functions as fns
from ...errors import ShapeError
from ...tensor import Tensor

__all__ = ["pad_sequence"]


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Sequences of shape (L_i, *) padded with ``padding_value`` to the longest length L and stacked: (L, B, *),
    or (B, L, *) with ``batch_first``; ``padding_side='left'`` pads before each sequence. Differentiable in
    each sequence (the padding is built by concatenation)."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: sequence {i} must be a Tensor, got {type(s).__name__}")
        if s.dim() < 1 or tuple(s.shape[1:]) != tuple(seqs[0].shape[1:]):
            raise ShapeError(f"pad_sequence: sequence {i} has shape {tuple(s.shape)}; every sequence must be "
                             f"(L, {', '.join(map(str, seqs[0].shape[1:]))}) with only L differing")
    length = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        fill = fns.full((length - s.shape[0], *s.shape[1:]), padding_value, dtype=s.dtype)
        padded.append(fns.cat([s, fill] if padding_side == "right" else [fill, s], 0))
    return fns.stack(padded, 0 if batch_first else 1)
