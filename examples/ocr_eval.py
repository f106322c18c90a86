"""OCR end to end on generated pages in held-out fonts: what ``minidl ocr`` reads, scored against the truth.

Each of ``--pages`` pages of :class:`minidl.datasets.SyntheticTextPage` (``test`` split: fonts whose
designs the classifier never saw) is written as a PNG file, and the command ``minidl ocr PAGE.png ...``
reads them all in a child process, with its ready model (trained once and cached) or ``--model RUN_DIR``.
Its printed text is scored against the truth:

* **character accuracy**: ``1 - edit_distance(read, truth) / len(truth)`` per page, on the full text (lines
  joined by newlines, words by spaces), averaged over pages;

and the same pages go through the library calls the command makes (:func:`minidl.runs.read_text`), which
must give the very text the command printed, for what the text alone cannot tell:

* **letters found**: true letter boxes matched by a found box with IoU >= 0.5, over all true letters (and
  found boxes matching no letter);
* character accuracy on the letters alone (whitespace removed) and the most frequent confusions;

then the same on photo-like pages (:func:`minidl.datasets.photo_like`: rotated 3°, blurred with σ = 1.5 px,
lit unevenly, noisy), and writes one annotated clean page and one annotated photo-like page.

    python examples/ocr_eval.py --pages 50 --out runs/ocr_eval
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from minidl import report
from minidl.datasets import SyntheticTextPage
from minidl.runs import load_run, read_text, ready_model
from minidl.vision import char_accuracy, match_boxes


def run_cli(paths: list[Path], model: str | None) -> dict[Path, str]:
    """The text ``minidl ocr`` prints for each page (one child process for all of them)."""
    argv = [sys.executable, "-m", "minidl", "ocr", *map(str, paths)] + (["--model", model] if model else [])
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    sections = re.split(r"^== (.+) ==$", done.stdout, flags=re.M)[1:]  # name, text, name, text, ...
    texts = {Path(name): text.strip("\n") for name, text in zip(sections[::2], sections[1::2], strict=True)}
    if len(paths) == 1:
        texts = {paths[0]: done.stdout.rstrip("\n")}
    return texts


def score(pages: SyntheticTextPage, run, label: str, folder: Path, model: str | None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(len(pages)):
        paths.append(folder / f"page_{i:03d}.png")
        Image.fromarray(pages.page(i).image).save(paths[-1])
    start = time.perf_counter()
    cli_text = run_cli(paths, model)
    seconds = time.perf_counter() - start
    acc, acc_letters, found, truth_total, extra, differ = [], [], 0, 0, 0, 0
    confusions: Counter[tuple[str, str]] = Counter()
    fonts: Counter[str] = Counter()
    for i, path in enumerate(paths):
        page = pages.page(i)
        acc.append(char_accuracy(cli_text[path], page.text))
        result = read_text(page.image, run)
        differ += result.text != cli_text[path]
        acc_letters.append(char_accuracy("".join(result.chars), page.chars))
        pairs = match_boxes(result.boxes, page.boxes)
        found += len(pairs)
        truth_total += len(page.boxes)
        extra += len(result.boxes) - len(pairs)
        confusions.update((page.chars[j], result.chars[i]) for i, j in pairs if page.chars[j] != result.chars[i])
        fonts[page.font.describe()] += 1
    out = {"pages": len(pages), "letters": truth_total, "char_accuracy": float(np.mean(acc)),
           "char_accuracy_letters_only": float(np.mean(acc_letters)), "worst_page_accuracy": float(np.min(acc)),
           "letters_found": found / truth_total, "extra_boxes": extra, "seconds_per_page": seconds / len(pages),
           "pages_where_library_and_cli_differ": differ,
           "top_confusions": [f"{t}->{r} x{n}" for (t, r), n in confusions.most_common(8)], "fonts": dict(fonts)}
    print(f"{label}: {len(pages)} pages, {truth_total} letters: minidl ocr's character accuracy "
          f"{100 * out['char_accuracy']:.2f}% (letters only {100 * out['char_accuracy_letters_only']:.2f}%, worst "
          f"page {100 * out['worst_page_accuracy']:.1f}%), letters found {100 * out['letters_found']:.2f}% "
          f"({extra} extra boxes), {out['seconds_per_page']:.2f} s per page in minidl ocr")
    print(f"  most frequent confusions (truth->read): {', '.join(out['top_confusions']) or 'none'}")
    if differ:
        print(f"  WARNING: on {differ} page(s) read_text gave another text than minidl ocr printed")
    return out


def annotate(pages: SyntheticTextPage, run, path: Path) -> Path:
    page = pages.page(0)
    result = read_text(page.image, run)
    acc = char_accuracy(result.text, page.text)
    report.plot_letter_boxes(page.image, result.boxes, path, result.chars, result.line_ids,
                             title=f"{page.font.describe()}: {len(result.chars)} letters, "
                                   f"character accuracy {100 * acc:.1f}%")
    print(f"annotated page: {path}\n--- read ---\n{result.text}\n--- truth ---\n{page.text}")
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pages", type=int, default=50)
    p.add_argument("--photo-pages", type=int, default=20)
    p.add_argument("--model", help="a run directory of a character classifier (default: the ready model)")
    p.add_argument("--seed", type=int, default=0, help="seed of the pages")
    p.add_argument("--out", default="runs/ocr_eval")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    run = load_run(args.model) if args.model else ready_model()
    print(f"classifier: {run.run_dir} ({run.config.model} on {run.config.dataset})")
    clean = SyntheticTextPage(n=args.pages, split="test", seed=args.seed)
    photo = SyntheticTextPage(n=args.photo_pages, split="test", seed=args.seed, photo=True)
    print(f"held-out fonts: {', '.join(f.describe() for f in clean.fonts)}")
    results = {"clean": score(clean, run, "clean pages", out / "pages", args.model),
               "photo_like": score(photo, run, "photo-like pages", out / "photo_pages", args.model)}
    if report.plots_available():
        results["annotated_clean"] = str(annotate(clean, run, out / "annotated_page.png"))
        results["annotated_photo"] = str(annotate(photo, run, out / "annotated_photo_page.png"))
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"results: {out / 'results.json'}")


if __name__ == "__main__":
    main()
