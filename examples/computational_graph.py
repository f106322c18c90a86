"""A first look at minidl's autograd engine: the 2-class softmax loss as a computational graph.

For two class scores s1, s2 and a label y in {1, 2} (1-based, as in the classic exercise)

    L(s1, s2, y) = -log( exp(s_y) / (exp(s1) + exp(s2)) )

This script builds L from two SCALAR tensors with elementary ops only (exp, +, /, log and unary minus), so
every intermediate value is its own node of the graph and nothing is hidden inside a fused softmax op.
``loss.backward()`` then walks the nodes from L back to s1 and s2, and at each node multiplies the gradient
arriving from above by that node's local derivative: the chain rule, one op at a time.

The engine's gradients are checked two ways:

* against numeric gradients: central differences (L(s + h) - L(s - h)) / 2h, which need no calculus;
* against the closed form  dL/ds_k = softmax(s)_k - [k == y].

Run ``python examples/computational_graph.py [--s1 S1] [--s2 S2]``; the exit code is 0 when every check passes.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import minidl
from minidl.gradcheck import eval_numerical_gradient, rel_error

TOL = 1e-7  # classic threshold for rel_error between analytic and numeric gradients


def softmax_loss_graph(s1: minidl.Tensor, s2: minidl.Tensor, y: int) -> tuple[minidl.Tensor, dict[str, minidl.Tensor]]:
    """Build L(s1, s2, y) node by node; return L and the named intermediate nodes (in the order built).

    The local derivative each node contributes on the way back is written next to it.
    """
    e1 = s1.exp()  # e1 = exp(s1)        de1/ds1 = exp(s1) = e1
    e2 = s2.exp()  # e2 = exp(s2)        de2/ds2 = e2
    z = e1 + e2  # z = e1 + e2           dz/de1 = dz/de2 = 1
    e_y = e1 if y == 1 else e2
    p = e_y / z  # p = e_y / z            dp/de_y = 1/z,  dp/dz = -e_y/z²
    log_p = p.log()  # log p              d(log p)/dp = 1/p
    loss = -log_p  # L = -log p           dL/d(log p) = -1
    # e_y feeds two nodes (z and p): on the way back its gradient is the SUM of both paths' contributions.
    return loss, {"e1": e1, "e2": e2, "z": z, "p": p, "log_p": log_p, "L": loss}


def loss_value(s: np.ndarray, y: int) -> float:
    """L as a plain function of the score vector s = [s1, s2]: what the numeric gradient perturbs."""
    with minidl.no_grad():  # forward only: no graph needs to be recorded
        loss, _ = softmax_loss_graph(minidl.tensor(s[0]), minidl.tensor(s[1]), y)
    return loss.item()


def closed_form(s: np.ndarray, y: int) -> np.ndarray:
    """dL/ds_k = softmax(s)_k - [k == y], with the max subtracted before exp so it never overflows."""
    e = np.exp(s - s.max())
    grad = e / e.sum()
    grad[y - 1] -= 1.0
    return grad


def check_label(s1: float, s2: float, y: int) -> bool:
    """Build the graph for label y, print its nodes and gradients, and compare them; True if all agree."""
    print(f"--- label y = {y}, scores s1 = {s1}, s2 = {s2}")
    # float64 leaves: gradients of float64 tensors are float64, as exact as the numeric check needs
    t1 = minidl.tensor(np.float64(s1), requires_grad=True)
    t2 = minidl.tensor(np.float64(s2), requires_grad=True)
    loss, nodes = softmax_loss_graph(t1, t2, y)

    for t in nodes.values():
        t.retain_grad()  # keep dL/d(node) on intermediate nodes too, to show the backward pass at each step
    loss.backward()

    print(f"  {'node':<6} {'made by':<8} {'value':>11} {'dL/d(node)':>12}")
    for name, t in nodes.items():
        print(f"  {name:<6} {t.grad_fn.op.name:<8} {t.item():11.6f} {t.grad.item():12.6f}")
    engine = np.array([t1.grad.item(), t2.grad.item()])
    print(f"  L = {loss.item():.6f},  dL/ds1 = {engine[0]:.6f},  dL/ds2 = {engine[1]:.6f}")

    s = np.array([s1, s2], dtype=np.float64)
    numeric = eval_numerical_gradient(lambda v: loss_value(v, y), s, verbose=False)
    exact = closed_form(s, y)
    err_numeric, err_exact = rel_error(engine, numeric), rel_error(engine, exact)
    ok = err_numeric < TOL and err_exact < TOL
    print(f"  numeric  gradient {numeric}  rel_error {err_numeric:.1e}")
    print(f"  softmax - onehot  {exact}  rel_error {err_exact:.1e}  -> {'ok' if ok else 'MISMATCH'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--s1", type=float, default=2.0, help="score of class 1 (default 2.0)")
    parser.add_argument("--s2", type=float, default=-1.0, help="score of class 2 (default -1.0)")
    args = parser.parse_args(argv)
    results = [check_label(args.s1, args.s2, y) for y in (1, 2)]
    if all(results):
        print("all gradients match")
        return 0
    print("gradient mismatch", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
