"""What the transforms take as an image, and the one array layout their kernels work on.

An image is one of

* a PIL image (Pillow, the optional extra ``images``): handled by Pillow itself, as torchvision does;
* a NumPy array ``(H, W)`` or ``(H, W, C)``: an image as a dataset stores it, the layout of a PIL image
  (``ToTensor`` turns it into a CHW tensor, exactly as torchvision's ``ToTensor`` treats an ndarray);
* a minidl :class:`~minidl.Tensor` ``(..., C, H, W)`` (or ``(..., H, W)``): torchvision's tensor images.

The NumPy kernels of this package see every array and tensor image as *planes*: an array whose last two
axes are (H, W), channels (if any) just before them. :func:`planes` gives that view of an image together with
the function that turns a result back into the image's own kind and layout, so one kernel serves arrays and
tensors alike. Batched forms (the DataLoader's fast path) pass a leading sample axis: ``(N, H, W)`` or
``(N, H, W, C)`` arrays, ``(N, C, H, W)`` tensors.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..errors import DataError, ShapeError
from ..tensor import Tensor

__all__ = ["pillow", "open_image", "is_pil", "planes", "dimensions", "check_image"]


def pillow() -> Any:
    """Pillow's ``PIL.Image`` module, or an ImportError naming the extra that installs it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            'PIL images and image files need Pillow, an optional dependency of minidl: pip install "minidl[images]"'
        ) from None
    return Image


@contextlib.contextmanager
def open_image(path: str | os.PathLike) -> Iterator[Any]:
    """``PIL.Image.open(path)`` whose failures name the file: a :class:`~minidl.errors.DataError` for a file
    that is not a readable image and for one larger than Pillow's decompression-bomb limit
    (``Image.MAX_IMAGE_PIXELS``; such a file could exhaust the memory while decoding)."""
    image_module = pillow()
    try:
        with image_module.open(path) as im:
            yield im
    except image_module.DecompressionBombError as e:
        raise DataError(f"{os.fspath(path)}: refused: the image is too large to decode safely ({e})") from None
    except OSError as e:  # not an image, truncated (PIL.UnidentifiedImageError is an OSError)
        raise DataError(f"{os.fspath(path)}: cannot read the image: {e}") from None


def is_pil(img: Any) -> bool:
    """Whether ``img`` is a PIL image (without importing Pillow: if it is not loaded, nothing is one)."""
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(img, module.Image)


def check_image(img: Any, owner: str) -> None:
    """Raise a TypeError naming ``owner`` unless ``img`` is a PIL image, a NumPy array or a Tensor."""
    if not (isinstance(img, np.ndarray | Tensor) or is_pil(img)):
        raise TypeError(f"{owner}: expected a PIL image, a NumPy array (H, W[, C]) or a Tensor (..., C, H, W), "
                        f"got {type(img).__name__}")


def _hwc_channels(arr: np.ndarray, batched: bool, owner: str) -> bool:
    """Whether an array image has a channel axis (last); raises for shapes that are no image."""
    lead = 1 if batched else 0
    if arr.ndim == 2 + lead:
        return False
    if arr.ndim == 3 + lead:
        # A CHW array read as HWC would be silently transposed garbage: refuse the tell-tale shape.
        if arr.shape[-1] > 4 and arr.shape[lead] <= 4:
            raise ShapeError(
                f"{owner}: a NumPy image is read as (H, W, C) like a PIL image, but shape {arr.shape} looks "
                "channels-first; pass a Tensor for (C, H, W) images (ToTensor makes one) or move the axis"
            )
        return True
    want = "(N, H, W) or (N, H, W, C)" if batched else "(H, W) or (H, W, C)"
    raise ShapeError(f"{owner}: expected an image array of shape {want}, got shape {arr.shape}")


def planes(img: np.ndarray | Tensor, owner: str, batched: bool = False
           ) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """``img`` as an array whose last two axes are (H, W), and the map from such an array back to ``img``'s kind.

    A tensor gives its own storage (no copy) and gets a new tensor back; an ``(H, W, C)`` array gives a
    channels-first view and gets its result moved back to channels-last.
    """
    if isinstance(img, Tensor):
        arr = img._data
        if arr.ndim < 2:
            raise ShapeError(f"{owner}: a tensor image needs at least 2 dimensions (..., H, W), got shape "
                             f"{tuple(arr.shape)}")
        return arr, _to_tensor
    if isinstance(img, np.ndarray):
        if _hwc_channels(img, batched, owner):
            return np.moveaxis(img, -1, -3), _to_channels_last
        return img, _same
    raise TypeError(f"{owner}: expected a NumPy array or a Tensor, got {type(img).__name__}")


def _to_tensor(arr: np.ndarray) -> Tensor:
    return Tensor._wrap(np.ascontiguousarray(arr))


def _to_channels_last(arr: np.ndarray) -> np.ndarray:
    return np.moveaxis(arr, -3, -1)


def _same(arr: np.ndarray) -> np.ndarray:
    return arr


def dimensions(img: Any, owner: str, batched: bool = False) -> tuple[int, int, int]:
    """``(channels, height, width)`` of an image, or of each image of a batch (torchvision's
    ``get_dimensions``)."""
    if is_pil(img) and not batched:
        width, height = img.size
        return len(img.getbands()), height, width
    arr, _ = planes(img, owner, batched)
    channels = 1 if arr.ndim == 2 + batched else arr.shape[-3]
    return int(channels), int(arr.shape[-2]), int(arr.shape[-1])
