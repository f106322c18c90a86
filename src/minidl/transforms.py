"""Per-sample data transforms on NumPy arrays (torchvision's names and semantics), with batched forms.

A transform is a callable on one sample. Image transforms take the raw image a dataset stores, a uint8
array ``(H, W)`` or ``(H, W, C)`` (what torchvision would hand over as a PIL image); :class:`ToTensor`
turns it into a float ``(C, H, W)`` array in [0, 1] and the others work on that layout. Outputs stay NumPy
arrays: :func:`minidl.utils.data.default_collate` turns the stacked batch into a tensor.

Batched application: a transform with ``batchable = True`` also has ``batch(x)``, the same map applied
to a stack of samples ``x[0], x[1], ...`` in one vectorised step. The DataLoader's fast path uses it when
every transform of a dataset is batchable (:class:`Compose` is when all its parts are). Random transforms
draw one value per sample either way, from ``generator`` or else minidl's global generator
(:func:`minidl.manual_seed`), but the per-sample and batched forms consume the stream in a different
order, so they give different (equally distributed) augmentations for the same seed.

Data transforms run on the host with NumPy: data loading never runs on an accelerator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .dtypes import default_float
from .random import default_generator
from .utils.data.sampler import resolve_generator

__all__ = [
    "Transform",
    "Compose",
    "ToFloat",
    "ToTensor",
    "Normalize",
    "Flatten",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Lambda",
    "EvenOdd",
    "to_tensor",
    "is_batchable",
]


def is_batchable(transform: Any) -> bool:
    """Whether ``transform`` can be applied to a whole batch at once (has a ``batch`` method)."""
    return bool(getattr(transform, "batchable", False))


class Transform:
    """Base class: ``__call__`` maps one sample; batchable subclasses also define ``batch``."""

    batchable: bool = False

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError

    def batch(self, x: np.ndarray) -> np.ndarray:
        """Apply to a stacked batch (leading axis = samples)."""
        raise TypeError(f"{type(self).__name__} has no batched form")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Compose(Transform):
    """Apply ``transforms`` in order; batchable when all of them are."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)
        self.batchable = all(is_batchable(t) for t in self.transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def batch(self, x: np.ndarray) -> np.ndarray:
        if not self.batchable:
            raise TypeError(f"Compose: not all transforms have a batched form: {self.transforms}")
        for t in self.transforms:
            x = t.batch(x)
        return x

    def __repr__(self) -> str:
        body = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{body}\n])"


def _check_numeric(x: Any, owner: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{owner}: expected a numpy array, got {type(x).__name__}")
    if x.dtype.kind not in "buif":
        raise TypeError(f"{owner}: expected a numeric array, got dtype {x.dtype}")
    return x


class ToFloat(Transform):
    """``x * scale`` as ``dtype`` (float32), same layout: uint8 pixels to floats in [0, 1] by default."""

    batchable = True

    def __init__(self, scale: float = 1 / 255, dtype: Any = None) -> None:
        self.dtype = default_float() if dtype is None else np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"ToFloat: dtype must be a float dtype, got {self.dtype}")
        self.scale = self.dtype.type(scale)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.multiply(_check_numeric(x, "ToFloat"), self.scale, dtype=self.dtype)

    batch = __call__

    def __repr__(self) -> str:
        return f"ToFloat(scale={float(self.scale)!r}, dtype={self.dtype})"


def to_tensor(x: np.ndarray, batched: bool = False) -> np.ndarray:
    """Image(s) ``(H, W)`` / ``(H, W, C)`` (batched: with a leading N) to C-contiguous ``(C, H, W)`` floats.

    uint8 pixels become float32 ``x / 255`` (division, as torchvision, so values match it bit for bit);
    float images keep their dtype and values; bool becomes float32 0/1.
    """
    _check_numeric(x, "ToTensor")
    lead = 1 if batched else 0
    if x.ndim == 2 + lead:
        x = x[..., None, :, :]
    elif x.ndim == 3 + lead:
        x = np.moveaxis(x, -1, -3)
    else:
        want = "(N, H, W) or (N, H, W, C)" if batched else "(H, W) or (H, W, C)"
        raise ValueError(f"ToTensor: expected an image of shape {want}, got shape {x.shape}")
    if x.dtype == np.uint8:
        return np.divide(x, default_float().type(255), dtype=default_float(), order="C")
    if x.dtype.kind == "f":
        return np.ascontiguousarray(x)
    if x.dtype.kind == "b":
        return np.ascontiguousarray(x, dtype=default_float())
    raise TypeError(f"ToTensor: expected uint8, bool or float pixels, got dtype {x.dtype}")


class ToTensor(Transform):
    """torchvision's ``ToTensor`` on arrays: HWC (or HW) uint8 to CHW float32 in [0, 1] (:func:`to_tensor`).

    The result is a NumPy array; the DataLoader's collate makes it a minidl tensor.
    """

    batchable = True

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return to_tensor(x)

    def batch(self, x: np.ndarray) -> np.ndarray:
        return to_tensor(x, batched=True)


class Normalize(Transform):
    """Per channel ``(x - mean[c]) / std[c]`` on a float ``(C, H, W)`` image (or ``(N, C, H, W)`` batch).

    A single mean/std applies to every channel. Computed in the input's float dtype.
    """

    batchable = True

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1 or len(self.mean) != len(self.std):
            raise ValueError(
                "Normalize: mean and std must be sequences of equal length, "
                f"got {self.mean.shape} and {self.std.shape}"
            )
        if not np.all(np.isfinite(self.mean)) or np.any(self.std == 0) or not np.all(np.isfinite(self.std)):
            raise ValueError(
                f"Normalize: mean and std must be finite and std non-zero, got std={self.std.tolist()}"
            )

    def _apply(self, x: np.ndarray, channel_axis: int) -> np.ndarray:
        _check_numeric(x, "Normalize")
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a float image (apply ToTensor first), got dtype {x.dtype}")
        if x.ndim <= channel_axis:
            raise ValueError(
                f"Normalize: expected a (C, H, W) image or (N, C, H, W) batch, got shape {x.shape}"
            )
        c = x.shape[channel_axis]
        if len(self.mean) not in (1, c):
            raise ValueError(
                f"Normalize: {len(self.mean)} means/stds for an input with {c} channels (shape {x.shape})"
            )
        shape = (-1,) + (1,) * (x.ndim - channel_axis - 1)
        mean = self.mean.astype(x.dtype).reshape(shape)
        std = self.std.astype(x.dtype).reshape(shape)
        out = np.subtract(x, mean)
        out /= std
        return out

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._apply(x, 0)

    def batch(self, x: np.ndarray) -> np.ndarray:
        return self._apply(x, 1)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Flatten(Transform):
    """One sample to a 1-D vector (a batch to ``(N, features)``), e.g. images for an MLP."""

    batchable = True

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.reshape(x, -1)

    def batch(self, x: np.ndarray) -> np.ndarray:
        return np.reshape(x, (len(x), -1))


def _pair(value: int | Sequence[int], owner: str, what: str) -> tuple[int, int]:
    vals = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(vals) != 2 or any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in vals):
        raise ValueError(f"{owner}: {what} must be an int or a pair of ints, got {value!r}")
    return int(vals[0]), int(vals[1])


def _generator(generator: np.random.Generator | None) -> np.random.Generator:
    # looked up per call: manual_seed replaces the global generator object
    return generator if generator is not None else default_generator()


class RandomCrop(Transform):
    """A random ``size`` window of the last two (H, W) axes, after zero (``fill``) padding.

    ``padding``: an int (all sides), ``(pad_w, pad_h)`` (left/right, top/bottom) or
    ``(left, top, right, bottom)``, as in torchvision. Works on ``(H, W)``, ``(C, H, W)`` and batches.
    """

    batchable = True

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] = 0, fill: float = 0,
                 generator: Any = None) -> None:
        self.size = _pair(size, "RandomCrop", "size")
        if min(self.size) < 1:
            raise ValueError(f"RandomCrop: size must be positive, got {size!r}")
        pad = (padding,) * 4 if isinstance(padding, int | np.integer) else tuple(padding)
        if len(pad) == 2:
            pad = (pad[0], pad[1], pad[0], pad[1])
        if len(pad) != 4 or any(not isinstance(p, int | np.integer) or p < 0 for p in pad):
            raise ValueError(
                f"RandomCrop: padding must be non-negative ints (1, 2 or 4 of them), got {padding!r}"
            )
        self.padding = tuple(int(p) for p in pad)
        self.fill = fill
        self.generator = resolve_generator(generator, "RandomCrop")

    def _pad(self, x: np.ndarray, min_ndim: int) -> np.ndarray:
        _check_numeric(x, "RandomCrop")
        if x.ndim < min_ndim:
            raise ValueError(
                f"RandomCrop: expected at least {min_ndim} dimensions (..., H, W), got shape {x.shape}"
            )
        left, top, right, bottom = self.padding
        if any(self.padding):
            x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)], constant_values=self.fill)
        th, tw = self.size
        if x.shape[-2] < th or x.shape[-1] < tw:
            raise ValueError(
                f"RandomCrop: crop size {self.size} is larger than the padded image {x.shape[-2:]} "
                f"(input {x.shape})"
            )
        return x

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = self._pad(x, 2)
        th, tw = self.size
        g = _generator(self.generator)
        i = int(g.integers(0, x.shape[-2] - th + 1))
        j = int(g.integers(0, x.shape[-1] - tw + 1))
        return x[..., i : i + th, j : j + tw]

    def batch(self, x: np.ndarray) -> np.ndarray:
        x = self._pad(x, 3)
        th, tw = self.size
        n = len(x)
        g = _generator(self.generator)
        i = g.integers(0, x.shape[-2] - th + 1, size=n)
        j = g.integers(0, x.shape[-1] - tw + 1, size=n)
        # windows[b, ..., i, j] is the crop at (i, j) of sample b: one gather for the whole batch. The
        # advanced indices (b, i, j) broadcast to (n,), which NumPy puts first, then the middle axes.
        windows = np.lib.stride_tricks.sliding_window_view(x, (th, tw), axis=(-2, -1))
        middle = (slice(None),) * (x.ndim - 3)
        return windows[(np.arange(n), *middle, i, j)]

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(Transform):
    """Mirror the last (W) axis with probability ``p``."""

    batchable = True

    def __init__(self, p: float = 0.5, generator: Any = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p!r}")
        self.p = float(p)
        self.generator = resolve_generator(generator, "RandomHorizontalFlip")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        _check_numeric(x, "RandomHorizontalFlip")
        return x[..., ::-1] if _generator(self.generator).random() < self.p else x

    def batch(self, x: np.ndarray) -> np.ndarray:
        _check_numeric(x, "RandomHorizontalFlip")
        flip = _generator(self.generator).random(len(x)) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class Lambda(Transform):
    """Wrap a function as a transform; batchable if a vectorised ``batch_fn`` is given too."""

    def __init__(self, fn: Callable[[Any], Any],
                 batch_fn: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if not callable(fn) or (batch_fn is not None and not callable(batch_fn)):
            raise TypeError("Lambda: fn (and batch_fn, if given) must be callable")
        self.fn = fn
        self.batch_fn = batch_fn
        self.batchable = batch_fn is not None

    def __call__(self, x: Any) -> Any:
        return self.fn(x)

    def batch(self, x: np.ndarray) -> np.ndarray:
        if self.batch_fn is None:
            raise TypeError("Lambda: no batch_fn given, so no batched form")
        return self.batch_fn(x)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.fn, '__name__', self.fn)!r})"


class EvenOdd(Transform):
    """Target transform: class index to parity, 0 for even classes and 1 for odd ones."""

    batchable = True

    def __call__(self, y: Any) -> int:
        return int(y) % 2

    def batch(self, y: np.ndarray) -> np.ndarray:
        return np.remainder(y, 2).astype(np.int64, copy=False)
