"""The course's datasets: NIST36 .mat files and image/label folders built here in every layout, the synthetic
characters, pages and gaze images (determinism, caching, disjoint font splits), and scikit-learn's digits."""

from __future__ import annotations

import numpy as np
import pytest

from minidl.datasets import (
    NIST36,
    Digits,
    ImageLabelFolder,
    SyntheticCharacters,
    SyntheticGaze,
    SyntheticTextPage,
    get,
    photo_like,
    write_image_label_folder,
)
from minidl.datasets.characters import parse_classes
from minidl.datasets.fonts import FontFace, design_group, split_fonts
from minidl.errors import DataError
from minidl.utils.data import DataLoader

PIL = pytest.importorskip("PIL.Image")
sio = pytest.importorskip("scipy.io")
pytest.importorskip("skimage")

CLASSES = [chr(c) for c in range(65, 91)] + [str(d) for d in range(10)]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Every test gets its own cache folder: nothing is written to the user's ~/.cache."""
    monkeypatch.setenv("MINIDL_CACHE", str(tmp_path / "cache"))


# ------------------------------------------------------------------------------------------ NIST36
def _nist_files(root, n=6, seed=0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Write nist36_{train,valid,test}.mat as the course ships them: rows of transposed 32x32 images."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in ("train", "valid", "test"):
        images = rng.random((n, 32, 32))
        labels = rng.integers(0, 36, size=n)
        rows = images.transpose(0, 2, 1).reshape(n, 1024)  # stored column by column
        sio.savemat(root / f"nist36_{name}.mat", {f"{name}_data": rows, f"{name}_labels": np.eye(36)[labels]})
        out[name] = (images, labels)
    return out


def test_nist36_reads_each_split_upright(tmp_path) -> None:
    truth = _nist_files(tmp_path)
    for split, name in (("train", "train"), ("val", "valid"), ("test", "test")):
        ds = NIST36(tmp_path, split)
        images, labels = truth[name]
        assert ds.data.shape == (6, 32, 32) and ds.data.dtype == np.uint8
        assert np.array_equal(ds.targets, labels)
        assert np.max(np.abs(ds.data / 255.0 - images)) <= 0.5 / 255 + 1e-12  # 8-bit quantisation only
        assert np.array_equal(ds.x, images.transpose(0, 2, 1).reshape(6, 1024))  # the file's exact rows
        assert ds.y.shape == (6, 36) and np.array_equal(ds.y.argmax(1), labels)
        assert ds.classes == CLASSES
        x, y = ds[2]
        assert x.shape == (1, 32, 32) and y == labels[2]
    raw = NIST36(tmp_path, "train", transpose=False)
    assert np.array_equal(raw.data, NIST36(tmp_path, "train").data.transpose(0, 2, 1))


def test_nist36_works_with_the_loader_and_the_registry(tmp_path) -> None:
    truth = _nist_files(tmp_path, n=10)
    ds = get("nist36", train=False, root=tmp_path)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(x.shape) == (4, 1, 32, 32) and np.array_equal(y.numpy(), truth["test"][1][:4])


def test_nist36_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nist36_valid\.mat"):
        NIST36(tmp_path, "val")
    sio.savemat(tmp_path / "nist36_train.mat", {"train_data": np.zeros((2, 1024))})
    with pytest.raises(DataError, match=r"nist36_train\.mat has no \['train_labels'\]"):
        NIST36(tmp_path, "train")
    sio.savemat(tmp_path / "nist36_train.mat", {"train_data": np.zeros((2, 1024)), "train_labels": np.ones((2, 36))})
    with pytest.raises(DataError, match="one-hot"):
        NIST36(tmp_path, "train")
    sio.savemat(tmp_path / "nist36_train.mat", {"train_data": np.full((2, 1024), 2.0),
                                                "train_labels": np.eye(36)[[0, 1]]})
    with pytest.raises(DataError, match=r"pixels must lie in \[0, 1\]"):
        NIST36(tmp_path, "train")
    (tmp_path / "nist36_test.mat").write_bytes(b"not a mat file")
    with pytest.raises(DataError, match="nist36_test.mat"):
        NIST36(tmp_path, "test")
    with pytest.raises(ValueError, match="split"):
        NIST36(tmp_path, "dev")


# ------------------------------------------------------------------------------------------ ImageLabelFolder
def _images(n=5, shape=(6, 9), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _save_png(path, img) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.fromarray(img).save(path)


def test_label_folder_one_text_file_per_image(tmp_path) -> None:
    imgs, labels = _images(), [3, 0, 2, 1, 3]
    for i, (img, lab) in enumerate(zip(imgs, labels, strict=True)):
        _save_png(tmp_path / "Image" / f"eye_{i}.png", img)
        (tmp_path / "Label").mkdir(exist_ok=True)
        (tmp_path / "Label" / f"eye_{i}.txt").write_text(f"{lab}\n")
    ds = ImageLabelFolder(tmp_path)
    assert len(ds) == 5 and ds.classes == ["0", "1", "2", "3"] and ds.targets == labels
    for i in range(5):
        x, y = ds[i]
        assert x.shape == (1, 6, 9) and x.dtype == np.float32  # greyscale stays one channel
        assert np.allclose(x[0], imgs[i] / 255.0) and y == labels[i]
    batch_x, batch_y = next(iter(DataLoader(ds, batch_size=5)))
    assert tuple(batch_x.shape) == (5, 1, 6, 9) and batch_y.numpy().tolist() == labels


@pytest.mark.parametrize("header", [True, False])
def test_label_folder_one_csv(tmp_path, header: bool) -> None:
    imgs = _images(3)
    names = ["a.png", "b.png", "c.png"]
    for name, img in zip(names, imgs, strict=True):
        _save_png(tmp_path / "imgs" / name, img)
    rows = (["filename,gaze"] if header else []) + ["c,left", "a.png,right", "b,left"]  # with and without suffix
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    ds = ImageLabelFolder(tmp_path, images="imgs", labels="labels.csv")
    assert ds.classes == ["left", "right"]  # string labels: class names in sorted order
    assert [s[1] for s in ds.samples] == [1, 0, 0]
    assert np.allclose(ds[2][0][0], imgs[2] / 255.0)


def test_label_folder_rgb_and_errors(tmp_path) -> None:
    _save_png(tmp_path / "Image" / "x.png", _images(1, (4, 4, 3))[0])
    (tmp_path / "Label").mkdir()
    with pytest.raises(DataError, match=r"no label for .*x\.png"):
        ImageLabelFolder(tmp_path)
    (tmp_path / "Label" / "x.txt").write_text("2")
    assert ImageLabelFolder(tmp_path)[0][0].shape == (3, 4, 4)
    (tmp_path / "l.csv").write_text("x.png,1\nmissing.png,0\n")
    with pytest.raises(DataError, match=r"row 2 names 'missing.png'"):
        ImageLabelFolder(tmp_path, labels="l.csv")
    with pytest.raises(FileNotFoundError, match="neither a folder"):
        ImageLabelFolder(tmp_path, labels="nothing.csv")
    with pytest.raises(FileNotFoundError, match="image folder"):
        ImageLabelFolder(tmp_path, images="Images")


@pytest.mark.parametrize("labels_to", ["Label", "labels.csv"])
def test_write_image_label_folder_round_trip(tmp_path, labels_to: str) -> None:
    imgs, labels = _images(4, (36, 120)), [0, 3, 1, 2]
    write_image_label_folder(imgs, labels, tmp_path, labels_to=labels_to)
    ds = ImageLabelFolder(tmp_path, labels=labels_to)
    assert ds.targets == labels
    assert all(np.array_equal(np.round(ds[i][0][0].numpy() * 255).astype(np.uint8), imgs[i]) for i in range(4))


# ------------------------------------------------------------------------------------------ fonts
def test_design_groups_and_splits() -> None:
    assert design_group("STIXGeneral") == design_group("Liberation Serif") == "times"
    assert design_group("DejaVu Sans Mono") == "dejavu-sans-mono" and design_group("DejaVu Sans") == "dejavu-sans"
    assert design_group("cmr10") == design_group("cmb10") == "cm-roman"
    assert design_group("Some New Font") == "some new font"

    def face(family: str, style: str = "Regular") -> FontFace:
        return FontFace(f"/f/{family}-{style}.ttf", family, style, design_group(family))

    faces = [face("DejaVu Sans"), face("DejaVu Sans", "Bold"), face("STIXGeneral"), face("cmss10"), face("cmtt10"),
             face("cmr10"), face("Liberation Serif")]
    splits = split_fonts(faces)
    assert {f.family for f in splits["test"]} == {"STIXGeneral", "Liberation Serif", "cmss10"}
    assert {f.family for f in splits["val"]} == {"cmtt10"}
    assert {f.family for f in splits["train"]} == {"DejaVu Sans", "cmr10"}
    # without the held-out designs every split still gets one, and never shares a design with another
    other = split_fonts([face("A"), face("B"), face("C"), face("D")])
    groups = [{f.group for f in other[s]} for s in ("train", "val", "test")]
    assert all(groups) and not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    with pytest.raises(FileNotFoundError, match="at least 3 different designs"):
        split_fonts([face("A"), face("B")])


# ------------------------------------------------------------------------------------------ SyntheticCharacters
def test_parse_classes() -> None:
    assert parse_classes("A-Z0-9") == CLASSES
    assert parse_classes("AB0-2") == ["A", "B", "0", "1", "2"]
    for bad in ("", "Z-A", "AA", "A B"):
        with pytest.raises(ValueError):
            parse_classes(bad)


def test_synthetic_characters_deterministic_and_disjoint() -> None:
    a = SyntheticCharacters("train", n=72, seed=3, cache=False)
    b = SyntheticCharacters("train", n=72, seed=3, cache=False)
    assert a.data.shape == (72, 32, 32) and a.data.dtype == np.uint8
    assert np.array_equal(a.data, b.data) and np.array_equal(a.targets, np.arange(72) % 36)
    assert not np.array_equal(a.data, SyntheticCharacters("train", n=72, seed=4, cache=False).data)
    prefix = SyntheticCharacters("train", n=40, seed=3, cache=False)  # image i does not depend on n
    assert np.array_equal(prefix.data, a.data[:40])
    assert a.classes == CLASSES
    # dark ink on white paper, the letter framed with a margin
    assert np.median(a.data[:, 0, :]) > 200 and a.data.min() < 60
    groups = {s: {f.group for f in SyntheticCharacters(s, n=1, cache=False).fonts} for s in ("train", "val", "test")}
    assert not (groups["train"] & groups["val"] or groups["train"] & groups["test"] or groups["val"] & groups["test"])
    assert set(a.font_index) <= set(range(len(a.fonts)))


def test_synthetic_characters_cache(tmp_path, monkeypatch) -> None:
    first = SyntheticCharacters("val", n=36, size=16, classes="A-F")
    files = list((tmp_path / "cache" / "synthetic").glob("characters-val-*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(SyntheticCharacters, "_generate", lambda *a: pytest.fail("regenerated despite the cache"))
    again = SyntheticCharacters("val", n=36, size=16, classes="A-F")
    assert np.array_equal(first.data, again.data) and first.data.shape == (36, 16, 16)
    assert again.classes == list("ABCDEF")
    # another setting is another entry, not the stale one
    monkeypatch.undo()
    monkeypatch.setenv("MINIDL_CACHE", str(tmp_path / "cache"))
    SyntheticCharacters("val", n=36, size=16, classes="A-F", seed=1)
    assert len(list((tmp_path / "cache" / "synthetic").glob("characters-val-*.npz"))) == 2


def test_synthetic_characters_registry_and_loader() -> None:
    ds = get("synthetic-characters", train=False, n=36, cache=False)
    assert ds.split == "test"
    x, y = next(iter(DataLoader(ds, batch_size=8)))
    assert tuple(x.shape) == (8, 1, 32, 32) and y.numpy().tolist() == list(range(8))
    with pytest.raises(ValueError, match="split"):
        SyntheticCharacters("dev")


# ------------------------------------------------------------------------------------------ SyntheticTextPage
def test_text_pages_ground_truth() -> None:
    ds = SyntheticTextPage(n=2, split="test", height=300, width=400, font_px=(24, 30))
    page = ds.page(1)
    again = SyntheticTextPage(n=2, split="test", height=300, width=400, font_px=(24, 30)).page(1)
    assert np.array_equal(page.image, again.image) and page.text == again.text
    assert page.image.shape == (300, 400) and page.font in ds.fonts
    assert len(page.boxes) == len(page.chars) > 10
    assert set(page.chars) <= set(CLASSES) and ds[1][1] == page.text
    for r0, c0, r1, c1 in page.boxes:  # each box holds ink up to its four edges
        glyph = page.image[r0:r1, c0:c1] < 255
        assert glyph[0].any() and glyph[-1].any() and glyph[:, 0].any() and glyph[:, -1].any()
    ink = page.image < 255
    covered = np.zeros_like(ink)
    for r0, c0, r1, c1 in page.boxes:
        covered[r0:r1, c0:c1] = True
    assert not (ink & ~covered).any()  # no ink outside the boxes


def test_photo_like_moves_the_boxes_with_the_page() -> None:
    page = SyntheticTextPage(n=1, height=300, width=400, font_px=(24, 30)).page(0)
    photo = photo_like(page, rng=0, angle=3.0, blur=0.0, lighting=0.0, noise=0.0)
    assert photo.image.shape[0] > 300 and photo.image.shape[1] > 400  # grown to hold the rotated page
    for (r0, c0, r1, c1), (q0, d0, q1, d1) in zip(page.boxes, photo.boxes, strict=True):
        glyph = photo.image[q0:q1, d0:d1] < 128
        assert glyph.sum() > 0.8 * (page.image[r0:r1, c0:c1] < 128).sum()
    # counter-clockwise: the first line's last letter is higher (smaller row) than its first letter
    first_line = len(page.lines[0].replace(" ", ""))
    assert photo.boxes[first_line - 1, 0] - photo.boxes[0, 0] < page.boxes[first_line - 1, 0] - page.boxes[0, 0]


# ------------------------------------------------------------------------------------------ SyntheticGaze
def test_synthetic_gaze() -> None:
    ds = SyntheticGaze("train", n=300, seed=1)
    assert ds.data.shape == (300, 36, 120) and ds.classes == ["up-left", "up-right", "down-left", "down-right"]
    assert np.array_equal(ds.targets, np.arange(300) % 4)
    assert np.array_equal(SyntheticGaze("train", n=100, seed=1).data, ds.data[:100])  # prefix-stable
    assert not np.array_equal(SyntheticGaze("test", n=100, seed=1).data, ds.data[:100])
    # the pupil (darkest spot, after smoothing away the noise) sits left of the eye's centre for the left classes
    smooth = ds.data.astype(float)
    smooth = (smooth[:, :-2] + smooth[:, 1:-1] + smooth[:, 2:])[:, :, :-2] / 3
    col = smooth.reshape(300, -1).argmin(1) % smooth.shape[2]
    left = np.isin(ds.targets, [0, 2])
    assert col[~left].mean() - col[left].mean() > 8
    x, y = ds[0]
    assert x.shape == (1, 36, 120) and y == 0


# ------------------------------------------------------------------------------------------ Digits
def test_digits_split() -> None:
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797 and train.data.shape[1:] == (8, 8)
    counts = np.bincount(test.targets, minlength=10)
    assert np.all(np.abs(counts - 0.2 * np.bincount(load_digits().target)) <= 0.5)  # stratified 20%
    levels = train.data.astype(np.float64) * 16 / 255.0
    assert np.allclose(levels, np.round(levels), atol=0.04)  # the 17 grey levels, one to one
    pool = {(img.tobytes(), int(t)) for img, t in zip(np.round(load_digits().images).astype(np.uint8),
                                                      load_digits().target, strict=True)}
    mine = {(np.round(img.astype(np.float64) * 16 / 255.0).astype(np.uint8).tobytes(), int(t))
            for img, t in zip(np.concatenate([train.data, test.data]), np.concatenate([train.targets, test.targets]),
                              strict=True)}
    assert mine == pool
    assert np.array_equal(Digits(train=False, seed=0).data, test.data)
    assert not np.array_equal(Digits(train=False, seed=1).data, test.data)
