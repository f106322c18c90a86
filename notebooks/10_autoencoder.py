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
# # 10. An autoencoder of characters, scored by PSNR
#
# An autoencoder learns to squeeze each 32×32 character image through a code of 32 numbers and back:
# 1024 → 32 → **32** → 32 → 1024, a sigmoid on the output so that pixels stay in [0, 1], trained to
# minimise the mean squared error $\frac{1}{1024}\lVert \hat x - x \rVert^2$. The quality of a
# reconstruction is its peak signal-to-noise ratio,
# $\mathrm{PSNR} = 10 \log_{10} \frac{1}{\mathrm{MSE}}$ dB for pixels in [0, 1]: every halving of the error
# adds 3 dB. The course reports 15.7 dB. The images are `SyntheticCharacters`, and the test fonts are fonts
# the network never saw in training.

# %%
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import Image, display

from minidl import cli, report
from minidl.datasets import SyntheticCharacters
from minidl.runs import load_run
from minidl.training import predict

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-autoencoder-"))
OUT.mkdir(parents=True, exist_ok=True)
EPOCHS = 3 if QUICK else 60


def train(activation: str, epochs: int) -> float:
    """One `minidl train` run of the zoo's autoencoder; its test PSNR (dB)."""
    out = OUT / activation
    code = cli.main(["train", "--model", "autoencoder", "--dataset", "synthetic-characters",
                     "--model-arg", "encoder_dims=[32,32]", "--model-arg", f'activation="{activation}"',
                     "--epochs", str(epochs), "--optimizer", "adam", "--lr", "3e-3", "--batch-size", "64",
                     "--no-progress", "--out", str(out)] + (["--train-samples", "2000"] if QUICK else []))
    assert code == 0
    return json.loads((out / "results.json").read_text())["metrics"]["test_psnr_db"]


# %% [markdown]
# ## ReLU or LeakyReLU in a 32-wide layer
#
# With ReLU, a hidden unit whose input is negative for every image outputs 0, receives no gradient, and
# never recovers. In a layer of 32 units each dead one is 1/32 of the code's capacity. LeakyReLU keeps a
# slope of 0.01 below zero, so such a unit still learns.

# %%
psnr = {act: train(act, EPOCHS) for act in ("relu", "leaky_relu")}
print({k: f"{v:.2f} dB" for k, v in psnr.items()})
assert all(v > 8 for v in psnr.values())  # far better than a blank page (about 6 dB on these images)
if not QUICK:
    assert psnr["leaky_relu"] >= 15.7, psnr  # the course's value

# %% [markdown]
# ## Reconstructions of unseen fonts

# %%
run = load_run(OUT / "leaky_relu")
x = SyntheticCharacters("test", n=200 if QUICK else None).arrays()[0]
recon = predict(run.model, x).reshape(x.shape)
per_image = report.psnr(x, recon, 1.0, batch=True)
print(f"mean PSNR over {len(x)} test images: {per_image.mean():.2f} dB (worst {per_image.min():.1f}, best "
      f"{per_image.max():.1f})")
assert np.isfinite(per_image).all()
report.plot_reconstructions(x[:16], recon[:16], OUT / "reconstructions.png", data_range=1.0)
display(Image(filename=str(OUT / "reconstructions.png")))
