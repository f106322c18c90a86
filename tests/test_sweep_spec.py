"""minidl.tune without Ray: the sweep spec and its one-line errors, trial configs, the results table, the
optimizer settings a PBT restart applies, the message when Ray is missing, and that nothing else in minidl
imports Ray. (Sweeps on a real Ray: tests/test_sweep.py and tests/test_sweep_resume.py.)"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from minidl import cli
from minidl.errors import ConfigError
from minidl.runs import load_config_file, resolve, train_run
from minidl.runs.config import RunConfig
from minidl.training import Callback, History
from minidl.tune.results import TrialRecord, load_trial, table_rows
from minidl.tune.spec import Domain, load_spec, parse_spec, trial_config
from minidl.tune.trial import ApplyHyperparameters, decode_params, encode_value

BASE = {"model": "mlp", "epochs": 2, "optimizer": "sgd", "model_args": {"hidden_dims": []}}
SPACE = {"lr": {"loguniform": [1e-4, 1e-1]}, "batch_size": {"grid": [16, 32, 64]}}


def spec(**changes):
    data = {"base": dict(BASE), "space": dict(SPACE), "num_samples": 2}
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


# ============================================================================================ valid specs
def test_a_spec_is_checked_into_a_sweep_spec_that_round_trips():
    s = parse_spec(spec(name="lr", scheduler={"type": "asha", "grace_period": 2}, resources={"cpus": 2}))
    assert s.space == {"lr": Domain("loguniform", (1e-4, 1e-1)), "batch_size": Domain("grid", (16, 32, 64))}
    assert (s.metric, s.mode, s.search, s.rank_by, s.cpus) == ("val_acc", "max", "random", "final", 2.0)
    assert s.scheduler.options == {"grace_period": 2, "reduction_factor": 2.0, "brackets": 1}  # defaults filled in
    assert s.num_trials() == 2 * 3  # num_samples times the grid
    assert s.tuned == ["lr", "batch_size"] and s.log_scaled == ["lr"]
    again = parse_spec(json.loads(json.dumps(s.to_dict())))
    assert again == s
    assert parse_spec(spec(metric="val_loss")).mode == "min"  # the mode follows the metric


def test_spec_files_in_toml_yaml_and_json_with_a_base_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text('model = "mlp"\nepochs = 2\noptimizer = "sgd"\ndata_root = "data"\n'
                                       "[model_args]\nhidden_dims = []\n")
    (tmp_path / "s.toml").write_text(textwrap.dedent("""
        base = "run.toml"
        num_samples = 2
        [space]
        lr = { loguniform = [1e-4, 0.1] }
        batch_size = { grid = [16, 32, 64] }
        """))
    yaml = pytest.importorskip("yaml")
    data = {"base": "run.toml", "num_samples": 2, "space": SPACE}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "s.json").write_text(json.dumps(data))
    specs = [load_spec(tmp_path / f"s.{ext}") for ext in ("toml", "yaml", "json")]
    assert specs[0] == specs[1] == specs[2]
    assert specs[0].name == "s"  # the file's name unless the spec names itself
    # a relative data_root is the one `minidl train` in this directory would use; trials run elsewhere
    assert specs[0].base["data_root"] == str(tmp_path / "data")


def test_trial_configs_resolve_like_minidl_train():
    s = parse_spec(spec(space={"optimizer": {"choice": ["sgd", "adam"]}, "model_args.hidden_dims": {"grid": [[8]]}},
                        base={**BASE, "momentum": 0.9}))
    sgd = trial_config(s, {"optimizer": "sgd", "model_args.hidden_dims": [8]}, "/tmp/x")
    adam = trial_config(s, {"optimizer": "adam", "model_args.hidden_dims": [8]}, "/tmp/x")
    assert (sgd.momentum, sgd.lr, sgd.model_args, sgd.out) == (0.9, 0.01, {"hidden_dims": [8]}, "/tmp/x")
    # the base's momentum does not apply to the trials that drew Adam: dropped, as resolve() drops defaults
    assert (adam.momentum, adam.betas, adam.lr) == (None, [0.9, 0.999], 3e-3)
    assert sgd == resolve({**BASE, "momentum": 0.9, "model_args": {"hidden_dims": [8]}, "out": "/tmp/x"})


def test_ray_values_travel_as_plain_python():
    assert encode_value([50, 50]) == "json:[50, 50]" and encode_value(0.1) == 0.1
    decoded = decode_params({"a": encode_value([50, 50]), "b": np.int64(3), "c": np.float64(0.5), "d": "sgd"})
    assert decoded == {"a": [50, 50], "b": 3, "c": 0.5, "d": "sgd"}
    assert type(decoded["b"]) is int and type(decoded["c"]) is float


# ============================================================================================ spec errors
@pytest.mark.parametrize("changes, message", [
    ({"num_sample": 4}, "unknown key num_sample (did you mean 'num_samples'?)"),
    ({"space": {"lrr": {"loguniform": [1e-4, 1e-1]}}}, "space.lrr: unknown option 'lrr' (did you mean 'lr'?)"),
    ({"space": {"lr": {"loguniforn": [1e-4, 1e-1]}}}, "space.lr: unknown domain 'loguniforn' (did you mean 'loguniform'?)"),
    ({"space": {"lr": 0.1}}, "space.lr: expected a table with one domain"),
    ({"space": {"lr": {"grid": [0.1], "choice": [0.2]}}}, "space.lr: expected a table with one domain"),
    ({"space": {"lr": {"loguniform": [0, 1e-1]}}}, "space.lr: loguniform takes two numbers [low, high] with 0 < low < high"),
    ({"space": {"lr": {"uniform": [0.1]}}}, "space.lr: uniform takes [low, high], got [0.1]"),
    ({"space": {"seed": {"randint": [0, 2.5]}}}, "space.seed: randint takes two integers [low, high] with low < high"),
    ({"space": {"batch_size": {"uniform": [16, 64]}}},
     "space.batch_size: uniform draws real numbers, but batch_size is an integer option; use randint, grid or choice"),
    ({"space": {"optimizer": {"randint": [0, 2]}}}, "space.optimizer: randint draws integers, but optimizer is a text option"),
    ({"space": {"batch_size": {"grid": [32, "64"]}}}, "space.batch_size: batch_size must be an integer, got '64'"),
    ({"space": {"optimizer": {"choice": ["sgd", "lion"]}}}, "space.optimizer: unknown optimizer 'lion'"),
    ({"space": {"momentum": {"grid": [0.5, 1.5]}}},
     "space.momentum: the value 1.5 does not work with the base config: momentum must be in [0, 1)"),
    ({"space": {"momentum": {"uniform": [0.5, 0.9]}}, "base": {**BASE, "optimizer": "adam"}},
     "space.momentum: the value 0.5 does not work with the base config: momentum does not apply to the adam optimizer"),
    ({"space": {"out": {"grid": ["a", "b"]}}}, "space.out: out cannot be tuned"),
    ({"space": {"model_args": {"grid": [{"hidden_dims": [8]}]}}}, 'tune constructor arguments one at a time, as "model_args.NAME"'),
    ({"space": {"model_args.hidden_dim": {"grid": [[8]]}}},
     "space.model_args.hidden_dim: model 'mlp' takes no argument 'hidden_dim' (did you mean 'hidden_dims'?)"),
    ({"base": {**BASE, "lrate": 0.1}}, "base: unknown key 'lrate' (did you mean 'lr'?)"),
    ({"base": {**BASE, "out": "runs/x"}}, "base.out: the sweep gives every trial its own run directory"),
    ({"base": {**BASE, "optimizer": "adam", "momentum": 0.9}}, "base: momentum does not apply to the adam optimizer"),
    ({"base": "missing.toml"}, "base: config file '"),
    ({"base": "missing.toml"}, "missing.toml': no such file"),
    ({"metric": "val_accuracy"}, "metric: unknown value 'val_accuracy' (did you mean 'val_acc'?)"),
    ({"metric": "val_loss", "mode": "max"}, "mode 'max' with metric 'val_loss' would rank the worst trial first"),
    ({"search": "optuan"}, "search: unknown value 'optuan' (did you mean 'optuna'?)"),
    ({"search": "grid"}, "space.lr: search = 'grid' runs grids only"),
    ({"search": "optuna"}, "space.batch_size: Optuna's TPE does not take grids; use { choice = [...] }"),
    ({"rank_by": "last"}, "rank_by: unknown value 'last'"),
    ({"num_samples": 0}, "num_samples must be an integer >= 1, got 0"),
    ({"space": {}, "num_samples": 3}, "space is empty, so all 3 samples would train the same config"),
    ({"resources": {"cpu": 1}}, "unknown key resources.cpu (did you mean 'cpus'?)"),
    ({"resources": {"cpus": 0}}, "resources.cpus must be a number in (0, inf), got 0"),
    ({"scheduler": "asah"}, "scheduler.type: unknown value 'asah' (did you mean 'asha'?)"),
    ({"scheduler": {"type": "asha", "grace": 1}}, "unknown key scheduler.grace (did you mean 'grace_period'?)"),
    ({"scheduler": {"type": "asha", "grace_period": 3}}, "scheduler.grace_period (3) must be at most base.epochs (2)"),
    ({"scheduler": {"type": "asha", "reduction_factor": 1}}, "scheduler.reduction_factor must be a number in (1, inf)"),
    ({"scheduler": "asha", "space": {"epochs": {"grid": [1, 2]}}}, "space.epochs cannot be tuned with a scheduler"),
    ({"scheduler": "pbt"}, "scheduler.mutations: PBT needs a table of the settings it may change"),
    ({"scheduler": {"type": "pbt", "mutations": {"batch_size": {"choice": [16, 32]}}}},
     "scheduler.mutations.batch_size: PBT can change only lr, momentum, weight_decay in a running trial"),
    ({"scheduler": {"type": "pbt", "mutations": {"lr": {"grid": [0.1, 0.01]}}}},
     "scheduler.mutations.lr: PBT draws new values; use choice, uniform, loguniform or randint, not grid"),
    ({"scheduler": {"type": "pbt", "perturbation_interval": 2, "mutations": {"lr": {"choice": [0.1]}}}},
     "scheduler.perturbation_interval (2) must be less than base.epochs (2)"),
    ({"base": {**BASE, "val_split": 0.0}}, "metric 'val_acc' needs a validation set, but val_split can be 0"),
    ({"base": {"model": "autoencoder"}, "metric": "train_acc"},
     "metric 'train_acc': model 'autoencoder' reconstructs its input and has no accuracy"),
])  # fmt: skip
def test_spec_errors_are_one_line_and_name_the_key(changes, message):
    with pytest.raises(ConfigError) as info:
        parse_spec(spec(**changes))
    text = str(info.value)
    assert message in text, text
    assert text.startswith("sweep spec: ") and "\n" not in text


def test_spec_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"^sweep spec '.*nope.toml': no such file$"):
        load_spec(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("num_samples = = 2\n")
    with pytest.raises(ConfigError, match=r"^sweep spec '.*bad.toml': not valid TOML"):
        load_spec(tmp_path / "bad.toml")
    (tmp_path / "typo.toml").write_text("[space]\nlrr = { loguniform = [1e-4, 0.1] }\n")
    with pytest.raises(ConfigError, match=r"^sweep spec '.*typo.toml': space.lrr: unknown option 'lrr' \(did you"):
        load_spec(tmp_path / "typo.toml")
    with pytest.raises(ConfigError, match="expected a table of settings, got list"):
        parse_spec([1, 2])


def test_cli_reports_spec_errors_in_one_line(tmp_path, capsys):
    pytest.importorskip("ray.tune")  # without Ray the command stops earlier, at the install message
    (tmp_path / "typo.toml").write_text("[space]\nlrr = { loguniform = [1e-4, 0.1] }\n")
    assert cli.main(["sweep", str(tmp_path / "typo.toml"), "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minidl sweep: error: sweep spec ")
    assert "space.lrr: unknown option 'lrr' (did you mean 'lr'?)" in err
    assert not (tmp_path / "s").exists()
    assert cli.main(["sweep"]) == 2 and "give a SPEC file or --resume DIR" in capsys.readouterr().err
    assert cli.main(["sweep", "--resume", str(tmp_path)]) == 2
    assert f"{str(tmp_path)!r} is not a sweep directory (no sweep.json)" in capsys.readouterr().err


# ============================================================================================ without Ray
def test_without_ray_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "s.toml").write_text("[space]\nlr = { loguniform = [1e-4, 0.1] }\n")
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as when not installed
    monkeypatch.setitem(sys.modules, "ray.tune", None)
    assert cli.main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("minidl sweep: error: sweeps run on Ray Tune, an optional extra of minidl: "
                                   "pip install 'minidl[sweep]'")
    assert not (tmp_path / "out").exists()
    import minidl.tune

    with pytest.raises(ImportError, match=r"pip install 'minidl\[sweep\]'"):
        minidl.tune.sweep({"space": {"lr": {"loguniform": [1e-4, 0.1]}}}, out=tmp_path / "out")


def test_nothing_else_in_minidl_imports_ray(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        import minidl, minidl.cli, minidl.runs, minidl.report, minidl.tune
        from minidl.tune import parse_spec
        parse_spec({{"base": {{"model": "mlp"}}, "space": {{"lr": {{"loguniform": [1e-4, 0.1]}}}}}})
        assert minidl.cli.main(["train", "--model", "mlp", "--epochs", "1", "--train-samples", "64",
                                "--no-progress", "--out", {str(tmp_path / "run")!r}]) == 0
        loaded = sorted(m for m in sys.modules if m == "ray" or m.startswith("ray."))
        assert not loaded, loaded
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# ============================================================================================ results table
def record(trial_id: str, val_loss: list[float], status: str = "finished", **params) -> TrialRecord:
    h = History("val_loss", "min")
    for v in val_loss:
        h.log_epoch({"train_loss": v + 0.1, "val_loss": v, "val_acc": None})
    return TrialRecord(trial_id, Path("/nowhere") / trial_id, status, params, {"epochs": len(val_loss)}, h,
                       {"test_loss": val_loss[-1] + 0.05} if val_loss else {})


def test_table_ranks_by_final_or_best_in_the_metrics_direction():
    s = parse_spec(spec(metric="val_loss"))
    records = [record("a", [0.9, 0.5, 0.7], lr=0.1, batch_size=16),  # best 0.5, final 0.7
               record("b", [0.8, 0.6], lr=0.01, batch_size=32),  # best and final 0.6
               record("c", [], "error", lr=0.5, batch_size=64)]
    rows = table_rows(s, records)
    assert [r["trial"] for r in rows] == ["b", "a", "c"]  # final val_loss, lowest first; no metric last
    assert [r["rank"] for r in rows] == [1, 2, None]
    a = rows[1]
    assert (a["final_val_loss"], a["best_val_loss"], a["best_epoch"], a["epochs"]) == (0.7, 0.5, 2, 3)
    assert (a["lr"], a["batch_size"], a["status"], a["test_loss"]) == (0.1, 16, "finished", 0.75)
    assert a["final_train_loss"] == pytest.approx(0.8) and "final_val_acc" not in a  # never measured
    best = table_rows(parse_spec(spec(metric="val_loss", rank_by="best")), records)
    assert [r["trial"] for r in best] == ["a", "b", "c"]


def test_an_incomplete_trial_is_pending_until_ray_ends_it(tmp_path):
    run = tmp_path / "trials" / "t1"
    run.mkdir(parents=True)
    (run / "trial.json").write_text(json.dumps({"params": {"lr": 0.1}, "config": {"epochs": 3, "lr": 0.1}}))
    assert load_trial(tmp_path, "t1", {"lr": 0.1}, None, ended=False).status == "pending"
    assert load_trial(tmp_path, "t1", {"lr": 0.1}, None, ended=True).status == "stopped"
    assert load_trial(tmp_path, "t1", {"lr": 0.1}, "ValueError: boom", ended=True).status == "error"
    (run / "results.json").write_text(json.dumps({"metrics": {"epochs": 3}}))
    (run / "report.html").write_text("<html></html>")
    assert load_trial(tmp_path, "t1", {"lr": 0.1}, None, ended=False).status == "finished"


# ============================================================================================ PBT restarts
def test_a_restart_applies_the_trials_optimizer_settings_keeping_the_schedule(tmp_path):
    """A trial PBT restarts from another trial's checkpoint trains on with its own lr and momentum, scaled
    by the schedule's progress; the checkpoint's optimizer state would bring back the old ones."""
    base = {"model": "mlp", "model_args": {"hidden_dims": []}, "optimizer": "momentum", "train_samples": 64,
            "batch_size": 32, "scheduler": "cosine", "t_max": 4, "epochs": 2, "lr": 0.1, "momentum": 0.9}
    first = resolve({**base, "out": str(tmp_path / "a")})
    train_run(first, progress=False, out=io.StringIO())
    second = RunConfig(resolve({**base, "epochs": 4, "lr": 0.02, "momentum": 0.5, "out": str(tmp_path / "b")}))
    (tmp_path / "b").mkdir()
    ckpt = tmp_path / "b" / "checkpoint.npz"
    ckpt.write_bytes((tmp_path / "a" / "checkpoint.npz").read_bytes())
    seen: list[float] = []

    class Momentum(Callback):  # records the optimizer's momentum as each epoch starts
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(self.trainer.optimizer.param_groups[0]["momentum"])

    result = train_run(second, ckpt, progress=False, out=io.StringIO(),
                       callbacks=[ApplyHyperparameters(second), Momentum()])
    lrs = result.history.metrics["lr"]
    cosine = [(1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]  # the schedule's factor at each epoch
    np.testing.assert_allclose(lrs[:2], [0.1 * f for f in cosine[:2]])  # the first run's epochs
    np.testing.assert_allclose(lrs[2:], [0.02 * f for f in cosine[2:]])  # then the new lr, same schedule
    assert seen == [0.5, 0.5]


def test_best_config_file_reads_back(tmp_path):
    from minidl.tune.results import best_config_toml

    s = parse_spec(spec())
    cfg = trial_config(s, {"lr": 0.05, "batch_size": 32}, tmp_path / "t")
    rec = TrialRecord("t", tmp_path / "t", "finished", {"lr": 0.05, "batch_size": 32}, dict(cfg))
    text = best_config_toml(s, {"final_val_acc": 0.8, "epochs": 2}, rec, tmp_path, 6)
    (tmp_path / "best.toml").write_text(text)
    assert "the best of 6 trials by final_val_acc" in text and "val_acc 80.00%" in text
    assert load_config_file(tmp_path / "best.toml") == {k: v for k, v in cfg.items() if k != "out" and v is not None}
