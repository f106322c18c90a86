"""Fine-tuning: frozen parameters (requires_grad_(False)) are skipped by the optimizers and stay bitwise
unchanged through ``minidl train --init-from W --freeze ... --replace-head N``, whose report says what was
frozen and how many parameters were trained; and the transfer demonstration on real CIFAR-10 images."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl import cli, models, nn

PIL = pytest.importorskip("PIL.Image", reason="Pillow (the images extra) is not installed")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("make", [lambda p: minidl.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
                                  lambda p: minidl.optim.Adam(p, lr=0.1, weight_decay=0.1),
                                  lambda p: minidl.optim.AdamW(p, lr=0.1)])
def test_optimizers_skip_frozen_parameters(make):
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    model[0].requires_grad_(False)
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]
    frozen = [p.detach().numpy().copy() for p in model[0].parameters()]
    head = model[2].weight.detach().numpy().copy()
    opt = make(model.parameters())  # every parameter given: the frozen ones have no gradient
    for _ in range(3):
        opt.zero_grad()
        model(minidl.randn(8, 4)).pow(2).mean().backward()
        assert model[0].weight.grad is None
        opt.step()
    for p, before in zip(model[0].parameters(), frozen, strict=True):
        assert np.array_equal(p.detach().numpy(), before)
    assert not np.array_equal(model[2].weight.detach().numpy(), head)
    model.requires_grad_(True)
    assert all(p.requires_grad for p in model.parameters())


def _image_folder(root: Path, classes=("ant", "bee", "cow"), train=8, test=4, size=32, seed=0):
    rng = np.random.default_rng(seed)
    for split, n in (("train", train), ("test", test)):
        for i, c in enumerate(classes):
            folder = root / split / c
            folder.mkdir(parents=True)
            for k in range(n):
                base = np.zeros((size, size, 3)) + 60 * i
                img = np.clip(base + rng.normal(0, 40, base.shape) + 40, 0, 255).astype(np.uint8)
                PIL.fromarray(img).save(folder / f"{k}.png")
    return root


def _train(tmp_path, *args):
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", "folder", "--data-root", str(tmp_path / "data"), "--epochs", "2",
                     "--batch-size", "8", "--val-split", "0", "--no-progress", "--out", str(out), *args]) == 0
    return out, {k: v.numpy() for k, v in minidl.hub.load_weights(out / "model.npz").items()}


def test_frozen_features_fine_tune_changes_only_the_head(tmp_path, capsys):
    _image_folder(tmp_path / "data")
    pretrained = models.squeezenet1_1(num_classes=7)
    minidl.save(pretrained.state_dict(), tmp_path / "pre.safetensors")
    before = {k: v.numpy().copy() for k, v in pretrained.state_dict().items()}
    out, after = _train(tmp_path, "--model", "squeezenet1_1", "--init-from", str(tmp_path / "pre.safetensors"),
                        "--freeze", "features", "--replace-head", "3", "--optimizer", "momentum")
    assert set(after) == set(before)
    for key, value in after.items():
        if key.startswith("features."):
            assert value.tobytes() == before[key].tobytes(), f"{key} changed"  # bitwise
    assert after["classifier.1.weight"].shape == (3, 512, 1, 1)
    meta = json.loads((out / "run.json").read_text())["fine_tuning"]
    assert meta == {"init_from": str(tmp_path / "pre.safetensors"), "replaced_head": "classifier.1: 7 -> 3 outputs",
                    "frozen": ["features"], "frozen_params": 722_496, "trained_params": 512 * 3 + 3}
    report = (out / "report.md").read_text()
    assert "Frozen (not trained): features: 722,496 parameters" in report and "Trained: 1,539 parameters" in report
    printed = capsys.readouterr().out
    assert "fine-tuning: Trained: 1,539 parameters." in printed
    # the fine-tuned run evaluates and predicts like any other
    assert cli.main(["eval", str(out)]) == 0


def test_frozen_body_keeps_batch_norm_statistics(tmp_path):
    _image_folder(tmp_path / "data")
    pretrained = models.resnet18(num_classes=4)
    for m in pretrained.modules():  # non-default statistics, so any update would show
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean._data[...] = 0.3
            m.running_var._data[...] = 2.0
    minidl.save(pretrained.state_dict(), tmp_path / "pre.safetensors")
    before = {k: v.numpy().copy() for k, v in pretrained.state_dict().items()}
    _, after = _train(tmp_path, "--model", "resnet18", "--init-from", str(tmp_path / "pre.safetensors"),
                      "--freeze", "body", "--replace-head", "3")
    changed = sorted(k for k in after if k in before and after[k].tobytes() != before[k].tobytes())
    assert changed == ["fc.bias", "fc.weight"]


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "squeezenet1_1", "--freeze", "featurez"], "no parameter of squeezenet1_1 lies under 'featurez'"),
    (["--model", "squeezenet1_1", "--replace-head", "4"], "replace_head 4 does not match the 3 classes"),
    (["--model", "bn_cnn", "--init-from", "IMAGENET1K_V1"], "give bn_cnn a file"),
    (["--model", "squeezenet1_1", "--init-from", "IMAGENET1K_V9"], "unknown weights 'IMAGENET1K_V9'"),
])
def test_fine_tuning_errors(tmp_path, capsys, args, message):
    _image_folder(tmp_path / "data", train=2, test=1)
    assert cli.main(["train", "--dataset", "folder", "--data-root", str(tmp_path / "data"), "--epochs", "1",
                     "--no-progress", "--out", str(tmp_path / "run"), *args]) == 2
    assert message in capsys.readouterr().err


def _example():
    spec = importlib.util.spec_from_file_location("transfer_cifar10", ROOT / "examples" / "transfer_cifar10.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_transfer_beats_training_from_scratch(tmp_path):
    """The transfer demonstration with a small budget: pretrain on 3,000 images of classes 0-4, then classes 5-9
    with 100 images per class, tested on 200 images per class."""
    example = _example()
    source = example.default_data_root()
    if source is None:
        pytest.skip("the CIFAR-10 JPEG folders (shared/datasets/cifar10-jpg) are not on this machine")
    result = example.transfer_experiment(source, tmp_path, pretrain_per_class=600, pretrain_epochs=3, epochs=3,
                                         test_per_class=200)
    print(f"transfer {result['transfer_acc']:.3f} vs scratch {result['scratch_acc']:.3f}")
    assert result["transfer_acc"] >= result["scratch_acc"] + 0.04
