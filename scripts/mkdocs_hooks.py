"""The documentation site's generated parts, as mkdocs hooks (``hooks:`` in ``mkdocs.yml``).

Generated at every build, from the code itself, so they cannot drift from it:

* ``cli.md``: the ``minidl`` command reference, from the argparse parser (``minidl.cli.build_parser``);
* the idiom tables of ``coming-from-pytorch.md`` (its ``<!-- idioms -->`` line), from ``tests/idioms``;
* ``performance-notes.md``: ``benchmarks/PERFORMANCE.md`` as it is;
* ``notebooks/``: one page per notebook, the executed ``notebooks/_build/NN_name.ipynb`` when
  ``scripts/notebooks.py`` has built it (``$MINIDL_NOTEBOOKS_BUILD`` names another folder), else the
  ``notebooks/NN_name.py`` source without outputs; and ``notebooks/index.md`` listing them.

MathJax is served by the site itself (copied from the ``jupyter-server-mathjax`` package at the end of the
build), so pages render their math offline.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MATHJAX_DEST = "assets/mathjax"
log = logging.getLogger("mkdocs.hooks.minidl")


# ------------------------------------------------------------------------------------------ notebooks
def notebook_sources() -> list[Path]:
    """Each notebook's page source: the executed .ipynb where built, else the jupytext .py file."""
    build = Path(os.environ.get("MINIDL_NOTEBOOKS_BUILD") or NOTEBOOKS / "_build")
    out = []
    for py in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        executed = build / f"{py.stem}.ipynb"
        out.append(executed if executed.is_file() and executed.stat().st_mtime >= py.stat().st_mtime else py)
    return out


def notebook_title(path: Path) -> str:
    """The notebook's first Markdown heading (``# 7. XOR: ...``)."""
    text = (NOTEBOOKS / f"{path.stem}.py").read_text(encoding="utf-8")
    match = re.search(r"^# # (.+)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else path.stem


def notebooks_index(sources: list[Path]) -> str:
    lines = ["# Notebooks", "",
             "One notebook per exercise of the course minidl grew out of. Each is a plain Python file in the "
             "repository's `notebooks/` folder (jupytext's percent format: `# %%` marks a cell), so it runs "
             "with `python notebooks/07_xor.py` and opens in Jupyter as a notebook (`jupytext --to ipynb`). "
             "Every notebook asserts its key results, and CI runs them all in a quick mode "
             "(`MINIDL_QUICK=1`: smaller data, fewer epochs, the same code). The pages here show the full-size "
             "runs, built with `python scripts/notebooks.py`.", ""]
    for src in sources:
        state = "" if src.suffix == ".ipynb" else " (not executed in this build)"
        lines.append(f"- [{notebook_title(src)}]({src.stem}.ipynb){state}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ CLI reference
def _option_row(action: argparse.Action) -> str:
    names = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{action.metavar or action.dest}`"
    if action.option_strings and action.nargs != 0:
        names += f" `{action.metavar or action.dest.upper()}`"
    text = (action.help or "").replace("|", "\\|").replace("\n", " ")
    if action.choices and not isinstance(action.choices, dict):
        text += " (one of: " + ", ".join(f"`{c}`" for c in action.choices) + ")"
    return f"| {names} | {text} |"


def cli_reference() -> str:
    from minidl import cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lines = ["# Command-line reference", "",
             "<!-- generated from minidl.cli.build_parser() by scripts/mkdocs_hooks.py at every build -->", "",
             "`minidl COMMAND --help` prints the same. Every command returns exit code 0 on success, 1 when the "
             "work failed (for example a gradient check that does not pass) and 2 for a usage error, which is "
             "printed as one line naming the bad argument.", "",
             "| command | what it does |", "|---|---|"]
    lines += [f"| [`minidl {name}`](#minidl-{name}) | {cli.COMMANDS[name][0]} |" for name in sub.choices]
    for name, p in sub.choices.items():
        lines += ["", f"## minidl {name}", "", p.description or "", "", "```text", p.format_usage().strip(), "```",
                  "", "| argument | meaning |", "|---|---|"]
        lines += [_option_row(a) for a in p._actions if not isinstance(a, argparse._HelpAction)]
        if p.epilog:
            lines += ["", "```text", p.epilog.strip(), "```"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ idiom tables
def idiom_tables() -> str:
    """What is identical (idioms run under both libraries and compared), what differs, what is refused."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import idioms
    finally:
        sys.path.remove(str(ROOT / "tests"))
    all_idioms = idioms.IDIOMS
    groups = Counter(i.group for i in all_idioms)
    sources = Counter(i.source.split(":")[0] for i in all_idioms)
    raising = [i for i in all_idioms if i.raises is not None]
    source_list = ", ".join(f"`{s}` ({n})" for s, n in sources.items())
    lines = [f"The table holds **{len(all_idioms)} idioms** from {source_list}. "
             f"Each runs under PyTorch and under minidl and the results are compared: values (float32 to "
             f"rtol 1e-4), dtypes, shapes, `requires_grad`, and the exception type where PyTorch raises "
             f"({len(raising)} idioms check an error).", "",
             "### Identical", "", "| topic | idioms | examples |", "|---|---:|---|"]
    for group, n in groups.items():
        names = [i.name for i in all_idioms if i.group == group and not i.skip][:4]
        lines.append(f"| {group} | {n} | {', '.join(f'`{x}`' for x in names)} |")
    differs = [i for i in all_idioms if i.note and i.minidl_may_raise is None and not i.skip]
    lines += ["", "### Where the comparison allows for a difference", "",
              "The result is compared, but the idiom's note says what is not (a printed library name) or why a "
              "tolerance or error type differs.", "", "| idiom | from | note |", "|---|---|---|"]
    lines += [f"| `{i.id}` | {i.source} | {i.note} |" for i in differs]
    unsupported = [i for i in all_idioms if i.minidl_may_raise is not None or i.skip]
    lines += ["", "### Unsupported, with a clear error", "", "| idiom | minidl raises | why |", "|---|---|---|"]
    lines += [f"| `{i.id}` | {i.minidl_may_raise.__name__ if i.minidl_may_raise else 'skipped'} | "
              f"{i.note or i.skip} |" for i in unsupported]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ hooks
def on_config(config: Any) -> Any:
    """The navigation's Notebooks entry becomes a section: the index, then every notebook by its title."""
    pages = [{"Overview": "notebooks/index.md"}] + [{notebook_title(p): f"notebooks/{p.stem}.ipynb"}
                                                    for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))]
    config["nav"] = [{"Notebooks": pages} if item == {"Notebooks": "notebooks/index.md"} else item
                     for item in config["nav"]]
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns the notebook files into notebook pages
def on_files(files: Files, config: Any) -> Files:
    sources = notebook_sources()
    for src in sources:
        # always named .ipynb, so links to a notebook page hold whether or not it was executed
        files.append(File.generated(config, f"notebooks/{src.stem}.ipynb", abs_src_path=str(src)))
    files.append(File.generated(config, "notebooks/index.md", content=notebooks_index(sources)))
    files.append(File.generated(config, "cli.md", content=cli_reference()))
    files.append(File.generated(config, "performance-notes.md",
                                content=(ROOT / "benchmarks" / "PERFORMANCE.md").read_text(encoding="utf-8")))
    return files


def on_nav(nav: Any, config: Any, files: Files) -> Any:
    # mkdocs-jupyter wraps each notebook File in a NotebookFile that recomputes abs_src_path from src_dir, which a
    # generated File has not: give the wrapper its file's real path back
    for f in files:
        inner = getattr(f, "file", None)
        if isinstance(inner, File) and f.abs_src_path is None and inner.abs_src_path is not None:
            f.abs_src_path = inner.abs_src_path
    return nav


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri == "coming-from-pytorch.md":
        return markdown.replace("<!-- idioms -->", idiom_tables())
    return markdown


def on_post_build(config: Any) -> None:
    try:
        import jupyter_server_mathjax
    except ImportError:
        log.warning("jupyter-server-mathjax is not installed, so the site has no MathJax and shows raw TeX: "
                    "pip install -e '.[docs]'")
        return
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(static, Path(config["site_dir"]) / MATHJAX_DEST, dirs_exist_ok=True)
