"""OCR: the letter framing, ``find_letters`` on generated pages (clean and photo-like: every letter found, lines
grouped, reading order), the scoring helpers, the ready model's cache, and ``minidl ocr`` end to end.

The classifier trained here is deliberately tiny (one epoch on a few hundred images): these tests check the
pipeline's mechanics against the pages' ground truth; the accuracy of the real ready model is measured by
``examples/ocr_eval.py``.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from minidl import cli, errors
from minidl.datasets import SyntheticCharacters, SyntheticTextPage, photo_like, register
from minidl.runs import load_run, read_text, ready_model, ready_model_dir
from minidl.runs import ocr as ocr_module
from minidl.vision import (
    box_iou,
    char_accuracy,
    edit_distance,
    find_letters,
    match_boxes,
    square_crop,
    word_starts,
)

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("skimage")
pytest.importorskip("scipy")

TINY = "ocr-test-chars"
register(TINY, lambda train=True, root=None, **kw: SyntheticCharacters("train" if train else "test",
                                                                       n=288 if train else 72, **kw))
TINY_SETTINGS = {"dataset": TINY, "epochs": 1, "batch_size": 32}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINIDL_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def tiny_run(cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "chars"
    assert cli.main(["train", "--model", "lenet5", "--dataset", TINY, "--epochs", "1", "--batch-size", "32",
                     "--no-progress", "--out", str(out)]) == 0
    return load_run(out)


def _page(photo: bool = False, seed: int = 0):
    page = SyntheticTextPage(n=1, split="test", seed=seed, height=320, width=480, font_px=(26, 32)).page(0)
    return photo_like(page, rng=seed, angle=3.0, blur=1.0, lighting=0.4, noise=0.02) if photo else page


def _truth_lines(page) -> np.ndarray:
    return np.concatenate([np.full(len(line.replace(" ", "")), k) for k, line in enumerate(page.lines)])


# ------------------------------------------------------------------------------------------ framing
def test_square_crop_centres_and_keeps_the_aspect_ratio() -> None:
    bar = np.ones((20, 6))
    out = square_crop(bar, 32, pad=0.15)
    assert out.shape == (32, 32) and 0 <= out.min() and out.max() <= 1
    rows = np.flatnonzero(out.max(axis=1) > 0.5)
    cols = np.flatnonzero(out.max(axis=0) > 0.5)
    # the 20-pixel side fills 1 / 1.3 of the square, the 6-pixel side 6/20 of that, both centred
    assert abs((rows[-1] - rows[0] + 1) - 32 / 1.3) <= 1.5 and abs((cols[-1] - cols[0] + 1) - 32 / 1.3 * 6 / 20) <= 1.5
    assert abs((rows[0] + rows[-1]) / 2 - 15.5) <= 0.5 and abs((cols[0] + cols[-1]) / 2 - 15.5) <= 0.5
    shifted = square_crop(bar, 32, pad=0.15, shift=(0.0, 0.2))
    assert np.flatnonzero(shifted.max(axis=0) > 0.5).mean() > cols.mean() + 4
    with pytest.raises(errors.ShapeError):
        square_crop(np.ones(5))


# ------------------------------------------------------------------------------------------ find_letters
def test_find_letters_on_a_generated_page() -> None:
    page = _page()
    boxes, line_ids, crops = find_letters(page.image)
    assert boxes.dtype == np.int64 and boxes.shape == (len(page.boxes), 4)
    pairs = match_boxes(boxes, page.boxes)
    assert len(pairs) == len(page.boxes)  # every letter found, nothing else
    found_to_truth = dict(pairs)
    assert [found_to_truth[i] for i in range(len(boxes))] == list(range(len(boxes)))  # reading order
    assert np.array_equal(line_ids, _truth_lines(page))  # lines, top to bottom
    assert crops.shape == (len(boxes), 32, 32) and crops.dtype == np.float32
    assert np.all(crops[:, 0, :] > 0.9) and np.all(crops.min(axis=(1, 2)) < 0.3)  # dark ink framed on paper
    rgb = np.repeat(page.image[:, :, None], 3, axis=2)
    assert np.array_equal(find_letters(rgb)[0], boxes)
    assert np.array_equal(find_letters(page.image / 255.0)[0], boxes)


def test_find_letters_on_a_photo_like_page() -> None:
    page = _page(photo=True)
    boxes, line_ids, _ = find_letters(page.image)
    pairs = match_boxes(boxes, page.boxes)
    assert len(pairs) >= 0.97 * len(page.boxes)
    truth_lines = _truth_lines(page)
    assert len(np.unique(line_ids)) == len(page.lines)
    assert all(line_ids[i] == truth_lines[j] for i, j in pairs)  # rotated lines are still grouped right
    in_line = [j for i, j in sorted(pairs)]
    assert in_line == sorted(in_line)


def test_find_letters_blank_page_and_bad_input() -> None:
    boxes, line_ids, crops = find_letters(np.full((60, 80), 255, np.uint8))
    assert boxes.shape == (0, 4) and line_ids.shape == (0,) and crops.shape == (0, 32, 32)
    with pytest.raises(errors.ShapeError, match="expected an image"):
        find_letters(np.zeros((2, 3, 4, 5)))
    with pytest.raises(errors.DataError, match="NaN"):
        find_letters(np.full((10, 10), np.nan))


def test_word_starts() -> None:
    # line 0: letters at columns 0-10, 14-24 (gap 4), 40-50 (gap 16); line 1: 0-10; heights 20
    boxes = np.array([[0, 0, 20, 10], [0, 14, 20, 24], [0, 40, 20, 50], [30, 0, 50, 10]])
    assert word_starts(boxes, np.array([0, 0, 0, 1])).tolist() == [True, False, True, True]
    assert word_starts(boxes, np.array([0, 0, 0, 1]), gap=1.0).tolist() == [True, False, False, True]


# ------------------------------------------------------------------------------------------ scoring
def _levenshtein(a: str, b: str) -> int:
    """The textbook dynamic programme, cell by cell (the oracle)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return d[-1][-1]


def test_edit_distance_and_char_accuracy() -> None:
    assert edit_distance("KITTEN", "SITTING") == 3 and edit_distance("", "ABC") == 3 and edit_distance("A", "A") == 0
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = "".join(rng.choice(list("AB 1\n"), size=rng.integers(0, 12)))
        b = "".join(rng.choice(list("AB 1\n"), size=rng.integers(0, 12)))
        assert edit_distance(a, b) == _levenshtein(a, b)
    assert char_accuracy("HELLO WORLD", "HELLO WORLD") == 1.0
    assert char_accuracy("HELL0 WORLD", "HELLO WORLD") == pytest.approx(1 - 1 / 11)
    assert char_accuracy("", "") == 1.0 and char_accuracy("X", "") == 0.0


def test_box_iou_and_match_boxes() -> None:
    a = np.array([[0, 0, 10, 10], [0, 20, 10, 30]])
    b = np.array([[0, 5, 10, 15], [0, 20, 10, 30], [50, 50, 60, 60]])
    iou = box_iou(a, b)
    assert iou.shape == (2, 3)
    assert iou[0, 0] == pytest.approx(50 / 150) and iou[1, 1] == 1.0 and iou[0, 2] == 0.0
    assert match_boxes(a, b) == [(1, 1)]
    assert sorted(match_boxes(a, b, min_iou=0.3)) == [(0, 0), (1, 1)]
    assert match_boxes(np.zeros((0, 4)), b) == []


# ------------------------------------------------------------------------------------------ reading
def test_read_text_layout_follows_the_page(tiny_run) -> None:
    page = _page()
    result = read_text(page.image, tiny_run)
    assert len(result.chars) == len(page.chars) and set(result.chars) <= set(tiny_run.classes)
    assert np.all((result.probs > 0) & (result.probs <= 1))
    # lines and word breaks come from the layout alone, whatever the tiny classifier reads
    assert re.sub(r"\S", "x", result.text) == re.sub(r"\S", "x", page.text)
    assert result.lines == result.text.split("\n")


def test_read_text_refuses_a_run_that_is_not_a_character_classifier(tiny_run) -> None:
    words = dataclasses.replace(tiny_run, meta={**tiny_run.meta, "classes": ["AB"] * len(tiny_run.classes)})
    with pytest.raises(errors.DataError, match="classes are single characters"):
        read_text(_page().image, words)
    rgb = dataclasses.replace(tiny_run, meta={**tiny_run.meta, "input_shape": [3, 32, 32]})
    with pytest.raises(errors.DataError, match=r"one-channel square images.*\[3, 32, 32\]"):
        read_text(_page().image, rgb)


def test_ready_model_is_cached_and_keyed(cache, monkeypatch, capsys) -> None:
    model = ready_model(settings=TINY_SETTINGS)
    assert model.classes == SyntheticCharacters("test", n=1).classes
    assert "training the character classifier once" in capsys.readouterr().err
    assert ready_model_dir(settings=TINY_SETTINGS) == model.run_dir
    assert not [p for p in model.run_dir.parent.iterdir() if p.name.endswith(".tmp")]  # published atomically
    from minidl import runs

    monkeypatch.setattr(runs, "train_run", lambda *a, **k: pytest.fail("trained again despite the cache"))
    assert ready_model(settings=TINY_SETTINGS).run_dir == model.run_dir
    assert capsys.readouterr().err == ""
    # a new seed or a new recipe version is a new entry, never the stale model
    assert ready_model_dir(seed=1, settings=TINY_SETTINGS) != model.run_dir
    monkeypatch.setattr(ocr_module, "READY_MODEL_VERSION", ocr_module.READY_MODEL_VERSION + 1)
    assert ready_model_dir(settings=TINY_SETTINGS) != model.run_dir


# ------------------------------------------------------------------------------------------ minidl ocr
def test_cli_ocr_with_a_run(tiny_run, tmp_path, capsys) -> None:
    pages = [_page(seed=s) for s in (0, 1)]
    paths = []
    for k, page in enumerate(pages):
        paths.append(tmp_path / f"page{k}.png")
        PIL.fromarray(page.image).save(paths[-1])
    assert cli.main(["ocr", str(paths[0]), "--model", str(tiny_run.run_dir), "--annotate",
                     str(tmp_path / "boxes.png")]) == 0
    text = capsys.readouterr().out.rstrip("\n")
    assert re.sub(r"\S", "x", text) == re.sub(r"\S", "x", pages[0].text)
    with PIL.open(tmp_path / "boxes.png") as im:
        assert im.size[0] == 1000
    assert cli.main(["ocr", *map(str, paths), "--model", str(tiny_run.run_dir), "--annotate",
                     str(tmp_path / "out.png")]) == 0
    text = capsys.readouterr().out
    assert f"== {paths[0]} ==" in text and f"== {paths[1]} ==" in text
    assert (tmp_path / "out-page0.png").is_file() and (tmp_path / "out-page1.png").is_file()


def test_cli_ocr_default_model_and_errors(cache, tmp_path, monkeypatch, capsys) -> None:
    page = _page()
    path = tmp_path / "page.png"
    PIL.fromarray(page.image).save(path)
    monkeypatch.setattr(ocr_module, "_READY_SETTINGS", {**ocr_module._READY_SETTINGS, **TINY_SETTINGS})
    assert cli.main(["ocr", str(path)]) == 0  # trains (or loads) the ready model
    assert len(capsys.readouterr().out.rstrip("\n").split("\n")) == len(page.lines)
    assert cli.main(["ocr", str(tmp_path / "nope.png")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "bad.png").write_bytes(b"not an image")
    assert cli.main(["ocr", str(tmp_path / "bad.png")]) == 2
    assert "cannot read the image" in capsys.readouterr().err
    assert cli.main(["ocr", str(path), "--model", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
