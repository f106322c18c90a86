"""Matrix products with PyTorch's names and checks (``mm``, ``bmm``, ``matmul``, ``einsum``, ``outer``, …) and
``minidl.linalg.norm``. Products need both operands of one dtype, as in PyTorch (no silent promotion)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes, ops
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor
from ._args import check_tensor, finish

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "einsum", "t", "linalg_norm",
           "vector_norm", "matrix_norm", "tensordot", "baddbmm", "addmv", "trace", "diag", "diagonal", "diag_embed"]


def _same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise DTypeError(f"{name}: expected both operands to have the same dtype, but got "
                         f"{dtypes.of_array(a._data)} and {dtypes.of_array(b._data)}")


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting of batch dims (1-D operands promoted and squeezed)."""
    check_tensor("matmul", input)
    check_tensor("matmul", other)
    _same_dtype("matmul", input, other)
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        sa = f"{a.shape[-2] if a.ndim > 1 else 1}x{k_a}"
        sb = f"{k_b}x{b.shape[-1] if b.ndim > 1 else 1}"
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb}): operands of shape "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} do not broadcast") \
            from None
    return finish(ops.matmul(input, other), out)


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """(n, m) @ (m, p) → (n, p); both must be 2-D."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2, out=out)


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """(b, n, m) @ (b, m, p) → (b, n, p); both 3-D with the same batch size."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor and batch2 must be a 3D tensor, got {input.ndim}-D "
                           f"and {mat2.ndim}-D")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {input._data.shape[0]} and "
                           f"{mat2._data.shape[0]}")
    return matmul(input, mat2, out=out)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError("vector + matrix @ vector expected, got matrix and vector of other dims")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inner product of two 1-D tensors of the same size."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input._data.shape != other._data.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] and src "
                           f"[{other._data.shape[0]}] to have the same number of elements, but got "
                           f"{input._data.shape[0]} and {other._data.shape[0]} elements respectively")
    return matmul(input, other, out=out)


vdot = dot


def inner(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim == 0 or other.ndim == 0:
        return ops.mul(input, other)
    return tensordot(input, other, ([-1], [-1]))


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """input[i] · vec2[j] for 1-D tensors."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError("outer: expected 1-D tensors")
    _same_dtype("outer", input, vec2)
    return ops.mul(ops.reshape(input, shape=(-1, 1)), ops.reshape(vec2, shape=(1, -1)))


ger = outer


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` (operands may also be passed as one list)."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    for o in operands:
        check_tensor("einsum", o)
    if len({o._data.dtype for o in operands}) > 1:
        raise DTypeError(f"einsum(): operands do not all have the same dtype: {[str(o.dtype) for o in operands]}")
    return ops.einsum(*operands, equation=equation)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract the last ``dims`` dims of a with the first of b, or the given lists of dims."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    if isinstance(dims, int):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = [d % a.ndim for d in dims[0]], [d % b.ndim for d in dims[1]]
    sa = list(letters[: a.ndim])
    sb = list(letters[a.ndim: a.ndim + b.ndim])
    for i, j in zip(da, db, strict=True):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in da] + [c for j, c in enumerate(sb) if j not in db]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix (0-D and 1-D tensors are returned as they are)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return input if input.ndim < 2 else input.transpose(0, 1)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    from .pointwise import add, mul

    prod = bmm(batch1, batch2)
    return add(mul(input, beta) if beta != 1 else input, mul(prod, alpha) if alpha != 1 else prod)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    from .pointwise import add, mul

    prod = mv(mat, vec)
    return add(mul(input, beta) if beta != 1 else input, mul(prod, alpha) if alpha != 1 else prod)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes as the last dim (a gather, so it is differentiable)."""
    from .shape import movedim

    x = movedim(input, (dim1, dim2), (-2, -1))
    n, m = x._data.shape[-2:]
    rows = np.arange(max(0, -offset), min(n, m - offset))
    if rows.size == 0:
        return ops.reshape(ops.getitem(x, index=(Ellipsis, slice(0, 0), 0)), shape=x._data.shape[:-2] + (0,))
    return ops.getitem(x, index=(Ellipsis, rows, rows + offset))


def trace(input: Tensor) -> Tensor:
    if input.ndim != 2:
        raise RuntimeError("trace: expected a matrix")
    return ops.sum(diagonal(input), axis=None)


def diag(input: Tensor, diagonal_: int = 0) -> Tensor:
    """A 1-D tensor's square diagonal matrix, or a matrix's diagonal."""
    if input.ndim == 2:
        return diagonal(input, diagonal_)
    if input.ndim != 1:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{input.ndim}D")
    return diag_embed(input, diagonal_)


def diag_embed(input: Tensor, offset: int = 0) -> Tensor:
    n = input._data.shape[-1] + abs(offset)
    base = Tensor._wrap(np.zeros(input._data.shape[:-1] + (n, n), dtype=input._data.dtype))
    rows = np.arange(input._data.shape[-1]) + max(0, -offset)
    return ops.index_put(base, input, index=(Ellipsis, rows, rows + offset))


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    from .reduction import norm

    return norm(x, p=ord, dim=dim, keepdim=keepdim, dtype=dtype)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False) -> Tensor:  # noqa: A002, N803
    from ..errors import UnsupportedError
    from .reduction import norm

    if ord != "fro":
        raise UnsupportedError(f"linalg.matrix_norm(ord={ord!r}) is not supported by minidl (only 'fro')")
    return norm(A, p=2, dim=dim, keepdim=keepdim)


def linalg_norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002, N803
    """``minidl.linalg.norm``: the 2-norm of the flattened tensor by default; vector norms for a single dim;
    the Frobenius norm of matrices."""
    if ord is None or ord == "fro":
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(dim, int) or (dim is None and A.ndim == 1):
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim)
