"""Shape and indexing functions with PyTorch's names (``cat``, ``split``, ``gather``, ``masked_fill``, …).

Functions that PyTorch defines as views (``reshape`` when possible, ``permute``, ``transpose``, ``squeeze``,
``expand``, ``narrow``, ``split``, …) return tensors that share storage with their input and are recorded as
its views, so in-place changes through them behave as in PyTorch; the others (``flip``, ``roll``,
``index_select``, …) return new storage.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops
from ..backend import xp
from ..errors import ShapeError
from ..tensor import Tensor, _shape_arg
from ..views import Expand, Permute, Reshape
from ._args import check_tensor, promoted, to, view
from ._args import dim as norm_dim

__all__ = [
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "split", "chunk", "unbind", "flatten",
    "unflatten", "squeeze", "unsqueeze", "reshape", "view_as", "permute", "movedim", "moveaxis", "transpose",
    "swapaxes", "swapdims", "expand", "expand_as", "broadcast_to", "broadcast_tensors", "repeat", "tile",
    "narrow", "select", "gather", "take_along_dim", "scatter", "scatter_add", "index_select", "masked_fill",
    "masked_select", "flip", "fliplr", "flipud", "roll", "tril", "triu", "meshgrid", "nonzero", "clone",
    "contiguous", "ravel", "atleast_1d", "atleast_2d", "index_add", "index_fill", "index_copy",
]  # fmt: skip


def _tensors(name: str, tensors: Any) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' must be a tuple or list of Tensors, not Tensor")
    ts = list(tensors)
    if not ts:
        raise ShapeError(f"{name}(): expected a non-empty list of Tensors")
    for t in ts:
        check_tensor(name, t)
    return ts


def cat(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Concatenate along an existing dim (dtypes promoted; legacy empty 1-D tensors are skipped, as torch)."""
    ts = [t for t in _tensors("cat", tensors) if not (t.ndim == 1 and t._data.size == 0)] or list(tensors)[:1]
    ts = list(promoted(*ts)) if len({t._data.dtype for t in ts}) > 1 else ts
    d = norm_dim(dim, ts[0].ndim)
    ref = ts[0]._data.shape
    for t in ts:
        if t.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(t._data.shape, ref, strict=True)) if i != d):
            raise ShapeError(f"Sizes of tensors must match except in dimension {d}. Expected {list(ref)} but got "
                             f"{list(t._data.shape)}")
    from ._args import finish

    return finish(ops.cat(*ts, axis=d), out)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Stack equally shaped tensors along a new dim."""
    ts = _tensors("stack", tensors)
    ts = list(promoted(*ts)) if len({t._data.dtype for t in ts}) > 1 else ts
    shapes = {t._data.shape for t in ts}
    if len(shapes) != 1:
        raise ShapeError(f"stack expects each tensor to be equal size, but got {sorted(shapes)}")
    d = norm_dim(dim, ts[0].ndim + 1)
    from ._args import finish

    return finish(ops.stack(*ts, axis=d), out)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    ts = [atleast_1d(t) for t in _tensors("hstack", tensors)]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat([atleast_2d(t) for t in _tensors("vstack", tensors)], 0)


def atleast_1d(t: Tensor) -> Tensor:
    return t if t.ndim >= 1 else reshape(t, (1,))


def atleast_2d(t: Tensor) -> Tensor:
    return t if t.ndim >= 2 else reshape(t, (1, -1))


def _slice_along(t: Tensor, d: int, start: int, stop: int) -> Tensor:
    idx = (slice(None),) * d + (slice(start, stop),)
    return t[idx]


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    check_tensor("split", tensor)
    d = norm_dim(dim, tensor.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        bounds = list(range(0, n, size)) + [n] if n else [0, 0]
    else:
        sizes = [operator.index(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}")
        bounds = [0, *np.cumsum(sizes).tolist()]
    return tuple(_slice_along(tensor, d, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` views of size ceil(n / chunks) (fewer if they run out), as torch.chunk."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    n = input._data.shape[norm_dim(dim, input.ndim)]
    return split(input, max(-(-n // chunks), 1), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, each without that dim (views)."""
    d = norm_dim(dim, input.ndim)
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input._data.shape[d]))


def reshape(input: Tensor, shape: Any) -> Tensor:
    """The same elements in a new shape: a view when the memory layout allows, else a copy."""
    check_tensor("reshape", input)
    shape = _shape_arg((shape,)) if not isinstance(shape, int) else (shape,)
    bad = [(i, d) for i, d in enumerate(shape) if d < -1]
    if bad:  # NumPy would read any negative size as "infer this one"
        raise ShapeError(f"invalid shape dimension {bad[0][1]} at index {bad[0][0]} of shape {list(shape)}")
    if shape == input._data.shape:
        return _alias(input)
    try:
        out = ops.reshape(input, shape=shape)
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {input._data.size}") from None
    return view(out, input, Reshape(shape))


def _alias(t: Tensor) -> Tensor:
    """A new tensor object over the same storage and history (what a no-op view returns in PyTorch)."""
    out = ops.reshape(t, shape=t._data.shape)
    return view(out, t, Reshape(t._data.shape))


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._data.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    check_tensor("flatten", input)
    if input.ndim == 0:
        return reshape(input, (1,))
    s, e = norm_dim(start_dim, input.ndim), norm_dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    return reshape(input, shp[:s] + (int(np.prod(shp[s:e + 1])),) + shp[e + 1:])


ravel = flatten


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    d = norm_dim(dim, input.ndim)
    shp = input._data.shape
    return reshape(input, shp[:d] + tuple(sizes) + shp[d + 1:])


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Drop size-1 dims (all, or those in ``dim``; a named dim of another size is left alone)."""
    check_tensor("squeeze", input)
    shp = input._data.shape
    if dim is None:
        keep = [s for s in shp if s != 1]
    else:
        ds = {norm_dim(d, input.ndim) for d in (dim if isinstance(dim, tuple | list) else (dim,))}
        keep = [s for i, s in enumerate(shp) if not (i in ds and s == 1)]
    return reshape(input, tuple(keep))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    check_tensor("unsqueeze", input)
    d = norm_dim(dim, input.ndim + 1)
    shp = input._data.shape
    return reshape(input, shp[:d] + (1,) + shp[d:])


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    """Reorder the dims (a view)."""
    check_tensor("permute", input)
    axes = tuple(norm_dim(d, input.ndim) for d in dims)
    if len(axes) != input.ndim or len(set(axes)) != len(axes):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not "
                           f"equal to len(dims) = {len(axes)}" if len(axes) != input.ndim else
                           "permute(): duplicate dims are not allowed.")
    return view(ops.permute(input, axes=axes), input, Permute(axes))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    check_tensor("transpose", input)
    if input.ndim == 0:
        norm_dim(dim0, 0), norm_dim(dim1, 0)
        return _alias(input)
    axes = list(range(input.ndim))
    a, b = norm_dim(dim0, input.ndim), norm_dim(dim1, input.ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return permute(input, axes)


swapaxes = swapdims = transpose


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError("movedim: Invalid source or destination dims: source and destination must have the "
                           "same number of dims")
    src = [norm_dim(s, input.ndim) for s in src]
    dst = [norm_dim(d, input.ndim) for d in dst]
    order = [i for i in range(input.ndim) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


def expand(input: Tensor, sizes: Any) -> Tensor:
    """Broadcast size-1 dims (and new leading dims) to ``sizes`` without copying; -1 keeps a size."""
    check_tensor("expand", input)
    sizes = _shape_arg((sizes,))
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    target = []
    for i, s in enumerate(sizes):
        cur = shp[i - lead] if i >= lead else None
        if s == -1:
            if cur is None:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            s = cur
        if cur is not None and cur != 1 and cur != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shp)}")
        target.append(s)
    target_t = tuple(target)
    if target_t == shp:
        return _alias(input)
    return view(ops.expand(input, shape=target_t), input, Expand(target_t))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    return expand(input, size)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def repeat(input: Tensor, sizes: Any) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along dim i (at least as many sizes as dims)."""
    sizes = _shape_arg((sizes,))
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    return ops.tile(input, reps=sizes)


def tile(input: Tensor, dims: Any) -> Tensor:
    """Like :func:`repeat`, with missing leading repetitions taken as 1."""
    dims = _shape_arg((dims,))
    return ops.tile(input, reps=(1,) * (input.ndim - len(dims)) + dims)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    d = norm_dim(dim, input.ndim)
    n = input._data.shape[d]
    start = operator.index(start)
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _slice_along(input, d, start, start + length)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    d = norm_dim(dim, input.ndim)
    return input[(slice(None),) * d + (operator.index(index),)]


def _index_array(index: Any, name: str) -> np.ndarray:
    a = index._data if isinstance(index, Tensor) else xp.asarray(index)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return a


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j] = input[index[i][j]][j] for dim 0 (and so on): ``out`` has ``index``'s shape."""
    check_tensor("gather", input)
    return ops.gather(input, _index_array(index, "gather"), axis=norm_dim(dim, input.ndim))


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        return ops.gather(reshape(input, (-1,)), _index_array(indices, "take_along_dim").reshape(-1), axis=0)
    d = norm_dim(dim, input.ndim)
    idx = _index_array(indices, "take_along_dim")
    shape = list(np.broadcast_shapes(tuple(s if i != d else 1 for i, s in enumerate(input._data.shape)),
                                     tuple(s if i != d else 1 for i, s in enumerate(idx.shape))))
    shape[d] = idx.shape[d]
    return ops.gather(expand(input, [s if i != d else -1 for i, s in enumerate(shape)]),
                      xp.broadcast_to(idx, shape), axis=d)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor or a number) written at ``index`` along ``dim``."""
    check_tensor("scatter", input)
    if src is None:
        src = value
    if reduce not in (None, "add", "sum"):
        from ..errors import UnsupportedError

        raise UnsupportedError(f"scatter(reduce={reduce!r}) is not supported by minidl (None or 'add')")
    s = src if isinstance(src, Tensor) else Tensor._wrap(xp.asarray(src, dtype=input._data.dtype))
    s = to(s, input._data.dtype)
    idx = _index_array(index, "scatter")
    if idx.ndim == 0 and input.ndim <= 1:  # PyTorch takes a scalar index into a vector (one-hot targets)
        idx = idx.reshape(1)
        s = s if s.ndim == 0 else reshape(s, (1,))
    return ops.scatter(input, idx, s, axis=norm_dim(dim, input.ndim), reduce=None if reduce is None else "add")


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return scatter(input, dim, index, src, reduce="add")


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices ``index`` (a 1-D int tensor) along ``dim``, copied."""
    check_tensor("index_select", input)
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = norm_dim(dim, input.ndim)
    return ops.getitem(input, index=(slice(None),) * d + (idx.reshape(-1),))


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    d = norm_dim(dim, input.ndim)
    idx = _index_array(index, "index_add").reshape(-1)
    full = np.zeros(source._data.shape, dtype=np.int64) + np.expand_dims(
        idx, tuple(i for i in range(source.ndim) if i != d))
    src = source if alpha == 1 else source * alpha
    return ops.scatter(input, full, to(src, input._data.dtype), axis=d, reduce="add")


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    d = norm_dim(dim, input.ndim)
    mask = xp.zeros(input._data.shape[d], dtype=bool)
    mask[_index_array(index, "index_fill")] = True
    shape = [1] * input.ndim
    shape[d] = -1
    return masked_fill(input, Tensor._wrap(mask.reshape(shape)), value)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    d = norm_dim(dim, input.ndim)
    return ops.index_put(input, to(source, input._data.dtype),
                         index=(slice(None),) * d + (_index_array(index, "index_copy"),))


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``input`` with ``value`` where ``mask`` is true (mask broadcasts; value a number or a 0-d tensor)."""
    check_tensor("masked_fill", input)
    m = mask._data if isinstance(mask, Tensor) else xp.asarray(mask)
    if m.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {m.dtype}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    v = to(value, input._data.dtype) if isinstance(value, Tensor) else \
        Tensor._wrap(xp.asarray(value).astype(input._data.dtype))
    out = ops.where(m, v, input)
    if out._data.shape != input._data.shape:
        raise RuntimeError(f"masked_fill: the mask of shape {list(m.shape)} does not broadcast to the input's "
                           f"shape {list(input._data.shape)}")
    return out


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements where ``mask`` (broadcast) is true, as a 1-D copy."""
    m = mask._data if isinstance(mask, Tensor) else xp.asarray(mask)
    shape = np.broadcast_shapes(input._data.shape, m.shape)
    x = expand(input, shape) if shape != input._data.shape else input
    return ops.getitem(x, index=xp.broadcast_to(m, shape))


def flip(input: Tensor, dims: Any) -> Tensor:
    """Reverse the order along ``dims`` (a copy)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return ops.flip(input, axes=tuple(norm_dim(d, input.ndim) for d in dims))


def fliplr(input: Tensor) -> Tensor:
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    return flip(input, (0,))


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements cyclically (over the flattened tensor when ``dims`` is None)."""
    if dims is None:
        return ops.roll(input, shifts=int(shifts if isinstance(shifts, int) else shifts[0]), axis=None)
    sh = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    ds = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(sh) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}")
    return ops.roll(input, shifts=sh, axis=tuple(norm_dim(d, input.ndim) for d in ds))


def _triangle(input: Tensor, diagonal: int, lower: bool) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 dimensions")
    n, m = input._data.shape[-2:]
    keep = (xp.tri(n, m, diagonal, dtype=bool) if lower else ~xp.tri(n, m, diagonal - 1, dtype=bool))
    return ops.where(keep, input, Tensor._wrap(xp.zeros((), dtype=input._data.dtype)))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (elements with column − row ≤ diagonal); the rest zeroed."""
    return _triangle(input, diagonal, True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (column − row ≥ diagonal); the rest zeroed."""
    return _triangle(input, diagonal, False)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (``indexing='ij'``, the default, or ``'xy'``)."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = list(tensors)
    shape = tuple(t._data.size for t in ts)
    grids = []
    for i, t in enumerate(ts):
        view_shape = [1] * len(ts)
        view_shape[i] = -1
        grids.append(expand(reshape(t, tuple(view_shape)), shape))
    if indexing == "xy" and len(ts) >= 2:  # Cartesian: the first two dims swap places
        grids = [transpose(g, 0, 1) for g in grids]
    return tuple(grids)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one tensor per dim."""
    idx = xp.nonzero(input._data) if input.ndim else xp.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in idx)
    return Tensor._wrap(xp.stack(idx, axis=1).astype(np.int64) if input.ndim else
                        xp.zeros((int(bool(input._data)), 0), dtype=np.int64))


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy with new storage (recorded: gradients flow back to ``input``)."""
    check_tensor("clone", input)
    return ops.clone(input)


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    """``input`` if its storage is C-contiguous, else a contiguous copy."""
    return input if input._data.flags.c_contiguous else ops.clone(input)
