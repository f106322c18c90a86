"""The character-level showcase examples learn: on minidl's own docstrings, a short run of each goes well below
the unigram entropy (the loss of predicting characters by their frequency alone) on held-out text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def examples_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield
    for name in ("lstm_sequence", "char_transformer", "_char_lm"):
        sys.modules.pop(name, None)


@pytest.mark.parametrize(("module", "argv", "fraction"), [
    ("lstm_sequence", ["--steps", "200", "--hidden", "64", "--layers", "1", "--lr", "1e-2"], 0.8),
    ("char_transformer", ["--steps", "300", "--d-model", "48", "--layers", "1", "--lr", "5e-3"], 0.85),
])
def test_character_models_learn(examples_on_path, module, argv, fraction, capsys):
    result = __import__(module).main(argv)
    entropy = result["unigram_entropy"]
    assert 3.0 < entropy < 4.0  # the docstrings' characters: about 4.9 bits each
    assert result["val_loss"] < fraction * entropy, (result["val_loss"], entropy)
    first, last = sum(result["losses"][:20]) / 20, sum(result["losses"][-20:]) / 20
    assert last < 0.85 * first
    assert "sample:" in capsys.readouterr().out
