"""``torchvision.transforms.functional`` for minidl: the deterministic image operations behind the transforms.

Each function takes a PIL image, a NumPy array ``(H, W)`` / ``(H, W, C)`` or a minidl Tensor
``(..., C, H, W)`` and returns the same kind (see :mod:`._image`). PIL images go through Pillow as in
torchvision, so results match it exactly; arrays and tensors go through NumPy reimplementations of
torchvision's tensor path (:mod:`._resample`, :mod:`._warp`, :mod:`._kernels`, :mod:`._color`), which match
it to float rounding (within one grey level for uint8 after resampling). Tensors are treated as data: the
results are new tensors outside autograd (``inplace=True`` options write into the given tensor).
"""

from __future__ import annotations

import numbers
import sys
import warnings
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

import numpy as np

from ..dtypes import default_float, to_numpy_dtype
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor
from . import _color, _pil
from ._image import check_image, dimensions, is_pil, pillow, planes
from ._kernels import PADDING_MODES, crop_planes, gaussian_blur_planes, pad_planes, parse_padding
from ._resample import output_size, resize_planes
from ._warp import expanded_size, inverse_affine_matrix, warp_planes

__all__ = [
    "InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels",
    "to_tensor", "pil_to_tensor", "to_pil_image", "convert_image_dtype", "normalize",
    "resize", "pad", "crop", "center_crop", "resized_crop", "five_crop", "ten_crop", "hflip", "vflip",
    "rotate", "affine", "rgb_to_grayscale", "to_grayscale",
    "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "erase", "gaussian_blur",
]  # fmt: skip


class InterpolationMode(Enum):
    """Resampling filters (torchvision's names). Arrays and tensors support the first four."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"  # PIL images only, like the two below
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's filter numbers, accepted wherever an InterpolationMode is
_FROM_PIL_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                 4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def interpolation_mode(value: Any, owner: str) -> InterpolationMode:
    """An ``InterpolationMode`` from itself, a Pillow filter number or its name."""
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool) and int(value) in _FROM_PIL_INT:
        return _FROM_PIL_INT[int(value)]
    if isinstance(value, str):
        try:
            return InterpolationMode(value)
        except ValueError:
            pass
    raise TypeError(f"{owner}: interpolation should be an InterpolationMode (or Pillow's filter number), "
                    f"got {value!r}")


def _map(img: Any, owner: str, pil_fn: Callable[[Any], Any] | None, array_fn: Callable[[np.ndarray], np.ndarray],
         batched: bool = False) -> Any:
    """Apply ``pil_fn`` to a PIL image, else ``array_fn`` to the (..., H, W) planes of an array or tensor."""
    if is_pil(img):
        if pil_fn is None:
            raise TypeError(f"{owner}: does not take PIL images; convert with ToTensor first")
        return pil_fn(img)
    check_image(img, owner)
    arr, back = planes(img, owner, batched)
    return back(array_fn(arr))


# ----------------------------------------------------------------------------------------- sizes
def get_dimensions(img: Any) -> list[int]:
    """``[channels, height, width]`` of an image."""
    check_image(img, "get_dimensions")
    return list(dimensions(img, "get_dimensions"))


def get_image_size(img: Any) -> list[int]:
    """``[width, height]`` of an image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img: Any) -> int:
    return get_dimensions(img)[0]


# ----------------------------------------------------------------------------------------- conversion
def _channels_first(arr: np.ndarray) -> np.ndarray:
    """An (H, W) or (H, W, C) array as a contiguous (C, H, W) one."""
    return np.ascontiguousarray(arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0))


def to_tensor(pic: Any) -> Tensor:
    """A PIL image or an ``(H, W[, C])`` array as a ``(C, H, W)`` Tensor; uint8 becomes the default float
    dtype divided by 255 (values in [0, 1]), other dtypes are kept (torchvision's ``to_tensor``)."""
    if is_pil(pic):
        # PIL's 32-bit integer, 16-bit and float modes keep their values; everything else is bytes
        np_dtype = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16,
                    "F": np.float32}.get(pic.mode, np.uint8)
        arr = np.array(pic, np_dtype, copy=True)
        if pic.mode == "1":
            arr = arr * np.uint8(255)
        arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    elif isinstance(pic, np.ndarray):
        arr = pic
        if arr.ndim not in (2, 3):
            raise ShapeError(f"ToTensor: expected an image array of shape (H, W) or (H, W, C), got shape {arr.shape}")
        planes(arr, "ToTensor")  # refuses channels-first looking arrays
    else:
        raise TypeError(f"ToTensor: expected a PIL image or a NumPy array (H, W[, C]), got {type(pic).__name__}")
    return Tensor._wrap(_scaled(_channels_first(arr)))


def _scaled(chw: np.ndarray) -> np.ndarray:
    """uint8 pixels to default-float ``x / 255`` (a division, so values equal torchvision's bit for bit)."""
    if chw.dtype == np.uint8:
        return np.divide(chw, default_float().type(255), dtype=default_float())
    return chw


def to_tensor_batch(x: np.ndarray) -> Tensor:
    """The batched :func:`to_tensor` of a stack of array images ``(N, H, W[, C])``: ``(N, C, H, W)``."""
    arr, _ = planes(x, "ToTensor", batched=True)
    if x.ndim == 3:
        arr = arr[:, None]
    return Tensor._wrap(_scaled(np.ascontiguousarray(arr)))


def pil_to_tensor(pic: Any) -> Tensor:
    """A PIL image as a ``(C, H, W)`` Tensor of its own dtype (uint8 for 8-bit modes), values unscaled."""
    if not is_pil(pic):
        raise TypeError(f"PILToTensor: expected a PIL image, got {type(pic).__name__}")
    arr = np.array(pic, copy=True).reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return Tensor._wrap(_channels_first(arr))


_MODES_BY_CHANNELS = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}
_DEFAULT_MODE = {2: "LA", 3: "RGB", 4: "RGBA"}


def to_pil_image(pic: Any, mode: str | None = None) -> Any:
    """A ``(C, H, W)`` Tensor or an ``(H, W[, C])`` array as a PIL image (torchvision's rules: floats are
    scaled by 255 and truncated to uint8 unless ``mode='F'``; the mode follows channels and dtype)."""
    image = pillow()
    if isinstance(pic, Tensor):
        arr = pic._data
        if arr.ndim == 3:
            arr = np.moveaxis(arr, 0, -1)
    elif isinstance(pic, np.ndarray):
        arr = pic
    else:
        raise TypeError(f"ToPILImage: expected a Tensor or a NumPy array, got {type(pic).__name__}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ShapeError(f"ToPILImage: expected a 2- or 3-dimensional image, got shape {arr.shape}")
    if arr.shape[-1] > 4:
        raise ShapeError(f"ToPILImage: an image has at most 4 channels, got {arr.shape[-1]} (shape {arr.shape}; "
                         "tensors are (C, H, W), arrays (H, W, C))")
    if arr.dtype.kind == "f" and mode != "F":
        with np.errstate(invalid="ignore"):  # values outside [0, 1] wrap, as in torchvision
            arr = (arr * 255).astype(np.uint8)
    c = arr.shape[-1]
    if c == 1:
        arr = arr[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16" if sys.byteorder == "little" else "I;16B",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(arr.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"ToPILImage: mode {mode!r} does not fit {arr.dtype} single-channel data "
                             f"(it should be {expected!r})")
        mode = expected
    else:
        if mode is not None and mode not in _MODES_BY_CHANNELS[c]:
            raise ValueError(f"ToPILImage: only modes {_MODES_BY_CHANNELS[c]} are supported for {c}-channel images")
        if mode is None and arr.dtype == np.uint8:
            mode = _DEFAULT_MODE[c]
    if mode is None:
        raise DTypeError(f"ToPILImage: input dtype {arr.dtype} is not supported")
    return image.frombuffer(mode, (arr.shape[1], arr.shape[0]), np.ascontiguousarray(arr).tobytes(), "raw",
                            mode, 0, 1)


def convert_image_dtype(image: Tensor, dtype: Any = None) -> Tensor:
    """Convert a tensor image's dtype and rescale its values (torchvision's ``convert_image_dtype``;
    ``dtype`` defaults to float32)."""
    if not isinstance(image, Tensor):
        raise TypeError(f"convert_image_dtype: expected a Tensor image, got {type(image).__name__}")
    target = np.dtype(np.float32) if dtype is None else to_numpy_dtype(dtype)
    return Tensor._wrap(np.ascontiguousarray(_color.convert_image_dtype(image._data, target)))


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """``(x - mean[c]) / std[c]`` per channel of a float ``(..., C, H, W)`` tensor, in its dtype."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Normalize: expected a Tensor image (..., C, H, W), got {type(tensor).__name__}; "
                        "convert with ToTensor first")
    x = tensor._data
    if x.dtype.kind != "f":
        raise DTypeError(f"Normalize: expected a float tensor (apply ToTensor first), got {tensor.dtype}")
    if x.ndim < 3:
        raise ShapeError(f"Normalize: expected a tensor image of size (..., C, H, W), got size {list(x.shape)}")
    m = np.asarray(mean._data if isinstance(mean, Tensor) else mean, dtype=x.dtype)
    s = np.asarray(std._data if isinstance(std, Tensor) else std, dtype=x.dtype)
    if np.any(s == 0):
        raise ValueError(f"Normalize: std evaluated to zero after conversion to {x.dtype}, leading to division "
                         "by zero")
    for name, v in (("mean", m), ("std", s)):
        if v.ndim == 1 and v.size not in (1, x.shape[-3]):
            raise ShapeError(f"Normalize: {v.size} values of {name} for an image with {x.shape[-3]} channels "
                             f"(size {list(x.shape)})")
    m = m.reshape(-1, 1, 1) if m.ndim == 1 else m
    s = s.reshape(-1, 1, 1) if s.ndim == 1 else s

    def apply(t: Tensor) -> Tensor:
        out = np.subtract(t._data, m)
        out /= s
        return Tensor._wrap(out)

    return tensor._inplace(apply) if inplace else apply(tensor)


# ----------------------------------------------------------------------------------------- geometry
def _size_list(size: int | Sequence[int], owner: str) -> list[int]:
    if isinstance(size, int | np.integer) and not isinstance(size, bool):
        return [int(size)]
    if isinstance(size, Sequence) and len(size) in (1, 2) and all(isinstance(v, int | np.integer) for v in size):
        return [int(v) for v in size]
    raise ValueError(f"{owner}: size must be an int or a sequence of 1 or 2 ints, got {size!r}")


def resize(img: Any, size: int | Sequence[int], interpolation: Any = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True, *, _batched: bool = False) -> Any:
    """Resize to ``size`` = ``[h, w]``, or one number for the smaller edge keeping the aspect ratio
    (``max_size`` caps the longer edge). PIL images use Pillow's filter (always antialiased); arrays and
    tensors PyTorch's ``interpolate`` kernels, antialiased for bilinear/bicubic unless ``antialias`` is
    False or None."""
    mode = interpolation_mode(interpolation, "resize")
    size = _size_list(size, "resize")
    if max_size is not None and len(size) != 1:
        raise ValueError("resize: max_size should only be passed if size specifies the length of the smaller "
                         "edge, i.e. size should be an int or a sequence of length 1")
    if is_pil(img):
        _, h, w = dimensions(img, "resize")
        out_hw = output_size(h, w, size, max_size)
        if out_hw == (h, w):
            return img
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.",
                          stacklevel=2)
        return _pil.resize(img, out_hw, mode.value)

    def array_fn(x: np.ndarray) -> np.ndarray:
        out_hw = output_size(x.shape[-2], x.shape[-1], size, max_size)
        if out_hw == x.shape[-2:]:
            return x
        aa = bool(antialias) and mode.value in ("bilinear", "bicubic")
        return resize_planes(x, out_hw, mode.value, aa)

    return _map(img, "resize", None, array_fn, _batched)


def pad(img: Any, padding: int | Sequence[int], fill: Any = 0, padding_mode: str = "constant", *,
        _batched: bool = False) -> Any:
    """Pad every side: ``padding`` is one int, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``;
    ``padding_mode`` constant (``fill``), edge, reflect or symmetric (see :mod:`._kernels`)."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"pad: padding_mode should be one of {', '.join(PADDING_MODES)}, got {padding_mode!r}")
    if fill is not None and not isinstance(fill, numbers.Real | tuple | list):
        raise TypeError(f"pad: fill must be a number or a sequence, got {type(fill).__name__}")
    ltrb = parse_padding(padding, "pad")
    return _map(img, "pad", lambda im: _pil.pad(im, ltrb, fill, padding_mode),
                lambda x: pad_planes(x, ltrb, 0 if fill is None else fill, padding_mode), _batched)


def crop(img: Any, top: int, left: int, height: int, width: int, *, _batched: bool = False) -> Any:
    """The ``height x width`` window at ``(top, left)``; parts outside the image are zero."""
    return _map(img, "crop", lambda im: _pil.crop(im, top, left, height, width),
                lambda x: crop_planes(x, top, left, height, width), _batched)


def _pair(size: int | Sequence[int], owner: str) -> tuple[int, int]:
    if isinstance(size, numbers.Real):
        return int(float(size)), int(float(size))
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{owner}: please provide only two dimensions (h, w) for size, got {size!r}")


def center_crop(img: Any, output_size: int | Sequence[int], *, _batched: bool = False) -> Any:
    """The central ``output_size`` window (zero-padded evenly first when the image is smaller)."""
    crop_h, crop_w = _pair(output_size, "center_crop")
    if not _batched:
        check_image(img, "center_crop")
    _, h, w = dimensions(img, "center_crop", _batched)
    if crop_w > w or crop_h > h:
        ltrb = [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0]
        img = pad(img, ltrb, fill=0, _batched=_batched)
        _, h, w = dimensions(img, "center_crop", _batched)
        if (crop_h, crop_w) == (h, w):
            return img
    top = int(round((h - crop_h) / 2.0))
    left = int(round((w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w, _batched=_batched)


def resized_crop(img: Any, top: int, left: int, height: int, width: int, size: int | Sequence[int],
                 interpolation: Any = InterpolationMode.BILINEAR, antialias: bool | None = True) -> Any:
    """:func:`crop`, then :func:`resize` to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def five_crop(img: Any, size: int | Sequence[int]) -> tuple[Any, Any, Any, Any, Any]:
    """The four corner crops and the central crop of ``size``: ``(tl, tr, bl, br, center)``."""
    crop_h, crop_w = _pair(size, "five_crop")
    check_image(img, "five_crop")
    _, h, w = dimensions(img, "five_crop")
    if crop_w > w or crop_h > h:
        raise ValueError(f"five_crop: requested crop size {(crop_h, crop_w)} is bigger than input size {(h, w)}")
    return (crop(img, 0, 0, crop_h, crop_w), crop(img, 0, w - crop_w, crop_h, crop_w),
            crop(img, h - crop_h, 0, crop_h, crop_w), crop(img, h - crop_h, w - crop_w, crop_h, crop_w),
            center_crop(img, [crop_h, crop_w]))


def ten_crop(img: Any, size: int | Sequence[int], vertical_flip: bool = False) -> tuple[Any, ...]:
    """:func:`five_crop` of the image and of its mirror (horizontal, or vertical if ``vertical_flip``)."""
    return five_crop(img, size) + five_crop(vflip(img) if vertical_flip else hflip(img), size)


def hflip(img: Any, *, _batched: bool = False) -> Any:
    """Mirror left to right."""
    return _map(img, "hflip", _pil.hflip, lambda x: x[..., ::-1], _batched)


def vflip(img: Any, *, _batched: bool = False) -> Any:
    """Mirror top to bottom."""
    return _map(img, "vflip", _pil.vflip, lambda x: x[..., ::-1, :], _batched)


def _fill_list(fill: Any, owner: str) -> list[float] | None:
    if fill is None:
        return None
    if isinstance(fill, numbers.Real):
        return [float(fill)]
    if isinstance(fill, Sequence):
        return [float(v) for v in fill]
    raise TypeError(f"{owner}: fill should be a number or a sequence of numbers, got {type(fill).__name__}")


def _check_fill_channels(fill: list[float] | None, x: np.ndarray, owner: str) -> None:
    c = 1 if x.ndim == 2 else x.shape[-3]
    if fill is not None and len(fill) > 1 and len(fill) != c:
        raise ValueError(f"{owner}: {len(fill)} fill values cannot broadcast to the {c} channels of the image")


def rotate(img: Any, angle: float, interpolation: Any = InterpolationMode.NEAREST, expand: bool = False,
           center: Sequence[int] | None = None, fill: Any = None) -> Any:
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the image centre);
    ``expand`` enlarges the output to hold the whole rotated image; ``fill`` paints the uncovered area."""
    mode = interpolation_mode(interpolation, "rotate")
    if not isinstance(angle, int | float):
        raise TypeError(f"rotate: angle should be an int or a float, got {type(angle).__name__}")
    if center is not None and not isinstance(center, Sequence):
        raise TypeError("rotate: center should be a sequence")
    if is_pil(img):
        return _pil.rotate(img, angle, mode.value, expand, center, fill)
    fills = _fill_list(fill, "rotate")

    def array_fn(x: np.ndarray) -> np.ndarray:
        _check_fill_channels(fills, x, "rotate")
        h, w = x.shape[-2:]
        centre = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (w, h), strict=True)]
        # array images use centred coordinates; the inverse of a counter-clockwise rotation turns clockwise
        matrix = inverse_affine_matrix(centre, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
        ow, oh = expanded_size(matrix, w, h) if expand else (w, h)
        return warp_planes(x, matrix, mode.value, fills, (oh, ow))

    return _map(img, "rotate", None, array_fn)


def _shear_pair(shear: Any) -> list[float]:
    if isinstance(shear, numbers.Real):
        return [float(shear), 0.0]
    if not isinstance(shear, Sequence) or len(shear) not in (1, 2):
        raise ValueError(f"affine: shear should be a number or a sequence of one or two values, got {shear!r}")
    return [float(shear[0]), float(shear[0])] if len(shear) == 1 else [float(shear[0]), float(shear[1])]


def affine(img: Any, angle: float, translate: Sequence[int], scale: float, shear: Any,
           interpolation: Any = InterpolationMode.NEAREST, fill: Any = None,
           center: Sequence[int] | None = None) -> Any:
    """Rotate by ``angle`` degrees (clockwise, torchvision's affine convention), scale, shear by ``shear``
    degrees (x, then y) about ``center``, then translate by ``translate`` pixels; the image keeps its size."""
    mode = interpolation_mode(interpolation, "affine")
    if not isinstance(angle, int | float):
        raise TypeError(f"affine: angle should be an int or a float, got {type(angle).__name__}")
    if not isinstance(translate, Sequence) or len(translate) != 2:
        raise ValueError(f"affine: translate should be a sequence of length 2, got {translate!r}")
    if scale <= 0.0:
        raise ValueError(f"affine: scale should be positive, got {scale}")
    if center is not None and not isinstance(center, Sequence):
        raise TypeError("affine: center should be a sequence")
    shear_xy = _shear_pair(shear)
    if is_pil(img):
        w, h = img.size
        centre = [w * 0.5, h * 0.5] if center is None else list(center)
        matrix = inverse_affine_matrix(centre, float(angle), list(translate), scale, shear_xy)
        return _pil.affine(img, matrix, mode.value, fill)
    fills = _fill_list(fill, "affine")

    def array_fn(x: np.ndarray) -> np.ndarray:
        _check_fill_channels(fills, x, "affine")
        h, w = x.shape[-2:]
        centre = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (w, h), strict=True)]
        matrix = inverse_affine_matrix(centre, float(angle), [float(t) for t in translate], scale, shear_xy)
        return warp_planes(x, matrix, mode.value, fills)

    return _map(img, "affine", None, array_fn)


# ----------------------------------------------------------------------------------------- colour
def _map_color(img: Any, owner: str, pil_fn: Callable[[Any], Any], array_fn: Callable[[np.ndarray], np.ndarray]
               ) -> Any:
    """As :func:`_map`, but an ``(H, W)`` array is a one-channel image ``(1, H, W)`` to the kernel."""
    if isinstance(img, np.ndarray) and img.ndim == 2:
        out = array_fn(img[None])
        return out[0] if out.shape[0] == 1 else np.moveaxis(out, 0, -1)
    return _map(img, owner, pil_fn, array_fn)


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` (Pillow's ``convert('L')`` for PIL images), as 1 or 3 channels."""
    return _map_color(img, "rgb_to_grayscale", lambda im: _pil.to_grayscale(im, num_output_channels),
                      lambda x: _color.to_grayscale(x, num_output_channels))


def to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """:func:`rgb_to_grayscale` for PIL images (torchvision keeps this name for them)."""
    if not is_pil(img):
        raise TypeError(f"to_grayscale: expected a PIL image, got {type(img).__name__}")
    return _pil.to_grayscale(img, num_output_channels)


def _non_negative(factor: float, name: str) -> None:
    if factor < 0:
        raise ValueError(f"{name} ({factor}) is not non-negative")


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """Scale intensities by ``brightness_factor`` (0 black, 1 unchanged), clipped to the valid range."""
    _non_negative(brightness_factor, "brightness_factor")
    return _map_color(img, "adjust_brightness", lambda im: _pil.enhance(im, "Brightness", brightness_factor),
                      lambda x: _color.adjust_brightness(x, brightness_factor))


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """Blend with the mean grey level: 0 gives a flat grey image, 1 the original."""
    _non_negative(contrast_factor, "contrast_factor")
    return _map_color(img, "adjust_contrast", lambda im: _pil.enhance(im, "Contrast", contrast_factor),
                      lambda x: _color.adjust_contrast(x, contrast_factor))


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """Blend with the grey image: 0 gives black and white, 1 the original, 2 doubles the saturation."""
    _non_negative(saturation_factor, "saturation_factor")
    return _map_color(img, "adjust_saturation", lambda im: _pil.enhance(im, "Color", saturation_factor),
                      lambda x: _color.adjust_saturation(x, saturation_factor))


def adjust_hue(img: Any, hue_factor: float) -> Any:
    """Rotate the hue by ``hue_factor`` turns, in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5]")
    return _map_color(img, "adjust_hue", lambda im: _pil.adjust_hue(im, hue_factor),
                      lambda x: _color.adjust_hue(x, hue_factor))


# ----------------------------------------------------------------------------------------- erasing, blur
def erase(img: Any, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Any:
    """Set the ``h x w`` region at ``(i, j)`` to ``v`` (a number, or values broadcasting to ``(C, h, w)``)."""
    if is_pil(img):
        raise TypeError("erase: expected a Tensor or a NumPy array image, got a PIL image")
    value = v._data if isinstance(v, Tensor) else np.asarray(v)

    def array_fn(x: np.ndarray) -> np.ndarray:
        out = x if inplace else x.copy()
        out[..., i:i + h, j:j + w] = value
        return out

    if isinstance(img, Tensor) and inplace:
        return img._inplace(lambda t: Tensor._wrap(array_fn(t._data.copy())))
    return _map(img, "erase", None, array_fn)


def gaussian_blur(img: Any, kernel_size: int | Sequence[int], sigma: Any = None) -> Any:
    """Blur with a Gaussian of ``kernel_size`` (odd, ``(kx, ky)``) and ``sigma`` (default
    ``0.3 ((k - 1) / 2 - 1) + 0.8``), reflecting at the borders. PIL images are blurred as tensors and
    converted back, as torchvision does."""
    ks = [kernel_size, kernel_size] if isinstance(kernel_size, int) else list(kernel_size)
    if len(ks) != 2 or any(not isinstance(k, int | np.integer) or k <= 0 or k % 2 == 0 for k in ks):
        raise ValueError(f"gaussian_blur: kernel_size should be odd and positive integers, got {kernel_size!r}")
    if sigma is None:
        sig = [k * 0.15 + 0.35 for k in ks]
    elif isinstance(sigma, int | float):
        sig = [float(sigma)] * 2
    elif isinstance(sigma, Sequence) and len(sigma) in (1, 2):
        sig = [float(sigma[0])] * 2 if len(sigma) == 1 else [float(s) for s in sigma]
    else:
        raise ValueError(f"gaussian_blur: sigma should be a number or a sequence of 1 or 2 numbers, got {sigma!r}")
    if any(s <= 0 for s in sig):
        raise ValueError(f"gaussian_blur: sigma should have positive values, got {sig}")
    if is_pil(img):
        blurred = gaussian_blur_planes(pil_to_tensor(img)._data, ks, sig)
        return to_pil_image(Tensor._wrap(blurred), mode=img.mode)
    return _map(img, "gaussian_blur", None, lambda x: gaussian_blur_planes(x, ks, sig))
