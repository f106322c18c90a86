"""The transform classes (torchvision's ``transforms`` names, arguments, defaults and parameter sampling).

A transform is a callable on one image (PIL, NumPy ``(H, W[, C])`` array or Tensor ``(..., C, H, W)``, see
:mod:`._image`) that returns the same kind; :class:`ToTensor` turns PIL images and arrays into CHW float
tensors. Random transforms draw from ``generator`` when one is given (a minidl extension: a
:class:`minidl.Generator`, a NumPy generator or an int seed), else from minidl's global generator, so
:func:`minidl.manual_seed` makes them reproducible. Their ``get_params`` static methods sample as
torchvision's do (same distributions, minidl's random stream).

Batched application (the DataLoader's fast path): a transform with ``batchable = True`` also has ``batch(x)``,
the same map on a stack of samples in one vectorised step: ``(N, H, W[, C])`` arrays before
:class:`ToTensor`, ``(N, C, H, W)`` tensors after it. The loader uses it when every transform of an in-memory
dataset is batchable (:class:`Compose` is when all its parts are). Random transforms draw one value per
sample either way, in a different order, so the two forms give different (equally distributed) results for
the same seed.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import numpy as np

from ..dtypes import default_float
from ..random import default_generator
from ..tensor import Tensor
from ..utils.data.sampler import resolve_generator
from . import functional as F
from ._image import dimensions, is_pil, planes
from ._kernels import parse_padding
from .functional import InterpolationMode, interpolation_mode

__all__ = [
    "Transform", "Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "ToPILImage", "Normalize", "Resize",
    "CenterCrop", "Pad", "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "RandomCrop",
    "RandomHorizontalFlip", "RandomVerticalFlip", "RandomResizedCrop", "FiveCrop", "TenCrop", "ColorJitter",
    "RandomRotation", "RandomAffine", "Grayscale", "RandomGrayscale", "RandomErasing", "GaussianBlur",
    "InterpolationMode", "ToFloat", "Flatten", "EvenOdd", "is_batchable",
]  # fmt: skip


def is_batchable(transform: Any) -> bool:
    """Whether ``transform`` can be applied to a whole batch at once (has a ``batch`` method)."""
    return bool(getattr(transform, "batchable", False))


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    # looked up per call: manual_seed replaces the global generator object
    return generator if generator is not None else default_generator()


class Transform:
    """Base class: ``__call__`` maps one sample; batchable subclasses also define ``batch``."""

    batchable: bool = False

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError

    def batch(self, x: Any) -> Any:
        """Apply to a stacked batch (leading axis = samples)."""
        raise TypeError(f"{type(self).__name__} has no batched form")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _list_repr(name: str, transforms: Sequence[Any], head: str = "") -> str:
    body = "".join(f"\n    {t}" for t in transforms)
    return f"{name}({head}{body}\n)"


class Compose(Transform):
    """Apply ``transforms`` in order; batchable when all of them are."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)
        self.batchable = all(is_batchable(t) for t in self.transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def batch(self, x: Any) -> Any:
        if not self.batchable:
            raise TypeError(f"Compose: not all transforms have a batched form: {self.transforms}")
        for t in self.transforms:
            x = cast(Transform, t).batch(x)  # batchable: every transform is a Transform with a batch form
        return x

    def __repr__(self) -> str:
        return _list_repr("Compose", self.transforms)


# ============================================================================================ conversion
class ToTensor(Transform):
    """A PIL image or an ``(H, W[, C])`` array to a ``(C, H, W)`` Tensor, uint8 scaled to [0, 1]
    (:func:`~minidl.transforms.functional.to_tensor`)."""

    batchable = True

    def __call__(self, pic: Any) -> Tensor:
        return F.to_tensor(pic)

    def batch(self, x: np.ndarray) -> Tensor:
        return F.to_tensor_batch(x)


class PILToTensor(Transform):
    """A PIL image to a ``(C, H, W)`` Tensor of the same dtype, values unscaled."""

    def __call__(self, pic: Any) -> Tensor:
        return F.pil_to_tensor(pic)


class ConvertImageDtype(Transform):
    """Convert a tensor image to ``dtype``, rescaling values (uint8 0..255 <-> float 0..1)."""

    batchable = True

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def __call__(self, image: Tensor) -> Tensor:
        return F.convert_image_dtype(image, self.dtype)

    def batch(self, x: Tensor) -> Tensor:
        return self(x)

    def __repr__(self) -> str:
        return f"ConvertImageDtype(dtype={self.dtype})"


class ToPILImage(Transform):
    """A ``(C, H, W)`` Tensor or ``(H, W[, C])`` array to a PIL image (``mode`` inferred when ``None``)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return "ToPILImage()" if self.mode is None else f"ToPILImage(mode={self.mode})"


class ToFloat(Transform):
    """``x * scale`` as ``dtype`` (float32), same layout: uint8 pixels to floats in [0, 1] by default."""

    batchable = True

    def __init__(self, scale: float = 1 / 255, dtype: Any = None) -> None:
        self.dtype = default_float() if dtype is None else np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"ToFloat: dtype must be a float dtype, got {self.dtype}")
        self.scale = self.dtype.type(scale)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.dtype.kind not in "buif":
            raise TypeError(f"ToFloat: expected a numeric NumPy array, got {type(x).__name__}")
        return np.multiply(x, self.scale, dtype=self.dtype)

    batch = __call__

    def __repr__(self) -> str:
        return f"ToFloat(scale={float(self.scale)!r}, dtype={self.dtype})"


class Normalize(Transform):
    """Per channel ``(x - mean[c]) / std[c]`` of a float tensor image ``(..., C, H, W)``; ``inplace`` writes
    into the input. A single mean/std applies to every channel."""

    batchable = True

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float], inplace: bool = False) -> None:
        m, s = np.atleast_1d(np.asarray(mean, dtype=np.float64)), np.atleast_1d(np.asarray(std, dtype=np.float64))
        if m.ndim != 1 or s.ndim != 1 or len(m) != len(s):
            raise ValueError(f"Normalize: mean and std must be sequences of equal length, got {m.shape} and {s.shape}")
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(s))) or np.any(s == 0):
            raise ValueError(f"Normalize: mean and std must be finite and std non-zero, got std={s.tolist()}")
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        return F.normalize(tensor, np.atleast_1d(self.mean).tolist(), np.atleast_1d(self.std).tolist(), self.inplace)

    def batch(self, x: Tensor) -> Tensor:
        return self(x)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Flatten(Transform):
    """One sample to a 1-D vector (a batch to ``(N, features)``), e.g. images for an MLP."""

    batchable = True

    def __call__(self, x: Any) -> Any:
        return Tensor._wrap(x._data.reshape(-1)) if isinstance(x, Tensor) else np.reshape(x, -1)

    def batch(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            return Tensor._wrap(x._data.reshape(len(x._data), -1))
        return np.reshape(x, (len(x), -1))


class Lambda(Transform):
    """Wrap a function as a transform; batchable if a vectorised ``batch_fn`` is given too (minidl)."""

    def __init__(self, lambd: Callable[[Any], Any], batch_fn: Callable[[Any], Any] | None = None) -> None:
        if not callable(lambd) or (batch_fn is not None and not callable(batch_fn)):
            raise TypeError(f"Lambda: argument lambd (and batch_fn, if given) should be callable, got "
                            f"{type(lambd).__name__!r}")
        self.lambd = lambd
        self.batch_fn = batch_fn
        self.batchable = batch_fn is not None

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def batch(self, x: Any) -> Any:
        if self.batch_fn is None:
            raise TypeError("Lambda: no batch_fn given, so no batched form")
        return self.batch_fn(x)


class EvenOdd(Transform):
    """Target transform: class index to parity, 0 for even classes and 1 for odd ones."""

    batchable = True

    def __call__(self, y: Any) -> int:
        return int(y) % 2

    def batch(self, y: np.ndarray) -> np.ndarray:
        return np.remainder(y, 2).astype(np.int64, copy=False)


# ============================================================================================ geometry
def _setup_size(size: Any, owner: str) -> tuple[int, int]:
    if isinstance(size, numbers.Real) and not isinstance(size, bool):
        return int(float(size)), int(float(size))
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(f"{owner}: please provide only two dimensions (h, w) for size, got {size!r}")
    return int(size[0]), int(size[1])


def _check_fill(fill: Any, owner: str) -> Any:
    if fill is None:
        return 0
    if not isinstance(fill, Sequence | numbers.Real):
        raise TypeError(f"{owner}: fill should be either a sequence or a number, got {type(fill).__name__}")
    return fill


class Resize(Transform):
    """Resize to ``size`` (``(h, w)``, or an int for the smaller edge keeping the aspect ratio, capped by
    ``max_size``) with ``interpolation``; see :func:`~minidl.transforms.functional.resize`."""

    batchable = True

    def __init__(self, size: int | Sequence[int], interpolation: Any = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        if not isinstance(size, int | Sequence):
            raise TypeError(f"Resize: size should be an int or a sequence, got {type(size).__name__}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("Resize: if size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = interpolation_mode(interpolation, "Resize")
        self.antialias = antialias

    def __call__(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def batch(self, x: Any) -> Any:
        return F.resize(x, self.size, self.interpolation, self.max_size, self.antialias, _batched=True)

    def __repr__(self) -> str:
        return (f"Resize(size={self.size}, interpolation={self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class CenterCrop(Transform):
    """The central ``size`` window (zero-padded when the image is smaller)."""

    batchable = True

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _setup_size(size, "CenterCrop")

    def __call__(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def batch(self, x: Any) -> Any:
        return F.center_crop(x, self.size, _batched=True)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _check_padding(padding: Any, fill: Any, padding_mode: str, owner: str) -> None:
    if not isinstance(padding, numbers.Real | tuple | list):
        raise TypeError(f"{owner}: got inappropriate padding arg {padding!r}")
    if isinstance(padding, Sequence) and len(padding) not in (1, 2, 4):
        raise ValueError(f"{owner}: padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} "
                         "element tuple")
    if not isinstance(fill, numbers.Real | tuple | list):
        raise TypeError(f"{owner}: got inappropriate fill arg {fill!r}")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"{owner}: padding mode should be either constant, edge, reflect or symmetric, "
                         f"got {padding_mode!r}")


class Pad(Transform):
    """Pad every side by ``padding`` (an int, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``)
    with ``fill`` (constant) or by edge / reflect / symmetric extension."""

    batchable = True

    def __init__(self, padding: int | Sequence[int], fill: Any = 0, padding_mode: str = "constant") -> None:
        _check_padding(padding, fill, padding_mode, "Pad")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img: Any) -> Any:
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def batch(self, x: Any) -> Any:
        return F.pad(x, self.padding, self.fill, self.padding_mode, _batched=True)

    def __repr__(self) -> str:
        return f"Pad(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class RandomCrop(Transform):
    """A random ``size`` window, after optional ``padding`` (``fill`` / ``padding_mode`` as in :class:`Pad`);
    ``pad_if_needed`` pads an image smaller than ``size`` up to it. Works on PIL images, HWC arrays and CHW
    tensors alike (and batched, the offsets drawn per sample)."""

    batchable = True

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: Any = 0, padding_mode: str = "constant", *,
                 generator: Any = None) -> None:
        self.size = _setup_size(size, "RandomCrop")
        if min(self.size) < 1:
            raise ValueError(f"RandomCrop: size must be positive, got {size!r}")
        if padding is not None:
            _check_padding(padding, fill, padding_mode, "RandomCrop")
            parse_padding(padding, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = resolve_generator(generator, "RandomCrop")

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int], *, generator: Any = None) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a uniformly random ``output_size`` window of ``img``."""
        _, h, w = dimensions(img, "RandomCrop")
        return RandomCrop._offsets(h, w, output_size, _rng(resolve_generator(generator, "RandomCrop")), None)

    @staticmethod
    def _offsets(h: int, w: int, output_size: tuple[int, int], g: np.random.Generator, n: int | None) -> Any:
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the (padded) input image "
                             f"size {(h, w)}")
        if n is None:
            if (h, w) == (th, tw):
                return 0, 0, h, w
            return int(g.integers(0, h - th + 1)), int(g.integers(0, w - tw + 1)), th, tw
        return g.integers(0, h - th + 1, size=n), g.integers(0, w - tw + 1, size=n)

    def _padded(self, img: Any, batched: bool) -> Any:
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode, _batched=batched)
        _, h, w = dimensions(img, "RandomCrop", batched)
        if self.pad_if_needed and w < self.size[1]:
            img = F.pad(img, [self.size[1] - w, 0], self.fill, self.padding_mode, _batched=batched)
        if self.pad_if_needed and h < self.size[0]:
            img = F.pad(img, [0, self.size[0] - h], self.fill, self.padding_mode, _batched=batched)
        return img

    def __call__(self, img: Any) -> Any:
        img = self._padded(img, False)
        _, h, w = dimensions(img, "RandomCrop")
        i, j, th, tw = self._offsets(h, w, self.size, _rng(self.generator), None)
        return F.crop(img, i, j, th, tw)

    def batch(self, x: Any) -> Any:
        x = self._padded(x, True)
        arr, back = planes(x, "RandomCrop", batched=True)
        n = len(arr)
        i, j = self._offsets(arr.shape[-2], arr.shape[-1], self.size, _rng(self.generator), n)
        # windows[b, ..., i, j] is the crop at (i, j) of sample b: one gather for the whole batch. The
        # advanced indices (b, i, j) broadcast to (n,), which NumPy puts first, then the middle axes.
        windows = np.lib.stride_tricks.sliding_window_view(arr, self.size, axis=(-2, -1))
        middle = (slice(None),) * (arr.ndim - 3)
        return back(windows[(np.arange(n),) + tuple(middle) + (i, j)])

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


def _check_p(p: float, owner: str) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{owner}: p must be in [0, 1], got {p!r}")
    return float(p)


class _RandomFlip(Transform):
    """Mirror along ``_axis`` (-1: left-right, -2: top-bottom) with probability ``p``."""

    batchable = True
    _axis = -1

    def __init__(self, p: float = 0.5, *, generator: Any = None) -> None:
        self.p = _check_p(p, type(self).__name__)
        self.generator = resolve_generator(generator, type(self).__name__)

    def __call__(self, img: Any) -> Any:
        if _rng(self.generator).random() < self.p:
            return F.hflip(img) if self._axis == -1 else F.vflip(img)
        return img

    def batch(self, x: Any) -> Any:
        arr, back = planes(x, type(self).__name__, batched=True)
        flip = _rng(self.generator).random(len(arr)) < self.p
        out = arr.copy()
        out[flip] = np.flip(arr[flip], self._axis)
        return back(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left to right with probability ``p``."""


class RandomVerticalFlip(_RandomFlip):
    """Mirror top to bottom with probability ``p``."""

    _axis = -2


def _check_scale_ratio(scale: Any, ratio: Any, owner: str) -> None:
    if not isinstance(scale, Sequence) or not isinstance(ratio, Sequence):
        raise TypeError(f"{owner}: scale and ratio should be sequences")
    if scale[0] > scale[1] or ratio[0] > ratio[1]:
        warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=3)


def _rectangles(g: np.random.Generator, area: int, scale: Sequence[float], ratio: Sequence[float]
                ) -> Iterator[tuple[int, int]]:
    """Up to ten rounded sides ``(sqrt(a r), sqrt(a / r))`` of random rectangles: area ``a`` a fraction of
    ``area`` uniform in ``scale``, aspect ``r`` log-uniform in ``ratio`` (torchvision's sampling; drawn lazily,
    so a caller that stops early draws no more)."""
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * g.uniform(scale[0], scale[1])
        aspect = math.exp(g.uniform(log_ratio[0], log_ratio[1]))
        yield int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))


class RandomResizedCrop(Transform):
    """A random window of ``scale`` (fraction of the area) and aspect ``ratio`` (log-uniform), resized to
    ``size``; after 10 failed draws, the central crop of the clamped ratio."""

    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0), interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True, *, generator: Any = None) -> None:
        self.size = _setup_size(size, "RandomResizedCrop")
        _check_scale_ratio(scale, ratio, "RandomResizedCrop")
        self.interpolation = interpolation_mode(interpolation, "RandomResizedCrop")
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio
        self.generator = resolve_generator(generator, "RandomResizedCrop")

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float], *, generator: Any = None
                   ) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of the window (class docstring)."""
        g = _rng(resolve_generator(generator, "RandomResizedCrop"))
        _, height, width = dimensions(img, "RandomResizedCrop")
        for w, h in _rectangles(g, height * width, scale, ratio):
            if 0 < w <= width and 0 < h <= height:
                return int(g.integers(0, height - h + 1)), int(g.integers(0, width - w + 1)), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img: Any) -> Any:
        i, j, h, w = self.get_params(img, self.scale, self.ratio, generator=self.generator)
        return F.resized_crop(img, i, j, h, w, list(self.size), self.interpolation, antialias=self.antialias)

    def __repr__(self) -> str:
        return (f"RandomResizedCrop(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, "
                f"antialias={self.antialias})")


class FiveCrop(Transform):
    """The four corner crops and the central crop of ``size``, as a tuple."""

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _setup_size(size, "FiveCrop")

    def __call__(self, img: Any) -> tuple[Any, ...]:
        return F.five_crop(img, self.size)

    def __repr__(self) -> str:
        return f"FiveCrop(size={self.size})"


class TenCrop(Transform):
    """:class:`FiveCrop` of the image and of its mirror image."""

    def __init__(self, size: int | Sequence[int], vertical_flip: bool = False) -> None:
        self.size = _setup_size(size, "TenCrop")
        self.vertical_flip = vertical_flip

    def __call__(self, img: Any) -> tuple[Any, ...]:
        return F.ten_crop(img, self.size, self.vertical_flip)

    def __repr__(self) -> str:
        return f"TenCrop(size={self.size}, vertical_flip={self.vertical_flip})"


def _setup_angle(x: Any, name: str, req_sizes: tuple[int, ...] = (2,)) -> list[float]:
    if isinstance(x, numbers.Real):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return [-float(x), float(x)]
    _check_sequence(x, name, req_sizes)
    return [float(d) for d in x]


def _check_sequence(x: Any, name: str, req_sizes: tuple[int, ...]) -> None:
    msg = " or ".join(str(s) for s in req_sizes)
    if not isinstance(x, Sequence):
        raise TypeError(f"{name} should be a sequence of length {msg}.")
    if len(x) not in req_sizes:
        raise ValueError(f"{name} should be a sequence of length {msg}.")


def _fill_for(img: Any, fill: Any) -> Any:
    """torchvision's fill for array and tensor images: one float per channel."""
    if is_pil(img):
        return fill
    channels = dimensions(img, "fill")[0]
    return [float(fill)] * channels if isinstance(fill, int | float) else [float(f) for f in fill]


class RandomRotation(Transform):
    """Rotate by an angle uniform in ``degrees`` (``d`` means ``(-d, d)``), counter-clockwise."""

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST, expand: bool = False,
                 center: Sequence[int] | None = None, fill: Any = 0, *, generator: Any = None) -> None:
        self.degrees = _setup_angle(degrees, "degrees")
        if center is not None:
            _check_sequence(center, "center", (2,))
        self.center = center
        self.interpolation = interpolation_mode(interpolation, "RandomRotation")
        self.expand = expand
        self.fill = _check_fill(fill, "RandomRotation")
        self.generator = resolve_generator(generator, "RandomRotation")

    @staticmethod
    def get_params(degrees: Sequence[float], *, generator: Any = None) -> float:
        """An angle uniform in ``[degrees[0], degrees[1])``."""
        return float(_rng(resolve_generator(generator, "RandomRotation")).uniform(degrees[0], degrees[1]))

    def __call__(self, img: Any) -> Any:
        angle = self.get_params(self.degrees, generator=self.generator)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, _fill_for(img, self.fill))

    def __repr__(self) -> str:
        center = f", center={self.center}" if self.center is not None else ""
        return (f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}{center}, fill={self.fill})")


class RandomAffine(Transform):
    """A random affine map: rotation uniform in ``degrees``, translation up to ``translate`` (fractions of
    width and height, rounded to pixels), scale uniform in ``scale``, shear uniform in ``shear`` (degrees,
    x range then optionally y range); the image keeps its size."""

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None, scale: Sequence[float] | None = None,
                 shear: Any = None, interpolation: Any = InterpolationMode.NEAREST, fill: Any = 0,
                 center: Sequence[int] | None = None, *, generator: Any = None) -> None:
        self.degrees = _setup_angle(degrees, "degrees")
        if translate is not None:
            _check_sequence(translate, "translate", (2,))
            if any(not 0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translation values should be between 0 and 1")
        self.translate = translate
        if scale is not None:
            _check_sequence(scale, "scale", (2,))
            if any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        self.scale = scale
        self.shear = _setup_angle(shear, "shear", (2, 4)) if shear is not None else None
        self.interpolation = interpolation_mode(interpolation, "RandomAffine")
        self.fill = _check_fill(fill, "RandomAffine")
        if center is not None:
            _check_sequence(center, "center", (2,))
        self.center = center
        self.generator = resolve_generator(generator, "RandomAffine")

    @staticmethod
    def get_params(degrees: Sequence[float], translate: Sequence[float] | None,
                   scale_ranges: Sequence[float] | None, shears: Sequence[float] | None, img_size: Sequence[int],
                   *, generator: Any = None) -> tuple[float, tuple[int, int], float, tuple[float, float]]:
        """``(angle, (tx, ty), scale, (shear_x, shear_y))`` for an image of ``img_size = [width, height]``."""
        g = _rng(resolve_generator(generator, "RandomAffine"))
        angle = float(g.uniform(degrees[0], degrees[1]))
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(g.uniform(-max_dx, max_dx))), int(round(g.uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = float(g.uniform(scale_ranges[0], scale_ranges[1])) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = float(g.uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shear_y = float(g.uniform(shears[2], shears[3]))
        return angle, translations, scale, (shear_x, shear_y)

    def __call__(self, img: Any) -> Any:
        _, height, width = dimensions(img, "RandomAffine")
        angle, translations, scale, shear = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                                                            [width, height], generator=self.generator)
        return F.affine(img, angle, list(translations), scale, list(shear), interpolation=self.interpolation,
                        fill=_fill_for(img, self.fill), center=self.center)

    def __repr__(self) -> str:
        s = f"RandomAffine(degrees={self.degrees}"
        s += f", translate={self.translate}" if self.translate is not None else ""
        s += f", scale={self.scale}" if self.scale is not None else ""
        s += f", shear={self.shear}" if self.shear is not None else ""
        s += f", interpolation={self.interpolation.value}" if self.interpolation != InterpolationMode.NEAREST else ""
        s += f", fill={self.fill}" if self.fill != 0 else ""
        s += f", center={self.center}" if self.center is not None else ""
        return s + ")"


# ============================================================================================ colour
class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue changes, applied in a random order.

    Each argument is a non-negative ``x`` (factor uniform in ``[max(0, 1 - x), 1 + x]``; for hue, in
    ``[-x, x]`` with ``x <= 0.5``) or an explicit ``(min, max)``; 0 leaves that property alone.
    """

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0, hue: Any = 0, *,
                 generator: Any = None) -> None:
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)
        self.generator = resolve_generator(generator, "ColorJitter")

    @staticmethod
    def _check_input(value: Any, name: str, center: float = 1, bound: tuple[float, float] = (0, float("inf")),
                     clip_first_on_zero: bool = True) -> tuple[float, float] | None:
        if isinstance(value, numbers.Real):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, tuple | list) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        return None if value[0] == value[1] == center else (value[0], value[1])

    @staticmethod
    def get_params(brightness: Sequence[float] | None, contrast: Sequence[float] | None,
                   saturation: Sequence[float] | None, hue: Sequence[float] | None, *, generator: Any = None
                   ) -> tuple[Tensor, float | None, float | None, float | None, float | None]:
        """``(order, b, c, s, h)``: a random permutation of the four adjustments (0 brightness, 1 contrast,
        2 saturation, 3 hue) and a factor uniform in each given range."""
        g = _rng(resolve_generator(generator, "ColorJitter"))
        order = Tensor._wrap(g.permutation(4).astype(np.int64))

        def draw(r: Sequence[float] | None) -> float | None:
            return None if r is None else float(g.uniform(r[0], r[1]))

        return order, draw(brightness), draw(contrast), draw(saturation), draw(hue)

    def __call__(self, img: Any) -> Any:
        order, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue,
                                            generator=self.generator)
        steps = {0: (F.adjust_brightness, b), 1: (F.adjust_contrast, c), 2: (F.adjust_saturation, s),
                 3: (F.adjust_hue, h)}
        for k in order._data.tolist():
            fn, factor = steps[k]
            if factor is not None:
                img = fn(img, factor)
        return img

    def __repr__(self) -> str:
        return (f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class Grayscale(Transform):
    """Convert to grey levels (``num_output_channels`` 1, or 3 equal channels)."""

    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def __call__(self, img: Any) -> Any:
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self) -> str:
        return f"Grayscale(num_output_channels={self.num_output_channels})"


class RandomGrayscale(Transform):
    """With probability ``p``, convert to grey levels keeping the number of channels."""

    def __init__(self, p: float = 0.1, *, generator: Any = None) -> None:
        self.p = _check_p(p, "RandomGrayscale")
        self.generator = resolve_generator(generator, "RandomGrayscale")

    def __call__(self, img: Any) -> Any:
        channels = dimensions(img, "RandomGrayscale")[0]
        if _rng(self.generator).random() < self.p:
            return F.rgb_to_grayscale(img, num_output_channels=channels)
        return img

    def __repr__(self) -> str:
        return f"RandomGrayscale(p={self.p})"


class RandomErasing(Transform):
    """With probability ``p``, erase a random rectangle of ``scale`` (area fraction) and aspect ``ratio``
    (log-uniform) of a tensor or array image, setting it to ``value``: a number, one per channel, or
    ``'random'`` (standard normal noise). Ten failed draws leave the image as it is."""

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33), ratio: Sequence[float] = (0.3, 3.3),
                 value: Any = 0, inplace: bool = False, *, generator: Any = None) -> None:
        if not isinstance(value, numbers.Real | str | tuple | list):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        _check_scale_ratio(scale, ratio, "RandomErasing")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        self.p = _check_p(p, "RandomErasing")
        self.scale = scale
        self.ratio = ratio
        self.value = value
        self.inplace = inplace
        self.generator = resolve_generator(generator, "RandomErasing")

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float], value: Sequence[float] | None = None,
                   *, generator: Any = None) -> tuple[int, int, int, int, Any]:
        """``(i, j, h, w, v)``: the rectangle and its new values (``img`` itself when no draw fits)."""
        g = _rng(resolve_generator(generator, "RandomErasing"))
        img_c, img_h, img_w = dimensions(img, "RandomErasing")
        for h, w in _rectangles(g, img_h * img_w, scale, ratio):
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = Tensor._wrap(g.standard_normal((img_c, h, w)).astype(np.float32))
            else:
                v = Tensor._wrap(np.asarray(value, dtype=np.float32)[:, None, None])
            return int(g.integers(0, img_h - h + 1)), int(g.integers(0, img_w - w + 1)), h, w, v
        return 0, 0, img_h, img_w, img

    def __call__(self, img: Any) -> Any:
        if _rng(self.generator).random() >= self.p:
            return img
        if isinstance(self.value, numbers.Real):  # NumPy scalars too
            value: list[float] | None = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = [float(v) for v in self.value]
        channels = dimensions(img, "RandomErasing")[0]
        if value is not None and len(value) not in (1, channels):
            raise ValueError(f"RandomErasing: if value is a sequence, it should have either a single value or "
                             f"{channels} (number of input channels)")
        i, j, h, w, v = self.get_params(img, self.scale, self.ratio, value, generator=self.generator)
        if v is img:
            return img
        if isinstance(img, np.ndarray) and img.ndim == 3:  # (H, W, C): the values go channels-last
            v = Tensor._wrap(np.moveaxis(v._data, 0, -1))
        return F.erase(img, i, j, h, w, v, self.inplace)

    def __repr__(self) -> str:
        return (f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value}, "
                f"inplace={self.inplace})")


class GaussianBlur(Transform):
    """Gaussian blur with ``kernel_size`` and a sigma uniform in ``sigma = (min, max)`` (or fixed)."""

    def __init__(self, kernel_size: int | Sequence[int], sigma: Any = (0.1, 2.0), *, generator: Any = None) -> None:
        self.kernel_size = _setup_size(kernel_size, "GaussianBlur")
        if any(ks <= 0 or ks % 2 == 0 for ks in self.kernel_size):
            raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Real):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma
        self.generator = resolve_generator(generator, "GaussianBlur")

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float, *, generator: Any = None) -> float:
        return float(_rng(resolve_generator(generator, "GaussianBlur")).uniform(sigma_min, sigma_max))

    def __call__(self, img: Any) -> Any:
        sigma = self.get_params(self.sigma[0], self.sigma[1], generator=self.generator)
        return F.gaussian_blur(img, list(self.kernel_size), [sigma, sigma])

    def __repr__(self) -> str:
        return f"GaussianBlur(kernel_size={self.kernel_size}, sigma={self.sigma})"


# ============================================================================================ random choice
class RandomApply(Transform):
    """Apply the list of ``transforms`` with probability ``p`` (all or none)."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]], p: float = 0.5, *, generator: Any = None) -> None:
        self.transforms = transforms
        self.p = p
        self.generator = resolve_generator(generator, "RandomApply")

    def __call__(self, img: Any) -> Any:
        if self.p < _rng(self.generator).random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return _list_repr("RandomApply", self.transforms, f"\n    p={self.p}")


class _RandomTransforms(Transform):
    def __init__(self, transforms: Sequence[Callable[[Any], Any]], *, generator: Any = None) -> None:
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms
        self.generator = resolve_generator(generator, type(self).__name__)

    def __repr__(self) -> str:
        return _list_repr(type(self).__name__, self.transforms)


class RandomChoice(_RandomTransforms):
    """Apply one of ``transforms``, picked with probabilities proportional to ``p`` (uniform if ``None``).
    The pick draws from minidl's generator (torchvision uses Python's ``random``)."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]], p: Sequence[float] | None = None, *,
                 generator: Any = None) -> None:
        super().__init__(transforms, generator=generator)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        self.p = p

    def __call__(self, *args: Any) -> Any:
        weights = None if self.p is None else np.asarray(self.p, dtype=np.float64) / float(np.sum(self.p))
        t = self.transforms[int(_rng(self.generator).choice(len(self.transforms), p=weights))]
        return t(*args)

    def __repr__(self) -> str:
        return f"{super().__repr__()}(p={self.p})"


class RandomOrder(_RandomTransforms):
    """Apply ``transforms`` in a random order (drawn from minidl's generator)."""

    def __call__(self, img: Any) -> Any:
        for i in _rng(self.generator).permutation(len(self.transforms)).tolist():
            img = self.transforms[i](img)
        return img
