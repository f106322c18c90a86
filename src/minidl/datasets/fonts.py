"""TrueType fonts found on the machine, grouped into letterform designs and split disjointly.

The synthetic character and page generators draw their letters with real fonts, so that a model trained on
some fonts can be tested on fonts it never saw. Fonts are looked for in

1. matplotlib's bundled fonts (``matplotlib/mpl-data/fonts/ttf``: DejaVu Sans, Sans Mono and Serif, STIX,
   Computer Modern), which exist wherever the ``plot`` extra is installed;
2. the system's font folders (``/usr/share/fonts``, ``/usr/local/share/fonts``, ``~/.local/share/fonts``,
   ``~/.fonts``), where Debian packages such as ``fonts-liberation2`` or ``fonts-dejavu-extra`` add more;
3. the folders listed in ``$MINIDL_FONTS`` (separated by ``os.pathsep``).

A face is used when it draws every requested character as a distinct, non-empty glyph and its family is
not a symbol, math or display font (those map letters to other shapes). Faces of one family (regular,
bold, italic, condensed) count once per ``(family, style)``.

**Disjoint splits.** Faces are grouped by *design*, not only by family: look-alike families (Times and its
metric clones STIX, Liberation Serif, Nimbus Roman, TeX Gyre Termes, FreeSerif; Helvetica and Arial clones;
Courier clones; Computer Modern and Latin Modern; DejaVu and Bitstream Vera) share a group, so a test font
is never a near-copy of a training font. The groups of the Times-like serifs and of the Computer Modern
sans are the test split and the Computer Modern typewriter group the validation split: all three ship with
matplotlib, so the held-out fonts are the same on every machine where it is installed. Every other group
trains. Extra fonts installed on a machine therefore only enrich the training split. Should a split find
none of its groups (no matplotlib), it takes one from the largest split, in a fixed hash order; at least
three groups are needed.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._optional import require

__all__ = ["FontFace", "font_dirs", "find_fonts", "split_fonts", "design_group", "SPLITS"]

SPLITS = ("train", "val", "test")
_SYSTEM_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
_EXTENSIONS = (".ttf", ".otf")
#: families whose code points for letters and digits hold other shapes (symbols, math, sizes, fallbacks)
_EXCLUDED = ("math", "symbol", "sym", "nonuni", "display", "last resort", "emoji", "dingbat", "cmex", "cmsy",
             "cmmi", "wingding", "webding", "braille", "ornament")  # fmt: skip
#: design group -> lower-case family-name prefixes of the look-alike families it holds
_GROUPS: dict[str, tuple[str, ...]] = {
    "times": ("stix", "liberation serif", "nimbus roman", "tex gyre termes", "freeserif", "times",
              "tinos", "termes"),
    "helvetica": ("liberation sans", "nimbus sans", "freesans", "arial", "arimo", "helvetica",
                  "tex gyre heros"),
    "courier": ("liberation mono", "nimbus mono", "freemono", "courier", "cousine", "tex gyre cursor"),
    "cm-roman": ("cmr10", "cmb10", "cmti10", "cmbx", "latin modern roman", "lmroman", "computer modern roman"),
    "cm-sans": ("cmss", "latin modern sans", "lmsans", "computer modern sans"),
    "cm-typewriter": ("cmtt", "latin modern mono", "lmmono", "computer modern typewriter"),
    "dejavu-sans-mono": ("dejavu sans mono", "bitstream vera sans mono"),
    "dejavu-sans": ("dejavu sans", "bitstream vera sans", "verdana"),
    "dejavu-serif": ("dejavu serif", "bitstream vera serif"),
}  # fmt: skip
#: the groups held out (all of them ship with matplotlib)
_HELD_OUT = {"times": "test", "cm-sans": "test", "cm-typewriter": "val"}
_PROBE_SIZE = 40


@dataclass(frozen=True)
class FontFace:
    """One usable font face: its file, family and style names (from the font), and its design group."""

    path: str
    family: str
    style: str
    group: str

    def describe(self) -> str:
        return f"{self.family} {self.style} ({Path(self.path).name})"


def design_group(family: str) -> str:
    """The look-alike group of a family name (see the module docstring); the family itself if unknown."""
    name = family.strip().lower()
    # longest prefix first, so "dejavu sans mono" is not taken for "dejavu sans"
    matches = [(len(p), g) for g, prefixes in _GROUPS.items() for p in prefixes if name.startswith(p)]
    return max(matches)[1] if matches else name


def _matplotlib_font_dir() -> Path | None:
    spec = importlib.util.find_spec("matplotlib")  # locate without importing matplotlib
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return d if d.is_dir() else None


def font_dirs() -> list[Path]:
    """The folders searched for fonts, in order (see the module docstring); only those that exist."""
    dirs: list[Path] = []
    mpl = _matplotlib_font_dir()
    if mpl is not None:
        dirs.append(mpl)
    dirs += [Path(d).expanduser() for d in _SYSTEM_DIRS]
    dirs += [Path(d).expanduser() for d in os.environ.get("MINIDL_FONTS", "").split(os.pathsep) if d]
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def _font_files(dirs: list[Path]) -> list[Path]:
    files = []
    for d in dirs:
        for dirpath, _, names in os.walk(d, followlinks=True):
            files += [Path(dirpath) / n for n in names if n.lower().endswith(_EXTENSIONS)]
    return sorted(files)


def _covers(font: Any, chars: str) -> bool:
    """Whether ``font`` draws every character of ``chars`` as a non-empty glyph, all of them different."""
    image_module = require("PIL.Image", "Pillow", "ocr", "drawing characters")
    draw_module = require("PIL.ImageDraw", "Pillow", "ocr", "drawing characters")
    seen = set()
    for c in chars:
        im = image_module.new("L", (2 * _PROBE_SIZE, 2 * _PROBE_SIZE), 0)
        draw_module.Draw(im).text((_PROBE_SIZE // 4, _PROBE_SIZE // 4), c, font=font, fill=255)
        bbox = im.getbbox()
        if bbox is None:
            return False
        glyph = im.crop(bbox).tobytes()
        if glyph in seen:  # a fallback box drawn for missing glyphs looks the same for every character
            return False
        seen.add(glyph)
    return True


@functools.lru_cache(maxsize=8)
def _scan(chars: str, dirs: tuple[Path, ...]) -> tuple[FontFace, ...]:
    font_module = require("PIL.ImageFont", "Pillow", "ocr", "drawing characters")
    faces: dict[tuple[str, str], FontFace] = {}
    for path in _font_files(list(dirs)):
        try:
            font = font_module.truetype(str(path), _PROBE_SIZE)
            family, style = font.getname()
        except (OSError, ValueError):  # not a readable font
            continue
        family, style = (family or path.stem).strip(), (style or "Regular").strip()
        if (family, style) in faces or any(x in family.lower() for x in _EXCLUDED):
            continue
        if _covers(font, chars):
            faces[(family, style)] = FontFace(str(path), family, style, design_group(family))
    return tuple(sorted(faces.values(), key=lambda f: (f.group, f.family, f.style, f.path)))


def find_fonts(chars: str) -> list[FontFace]:
    """Every usable font face on the machine for ``chars`` (see the module docstring), in a fixed order."""
    return list(_scan(chars, tuple(font_dirs())))


def _hash_order(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def split_fonts(faces: list[FontFace]) -> dict[str, list[FontFace]]:
    """The faces of each split, ``{"train": [...], "val": [...], "test": [...]}``, disjoint by design group."""
    groups = sorted({f.group for f in faces}, key=_hash_order)
    if len(groups) < 3:
        raise FileNotFoundError(
            f"synthetic characters need fonts of at least 3 different designs (one per split), found "
            f"{len(groups)}: {groups}. Install matplotlib (pip install \"minidl[plot]\"), which ships DejaVu, STIX "
            "and Computer Modern fonts, or Debian font packages (fonts-liberation2, fonts-dejavu-extra), or list "
            "font folders in $MINIDL_FONTS"
        )
    split_of = {g: _HELD_OUT.get(g, "train") for g in groups}
    for split in SPLITS:  # a split none of whose groups is installed takes one from the largest split
        if split not in split_of.values():
            donor = max(SPLITS, key=lambda s: sum(v == s for v in split_of.values()))
            split_of[next(g for g in groups if split_of[g] == donor)] = split
    return {s: [f for f in faces if split_of[f.group] == s] for s in SPLITS}
