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
# # 5. Convolutional networks on Fashion-MNIST
#
# Fashion-MNIST: 70,000 grey 28×28 images of ten kinds of clothing (60,000 to train, 10,000 to test). We
# train two classic convolutional networks from minidl's model zoo, each with and without batch
# normalisation, written exactly as in PyTorch (`nn.Sequential` of `nn.Conv2d`, `nn.MaxPool2d`, ...):
#
# * **LeNet-5**: conv 5×5 (6) – ReLU – max pool – conv 5×5 (16) – ReLU – max pool – linear 120 – linear 10;
# * **the strided CNN**: downsampling by stride-2 convolutions and an average pool, LeakyReLU activations.
#
# A convolution slides each filter $w$ over the image: $\text{out}[f, i, j] = b_f + \sum_{c, u, v}
# w[f, c, u, v]\, x[c, i\,s + u, j\,s + v]$ for stride $s$. Batch normalisation after a convolution
# standardises each channel over the batch and the image positions.
#
# Then we look inside the best model: its first-layer filters, its confusion matrix, and the images it gets
# wrong.

# %%
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
from IPython.display import Image, display

import minidl
from minidl import nn, optim, report
from minidl.datasets import FashionMNIST, FashionMNISTSmall
from minidl.models import LeNet5, StridedCNN
from minidl.training import Trainer, predict
from minidl.utils.data import DataLoader, TensorDataset

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): 3,000 images of the embedded subset, 2 epochs
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-cnn-"))
EPOCHS = 2 if QUICK else 10

# %% [markdown]
# ## The data
#
# The full set is read from Debian's `dataset-fashion-mnist` package (`/usr/share/datasets/fashion-mnist`),
# `$MINIDL_DATA`, or downloaded once with its checksums verified. The quick mode uses the 6,000-image subset
# that ships inside minidl. 10% of the training images are held out for validation; images are
# standardised with the training set's mean and standard deviation.

# %%
if QUICK:
    train_set, test_set = FashionMNISTSmall(train=True), FashionMNISTSmall(train=False)
else:
    train_set, test_set = FashionMNIST(train=True, download=True), FashionMNIST(train=False, download=True)
classes = train_set.classes
(x, y), (x_test, y_test) = train_set.arrays(), test_set.arrays()
if QUICK:
    x, y = x[:3000], y[:3000]
n_val = len(x) // 10
mu, sigma = float(x[n_val:].mean()), float(x[n_val:].std())
x_train, y_train, x_val, y_val = (x[n_val:] - mu) / sigma, y[n_val:], (x[:n_val] - mu) / sigma, y[:n_val]
x_test_std = (x_test - mu) / sigma
print(f"{len(x_train)} training, {len(x_val)} validation, {len(x_test)} test images of {x.shape[1:]}; {classes}")

# %% [markdown]
# ## The models
#
# `with_batch_norm` puts a `BatchNorm2d` after every convolution of a zoo model (the convolution's bias
# then becomes redundant, as the norm subtracts the channel mean, but it does no harm).
# `minidl.summary` prints torchsummary's table: every layer's output shape and parameter count.

# %%
def with_batch_norm(model: nn.Sequential) -> nn.Sequential:
    layers = OrderedDict()
    for name, layer in model.named_children():
        layers[name] = layer
        if isinstance(layer, nn.Conv2d):
            layers[f"{name}_bn"] = nn.BatchNorm2d(layer.out_channels)
    return nn.Sequential(layers)


def build(name: str) -> nn.Module:
    minidl.manual_seed(0)
    base = LeNet5() if name.startswith("LeNet-5") else StridedCNN()
    return with_batch_norm(base) if name.endswith("batch norm") else base


names = ["LeNet-5", "LeNet-5 + batch norm", "strided CNN", "strided CNN + batch norm"]
print(minidl.summary(build("LeNet-5"), (1, 28, 28)))
params = {n: sum(p.numel() for p in build(n).parameters()) for n in names}
for n, count in params.items():
    print(f"{n:>26}: {count:,} parameters")
assert params["LeNet-5"] == 34_622  # 6·25+6 + 16·6·25+16 + 256·120+120 + 120·10+10
assert params["LeNet-5 + batch norm"] == 34_622 + 2 * (6 + 16)  # gamma and beta per channel

# %% [markdown]
# ## Training
#
# Adam with a learning rate of $2 \cdot 10^{-3}$ (`examples/train_fashion_mnist.py`'s default for batches of 64;
# $10^{-3}$ gave LeNet-5 89.5% here) decayed along a cosine over the run, batches of 64, and the weights
# of the best validation epoch kept (`Trainer(restore_best=True)`).

# %%
def loader(xs, ys, shuffle=False):
    return DataLoader(TensorDataset(minidl.from_numpy(xs), minidl.from_numpy(ys)), batch_size=64 if shuffle else 500,
                      shuffle=shuffle)


models, histories, test_acc = {}, {}, {}
for n in names:
    model = build(n)
    opt = optim.Adam(model.parameters(), lr=2e-3)
    trainer = Trainer(progress=False, restore_best=True)
    histories[n] = trainer.fit(model, loader(x_train, y_train, shuffle=True), loader(x_val, y_val), optimizer=opt,
                               scheduler=optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS), epochs=EPOCHS)
    models[n] = model.eval()
    test_acc[n] = float(np.mean(predict(model, x_test_std).argmax(1) == y_test))
    print(f"{n:>26}: best validation accuracy {max(histories[n]['val_acc']):.4f}, test accuracy {test_acc[n]:.4f}")

display(Image(report.plot_curves({n: h.to_dict() for n, h in histories.items()}, OUT / "val_acc.png", "val_acc",
                                 title="Validation accuracy per epoch")))
display(Image(report.plot_curves({n: h.to_dict() for n, h in histories.items()}, OUT / "loss.png", "loss",
                                 title="Training loss")))
assert test_acc["LeNet-5"] >= (0.65 if QUICK else 0.896)

# %% [markdown]
# ## Inside the best model
#
# The first layer's filters are 5×5 (LeNet-5) or 3×3 (strided CNN) patterns the network matches against every
# patch of the image: mostly edge and blob detectors. The confusion matrix shows which classes are confused
# (shirts with T-shirts, pullovers and coats), and the misclassified images show why.

# %%
best = max(test_acc, key=test_acc.get)
model = models[best]
pred = predict(model, x_test_std).argmax(1)
print(f"best model: {best}, test accuracy {test_acc[best]:.4f}")
first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
display(Image(report.plot_filters(first_conv.weight.detach().numpy(), OUT / "filters.png",
                                  title=f"{best}: first-layer filters")))
display(Image(report.plot_confusion_matrix(y_test, pred, classes, OUT / "confusion.png")))
display(Image(report.plot_misclassified(x_test, y_test, pred, classes, OUT / "misclassified.png")))
cm = report.confusion_matrix(y_test, pred, 10)
assert cm.sum() == len(y_test) and np.trace(cm) / cm.sum() == test_acc[best]
worst_class = classes[int(np.argmin(report.per_class_accuracy(cm)))]
print(f"hardest class: {worst_class}")
assert worst_class == "Shirt" or QUICK
