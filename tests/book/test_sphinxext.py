"""The book's Sphinx extension on its own: the knowledge-check format and its build-time validation, the
KPI catalog and skills map directives, each built as a tiny Sphinx project (seconds, not the whole book)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from spm_training.catalog import Kpi, load_kpis
from spm_training.course import Item
from spm_training.sphinxext.kpi_catalog import format_number, format_target, kpi_label
from spm_training.sphinxext.quiz_model import Problem, parse_knowledge_check
from spm_training.sphinxext.skills_map import AssignmentUse, assignments_by_skill

pytest.importorskip("myst_parser")

CONF = """\
extensions = ["myst_parser", "spm_training.sphinxext"]
myst_enable_extensions = ["colon_fence"]
mathjax_path = "spm/vendor/mathjax/tex-chtml.js"
spm_course_dir = "course"
"""

VALID = """\
- question: A prospect asks you to "send some information". What next?
  options:
    - text: Send the brochure and wait.
      why: The request is often a polite way to end the call.
    - text: Ask what would be **most** useful, and why now.
      correct: true
      why: A question keeps the conversation going.
- question: Which number goes in a win rate's divisor?
  options:
    - text: Won plus lost deals closed in the period.
      correct: true
      why: Only decided deals count.
    - text: Every open opportunity.
      why: Open deals are not decided yet.
"""


def out_dir(src: Path) -> Path:
    # Outside the source folder, so one build's output is never read as another's source.
    return src.parent / f"{src.name}-html"


def build(src: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Write a Sphinx project and build it strictly; returns the finished process (warnings in stderr)."""
    src.mkdir(parents=True, exist_ok=True)
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-E", str(src),
         str(out_dir(src))], capture_output=True, text=True, timeout=300)


def page(name: str, body: str, fence: str = "```") -> str:
    return f"# {name}\n\nSome text.\n\n{fence}{{knowledge-check}}\n{body}{fence}\n"


# -- the format, without Sphinx ---------------------------------------------------------------------------

def test_valid_body_parses_into_questions() -> None:
    questions, problems = parse_knowledge_check(VALID)
    assert problems == []
    assert [q.text for q in questions] == ['A prospect asks you to "send some information". What next?',
                                           "Which number goes in a win rate's divisor?"]
    assert [q.correct_index for q in questions] == [1, 0]
    assert [q.line for q in questions] == [1, 8]
    assert questions[0].options[1].why == "A question keeps the conversation going."
    assert questions[0].options[1].line == 5


@pytest.mark.parametrize(("body", "expected"), [
    ("- question: Q?\n  options:\n    - text: A\n      correct: true\n      why: a\n"
     "    - text: B\n      correct: true\n      why: b\n",
     [Problem(1, "question 1 ('Q?') has 2 options marked 'correct: true'; mark exactly one")]),
    ("- question: Q?\n  options:\n    - text: A\n      why: a\n    - text: B\n      why: b\n",
     [Problem(1, "question 1 ('Q?') has 0 options marked 'correct: true'; mark exactly one")]),
    ("- question: Q?\n  options:\n    - text: A\n      correct: true\n      why: a\n    - text: B\n",
     [Problem(6, "question 1 ('Q?'), option 2 has no 'why' feedback; add a 'why:' that explains why this "
                 "answer is right or wrong")]),
    ("- question: Q?\n  options:\n    - text: A\n      correct: yes please\n      why: a\n"
     "    - text: B\n      why: b\n",
     [Problem(3, "question 1 ('Q?'), option 1 has 'correct: yes please'; use 'correct: true' on the right "
                 "answer and leave it out elsewhere"),
      Problem(1, "question 1 ('Q?') has 0 options marked 'correct: true'; mark exactly one")]),
    ("- question: Q?\n  options:\n    - text: A\n      correct: true\n      why: a\n      hint: h\n"
     "    - text: B\n      why: b\n",
     [Problem(3, "question 1 ('Q?'), option 1 has an unknown field 'hint'; use text, correct and why")]),
    ("- question: Q?\n  options:\n    - text: A\n      correct: true\n      why: a\n",
     [Problem(1, "question 1 ('Q?') needs an 'options' list with at least two answers")]),
    ("- options:\n    - text: A\n      correct: true\n      why: a\n    - text: B\n      why: b\n",
     [Problem(1, "question 1 has no 'question' text")]),
    ("question: Q?\n", [Problem(1, "the body must be a YAML list of questions, each starting with '- question:'")]),
    ("", [Problem(1, "the knowledge check is empty; add a YAML list of questions")]),
])
def test_every_problem_is_reported_with_its_line(body: str, expected: list[Problem]) -> None:
    questions, problems = parse_knowledge_check(body)
    assert problems == expected
    assert questions == []


def test_yaml_syntax_error_names_the_line() -> None:
    body = "- question: Q?\n  options:\n    - text: A: B\n      why: a\n"
    questions, problems = parse_knowledge_check(body)
    assert questions == []
    # The second colon of "A: B" (column 14) starts an unexpected mapping.
    assert problems == [Problem(3, "YAML syntax error at column 14: mapping values are not allowed here; check the "
                                   "indentation, and quote text that contains a colon followed by a space")]


def test_valid_questions_survive_next_to_invalid_ones() -> None:
    body = VALID + "- question: Broken\n  options: []\n"
    questions, problems = parse_knowledge_check(body)
    assert len(questions) == 2
    assert problems == [Problem(15, "question 3 ('Broken') needs an 'options' list with at least two answers")]


# -- knowledge checks in a strict Sphinx build ---------------------------------------------------------------

def test_valid_knowledge_check_renders_accessible_html(tmp_path: Path) -> None:
    proc = build(tmp_path / "ok", {"index.md": page("Quiz", VALID) + "\n```{toctree}\nother\n```\n",
                                   "other.md": "# Other\n\nNo quiz here.\n"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    html = (out_dir(tmp_path / "ok") / "index.html").read_text(encoding="utf-8")
    assert html.count('<fieldset class="spm-kc-question"') == 2
    assert '<legend class="spm-kc-legend"><span class="spm-kc-number">Question 1 of 2</span> A prospect asks' in html
    assert html.count('type="radio"') == 4
    assert 'name="spm-kc-1-q1"' in html and 'name="spm-kc-1-q2"' in html
    assert '<label for="spm-kc-1-q1-o2">Ask what would be <strong>most</strong> useful' in html
    assert html.count('data-correct="true"') == 2 and html.count('data-correct="false"') == 2
    assert html.count('role="status" aria-live="polite"') == 3  # each question's feedback, and the score
    assert html.count('<p class="spm-kc-score" role="status" aria-live="polite" hidden></p>') == 1
    assert html.count('<button type="button" class="spm-kc-check"') == 2
    assert '_static/spm/knowledge-check.js' in html
    assert (out_dir(tmp_path / "ok") / "_static" / "spm" / "knowledge-check.js").is_file()
    other = (out_dir(tmp_path / "ok") / "other.html").read_text(encoding="utf-8")
    assert "knowledge-check.js" not in other  # the script goes only where a check is
    assert "spm/spm-book.css" in other


@pytest.mark.parametrize(("body", "line", "message"), [
    ("- question: Q?\n  options:\n    - text: A\n      correct: true\n      why: a\n"
     "    - text: B\n      correct: true\n      why: b\n",
     6, "question 1 ('Q?') has 2 options marked 'correct: true'; mark exactly one"),
    ("- question: Q?\n  options:\n    - text: A\n      correct: true\n      why: a\n    - text: B\n",
     11, "question 1 ('Q?'), option 2 has no 'why' feedback"),
])
def test_invalid_knowledge_check_fails_the_strict_build(tmp_path: Path, body: str, line: int,
                                                        message: str) -> None:
    src = tmp_path / "bad"
    proc = build(src, {"index.md": page("Quiz", body)})
    assert proc.returncode != 0
    # Lines 1-4 are the title and text, 5 the fence; the body starts on line 6.
    assert f"{src / 'index.md'}:{line}: WARNING: knowledge-check: {message}" in proc.stderr


def test_line_numbers_are_right_in_colon_fences_and_rst(tmp_path: Path) -> None:
    src = tmp_path / "lines"
    body = "- question: Q?\n  options:\n    - text: A\n      correct: true\n      why: a\n    - text: B\n"
    rst_body = textwrap.indent(body, "   ")
    proc = build(src, {
        "index.md": page("Colon", body, fence=":::") + "\n```{toctree}\nrst\n```\n",
        "rst.rst": f"Title\n=====\n\n.. knowledge-check::\n\n{rst_body}",
    })
    assert proc.returncode != 0
    assert f"{src / 'index.md'}:11: WARNING: knowledge-check: question 1 ('Q?'), option 2 has no 'why'" in proc.stderr
    assert f"{src / 'rst.rst'}:11: WARNING: knowledge-check: question 1 ('Q?'), option 2 has no 'why'" in proc.stderr


# -- KPI catalog ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.25, "ratio", "25%"), (0.055, "ratio", "5.5%"), (1.0, "ratio", "100%"),
    (120000, "EUR", "EUR 120,000"), (12, "count", "12"), (45, "days", "45 days"),
    (4.3, "score (1-5)", "4.3 score (1-5)"), (1234.5, "USD", "USD 1,234.5"),
])
def test_format_number(value: float, unit: str, text: str) -> None:
    assert format_number(value, unit) == text


def kpi(**fields: object) -> Kpi:
    base = dict(id="x", name="X", definition="", unit="count", formula="", default_target=None, goal="",
                period="quarter", direction="higher", aggregation="sum", roles=("AE",))
    return Kpi(**{**base, **fields})


def test_format_target_scales_only_sums_with_the_period() -> None:
    assert format_target(kpi(unit="EUR", default_target={"AE": 120000.0, "AM": 90000.0})) == \
        "AE EUR 120,000; AM EUR 90,000 per quarter"
    assert format_target(kpi(unit="ratio", default_target=0.25, aggregation="rate")) == "25%"
    assert format_target(kpi(default_target={"SDR": 12.0, "AE": 4.0}, period="month")) == "SDR 12; AE 4 per month"
    assert format_target(kpi()) == "none set; import one per rep with the KPI values"
    assert kpi_label("win_rate") == "kpi-win_rate"


def test_assignments_by_skill_counts_items_and_points() -> None:
    def item(assignment: str, points: float, *skills: str) -> Item:
        return Item(assignment, "nb", f"c{points}", points, "autograded", skills, Path("x.ipynb"))

    uses = assignments_by_skill([item("02-b", 2, "s1"), item("01-a", 1, "s1", "s2"), item("01-a", 3, "s1")])
    assert uses == {"s1": [AssignmentUse("01-a", 2, 4.0), AssignmentUse("02-b", 1, 2.0)],
                    "s2": [AssignmentUse("01-a", 1, 1.0)]}


SKILLS = """\
skills:
  - id: discovery
    name: Discovery questioning
    description: Asks open questions.
    kpis:
      - {id: win_rate, direction: positive}
      - {id: sales_cycle_length, direction: negative}
    pages: [guide]
    threshold: 0.75
  - id: closing
    name: Closing
    description: Asks for the business.
    kpis: [deals_won]
    pages: []
"""


def course_notebook(tags_per_cell: list[tuple[list[str], dict]]) -> str:
    nb = nbformat.v4.new_notebook()
    for tags, grader in tags_per_cell:
        cell = nbformat.v4.new_code_cell("x = 1")
        cell.metadata["tags"] = tags
        if grader:
            cell.metadata["nbgrader"] = grader
        nb.cells.append(cell)
    return nbformat.writes(nb)


GRADED = {"grade": True, "solution": False, "points": 1, "grade_id": "t1"}


def test_kpi_catalog_and_skills_map_render_and_link(tmp_path: Path) -> None:
    src = tmp_path / "maps"
    notebook = course_notebook([
        (["skill:discovery"], {**GRADED, "grade_id": "q1"}),
        (["skill:discovery"], {**GRADED, "grade_id": "q2", "points": 2}),
        (["skill:discovery"], {}),                                     # not graded: not counted
        (["skill:closing"], {"grade": False, "solution": True, "grade_id": "s"}),   # a solution cell only
    ])
    proc = build(src, {
        "index.md": "# Home\n\n```{toctree}\nkpis\nguide\nmap\n```\n",
        "kpis.md": "# KPIs\n\n## The catalog\n\n```{kpi-catalog}\n```\n",
        "guide.md": "# A guide\n\nSee {ref}`kpi-win_rate` and {ref}`the map entry <skill-discovery>`.\n",
        "map.md": "# Skills map\n\n```{skills-map}\n```\n",
        "course/skills.yml": SKILLS,
        "course/source/01-discovery/discovery.ipynb": notebook,
    })
    assert proc.returncode == 0, proc.stderr
    out = out_dir(src)
    kpis_html = (out / "kpis.html").read_text(encoding="utf-8")
    for kpi_id in load_kpis(None):
        assert f'<section class="spm-kpi" id="kpi-{kpi_id.replace("_", "-")}">' in kpis_html
    assert "<h3>Win rate" in kpis_html
    guide = (out / "guide.html").read_text(encoding="utf-8")
    assert 'href="kpis.html#kpi-win-rate"' in guide and "Win rate</span></a>" in guide
    assert 'href="map.html#skill-discovery"' in guide

    skills_map = (out / "map.html").read_text(encoding="utf-8")
    rows = skills_map.split("<tr")[2:]          # skip the header row
    assert len(rows) == 2
    assert "Discovery questioning" in rows[0] and "mastered at 75% of the points (decaying average)" in rows[0]
    assert 'href="kpis.html#kpi-win-rate"' in rows[0] and "Win rate</span></a> (positive)" in rows[0]
    assert "Sales cycle length</span></a> (negative)" in rows[0]
    assert 'href="guide.html"' in rows[0] and "A guide" in rows[0]
    assert "01-discovery</span></code>: 2 graded items, 3 points" in rows[0]
    assert "Deals won</span></a> (positive)" in rows[1]
    assert "No page yet" in rows[1] and "<em>No assignment yet</em>" in rows[1]


def test_skills_map_warns_about_unknown_skill_tags_and_missing_pages(tmp_path: Path) -> None:
    src = tmp_path / "unknown"
    proc = build(src, {
        "index.md": "# Home\n\n```{toctree}\nmap\nguide\n```\n",
        "guide.md": "# Guide\n\nText.\n",
        "map.md": "# Skills map\n\n```{skills-map}\n```\n",
        "course/skills.yml": SKILLS.replace("pages: []", "pages: [book/missing]"),
        "course/source/a1/a1.ipynb": course_notebook([(["skill:negotiaton"], GRADED)]),
    })
    assert proc.returncode != 0
    assert ("WARNING: skills-map: course/source/a1/a1.ipynb: cell 't1' is tagged skill:negotiaton, which "
            "skills.yml does not define; fix the tag or add the skill") in proc.stderr
    assert "unknown document: '/book/missing'" in proc.stderr


def test_skills_map_with_an_empty_course_shows_no_assignment_yet(tmp_path: Path) -> None:
    src = tmp_path / "empty"
    proc = build(src, {
        "index.md": "# Home\n\n```{toctree}\nmap\nguide\n```\n",
        "guide.md": "# Guide\n\n```{kpi-catalog}\n```\n",
        "map.md": "# Skills map\n\n```{skills-map}\n```\n",
        "course/skills.yml": SKILLS,
    })
    assert proc.returncode == 0, proc.stderr
    assert (out_dir(src) / "map.html").read_text(encoding="utf-8").count("No assignment yet") == 2


def test_broken_skills_catalog_is_a_warning_naming_the_file(tmp_path: Path) -> None:
    src = tmp_path / "broken"
    proc = build(src, {
        "index.md": "# Home\n\n```{skills-map}\n```\n",
        "course/skills.yml": SKILLS.replace("win_rate", "win_ratio"),
    })
    assert proc.returncode != 0
    assert f"skills-map: {src / 'course' / 'skills.yml'}:6: skill 'discovery' links to unknown KPI 'win_ratio'" \
        in proc.stderr


def test_remote_mathjax_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "cdn"
    src.mkdir()
    proc = build(src, {"index.md": "# Home\n\nText.\n"})
    assert proc.returncode == 0, proc.stderr
    (src / "conf.py").write_text(CONF.replace("spm/vendor/mathjax/tex-chtml.js",
                                              "https://cdn.example/mathjax/tex-chtml.js"), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", "-E", str(src),
                           str(out_dir(src))], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "offline book: mathjax_path = 'https://cdn.example/mathjax/tex-chtml.js'" in proc.stderr


# -- practise this, the KPI summary and page assets -----------------------------------------------------------

PLAN = """\
phases:
  - {name: "Days 1 to 90", first_day: 1, last_day: 90, what: everything}
assignments:
  - {id: 01-discovery, title: Discovery calls, due_day: 20, roles: [SDR, AE], why: first month}
"""


def test_practise_this_ends_each_page_that_teaches_a_skill(tmp_path: Path) -> None:
    src = tmp_path / "practise"
    notebook = course_notebook([(["skill:discovery"], {**GRADED, "grade_id": "q1"}),
                                (["skill:discovery"], {**GRADED, "grade_id": "q2"})])
    other = course_notebook([(["skill:discovery"], {**GRADED, "grade_id": "r1"})])
    proc = build(src, {
        "index.md": "# Home\n\n```{toctree}\nguide\nmodule\nmap\nplain\n```\n\n```{kpi-catalog}\n```\n",
        "guide.md": "# A guide\n\n## Knowledge check\n\nQuestions.\n",
        "module.md": "# Discovery drill\n\nA page standing in for a notebook.\n",
        "map.md": "# Skills map\n\n```{skills-map}\n```\n",
        "plain.md": "# Plain\n\nTeaches no skill.\n",
        "course/skills.yml": SKILLS.replace("    pages: [guide]\n", "    pages: [guide]\n    modules: [module]\n"),
        "course/plan.yml": PLAN,
        "course/source/01-discovery/discovery.ipynb": notebook,
        "course/source/02-review/review.ipynb": other,
    })
    assert proc.returncode == 0, proc.stderr
    out = out_dir(src)
    guide = (out / "guide.html").read_text(encoding="utf-8")
    start = guide.index('<section class="spm-practise" id="practise-this">')
    assert start > guide.index('id="knowledge-check"'), "Practise this comes last"
    section = guide[start:guide.index("</section>", start)]
    text = " ".join(re.sub(r"<[^>]+>", "", section).split())
    assert text.startswith("Practise this¶ This chapter teaches the skill below. Try the interactive module "
                           "first, then hand in the graded assignment")
    assert ("Discovery questioning Try it: Discovery drill (interactive module, not graded) Graded: Discovery "
            "calls (01-discovery), 2 graded items on this skill; due on day 20 of onboarding for SDR, AE "
            "Also measured in Review (02-review)") in text
    assert '<a class="reference internal" href="module.html">Discovery drill</a>' in section
    # The book has no skills-map page at book/guides/skills-map here: the name stays, without a dead link.
    assert 'href="book/guides/skills-map.html' not in section
    assert text.endswith("You fetch and submit assignments in the Assignments tab of JupyterLab, as Assignments in "
                         "JupyterLab explains. Each skill's entry in the skills map shows which KPIs it moves.")
    assert "Practise this" not in (out / "plain.html").read_text(encoding="utf-8")
    # Added while the page is read, so the page's own table of contents lists it.
    assert '<a class="reference internal" href="#practise-this">Practise this</a>' in guide


def test_kpi_summary_lists_every_kpi_with_its_target_by_role(tmp_path: Path) -> None:
    from spm_training.sphinxext.kpi_catalog import first_sentence, target_by_role

    src = tmp_path / "summary"
    proc = build(src, {"index.md": "# KPIs\n\n```{kpi-summary}\n```\n\n## The catalog\n\n```{kpi-catalog}\n```\n"})
    assert proc.returncode == 0, proc.stderr
    html = (out_dir(src) / "index.html").read_text(encoding="utf-8")
    table = html[html.index('<table class="spm-kpi-summary'):html.index("</table>")]
    rows = table.split("<tr")[2:]
    kpis = load_kpis(None)
    assert len(rows) == len(kpis)
    win = next(r for r in rows if "Win rate" in r)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", c).replace("\u2019", "'").split())
             for c in re.findall(r"<td[^>]*>(.*?)</td>", win, re.S)]
    assert cells == ["Win rate", first_sentence(kpis["win_rate"].definition), "%", "Higher", "25% for AE, AM"]
    assert 'href="#kpi-win-rate"' in win
    assert target_by_role(kpis["meetings_booked"]) == ["SDR 12 per month", "AE 4 per month"]
    assert target_by_role(kpis["sales_cycle_length"]) == ["45 days for AE"]
    assert first_sentence("Counts a thing. Not the other.") == "Counts a thing."


def test_pages_load_mathjax_only_for_their_own_math_and_never_fontawesome(tmp_path: Path) -> None:
    src = tmp_path / "assets"
    proc = build(src, {"index.md": "# Home\n\n```{toctree}\nmath\n```\n",
                       "math.md": "# Math\n\n```{math}\na = b / c\n```\n"})
    assert proc.returncode == 0, proc.stderr
    out = out_dir(src)
    index, math = ((out / name).read_text(encoding="utf-8") for name in ("index.html", "math.html"))
    assert "tex-chtml.js" not in index, "the landing page loaded MathJax for its children's math"
    assert '_static/spm/vendor/mathjax/tex-chtml.js' in math
    for page_html in (index, math):
        assert 'src="_static/spm/navigation.js' in page_html
        assert page_html.count('<link rel="icon" type="image/svg+xml" href="data:image/svg+xml,%3Csvg ') == 1
        assert "fontawesome.js" not in page_html


def test_trim_assets_drops_only_fontawesome_and_the_search_index() -> None:
    from spm_training.sphinxext.assets import trim_assets

    head = ('<script defer src="../_static/scripts/fontawesome.js?digest=1"></script>\n'
            '<link rel="preload" as="script" href="../_static/scripts/bootstrap.js?digest=1" />\n'
            '<script src="../_static/searchtools.js"></script>\n<script src="../searchindex.js"></script>\n')
    assert trim_assets(head) == ('<link rel="preload" as="script" href="../_static/scripts/bootstrap.js?digest=1" />\n'
                                 '<script src="../_static/searchtools.js"></script>\n')
