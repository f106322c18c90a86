"""Execute minidl's notebooks: the jupytext percent-format files ``notebooks/NN_name.py``.

Each notebook is a plain Python file (``python notebooks/07_xor.py`` runs it top to bottom) whose cells are
marked ``# %%``; jupytext turns it into a Jupyter notebook and nbclient runs that on an IPython kernel, so
every cell's output (text, tables, figures) is kept. The executed notebooks are written as ``.ipynb`` files
to ``--out`` (default ``notebooks/_build``, ignored by git), which is where the documentation site takes them
from.

The convention every notebook follows (``tests/test_notebooks.py`` checks it and runs them all in quick mode):

* ``QUICK = os.environ.get("MINIDL_QUICK") == "1"`` near the top selects the quick mode: smaller data and
  fewer epochs, the same code. CI runs the quick mode; the documentation shows the full-size runs.
* Figures and files go to ``OUT``, the folder ``$MINIDL_NOTEBOOK_OUT`` names (a fresh temporary folder when
  it is unset), never into the repository.
* Key results are asserted in cells, so a notebook whose numbers drift fails.

Usage::

    python scripts/notebooks.py                      # every notebook, full size, into notebooks/_build
    python scripts/notebooks.py --quick 03 07        # notebooks 03 and 07 in quick mode
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
BUILD_DIR = NOTEBOOK_DIR / "_build"
QUICK_LINE = 'QUICK = os.environ.get("MINIDL_QUICK") == "1"'


def notebook_paths(names: Sequence[str] = ()) -> list[Path]:
    """The notebooks ``notebooks/NN_*.py`` in order; ``names`` selects by number (``07``) or stem."""
    paths = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
    if not names:
        return paths
    chosen = [p for p in paths if any(p.stem == n or p.stem.startswith(n.zfill(2) + "_") for n in names)]
    missing = [n for n in names if not any(p.stem == n or p.stem.startswith(n.zfill(2) + "_") for p in chosen)]
    if missing:
        raise SystemExit(f"no notebook matches {', '.join(missing)} in {NOTEBOOK_DIR}")
    return chosen


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set while the kernel starts (the kernel inherits it), then restored."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(path: Path, out_dir: Path, quick: bool, timeout: int = 3600):  # -> nbformat.NotebookNode
    """Run the notebook ``path`` on a fresh IPython kernel and write the executed ``out_dir/<stem>.ipynb``.

    The kernel's working folder and ``$MINIDL_NOTEBOOK_OUT`` are ``out_dir/<stem>``, emptied first. A cell that raises
    stops the run with nbclient's ``CellExecutionError``, which names the cell and shows its traceback.
    """
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    work = out_dir / path.stem
    if work.exists():  # a fresh folder for every run: nothing left over from the last one
        shutil.rmtree(work)
    work.mkdir(parents=True)
    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(work)}})
    with _environment({"MINIDL_QUICK": "1" if quick else "0", "MINIDL_NOTEBOOK_OUT": str(work)}):
        client.execute()
    nbformat.write(nb, out_dir / f"{path.stem}.ipynb")
    return nb


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute minidl's notebooks (jupytext .py files) into .ipynb.")
    parser.add_argument("names", nargs="*", help="notebook numbers or stems (default: all)")
    parser.add_argument("--quick", action="store_true", help="quick mode (MINIDL_QUICK=1): small data, few epochs")
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help=f"output folder (default {BUILD_DIR})")
    args = parser.parse_args(argv)
    for path in notebook_paths(args.names):
        start = time.perf_counter()
        execute(path, args.out, args.quick)
        print(f"{path.stem}: {time.perf_counter() - start:.1f} s -> {args.out / (path.stem + '.ipynb')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
