"""Attainment (direction, rank, trend), gaps and their linking, coaching plans, readiness, onboarding,
recognition and the `spm gaps` command, on a small store whose every figure is worked out by hand."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from spm_training.analysis.attainment import attainment
from spm_training.analysis.facade import analyse
from spm_training.analysis.readiness import readiness, readiness_index
from spm_training.catalog import CatalogError, load_kpis, load_skills
from spm_training.cli.main import cli
from spm_training.demo.store import write_store
from spm_training.ingest.sync import ItemRow, ScoreRow
from spm_training.project import Project
from spm_training.reports.links import BookLinks
from spm_training.settings import load_weights
from spm_training.store import open_store

SKILLS_YML = """\
skills:
  - id: discovery_questioning
    name: Discovery questioning
    kpis: [{id: win_rate, direction: positive}, {id: stage_conversion, direction: positive}]
    pages: [book/handbook/techniques]
    threshold: 0.7
  - id: qualification
    name: Qualification
    kpis: [{id: win_rate, direction: positive}, {id: sales_cycle_length, direction: positive}]
    pages: [book/sdr/qualification]
    threshold: 0.7
  - id: crm_hygiene
    name: CRM hygiene
    kpis: [{id: activities, direction: positive}]
    pages: [book/handbook/sales-process]
    threshold: 0.7
"""
TODAY = date(2026, 10, 20)
REPS = [  # id, name, team, role, hire date
    ("ann", "Ann Lee", "East", "AE", "2025-03-02"),
    ("bob", "Bob Ray", "East", "AE", "2025-06-01"),
    ("cy", "Cy Oh", "East", "AE", "2026-09-01"),        # a new hire: 49 days before TODAY
    ("dee", "Dee Fox", "West", "AE", "2024-01-10"),
]
# rep -> skill -> normalised scores, oldest first (None: awaiting a manual grade)
SCORES = {
    "ann": {"discovery_questioning": [0.5, 0.6, 0.55, 0.6], "qualification": [0.9, 0.8], "crm_hygiene": [0.8, 0.6]},
    "bob": {"discovery_questioning": [0.8, 0.9, 0.9, 1.0], "qualification": [0.6, 0.9], "crm_hygiene": [1.0, 0.9]},
    "cy": {"discovery_questioning": [0.4, None], "qualification": [0.5, None]},
    "dee": {"discovery_questioning": [0.3, 0.3, 0.3, 0.3], "qualification": [0.3, 0.3], "crm_hygiene": [0.3, 0.3]},
}
KPI_VALUES = [  # rep, period, kpi, value, target
    ("ann", "2026-Q1", "win_rate", 0.25, 0.25), ("ann", "2026-Q2", "win_rate", 0.225, 0.25),
    ("ann", "2026-Q3", "win_rate", 0.20, 0.25), ("ann", "2026-Q3", "stage_conversion", 0.605, 0.55),
    ("ann", "2026-Q3", "sales_cycle_length", 50, 45),
    ("bob", "2026-Q3", "win_rate", 0.30, 0.25), ("bob", "2026-Q3", "stage_conversion", 0.55, 0.55),
    ("bob", "2026-Q3", "sales_cycle_length", 36, 45),
    ("cy", "2026-Q3", "win_rate", 0.20, 0.25),
    ("dee", "2026-Q3", "win_rate", 0.50, 0.25),
]


def build(folder: Path) -> tuple[Path, dict, dict]:
    """The store above, written by the package's store builder; returns its path and the catalogs."""
    course = folder / "course"
    course.mkdir(parents=True, exist_ok=True)
    (course / "skills.yml").write_text(SKILLS_YML)
    kpis = load_kpis(None)
    skills = load_skills(course, kpis)
    managers = {"East": "Mia Roth", "West": "Jo Park"}
    reps = [{"id": r, "name": n, "email": f"{r}@example.com", "team_id": t, "manager": managers[t], "role": role,
             "hire_date": h} for r, n, t, role, h in REPS]
    items, scores = _items_and_scores()
    with open_store(folder / "spm.db") as store:
        write_store(store, reps=reps, kpi_values=KPI_VALUES, kpi_source="test", skills=skills, kpis=kpis,
                    items=items, scores=scores)
    return folder / "spm.db", skills, kpis


def _items_and_scores() -> tuple[list[ItemRow], list[ScoreRow]]:
    # Items: a1 holds each skill's first two attempts, a2 the rest; 10 points each, so x = points / 10.
    items = []
    for skill_id in ("discovery_questioning", "qualification", "crm_hygiene"):
        for n in range(4):
            assignment = "a1" if n < 2 else "a2"
            items.append(ItemRow(assignment, assignment, f"{skill_id}-{n}", 10, "manual", (skill_id,)))
    scores = []
    for rep, by_skill in SCORES.items():
        for skill_id, xs in by_skill.items():
            for n, x in enumerate(xs):
                assignment = "a1" if n < 2 else "a2"
                scores.append(ScoreRow(rep, assignment, assignment, f"{skill_id}-{n}", None,
                                       None if x is None else x * 10, None, int(x is None),
                                       "Open with the impact question." if rep == "ann" and n == 0 else None,
                                       f"2026-0{n + 4}-01 10:00:00.000000"))
    return items, scores


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    return build(tmp_path_factory.mktemp("gaps"))


def project_of(world, course: Path | None = None) -> Project:
    """The world's store with its course (skills.yml), or with ``course`` given that catalog too."""
    db, _, _ = world
    if course is not None:
        shutil.copy2(db.parent / "course" / "skills.yml", course / "skills.yml")
    return Project.at(None, course_dir=course or db.parent / "course", db_path=db)


def run(world, **scope):
    db, skills, kpis = world
    with open_store(db) as store:
        return analyse(store, project_of(world), today=TODAY, **scope)


# --- attainment ---------------------------------------------------------------------------------

def test_attainment_follows_the_kpi_direction() -> None:
    assert attainment(0.20, 0.25, "higher") == pytest.approx(0.8)
    assert attainment(50, 45, "lower") == pytest.approx(0.9)           # target ÷ value
    assert attainment(36, 45, "lower") == pytest.approx(1.25)          # a shorter cycle beats the target
    assert attainment(1.0, 0, "higher") is None and attainment(0, 45, "lower") is None


def test_current_attainment_with_rank_percentile_and_trend(world) -> None:
    current = run(world).current.set_index(["rep_id", "kpi"])
    win = current.xs("win_rate", level="kpi")
    assert win.loc["ann", "attainment"] == pytest.approx(0.8)
    assert win.loc["bob", "attainment"] == pytest.approx(1.2)
    # within team East only: bob 1.2 first, ann and cy tie at 0.8; dee (West) ranks alone
    assert win[["rank", "team_size"]].to_dict("index") == {
        "ann": {"rank": 2, "team_size": 3}, "bob": {"rank": 1, "team_size": 3}, "cy": {"rank": 2, "team_size": 3},
        "dee": {"rank": 1, "team_size": 1}}
    assert win.loc["bob", "percentile"] == 100 and win.loc["ann", "percentile"] == pytest.approx(200 / 3)
    trend = win.loc["ann", "trend"]            # 2025-Q4 has no value
    assert trend[0] is None and trend[1:] == pytest.approx([1.0, 0.9, 0.8])
    assert win.loc["ann", "change"] == pytest.approx(-0.1)
    assert current.loc[("ann", "sales_cycle_length"), "attainment"] == pytest.approx(0.9)
    assert current.loc[("bob", "sales_cycle_length"), "rank"] == 1


# --- gaps and linking ---------------------------------------------------------------------------

def test_gaps_are_linked_when_a_weak_skill_meets_a_short_kpi(world) -> None:
    rows = [(g["kind"], g["skill"], g["kpi"]) for g in run(world, rep="ann").gap_rows()]
    assert rows == [
        ("linked", "discovery_questioning", "win_rate"),     # mastery 0.584 < 0.7, win rate 0.8 < 1
        ("skill", "crm_hygiene", None),                      # 0.67 < 0.7, but no activities value
        ("kpi", None, "sales_cycle_length"),                 # 0.9 < 1, qualification is mastered (0.835)
    ]
    # stage conversion is 1.1 for ann: no linked gap for that pair, though the skill gap remains


def test_gap_rows_carry_the_figures(world) -> None:
    linked = run(world, rep="ann").gap_rows()[0]
    assert linked == {
        "rep_id": "ann", "name": "Ann Lee", "team": "East", "kind": "linked", "skill": "discovery_questioning",
        "mastery": 0.5843, "threshold": 0.7, "method": "decaying_average", "graded": 4, "pending": 0,
        "kpi": "win_rate", "period": "2026-Q3", "attainment": 0.8, "pages": "book/handbook/techniques"}


def test_a_weak_skill_with_two_short_kpis_links_to_both(world) -> None:
    rows = [(g["kind"], g["skill"], g["kpi"]) for g in run(world, rep="dee").gap_rows()]
    # dee's win rate is 2.0: every weak skill of hers is a skill gap, nothing is linked
    assert rows == [("skill", "crm_hygiene", None), ("skill", "discovery_questioning", None),
                    ("skill", "qualification", None)]
    cy = [(g["kind"], g["skill"], g["kpi"], g["pending"]) for g in run(world, rep="cy").gap_rows()]
    assert cy == [("linked", "discovery_questioning", "win_rate", 1), ("linked", "qualification", "win_rate", 1)]


def test_the_coaching_plan_puts_linked_gaps_first_with_pages_and_assignments(world) -> None:
    a = run(world, rep="ann")
    plan = a.plan("ann")
    assert [(e.kind, e.skill) for e in plan] == [("linked", "discovery_questioning"), ("skill", "crm_hygiene"),
                                                 ("kpi", None)]
    first = plan[0]
    assert [k["kpi"] for k in first.kpis] == ["win_rate"]
    assert first.pages == ("book/handbook/techniques",)
    # the reporting edge turns the page path into a link under the book's URL, with a slash added
    page = BookLinks(None, "../book/html").page(first.pages[0])
    assert (page.title, page.url) == ("Techniques", "../book/html/book/handbook/techniques.html")
    # her share of the discovery points: a1 (0.5 + 0.6) / 2, a2 (0.55 + 0.6) / 2
    assert [(x["assignment"], round(x["share"], 3)) for x in first.assignments] == [("a1", 0.55), ("a2", 0.575)]
    assert plan[1].note == "none of the KPIs it is linked to is measured for this rep"     # no activities value
    assert plan[2].kpis[0]["kpi"] == "sales_cycle_length"
    assert plan[2].note.startswith("no skill linked to it is below threshold")


def test_spm_gaps_prints_table_csv_and_json(world, tmp_path: Path) -> None:
    db, _, _ = world
    course = db.parent / "course"
    base = ["--db", str(db), "--course", str(course), "gaps"]
    table = CliRunner().invoke(cli, base + ["--rep", "ann"])
    assert table.exit_code == 0, table.output
    # the table for people is pinned line by line in tests/cli/test_gaps_cli.py
    assert "Discovery questioning      58% < 70%  Win rate" in table.output
    as_json = json.loads(CliRunner().invoke(cli, base + ["--team", "East", "--format", "json"]).output)
    assert {r["rep_id"] for r in as_json} == {"ann", "cy"}        # bob has no gap
    assert [r["kind"] for r in as_json if r["rep_id"] == "ann"] == ["linked", "skill", "kpi"]
    as_csv = CliRunner().invoke(cli, base + ["--format", "csv"]).output.splitlines()
    assert as_csv[0] == ("rep_id,name,team,kind,skill,mastery,threshold,method,graded,pending,kpi,period,"
                         "attainment,pages")
    assert len(as_csv) == 1 + len(as_json) + 3        # dee's three skill gaps too
    missing = CliRunner().invoke(cli, base + ["--team", "Nowhere"])
    assert missing.exit_code == 1
    assert missing.output == "Error: no team 'Nowhere' in the store; teams: East, West\n"
    both = CliRunner().invoke(cli, base + ["--team", "East", "--rep", "ann"])
    assert both.exit_code == 2 and "give --team or --rep, not both" in both.output


def test_export_mastery_and_gaps_use_the_stores_catalog(world) -> None:
    db, _, _ = world
    rows = json.loads(CliRunner().invoke(cli, ["--db", str(db), "export", "mastery", "--format", "json"]).output)
    ann = {r["skill"]: r for r in rows if r["rep_id"] == "ann"}
    assert ann["discovery_questioning"]["mastery"] == 0.5843
    assert ann["qualification"]["mastery"] == 0.835 and ann["qualification"]["mastered"] is True
    cy = {r["skill"]: r for r in rows if r["rep_id"] == "cy"}
    assert (cy["discovery_questioning"]["graded"], cy["discovery_questioning"]["pending"]) == (1, 1)
    gaps = CliRunner().invoke(cli, ["--db", str(db), "export", "gaps"]).output.splitlines()
    assert gaps[0].startswith("rep_id,name,team,kind,skill,mastery")
    assert "ann,Ann Lee,East,linked,discovery_questioning,0.5843,0.7" in gaps[1]


# --- readiness ----------------------------------------------------------------------------------

def test_the_readiness_worked_case_of_the_book() -> None:
    mastery = {"a": 0.82, "b": 0.58, "c": 0.75, "d": 0.64, "e": 0.81}
    r = readiness(mastery, list(mastery), [1.15, 0.80, 0.75], assignments_given=5, assignments_graded=4)
    assert (r.mastery, r.kpi, r.progress) == (pytest.approx(0.72), pytest.approx(0.75), 0.8)
    assert r.index == pytest.approx(74.5)
    capped = readiness(mastery, list(mastery), [1.5], 5, 4)
    assert capped.kpi == 1.0 and capped.index == pytest.approx(82.0)


def test_unmeasured_parts_count_as_zero_and_are_named() -> None:
    r = readiness({"a": 0.8, "b": None}, ["a", "b", "c"], [], assignments_given=4, assignments_graded=1)
    assert r.mastery == pytest.approx(0.8 / 3) and r.kpi == 0 and r.progress == 0.25
    assert r.missing == ("kpi",)
    assert r.index == pytest.approx(100 * (0.5 * 0.8 / 3 + 0.2 * 0.25))


def test_readiness_of_a_rep_from_the_store(world) -> None:
    r = run(world, rep="ann").readiness("ann")
    m = (0.5843375 + 0.835 + 0.67) / 3              # discovery, qualification, CRM hygiene: the AE's skills
    k = (0.8 + 1.1 + 0.9) / 3 / 1.2
    assert (r.mastery, r.kpi, r.progress) == (pytest.approx(m), pytest.approx(k), 1.0)
    assert r.index == pytest.approx(100 * (0.5 * m + 0.3 * k + 0.2 * 1.0))


def test_readiness_weights_from_spm_yml(tmp_path: Path) -> None:
    assert load_weights(tmp_path / "spm.yml") == {"mastery": 0.5, "kpi": 0.3, "progress": 0.2}
    (tmp_path / "spm.yml").write_text("readiness:\n  weights: {mastery: 0.6, kpi: 0.4, progress: 0}\n")
    weights = load_weights(tmp_path / "spm.yml")
    assert weights == {"mastery": 0.6, "kpi": 0.4, "progress": 0.0}
    assert readiness_index(0.5, 1.0, 1.0, weights) == pytest.approx(70.0)
    (tmp_path / "spm.yml").write_text("readiness:\n  weights: {mastery: 0.6, kpi: 0.3, progress: 0.2}\n")
    with pytest.raises(CatalogError) as bad:
        load_weights(tmp_path / "spm.yml")
    assert str(bad.value) == (f"{tmp_path / 'spm.yml'}:2: readiness weights sum to 1.1; make mastery + kpi + "
                              "progress equal 1 so that the index runs from 0 to 100")
    (tmp_path / "spm.yml").write_text("readiness:\n  weights: {mastery: 1, skill: 0}\n")
    with pytest.raises(CatalogError, match="unknown readiness weight 'skill'"):
        load_weights(tmp_path / "spm.yml")


# --- onboarding and recognition -------------------------------------------------------------------

def test_onboarding_progress_of_a_new_hire(world) -> None:
    rows = run(world, team="East").onboarding()
    assert [r["rep_id"] for r in rows] == ["cy"]
    cy = rows[0]
    assert (cy["days"], cy["given"], cy["submitted"], cy["graded"], cy["pending_answers"]) == (49, 2, 1, 0, 2)
    assert cy["skills_measured"] == 2 and cy["skills_mastered"] == 0
    assert cy["ramp"] == [{"period": "2026-Q3", "attainment": pytest.approx(0.8), "kpis": 1}]


def test_recognition_lists_top_performers_and_the_most_improved(world) -> None:
    rec = run(world, team="East").recognition()
    top = {t["kpi"]: [r["rep_id"] for r in t["reps"]] for t in rec["top"]}
    assert top == {"win_rate": ["bob"], "stage_conversion": ["ann", "bob"], "sales_cycle_length": ["bob"]}
    improved = {s["skill"]: [(r["rep_id"], round(r["rise"], 4)) for r in s["reps"]] for s in rec["improved"]}
    # bob's discovery: 0.8 first, then 0.865, 0.88775, 0.9607125; ann's: 0.5 -> 0.5843375
    assert improved["discovery_questioning"] == [("bob", round(0.9607125 - 0.8, 4)), ("ann", 0.0843)]
    assert improved["qualification"] == [("bob", round(0.65 * 0.9 + 0.35 * 0.6 - 0.6, 4))]


PLAN_YML = """phases:
  - {name: "Days 1 to 30: learn", first_day: 1, last_day: 30, what: the basics}
assignments:
  - {id: a1, title: First, due_day: 10, roles: [SDR], why: an SDR topic}
  - {id: a2, title: Second, due_day: 20, roles: [AE, AM], why: an AE topic}
"""


def test_progress_counts_the_assignments_the_plan_gives_the_role(world, tmp_path: Path) -> None:
    """With a plan that gives a1 to SDRs only, the AEs here are given a2 alone: ann's work on a1 is
    extra practice (it counts in mastery, not in progress), and cy has nothing of a2 yet."""
    course = tmp_path / "course"
    for assignment in ("a1", "a2"):
        (course / "source" / assignment).mkdir(parents=True)
    (course / "plan.yml").write_text(PLAN_YML)
    db, skills, kpis = world
    with open_store(db) as store:
        planned = analyse(store, project_of(world, course), today=TODAY)
        unplanned = analyse(store, project_of(world), today=TODAY)
    def parts(a, rep):
        p = a.progress(rep)
        return p["given"], p["submitted"], p["graded"], p["pending_answers"], p["share"]
    assert parts(unplanned, "ann") == (2, 2, 2, 0, 1.0) and parts(planned, "ann") == (1, 1, 1, 0, 1.0)
    assert parts(unplanned, "cy") == (2, 1, 0, 2, 0.0) and parts(planned, "cy") == (1, 0, 0, 0, 0.0)
    assert planned.given("ann") == ["a2"] and unplanned.given("ann") == ["a1", "a2"]
    assert planned.readiness("ann").mastery == unplanned.readiness("ann").mastery      # a1 still counts there
    (cy,) = planned.scoped(["cy"]).onboarding()
    assert (cy["given"], cy["submitted"], cy["graded"]) == (1, 0, 0)
    (course / "plan.yml").write_text(PLAN_YML.replace("due_day: 20", "due_day: 40"))
    with open_store(db) as store, pytest.raises(CatalogError, match=r"plan.yml:5"):
        analyse(store, project_of(world, course), today=TODAY)


def test_the_coaching_plan_says_which_practice_the_role_was_not_given(world, tmp_path: Path) -> None:
    from spm_training.reports.build import _plan_view

    course = tmp_path / "course"
    for assignment in ("a1", "a2"):
        (course / "source" / assignment).mkdir(parents=True)
    # a1 for AEs, a2 for SDRs only: cy (an AE) did part of a1, and a2 is not hers to do
    (course / "plan.yml").write_text(PLAN_YML.replace("roles: [SDR]", "roles: [AE]").replace("roles: [AE, AM]",
                                                                                              "roles: [SDR]"))
    db, skills, kpis = world
    with open_store(db) as store:
        planned = analyse(store, project_of(world, course), today=TODAY)
        unplanned = analyse(store, project_of(world), today=TODAY)
    (entry,) = [e for e in planned.plan("cy") if e.skill == "discovery_questioning"]
    assert entry.assignments == ({"assignment": "a1", "share": pytest.approx(0.4), "given": True},
                                 {"assignment": "a2", "share": None, "given": False})
    (view,) = [v for v in _plan_view(planned.plan("cy"), BookLinks(None)) if v["skill"] == "discovery_questioning"]
    # a2 is not in her role's plan, so it is not suggested at all (the rep report never sends a rep to
    # practise on an assignment that is not hers to do)
    assert view["assignments"] == "a1 (40% of this skill's points there so far)"
    assert [s["text"] for s in view["steps"] if s["verb"] != "Read"] == ["a1"]
    (view,) = [v for v in _plan_view(unplanned.plan("cy"), BookLinks(None)) if v["skill"] == "discovery_questioning"]
    assert view["assignments"] == "a1 (40% of this skill's points there so far), a2 (not submitted yet)"
