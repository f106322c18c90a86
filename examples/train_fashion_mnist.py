"""Train a model of the minidl zoo on the full Fashion-MNIST (60,000 train / 10,000 test images).

Examples::

    python examples/train_fashion_mnist.py --model lenet5 --optimizer adam --epochs 10
    python examples/train_fashion_mnist.py --model bn_cnn --optimizer adam --epochs 12 --augment
    python examples/train_fashion_mnist.py --model mlp --optimizer sgd --lr 0.05 --epochs 5 --no-progress
    python examples/train_fashion_mnist.py --model lenet5 --epochs 10 --checkpoint run.npz   # Ctrl-C, then
    python examples/train_fashion_mnist.py --model lenet5 --epochs 10 --checkpoint run.npz --resume run.npz

The data is found on disk (``/usr/share/datasets/fashion-mnist``, ``$MINIDL_DATA``, ``~/.cache/minidl``) or
downloaded with ``--download``. Inputs are standardised with the training set's mean and std; ``--augment``
adds random 2-pixel shifts and horizontal flips. The learning rate follows a cosine schedule by default.
The test set is evaluated after every epoch for monitoring only: the reported test accuracy is that of the
final weights (no selection of the best epoch on the test set).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import minidl
from minidl import models, optim
from minidl.datasets import FashionMNIST
from minidl.optim import lr_scheduler
from minidl.training import ModelCheckpoint, ProgressBar, Trainer, evaluate
from minidl.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor
from minidl.utils.data import DataLoader

#: mean and standard deviation of the Fashion-MNIST training pixels (in [0, 1])
MEAN, STD = 0.2860, 0.3530
#: learning rates that work with batch 64 and the cosine schedule
DEFAULT_LR = {"adam": 2e-3, "adamw": 2e-3, "rmsprop": 1e-3, "sgd": 0.05}


def build_optimizer(name: str, params, lr: float, weight_decay: float) -> optim.Optimizer:
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


def build_scheduler(name: str, opt: optim.Optimizer, epochs: int):
    if name == "none":
        return None
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    if name == "step":
        return lr_scheduler.StepLR(opt, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "plateau":
        return lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.3, patience=1)
    raise ValueError(f"unknown scheduler {name!r}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="lenet5", choices=models.list_models(), help="zoo model (default lenet5)")
    p.add_argument("--optimizer", default="adam", choices=["adam", "adamw", "sgd", "rmsprop"])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=None, help="default: 2e-3 (adam, adamw), 1e-3 (rmsprop), 0.05 (sgd)")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--scheduler", default="cosine", choices=["cosine", "step", "plateau", "none"])
    p.add_argument("--augment", action="store_true", help="random 2-pixel shifts and horizontal flips")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=None, help="folder to look for (or download) the dataset first")
    p.add_argument("--download", action="store_true", help="download the dataset if it is not found")
    p.add_argument("--subset", type=int, default=None, help="train on the first N images only (quick runs)")
    p.add_argument("--checkpoint", default=None, help="checkpoint file rewritten after every epoch")
    p.add_argument("--resume", default=None, help="checkpoint to continue from (same arguments otherwise)")
    p.add_argument("--save-best", default=None, help="also keep the checkpoint of the best test-loss epoch here")
    p.add_argument("--history", default=None, help="write the training history as JSON to this file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar, only one line per epoch")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    minidl.manual_seed(args.seed)
    normalize = [ToTensor(), Normalize((MEAN,), (STD,))]
    augment = [RandomCrop(28, padding=2), RandomHorizontalFlip()] if args.augment else []
    train_set = FashionMNIST(args.root, train=True, transform=Compose(normalize + augment), download=args.download)
    test_set = FashionMNIST(args.root, train=False, transform=Compose(normalize), download=args.download)
    if args.subset is not None:
        train_set = minidl.utils.data.Subset(train_set, range(args.subset))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=np.random.default_rng(args.seed))
    test_loader = DataLoader(test_set, batch_size=1000)

    model = models.get(args.model)
    n_params = sum(p.numel() for p in model.parameters())
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    opt = build_optimizer(args.optimizer, model.parameters(), lr, args.weight_decay)
    sched = build_scheduler(args.scheduler, opt, args.epochs)
    print(f"{args.model}: {n_params:,} parameters; {args.optimizer} lr {lr:g}, {args.scheduler} schedule, "
          f"batch {args.batch_size}, {args.epochs} epochs, augment={args.augment}, "
          f"{len(train_set):,} train / {len(test_set):,} test images", flush=True)

    callbacks = []
    if args.save_best:
        callbacks.append(ModelCheckpoint(args.save_best, monitor="val_loss", save_best_only=True))
    run_config = {k: v for k, v in vars(args).items() if k not in ("resume", "checkpoint", "no_progress")}
    trainer = Trainer(progress=not args.no_progress, monitor="val_acc", config=run_config)
    if args.no_progress:  # no bar, but keep the per-epoch summary lines
        callbacks.append(ProgressBar(log_every=None, use_tqdm=False, file=sys.stdout))
    start = time.perf_counter()
    history = trainer.fit(model, train_loader, test_loader, optimizer=opt, scheduler=sched, epochs=args.epochs,
                          callbacks=callbacks, resume=args.resume, checkpoint=args.checkpoint)
    elapsed = time.perf_counter() - start
    final = evaluate(model, test_loader)
    if args.history:
        Path(args.history).write_text(history.to_json(indent=1))
    best = history.best_value if history.best_value is not None else float("nan")
    print(f"test accuracy: {final['acc']:.4f} (test loss {final['loss']:.4f}) after {history.epochs} epochs, "
          f"{elapsed / 60:.1f} min; best epoch {(history.best_epoch or 0) + 1} had {best:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
