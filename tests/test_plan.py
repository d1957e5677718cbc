"""The onboarding plan (assessments/plan.yml): the shipped schedule, the rules a plan file must keep,
deadlines per role, and what ``spm skills check`` says about a plan that disagrees with the course."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from spm_training.checks import check_plan, check_skills
from spm_training.cli.main import cli
from spm_training.course import read_items
from spm_training.errors import CatalogError
from spm_training.plan import due_date, due_for, load_plan, plan_problems, read_plan

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "assessments"
ALL = ("SDR", "AE", "AM")


@pytest.fixture(scope="module")
def plan():
    return load_plan(COURSE)


def test_shipped_plan_is_the_planners_schedule(plan) -> None:
    assert [(p.name, p.first_day, p.last_day) for p in plan.phases] == [
        ("Days 1 to 30: learn", 1, 30), ("Days 31 to 60: contribute", 31, 60), ("Days 61 to 90: own", 61, 90)]
    assert [(a.id, a.due_day, a.roles) for a in plan.assignments] == [
        ("03_icp_targeting", 15, ALL), ("04_prospecting_outreach", 26, ("SDR",)), ("05_qualification", 40, ALL),
        ("06_objection_handling", 45, ALL), ("07_role_play", 50, ALL), ("08_call_review", 56, ALL),
        ("01_kpi_smart", 68, ALL), ("02_funnel_analysis", 76, ALL), ("09_product_negotiation", 85, ("AE", "AM"))]
    negotiation = plan.assignments[-1]
    assert (negotiation.title, negotiation.why) == (
        "Product and negotiation", "negotiation and closing is an own-phase skill for AEs and AMs")
    assert [plan.phase_of(d) for d in (1, 30, 31, 60, 61, 90)] == [0, 0, 1, 1, 2, 2]


def test_shipped_plan_agrees_with_the_course(plan) -> None:
    assert plan_problems(plan, COURSE) == []
    assert check_plan(COURSE) == []


# --- deadlines -------------------------------------------------------------------------------------------


def test_sdr_deadlines_move_off_weekends_and_stop_at_today(plan) -> None:
    # Hired Monday 5 January 2026, day N is N - 1 days later: day 56 is Sunday 1 March and day 76 Saturday
    # 21 March, so both move to the Friday before; the other due days are weekdays.
    everything = due_for(plan, "SDR", date(2026, 1, 5), date(2026, 12, 31))
    assert everything == [
        ("03_icp_targeting", date(2026, 1, 19)), ("04_prospecting_outreach", date(2026, 1, 30)),
        ("05_qualification", date(2026, 2, 13)), ("06_objection_handling", date(2026, 2, 18)),
        ("07_role_play", date(2026, 2, 23)), ("08_call_review", date(2026, 2, 27)),
        ("01_kpi_smart", date(2026, 3, 13)), ("02_funnel_analysis", date(2026, 3, 20))]
    # A deadline on today is reached; one the day after is not.
    assert due_for(plan, "SDR", date(2026, 1, 5), date(2026, 2, 13))[-1] == ("05_qualification", date(2026, 2, 13))
    assert [a for a, _ in due_for(plan, "SDR", date(2026, 1, 5), date(2026, 2, 12))] == [
        "03_icp_targeting", "04_prospecting_outreach"]
    assert due_for(plan, "SDR", date(2026, 1, 5), date(2026, 1, 18)) == []


def test_each_role_gets_its_own_assignments(plan) -> None:
    far = date(2027, 1, 1)
    ids = {role: [a for a, _ in due_for(plan, role, date(2026, 1, 5), far)] for role in ALL}
    assert "09_product_negotiation" not in ids["SDR"] and "04_prospecting_outreach" in ids["SDR"]
    assert ids["AE"] == ids["AM"] == ["03_icp_targeting", "05_qualification", "06_objection_handling",
                                      "07_role_play", "08_call_review", "01_kpi_smart", "02_funnel_analysis",
                                      "09_product_negotiation"]
    # Day 85 of a 5 January start is Tuesday 30 March.
    assert due_for(plan, "AE", date(2026, 1, 5), far)[-1] == ("09_product_negotiation", date(2026, 3, 30))
    with pytest.raises(ValueError, match="role must be one of SDR, AE, AM, not 'CSM'"):
        due_for(plan, "CSM", date(2026, 1, 5), far)


def test_due_date_counts_the_hire_date_as_day_one_and_skips_weekends() -> None:
    assert due_date(date(2026, 1, 5), 1) == date(2026, 1, 5)
    assert due_date(date(2026, 1, 5), 5) == date(2026, 1, 9)       # Friday
    assert due_date(date(2026, 1, 5), 6) == date(2026, 1, 9)       # Saturday -> Friday
    assert due_date(date(2026, 1, 5), 7) == date(2026, 1, 9)       # Sunday -> Friday
    assert due_date(date(2026, 1, 5), 8) == date(2026, 1, 12)      # Monday
    # A plan that starts on a Saturday: the Friday before would come before the start, so Monday.
    assert due_date(date(2026, 1, 3), 2) == date(2026, 1, 5)
    assert due_date(date(2026, 1, 3), 15) == date(2026, 1, 16)     # Saturday 17th -> Friday 16th


# --- the rules of the file -------------------------------------------------------------------------------

PHASES = """phases:
  - {name: learn, first_day: 1, last_day: 30, what: learning}
  - {name: own, first_day: 31, last_day: 90, what: owning}
"""


def course_with(tmp_path: Path, plan_text: str, folders: tuple[str, ...] = ("01_a", "02_b")) -> Path:
    course = tmp_path / "course"
    for folder in folders:
        (course / "source" / folder).mkdir(parents=True)
    (course / "plan.yml").write_text(plan_text, encoding="utf-8")
    return course


def entry(assignment: str, day: object, roles: str = "[SDR, AE, AM]") -> str:
    return f"  - {{id: {assignment}, title: T, due_day: {day}, roles: {roles}, why: because}}\n"


def test_a_small_valid_plan(tmp_path: Path) -> None:
    course = course_with(tmp_path, PHASES + "assignments:\n" + entry("02_b", 10, "[AE]") + entry("01_a", 10, "SDR"))
    plan = load_plan(course)
    # Two assignments may share a due day; a single role may be written without brackets.
    assert [(a.id, a.due_day, a.roles, a.line) for a in plan.assignments] == [
        ("02_b", 10, ("AE",), 5), ("01_a", 10, ("SDR",), 6)]
    assert due_for(plan, "AM", date(2026, 1, 5), date(2027, 1, 1)) == []


@pytest.mark.parametrize(("text", "message"), [
    (PHASES + "assignments:\n" + entry("01_a", 10) + entry("02_b", 9),
     ":6: assignment '02_b' is due on day 9, before '01_a' above it (day 10); "
     "list the assignments in the order of their due days, or check the day"),
    (PHASES + "assignments:\n" + entry("01_a", 91),
     ":5: assignment '01_a' is due on day 91, outside the phases (days 1 to 90); give it a due day inside a phase"),
    (PHASES + "assignments:\n" + entry("01_a", 0),
     ":5: assignment '01_a' has due_day 0; use a whole day number, counting the hire date as day 1"),
    (PHASES + "assignments:\n" + entry("01_a", 12.5),
     ":5: assignment '01_a' has due_day 12.5; use a whole day number, counting the hire date as day 1"),
    (PHASES + "assignments:\n" + entry("01_a", 10, "[SDR, CSM]"),
     ":5: assignment '01_a' names unknown role 'CSM'; use SDR, AE, AM"),
    (PHASES + "assignments:\n" + entry("01_a", 10, "[]"),
     ":5: assignment '01_a' has roles []; list the roles that take it, e.g. [SDR, AE, AM]"),
    (PHASES + "assignments:\n" + entry("01_a", 10, "[AE, AE]"),
     ":5: assignment '01_a' names a role twice; name each role once"),
    (PHASES + "assignments:\n" + entry("01_a", 10) + entry("01_a", 20),
     ":6: assignment '01_a' appears twice (first on line 5); keep one entry per assignment"),
    (PHASES + "assignments:\n  - {id: 01_a, title: T, due: 10, roles: [AE], why: w}\n",
     ":5: each assignment has an unknown field 'due'; use only id, title, due_day, roles, why"),
    (PHASES + "assignments:\n  - {id: 01_a, title: T, due_day: 10, roles: [AE]}\n",
     ":5: each assignment has no 'why'; add a 'why:' field"),
    (PHASES.replace("first_day: 31", "first_day: 32") + "assignments:\n" + entry("01_a", 10),
     ":3: phase 'own' starts on day 32, not on day 31; start it on the day after phase 'learn' ends: "
     "phases follow each other with no gap or overlap"),
    (PHASES.replace("first_day: 1,", "first_day: 2,") + "assignments:\n" + entry("01_a", 10),
     ":2: phase 'learn' starts on day 2, not on day 1; start it on the hire date, day 1: "
     "phases follow each other with no gap or overlap"),
    (PHASES.replace("last_day: 90", "last_day: 20") + "assignments:\n" + entry("01_a", 10),
     ":3: phase 'own' ends on day 20, before its first day 31; swap first_day and last_day"),
    (PHASES + "assignments:\n" + entry("03_c", 10),
     ":5: assignment '03_c' is not in {source}; use the name of an assignment folder there"),
    ("phases: []\nassignments: []\n",
     ":1: expected a non-empty top-level 'phases:' list; add 'phases:' followed by its entries "
     "(see assessments/plan.yml)"),
])
def test_a_broken_plan_is_named_by_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    course = course_with(tmp_path, text)
    with pytest.raises(CatalogError) as info:
        load_plan(course)
    assert str(info.value) == f"{course / 'plan.yml'}" + message.format(source=course / "source")


def test_a_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    course = course_with(tmp_path, PHASES + "assignments:\n  - id: 01_a\n   title: T\n")
    with pytest.raises(CatalogError) as info:
        read_plan(course / "plan.yml")
    assert str(info.value).startswith(f"{course / 'plan.yml'}:6: YAML syntax error at column 4:")


def test_a_missing_plan_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        load_plan(tmp_path)
    assert str(info.value) == (f"{tmp_path / 'plan.yml'}: no onboarding plan here; create it (see "
                               "assessments/plan.yml), or point --course at the course folder")


# --- spm skills check ------------------------------------------------------------------------------------


def test_check_lists_unknown_and_unscheduled_assignments(tmp_path: Path) -> None:
    planned = entry("01_a", 10) + entry("09_z", 20) + entry("08_y", 30)
    course = course_with(tmp_path, PHASES + "assignments:\n" + planned, folders=("01_a", "02_b", "03_c"))
    plan_file = course / "plan.yml"
    assert check_plan(course) == [
        f"{plan_file}:6: assignment '09_z' is not in {course / 'source'}; fix the id or remove the entry",
        f"{plan_file}:7: assignment '08_y' is not in {course / 'source'}; fix the id or remove the entry",
        f"{plan_file}: assignment '02_b' of the course is in the plan for no role; "
        "add it with a due day and the roles that take it",
        f"{plan_file}: assignment '03_c' of the course is in the plan for no role; "
        "add it with a due day and the roles that take it",
    ]


def test_check_reports_a_plan_that_does_not_load_as_one_problem(tmp_path: Path) -> None:
    course = course_with(tmp_path, PHASES + "assignments:\n" + entry("01_a", 95))
    assert check_plan(course) == [f"{course / 'plan.yml'}:5: assignment '01_a' is due on day 95, outside the "
                                  "phases (days 1 to 90); give it a due day inside a phase"]


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """The real course (skills.yml, plan.yml and source/), so that everything but the plan is consistent."""
    course = tmp_path / "course"
    shutil.copytree(COURSE / "source", course / "source",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    for name in ("skills.yml", "plan.yml"):
        shutil.copy2(COURSE / name, course / name)
    return course


def test_check_skills_checks_the_plan_of_the_course_it_is_given(course_copy: Path) -> None:
    from spm_training.catalog import load_kpis, load_skills

    skills = load_skills(course_copy, load_kpis())
    items = read_items(course_copy)
    assert check_skills(skills, items, ROOT, course_copy) == []
    text = (course_copy / "plan.yml").read_text(encoding="utf-8")
    (course_copy / "plan.yml").write_text(text.replace("id: 09_product_negotiation", "id: 10_negotiation"),
                                          encoding="utf-8")
    # Without a course folder the plan is not checked (the course is no longer guessed from the items).
    assert check_skills(skills, items, ROOT) == []
    problems = check_skills(skills, items, ROOT, course_copy)
    assert [p.split(": ", 1)[1] for p in problems] == [
        f"assignment '10_negotiation' is not in {course_copy / 'source'}; fix the id or remove the entry",
        "assignment '09_product_negotiation' of the course is in the plan for no role; "
        "add it with a due day and the roles that take it"]
    # The plan checked is the given course's: an empty course with no plan has nothing to disagree
    # with (the plan is optional: without it every assignment is for every role), a broken one does.
    empty = course_copy.parent / "empty"
    empty.mkdir()
    assert check_skills(skills, items, ROOT, course_dir=empty) == []
    (empty / "plan.yml").write_text("phases: [oops\n", encoding="utf-8")
    assert check_skills(skills, items, ROOT, course_dir=empty) == [
        f"{empty / 'plan.yml'}:2: YAML syntax error at column 1: expected ',' or ']', but got '<stream end>'; "
        "fix the indentation or quoting there"]


def test_spm_skills_check_fails_on_a_plan_that_disagrees(course_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    ok = CliRunner().invoke(cli, ["--course", str(course_copy), "skills", "check"])
    assert (ok.exit_code, ok.output) == (0, "12 skills, 60 graded items: consistent\n")
    text = (course_copy / "plan.yml").read_text(encoding="utf-8")
    start = text.index("  - id: 07_role_play")
    (course_copy / "plan.yml").write_text(text[:start] + text[text.index("  - id: 08_call_review"):],
                                          encoding="utf-8")
    result = CliRunner().invoke(cli, ["--course", str(course_copy), "skills", "check"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{course_copy / 'plan.yml'}: assignment '07_role_play' of the course is in the plan for no role; "
        "add it with a due day and the roles that take it",
        "Error: 1 problems in the skills catalog, course or book"]
