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
# # 7. XOR: the smallest problem a line cannot solve
#
# XOR labels the corners of the unit square: $(0,0)$ and $(1,1)$ are class 0, $(0,1)$ and $(1,0)$ are
# class 1. No line separates the two classes, so logistic regression fails and a hidden layer is needed.
# We build the network twice: first from scratch in NumPy with the backward pass written by hand, then in
# minidl, started from the same weights, and check that both take exactly the same steps. Then we draw what
# the network learned as a probability surface, and train on noisy copies of the four points.
#
# The network is $h = \tanh(x W_1 + b_1)$, $z = h W_2 + b_2$, $p = \sigma(z)$ with the mean binary
# cross-entropy $L = -\frac{1}{N}\sum_i y_i \log p_i + (1 - y_i)\log(1 - p_i)$.

# %%
import math
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import minidl
from minidl import nn, optim, report
from minidl.gradcheck import eval_numerical_gradient, rel_error
from minidl.models import XORNet
from minidl.training import predict

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-xor-"))

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([0.0, 1.0, 1.0, 0.0])

# %% [markdown]
# ## From scratch in NumPy
#
# The backward pass is the chain rule, one step per line of the forward pass. With the sigmoid and the
# binary cross-entropy together, $\partial L / \partial z_i = (p_i - y_i) / N$, and the derivative of
# $\tanh$ is $1 - h^2$.

# %%
H = 4


def init_params(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0, 1, (2, H)), "b1": np.zeros(H), "W2": rng.normal(0, 1, (H, 1)), "b2": np.zeros(1)}


def forward_backward(p: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    h = np.tanh(X @ p["W1"] + p["b1"])
    z = (h @ p["W2"] + p["b2"])[:, 0]
    # log p = -softplus(-z) and log(1 - p) = -softplus(z), written so that no exp overflows
    loss = float(np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)))
    dz = (1 / (1 + np.exp(-z)) - y)[:, None] / len(X)
    dh = dz @ p["W2"].T
    da = dh * (1 - h**2)
    return loss, {"W1": X.T @ da, "b1": da.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}


params = init_params(seed=1)
loss0, grads = forward_backward(params, X, y)
for name in params:  # the hand-written gradients against central differences
    numeric = eval_numerical_gradient(lambda _: forward_backward(params, X, y)[0], params[name], verbose=False)
    print(f"{name}: relative error {rel_error(grads[name], numeric):.2e}")
    assert rel_error(grads[name], numeric) < 1e-7

# %%
LR, STEPS = 0.5, 2000
numpy_params = {k: v.copy() for k, v in params.items()}
numpy_losses = []
for _ in range(STEPS):
    loss, g = forward_backward(numpy_params, X, y)
    numpy_losses.append(loss)
    for k in numpy_params:
        numpy_params[k] -= LR * g[k]
h = np.tanh(X @ numpy_params["W1"] + numpy_params["b1"])
p_numpy = 1 / (1 + np.exp(-(h @ numpy_params["W2"] + numpy_params["b2"])[:, 0]))
print("P(class 1) at the four corners:", np.round(p_numpy, 3), f" loss {numpy_losses[0]:.3f} -> {numpy_losses[-1]:.4f}")
assert np.array_equal(p_numpy > 0.5, y == 1)
assert numpy_losses[-1] < 0.05

# %% [markdown]
# ## The same network in minidl
#
# `nn.Linear` stores its weight as (out, in), PyTorch's layout, so the NumPy matrices go in transposed.
# Started from the same weights and trained with `optim.SGD` at the same learning rate, minidl's autograd
# takes the same 2,000 steps as the hand-written backward pass, to rounding (float64).

# %%
model = nn.Sequential(nn.Linear(2, H), nn.Tanh(), nn.Linear(H, 1)).double()
model.load_state_dict({"0.weight": minidl.from_numpy(params["W1"].T.copy()), "0.bias": minidl.from_numpy(params["b1"]),
                       "2.weight": minidl.from_numpy(params["W2"].T.copy()), "2.bias": minidl.from_numpy(params["b2"])})
loss_fn = nn.BCEWithLogitsLoss()
opt = optim.SGD(model.parameters(), lr=LR)
xt, yt = minidl.from_numpy(X), minidl.from_numpy(y)
minidl_losses = []
for _ in range(STEPS):
    loss = loss_fn(model(xt)[:, 0], yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
    minidl_losses.append(loss.item())
print(f"largest loss difference over {STEPS} steps: {np.max(np.abs(np.subtract(minidl_losses, numpy_losses))):.1e}")
assert np.allclose(minidl_losses, numpy_losses, rtol=1e-9, atol=1e-12)
assert np.allclose(model[0].weight.detach().numpy(), numpy_params["W1"].T, rtol=1e-8, atol=1e-10)

plt.figure(figsize=(6, 3.5))
plt.semilogy(numpy_losses, label="NumPy, backward by hand", lw=3)
plt.semilogy(minidl_losses, "--", label="minidl autograd")
plt.xlabel("step")
plt.ylabel("loss")
plt.legend()
plt.title("The same training run, twice")
plt.show()

# %% [markdown]
# ## What the network learned: a probability surface
#
# `report.plot_decision_boundary(..., surface="probability")` colours every point of the plane by
# $P(\text{class } 1 \mid x)$ and draws the 0.5 contour, the decision boundary. A single hidden layer of four
# tanh units bends the boundary around the two class-0 corners.

# %%
def probabilities(net):
    return lambda pts: minidl.sigmoid(net(minidl.from_numpy(pts.astype(np.float64)))).detach().numpy()[:, 0]


display(Image(report.plot_decision_boundary(probabilities(model), X, y.astype(int), OUT / "xor_surface.png",
                                            surface="probability", xlim=(-0.5, 1.5), ylim=(-0.5, 1.5),
                                            title="XOR, 4 points: P(class 1)")))

# %% [markdown]
# ## Noisy copies of the points
#
# Each corner is copied many times with Gaussian noise of standard deviation $\sigma$ on both coordinates.
# The best possible classifier then still errs: a point lands on the wrong side of $x_k = 0.5$ with
# probability $q = 1 - \Phi(0.5/\sigma)$ per coordinate, and its XOR label flips when exactly one coordinate
# does, so the best accuracy is $1 - 2q(1 - q)$. The zoo's `XORNet` (one tanh hidden layer), trained with
# Adam on the noisy copies, should come close to that bound on fresh noisy points.

# %%
def noisy_copies(copies: int, sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.tile(y.astype(np.int64), copies)
    return np.tile(X, (copies, 1)) + rng.normal(0, sigma, (4 * copies, 2)), labels


COPIES, EPOCHS = (50, 30) if QUICK else (250, 60)
results = {}
for sigma in (0.1, 0.3):
    x_train, y_train = noisy_copies(COPIES, sigma, seed=0)
    x_test, y_test = noisy_copies(1000, sigma, seed=1)
    minidl.manual_seed(0)
    net = XORNet(hidden_dim=8)
    opt = optim.Adam(net.parameters(), lr=0.02)
    loader = minidl.utils.data.DataLoader(minidl.utils.data.TensorDataset(
        minidl.tensor(x_train, dtype=minidl.float32), minidl.tensor(y_train)), batch_size=32, shuffle=True)
    for _ in range(EPOCHS):
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    acc = float(np.mean(predict(net, x_test.astype(np.float32)).argmax(1) == y_test))
    q = 0.5 * math.erfc(0.5 / sigma / math.sqrt(2))  # 1 - Phi(0.5 / sigma)
    results[sigma] = (acc, 1 - 2 * q * (1 - q))
    print(f"sigma {sigma}: test accuracy {100 * acc:.1f}%, best possible {100 * results[sigma][1]:.1f}%")
    display(Image(report.plot_decision_boundary(
        lambda pts, net=net: predict(net, pts.astype(np.float32)), x_train, y_train, OUT / f"xor_noisy_{sigma}.png",
        surface="probability", xlim=(-1, 2), ylim=(-1, 2), title=f"XORNet on noisy copies, sigma = {sigma}")))
for acc, best in results.values():
    assert acc >= best - 0.03
