"""``SyntheticGaze``: eye-region images (36×120, greyscale) labelled with the quadrant the eye looks to.

Each image is drawn in NumPy from random parameters:

* **the eye**: an almond opening (upper and lower lids are curves ``± h (1 - (x/a)²)^p`` of random width
  ``a``, heights and roundness ``p``), placed with a random offset, so the label cannot be read from
  absolute pixel positions alone;
* **sclera, iris and pupil**: a bright sclera; a dark iris disc (radius 6–9 px) with a darker pupil,
  displaced from the eye's centre toward one of four quadrants, hidden where the lids cover it; the upper
  lid follows the gaze down a little, as real lids do;
* **skin and lighting**: skin of random brightness under a linear light gradient, an optional eyebrow;
* **blur and noise**: a Gaussian blur (σ 0.5–1.5 px) and Gaussian noise (σ 0.02–0.06).

Classes (from the image's point of view, columns growing rightwards): ``up-left``, ``up-right``,
``down-left``, ``down-right``; class ``i mod 4`` for image ``i``. The horizontal displacement is 2–12 px,
the vertical one 1–5 px, so up/down is the harder half of the task. Images are uint8 (N, 36, 120),
deterministic per ``(seed, split)``: image ``i`` is drawn from the generator of its block of 256 images.
Pure NumPy; generating 10,000 images takes a few seconds, so they are not cached.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .base import ImageArrayDataset
from .fonts import SPLITS

__all__ = ["SyntheticGaze", "GAZE_CLASSES"]

GAZE_CLASSES = ["up-left", "up-right", "down-left", "down-right"]
_H, _W = 36, 120
_BLOCK = 256
_DEFAULT_SIZES = {"train": 8000, "val": 2000, "test": 2000}
_SPLIT_IDS = {s: i for i, s in enumerate(SPLITS)}


def _blur(x: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Gaussian blur of images (N, H, W) with a per-image σ: separable, edges replicated."""
    radius = int(np.ceil(3 * sigma.max()))
    offsets = np.arange(-radius, radius + 1)
    w = np.exp(-0.5 * (offsets[None, :] / sigma[:, None]) ** 2)
    w /= w.sum(axis=1, keepdims=True)
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (radius, radius)
        p = np.pad(x, pad, mode="edge")
        n = x.shape[axis]
        x = sum(w[:, k, None, None] * np.take(p, np.arange(k, k + n), axis=axis) for k in range(len(offsets)))
    return x


def _draw(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Float images (N, 36, 120) in [0, 1] for the quadrant ``labels``."""
    n = len(labels)

    def u(lo: float, hi: float) -> np.ndarray:
        return rng.uniform(lo, hi, size=(n, 1, 1))

    rows, cols = np.mgrid[0:_H, 0:_W].astype(np.float64)
    cy, cx = 18 + u(-3, 3), 60 + u(-12, 12)  # eye centre
    a = u(32, 44)  # half width of the opening
    right = (labels % 2 == 1)[:, None, None]
    down = (labels >= 2)[:, None, None]
    dx = np.where(right, 1, -1) * u(2, 12)
    dy = np.where(down, 1, -1) * u(1, 5)
    x = (cols - cx) / a
    inside = np.clip(1 - x * x, 0, None)
    upper = cy - (u(9, 13) - 0.6 * dy) * inside ** u(0.6, 1.2)  # the lid follows the gaze
    lower = cy + u(6, 10) * inside ** u(0.6, 1.2)
    opening = (rows > upper) & (rows < lower)
    skin = u(0.45, 0.75)
    light = 1 + u(-0.25, 0.25) * (cols - 60) / 60 + u(-0.15, 0.15) * (rows - 18) / 18
    img = np.broadcast_to(skin, (n, _H, _W)).copy()
    brow = (np.abs(rows - (cy - u(14, 17) + 0.002 * (cols - cx) ** 2)) < u(1.5, 3.5)) & (rng.random((n, 1, 1)) < 0.6)
    img = np.where(brow, skin * 0.35, img)
    img = np.where(opening, u(0.75, 0.95), img)
    r_iris = u(6, 9)
    dist = np.hypot(rows - (cy + dy), cols - (cx + dx))
    img = np.where(opening & (dist < r_iris), u(0.15, 0.45), img)
    img = np.where(opening & (dist < 0.4 * r_iris), u(0.02, 0.1), img)
    img = img * light
    img = _blur(img, rng.uniform(0.5, 1.5, size=n))
    img = img + rng.normal(size=(n, _H, _W)) * u(0.02, 0.06)
    return np.clip(img, 0.0, 1.0)


class SyntheticGaze(ImageArrayDataset):
    """Eye images labelled with one of 4 gaze quadrants (see the module docstring).

    Args:
        split: ``"train"``, ``"val"`` or ``"test"`` (different random streams).
        n: number of images (default 8,000 / 2,000 / 2,000).
        seed: the generator's seed.
        transform, target_transform: as for every image dataset (default: float32 (1, 36, 120) in [0, 1]).
    """

    classes = GAZE_CLASSES

    def __init__(self, split: str = "train", n: int | None = None, seed: int = 0,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        if split not in SPLITS:
            raise ValueError(f"SyntheticGaze: split must be one of {SPLITS}, got {split!r}")
        n = _DEFAULT_SIZES[split] if n is None else n
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"SyntheticGaze: n must be a positive int, got {n!r}")
        self.split, self.seed = split, int(seed)
        labels = np.arange(n, dtype=np.int64) % len(GAZE_CLASSES)
        images = np.empty((n, _H, _W), np.uint8)
        for start in range(0, n, _BLOCK):
            rng = np.random.default_rng([self.seed, _SPLIT_IDS[split], start // _BLOCK])
            block = np.arange(start, start + _BLOCK) % len(GAZE_CLASSES)  # always a full block: prefix-stable
            drawn = _draw(block, rng)[: min(_BLOCK, n - start)]
            images[start:start + len(drawn)] = np.round(255.0 * drawn).astype(np.uint8)
        super().__init__(images, labels, transform, target_transform, source=f"{split} split")
