# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 11. OCR: find the letters on a page, box them, read the text
#
# Reading a page is three steps. **Find** the letters: threshold the page (Otsu's method picks the
# grey level that best separates ink from paper), label the connected ink regions, merge the pieces of one
# letter, and sort the boxes into lines and lines into reading order (`minidl.vision.find_letters`).
# **Classify** each box, cropped to a square and resized to 32×32, with a character classifier trained on
# `SyntheticCharacters` (a `minidl train` run: the "ready model", trained once and cached). **Assemble** the
# text: a space where the gap between two letters is wider than 0.6 of the median letter height, a newline
# between lines. The score is the character accuracy $1 - d(\text{read}, \text{truth}) / |\text{truth}|$,
# with $d$ the edit distance. The pages use fonts the classifier never saw.

# %%
import os
import tempfile
from pathlib import Path

from IPython.display import Image, display

from minidl import report
from minidl.datasets import SyntheticTextPage, photo_like
from minidl.runs import read_text, ready_model
from minidl.vision import char_accuracy

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-ocr-"))
OUT.mkdir(parents=True, exist_ok=True)

# quick mode trains a smaller classifier (a few seconds) instead of the cached ready model
run = ready_model(settings={"epochs": 2, "train_samples": 3000} if QUICK else None)
print(f"classifier: {run.config.model} on {run.config.dataset}")

# %%
pages = SyntheticTextPage(n=2 if QUICK else 10, split="test", seed=0)
scores = []
for k in range(len(pages)):
    page = pages.page(k)
    result = read_text(page.image, run)
    scores.append(char_accuracy(result.text, page.text))
print(f"character accuracy on {len(pages)} pages: {100 * sum(scores) / len(scores):.1f}%")
assert sum(scores) / len(scores) > (0.5 if QUICK else 0.95)

# %% [markdown]
# One page with the boxes found and the letter read in each:

# %%
page = pages.page(0)
result = read_text(page.image, run)
report.plot_letter_boxes(page.image, result.boxes, OUT / "page.png", result.chars, result.line_ids,
                         title=f"{page.font.describe()}: {len(result.chars)} letters")
display(Image(filename=str(OUT / "page.png")))
print(result.text)

# %% [markdown]
# A photo-like page: rotated by 3°, blurred, lit unevenly, with noise.

# %%
photo = photo_like(page, 0)
photo_result = read_text(photo.image, run)
print(f"photo-like: {100 * char_accuracy(photo_result.text, page.text):.1f}% of the characters")
assert char_accuracy(photo_result.text, page.text) > (0.3 if QUICK else 0.9)
