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
# # 9. An MLP from scratch on the 36-class character set
#
# The classic exercise written out with the homework functions of `minidl.layers`: each layer is a pair
# `*_forward(x, ...) -> (out, cache)` and `*_backward(dout, cache) -> grads`. The network is
# 1024 → 64 (sigmoid) → 36 (softmax): $h = \sigma(xW_1 + b_1)$, $s = hW_2 + b_2$, and the loss is the mean
# cross-entropy of $\mathrm{softmax}(s)$. Backward applies the chain rule layer by layer:
# $\partial L/\partial s = (\mathrm{softmax}(s) - \mathrm{onehot}(y))/N$, then through the affine map and
# $\sigma' = \sigma(1 - \sigma)$. Plain minibatch SGD, Xavier initialisation. The images are
# `SyntheticCharacters` (A–Z, 0–9 in many fonts); validation uses fonts the network never saw.
# `examples/char_mlp.py` is the same code as a script, and reads the course's NIST36 `.mat` files too.

# %%
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import Image, display

import minidl
from minidl import layers as L
from minidl import report
from minidl.gradcheck import eval_numerical_gradient, rel_error

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-charmlp-"))
OUT.mkdir(parents=True, exist_ok=True)
sys.path.insert(0, str(Path(minidl.__file__).resolve().parents[2] / "examples"))  # the repository's examples/
import char_mlp  # noqa: E402  (load, init, forward, backward, accuracy: the homework functions composed)

EPOCHS, N_TRAIN = (4, 2000) if QUICK else (50, 10800)
x_train, y_train, x_val, y_val, classes = char_mlp.load("synthetic", None, N_TRAIN, 0)
print(f"{len(x_train)} training and {len(x_val)} validation images of {len(classes)} classes")

# %% [markdown]
# ## A finite-difference check of the whole network
#
# Before training, the analytic gradient of every parameter is compared with central differences
# $\frac{L(\theta + h) - L(\theta - h)}{2h}$ in float64 on a few images.

# %%
rng = np.random.default_rng(0)
params = {}
params["W1"], params["b1"] = char_mlp.init(1024, 64, rng)
params["W2"], params["b2"] = char_mlp.init(64, len(classes), rng)
xs, ys = x_train[:5], y_train[:5]


def loss_of(p: dict) -> float:
    return float(L.softmax_loss(char_mlp.forward(p, xs)[0], ys)[0])


scores, caches = char_mlp.forward(params, xs)
grads = char_mlp.backward(L.softmax_loss(scores, ys)[1], caches)
for name in ("b1", "W2", "b2"):  # W1 has 65,536 entries; b1 checks the same backward path through σ
    numeric = eval_numerical_gradient(lambda _: loss_of(params), params[name], verbose=False)
    print(f"{name}: relative error {rel_error(grads[name], numeric):.2e}")
    assert rel_error(grads[name], numeric) < 1e-6

# %% [markdown]
# ## Training

# %%
lr, batch = 0.5, 32
history = {"train_acc": [], "val_acc": []}
for _ in range(EPOCHS):
    order = rng.permutation(len(x_train))
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        scores, caches = char_mlp.forward(params, x_train[idx])
        _, dscores = L.softmax_loss(scores, y_train[idx])
        for k, g in char_mlp.backward(dscores, caches).items():
            params[k] -= lr * g
    history["train_acc"].append(char_mlp.accuracy(params, x_train, y_train)[0])
    history["val_acc"].append(char_mlp.accuracy(params, x_val, y_val)[0])
val_acc, pred = char_mlp.accuracy(params, x_val, y_val)
print(f"after {EPOCHS} epochs: train {100 * history['train_acc'][-1]:.1f}%, validation {100 * val_acc:.1f}%")
assert val_acc > (0.15 if QUICK else 0.75)  # chance is 1/36; the course's target on unseen fonts: 75%

# %% [markdown]
# ## What the first layer learned, and which characters it confuses
#
# Each of the 64 columns of $W_1$ is a 32×32 image: the pattern its hidden unit responds to.

# %%
report.plot_filters(params["W1"].T, OUT / "weights.png", image_shape=(32, 32), title="The 64 first-layer weights")
report.plot_confusion_matrix(y_val, pred, classes, OUT / "confusion.png")
display(Image(filename=str(OUT / "weights.png")))
display(Image(filename=str(OUT / "confusion.png")))
confusion = report.confusion_matrix(y_val, pred, len(classes))
off = confusion - np.diag(np.diag(confusion))
worst = np.unravel_index(off.argmax(), off.shape)
print(f"most frequent confusion: {classes[worst[0]]} read as {classes[worst[1]]} ({off.max()} times)")
assert confusion.sum() == len(y_val)
