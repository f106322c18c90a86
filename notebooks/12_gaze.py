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
# # 12. Gaze classification: a fully connected net, a CNN, and a CNN with batch norm
#
# Eye-region images (36×120 greyscale) labelled with the quadrant the eye looks at: up-left, up-right,
# down-left, down-right. The data arrives as the course's folders, `Image/00000.png …` and
# `Label/00000.txt …`, read by `ImageLabelFolder` and batched by a `DataLoader` that feeds the homework
# `Solver`. Three homework models get the same budget (Adam 1e-3, batches of 64): a fully connected net on the
# 4,320 pixels, a CNN (two conv–ReLU–pool blocks), and the same CNN with spatial batch norm after each
# convolution. The expected order: the CNNs beat the fully connected net (they share weights across
# positions, so a pupil is recognised wherever it is), and batch norm helps the CNN train in the budget.
# `SyntheticGaze` draws the eyes; `examples/gaze.py --data DIR` takes a folder of real ones.

# %%
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from IPython.display import Image, display

import minidl

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-gaze-"))
EXAMPLE = Path(minidl.__file__).resolve().parents[2] / "examples" / "gaze.py"
sizes = ["--n-train", "300", "--n-val", "100", "--epochs", "1"] if QUICK else []

# %%
done = subprocess.run([sys.executable, str(EXAMPLE), *sizes, "--out", str(OUT)], capture_output=True, text=True)
print(done.stdout)
assert done.returncode == 0, done.stderr
results = json.loads((OUT / "results.json").read_text())
test = {name: r["test_acc"] for name, r in results.items()}
assert set(test) == {"fc", "cnn", "cnn_bn"} and all(0.0 <= acc <= 1.0 for acc in test.values())
if not QUICK:  # full size (6,000 images, 8 epochs); quick mode only checks that everything runs
    assert 0.25 < test["fc"] < test["cnn"] < test["cnn_bn"], test

# %%
display(Image(filename=str(OUT / "cnn_bn_per_class_accuracy.png")))
