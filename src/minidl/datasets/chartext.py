"""Character-level text at hand offline: the docstrings of minidl's own source, read with ``ast`` (nothing is
imported), as next-character prediction sequences.

``CharSequences(text, seq_len)[i]`` is ``(x, y)``: ``seq_len`` character ids starting at ``i · stride`` and the
same window shifted by one (the next characters). The unigram entropy H = −Σ p(c) log p(c) of the text is the
loss of a model that ignores context; a sequence model that learns anything goes well below it.
"""

from __future__ import annotations

import ast
import math
from collections import Counter
from pathlib import Path

import numpy as np

from ..utils.data.dataset import Dataset

__all__ = ["docstring_text", "CharSequences"]


def docstring_text(root: str | Path | None = None) -> str:
    """Every module, class and function docstring of the Python files under ``root`` (default: the minidl
    package), in file order, separated by blank lines."""
    base = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    parts: list[str] = []
    for path in sorted(base.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in [tree, *ast.walk(tree)]:
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc and (node is tree or not isinstance(node, ast.Module)):
                    parts.append(doc.strip())
    return "\n\n".join(dict.fromkeys(parts))  # each docstring once, first occurrence first


class CharSequences(Dataset):
    """Next-character windows over ``text``: ids in ``vocab`` order (the sorted set of its characters)."""

    def __init__(self, text: str, seq_len: int = 64, stride: int | None = None) -> None:
        if len(text) <= seq_len:
            raise ValueError(f"CharSequences: the text has {len(text)} characters, fewer than seq_len + 1 = "
                             f"{seq_len + 1}")
        self.text, self.seq_len, self.stride = text, seq_len, stride or seq_len
        self.vocab = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.vocab)}
        self.ids = self.encode(text)

    def encode(self, s: str) -> np.ndarray:
        return np.array([self.index[c] for c in s], dtype=np.int64)

    def decode(self, ids: np.ndarray | list[int]) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def unigram_entropy(self) -> float:
        """H = −Σ p(c) ln p(c) in nats: the cross-entropy of predicting every character by its frequency."""
        counts = np.array(list(Counter(self.text).values()), dtype=np.float64)
        p = counts / counts.sum()
        return float(-(p * np.log(p)).sum())

    def __len__(self) -> int:
        return (len(self.ids) - self.seq_len - 1) // self.stride + 1

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"CharSequences: index {i} out of range for {len(self)} windows")
        start = (i % len(self)) * self.stride
        window = self.ids[start:start + self.seq_len + 1]
        return window[:-1], window[1:]

    def __repr__(self) -> str:
        return (f"Dataset CharSequences\n    Number of windows: {len(self)} of {self.seq_len} characters\n"
                f"    Vocabulary: {len(self.vocab)} characters, unigram entropy {self.unigram_entropy():.3f} nats "
                f"({self.unigram_entropy() / math.log(2):.3f} bits)")
