"""Logistic regression on handwritten digits, the course's exercise: a learning-rate sweep, the misclassified
test digits (10 per class), and the decision boundary of XOR with noisy points as a probability surface.

* Digits: :class:`minidl.datasets.Digits` (scikit-learn's 1,797 real 8×8 digits, offline), 80/20 stratified
  split. The model is the zoo's ``LogisticRegression`` (flatten – linear 64 → 10, softmax cross-entropy),
  trained with plain minibatch SGD (batch 32) for a fixed budget of ``--epochs`` epochs at each learning
  rate of the sweep; pixels are v / 16 in [0, 1].
* XOR: :func:`minidl.datasets.make_xor` with Gaussian noise on the points; a logistic regression (linear,
  so it cannot separate XOR) and the zoo's ``XORNet`` (one tanh hidden layer), drawn as P(class 1 | x) over
  fixed axes [-1.5, 1.5]².

    python examples/digits_logreg.py --out runs/digits
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import minidl
import minidl.nn.functional as F
from minidl import optim, report
from minidl.datasets import Digits, make_xor
from minidl.models import LogisticRegression, XORNet
from minidl.training import predict


def train(model, x: np.ndarray, y: np.ndarray, lr: float, epochs: int, batch: int, seed: int,
          optimizer: str = "sgd") -> list[float]:
    """Minibatch training with cross-entropy; returns the loss of every iteration."""
    rng = np.random.default_rng(seed)
    opt = optim.SGD(model.parameters(), lr=lr) if optimizer == "sgd" else optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(minidl.tensor(x[idx])), minidl.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
    return losses


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=20, help="the budget of every run of the sweep")
    p.add_argument("--lrs", default="1e-5,1e-4,1e-3,1e-2,1e-1,1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/digits")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    train_ds, test_ds = Digits(train=True), Digits(train=False)
    (x_train, y_train), (x_test, y_test) = train_ds.arrays(), test_ds.arrays()
    print(f"Digits: {len(x_train)} train / {len(x_test)} test images (8x8)")
    results, histories, models = {}, {}, {}
    for lr in [float(v) for v in args.lrs.split(",")]:
        minidl.manual_seed(args.seed)
        model = LogisticRegression(64, 10)
        losses = train(model, x_train, y_train, lr, args.epochs, 32, args.seed)
        acc = float(np.mean(predict(model, x_test).argmax(axis=1) == y_test))
        results[lr] = {"test_acc": acc, "first_loss": losses[0], "final_loss": float(np.mean(losses[-10:]))}
        histories[f"lr {lr:g}"] = {"loss": losses}
        models[lr] = model
        print(f"lr {lr:<8g} test accuracy {100 * acc:6.2f}%   loss {losses[0]:.3f} -> {results[lr]['final_loss']:.3f}")
    best = max(results, key=lambda k: results[k]["test_acc"])
    print(f"best learning rate {best:g}: {100 * results[best]['test_acc']:.2f}% test accuracy")
    pred = predict(models[best], x_test).argmax(axis=1)

    # XOR with noisy points
    minidl.manual_seed(args.seed)
    x_xor, y_xor = make_xor(400, noise=0.15, generator=args.seed)
    xor_models = {"logistic regression": LogisticRegression(2, 2), "XORNet (tanh hidden layer of 4)": XORNet()}
    xor_acc = {}
    for name, m in xor_models.items():
        train(m, x_xor, y_xor, 0.05, 200, 32, args.seed, optimizer="adam")
        xor_acc[name] = float(np.mean(predict(m, x_xor).argmax(axis=1) == y_xor))
        print(f"XOR, {name}: training accuracy {100 * xor_acc[name]:.1f}%")
    (out / "results.json").write_text(json.dumps({"sweep": {str(k): v for k, v in results.items()},
                                                  "best_lr": best, "xor_train_acc": xor_acc}, indent=2))
    if report.plots_available():
        report.plot_curves(histories, out / "lr_sweep_loss.png", "loss", logy=True,
                           title=f"Learning-rate sweep: training loss over the same budget ({args.epochs} epochs)")
        report.plot_misclassified_per_class(x_test, y_test, pred, test_ds.classes, out / "misclassified.png", k=10)
        report.plot_per_class_accuracy(y_test, pred, test_ds.classes, out / "per_class_accuracy.png")
        for i, (name, m) in enumerate(xor_models.items()):
            report.plot_decision_boundary(lambda pts, m=m: predict(m, pts), x_xor, y_xor,
                                          out / f"xor_boundary_{i}.png", surface="probability",
                                          xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), title=f"XOR: {name}")
        print(f"figures in {out}")


if __name__ == "__main__":
    main()
