"""Shape ops: they move or select elements, so their backward moves gradients back."""

from __future__ import annotations

import numpy as np

from ..backend import xp
from ..errors import ValueRangeError
from .base import Op, wants


def _is_basic(index) -> bool:
    """Basic indexing (ints, slices, None, ...) selects each element at most once."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, int | slice | type(None) | type(Ellipsis) | np.integer) for i in items)


class Reshape(Op):
    r"""z = a viewed with a new shape.  dz/da: reshape the gradient back."""

    name = "reshape"
    saves = ()

    def forward(self, a, shape):
        return a.reshape(shape), a.shape

    def backward(self, dout, cache, needs=None):
        return (dout.reshape(cache),)


class Permute(Op):
    r"""z = a with axes reordered by ``axes``.  dz/da: apply the inverse permutation."""

    name = "permute"
    saves = ()

    def forward(self, a, axes):
        if len(axes) != a.ndim:
            raise ValueError(f"permute: {len(axes)} axes given for a tensor with {a.ndim} dims")
        return xp.transpose(a, axes), axes

    def backward(self, dout, cache, needs=None):
        return (xp.transpose(dout, np.argsort([ax % dout.ndim for ax in cache])),)


class GetItem(Op):
    r"""z = a[index], basic or integer-array indexing.

    dz/da scatters the gradient back to the selected places; with integer arrays an element picked several
    times receives the sum (``np.add.at``).
    """

    name = "getitem"
    saves = ()

    def forward(self, a, index):
        return a[index], (a.shape, a.dtype, index)

    def backward(self, dout, cache, needs=None):
        shape, dtype, index = cache
        grad = xp.zeros(shape, dtype=dout.dtype)
        if _is_basic(index):
            grad[index] = dout
        else:
            xp.add.at(grad, index, dout)
        return (grad,)


class Cat(Op):
    r"""z = concatenation of the inputs along ``axis``.  dz/d(input i) is its slice of the gradient."""

    name = "cat"
    saves = ()

    def forward(self, *arrays, axis=0):
        if not arrays:
            raise ValueError("cat needs at least one tensor")
        return xp.concatenate(arrays, axis=axis), (np.cumsum([a.shape[axis] for a in arrays])[:-1], axis)

    def backward(self, dout, cache, needs=None):
        splits, axis = cache
        return tuple(xp.split(dout, splits, axis=axis))


class Stack(Op):
    r"""z = the inputs stacked along a new ``axis``.  dz/d(input i) = the gradient's i-th slice on that axis."""

    name = "stack"
    saves = ()

    def forward(self, *arrays, axis=0):
        if not arrays:
            raise ValueError("stack needs at least one tensor")
        return xp.stack(arrays, axis=axis), axis

    def backward(self, dout, cache, needs=None):
        return tuple(xp.moveaxis(dout, cache, 0))


class IndexPut(Op):
    r"""z = a with z[index] = v (``a[index] = v`` as a function; v broadcasts to the indexed region).

    dz/da: the gradient with the overwritten region zeroed; dz/dv: the gradient of that region (summed back to
    v's shape by the engine). With integer-array indices that repeat a position, which write wins is
    unspecified, as in PyTorch.
    """

    name = "index_put"
    saves = ()

    def forward(self, a, v, index):
        out = a.copy()
        out[index] = v
        return out, index

    def backward(self, dout, cache, needs=None):
        index = cache
        da = None
        if wants(needs, 0):
            da = dout.copy()
            da[index] = 0
        return da, (dout[index] if wants(needs, 1) else None)


def _through(fns, a):
    """Apply a view's recorded steps (``Tensor._view_fns``) to an array: a NumPy view of it."""
    for fn in fns:
        a = fn(a)
    return a


class ViewOf(Op):
    r"""z = view(base), where ``fns`` are the steps that took a view of its base (indexing, reshapes, ...).

    dz/d base: zeros with the gradient placed in the viewed region. The engine uses this node for a view
    after an in-place change, so the view reads its value from the base's new history.
    """

    name = "view_of"
    saves = ()

    def forward(self, base, fns):
        return _through(fns, base), (fns, base.shape, base.dtype)

    def backward(self, dout, cache, needs=None):
        fns, shape, dtype = cache
        g = xp.zeros(shape, dtype=dout.dtype)
        _through(fns, g)[...] = dout
        return (g,)


class ViewScatter(Op):
    r"""z = base with its viewed region replaced by v (the base after an in-place change of one of its views).

    dz/d base: the gradient with the region zeroed; dz/dv: the region of the gradient.
    """

    name = "view_scatter"
    saves = ()

    def forward(self, base, v, fns):
        out = base.copy()
        _through(fns, out)[...] = v
        return out, (fns, base.shape)

    def backward(self, dout, cache, needs=None):
        fns, _ = cache
        db = None
        if wants(needs, 0):
            db = dout.copy()
            _through(fns, db)[...] = 0
        return db, (_through(fns, dout) if wants(needs, 1) else None)


class Expand(Op):
    r"""z = a broadcast to ``shape`` (a read-only view; size-1 axes repeat, new axes lead).

    dz/da sums the gradient over the broadcast copies: the engine's ``unbroadcast`` does exactly that.
    """

    name = "expand"
    saves = ()

    def forward(self, a, shape):
        return xp.broadcast_to(a, shape), None

    def backward(self, dout, cache, needs=None):
        return (dout,)


class Tile(Op):
    r"""z = a repeated ``reps[i]`` times along axis i (``np.tile``; PyTorch's ``repeat`` and ``tile``).

    dz/da: view the gradient as (r₀, s₀, r₁, s₁, …) and sum over the repeat axes rᵢ.
    """

    name = "tile"
    saves = ()

    def forward(self, a, reps):
        reps = tuple(reps)
        shape = (1,) * (len(reps) - a.ndim) + a.shape
        return xp.tile(a.reshape(shape), reps), (a.shape, shape, reps)

    def backward(self, dout, cache, needs=None):
        a_shape, shape, reps = cache
        split = [n for r, s in zip(reps, shape, strict=True) for n in (r, s)]
        return (dout.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(a_shape),)


class Roll(Op):
    r"""z = a shifted cyclically by ``shifts`` along ``axis`` (flattened when ``axis`` is None).
    dz/da: the gradient rolled back by −shifts."""

    name = "roll"
    saves = ()

    def forward(self, a, shifts, axis=None):
        return xp.roll(a, shifts, axis=axis), (shifts, axis)

    def backward(self, dout, cache, needs=None):
        shifts, axis = cache
        back = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
        return (xp.roll(dout, back, axis=axis),)


class Flip(Op):
    r"""z = a reversed along ``axes`` (a copy, as in PyTorch).  dz/da: the gradient flipped back."""

    name = "flip"
    saves = ()

    def forward(self, a, axes):
        return xp.flip(a, axes).copy(), axes

    def backward(self, dout, cache, needs=None):
        return (xp.flip(dout, cache),)


def _gather_index(index: np.ndarray, axis: int) -> tuple:
    """The NumPy index that picks out[i…] = a[i₀, …, index[i…], …] (``index`` replacing coordinate ``axis``)."""
    grids = list(np.ix_(*[np.arange(s) for s in index.shape]))
    grids[axis] = index
    return tuple(grids)


def _check_index(name: str, a: np.ndarray, index: np.ndarray, axis: int) -> None:
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index.ndim != a.ndim:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input tensor "
                           f"({index.ndim} vs {a.ndim})")
    for d, (si, sa) in enumerate(zip(index.shape, a.shape, strict=True)):
        if d != axis and si > sa:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                               f"smaller than self {list(a.shape)} apart from dimension {axis}")
    if index.size and (index.min() < 0 or index.max() >= a.shape[axis]):
        bad = int(index.min()) if index.min() < 0 else int(index.max())
        raise ValueRangeError(f"index {bad} is out of bounds for dimension {axis} with size {a.shape[axis]}")


class Gather(Op):
    r"""z[i…] = a[i₀, …, index[i…], …] along ``axis`` (PyTorch's ``gather``; z has index's shape).

    dz/da scatters the gradient back to the gathered positions, summing where an index repeats.
    """

    name = "gather"
    saves = ()

    def forward(self, a, index, axis):
        _check_index(self.name, a, index, axis)
        where = _gather_index(index, axis)
        return a[where], (a.shape, where)

    def backward(self, dout, cache, needs=None):
        shape, where = cache
        g = xp.zeros(shape, dtype=dout.dtype)
        xp.add.at(g, where, dout)
        return (g, None)


class Scatter(Op):
    r"""z = a with z[i₀, …, index[i…], …] = src[i…] along ``axis`` (``reduce='add'``: added instead).

    ``src`` may be larger than ``index``; only its index-shaped corner is used. dz/da is the gradient with the
    written positions zeroed (kept for ``'add'``); dz/dsrc gathers the gradient at those positions.
    """

    name = "scatter"
    saves = ()

    def forward(self, a, index, src, axis, reduce=None):
        _check_index(self.name, a, index, axis)
        where = _gather_index(index, axis)
        part = src[tuple(slice(0, s) for s in index.shape)] if xp.ndim(src) else src
        out = a.copy()
        if reduce is None:
            out[where] = part
        elif reduce == "add":
            xp.add.at(out, where, part)
        else:
            raise ValueError(f"scatter: reduce must be None or 'add', got {reduce!r}")
        return out, (where, xp.shape(src), index.shape, reduce)

    def backward(self, dout, cache, needs=None):
        where, src_shape, index_shape, reduce = cache
        da = dsrc = None
        if wants(needs, 0):
            da = dout.copy() if reduce is None else dout
            if reduce is None:
                da[where] = 0
        if wants(needs, 2) and src_shape:
            dsrc = xp.zeros(src_shape, dtype=dout.dtype)
            dsrc[tuple(slice(0, s) for s in index_shape)] = dout[where]
        return da, None, dsrc


reshape, permute, getitem, cat, stack = Reshape(), Permute(), GetItem(), Cat(), Stack()
index_put, view_of, view_scatter = IndexPut(), ViewOf(), ViewScatter()
expand, tile, roll, flip, gather, scatter = Expand(), Tile(), Roll(), Flip(), Gather(), Scatter()
