"""A small character-level Transformer trained on minidl's own docstrings (offline), then sampled.

Token and learned position embeddings (d_model 128) -> 2 pre-norm TransformerEncoderLayers (4 heads, GELU,
causal mask) -> LayerNorm -> Linear(128, vocab): a decoder-only language model built from
``nn.TransformerEncoder`` with ``is_causal``. It prints the loss against the text's unigram entropy and a
sample.

    python examples/char_transformer.py               # 600 steps of 32 x 64 characters
    python examples/char_transformer.py --steps 100   # a quick look
"""

from __future__ import annotations

import _char_lm
import numpy as np

import minidl
import minidl.nn as nn


class CharTransformer(nn.Module):
    def __init__(self, vocab: int, d_model: int = 128, heads: int = 4, layers: int = 2, context: int = 64) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, d_model)
        self.positions = nn.Embedding(context, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.1, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab)

    def forward(self, x: minidl.Tensor) -> minidl.Tensor:
        steps = x.shape[1]
        h = self.tokens(x) + self.positions(minidl.tensor(np.arange(steps)))
        causal = minidl.tensor(np.triu(np.ones((steps, steps), bool), 1))  # True: may not attend (the future)
        return self.head(self.encoder(h, mask=causal, is_causal=True))


def main(argv: list[str] | None = None) -> dict:
    return _char_lm.main(__doc__.splitlines()[0], "Transformer",
                         lambda vocab, a: CharTransformer(vocab, d_model=a.d_model, layers=a.layers),
                         {"d-model": 128, "layers": 2}, 1e-3, argv)


if __name__ == "__main__":
    main()
