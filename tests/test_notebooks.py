"""Every notebook in ``notebooks/`` runs top to bottom in quick mode, with the asserts in its cells.

The notebooks are jupytext percent-format files executed by nbclient on an IPython kernel
(``scripts/notebooks.py``, which also builds the full-size versions the documentation shows). One test per
notebook, so a failure names the notebook; nbclient's error names the failing cell and shows its traceback.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("minidl_notebooks", ROOT / "scripts" / "notebooks.py")
runner = importlib.util.module_from_spec(_spec)
sys.modules["minidl_notebooks"] = runner
_spec.loader.exec_module(runner)

NOTEBOOKS = runner.notebook_paths()
_TOOLS = ("jupytext", "nbclient", "ipykernel", "matplotlib")
_missing = [m for m in _TOOLS if importlib.util.find_spec(m) is None]
needs_tools = pytest.mark.skipif(bool(_missing), reason=f"{', '.join(_missing)} not installed: the notebooks need "
                                                        f"the docs extra (pip install -e '.[docs]')")


def test_notebooks_exist() -> None:
    assert len(NOTEBOOKS) >= 8, f"expected the course's notebooks in {runner.NOTEBOOK_DIR}, found {NOTEBOOKS}"
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert len(set(numbers)) == len(numbers), f"two notebooks share a number: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_follows_the_convention(path: Path) -> None:
    """A percent-format file, valid Python, with the quick-mode switch and at least one assert."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))  # a syntax error fails here, naming the line
    assert "# %%" in text, f"{path.name}: not a jupytext percent-format file (no '# %%' cell markers)"
    assert runner.QUICK_LINE in text, f"{path.name}: the quick-mode switch `{runner.QUICK_LINE}` is missing"
    assert any(isinstance(node, ast.Assert) for node in ast.walk(tree)), f"{path.name}: asserts no result"
    assert "MINIDL_NOTEBOOK_OUT" in text or "OUT" not in text, f"{path.name}: OUT must come from $MINIDL_NOTEBOOK_OUT"


@needs_tools
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(path: Path, tmp_path: Path) -> None:
    before = _repo_files()
    nb = runner.execute(path, tmp_path, quick=True, timeout=300)
    executed = [c for c in nb.cells if c.cell_type == "code"]
    assert executed and all(c.get("execution_count") for c in executed), f"{path.name}: not every cell ran"
    assert (tmp_path / f"{path.stem}.ipynb").is_file()
    # its figures and files went to its own folder ($MINIDL_NOTEBOOK_OUT), none into the repository
    assert _repo_files() == before, f"{path.name} wrote {sorted(_repo_files() - before)} into the repository"


def _repo_files() -> set[Path]:
    return {p for d in (ROOT, runner.NOTEBOOK_DIR, ROOT / "docs") for p in d.iterdir()}
