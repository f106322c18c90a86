"""minidl.nn.Module mechanics, containers, state_dict, dtype casts, repr and nn.utils, checked against PyTorch
(the same architecture built with both libraries must agree on names, order, shapes and text)."""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from conftest import requires_torch, torch
from minidl.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

if torch is not None:
    import torch.nn as tnn


def build_net(lib_nn, zeros):
    """One architecture written once, instantiable with minidl.nn or torch.nn: custom parameters, buffers
    (one non-persistent), a None parameter, nested containers, a shared sub-module and every layer type."""

    class Block(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib_nn.Parameter(zeros(3))
            self.fc = lib_nn.Linear(3, 3)
            self.register_buffer("count", zeros(1))
            self.register_buffer("scratch", zeros(2), persistent=False)
            self.register_parameter("unused", None)

        def forward(self, x):
            return self.fc(x) + self.scale

    class Net(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.features = lib_nn.Sequential(
                lib_nn.Conv2d(2, 4, 3, padding=1), lib_nn.BatchNorm2d(4), lib_nn.ReLU(),
                lib_nn.MaxPool2d(2), lib_nn.Conv2d(4, 6, (3, 1), stride=2, groups=2, bias=False),
                lib_nn.AvgPool2d(2, stride=1), lib_nn.AdaptiveAvgPool2d((1, 1)), lib_nn.Dropout(0.25),
                lib_nn.Flatten(),
            )
            self.block = Block()
            self.head = lib_nn.Sequential(OrderedDict([
                ("fc", lib_nn.Linear(3, 4)), ("act", lib_nn.LeakyReLU(0.2)), ("bn", lib_nn.BatchNorm1d(4)),
            ]))
            self.extra = lib_nn.ModuleList([lib_nn.Linear(4, 4), lib_nn.Linear(4, 4), lib_nn.Tanh()])
            self.table = lib_nn.ModuleDict({"b": lib_nn.LayerNorm(4), "a": lib_nn.Identity(),
                                            "s": lib_nn.Sigmoid(), "sm": lib_nn.Softmax(dim=1),
                                            "lsm": lib_nn.LogSoftmax(dim=-1)})
            self.shared = self.block.fc
            self.loss = lib_nn.CrossEntropyLoss()

    return Net()


def minidl_net():
    return build_net(nn, lambda *s: minidl.zeros(*s))


def torch_net():
    return build_net(tnn, lambda *s: torch.zeros(*s))


def names(pairs):
    return [n for n, _ in pairs]


# --------------------------------------------------------------------------------------------- registration
@requires_torch
def test_registries_match_torch_names_and_order():
    m, t = minidl_net(), torch_net()
    assert names(m.named_parameters()) == names(t.named_parameters())
    assert names(m.named_buffers()) == names(t.named_buffers())
    assert names(m.named_modules()) == names(t.named_modules())
    assert names(m.named_children()) == names(t.named_children())
    assert [type(c).__name__ for c in m.children()] == [type(c).__name__ for c in t.children()]
    assert names(m.block.named_parameters(recurse=False)) == names(t.block.named_parameters(recurse=False))
    assert names(m.named_parameters(prefix="net")) == names(t.named_parameters(prefix="net"))
    assert names(m.named_parameters(remove_duplicate=False)) == names(t.named_parameters(remove_duplicate=False))
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in t.parameters()]


@requires_torch
def test_state_dict_keys_order_shapes_match_torch():
    m, t = minidl_net(), torch_net()
    ms, ts = m.state_dict(), t.state_dict()
    assert isinstance(ms, OrderedDict)
    assert list(ms) == list(ts)  # includes the shared module twice, excludes the non-persistent buffer
    assert "block.scratch" not in ms
    for k in ms:
        assert tuple(ms[k].shape) == tuple(ts[k].shape), k
    assert ms["features.1.num_batches_tracked"].dtype == np.int64


@requires_torch
def test_repr_matches_torch():
    assert repr(minidl_net()) == repr(torch_net())
    assert repr(nn.Linear(784, 10)) == "Linear(in_features=784, out_features=10, bias=True)"
    for make in [lambda n: n.Conv2d(3, 8, 3, padding="same", dilation=2, bias=False),
                 lambda n: n.Conv2d(4, 4, 5, padding="valid", groups=4),
                 lambda n: n.MaxPool2d((2, 3), stride=1, padding=1, ceil_mode=True),
                 lambda n: n.AvgPool2d(3, padding=1, count_include_pad=False),
                 lambda n: n.AdaptiveAvgPool2d(1),
                 lambda n: n.BatchNorm1d(5, momentum=None, affine=False, track_running_stats=False),
                 lambda n: n.BatchNorm2d(5, eps=1e-3, bias=False),
                 lambda n: n.LayerNorm([2, 3], elementwise_affine=False),
                 lambda n: n.LayerNorm(4, bias=False),
                 lambda n: n.ReLU(inplace=True), lambda n: n.LeakyReLU(0.1, inplace=True),
                 lambda n: n.Dropout(0.1), lambda n: n.Flatten(0, 2), lambda n: n.Softmax(),
                 lambda n: n.ModuleList(), lambda n: n.Sequential(), lambda n: n.ModuleDict(),
                 lambda n: n.NLLLoss(), lambda n: n.BCEWithLogitsLoss(), lambda n: n.MSELoss()]:
        assert repr(make(nn)) == repr(make(tnn))


def test_parameter_is_a_leaf_tensor_sharing_memory():
    t = minidl.ones(3)
    p = nn.Parameter(t)
    assert isinstance(p, minidl.Tensor) and p.is_leaf and p.requires_grad
    assert np.shares_memory(p.detach().numpy(), t.detach().numpy())
    assert repr(p).startswith("Parameter containing:\ntensor([1., 1., 1.]")
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter(np.zeros(2)).dtype == np.float64  # NumPy arrays keep their dtype
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    with pytest.raises(RuntimeError, match="floating"):  # as in PyTorch
        nn.Parameter(minidl.tensor([1, 2]))
    # an op output is not a Parameter and cannot be registered as one
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter or None"):
        lin.weight = lin.weight * 2


def test_parameter_survives_copy_and_pickle():
    p = nn.Parameter(minidl.randn(2, 3))
    p.grad = minidl.ones(2, 3)
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is nn.Parameter and q.requires_grad
        np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())
        np.testing.assert_array_equal(q.grad.detach().numpy(), p.grad.detach().numpy())
        assert not np.shares_memory(q.detach().numpy(), p.detach().numpy())
    m = minidl_net()
    m2 = copy.deepcopy(m)
    assert m2.shared is m2.block.fc  # sharing survives, and registries agree with attributes
    assert m2.block._parameters["scale"] is m2.block.scale
    for (k, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items(), strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=k)
        assert not np.shares_memory(a.detach().numpy(), b.detach().numpy())


def test_setattr_registration_rules_and_errors():
    class Bare(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(minidl.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bare()

    m = nn.Module()
    m.w = nn.Parameter(minidl.ones(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("buf", minidl.zeros(2))
    m.plain = 3
    assert names(m.named_parameters()) == ["w", "sub.weight", "sub.bias"]
    assert names(m.named_buffers()) == ["buf"]
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = minidl.ones(2)
    with pytest.raises(TypeError, match="child module 'sub'"):
        m.sub = 5
    with pytest.raises(TypeError, match="buffer 'buf'"):
        m.buf = np.zeros(2)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("plain", minidl.zeros(1))
    with pytest.raises(KeyError, match='contain "."'):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("x", 3)
    with pytest.raises(TypeError):
        m.register_parameter("q", minidl.ones(1))
    m.w = None  # a parameter slot may be emptied
    assert m.w is None and names(m.named_parameters()) == ["sub.weight", "sub.bias"]
    m.sub = nn.Parameter(minidl.ones(1))  # re-registering a name as another kind drops the old one
    assert "sub" not in m._modules and names(m.named_parameters()) == ["sub"]
    del m.sub
    assert names(m.named_parameters()) == [] and not hasattr(m, "sub")
    del m.buf
    assert names(m.named_buffers()) == []
    with pytest.raises(AttributeError):
        _ = m.missing
    with pytest.raises(NotImplementedError, match="forward"):
        m(1)


@requires_torch
def test_train_eval_apply_zero_grad_and_get_submodule():
    m, t = minidl_net(), torch_net()
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m and not any(x.training for x in m.modules())
    m.features.train()
    assert m.features[1].training and not m.head.bn.training
    with pytest.raises(ValueError, match="boolean"):
        m.train("yes")
    seen_m, seen_t = [], []
    m.apply(lambda x: seen_m.append(type(x).__name__))
    t.apply(lambda x: seen_t.append(type(x).__name__))
    assert seen_m == seen_t
    assert m.get_submodule("head.bn") is m.head.bn and m.get_submodule("") is m
    with pytest.raises(AttributeError, match="nope"):
        m.get_submodule("head.nope")

    lin = nn.Linear(3, 2)
    lin(minidl.randn(4, 3)).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert np.all(lin.weight.grad.detach().numpy() == 0) and lin.weight.grad.dtype == np.float32
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None
    lin.requires_grad_(False)
    assert not any(p.requires_grad for p in lin.parameters())


def test_forward_hooks_and_call_kwargs():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    s = Scale()
    x = minidl.ones(2)
    np.testing.assert_array_equal(s(x, factor=3.0).detach().numpy(), [3, 3])
    seen = []
    h1 = s.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = s.register_forward_hook(lambda mod, args, out: seen.append(out.shape) or out + 1)
    np.testing.assert_array_equal(s(x).detach().numpy(), [3, 3])
    assert seen == [(2,)]
    h1.remove()
    h2.remove()
    np.testing.assert_array_equal(s(x).detach().numpy(), [1, 1])


# --------------------------------------------------------------------------------------------- state_dict
@requires_torch
def test_load_torch_weights_via_numpy_and_directly():
    m, t = minidl_net(), torch_net()
    with torch.no_grad():
        for p in t.parameters():
            p.uniform_(-1, 1)
        t.features[1].running_var.uniform_(0.5, 2.0)
        t.features[1].num_batches_tracked.fill_(7)
    before = {id(p) for p in m.parameters()}
    result = m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert {id(p) for p in m.parameters()} == before
    for k, v in m.state_dict().items():
        np.testing.assert_allclose(v.detach().numpy(), t.state_dict()[k].numpy(), rtol=1e-7, err_msg=k)
        assert v.dtype == (np.int64 if k.endswith("num_batches_tracked") else np.float32)
    # torch tensors are accepted as they are (anything np.asarray takes)
    m2 = minidl_net()
    m2.load_state_dict(t.state_dict())
    np.testing.assert_array_equal(m2.head.fc.weight.detach().numpy(), m.head.fc.weight.detach().numpy())


def test_state_dict_is_detached_shared_and_round_trips():
    minidl.manual_seed(1)
    a = minidl_net()
    minidl.manual_seed(2)
    b = minidl_net()
    sd = a.state_dict()
    v = sd["head.fc.weight"]
    assert type(v) is minidl.Tensor and not v.requires_grad and np.shares_memory(v.detach().numpy(), a.head.fc.weight.detach().numpy())
    assert a.state_dict(keep_vars=True)["head.fc.weight"] is a.head.fc.weight
    assert not np.array_equal(b.head.fc.weight.detach().numpy(), v.detach().numpy())
    b.load_state_dict(sd)
    for k, val in b.state_dict().items():
        np.testing.assert_array_equal(val.detach().numpy(), sd[k].detach().numpy(), err_msg=k)
        assert not np.shares_memory(val.detach().numpy(), sd[k].detach().numpy())  # copied, not aliased
    x = minidl.randn(5, 3)
    np.testing.assert_array_equal(a.head(a.block(x)).detach().numpy(), b.head(b.block(x)).detach().numpy())
    # float64 values are cast to the float32 parameters, in place
    w = b.head.fc.weight
    b.load_state_dict({k: val.detach().numpy().astype(np.float64) for k, val in sd.items()})
    assert b.head.fc.weight is w and w.dtype == np.float32


def test_strict_loading_reports_every_problem_at_once():
    m = minidl_net()
    sd = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
    del sd["block.scale"]
    del sd["extra.1.bias"]
    sd["head.fc.weight"] = np.zeros((5, 3), dtype=np.float32)
    sd["features.0.bias"] = np.zeros(7, dtype=np.float32)
    sd["bogus.weight"] = np.zeros(2)
    sd["block.count"] = np.full(1, 5.0)
    original = m.block.count.detach().numpy().copy()
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(sd)
    err = info.value
    assert isinstance(err, RuntimeError)
    msg = str(err)
    for piece in ['"block.scale"', '"extra.1.bias"', '"bogus.weight"',
                  "size mismatch for head.fc.weight: copying a param with shape (5, 3) from checkpoint, "
                  "the shape in current model is (4, 3)", "size mismatch for features.0.bias", "(7,)", "(4,)"]:
        assert piece in msg
    assert err.missing_keys == ["block.scale", "extra.1.bias"] and err.unexpected_keys == ["bogus.weight"]
    assert [k for k, _, _ in err.mismatched] == ["features.0.bias", "head.fc.weight"]
    np.testing.assert_array_equal(m.block.count.detach().numpy(), original)  # nothing was copied

    # strict=False tolerates missing/unexpected keys but never a shape mismatch
    with pytest.raises(nn.StateDictError, match="size mismatch") as info:
        m.load_state_dict(sd, strict=False)
    assert info.value.missing_keys == [] and info.value.unexpected_keys == []
    del sd["head.fc.weight"], sd["features.0.bias"]
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["features.0.bias", "block.scale", "head.fc.weight", "extra.1.bias"]
    assert res.unexpected_keys == ["bogus.weight"] and res == (res.missing_keys, res.unexpected_keys)
    np.testing.assert_array_equal(m.block.count.detach().numpy(), [5.0])
    with pytest.raises(nn.StateDictError, match="non-numeric"):
        m.load_state_dict({"block.count": np.array(["x"])}, strict=False)
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([("block.count", 1)])


# --------------------------------------------------------------------------------------------- dtype
def test_to_double_keeps_parameter_identity():
    m = minidl_net()
    params = list(m.parameters())  # what an optimizer would hold
    buffers = list(m.buffers())
    m.head.fc(minidl.randn(2, 3)).sum().backward()
    assert m.double() is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert [id(b) for b in m.buffers()] == [id(b) for b in buffers]
    assert all(p.dtype == np.float64 for p in params)
    assert m.head.fc.weight.grad.dtype == np.float64
    assert m.features[1].running_mean.dtype == np.float64
    assert m.features[1].num_batches_tracked.dtype == np.int64
    out = m.head.fc(minidl.tensor(np.ones((2, 3))))
    assert out.dtype == np.float64
    m.float()
    assert all(p.dtype == np.float32 for p in params) and m.block.count.dtype == np.float32
    m.to(minidl.float64)
    assert m.block.scale.dtype == np.float64
    m.to("cpu")
    m.to(minidl.zeros(1))
    assert m.block.scale.dtype == np.float32
    assert m.to(device="cpu", dtype="float64").block.scale.dtype == np.float64
    with pytest.raises(TypeError, match="floating"):
        m.to(minidl.int64)
    with pytest.raises(RuntimeError, match="CPU"):
        m.to("cuda")


# --------------------------------------------------------------------------------------------- containers
@requires_torch
def test_sequential_indexing_slicing_and_mutation_like_torch():
    def build(lib):
        return lib.Sequential(lib.Linear(2, 3), lib.ReLU(), lib.Linear(3, 4), lib.Tanh(), lib.Linear(4, 1))

    m, t = build(nn), build(tnn)
    assert len(m) == 5 and type(m[-1]) is nn.Linear and m[0].out_features == 3
    assert [type(x).__name__ for x in m] == [type(x).__name__ for x in t]
    sub = m[1:4]
    assert type(sub) is nn.Sequential and list(sub._modules) == list(t[1:4]._modules) == ["1", "2", "3"]
    assert sub[1] is m[2]
    with pytest.raises(IndexError, match="out of range"):
        m[5]
    for seq, lib in ((m, nn), (t, tnn)):
        del seq[1]  # the rest is renumbered 0..3
        seq.append(lib.Linear(1, 2))
        seq.insert(1, lib.ReLU())
        seq[0] = lib.Linear(2, 3, bias=False)
    assert names(m.named_parameters()) == names(t.named_parameters())
    assert repr(m) == repr(t)
    x = minidl.randn(6, 2)
    y = x
    for layer in list(m):
        y = layer(y)
    np.testing.assert_array_equal(m(x).detach().numpy(), y.detach().numpy())
    named = nn.Sequential(OrderedDict([("a", nn.Linear(2, 2)), ("b", nn.ReLU())]))
    assert list(named.state_dict()) == ["a.weight", "a.bias"] and named[1] is named.b
    assert named[:1].a is named.a
    assert nn.Sequential().append(nn.ReLU())[0].__class__ is nn.ReLU


@requires_torch
def test_modulelist_and_moduledict_like_torch():
    def build(lib):
        ml = lib.ModuleList([lib.Linear(1, 2)])
        ml.append(lib.Linear(2, 3))
        ml.extend([lib.ReLU(), lib.Linear(3, 3)])
        ml.insert(0, lib.Linear(5, 1))
        ml += [lib.Linear(3, 4)]
        del ml[2]
        md = lib.ModuleDict({"z": lib.Linear(1, 1), "a": lib.Linear(2, 2)})
        md["m"] = lib.Linear(3, 3)
        md.update([("b", lib.ReLU())])
        md.pop("z")
        md.update(lib.ModuleDict({"c": lib.Linear(2, 1)}))
        holder = lib.Module()
        holder.ml, holder.md = ml, md
        return holder

    m, t = build(nn), build(tnn)
    assert names(m.named_parameters()) == names(t.named_parameters())
    assert repr(m) == repr(t)
    assert len(m.ml) == 5 and m.ml[-1].out_features == 4 and type(m.ml[1:3]) is nn.ModuleList
    assert list(m.md) == list(t.md) == ["a", "m", "b", "c"] and "a" in m.md and "z" not in m.md
    assert list(m.md.keys()) == ["a", "m", "b", "c"] and len(m.md.values()) == 4
    with pytest.raises(NotImplementedError):
        m.ml(1)
    with pytest.raises(IndexError):
        m.ml[7]


# --------------------------------------------------------------------------------------------- nn.utils
def _grads_pair(rng, scale=1.0, dtype=np.float64):
    shapes = [(3, 4), (5,), (2, 2, 3)]
    arrays = [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]
    ps = []
    for a in arrays:
        p = nn.Parameter(minidl.tensor(np.zeros_like(a)))
        p.grad = minidl.tensor(a.copy())
        ps.append(p)
    none_grad = nn.Parameter(minidl.zeros(2))
    return ps + [none_grad], arrays


@requires_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(rng, norm_type, max_norm):
    ps, arrays = _grads_pair(rng)
    tps = []
    for a in arrays:
        tp = torch.zeros(a.shape, dtype=torch.float64, requires_grad=True)
        tp.grad = torch.tensor(a.copy())
        tps.append(tp)
    total = clip_grad_norm_(ps, max_norm, norm_type=float(norm_type))
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=float(norm_type))
    assert isinstance(total, minidl.Tensor) and total.shape == () and total.dtype == np.float64
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-10)
    for p, tp in zip(ps, tps, strict=False):
        np.testing.assert_allclose(p.grad.detach().numpy(), tp.grad.numpy(), rtol=1e-10)
    clipped = max_norm < ttotal.item()
    assert clipped == (max_norm == 0.5)  # both branches exercised


def test_clip_grad_norm_extreme_but_finite_float32_grads_need_no_warnings(rng):
    for scale in (1e25, 1e-30):
        ps, arrays = _grads_pair(rng, scale=scale, dtype=np.float32)
        expected = math.sqrt(sum(float(np.sum(a.astype(np.float64) ** 2)) for a in arrays))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            total = clip_grad_norm_(ps, max_norm=1.0)
        assert total.dtype == np.float32
        np.testing.assert_allclose(total.item(), expected, rtol=1e-5)
        joint = math.sqrt(sum(float(np.sum(p.grad.detach().numpy().astype(np.float64) ** 2)) for p in ps[:-1]))
        np.testing.assert_allclose(joint, min(expected, 1.0), rtol=1e-4)


@requires_torch
def test_clip_grad_norm_nonfinite_and_edge_cases():
    p = nn.Parameter(minidl.zeros(3))
    p.grad = minidl.tensor([1.0, np.inf, 2.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(p, 1.0)  # a single tensor is accepted, like torch
    tp = torch.zeros(3, requires_grad=True)
    tp.grad = torch.tensor([1.0, np.inf, 2.0])
    ttotal = torch.nn.utils.clip_grad_norm_(tp, 1.0)
    assert total.item() == ttotal.item() == np.inf
    np.testing.assert_array_equal(p.grad.detach().numpy(), tp.grad.numpy())  # nan where inf, 0 elsewhere
    assert clip_grad_norm_([nn.Parameter(minidl.zeros(2))], 1.0).item() == 0.0
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm_([p], 1.0, norm_type=0)


@requires_torch
def test_clip_grad_value_and_parameter_vectors_match_torch(rng):
    ps, arrays = _grads_pair(rng)
    tps = [torch.tensor(a, requires_grad=True) for a in arrays]
    for tp, a in zip(tps, arrays, strict=True):
        tp.grad = torch.tensor(a.copy())
    clip_grad_value_(ps, 0.3)
    torch.nn.utils.clip_grad_value_(tps, 0.3)
    for p, tp in zip(ps, tps, strict=False):
        np.testing.assert_array_equal(p.grad.detach().numpy(), tp.grad.numpy())

    lin, tlin = nn.Linear(3, 2).double(), tnn.Linear(3, 2).double()
    lin.load_state_dict(tlin.state_dict())
    vec = parameters_to_vector(lin.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), torch.nn.utils.parameters_to_vector(tlin.parameters()).detach())
    (vec * minidl.tensor(np.arange(8.0))).sum().backward()  # differentiable back to each parameter
    np.testing.assert_array_equal(lin.weight.grad.detach().numpy(), np.arange(6.0).reshape(2, 3))
    w = lin.weight
    vector_to_parameters(minidl.tensor(np.arange(8.0)), lin.parameters())
    assert lin.weight is w
    np.testing.assert_array_equal(lin.bias.detach().numpy(), [6.0, 7.0])
    with pytest.raises(RuntimeError, match=r"shape '\[2, 3\]' is invalid for input of size 5"):  # as PyTorch's view_as
        vector_to_parameters(minidl.zeros(5), lin.parameters())
