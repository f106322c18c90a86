"""Vision functions of ``minidl.nn.functional``: ``pad``, ``interpolate`` (and the deprecated ``upsample``
family), ``pixel_shuffle`` and ``pixel_unshuffle``.

``pad`` runs the pad op and ``interpolate`` the interpolate op (``mode='area'`` is adaptive average pooling,
as in PyTorch) after PyTorch's own argument rules, which are spelled out here: which inputs each mode takes,
how a scale factor gives the output size, and when it also sets the sampling positions. The pixel shuffles
are reshapes and a permutation, so their gradients are those of the view ops.
"""

from __future__ import annotations

import math
import operator
import warnings
from typing import Any

from .. import ops
from ..errors import DTypeError, ShapeError, UnsupportedError
from ..ops.padding import MODES as PAD_MODES
from ..tensor import Tensor
from ._functional_args import _check_tensor
from ._functional_pooling import adaptive_avg_pool1d

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle"]


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the trailing len(pad)/2 dims: ``pad`` = (last_lo, last_hi, second_last_lo, ...), negative values
    crop. ``mode``: constant (with ``value``, default 0) for any number of dims; reflect, replicate and
    circular for the last 1, 2 or 3 dims of a (batched or unbatched) input with one or two more dims."""
    _check_tensor("pad", input)
    if mode not in PAD_MODES:
        raise UnsupportedError(f"pad: Unrecognised padding mode {mode}")
    if not isinstance(pad, tuple | list):
        raise TypeError(f"pad: pad must be a tuple of ints, got {type(pad).__name__}")
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
        dims = len(pad) // 2
        if len(pad) % 2 == 0 and (dims not in (1, 2, 3) or input.ndim not in (dims + 1, dims + 2)):
            raise UnsupportedError(
                f"pad: Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\nSupported "
                "combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)"
                "\n  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n  - 4D or 5D input: padding size "
                "= 6 (pads last 3 dimensions)")
    return ops.pad(input, pad=tuple(pad), mode=mode, value=0.0 if value is None else value)


# ------------------------------------------------------------------------------------------------ interpolate
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}  # spatial dims each interpolating mode takes
_MODES = ("nearest", "nearest-exact", "area", *_INTERPOLATING)


def _per_dim(value: Any, dim: int, what: str, input: Tensor) -> list | None:
    """A size or scale factor for each of the ``dim`` spatial dims (one value is repeated)."""
    if value is None:
        return None
    if isinstance(value, tuple | list):
        if len(value) != dim:
            raise ValueError(
                f"interpolate: Input and {'output' if what == 'size' else 'scale_factor'} must have the same number "
                f"of spatial dimensions, but got input with spatial dimensions of {list(input.shape[2:])} and "
                f"{'output size' if what == 'size' else 'scale_factor of shape'} of {value}. Please provide input "
                f"tensor in (N, C, d1, d2, ...,dK) format and {what} in "
                f"({'o1, o2, ...,oK' if what == 'size' else 's1, s2, ...,sK'}) format.")
        return list(value)
    return [value] * dim


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample the spatial dims of (N, C, *spatial) input to ``size``, or to ⌊input size · scale_factor⌋.

    Modes: nearest, nearest-exact (any 1-3 spatial dims), linear (3-D input), bilinear and bicubic (4-D; with
    ``antialias``), trilinear (5-D), area (adaptive average pooling; 3-D and 4-D). ``align_corners`` maps the
    corner pixels' centres onto each other (interpolating modes only). A given scale factor also sets the
    sampling positions unless ``recompute_scale_factor`` is true, as in PyTorch.
    """
    _check_tensor("interpolate", input)
    if mode not in _MODES:
        raise UnsupportedError(f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                               f"{input.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | "
                               f"area | nearest-exact (got {mode})")
    if mode in _INTERPOLATING:
        align_corners = bool(align_corners)
    elif align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    dim = input.ndim - 2
    if dim not in (1, 2, 3):
        raise UnsupportedError(f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                               f"{input.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | "
                               f"area | nearest-exact (got {mode})")
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size.")
    sizes, scales = _per_dim(size, dim, "size", input), _per_dim(scale_factor, dim, "scale_factor", input)
    if sizes is None:  # from the scale factors, which also set the sampling positions unless recomputed
        assert scales is not None  # one of the two was given (checked above)
        sizes = [math.floor(float(n) * float(s)) for n, s in zip(input.shape[2:], scales, strict=True)]
        if recompute_scale_factor or mode == "area":
            scales = None
    sizes = [operator.index(s) for s in sizes]
    if mode in _DIMS and _DIMS[mode] != dim:
        raise UnsupportedError(f"interpolate: Got {input.ndim}D input, but {mode} mode needs {_DIMS[mode] + 2}D input")
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("interpolate: Anti-alias option is restricted to bilinear and bicubic modes and requires a "
                         "4-D tensor as input")
    if min(sizes) < 1 or min(input.shape[2:], default=1) < 1:
        raise ShapeError(f"interpolate: input and output sizes should be greater than 0, but got input "
                         f"{tuple(input.shape[2:])} and output {tuple(sizes)}")
    if mode not in ("nearest", "nearest-exact") and input._data.dtype.kind != "f":
        raise DTypeError(f"interpolate: mode {mode!r} needs a floating input, got {input.dtype}")
    if mode == "area":
        if dim == 1:
            return adaptive_avg_pool1d(input, sizes)
        if dim == 2:
            return ops.adaptive_avg_pool2d(input, output_size=tuple(sizes))
        raise UnsupportedError("interpolate: mode 'area' of 5-D input (adaptive_avg_pool3d) is not in minidl")
    return ops.interpolate(input, size=tuple(sizes), mode=mode, align_corners=bool(align_corners),
                           scales=None if scales is None else tuple(float(s) for s in scales), antialias=antialias)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of :func:`interpolate` (PyTorch warns, and so does minidl)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: :func:`interpolate` with mode 'nearest'."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: :func:`interpolate` with mode 'bilinear' and ``align_corners=True``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------------------------------------ pixel shuffles
def _check_shuffle(name: str, input: Tensor, factor: Any, what: str) -> int:
    _check_tensor(name, input)
    factor = operator.index(factor)
    if factor <= 0:
        raise ValueError(f"{name} expects a positive {what}, but got {factor}")
    if input.ndim < 3:
        raise ShapeError(f"{name} expects input to have at least 3 dimensions, but got input with {input.ndim} "
                         "dimension(s)")
    return factor


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) -> (*, C, H·r, W·r): out[..., c, h·r + i, w·r + j] = in[..., (c·r + i)·r + j, h, w]."""
    r = _check_shuffle("pixel_shuffle", input, upscale_factor, "upscale_factor")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ShapeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                         f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w).permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of :func:`pixel_shuffle`."""
    r = _check_shuffle("pixel_unshuffle", input, downscale_factor, "downscale_factor")
    *lead, c, h, w = input.shape
    for name, dim, n in (("height", -2, h), ("width", -1, w)):
        if n % r:
            raise ShapeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                             f"input.size({dim})={n} is not divisible by {r}")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r).permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)
