"""The exercises' figures: per-class accuracy bars, the misclassified gallery of k per class, the decision
boundary as a probability surface over fixed axes, letter boxes on a page; PSNR of autoencoder runs in
``minidl eval`` and in the report; ``minidl train`` on the new datasets (LeNet-5 sized for 32x32 inputs)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import minidl
from minidl import cli, report
from minidl.report.plots import _positive_probability
from minidl.runs import load_run
from minidl.runs.build import build_model
from minidl.training import predict

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")


def _size(path) -> tuple[int, int]:
    with PIL.open(path) as im:
        return im.size


def test_per_class_accuracy_chart(tmp_path) -> None:
    y = np.array([0, 0, 1, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 0, 2])
    path = report.plot_per_class_accuracy(y, pred, ["a", "b", "c", "d"], tmp_path / "acc.png")  # d: no samples
    assert _size(path) == (800, 500)
    with pytest.raises(ValueError, match="labels must lie"):
        report.plot_per_class_accuracy(y, pred + 5, ["a", "b", "c"], tmp_path / "bad.png")


def test_misclassified_per_class_gallery(tmp_path) -> None:
    rng = np.random.default_rng(0)
    images = rng.random((60, 1, 8, 8))
    y = np.arange(60) % 3
    pred = np.where(np.arange(60) % 4 == 0, (y + 1) % 3, y)
    path = report.plot_misclassified_per_class(images, y, pred, ["x", "y", "z"], tmp_path / "g.png", k=4)
    assert _size(path) == (int(0.9 * (4 + 1.6) * 100), int((0.9 * 3 + 0.6) * 100))
    no_errors = report.plot_misclassified_per_class(images, y, y, None, tmp_path / "none.png", k=2)
    assert no_errors.is_file()
    with pytest.raises(ValueError, match="same length"):
        report.plot_misclassified_per_class(images[:5], y, pred, None, tmp_path / "bad.png")


def test_positive_probability() -> None:
    scores = np.array([[1.0, 2.0], [0.0, 0.0], [300.0, -300.0]])
    expected = np.exp(scores[:, 1]) / np.exp(scores).sum(axis=1)  # the oracle: softmax written out (no overflow here
    expected[2] = 0.0  # except the last row, whose true value underflows to 0)
    assert np.allclose(_positive_probability(scores, 1, "t"), expected)
    assert np.allclose(_positive_probability(scores, 0, "t"), 1 - expected)
    logits = np.array([-2.0, 0.0, 3.0])
    assert np.allclose(_positive_probability(logits, 1, "t"), 1 / (1 + np.exp(-logits)))
    probs = np.array([[0.2, 0.8], [0.5, 0.5], [1.0, 0.0]])
    assert np.allclose(_positive_probability(probs, 1, "t"), probs[:, 1])


def test_decision_boundary_probability_surface(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(100, 2))
    y = (x[:, 0] * x[:, 1] < 0).astype(int)

    def model(p: np.ndarray) -> np.ndarray:  # P(class 1) = σ(-8 x₁ x₂), the XOR rule made soft
        return 1 / (1 + np.exp(8 * p[:, 0] * p[:, 1]))

    path = report.plot_decision_boundary(model, x, y, tmp_path / "xor.png", surface="probability",
                                         xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), resolution=50)
    assert _size(path) == (800, 800)
    with pytest.raises(ValueError, match="surface"):
        report.plot_decision_boundary(model, x, y, tmp_path / "b.png", surface="heat")
    with pytest.raises(ValueError, match="xlim"):
        report.plot_decision_boundary(model, x, y, tmp_path / "b.png", xlim=(1.0, -1.0))


def test_letter_boxes(tmp_path) -> None:
    page = np.full((100, 200), 255, np.uint8)
    page[20:40, 20:30] = 0
    path = report.plot_letter_boxes(page, [[20, 20, 40, 30]], tmp_path / "p.png", ["I"], [0])
    assert _size(path)[0] == 1000
    with pytest.raises(ValueError, match="1 boxes but 2 labels"):
        report.plot_letter_boxes(page, [[20, 20, 40, 30]], tmp_path / "p.png", ["I", "J"])


def test_report_states_the_psnr(tmp_path) -> None:
    files = report.write_report(tmp_path, title="ae", metrics={"test_psnr_db": 17.25, "test_loss": 0.02})
    assert "mean PSNR of 17.25 dB" in files.markdown.read_text()


def test_autoencoder_run_psnr_in_eval(tmp_path, capsys) -> None:
    out = tmp_path / "ae"
    assert cli.main(["train", "--model", "autoencoder", "--epochs", "1", "--train-samples", "256", "--no-progress",
                     "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["eval", str(out)]) == 0
    shown = float(re.search(r"PSNR (\d+\.\d+) dB", capsys.readouterr().out).group(1))
    # the oracle: reconstructions of the test images, 10 log10(1 / MSE) per image, averaged
    run = load_run(out)
    from minidl.datasets import load_embedded

    x = load_embedded(train=False).arrays()[0]
    mse = np.mean((predict(run.model, x).reshape(len(x), -1) - x.reshape(len(x), -1)) ** 2, axis=1)
    assert shown == pytest.approx(np.mean(10 * np.log10(1 / mse)), abs=0.006)
    metrics = json.loads((out / "results.json").read_text())["metrics"]
    assert metrics["test_psnr_db"] == pytest.approx(shown, abs=0.006)
    assert "mean PSNR of" in (out / "report.md").read_text()


def test_lenet5_sized_from_the_data() -> None:
    assert build_model("lenet5", {}, (3, 32, 32), 10).fc1.in_features == 400
    assert build_model("lenet5", {}, (1, 28, 28), 10).fc1.in_features == 256


def test_train_logistic_regression_on_digits(tmp_path, capsys) -> None:
    pytest.importorskip("sklearn")
    out = tmp_path / "digits"
    assert cli.main(["train", "--model", "logistic_regression", "--dataset", "digits", "--epochs", "3",
                     "--optimizer", "sgd", "--lr", "0.1", "--no-progress", "--out", str(out)]) == 0
    metrics = json.loads((out / "results.json").read_text())["metrics"]
    assert metrics["params"] == 64 * 10 + 10 and metrics["test_acc"] > 0.8
    assert (out / "per_class_accuracy.png").is_file()


def test_autoencoder_hidden_activation_is_an_option() -> None:
    from minidl.models import Autoencoder

    model = Autoencoder(1024, (32, 32), activation="leaky_relu")
    kinds = [type(m).__name__ for m in model.modules() if not isinstance(m, minidl.nn.Sequential | Autoencoder)]
    assert kinds == ["Flatten", "Linear", "LeakyReLU", "Linear", "Linear", "LeakyReLU", "Linear", "Sigmoid"]
    with pytest.raises(ValueError, match="activation must be one of"):
        Autoencoder(16, (4,), activation="swish")
