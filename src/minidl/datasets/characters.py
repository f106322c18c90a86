"""``SyntheticCharacters``: printed characters rendered from the machine's fonts, a stand-in for NIST36.

Each image is one character drawn with Pillow from a TrueType font of its split (:mod:`.fonts`: the splits
use disjoint font designs, so test accuracy measures reading letterforms never seen in training), then
varied, in this order:

* **stroke width**: thinned or thickened by one or two pixels (a 3×3 min or max filter at 64-pixel size;
  a thinning that would break a thin font's strokes apart is skipped);
* **rotation and shear**: an angle ~ N(0, 4°) clipped to ±10°, a horizontal shear in [-0.2, 0.2] and an
  aspect ratio ~ exp N(0, 0.1), applied as one affine map;
* **elastic distortion**: a smooth random displacement field (a 5×5 grid of uniform offsets, upsampled
  cubically) of up to 2.5 pixels at 64-pixel size, sampled together with the affine map (one bilinear
  ``scipy.ndimage.map_coordinates``);
* **scale and position**: the letter is thresholded at half intensity (as a page's ink is) and framed by
  :func:`minidl.vision.square_crop`, the very function :func:`minidl.vision.find_letters` frames its crops
  with, with a margin in [0.10, 0.22] of its size, a scale ~ exp N(0, 0.05) and an offset ~ N(0, 0.025) of
  the crop's side, so the classifier meets letters framed as the OCR pipeline frames them, give or take a
  segmentation's imprecision;
* **blur**: half the images, a Gaussian of σ in [0.3, 0.9] pixels at the final size;
* **noise**: half the images, Gaussian noise of σ in [0.01, 0.06].

Images follow the course's NIST36 convention: dark ink (0) on white paper (255 as uint8, 1.0 after
``ToTensor``), upright, 32×32 by default; classes are ``A``–``Z`` then ``0``–``9`` (NIST36's order).

Deterministic: image ``i`` of a split depends only on ``(seed, split, i)`` and the fonts installed (each
image draws from its own ``numpy.random.default_rng([seed, split, i])``). Generated sets are cached in
``$MINIDL_CACHE/synthetic`` (default ``~/.cache/minidl/synthetic``) under a key of every setting and the
font files, written atomically; ``cache=False`` skips the cache. Needs Pillow, SciPy and scikit-image
(``pip install "minidl[ocr]"``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .._cache import cache_dir, cache_key, cached_arrays
from .._optional import require
from .base import ImageArrayDataset
from .fonts import SPLITS, FontFace, find_fonts, split_fonts

__all__ = ["SyntheticCharacters", "parse_classes", "render_character", "DEFAULT_SIZES", "GENERATOR_VERSION"]

#: bump when the rendering changes, so cached sets are rebuilt
GENERATOR_VERSION = 1
#: images per split by default: the sizes of the course's NIST36 files
DEFAULT_SIZES = {"train": 10800, "val": 3600, "test": 1800}
_SPLIT_IDS = {s: i for i, s in enumerate(SPLITS)}
_FONT_PX = 64
_CANVAS = 128
_PURPOSE = "synthetic characters"


def parse_classes(spec: str) -> list[str]:
    """Characters from a spec of single characters and ranges: ``"A-Z0-9"`` → ``['A', ..., 'Z', '0', ..., '9']``."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"classes must be a non-empty string such as 'A-Z0-9', got {spec!r}")
    chars: list[str] = []
    for a, b, single in re.findall(r"(.)-(.)|(.)", spec, flags=re.S):
        if single:
            chars.append(single)
        elif ord(a) > ord(b):
            raise ValueError(f"classes: range {a}-{b} runs backwards in {spec!r}")
        else:
            chars += [chr(c) for c in range(ord(a), ord(b) + 1)]
    if len(set(chars)) != len(chars) or any(c.isspace() for c in chars):
        raise ValueError(f"classes: {spec!r} repeats a character or holds whitespace")
    return chars


class _Fonts:
    """Pillow font objects of the faces, loaded once."""

    def __init__(self) -> None:
        self.font_module = require("PIL.ImageFont", "Pillow", "ocr", _PURPOSE)
        self.loaded: dict[tuple[str, int], Any] = {}

    def get(self, face: FontFace, px: int) -> Any:
        key = (face.path, px)
        if key not in self.loaded:
            self.loaded[key] = self.font_module.truetype(face.path, px)
        return self.loaded[key]


def _glyph(font: Any, char: str, stroke: int) -> np.ndarray:
    """The character drawn centred on the canvas, float ink in [0, 1], with its strokes widened (>0) or
    thinned (<0) by ``abs(stroke)`` pixels per side."""
    image_module = require("PIL.Image", "Pillow", "ocr", _PURPOSE)
    draw_module = require("PIL.ImageDraw", "Pillow", "ocr", _PURPOSE)
    filters = require("PIL.ImageFilter", "Pillow", "ocr", _PURPOSE)
    im = image_module.new("L", (_CANVAS, _CANVAS), 0)
    draw_module.Draw(im).text((_CANVAS / 2, _CANVAS / 2), char, font=font, fill=255, anchor="mm")
    for _ in range(abs(stroke)):
        im = im.filter(filters.MaxFilter(3) if stroke > 0 else filters.MinFilter(3))
    return np.asarray(im, dtype=np.float64) / 255.0


def _warp(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The affine map (rotation, shear, aspect) and the elastic field, sampled in one pass."""
    ndimage = require("scipy.ndimage", "SciPy", "ocr", _PURPOSE)
    angle = math.radians(float(np.clip(rng.normal(0.0, 4.0), -10.0, 10.0)))
    shear = rng.uniform(-0.2, 0.2)
    aspect = math.exp(rng.normal(0.0, 0.1))
    cos, sin = math.cos(angle), math.sin(angle)
    # maps output (row, col) offsets from the centre to input offsets
    m = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, 0.0], [shear, 1.0]]) @ np.diag([1.0, aspect])
    n = _CANVAS
    centre = (n - 1) / 2
    rr, cc = np.mgrid[0:n, 0:n].astype(np.float64) - centre
    src = np.einsum("ij,jhw->ihw", m, np.stack([rr, cc])) + centre
    alpha = rng.uniform(0.0, 2.5) * _CANVAS / _FONT_PX / 2
    for axis in range(2):
        coarse = rng.uniform(-1.0, 1.0, size=(5, 5))
        src[axis] += alpha * ndimage.zoom(coarse, n / 5, order=3)[:n, :n]
    return ndimage.map_coordinates(ink, src, order=1, mode="constant", cval=0.0)


def render_character(font: Any, char: str, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """One varied character (see the module docstring) as float ink in [0, 1] (1 = ink), ``size``²."""
    from ..vision.letters import square_crop

    ndimage = require("scipy.ndimage", "SciPy", "ocr", _PURPOSE)
    stroke = int(rng.choice([-1, 0, 0, 0, 1, 1, 2]))
    glyph = _glyph(font, char, stroke)
    if stroke < 0:  # a thin font thinned further may break apart: keep it only if it stays whole
        plain = _glyph(font, char, 0)
        pieces = ndimage.label(glyph >= 0.5, structure=np.ones((3, 3)))[1]
        if pieces > ndimage.label(plain >= 0.5, structure=np.ones((3, 3)))[1] or glyph.sum() < 0.5 * plain.sum():
            glyph = plain
    ink = _warp(glyph, rng) >= 0.5
    rows, cols = np.nonzero(ink)
    letter = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1].astype(np.float64)
    out = square_crop(letter, size, pad=rng.uniform(0.10, 0.22), shift=tuple(rng.normal(0.0, 0.025, size=2)),
                      scale=math.exp(rng.normal(0.0, 0.05)))
    if rng.random() < 0.5:
        out = ndimage.gaussian_filter(out, rng.uniform(0.3, 0.9))
    if rng.random() < 0.5:
        out = out + rng.normal(0.0, rng.uniform(0.01, 0.06), size=out.shape)
    return np.clip(out, 0.0, 1.0)


def _faces_by_group(faces: list[FontFace]) -> list[list[FontFace]]:
    groups: dict[str, list[FontFace]] = {}
    for f in faces:
        groups.setdefault(f.group, []).append(f)
    return [groups[g] for g in sorted(groups)]


def _font_spec(faces: list[FontFace]) -> list[list[Any]]:
    """What identifies the fonts in a cache key: names, file names and sizes."""
    return [[f.family, f.style, os.path.basename(f.path), os.path.getsize(f.path)] for f in faces]


class SyntheticCharacters(ImageArrayDataset):
    """Characters rendered from fonts, deterministic per seed, with font designs disjoint between splits.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"`` (each its own font designs, see :mod:`.fonts`).
        size: image side in pixels (default 32, the course's size).
        classes: the characters, as single characters and ranges (default ``"A-Z0-9"``, 36 classes).
        n: number of images (default: 10,800 / 3,600 / 1,800 for train / val / test, NIST36's sizes);
            image ``i`` shows class ``i mod len(classes)``, so classes are balanced.
        seed: the generator's seed; the same seed gives the same images.
        transform, target_transform: as for every image dataset (default: float32 (1, size, size) in [0, 1]).
        cache: read and write the generated set in the cache folder (see the module docstring).

    Attributes: ``data`` uint8 (n, size, size), dark ink on white; ``targets`` int64; ``classes`` (the
    characters); ``fonts`` (the split's :class:`~minidl.datasets.fonts.FontFace` list) and ``font_index``
    (which of them drew each image).
    """

    def __init__(self, split: str = "train", size: int = 32, classes: str = "A-Z0-9", n: int | None = None,
                 seed: int = 0, transform: Callable | None = None, target_transform: Callable | None = None,
                 cache: bool = True) -> None:
        if split not in SPLITS:
            raise ValueError(f"SyntheticCharacters: split must be one of {SPLITS}, got {split!r}")
        if isinstance(size, bool) or not isinstance(size, int) or size < 8:
            raise ValueError(f"SyntheticCharacters: size must be an int >= 8, got {size!r}")
        n = DEFAULT_SIZES[split] if n is None else n
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"SyntheticCharacters: n must be a positive int, got {n!r}")
        chars = parse_classes(classes)
        self.split, self.seed = split, int(seed)
        self.classes = chars
        self.fonts = split_fonts(find_fonts("".join(chars)))[split]
        spec = {"kind": "characters", "version": GENERATOR_VERSION, "split": split, "size": size,
                "classes": chars, "n": n, "seed": self.seed, "fonts": _font_spec(self.fonts)}
        path = cache_dir("synthetic") / f"characters-{split}-{cache_key(spec)}.npz"
        arrays = cached_arrays(path, lambda: self._generate(chars, n, size), enabled=cache)
        self.font_index = arrays["font_index"]
        super().__init__(arrays["images"], arrays["labels"], transform, target_transform, source=f"{split} split")

    def _generate(self, chars: list[str], n: int, size: int) -> dict[str, np.ndarray]:
        groups = _faces_by_group(self.fonts)
        position = {f: i for i, f in enumerate(self.fonts)}
        fonts = _Fonts()
        images = np.empty((n, size, size), np.uint8)
        labels = np.arange(n, dtype=np.int64) % len(chars)
        font_index = np.empty(n, np.int64)
        for i in range(n):
            rng = np.random.default_rng([self.seed, _SPLIT_IDS[self.split], i])
            group = groups[rng.integers(len(groups))]
            face = group[rng.integers(len(group))]
            ink = render_character(fonts.get(face, _FONT_PX), chars[labels[i]], rng, size)
            images[i] = np.round(255.0 * (1.0 - ink)).astype(np.uint8)
            font_index[i] = position[face]
        return {"images": images, "labels": labels, "font_index": font_index}

    def __repr__(self) -> str:
        return (super().__repr__() + f"\n    Split: {self.split} ({len(self.fonts)} font faces)"
                f"\n    Classes: {''.join(self.classes)}\n    Seed: {self.seed}")
