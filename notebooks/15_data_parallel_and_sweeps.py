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
# # 15. Data-parallel training and a sweep, with their reports
#
# Two ways to use more than one core. **Data parallelism** trains *one* model faster: N processes each take
# $B/N$ samples of every global batch of $B$, compute their gradients, and average them with an MPI
# allreduce, so every process takes the same step
# $\theta \leftarrow \theta - \eta \cdot \tfrac{1}{N}\sum_k \nabla L_k(\theta)$, which is the gradient of the
# mean loss over all $B$ samples. `minidl train --procs N` starts the processes under `mpiexec`. A **sweep**
# trains *many* models at once, one trial per core, on Ray Tune. Both write ordinary run directories with
# their reports.

# %%
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-parallel-"))
OUT.mkdir(parents=True, exist_ok=True)
EPOCHS = 1 if QUICK else 5


def minidl_cli(*args: str) -> str:
    """Run the `minidl` command as a user would, in this notebook's folder; its printed output."""
    done = subprocess.run([sys.executable, "-m", "minidl", *args], capture_output=True, text=True, cwd=OUT)
    assert done.returncode == 0, done.stderr
    return done.stdout


# %% [markdown]
# ## One process, then two
#
# The same run twice: LeNet-5 on the embedded Fashion-MNIST subset, global batch 64. With `--procs 2`, each
# process trains on 32 samples of each batch and batch norm would be synchronised across them. Both runs draw
# the same global batches (a permutation per epoch from the seed), so they should end at the same weights,
# up to the order in which float32 sums are taken.

# %%
common = ["train", "--model", "lenet5", "--epochs", str(EPOCHS), "--batch-size", "64", "--no-progress"]
print(minidl_cli(*common, "--out", "one"))
print(minidl_cli(*common, "--out", "two", "--procs", "2"))

# %%
results = {name: json.loads((OUT / name / "results.json").read_text())["metrics"] for name in ("one", "two")}
with np.load(OUT / "one" / "model.npz") as a, np.load(OUT / "two" / "model.npz") as b:
    largest = max(float(np.abs(a[k] - b[k]).max()) for k in a.files)
print(f"test accuracy: 1 process {100 * results['one']['test_acc']:.2f}%, 2 processes "
      f"{100 * results['two']['test_acc']:.2f}%; largest weight difference {largest:.1e}")
print("run.json of the 2-process run records", {k: json.loads((OUT / "two" / "run.json").read_text())[k]
                                                for k in ("world_size", "global_batch_size")})
assert abs(results["one"]["test_acc"] - results["two"]["test_acc"]) <= 0.003
assert largest < 1e-3

# %% [markdown]
# The report of the 2-process run says how it was trained:

# %%
report = (OUT / "two" / "report.md").read_text()
print(next(line for line in report.splitlines() if "data-parallel" in line))

# %% [markdown]
# ## A sweep on Ray Tune
#
# The course's learning-rate sweep of a softmax classifier: each trial is a `minidl train` run; the sweep
# ranks them and writes a report with the curves of every trial.

# %%
spec = {
    "name": "lr", "metric": "val_acc", "search": "grid",
    "base": {"model": "mlp", "model_args": {"hidden_dims": []}, "dataset": "embedded", "epochs": EPOCHS,
             "batch_size": 25, "scheduler": "none", "train_samples": 1000 if QUICK else None},
    "space": {"lr": {"grid": [1e-4, 1e-1] if QUICK else [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]}},
    "resources": {"cpus": 1},
}
spec["base"] = {k: v for k, v in spec["base"].items() if v is not None}
(OUT / "lr.json").write_text(json.dumps(spec))
print(minidl_cli("sweep", "lr.json", "--out", "sweep"))

# %%
import csv  # noqa: E402

rows = list(csv.DictReader((OUT / "sweep" / "results.csv").open()))  # best first
best = rows[0]
print("trials, best first:", [{k: r[k] for k in ("rank", "lr", "final_val_acc")} for r in rows])
assert best["rank"] == "1" and float(best["final_val_acc"]) >= max(float(r["final_val_acc"]) for r in rows)
# too small a rate does not learn in the budget: the smallest ranks last (the best is 1e-3 at full size, and
# the larger of the quick mode's two rates)
assert min(rows, key=lambda r: float(r["lr"]))["rank"] == str(len(rows))
assert (OUT / "sweep" / "sweep.html").is_file()
