"""The ``minidl.*`` function namespace against PyTorch: values, dtypes and input gradients.

Each case is code written once against a library namespace (``torch`` or ``minidl``), run under both on
the same float64 inputs; the outputs must match in value, shape and dtype, and for differentiable outputs
the gradients of ``sum(out · g)`` (a fixed random upstream g) must match for every input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch


@dataclass
class Case:
    id: str
    fn: Callable[..., Any]
    shapes: list[Any] = field(default_factory=lambda: [(3, 4)])
    grad: bool = True  # check input gradients
    kind: str = "normal"  # how to draw inputs: normal, positive, unit, ints, distinct


def _inputs(case: Case, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for shape in case.shapes:
        if case.kind == "positive":
            out.append(rng.uniform(0.5, 2.0, shape))
        elif case.kind == "unit":
            out.append(rng.uniform(-0.8, 0.8, shape))
        elif case.kind == "ints":
            out.append(rng.integers(-5, 6, shape))
        elif case.kind == "distinct":
            n = int(np.prod(shape))
            out.append((rng.permutation(n) - n / 2).reshape(shape) * 0.37)
        else:
            out.append(rng.standard_normal(shape))
    return out


C = Case
CASES = [
    # ------------------------------------------------------------------ elementwise
    C("add_alpha", lambda L, a, b: L.add(a, b, alpha=2), [(3, 4), (4,)]),
    C("sub", lambda L, a, b: L.sub(a, b), [(2, 3), (1, 3)]),
    C("rsub_scalar", lambda L, a: 3 - a),
    C("mul_scalar", lambda L, a: a * 2.5),
    C("div", lambda L, a, b: L.div(a, b), [(3, 4), (4,)], kind="positive"),
    C("div_floor", lambda L, a, b: L.div(a, b, rounding_mode="floor"), [(3, 4), (3, 4)], grad=False),
    C("div_trunc", lambda L, a, b: L.div(a, b, rounding_mode="trunc"), [(3, 4), (3, 4)], grad=False),
    C("floor_divide_op", lambda L, a: a // 0.7, grad=False),
    C("remainder", lambda L, a: L.remainder(a, 0.7)),
    C("fmod", lambda L, a: L.fmod(a, 0.7)),
    C("pow_scalar", lambda L, a: L.pow(a, 3)),
    C("pow_tensor", lambda L, a, b: a ** b, [(3, 4), (3, 4)], kind="positive"),
    C("rpow", lambda L, a: 2 ** a),
    C("neg", lambda L, a: -a),
    C("abs", lambda L, a: L.abs(a)),
    C("exp", lambda L, a: L.exp(a)),
    C("exp2", lambda L, a: L.exp2(a)),
    C("log", lambda L, a: L.log(a), kind="positive"),
    C("log2", lambda L, a: L.log2(a), kind="positive"),
    C("log10", lambda L, a: L.log10(a), kind="positive"),
    C("log1p", lambda L, a: L.log1p(a), kind="positive"),
    C("expm1", lambda L, a: L.expm1(a)),
    C("sqrt", lambda L, a: L.sqrt(a), kind="positive"),
    C("rsqrt", lambda L, a: L.rsqrt(a), kind="positive"),
    C("square", lambda L, a: L.square(a)),
    C("sin", lambda L, a: L.sin(a)),
    C("cos", lambda L, a: L.cos(a)),
    C("tan", lambda L, a: L.tan(a), kind="unit"),
    C("asin", lambda L, a: L.asin(a), kind="unit"),
    C("acos", lambda L, a: L.acos(a), kind="unit"),
    C("atan", lambda L, a: L.atan(a)),
    C("sinh", lambda L, a: L.sinh(a)),
    C("cosh", lambda L, a: L.cosh(a)),
    C("tanh", lambda L, a: L.tanh(a)),
    C("sigmoid", lambda L, a: L.sigmoid(a)),
    C("relu", lambda L, a: L.relu(a), kind="distinct"),
    C("floor", lambda L, a: L.floor(a), kind="distinct"),
    C("ceil", lambda L, a: L.ceil(a), kind="distinct"),
    C("round", lambda L, a: L.round(a), kind="distinct"),
    C("round_decimals", lambda L, a: L.round(a, decimals=1), kind="distinct"),
    C("trunc", lambda L, a: L.trunc(a), kind="distinct"),
    C("frac", lambda L, a: L.frac(a), kind="distinct"),
    C("sign", lambda L, a: L.sign(a), kind="distinct"),
    C("reciprocal", lambda L, a: L.reciprocal(a), kind="positive"),
    C("clamp", lambda L, a: L.clamp(a, min=-0.5, max=0.6), kind="distinct"),
    C("clamp_min_only", lambda L, a: a.clamp(min=0.1), kind="distinct"),
    C("clamp_tensor_bounds", lambda L, a, lo: L.clamp(a, min=lo), [(3, 4), (4,)], kind="distinct"),
    C("clip", lambda L, a: L.clip(a, -1, 1), kind="distinct"),
    C("maximum", lambda L, a, b: L.maximum(a, b), [(3, 4), (4,)]),
    C("minimum", lambda L, a, b: L.minimum(a, b), [(3, 4), (3, 4)]),
    C("where3", lambda L, a, b: L.where(a > 0, a, b), [(3, 4), (3, 4)]),
    C("where_scalar", lambda L, a: L.where(a > 0, a, 0.0)),
    C("where_method", lambda L, a, b: a.where(a > 0, b), [(3, 4), (3, 4)]),
    C("lerp", lambda L, a, b: L.lerp(a, b, 0.3), [(3, 4), (3, 4)]),
    C("lerp_tensor_weight", lambda L, a, b, w: L.lerp(a, b, w), [(3, 4), (3, 4), (3, 4)]),
    C("addmm", lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2), [(3, 2), (3, 4), (4, 2)]),
    C("addcmul", lambda L, a, b, c: L.addcmul(a, b, c, value=0.5), [(3, 4), (3, 4), (3, 4)]),
    C("addcdiv", lambda L, a, b, c: L.addcdiv(a, b, c, value=0.5), [(3, 4), (3, 4), (3, 4)], kind="positive"),
    C("atan2", lambda L, a, b: L.atan2(a, b), [(3, 4), (3, 4)]),
    C("softmax", lambda L, a: L.softmax(a, dim=1)),
    C("log_softmax", lambda L, a: L.log_softmax(a, 0)),
    C("nan_to_num", lambda L, a: L.nan_to_num(L.log(a)), kind="normal"),
    # ------------------------------------------------------------------ reductions
    C("sum_all", lambda L, a: L.sum(a)),
    C("sum_dims_keep", lambda L, a: a.sum((0, 2), keepdim=True), [(2, 3, 4)]),
    C("sum_axis_alias", lambda L, a: a.sum(axis=1)),
    C("mean_dim", lambda L, a: L.mean(a, -1)),
    C("prod", lambda L, a: L.prod(a, 1)),
    C("prod_all", lambda L, a: a.prod()),
    C("std", lambda L, a: L.std(a, 1)),
    C("std_all", lambda L, a: a.std()),
    C("std_unbiased_false", lambda L, a: a.std(0, unbiased=False)),
    C("var_correction", lambda L, a: L.var(a, dim=1, correction=0, keepdim=True)),
    C("max_all", lambda L, a: a.max(), kind="distinct"),
    C("max_dim", lambda L, a: a.max(1), kind="distinct"),
    C("max_dim_keepdim", lambda L, a: L.max(a, dim=0, keepdim=True), kind="distinct"),
    C("max_dim_index", lambda L, a: a.max(1)[1], kind="distinct", grad=False),
    C("min_dim", lambda L, a: L.min(a, -1), kind="distinct"),
    C("max_pairwise", lambda L, a, b: L.max(a, b), [(3, 4), (3, 4)]),
    C("amax", lambda L, a: L.amax(a, dim=(0, 1)), [(2, 3, 2)], kind="distinct"),
    C("amin", lambda L, a: a.amin(1, keepdim=True), kind="distinct"),
    C("argmax", lambda L, a: a.argmax(), kind="distinct", grad=False),
    C("argmax_dim", lambda L, a: L.argmax(a, dim=1, keepdim=True), kind="distinct", grad=False),
    C("argmin_dim", lambda L, a: a.argmin(0), kind="distinct", grad=False),
    C("norm", lambda L, a: L.norm(a)),
    C("norm_dim", lambda L, a: a.norm(dim=1)),
    C("norm_p1", lambda L, a: a.norm(p=1, dim=0, keepdim=True), kind="distinct"),
    C("norm_p3", lambda L, a: L.norm(a, 3, 1)),
    C("norm_inf", lambda L, a: a.norm(p=float("inf"), dim=1), kind="distinct"),
    C("linalg_norm", lambda L, a: L.linalg.norm(a)),
    C("linalg_vector_norm", lambda L, a: L.linalg.vector_norm(a, ord=2, dim=-1)),
    C("logsumexp", lambda L, a: L.logsumexp(a, dim=1)),
    C("logsumexp_keep", lambda L, a: a.logsumexp((0, 1), keepdim=True), [(2, 3, 2)]),
    C("cumsum", lambda L, a: L.cumsum(a, dim=1)),
    C("cumprod", lambda L, a: a.cumprod(0)),
    C("sort", lambda L, a: L.sort(a, dim=1), kind="distinct"),
    C("sort_descending", lambda L, a: a.sort(0, descending=True), kind="distinct"),
    C("argsort", lambda L, a: L.argsort(a, dim=-1), kind="distinct", grad=False),
    C("topk", lambda L, a: L.topk(a, 2), kind="distinct"),
    C("topk_smallest_dim0", lambda L, a: a.topk(2, dim=0, largest=False), kind="distinct"),
    C("kthvalue", lambda L, a: L.kthvalue(a, 2, dim=1), kind="distinct"),
    C("median_dim", lambda L, a: a.median(1), kind="distinct"),
    C("median_all", lambda L, a: L.median(a), kind="distinct"),
    C("median_even", lambda L, a: a.median(1), [(3, 4)], kind="distinct"),
    C("all", lambda L, a: L.all(a > -1, dim=1), grad=False),
    C("any", lambda L, a: (a > 1).any(), grad=False),
    C("count_nonzero", lambda L, a: L.count_nonzero(a > 0, dim=0), grad=False),
    C("sum_int", lambda L, a: a.sum(), kind="ints", grad=False),
    C("sum_bool", lambda L, a: (a > 0).sum(dim=1), grad=False),
    C("cumsum_int", lambda L, a: a.cumsum(0), kind="ints", grad=False),
    C("prod_int", lambda L, a: L.prod(a, 0), kind="ints", grad=False),
    C("max_int_dim", lambda L, a: a.max(dim=1), kind="ints", grad=False),
    # ------------------------------------------------------------------ comparison
    C("eq", lambda L, a, b: L.eq(a, b), [(3, 4), (3, 4)], kind="ints", grad=False),
    C("ne_scalar", lambda L, a: a != 2, kind="ints", grad=False),
    C("lt_mixed_dtypes", lambda L, a: a.long() < a, grad=False),
    C("ge", lambda L, a, b: L.ge(a, b), [(3, 4), (4,)], grad=False),
    C("isclose", lambda L, a, b: L.isclose(a, a + 1e-9 * b), [(3, 4), (3, 4)], grad=False),
    C("isnan", lambda L, a: L.isnan(L.log(a)), grad=False),
    C("isinf", lambda L, a: L.isinf(a / 0), grad=False),
    C("isfinite", lambda L, a: L.isfinite(L.log(a)), grad=False),
    # ------------------------------------------------------------------ linear algebra
    C("mm", lambda L, a, b: L.mm(a, b), [(3, 4), (4, 2)]),
    C("bmm", lambda L, a, b: L.bmm(a, b), [(2, 3, 4), (2, 4, 5)]),
    C("matmul_broadcast", lambda L, a, b: L.matmul(a, b), [(2, 1, 3, 4), (3, 4, 2)]),
    C("matmul_vec", lambda L, a, b: a @ b, [(3, 4), (4,)]),
    C("mv", lambda L, a, b: L.mv(a, b), [(3, 4), (4,)]),
    C("dot", lambda L, a, b: L.dot(a, b), [(4,), (4,)]),
    C("outer", lambda L, a, b: L.outer(a, b), [(3,), (4,)]),
    C("einsum_matmul", lambda L, a, b: L.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    C("einsum_batched_ellipsis", lambda L, a, b: L.einsum("...ij,...jk->...ik", a, b), [(2, 3, 4), (2, 4, 2)]),
    C("einsum_implicit_trace_free", lambda L, a, b: L.einsum("bi,bj", a, b), [(3, 4), (3, 2)]),
    C("einsum_list_form", lambda L, a, b: L.einsum("i,i->", [a, b]), [(4,), (4,)]),
    C("einsum_summed_out", lambda L, a, b: L.einsum("ij,k->i", a, b), [(3, 4), (2,)]),
    C("t", lambda L, a: a.t()),
    C("T_property", lambda L, a: a.T),
    C("mT_property", lambda L, a: a.mT, [(2, 3, 4)]),
    C("tensordot", lambda L, a, b: L.tensordot(a, b, dims=([1], [0])), [(3, 4), (4, 2)]),
    C("trace", lambda L, a: L.trace(a), [(4, 4)]),
    C("diagonal", lambda L, a: L.diagonal(a, offset=1), [(4, 5)]),
    C("diag_embed_vector", lambda L, a: L.diag(a), [(3,)]),
    # ------------------------------------------------------------------ shape
    C("cat", lambda L, a, b: L.cat([a, b], dim=1), [(3, 2), (3, 4)]),
    C("concat_negative_dim", lambda L, a, b: L.concat((a, b), -2), [(2, 4), (3, 4)]),
    C("stack", lambda L, a, b: L.stack([a, b], 1), [(3, 4), (3, 4)]),
    C("split_size", lambda L, a: L.split(a, 3, dim=1), [(2, 7)]),
    C("split_sections", lambda L, a: a.split([1, 4, 2], 1), [(2, 7)]),
    C("chunk", lambda L, a: L.chunk(a, 3, dim=1), [(2, 7)]),
    C("unbind", lambda L, a: a.unbind(1)),
    C("flatten", lambda L, a: L.flatten(a, 1), [(2, 3, 4)]),
    C("unflatten", lambda L, a: a.unflatten(1, (2, 2))),
    C("squeeze_all", lambda L, a: a.squeeze(), [(1, 3, 1, 4)]),
    C("squeeze_dim", lambda L, a: L.squeeze(a, 2), [(1, 3, 1, 4)]),
    C("unsqueeze", lambda L, a: a.unsqueeze(-1)),
    C("reshape_infer", lambda L, a: a.reshape(-1, 2), [(3, 4)]),
    C("view_varargs", lambda L, a: a.view(2, 6)),
    C("view_as", lambda L, a, b: a.view_as(b), [(3, 4), (6, 2)]),
    C("permute", lambda L, a: a.permute(2, 0, 1), [(2, 3, 4)]),
    C("permute_tuple", lambda L, a: L.permute(a, (1, 0))),
    C("movedim", lambda L, a: L.movedim(a, 0, -1), [(2, 3, 4)]),
    C("transpose", lambda L, a: a.transpose(0, 2), [(2, 3, 4)]),
    C("swapaxes", lambda L, a: L.swapaxes(a, 0, 1)),
    C("expand", lambda L, a: a.expand(2, 3, 4), [(3, 1)]),
    C("expand_minus_one", lambda L, a: a.expand(-1, 5), [(3, 1)]),
    C("expand_as", lambda L, a, b: a.expand_as(b), [(1, 4), (3, 4)]),
    C("broadcast_to", lambda L, a: L.broadcast_to(a, (2, 3, 4))),
    C("repeat", lambda L, a: a.repeat(2, 1, 3), [(2, 3)]),
    C("tile", lambda L, a: L.tile(a, (2,))),
    C("narrow", lambda L, a: L.narrow(a, 1, 1, 2)),
    C("select", lambda L, a: a.select(1, 2)),
    C("gather", lambda L, a: L.gather(a, 1, L.tensor([[0, 3], [1, 1], [2, 0]]))),
    C("take_along_dim", lambda L, a: L.take_along_dim(a, a.argsort(dim=1), dim=1), kind="distinct"),
    C("scatter", lambda L, a, s: a.scatter(1, L.tensor([[0, 3], [1, 2], [2, 0]]), s), [(3, 4), (3, 2)]),
    C("scatter_value", lambda L, a: L.scatter(a, 0, L.tensor([[1, 0, 2, 1]]), 0.5)),
    C("scatter_add", lambda L, a, s: a.scatter_add(1, L.tensor([[0, 0], [1, 1], [3, 3]]), s), [(3, 4), (3, 2)]),
    C("index_select", lambda L, a: L.index_select(a, 1, L.tensor([3, 0, 3]))),
    C("index_add", lambda L, a, s: a.index_add(0, L.tensor([2, 0]), s), [(3, 4), (2, 4)]),
    C("index_fill", lambda L, a: a.index_fill(1, L.tensor([1, 3]), -1.0)),
    C("masked_fill", lambda L, a: a.masked_fill(a > 0, 0.0)),
    C("masked_fill_tensor_value", lambda L, a, v: L.masked_fill(a, a < 0, v), [(3, 4), ()]),
    C("masked_select", lambda L, a: L.masked_select(a, a > 0)),
    C("flip", lambda L, a: L.flip(a, [0, 1])),
    C("flip_method_varargs", lambda L, a: a.flip(1)),
    C("fliplr", lambda L, a: L.fliplr(a)),
    C("roll", lambda L, a: L.roll(a, 1, 0)),
    C("roll_multi", lambda L, a: a.roll((1, -2), (0, 1))),
    C("roll_flat", lambda L, a: L.roll(a, 5)),
    C("tril", lambda L, a: L.tril(a)),
    C("triu_diag", lambda L, a: a.triu(1)),
    C("meshgrid_ij", lambda L, a, b: L.meshgrid(a, b, indexing="ij"), [(3,), (4,)]),
    C("meshgrid_xy", lambda L, a, b: L.meshgrid(a, b, indexing="xy"), [(3,), (4,)]),
    C("nonzero", lambda L, a: L.nonzero(a > 0), grad=False),
    C("nonzero_tuple", lambda L, a: (a > 0).nonzero(as_tuple=True), grad=False),
    C("where_one_arg", lambda L, a: L.where(a > 0), grad=False),
    C("clone", lambda L, a: a.clone()),
    C("contiguous_of_transpose", lambda L, a: a.t().contiguous()),
    C("getitem_int_slice", lambda L, a: a[1, 1:3]),
    C("getitem_ellipsis_none", lambda L, a: a[..., None, 2], [(2, 3, 4)]),
    C("getitem_bool_mask", lambda L, a: a[a > 0]),
    C("getitem_int_tensor", lambda L, a: a[L.tensor([2, 0, 2])]),
    C("getitem_list", lambda L, a: a[[0, 2], 1:]),
    C("getitem_two_int_tensors", lambda L, a: a[L.tensor([0, 2]), L.tensor([1, 3])]),
    C("getitem_zero_dim_index", lambda L, a: a[L.tensor(1)]),
    # ------------------------------------------------------------------ type promotion and casts
    C("float32_times_int64", lambda L, a: a.float() * L.tensor([1, 2, 3, 4]), grad=False),
    C("int_div_scalar", lambda L, a: L.tensor([1, 2, 3]) / 2, grad=False),
    C("int_times_float_scalar", lambda L, a: L.tensor([1, 2, 3]) * 2.5, grad=False),
    C("uint8_plus_big_int", lambda L, a: L.tensor([1, 250], dtype=L.uint8) + 10, grad=False),
    C("float_plus_0d_double", lambda L, a: a.float() + L.tensor(1.5, dtype=L.float64), grad=False),
    C("int_plus_0d_double", lambda L, a: L.tensor([1, 2]) + L.tensor(1.5, dtype=L.float64), grad=False),
    C("bool_plus_int", lambda L, a: (a > 0) + 1, grad=False),
    C("bool_and", lambda L, a: (a > 0) & (a < 1), grad=False),
    C("invert_bool", lambda L, a: ~(a > 0), grad=False),
    C("cast_grad", lambda L, a: a.float().double() * 2),
    C("to_dtype", lambda L, a: a.to(L.float32)),
    C("type_as", lambda L, a, b: a.type_as(b.int()), [(3, 4), (3, 4)], grad=False),
    C("long_then_float", lambda L, a: (a * 3).long().float(), grad=False),
    # ------------------------------------------------------------------ creation
    C("zeros_like", lambda L, a: L.zeros_like(a) + a),
    C("ones_like_dtype", lambda L, a: L.ones_like(a, dtype=L.int64), grad=False),
    C("full_like", lambda L, a: L.full_like(a, 7), grad=False),
    C("arange_int", lambda L, a: L.arange(5), grad=False),
    C("arange_float", lambda L, a: L.arange(0, 1, 0.25), grad=False),
    C("arange_start_end", lambda L, a: L.arange(2, 9, 3), grad=False),
    C("linspace", lambda L, a: L.linspace(-1, 1, 5), grad=False),
    C("logspace", lambda L, a: L.logspace(0, 2, 3), grad=False),
    C("eye", lambda L, a: L.eye(3, 2), grad=False),
    C("full_int", lambda L, a: L.full((2, 2), 3), grad=False),
    C("full_bool", lambda L, a: L.full((2,), True), grad=False),
    C("zeros_tuple_dtype", lambda L, a: L.zeros((2, 3), dtype=L.float64), grad=False),
    C("tensor_nested", lambda L, a: L.tensor([[1, 2], [3, 4]]), grad=False),
    C("tensor_mixed", lambda L, a: L.tensor([1, 2.5]), grad=False),
    C("tensor_bool", lambda L, a: L.tensor([True, False]), grad=False),
    C("legacy_Tensor_data", lambda L, a: L.Tensor([1, 2]), grad=False),
    C("as_tensor_float64", lambda L, a: L.as_tensor(np.ones(3)), grad=False),
    C("from_numpy_int32", lambda L, a: L.from_numpy(np.arange(3, dtype=np.int32)), grad=False),
    C("unique", lambda L, a: L.unique(L.tensor([3, 1, 3, 2, 1]), return_inverse=True, return_counts=True), grad=False),
    C("bincount", lambda L, a: L.bincount(L.tensor([0, 2, 2, 5])), grad=False),
    C("bincount_weights", lambda L, a: L.bincount(L.tensor([0, 2, 2]), weights=L.tensor([0.5, 1.0, 2.0])), grad=False),
]


def _to_numpy(x: Any) -> Any:
    if hasattr(x, "detach"):
        return x.detach().numpy()
    return x


def _dtype_name(x: Any) -> str:
    return str(x.dtype).split(".")[-1]


def _flatten(out: Any) -> list[Any]:
    """The tensors (and other values) of an output: named tuples, tuples and lists flattened in order."""
    if isinstance(out, tuple | list):
        return [y for x in out for y in _flatten(x)]
    return [out]


def _run(lib: Any, case: Case, arrays: list[np.ndarray]) -> tuple[list[Any], list[Any]]:
    leaves = []
    for a in arrays:
        t = lib.tensor(a)
        if case.grad and t.is_floating_point():
            t.requires_grad_(True)
        leaves.append(t)
    return leaves, _flatten(case.fn(lib, *leaves))


@requires_torch
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_matches_torch(case: Case) -> None:
    arrays = _inputs(case)
    m_in, m_out = _run(minidl, case, arrays)
    t_in, t_out = _run(torch, case, arrays)
    assert len(m_out) == len(t_out)
    for mo, to in zip(m_out, t_out, strict=True):
        if isinstance(to, torch.Tensor):
            assert isinstance(mo, minidl.Tensor), type(mo)
            assert tuple(mo.shape) == tuple(to.shape)
            assert _dtype_name(mo) == _dtype_name(to)
            np.testing.assert_allclose(_to_numpy(mo), _to_numpy(to), rtol=1e-10, atol=1e-12)
        else:
            assert mo == to
    if not case.grad:
        return
    rng = np.random.default_rng(1)
    diff = [(mo, to) for mo, to in zip(m_out, t_out, strict=True)
            if isinstance(to, torch.Tensor) and to.requires_grad]
    if not diff:
        return
    m_loss = t_loss = 0
    for mo, to in diff:
        g = rng.standard_normal(tuple(to.shape))
        m_loss = m_loss + (mo * minidl.tensor(g)).sum()
        t_loss = t_loss + (to * torch.tensor(g)).sum()
    m_loss.backward()
    t_loss.backward()
    for mi, ti in zip(m_in, t_in, strict=True):
        if ti.grad is None:
            assert mi.grad is None or not np.any(mi.grad.numpy())
        else:
            assert mi.grad is not None, "minidl gave no gradient where torch did"
            np.testing.assert_allclose(mi.grad.numpy(), ti.grad.numpy(), rtol=1e-9, atol=1e-12)
