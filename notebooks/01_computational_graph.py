# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. The computational graph of the two-class softmax loss
#
# For two class scores $s_1, s_2$ and a label $y \in \{1, 2\}$ the softmax loss is
#
# $$L = -\log \frac{e^{s_y}}{e^{s_1} + e^{s_2}}.$$
#
# Written as a graph of elementary operations, every intermediate value is a node:
# $e_1 = e^{s_1}$, $e_2 = e^{s_2}$, $z = e_1 + e_2$, $p = e_y / z$, $\ell = \log p$, $L = -\ell$.
# The forward pass computes the nodes in that order; the backward pass walks back from $L$ and, at each node,
# multiplies the gradient arriving from above by the node's local derivative (the chain rule). Here we do
# both by hand, then let minidl's autograd engine do them, and check all three against each other, for both
# labels: the hand-derived gradients, the engine's, and numeric gradients by central differences.

# %%
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import SVG, display

import minidl
from minidl import cli, report
from minidl.gradcheck import eval_numerical_gradient, rel_error

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode changes nothing here: the graph is tiny
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-graph-"))
S = np.array([2.0, -1.0])  # the scores s1, s2

# %% [markdown]
# ## Forward and backward by hand
#
# Local derivatives: $\partial e_k/\partial s_k = e_k$, $\partial z/\partial e_k = 1$,
# $\partial p/\partial e_y = 1/z$, $\partial p/\partial z = -e_y/z^2$, $\partial \ell/\partial p = 1/p$,
# $\partial L/\partial \ell = -1$. The node $e_y$ feeds both $z$ and $p$, so its gradient is the sum of the
# two paths.

# %%
def by_hand(s: np.ndarray, y: int) -> tuple[dict[str, float], dict[str, float]]:
    """The forward values of every node and dL/d(node), from the local derivatives above."""
    e1, e2 = np.exp(s[0]), np.exp(s[1])
    z = e1 + e2
    e_y = e1 if y == 1 else e2
    p = e_y / z
    values = {"s1": s[0], "s2": s[1], "e1": e1, "e2": e2, "z": z, "p": p, "log_p": np.log(p), "L": -np.log(p)}
    g = {"L": 1.0}
    g["log_p"] = -g["L"]
    g["p"] = g["log_p"] / p
    g["z"] = g["p"] * (-e_y / z**2)
    g["e1"] = g["z"] + (g["p"] / z if y == 1 else 0.0)  # two paths into e_y: through z and through p
    g["e2"] = g["z"] + (g["p"] / z if y == 2 else 0.0)
    g["s1"], g["s2"] = g["e1"] * e1, g["e2"] * e2
    return values, g


for label in (1, 2):
    values, grads = by_hand(S, label)
    print(f"label y = {label}")
    for name in values:
        print(f"  {name:>6} = {values[name]:9.5f}    dL/d{name} = {grads[name]:9.5f}")

# %% [markdown]
# The two score gradients are the familiar closed form $\partial L/\partial s_k = \mathrm{softmax}(s)_k -
# [k = y]$: the hand-derived chain rule agrees with it.

# %%
softmax = np.exp(S - S.max()) / np.exp(S - S.max()).sum()
for label in (1, 2):
    _, grads = by_hand(S, label)
    closed = softmax - np.eye(2)[label - 1]
    assert rel_error(np.array([grads["s1"], grads["s2"]]), closed) < 1e-12
print("softmax(s) =", softmax)

# %% [markdown]
# ## The same graph in minidl
#
# Scalar tensors and elementary operations only, so that every node is in the graph. `retain_grad()` keeps
# the gradient of the intermediate nodes, which the engine otherwise frees, so we can compare each one with
# the hand-derived value.

# %%
def engine(s: np.ndarray, y: int) -> tuple[minidl.Tensor, dict[str, minidl.Tensor]]:
    s1 = minidl.tensor(s[0], requires_grad=True)  # float64 leaves: exact enough for the checks
    s2 = minidl.tensor(s[1], requires_grad=True)
    e1, e2 = s1.exp(), s2.exp()
    z = e1 + e2
    p = (e1 if y == 1 else e2) / z
    log_p = p.log()
    loss = -log_p
    nodes = {"s1": s1, "s2": s2, "e1": e1, "e2": e2, "z": z, "p": p, "log_p": log_p, "L": loss}
    for t in nodes.values():
        if not t.is_leaf:
            t.retain_grad()
    loss.backward()
    return loss, nodes


def loss_of(s: np.ndarray, y: int) -> float:
    with minidl.no_grad():
        e1, e2 = minidl.tensor(s[0]).exp(), minidl.tensor(s[1]).exp()
        return float(-((e1 if y == 1 else e2) / (e1 + e2)).log())


for label in (1, 2):
    loss, nodes = engine(S, label)
    values, grads = by_hand(S, label)
    for name, t in nodes.items():
        assert abs(t.item() - values[name]) < 1e-12, name
        assert abs(t.grad.item() - grads[name]) < 1e-12, name
    analytic = np.array([nodes["s1"].grad.item(), nodes["s2"].grad.item()])
    numeric = eval_numerical_gradient(lambda s, label=label: loss_of(s, label), S.copy(), verbose=False)
    print(f"label {label}: L = {loss.item():.6f}, engine dL/ds = {analytic}, numeric = {numeric}, "
          f"relative error {rel_error(analytic, numeric):.1e}")
    assert rel_error(analytic, numeric) < 1e-7

# %% [markdown]
# ## Drawing the graph
#
# `minidl.report.to_dot` turns the graph behind a tensor into Graphviz's DOT language, with the value and the
# gradient of every node; `report.render` lays it out with Graphviz's `dot` program (Debian's `graphviz`).
# From a shell, `minidl graph --expr EXPR --values --grads -o graph.svg` draws an expression's graph
# the same way.

# %%
loss, nodes = engine(S, 1)
dot = report.to_dot(loss, show_values=True, show_grads=True, names={id(nodes["s1"]): "s1", id(nodes["s2"]): "s2"})
assert all(op in dot for op in ("exp", "add", "div", "log", "neg"))
if shutil.which("dot"):
    display(SVG(filename=str(report.render(dot, OUT / "softmax_loss.svg", format="svg"))))
else:
    print(dot)

# %%
exit_code = cli.main(["graph", "--expr", "-log(exp(a) / (exp(a) + exp(b)))", "--values", "--grads",
                      "-o", str(OUT / ("cli_graph.svg" if shutil.which("dot") else "cli_graph.dot"))])
assert exit_code == 0
if shutil.which("dot"):
    display(SVG(filename=str(OUT / "cli_graph.svg")))

# %% [markdown]
# ## Large scores
#
# Computed literally, $e^{1000}$ overflows. minidl's fused `F.cross_entropy` works with the log-softmax,
# $\log p_y = s_y - \max_k s_k - \log\sum_k e^{s_k - \max_k s_k}$, which is exact for any finite scores and
# gives the same gradient, $\mathrm{softmax}(s) - \text{onehot}(y)$.

# %%
big = minidl.tensor([[1000.0, -1000.0]], requires_grad=True)
ce = minidl.nn.functional.cross_entropy(big, minidl.tensor([1]))
ce.backward()
print(f"L = {ce.item()}, dL/ds = {big.grad.numpy()}")
assert ce.item() == 2000.0 and np.allclose(big.grad.numpy(), [[1.0, -1.0]])
