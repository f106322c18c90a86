"""Run the same code on minidl and on PyTorch and compare the results, forward and backward.

minidl speaks PyTorch's API, so one function serves both libraries: ``fn(F, *tensors)`` is called with
``minidl.nn.functional`` and with ``torch.nn.functional`` (``make(nn)`` likewise builds a module from either
``nn``). Inputs are float64 leaves with the same values; both outputs get the same upstream gradient.
Import this only from tests marked ``requires_torch``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import minidl
from conftest import torch


def _run(lib: Any, namespace: Any, fn: Callable, arrays: tuple, seed: int) -> tuple[list, list]:
    leaves = [lib.tensor(a.copy(), requires_grad=True) if a.dtype.kind == "f" else lib.tensor(a) for a in arrays]
    out = fn(namespace, *leaves)
    outs = list(out) if isinstance(out, tuple) else [out]
    if outs[0].requires_grad:
        dout = np.random.default_rng(seed).standard_normal(tuple(outs[0].shape))
        outs[0].backward(lib.tensor(dout.astype(arrays[0].dtype)))
    grads = [t.grad.numpy() if t.grad is not None else None for t in leaves if t.dtype.is_floating_point]
    return [o.detach().numpy() for o in outs], grads


def check_functional(fn: Callable, *arrays: np.ndarray, rtol: float = 1e-10, atol: float = 1e-12, seed: int = 0,
                     grads: bool = True) -> list[np.ndarray]:
    """``fn(F, *inputs)`` on minidl and on PyTorch: every output (values, shape, dtype) and, with ``grads``,
    every floating input's gradient agree. Returns minidl's outputs."""
    ours, our_grads = _run(minidl, minidl.nn.functional, fn, arrays, seed)
    theirs, their_grads = _run(torch, torch.nn.functional, fn, arrays, seed)
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.shape == b.shape and a.dtype == b.dtype, f"output {k}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"output {k}")
    if grads:
        for k, (a, b) in enumerate(zip(our_grads, their_grads, strict=True)):
            assert (a is None) == (b is None), f"gradient {k}"
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {k}")
    return ours


def check_module(make: Callable[[Any], Any], x: np.ndarray, *args: Any, rtol: float = 1e-10, atol: float = 1e-12,
                 seed: int = 0) -> Any:
    """``make(nn)`` in both libraries, float64, PyTorch's parameters copied from minidl's; repr, state_dict
    keys and shapes, output, input gradient and parameter gradients agree. ``args`` follow the input in the
    call. Returns minidl's module."""
    m, tm = make(minidl.nn).double(), make(torch.nn).double()
    assert repr(m) == repr(tm)
    sd, tsd = m.state_dict(), tm.state_dict()
    assert [(k, tuple(v.shape)) for k, v in sd.items()] == [(k, tuple(v.shape)) for k, v in tsd.items()]
    tm.load_state_dict({k: torch.tensor(v.numpy().copy()) for k, v in sd.items()})
    results = []
    for lib, module in ((minidl, m), (torch, tm)):
        t = lib.tensor(x.copy(), requires_grad=x.dtype.kind == "f")
        out = module(t, *args)
        y = out[0] if isinstance(out, tuple) else out
        y.backward(lib.tensor(np.random.default_rng(seed).standard_normal(tuple(y.shape))))
        results.append((y.detach().numpy(), None if t.grad is None else t.grad.numpy(),
                        {n: p.grad.numpy() for n, p in module.named_parameters()}))
    (y, gx, gp), (ty, tgx, tgp) = results
    np.testing.assert_allclose(y, ty, rtol=rtol, atol=atol, err_msg="output")
    if gx is not None or tgx is not None:
        np.testing.assert_allclose(gx, tgx, rtol=rtol, atol=atol, err_msg="input gradient")
    assert gp.keys() == tgp.keys()
    for name in gp:
        np.testing.assert_allclose(gp[name], tgp[name], rtol=rtol, atol=atol, err_msg=f"gradient of {name}")
    return m


def same_error(fn: Callable, *arrays: np.ndarray) -> BaseException:
    """``fn(F, *inputs)`` fails in PyTorch and in minidl, minidl's error being an instance of PyTorch's error
    class (so ``except`` clauses written for PyTorch catch it). Returns minidl's error."""
    try:
        fn(torch.nn.functional, *(torch.tensor(a) for a in arrays))
    except Exception as e:  # noqa: BLE001 - whatever PyTorch raises is the expectation
        expected = type(e)
    else:
        raise AssertionError("PyTorch accepted the call")
    try:
        fn(minidl.nn.functional, *(minidl.tensor(a) for a in arrays))
    except Exception as e:  # noqa: BLE001
        assert isinstance(e, expected), f"minidl raised {type(e).__name__}: {e}; PyTorch {expected.__name__}"
        return e
    raise AssertionError("minidl accepted the call")
