"""A small character-level Transformer trained on minidl's own docstrings (offline), then sampled.

Token and learned position embeddings (d_model 128) -> 2 pre-norm TransformerEncoderLayers (4 heads, GELU,
causal mask) -> LayerNorm -> Linear(128, vocab): a decoder-only language model built from
``nn.TransformerEncoder`` with ``is_causal``. It prints the loss against the text's unigram entropy and a
sample.

    python examples/char_transformer.py               # 600 steps of 32 x 64 characters
    python examples/char_transformer.py --steps 100   # a quick look
"""

from __future__ import annotations

import argparse

import numpy as np
from _char_lm import report, train

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
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    result = train(lambda vocab: CharTransformer(vocab, d_model=args.d_model, layers=args.layers), steps=args.steps,
                   seed=args.seed, lr=args.lr)
    report(result, "Transformer", "The gradient of ")
    return result


if __name__ == "__main__":
    main()
