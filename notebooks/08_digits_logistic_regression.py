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
# # 8. Logistic regression on handwritten digits
#
# Multinomial logistic regression is a single linear layer followed by the softmax:
# $P(y = k \mid x) = e^{s_k} / \sum_j e^{s_j}$ with scores $s = W x + b$. Trained on the cross-entropy
# $-\log P(y \mid x)$, its gradient is $\partial L/\partial s = \mathrm{softmax}(s) - \text{onehot}(y)$, and the
# loss is convex in $W, b$: there is one minimum, and the learning rate decides only how fast (or whether) we
# get there.
#
# The data: scikit-learn's 1,797 handwritten digits, 8×8 pixels with 17 grey levels (`minidl.datasets.Digits`,
# the `digits` extra), split 80/20 per class. We compare learning rates, look at the digits the model gets
# wrong, and solve the two-class variant: is the digit even or odd?

# %%
import os
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import Image, display

import minidl
import minidl.nn.functional as F
from minidl import optim, report
from minidl.datasets import Digits
from minidl.models import LogisticRegression
from minidl.training import predict
from minidl.utils.data import DataLoader, TensorDataset

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): fewer epochs and learning rates, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-digits-"))
EPOCHS = 5 if QUICK else 30

train_set, test_set = Digits(train=True), Digits(train=False)
(x_train, y_train), (x_test, y_test) = train_set.arrays(), test_set.arrays()
print(f"{len(x_train)} training and {len(x_test)} test digits of shape {x_train.shape[1:]}, pixels in [0, 1]")

# %% [markdown]
# ## Learning rates compared
#
# Plain minibatch SGD (batches of 32) for the same budget of epochs at every learning rate. Too small and
# the loss hardly moves in the budget; large enough and it converges; the convexity of the loss keeps even
# large rates from diverging here (the pixels are small), but they make the loss noisy.

# %%
def fit(targets: np.ndarray, num_classes: int, lr: float, epochs: int = EPOCHS):
    """A LogisticRegression trained with SGD; returns the model and the loss of every iteration."""
    minidl.manual_seed(0)
    model = LogisticRegression(64, num_classes)
    opt = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(minidl.from_numpy(x_train), minidl.from_numpy(targets)), batch_size=32,
                        shuffle=True, generator=minidl.Generator().manual_seed(0))
    losses = []
    for _ in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return model, losses


rates = [1e-3, 1e-2, 1e-1, 1.0] if QUICK else [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
runs, accuracy = {}, {}
for lr in rates:
    model, losses = fit(y_train, 10, lr)
    runs[lr] = (model, losses)
    accuracy[lr] = float(np.mean(predict(model, x_test).argmax(1) == y_test))
    print(f"lr {lr:<7g} loss {losses[0]:.3f} -> {np.mean(losses[-20:]):.3f}   test accuracy {100 * accuracy[lr]:.1f}%")
display(Image(report.plot_curves({f"lr {lr:g}": {"loss": l} for lr, (_, l) in runs.items()}, OUT / "lr_loss.png",
                                 "loss", logy=True, title=f"Training loss, {EPOCHS} epochs at each learning rate")))
best_lr = max(accuracy, key=accuracy.get)
losses_by_lr = [np.mean(runs[lr][1][-20:]) for lr in rates[:-1]]
assert all(a > b for a, b in zip(losses_by_lr, losses_by_lr[1:], strict=False))  # up to 0.1, a larger rate gets further
assert accuracy[best_lr] > (0.9 if QUICK else 0.95)

# %% [markdown]
# An independent check: scikit-learn's own `LogisticRegression` (L-BFGS, a small L2 penalty) on the same
# split reaches about the same accuracy as our SGD-trained model.

# %%
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402

sk = SkLogisticRegression(max_iter=2000).fit(x_train.reshape(len(x_train), -1), y_train)
sk_acc = sk.score(x_test.reshape(len(x_test), -1), y_test)
print(f"scikit-learn: {100 * sk_acc:.1f}%, minidl at lr {best_lr:g}: {100 * accuracy[best_lr]:.1f}%")
assert abs(sk_acc - accuracy[best_lr]) < (0.06 if QUICK else 0.03)

# %% [markdown]
# ## The misclassified digits
#
# Up to 10 misclassified test digits of every class, each titled with the model's wrong answer. Most are
# digits a person would hesitate over too, at 8×8 pixels.

# %%
model = runs[best_lr][0]
pred = predict(model, x_test).argmax(1)
display(Image(report.plot_misclassified_per_class(x_test, y_test, pred, train_set.classes, OUT / "misclassified.png",
                                                  k=10)))
display(Image(report.plot_confusion_matrix(y_test, pred, train_set.classes, OUT / "confusion.png")))
wrong = np.flatnonzero(pred != y_test)
print(f"{len(wrong)} of {len(y_test)} test digits misclassified")
assert len(wrong) == round((1 - accuracy[best_lr]) * len(y_test))

# %% [markdown]
# The learned weights $W$ (10 × 64) are one 8×8 template per class: the score of class $k$ is the dot product
# of the image with template $k$. Positive weights (bright) are where that digit has ink and the others
# do not.

# %%
display(Image(report.plot_filters(model.fc.weight.detach().numpy().reshape(10, 1, 8, 8), OUT / "templates.png",
                                  title="The 10 class templates (rows of W)")))

# %% [markdown]
# ## Even or odd
#
# The same model with two outputs, trained on the labels $y \bmod 2$. This is the classic two-class
# logistic regression: with two scores, $P(\text{odd} \mid x) = \sigma(s_1 - s_0)$. Parity is not a linear
# function of the pixels, however: the two classes are unions of five digit shapes each, so one linear
# boundary separates them less well than ten templates separate the digits.

# %%
parity_model, parity_losses = fit(y_train % 2, 2, best_lr)
parity_acc = float(np.mean(predict(parity_model, x_test).argmax(1) == y_test % 2))
via_digits = float(np.mean(pred % 2 == y_test % 2))  # parity read off the 10-class model's answer
print(f"even/odd: {100 * parity_acc:.1f}% directly, {100 * via_digits:.1f}% from the 10-class model's digit")
display(Image(report.plot_confusion_matrix(y_test % 2, predict(parity_model, x_test).argmax(1), ["even", "odd"],
                                           OUT / "parity_confusion.png")))
assert parity_acc > 0.8 and via_digits > parity_acc
