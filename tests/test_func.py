"""minidl.func.functional_call: PyTorch's semantics (hand-checked, and against torch.func where installed)."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from conftest import requires_torch, torch
from minidl.func import functional_call


def _state(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def test_functional_call_uses_the_given_tensors_and_leaves_the_module_alone(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    before = _state(model)
    w = minidl.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    x = minidl.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    out = functional_call(model, {"0.weight": w}, x)  # a single argument need not be a tuple
    expected = model[2](F.relu(F.linear(x, w, model[0].bias)))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    out.sum().backward()  # the gradient goes to the given tensor, not to the module's weight
    assert w.grad is not None and model[0].weight.grad is None and model[2].weight.grad is not None
    assert all(np.array_equal(v, before[k]) for k, v in _state(model).items())
    assert model[0].weight is model[0]._parameters["weight"] and list(model.state_dict()) == list(before)
    # kwargs, and args=None
    np.testing.assert_array_equal(functional_call(model, {}, kwargs={"input": x}).detach().numpy(),
                                  model(x).detach().numpy())


def test_functional_call_buffers_tied_weights_and_errors(rng):
    bn = nn.BatchNorm1d(2)
    mean = minidl.zeros(2)
    x = minidl.tensor(rng.standard_normal((8, 2)).astype(np.float32) + 3)
    functional_call(bn, ({"running_mean": mean}, {}), (x,))
    assert mean.numpy().min() > 0.2 and bn.running_mean.numpy().tolist() == [0.0, 0.0]  # in place, into `mean`
    assert bn.num_batches_tracked.item() == 1

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.a(x) + self.b(x)

    tied = Tied()
    tied.a.weight.data.fill_(1.0)
    one = minidl.ones(1, 1)
    assert functional_call(tied, {"a.weight": minidl.zeros(1, 1)}, one).item() == 0.0
    assert functional_call(tied, {"a.weight": minidl.zeros(1, 1)}, one, tie_weights=False).item() == 1.0
    with pytest.raises(ValueError, match="tied names"):
        functional_call(tied, {"a.weight": minidl.zeros(1, 1), "b.weight": minidl.ones(1, 1)}, one)

    lin = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match=r"reparametrizing for Linear:\n\tMissing key\(s\): 'bias'"):
        functional_call(lin, {"weight": minidl.zeros(1, 2)}, minidl.ones(1, 2), strict=True)
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\): 'foo'"):
        functional_call(lin, {"weight": minidl.zeros(1, 2), "bias": minidl.zeros(1), "foo": minidl.zeros(1)},
                        minidl.ones(1, 2), strict=True)
    with pytest.raises(ValueError, match=r"\['weight'\] appeared in multiple dictionaries"):
        functional_call(lin, ({"weight": minidl.zeros(1, 2)}, {"weight": minidl.ones(1, 2)}), minidl.ones(1, 2))
    with pytest.raises(TypeError, match="'weight' must be a minidl.Tensor"):
        functional_call(lin, {"weight": np.zeros((1, 2))}, minidl.ones(1, 2))
    with pytest.raises(AttributeError, match="no submodule `bad`"):
        functional_call(lin, {"bad.path": minidl.zeros(1)}, minidl.ones(1, 2))
    functional_call(lin, {"foo": minidl.zeros(1)}, minidl.ones(1, 2))  # not strict: an unused extra name
    assert not hasattr(lin, "foo")


def test_functional_call_restores_the_module_when_forward_raises():
    lin = nn.Linear(2, 1)
    weight = lin.weight
    with pytest.raises(ValueError):
        functional_call(lin, {"weight": minidl.zeros(1, 5)}, minidl.ones(1, 2))
    assert lin.weight is weight and lin.__dict__["weight"] is weight


@requires_torch
def test_functional_call_matches_torch(rng):
    from torch.func import functional_call as torch_functional_call

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3)).double()
    tmodel = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(8, 3)).double()
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in _state(model).items()})
    given = {"0.weight": rng.standard_normal((2, 1, 3, 3)), "3.bias": rng.standard_normal(3),
             "1.running_var": rng.random(2) + 0.5}
    x = rng.standard_normal((4, 1, 4, 4))
    ours = functional_call(model, {k: minidl.tensor(v) for k, v in given.items()}, minidl.tensor(x))
    theirs = torch_functional_call(tmodel, {k: torch.tensor(v) for k, v in given.items()}, torch.tensor(x))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)
