"""``minidl predict --model NAME --weights FILE IMAGE|DIR [--json]``: a pretrained ImageNet classifier on
photos, with torchvision's standard preprocessing (resize 256, centre crop 224, ImageNet normalisation),
checked against PyTorch running the same weights on images preprocessed by hand with Pillow."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import requires_torch, torch
from minidl import cli, models
from minidl.models.weights import imagenet_categories

PIL = pytest.importorskip("PIL.Image", reason="Pillow (the images extra) is not installed")


def _photos(folder, rng):
    """Three 'photos' of different sizes and formats: smooth colour fields with noise."""
    folder.mkdir()
    paths = []
    for i, (h, w) in enumerate([(300, 400), (256, 256), (480, 270)]):
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
        img = np.stack([np.sin(6 * xx + i), np.cos(5 * yy - i), xx * yy], -1) * 100 + 128
        img = np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)
        path = folder / f"photo{i}.{'jpg' if i != 1 else 'png'}"
        PIL.fromarray(img).save(path)
        paths.append(path)
    return paths


def _by_hand(path):
    """torchvision's ImageClassification preset written out with Pillow and NumPy."""
    with PIL.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(256 * long / short)
        im = im.resize((256, new_long) if w <= h else (new_long, 256), PIL.BILINEAR)
        w, h = im.size
        top, left = int(round((h - 224) / 2.0)), int(round((w - 224) / 2.0))
        im = im.crop((left, top, left + 224, top + 224))
        x = np.asarray(im, dtype=np.float32) / 255.0
    x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return x.transpose(2, 0, 1)


@requires_torch
def test_top5_matches_torch_on_the_same_weights(tmp_path, rng, capsys):
    from torch_zoo import TORCH_MODELS, randomize

    tmodel = randomize(TORCH_MODELS["squeezenet1_1"][0](), seed=3).eval()
    weights = tmp_path / "squeezenet1_1-local.pth"
    torch.save(tmodel.state_dict(), weights)
    paths = _photos(tmp_path / "photos", rng)
    assert cli.main(["predict", "--model", "squeezenet1_1", "--weights", str(weights), str(paths[0]),
                     str(tmp_path / "photos"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in result] == [str(paths[0])] + [str(p) for p in sorted(paths)]
    with torch.no_grad():
        probs = torch.softmax(tmodel(torch.from_numpy(np.stack([_by_hand(p) for p in [paths[0], *sorted(paths)]]))),
                              1).numpy()
    categories = imagenet_categories()
    for r, p in zip(result, probs, strict=True):
        top = np.argsort(-p)[:5]
        assert [t["index"] for t in r["top"]] == top.tolist()
        assert [t["label"] for t in r["top"]] == [categories[i] for i in top]
        np.testing.assert_allclose([t["probability"] for t in r["top"]], p[top], rtol=1e-3, atol=1e-6)


def test_text_output_and_run_class_names(tmp_path, rng, capsys):
    """A fine-tuned model file: the class count comes from the file, names from its run directory."""
    run = tmp_path / "run"
    run.mkdir()
    import minidl

    minidl.save(models.resnet18(num_classes=3).state_dict(), run / "model.safetensors")
    (run / "run.json").write_text(json.dumps({"classes": ["cat", "dog", "fox"]}))
    paths = _photos(tmp_path / "photos", rng)
    assert cli.main(["predict", "--model", "resnet18", "--weights", str(run / "model.safetensors"),
                     str(paths[1])]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == str(paths[1]) and len(out) == 4  # three classes: the top 5 of a 3-class model
    assert sorted(line.split()[1] for line in out[1:]) == ["cat", "dog", "fox"]
    probs = [float(line.split()[-1].rstrip("%")) for line in out[1:]]
    assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 100) < 0.1


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "squeezenet1_1", "x.jpg"], "needs --weights"),
    (["--model", "resnet99", "--weights", "w.pth", "x.jpg"], "unknown pretrained model 'resnet99'"),
    (["--model", "resnet18", "--weights", "IMAGENET1K_V7", "x.jpg"], "unknown weights 'IMAGENET1K_V7'"),
    (["--model", "resnet18", "--weights", "missing.pth", "x.jpg"], "not found"),
])
def test_predict_errors(args, message, capsys):
    assert cli.main(["predict", *args]) == 2
    assert message in capsys.readouterr().err


def test_unreadable_image(tmp_path, capsys):
    import minidl

    minidl.save(models.squeezenet1_1(num_classes=2).state_dict(), tmp_path / "w.safetensors")
    (tmp_path / "not.jpg").write_text("text")
    assert cli.main(["predict", "--model", "squeezenet1_1", "--weights", str(tmp_path / "w.safetensors"),
                     str(tmp_path / "not.jpg")]) == 2
    assert "cannot read the image" in capsys.readouterr().err
