"""Gaze classification, the course's exercise: a fully connected net, a CNN and a CNN with batch norm, each
trained by the homework ``Solver`` fed from a ``DataLoader`` over a folder of images and a folder of labels.

The eye images come from :class:`minidl.datasets.SyntheticGaze` (36×120 greyscale, 4 gaze quadrants), written
in the course's layout (``Image/00000.png`` ..., ``Label/00000.txt`` ...) and read back with
:class:`minidl.datasets.ImageLabelFolder` (pass ``--data DIR`` to use a folder of real eye images in that
layout instead). The three models are homework models (``params`` + ``loss``):

* FC: ``FullyConnectedNet([256, 64])`` on the 4,320 pixels;
* CNN: ``ConvNet`` with two conv–relu–pool blocks (16 and 32 filters 3×3), a hidden layer of 64, no norm;
* CNN+BN: the same with spatial batch norm after each convolution.

All get the same budget: ``--epochs`` epochs of Adam (lr 1e-3) on batches of 64, He initialisation, float32,
and the validation accuracy of every epoch picks the kept weights; the test split is scored once at the end.

    python examples/gaze.py                    # 6,000 train / 1,500 val / 1,500 test images, 8 epochs
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import minidl
from minidl import report
from minidl.datasets import ImageLabelFolder, SyntheticGaze, write_image_label_folder
from minidl.models import ConvNet, FullyConnectedNet
from minidl.training import Solver
from minidl.utils.data import DataLoader


def folder_split(root: Path, split: str, n: int, seed: int) -> Path:
    ds = SyntheticGaze(split, n=n, seed=seed)
    return write_image_label_folder(ds.data, ds.targets.tolist(), root / split)


def loader(root: Path, shuffle: bool, seed: int) -> DataLoader:
    ds = ImageLabelFolder(root)
    return DataLoader(ds, batch_size=64, shuffle=shuffle, generator=np.random.default_rng(seed) if shuffle else None)


def scores(model, batches) -> tuple[np.ndarray, np.ndarray]:
    preds, ys = [], []
    for x, y in batches:
        preds.append(model.loss(x.numpy()).argmax(axis=1))
        ys.append(y.numpy())
    return np.concatenate(preds), np.concatenate(ys)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="a folder with train/, val/ and test/ sub-folders in the Image/Label layout "
                                  "(default: SyntheticGaze written to a temporary folder)")
    p.add_argument("--n-train", type=int, default=6000)
    p.add_argument("--n-val", type=int, default=1500)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default="fc,cnn,cnn_bn")
    p.add_argument("--out", default="runs/gaze")
    args = p.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.data) if args.data else Path(tmp)
        if not args.data:
            start = time.perf_counter()
            for split, n in (("train", args.n_train), ("val", args.n_val), ("test", args.n_val)):
                folder_split(root, split, n, args.seed)
            print(f"wrote SyntheticGaze as Image/ and Label/ folders in {time.perf_counter() - start:.1f} s",
                  flush=True)
        train, val, test = (loader(root / s, s == "train", args.seed) for s in ("train", "val", "test"))
        classes = train.dataset.classes
        names = ["up-left", "up-right", "down-left", "down-right"] if classes == ["0", "1", "2", "3"] else classes
        print(f"{len(train.dataset)} train / {len(val.dataset)} val / {len(test.dataset)} test images, "
              f"classes {names}")
        f32 = np.float32  # training speed; the float64 default serves the gradient checks
        builders = {
            "fc": lambda: FullyConnectedNet([256, 64], input_dim=36 * 120, num_classes=4,
                                            weight_scale=float(np.sqrt(2.0 / (36 * 120))), dtype=f32),
            "cnn": lambda: ConvNet((1, 36, 120), num_filters=(16, 32), filter_size=3, hidden_dim=64, dtype=f32),
            "cnn_bn": lambda: ConvNet((1, 36, 120), num_filters=(16, 32), filter_size=3, hidden_dim=64,
                                      normalization="batchnorm", dtype=f32),
        }
        results = {}
        for name in args.models.split(","):
            minidl.manual_seed(args.seed)
            model = builders[name]()
            solver = Solver(model, {"train": train, "val": val}, update_rule="adam",
                            optim_config={"learning_rate": 1e-3}, num_epochs=args.epochs, print_every=10**9,
                            num_train_samples=1000, verbose=False)
            start = time.perf_counter()
            solver.train()
            pred, y = scores(model, test)
            results[name] = {"best_val_acc": solver.best_val_acc, "test_acc": float(np.mean(pred == y)),
                             "val_acc_history": solver.val_acc_history, "seconds": time.perf_counter() - start}
            print(f"{name:7s} best val acc {100 * solver.best_val_acc:6.2f}%   test acc "
                  f"{100 * results[name]['test_acc']:6.2f}%   ({results[name]['seconds']:.0f} s)", flush=True)
            if report.plots_available():
                report.plot_per_class_accuracy(y, pred, names, out / f"{name}_per_class_accuracy.png",
                                               title=f"{name}: per-class test accuracy")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    if all(k in results for k in ("fc", "cnn", "cnn_bn")):
        order = [results[k]["test_acc"] for k in ("fc", "cnn", "cnn_bn")]
        verdict = "holds" if order[0] < order[1] < order[2] else "does NOT hold"
        print(f"FC < CNN < CNN+BN on test accuracy: {verdict}")


if __name__ == "__main__":
    main()
