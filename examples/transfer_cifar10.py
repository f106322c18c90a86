"""Transfer learning on CIFAR-10, end to end with the ``minidl`` command.

1. Pretrain a small zoo CNN (``bn_cnn``: three conv blocks with batch norm, then a two-layer classifier) on
   CIFAR-10's classes 0-4 (airplane, automobile, bird, cat, deer).
2. Fine-tune only its classifier on classes 5-9 (dog, frog, horse, ship, truck) with 100 training images per
   class: ``minidl train --init-from PRETRAINED --freeze conv1,bn1,conv2,bn2,conv3,bn3 --replace-head 5``
   (the convolutional body stays fixed; the classifier's first layer starts from the pretrained one, its
   output layer is new).
3. Train the same network from scratch on the same 500 images with the same budget (epochs, batch, optimizer).

The images are the JPEG folders of ``shared/datasets/cifar10-jpg`` (``train/<class>/*.jpg``, ``test/...``);
the two 5-class folders are made of symbolic links in ``--work``. Both 5-class models are tested on the 5,000
test images of classes 5-9 (or ``--test-per-class`` of each). Run it with:

    python examples/transfer_cifar10.py                     # full: 25,000 pretraining images
    python examples/transfer_cifar10.py --pretrain-per-class 600 --pretrain-epochs 3   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from minidl import cli

CLASSES_A, CLASSES_B = slice(0, 5), slice(5, 10)
FROZEN = "conv1,bn1,conv2,bn2,conv3,bn3"


def default_data_root() -> Path | None:
    """``$MINIDL_CIFAR10_JPG``, else ``shared/datasets/cifar10-jpg`` beside this repository or under /work."""
    here = Path(__file__).resolve().parents[1]
    for candidate in (os.environ.get("MINIDL_CIFAR10_JPG"), here.parent / "shared/datasets/cifar10-jpg",
                      "/work/shared/datasets/cifar10-jpg"):
        if candidate and (Path(candidate) / "train").is_dir() and (Path(candidate) / "test").is_dir():
            return Path(candidate)
    return None


def make_subset(source: Path, dest: Path, classes: slice, train_per_class: int, test_per_class: int) -> Path:
    """``dest/{train,test}/<class>/`` linking the first images of the chosen classes (copies where links fail)."""
    if dest.exists():
        shutil.rmtree(dest)
    names = sorted(p.name for p in (source / "train").iterdir() if p.is_dir())[classes]
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for name in names:
            folder = dest / split / name
            folder.mkdir(parents=True)
            for f in sorted((source / split / name).iterdir())[:count]:
                try:
                    os.symlink(f, folder / f.name)
                except OSError:
                    shutil.copy(f, folder / f.name)
    return dest


def train(out: Path, data: Path, epochs: int, extra: list[str], seed: int, batch_size: int) -> float:
    """One ``minidl train`` run; returns its test accuracy."""
    args = ["train", "--model", "bn_cnn", "--dataset", "folder", "--data-root", str(data), "--epochs", str(epochs),
            "--batch-size", str(batch_size), "--seed", str(seed), "--out", str(out), "--no-progress", *extra]
    print("$ minidl " + " ".join(args), flush=True)
    if cli.main(args) != 0:
        raise SystemExit(f"minidl train failed for {out}")
    return float(json.loads((out / "results.json").read_text())["metrics"]["test_acc"])


def transfer_experiment(source: Path, work: Path, pretrain_per_class: int = 5000, pretrain_epochs: int = 8,
                        epochs: int = 3, per_class: int = 100, test_per_class: int = 1000, seed: int = 0,
                        batch_size: int = 32) -> dict[str, float]:
    """Pretrain on classes 0-4, then fine-tune the classifier vs train from scratch on classes 5-9."""
    work.mkdir(parents=True, exist_ok=True)
    a = make_subset(source, work / "classes0-4", CLASSES_A, pretrain_per_class, test_per_class)
    b = make_subset(source, work / "classes5-9", CLASSES_B, per_class, test_per_class)
    runs = work / "runs"
    if runs.exists():
        shutil.rmtree(runs)
    pretrain_acc = train(runs / "pretrain", a, pretrain_epochs, ["--augment"], seed, 64)
    budget = ["--val-split", "0"]
    transfer = train(runs / "finetune", b, epochs, [*budget, "--init-from", str(runs / "pretrain" / "model.npz"),
                                                     "--freeze", FROZEN, "--replace-head", "5"], seed, batch_size)
    scratch = train(runs / "scratch", b, epochs, budget, seed, batch_size)
    return {"pretrain_acc": pretrain_acc, "transfer_acc": transfer, "scratch_acc": scratch}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help="the cifar10-jpg folder (default: found automatically)")
    p.add_argument("--work", type=Path, default=Path("runs/transfer"), help="where subsets and runs go")
    p.add_argument("--pretrain-per-class", type=int, default=5000)
    p.add_argument("--pretrain-epochs", type=int, default=8)
    p.add_argument("--epochs", type=int, default=3, help="the budget of both 5-class runs (default 3)")
    p.add_argument("--test-per-class", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    source = args.data or default_data_root()
    if source is None:
        print("CIFAR-10 JPEG folders not found: pass --data or set $MINIDL_CIFAR10_JPG", file=sys.stderr)
        return 2
    result = transfer_experiment(source, args.work, args.pretrain_per_class, args.pretrain_epochs, args.epochs,
                                 test_per_class=args.test_per_class, seed=args.seed)
    print(f"\npretrained on classes 0-4: test accuracy {100 * result['pretrain_acc']:.1f}%")
    print(f"classes 5-9, 100 images per class, {args.epochs} epochs:")
    print(f"  fine-tuned classifier on the pretrained body: {100 * result['transfer_acc']:.1f}%")
    print(f"  the same network from scratch:                {100 * result['scratch_acc']:.1f}%")
    (args.work / "transfer.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
