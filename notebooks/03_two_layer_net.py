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
# # 3. The two-layer net on the classic API
#
# `minidl.models.TwoLayerNet` is the classic affine – ReLU – affine – softmax classifier with its weights in
# `model.params` (a dict of NumPy arrays) and `model.loss(X, y)` returning `(loss, grads)`. The loss is the mean
# softmax cross-entropy plus the L2 penalty $\frac{\lambda}{2}(\lVert W_1\rVert^2 + \lVert W_2\rVert^2)$;
# its gradients come from minidl's autograd engine. This notebook checks the model against the values
# published with the classic assignment, checks its gradients numerically, trains it with the `Solver`,
# overfits a small sample on purpose, and tunes its hyperparameters with `minidl sweep`.

# %%
import os
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import Image, display

import minidl
from minidl import report, tune
from minidl.datasets import FashionMNIST, FashionMNISTSmall
from minidl.gradcheck import eval_numerical_gradient, rel_error
from minidl.models import TwoLayerNet
from minidl.training import Solver

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-twolayer-"))

# %% [markdown]
# ## The classic reference values
#
# The assignment fixes every weight with `np.linspace` so that anyone's implementation must produce the
# same numbers: scores such as $s_{0,0} = 11.53165108$ and the losses $3.4702243556$ without regularisation
# and $26.5948426952$ with $\lambda = 1$.

# %%
N, D, H, C = 3, 5, 50, 7
model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C)
model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
y = np.asarray([0, 5, 1])

scores = model.loss(X)
print(np.round(scores, 4))
assert abs(scores[0, 0] - 11.53165108) < 1e-8 and abs(scores[2, 6] - 16.2846319) < 1e-8
loss, _ = model.loss(X, y)
model.reg = 1.0
loss_reg, _ = model.loss(X, y)
print(f"loss {loss:.10f} (reference 3.4702243556), with reg = 1: {loss_reg:.10f} (reference 26.5948426952)")
assert abs(loss - 3.4702243556) < 1e-9 and abs(loss_reg - 26.5948426952) < 1e-9

# %% [markdown]
# ## Gradients
#
# Every parameter's gradient against central differences, in float64 (the model's default dtype), with and
# without regularisation.

# %%
rng = np.random.default_rng(231)
X_small, y_small = rng.standard_normal((3, 5)), rng.integers(7, size=3)
for reg in (0.0, 0.7):
    minidl.manual_seed(0)
    net = TwoLayerNet(input_dim=5, hidden_dim=50, num_classes=7, weight_scale=1e-1, reg=reg)
    _, grads = net.loss(X_small, y_small)
    for name in sorted(net.params):
        numeric = eval_numerical_gradient(lambda _, net=net: net.loss(X_small, y_small)[0], net.params[name], verbose=False)
        err = rel_error(grads[name], numeric)
        print(f"reg {reg}: {name} relative error {err:.2e}")
        assert err < 1e-7

# %% [markdown]
# ## Training with the Solver
#
# The data is Fashion-MNIST: Debian's full set (60,000 training images) where installed, else the 6,000-image
# subset that ships with minidl. 5,000 training images are held out for validation. Pixels are in $[0, 1]$;
# we subtract the training mean. The `Solver` runs minibatch SGD with momentum, decays the learning rate
# after every epoch, records the loss of every iteration and the accuracies of every epoch, and keeps the
# weights of the best validation epoch.

# %%
def load_fashion_mnist() -> dict[str, np.ndarray]:
    try:
        train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    except Exception:  # not installed and not downloadable: the embedded subset
        train, test = FashionMNISTSmall(train=True), FashionMNISTSmall(train=False)
    (x, y), (x_test, y_test) = train.arrays(), test.arrays()
    x, x_test = x.reshape(len(x), -1).astype(np.float64), x_test.reshape(len(x_test), -1).astype(np.float64)
    if QUICK:
        x, y = x[:5000], y[:5000]
    n_val = 1000 if QUICK else 5000
    mean = x[n_val:].mean(axis=0)
    return {"X_train": x[n_val:] - mean, "y_train": y[n_val:], "X_val": x[:n_val] - mean, "y_val": y[:n_val],
            "X_test": x_test - mean, "y_test": y_test}


data = load_fashion_mnist()
print({k: v.shape for k, v in data.items()})

# %%
minidl.manual_seed(0)
model = TwoLayerNet(input_dim=784, hidden_dim=100 if QUICK else 200, num_classes=10, weight_scale=5e-2, reg=1e-4)
solver = Solver(model, data, update_rule="sgd_momentum", optim_config={"learning_rate": 0.05}, lr_decay=0.9,
                num_epochs=5 if QUICK else 15, batch_size=100, print_every=10**9, rng=0)
solver.train()
test_acc = float(np.mean(model.loss(data["X_test"]).argmax(1) == data["y_test"]))
print(f"best validation accuracy {solver.best_val_acc:.4f}, test accuracy {test_acc:.4f}")
display(Image(report.plot_loss(solver.loss_history, OUT / "loss.png")))
display(Image(report.plot_accuracy(solver.train_acc_history, solver.val_acc_history, OUT / "accuracy.png")))
assert solver.loss_history[-1] < solver.loss_history[0]
assert test_acc > (0.75 if QUICK else 0.87)

# %% [markdown]
# ## Overfitting 200 samples
#
# A network that can fit anything should fit 200 images exactly when nothing stops it. Training accuracy
# reaches 100% while validation accuracy stays far lower: the gap is what overfitting looks like.

# %%
small = {"X_train": data["X_train"][:200], "y_train": data["y_train"][:200],
         "X_val": data["X_val"], "y_val": data["y_val"]}
minidl.manual_seed(0)
overfit = TwoLayerNet(input_dim=784, hidden_dim=100, num_classes=10, weight_scale=5e-2)
solver_small = Solver(overfit, small, update_rule="sgd_momentum", optim_config={"learning_rate": 0.05},
                      num_epochs=50, batch_size=50, print_every=10**9, verbose=False, rng=0)
solver_small.train()
print(f"training accuracy {solver_small.train_acc_history[-1]:.3f} after {len(solver_small.train_acc_history) - 1} "
      f"epochs, best validation accuracy {solver_small.best_val_acc:.3f}")
display(Image(report.plot_accuracy(solver_small.train_acc_history, solver_small.val_acc_history,
                                   OUT / "overfit.png", title="200 training samples")))
assert solver_small.train_acc_history[-1] == 1.0 and solver_small.best_val_acc < 0.9

# %% [markdown]
# ## Tuning with `minidl sweep`
#
# `minidl.tune.sweep` (the `minidl sweep` command in Python) runs every trial as a `minidl train` run on
# Ray Tune: here the same two-layer architecture as the zoo's `mlp` with one hidden layer, with random
# search over the hidden size, the L2 strength and the learning rate. It returns the trials best first,
# and writes the curves of every trial and a plot of the metric against each hyperparameter. The same
# sweep from a shell: `minidl sweep examples/sweeps/two_layer_net.toml`.

# %%
spec = {
    "name": "two_layer_net", "metric": "val_acc", "num_samples": 3 if QUICK else 12, "search": "random",
    "search_seed": 0,
    "base": {"model": "mlp", "dataset": "embedded", "epochs": 1 if QUICK else 6, "batch_size": 50,
             "optimizer": "momentum", "scheduler": "cosine", "seed": 0, **({"train_samples": 1000} if QUICK else {})},
    "space": {"model_args.hidden_dims": {"choice": [[50], [100], [200]]}, "reg": {"loguniform": [1e-5, 1e-2]},
              "lr": {"loguniform": [1e-3, 3e-1]}},
    "resources": {"cpus": 1},
}
table = tune.sweep(spec, out=OUT / "sweep")
columns = ["rank", "final_val_acc", "best_val_acc", "test_acc", "lr", "reg", "model_args.hidden_dims"]
print(table[columns].to_string(index=False))
sweep_dir = Path(table.attrs["sweep_dir"])
display(Image(sweep_dir / "curves.png"))
display(Image(sweep_dir / "hyperparameters.png"))
assert len(table) == spec["num_samples"]
assert list(table["final_val_acc"]) == sorted(table["final_val_acc"], reverse=True)  # ranked by the metric
assert table["final_val_acc"].iloc[0] > (0.6 if QUICK else 0.8)
