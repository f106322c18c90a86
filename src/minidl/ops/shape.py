"""Shape ops: they move or select elements, so their backward moves gradients back."""

from __future__ import annotations

import numpy as np

from ..backend import xp
from .base import Op


def _is_basic(index) -> bool:
    """Basic indexing (ints, slices, None, ...) selects each element at most once."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, int | slice | type(None) | type(Ellipsis) | np.integer) for i in items)


class Reshape(Op):
    r"""z = a viewed with a new shape.  dz/da: reshape the gradient back."""

    name = "reshape"

    def forward(self, a, shape):
        return a.reshape(shape), a.shape

    def backward(self, dout, cache, needs=None):
        return (dout.reshape(cache),)


class Permute(Op):
    r"""z = a with axes reordered by ``axes``.  dz/da: apply the inverse permutation."""

    name = "permute"

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

    def forward(self, *arrays, axis=0):
        if not arrays:
            raise ValueError("stack needs at least one tensor")
        return xp.stack(arrays, axis=axis), axis

    def backward(self, dout, cache, needs=None):
        return tuple(xp.moveaxis(dout, cache, 0))


reshape, permute, getitem, cat, stack = Reshape(), Permute(), GetItem(), Cat(), Stack()
