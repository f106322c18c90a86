"""The tensor-level API against PyTorch: dtypes, promotion, devices, constructors, conversions, printing,
random generators and the named tuples of reductions."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl.errors import DeviceError

DTYPE_NAMES = ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"]


# ------------------------------------------------------------------------------------------ dtypes
def test_dtype_objects():
    assert minidl.float is minidl.float32 and minidl.double is minidl.float64 and minidl.long is minidl.int64
    assert minidl.int is minidl.int32 and minidl.half is minidl.float16 and minidl.short is minidl.int16
    assert repr(minidl.float32) == "minidl.float32" and str(minidl.bool) == "minidl.bool"
    assert minidl.float32 == np.float32 and np.dtype(minidl.float64) == np.float64
    assert minidl.float32 != minidl.float64 and minidl.float32 != "not a dtype"
    assert minidl.float32.is_floating_point and not minidl.int64.is_floating_point
    assert minidl.int8.is_signed and not minidl.uint8.is_signed and minidl.float64.itemsize == 8
    assert np.zeros(2, dtype=minidl.float16).dtype == np.float16  # NumPy accepts minidl dtypes
    assert minidl.tensor([1.0]).dtype is minidl.float32 and minidl.tensor([1]).dtype is minidl.int64
    assert minidl.finfo(minidl.float32).eps == np.finfo(np.float32).eps
    assert minidl.iinfo(minidl.int8).max == 127


@requires_torch
@pytest.mark.parametrize("a", DTYPE_NAMES)
@pytest.mark.parametrize("b", DTYPE_NAMES)
def test_promotion_table_matches_torch(a, b):
    assert str(minidl.promote_types(getattr(minidl, a), getattr(minidl, b))).split(".")[1] == \
        str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[1]


SCALARS = [2, 2.5, True, -3]


@requires_torch
@pytest.mark.parametrize("a", DTYPE_NAMES)
@pytest.mark.parametrize("other", ["dim_int64", "zero_dim_float64", "zero_dim_int32", *map(repr, SCALARS)])
def test_result_type_matches_torch(a, other):
    def operand(L):
        if other == "dim_int64":
            return L.tensor([1, 2], dtype=L.int64)
        if other == "zero_dim_float64":
            return L.tensor(1.5, dtype=L.float64)
        if other == "zero_dim_int32":
            return L.tensor(3, dtype=L.int32)
        return eval(other)

    x_m, x_t = minidl.ones(2, dtype=getattr(minidl, a)), torch.ones(2, dtype=getattr(torch, a))
    assert str(minidl.result_type(x_m, operand(minidl))).split(".")[1] == \
        str(torch.result_type(x_t, operand(torch))).split(".")[1]
    if a != "bool" or other not in ("-3",):
        got = (x_m + operand(minidl)).dtype if a != "bool" or other != "True" else None
        if got is not None:
            assert str(got).split(".")[1] == str((x_t + operand(torch)).dtype).split(".")[1]


def test_default_dtype_can_be_changed():
    try:
        minidl.set_default_dtype(minidl.float64)
        assert minidl.get_default_dtype() is minidl.float64
        assert minidl.tensor([1.5]).dtype is minidl.float64 and minidl.zeros(2).dtype is minidl.float64
        assert (minidl.tensor([1, 2]) / 2).dtype is minidl.float64
        with pytest.raises(TypeError, match="floating"):
            minidl.set_default_dtype(minidl.int64)
    finally:
        minidl.set_default_dtype(minidl.float32)
    assert minidl.ones(1).dtype is minidl.float32


def test_mean_of_integers_raises_like_torch():
    with pytest.raises(RuntimeError, match="could not infer output dtype"):
        minidl.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError):
        minidl.tensor([1, 2]).std()


# ------------------------------------------------------------------------------------------ devices
def test_devices():
    cpu = minidl.device("cpu")
    assert cpu.type == "cpu" and cpu.index is None and str(cpu) == "cpu" and repr(cpu) == "device(type='cpu')"
    assert minidl.device("cuda:1").index == 1 and minidl.device("cuda", 0) == minidl.device("cuda:0")
    assert minidl.zeros(2).device == cpu and minidl.tensor([1], device="cpu").device == cpu
    assert not minidl.cuda.is_available() and minidl.cuda.device_count() == 0
    assert not minidl.backends.mps.is_available() and not minidl.accelerator.is_available()
    minidl.cuda.manual_seed_all(0)  # a harmless no-op, as scripts call it unconditionally
    x = minidl.ones(2)
    assert x.to("cpu") is x and x.cpu() is x and x.to(cpu, non_blocking=True) is x
    assert x.to("cpu", copy=True) is not x
    for bad in (lambda: x.to("cuda"), lambda: x.cuda(), lambda: minidl.zeros(2, device="cuda"),
                lambda: minidl.nn.Linear(2, 2).to("cuda:0"), lambda: minidl.nn.Linear(2, 2, device="mps")):
        with pytest.raises(DeviceError, match="CPU only"):
            bad()
    with pytest.raises(RuntimeError, match="device type"):
        minidl.device("gpu")


def test_tensor_and_module_to():
    x = minidl.tensor([1.5, 2.5])
    y = x.to(minidl.float64)
    assert y.dtype is minidl.float64 and x.to(torch_like := minidl.ones(1, dtype=minidl.int64)).dtype is minidl.int64
    assert x.to("cpu", minidl.int32).tolist() == [1, 2] and x.to(device="cpu", dtype=minidl.float16).dtype is \
        minidl.float16
    del torch_like
    m = minidl.nn.Linear(2, 2)
    w = m.weight
    assert m.to(minidl.device("cpu")) is m and m.to(minidl.float64).weight is w and w.dtype is minidl.float64
    m.to(minidl.ones(1))  # a tensor's dtype
    assert w.dtype is minidl.float32
    with pytest.raises(TypeError, match="floating point"):
        m.to(minidl.int64)


# ------------------------------------------------------------------------------------------ constructors
def test_legacy_tensor_constructor():
    assert minidl.Tensor(3, 4).shape == (3, 4) and minidl.Tensor(3, 4).dtype is minidl.float32
    assert minidl.Tensor([1, 2]).dtype is minidl.float32 and minidl.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert minidl.Tensor().shape == (0,) and minidl.Tensor(minidl.Size([2, 5])).shape == (2, 5)
    assert minidl.Tensor(np.arange(3)).dtype is minidl.float32
    src = minidl.tensor([1.0, 2.0])
    alias = minidl.Tensor(src)
    alias[0] = 9
    assert src[0].item() == 9.0  # a float32 tensor is shared, as in torch


def test_tensor_factory_dtype_inference():
    assert minidl.tensor(np.ones(2)).dtype is minidl.float64  # arrays keep their dtype
    assert minidl.tensor([1, 2.5]).dtype is minidl.float32
    assert minidl.tensor([True, False]).dtype is minidl.bool
    assert minidl.tensor([minidl.tensor(1.0), minidl.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert minidl.tensor(3).ndim == 0 and minidl.tensor([[1]], dtype=minidl.float64).dtype is minidl.float64
    with pytest.raises(TypeError):
        minidl.tensor(["a"])
    arr = np.arange(4.0)
    assert np.shares_memory(minidl.as_tensor(arr).numpy(), arr) and minidl.as_tensor(arr, dtype=minidl.float32) \
        .dtype is minidl.float32
    t = minidl.tensor([1.0])
    assert minidl.as_tensor(t) is t


def test_data_property_shares_memory():
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert isinstance(d, minidl.Tensor) and not d.requires_grad and np.shares_memory(d.numpy(), w.detach().numpy())
    w.data = minidl.tensor([5.0, 6.0, 7.0])
    assert w.shape == (3,) and w.requires_grad


def test_scalar_conversions():
    t = minidl.tensor(2.5)
    assert float(t) == 2.5 and int(minidl.tensor(3.9)) == 3 and bool(minidl.tensor([1]))
    assert f"{t:.3f}" == "2.500" and f"{minidl.tensor(7):>3}" == "  7"
    assert ["a", "b", "c"][minidl.tensor(1)] == "b" and range(10)[minidl.tensor([4])] == 4
    with pytest.raises(TypeError, match="integer tensors of a single element"):
        [1, 2][minidl.tensor(1.0)]
    with pytest.raises(TypeError):
        f"{minidl.tensor([1.0, 2.0]):.2f}"
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(minidl.tensor([1, 2]))
    assert minidl.ones(2, 2).item() if False else minidl.ones(1, 1).item() == 1.0


def test_size_is_a_tuple():
    s = minidl.zeros(2, 3).shape
    assert isinstance(s, minidl.Size) and isinstance(s, tuple) and s == (2, 3) and s.numel() == 6
    assert repr(s) == "minidl.Size([2, 3])" and isinstance(s[1:], minidl.Size) and s[0] == 2
    assert minidl.zeros(2, 3).size() == s and minidl.zeros(2, 3).size(-1) == 3


def test_methods_of_tensors():
    x = minidl.arange(6.0).view(2, 3)
    assert x.element_size() == 4 and x.nbytes == 24 and x.numel() == 6 and x.dim() == 2
    assert x.is_contiguous() and not x.t().is_contiguous() and x.t().contiguous().is_contiguous()
    assert x.new_zeros(2).dtype is minidl.float32 and x.new_tensor([1, 2]).dtype is minidl.float32
    assert x.new_ones((1, 2)).shape == (1, 2) and x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.type() == "minidl.FloatTensor" and x.type(minidl.float64).dtype is minidl.float64
    assert minidl.is_tensor(x) and not minidl.is_tensor(np.ones(1)) and minidl.numel(x) == 6
    assert x.stride() == (3, 1) and x.t().stride() == (1, 3)
    assert 4.0 in x and 9.0 not in x


@requires_torch
@pytest.mark.parametrize("make", [
    lambda L: L.tensor([0.5, 1.0]), lambda L: L.tensor([1.0, 2.0]), lambda L: L.tensor([[1.5, 2], [3, 4]]),
    lambda L: L.tensor([1, 2]), lambda L: L.tensor([True, False]), lambda L: L.tensor(2.5),
    lambda L: L.tensor([1e-5, 1.0]), lambda L: L.tensor([1.0, 2.0], dtype=L.float64),
    lambda L: L.tensor([1.0], requires_grad=True), lambda L: L.tensor([1.0], requires_grad=True) * 2,
    lambda L: L.zeros(0, 3), lambda L: L.tensor([]), lambda L: L.arange(2000.0),
    lambda L: L.tensor([1e10, 1.0]), lambda L: L.tensor([float("nan"), float("inf"), -1.5]),
], ids=lambda f: "")
def test_repr_matches_torch(make):
    expect = repr(make(torch)).replace("torch.", "minidl.").replace("MulBackward0", "MulBackward")
    assert repr(make(minidl)) == expect


# ------------------------------------------------------------------------------------------ random
def test_generators_make_reproducible_streams():
    g1 = minidl.Generator().manual_seed(3)
    g2 = minidl.Generator().manual_seed(3)
    a = minidl.randn(5, generator=g1)
    b = minidl.randn(5, generator=g2)
    assert a.tolist() == b.tolist() and g1.initial_seed() == 3
    minidl.manual_seed(7)
    c = minidl.rand(3)
    minidl.manual_seed(7)
    assert minidl.rand(3).tolist() == c.tolist()
    state = g1.get_state()
    x = minidl.randint(0, 10, (4,), generator=g1)
    g1.set_state(state)
    assert minidl.randint(0, 10, (4,), generator=g1).tolist() == x.tolist()
    assert x.dtype is minidl.int64 and minidl.randint(5, (2, 2)).shape == (2, 2)
    p = minidl.randperm(6, generator=g1)
    assert sorted(p.tolist()) == list(range(6))
    m = minidl.multinomial(minidl.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    assert m.tolist() == [1, 1]
    assert set(minidl.bernoulli(minidl.full((50,), 0.5)).tolist()) == {0.0, 1.0}
    n = minidl.normal(minidl.zeros(1000), 2.0)
    assert abs(float(n.std()) - 2.0) < 0.2
    u = minidl.empty(1000).uniform_(-1, 1)
    assert -1 <= float(u.min()) and float(u.max()) < 1


def test_reductions_with_indices_are_named_tuples():
    x = minidl.tensor([[1.0, 5.0, 2.0], [7.0, 3.0, 0.0]])
    r = x.max(1)
    assert isinstance(r, tuple) and r._fields == ("values", "indices")
    assert r.indices.tolist() == [1, 0] and r[1].tolist() == [1, 0] and x.max(1)[1].dtype is minidl.int64
    values, indices = minidl.min(x, dim=0)
    assert values.tolist() == [1.0, 3.0, 0.0] and indices.tolist() == [0, 1, 1]
    assert x.max().item() == 7.0 and minidl.max(x, minidl.full((2, 3), 4.0)).tolist() == [[4, 5, 4], [7, 4, 4]]
    assert type(minidl.sort(x)).__name__ == "sort" and minidl.topk(x, 1).values.tolist() == [[5.0], [7.0]]
    assert minidl.kthvalue(x, 2).values.tolist() == [2.0, 3.0] and x.median(1).indices.tolist() == [2, 1]


def test_testing_assert_close_uses_dtype_tolerances():
    minidl.testing.assert_close(minidl.ones(3), minidl.ones(3) + 5e-6)  # within float32's atol 1e-5
    with pytest.raises(AssertionError, match="not close"):
        minidl.testing.assert_close(minidl.ones(3, dtype=minidl.float64), minidl.ones(3, dtype=minidl.float64) + 5e-6)
    with pytest.raises(AssertionError, match="dtype"):
        minidl.testing.assert_close(minidl.ones(1), minidl.ones(1, dtype=minidl.float64))
    minidl.testing.assert_close({"a": [minidl.tensor([1, 2])]}, {"a": [minidl.tensor([1, 2])]})
    with pytest.raises(AssertionError):
        minidl.testing.assert_close(minidl.tensor([1, 2]), minidl.tensor([1, 3]))
    assert minidl.ones(2).contiguous(memory_format=minidl.contiguous_format).shape == (2,)
