"""The built book as a new hire meets it on a phone (390 px) and on a laptop (1280 px), in Chromium with no
network: the ☰ and Contents buttons open the book's and the page's tables of contents, key pages have no
page-wide sideways scroll, search works, every page stays within its weight goal (recorded in
_build/page-weights.json), chapters end with working "Practise this" links, and a finished knowledge check
shows its score and the next step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from book_browser import DESKTOP, PHONE, ROOT, built_html, chromium, offline_page, screenshot, site, visit  # noqa: F401

from spm_training.catalog import load_kpis, load_skills
from spm_training.course import read_items
from spm_training.plan import read_plan
from spm_training.sphinxext.quiz_model import Question, parse_knowledge_check

pytestmark = pytest.mark.slow

WEIGHTS = ROOT / "_build" / "page-weights.json"
MB = 1_000_000
# The goals: a page of text (no math, no widgets) within 1 MB, everything it loads included; a page with
# math adds MathJax (about 1.2 MB with its fonts); a page with widgets adds the widget manager (3.6 MB).
GOALS = {"text": 1 * MB, "math": 2.5 * MB, "widgets": 5 * MB}
WIDGET_MANAGER = "_static/spm/vendor/html-manager/embed-amd.js"
MATHJAX = "_static/spm/vendor/mathjax/"
KEY_PAGES = {  # page: screenshot name at 390 px
    "book/index.html": "book-landing-390.png",
    "book/handbook/objections.html": "book-chapter-390.png",
    "book/sdr/prospecting.html": "book-sdr-chapter-390.png",
    "book/performance/kpi-reference.html": "book-kpi-reference-390.png",
    "book/guides/skills-map.html": "book-skills-map-390.png",
    "notebooks/kpi_calculator.html": "book-notebook-390.png",
}
KC_BLOCK = re.compile(r"^(`{3,}|:{3,})\{knowledge-check\}[^\n]*\n(.*?)^\1\s*$", re.S | re.M)
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def phone(chromium: object, site: str) -> Iterator[tuple[object, object]]:
    context, page, traffic = offline_page(chromium, site, PHONE)
    yield page, traffic
    context.close()


@pytest.fixture(scope="module")
def desktop(chromium: object, site: str) -> Iterator[tuple[object, object]]:
    context, page, traffic = offline_page(chromium, site, DESKTOP)
    yield page, traffic
    context.close()


def visible_toggle(page: object, kind: str) -> object:
    """The ☰ (kind "primary") or Contents ("secondary") button a reader can see: exactly one."""
    buttons = page.locator(f"button.{kind}-toggle:visible")
    assert buttons.count() == 1, f"{buttons.count()} visible {kind} toggles"
    return buttons.first


# -- navigation ---------------------------------------------------------------------------------------------

def test_menu_opens_the_book_contents_at_390px(phone: tuple) -> None:
    page, traffic = phone
    visit(page, traffic, "book/handbook/objections.html")
    toc_link = page.locator("a.reference.internal", has_text="Qualification with BANT and MEDDIC")
    assert toc_link.count() >= 1
    assert not toc_link.first.is_visible(), "the sidebar's links show before the menu is opened"
    screenshot(page, "book-chapter-menu-closed-390.png")
    visible_toggle(page, "primary").click()
    dialog = page.locator("dialog#pst-primary-sidebar-modal")
    dialog.wait_for(state="visible", timeout=5_000)
    assert dialog.evaluate("d => d.open") is True
    links = dialog.locator("nav.bd-docs-nav a.reference.internal")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    chapters = sum(len(part["chapters"]) for part in toc["parts"])
    assert links.count() >= chapters
    target = dialog.locator("a.reference.internal", has_text="Qualification with BANT and MEDDIC").first
    assert target.is_visible()
    box = target.bounding_box()
    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "book-menu-open-390.png")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden", timeout=5_000)
    # Closed, the contents go back into the page's sidebar, ready to open again.
    assert page.locator("#pst-primary-sidebar nav.bd-docs-nav").count() == 1
    visible_toggle(page, "primary").click()
    dialog.wait_for(state="visible", timeout=5_000)
    target.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("book/sdr/qualification.html")
    assert traffic.clean(), (traffic.outside, traffic.failed, traffic.console)


def test_contents_opens_the_page_toc_at_390px(phone: tuple) -> None:
    page, traffic = phone
    visit(page, traffic, "book/handbook/objections.html")
    visible_toggle(page, "secondary").click()
    dialog = page.locator("dialog#pst-secondary-sidebar-modal")
    dialog.wait_for(state="visible", timeout=5_000)
    entries = [" ".join(t.split()) for t in dialog.locator("nav a").all_inner_texts()]
    assert entries[0] == "Learning objectives"
    assert entries[-3:] == ["Key takeaways", "Knowledge check", "Practise this"]
    screenshot(page, "book-contents-open-390.png")
    dialog.locator("nav a", has_text="Practise this").click()
    dialog.wait_for(state="hidden", timeout=5_000)
    assert page.url.endswith("#practise-this")
    assert page.locator("#practise-this").is_visible()
    assert traffic.clean(), (traffic.outside, traffic.failed, traffic.console)


def test_menu_hides_and_shows_the_sidebar_at_1280px(desktop: tuple) -> None:
    page, traffic = desktop
    visit(page, traffic, "book/handbook/objections.html")
    sidebar = page.locator("#pst-primary-sidebar")
    assert sidebar.is_visible()
    screenshot(page, "book-chapter-1280.png")
    text_left = page.locator("#main-content").bounding_box()["x"]
    visible_toggle(page, "primary").click()
    sidebar.wait_for(state="hidden", timeout=5_000)
    assert page.locator("dialog[open]").count() == 0, "on a wide screen ☰ folds the sidebar, no dialog"
    page.wait_for_timeout(400)  # the theme slides the sidebar out in 0.25 s
    assert page.locator("#main-content").bounding_box()["x"] < text_left, "the text did not take the room"
    screenshot(page, "book-chapter-menu-folded-1280.png")
    visible_toggle(page, "primary").click()
    sidebar.wait_for(state="visible", timeout=5_000)
    assert traffic.clean(), (traffic.outside, traffic.failed, traffic.console)


def test_search_finds_a_chapter_with_the_index_loaded_on_demand(phone: tuple) -> None:
    page, traffic = phone
    visit(page, traffic, "book/index.html")
    loaded = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert not [u for u in loaded if u.endswith("searchindex.js")], "the search index loaded before a search"
    page.locator("button.search-button:visible, .search-button__button:visible").first.click()
    field = page.locator("#pst-search-dialog input[name=q]")
    field.wait_for(state="visible", timeout=5_000)
    field.fill("objections")
    field.press("Enter")
    page.wait_for_load_state("networkidle")
    results = page.locator("#search-results li a")
    results.first.wait_for(state="visible", timeout=15_000)
    assert "Handling objections" in [" ".join(t.split()) for t in results.all_inner_texts()]
    assert traffic.clean(), (traffic.outside, traffic.failed, traffic.console)


# -- fit and weight -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rel", sorted(KEY_PAGES))
def test_key_page_has_no_sideways_scroll_at_390px(phone: tuple, rel: str) -> None:
    page, traffic = phone
    visit(page, traffic, rel)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    screenshot(page, KEY_PAGES[rel])
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{rel} is {widths[0]} px wide on a {widths[1]} px screen"
    assert traffic.clean(), (traffic.outside, traffic.failed, traffic.console)


def page_kind(html: str) -> str:
    if 'type="application/vnd.jupyter.widget-view+json"' in html:
        return "widgets"
    if re.search(r'class="math[ "]', html):
        return "math"
    return "text"


def test_page_weights_are_recorded_and_within_the_goals(built_html: Path, chromium: object, site: str) -> None:
    """Every page's total transfer (the HTML and every file it loads), measured from Chromium's responses."""
    context, page, traffic = offline_page(chromium, site, PHONE)
    responses: list[object] = []
    page.on("response", lambda response: responses.append(response))
    pages = sorted(p.relative_to(built_html).as_posix() for p in built_html.rglob("*.html")
                   if p.relative_to(built_html).parts[0] in ("book", "notebooks"))
    record = {}
    for rel in pages:
        del responses[:]
        visit(page, traffic, rel)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        page.wait_for_load_state("networkidle")
        files = {r.url.removeprefix(site).split("?")[0]: r.request.sizes()["responseBodySize"] for r in responses}
        html = (built_html / rel).read_text(encoding="utf-8")
        record[rel] = {"kind": page_kind(html), "bytes": sum(files.values()), "files": len(files),
                       "largest": sorted(files, key=files.get, reverse=True)[:3]}
        record[rel]["widget_manager"] = WIDGET_MANAGER in files
        record[rel]["mathjax"] = any(f.startswith(MATHJAX) for f in files)
        record[rel]["favicon"] = '<link rel="icon" type="image/svg+xml" href="data:image/svg+xml,' in html
    context.close()
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    WEIGHTS.write_text(json.dumps({"goals_bytes": GOALS, "pages": record}, indent=2) + "\n", encoding="utf-8")

    assert len(record) >= 30
    over = {rel: (r["kind"], r["bytes"]) for rel, r in record.items() if r["bytes"] > GOALS[r["kind"]]}
    assert over == {}, f"pages over their weight goal: {over}"
    assert {rel for rel, r in record.items() if r["widget_manager"]} == \
        {rel for rel, r in record.items() if r["kind"] == "widgets"}
    assert {rel for rel, r in record.items() if r["mathjax"]} == {rel for rel, r in record.items() if r["kind"] == "math"}
    assert [rel for rel, r in record.items() if not r["favicon"]] == []
    assert not [rel for rel, r in record.items() if any("fontawesome.js" in f for f in r["largest"])]
    # The chapters a new hire reads first are text pages.
    assert record["book/handbook/objections.html"]["kind"] == "text"
    assert record["book/index.html"]["kind"] == "text"
    assert traffic.clean(), (traffic.outside, traffic.failed, traffic.console)


# -- what to do next -----------------------------------------------------------------------------------------

class _Links(HTMLParser):
    """The hrefs inside one element (by id) and every id of the page."""

    def __init__(self, section_id: str) -> None:
        super().__init__()
        self.section_id, self.depth, self.hrefs, self.ids, self.texts = section_id, 0, [], set(), []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"])
        if self.depth:
            self.depth += 1
        elif found.get("id") == self.section_id:
            self.depth = 1
        if self.depth and tag == "a" and found.get("href"):
            self.hrefs.append(found["href"])

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.texts.append(data)


def parse(path: Path, section_id: str = "") -> _Links:
    parser = _Links(section_id)
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_chapter_that_teaches_a_skill_ends_with_practise_this_and_its_links_resolve(built_html: Path) -> None:
    skills = load_skills(ROOT / "assessments", load_kpis(ROOT))
    plan = {a.id: a for a in read_plan(ROOT / "assessments" / "plan.yml").assignments}
    items = read_items(ROOT / "assessments")
    pages = sorted({p for s in skills.values() for p in s.pages})
    assert {"book/handbook/objections", "book/sdr/prospecting", "book/performance/funnel-analysis"} <= set(pages)
    for docname in pages:
        path = built_html / f"{docname}.html"
        section = parse(path, "practise-this")
        text = " ".join("".join(section.texts).split())
        assert text.startswith("Practise this"), docname
        teaching = [s for s in skills.values() if docname in s.pages]
        for skill in teaching:
            assert skill.name in text, (docname, skill.id)
            counts: dict[str, int] = {}
            for item in items:
                if skill.id in item.skills:
                    counts[item.assignment] = counts.get(item.assignment, 0) + 1
            main = min(counts, key=lambda a: (-counts[a], a))
            assert f"Graded: {plan[main].title} ({main}), {counts[main]} graded item" in text, (docname, skill.id)
            assert f"due on day {plan[main].due_day} of onboarding" in text
        for href in section.hrefs:
            parts = urlsplit(href)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), f"{docname}: {href} leads nowhere"
            if parts.fragment:
                assert parts.fragment in parse(target).ids, f"{docname}: {href} has no #{parts.fragment}"
        modules = {m for s in teaching for m in s.modules}
        linked = {(path.parent / urlsplit(h).path).resolve() for h in section.hrefs if "notebooks/" in h}
        assert linked == {(built_html / f"{m}.html").resolve() for m in modules}, docname
    # It is the last section: nothing of the chapter comes after it.
    html = (built_html / "book/handbook/objections.html").read_text(encoding="utf-8")
    assert html.index('id="practise-this"') > html.index('id="knowledge-check"')
    assert 'id="practise-this"' not in (built_html / "book/onboarding/values-culture.html").read_text(encoding="utf-8")


def _questions(chapter: Path) -> list[Question]:
    blocks = [m.group(2) for m in KC_BLOCK.finditer(chapter.read_text(encoding="utf-8"))]
    assert len(blocks) == 1, f"{chapter}: expected one knowledge check"
    questions, problems = parse_knowledge_check(blocks[0])
    assert problems == []
    return questions


def answer(page: object, number: int, choice: int) -> None:
    fieldset = page.locator("fieldset.spm-kc-question").nth(number)
    fieldset.locator("label").nth(choice).click()
    fieldset.get_by_role("button", name="Check answer").click()


def test_finished_knowledge_check_shows_the_score_and_the_next_step(phone: tuple) -> None:
    page, traffic = phone
    questions = _questions(ROOT / "book" / "handbook" / "objections.md")
    visit(page, traffic, "book/handbook/objections.html")
    score = page.locator(".spm-kc-score")
    assert score.count() == 1 and not score.is_visible()
    wrong = next(i for i, o in enumerate(questions[0].options) if not o.correct)
    answer(page, 0, wrong)
    answer(page, 0, questions[0].correct_index)  # right on the second try: still wrong on the first
    for number, question in enumerate(questions[1:-1], start=1):
        answer(page, number, question.correct_index)
    assert not score.is_visible(), "the score shows before every question was checked"
    answer(page, len(questions) - 1, questions[-1].correct_index)
    score.wait_for(state="visible", timeout=5_000)
    total = len(questions)
    assert " ".join(score.inner_text().split()) == (
        f"{total - 1} of {total} right on the first try. Reread the sections behind the questions you missed. "
        "Next step: Practise this: the interactive module and the graded assignment for this chapter.")
    assert score.get_attribute("aria-live") == "polite"
    score.scroll_into_view_if_needed()
    screenshot(page, "book-knowledge-check-score-390.png")
    score.get_by_role("link", name="Practise this").click()
    assert page.url.endswith("#practise-this")
    assert traffic.clean(), (traffic.outside, traffic.failed, traffic.console)


def test_knowledge_check_on_a_chapter_without_practice_points_to_the_next_chapter(phone: tuple) -> None:
    page, traffic = phone
    questions = _questions(ROOT / "book" / "onboarding" / "values-culture.md")
    visit(page, traffic, "book/onboarding/values-culture.html")
    for number, question in enumerate(questions):
        answer(page, number, question.correct_index)
    score = page.locator(".spm-kc-score")
    score.wait_for(state="visible", timeout=5_000)
    next_title = " ".join(page.locator("a.right-next .prev-next-title").inner_text().split())
    assert " ".join(score.inner_text().split()) == (
        f"{len(questions)} of {len(questions)} right on the first try. Well done. "
        f"Next step: {next_title}, the next chapter.")
    assert score.get_by_role("link").get_attribute("href") == page.locator("a.right-next").get_attribute("href")
    assert traffic.clean(), (traffic.outside, traffic.failed, traffic.console)


def test_saved_widgets_say_they_need_the_notebook_running(phone: tuple) -> None:
    page, traffic = phone
    visit(page, traffic, "notebooks/objection_practice.html")
    note = page.locator(".spm-static-widget")
    assert note.count() == 1
    assert " ".join(note.inner_text().split()) == (
        "Run this notebook to use the controls. Here they show the example the book was built with and do not "
        "respond. Open notebooks/objection_practice.ipynb in JupyterLab and run all cells to change the values "
        "and see the results recompute.")
    # The note sits right above the controls it is about, in the same cell output.
    following = note.evaluate("n => n.nextElementSibling ? n.nextElementSibling.outerHTML.slice(0, 80) : ''")
    assert following.startswith('<script type="application/vnd.jupyter.widget-view+json">') or \
        "jupyter-widgets" in following, following
    assert traffic.clean(), (traffic.outside, traffic.failed, traffic.console)
