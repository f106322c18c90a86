"""End to end: ``minidl train`` on the embedded Fashion-MNIST subset, then ``eval``, ``predict``, ``compare``,
``--resume`` and Ctrl-C, ``graph`` and ``gradcheck MODEL``, and the errors of every command.

One tiny run (LeNet5, 1 epoch of 256 images) is trained once per module and shared by the tests that only
read it.
"""

from __future__ import annotations

import base64
import csv
import html.parser
import json
import math
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl import cli, models
from minidl.datasets import load_embedded
from minidl.runs import ConfigError, ExpressionError, load_config_file, resolve
from minidl.runs import train as train_module
from minidl.runs.expr import evaluate, parse

PIL = pytest.importorskip("PIL.Image")

# pydot's parser calls pyparsing names that newer pyparsing deprecates: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")

TINY = ["--epochs", "1", "--train-samples", "256", "--batch-size", "64", "--no-progress"]
CURVES = {"loss.png": (800, 500), "accuracy.png": (800, 500), "epoch_loss.png": (800, 500), "lr.png": (800, 500),
          "per_class_accuracy.png": (800, 500)}
SQUARES = {"confusion_matrix.png": (800, 800), "misclassified.png": (800, 800), "filters.png": (800, 800)}
FILES = {"config.json", "config.toml", "run.json", "summary.txt", "metrics.jsonl", "iterations.csv", "history.json",
         "checkpoint.npz", "model.npz", "results.json", "report.md", "report.html", *CURVES, *SQUARES}


def train(out: Path, *extra: str) -> int:
    return cli.main(["train", *TINY, "--out", str(out), *extra])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "lenet"
    assert train(out) == 0
    return out


def results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text())


def load_weights(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k != "__meta__.json"}


# ============================================================================================ the run directory
def test_run_dir_has_every_file(run_dir):
    assert {p.name for p in run_dir.iterdir()} == FILES


def test_pngs_open_with_expected_size(run_dir):
    for name, size in {**CURVES, **SQUARES}.items():
        with PIL.open(run_dir / name) as im:
            assert im.format == "PNG" and im.size == size, name
            im.verify()


class StrictHTML(html.parser.HTMLParser):
    """Checks that elements nest properly and collects the sources of the images."""

    VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def test_report_html_inlines_every_figure_and_parses(run_dir):
    parser = StrictHTML()
    parser.feed((run_dir / "report.html").read_text(encoding="utf-8"))
    parser.close()
    assert parser.stack == []
    inlined = [base64.b64decode(src.split(",", 1)[1]) for src in parser.images]
    assert all(src.startswith("data:image/png;base64,") for src in parser.images)
    for name in {**CURVES, **SQUARES}:  # the very bytes of each PNG, not a link
        assert (run_dir / name).read_bytes() in inlined, name
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    for name in {**CURVES, **SQUARES}:
        assert f"({name})" in md
    for cls in load_embedded(train=False).classes:  # the per-class accuracy table
        assert cls in md
    assert "Total params: 34,622" in md  # the model summary
    assert "| optimizer | adam |" in md and "| lr | 0.003 |" in md  # the hyperparameters


def test_metrics_files_agree_with_history(run_dir):
    history = json.loads((run_dir / "history.json").read_text())
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["epoch"] == 1
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "time"):
        assert rows[0][key] == history["metrics"][key][0]
    with open(run_dir / "iterations.csv", newline="") as f:
        its = list(csv.DictReader(f))
    assert len(its) == math.ceil(256 / 64) == len(history["loss"])
    assert [float(r["loss"]) for r in its] == history["loss"]
    assert {r["epoch"] for r in its} == {"1"}
    # the epoch's training loss is the sample-weighted mean of its iterations (all batches hold 64 samples)
    assert rows[0]["train_loss"] == pytest.approx(np.mean(history["loss"]), rel=1e-12)


def test_config_and_derived_facts(run_dir):
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["model"] == "lenet5" and cfg["dataset"] == "embedded" and cfg["optimizer"] == "adam"
    assert (cfg["epochs"], cfg["batch_size"], cfg["train_samples"], cfg["lr"]) == (1, 64, 256, 0.003)
    assert cfg["betas"] == [0.9, 0.999] and cfg["momentum"] is None  # resolved: Adam has betas, no momentum
    # config.toml reads back to the same settings (except the run directory, left out on purpose)
    again = resolve(load_config_file(run_dir / "config.toml"))
    assert {k: v for k, v in again.items() if k != "out"} == {k: v for k, v in cfg.items() if k != "out"}
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["input_shape"] == [1, 28, 28] and meta["classes"] == list(load_embedded().classes)
    assert (meta["train_samples"], meta["val_samples"], meta["test_samples"]) == (256, 500, 1000)
    # normalisation statistics: mean and std of all training pixels in [0, 1], computed independently
    pixels = load_embedded(train=True).data.astype(np.float64) / 255.0
    assert meta["normalize_mean"] == pytest.approx([pixels.mean()], rel=1e-9)
    assert meta["normalize_std"] == pytest.approx([pixels.std()], rel=1e-9)


def test_saved_model_reproduces_the_test_accuracy(run_dir):
    """An independent evaluation: LeNet5 built by hand, model.npz loaded by name, the embedded test set
    normalised with run.json's statistics."""
    weights = load_weights(run_dir / "model.npz")
    assert list(weights) == list(models.LeNet5().state_dict())
    model = models.LeNet5()
    model.load_state_dict(weights)
    meta = json.loads((run_dir / "run.json").read_text())
    test = load_embedded(train=False)
    x = (test.data.astype(np.float32)[:, None] / 255 - meta["normalize_mean"][0]) / meta["normalize_std"][0]
    model.eval()
    with minidl.no_grad():
        logits = model(minidl.tensor(x.astype(np.float32))).detach().numpy()
    acc = float(np.mean(logits.argmax(1) == test.targets))
    assert results(run_dir)["metrics"]["test_acc"] == pytest.approx(acc, abs=1e-12)
    # the checkpoint holds the same final weights
    ckpt = minidl.training.load_checkpoint(run_dir / "checkpoint.npz")
    for k, v in weights.items():
        np.testing.assert_array_equal(ckpt["model"][k], v)
    assert ckpt["epoch"] == 1


def test_train_prints_progress_and_result(tmp_path, capsys):
    assert train(tmp_path / "r", "--model", "xor", "--train-samples", "64", "--batch-size", "32") == 0
    out = capsys.readouterr().out
    assert "xor (22 parameters) on xor" in out
    assert "epoch 1/1: train_loss" in out and "test accuracy" in out
    assert (tmp_path / "r" / "decision_boundary.png").is_file()  # 2-D data: the decision boundary, no gallery
    assert not (tmp_path / "r" / "misclassified.png").exists()


# ============================================================================================ eval, predict
def test_eval_prints_accuracy_loss_and_per_class_table(run_dir, capsys):
    assert cli.main(["eval", str(run_dir)]) == 0
    out = capsys.readouterr().out
    m = results(run_dir)["metrics"]
    assert f"accuracy {100 * m['test_acc']:.2f}%" in out and f"loss {m['test_loss']:.4f}" in out
    rows = {r["class"]: r for r in results(run_dir)["per_class"]}
    for cls in load_embedded(train=False).classes:
        line = next(line for line in out.splitlines() if line.startswith(cls + " "))
        assert line.split()[-1] == "100"  # 100 test images per class
        assert f"{100 * rows[cls]['acc']:.2f}%" in line
    assert cli.main(["eval", str(run_dir), "--split", "train"]) == 0
    assert "train split, 5,000 samples" in capsys.readouterr().out


def predicted_top1(run_dir: Path, images: np.ndarray) -> np.ndarray:
    weights = load_weights(run_dir / "model.npz")
    model = models.LeNet5()
    model.load_state_dict(weights)
    meta = json.loads((run_dir / "run.json").read_text())
    x = (images.astype(np.float32)[:, None] / 255 - meta["normalize_mean"][0]) / meta["normalize_std"][0]
    model.eval()
    with minidl.no_grad():
        return model(minidl.tensor(x.astype(np.float32))).detach().numpy()


def test_predict_png_and_npy(run_dir, tmp_path, capsys):
    test = load_embedded(train=False)
    paths = []
    for i in range(3):
        PIL.fromarray(test.data[i]).save(tmp_path / f"img{i}.png")
        paths.append(str(tmp_path / f"img{i}.png"))
    np.save(tmp_path / "batch.npy", test.data[3:5])  # a uint8 batch (2, 28, 28)
    paths.append(str(tmp_path / "batch.npy"))
    assert cli.main(["predict", str(run_dir), *paths, "--topk", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    logits = predicted_top1(run_dir, test.data[:5])
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    sources = paths[:3] + [f"{paths[3]}[0]", f"{paths[3]}[1]"]
    for i, source in enumerate(sources):
        k = out.index(source)
        shown = out[k + 1:k + 4]
        order = np.argsort(-probs[i])[:3]
        for rank, (line, j) in enumerate(zip(shown, order, strict=True), start=1):
            assert line.split()[0] == f"{rank}." and test.classes[j] in line
            assert line.endswith(f"{100 * probs[i, j]:6.2f}%")


def test_predict_converts_other_images(run_dir, tmp_path, capsys):
    rgb = np.zeros((56, 40, 3), dtype=np.uint8)
    rgb[10:46, 12:28] = (200, 180, 160)
    PIL.fromarray(rgb).save(tmp_path / "photo.jpg")
    assert cli.main(["predict", str(run_dir), str(tmp_path / "photo.jpg"), "--topk", "10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 11
    total = sum(float(line.rsplit(None, 1)[1].rstrip("%")) for line in lines[1:])
    assert total == pytest.approx(100.0, abs=0.06)  # all ten classes, rounded to 0.01%


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.png", "no such file"),
    (lambda d: (np.save(d / "bad.npy", np.zeros((3, 5))), d / "bad.npy")[1], "does not fit the model's input [1, 28, 28]"),
    (lambda d: ((d / "notes.txt").write_text("x"), d / "notes.txt")[1], "unknown file type '.txt'"),
    (lambda d: ((d / "fake.png").write_bytes(b"not a png"), d / "fake.png")[1], "cannot read the image"),
])
def test_predict_errors(run_dir, tmp_path, capsys, make, message):
    assert cli.main(["predict", str(run_dir), str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minidl predict: error:") and message in err


# ============================================================================================ compare
def test_compare_overlays_runs(run_dir, tmp_path, capsys):
    other = tmp_path / "sgd"
    assert train(other, "--optimizer", "momentum", "--lr", "0.05") == 0
    capsys.readouterr()
    out_png = tmp_path / "compare.png"
    assert cli.main(["compare", str(run_dir), str(other), "--out", str(out_png)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["run", "epochs"]
    assert out[1].startswith("optimizer=adam lr=0.003") and out[2].startswith("optimizer=momentum lr=0.05")
    for line, run in zip(out[1:3], (run_dir, other), strict=True):
        assert f"{100 * results(run)['metrics']['test_acc']:.2f}%" in line
    with PIL.open(out_png) as im:  # loss per iteration above validation accuracy per epoch
        assert im.size == (800, 1000)


# ============================================================================================ resume, Ctrl-C
def test_ctrl_c_saves_checkpoint_and_resume_is_exact(run_dir, tmp_path, monkeypatch, capsys):
    """Ctrl-C after the second batch, then --resume: the final weights equal the uninterrupted run's."""
    original = train_module._StopOnInterrupt.on_batch_end

    def press_ctrl_c(self, batch, logs=None):
        if batch == 1:
            signal.raise_signal(signal.SIGINT)  # delivered to the handler installed by train
        return original(self, batch, logs)

    monkeypatch.setattr(train_module._StopOnInterrupt, "on_batch_end", press_ctrl_c)
    out = tmp_path / "interrupted"
    before = signal.getsignal(signal.SIGINT)  # default_int_handler, or SIG_IGN under nohup and background jobs
    assert train(out) == 130
    err = capsys.readouterr().err
    assert "interrupted in epoch 1 after 2 iterations" in err
    assert f"resume with: minidl train --resume {out}" in err
    assert signal.getsignal(signal.SIGINT) is before  # the handler was restored
    ckpt = minidl.training.load_checkpoint(out / "checkpoint.npz")
    assert ckpt["epoch"] == 0 and len(ckpt["history"]["loss"]) == 2
    assert not (out / "model.npz").exists()

    monkeypatch.undo()
    assert cli.main(["train", "--resume", str(out), "--no-progress"]) == 0
    resumed, uninterrupted = load_weights(out / "model.npz"), load_weights(run_dir / "model.npz")
    for k in uninterrupted:
        np.testing.assert_array_equal(resumed[k], uninterrupted[k], err_msg=k)
    assert json.loads((out / "history.json").read_text())["loss"] == json.loads(
        (run_dir / "history.json").read_text())["loss"]


def test_resume_with_more_epochs(run_dir, tmp_path, capsys):
    run = tmp_path / "copy"
    shutil.copytree(run_dir, run)
    assert cli.main(["train", "--resume", str(run / "checkpoint.npz"), "--epochs", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "resuming from" in out and "epoch 2/2" in out and "epoch 1/2" not in out
    history = json.loads((run / "history.json").read_text())
    assert len(history["loss"]) == 8 and len(history["metrics"]["val_acc"]) == 2
    assert history["loss"][:4] == json.loads((run_dir / "history.json").read_text())["loss"]
    assert json.loads((run / "config.json").read_text())["epochs"] == 2
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2


def test_resume_from_a_checkpoint_file_elsewhere(run_dir, tmp_path, capsys):
    """A checkpoint carries its run's settings, so it resumes without the run directory around it."""
    (tmp_path / "elsewhere").mkdir()
    ckpt = shutil.copy(run_dir / "checkpoint.npz", tmp_path / "elsewhere" / "ckpt.npz")
    fork = tmp_path / "fork"
    assert cli.main(["train", "--resume", str(ckpt), "--out", str(fork), "--no-progress"]) == 0
    assert "already trained 1 of 1 epochs" in capsys.readouterr().out
    cfg = json.loads((fork / "config.json").read_text())
    assert (cfg["model"], cfg["train_samples"], cfg["out"]) == ("lenet5", 256, str(fork))
    np.testing.assert_array_equal(load_weights(fork / "model.npz")["fc2.weight"],
                                  load_weights(run_dir / "model.npz")["fc2.weight"])


# ============================================================================================ configs, errors
def test_config_file_and_flag_precedence(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('model = "mlp"\noptimizer = "momentum"\nlr = 0.05\nepochs = 3\nscheduler = "step"\n'
                      "step_size = 1\ngamma = 0.5\nreg = 0.001\n\n[model_args]\nhidden_dims = [32]\n")
    out = tmp_path / "mlp"
    assert cli.main(["train", "--config", str(config), "--epochs", "2", "--train-samples", "128", "--out", str(out),
                     "--no-progress", "--model-arg", "activation='tanh'"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert (cfg["model"], cfg["optimizer"], cfg["lr"], cfg["momentum"], cfg["epochs"]) == ("mlp", "momentum", 0.05,
                                                                                           0.9, 2)
    assert cfg["model_args"] == {"hidden_dims": [32], "activation": "tanh"}
    assert (cfg["scheduler"], cfg["step_size"], cfg["gamma"], cfg["t_max"]) == ("step", 1, 0.5, None)
    history = json.loads((out / "history.json").read_text())
    assert history["metrics"]["lr"] == [0.05, 0.025]  # step decay by 0.5 after every epoch
    assert "Total params: 25,450" in (out / "summary.txt").read_text()  # 784·32+32 + 32·10+10
    with PIL.open(out / "filters.png") as im:  # the first Linear layer's rows shown as 28x28 images
        assert im.size == (800, 800)


def test_training_without_matplotlib(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(minidl.report, "plots_available", lambda: False)
    out = tmp_path / "noplots"
    assert train(out, "--train-samples", "64") == 0
    assert not list(out.glob("*.png"))
    md = (out / "report.md").read_text()
    assert "Plots were skipped" in md and "matplotlib" in md
    assert {"report.html", "model.npz", "metrics.jsonl", "results.json"} <= {p.name for p in out.iterdir()}


def test_config_files_in_json_and_yaml(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"model": "mlp", "betas": [0.8, 0.9]}))
    assert load_config_file(tmp_path / "a.json") == {"model": "mlp", "betas": [0.8, 0.9]}
    pytest.importorskip("yaml")
    (tmp_path / "a.yaml").write_text("model: xor\nepochs: 7\naugment: false\n")
    assert load_config_file(tmp_path / "a.yaml") == {"model": "xor", "epochs": 7, "augment": False}


def test_resolve_fills_dependent_defaults():
    cfg = resolve({"optimizer": "sgd", "scheduler": "multistep", "epochs": 8})
    assert (cfg.lr, cfg.momentum, cfg.betas, cfg.milestones, cfg.gamma) == (0.01, 0.0, None, [4, 6], 0.1)
    assert resolve({"optimizer": "adamw"}).weight_decay == 0.01
    assert resolve({"model": "xor"}).dataset == "xor"
    assert resolve(dict(resolve({"scheduler": "plateau"}))) == resolve({"scheduler": "plateau"})  # idempotent
    with pytest.raises(ConfigError, match="momentum does not apply to the adam optimizer"):
        resolve({"optimizer": "adam", "momentum": 0.9})
    with pytest.raises(ConfigError, match="gamma does not apply to scheduler 'cosine'"):
        resolve({"gamma": 0.5})


@pytest.mark.parametrize("argv, message", [
    (["train", "--model", "resnet"], "unknown model 'resnet'; valid: alexnet, autoencoder, bn_cnn, lenet5, logistic_regression, mlp"),
    (["train", "--optimizer", "lion"], "invalid choice: 'lion'"),
    (["train", "--dataset", "imagenet"], "unknown dataset 'imagenet'; available:"),
    (["train", "--epochs", "0"], "epochs must be >= 1"),
    (["train", "--optimizer", "adam", "--momentum", "0.9"], "momentum does not apply to the adam optimizer"),
    (["train", "--train-samples", "100000"], "exceeds the 4500 training samples"),
    (["train", "--model", "lenet5", "--dataset", "xor"], "does not accept inputs of shape [2]"),
    (["train", "--model-arg", "depth=3"], "takes no argument 'depth'"),
    (["train", "--config", "{missing}"], "no such file"),
    (["train", "--config", "{bad_key}"], "unknown key 'lrate' (did you mean 'lr'?); valid keys: model, model_args,"),
    (["train", "--config", "{bad_toml}"], "not valid TOML"),
    (["train", "--config", "{bad_type}"], "epochs must be an integer, got 'three'"),
    (["train", "--config", "{bad_suffix}"], "unknown format '.ini'"),
    (["train", "--resume", "{missing}"], "is neither a run directory nor a checkpoint file"),
    (["eval", "{missing}"], "no run directory"),
    (["eval", "{empty}"], "is not a run directory of `minidl train`"),
    (["compare", "{empty}"], "is not a run directory with a history"),
    (["graph"], "give either a MODEL or --expr EXPR"),
    (["graph", "--expr", "__import__('os').system('true')"], "is not allowed"),
    (["graph", "lenet5", "-o", "{bad_suffix}"], "unknown output format '.ini'"),
    (["gradcheck", "lenet5", "--coords", "0"], "--coords must be a positive number or 'all'"),
    (["gradcheck", "nosuch"], "unknown model 'nosuch'"),
])
def test_bad_inputs_exit_2_with_a_message(tmp_path, capsys, argv, message):
    files = {"missing": tmp_path / "nope.toml", "bad_key": tmp_path / "k.toml", "bad_toml": tmp_path / "t.toml",
             "bad_type": tmp_path / "y.toml", "bad_suffix": tmp_path / "c.ini", "empty": tmp_path / "empty"}
    files["bad_key"].write_text("lrate = 0.1\n")
    files["bad_toml"].write_text("epochs = = 3\n")
    files["bad_type"].write_text('epochs = "three"\n')
    files["bad_suffix"].write_text("[x]\n")
    files["empty"].mkdir()
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    assert cli.main([*argv, *(["--out", str(tmp_path / "o")] if argv[0] == "train" else [])]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err


def test_eval_on_a_dataset_that_does_not_fit(run_dir, capsys):
    assert cli.main(["eval", str(run_dir), "--dataset", "xor"]) == 2
    assert "has inputs of shape [2], the model was trained on [1, 28, 28]" in capsys.readouterr().err


def test_reg_adds_half_l2_of_the_weights(rng):
    from minidl.runs.build import make_loss

    model = models.MLP(input_dim=6, hidden_dims=(5,), num_classes=3)
    x, y = rng.standard_normal((4, 6)).astype(np.float32), np.array([0, 2, 1, 2])
    out = model(minidl.tensor(x))
    plain = make_loss("classification", model, 0.0)(out, minidl.tensor(y)).item()
    with_l2 = make_loss("classification", model, 0.1)(out, minidl.tensor(y)).item()
    weights = [model.fc1.weight.detach().numpy(), model.fc2.weight.detach().numpy()]  # biases are not penalised
    assert with_l2 - plain == pytest.approx(0.5 * 0.1 * sum(float((w.astype(np.float64) ** 2).sum())
                                                            for w in weights), rel=1e-5)


def test_existing_run_dir_is_not_overwritten(run_dir, capsys):
    before = (run_dir / "model.npz").read_bytes()
    assert train(run_dir) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (run_dir / "model.npz").read_bytes() == before


# ============================================================================================ graph
def test_graph_of_model_loss(tmp_path, capsys):
    pydot = pytest.importorskip("pydot")
    path = tmp_path / "lenet.dot"
    assert cli.main(["graph", "lenet5", "-o", str(path)]) == 0
    (graph,) = pydot.graph_from_dot_file(str(path))
    labels = [n.get_label().strip('"') for n in graph.get_nodes() if n.get_label()]
    ops = sorted(label for label in labels if "\\n" not in label and "(" not in label and "scalar" not in label)
    assert ops == ["conv2d", "conv2d", "cross_entropy", "linear", "linear", "max_pool2d", "max_pool2d", "relu",
                   "relu", "relu", "reshape"]
    params = {label.split("\\n")[0] for label in labels if "\\n" in label}
    assert {"conv1.weight", "conv1.bias", "conv2.weight", "fc1.weight", "fc2.bias", "input"} <= params


def test_graph_of_expression_with_values_and_grads(capsys):
    pydot = pytest.importorskip("pydot")
    assert cli.main(["graph", "--expr", "a * b + c", "--values", "--grads"]) == 0
    (graph,) = pydot.graph_from_dot_data(capsys.readouterr().out)
    labels = {n.get_name(): n.get_label().strip('"') for n in graph.get_nodes() if n.get_label()}
    ops = sorted(v for v in labels.values() if v in ("mul", "add"))
    assert ops == ["add", "mul"]
    leaves = {v.split("\\n")[0]: v for v in labels.values() if v[:2] in ("a\\", "b\\", "c\\")}
    assert set(leaves) == {"a", "b", "c"}

    def field(label: str, key: str) -> float:
        return float(next(p for p in label.split("\\n") if p.startswith(key)).split(": ")[1])

    # d(ab + c)/da = b, d/db = a, d/dc = 1 (values shown to 4 significant digits)
    assert field(leaves["a"], "grad") == pytest.approx(field(leaves["b"], "data"), rel=1e-3)
    assert field(leaves["b"], "grad") == pytest.approx(field(leaves["a"], "data"), rel=1e-3)
    assert field(leaves["c"], "grad") == 1.0
    assert len(graph.get_edges()) == 6  # a, b -> mul -> ab;  ab, c -> add -> root


def test_graph_renders_svg_when_graphviz_is_installed(tmp_path, capsys):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    path = tmp_path / "g.svg"
    assert cli.main(["graph", "--expr", "sum(relu(a @ b + c))", "-o", str(path)]) == 0
    assert "<svg" in path.read_text()


def test_graph_without_graphviz_writes_dot_instead(tmp_path, monkeypatch, capsys):
    from minidl.report import graph

    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    assert cli.main(["graph", "--expr", "a * b", "-o", str(tmp_path / "g.png")]) == 1
    assert "wrote the DOT text to" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()
    assert (tmp_path / "g.dot").read_text().startswith("digraph autograd {")


# ============================================================================================ expressions
@pytest.mark.parametrize("expr", [
    "__import__('os')", "a.b", "a[0]", "lambda: a", "exp(a, b)", "exp(x=a)", "foo(a)", "A + b", "ab", "'text'",
    "a if b else c", "a < b", "True", "1j", "[a]", "a // b", "a % b", "~a", "not a", "(a := 1)", "exp(*a)",
    "a.__class__", "().__class__.__bases__", "open('x')", "", "a +", "exp",
])
def test_expression_parser_rejects_anything_outside_the_grammar(expr):
    with pytest.raises(ExpressionError):
        parse(expr)


def test_expression_evaluates_like_numpy(rng):
    a, b, c = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.uniform(0.5, 1.5, (3, 3))
    env = {k: minidl.tensor(v) for k, v in dict(a=a, b=b, c=c).items()}
    expr = "sum(relu(a @ b + c)) / 2 - -mean(tanh(a)) + sqrt(c) * log(c) ** 2 - exp(-a) / sigmoid(b) + 2 ** c"
    got = evaluate(parse(expr), env, expr).detach().numpy()
    relu = np.maximum(a @ b + c, 0)
    want = (relu.sum() / 2 + np.tanh(a).mean() + np.sqrt(c) * np.log(c) ** 2 - np.exp(-a) * (1 + np.exp(-b))
            + 2.0**c)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ExpressionError, match="has no variables"):
        evaluate(parse("1 + 2"), {}, "1 + 2")
    with pytest.raises(ExpressionError, match="cannot be evaluated"):
        evaluate(parse("a @ b"), {"a": minidl.tensor(np.ones((2, 3))), "b": minidl.tensor(np.ones((2, 3)))})


# ============================================================================================ gradcheck MODEL
ROW = r"^(\S+)\s+\(.*\)\s+(\d+)/(\d+)\s+(\d\.\de[-+]\d+)\s+(ok|FAIL)$"


def test_gradcheck_model_all_coordinates(capsys):
    import re

    assert cli.main(["gradcheck", "xor", "--coords", "all"]) == 0
    out = capsys.readouterr().out
    rows = [m.groups() for line in out.splitlines() if (m := re.match(ROW, line))]
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("fc1.weight", "8", "8", "ok"), ("fc1.bias", "4", "4", "ok"), ("fc2.weight", "8", "8", "ok"),
        ("fc2.bias", "2", "2", "ok")]
    assert all(float(r[3]) < 1e-6 for r in rows)
    assert out.strip().splitlines()[-1].startswith("OK: 4 parameters")


def test_gradcheck_model_detects_a_wrong_backward(monkeypatch, capsys):
    """A linear op whose weight gradient is 0.1% too large fails exactly the Linear weights."""
    import re

    from minidl.ops import linalg

    good = linalg.Linear.backward

    def skewed(self, dout, cache, needs=None):
        dx, dw, db = good(self, dout, cache, needs)
        return dx, None if dw is None else dw * 1.001, db

    monkeypatch.setattr(linalg.Linear, "backward", skewed)
    assert cli.main(["gradcheck", "lenet5", "--coords", "8", "--batch", "2"]) == 1
    out = capsys.readouterr().out
    status = {m.group(1): m.group(5) for line in out.splitlines() if (m := re.match(ROW, line))}
    assert status == {"conv1.weight": "ok", "conv1.bias": "ok", "conv2.weight": "ok", "conv2.bias": "ok",
                      "fc1.weight": "FAIL", "fc1.bias": "ok", "fc2.weight": "FAIL", "fc2.bias": "ok"}
    assert "FAILED: 2 of 8 parameters" in out


def test_out_naming_a_file_is_a_one_line_error(tmp_path, capsys):
    """``--out`` pointing at an existing file used to end in a FileExistsError traceback."""
    target = tmp_path / "afile"
    target.write_text("not a run")
    assert cli.main(["train", "--epochs", "1", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a directory" in err and "Traceback" not in err
    assert target.read_text() == "not a run"  # untouched


def test_a_resume_that_cannot_load_leaves_the_run_untouched(run_dir, capsys):
    """--resume with a model the checkpoint does not fit used to rewrite config.json, run.json and summary.txt
    before failing, after which `minidl eval` could not read the run."""
    files = ["config.json", "config.toml", "run.json", "summary.txt"]
    before = {name: (run_dir / name).read_bytes() for name in files}
    assert cli.main(["train", "--resume", str(run_dir), "--model", "mlp"]) == 2
    assert "--model 'mlp' (the run has 'lenet5')" in capsys.readouterr().err
    assert {name: (run_dir / name).read_bytes() for name in files} == before
    assert cli.main(["eval", str(run_dir)]) == 0


def test_training_through_nan_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    """`--optimizer sgd --lr 1e3` used to run every epoch through NaN and overwrite the checkpoint, the best state
    and model.npz with NaN, exiting 0."""
    out = tmp_path / "nan"
    argv = ["train", "--model", "mlp", "--optimizer", "sgd", "--lr", "1e3", "--epochs", "3", "--no-progress",
            "--out", str(out)]
    with pytest.warns(RuntimeWarning):  # NumPy's overflow on the way to inf
        code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "training stopped at epoch 1, step" in err and "smaller learning rate" in err
    assert "training stopped" in (out / "error.txt").read_text()
    assert not (out / "model.npz").exists() and not (out / "checkpoint.npz").exists()
    assert (out / "history.json").exists()  # the metrics up to the failure are kept


def test_resume_refuses_flags_that_would_change_the_run(run_dir, capsys):
    """`--resume R --epochs 4 --lr 1000` used to train on the old schedule while recording lr 1000."""
    config = (run_dir / "config.json").read_bytes()
    assert cli.main(["train", "--resume", str(run_dir), "--epochs", "4", "--lr", "1000", "--batch-size", "7"]) == 2
    err = capsys.readouterr().err
    assert "--batch-size 7" in err and "--lr 1000.0" in err and "Pass only --epochs N" in err
    assert "Traceback" not in err and (run_dir / "config.json").read_bytes() == config
