"""Shared by the book's browser tests: the built site served on 127.0.0.1, and Chromium with no way out.

Test modules import the fixtures they use from here (a conftest.py in this folder would take the module
name ``conftest`` from tests/conftest.py). ``SPM_BUILT_BOOK=/path/to/_build/html`` reuses a book built
earlier instead of building one for the session: handy while iterating on these tests, ignored in CI.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def built_html(request: pytest.FixtureRequest) -> Path:
    """The built site: a book built earlier when SPM_BUILT_BOOK names one (not in CI), else this session's."""
    earlier = os.environ.get("SPM_BUILT_BOOK")
    if earlier and not os.environ.get("CI"):
        html = Path(earlier)
        if not (html / "index.html").is_file():
            pytest.fail(f"SPM_BUILT_BOOK={earlier} holds no built book (no index.html)")
        return html
    book_build = request.getfixturevalue("book_build")
    if book_build.returncode != 0 or not (book_build.html / "index.html").is_file():
        tail = "\n".join(book_build.output.splitlines()[-30:])
        pytest.fail(f"the book did not build (exit {book_build.returncode}):\n{tail}")
    return book_build.html


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site(built_html: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(built_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@dataclass
class Traffic:
    """What the browser tried to do, per page."""

    base: str
    page: str = ""
    outside: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, object]] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)

    def clean(self) -> bool:
        return self.outside == [] and self.failed == [] and self.console == []


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Debian's Chromium, driven by Playwright: one per test module, because a Playwright kept open for the
    session leaves its event loop running and every later sync_playwright() or asyncio.run() then fails."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def offline_page(browser: object, site: str, viewport: dict[str, int]) -> tuple[object, object, Traffic]:
    """A new browser context and page that may load only the site: any other request is recorded and refused.

    Routing every request also turns the browser's HTTP cache off, so each visit loads all it needs."""
    traffic = Traffic(base=site)
    context = browser.new_context(viewport=viewport)

    def route(r: object) -> None:
        url = r.request.url
        if url.startswith(site) or url.split(":", 1)[0] in ("data", "blob", "about"):
            r.continue_()
        else:
            traffic.outside.append((traffic.page, url))
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("requestfailed", lambda r: traffic.failed.append((traffic.page, r.url, r.failure)))
    page.on("response", lambda r: traffic.failed.append((traffic.page, r.url, r.status)) if r.status >= 400 else None)
    page.on("console", lambda m: traffic.console.append((traffic.page, m.text[:200])) if m.type == "error" else None)
    page.on("pageerror", lambda e: traffic.console.append((traffic.page, str(e)[:200])))
    return context, page, traffic


# Resolves when the page has nothing more to load: MathJax (on math pages) has typeset and the fonts it
# asked for have arrived. Without this wait the next goto can abort a late MathJax font (net::ERR_ABORTED),
# which is the test leaving early, not the site failing.
_SETTLED = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await document.fonts.ready;
}"""


def visit(page: object, traffic: Traffic, rel: str) -> None:
    traffic.page = rel
    page.goto(traffic.base + rel, wait_until="networkidle")
    page.evaluate(_SETTLED)
    page.wait_for_load_state("networkidle")


def screenshot(page: object, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)
