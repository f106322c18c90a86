"""The course's character autoencoder: 1024 → 32 → 32 → 32 → 1024 (sigmoid output), trained to reconstruct
SyntheticCharacters with the mean squared error, scored by PSNR on fonts it never saw.

It is an ordinary ``minidl train`` run of the zoo's ``autoencoder`` (``encoder_dims=[32,32]``: encoder 1024 →
32 → 32, decoder mirrored 32 → 32 → 1024, sigmoid), so the run directory holds the curves, the
reconstructions figure and a report stating the test PSNR, and ``minidl eval RUN_DIR`` prints it again.

The hidden activation is LeakyReLU (slope 0.01) rather than ReLU. With only 32 units per hidden layer, a
ReLU unit that stops firing on every image gets no gradient and stays dead, and each one lost is a
thirty-second of the layer: measured here (Adam 3e-3, batch 64), ReLU reaches 13.9 dB after 30 epochs and
14.6 dB after 100, LeakyReLU 16.3 dB and 17.8 dB (ELU 15.3 and 15.8, tanh 10.9 after 30); ``--activation relu``
runs the ReLU version.
This script then also scores the validation split (the validation fonts): PSNR = 10 log10(1 / MSE) per
image (pixels in [0, 1]), averaged over the images.

    python examples/char_autoencoder.py --epochs 60 --out runs/char_autoencoder   # 17.1 dB test, 16.5 dB val
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from minidl import cli, report
from minidl.datasets import SyntheticCharacters
from minidl.runs import load_run
from minidl.training import predict


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--activation", default="leaky_relu", help="hidden activation (default leaky_relu)")
    p.add_argument("--out", default="runs/char_autoencoder")
    args = p.parse_args()
    out = Path(args.out)
    if (out / "config.json").exists():
        shutil.rmtree(out)
    code = cli.main(["train", "--model", "autoencoder", "--dataset", "synthetic-characters",
                     "--model-arg", "encoder_dims=[32,32]", "--model-arg", f'activation="{args.activation}"',
                     "--epochs", str(args.epochs), "--optimizer", "adam",
                     "--lr", str(args.lr), "--batch-size", "64", "--seed", str(args.seed), "--no-progress",
                     "--out", str(out)])
    if code:
        raise SystemExit(code)
    test_psnr = json.loads((out / "results.json").read_text())["metrics"]["test_psnr_db"]
    run = load_run(out)
    x = SyntheticCharacters("val", seed=args.seed).arrays()[0]
    recon = predict(run.model, x).reshape(x.shape)
    val_psnr = float(np.mean(report.psnr(x, recon, 1.0, batch=True)))
    print(f"mean PSNR: {test_psnr:.2f} dB on the test fonts, {val_psnr:.2f} dB on the validation fonts "
          f"({len(x)} images)")
    (out / "psnr.json").write_text(json.dumps({"test_psnr_db": test_psnr, "val_psnr_db": val_psnr}, indent=2))
    if report.plots_available():
        report.plot_reconstructions(x, recon, out / "val_reconstructions.png", data_range=1.0)


if __name__ == "__main__":
    main()
