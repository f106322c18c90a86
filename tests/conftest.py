"""Shared test fixtures: seeding, PyTorch as an optional oracle (tests using it skip without it), and a local
HTTP server for the download tests (nothing is ever downloaded from elsewhere)."""

from __future__ import annotations

import http.server
import threading
from types import SimpleNamespace

import numpy as np
import pytest

import minidl

try:  # PyTorch is a test oracle only, never a runtime dependency
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch, the parity oracle, is not installed (the test "
                                                        "extra brings it: pip install -e '.[test]')")


@pytest.fixture(autouse=True)
def _seed() -> None:
    minidl.manual_seed(0)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def to_torch(a: np.ndarray, requires_grad: bool = False):
    """A float64 torch leaf holding a copy of ``a``."""
    return torch.tensor(np.array(a), requires_grad=requires_grad)


@pytest.fixture
def http_server():
    """A local HTTP server: ``routes`` maps a path to bytes or to a handler function."""
    routes: dict = {}
    log: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            log.append(self.path)
            body = routes.get(self.path)
            if body is None:
                self.send_error(404)
            elif callable(body):
                body(self)
            else:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", routes=routes, log=log)
    finally:
        server.shutdown()
        server.server_close()
