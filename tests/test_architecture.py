"""The layer rules of docs/architecture.md, checked on the source: every import of every module under
src/minidl (parsed with ast, never imported) goes to its own layer or a lower one, except the lazy upward
imports that the document lists; module-level imports of other packages are the standard library and NumPy
only; and the README's layout names every package.

The layer table and the list of allowed lazy imports are read from docs/architecture.md itself, so the
document and the rule cannot drift apart.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "minidl"
DOC = ROOT / "docs" / "architecture.md"


# ------------------------------------------------------------------------------------------ the document
def _table_rows(section: str) -> list[list[str]]:
    """The body rows of the first markdown table after the heading ``section``, as lists of cells."""
    text = DOC.read_text()
    start = text.index(section)
    rows, seen_table = [], False
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            seen_table = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set(cells[0]) <= set("-: "):
                rows.append(cells)
        elif seen_table:
            break
    return rows[1:]  # without the header


def layers() -> dict[str, int]:
    """Top-level module or package name (``minidl`` for the package namespace) -> layer index."""
    out = {}
    for index, (_, names, _) in enumerate(_table_rows("## Layers")):
        for name in re.findall(r"`([\w.]+)`", names):
            assert name not in out, f"docs/architecture.md names {name!r} in two layers"
            out[name] = index
    return out


def extensions() -> set[tuple[str, str]]:
    """(module, optional package) pairs allowed to import the package at module level."""
    rows = [r for r in _table_rows("## Extensions of an optional package") if len(r) == 3]
    return {(re.sub(r"`", "", module), re.sub(r"`", "", extra)) for module, extra, _ in rows}


def allowed_lazy() -> set[tuple[str, str]]:
    rows = [r for r in _table_rows("## What a layer may import") if len(r) == 3]
    return {(re.sub(r"`", "", importer), re.sub(r"`", "", target)) for importer, target, _ in rows}


# ------------------------------------------------------------------------------------------ the source
@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. minidl.nn.conv
    target: str  # the imported module, e.g. minidl.ops.conv
    line: int
    lazy: bool  # inside a function or class body, not at module level
    annotation_only: bool  # under ``if TYPE_CHECKING:``


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(module: str, is_package: bool, node: ast.ImportFrom, alias: ast.alias) -> str:
    """The module an ``from ... import`` statement loads: ``pkg.name`` when that is a module, else ``pkg``."""
    package = module if is_package else module.rpartition(".")[0]
    if node.level:
        parts = package.split(".")
        base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    candidate = f"{base}.{alias.name}"
    rel = Path(*candidate.split("."))
    return candidate if (SRC.parent / rel).is_dir() or (SRC.parent / rel).with_suffix(".py").exists() else base


def imports_of(path: Path) -> list[Import]:
    module, is_package = module_name(path), path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # imports inside module-level try/if blocks run at import time too
        if isinstance(node, ast.Try | ast.If) and "TYPE_CHECKING" not in ast.unparse(getattr(node, "test", node)):
            top_level |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}
    annotation_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = [resolve(module, is_package, node, a) for a in node.names]
        else:
            continue
        found += [Import(module, t, node.lineno, id(node) not in top_level, id(node) in annotation_only)
                  for t in targets]
    return found


def top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "minidl"


SOURCES = sorted(SRC.rglob("*.py"))


# ------------------------------------------------------------------------------------------ the tests
def test_every_module_has_a_layer():
    table = layers()
    unplaced = sorted({top(module_name(p)) for p in SOURCES} - set(table))
    assert not unplaced, (f"not in any layer of docs/architecture.md: {unplaced}; name each in the row of the "
                          "layer it belongs to")


def test_no_layer_imports_a_higher_one():
    table, allowed = layers(), allowed_lazy()
    used, problems = set(), []
    for path in SOURCES:
        for imp in imports_of(path):
            if not imp.target.startswith("minidl") or imp.annotation_only:
                continue
            mine, theirs = top(imp.module), top(imp.target)
            if mine not in table or theirs not in table or table[theirs] <= table[mine]:
                continue
            listed = {(a, t) for a, t in allowed
                      if (imp.module == a or imp.module.startswith(a + "."))
                      and (imp.target == t or imp.target.startswith(t + "."))}
            where = f"{path.relative_to(ROOT)}:{imp.line}: {imp.module} imports {imp.target}"
            if not imp.lazy:
                problems.append(f"{where} at module level, a higher layer")
            elif not listed:
                problems.append(f"{where} (a higher layer) inside a function, which docs/architecture.md does not "
                                "list")
            used |= listed
    assert not problems, "\n".join(problems)
    assert used == allowed, f"listed in docs/architecture.md but no longer imported: {sorted(allowed - used)}"


def test_the_core_imports_only_the_standard_library_and_numpy_at_module_level():
    problems = []
    allowed = extensions()
    for path in SOURCES:
        for imp in imports_of(path):
            root = imp.target.split(".")[0]
            if imp.lazy or imp.annotation_only or root in ("minidl", "numpy", "__future__"):
                continue
            if (imp.module, root) in allowed:
                continue
            if root not in sys.stdlib_module_names:
                problems.append(f"{path.relative_to(ROOT)}:{imp.line}: imports {imp.target} at module level "
                                "(an optional extra: import it inside the function that needs it)")
    assert not problems, "\n".join(problems)


def test_the_readme_layout_names_every_package():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Layout"):]
    block = section[section.index("```"):section.index("```", section.index("```") + 3)]
    packages = sorted(p.parent.relative_to(SRC).as_posix() for p in SRC.glob("*/__init__.py"))
    missing = [p for p in packages if f"{p}/" not in block]
    assert not missing, f"the README's layout does not name {missing}"


@pytest.mark.parametrize(("source", "bad"), [
    ("from ..runs import train_run\n", "at module level"),
    ("def f():\n    from ..training import Trainer\n", "does not list"),
])
def test_the_check_catches_a_lower_layer_importing_a_higher_one(tmp_path, monkeypatch, source, bad):
    """The rule bites: an nn module importing the runs layer (or, lazily, training) is reported."""
    fake = tmp_path / "src" / "minidl"
    (fake / "nn").mkdir(parents=True)
    (fake / "nn" / "bad.py").write_text(source)
    for name in ("runs", "training"):
        (fake / name).mkdir()
        (fake / name / "__init__.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "SOURCES", [fake / "nn" / "bad.py"])
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "allowed_lazy", set)
    with pytest.raises(AssertionError, match=bad):
        test_no_layer_imports_a_higher_one()
