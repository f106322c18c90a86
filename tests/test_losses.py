"""Losses and distances (L1, smooth L1, Huber, KL, Poisson/Gaussian NLL, cosine embedding, margin ranking,
triplet, multi-label soft margin, soft margin, cross-entropy in every combination, BCE-with-logits with
pos_weight, normalize, cosine similarity, pairwise distance): values and gradients of every input against
PyTorch across their options, modules, legacy flags, and errors."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch, torch
from minidl.gradcheck import gradcheck

REDUCTIONS = ("mean", "sum", "none")


class Const:
    """A floating array passed without requires_grad (an argument PyTorch does not differentiate)."""

    def __init__(self, a):
        self.a = a


def both(fn_name, arrays, kwargs, grad=None, rng=None):
    """Run F.<fn_name> in minidl and torch on float64 copies of ``arrays`` (None: not differentiable, passed
    as is); return each library's (output, gradients of the floating arrays)."""
    results = []
    for lib in ("minidl", "torch"):
        mk = minidl.tensor if lib == "minidl" else torch.tensor
        leaves = []
        for a in arrays:
            if isinstance(a, Const):
                leaves.append(mk(a.a.copy()))
            elif isinstance(a, np.ndarray) and a.dtype.kind == "f":
                leaves.append(mk(a.copy(), requires_grad=True))
            elif isinstance(a, np.ndarray):
                leaves.append(mk(a.copy()))
            else:
                leaves.append(a)
        fn = getattr(F if lib == "minidl" else torch.nn.functional, fn_name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(*leaves, **kwargs)
        dout = np.random.default_rng(7).standard_normal(tuple(out.shape))
        out.backward(mk(dout))
        grads = [leaf.grad.numpy() if leaf.grad is not None else None for leaf in leaves
                 if hasattr(leaf, "requires_grad") and leaf.requires_grad]
        results.append((out.detach().numpy(), grads))
    return results


def assert_match(results, rtol=1e-10, atol=1e-12):
    (out, grads), (tout, tgrads) = results
    assert out.shape == tout.shape
    np.testing.assert_allclose(out, tout, rtol=rtol, atol=atol, equal_nan=True)
    assert len(grads) == len(tgrads)
    for g, tg in zip(grads, tgrads, strict=True):
        if tg is None:
            assert g is None or not np.any(g)
        else:
            np.testing.assert_allclose(g, tg, rtol=rtol, atol=atol, equal_nan=True)


# --------------------------------------------------------------------------------------------- elementwise
ELEMENTWISE = [
    ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.3}), ("smooth_l1_loss", {"beta": 0.0}),
    ("smooth_l1_loss", {"beta": 2.5}), ("huber_loss", {}), ("huber_loss", {"delta": 0.4}),
    ("huber_loss", {"delta": 3.0}), ("mse_loss", {}),
    ("kl_div", {}), ("kl_div", {"log_target": True}),
    ("poisson_nll_loss", {}), ("poisson_nll_loss", {"full": True}), ("poisson_nll_loss", {"log_input": False}),
    ("poisson_nll_loss", {"log_input": False, "full": True, "eps": 1e-3}),
    ("soft_margin_loss", {}),
]  # fmt: skip


def elementwise_inputs(name, kw, rng, shape=(4, 5)):
    x = rng.standard_normal(shape) * 2
    y = rng.standard_normal(shape) * 2
    if name == "kl_div":
        x = np.log(rng.dirichlet(np.ones(shape[-1]), shape[:-1]))
        y = rng.dirichlet(np.ones(shape[-1]), shape[:-1])
        y[0, 0] = 0.0  # 0·log 0 = 0 in the loss (its target gradient is nan, in PyTorch too)
        if kw.get("log_target"):
            y = np.log(rng.dirichlet(np.ones(shape[-1]), shape[:-1]))
    if name == "poisson_nll_loss":
        y = rng.poisson(2.0, shape).astype(np.float64)
        y[y == 0] = 0.5  # the full loss' target gradient is nan at y = 0, in PyTorch too
        if not kw.get("log_input", True):
            x = rng.uniform(0.1, 4.0, shape)
    if name == "soft_margin_loss":
        y = np.sign(y)
    return x, y


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kw", ELEMENTWISE, ids=[f"{n}-{k}" for n, k in ELEMENTWISE])
def test_elementwise_losses_match_torch_with_target_gradients(name, kw, reduction, rng):
    x, y = elementwise_inputs(name, kw, rng)
    target = Const(y) if name == "soft_margin_loss" else y  # PyTorch has no target gradient there
    assert_match(both(name, [x, target], {**kw, "reduction": reduction}))


@requires_torch
@pytest.mark.parametrize("name, kw", ELEMENTWISE, ids=[f"{n}-{k}" for n, k in ELEMENTWISE])
def test_elementwise_losses_match_torch_in_float32_and_at_extremes(name, kw, rng):
    x, y = elementwise_inputs(name, kw, rng)
    x[0, :3] = [1e4, -1e4, 0.0]
    if name == "poisson_nll_loss":  # e^x stays finite in float32; rates x + eps must be positive
        x[0, :3] = [80.0, -1e4, 0.0] if kw.get("log_input", True) else [1e4, 1e-30, 0.0]
    if name in ("kl_div",) and not kw:
        x[0, :2] = [-1e4, -50.0]
    res = []
    for lib, mod in ((minidl, F), (torch, torch.nn.functional)):
        xt = lib.tensor(x.astype(np.float32), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = getattr(mod, name)(xt, lib.tensor(y.astype(np.float32)), reduction="sum", **kw) \
                if lib is minidl else getattr(mod, name)(xt, lib.tensor(y.astype(np.float32)), reduction="sum", **kw)
        out.backward()
        assert out.dtype == lib.float32 and xt.grad.dtype == lib.float32
        res.append((out.item(), xt.grad.numpy()))
    if np.isfinite(res[1][0]):  # PyTorch's soft margin loss overflows to inf at −y·x = 1e4; ours does not
        np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-5)
    assert np.isfinite(res[0][0]) and np.isfinite(res[0][1]).all()
    finite = np.isfinite(res[1][1])
    np.testing.assert_allclose(res[0][1][finite], res[1][1][finite], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kw", ELEMENTWISE, ids=[f"{n}-{k}" for n, k in ELEMENTWISE])
def test_elementwise_losses_gradcheck(name, kw, rng):
    x, y = elementwise_inputs(name, kw, rng, (3, 4))
    y[y == 1] = 1.3  # the full Poisson loss jumps at y = 1, where PyTorch starts adding Stirling's term
    d = x - y
    if name in ("l1_loss", "smooth_l1_loss", "huber_loss"):  # keep |x − y| away from the kinks 0, β, δ
        x = y + np.sign(d) * (np.abs(d) + 0.2)
    report = gradcheck(lambda a, b: getattr(F, name)(a, b, reduction="sum", **kw), x, y)
    # the KL target gradient is nan where y = 0 (as in PyTorch): that entry is not checkable
    bad = [e for e in report.entries if not e.ok and not np.isnan(e.rel_error)]
    assert report.entries[0].ok and not bad, str(report)


@requires_torch
@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_weight_matches_torch(name, reduction, rng):
    x, y, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.uniform(0.1, 2.0, (3, 4))
    res = []
    for lib, mod in ((minidl, F), (torch, torch.nn.functional)):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        out = getattr(mod, name)(xt, lib.tensor(y), reduction=reduction, weight=wt)
        out.sum().backward()
        res.append((out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
    for a, b in zip(*res, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(F, name)(minidl.tensor(x), minidl.tensor(y), weight=minidl.ones(4))


@requires_torch
@pytest.mark.parametrize("name", ["l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss"])
def test_broadcast_target_warns_like_torch_and_matches(name, rng):
    x, y = rng.standard_normal((3, 1)), rng.standard_normal((3,))
    with pytest.warns(UserWarning, match=r"Using a target size \(minidl.Size\(\[3\]\)\) that is different"):
        getattr(F, name)(minidl.tensor(x), minidl.tensor(y))
    assert_match(both(name, [x, y], {}))
    with pytest.raises(RuntimeError, match="must match the size of tensor b"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(F, name)(minidl.randn(3, 2), minidl.randn(3, 4))


@requires_torch
@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum"])
@pytest.mark.parametrize("shape", [(4, 5), (5,), ()])
def test_kl_div_batchmean_and_mean(reduction, shape, rng):
    x = np.asarray(np.log(rng.uniform(0.05, 1.0, shape)))
    y = np.asarray(rng.uniform(0.05, 1.0, shape))
    assert_match(both("kl_div", [x, y], {"reduction": reduction}))
    if reduction == "mean":
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            F.kl_div(minidl.tensor(x), minidl.tensor(y))


@requires_torch
def test_kl_div_zero_target_gives_nan_target_gradient_like_torch():
    x, y = np.log(np.array([0.5, 0.5])), np.array([0.0, 1.0])
    (out, (gx, gy)), (tout, (tgx, tgy)) = both("kl_div", [x, y], {"reduction": "sum"})
    np.testing.assert_allclose(out, tout)
    np.testing.assert_allclose(gx, tgx)
    assert np.isnan(gy[0]) and np.isnan(tgy[0]) and gy[1] == pytest.approx(tgy[1])


# --------------------------------------------------------------------------------------------- Gaussian NLL
GAUSSIAN_VAR_SHAPES = [(4, 3), (4,), (4, 1), "float"]


@requires_torch
@pytest.mark.parametrize("var_shape", GAUSSIAN_VAR_SHAPES)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_matches_torch(var_shape, full, reduction, rng):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    if var_shape == "float":
        var: object = 0.7
        arrays = [x, y, var]
    else:
        v = rng.uniform(0.1, 2.0, var_shape)
        v.flat[0] = 1e-9  # below eps: clamped, with the gradient passed through as in PyTorch
        arrays = [x, y, v]
    assert_match(both("gaussian_nll_loss", arrays, {"full": full, "reduction": reduction}))


def test_gaussian_nll_errors():
    x = minidl.randn(4, 3)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, minidl.rand(4, 2))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -minidl.rand(4, 3))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match="is not valid"):
        F.gaussian_nll_loss(x, x, 1.0, reduction="avg")


# --------------------------------------------------------------------------------------------- margins
@requires_torch
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batched", [True, False])
def test_cosine_embedding_loss_matches_torch(margin, reduction, batched, rng):
    if batched:
        x1, x2 = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
        y = np.array([1, -1, 1, -1, 0, -1])  # 0 gives no loss
    else:
        x1, x2, y = rng.standard_normal(4), rng.standard_normal(4), np.array(-1)
    assert_match(both("cosine_embedding_loss", [x1, x2, y], {"margin": margin, "reduction": reduction}))


@requires_torch
@pytest.mark.parametrize("margin", [0.0, 0.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_loss_matches_torch(margin, reduction, rng):
    x1, x2 = rng.standard_normal(7), rng.standard_normal(7)
    y = np.sign(rng.standard_normal(7))
    assert_match(both("margin_ranking_loss", [x1, x2, y], {"margin": margin, "reduction": reduction}))


@requires_torch
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 4), (4,)])
def test_triplet_margin_loss_matches_torch(p, swap, reduction, shape, rng):
    a, pos, neg = (rng.standard_normal(shape) for _ in range(3))
    assert_match(both("triplet_margin_loss", [a, pos, neg], {"margin": 1.5, "p": p, "swap": swap,
                                                              "reduction": reduction}))


@requires_torch
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_soft_margin_loss_matches_torch(weighted, reduction, rng):
    x = rng.standard_normal((5, 4)) * 3
    y = (rng.random((5, 4)) > 0.5).astype(np.float64)
    kw = {"reduction": reduction}
    results = []
    for lib, mod in ((minidl, F), (torch, torch.nn.functional)):
        xt = lib.tensor(x, requires_grad=True)
        w = lib.tensor(np.linspace(0.5, 2, 4)) if weighted else None
        out = mod.multilabel_soft_margin_loss(xt, lib.tensor(y), weight=w, **kw)
        out.sum().backward()
        results.append((out.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_margin_loss_errors():
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        F.cosine_embedding_loss(minidl.randn(3, 2), minidl.randn(3, 2), minidl.ones(3, 1))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(minidl.randn(3, 2, 1), minidl.randn(3, 2, 1), minidl.ones(3))
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(minidl.randn(3), minidl.randn(3), minidl.ones(3, 1))
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D"):
        F.triplet_margin_loss(minidl.randn(3, 2), minidl.randn(3, 2), minidl.randn(2))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(minidl.randn(3, 2), minidl.randn(3, 2), minidl.randn(3, 2), margin=0)
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=-1.0)
    with pytest.raises(RuntimeError, match="does not support negative values for beta"):
        F.smooth_l1_loss(minidl.randn(3), minidl.randn(3), beta=-1.0)
    with pytest.raises(RuntimeError, match="does not support non-positive values for delta"):
        F.huber_loss(minidl.randn(3), minidl.randn(3), delta=0.0)


# --------------------------------------------------------------------------------------------- distances
@requires_torch
@pytest.mark.parametrize("shapes, dim", [(((4, 5), (4, 5)), 1), (((4, 5), (1, 5)), 1), (((4, 5), (4, 5)), 0),
                                         (((5,), (5,)), 0), (((2, 3, 4), (2, 3, 4)), -1)])
@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_cosine_similarity_matches_torch(shapes, dim, eps, rng):
    x1, x2 = (rng.standard_normal(s) for s in shapes)
    x1[0] *= 1e-3  # a short vector: its norm is clamped to eps when eps = 0.5
    assert_match(both("cosine_similarity", [x1, x2], {"dim": dim, "eps": eps}))


@requires_torch
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 5), (5,)), ((5,), (5,))])
def test_pairwise_distance_matches_torch(p, keepdim, shapes, rng):
    x1, x2 = (rng.standard_normal(s) for s in shapes)
    assert_match(both("pairwise_distance", [x1, x2], {"p": p, "keepdim": keepdim}))


@requires_torch
@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1)])
def test_normalize_matches_torch(p, dim, rng):
    x = rng.standard_normal((4, 5))
    x[1] = 1e-14  # a row whose norm is below eps: divided by eps, with zero gradient through the clamp
    assert_match(both("normalize", [x], {"p": p, "dim": dim}))


def test_distance_functions_gradcheck(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert gradcheck(lambda x, y: F.cosine_similarity(x, y), a, b).ok
    assert gradcheck(lambda x, y: F.pairwise_distance(x, y, p=3.0), a, b).ok
    assert gradcheck(lambda x: F.normalize(x, dim=0), a).ok
    assert gradcheck(lambda x, y, z: F.triplet_margin_loss(x, y, z, margin=3.0, swap=True), a, b,
                     rng.standard_normal((3, 4))).ok


# --------------------------------------------------------------------------------------------- cross-entropy
CE_SHAPES = {"2d": ((6, 4), (6,)), "4d": ((3, 4, 2, 3), (3, 2, 3)), "unbatched": ((4,), ())}


def ce_targets(kind, shape_key, rng, ignore):
    xs, ts = CE_SHAPES[shape_key]
    if kind == "probs":
        p = rng.random(xs)
        return p / p.sum(axis=0 if len(xs) == 1 else 1, keepdims=True)
    t = rng.integers(0, 4, ts)
    if ignore is not None and t.ndim:
        t.flat[::3] = ignore
    return np.asarray(t)


CE_CASES = list(itertools.product(["index", "probs"], list(CE_SHAPES), [False, True], [None, 1, -100],
                                  [0.0, 0.15], REDUCTIONS))


@requires_torch
@pytest.mark.parametrize("kind, shape_key, weighted, ignore, smoothing, reduction", CE_CASES,
                         ids=["-".join(map(str, c)) for c in CE_CASES])
def test_cross_entropy_every_combination_matches_torch(kind, shape_key, weighted, ignore, smoothing, reduction, rng):
    x = rng.standard_normal(CE_SHAPES[shape_key][0]) * 2
    t = ce_targets(kind, shape_key, rng, ignore)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if ignore is not None:
        kw["ignore_index"] = ignore
    if kind == "probs" and ignore is not None and ignore >= 0:
        for lib, mod in ((minidl, F), (torch, torch.nn.functional)):
            with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
                mod.cross_entropy(lib.tensor(x), lib.tensor(t), **kw)
        return
    results = []
    for lib, mod in ((minidl, F), (torch, torch.nn.functional)):
        xt = lib.tensor(x, requires_grad=True)
        tt = lib.tensor(t, requires_grad=True) if kind == "probs" else lib.tensor(t)
        w = lib.tensor(np.array([0.5, 1.0, 2.0, 1.5])) if weighted else None
        out = mod.cross_entropy(xt, tt, weight=w, **kw)
        dout = np.random.default_rng(3).standard_normal(tuple(out.shape))
        out.backward(lib.tensor(dout))
        results.append((out.detach().numpy(), xt.grad.numpy(), tt.grad.numpy() if kind == "probs" else None))
    for a, b in zip(*results, strict=True):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@requires_torch
def test_cross_entropy_with_every_target_ignored_is_nan_like_torch():
    x, t = np.zeros((2, 3)), np.array([-100, -100])
    (out, (g,)), (tout, (tg,)) = both("cross_entropy", [x, t], {})
    assert np.isnan(out) and np.isnan(tout)
    np.testing.assert_array_equal(g, tg)


@requires_torch
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weight", [None, "vector", "scalar", "matrix"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_pos_weight_matches_torch(weighted, pos_weight, reduction, rng):
    x = rng.standard_normal((5, 4)) * 4
    x[0, :2] = [60.0, -60.0]
    y = rng.random((5, 4))
    pw = {None: None, "vector": rng.uniform(0.5, 3.0, 4), "scalar": np.array([2.5]),
          "matrix": rng.uniform(0.5, 3.0, (5, 4))}[pos_weight]
    results = []
    for lib, mod in ((minidl, F), (torch, torch.nn.functional)):
        xt, yt = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        kw = {"reduction": reduction}
        if weighted:
            kw["weight"] = lib.tensor(np.linspace(0.5, 2.0, 4))
        if pw is not None:
            kw["pos_weight"] = lib.tensor(pw)
        out = mod.binary_cross_entropy_with_logits(xt, yt, **kw)
        out.sum().backward()
        results.append((out.detach().numpy(), xt.grad.numpy(), yt.grad.numpy()))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    m = nn.BCEWithLogitsLoss(pos_weight=minidl.tensor([2.0, 1.0, 1.0, 1.0]))
    assert list(m.state_dict()) == list(torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(4)).state_dict())


# --------------------------------------------------------------------------------------------- modules
MODULE_CASES = [
    ("L1Loss", {}, 2), ("L1Loss", {"reduction": "sum"}, 2), ("SmoothL1Loss", {"beta": 0.5}, 2),
    ("HuberLoss", {"delta": 0.5, "reduction": "none"}, 2), ("KLDivLoss", {"reduction": "batchmean"}, 2),
    ("KLDivLoss", {"log_target": True, "reduction": "sum"}, 2), ("PoissonNLLLoss", {"full": True}, 2),
    ("PoissonNLLLoss", {"log_input": False, "eps": 1e-4}, 2), ("GaussianNLLLoss", {"full": True}, 3),
    ("CosineEmbeddingLoss", {"margin": 0.2}, 3), ("MarginRankingLoss", {"margin": 0.1}, 3),
    ("TripletMarginLoss", {"margin": 2.0, "p": 1.0, "swap": True}, 3), ("MultiLabelSoftMarginLoss", {}, 2),
    ("SoftMarginLoss", {}, 2), ("CosineSimilarity", {"dim": 0}, 2), ("PairwiseDistance", {"p": 1.0}, 2),
    ("L1Loss", {"size_average": False}, 2), ("SmoothL1Loss", {"reduce": False}, 2),
]  # fmt: skip


def module_inputs(name, rng):
    x = rng.standard_normal((4, 3))
    if name in ("KLDivLoss",):
        return [np.log(rng.dirichlet(np.ones(3), 4)), rng.dirichlet(np.ones(3), 4)]
    if name == "PoissonNLLLoss":
        return [rng.uniform(0.2, 2.0, (4, 3)), rng.poisson(2.0, (4, 3)).astype(float) + 0.5]
    if name == "GaussianNLLLoss":
        return [x, rng.standard_normal((4, 3)), rng.uniform(0.2, 2.0, (4, 3))]
    if name in ("CosineEmbeddingLoss", "MarginRankingLoss"):
        return [x, rng.standard_normal((4, 3)), np.array([1.0, -1.0, 1.0, -1.0])] if name[0] == "C" else \
               [x[:, 0], x[:, 1], np.array([1.0, -1.0, 1.0, -1.0])]
    if name == "TripletMarginLoss":
        return [x, rng.standard_normal((4, 3)), rng.standard_normal((4, 3))]
    if name in ("MultiLabelSoftMarginLoss", "SoftMarginLoss"):
        return [x, np.sign(rng.standard_normal((4, 3))).clip(0 if name[0] == "M" else -1, 1)]
    return [x, rng.standard_normal((4, 3))]


@requires_torch
@pytest.mark.parametrize("name, kw, n", MODULE_CASES, ids=[f"{n}-{k}" for n, k, _ in MODULE_CASES])
def test_loss_modules_match_torch(name, kw, n, rng):
    arrays = module_inputs(name, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m, tm = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(m) == repr(tm)
    for k, v in vars(tm).items():
        if not k.startswith("_") and k != "training":
            assert getattr(m, k) == v, k
    out = m(*[minidl.tensor(a) for a in arrays])
    tout = tm(*[torch.tensor(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10)


def test_loss_reduction_is_validated_naming_the_module():
    with pytest.raises(ValueError, match="L1Loss: reduction must be one of"):
        nn.L1Loss(reduction="avg")
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.l1_loss(minidl.randn(3), minidl.randn(3), reduction="avg")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError):
        nn.MSELoss(reduction="batchmean")
    with pytest.warns(DeprecationWarning):
        assert nn.HuberLoss().reduction == "mean" and nn.SmoothL1Loss(size_average=False).reduction == "sum"
