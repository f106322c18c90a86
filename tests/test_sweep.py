"""Sweeps on a real local Ray (one Ray for the module): a 4-trial sweep whose table, CSV, best config and
report are checked against the trials' own run directories, and whose best config retrains to the same
metrics; ASHA stopping weak trials early; PBT restarting trials from better ones with new learning rates.
Skipped without Ray (the `sweep` extra); the `test` extra installs it."""

from __future__ import annotations

import csv
import html.parser
import json
import logging
import math
import signal
from pathlib import Path

import pytest

import minidl.tune
from minidl import cli
from minidl.runs import load_config_file

ray = pytest.importorskip("ray")
pytest.importorskip("ray.tune")
pytest.importorskip("matplotlib")

LOGREG = {"model": "mlp", "model_args": {"hidden_dims": []}, "optimizer": "sgd", "train_samples": 512}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray with two CPUs for every sweep here (run_sweep uses a Ray that is already running)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level=logging.WARNING)
    yield
    ray.shutdown()


def read_json(path: Path):
    return json.loads(path.read_text())


def trial_dirs(sweep_dir: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted((sweep_dir / "trials").iterdir())}


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a["src"])
        if tag == "a":
            self.links.append(a["href"])


# ============================================================================================ 4 trials
def test_four_trial_sweep_ranks_trials_and_its_best_config_retrains_the_same(tmp_path):
    from threadpoolctl import threadpool_limits

    spec = {"name": "lr", "base": {**LOGREG, "epochs": 1},
            "space": {"lr": {"grid": [0.3, 0.1, 0.01, 0.001]}}}
    handler = signal.getsignal(signal.SIGINT)
    frame = minidl.tune.sweep(spec, out=tmp_path / "lr")
    assert signal.getsignal(signal.SIGINT) is handler  # Ray Tune's own Ctrl-C handler does not outlive the sweep
    sweep_dir = Path(frame.attrs["sweep_dir"])
    assert sweep_dir == tmp_path / "lr"
    rows = frame.to_dict("records")

    # the oracle: each trial's own run directory, as `minidl train` wrote it
    runs = trial_dirs(sweep_dir)
    assert len(runs) == 4 == len(rows)
    truth = {}
    for tid, run in runs.items():
        config, results, history = (read_json(run / f) for f in ("config.json", "results.json", "history.json"))
        assert read_json(run / "trial.json")["blas_threads"] == 1  # pinned to the trial's 1 CPU
        assert (run / "report.html").is_file()
        truth[tid] = {"lr": config["lr"], "val_acc": history["metrics"]["val_acc"][-1],
                      "test_acc": results["metrics"]["test_acc"], "epochs": results["metrics"]["epochs"]}
    assert sorted(t["lr"] for t in truth.values()) == [0.001, 0.01, 0.1, 0.3]
    order = sorted(truth, key=lambda t: -truth[t]["val_acc"])
    assert [r["trial"] for r in rows] == order  # best first
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    for r in rows:
        t = truth[r["trial"]]
        assert (r["lr"], r["final_val_acc"], r["best_val_acc"], r["test_acc"], r["epochs"], r["status"]) == \
            (t["lr"], t["val_acc"], t["val_acc"], t["test_acc"], 1, "finished")

    # the CSV holds the same table
    with open(sweep_dir / "results.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["trial"] for r in table] == order
    assert [float(r["final_val_acc"]) for r in table] == [truth[t]["val_acc"] for t in order]
    assert {"lr", "final_val_loss", "best_val_loss", "final_train_loss", "test_loss", "run_dir", "report"} <= set(table[0])

    # the best config is the best trial's, ready for `minidl train`, and retrains to the same numbers (one BLAS
    # thread as in the trial: float32 sums in another order differ in the last digits)
    best = runs[order[0]]
    best_cfg = read_json(best / "config.json")
    assert load_config_file(sweep_dir / "best_config.toml") == {
        k: v for k, v in best_cfg.items() if k != "out" and v is not None}
    with threadpool_limits(1):
        assert cli.main(["train", "--config", str(sweep_dir / "best_config.toml"), "--out", str(tmp_path / "again"),
                         "--no-progress"]) == 0
    again = read_json(tmp_path / "again" / "results.json")["metrics"]
    trial = read_json(best / "results.json")["metrics"]
    for key in ("final_val_acc", "final_val_loss", "test_acc", "test_loss", "final_train_loss"):
        assert again[key] == trial[key], key

    # the report: self-contained HTML with both figures inlined, linking every trial's report
    page = Links()
    page.feed((sweep_dir / "sweep.html").read_text())
    assert len(page.images) == 2 and all(src.startswith("data:image/png;base64,") for src in page.images)
    assert sorted(page.links) == sorted(f"trials/{t}/report.html" for t in runs)
    assert all((sweep_dir / link).is_file() for link in page.links)
    md = (sweep_dir / "sweep.md").read_text()
    assert "![" in md and "(curves.png)" in md and "(hyperparameters.png)" in md
    assert f"[{order[0].replace('_', chr(92) + '_')}](trials/{order[0]}/report.html)" in md
    from matplotlib.image import imread

    assert imread(sweep_dir / "curves.png").shape[:2] == (500, 800)
    assert imread(sweep_dir / "hyperparameters.png").shape[:2] == (400, 640)
    state = read_json(sweep_dir / "sweep.json")
    assert len(state["sessions"]) == 1 and state["sessions"][0]["seconds"] > 0


# ============================================================================================ ASHA
def test_asha_stops_weak_trials_early_and_still_reports_them(tmp_path, capsys):
    pytest.importorskip("yaml")
    (tmp_path / "asha.yaml").write_text(
        "name: asha\n"
        "base: {model: mlp, model_args: {hidden_dims: []}, optimizer: sgd, train_samples: 512, epochs: 3}\n"
        # the grid runs in this order: the weak rates come last and meet the strong ones' results at the rungs
        "space: {lr: {grid: [0.3, 0.1, 0.003, 0.0003]}}\n"
        "scheduler: {type: asha, grace_period: 1, reduction_factor: 2}\n")
    assert cli.main(["sweep", str(tmp_path / "asha.yaml"), "--out", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "stopped early by the scheduler after 1 epoch" in out
    with open(tmp_path / "s" / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    stopped = [r for r in rows if r["status"] == "stopped early"]
    finished = [r for r in rows if r["status"] == "finished"]
    assert stopped and finished and len(stopped) + len(finished) == 4
    assert rows[0]["status"] == "finished" and rows[0]["epochs"] == "3"
    assert {r["lr"] for r in stopped} >= {"0.003", "0.0003"}  # worse than the trials before them at epoch 1
    for r in stopped:
        run = tmp_path / "s" / r["run_dir"]
        results = read_json(run / "results.json")["metrics"]
        history = read_json(run / "history.json")
        assert results["epochs"] == len(history["metrics"]["val_acc"]) == int(r["epochs"]) < 3
        assert (run / "report.html").is_file()  # a normal run directory, written from its last checkpoint
        assert float(r["final_val_acc"]) == history["metrics"]["val_acc"][-1]
    assert "stopped early by the ASHA scheduler" in (tmp_path / "s" / "sweep.md").read_text()


# ============================================================================================ PBT
def test_pbt_restarts_weak_trials_from_strong_ones_with_new_values(tmp_path):
    spec = {"name": "pbt", "base": {**LOGREG, "optimizer": "momentum", "scheduler": "none", "epochs": 3},
            "space": {"lr": {"grid": [0.1, 1e-4]}},
            # synch: both trials meet at every epoch, so the weaker one is restarted whatever the timing
            "scheduler": {"type": "pbt", "perturbation_interval": 1, "quantile_fraction": 0.5, "synch": True,
                          "resample_probability": 1.0, "mutations": {"lr": {"choice": [0.05, 0.02]}}}}
    result = minidl.tune.run_sweep(spec, out=tmp_path / "pbt")
    runs = trial_dirs(result.sweep_dir)
    exploited = {}
    for tid, run in runs.items():
        source = read_json(run / "trial.json")["resumed_from"]
        if source is not None and source["trial_id"] != tid:
            exploited[tid] = source
    assert exploited, "no trial was restarted from another's checkpoint"
    for tid, source in exploited.items():
        run = runs[tid]
        lrs = read_json(run / "history.json")["metrics"]["lr"]
        lr = read_json(run / "config.json")["lr"]
        assert lr in (0.05, 0.02)  # resampled from the mutations
        # the epochs after the restart train with the trial's new rate (no schedule: the rate itself)
        assert all(math.isclose(v, lr) for v in lrs[source["epoch"]:]), (lrs, lr, source)
        assert len(lrs) == 3 and (run / "report.html").is_file()
    assert all(r["status"] == "finished" for r in result.rows)
