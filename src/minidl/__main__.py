"""``python -m minidl``: the same command line as the ``minidl`` script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
