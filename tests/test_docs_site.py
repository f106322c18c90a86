"""The documentation site, built and looked at: ``mkdocs build --strict`` into a temporary folder, served on
loopback, and opened in headless Chromium (Debian's chromium and chromium-driver, through Selenium). The
index page and one notebook page must render their math (MathJax, served by the site itself) and their
images; a screenshot of each is saved next to the build for a human to look at.

Skips without mkdocs (the docs extra) or without Chromium.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("mkdocs", reason="the docs extra is not installed")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the docs extra) is not installed")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                                reason="Debian's chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,1600"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _rendered(browser, url: str, shot: Path, timeout: float = 30.0) -> dict:
    """Open ``url``, wait for MathJax to typeset, save a screenshot; what the page shows."""
    browser.get(url)
    deadline = time.monotonic() + timeout
    facts: dict = {}
    while time.monotonic() < deadline:
        facts = browser.execute_script("""
            const imgs = Array.from(document.images);
            return {
              math: document.querySelectorAll('mjx-container, .MathJax, .MathJax_Display, .MathJax_Preview').length,
              raw_tex: (document.body.innerText.match(/\\\\frac|\\\\log/g) || []).length,
              images: imgs.length,
              broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
              title: document.title,
            };""")
        if facts["math"] and not facts["broken"]:
            break
        time.sleep(0.5)
    browser.save_screenshot(str(shot))
    return facts


def test_index_page_renders_math_and_images(site, browser):
    out, base = site
    facts = _rendered(browser, f"{base}/", out / "index.png")
    assert "minidl" in facts["title"]
    assert facts["math"] >= 1, facts  # the cross-entropy formula, typeset
    assert facts["images"] >= 1 and not facts["broken"], facts  # the XOR surface
    assert (out / "index.png").stat().st_size > 10_000


def test_a_notebook_page_renders(site, browser):
    out, base = site
    page = next(p for p in (out / "notebooks").iterdir() if p.name.startswith("10_"))
    facts = _rendered(browser, f"{base}/notebooks/{page.name}/", out / "notebook.png")
    assert "autoencoder" in facts["title"].lower(), facts
    assert facts["math"] >= 1, facts  # the PSNR formula
    assert not facts["broken"], facts
