"""The reports in headless Chromium: nothing leaves 127.0.0.1, no request fails, no console errors.

Each report is served from a 127.0.0.1 server and also opened from file://, as managers open an
attachment. Screenshots go to a temporary folder (printed with -s) for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from analysis_data import ROOT, catalogs, populated

from spm_training.reports.build import write_reports
from spm_training.store import open_store

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    db, info = populated(folder / "store")
    skills = info["skills"]
    with open_store(db) as store:
        write_reports(store, folder / "site" / "reports", info["project"], book_url="../book/html/")
    # A stand-in for the built book, so that the page links resolve on the same server.
    for skill in skills.values():
        for page in skill.pages:
            target = folder / "site" / "book" / "html" / f"{page}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"<!doctype html><title>{page}</title><link rel='icon' href='data:,'><p>{page}</p>")
    (folder / "site" / "book" / "html" / "book" / "performance").mkdir(parents=True, exist_ok=True)
    (folder / "site" / "book" / "html" / "book" / "performance" / "skill-gaps.html").write_text(
        "<!doctype html><title>skill gaps</title><link rel='icon' href='data:,'>")
    return folder / "site"


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium; scripts/test.sh does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(report_dir: Path):
    handler = functools.partial(_Quiet, directory=str(report_dir))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _visit(browser, url: str, allowed: tuple[str, ...], shot: Path | None = None) -> dict:
    """Open ``url``; collect requests outside ``allowed``, failed requests and console errors."""
    outside, failed, console = [], [], []
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(r):
        if r.request.url.startswith(allowed):
            return r.continue_()
        outside.append(r.request.url)
        return r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
    page.on("response", lambda r: failed.append((r.url, r.status)) if r.status >= 400 else None)
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    page.goto(url, wait_until="networkidle")
    facts = {"title": page.title(), "svgs": page.locator("svg").count(), "h2": page.locator("h2").all_inner_texts()}
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    context.close()
    return {"outside": outside, "failed": failed, "console": console, **facts}


def _pages(report_dir: Path) -> list[Path]:
    reports = report_dir / "reports"
    team = sorted(reports.glob("team-*.html"))[0]
    rep = sorted(reports.glob("rep-*.html"))[0]
    items = sorted(reports.glob("items-*.html"))[0]
    return [reports / "index.html", team, rep, items]


def test_every_kind_of_report_loads_offline_from_the_server(browser, server: str, report_dir: Path) -> None:
    shots = Path(tempfile.mkdtemp(prefix="spm-report-shots-"))
    print(f"\nscreenshots in {shots}")
    expected_sections = {"index.html": 3, "team": 9, "rep": 7, "items": 4}
    for path in _pages(report_dir):
        rel = path.relative_to(report_dir).as_posix()
        found = _visit(browser, server + rel, (server, "data:", "about:"), shots / f"{path.stem}.png")
        assert found["outside"] == [], rel
        assert found["failed"] == [], rel
        assert found["console"] == [], rel
        kind = "index.html" if path.name == "index.html" else path.name.split("-")[0]
        assert len(found["h2"]) == expected_sections[kind], (rel, found["h2"])
        if kind in ("team", "rep", "items"):
            assert found["svgs"] > 0, rel


def test_reports_open_from_file_with_no_request_at_all(browser, report_dir: Path) -> None:
    for path in _pages(report_dir):
        found = _visit(browser, path.as_uri(), (path.as_uri(), "data:", "about:"))
        assert (found["outside"], found["failed"], found["console"]) == ([], [], []), path.name


def test_book_links_in_a_rep_report_resolve(browser, server: str, report_dir: Path) -> None:
    rep = _pages(report_dir)[2]
    context = browser.new_context()
    page = context.new_page()
    page.goto(server + rep.relative_to(report_dir).as_posix())
    hrefs = page.eval_on_selector_all("a[href$='.html']", "els => els.map(e => e.href)")
    context.close()
    assert hrefs, "the rep report links to no book page"
    statuses = {}
    context = browser.new_context()
    for href in sorted(set(hrefs)):
        response = context.request.get(href)
        statuses[href] = response.status
    context.close()
    assert {h: s for h, s in statuses.items() if s != 200} == {}
