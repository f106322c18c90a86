"""The activation family (GELU, ELU/SELU/CELU, SiLU, Mish, softplus, ..., PReLU, GLU): forward and backward
against PyTorch over their options, extreme inputs, dtypes, in-place forms, modules, and errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch, torch
from minidl.gradcheck import gradcheck

# name: (minidl function, torch function name in torch.nn.functional, keyword options)
CASES = [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("gelu", {"approximate": "none"}),
    ("elu", {}), ("elu", {"alpha": 0.3}), ("elu", {"alpha": 2.5}),
    ("selu", {}), ("celu", {}), ("celu", {"alpha": 0.5}), ("celu", {"alpha": 3.0}),
    ("silu", {}), ("mish", {}),
    ("softplus", {}), ("softplus", {"beta": 2.0}), ("softplus", {"beta": 0.5, "threshold": 3.0}),
    ("softplus", {"beta": -1.0}),
    ("softsign", {}),
    ("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 0.5}), ("relu6", {}),
    ("hardswish", {}), ("hardsigmoid", {}), ("logsigmoid", {}),
    ("threshold", {"threshold": 0.3, "value": -2.0}), ("threshold", {"threshold": -1.0, "value": 5.0}),
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
    ("softmin", {"dim": 1}), ("softmin", {"dim": -1}),
    ("glu", {}), ("glu", {"dim": 1}),
]  # fmt: skip
IDS = [f"{n}-{kw}" for n, kw in CASES]


def kink_free(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values spread over [-8, 8] that stay 0.05 away from every kink of the table (0, ±1, ±3, 0.3, 0.5, 6,
    -2): central differences and PyTorch's one-sided conventions then agree."""
    x = rng.uniform(-8, 8, shape)
    for kink in (0.0, 1.0, -1.0, 3.0, -3.0, 0.3, 0.5, 6.0, -2.0, 1.5, -1.5):
        near = np.abs(x - kink) < 0.05
        x[near] = kink + 0.05 * np.sign(x[near] - kink + 1e-9)
    return x


def run(lib, name, kw, x, dout):
    mod = F if lib == "minidl" else torch.nn.functional
    if lib == "minidl":
        t = minidl.tensor(x, requires_grad=True)
    else:
        t = torch.tensor(x, requires_grad=True)
    y = getattr(mod, name)(t, **kw)
    y.backward(minidl.tensor(dout) if lib == "minidl" else torch.tensor(dout))
    return y.detach().numpy(), t.grad.detach().numpy()


@requires_torch
@pytest.mark.parametrize("name, kw", CASES, ids=IDS)
def test_forward_and_backward_match_torch_float64(name, kw, rng):
    x = kink_free(rng, (4, 6, 4))
    out_shape = getattr(torch.nn.functional, name)(torch.tensor(x), **kw).shape
    dout = rng.standard_normal(tuple(out_shape))
    y, g = run("minidl", name, kw, x, dout)
    ty, tg = run("torch", name, kw, x, dout)
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-13)
    # PyTorch's hardsigmoid gradient is the float32 constant 1/6 even in float64; ours is exact
    np.testing.assert_allclose(g, tg, rtol=1e-7 if name == "hardsigmoid" else 1e-12, atol=1e-13)


EXTREME = np.array([-1e300, -1e10, -750.0, -40.0, -20.1, -5.0, -1e-300, 0.0, 1e-300, 5.0, 20.1, 40.0, 750.0, 1e10,
                    1e300]).reshape(-1, 1).repeat(2, 1)


@requires_torch
@pytest.mark.parametrize("name, kw", CASES, ids=IDS)
def test_extreme_inputs_match_torch_without_warnings(name, kw):
    """Huge, tiny and saturated inputs: warning-free and finite; in float64 equal to PyTorch's values, in
    float32 to our own float64 ones. The float64 tolerance is 1e-6 relative (1e-15 absolute): in the tails
    PyTorch's own results lose digits (1 + erf(x/√2) cancels in GELU, the softsign gradient is a difference
    of near-equal terms; :func:`test_gelu_tails_are_accurate` checks ours against the standard library)."""
    dout = np.ones((EXTREME.shape[0], 1 if name == "glu" else 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, g = run("minidl", name, kw, EXTREME, dout)
        y32, g32 = run("minidl", name, kw, np.clip(EXTREME, -3e38, 3e38).astype(np.float32), dout.astype(np.float32))
    ty, tg = run("torch", name, kw, EXTREME, dout)
    assert np.isfinite(y).all() and np.isfinite(g).all() and np.isfinite(y32).all() and np.isfinite(g32).all()
    # where PyTorch's arithmetic overflows (the tanh-GELU gradient at 1e300 is nan there), ours stays finite
    finite = np.isfinite(tg)
    np.testing.assert_allclose(y, ty, rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(g[finite], tg[finite], rtol=1e-6, atol=1e-15)
    assert y32.dtype == g32.dtype == np.float32
    a = np.abs(EXTREME)
    same = (a < 3e38) & ((a > 1e-30) | (a == 0))  # not clipped, nor flushed to 0, in float32
    np.testing.assert_allclose(y32[same[:, :y.shape[1]]], y[same[:, :y.shape[1]]], rtol=2e-6, atol=1e-38)
    if name != "glu":  # GLU's σ'(b) = σ(1 − σ) is 0 in float32 once σ(b) rounds to 1 (so in PyTorch)
        np.testing.assert_allclose(g32[same], g[same], rtol=2e-6, atol=1e-38)


@pytest.mark.parametrize("name, kw", CASES, ids=IDS)
def test_gradcheck(name, kw, rng):
    report = gradcheck(lambda t: getattr(F, name)(t, **kw), kink_free(rng, (3, 4)) / 2)
    assert report.ok, str(report)


@pytest.mark.parametrize("name, kw", [c for c in CASES if c[0] not in ("softmin", "glu")], ids=IDS[:-4])
def test_float32_in_float32_out(name, kw, rng):
    x = minidl.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    y = getattr(F, name)(x, **kw)
    y.sum().backward()
    assert y.dtype == minidl.float32 and x.grad.dtype == minidl.float32


def test_gelu_tails_are_accurate():
    """x·Φ(x) and Φ(x) + x·φ(x) against the standard library's erfc, far into the tail. The tolerance is the
    problem's own condition: erfc(a) changes by 2a² times a relative change of a, and a = x/√2 is rounded."""
    x = np.array([-37.0, -30.0, -20.0, -10.0, -5.0, -2.0, -0.1, 0.1, 2.0, 5.0])
    t = minidl.tensor(x, requires_grad=True)
    y = F.gelu(t)
    y.sum().backward()
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    rtol = 4e-16 * np.maximum(x * x, 1)
    assert np.all(np.abs(y.detach().numpy() - x * cdf) <= rtol * np.abs(x * cdf))
    assert np.all(np.abs(t.grad.numpy() - (cdf + x * pdf)) <= rtol * np.abs(cdf + x * pdf))


# --------------------------------------------------------------------------------------------- erf
def test_erf_and_erfc_match_math_to_a_few_ulps():
    x = np.concatenate([np.linspace(-30, 30, 60001), np.geomspace(1e-300, 1, 500), -np.geomspace(1e-300, 1, 500),
                        [0.5 - 1e-16, 0.5, 1 - 1e-16, 1.0, 2 - 1e-15, 2.0, 4 - 1e-15, 4.0, 27.2, 27.3, 28.0]])
    erf = minidl.erf(minidl.tensor(x)).numpy()
    erfc = minidl.special.erfc(minidl.tensor(x)).numpy()
    ref = np.array([math.erf(v) for v in x])
    refc = np.array([math.erfc(v) for v in x])
    nz = ref != 0
    assert np.max(np.abs(erf - ref)[nz] / np.abs(ref[nz])) < 1e-15
    assert np.all(erf[~nz] == 0)
    normal = refc > 1e-300  # subnormal erfc: relative error is meaningless
    assert np.max(np.abs(erfc - refc)[normal] / refc[normal]) < 2e-15
    assert np.max(np.abs(erfc - refc)[~normal]) < 1e-308


def test_erf_special_values_and_dtypes():
    x = minidl.tensor([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308, -1e308], dtype=minidl.float64)
    np.testing.assert_array_equal(minidl.erf(x).numpy(), [np.nan, 1, -1, 0, -0.0, 1, -1])
    np.testing.assert_array_equal(minidl.erfc(x).numpy(), [np.nan, 0, 2, 1, 1, 0, 2])
    assert minidl.erf(minidl.tensor([1, 2])).dtype == minidl.float32  # integers give the default float
    assert minidl.erf(minidl.tensor([0.5], dtype=minidl.float32)).dtype == minidl.float32
    assert minidl.special.erf is minidl.erf


@requires_torch
def test_erf_methods_inplace_and_gradient_match_torch(rng):
    x = rng.standard_normal((3, 4)) * 3
    for name in ("erf", "erfc"):
        t, tt = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        getattr(t, name)().sum().backward()
        getattr(tt, name)().sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-13)
        a, ta = minidl.tensor(x.astype(np.float32)), torch.tensor(x.astype(np.float32))
        assert getattr(a, name + "_")() is a
        getattr(ta, name + "_")()
        np.testing.assert_allclose(a.numpy(), ta.numpy(), rtol=2e-7, atol=1e-7)


# --------------------------------------------------------------------------------------------- in place
INPLACE = ["relu", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardtanh", "relu6", "hardswish",
           "hardsigmoid", "threshold"]


def _kw(name):
    return {"threshold": 0.1, "value": 2.0} if name == "threshold" else {}


@requires_torch
@pytest.mark.parametrize("name", INPLACE)
def test_inplace_writes_into_the_input_and_backpropagates_like_torch(name, rng):
    x = kink_free(rng, (3, 5))
    results = []
    for lib, mod in (("minidl", F), ("torch", torch.nn.functional)):
        leaf = (minidl.tensor if lib == "minidl" else torch.tensor)(x, requires_grad=True)
        h = leaf * 2  # a non-leaf: in place is allowed
        out = getattr(mod, name)(h, inplace=True, **_kw(name))
        assert out is h
        (out * out).sum().backward()
        results.append((h.detach().numpy().copy(), leaf.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-7 if name == "hardsigmoid" else 1e-10,
                               atol=1e-14)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_on_a_leaf_that_requires_grad_is_refused(name):
    leaf = minidl.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(F, name)(leaf, inplace=True, **_kw(name))
    with minidl.no_grad():  # allowed without recording
        assert getattr(F, name)(leaf, inplace=True, **_kw(name)) is leaf


def test_inplace_module_forms_and_underscore_functions():
    x = minidl.tensor([-2.0, 0.5, 3.0])
    assert nn.ReLU(inplace=True)(x) is x and x.tolist() == [0.0, 0.5, 3.0]
    y = minidl.tensor([-2.0, 0.5])
    assert F.leaky_relu_(y, 0.5) is y and y.tolist() == [-1.0, 0.5]
    z = minidl.tensor([-2.0, 0.5])
    assert F.elu_(z) is z and z[1].item() == 0.5
    w = minidl.tensor([-2.0, 0.5, 9.0])
    assert F.hardtanh_(w) is w and w.tolist() == [-1.0, 0.5, 1.0]
    v = minidl.tensor([-2.0, 0.5])
    assert minidl.relu_(v) is v and F.relu_(v) is v and v.tolist() == [0.0, 0.5]
    s = minidl.tensor([0.0])
    assert s.sigmoid_() is s and s.item() == 0.5
    for fn in (minidl.selu_, F.selu_, minidl.celu_, F.celu_):
        u = minidl.tensor([1.0, -1.0])
        assert fn(u) is u


@requires_torch
def test_inplace_relu_after_an_op_that_saved_its_output_is_refused_like_torch():
    for lib, mod in ((minidl, F), (torch, torch.nn.functional)):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = x.sigmoid()  # sigmoid saves its output for backward
        mod.relu(y, inplace=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


# --------------------------------------------------------------------------------------------- integers
@requires_torch
@pytest.mark.parametrize("name, kw", [("hardtanh", {}), ("relu6", {}), ("threshold", {"threshold": 1, "value": 7}),
                                      ("relu", {}), ("softsign", {})])
def test_functions_that_accept_integer_tensors_like_torch(name, kw):
    x = np.array([-5, 0, 1, 2, 9])
    y = getattr(F, name)(minidl.tensor(x), **kw)
    ty = getattr(torch.nn.functional, name)(torch.tensor(x), **kw)
    assert str(y.dtype).split(".")[1] == str(ty.dtype).split(".")[1]
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("name", ["gelu", "elu", "selu", "celu", "silu", "mish", "softplus", "hardswish",
                                  "hardsigmoid", "logsigmoid"])
def test_float_only_functions_refuse_integers_like_torch(name):
    with pytest.raises(NotImplementedError):
        getattr(torch.nn.functional, name)(torch.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        getattr(F, name)(minidl.tensor([1, 2]))


# --------------------------------------------------------------------------------------------- PReLU
@requires_torch
@pytest.mark.parametrize("shape, n", [((4, 3, 5), 3), ((4, 3, 5), 1), ((4, 3), 3), ((6,), 1), ((), 1),
                                      ((2, 3, 2, 2), 3)])
def test_prelu_matches_torch(shape, n, rng):
    x = kink_free(rng, shape)
    w = rng.uniform(-0.5, 0.5, n)
    dout = rng.standard_normal(shape)
    xs, ws = minidl.tensor(x, requires_grad=True), minidl.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y, ty = F.prelu(xs, ws), torch.nn.functional.prelu(tx, tw)
    y.backward(minidl.tensor(dout))
    ty.backward(torch.tensor(dout))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ws.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    assert minidl.prelu(xs, ws).shape == xs.prelu(ws).shape == tuple(shape)


@requires_torch
def test_prelu_module_parameters_state_dict_and_errors():
    m, tm = nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert list(m.state_dict()) == list(tm.state_dict()) == ["weight"]
    np.testing.assert_allclose(m.weight.detach().numpy(), tm.weight.detach().numpy())
    assert m.weight.dtype == minidl.float32 and nn.PReLU(dtype=minidl.float64).weight.dtype == minidl.float64
    assert repr(m) == repr(tm)
    with pytest.raises(RuntimeError, match="parameter numbers = 3 and channel size = 4"):
        m(minidl.randn(2, 4))
    with pytest.raises(RuntimeError, match="channel size = 1"):
        m(minidl.randn(3))
    with pytest.raises(RuntimeError, match="scalar or 1D"):
        F.prelu(minidl.randn(2, 3), minidl.randn(1, 3))
    with pytest.raises(RuntimeError, match="Type promoting not supported. Got Double and Float"):
        m(minidl.randn(2, 3, dtype=minidl.float64))


# --------------------------------------------------------------------------------------------- modules
MODULES = [
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("ELU", (), {}), ("ELU", (0.5, True), {}), ("SELU", (), {}),
    ("SELU", (True,), {}), ("CELU", (), {}), ("CELU", (2.0, True), {}), ("SiLU", (), {}), ("SiLU", (True,), {}),
    ("Mish", (), {}), ("Mish", (True,), {}), ("Softplus", (), {}), ("Softplus", (2, 10), {}), ("Softsign", (), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2, 3, True), {}), ("ReLU6", (), {}), ("ReLU6", (True,), {}),
    ("Hardswish", (), {}), ("Hardswish", (True,), {}), ("Hardsigmoid", (True,), {}), ("PReLU", (), {}),
    ("PReLU", (4, 0.1), {}), ("LogSigmoid", (), {}), ("Softmin", (1,), {}), ("Threshold", (0.1, 20), {}),
    ("Threshold", (0.1, 20, True), {}), ("GLU", (), {}), ("GLU", (1,), {}), ("ReLU", (True,), {}),
    ("LeakyReLU", (0.2, True), {}), ("Hardtanh", (), {"max_val": 2.5}),
]  # fmt: skip


@requires_torch
@pytest.mark.parametrize("name, args, kwargs", MODULES, ids=[f"{n}{a}{k}" for n, a, k in MODULES])
def test_modules_match_torch_repr_attributes_and_output(name, args, kwargs, rng):
    m, tm = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(m) == repr(tm)
    public = {k for k in vars(tm) if not k.startswith("_") and k != "training"}
    for k in public:
        assert getattr(m, k) == getattr(tm, k), k
    x = kink_free(rng, (2, 4, 2)).astype(np.float32)
    a, ta = minidl.tensor(x), torch.tensor(x)
    y, ty = m(a), tm(ta)  # in-place modules change a and ta alike
    # float32: PyTorch's GELU loses ~1e-7·|x| absolute where 1 + erf(x/√2) cancels
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(a.numpy(), ta.numpy(), rtol=1e-6, atol=1e-6)


@requires_torch
def test_module_and_function_errors_match_torch():
    x = minidl.randn(2, 3)
    for fn, pattern, err in [
        (lambda: F.gelu(x, approximate="tan"), "approximate argument must be either none or tanh", RuntimeError),
        (lambda: F.celu(x, alpha=0.0), "alpha cannot be 0 for CELU", RuntimeError),
        (lambda: F.hardtanh(x, 1.0, -1.0), "min_val cannot be greater than max_val", ValueError),
        (lambda: nn.Hardtanh(1.0, -1.0), "Hardtanh: max_val", ValueError),
        (lambda: F.glu(x), "Halving dimension must be even, but dimension 1 is size 3", RuntimeError),
        (lambda: F.glu(minidl.tensor(1.0)), "glu does not support scalars", RuntimeError),
        (lambda: F.glu(x, dim=2), "Dimension out of range", IndexError),
        (lambda: nn.GELU()("x"), "argument 'input' must be Tensor", TypeError),
    ]:
        with pytest.raises(err, match=pattern):
            fn()


def test_softmin_without_dim_warns_and_uses_the_legacy_dim(rng):
    x = minidl.tensor(rng.standard_normal((2, 3)))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        y = nn.Softmin()(x)
    np.testing.assert_allclose(y.numpy(), F.softmin(x, 1).numpy())
    np.testing.assert_allclose(y.numpy().sum(1), 1.0)
    assert F.softmin(x, 1, dtype=minidl.float32).dtype == minidl.float32


def test_hardtanh_deprecated_keywords_warn():
    with pytest.warns(FutureWarning, match="min_value"):
        m = nn.Hardtanh(min_value=-3.0)
    assert m.min_val == -3.0


@requires_torch
def test_inplace_activations_in_a_residual_network_match_torch():
    """Conv → LeakyReLU(inplace) → a residual block (conv, batch norm, ReLU(inplace), `out += x`, ReLU(inplace))
    → Linear → ELU(inplace): outputs and every gradient equal PyTorch's."""

    def build(lib):
        tnn = lib.nn

        class Block(tnn.Module):
            def __init__(self):
                super().__init__()
                self.c1, self.b1 = tnn.Conv2d(4, 4, 3, padding=1, bias=False), tnn.BatchNorm2d(4)
                self.c2, self.b2 = tnn.Conv2d(4, 4, 3, padding=1, bias=False), tnn.BatchNorm2d(4)
                self.relu = tnn.ReLU(inplace=True)

            def forward(self, x):
                out = self.b2(self.c2(self.relu(self.b1(self.c1(x)))))
                out += x
                return self.relu(out)

        return tnn.Sequential(tnn.Conv2d(3, 4, 3, padding=1), tnn.LeakyReLU(0.2, inplace=True), Block(), tnn.Flatten(),
                              tnn.Linear(4 * 6 * 6, 5), tnn.ELU(inplace=True), tnn.Hardtanh())

    m, tm = build(minidl), build(torch)
    m.load_state_dict({k: minidl.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    a, ta = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = m(a), tm(ta)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6)
    for (name, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
