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
# # 4. Fully connected nets of any depth: optimizers, batch norm, dropout
#
# `minidl.models.FullyConnectedNet(hidden_dims)` stacks {affine – [batch norm] – ReLU – [dropout]} for every
# hidden layer and ends with an affine layer and the softmax loss. This notebook checks its gradients in
# every configuration, makes a deep net memorise a few samples, compares the update rules (SGD, SGD with
# momentum, RMSProp, Adam), and shows what batch normalisation and dropout change.
#
# The update rules, for a weight $w$ with gradient $g$ and learning rate $\eta$:
#
# * SGD: $w \leftarrow w - \eta g$
# * momentum: $v \leftarrow \mu v - \eta g$, $w \leftarrow w + v$
# * RMSProp: $c \leftarrow \rho c + (1 - \rho) g^2$, $w \leftarrow w - \eta g / (\sqrt{c} + \epsilon)$
# * Adam: $m \leftarrow \beta_1 m + (1 - \beta_1) g$, $v \leftarrow \beta_2 v + (1 - \beta_2) g^2$, then
#   $w \leftarrow w - \eta \hat m / (\sqrt{\hat v} + \epsilon)$ with the bias-corrected $\hat m = m/(1 - \beta_1^t)$,
#   $\hat v = v / (1 - \beta_2^t)$.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import minidl
from minidl import report
from minidl.datasets import FashionMNISTSmall
from minidl.gradcheck import eval_numerical_gradient, scaled_error
from minidl.models import FullyConnectedNet
from minidl.training import Solver

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-fcnet-"))
EPOCHS = 2 if QUICK else 8

# %% [markdown]
# ## Gradient checks
#
# A three-layer net in float64, plain, with batch norm, with layer norm and with dropout (a fixed `seed`
# makes every call draw the same dropout masks, so the loss is a deterministic function of the weights).
# The error is measured against each gradient's own scale, $\max|a - n| / \max(|a|, |n|)$: the elementwise
# relative error blows up on entries that are nearly zero, where central differences carry rounding noise.
# (Not every dropout seed is checkable: when all of a unit's inputs are dropped, its pre-activation is its bias,
# exactly 0 here, the ReLU's kink, where a central difference straddles two slopes.)

# %%
rng = np.random.default_rng(0)
X, y = rng.standard_normal((6, 8)), rng.integers(10, size=6)
configs = {"plain, reg 0": {}, "plain, reg 3.14": {"reg": 3.14}, "batch norm": {"normalization": "batchnorm"},
           "layer norm": {"normalization": "layernorm"}, "dropout 0.5": {"dropout_keep_ratio": 0.5, "seed": 1}}
def grad_error(net, name: str, grads) -> float:
    """Scaled error of one parameter's gradient; a gradient that is zero on both sides counts as exact (the
    biases before a batch norm: subtracting the batch mean removes them from the loss)."""
    numeric = eval_numerical_gradient(lambda _: net.loss(X, y)[0], net.params[name], verbose=False)
    if max(np.abs(numeric).max(), np.abs(grads[name]).max()) < 1e-12:
        return 0.0
    return scaled_error(grads[name], numeric)


for label, kwargs in configs.items():
    minidl.manual_seed(0)
    net = FullyConnectedNet([10, 12], input_dim=8, num_classes=10, weight_scale=5e-2, **kwargs)
    _, grads = net.loss(X, y)
    worst = max(grad_error(net, k, grads) for k in net.params)
    print(f"{label:>16}: worst relative error {worst:.1e} over {len(net.params)} parameters")
    assert worst < 1e-6

# %% [markdown]
# ## The data
#
# The 6,000-image Fashion-MNIST subset that ships with minidl: 4,000 images to train on, 1,000 to
# validate, and 1,000 to test. Images are flattened to 784 values and centred.

# %%
(x_all, y_all), (x_test, y_test) = FashionMNISTSmall(train=True).arrays(), FashionMNISTSmall(train=False).arrays()
x_all, x_test = x_all.reshape(len(x_all), -1), x_test.reshape(len(x_test), -1)
mean = x_all[1000:].mean(0)
data = {"X_train": x_all[1000:] - mean, "y_train": y_all[1000:], "X_val": x_all[:1000] - mean, "y_val": y_all[:1000]}
x_test = x_test - mean


def train(hidden, rule, lr, epochs=EPOCHS, subset=None, batch_size=100, **model_kwargs):
    """A FullyConnectedNet trained by the Solver (float32, batches of 100); returns the solver."""
    d = data if subset is None else {**data, "X_train": data["X_train"][:subset], "y_train": data["y_train"][:subset]}
    minidl.manual_seed(0)
    model = FullyConnectedNet(hidden, input_dim=784, num_classes=10, dtype=np.float32, **model_kwargs)
    solver = Solver(model, d, update_rule=rule, optim_config={"learning_rate": lr}, num_epochs=epochs,
                    batch_size=batch_size, verbose=False, rng=0)
    solver.train()
    return solver


# %% [markdown]
# ## A deep net memorises 50 samples
#
# Five hidden layers of 100 units. Deep plain nets are sensitive to the weight scale: too small and the
# signal fades layer by layer, too large and it explodes. With a suitable scale, 50 samples are memorised.

# %%
memorise = train([100] * 5, "sgd", lr=0.05, epochs=40, subset=50, batch_size=10, weight_scale=0.1)
print(f"training accuracy on 50 samples after 40 epochs: {memorise.train_acc_history[-1]:.2f}")
assert memorise.train_acc_history[-1] == 1.0

# %% [markdown]
# ## Update rules compared
#
# The same five-layer net, the same initial weights and batches, four update rules, each with a learning rate
# that suits it. Momentum, RMSProp and Adam bring the loss down much faster than plain SGD.

# %%
rules = {"sgd": 0.02, "sgd_momentum": 0.02, "rmsprop": 1e-4, "adam": 1e-3}
solvers = {rule: train([100] * 5, rule, lr, weight_scale=0.1) for rule, lr in rules.items()}
display(Image(report.plot_curves({r: {"loss": s.loss_history} for r, s in solvers.items()}, OUT / "rules_loss.png",
                                 "loss", title="Training loss per iteration")))
display(Image(report.plot_curves({r: {"val_acc": s.val_acc_history} for r, s in solvers.items()},
                                 OUT / "rules_acc.png", "val_acc", title="Validation accuracy per epoch")))
final = {r: float(np.mean(s.loss_history[-40:])) for r, s in solvers.items()}
for r, s in solvers.items():
    print(f"{r:>13}: final training loss {final[r]:.3f}, best validation accuracy {s.best_val_acc:.3f}")
assert all(final[r] < final["sgd"] for r in ("sgd_momentum", "rmsprop", "adam"))

# %% [markdown]
# ## Batch normalisation
#
# Batch norm standardises every hidden unit over the batch, $\hat h = (h - \mu_B)/\sqrt{\sigma_B^2 + \epsilon}$,
# then scales and shifts it with learned $\gamma, \beta$; at test time it uses running averages of
# $\mu_B, \sigma_B^2$. The activations then keep their scale whatever the weights' scale, so training depends
# far less on the initialisation. Below, the same deep net with and without batch norm, for weight scales
# spread over three orders of magnitude.

# %%
scales = [1e-3, 1e-2, 1e-1] if QUICK else list(np.logspace(-3, 0, 7))
best = {"plain": [], "batch norm": []}
for scale in scales:
    best["plain"].append(train([50] * 5, "adam", 1e-3, weight_scale=scale).best_val_acc)
    best["batch norm"].append(train([50] * 5, "adam", 1e-3, weight_scale=scale, normalization="batchnorm").best_val_acc)
    print(f"weight scale {scale:.0e}: plain {best['plain'][-1]:.3f}, batch norm {best['batch norm'][-1]:.3f}")
plt.figure(figsize=(6, 3.5))
for label, accs in best.items():
    plt.semilogx(scales, accs, "o-", label=label)
plt.xlabel("weight scale")
plt.ylabel("best validation accuracy")
plt.legend()
plt.show()
assert all(b >= p for b, p in zip(best["batch norm"], best["plain"], strict=True))
assert np.ptp(best["batch norm"]) < np.ptp(best["plain"])  # far less sensitive to the weight scale

# %% [markdown]
# ## Dropout
#
# Dropout keeps each hidden unit with probability $p$ during training and scales the kept ones by $1/p$
# (so nothing changes at test time). On only 500 training images, the net without dropout fits the
# training set far better than it generalises; dropout narrows that gap.

# %%
gaps = {}
for keep in (1.0, 0.5):
    s = train([256, 256], "adam", 1e-3, epochs=30, subset=500, batch_size=50, dropout_keep_ratio=keep)
    gaps[keep] = s.train_acc_history[-1] - s.val_acc_history[-1]
    print(f"keep ratio {keep}: train accuracy {s.train_acc_history[-1]:.3f}, validation {s.val_acc_history[-1]:.3f},"
          f" gap {gaps[keep]:.3f}")
assert gaps[0.5] < gaps[1.0]
