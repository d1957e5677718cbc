"""The built book in a real browser, served on 127.0.0.1 with no way out: every page loads with no outside
request, no failed request and no console error; a knowledge check grades answers; widgets and math render.

Needs Debian's chromium (apt-get install chromium) and the Python playwright package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from book_browser import Traffic, built_html, chromium, offline_page, site, visit  # noqa: F401  (fixtures)

from spm_training.sphinxext.quiz_model import Question, parse_knowledge_check

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "_build" / "screenshots"
KC_BLOCK = re.compile(r"^(`{3,}|:{3,})\{knowledge-check\}[^\n]*\n(.*?)^\1\s*$", re.S | re.M)


@pytest.fixture(scope="module")
def browser_page(chromium: object, site: str) -> Iterator[tuple[object, Traffic]]:
    context, page, traffic = offline_page(chromium, site, {"width": 1280, "height": 900})
    yield page, traffic
    context.close()


def test_every_page_loads_offline_without_errors(built_html: Path, browser_page: tuple) -> None:
    page, traffic = browser_page
    pages = sorted(p.relative_to(built_html).as_posix() for p in built_html.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts)
    assert len(pages) >= 20
    for rel in pages:
        visit(page, traffic, rel)
    assert traffic.outside == []
    assert traffic.failed == []
    assert traffic.console == []


def _plain(text: str) -> str:
    """Text as a reader sees it, for comparing source with page (Sphinx curls quotes)."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def _markup_free(text: str) -> bool:
    return not re.search(r"[*`\[\]{}<>_]|--|\.\.\.", text)


@dataclass(frozen=True)
class PlainQuestion:
    index: int      # among all the questions of the page, from 1
    number: int     # within its knowledge check, from 1
    total: int      # questions in its knowledge check
    question: Question


def _plain_question(chapter: Path) -> PlainQuestion:
    """The first question of the chapter whose texts have no inline markup, so the page shows them verbatim."""
    index = 0
    for match in KC_BLOCK.finditer(chapter.read_text(encoding="utf-8")):
        questions, problems = parse_knowledge_check(match.group(2))
        assert problems == []
        for number, question in enumerate(questions, start=1):
            index += 1
            texts = [question.text] + [t for o in question.options for t in (o.text, o.why)]
            if all(_markup_free(t) for t in texts):
                return PlainQuestion(index, number, len(questions), question)
    pytest.fail(f"{chapter}: no knowledge-check question without inline markup to test with")


def test_knowledge_check_grades_wrong_then_right(built_html: Path, browser_page: tuple) -> None:
    page, traffic = browser_page
    chapter = ROOT / "book" / "handbook" / "objections.md"
    plain = _plain_question(chapter)
    question = plain.question
    visit(page, traffic, "book/handbook/objections.html")
    fieldset = page.locator("fieldset.spm-kc-question").nth(plain.index - 1)
    fieldset.scroll_into_view_if_needed()
    feedback = fieldset.locator(".spm-kc-feedback")
    assert _plain(fieldset.locator("legend").inner_text()) == \
        f"Question {plain.number} of {plain.total} {_plain(question.text)}"
    assert fieldset.locator('input[type="radio"]').count() == len(question.options)

    check = fieldset.get_by_role("button", name="Check answer")
    check.click()
    assert _plain(feedback.inner_text()) == "Choose an answer first, then check it."

    wrong = next(i for i, o in enumerate(question.options) if not o.correct)
    right = question.correct_index
    # Click the label, as a reader would: it must select its radio button.
    fieldset.locator("label").nth(wrong).click()
    assert fieldset.locator('input[type="radio"]').nth(wrong).is_checked()
    check.click()
    assert _plain(feedback.inner_text()) == _plain(f"Not quite. {question.options[wrong].why} Try another answer.")
    assert "spm-kc-is-incorrect" in feedback.get_attribute("class")

    fieldset.locator("label").nth(right).click()
    assert feedback.inner_text() == "", "changing the answer must clear the old verdict"
    check.click()
    assert _plain(feedback.inner_text()) == _plain(f"Correct. {question.options[right].why}")
    assert "spm-kc-is-correct" in feedback.get_attribute("class")
    assert feedback.get_attribute("aria-live") == "polite"

    SHOTS.mkdir(parents=True, exist_ok=True)
    fieldset.screenshot(path=str(SHOTS / "knowledge-check.png"))
    page.screenshot(path=str(SHOTS / "handbook-objections.png"))
    assert traffic.console == [] and traffic.failed == [] and traffic.outside == []


def test_kpi_reference_lists_every_kpi(browser_page: tuple) -> None:
    from spm_training.catalog import load_kpis

    page, traffic = browser_page
    visit(page, traffic, "book/performance/kpi-reference.html")
    kpis = load_kpis(ROOT)
    for kpi in kpis.values():
        section = page.locator(f"section#kpi-{kpi.id.replace('_', '-')}")
        assert section.count() == 1, kpi.id
        assert _plain(section.locator("h3").first.inner_text()).startswith(kpi.name)
    win_rate = page.locator("section#kpi-win-rate")
    win_rate.scroll_into_view_if_needed()
    assert "25% per" not in win_rate.inner_text()  # a rate's target does not scale with the period
    assert "Default target" in win_rate.inner_text() and "25%" in win_rate.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "kpi-reference.png"))


def test_widgets_render_from_embedded_state(browser_page: tuple) -> None:
    page, traffic = browser_page
    visit(page, traffic, "notebooks/kpi_calculator.html")
    inputs = page.locator(".jupyter-widgets input[type='number']")
    inputs.first.wait_for(state="visible", timeout=20_000)
    assert inputs.count() == 9  # eight pipeline numbers and the draft KPI's target
    assert inputs.nth(0).input_value() == "400"
    results = page.locator(".widget-html table.spm-kpi-calc").first
    results.scroll_into_view_if_needed()
    text = _plain(results.inner_text())
    assert "Win rate 31.8% 25.0% higher is better 1.27" in text
    assert "Customer acquisition cost EUR 9,000 EUR 9,000 lower is better 1.00" in text
    assert page.locator(".widget-toggle-buttons").first.is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "kpi-calculator.png"))
    assert traffic.console == [] and traffic.failed == [] and traffic.outside == []


def test_a_widget_module_the_site_does_not_bundle_is_never_fetched_from_a_cdn(browser_page: tuple) -> None:
    """embed-amd.js loads a widget module it does not bundle from cdn.jsdelivr.net unless a script tag
    names another CDN; widgets-paths.js names an empty folder of the site, so such a widget fails on
    the site instead of reaching out. The 404 and script error this provokes are this test's own and
    are taken back out of the page's traffic record."""
    page, traffic = browser_page
    visit(page, traffic, "notebooks/kpi_calculator.html")
    page.locator(".jupyter-widgets input").first.wait_for(state="visible", timeout=20_000)
    marks = len(traffic.outside), len(traffic.failed), len(traffic.console)
    result = page.evaluate("""() => new Promise(done => window.require(
        ['@jupyter-widgets/html-manager/dist/libembed-amd'],
        m => m.requireLoader('spm-unbundled-widget', '1.0.0').then(() => done('loaded'), () => done('failed')),
        () => done('no loader')))""")
    page.wait_for_timeout(500)
    outside, failed = traffic.outside[marks[0]:], traffic.failed[marks[1]:]
    del traffic.outside[marks[0]:], traffic.failed[marks[1]:], traffic.console[marks[2]:]
    assert result == "failed"
    assert outside == []
    assert any(url.startswith(traffic.base + "_static/spm/vendor/no-widget-cdn/spm-unbundled-widget@1.0.0/")
               for _, url, _ in failed), failed


def test_math_renders_with_the_local_mathjax(browser_page: tuple) -> None:
    page, traffic = browser_page
    visit(page, traffic, "book/performance/smart-kpis.html")
    rendered = page.locator("mjx-container")
    rendered.first.wait_for(state="attached", timeout=20_000)
    assert rendered.count() >= 1
    assert traffic.outside == []
