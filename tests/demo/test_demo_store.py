"""The demo store without grading (spm_training/demo/store.py): deterministic, complete, with simulated scores
that follow the latent skills, and an analysis that finds linked gaps in it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from spm_training.analysis.facade import analyse
from spm_training.catalog import load_kpis, load_skills
from spm_training.course import read_items
from spm_training.demo import store as demo_store
from spm_training.demo.data import generate
from spm_training.demo.store import DEMO_TODAY, PENDING_DAYS, build_demo_store
from spm_training.errors import StoreError
from spm_training.project import Project
from spm_training.store import open_store

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assessments"
TABLES = ("teams", "reps", "kpis", "kpi_values", "skills", "skill_kpis", "skill_pages", "items", "item_skills",
          "scores")


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in a fixed order."""
    with open_store(path, create=False) as store:
        return {t: sorted((tuple(r) for r in store.conn.execute(f"SELECT * FROM {t}")), key=repr) for t in TABLES}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> demo_store.DemoStore:
    return build_demo_store(tmp_path_factory.mktemp("demo-store") / "spm.db", course_dir=COURSE)


def test_same_arguments_same_store_row_for_row(built: demo_store.DemoStore, tmp_path: Path) -> None:
    again = build_demo_store(tmp_path / "again.db", course_dir=COURSE)
    assert dump(again.path) == dump(built.path)
    other = build_demo_store(tmp_path / "other.db", seed=8, course_dir=COURSE)
    assert dump(other.path)["scores"] != dump(built.path)["scores"]


def test_defaults_are_the_dashboards_seed_size_and_day(built: demo_store.DemoStore) -> None:
    assert DEMO_TODAY == date(2026, 11, 28)
    assert (built.data.seed, built.today, len(built.data.roster)) == (7, DEMO_TODAY, 30)
    assert built.data.periods == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def test_counts_of_what_it_writes(built: demo_store.DemoStore) -> None:
    # 559 KPI values: none for a quarter that ended before the rep was hired (tests/demo/test_demo_consistency.py)
    assert (built.reps, built.teams, built.kpi_values, built.items) == (30, 3, 559, 60)
    # Each rep's assignments are their role's in assessments/plan.yml, due on its days (test below): 217
    # (rep, assignment) pairs are due by DEMO_TODAY, 7 are missed (MISSED_SHARE), and the 210 submitted carry
    # 1,384 item scores; 3 manual items of the two submissions of the last PENDING_DAYS are still pending.
    assert (built.submissions, built.scores, built.pending) == (210, 1384, 3)
    with open_store(built.path, create=False) as store:
        q = store.conn.execute
        assert dict(q("SELECT role, count(*) FROM reps GROUP BY role").fetchall()) == {"SDR": 12, "AE": 10, "AM": 8}
        assert dict(q("SELECT kind, count(*) FROM items GROUP BY kind").fetchall()) == {
            "autograded": 43, "manual": 12, "task": 5}
        assert q("SELECT count(*) FROM item_skills").fetchone()[0] == 74
        assert q("SELECT count(*) FROM skills").fetchone()[0] == 12
        # graded by hand (manual answers and tasks, each with the trainer's comment), autograded, pending
        assert tuple(q("SELECT count(manual_score), count(comment), count(auto_score), sum(needs_manual_grade) "
                 "FROM scores").fetchone()) == (384, 384, 997, 3)
        assert q("SELECT count(*) FROM scores WHERE auto_score IS NULL AND manual_score IS NULL "
                 "AND needs_manual_grade = 0").fetchone()[0] == 0


def test_roster_kpis_and_items_are_the_generators_and_the_courses(built: demo_store.DemoStore) -> None:
    kpis = load_kpis(None)
    data = generate(load_skills(COURSE, kpis), kpis, seed=7, n_reps=30, today=DEMO_TODAY)
    with open_store(built.path, create=False) as store:
        reps = store.query("SELECT id, name, email, team_id AS team, role, hire_date FROM reps ORDER BY id")
        values = store.query("SELECT rep_id, period, kpi_id, value, target FROM kpi_values")
        items = [tuple(r) for r in store.conn.execute("SELECT assignment, notebook, cell, max_score, kind FROM items "
                                                      "ORDER BY id")]
    assert reps == sorted(({k: r[k] for k in ("id", "name", "email", "team", "role", "hire_date")}
                           for r in data.roster), key=lambda r: r["id"])
    generated = {(r["rep_id"], r["period"], r["kpi"]): r["value"] for r in data.kpi_rows}
    assert {(v["rep_id"], v["period"], v["kpi_id"]): v["value"] for v in values} == generated
    # the targets are the file's where it gives one (a new hire's prorated first quarter), else the import
    # filled in the catalog's default for the rep's role
    roles = {r["id"]: r["role"] for r in data.roster}
    given = {(r["rep_id"], r["period"], r["kpi"]): r["target"] for r in data.kpi_rows if r["target"] != ""}
    assert len(given) == 43
    assert all(v["target"] == given.get((v["rep_id"], v["period"], v["kpi_id"]),
                                        kpis[v["kpi_id"]].target_for(roles[v["rep_id"]], "quarter")) for v in values)
    assert items == [(i.assignment, i.notebook, i.cell, i.max_score, i.kind) for i in read_items(COURSE)]


def test_each_rep_takes_the_assignments_of_their_role_on_the_plans_days(built: demo_store.DemoStore) -> None:
    """Read from plan.yml here, with the deadline rule written out: day 1 is the hire date, and a deadline
    on a weekend moves to the Friday before (the plan's Monday-after exception cannot apply: it needs a
    due day within two days of a weekend hire date, and the first due day is 15)."""
    planned = yaml.safe_load((COURSE / "plan.yml").read_text(encoding="utf-8"))["assignments"]
    due = {}
    for rep in built.data.roster:
        hire = date.fromisoformat(rep["hire_date"])
        for entry in planned:
            when = hire + timedelta(days=entry["due_day"] - 1)
            when -= timedelta(days=max(0, when.weekday() - 4))
            if rep["role"] in entry["roles"] and when <= DEMO_TODAY:
                due[(rep["id"], entry["id"])] = when.isoformat()
    with open_store(built.path, create=False) as store:
        submitted = dict(store.conn.execute(
            "SELECT s.rep_id || ' ' || i.assignment, min(substr(s.submitted_at, 1, 10)) FROM scores s "
            "JOIN items i ON i.id = s.item_id GROUP BY s.rep_id, i.assignment").fetchall())
    submitted = {tuple(k.split(" ")): v for k, v in submitted.items()}
    assert {k: due.get(k) for k in submitted} == submitted      # only due work, on its due day
    assert (len(due), len(due) - len(submitted)) == (217, 7)    # a few missed, as MISSED_SHARE says
    roles = {r["id"]: r["role"] for r in built.data.roster}
    assert not [k for k in submitted if roles[k[0]] == "SDR" and k[1] == "09_product_negotiation"]
    assert not [k for k in submitted if roles[k[0]] != "SDR" and k[1] == "04_prospecting_outreach"]


def test_scores_have_the_shape_nbgrader_gives_them(built: demo_store.DemoStore) -> None:
    with open_store(built.path, create=False) as store:
        rows = store.query("SELECT s.*, i.kind, i.max_score FROM scores s JOIN items i ON i.id = s.item_id")
    auto = [r for r in rows if r["kind"] == "autograded"]
    assert all(r["auto_score"] in (0.0, r["max_score"]) and r["manual_score"] is None and not r["comment"]
               for r in auto)
    graded = [r for r in rows if r["kind"] != "autograded" and not r["needs_manual_grade"]]
    assert all(0 <= r["manual_score"] <= r["max_score"] and (r["manual_score"] * 2).is_integer() for r in graded)
    assert {r["comment"] for r in graded} <= set(demo_store.COMMENTS.values())
    pending = [r for r in rows if r["needs_manual_grade"]]
    assert all(r["kind"] != "autograded" and r["manual_score"] is None and r["auto_score"] is None for r in pending)
    assert all((DEMO_TODAY - date.fromisoformat(r["submitted_at"][:10])).days < PENDING_DAYS for r in pending)
    # one submission time per rep and assignment, as a real submission has
    with open_store(built.path, create=False) as store:
        assert store.conn.execute(
            "SELECT count(*) FROM (SELECT s.rep_id, i.assignment FROM scores s JOIN items i ON i.id = s.item_id "
            "GROUP BY 1, 2 HAVING count(DISTINCT s.submitted_at) > 1)").fetchone()[0] == 0


def test_simulated_mastery_follows_the_latent_skills(built: demo_store.DemoStore) -> None:
    with open_store(built.path, create=False) as store:
        a = analyse(store, Project.at(ROOT, db_path=built.path), today=built.today)
    measured = a.mastery[a.mastery["graded"] > 0]
    assert len(measured) == 332
    # Mastery from one or two items (an autograded item scores all or nothing) says little about a rep, so
    # the relation is measured where there are at least three: a rank correlation above 0.6.
    enough = measured[measured["graded"] >= 3]
    latent = enough.apply(lambda m: built.data.latent[m["rep_id"]][m["skill_id"]], axis=1)
    rho = pd.Series(latent.to_numpy()).rank().corr(pd.Series(enough["mastery"].astype(float).to_numpy()).rank())
    assert len(enough) == 227
    assert rho > 0.6


def test_analysis_finds_linked_gaps_first(built: demo_store.DemoStore) -> None:
    with open_store(built.path, create=False) as store:
        a = analyse(store, Project.at(ROOT, db_path=built.path), today=built.today)
    assert a.gaps["kind"].value_counts().to_dict() == {"linked": 142, "skill": 96, "kpi": 12}
    linked = a.gaps[a.gaps["kind"] == "linked"]
    assert ((linked["mastery"].astype(float) < linked["threshold"].astype(float))
            & (linked["attainment"].astype(float) < 1)).all()
    first = a.plan("jade.abbott")[0]
    # Her lowest attainment, stage conversion (0.83), is shared by two weak skills: the weaker one first.
    assert (first.kind, first.skill, [k["kpi"] for k in first.kpis]) == (
        "linked", "demo_presentation", ["stage_conversion"])
    assert first.pages == ("book/handbook/techniques", "book/sdr/role-play")


def test_refuses_to_write_over_an_existing_file(built: demo_store.DemoStore) -> None:
    before = built.path.read_bytes()
    with pytest.raises(StoreError, match="already here"):
        build_demo_store(built.path, course_dir=COURSE)
    assert built.path.read_bytes() == before


def test_it_says_the_scores_are_simulated() -> None:
    assert "SIMULATED" in demo_store.__doc__ and "SIMULATED" in build_demo_store.__doc__
