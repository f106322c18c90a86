"""Matrix products: ``matmul`` and the fully-connected ``linear`` layer."""

from __future__ import annotations

import math

from ..backend import xp
from ..errors import ShapeError
from .base import Op, wants


def sum_rows(d):
    """Σ over all leading axes of d (bias gradients): einsum's column sums, 2-6x faster than ``d.sum(0)`` on
    narrow d, within 1.1-1.5x of a BLAS ``ones @ d`` but single-threaded: threaded OpenBLAS matrix-vector
    products stalled for milliseconds here when the other core was busy."""
    return xp.einsum("mo->o", _rows(d))


class MatMul(Op):
    r"""z = a @ b with NumPy's rules (1-D operands are promoted, leading axes broadcast).

    dz/da = dout @ bᵀ,  dz/db = aᵀ @ dout (transposing the last two axes).
    """

    name = "matmul"
    saves = (0, 1)

    def forward(self, a, b):
        return xp.matmul(a, b), (a, b)

    def backward(self, dout, cache, needs=None):
        a, b = cache
        if a.ndim == 1 and b.ndim == 1:  # inner product: dout is a scalar
            return dout * b, dout * a
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        d2 = dout
        if a.ndim == 1:
            d2 = xp.expand_dims(d2, -2)
        if b.ndim == 1:
            d2 = xp.expand_dims(d2, -1)
        da = db = None
        if wants(needs, 0):
            da = xp.matmul(d2, xp.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                da = da.reshape(da.shape[:-2] + (a.shape[0],))
        if wants(needs, 1):
            db = xp.matmul(xp.swapaxes(a2, -1, -2), d2)
            if b.ndim == 1:
                db = db.reshape(db.shape[:-2] + (b.shape[0],))
        return da, db


def _rows(a):
    """``a`` (…, n) as a matrix of rows (prod(…), n); unlike ``reshape(-1, n)`` also when n or a leading size is 0."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


class Linear(Op):
    r"""y = x Wᵀ + b with x (…, in), W (out, in) as in PyTorch, b (out,) optional.

    dL/dx = dy W,  dL/dW = dyᵀ x (over all rows),  dL/db = Σ_rows dy.
    The same math as loops over rows and outputs: :class:`minidl.ops.reference.Linear`.
    """

    name = "linear"
    saves = (0, 1)

    def forward(self, x, weight, bias=None):
        if x.ndim == 0:
            raise ShapeError("linear: the input must have at least one dimension (features), got a 0-d input")
        if x.shape[-1] != weight.shape[1]:
            raise ShapeError(
                f"linear: input has {x.shape[-1]} features (shape {x.shape}) but weight {weight.shape} "
                f"expects {weight.shape[1]}"
            )
        # one GEMM over all leading axes: NumPy's matmul of a stacked (e.g. time-major, transposed) input would
        # loop over the stack, and on a non-contiguous view without BLAS (10x slower on an LSTM's inputs)
        out = (_rows(x) @ weight.T).reshape(*x.shape[:-1], weight.shape[0])
        if bias is not None:
            out += bias
        return out, (x, weight, bias is not None)

    def backward(self, dout, cache, needs=None):
        x, weight, has_bias = cache
        dx = (_rows(dout) @ weight).reshape(x.shape) if wants(needs, 0) else None
        dw = None
        if wants(needs, 1):
            dw = _rows(dout).T @ _rows(x)
        db = sum_rows(dout) if has_bias and wants(needs, 2) else None
        return dx, dw, db


def _einsum_specs(equation: str, ndims: list[int]) -> tuple[list[str], str]:
    """The input and output subscripts of an einsum equation with every ``...`` spelled out as capital
    letters (one per broadcast dim, right-aligned), and an implicit output made explicit as NumPy defines
    it (the letters used once, in order, after the broadcast dims)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ndims):
        raise ValueError(f"einsum(): the equation has {len(ins)} operands but {len(ndims)} tensors were given")
    if any(c.isupper() for c in eq):
        raise ValueError("einsum(): minidl supports lower-case subscripts only")
    n_ell = [nd - len(spec.replace("...", "")) if "..." in spec else 0 for spec, nd in zip(ins, ndims, strict=True)]
    width = max(n_ell, default=0)
    ell = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:width]
    ins = [spec.replace("...", ell[width - k:]) for spec, k in zip(ins, n_ell, strict=True)]
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(c for c in lhs if c.islower())
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return ins, out


class Einsum(Op):
    r"""z = einsum(equation, a₀, a₁, …): sums of products over the repeated subscripts.

    dz/daᵢ is itself an einsum: the gradient times every other operand, contracted to aᵢ's subscripts
    ("ij,jk->ik" gives da₀ = einsum("ik,jk->ij", dout, a₁)). Subscripts that occur only in aᵢ were summed
    over, so the gradient is broadcast back along them; broadcast size-1 dims are summed by the engine.
    """

    name = "einsum"
    saves = None  # every operand is needed for the others' gradients

    def forward(self, *operands, equation):
        ins, out = _einsum_specs(equation, [o.ndim for o in operands])
        return xp.einsum(f"{','.join(ins)}->{out}", *operands), (operands, ins, out)

    def backward(self, dout, cache, needs=None):
        operands, ins, out = cache
        grads = []
        for i, (a, spec) in enumerate(zip(operands, ins, strict=True)):
            if not wants(needs, i):
                grads.append(None)
                continue
            if len(set(spec)) != len(spec):
                raise NotImplementedError(f"einsum backward: a subscript repeated within one operand ({spec!r}, "
                                          "a diagonal) is not supported")
            others = [o for j, o in enumerate(operands) if j != i]
            other_specs = [s for j, s in enumerate(ins) if j != i]
            present = set(out + "".join(other_specs))
            kept = "".join(c for c in spec if c in present)
            g = xp.einsum(f"{','.join([out, *other_specs])}->{kept}", dout, *others)
            if kept != spec:  # subscripts summed out in this operand alone: broadcast the gradient along them
                g = xp.expand_dims(g, tuple(k for k, c in enumerate(spec) if c not in present))
                g = xp.broadcast_to(g, tuple(max(x, y) for x, y in zip(g.shape, a.shape, strict=True)))
            grads.append(g)
        return tuple(grads)


matmul, linear, einsum = MatMul(), Linear(), Einsum()
