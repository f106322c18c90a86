"""A character-level LSTM language model trained on minidl's own docstrings (offline), then sampled.

Embedding(vocab, 64) -> LSTM(64, 256, 2 layers, dropout 0.1) -> Linear(256, vocab), trained to predict the
next character with Adam and a cosine schedule; it prints the loss against the text's unigram entropy (the
loss of ignoring context) and a sample.

    python examples/lstm_sequence.py                  # 600 steps of 32 x 64 characters
    python examples/lstm_sequence.py --steps 100      # a quick look
"""

from __future__ import annotations

import _char_lm

import minidl
import minidl.nn as nn


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, embed: int = 64, hidden: int = 256, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: minidl.Tensor) -> minidl.Tensor:
        out, _ = self.lstm(self.embed(x))
        return self.head(out)


def main(argv: list[str] | None = None) -> dict:
    return _char_lm.main(__doc__.splitlines()[0], "LSTM",
                         lambda vocab, a: CharLSTM(vocab, hidden=a.hidden, layers=a.layers),
                         {"hidden": 256, "layers": 2}, 3e-3, argv)


if __name__ == "__main__":
    main()
