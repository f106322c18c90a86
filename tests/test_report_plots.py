"""minidl.report.plots: the pure-NumPy helpers against hand-computed values and brute-force oracles, every
figure as a PNG of the documented pixel size, atomic writes, thread safety, and the no-matplotlib path."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl.report import plots
from minidl.report._util import atomic_path, atomic_write_text, get_series

SMALL = {"figsize": (4.0, 3.0), "dpi": 50}  # 200 x 150 px: fast to draw and still checks the size contract
SMALL_PX = (150, 200)


def png_shape(path: Path) -> tuple[int, int]:
    """(height, width) of a PNG, read back by matplotlib's own PNG reader."""
    from matplotlib.image import imread

    img = imread(os.fspath(path))
    assert img.ndim == 3 and img.shape[2] in (3, 4)
    return img.shape[:2]


@pytest.fixture
def mpl():
    return pytest.importorskip("matplotlib")


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


# ============================================================================================ pure NumPy
class TestConfusionMatrix:
    def test_hand_computed(self):
        y_true = [0, 0, 1, 1, 2, 2, 2]
        y_pred = [0, 1, 1, 1, 2, 0, 2]
        # rows = true class, columns = predicted, counted by hand
        expected = np.array([[1, 1, 0],
                             [0, 2, 0],
                             [1, 0, 2]])  # fmt: skip
        cm = plots.confusion_matrix(y_true, y_pred, 3)
        np.testing.assert_array_equal(cm, expected)
        assert cm.dtype == np.int64
        np.testing.assert_allclose(plots.per_class_accuracy(cm), [1 / 2, 2 / 2, 2 / 3])

    def test_against_brute_force(self, rng):
        t = rng.integers(0, 7, 300)
        p = rng.integers(0, 7, 300)
        brute = np.zeros((7, 7), dtype=np.int64)
        for a, b in zip(t, p, strict=True):
            brute[a, b] += 1
        np.testing.assert_array_equal(plots.confusion_matrix(t, p, 7), brute)

    def test_scores_are_argmaxed_and_empty_classes(self):
        scores = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
        cm = plots.confusion_matrix([1, 1], scores, 3)
        np.testing.assert_array_equal(cm, [[0, 0, 0], [1, 1, 0], [0, 0, 0]])
        acc = plots.per_class_accuracy(cm)
        assert np.isnan(acc[0]) and acc[1] == 0.5 and np.isnan(acc[2])

    def test_bad_input(self):
        with pytest.raises(ValueError, match=r"confusion_matrix: y_true labels must lie in \[0, 2\)"):
            plots.confusion_matrix([0, 2], [0, 1], 2)
        with pytest.raises(ValueError, match="same length"):
            plots.confusion_matrix([0, 1, 1], [0, 1], 2)
        with pytest.raises(TypeError, match="integer class labels"):
            plots.confusion_matrix([0.5, 1.0], [0, 1], 2)
        with pytest.raises(ValueError, match=r"square \(K, K\)"):
            plots.per_class_accuracy(np.zeros((2, 3)))


class TestPSNR:
    def test_hand_computed(self):
        # mse = 0.1^2 / 4 = 0.0025, psnr = 10 log10(1 / 0.0025) = 10 log10(400)
        assert plots.psnr(np.zeros(4), [0.1, 0, 0, 0]) == pytest.approx(26.020599913279625, rel=1e-12)
        # bytes: mse = 255^2 / 2, psnr = 10 log10(2)
        assert plots.psnr([0.0, 0.0], [255.0, 0.0], data_range=255.0) == pytest.approx(3.010299956639812)

    def test_batch_and_identical(self):
        a = np.zeros((3, 2, 2))
        b = a.copy()
        b[0, 0, 0] = 0.1  # mse 0.0025 -> 26.02 dB
        b[1] = 1.0  # mse 1 -> 0 dB
        got = plots.psnr(a, b, batch=True)
        np.testing.assert_allclose(got[:2], [26.020599913279625, 0.0], atol=1e-12)
        assert got[2] == np.inf
        assert plots.psnr(a, a) == np.inf

    def test_no_overflow_at_extremes(self):
        # a ratio R^2 / mse would overflow here; the difference of logs does not (warnings are errors)
        assert plots.psnr([0.0], [1e-150], data_range=1e200) == pytest.approx(20 * 200 + 10 * 300)

    def test_errors(self):
        with pytest.raises(ValueError, match="same shape"):
            plots.psnr(np.zeros(3), np.zeros(4))
        with pytest.raises(ValueError, match="data_range"):
            plots.psnr(np.zeros(3), np.zeros(3), data_range=0)


class TestMovingAverage:
    def test_matches_convolution_once_the_window_is_full(self, rng):
        x = rng.normal(size=50)
        w = 7
        oracle = np.convolve(x, np.ones(w) / w, mode="valid")
        np.testing.assert_allclose(plots.moving_average(x, w)[w - 1 :], oracle, rtol=1e-12)
        np.testing.assert_allclose(plots.moving_average(x, w)[:3], [x[0], x[:2].mean(), x[:3].mean()])

    def test_skips_non_finite(self):
        got = plots.moving_average([1.0, np.nan, 3.0, np.inf, np.inf], 2)
        np.testing.assert_allclose(got[:4], [1.0, 1.0, 3.0, 3.0])
        assert np.isnan(got[4])


class TestVisualizeGrid:
    def test_shape_and_placement(self, rng):
        n, h, w, c, p = 5, 2, 3, 1, 1
        x = rng.normal(size=(n, h, w, c)).astype(np.float32)
        grid = plots.visualize_grid(x, ubound=255.0, padding=p)
        g = 3  # ceil(sqrt(5))
        assert grid.shape == (g * h + (g - 1) * p, g * w + (g - 1) * p, c) == (8, 11, 1)
        assert grid.dtype == np.float32
        for i in range(n):
            r, col = divmod(i, g)
            block = grid[r * (h + p) : r * (h + p) + h, col * (w + p) : col * (w + p) + w]
            expected = 255.0 * (x[i] - x[i].min()) / (x[i].max() - x[i].min())
            np.testing.assert_allclose(block, expected, rtol=1e-5, atol=1e-4)
        # separators and the unused cells (5 of 9 used) are zero
        assert np.all(grid[h, :] == 0) and np.all(grid[:, w] == 0)
        assert np.all(grid[2 * (h + p) :, 2 * (w + p) :] == 0)
        assert np.all(grid[1 * (h + p) : 1 * (h + p) + h, 2 * (w + p) :] == 0)

    def test_rgb_constant_image_and_no_padding(self):
        x = np.zeros((4, 2, 2, 3))
        x[1] = np.arange(12).reshape(2, 2, 3)
        grid = plots.visualize_grid(x, ubound=1.0, padding=0)
        assert grid.shape == (4, 4, 3)
        assert np.all(grid[:2, :2] == 0)  # a constant image becomes 0, no division by zero
        np.testing.assert_allclose(grid[:2, 2:], np.arange(12).reshape(2, 2, 3) / 11)

    def test_bad_shape(self):
        with pytest.raises(ValueError, match=r"visualize_grid: expected images \(N, H, W, C\)"):
            plots.visualize_grid(np.zeros((3, 4, 4)))


class TestAtomicAndHistory:
    def test_atomic_path_keeps_old_file_on_error(self, tmp_path):
        dest = tmp_path / "x.png"
        dest.write_bytes(b"old")
        with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
        assert dest.read_bytes() == b"old"
        assert leftovers(tmp_path) == []

    @pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
    def test_written_files_get_umask_permissions(self, tmp_path):
        # a private 0600 temporary file (as mkstemp makes) must not end up as the published file
        umask = os.umask(0o022)
        os.umask(umask)
        out = atomic_write_text(tmp_path / "r.md", "x")
        assert out.stat().st_mode & 0o777 == 0o666 & ~umask

    def test_history_forms(self):
        flat = {"loss": [3.0, 2.0], "val_acc": [None, 0.5]}
        nested = {"loss": [3.0, 2.0], "metrics": {"val_acc": [None, 0.5], "val_loss": [None, None]}}
        for h in (flat, nested):
            np.testing.assert_array_equal(get_series(h, "loss"), [3.0, 2.0])
            got = get_series(h, "val_acc")
            assert np.isnan(got[0]) and got[1] == 0.5
        assert get_series(nested, "val_loss") is None  # never measured
        assert get_series(flat, "lr") is None


# ============================================================================================ figures
class TestFigures:
    def test_default_sizes(self, mpl, tmp_path):
        assert png_shape(plots.plot_loss(np.linspace(2, 0.1, 60), tmp_path / "loss.png")) == (500, 800)
        cm = plots.plot_confusion_matrix([0, 1, 1], [0, 1, 0], ["a", "b"], tmp_path / "cm.png")
        assert png_shape(cm) == (800, 800)
        assert leftovers(tmp_path) == []

    def test_loss_with_divergence(self, mpl, tmp_path):
        losses = np.exp(-np.arange(300) / 50.0)
        losses[[10, 200]] = [np.nan, np.inf]
        out = plots.plot_loss(losses, tmp_path / "sub" / "loss.png", smooth=20, iters_per_epoch=50, **SMALL)
        assert out == tmp_path / "sub" / "loss.png" and png_shape(out) == SMALL_PX
        assert png_shape(plots.plot_loss([1.0, 0.5], tmp_path / "raw.png", smooth=1, **SMALL)) == SMALL_PX
        with pytest.raises(ValueError, match="no finite values"):
            plots.plot_loss([np.nan, np.inf], tmp_path / "bad.png")

    def test_accuracy_and_lr(self, mpl, tmp_path):
        out = plots.plot_accuracy([0.5, 0.7, 0.9], [0.4, 0.6, 0.55], tmp_path / "acc.png", **SMALL)
        assert png_shape(out) == SMALL_PX
        # no validation set: val series missing or all None
        assert png_shape(plots.plot_accuracy([50.0, 60.0], [None, None], tmp_path / "a2.png", **SMALL)) == SMALL_PX
        assert png_shape(plots.plot_lr([0.1] * 3 + [0.01] * 3, tmp_path / "lr.png", **SMALL)) == SMALL_PX
        with pytest.raises(ValueError, match="plot_accuracy: nothing to plot"):
            plots.plot_accuracy(None, [], tmp_path / "none.png")

    def test_curves_overlay_runs(self, mpl, tmp_path):
        class HistoryLike:  # duck-typed like minidl.training.History: `in` and [] only
            def __init__(self, d):
                self.d = d

            def __contains__(self, k):
                return k in self.d

            def __getitem__(self, k):
                return self.d[k]

        runs = {
            "sgd": {"loss": list(np.linspace(2, 1, 100)), "val_acc": [0.2, 0.4]},
            "momentum": {"loss": list(np.linspace(2, 0.5, 100)), "metrics": {"val_acc": [0.3, 0.6]}},
            "lr=1e-1 (diverged)": HistoryLike({"loss": [2.0, 50.0, np.inf, np.nan], "val_acc": [0.1, None]}),
        }
        assert png_shape(plots.plot_curves(runs, tmp_path / "loss.png", "loss", **SMALL)) == SMALL_PX
        assert png_shape(plots.plot_curves(runs, tmp_path / "va.png", "val_acc", **SMALL)) == SMALL_PX
        with pytest.raises(ValueError, match=r"run 'sgd' has no series 'val_loss'; it has \['loss', 'val_acc'\]"):
            plots.plot_curves(runs, tmp_path / "x.png", "val_loss")

    def test_curves_legend_limit_names_the_first_runs(self, mpl, tmp_path, monkeypatch):
        figs = []
        monkeypatch.setattr(plots, "_save", lambda fig, path: figs.append(fig) or Path(path))
        runs = {f"run{i}": {"val_acc": [0.1 * i, 0.1 * i + 0.05]} for i in range(5)}
        plots.plot_curves(runs, tmp_path / "x.png", "val_acc", legend_limit=2)
        ax = figs[0].axes[0]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["run0", "run1"]
        assert len(ax.get_lines()) == 5  # every run is drawn
        assert all(float(t).is_integer() for t in ax.get_xticks())  # whole epochs on the axis

    def test_plot_history_writes_what_exists(self, mpl, tmp_path):
        hist = {"loss": [2.0, 1.0, 0.5], "metrics": {"train_acc": [0.5, 0.8], "val_acc": [None, None],
                                                      "train_loss": [1.0, 0.6], "val_loss": [None, None],
                                                      "lr": [None, None]}}  # fmt: skip
        figs = plots.plot_history(hist, tmp_path, dpi=20)
        assert sorted(p.name for p in figs.values()) == ["accuracy.png", "epoch_loss.png", "loss.png"]
        assert all(png_shape(p) == (100, 160) for p in figs.values())  # 8 x 5 in at 20 dpi

    def test_confusion_matrix_figure(self, mpl, tmp_path):
        y = np.arange(30) % 3
        out = plots.plot_confusion_matrix(y, np.roll(y, 1), ["cat", "dog", "bird"], tmp_path / "cm.png",
                                          normalize=True, **SMALL)
        assert png_shape(out) == SMALL_PX
        out = plots.plot_confusion_matrix(y, y, None, tmp_path / "cm2.png", normalize=False, **SMALL)
        assert png_shape(out) == SMALL_PX

    @pytest.mark.parametrize("shape", [(12, 1, 8, 8), (12, 8, 8), (12, 3, 6, 6), (12, 6, 6, 3)])
    def test_misclassified_layouts(self, mpl, tmp_path, rng, shape):
        images = rng.normal(size=shape) * 40 + 100  # any float range
        y = np.arange(12) % 4
        pred = np.where(np.arange(12) % 3 == 0, (y + 1) % 4, y)
        probs = rng.dirichlet(np.ones(4), size=12)
        out = plots.plot_misclassified(images, y, pred, list("ABCD"), tmp_path / "m.png", max_images=3,
                                       probs=probs, **SMALL)
        assert png_shape(out) == SMALL_PX

    def test_misclassified_none_wrong_and_errors(self, mpl, tmp_path):
        imgs = np.zeros((4, 5, 5))
        assert png_shape(plots.plot_misclassified(imgs, [0, 1, 0, 1], [0, 1, 0, 1], None, tmp_path / "n.png",
                                                  **SMALL)) == SMALL_PX
        with pytest.raises(ValueError, match="same length"):
            plots.plot_misclassified(imgs, [0, 1], [0, 1], None, tmp_path / "e.png")
        with pytest.raises(ValueError, match=r"images must be \(N, H, W\)"):
            plots.plot_misclassified(np.zeros((4, 5)), [0] * 4, [1] * 4, None, tmp_path / "e.png")

    def test_filters(self, mpl, tmp_path, rng):
        for name, w in [("conv_rgb", rng.normal(size=(6, 3, 5, 5))), ("conv_gray", rng.normal(size=(4, 1, 3, 3))),
                        ("fc_square", rng.normal(size=(10, 784))), ("fc_rgb", rng.normal(size=(5, 3 * 16)))]:
            assert png_shape(plots.plot_filters(w, tmp_path / f"{name}.png", **SMALL)) == SMALL_PX
        # a non-square fan-in needs image_shape, which must match it
        w = minidl.tensor(rng.normal(size=(3, 20)).astype(np.float32))
        assert png_shape(plots.plot_filters(w, tmp_path / "t.png", image_shape=(4, 5), **SMALL)) == SMALL_PX
        with pytest.raises(ValueError, match="pass image_shape"):
            plots.plot_filters(rng.normal(size=(3, 20)), tmp_path / "x.png")
        with pytest.raises(ValueError, match="does not match in=20"):
            plots.plot_filters(rng.normal(size=(3, 20)), tmp_path / "x.png", image_shape=(4, 4))
        with pytest.raises(ValueError, match="1 or 3 input channels"):
            plots.plot_filters(rng.normal(size=(8, 6, 3, 3)), tmp_path / "x.png")

    def test_decision_boundary_output_forms(self, mpl, tmp_path, rng):
        X = rng.normal(size=(40, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # XOR-like
        seen = []

        def scores(pts):
            seen.append((pts.dtype, pts.shape))
            s = pts[:, 0] * pts[:, 1]
            return np.stack([-s, s], axis=1)

        res = 30
        out = plots.plot_decision_boundary(scores, X, y, tmp_path / "db.png", resolution=res, **SMALL)
        assert png_shape(out) == SMALL_PX
        # one batched float32 call: the whole grid, then the 40 points
        assert seen == [(np.float32, (res * res + 40, 2))]
        for name, fn in [("labels", lambda p: (p[:, 0] * p[:, 1] > 0).astype(np.int64)),
                         ("probs", lambda p: 1 / (1 + np.exp(-np.clip(p[:, 0] * p[:, 1], -30, 30)))),
                         ("tensor", lambda p: minidl.tensor(p[:, :1] * p[:, 1:]))]:
            assert png_shape(plots.plot_decision_boundary(fn, X, y, tmp_path / f"{name}.png", resolution=res,
                                                          **SMALL)) == SMALL_PX
        with pytest.raises(ValueError, match=r"predict_fn returned shape \(3,\)"):
            plots.plot_decision_boundary(lambda p: np.zeros(3), X, y, tmp_path / "bad.png", resolution=res)
        with pytest.raises(ValueError, match=r"predict_fn returned shape \(3,\)"):
            plots.plot_decision_boundary(lambda p: np.zeros(3), X, y, tmp_path / "bad.png", resolution=res,
                                         surface="probability")
        with pytest.raises(ValueError, match=r"X must be 2-D points \(N, 2\)"):
            plots.plot_decision_boundary(scores, np.zeros((4, 3)), [0] * 4, tmp_path / "bad.png")

    def test_reconstructions(self, mpl, tmp_path, rng):
        a = rng.random((12, 1, 6, 6))
        out = plots.plot_reconstructions(a, a + 0.05 * rng.normal(size=a.shape), tmp_path / "r.png", n=12,
                                         data_range=1.0, **SMALL)
        assert png_shape(out) == SMALL_PX
        assert png_shape(plots.plot_reconstructions(a[:, 0], a[:, 0], tmp_path / "same.png", **SMALL)) == SMALL_PX
        with pytest.raises(ValueError, match="one shape"):
            plots.plot_reconstructions(a, a[:5], tmp_path / "x.png")

    def test_threads_do_not_share_figures(self, mpl, tmp_path):
        def work(i):
            return plots.plot_loss(np.linspace(3, 0.1 * (i + 1), 200), tmp_path / f"l{i}.png", **SMALL)

        with ThreadPoolExecutor(max_workers=4) as ex:
            paths = list(ex.map(work, range(4)))
        assert all(png_shape(p) == SMALL_PX for p in paths)
        assert leftovers(tmp_path) == []


class TestMetricVsParams:
    POINTS = [{"val_acc": 0.80, "lr": 1e-3, "hidden": [100], "opt": "sgd"},
              {"val_acc": 0.60, "lr": 1e-1, "hidden": [50], "opt": "adam"},
              {"val_acc": None, "lr": 1e-2, "hidden": [50], "opt": "sgd"},  # a failed trial: left out
              {"val_acc": 0.70, "lr": 1e-2, "hidden": [50], "opt": "adam"}]

    def capture(self, monkeypatch):
        figs = []
        monkeypatch.setattr(plots, "_save", lambda fig, path: figs.append(fig) or Path(path))
        return figs

    def test_panels_scales_and_categories(self, mpl, tmp_path, monkeypatch):
        figs = self.capture(monkeypatch)
        plots.plot_metric_vs_params(self.POINTS, ["lr", "hidden", "opt"], "val_acc", tmp_path / "x.png",
                                    log_params=["lr"], highlight=0)
        axes = [ax for ax in figs[0].axes if ax.axison]
        assert [ax.get_xlabel() for ax in axes] == ["lr", "hidden", "opt"]
        assert axes[0].get_xscale() == "log" and axes[1].get_xscale() == "linear"
        # categories as their text, in their natural order ([50] < [100], "adam" < "sgd")
        assert [t.get_text() for t in axes[1].get_xticklabels()] == ["[50]", "[100]"]
        assert [t.get_text() for t in axes[2].get_xticklabels()] == ["adam", "sgd"]
        # three finite points per panel, plus the star on the best (index 0: lr 1e-3, val_acc 0.8)
        dots, star = axes[0].collections
        np.testing.assert_allclose(dots.get_offsets(), [[1e-3, 0.8], [1e-1, 0.6], [1e-2, 0.7]])
        np.testing.assert_allclose(star.get_offsets(), [[1e-3, 0.8]])
        np.testing.assert_allclose(axes[2].collections[0].get_offsets()[:, 0], [1, 0, 0])

    def test_png_size_and_errors(self, mpl, tmp_path):
        one = plots.plot_metric_vs_params(self.POINTS, ["lr"], "val_acc", tmp_path / "one.png", dpi=20)
        assert png_shape(one) == (80, 128)  # a lone panel: 6.4 x 4 in
        four = plots.plot_metric_vs_params(self.POINTS, ["lr", "hidden", "opt", "lr"], "val_acc",
                                           tmp_path / "four.png", dpi=20)
        assert png_shape(four) == (140, 240)  # 3 columns x 2 rows of 4 x 3.5 in
        with pytest.raises(ValueError, match="no hyperparameters given"):
            plots.plot_metric_vs_params(self.POINTS, [], "val_acc", tmp_path / "x.png")
        with pytest.raises(ValueError, match="no point has a finite 'test_acc'"):
            plots.plot_metric_vs_params(self.POINTS, ["lr"], "test_acc", tmp_path / "x.png")
        assert leftovers(tmp_path) == []


# ============================================================================================ without matplotlib
PLOT_CALLS = {
    "plot_loss": lambda d: plots.plot_loss([1.0, 0.5], d / "x.png"),
    "plot_accuracy": lambda d: plots.plot_accuracy([0.5], [0.4], d / "x.png"),
    "plot_lr": lambda d: plots.plot_lr([0.1], d / "x.png"),
    "plot_curves": lambda d: plots.plot_curves({"a": {"loss": [1.0]}}, d / "x.png", "loss"),
    "plot_history": lambda d: plots.plot_history({"loss": [1.0]}, d),
    "plot_confusion_matrix": lambda d: plots.plot_confusion_matrix([0], [0], ["a"], d / "x.png"),
    "plot_misclassified": lambda d: plots.plot_misclassified(np.zeros((1, 2, 2)), [0], [1], None, d / "x.png"),
    "plot_filters": lambda d: plots.plot_filters(np.zeros((2, 1, 3, 3)), d / "x.png"),
    "plot_decision_boundary": lambda d: plots.plot_decision_boundary(
        lambda p: pytest.fail("predict_fn must not run without matplotlib"), np.zeros((2, 2)), [0, 1], d / "x.png"),
    "plot_reconstructions": lambda d: plots.plot_reconstructions(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)),
                                                                 d / "x.png"),
    "plot_metric_vs_params": lambda d: plots.plot_metric_vs_params([{"acc": 0.5, "lr": 0.1}], ["lr"], "acc",
                                                                   d / "x.png"),
    "plot_misclassified_per_class": lambda d: plots.plot_misclassified_per_class(np.zeros((1, 2, 2)), [0], [1],
                                                                                 None, d / "x.png"),
    "plot_per_class_accuracy": lambda d: plots.plot_per_class_accuracy([0], [0], ["a"], d / "x.png"),
    "plot_letter_boxes": lambda d: plots.plot_letter_boxes(np.zeros((4, 4)), [[0, 0, 2, 2]], d / "x.png"),
}


def test_every_plot_function_is_covered():
    assert set(PLOT_CALLS) == {n for n in plots.__all__ if n.startswith("plot_")}


@pytest.mark.parametrize("name", sorted(PLOT_CALLS))
def test_missing_matplotlib_gives_install_hint(monkeypatch, tmp_path, name):
    monkeypatch.setattr(plots, "plots_available", lambda: False)
    with pytest.raises(ImportError, match=rf'{name}: plotting needs matplotlib.*pip install "minidl\[plot\]"'):
        PLOT_CALLS[name](tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_plots_available_detects_a_missing_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    assert plots.plots_available() is False
    with pytest.raises(ImportError, match=r'pip install "minidl\[plot\]"'):
        plots.plot_lr([0.1], "never-written.png")
    # the pure-NumPy helpers keep working
    assert plots.confusion_matrix([0], [0], 1).tolist() == [[1]]


def test_import_is_lazy_and_pyplot_is_never_used(mpl, tmp_path):
    code = textwrap.dedent(f"""
        import sys
        import minidl, minidl.report
        assert "matplotlib" not in sys.modules, "importing minidl.report imported matplotlib"
        from minidl.report import plot_loss
        plot_loss([1.0, 0.5, 0.25], {os.fspath(tmp_path / "p.png")!r}, dpi=10)
        assert "matplotlib" in sys.modules and "matplotlib.pyplot" not in sys.modules
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    assert math.prod(png_shape(tmp_path / "p.png")) == 80 * 50
