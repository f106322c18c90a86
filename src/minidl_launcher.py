"""The ``minidl`` console script's entry point, outside the ``minidl`` package on purpose.

The script's first act is importing minidl (NumPy and every module: most of a second). A Ctrl-C in that time
would end in a ``KeyboardInterrupt`` traceback, because nothing of minidl runs yet to catch it; this module
imports nothing heavy, so it can catch it and exit like any interrupted command (130, one line).
"""

from __future__ import annotations

import sys


def main() -> int:
    """Import :mod:`minidl.cli` and run it; a Ctrl-C while importing exits 130 with one line on stderr."""
    try:
        from minidl.cli import main as run
    except KeyboardInterrupt:
        print("minidl: interrupted while starting", file=sys.stderr)
        return 130
    return run()


if __name__ == "__main__":  # pragma: no cover - the console script calls main()
    sys.exit(main())
