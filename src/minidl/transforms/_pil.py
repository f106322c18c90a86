"""The PIL-image side of the transforms: Pillow's own operations, called as torchvision calls them.

Resampling, rotation, affine warps and the colour enhancers of a PIL image are Pillow's, so results equal
torchvision's on the same image bit for bit. Pillow is imported lazily (:func:`._image.pillow`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._image import pillow

__all__ = ["parse_fill", "pad", "crop", "resize", "hflip", "vflip", "affine", "rotate", "to_grayscale",
           "enhance", "adjust_hue", "to_array", "from_array", "RESAMPLE"]

#: InterpolationMode value -> Pillow's resampling filter number (nearest-exact is PIL's nearest)
RESAMPLE = {"nearest": 0, "nearest-exact": 0, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5, "lanczos": 1}


def parse_fill(fill: Any, img: Any) -> int | float | tuple:
    """A ``fill`` as Pillow wants it for ``img``: one int per band (floats for mode F), 0 for ``None``."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, int | float) and bands > 1:
        fill = (fill,) * bands
    if isinstance(fill, list | tuple):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(f"fill has {len(fill)} values but the image has {bands} channels")
        fill = tuple(fill)
    if img.mode != "F":
        return tuple(int(v) for v in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def to_array(img: Any) -> np.ndarray:
    return np.asarray(img)


def from_array(arr: np.ndarray, like: Any) -> Any:
    """An array as a PIL image; a palette image keeps ``like``'s palette."""
    out = pillow().fromarray(np.ascontiguousarray(arr))
    if like.mode == "P":
        out.putpalette(like.getpalette())
    return out


def pad(img: Any, ltrb: Sequence[int], fill: Any, padding_mode: str) -> Any:
    """Pad by ``(left, top, right, bottom)``; negative amounts crop. Constant padding is ``ImageOps.expand``,
    the other modes NumPy's ``pad`` on the pixel array (as torchvision)."""
    from PIL import ImageOps

    if padding_mode == "constant":
        out = ImageOps.expand(img, border=tuple(ltrb), fill=parse_fill(fill, img))  # type: ignore[arg-type]  # floats: mode F
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    if min(ltrb) < 0:
        crop_l, crop_t, crop_r, crop_b = (max(-p, 0) for p in ltrb)
        img = img.crop((crop_l, crop_t, img.width - crop_r, img.height - crop_b))
    left, top, right, bottom = (max(p, 0) for p in ltrb)
    arr = to_array(img)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
    return from_array(np.pad(arr, widths, mode=padding_mode), img)  # type: ignore[call-overload]  # mode: a str


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """Pillow's crop (regions outside the image read zero)."""
    return img.crop((left, top, left + width, top + height))


def resize(img: Any, size: tuple[int, int], mode: str) -> Any:
    """Resize to ``size = (height, width)`` with Pillow's filter for ``mode`` (always antialiased)."""
    return img.resize((size[1], size[0]), RESAMPLE[mode])


def hflip(img: Any) -> Any:
    return img.transpose(pillow().Transpose.FLIP_LEFT_RIGHT)


def vflip(img: Any) -> Any:
    return img.transpose(pillow().Transpose.FLIP_TOP_BOTTOM)


def affine(img: Any, matrix: Sequence[float], mode: str, fill: Any) -> Any:
    """Pillow's affine transform with the inverse ``matrix`` (output to input pixel coordinates)."""
    image = pillow()
    return img.transform(img.size, image.Transform.AFFINE, list(matrix), RESAMPLE[mode],
                         fillcolor=parse_fill(fill, img))


def rotate(img: Any, angle: float, mode: str, expand: bool, center: Sequence[float] | None, fill: Any) -> Any:
    """Pillow's rotation by ``angle`` degrees counter-clockwise."""
    return img.rotate(angle, RESAMPLE[mode], expand, None if center is None else tuple(center),
                      fillcolor=parse_fill(fill, img))


def to_grayscale(img: Any, num_output_channels: int) -> Any:
    """Pillow's luma conversion (``L``); three equal channels as an RGB image when asked for 3."""
    if num_output_channels not in (1, 3):
        raise ValueError(f"num_output_channels should be either 1 or 3, got {num_output_channels!r}")
    gray = img.convert("L")
    if num_output_channels == 1:
        return gray
    arr = np.asarray(gray)
    return pillow().fromarray(np.ascontiguousarray(np.stack([arr, arr, arr], axis=-1)), "RGB")


def enhance(img: Any, kind: str, factor: float) -> Any:
    """Pillow's ``ImageEnhance`` (``Brightness``, ``Contrast`` or ``Color``) by ``factor``."""
    from PIL import ImageEnhance

    return getattr(ImageEnhance, kind)(img).enhance(factor)


def adjust_hue(img: Any, factor: float) -> Any:
    """Shift the hue channel of Pillow's HSV conversion by ``factor`` turns (uint8 arithmetic wraps around)."""
    if img.mode in {"L", "1", "I", "F"}:
        return img
    image = pillow()
    h, s, v = img.convert("HSV").split()
    hue = np.array(h, dtype=np.uint8)
    hue += np.array(int(factor * 255)).astype(np.uint8)  # C's int cast, then wrap to a byte
    return image.merge("HSV", (image.fromarray(hue, "L"), s, v)).convert(img.mode)
