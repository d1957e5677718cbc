"""The reports in headless Chromium: nothing leaves 127.0.0.1, no request fails, no console errors.

Each report is served from a 127.0.0.1 server and also opened from file://, as managers open an
attachment. Screenshots go to a temporary folder (printed with -s) for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from analysis_data import ROOT, catalogs, populated, project_for

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
    # the KPI reference, which the rep report's KPI names link into (a page of the real book)
    assert (ROOT / "book" / "performance" / "kpi-reference.md").is_file()
    (folder / "site" / "book" / "html" / "book" / "performance" / "kpi-reference.html").write_text(
        "<!doctype html><title>KPI reference</title><link rel='icon' href='data:,'>")
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
    return [reports / "index.html", team, rep, items, reports / "impact.html"]


def test_every_kind_of_report_loads_offline_from_the_server(browser, server: str, report_dir: Path) -> None:
    shots = Path(tempfile.mkdtemp(prefix="spm-report-shots-"))
    print(f"\nscreenshots in {shots}")
    # index and team report: with the hiring profile and the training impact (issue 18); impact.html: the organisation page
    expected_sections = {"index.html": 6, "team": 11, "rep": 8, "items": 4, "impact.html": 1}
    for path in _pages(report_dir):
        rel = path.relative_to(report_dir).as_posix()
        found = _visit(browser, server + rel, (server, "data:", "about:"), shots / f"{path.stem}.png")
        assert found["outside"] == [], rel
        assert found["failed"] == [], rel
        assert found["console"] == [], rel
        kind = path.name if path.name in ("index.html", "impact.html") else path.name.split("-")[0]
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


# --- issue 15: pages a manager reads in 30 seconds, on a laptop and on a phone -----------------------------

WIDTHS = (1280, 390)
SHOTS = ROOT / "_build" / "screenshots"
# a share written as a bare fraction (0.28, 1.00); the footer's version (0.1.0) has one decimal, and points
# of points ("1.03 / 2") are a score, not a share
BARE_FRACTION = r"(?<![\d.,])(?<!/ )[01]\.\d{2,}(?![\d%]| /)"


def _open(browser, path: Path, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(path.as_uri())
    return context, page


def _manager_pages(report_dir: Path) -> dict[str, Path]:
    reports = report_dir / "reports"
    return {"team": reports / "team-Closers.html", "items": sorted(reports.glob("items-*.html"))[0],
            "index": reports / "index.html"}


@pytest.fixture(scope="module")
def closers(report_dir: Path) -> dict:
    """The Closers' team context, from the store the reports were written from."""
    from spm_training.analysis.facade import analyse
    from spm_training.reports.build import team_context
    from spm_training.reports.links import BookLinks

    folder = report_dir.parent / "store"
    project = project_for(folder)
    with open_store(folder / "spm.db") as store:
        return team_context(analyse(store, project, team="Closers"), "Closers", BookLinks(project, "../book/html/"))


def test_team_items_and_index_have_no_page_wide_sideways_scroll(browser, report_dir: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widths = {}
    for kind, path in _manager_pages(report_dir).items():
        for width in WIDTHS:
            context, page = _open(browser, path, width)
            widths[(kind, width)] = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            page.screenshot(path=str(SHOTS / f"{kind}-{width}.png"), full_page=True)
            context.close()
    assert {k: w for k, w in widths.items() if w[0] > w[1]} == {}
    assert all((SHOTS / f"{kind}-{width}.png").stat().st_size > 0 for kind, width in widths)


def test_coach_first_is_right_under_the_header_and_in_order_of_severity(browser, report_dir: Path,
                                                                      closers: dict) -> None:
    for width in WIDTHS:
        context, page = _open(browser, _manager_pages(report_dir)["team"], width)
        place = page.evaluate("""() => {
            const main = document.querySelector('main'), first = main.firstElementChild;
            return [first.id, main.previousElementSibling.className, main.previousElementSibling
                    .previousElementSibling.tagName, first.getBoundingClientRect().top];
        }""")
        order = page.eval_on_selector_all("#coach-first ol.coach > li", "els => els.map(e => e.dataset.rep)")
        links = page.eval_on_selector_all("#coach-first ol.coach > li a", "els => els.map(e => e.getAttribute('href'))")
        context.close()
        assert place[:3] == ["coach-first", "toc", "HEADER"], width
        assert place[3] < 900, "coach first starts below the first screen"
        assert order == [r["rep_id"] for r in closers["coach_first"]] and order
        severities = [r["severity"] for r in closers["coach_first"]]
        assert severities == sorted(severities, reverse=True)
        assert links == [f"rep-{r}.html" for r in order]
        assert all((report_dir / "reports" / href).exists() for href in links)


def test_no_bare_fraction_outside_the_evidence_table(browser, report_dir: Path) -> None:
    for kind, path in _manager_pages(report_dir).items():
        context, page = _open(browser, path, 1280)
        text = page.evaluate("""() => {
            document.querySelectorAll('details').forEach(d => { d.open = true; });
            // correlations are the one bare 0.xx: the team's evidence table, the items' discrimination
            document.querySelectorAll('table.evidence, .correlation').forEach(t => { t.style.display = 'none'; });
            return document.body.innerText;
        }""")
        evidence = page.evaluate("Array.from(document.querySelectorAll('table.evidence')).map(t => t.innerText)"
                                 ".join(' ')")
        context.close()
        assert re.findall(BARE_FRACTION, text) == [], kind
        assert "±" not in text and "±" not in evidence, kind
        if kind == "team":
            assert re.search(r"\d\.\d\d to ", evidence), "the evidence table keeps its correlations"


def test_each_reps_counts_are_the_same_in_the_team_and_the_rep_report(browser, report_dir: Path) -> None:
    context, page = _open(browser, _manager_pages(report_dir)["team"], 1280)
    team = page.eval_on_selector_all(
        "details.plan", "els => els.map(e => [e.dataset.rep, +e.dataset.linked, +e.dataset.pairs, "
                        "+e.dataset.skillOnly, +e.dataset.kpi])")
    coach = page.eval_on_selector_all(
        "#coach-first ol.coach > li", "els => els.map(e => [e.dataset.rep, +e.dataset.linked, +e.dataset.pairs, "
                                      "+e.dataset.skillOnly, +e.dataset.kpi])")
    context.close()
    assert len(team) == 10 and coach
    by_rep = {row[0]: row[1:] for row in team}
    assert all(by_rep[row[0]] == row[1:] for row in coach)
    pattern = re.compile(r"(\d+) skills? with a linked gap(?: \((\d+) skill–KPI pairs?\))?, (\d+) other skill gaps?, "
                         r"(\d+) KPI gaps?")
    compared = 0
    for rep_id, counts in by_rep.items():
        context, page = _open(browser, report_dir / "reports" / f"rep-{rep_id}.html", 1280)
        text = page.inner_text("body")
        context.close()
        found = pattern.search(text)
        if found is None:
            assert counts == [0, 0, 0, 0] and "not measured yet" in text, rep_id
            continue
        linked, pairs, skill_only, kpi = (int(g) if g else 0 for g in found.groups())
        assert [linked, pairs, skill_only, kpi] == counts, rep_id
        compared += 1
    assert compared >= 8


def test_the_heatmap_keeps_names_in_place_and_reads_at_13_px(browser, report_dir: Path) -> None:
    for width in WIDTHS:
        context, page = _open(browser, _manager_pages(report_dir)["team"], width)
        facts = page.evaluate("""() => {
            const box = document.querySelector('.hm-box'), table = box.querySelector('table.heatmap');
            const name = table.querySelector('tbody th.hm-rep'), cell = table.querySelector('tbody td');
            box.scrollLeft = box.scrollWidth;
            return {fits: table.scrollWidth <= box.clientWidth, boxLeft: box.getBoundingClientRect().left,
                    nameLeft: name.getBoundingClientRect().left, size: parseFloat(getComputedStyle(cell).fontSize),
                    headSize: parseFloat(getComputedStyle(table.querySelector('th.hm-col')).fontSize),
                    scrolled: box.scrollLeft, boxRight: box.getBoundingClientRect().right,
                    pageRight: document.documentElement.clientWidth};
        }""")
        context.close()
        assert facts["size"] >= 13 and facts["headSize"] >= 13, (width, facts)
        assert facts["boxRight"] <= facts["pageRight"], (width, facts)
        if width == 1280:
            assert facts["fits"], facts          # every column of the Closers in view on a laptop
        else:
            assert facts["scrolled"] > 0 and abs(facts["nameLeft"] - facts["boxLeft"]) <= 2, facts
