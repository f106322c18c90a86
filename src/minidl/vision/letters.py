"""Finding the letters on a page: ``find_letters(image) -> (boxes, line_ids, crops)`` on scikit-image.

The pipeline (the course's exercise, made robust to photos):

1. **Grey levels.** RGB(A) becomes luminance in [0, 1] (``color.rgb2gray``); integers are scaled by their
   maximum.
2. **Denoise.** Total-variation denoising (``restoration.denoise_tv_chambolle``) flattens sensor noise while
   keeping the strokes' edges.
3. **Even out the lighting.** A grey closing with a square much wider than any stroke
   (``morphology.closing``) erases the dark ink and leaves the paper's brightness ``b(x, y)``; dividing by it,
   ``f = g / b``, makes paper 1 everywhere, so one global threshold fits a page lit unevenly.
4. **Threshold.** Otsu's threshold ``t`` (``filters.threshold_otsu``) maximises the between-class
   variance of the two grey-level classes. Ink is ``f < t``, plus the pixels below ``(t + 1) / 2`` that
   touch it (hysteresis, ``filters.apply_hysteresis_threshold``): hairlines and serifs a blur has
   lightened stay attached to their letter, while the paper's noise makes no new specks.
5. **Close gaps.** Specks (components of under 1% of a letter's squared height) are removed and a closing
   with a small disk (radius ≈ 1/25 of the median letter height) mends strokes broken by blur or
   thresholding.
6. **Components.** ``measure.label`` (8-connectivity) and ``measure.regionprops`` give one bounding box per
   letter; components much shorter than the median letter (noise, dots) are dropped.
7. **Lines.** Each box is linked to its nearest box to the right that overlaps it vertically by at least half
   the smaller height, when that box's nearest left neighbour is the same box (a mutual choice), so links
   follow a text line even on a rotated page. The chains are lines; they are ordered top to bottom by
   their height at the page's left edge, ``y - s x`` with the page's skew ``s`` (the median slope of the
   links), and each line left to right.
8. **Crops.** Each letter's own pixels (its component only, so a neighbour reaching into the box is left
   out) are framed by :func:`square_crop`: centred in a square ``max(h, w) (1 + 2 pad)`` wide and resized
   to 32×32 with anti-aliasing (``transform.resize``), dark ink on white paper like the course's NIST36
   images and :class:`~minidl.datasets.SyntheticCharacters`, which frames its letters with the same
   function.

scikit-image is an optional extra (``pip install "minidl[ocr]"``), imported when a function runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._optional import require
from ..errors import DataError, ShapeError

__all__ = ["find_letters", "square_crop", "word_starts", "CROP_SIZE", "CROP_PAD"]

#: side of the letter crops, in pixels (the course's 32×32)
CROP_SIZE = 32
#: margin around a letter in its square crop, as a fraction of the letter's longer side
CROP_PAD = 0.15
_PURPOSE = "finding letters"


def _skimage(sub: str) -> Any:
    return require(f"skimage.{sub}", "scikit-image", "ocr", _PURPOSE)


def square_crop(ink: np.ndarray, size: int = CROP_SIZE, pad: float = CROP_PAD, *,
                shift: tuple[float, float] = (0.0, 0.0), scale: float = 1.0) -> np.ndarray:
    """Frame a letter the way the classifier expects: ink (values in [0, 1], 1 = ink) tightly cropped to the
    letter, centred in a square of side ``max(h, w) (1 + 2 pad) / scale``, moved by ``shift`` (a fraction of
    that side, (down, right)), resized to ``size`` × ``size`` with anti-aliasing. Returns float64 ink in
    [0, 1] (1 = ink). ``shift`` and ``scale`` let a generator imitate imprecise segmentation."""
    transform = _skimage("transform")
    ink = np.asarray(ink, dtype=np.float64)
    if ink.ndim != 2 or min(ink.shape) < 1:
        raise ShapeError(f"square_crop: expected a non-empty 2-D letter image, got shape {ink.shape}")
    if not (scale > 0 and pad >= 0):
        raise ValueError(f"square_crop: scale must be positive and pad non-negative, got {scale}, {pad}")
    h, w = ink.shape
    side = max(h, w, int(math.ceil(max(h, w) * (1 + 2 * pad) / scale)))
    canvas = np.zeros((side, side))
    top = int(round((side - h) / 2 + shift[0] * side))
    left = int(round((side - w) / 2 + shift[1] * side))
    top, left = min(max(top, 0), side - h), min(max(left, 0), side - w)
    canvas[top:top + h, left:left + w] = ink
    out = transform.resize(canvas, (size, size), order=1, anti_aliasing=side > size, mode="constant")
    return np.clip(out, 0.0, 1.0)


def _as_gray(image: Any) -> np.ndarray:
    """A 2-D float64 image in [0, 1] from grey, RGB or RGBA arrays (uint8, integer or float)."""
    a = np.asarray(image)
    if a.dtype.kind not in "uif" or a.size == 0:
        raise DataError(f"find_letters: expected a non-empty numeric image, got dtype {a.dtype} shape {a.shape}")
    if a.ndim == 3 and a.shape[2] in (3, 4):
        a = a[..., :3]
    elif a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    elif a.ndim != 2:
        raise ShapeError(f"find_letters: expected an image (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape "
                         f"{a.shape}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise DataError("find_letters: the image holds NaN or infinite values")
        hi = 1.0 if a.max() <= 1.0 else float(a.max())
        a = np.clip(a.astype(np.float64) / hi, 0.0, 1.0)
    else:  # integers: 8-bit when they fit, else 16-bit
        a = np.clip(a.astype(np.float64) / (255.0 if a.max() <= 255 else 65535.0), 0.0, 1.0)
    return _skimage("color").rgb2gray(a) if a.ndim == 3 else a


def _ink_mask(gray: np.ndarray) -> np.ndarray:
    """Steps 2-4: denoise, flatten the lighting, Otsu threshold. True where there is ink."""
    restoration, morphology, filters = _skimage("restoration"), _skimage("morphology"), _skimage("filters")
    smooth = restoration.denoise_tv_chambolle(gray, weight=0.05)
    k = max(31, min(gray.shape) // 20) | 1  # wider than any stroke of a letter of this page
    paper = morphology.closing(smooth, np.ones((k, 1), bool))
    paper = morphology.closing(paper, np.ones((1, k), bool))  # the square, as two 1-D passes
    flat = np.clip(smooth / np.maximum(paper, 1e-3), 0.0, 1.0)
    if flat.max() - flat.min() < 1e-3:
        return np.zeros(gray.shape, bool)  # a blank page
    t = filters.threshold_otsu(flat)
    # hysteresis: pixels darker than t are ink, and so are those darker than halfway to the paper that
    # touch them (thin strokes and serifs a blur has lightened), without new specks from the paper
    return filters.apply_hysteresis_threshold(1.0 - flat, 1.0 - (t + 1.0) / 2, 1.0 - t)


def _median_height(mask: np.ndarray) -> float:
    measure = _skimage("measure")
    props = measure.regionprops(measure.label(mask, connectivity=2))
    heights = np.array([p.bbox[2] - p.bbox[0] for p in props if p.area >= 12])
    return float(np.median(heights)) if heights.size else 0.0


def _link_lines(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step 7: line ids (0 = top line) and the reading order of ``boxes`` (N, 4) (r0, c0, r1, c1)."""
    n = len(boxes)
    r0, c0, r1, c1 = (boxes[:, i].astype(np.float64) for i in range(4))
    h = r1 - r0
    # candidate j right of i: starts right of i's start and overlaps it vertically by >= half the smaller height
    overlap = np.minimum(r1[:, None], r1[None, :]) - np.maximum(r0[:, None], r0[None, :])
    ok = (c0[None, :] > c0[:, None]) & (overlap >= 0.5 * np.minimum(h[:, None], h[None, :]))
    gap = np.where(ok, c0[None, :] - c1[:, None], np.inf)
    right = np.where(np.isfinite(gap).any(axis=1), np.argmin(gap, axis=1), -1)
    left = np.where(np.isfinite(gap).any(axis=0), np.argmin(gap, axis=0), -1)
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    slopes = []
    yc, xc = (r0 + r1) / 2, (c0 + c1) / 2
    for i in range(n):
        j = right[i]
        if j >= 0 and left[j] == i:
            parent[root(j)] = root(i)
            if xc[j] > xc[i]:
                slopes.append((yc[j] - yc[i]) / (xc[j] - xc[i]))
    chains = np.array([root(i) for i in range(n)])
    skew = float(np.median(slopes)) if slopes else 0.0
    labels, ids = np.unique(chains, return_inverse=True)
    height_at_left = np.array([np.mean(yc[ids == k] - skew * xc[ids == k]) for k in range(len(labels))])
    rank = np.empty(len(labels), np.int64)
    rank[np.argsort(height_at_left, kind="stable")] = np.arange(len(labels))
    line_ids = rank[ids]
    order = np.lexsort((c0, line_ids))
    return line_ids[order], order


def find_letters(image: Any, size: int = CROP_SIZE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The letters on a page, in reading order (see the module docstring for the steps).

    ``image``: grey (H, W), RGB or RGBA, uint8 or float in [0, 1]; dark writing on lighter paper.
    Returns ``boxes`` int64 (N, 4) as ``(row0, col0, row1, col1)`` with exclusive ends (``regionprops``'s
    ``bbox``), ``line_ids`` int64 (N,) numbering the lines from 0 at the top, and ``crops`` float32
    (N, size, size), each letter framed by :func:`square_crop` with ink 0 on paper 1. A page without
    writing gives N = 0.
    """
    measure, morphology = _skimage("measure"), _skimage("morphology")
    gray = _as_gray(image)
    ink = _ink_mask(gray)
    empty = (np.zeros((0, 4), np.int64), np.zeros(0, np.int64), np.zeros((0, size, size), np.float32))
    h_med = _median_height(ink)
    if h_med == 0:
        return empty
    specks = measure.label(ink, connectivity=2)
    area = np.bincount(specks.ravel())
    keep = area > max(4, int(0.01 * h_med * h_med))
    keep[0] = False
    ink = keep[specks]
    radius = max(1, int(round(h_med / 25)))
    ink = morphology.closing(ink, morphology.disk(radius))
    labels = measure.label(ink, connectivity=2)
    props = [p for p in measure.regionprops(labels)
             if p.bbox[2] - p.bbox[0] >= 0.35 * h_med and not (
                 p.bbox[2] - p.bbox[0] > 4 * h_med and p.bbox[3] - p.bbox[1] > 4 * h_med)]
    if not props:
        return empty
    boxes = np.array([p.bbox for p in props], dtype=np.int64)
    line_ids, order = _link_lines(boxes)
    crops = np.empty((len(props), size, size), np.float32)
    for out_i, k in enumerate(order):
        r0, c0, r1, c1 = boxes[k]
        own = labels[r0:r1, c0:c1] == props[k].label
        crops[out_i] = 1.0 - square_crop(own.astype(np.float64), size)
    return boxes[order], line_ids, crops


def word_starts(boxes: np.ndarray, line_ids: np.ndarray, gap: float = 0.6) -> np.ndarray:
    """Which letters begin a new word: the first of each line, and those whose horizontal gap to the letter
    before them exceeds ``gap`` times the median letter height. ``boxes``/``line_ids`` as ``find_letters``
    returns them (reading order)."""
    boxes = np.asarray(boxes)
    line_ids = np.asarray(line_ids)
    n = len(boxes)
    starts = np.ones(n, bool)
    if n < 2:
        return starts
    h_med = float(np.median(boxes[:, 2] - boxes[:, 0]))
    same_line = line_ids[1:] == line_ids[:-1]
    gaps = boxes[1:, 1] - boxes[:-1, 3]
    starts[1:] = ~same_line | (gaps > gap * h_med)
    return starts
