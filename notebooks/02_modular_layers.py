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
# # 2. The modular layer API
#
# A network is a stack of layers, and each layer is two functions: `forward(inputs) -> (out, cache)` keeps
# what the backward pass will need, and `backward(dout, cache) -> gradients` turns the gradient of the loss
# with respect to the layer's output, $\partial L/\partial \text{out}$, into the gradients with respect to
# its inputs. `minidl.layers` offers the classic names (`fc_forward`, `relu_forward`, `softmax_loss`, ...);
# each is a thin adapter over the op that `minidl.nn` and the autograd engine run too (`ops.linear`,
# `ops.relu`, `ops.cross_entropy`), so what we check here is what every model uses.
#
# | layer | forward | backward |
# |---|---|---|
# | fully connected | $\text{out} = x w + b$ | $dx = d\text{out}\, w^\top$, $dw = x^\top d\text{out}$, $db = \sum_n d\text{out}_n$ |
# | ReLU | $\max(0, x)$ | $dx = d\text{out} \cdot [x > 0]$ |
# | softmax loss | $L = -\frac1N \sum_i \log \mathrm{softmax}(x_i)_{y_i}$ | $dx_i = (\mathrm{softmax}(x_i) - \text{onehot}(y_i))/N$ |
# | L2 penalty | $R = \frac{\lambda}{2} \sum w^2$ | $dw = \lambda w$ |
#
# Every gradient is checked in float64 against central differences
# $\frac{f(x + h) - f(x - h)}{2h}$, which need no calculus. The relative error
# $\frac{|a - n|}{\max(|a|, |n|)}$ of a correct layer is around $10^{-8}$ or smaller.

# %%
import os

import numpy as np

import minidl
import minidl.nn.functional as F
from minidl.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from minidl.layers import fc_backward, fc_forward, l2_regularization, relu_backward, relu_forward, softmax_loss

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode changes nothing here: every check is small
rng = np.random.default_rng(0)
errors: dict[str, float] = {}

# %% [markdown]
# ## Fully connected layer
#
# The input may have any shape $(N, d_1, \dots, d_k)$; it is flattened to $(N, D)$. The weight is the classic
# $(D, M)$ matrix; `nn.Linear` stores the same numbers as PyTorch's $(M, D)$, its transpose.

# %%
x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
out, cache = fc_forward(x, w, b)
assert np.allclose(out, x.reshape(4, 6) @ w + b)
assert np.allclose(out, F.linear(minidl.from_numpy(x.reshape(4, 6)), minidl.from_numpy(w.T.copy()),
                                 minidl.from_numpy(b)).numpy())
dout = rng.standard_normal(out.shape)
dx, dw, db = fc_backward(dout, cache)
errors["fc dx"] = rel_error(dx, eval_numerical_gradient_array(lambda v: fc_forward(v, w, b)[0], x, dout))
errors["fc dw"] = rel_error(dw, eval_numerical_gradient_array(lambda v: fc_forward(x, v, b)[0], w, dout))
errors["fc db"] = rel_error(db, eval_numerical_gradient_array(lambda v: fc_forward(x, w, v)[0], b, dout))
print({k: f"{v:.1e}" for k, v in errors.items()})

# %% [markdown]
# ## ReLU
#
# The ReLU has a kink at 0, where central differences straddle two slopes. Inputs are kept away from it so
# the check compares like with like.

# %%
x = rng.standard_normal((5, 7))
x[np.abs(x) < 1e-3] = 0.1
out, cache = relu_forward(x)
assert np.array_equal(out, np.maximum(0, x))
dout = rng.standard_normal(x.shape)
errors["relu dx"] = rel_error(relu_backward(dout, cache),
                              eval_numerical_gradient_array(lambda v: relu_forward(v)[0], x, dout))
print(f"relu dx: {errors['relu dx']:.1e}")

# %% [markdown]
# ## Softmax loss
#
# With random small scores the loss is close to $\log C$ (every class equally likely). The gradient is
# checked numerically and against its closed form.

# %%
N, C = 8, 10
scores, labels = 0.001 * rng.standard_normal((N, C)), rng.integers(C, size=N)
loss, dscores = softmax_loss(scores, labels)
print(f"loss {loss:.6f}, log C = {np.log(C):.6f}")
assert abs(loss - np.log(C)) < 0.01
errors["softmax dx"] = rel_error(dscores, eval_numerical_gradient(lambda s: softmax_loss(s, labels)[0], scores,
                                                                  verbose=False))
probs = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
assert rel_error(dscores, (probs - np.eye(C)[labels]) / N) < 1e-10

# %% [markdown]
# Scores of $\pm 1000$ would overflow $e^{s}$ in float64 (its largest value is about $e^{709}$). The loss is
# computed from the log-softmax $s_{y} - \max_k s_k - \log\sum_k e^{s_k - \max_k s_k}$, in which every
# exponent is at most 0, so it stays exact: below, the correct class scores $-1000$ against $+1000$, so
# the loss is $2000$ and the gradient is $\pm 1/N$.

# %%
big = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
loss, dbig = softmax_loss(big, np.array([1, 1]))
print(f"loss {loss}, gradient {dbig.tolist()}")
assert loss == 1000.0 and np.allclose(dbig, [[0.5, -0.5], [0.0, 0.0]])
assert np.all(np.isfinite(softmax_loss(1e300 * np.array([[1.0, -1.0]]), np.array([0]))[1]))

# %% [markdown]
# ## L2 regularisation

# %%
w, reg = rng.standard_normal((6, 4)), 0.3
penalty, dw = l2_regularization(w, reg)
assert abs(penalty - 0.5 * reg * np.sum(w**2)) < 1e-12
errors["l2 dw"] = rel_error(dw, eval_numerical_gradient(lambda v: l2_regularization(v, reg)[0], w, verbose=False))

# %% [markdown]
# ## Layers composed into a network
#
# A two-layer network is the layers chained: forward left to right, backward right to left, each backward
# taking the cache of its own forward. The gradient of the whole loss (data loss plus the L2 penalty of both
# weight matrices) is checked the same way.

# %%
def two_layer_loss(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, reg: float):
    h, fc1 = fc_forward(X, params["W1"], params["b1"])
    a, relu = relu_forward(h)
    s, fc2 = fc_forward(a, params["W2"], params["b2"])
    data_loss, ds = softmax_loss(s, y)
    r1, dW1_reg = l2_regularization(params["W1"], reg)
    r2, dW2_reg = l2_regularization(params["W2"], reg)
    da, dW2, db2 = fc_backward(ds, fc2)
    _, dW1, db1 = fc_backward(relu_backward(da, relu), fc1)
    return data_loss + r1 + r2, {"W1": dW1 + dW1_reg, "b1": db1, "W2": dW2 + dW2_reg, "b2": db2}


X, y = rng.standard_normal((6, 5)), rng.integers(3, size=6)
params = {"W1": rng.standard_normal((5, 7)), "b1": rng.standard_normal(7),
          "W2": rng.standard_normal((7, 3)), "b2": rng.standard_normal(3)}
loss, grads = two_layer_loss(params, X, y, reg=0.1)
for name in params:
    num = eval_numerical_gradient(lambda _: two_layer_loss(params, X, y, 0.1)[0], params[name], verbose=False)
    errors[f"net d{name}"] = rel_error(grads[name], num)

for name, err in errors.items():
    print(f"{name:>10}: relative error {err:.1e}")
assert max(errors.values()) < 1e-7
