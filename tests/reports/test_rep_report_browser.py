"""The rep report in headless Chromium (issue 15): no page-wide sideways scroll at 1280 and 390 px,
no bare 0.xx mastery or attainment in the visible text, and at most 3 A4 pages in print.

Screenshots go to _build/screenshots/ (rep-1280.png, rep-390.png, rep-new-hire-1280.png,
rep-new-hire-390.png) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from analysis_data import ROOT, TODAY, populated

from spm_training.analysis import views
from spm_training.analysis.facade import analyse
from spm_training.ingest.roster import write_roster
from spm_training.project import Project
from spm_training.reports.build import render, rep_context
from spm_training.reports.links import BookLinks
from spm_training.store import open_store

pytestmark = pytest.mark.slow

SHOTS = ROOT / "_build" / "screenshots"
WIDTHS = (1280, 390)
MAX_PAGES = 3
# a share or ratio written as a bare fraction (0.28, .5), not inside a longer number (10.5, 2026.04)
# nor a version (spm-training 0.1.0)
BARE_FRACTION = re.compile(r"(?<![\d.,])0?\.\d+(?![\d%]|\.\d)")
NEW_HIRE = {"id": "nina.new", "name": "Nina New", "email": "nina.new@northwind-signal.example",
            "team_id": "Pathfinders", "manager": "Marta Keller", "role": "SDR",
            "hire_date": (TODAY - timedelta(days=21)).isoformat()}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The rep report of the rep with the most to show (most KPIs, skills and gaps) and of a new
    hire with nothing measured yet."""
    folder = tmp_path_factory.mktemp("rep-browser")
    db, _ = populated(folder / "store")
    project = Project.at(ROOT, course_dir=folder / "store" / "course", db_path=db)
    links = BookLinks(project, "../book/html/")
    with open_store(db) as store:
        write_roster(store, [NEW_HIRE])
        whole = analyse(store, project, today=TODAY)
        counts = views.rep_gap_counts(whole)
        busiest = max(whole.rep_ids, key=lambda r: (sum(counts[r].values()), r))
        out = {}
        for key, rep_id in (("rep", busiest), ("rep-new-hire", NEW_HIRE["id"])):
            scope = whole.scoped([rep_id])
            path = folder / f"{key}.html"
            path.write_text(render("rep", rep_context(scope, rep_id, links)))
            out[key] = path
    return out


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("chromium is not installed (apt-get install chromium; scripts/test.sh does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield b
        b.close()


def _pdf_pages(pdf: bytes) -> int:
    # Page objects, not the /Pages tree node
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


@pytest.mark.parametrize("key", ["rep", "rep-new-hire"])
@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_wide_sideways_scroll_and_no_bare_fractions(browser, pages, key: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(pages[key].as_uri())
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    text = page.inner_text("body")
    page.screenshot(path=str(SHOTS / f"{key}-{width}.png"), full_page=True)
    context.close()
    assert scroll <= inner, f"{key} is {scroll} px wide at {width} px"
    assert BARE_FRACTION.findall(text) == [], key
    assert "Focus this month" in text


def test_the_fraction_check_can_fail() -> None:
    assert BARE_FRACTION.findall("mastery 0.28, attainment .5; 10.5 of 13 (81%), 2026-Q3, 0.5%, "
                                 "spm-training 0.1.0, ratio 0.26.") == ["0.28", ".5", "0.26"]


@pytest.mark.parametrize("key", ["rep", "rep-new-hire"])
def test_prints_on_at_most_three_a4_pages(browser, pages, key: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(pages[key].as_uri())
    pdf = page.pdf(format="A4")
    # collapsed detail is hidden in print
    page.emulate_media(media="print")
    hidden = page.evaluate("[...document.querySelectorAll('details:not([open])')]"
                           ".every(d => getComputedStyle(d).display === 'none')")
    context.close()
    assert hidden
    assert 1 <= _pdf_pages(pdf) <= MAX_PAGES, (key, _pdf_pages(pdf))


def test_the_page_count_reads_page_objects_only() -> None:
    pdf = b"<< /Type /Pages /Kids [3 0 R 4 0 R] >> << /Type /Page >> << /Type/Page /Parent 2 0 R >>"
    assert _pdf_pages(pdf) == 2
