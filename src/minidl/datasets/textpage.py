"""``SyntheticTextPage``: pages of printed lines with their ground truth, for end-to-end OCR tests.

A page is white paper with lines of random words (2–8 letters) and numbers (1–5 digits, one token in
four), drawn character by character in black with one font of the page's split (the splits of
:mod:`.fonts`, disjoint by design, so pages of the ``test`` split are in fonts no ``train`` classifier
saw). Its font size (cap height about 0.7 of it) is drawn per page; letters are spaced by 0.08–0.18 of the
font size on top of the font's own spacing so that they do not touch, words by 0.6–1.0 of it, lines by
1.5–2 times it.

Ground truth: the text (lines joined by newlines, words by single spaces) and the ink bounding box of every
character (measured on the drawn glyph, not the font's metrics), in reading order. :func:`photo_like`
turns a page into what a phone camera would give: rotated, blurred, lit unevenly and noisy, with the boxes
carried along. Deterministic per ``(seed, split, index)``.
Needs Pillow and SciPy (``pip install "minidl[ocr]"``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .._optional import require
from ..utils.data.dataset import Dataset
from .characters import _faces_by_group, _Fonts, parse_classes
from .fonts import SPLITS, FontFace, find_fonts, split_fonts

__all__ = ["SyntheticTextPage", "TextPage", "photo_like"]

_SPLIT_IDS = {s: i for i, s in enumerate(SPLITS)}
_PAGE_STREAM = 7  # keeps page randomness apart from SyntheticCharacters' streams of the same seed
_PURPOSE = "synthetic text pages"


@dataclass
class TextPage:
    """One page: ``image`` uint8 (H, W) (dark ink on white), ``lines`` of text, ``boxes`` int64 (N, 4)
    ``(row0, col0, row1, col1)`` (exclusive ends) of its N non-space characters in reading order, and the
    ``font`` it is written in."""

    image: np.ndarray
    lines: list[str]
    boxes: np.ndarray
    font: FontFace

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def chars(self) -> str:
        """The characters of ``boxes``, in order (the text without spaces and newlines)."""
        return "".join(self.text.split())


def _token(rng: np.random.Generator, letters: list[str], digits: list[str]) -> str:
    if digits and (not letters or rng.random() < 0.25):
        return "".join(rng.choice(digits, size=int(rng.integers(1, 6))))
    return "".join(rng.choice(letters, size=int(rng.integers(2, 9))))


def _ink_box(image_module: Any, draw_module: Any, font: Any, c: str, x: float, baseline: float,
             px: int) -> tuple[int, int, int, int]:
    """The ink bounds ``(row0, col0, row1, col1)`` of ``c`` drawn at ``(x, baseline)``: drawn alone on a
    scratch canvas, since a font's advertised box includes its side bearings."""
    ox, oy = int(x) - px, int(baseline) - 2 * px
    scratch = image_module.new("L", (3 * px, 3 * px), 0)
    draw_module.Draw(scratch).text((x - ox, baseline - oy), c, font=font, fill=255, anchor="ls")
    left, top, right, bottom = scratch.getbbox()
    return top + oy, left + ox, bottom + oy, right + ox


def _render(rng: np.random.Generator, font: Any, px: int, height: int, width: int,
            chars: list[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
    image_module = require("PIL.Image", "Pillow", "ocr", _PURPOSE)
    draw_module = require("PIL.ImageDraw", "Pillow", "ocr", _PURPOSE)
    letters = [c for c in chars if not c.isdigit()]
    digits = [c for c in chars if c.isdigit()]
    im = image_module.new("L", (width, height), 255)
    draw = draw_module.Draw(im)
    margin = int(0.08 * width)
    tracking = rng.uniform(0.08, 0.18) * px
    space = rng.uniform(0.6, 1.0) * px
    leading = rng.uniform(1.5, 2.0) * px
    lines: list[str] = []
    boxes: list[tuple[int, int, int, int]] = []
    baseline: float = margin + px
    while baseline + 0.3 * px < height - margin:
        x, words = float(margin), []
        while True:
            word = _token(rng, letters, digits)
            advance = sum(font.getlength(c) + tracking for c in word)
            if x + advance > width - margin:
                break
            for c in word:
                draw.text((x, baseline), c, font=font, fill=0, anchor="ls")
                boxes.append(_ink_box(image_module, draw_module, font, c, x, baseline, px))
                x += font.getlength(c) + tracking
            words.append(word)
            x += space
        if not words:
            break
        lines.append(" ".join(words))
        baseline += leading
    return np.asarray(im, dtype=np.uint8), lines, np.array(boxes, dtype=np.int64).reshape(-1, 4)


class SyntheticTextPage(Dataset):
    """``n`` pages of printed text in the fonts of ``split``; ``ds[i]`` is ``(image, text)``.

    Args:
        n: number of pages.
        split: ``"train"``, ``"val"`` or ``"test"``: whose fonts write the pages.
        seed: the generator's seed.
        height, width: page size in pixels (default 1100 × 850, a letter page at 100 dpi).
        font_px: range of font sizes in pixels, one drawn per page.
        classes: the characters words and numbers are made of (default ``"A-Z0-9"``).
        photo: pass each page through :func:`photo_like` (3° rotation, blur, uneven light, noise).
        transform: applied to the uint8 image.

    :meth:`page` returns the full :class:`TextPage` (boxes, lines, font).
    """

    def __init__(self, n: int = 50, split: str = "test", seed: int = 0, height: int = 1100, width: int = 850,
                 font_px: tuple[int, int] = (36, 56), classes: str = "A-Z0-9", photo: bool = False,
                 transform: Callable | None = None) -> None:
        if split not in SPLITS:
            raise ValueError(f"SyntheticTextPage: split must be one of {SPLITS}, got {split!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"SyntheticTextPage: n must be a positive int, got {n!r}")
        lo, hi = font_px
        if not 8 <= lo <= hi or hi * 3 > min(height, width):
            raise ValueError(f"SyntheticTextPage: font_px {font_px} must satisfy 8 <= low <= high <= a third of "
                             f"the page's smaller side ({min(height, width)})")
        self.n, self.split, self.seed = n, split, int(seed)
        self.height, self.width, self.font_px = height, width, (int(lo), int(hi))
        self.classes = parse_classes(classes)
        self.photo = photo
        self.transform = transform
        self.fonts = split_fonts(find_fonts("".join(self.classes)))[split]
        self._groups = _faces_by_group(self.fonts)
        self._loaded = _Fonts()

    def __len__(self) -> int:
        return self.n

    def page(self, index: int) -> TextPage:
        """Page ``index`` with its ground truth."""
        if not -self.n <= index < self.n:
            raise IndexError(f"SyntheticTextPage: index {index} out of range for {self.n} pages")
        index %= self.n
        rng = np.random.default_rng([self.seed, _PAGE_STREAM, _SPLIT_IDS[self.split], index])
        group = self._groups[rng.integers(len(self._groups))]
        face = group[rng.integers(len(group))]
        px = int(rng.integers(self.font_px[0], self.font_px[1] + 1))
        image, lines, boxes = _render(rng, self._loaded.get(face, px), px, self.height, self.width, self.classes)
        page = TextPage(image, lines, boxes, face)
        return photo_like(page, rng) if self.photo else page

    def __getitem__(self, index: int) -> tuple[Any, str]:
        page = self.page(index)
        return (self.transform(page.image) if self.transform is not None else page.image), page.text


def photo_like(page: TextPage, rng: np.random.Generator | int = 0, angle: float = 3.0, blur: float = 1.5,
               lighting: float = 0.5, noise: float = 0.03) -> TextPage:
    """The page as a camera would see it: rotated by ``angle`` degrees (counter-clockwise, the canvas grown to
    hold it, new corners white), blurred by a Gaussian of σ = ``blur`` pixels, lit unevenly (a linear
    ramp along a random direction plus a fall-off towards a random corner, scaled so that the brightness
    runs from 1 at the brightest point down to ``1 - lighting`` at the darkest) and with
    Gaussian noise of σ = ``noise``. The boxes are the rotated boxes' axis-aligned bounds."""
    ndimage = require("scipy.ndimage", "SciPy", "ocr", _PURPOSE)
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    img = page.image.astype(np.float64) / 255.0
    h, w = img.shape
    t = math.radians(angle)
    # out = R (p - c_in) + c_out for p = (row, col): counter-clockwise on screen (a point right of the centre
    # moves up, to a smaller row)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    corners = np.array([[0, 0], [0, w - 1], [h - 1, 0], [h - 1, w - 1]], dtype=np.float64)
    c_in = np.array([(h - 1) / 2, (w - 1) / 2])
    spread = (corners - c_in) @ rot.T
    oh, ow = (int(math.ceil(spread[:, k].max() - spread[:, k].min())) + 1 for k in range(2))
    c_out = np.array([(oh - 1) / 2, (ow - 1) / 2])
    rr, cc = np.mgrid[0:oh, 0:ow].astype(np.float64)
    src = np.einsum("ij,jhw->ihw", rot.T, np.stack([rr - c_out[0], cc - c_out[1]])) + c_in[:, None, None]
    out = ndimage.map_coordinates(img, src, order=1, mode="constant", cval=1.0)
    if blur > 0:
        out = ndimage.gaussian_filter(out, blur)
    if lighting > 0:
        direction = rng.normal(size=2)
        direction /= np.linalg.norm(direction)
        ramp = rr * direction[0] + cc * direction[1]
        ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-9)
        corner = np.array([rng.integers(2) * (oh - 1), rng.integers(2) * (ow - 1)])
        radial = np.hypot(rr - corner[0], cc - corner[1])
        radial = 1.0 - radial / max(radial.max(), 1e-9)
        shade = 0.6 * ramp + 0.4 * radial
        shade = (shade - shade.min()) / max(np.ptp(shade), 1e-9)  # 0 at the brightest point, 1 at the darkest
        out = out * (1.0 - lighting * shade)
    if noise > 0:
        out = out + rng.normal(0.0, noise, size=out.shape)
    image = np.round(255.0 * np.clip(out, 0.0, 1.0)).astype(np.uint8)
    boxes = page.boxes
    if len(boxes):
        r0, c0, r1, c1 = (boxes[:, k].astype(np.float64) for k in range(4))
        pts = np.stack([np.stack([r0, c0], 1), np.stack([r0, c1 - 1], 1), np.stack([r1 - 1, c0], 1),
                        np.stack([r1 - 1, c1 - 1], 1)], axis=1)  # (N, 4 corners, 2)
        moved = (pts - c_in) @ rot.T + c_out
        boxes = np.concatenate([np.floor(moved.min(axis=1)), np.floor(moved.max(axis=1)) + 1], axis=1).astype(np.int64)
    return replace(page, image=image, boxes=boxes)
