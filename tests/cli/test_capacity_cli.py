"""``spm capacity`` and ``spm hiring-plan`` (issue 19) on a small store whose every figure is worked out
by hand, and the one-line errors of a bad ``capacity:`` or ``hiring:`` section of spm.yml."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from spm_training.analysis.hiring import add_months, plan_start
from spm_training.catalog import load_kpis, load_skills
from spm_training.cli.main import cli
from spm_training.demo.store import write_store
from spm_training.periods import period_of
from spm_training.store import open_store
from tests.analysis.test_gaps import SKILLS_YML

TODAY = date.today()
LEFT = (TODAY - timedelta(days=20)).isoformat()
REPS = [  # id, name, team, role, hire date
    ("ann", "Ann Lee", "East", "AE", "2024-01-15"),
    ("bob", "Bob Ray", "East", "AE", "2024-03-01"),
    ("cy", "Cy Oh", "West", "AE", "2024-05-01"),
    ("dee", "Dee Fox", "West", "SDR", "2024-02-01"),
    ("eve", "Eve Ng", "West", "AE", "2023-06-01"),      # left 20 days ago
]
KPI_VALUES = [  # rep, period, kpi, value, target
    # activities a month: AE capacity 400, SDR 1,100
    ("ann", "2026-10", "activities", 500, 300), ("bob", "2026-10", "activities", 420, 300),
    ("cy", "2026-10", "activities", 200, 300), ("dee", "2026-10", "activities", 990, 900),
    ("eve", "2026-10", "activities", 900, 300),
    # pipeline generated a quarter: AE capacity 480,000, SDR 200,000
    ("ann", "2026-Q3", "pipeline_generated", 240_000, 360_000),
    ("bob", "2026-Q3", "pipeline_generated", 600_000, 360_000),
    ("cy", "2026-Q3", "pipeline_generated", 96_000, 360_000),
    ("dee", "2026-Q3", "pipeline_generated", 220_000, 150_000),
    # revenue a quarter: attainment 100%, 75%, 50%; Eve's is not counted, she has left
    ("ann", "2026-Q3", "revenue", 120_000, 120_000), ("bob", "2026-Q3", "revenue", 90_000, 120_000),
    ("cy", "2026-Q3", "revenue", 60_000, 120_000), ("eve", "2026-Q3", "revenue", 500_000, 120_000),
]
HIRING = "hiring:\n  time_to_hire_days: 30\n  default_ramp: [0.5]\n  min_headcount: 50\n  default_attrition: 0\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("capacity")
    (root / "_config.yml").write_text("title: test\n")
    course = root / "assessments"
    course.mkdir()
    (course / "skills.yml").write_text(SKILLS_YML)
    kpis = load_kpis(None)
    reps = [{"id": r, "name": n, "email": f"{r}@example.com", "team_id": t, "manager": "Mia Roth", "role": role,
             "hire_date": h} for r, n, t, role, h in REPS]
    with open_store(root / "spm.db") as store:
        write_store(store, reps=reps, kpi_values=KPI_VALUES, kpi_source="test", skills=load_skills(course, kpis),
                    kpis=kpis, items=[])
        with store.transaction():
            store.conn.execute("UPDATE reps SET left_on = ? WHERE id = 'eve'", (LEFT,))
    return root


def spm(project: Path, settings: str | None, *args: str, monkeypatch: pytest.MonkeyPatch):
    spm_yml = project / "spm.yml"
    if settings is None:
        spm_yml.unlink(missing_ok=True)
    else:
        spm_yml.write_text(settings)
    monkeypatch.chdir(project)
    monkeypatch.delenv("SPM_DB", raising=False)
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


CAPACITY = """\
Capacity per rep: Activities a month: SDR 1,100, AE 400, AM 300; Pipeline a
quarter: SDR 200,000, AE 480,000.

Team East: 2 of 2 measured reps over capacity, mean load 125%. The team is full:
every rep is over capacity, so this is the time to hire (spm hiring-plan).
Rep      Role  Activities  Pipeline  Load
-------  ----  ----------  --------  ----  -------------
Ann Lee  AE          125%       50%  125%  over capacity
Bob Ray  AE          105%      125%  125%  over capacity

Team West: 1 of 2 measured reps over capacity, mean load 80%.
Rep      Role  Activities  Pipeline  Load
-------  ----  ----------  --------  ----  -------------
Dee Fox  SDR          90%      110%  110%  over capacity
Cy Oh    AE           50%       20%   50%
"""


def test_capacity_table_flags_reps_over_capacity_and_the_full_team(project, monkeypatch):
    result = spm(project, None, "capacity", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.output == CAPACITY


def test_capacity_json_has_a_row_per_rep_then_per_team(project, monkeypatch):
    result = spm(project, None, "capacity", "--team", "west", "--format", "json", monkeypatch=monkeypatch)
    rows = json.loads(result.output)
    assert [(r["level"], r["rep_id"] or r["team"]) for r in rows] == [("rep", "cy"), ("rep", "dee"), ("team", "West")]
    cy, dee, west = rows
    assert (cy["activities"], cy["activities_capacity"], cy["activities_load"], cy["over_capacity"]) == \
        (200.0, 400.0, 0.5, False)
    assert (dee["pipeline_generated_period"], dee["pipeline_generated_load"], dee["load"], dee["over_capacity"]) == \
        ("2026-Q3", 1.1, 1.1, True)
    assert (west["reps"], west["reps_over"], west["load"], west["full"]) == (2, 1, 0.8, False)


def test_capacity_from_spm_yml_replaces_a_kpis_defaults(project, monkeypatch):
    result = spm(project, "capacity:\n  activities: {AE: 250}\n", "capacity", "--team", "East", "--format", "csv",
                 monkeypatch=monkeypatch)
    lines = result.output.splitlines()
    assert lines[1].startswith("rep,East,ann,Ann Lee,AE,500.0,2026-10,250.0,2.0,")
    # Bob: 420 / 250 = 168%; the team's mean load (200% + 168%) / 2
    assert lines[-1] == "team,East,,,,,,,,,,,,1.84,,2,2,True"


def test_hiring_plan_worked_out_by_hand(project, monkeypatch):
    # AE today: 120,000 + 90,000 + 60,000 = 270,000 a quarter; target 420,000 in the second quarter, so
    # 345,000 then 420,000: short by 75,000 and 150,000. Steady attainment: the mean of the three ramped
    # reps, 75%. A hire from month 1 (30 days to hire) makes 40,000 x 50% in their first month, then
    # 40,000 x 75%: 50,000 then 90,000, so two hires; neither can start later (the first quarter would
    # get 20,000 from one). AM: no reps, so no share of the target.
    result = spm(project, HIRING, "hiring-plan", "--target", "420000", "--horizon", "2", "--format", "json",
                 monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    start = plan_start(TODAY)
    first, second = period_of(start, "quarter"), period_of(add_months(start, 3), "quarter")
    rows = json.loads(result.output)
    open_by = (add_months(start, 1) - timedelta(days=30)).isoformat()
    assert rows == [
        {"quarter": first, "role": "AE", "target": 345000.0, "expected": 270000.0, "hires": 2, "with_hires": 370000.0,
         "open_by": max(open_by, start.isoformat()), "reachable": True},
        {"quarter": first, "role": "AM", "target": 0.0, "expected": 0.0, "hires": 0, "with_hires": 0.0,
         "open_by": None, "reachable": True},
        {"quarter": second, "role": "AE", "target": 420000.0, "expected": 270000.0, "hires": 0, "with_hires": 450000.0,
         "open_by": None, "reachable": True},
        {"quarter": second, "role": "AM", "target": 0.0, "expected": 0.0, "hires": 0, "with_hires": 0.0,
         "open_by": None, "reachable": True},
    ]


def test_hiring_plan_prints_its_assumptions(project, monkeypatch):
    result = spm(project, HIRING, "hiring-plan", "--growth", "0", "--horizon", "1", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "revenue per quarter\nfrom EUR 270,000 today to EUR 270,000 (+0%)" in text
    assert "Total: 0 hires (AE 0, AM 0)." in text
    assert ("- AE: EUR 120,000 revenue target per rep a quarter (the KPI catalog's default);\n"
            "  ramp (revenue attainment in month 1 since hire) 50% (the default (spm.yml\n"
            "  hiring: default_ramp): too few hires measured); after that 75%, the mean of 3\n"
            "  ramped reps; attrition 0% a year, the default (spm.yml hiring:\n"
            "  default_attrition): too few reps to measure.\n") in text
    assert text.endswith("Capacity today: 3 of 4 measured reps over capacity; full: East (every rep over\n"
                         "capacity).\n")


@pytest.mark.parametrize(("settings", "args", "message"), [
    ("hiring:\n  time_to_hire_days: soon\n", (), "spm.yml:2: hiring time_to_hire_days must be a whole number from "
     "0 to 730, not 'soon'; write hiring: {time_to_hire_days: 60, default_attrition: 0.2, attrition_months: 12, "
     "min_headcount: 5, default_ramp: [0.1, 0.25, 0.45, 0.65, 0.8, 0.9], min_hires: 3}"),
    ("hiring:\n  default_attrition: 1.5\n", (), "spm.yml:2: hiring default_attrition must be a share of at least 0 "
     "and below 1 (0.2 for 20% a year), not 1.5; write hiring: {"),
    ("hiring:\n  ramp: [0.5]\n", (), "spm.yml:2: unknown hiring setting 'ramp'; write hiring: {"),
    ("hiring:\n  default_ramp: [0, 0.5]\n", (), "spm.yml:2: hiring default_ramp must be a list of 1 to 36 "
     "attainments from 0.01 to 2 (0.5 for 50%), one per month since hire, not [0, 0.5]; write hiring: {"),
    (None, ("--growth", "10", "--target", "5"), "spm hiring-plan: give one of --target and --growth; --target 500000 "
     "(revenue per quarter, EUR) or --growth 20 (percent)"),
    (None, ("--growth", "-100"), "--growth: growth must be a percentage above -100, not -100; give e.g. --growth 20 "
     "for 20% more revenue per quarter"),
])
def test_hiring_plan_bad_input_is_one_error_line(project, monkeypatch, settings, args, message):
    result = spm(project, settings, "hiring-plan", "--horizon", "4", *(args or ("--growth", "10")),
                 monkeypatch=monkeypatch)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1
    where = f"{project / 'spm.yml'}:" if settings else ""
    assert lines[0].startswith("Error: " + (where + message.removeprefix("spm.yml:") if settings else message))


def test_capacity_bad_setting_is_one_error_line(project, monkeypatch):
    result = spm(project, "capacity:\n  activities: {AE: -5}\n", "capacity", monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert result.output == (f"Error: {project / 'spm.yml'}:2: capacity activities AE must be a number above 0, "
                             "not -5; write capacity: {activities: {SDR: 1100, AE: 400, AM: 300}}: a KPI id, then "
                             "each role's capacity per rep as a number above 0\n")
