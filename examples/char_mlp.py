"""The course's character MLP from scratch: 1024 → 64 (sigmoid) → 36 (softmax), trained with the homework layer
functions and plain minibatch SGD, on SyntheticCharacters (validation fonts never seen in training) or on the
real NIST36 ``.mat`` files.

Everything is the homework API of :mod:`minidl.layers` written out: ``fc_forward``/``fc_backward``,
``sigmoid_forward``/``sigmoid_backward``, ``softmax_loss``, and ``w -= lr * dw``; weights are initialised
as the course does, uniform in ±sqrt(6 / (fan_in + fan_out)) (Xavier), biases zero. It prints the train and
validation accuracy per epoch and writes the curves, the 64 learned first-layer weights as 32×32 images and
the validation confusion matrix to ``--out``.

Examples::

    python examples/char_mlp.py                              # SyntheticCharacters, 50 epochs
    python examples/char_mlp.py --data nist36 --root ~/data  # the course's nist36_{train,valid}.mat
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from minidl import layers as L
from minidl import report
from minidl.datasets import NIST36, SyntheticCharacters


def load(data: str, root: str | None, n_train: int, seed: int) -> tuple[np.ndarray, ...]:
    """Flat float64 rows (N, 1024) in [0, 1] and int labels, for the train and validation splits."""
    if data == "nist36":
        train, val = NIST36(root, "train"), NIST36(root, "val")
    else:
        train = SyntheticCharacters("train", n=n_train, seed=seed)
        val = SyntheticCharacters("val", seed=seed)
    xs = [ds.arrays()[0].reshape(len(ds), -1).astype(np.float64) for ds in (train, val)]
    return xs[0], train.targets, xs[1], val.targets, train.classes


def init(fan_in: int, fan_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out)), np.zeros(fan_out)


def forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, tuple]:
    h_pre, c1 = L.fc_forward(x, params["W1"], params["b1"])
    h, c2 = L.sigmoid_forward(h_pre)
    scores, c3 = L.fc_forward(h, params["W2"], params["b2"])
    return scores, (c1, c2, c3)


def backward(dscores: np.ndarray, caches: tuple) -> dict[str, np.ndarray]:
    c1, c2, c3 = caches
    dh, dW2, db2 = L.fc_backward(dscores, c3)
    dx, dW1, db1 = L.fc_backward(L.sigmoid_backward(dh, c2), c1)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def accuracy(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    pred = forward(params, x)[0].argmax(axis=1)
    return float(np.mean(pred == y)), pred


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", choices=("synthetic", "nist36"), default="synthetic")
    p.add_argument("--root", help="folder of the nist36_*.mat files (with --data nist36)")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.5, help="SGD step on the batch-mean loss (default 0.5)")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--n-train", type=int, default=10800, help="synthetic training images (default 10,800)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/char_mlp")
    args = p.parse_args()

    rng = np.random.default_rng(args.seed)
    x_train, y_train, x_val, y_val, classes = load(args.data, args.root, args.n_train, args.seed)
    print(f"{args.data}: {len(x_train)} training images, {len(x_val)} validation images (unseen fonts for "
          f"synthetic), {len(classes)} classes")
    params = {}
    params["W1"], params["b1"] = init(x_train.shape[1], args.hidden, rng)
    params["W2"], params["b2"] = init(args.hidden, len(classes), rng)
    history: dict[str, list[float]] = {"loss": [], "train_acc": [], "val_acc": [], "train_loss": []}
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(x_train))
        losses = []
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            scores, caches = forward(params, x_train[idx])
            loss, dscores = L.softmax_loss(scores, y_train[idx])
            grads = backward(dscores, caches)
            for k in params:
                params[k] -= args.lr * grads[k]
            losses.append(float(loss))
        history["loss"] += losses
        history["train_loss"].append(float(np.mean(losses)))
        history["train_acc"].append(accuracy(params, x_train, y_train)[0])
        history["val_acc"].append(accuracy(params, x_val, y_val)[0])
        print(f"epoch {epoch:3d}  loss {np.mean(losses):.4f}  train acc {100 * history['train_acc'][-1]:.2f}%  "
              f"val acc {100 * history['val_acc'][-1]:.2f}%")
    elapsed = time.perf_counter() - start
    val_acc, pred = accuracy(params, x_val, y_val)
    print(f"final validation accuracy {100 * val_acc:.2f}% (best {100 * max(history['val_acc']):.2f}%), "
          f"{elapsed:.1f} s")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"val_acc": val_acc, "best_val_acc": max(history["val_acc"]),
                                                  "epochs": args.epochs, "seconds": elapsed}, indent=2))
    if report.plots_available():
        report.plot_history(history, out)
        report.plot_filters(params["W1"].T, out / "first_layer_weights.png", image_shape=(32, 32),
                            title=f"The {args.hidden} first-layer weights as 32x32 images")
        report.plot_confusion_matrix(y_val, pred, classes, out / "confusion_matrix.png")
        report.plot_per_class_accuracy(y_val, pred, classes, out / "per_class_accuracy.png")
        print(f"figures in {out}")


if __name__ == "__main__":
    main()
