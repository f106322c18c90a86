"""The idiom table: snippets of public PyTorch code, each run under PyTorch and under minidl.

* ``test_idiom_matches_torch``: runs the idiom under minidl and compares the results with PyTorch's: live
  when PyTorch is installed (it comes with the test extra; a failure prints both side by side), otherwise
  with torch's results recorded in ``tests/idioms/expected.json.gz`` by ``tests/idioms/record_expectations.py``.
* ``test_recorded_expectations_are_current`` (PyTorch installed): the recording is what torch gives now,
  for exactly the idioms of the table.

The idioms themselves live in ``tests/idioms/table_*.py``; see ``tests/idioms/harness.py`` for how they run.
"""

from __future__ import annotations

import re

import pytest

from conftest import requires_torch, torch
from idioms import IDIOMS
from idioms.harness import run, side_by_side, torch_side_problems, verdict
from idioms.record_expectations import load_recording, recorded_outcome

CASES = [pytest.param(idiom, id=idiom.id) for idiom in IDIOMS]


def _skip_if_marked(idiom) -> None:
    if idiom.skip:
        pytest.skip(idiom.skip)


def test_idiom_table_is_well_formed() -> None:
    assert len(IDIOMS) >= 300
    assert len({i.id for i in IDIOMS}) == len(IDIOMS), "idiom ids must be unique"
    for idiom in IDIOMS:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+: \S+", idiom.source), f"{idiom.id}: source {idiom.source!r}"
        assert bool(idiom.outputs) != (idiom.raises is not None), f"{idiom.id}: name outputs or an exception"
        compile(idiom.code, idiom.id, "exec")


@pytest.mark.parametrize("idiom", CASES)
def test_idiom_matches_torch(idiom) -> None:
    _skip_if_marked(idiom)
    if torch is None:  # torch's results as recorded
        expected = recorded_outcome(load_recording(), idiom)
    else:
        expected = run(idiom, "torch")
        broken = torch_side_problems(idiom, expected)
        if broken:
            pytest.fail(f"broken idiom (its torch side fails): {idiom.id}\n" + "\n".join(broken), pytrace=False)
    actual = run(idiom, "minidl")
    problems = verdict(idiom, expected, actual)
    if problems:
        pytest.fail(side_by_side(idiom, expected, actual, problems), pytrace=False)


@requires_torch
def test_recorded_expectations_are_current() -> None:
    recording = load_recording()
    stale = sorted(set(recording["idioms"]) - {i.id for i in IDIOMS})
    assert not stale, f"recorded idioms no longer in the table: {stale}; rerun tests/idioms/record_expectations.py"
    differences = []
    for idiom in IDIOMS:
        recorded = recorded_outcome(recording, idiom)  # fails on a missing or changed idiom
        live = run(idiom, "torch")
        differences += [f"{idiom.id}: {p}" for p in verdict(idiom, recorded, live)]
    assert not differences, "torch now gives other results than recorded:\n" + "\n".join(differences)
