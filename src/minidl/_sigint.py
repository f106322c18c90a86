"""The Ctrl-C handler of a block of work: set on entry if asked, and the one in place before it put back on exit.

Putting the previous handler back also undoes whatever the block installed itself: Ray Tune installs its own
(its first Ctrl-C stops a sweep gracefully) and leaves it after the sweep returns. Only the main thread may set
signal handlers; in any other thread the block runs with the handlers as they are, and a Ctrl-C arrives as a
plain KeyboardInterrupt in the main thread.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def sigint_handler(handler: Callable[[int, Any], Any] | None = None) -> Iterator[None]:
    """Run the block with ``handler`` for SIGINT (``None``: the current one), and restore the previous one after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if handler is not None:
        signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        if previous is not None:  # None: installed from outside Python, which cannot be restored from here
            signal.signal(signal.SIGINT, previous)
