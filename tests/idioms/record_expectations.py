"""Record what PyTorch gives for every idiom, so the table can check minidl where PyTorch is not installed.

Run it (with PyTorch installed) after adding or changing idioms::

    .venv/bin/python tests/idioms/record_expectations.py

It writes ``tests/idioms/expected.json.gz``: per idiom, a fingerprint of its code and torch's encoded
outputs (or the exception torch raised). ``tests/test_idioms.py`` checks that the recording is still what
torch gives, and refuses an idiom whose code changed since it was recorded.
"""

from __future__ import annotations

import gzip
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``idioms`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from idioms import IDIOMS  # noqa: E402
from idioms.harness import Idiom, Outcome, run, torch_side_problems  # noqa: E402

PATH = Path(__file__).with_name("expected.json.gz")
RERUN = "rerun tests/idioms/record_expectations.py with PyTorch installed"


def record() -> dict[str, Any]:
    """Run every idiom under torch; refuse to record an idiom whose torch side is broken."""
    import torch

    torch.set_num_threads(1)
    entries = {}
    for idiom in IDIOMS:
        outcome = run(idiom, "torch")
        broken = torch_side_problems(idiom, outcome)
        if broken:
            raise SystemExit(f"broken idiom {idiom.id}: {'; '.join(broken)}")
        entries[idiom.id] = {"fingerprint": idiom.fingerprint, "outputs": outcome.outputs,
                             "error": outcome.error, "message": outcome.message}
    return {"torch_version": torch.__version__, "idioms": entries}


@cache
def load_recording() -> dict[str, Any]:
    with gzip.open(PATH, "rt", encoding="utf-8") as f:
        return json.load(f)


def recorded_outcome(recording: dict[str, Any], idiom: Idiom) -> Outcome:
    """torch's recorded result for ``idiom``; an AssertionError if it is missing or the idiom changed."""
    entry = recording["idioms"].get(idiom.id)
    assert entry is not None, f"{idiom.id} is not recorded; {RERUN}"
    assert entry["fingerprint"] == idiom.fingerprint, f"{idiom.id} changed since it was recorded; {RERUN}"
    return Outcome(outputs=entry["outputs"], error=entry["error"], message=entry["message"])


def main() -> None:
    recording = record()
    text = json.dumps(recording, separators=(",", ":"))
    with open(PATH, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(text.encode("utf-8"))
    print(f"recorded {len(recording['idioms'])} idioms with torch {recording['torch_version']} into {PATH} "
          f"({PATH.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
