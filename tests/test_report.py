"""minidl.report.write_report: report.md and a self-contained report.html, checked by parsing them.

Figures are tiny PNGs built here with zlib, so these tests need neither matplotlib nor Pillow.
"""

from __future__ import annotations

import base64
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from minidl.report import ReportFiles, figure_section, write_report


def tiny_png(path: Path, width: int = 3, height: int = 2, shade: int = 0) -> Path:
    """A valid grayscale PNG (signature, IHDR, IDAT, IEND chunks with CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))  # filter byte 0 per row
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


class DocParser(HTMLParser):
    """Collects img tags, headings, table rows (with their class) and the text of the document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.imgs: list[dict[str, str | None]] = []
        self.headings: list[tuple[str, str]] = []
        self.rows: list[tuple[str | None, list[str]]] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._heading: str | None = None
        self._cell: list[str] | None = None
        self._row: tuple[str | None, list[str]] | None = None
        self._title = False
        self.title = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a)
        elif tag in ("h1", "h2", "h3"):
            self._heading = ""
        elif tag == "tr":
            self._row = (a.get("class"), [])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "title":
            self._title = True

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append((tag, self._heading))
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "title":
            self._title = False

    def handle_data(self, data):
        self.text.append(data)
        if self._heading is not None:
            self._heading += data
        if self._cell is not None:
            self._cell.append(data)
        if self._title:
            self.title += data


def parse(path: Path) -> DocParser:
    p = DocParser()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p


HISTORY = {
    "loss": [2.3, 2.0, 1.6, 1.2, 0.9, 0.7, 0.5, 0.4, 0.35, 0.3],
    "metrics": {
        "train_loss": [1.8, 0.9, 0.5, 0.3], "val_loss": [1.5, 0.8, 0.7, 0.95],
        "train_acc": [0.50, 0.80, 0.92, 0.99], "val_acc": [0.55, 0.78, 0.83, 0.81],
        "lr": [0.1, 0.1, 0.01, 0.01], "time": [30.0, 31.0, 29.0, 30.0],
    },
}  # fmt: skip
PER_CLASS = [("T-shirt", 0.85, 100), ("Shirt", 0.55, 100), ("Coat", 0.71, 90), ("Bag", 0.97, 110),
             ("Pullover", 0.66, 95)]  # fmt: skip


@pytest.fixture
def run(tmp_path):
    """A run directory with one figure per section (and one outside it, with a space in its name)."""
    figs = {
        "Training loss per iteration": tiny_png(tmp_path / "run" / "loss.png", shade=10),
        "Accuracy per epoch": tiny_png(tmp_path / "run" / "accuracy.png", shade=20),
        "Confusion matrix": tiny_png(tmp_path / "run" / "figs" / "confusion_matrix.png", shade=30),
        "Misclassified samples": tiny_png(tmp_path / "run" / "misclassified.png", shade=40),
        "First-layer filters": tiny_png(tmp_path / "run" / "filters.png", shade=50),
        "Something else": tiny_png(tmp_path / "elsewhere" / "my plot.png", shade=60),
    }
    files = write_report(
        tmp_path / "run", title="LeNet on Fashion-MNIST", config={"lr": 0.1, "optimizer": {"name": "sgd",
        "momentum": 0.9}, "batch_size": 64, "milestones": [2, 3]},  # fmt: skip
        model_summary="LeNet(\n  conv1: Conv2d(1, 6, 5)\n)\nparams: 61,706", metrics={"test_acc": 0.8,
        "best": {"val_acc": 0.83, "epoch": 3}},  # fmt: skip
        history=HISTORY, per_class=PER_CLASS, figures=figs, notes=["plots skipped: nothing, this is a test"],
    )
    return tmp_path / "run", figs, files


class TestFiles:
    def test_paths_and_atomic(self, run):
        root, _, files = run
        assert files == ReportFiles(root / "report.md", root / "report.html")
        assert files.markdown.is_file() and files.html.is_file()
        assert not [p for p in root.rglob("*.tmp")]

    def test_html_is_self_contained(self, run):
        _, figs, files = run
        doc = parse(files.html)
        assert len(doc.imgs) == len(figs)
        payloads = set()
        for img in doc.imgs:
            src = img["src"]
            assert src.startswith("data:image/png;base64,"), "an image is not inlined"
            payloads.add(base64.b64decode(src.split(",", 1)[1]))
        assert payloads == {p.read_bytes() for p in figs.values()}
        assert {img["alt"] for img in doc.imgs} == set(figs)
        assert "script" not in doc.tags and "link" not in doc.tags

    def test_markdown_links_every_figure_relatively(self, run):
        root, figs, files = run
        md = files.markdown.read_text(encoding="utf-8")
        links = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", md)
        assert len(links) == len(figs)
        for link in links:
            assert not Path(unquote(link)).is_absolute()
            assert (root / unquote(link)).resolve().is_file()
        assert "../elsewhere/my%20plot.png" in links
        assert {(root / unquote(link)).resolve() for link in links} == {p.resolve() for p in figs.values()}


class TestContent:
    def test_sections_in_order(self, run):
        doc = parse(run[2].html)
        h2 = [text for tag, text in doc.headings if tag == "h2"]
        assert h2 == ["Summary", "Training curves", "Where it fails", "What it learned", "Other figures", "Model",
                      "Hyperparameters"]
        assert doc.title == "LeNet on Fashion-MNIST" and doc.headings[0] == ("h1", "LeNet on Fashion-MNIST")
        md = run[2].markdown.read_text(encoding="utf-8")
        assert [m for m in re.findall(r"^## (.+)$", md, flags=re.M)] == h2

    def test_figures_go_to_their_sections(self, run):
        html = run[2].html.read_text(encoding="utf-8")

        def section_of(caption: str) -> str:
            pos = html.index(f'alt="{caption}"')
            return re.findall(r"<h2>([^<]+)</h2>", html[:pos])[-1]

        assert section_of("Training loss per iteration") == "Training curves"
        assert section_of("Accuracy per epoch") == "Training curves"
        assert section_of("Confusion matrix") == "Where it fails"
        assert section_of("Misclassified samples") == "Where it fails"
        assert section_of("First-layer filters") == "What it learned"
        assert section_of("Something else") == "Other figures"

    def test_summary_reads_the_history(self, run):
        doc = parse(run[2].html)
        text = " ".join(doc.text)
        assert "Trained for 4 epochs (10 iterations) in 2 min 00 s." in text
        assert "Final validation accuracy 81.00% (best 83.00% at epoch 3); final training accuracy 99.00%." in text
        assert "Test accuracy 80.00%." in text
        assert "The training loss fell from 2.3 to 0.3 (87% lower)." in text
        # val loss minimum 0.7 at epoch 3, then 0.95; train-val accuracy gap 18 points
        assert "The validation loss was lowest at epoch 3 (0.7) and rose to 0.95" in text
        assert "exceeds validation accuracy by 18.0 points" in text
        assert "plots skipped: nothing, this is a test" in text

    def test_metric_and_epoch_tables(self, run):
        doc = parse(run[2].html)
        rows = {cells[0]: cells[1:] for _, cells in doc.rows if cells}
        assert rows["test_acc"] == ["80.00%"] and rows["best.val_acc"] == ["83.00%"] and rows["best.epoch"] == ["3"]
        assert rows["epoch"] == ["train loss", "train acc", "val loss", "val acc", "lr", "time (s)"]
        assert rows["4"] == ["0.3", "99.00%", "0.95", "81.00%", "0.01", "30"]
        # hyperparameters, nested dicts flattened
        assert rows["optimizer.momentum"] == ["0.9"] and rows["milestones"] == ["[2, 3]"]
        assert rows["lr"] == ["0.1"]

    def test_worst_classes_called_out(self, run):
        doc = parse(run[2].html)
        text = " ".join(doc.text)
        assert ("Weakest classes: Shirt (55.00% of 100), Pullover (66.00% of 95), Coat (71.00% of 90). "
                "The strongest is Bag (97.00%), 42.0 points above the weakest.") in text
        highlighted = {cells[0] for cls, cells in doc.rows if cls == "highlight"}
        assert highlighted == {"Shirt", "Pullover", "Coat"}
        md = run[2].markdown.read_text(encoding="utf-8")
        assert "| **Shirt** | **55.00%** | **100** | **weakest** |" in md
        assert "| Bag | 97.00% | 110 |  |" in md

    def test_model_summary_verbatim(self, run):
        html = run[2].html.read_text(encoding="utf-8")
        assert "<pre>LeNet(\n  conv1: Conv2d(1, 6, 5)\n)\nparams: 61,706</pre>" in html
        md = run[2].markdown.read_text(encoding="utf-8")
        assert "```text\nLeNet(\n  conv1: Conv2d(1, 6, 5)\n)\nparams: 61,706\n```" in md


class TestEdgeCases:
    def test_everything_is_escaped(self, tmp_path):
        evil = '<script>alert("x")</script> & <img src=http://evil/x.png>'
        files = write_report(tmp_path, title=evil, config={evil: evil}, model_summary=evil,
                             metrics={"note": evil}, per_class=[(evil, 0.5, 2), ("a|b", 0.9, 3)],
                             figures={evil: tiny_png(tmp_path / "f.png")}, notes=[evil])
        doc = parse(files.html)
        assert "script" not in doc.tags
        assert [i["src"][:15] for i in doc.imgs] == ["data:image/png;"]  # only the real figure, inlined
        assert doc.title == evil
        assert sum(evil in t for t in doc.text) >= 5  # round-trips as text everywhere
        md = files.markdown.read_text(encoding="utf-8")
        outside_code = re.sub(r"```text\n.*?\n```", "", md, flags=re.S)  # code blocks show text literally
        assert evil in md and not re.search(r"(?<!\\)<", outside_code)  # every other < is escaped
        table_lines = [ln for ln in md.splitlines() if ln.startswith("| a")]
        assert table_lines == ["| a\\|b | 90.00% | 3 |  |"]  # the pipe does not split the cell

    def test_minimal_run_and_missing_figure(self, tmp_path):
        files = write_report(tmp_path / "r", title="t", figures={"Gone": tmp_path / "missing.png"})
        doc = parse(files.html)
        text = " ".join(doc.text)
        assert doc.imgs == []
        assert "No history or metrics were recorded for this run." in text
        assert "figure 'Gone' not found" in text
        assert "No per-class evaluation was recorded for this run." in text
        assert "No model summary was recorded." in text and "No configuration was recorded." in text

    def test_divergence_and_flat_history(self, tmp_path):
        hist = {"loss": [2.3, 5.0, float("nan"), float("inf")], "train_acc": [0.1], "val_acc": [0.1]}
        text = " ".join(parse(write_report(tmp_path, title="t", history=hist).html).text)
        assert "became non-finite (NaN or inf) at iteration 3" in text
        assert "no sign of overfitting" in text
        assert "Trained for 1 epoch (4 iterations)." in text

    def test_percent_accuracies_and_metrics_only(self, tmp_path):
        metrics = {"final_val_acc": 91.5, "final_train_acc": 99.0, "best_val_acc": 92.0, "epochs": 12,
                   "time_s": 3725.0}  # fmt: skip
        text = " ".join(parse(write_report(tmp_path, title="t", metrics=metrics).html).text)
        assert "Trained for 12 epochs in 1 h 02 min." in text
        assert "Final validation accuracy 91.50% (best 92.00%); final training accuracy 99.00%." in text
        assert "exceeds validation accuracy by 7.5 points" in text

    def test_overwrites_an_existing_report(self, tmp_path):
        write_report(tmp_path, title="first")
        files = write_report(tmp_path, title="second")
        assert parse(files.html).title == "second"
        assert files.markdown.read_text(encoding="utf-8").startswith("# second\n")


@pytest.mark.parametrize(("caption", "path", "section"), [
    ("Training loss per iteration", "loss.png", "Training curves"),
    ("", "lr.png", "Training curves"),
    ("Validation accuracy", "x.png", "Training curves"),
    ("Confusion matrix", "cm.png", "Where it fails"),
    ("Per-class accuracy", "pc.png", "Where it fails"),
    ("", "misclassified.png", "Where it fails"),
    ("Decision boundary", "db.png", "What it learned"),
    ("Reconstructions", "rec.png", "What it learned"),
    ("", "filters.png", "What it learned"),
    ("Graph of the model", "graph.svg", "Other figures"),
    ("Clrs", "accent.png", "Other figures"),  # "acc" only counts as a whole word
])  # fmt: skip
def test_figure_section(caption, path, section):
    assert figure_section(caption, path) == section


def test_write_document_renders_links_in_both_formats(tmp_path):
    from minidl.report.report import Heading, Link, Para, Table, write_document

    blocks = [Heading(1, "Sweep <x>"), Para("trials:"),
              Table(["trial", "acc"], [[Link("t_1 <b>", "trials/t 1/report.html"), "0.5"], ["t2", "0.4"]],
                    highlight={0})]
    files = write_document(tmp_path, "sweep", "Sweep <x>", blocks)
    assert (files.markdown, files.html) == (tmp_path / "sweep.md", tmp_path / "sweep.html")
    md = files.markdown.read_text()
    # the text escaped for Markdown, the target percent-encoded, the highlighted row in bold
    assert "| **[t\\_1 \\<b\\>](trials/t%201/report.html)** | **0.5** |" in md
    page = files.html.read_text()
    assert '<a href="trials/t%201/report.html">t_1 &lt;b&gt;</a>' in page
    assert "<title>Sweep &lt;x&gt;</title>" in page and not list(tmp_path.glob(".*.tmp"))
