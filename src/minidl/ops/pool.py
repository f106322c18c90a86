"""2-D pooling: max, average, adaptive average and adaptive max, and max unpooling, NCHW as in PyTorch.

Window ops run as whole-batch array ops over strided views (:func:`~minidl.ops.conv.window_slices`): the
view of kernel offset (i, j) covers every output at once. Pairwise ``np.maximum`` / ``np.add`` over views
is about 10x faster than ``.max(axis=...)`` over a window axis. These ufuncs follow their input's memory
order, so a channels-last input (the convolution's output) gives a channels-last output and gradient, with
nothing transposed; a gradient arriving in the other layout (from a Flatten) is copied into it once.

Forward passes fold the window separably (:func:`_separable`): over the kh row offsets first, whose views
are whole rows (long contiguous runs in NCHW and in NHWC memory), then over the kw column offsets of that
smaller result. Max pooling's backward finds, per offset in row-major order, the outputs whose first
maximum sits there with cheap contiguous boolean masks, so only two passes per offset touch strided views.

Fast path, stride == kernel with no padding or dilation and sizes that divide: the offset views are the
reshape views ``x.reshape(N, C, Ho, kh, Wo, kw)[:, :, :, i, :, j]``, nothing is padded or copied, and the
backward pass writes each input element exactly once (no zero fill, no accumulation).

Average pooling in general (padding, ceil_mode, count_include_pad, divisor_override) and adaptive average
pooling are separable: out = A_h · x · A_wᵀ over the last two axes, with a band matrix per axis holding each
window's weights, so dx = A_hᵀ · dout · A_w. PyTorch's divisor rules factor per axis, and the matrices
cover only real rows and columns, so padding costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from ..backend import xp
from ..errors import DTypeError, ShapeError, ValueRangeError
from .base import Op
from .conv import Pair, as_pair, check_nchw, empty_nchw, is_channels_last, output_hw, pad_nchw, window_slices


class _PoolGeometry(NamedTuple):
    x_shape: tuple[int, ...]
    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    out_hw: Pair

    @property
    def tiles(self) -> bool:
        """Windows tile the input exactly: stride == kernel, no padding or dilation, sizes divide."""
        return (self.stride == self.kernel and self.padding == (0, 0) and self.dilation == (1, 1)
                and self.x_shape[2] == self.out_hw[0] * self.kernel[0]
                and self.x_shape[3] == self.out_hw[1] * self.kernel[1])

    def slices(self) -> Iterator[tuple[int, int, slice, slice]]:
        return window_slices(self.kernel, self.stride, self.dilation, self.out_hw)


def _pool_geometry(op: str, x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                   ceil_mode: bool) -> _PoolGeometry:
    """Validate a pooling call and work out its output size with PyTorch's rules."""
    check_nchw(op, x)
    kernel = as_pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or (isinstance(stride, tuple | list) and not stride) else (
        as_pair(op, "stride", stride, 1))
    pad = as_pair(op, "padding", padding, 0)
    dil = as_pair(op, "dilation", dilation, 1)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueRangeError(f"{op}: padding {pad} must be at most half of kernel_size {kernel} (PyTorch's rule)")
    out_hw = output_hw(op, x.shape, kernel, stride, ((pad[0], pad[0]), (pad[1], pad[1])), dil, ceil_mode)
    return _PoolGeometry(tuple(x.shape), kernel, stride, pad, dil, out_hw)


# ------------------------------------------------------------------------------------------------ max pooling
class MaxPool2d(Op):
    r"""y[n, c, a, b] = max_{i, j} xpad[n, c, a·sh + i·dh, b·sw + j·dw], padding counting as −∞.

    dL/dx: each output's gradient goes to the input element that attained its maximum, the first in
    row-major window order on ties (as PyTorch); elements that win several overlapping windows get the sum.
    ``stride`` defaults to ``kernel_size``; ``padding`` ≤ kernel/2; ``ceil_mode`` uses PyTorch's size rule.
    Cache: the (padded) input and the output; the argmax is recovered in backward as the first offset
    (row-major) whose value equals the output, so a forward without grad pays nothing for it.
    A NaN in a window propagates to the output (like PyTorch) but its gradient is dropped.
    The same math as loops over every window: :class:`minidl.ops.reference.MaxPool2d`.
    """

    name = "max_pool2d"
    saves = (0, -1)

    def forward(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, indices_out=None):
        geo = _pool_geometry("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
        xw = _neg_inf_padded(x, geo)
        out = _separable(xw, geo, xp.maximum)
        if indices_out is not None:  # PyTorch's return_indices: the argmax's flat index h·W + w in its plane
            (sh, sw), (dh, dw), (ph, pw), (ho, wo) = geo.stride, geo.dilation, geo.padding, geo.out_hw
            rows, cols = np.arange(ho) * sh - ph, np.arange(wo) * sw - pw
            positions = [(rows + i * dh)[:, None] * geo.x_shape[3] + (cols + j * dw) for i, j, _, _ in geo.slices()]
            indices_out.append(_first_max_indices(xw, out, [(r, c) for _, _, r, c in geo.slices()], positions))
        return out, (xw, out, geo)

    def backward(self, dout, cache, needs=None):
        xw, out, geo = cache
        cl = is_channels_last(xw)
        if is_channels_last(dout) != cl:  # e.g. from a Flatten: one copy beats every pass mixing layouts
            dout = _like_layout(dout, cl)
        dxw = empty_nchw(xw.shape, dout.dtype, cl)
        disjoint = all(s >= d * (k - 1) + 1
                       for k, s, d in zip(geo.kernel, geo.stride, geo.dilation, strict=True))
        if not geo.tiles:
            dxw.fill(0)
        share = None if disjoint else empty_nchw(dout.shape, dout.dtype, cl)
        windows = [(rows, cols) for _, _, rows, cols in geo.slices()]
        for (rows, cols), hit in zip(windows, _first_max_hits(xw, out, windows, cl), strict=True):
            if disjoint:  # every element is in one window: write its gradient directly
                xp.multiply(hit, dout, out=dxw[..., rows, cols])
            else:
                xp.multiply(hit, dout, out=share)
                dxw[..., rows, cols] += share
        (top, left), (h, w) = geo.padding, geo.x_shape[2:]
        return (dxw[..., top:top + h, left:left + w],)


def _first_max_hits(x: np.ndarray, out: np.ndarray, windows: list[tuple[Any, Any]],
                    channels_last: bool) -> Iterator[np.ndarray]:
    """For each window offset in row-major order, given as the index pair (rows, cols) whose view
    ``x[..., rows, cols]`` holds that offset's element of every window, the mask of the outputs whose first
    maximum sits there (PyTorch's rule for ties). Each mask is overwritten by the next one: use it first.

    free marks the outputs whose maximum no earlier offset took; bool masks are cheap contiguous passes, so
    per offset only two passes touch the (strided or gathered) views.
    """
    hit = empty_nchw(out.shape, bool, channels_last)
    free = empty_nchw(out.shape, bool, channels_last)
    last = len(windows) - 1
    for k, (rows, cols) in enumerate(windows):
        xp.equal(x[..., rows, cols], out, out=hit)
        if k:
            xp.logical_and(hit, free, out=hit)
        yield hit
        if k == 0:
            xp.logical_not(hit, out=free)
        elif k < last:
            xp.logical_xor(free, hit, out=free)  # free & ~hit, as hit ⊆ free


def _first_max_indices(x: np.ndarray, out: np.ndarray, windows: list[tuple[Any, Any]],
                       positions: list[np.ndarray]) -> np.ndarray:
    """The flat index (within its (H, W) plane) of each output's first maximum: ``positions[k]`` (Ho, Wo)
    holds where offset k of each window sits in the plane. int64, like PyTorch's indices."""
    indices = xp.zeros(out.shape, dtype=np.int64)
    for hit, where in zip(_first_max_hits(x, out, windows, False), positions, strict=True):
        xp.copyto(indices, xp.asarray(where), where=hit)
    return indices


def _scatter_planes(values: np.ndarray, indices: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``shape`` (N, C, H, W) holding Σ values[n, c, ...] at flat plane positions indices[n, c, ...]
    (repeated positions add up)."""
    planes = shape[0] * shape[1]
    size = shape[2] * shape[3]
    flat = indices.reshape(planes, -1) + (np.arange(planes) * size)[:, None]
    sums = xp.bincount(flat.ravel(), weights=values.reshape(planes, -1).ravel(), minlength=planes * size)
    return sums.astype(values.dtype, copy=False).reshape(shape)


def _gather_planes(a: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """out[n, c, ...] = a[n, c] at flat plane position indices[n, c, ...]; the shape of ``indices``."""
    planes = a.shape[0] * a.shape[1]
    return a.reshape(planes, -1)[np.arange(planes)[:, None], indices.reshape(planes, -1)].reshape(indices.shape)


def _separable(x: np.ndarray, geo: _PoolGeometry, ufunc: np.ufunc) -> np.ndarray:
    """``ufunc`` (maximum or add) folded over every window, separably: first over its kh row offsets (views
    of whole rows: long runs in either memory layout), then over the kw column offsets of that (Ho, Wp)
    result. (kh − 1) + (kw − 1) passes instead of kh·kw − 1 over short runs: measured 1.3-2x faster."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    rows = _fold(ufunc, [x[..., i * dh:i * dh + sh * (ho - 1) + 1:sh, :] for i in range(kh)])
    return _fold(ufunc, [rows[..., j * dw:j * dw + sw * (wo - 1) + 1:sw] for j in range(kw)])


def _fold(ufunc: np.ufunc, views: list[np.ndarray]) -> np.ndarray:
    """ufunc(ufunc(v0, v1), v2)... of same-shape views, as a new array."""
    if len(views) == 1:
        return views[0].copy()
    out = ufunc(views[0], views[1])
    for v in views[2:]:
        ufunc(out, v, out=out)
    return out


def _like_layout(a: np.ndarray, channels_last: bool) -> np.ndarray:
    """``a`` (N, C, H, W) copied into the given memory layout."""
    out = empty_nchw(a.shape, a.dtype, channels_last)
    out[...] = a
    return out


def _neg_inf_padded(x: np.ndarray, geo: _PoolGeometry) -> np.ndarray:
    """x padded with −∞: ``padding`` on each side, plus what ceil mode's last windows run past the end."""
    pads = []
    for size, k, s, p, d, n in zip(geo.x_shape[2:], geo.kernel, geo.stride, geo.padding, geo.dilation,
                                   geo.out_hw, strict=True):
        needed = (n - 1) * s + d * (k - 1) + 1  # extent of the padded input the windows read
        pads.append((p, max(0, needed - size - p)))
    if not any(pads[0] + pads[1]):
        return x
    return pad_nchw(x, (pads[0], pads[1]), -xp.inf, is_channels_last(x))


# ------------------------------------------------------------------------------------ separable average pools
def _band(size: int, starts: np.ndarray, ends: np.ndarray, weights: np.ndarray, dtype: Any) -> np.ndarray:
    """A (len(starts), size) matrix: weights[o] at columns starts[o] ≤ t < ends[o] of row o, else 0.

    Window bookkeeping is tiny integer work, done in NumPy; only the finished matrix goes to ``xp``.
    """
    t = np.arange(size)
    inside = (t >= starts[:, None]) & (t < ends[:, None])
    return xp.asarray(inside * weights[:, None], dtype=dtype)


def _contract_hw(a: np.ndarray, mh: np.ndarray, mw: np.ndarray) -> np.ndarray:
    """out[n, c, i, j] = Σ_{h, w} mh[i, h] · a[n, c, h, w] · mw[j, w]: two BLAS products (tensordot)."""
    t = xp.tensordot(a, mw, axes=([3], [1]))  # (N, C, H, Wo)
    return xp.tensordot(mh, t, axes=([1], [2])).transpose(1, 2, 0, 3)  # (Ho, N, C, Wo) -> (N, C, Ho, Wo)


def _separable_grad(dout: np.ndarray, mats: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """dL/dx of y = A_h x A_wᵀ: A_hᵀ · dL/dy · A_w."""
    ah, aw = mats
    return _contract_hw(dout, ah.T, aw.T)


class AvgPool2d(Op):
    r"""y[n, c, a, b] = (1/D) Σ_{i, j} xpad[n, c, a·sh + i, b·sw + j], zero padding; PyTorch's ``avg_pool2d``.

    The divisor D, with the window clipped to the padded input [−p, L + p) per axis:
    ``divisor_override`` if given; else the clipped window's size (``count_include_pad=True``); else the
    number of real input elements in it. Each factors into a per-axis count, so
    y = A_h x A_wᵀ with A[o, t] = 1/D_axis[o] for the real positions t in window o, and
    dL/dx = A_hᵀ · dL/dy · A_w. When the windows tile the input (the fast path) y is instead the sum of
    windows (summed separably) times 1/(kh·kw), and dL/dx puts dL/dy / (kh·kw) at every element.
    ``stride`` defaults to ``kernel_size``; ``padding`` ≤ kernel/2; ``ceil_mode`` uses PyTorch's size rule.
    The same math as loops over every window: :class:`minidl.ops.reference.AvgPool2d`.
    """

    name = "avg_pool2d"
    saves = ()

    def forward(self, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
        geo = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
        if divisor_override is not None and (not isinstance(divisor_override, int | np.integer)
                                             or divisor_override == 0):
            raise ValueError(f"avg_pool2d: divisor_override must be a non-zero int, got {divisor_override!r}")
        if geo.tiles:
            scale = x.dtype.type(1.0 / (divisor_override or geo.kernel[0] * geo.kernel[1]))
            out = _separable(x, geo, xp.add)
            out *= scale
            return out, (None, (geo, scale, is_channels_last(x)))
        mats = []
        for axis in range(2):
            size, k, s, p, n = (geo.x_shape[2 + axis], geo.kernel[axis], geo.stride[axis], geo.padding[axis],
                                geo.out_hw[axis])
            start = np.arange(n) * s - p
            end = np.minimum(start + k, size + p)  # the window clipped to the padded input
            lo, hi = np.maximum(start, 0), np.minimum(end, size)  # ... and to the real input
            if divisor_override is not None:
                count = np.full(n, divisor_override if axis == 1 else 1)
            else:
                count = end - start if count_include_pad else hi - lo
            mats.append(_band(size, lo, hi, 1.0 / np.maximum(count, 1), x.dtype))
        return _contract_hw(x, *mats), (tuple(mats), None)

    def backward(self, dout, cache, needs=None):
        mats, tiled = cache
        if mats is not None:
            return (_separable_grad(dout, mats),)
        geo, scale, cl = tiled
        g = empty_nchw(dout.shape, dout.dtype, cl)  # scaled in x's layout, so the writes below stream
        xp.multiply(dout, scale, out=g)
        dx = empty_nchw(geo.x_shape, g.dtype, cl)
        for _, _, rows, cols in geo.slices():
            dx[..., rows, cols] = g
        return (dx,)


def _adaptive_windows(size: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of PyTorch's n adaptive windows over ``size``: ⌊a·size/n⌋ ≤ t < ⌈(a+1)·size/n⌉."""
    o = np.arange(n)
    return (o * size) // n, -((-(o + 1) * size) // n)


def _adaptive_output_size(op: str, x: Any, output_size: Any) -> Pair:
    """(oh, ow) from an int or a pair; ``None`` in the pair keeps that input size."""
    check_nchw(op, x)
    sizes = output_size if isinstance(output_size, tuple | list) else (output_size, output_size)
    if len(sizes) != 2:
        raise TypeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    sizes = [x.shape[2 + a] if s is None else s for a, s in enumerate(sizes)]
    return as_pair(op, "output_size", sizes, 1)


class AdaptiveAvgPool2d(Op):
    r"""Average pooling to a fixed output size (oh, ow), PyTorch's ``adaptive_avg_pool2d``.

    Output row a averages input rows ⌊a·H/oh⌋ ≤ h < ⌈(a+1)·H/oh⌉ (columns likewise), so
    y = A_h x A_wᵀ with A_h[a, h] = 1/(end_a − start_a) inside the window, and dL/dx = A_hᵀ · dL/dy · A_w.
    ``output_size`` is an int or a pair; ``None`` in the pair keeps that input size.
    """

    name = "adaptive_avg_pool2d"
    saves = ()

    def forward(self, x, output_size):
        oh, ow = _adaptive_output_size("adaptive_avg_pool2d", x, output_size)
        mats = []
        for n, size in ((oh, x.shape[2]), (ow, x.shape[3])):
            start, end = _adaptive_windows(size, n)
            mats.append(_band(size, start, end, 1.0 / (end - start), x.dtype))
        return _contract_hw(x, *mats), tuple(mats)

    def backward(self, dout, cache, needs=None):
        return (_separable_grad(dout, cache),)


class AdaptiveMaxPool2d(Op):
    r"""Max pooling to a fixed output size (oh, ow), PyTorch's ``adaptive_max_pool2d``: y[n, c, a, b] is the
    maximum of x[n, c] over rows ⌊a·H/oh⌋ ≤ h < ⌈(a+1)·H/oh⌉ and columns ⌊b·W/ow⌋ ≤ w < ⌈(b+1)·W/ow⌉.

    dL/dx: each output's gradient goes to its window's first maximum in row-major order (as PyTorch), summed
    where overlapping windows share it. Windows differ in size, so offset i of window a reads row
    min(start_a + i, end_a − 1): a short window repeats its last row, which changes neither the maximum nor
    the first one. The forward folds ``np.maximum`` over those gathered rows, then columns; the backward
    finds the argmax (:func:`_first_max_hits`) and adds the gradients there. ``indices_out``: a list the
    argmax's flat indices h·W + w are appended to (PyTorch's ``return_indices``). Cache: x and y.
    The same math as loops: :class:`minidl.ops.reference.AdaptiveMaxPool2d`.
    """

    name = "adaptive_max_pool2d"
    saves = (0, -1)

    def forward(self, x, output_size, indices_out=None):
        out_hw = _adaptive_output_size("adaptive_max_pool2d", x, output_size)
        rows, cols = (_adaptive_offsets(size, n) for size, n in zip(x.shape[2:], out_hw, strict=True))
        out = _fold(xp.maximum, [x[..., rows[:, i], :] for i in range(rows.shape[1])])
        out = _fold(xp.maximum, [out[..., cols[:, j]] for j in range(cols.shape[1])])
        cache = (x, out, rows, cols)
        if indices_out is not None:
            indices_out.append(_adaptive_argmax(*cache))
        return out, cache

    def backward(self, dout, cache, needs=None):
        return (_scatter_planes(dout, _adaptive_argmax(*cache), cache[0].shape),)


def _adaptive_offsets(size: int, n: int) -> np.ndarray:
    """(n, K) input indices of the adaptive windows, K the longest window; short windows repeat their end."""
    start, end = _adaptive_windows(size, n)
    return np.minimum(start[:, None] + np.arange(int(np.max(end - start))), end[:, None] - 1)


def _adaptive_argmax(x: np.ndarray, out: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Flat plane indices of the first maxima of the adaptive windows (offsets (i, j) row-major)."""
    windows, positions = [], []
    for i in range(rows.shape[1]):
        for j in range(cols.shape[1]):
            windows.append((rows[:, i, None], cols[None, :, j]))
            positions.append(rows[:, i, None] * x.shape[3] + cols[None, :, j])
    return _first_max_indices(x, out, windows, positions)


class MaxUnpool2d(Op):
    r"""The partial inverse of max pooling, PyTorch's ``max_unpool2d``: y (N, C, H, W) is zero except at the
    flat plane positions indices[n, c, a, b] = h·W + w, which receive x[n, c, a, b].

    dL/dx[n, c, a, b] = dL/dy[n, c] at indices[n, c, a, b] (a gather). ``output_size`` (H, W).
    Cache: the indices (input 1). The same math as loops: :class:`minidl.ops.reference.MaxUnpool2d`.
    """

    name = "max_unpool2d"
    saves = (1,)

    def forward(self, x, indices, output_size):
        h, w = _check_unpool("max_unpool2d", x, indices, output_size)
        out = xp.zeros((*x.shape[:2], h, w), dtype=x.dtype)
        planes = x.shape[0] * x.shape[1]
        out.reshape(planes, -1)[np.arange(planes)[:, None], indices.reshape(planes, -1)] = x.reshape(planes, -1)
        return out, indices

    def backward(self, dout, cache, needs=None):
        return _gather_planes(dout, cache), None


def _check_unpool(op: str, x: Any, indices: Any, output_size: Any) -> Pair:
    """(H, W) after checking x, its indices and that every index falls inside an (H, W) plane."""
    check_nchw(op, x)
    h, w = as_pair(op, "output_size", output_size, 0)
    if not (hasattr(indices, "dtype") and np.issubdtype(indices.dtype, np.integer)):
        raise DTypeError(f"{op}: indices must be an integer array, got {getattr(indices, 'dtype', type(indices))}")
    if tuple(indices.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: indices of shape {tuple(indices.shape)} must have the input's shape "
                         f"{tuple(x.shape)}")
    if indices.size and (indices.min() < 0 or indices.max() >= h * w):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise ShapeError(f"{op}: found an invalid max index {bad} (output planes are of size {h}x{w})")
    return h, w


max_pool2d, avg_pool2d = MaxPool2d(), AvgPool2d()
adaptive_avg_pool2d, adaptive_max_pool2d, max_unpool2d = AdaptiveAvgPool2d(), AdaptiveMaxPool2d(), MaxUnpool2d()
