"""The interactive modules in notebooks/.

Every notebook re-runs with nbval and must reproduce its stored outputs exactly (strict mode), unless it is
listed in NEEDS_LAX with the reason. The pure logic of the modules lives in code cells tagged ``logic``;
the unit tests below execute those cells straight from the notebook JSON, so they test the very code the
book runs rather than a copy of it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

# Notebooks whose stored outputs cannot be compared exactly, each with the reason; they run with
# --nbval-lax (errors still fail, outputs are not compared). Keep it empty unless there is no way around.
NEEDS_LAX: dict[str, str] = {}
# Notebooks committed without outputs: nbval runs them and fails on any error, but has nothing to compare.
WITHOUT_OUTPUTS: dict[str, str] = {
    "kpi_calculator.ipynb": "committed without outputs by its author; the book build executes it",
}

# The nbgrader assignments of the course, which the onboarding planner schedules.
COURSE_ASSIGNMENTS = {"01_kpi_smart", "02_funnel_analysis", "03_icp_targeting", "04_prospecting_outreach",
                      "05_qualification", "06_objection_handling", "07_role_play", "08_call_review",
                      "09_product_negotiation"}


def _cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def logic(name: str) -> dict[str, object]:
    """Execute the notebook's cells tagged `logic`, in order, and return what they define."""
    sources = ["".join(c["source"]) for c in _cells(NOTEBOOK_DIR / name)
               if c["cell_type"] == "code" and "logic" in c["metadata"].get("tags", [])]
    assert sources, f"{name} has no code cell tagged 'logic'"
    # A registered module, as if imported, so that dataclasses can resolve the cell's annotations; and
    # compiled without this file's `from __future__ import annotations`, as the notebook's kernel runs it.
    module = types.ModuleType(f"notebook_{Path(name).stem}")
    sys.modules[module.__name__] = module
    exec(compile("\n\n".join(sources), f"{name}[logic]", "exec", dont_inherit=True), module.__dict__)
    return module.__dict__


# --- every notebook, through nbval --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_reproduces_its_outputs(notebook: Path) -> None:
    mode = "--nbval-lax" if notebook.name in NEEDS_LAX else "--nbval"
    # The kernel must come from the same environment as the tests; nbval starts it from PATH. The stored
    # outputs are those of the demo data: a store named by $SPM_DB (the manager dashboard reads it) would differ.
    env = {**{k: v for k, v in os.environ.items() if k != "SPM_DB"},
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "pytest", mode, "-p", "no:cacheprovider", "-q",
                           str(notebook.relative_to(ROOT))],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_lax_and_unexecuted_lists_name_real_notebooks_with_reasons() -> None:
    names = {p.name for p in NOTEBOOKS}
    for listing in (NEEDS_LAX, WITHOUT_OUTPUTS):
        assert set(listing) <= names
        assert all(reason.strip() for reason in listing.values())


@pytest.mark.parametrize("notebook", [p for p in NOTEBOOKS if p.name not in WITHOUT_OUTPUTS], ids=lambda p: p.name)
def test_notebook_stores_outputs_and_widget_state(notebook: Path) -> None:
    """Strict nbval only means something when the outputs are stored; the widget state lets JupyterLab
    show the controls before the notebook is run."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] is not None for c in code), "run the notebook top to bottom and save it"
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), "run it in one pass, in order"
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert "application/vnd.jupyter.widget-state+json" in nb["metadata"].get("widgets", {})


@pytest.mark.parametrize("notebook", [p for p in NOTEBOOKS if p.name != "kpi_calculator.ipynb"],
                         ids=lambda p: p.name)
def test_module_opens_with_title_objectives_instructions_and_a_chapter_link(notebook: Path) -> None:
    first = "".join(_cells(notebook)[0]["source"])
    assert re.match(r"\([a-z0-9-]+\)=\n# \S", first), "a label and a title first"
    assert "\n## Learning objectives\n" in first and "\n## How to use this page\n" in first
    for page in re.findall(r"\{doc\}`/?([^`]+)`", first):
        assert (ROOT / f"{page}.md").is_file(), f"{notebook.name} links to a missing page {page}"
    assert re.search(r"\{doc\}`/book/", first), "link the chapter the module goes with"


# --- cold-email checker --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def email() -> dict[str, object]:
    return logic("cold_email_checker.ipynb")


@pytest.fixture(scope="module")
def chapter_emails() -> tuple[str, str]:
    """The first draft and the rewrite, as the messaging chapter prints them."""
    blocks = re.findall(r"```text\n(.*?)```", (ROOT / "book" / "sdr" / "messaging.md").read_text(encoding="utf-8"),
                        re.S)
    draft, rewrite = blocks[1], blocks[2]
    assert draft.startswith("Subject: Northwind Signal") and rewrite.startswith("Subject: six new AEs")
    return draft, rewrite


CHAPTER_DRAFT_TICKS = {"point_clear", "names_correct"}


def test_rubric_has_the_chapters_six_criteria(email: dict) -> None:
    assert list(email["CRITERIA"].values()) == [
        "Relevance and personalisation", "Clarity and brevity", "Value to the reader", "Credibility and proof",
        "Call to action", "Tone and correctness"]


def test_chapter_draft_scores_2_of_12_with_four_zeros(email: dict, chapter_emails: tuple[str, str]) -> None:
    result = email["score_email"](chapter_emails[0], CHAPTER_DRAFT_TICKS, "Priya", "Tarnwick Software")
    assert result.scores == {"relevance": 0, "clarity": 1, "value": 0, "proof": 0, "ask": 0, "tone": 1}
    assert (result.total, result.ready) == (2, False)
    assert result.facts == {"words": 76, "asks": 3, "questions": 1, "subject_words": 4}


def test_chapter_rewrite_scores_12_of_12(email: dict, chapter_emails: tuple[str, str]) -> None:
    result = email["score_email"](chapter_emails[1], set(email["SELF_CHECKS"]), "Priya", "Tarnwick Software")
    assert result.scores == dict.fromkeys(email["CRITERIA"], 2)
    assert (result.total, result.ready) == (12, True)
    assert all(notes == [] for notes in result.notes.values())


def test_automatic_checks_hold_down_an_optimistic_self_assessment(email: dict,
                                                                   chapter_emails: tuple[str, str]) -> None:
    result = email["score_email"](chapter_emails[0], set(email["SELF_CHECKS"]), "Priya", "Tarnwick Software")
    assert result.scores == {"relevance": 1, "clarity": 2, "value": 0, "proof": 1, "ask": 0, "tone": 1}
    assert result.total == 5
    assert any("feature list" in n for n in result.notes["value"])
    assert any("market-leading" in n for n in result.notes["proof"])


def test_notebook_examples_are_the_chapters_emails(chapter_emails: tuple[str, str]) -> None:
    cell = next("".join(c["source"]) for c in _cells(NOTEBOOK_DIR / "cold_email_checker.ipynb")
                if c["cell_type"] == "code" and "DRAFT = " in "".join(c["source"]))
    namespace = logic("cold_email_checker.ipynb")
    exec(compile(cell, "cold_email_checker.ipynb[examples]", "exec", dont_inherit=True), namespace)
    assert (namespace["DRAFT"], namespace["REWRITE"]) == tuple(text.strip() for text in chapter_emails)


def _email(body: str, subject: str | None = "six new AEs in Lyon") -> str:
    return (f"Subject: {subject}\n\n" if subject is not None else "") + f"Hi Priya,\n\n{body}\n\nSam"


ALL_BUT_ASK = {"mentions_reader", "recent_signal", "point_clear", "nothing_to_cut", "names_problem",
               "states_worth", "has_proof", "proof_concrete", "names_correct", "peer_tone"}


@pytest.mark.parametrize(("ask", "asks", "score"), [
    ("Worth a short conversation?", 1, 2),
    ("Could we do 45 minutes on Tuesday, or shall I send a deck?", 2, 0),
    ("Would you have 45 minutes next week?", 1, 1),
    ("Here is my booking link, grab a slot.", 1, 1),
    ("Keen to hear your thoughts.", 0, 0),
    ("Is this a priority? Worth a short call?", 2, 0),
])
def test_call_to_action_counts_asks_and_friction(email: dict, ask: str, asks: int, score: int) -> None:
    draft = _email(f"Saw Tarnwick is hiring six AEs. A 400-person team cut forecast prep to an hour. {ask}")
    result = email["score_email"](draft, ALL_BUT_ASK | {"easy_ask"}, "Priya", "Tarnwick Software")
    assert (result.facts["asks"], result.scores["ask"]) == (asks, score)


@pytest.mark.parametrize(("words", "clarity"), [(119, 2), (120, 1), (150, 1), (151, 0)])
def test_clarity_follows_the_word_limits(email: dict, words: int, clarity: int) -> None:
    # The greeting and the signature count as three words, as a reader sees them.
    draft = _email(" ".join(["Tarnwick"] + ["word"] * (words - 5)) + " 400?")
    result = email["score_email"](draft, set(email["SELF_CHECKS"]), "Priya", "Tarnwick Software")
    assert (result.facts["words"], result.scores["clarity"]) == (words, clarity)


@pytest.mark.parametrize(("subject", "criterion", "score"), [
    ("forecast before the board", "clarity", 2),
    ("forecast", "clarity", 1),
    ("a very long subject line with far too many words", "clarity", 1),
    (None, "clarity", 1),
    ("Re: our conversation last week", "tone", 1),
    ("Northwind Signal for Tarnwick", "relevance", 1),
    ("Transform your forecasting TODAY", "tone", 1),
])
def test_subject_line_checks(email: dict, subject: str | None, criterion: str, score: int) -> None:
    draft = _email("Saw Tarnwick is hiring six AEs. A 400-person team cut prep to an hour. Worth a look?", subject)
    result = email["score_email"](draft, set(email["SELF_CHECKS"]), "Priya", "Tarnwick Software")
    assert result.scores[criterion] == score


def test_unfilled_tokens_vague_claims_pushy_phrases_and_misspelt_names(email: dict) -> None:
    score = email["score_email"]
    ticks = set(email["SELF_CHECKS"])
    base = "Saw Tarnwick is hiring six AEs. A 400-person team cut prep to an hour. Worth a look?"
    assert score(_email(base.replace("Tarnwick", "{{company}}")), ticks).scores["relevance"] == 0
    assert score(_email(base + " We are market-leading."), ticks).scores["proof"] == 1
    assert score(_email(base.replace("400-person", "similar")), ticks).scores["proof"] == 1  # no number
    assert score(_email(base + " Our offer ends this Friday."), ticks).scores["tone"] == 0
    assert score(_email(base.replace("Tarnwick", "Tarnwik")), ticks, "Priya", "Tarnwick Software").scores["tone"] == 0
    assert score(_email(base.replace("Tarnwick", "Tarnwick's team")), ticks, "Priya", "Tarnwick Software").total == 12
    assert score(_email(base), ticks, "Priya", "Orchardline HR").scores["relevance"] == 1  # wrong company


def test_first_box_of_a_criterion_gates_the_second(email: dict) -> None:
    draft = _email("Saw Tarnwick is hiring six AEs. A 400-person team cut prep to an hour. Worth a look?")
    result = email["score_email"](draft, {"recent_signal", "peer_tone"})
    assert (result.scores["relevance"], result.scores["tone"]) == (0, 0)
    assert result.scores["ask"] == 1  # the ask's first level is counted, not ticked


# --- onboarding planner --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planner() -> dict[str, object]:
    return logic("onboarding_planner.ipynb")


def test_planner_schedules_exactly_the_course_assignments(planner: dict) -> None:
    assert set(planner["ASSIGNMENTS"]) == COURSE_ASSIGNMENTS
    # The planner shows the course's own schedule, not a copy of it.
    assert planner["PLAN"].path == ROOT / "assessments" / "plan.yml"
    # A new assignment in the course must get a place in the plan.
    on_disk = {p.name for p in (ROOT / "assessments" / "source").iterdir() if p.is_dir()}
    assert on_disk <= COURSE_ASSIGNMENTS


def test_day_numbers_and_weekends(planner: dict) -> None:
    day_date, working_day = planner["day_date"], planner["working_day"]
    start = dt.date(2026, 1, 5)
    assert [day_date(start, d) for d in (1, 30, 31, 60, 90)] == [
        dt.date(2026, 1, 5), dt.date(2026, 2, 3), dt.date(2026, 2, 4), dt.date(2026, 3, 5), dt.date(2026, 4, 4)]
    assert working_day(dt.date(2026, 4, 4), start) == dt.date(2026, 4, 3)  # Saturday -> Friday
    assert working_day(dt.date(2026, 4, 5), start) == dt.date(2026, 4, 3)  # Sunday -> Friday
    assert working_day(dt.date(2026, 4, 6), start) == dt.date(2026, 4, 6)
    # Never before the start: a plan that starts on a Saturday holds its first meeting on the Monday.
    assert working_day(dt.date(2026, 1, 4), dt.date(2026, 1, 3)) == dt.date(2026, 1, 5)


def test_plan_for_an_sdr_starting_5_january_2026(planner: dict) -> None:
    schedule = [(m.date.isoformat(), m.day, m.what.split(" ")[0]) for m in planner["plan"](dt.date(2026, 1, 5), "SDR")]
    assert schedule == [
        ("2026-01-05", 1, "First"), ("2026-01-06", 2, "Plan-setting"), ("2026-01-19", 15, "03_icp_targeting"),
        ("2026-01-30", 26, "04_prospecting_outreach"), ("2026-02-03", 30, "Day-30"),
        ("2026-02-13", 40, "05_qualification"), ("2026-02-18", 45, "06_objection_handling"),
        ("2026-02-23", 50, "07_role_play"), ("2026-02-27", 54, "08_call_review"), ("2026-03-05", 60, "Day-60"),
        ("2026-03-13", 68, "01_kpi_smart"), ("2026-03-20", 75, "02_funnel_analysis"), ("2026-04-03", 89, "Day-90"),
    ]


def test_roles_take_their_own_assignments(planner: dict) -> None:
    def due(role: str) -> set[str]:
        return {m.what.split(" ")[0] for m in planner["plan"](dt.date(2026, 1, 5), role) if m.what.endswith(" due")}

    assert due("SDR") == COURSE_ASSIGNMENTS - {"09_product_negotiation"}
    assert due("AE") == due("AM") == COURSE_ASSIGNMENTS - {"04_prospecting_outreach"}
    with pytest.raises(ValueError, match="role must be one of SDR, AE, AM"):
        planner["plan"](dt.date(2026, 1, 5), "CSM")


def test_every_deadline_falls_on_a_weekday_inside_its_phase_before_the_review(planner: dict) -> None:
    phases = planner["PHASES"]
    for offset in range(366):
        start = dt.date(2026, 1, 1) + dt.timedelta(days=offset)
        for role in planner["ROLES"]:
            milestones = planner["plan"](start, role)
            reviews = {m.phase: m.date for m in milestones if m.what.startswith("Day-")}
            for m in milestones:
                if m.day == 1:
                    continue
                assert m.date.weekday() < 5, (start, m)
                assert phases[m.phase].first_day <= m.day <= phases[m.phase].last_day, (start, m)
                assert m.date <= reviews[m.phase], (start, m)


@pytest.mark.parametrize(("start", "month_end", "days"), [
    (dt.date(2025, 3, 3), dt.date(2025, 6, 30), 119),   # Tomas, the chapter's worked example
    (dt.date(2026, 1, 5), dt.date(2026, 4, 30), 115),   # the planner's default start
    (dt.date(2026, 1, 1), dt.date(2026, 4, 30), 119),
    (dt.date(2026, 1, 31), dt.date(2026, 5, 31), 120),  # a month that ends on day 120 itself still counts
    (dt.date(2026, 11, 2), dt.date(2027, 2, 28), 118),
])
def test_full_target_month_keeps_ramp_time_within_120_days(planner: dict, start: dt.date, month_end: dt.date,
                                                           days: int) -> None:
    assert planner["full_target_month_end"](start) == month_end
    assert planner["ramp_days"](start, month_end) == days


# --- the other modules' logic --------------------------------------------------------------------------


def test_icp_scores_match_the_handbook_and_do_not_depend_on_the_weights_scale() -> None:
    icp = logic("icp_scoring.ipynb")
    accounts = pd.read_csv(NOTEBOOK_DIR / "data" / "icp_accounts.csv", keep_default_na=False)
    weights = icp["HANDBOOK_WEIGHTS"]
    assert sum(weights.values()) == 100
    ranked = icp["rank_accounts"](accounts, weights).set_index("account")
    assert ranked.loc["Lumenfold Analytics", "score"] == 73 and ranked.loc["Lumenfold Analytics", "tier"] == "Tier 2"
    assert ranked.loc["Greywater Defence Systems", "tier"] == "Excluded"
    assert list(ranked.index[-3:]) == ["Pinecrest Home Energy", "Northgate Fleet Telematics",
                                       "Greywater Defence Systems"]
    doubled = icp["rank_accounts"](accounts, {c: 2 * w for c, w in weights.items()})
    assert list(doubled["score"]) == list(ranked["score"])
    assert icp["icp_score"](dict.fromkeys(weights, 3), dict.fromkeys(weights, 0)) is None
    assert [icp["tier"](s, "") for s in (75, 74, 55, 54, 35, 34)] == [
        "Tier 1", "Tier 2", "Tier 2", "Tier 3", "Tier 3", "Not a target"]


def test_funnel_explorer_finds_the_chapters_bottleneck_and_the_open_deals_trap() -> None:
    funnel = logic("funnel_explorer.ipynb")
    opps = funnel["load_pipeline"](str(ROOT / "book" / "data" / "sample_pipeline.csv"))

    def steps(team: str, period: str, open_as_lost: bool = False) -> pd.DataFrame:
        return funnel["step_table"](funnel["reached_counts"](funnel["select"](opps, team, period, open_as_lost)))

    year = steps("All teams", "Full year 2025")
    assert list(year["entered"]) + [int(year["moved on"].iloc[-1])] == [385, 291, 144, 112, 63]
    assert funnel["bottleneck"](year) == "Demo → Proposal"
    assert funnel["bottleneck"](steps("Europe North", "Full year 2025")) == "Demo → Proposal"
    assert funnel["bottleneck"](steps("Europe Central", "Full year 2025")) == "Negotiation → Closed won"
    assert funnel["bottleneck"](steps("All teams", "Q4 2025")) == "Demo → Proposal"
    assert funnel["bottleneck"](steps("All teams", "Q4 2025", open_as_lost=True)) == "Negotiation → Closed won"
    empty = funnel["step_table"](funnel["reached_counts"](opps.iloc[0:0]))
    assert funnel["bottleneck"](empty) is None


def test_objection_practice_counts_only_the_first_choice() -> None:
    practice = logic("objection_practice.ipynb")
    scenarios = practice["SCENARIOS"]
    best = [next(i for i, r in enumerate(s.replies) if r.best) for s in scenarios]
    keeper = practice["ScoreKeeper"](total=len(scenarios))
    assert keeper.summary() == f"Score: no scenarios answered yet, {len(scenarios)} to go."
    assert keeper.choose(0, best[0]) is True
    wrong = (best[1] + 1) % 4
    assert keeper.choose(1, wrong) is True
    assert keeper.choose(1, best[1]) is False  # a second try shows feedback but does not score
    assert keeper.correct() == 1
    assert keeper.summary() == (f"Score: 1 of 2 answered with the best reply on the first try; "
                                f"{len(scenarios) - 2} to go.")
    assert len(scenarios) == 8 and len(set(best)) > 1  # the best reply is not always in the same place


# --- manager dashboard ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dash() -> dict[str, object]:
    return logic("manager_dashboard.ipynb")


@pytest.fixture(scope="module")
def demo_dashboard(dash: dict) -> tuple[object, str]:
    analysis, source = dash["load_analysis"](None)
    return dash["Dashboard"](analysis), source


def test_dashboard_without_spm_db_shows_the_demo_store(demo_dashboard: tuple) -> None:
    board, source = demo_dashboard
    assert source.splitlines() == ["Demo store with SIMULATED scores (seed 7, as of 2026-11-28):",
                                   "30 reps in 3 teams, 559 KPI values,",
                                   "60 graded items, 1,384 item scores (3 awaiting a manual grade)."]
    assert board.teams() == ["Closers", "Gardeners", "Pathfinders"]
    # each team's most urgent rep: the first of the team report's "Coach first"
    assert [board.default_rep(t) for t in board.teams()] == ["sami.garcia", "emil.tanaka", "amir.tanaka"]
    assert [board.team(t)["coach_first"][0]["rep_id"] for t in board.teams()] == [
        "sami.garcia", "emil.tanaka", "amir.tanaka"]
    # linked gaps counted as skills (9 skill-KPI pairs behind Jade Abbott's 4), as the reports count them
    labels = dict((rep_id, label) for label, rep_id in board.reps("Closers"))
    assert len(labels) == 10 and labels["jade.abbott"] == "Jade Abbott (AE, 4 linked gaps)"
    assert labels["sami.garcia"] == "Sami Garcia (AE, 11 linked gaps)"
    assert labels["elena.jansen"] == "Elena Jansen (AE, 0 linked gaps)"


def test_dashboard_reads_the_store_named_by_spm_db(dash: dict, tmp_path: Path) -> None:
    from spm_training.demo.store import build_demo_store

    db = build_demo_store(tmp_path / "team.db", seed=11, n_reps=12, course_dir=ROOT / "assessments").path
    analysis, source = dash["load_analysis"](str(db))
    # never the store's path, which would end up on a published page
    assert source == f"The store named by $SPM_DB: 12 reps in 3 teams, as of {dt.date.today().isoformat()}."
    assert str(tmp_path) not in source and "team.db" not in source
    assert len(analysis.reps) == 12 and analysis.today == dt.date.today()
    board = dash["Dashboard"](analysis)
    assert board.teams() == ["Closers", "Gardeners", "Pathfinders"]


def test_dashboard_page_is_the_reports_charts_gaps_and_plan(dash: dict, demo_dashboard: tuple) -> None:
    from spm_training import BookLinks, Project, rep_context, team_context, template_environment
    from spm_training.analysis.evidence import CAVEAT

    board, _ = demo_dashboard
    page = board.html("Closers", "jade.abbott")
    a = board.analysis
    links = BookLinks(Project.at(ROOT), "../")
    team = team_context(a.scoped(list(a.reps.loc[a.reps["team"] == "Closers", "rep_id"])), "Closers", links,
                        rep_pages={})
    rep = rep_context(a.scoped(["jade.abbott"]), "jade.abbott", links)
    # The very markup of the reports: the heatmap, every KPI's meter and sparkline, the readiness chart, the plan.
    assert str(team["heatmap"]) in page
    assert len(rep["kpis"]) == 10
    assert all(str(k["meter"]) in page and str(k["spark"]) in page for k in rep["kpis"])
    assert str(rep["readiness"]["chart"]) in page
    plan = [*rep["focus"], *rep["rest"]]
    assert str(template_environment().get_template("_plan.html").module.plan(plan)) in page
    assert f'<p class="caveat">{CAVEAT}</p>' in page and CAVEAT.startswith("Correlation, not causation")
    # Linked gaps first, in the team's list and in the rep's.
    mine = page[page.index("<h3>Jade Abbott</h3>"):page.index("<h4>KPIs against target</h4>")]
    assert mine.count('class="badge linked"') == 4 and 'class="badge skill"' not in mine
    team_part = page[:page.index("<h3>Jade Abbott</h3>")]
    assert team_part.index("All 32 linked gaps") < team_part.index('class="badge skill"')
    # Her 4 linked rows, and 3 KPI gaps (CSAT, meetings booked, pipeline) that no weak skill of hers explains.
    assert team_part.count('<tr class="mine">') == 7
    # Every handbook link resolves to a page of the book, one folder up from notebooks/.
    links = set(re.findall(r'href="\.\./([^"]+)\.html"', page))
    assert links and all((ROOT / f"{link}.md").is_file() for link in links)


def test_each_reps_counts_are_the_same_in_the_team_report_the_rep_report_and_the_dashboard(
        demo_dashboard: tuple) -> None:
    """Issue 15: the dashboard counted skill-KPI pairs (Sami Garcia: 19 linked gaps) where a report counted
    skills. Every rep's counts, in the overview the book shows and the drop-down labels, are the team
    report's and the rep report's (all from the public rep_gap_counts)."""
    from spm_training import BookLinks, Project, rep_context, rep_gap_counts, team_context

    board, _ = demo_dashboard
    a = board.analysis
    links = BookLinks(Project.at(ROOT), "../")
    overview = board.overview()
    seen = 0
    for team in board.teams():
        members = list(a.reps.loc[a.reps["team"] == team, "rep_id"])
        team_rows = {r["rep_id"]: r["counts"] for r in team_context(a.scoped(members), team, links)["rows"]}
        labels = {rep_id: label for label, rep_id in board.reps(team)}
        counts = rep_gap_counts(a.scoped(members))
        for row in board.overview_rows(team):
            rep_id = row["rep_id"]
            mine = {k: row[k] for k in ("linked", "skill_only", "kpi", "pairs", "skills")}
            assert mine == team_rows[rep_id] == rep_context(a.scoped([rep_id]), rep_id, links)["counts"] == counts[
                rep_id], rep_id
            # ... and as the page prints them
            cells = re.search(rf'<tr data-rep="{re.escape(rep_id)}"><td class="who">[^<]+</td><td>[^<]+</td>'
                              r'<td class="num[^"]*">(\d+)</td><td class="num">(\d+)</td><td class="num">(\d+)</td>'
                              r'<td class="num">(\d+)</td>', overview)
            assert cells and tuple(map(int, cells.groups())) == (mine["linked"], mine["pairs"], mine["skill_only"],
                                                                 mine["kpi"]), rep_id
            assert labels[rep_id].endswith(f", {mine['linked']} linked gap{'' if mine['linked'] == 1 else 's'})")
            seen += 1
    assert seen == 30
    # Sami Garcia: 11 skills with a linked gap, behind 20 skill-KPI pairs
    sami = next(r for r in board.overview_rows("Closers") if r["rep_id"] == "sami.garcia")
    assert (sami["linked"], sami["pairs"], sami["kpi"]) == (11, 20, 1)


def test_dashboard_overview_is_static_html_for_every_team_and_the_controls_say_they_need_a_kernel(
        demo_dashboard: tuple) -> None:
    board, _ = demo_dashboard
    overview = board.overview()
    assert [m for m in re.findall(r"<h3>Team (\w+)</h3>", overview)] == ["Closers", "Gardeners", "Pathfinders"]
    assert overview.count("<tr data-rep=") == 30 and "<script" not in overview
    first = re.search(r'<tr data-rep="([^"]+)">', overview).group(1)
    assert first == "sami.garcia"       # the most urgent first, as in the team report
    cells = _cells(NOTEBOOK_DIR / "manager_dashboard.ipynb")
    controls = "".join(next(c["source"] for c in cells if "widgets.Dropdown" in "".join(c["source"])))
    assert "Live controls: they need a running Python kernel" in controls
    heading = "".join(next(c["source"] for c in cells if "".join(c["source"]).startswith("## One team and one rep")))
    assert "**The two drop-downs work only in JupyterLab with a running kernel**" in heading


def test_dashboard_will_not_mix_a_team_with_another_teams_rep(demo_dashboard: tuple) -> None:
    board, _ = demo_dashboard
    with pytest.raises(ValueError, match="not in team Gardeners"):
        board.html("Gardeners", "jade.abbott")


@pytest.mark.slow
def test_dashboard_notebook_runs_against_spm_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole notebook, as a manager runs it: $SPM_DB set before the kernel starts."""
    import nbformat
    from nbclient import NotebookClient

    from spm_training.demo.store import build_demo_store

    db = build_demo_store(tmp_path / "real.db", seed=5, n_reps=9, course_dir=ROOT / "assessments").path
    monkeypatch.setenv("SPM_DB", str(db))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    nb = nbformat.read(NOTEBOOK_DIR / "manager_dashboard.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert printed == f"The store named by $SPM_DB: 9 reps in 3 teams, as of {dt.date.today().isoformat()}.\n"
    outputs = json.dumps([c.outputs for c in nb.cells if c.cell_type == "code"])
    assert str(tmp_path) not in outputs and "real.db" not in outputs
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    labels = [m["state"]["_options_labels"] for m in state.values() if m["model_name"] == "DropdownModel"]
    assert labels[0] == ["Closers", "Gardeners", "Pathfinders"] and len(labels[1]) == 3
