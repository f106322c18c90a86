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
# # 13. A pretrained SqueezeNet: predicting on your own images, fine-tuning, transfer
#
# minidl's ImageNet models have torchvision's structure and `state_dict` keys, so torchvision's published
# weights load as they are (`.pth` files are read without unpickling code). `minidl predict --model
# squeezenet1_1 --weights DEFAULT photo.jpg` downloads them once (checksum verified) and applies the
# standard preprocessing: resize the short side to 256, crop the centre 224×224, normalise with ImageNet's
# mean and std. Offline, and in CI, a **stand-in** takes their place: a SqueezeNet with random weights saved
# to a local file, so every step below runs the real code on a real file; with `WEIGHTS = "DEFAULT"` (and a
# network) the same cells use the published weights.
#
# Fine-tuning reuses a network trained on one task for another: `--freeze features` keeps the convolutional
# body fixed, `--replace-head N` puts a new N-class output layer on top, and only the head trains.

# %%
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import minidl
from minidl import models

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-squeezenet-"))
OUT.mkdir(parents=True, exist_ok=True)
WEIGHTS = os.environ.get("MINIDL_SQUEEZENET_WEIGHTS")  # a .pth/.safetensors file, or "DEFAULT" to download
EXAMPLES = Path(minidl.__file__).resolve().parents[2] / "examples"


def minidl_cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "minidl", *args], capture_output=True, text=True, cwd=OUT)
    assert done.returncode == 0, done.stderr
    return done.stdout


if WEIGHTS is None:  # the stand-in: torchvision's architecture and keys, random weights, a real file
    minidl.manual_seed(0)
    WEIGHTS = str(OUT / "squeezenet1_1-standin.safetensors")
    minidl.save(models.squeezenet1_1().state_dict(), WEIGHTS)
if WEIGHTS != "DEFAULT":
    digest = hashlib.sha256(Path(WEIGHTS).read_bytes()).hexdigest()
    print(f"weights: {WEIGHTS}\nsha256:  {digest}")

# %% [markdown]
# ## Predicting on images
#
# Your own photos go in a folder; here three generated "photos" of different sizes stand in for them.

# %%
from PIL import Image as PILImage  # noqa: E402

photos = OUT / "photos"
photos.mkdir(exist_ok=True)
rng = np.random.default_rng(0)
for i, (h, w) in enumerate([(300, 400), (256, 256), (480, 270)]):
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([np.sin(6 * xx + i), np.cos(5 * yy - i), xx * yy], -1) * 100 + 128
    PILImage.fromarray(np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)).save(
        photos / f"photo{i}.jpg")
predictions = json.loads(minidl_cli("predict", "--model", "squeezenet1_1", "--weights", WEIGHTS, "photos", "--json"))
for p in predictions:
    print(Path(p["image"]).name, [(t["label"], round(t["probability"], 4)) for t in p["top"][:3]])
assert len(predictions) == 3 and all(len(p["top"]) == 5 for p in predictions)
for p in predictions:  # five classes, most probable first, probabilities of one softmax
    probs = [t["probability"] for t in p["top"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6

# %% [markdown]
# ## Transfer: pretrain on five CIFAR-10 classes, fine-tune the head on the other five
#
# `examples/transfer_cifar10.py` runs the course's demonstration with the `minidl` command: a small CNN
# pretrained on airplane…deer, then only its classifier fine-tuned on dog…truck from 100 images per class,
# against the same network trained from scratch on those 500 images with the same budget.

# %%
sys.path.insert(0, str(EXAMPLES))
import transfer_cifar10  # noqa: E402

source = transfer_cifar10.default_data_root()
if source is None:
    print("CIFAR-10 JPEG folders not found: set MINIDL_CIFAR10_JPG (see examples/transfer_cifar10.py)")
else:
    sizes = dict(pretrain_per_class=60, pretrain_epochs=1, epochs=1, per_class=20, test_per_class=20) if QUICK \
        else dict(pretrain_per_class=5000, pretrain_epochs=8, epochs=3, per_class=100, test_per_class=1000)
    result = transfer_cifar10.transfer_experiment(source, OUT / "transfer", **sizes)
    print({k: f"{100 * v:.1f}%" for k, v in result.items()})
    assert all(0.0 <= v <= 1.0 for v in result.values())
    if not QUICK:
        assert result["transfer_acc"] > result["scratch_acc"], result

# %% [markdown]
# ## Fine-tuning SqueezeNet with a frozen body
#
# The same five classes, now with SqueezeNet: the ImageNet features stay fixed (`--freeze features`), a new
# 5-class head is trained (`--replace-head 5`), on images resized to 96×96. The run's report says what was
# frozen and how many parameters were trained.

# %%
if source is not None:
    print(minidl_cli("train", "--model", "squeezenet1_1", "--dataset", "folder", "--data-root",
                     str(OUT / "transfer" / "classes5-9"), "--init-from", WEIGHTS, "--freeze", "features",
                     "--replace-head", "5", "--image-size", "96", "--epochs", "1" if QUICK else "3",
                     "--batch-size", "32", "--val-split", "0", "--no-progress", "--out", "squeezenet-finetuned"))
    tuned = json.loads((OUT / "squeezenet-finetuned" / "run.json").read_text())["fine_tuning"]
    print({k: tuned[k] for k in list(tuned)[:6]})
    assert (OUT / "squeezenet-finetuned" / "report.html").is_file()
