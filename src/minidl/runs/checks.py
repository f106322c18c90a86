r"""Looking inside a zoo model without training it: its loss graph (``minidl graph``) and a numeric check of
every parameter gradient of its loss (``minidl gradcheck MODEL``).

Both build the model for an input shape (:func:`~.build.build_model`) and compute its loss on a small random
batch drawn from a private, seeded generator: images uniform in [0, 1], random class labels (or the input
itself as the target of a reconstruction model).

The gradient check runs :func:`minidl.gradcheck.gradcheck` in float64 with the parameters as its inputs.
To let gradcheck's leaves drive the model, each loss evaluation calls the model through
:func:`minidl.func.functional_call` with tensors built from the leaves in place of its parameters. For a
parameter with more entries than ``coords``, the leaf holds ``coords`` randomly
chosen entries and the tensor the module reads is :math:`W = W_0 + \mathrm{scatter}(\text{leaf})`, where
:math:`W_0` is the parameter with those entries zeroed: exactly the same values, and the gradient with
respect to the leaf is the gradient of the loss at those entries. Dropout masks stay fixed because
gradcheck reseeds minidl's generator before every evaluation; batch normalisation uses batch statistics
(training mode), so its gradient through the batch mean and variance is checked too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..func import functional_call
from ..gradcheck import GradcheckReport, gradcheck
from ..nn import Module
from ..nn import functional as F
from ..nn.utils import evaluating
from ..report import to_dot
from ..tensor import Tensor, tensor
from .build import build_model, model_spec
from .expr import evaluate, parse, variables

__all__ = ["random_batch", "model_loss", "model_graph", "expression_graph", "ParamCheck", "gradcheck_model"]


def random_batch(model: Module, input_shape: Sequence[int], batch: int, task: str, seed: int,
                 dtype: Any = np.float32) -> tuple[Tensor, Tensor]:
    """Inputs uniform in [0, 1] and targets (labels below the model's number of outputs, or the inputs)."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, *input_shape)).astype(dtype)
    if task == "reconstruction":
        return tensor(x), tensor(x.copy())
    with evaluating(model):
        k = model(tensor(x[:1])).shape[1]
    return tensor(x), tensor(rng.integers(0, k, size=batch))


def model_loss(model: Module, x: Tensor, y: Tensor, task: str) -> Tensor:
    """Cross-entropy of the model's scores (classification) or mean squared reconstruction error."""
    return _task_loss(model(x), y, task)


def _task_loss(out: Tensor, y: Tensor, task: str) -> Tensor:
    return F.cross_entropy(out, y) if task == "classification" else F.mse_loss(out, y)


def model_graph(name: str, model_args: dict[str, Any], input_shape: Sequence[int], *, batch: int = 2,
                seed: int = 0, show_values: bool = False, show_grads: bool = False) -> str:
    """DOT source of the autograd graph of the model's loss on a random batch (parameters named)."""
    spec = model_spec(name)
    model = build_model(name, model_args, input_shape, None, spec.task)
    x, y = random_batch(model, input_shape, batch, spec.task, seed)
    loss = model_loss(model, x, y, spec.task)
    if show_grads:
        loss.backward(retain_graph=True)
    return to_dot(loss, show_values=show_values, show_grads=show_grads, names={id(x): "input"},
                  params=dict(model.named_parameters()))


def expression_graph(expr: str, shape: Sequence[int] = (), *, seed: int = 0, show_values: bool = False,
                     show_grads: bool = False) -> str:
    """DOT source of the graph of ``expr`` (see :mod:`.expr`) with its variables drawn uniform in
    [0.5, 1.5] (so log, sqrt and division are defined) as float64 leaves of ``shape``, named by letter."""
    tree = parse(expr)
    rng = np.random.default_rng(seed)
    env = {v: tensor(rng.uniform(0.5, 1.5, size=tuple(shape)), requires_grad=True) for v in variables(tree)}
    result = evaluate(tree, env, expr)
    if show_grads:
        root = result if result._data.size == 1 else result.sum()
        root.backward(retain_graph=True)
    return to_dot(result, show_values=show_values, show_grads=show_grads,
                  names={id(t): k for k, t in env.items()})


# ============================================================================================ gradcheck
@dataclass(frozen=True)
class ParamCheck:
    """The check of one parameter's gradient: ``checked`` of its ``numel`` entries compared."""

    name: str
    shape: tuple[int, ...]
    numel: int
    checked: int
    rel_error: float
    ok: bool


def gradcheck_model(name: str, model_args: dict[str, Any], input_shape: Sequence[int], *, batch: int = 4,
                    coords: int | None = 64, seed: int = 0, tol: float = 1e-6) -> list[ParamCheck]:
    """Check the gradient of the model's loss with respect to every parameter, in float64.

    ``coords``: at most this many randomly chosen entries per parameter (None: all of them).
    """
    spec = model_spec(name)
    model = build_model(name, model_args, input_shape, None, spec.task)
    model.double()
    model.train()
    x, y = random_batch(model, input_shape, batch, spec.task, seed, dtype=np.float64)
    params = list(model.named_parameters())
    rng = np.random.default_rng(seed + 1)
    picks: list[np.ndarray | None] = []
    probes: list[np.ndarray] = []
    bases: list[np.ndarray | None] = []
    for _, p in params:
        flat = p._data.reshape(-1)
        if coords is None or flat.size <= coords:
            picks.append(None)
            probes.append(p._data.copy())
            bases.append(None)
        else:
            idx = np.sort(rng.choice(flat.size, size=coords, replace=False))
            base = flat.copy()
            base[idx] = 0.0
            picks.append(idx)
            probes.append(flat[idx].copy())
            bases.append(base)
    # one (coords, numel) one-hot matrix per sampled parameter: leaf @ E scatters the leaf into place
    scatters = [None if idx is None else _one_hot(idx, p._data.size)
                for idx, (_, p) in zip(picks, params, strict=True)]

    def loss_of(*leaves: Tensor) -> Tensor:
        tensors = {}
        for (pname, p), leaf, base, e in zip(params, leaves, bases, scatters, strict=True):
            if base is None:
                tensors[pname] = leaf
            else:
                tensors[pname] = (tensor(base) + leaf @ tensor(e)).reshape(p.shape)
        return _task_loss(functional_call(model, tensors, (x,)), y, spec.task)

    report: GradcheckReport = gradcheck(loss_of, *probes, names=[n for n, _ in params], tol=tol, seed=seed)
    return [ParamCheck(pname, tuple(p.shape), int(p._data.size), int(p._data.size if idx is None else idx.size),
                       entry.rel_error, entry.ok)
            for (pname, p), idx, entry in zip(params, picks, report.entries, strict=True)]


def _one_hot(idx: np.ndarray, n: int) -> np.ndarray:
    e = np.zeros((idx.size, n))
    e[np.arange(idx.size), idx] = 1.0
    return e
