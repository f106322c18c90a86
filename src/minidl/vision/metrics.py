"""Scoring OCR: edit distance and character accuracy of a text, and matching found boxes to true ones."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError

__all__ = ["edit_distance", "char_accuracy", "box_iou", "match_boxes"]


def edit_distance(a: str, b: str) -> int:
    r"""Levenshtein distance: the fewest insertions, deletions and substitutions turning ``a`` into ``b``.

    Dynamic programme over rows, :math:`D_{i,j} = \min(D_{i-1,j} + 1,\ D_{i-1,j-1} + [a_i \ne b_j],\
    D_{i,j-1} + 1)`. The last term chains along a row; it is resolved at once as
    :math:`D_{i,j} = j + \min_{k \le j}(T_k - k)` over the row :math:`T` of the first two terms (a running
    minimum), so each row is a few vectorised operations.
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    cols = np.arange(len(b) + 1)
    row = cols.copy()
    for i, ch in enumerate(a, start=1):
        t = np.empty_like(row)
        t[0] = i
        t[1:] = np.minimum(row[1:] + 1, row[:-1] + (codes_b != ord(ch)))
        row = np.minimum.accumulate(t - cols) + cols
    return int(row[-1])


def char_accuracy(predicted: str, truth: str) -> float:
    """``1 - edit_distance(predicted, truth) / len(truth)``, the usual OCR character accuracy (may be negative
    when far more characters are predicted than exist; 1 for two empty texts)."""
    if not truth:
        return 1.0 if not predicted else 0.0
    return 1.0 - edit_distance(predicted, truth) / len(truth)


def _boxes(b: np.ndarray, name: str) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4) if np.size(b) else np.zeros((0, 4))
    if b.ndim != 2 or b.shape[1] != 4:
        raise ShapeError(f"{name}: expected boxes (N, 4) as (row0, col0, row1, col1), got shape {b.shape}")
    return b


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``a`` (N, 4) with every box of ``b`` (M, 4): (N, M)."""
    a, b = _boxes(a, "box_iou"), _boxes(b, "box_iou")
    rows = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    cols = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = rows * cols
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_boxes(found: np.ndarray, truth: np.ndarray, min_iou: float = 0.5) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` matching found box i to true box j, each box used once, greedily by decreasing IoU,
    keeping pairs with IoU >= ``min_iou``. ``len(pairs) / len(truth)`` is the fraction of letters found."""
    iou = box_iou(found, truth)
    pairs: list[tuple[int, int]] = []
    if iou.size == 0:
        return pairs
    order = np.argsort(-iou, axis=None, kind="stable")
    used_f, used_t = set(), set()
    for flat in order:
        i, j = divmod(int(flat), iou.shape[1])
        if iou[i, j] < min_iou:
            break
        if i not in used_f and j not in used_t:
            pairs.append((i, j))
            used_f.add(i)
            used_t.add(j)
    return pairs
