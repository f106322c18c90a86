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
# # 6. CIFAR-10: a two-layer net, and a CNN with max or average pooling
#
# CIFAR-10 has 60,000 colour images of 32×32 pixels in ten classes (airplane, automobile, bird, cat, deer,
# dog, frog, horse, ship, truck): 50,000 to train and 10,000 to test. It is much harder than Fashion-MNIST:
# the objects vary in pose, colour, background and scale.
#
# **Getting the data.** `minidl.datasets.CIFAR10(root, train=True, download=True)` downloads the official
# binary release once (about 170 MB, checksum verified) and reads it. This notebook reads the same images
# from JPEG folders (`train/<class>/*.jpg`, `test/<class>/*.jpg`) with `minidl.datasets.ImageFolder`,
# the layout of any image-classification data of your own; set `MINIDL_CIFAR10_JPG` to such a folder, or
# leave it unset to use the official download.

# %%
import os
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import Image, display

import minidl
from minidl import nn, optim, report
from minidl.datasets import CIFAR10, ImageFolder
from minidl.datasets.folder import pil_loader
from minidl.models import TwoLayerNet
from minidl.training import Solver, Trainer, predict
from minidl.utils.data import DataLoader, TensorDataset

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): 200 images per class, 2 epochs
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-cifar-"))
TRAIN_PER_CLASS, TEST_PER_CLASS, EPOCHS = (200, 50, 2) if QUICK else (5000, 1000, 6)

# %%
def jpeg_root() -> Path | None:
    """$MINIDL_CIFAR10_JPG, else the project's shared data folder beside the repository, if present."""
    repo = Path(minidl.__file__).resolve().parents[2]
    for candidate in (os.environ.get("MINIDL_CIFAR10_JPG"), repo.parent / "shared/datasets/cifar10-jpg",
                      "/work/shared/datasets/cifar10-jpg"):
        if candidate and (Path(candidate) / "train").is_dir():
            return Path(candidate)
    return None


def load_split(root: Path | None, train: bool, per_class: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The first ``per_class`` images of every class as uint8 (N, 32, 32, 3) and their labels."""
    if root is None:  # the official binary files, downloaded once
        ds = CIFAR10(train=train, download=True)
        images, labels = ds.data, np.asarray(ds.targets)
        keep = np.concatenate([np.flatnonzero(labels == k)[:per_class] for k in range(10)])
        return images[keep], labels[keep], list(ds.classes)
    folder = ImageFolder(root / ("train" if train else "test"))
    by_class = [[s for s in folder.samples if s[1] == k][:per_class] for k in range(len(folder.classes))]
    chosen = [s for samples in by_class for s in samples]
    images = np.stack([np.asarray(pil_loader(p), dtype=np.uint8) for p, _ in chosen])
    return images, np.array([t for _, t in chosen]), folder.classes


root = jpeg_root()
x_train_u8, y_train, classes = load_split(root, True, TRAIN_PER_CLASS)
x_test_u8, y_test, _ = load_split(root, False, TEST_PER_CLASS)
print(f"{len(x_train_u8)} training and {len(x_test_u8)} test images from {root or 'the official download'}")
first_of_each = x_test_u8[::TEST_PER_CLASS][:10].transpose(0, 3, 1, 2) / 255.0  # one test image per class
minidl.utils.save_image(minidl.from_numpy(first_of_each), OUT / "samples.png", nrow=10, padding=2)
display(Image(filename=str(OUT / "samples.png"), width=640))
print("   ".join(classes))

# %% [markdown]
# Pixels are scaled to $[0, 1]$ and standardised per channel with the training images' mean and standard
# deviation; 10% of the training images are held out for validation.

# %%
x = x_train_u8.transpose(0, 3, 1, 2).astype(np.float32) / 255
mean, std = x.mean(axis=(0, 2, 3), keepdims=True), x.std(axis=(0, 2, 3), keepdims=True)
x = (x - mean) / std
x_test = (x_test_u8.transpose(0, 3, 1, 2).astype(np.float32) / 255 - mean) / std
order = np.random.default_rng(0).permutation(len(x))
val, train = order[: len(x) // 10], order[len(x) // 10:]
print(f"train {x[train].shape}, validation {x[val].shape}, test {x_test.shape}")

# %% [markdown]
# ## The two-layer net
#
# The classic `TwoLayerNet` (affine – ReLU – affine – softmax on the 3,072 pixel values) trained by the `Solver`
# with SGD and momentum. It ignores that pixels have neighbours, which is why it stays far below the CNN.

# %%
minidl.manual_seed(0)
mlp = TwoLayerNet(input_dim=3 * 32 * 32, hidden_dim=200, num_classes=10, weight_scale=1e-2, reg=1e-3,
                  dtype=np.float32)
solver = Solver(mlp, {"X_train": x[train], "y_train": y_train[train], "X_val": x[val], "y_val": y_train[val]},
                update_rule="sgd_momentum", optim_config={"learning_rate": 2e-3}, lr_decay=0.9,
                num_epochs=5 if QUICK else 15, batch_size=100, verbose=False, rng=0)
solver.train()
mlp_acc = float(np.mean(mlp.loss(x_test).argmax(1) == y_test))
print(f"two-layer net: best validation accuracy {solver.best_val_acc:.3f}, test accuracy {mlp_acc:.3f}")
display(Image(report.plot_accuracy(solver.train_acc_history, solver.val_acc_history, OUT / "mlp_acc.png",
                                   title="Two-layer net on CIFAR-10")))
assert mlp_acc > (0.2 if QUICK else 0.45)

# %% [markdown]
# ## A CNN with max pooling against average pooling
#
# conv 3×3 (32) – ReLU – pool – conv 3×3 (64) – ReLU – pool – linear 128 – ReLU – linear 10. The pooling
# halves each side: max pooling keeps the strongest response in each 2×2 window, average pooling their mean.
# Pooling has no parameters, so the two networks have exactly the same parameter count.

# %%
def cnn(pool: type[nn.Module]) -> nn.Sequential:
    minidl.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), pool(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), pool(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 10))


print(minidl.summary(cnn(nn.MaxPool2d), (3, 32, 32)))
counts = {name: sum(p.numel() for p in cnn(pool).parameters()) for name, pool in
          {"max pooling": nn.MaxPool2d, "average pooling": nn.AvgPool2d}.items()}
print(counts)
expected = 3 * 9 * 32 + 32 + 32 * 9 * 64 + 64 + 4096 * 128 + 128 + 1290  # conv1, conv2, fc1, fc2 (10 x 128 + 10)
assert counts["max pooling"] == counts["average pooling"] == expected


def batches(idx: np.ndarray, shuffle: bool) -> DataLoader:
    return DataLoader(TensorDataset(minidl.from_numpy(x[idx]), minidl.from_numpy(y_train[idx])),
                      batch_size=64 if shuffle else 500, shuffle=shuffle)


cnn_acc, histories = {}, {}
for name, pool in {"max pooling": nn.MaxPool2d, "average pooling": nn.AvgPool2d}.items():
    model = cnn(pool)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    histories[name] = Trainer(progress=False, restore_best=True).fit(
        model, batches(train, True), batches(val, False), optimizer=opt, epochs=EPOCHS,
        scheduler=optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS))
    cnn_acc[name] = float(np.mean(predict(model.eval(), x_test).argmax(1) == y_test))
    print(f"{name}: best validation accuracy {max(histories[name]['val_acc']):.3f}, test accuracy {cnn_acc[name]:.3f}")
display(Image(report.plot_curves({n: h.to_dict() for n, h in histories.items()}, OUT / "cnn_val_acc.png", "val_acc",
                                 title="CNN on CIFAR-10: validation accuracy per epoch")))
assert min(cnn_acc.values()) > (0.25 if QUICK else 0.6)
