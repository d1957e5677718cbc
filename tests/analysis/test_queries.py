"""The analysis layer's reads of the store (analysis/queries.py): the SQL twins of the Python
definitions agree with them, and the loaders give the shapes the analysis computes on."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from spm_training.analysis import queries
from spm_training.analysis.attainment import attainment
from spm_training.analysis.mastery import item_score
from spm_training.catalog import load_kpis
from spm_training.errors import NotFoundError
from spm_training.store import Store, open_store

POINTS = (None, 0.0, 1.5, 4.0)


def test_attainment_sql_is_the_attainment_of_python(tmp_path: Path) -> None:
    with open_store(tmp_path / "spm.db") as store:
        for value, target, direction in itertools.product((0.0, 0.5, 30.0), (None, 0.0, 0.25, 45.0),
                                                          ("higher", "lower")):
            (got,) = store.conn.execute(f"SELECT {queries.attainment_sql('v', 't', 'd')} "
                                        "FROM (SELECT ? AS v, ? AS t, ? AS d)", (value, target, direction)).fetchone()
            expected = attainment(value, target, direction)
            assert got == pytest.approx(expected) if expected is not None else got is None, (value, target, direction)


def test_score_sql_is_nbgraders_score_as_item_score_counts_it(tmp_path: Path) -> None:
    with open_store(tmp_path / "spm.db") as store:
        for auto, manual, extra in itertools.product(POINTS, POINTS, (None, 0.5)):
            (got,) = store.conn.execute(f"SELECT {queries.SCORE_SQL} FROM (SELECT ? AS auto_score, ? AS manual_score, "
                                        "? AS extra_credit) s", (auto, manual, extra)).fetchone()
            assert got == item_score(auto, manual, extra), (auto, manual, extra)


def _store(folder: Path) -> Store:
    """Two teams of one and two reps, three items of two assignments, scores with a pending answer
    and a comment, and KPI values over three months."""
    store = open_store(folder / "spm.db")
    with store.transaction() as conn:
        conn.executemany("INSERT INTO teams (id, manager) VALUES (?, ?)", [("East", "Mia Roth"), ("West", "Jo Park")])
        conn.executemany("INSERT INTO reps (id, name, email, team_id, role, hire_date) VALUES (?, ?, ?, ?, 'AE', ?)",
                         [("ann", "Ann Lee", "ann@example.com", "East", "2025-03-02"),
                          ("bob", "Bob Ray", "bob@example.com", "East", "2025-06-01"),
                          ("dee", "Dee Fox", "dee@example.com", "West", "2024-01-10")])
        conn.executemany("INSERT INTO items (id, assignment, notebook, cell, max_score, kind) VALUES (?, ?, ?, ?, ?, ?)",
                         [(1, "a1", "nb1", "c1", 2.0, "autograded"), (2, "a1", "nb1", "c2", 4.0, "manual"),
                          (3, "a2", "nb2", "c1", 0.0, "task")])
        conn.executemany("INSERT INTO scores (rep_id, item_id, auto_score, manual_score, extra_credit, "
                         "needs_manual_grade, comment, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [("ann", 1, 1.0, None, 2.0, 0, None, "2026-04-01 10:00:00.000000"),
                          ("ann", 2, None, 3.0, None, 0, "Lead with the impact.", "2026-04-01 10:00:00.000000"),
                          ("bob", 2, None, None, None, 1, None, "2026-05-01 10:00:00.000000"),
                          ("dee", 3, 0.0, None, None, 0, "", None)])
        conn.execute("INSERT INTO kpis (id, name, unit, direction, aggregation, period) "
                     "VALUES ('win_rate', 'Win rate', 'ratio', 'higher', 'mean', 'month')")
        conn.executemany("INSERT INTO kpi_values (rep_id, period, kpi_id, value, target, source) "
                         "VALUES (?, ?, 'win_rate', ?, 0.25, 'test')",
                         [("ann", "2026-09", 0.2), ("ann", "2026-10", 0.3), ("dee", "2026-08", 0.5)])
    return store


def test_load_reps_scopes_and_names_what_exists(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        assert list(queries.load_reps(store)["rep_id"]) == ["ann", "bob", "dee"]
        east = queries.load_reps(store, team="East")
        assert list(east.columns) == queries.REP_COLUMNS and set(east["manager"]) == {"Mia Roth"}
        assert list(queries.load_reps(store, rep="dee")["team"]) == ["West"]
        with pytest.raises(NotFoundError, match="no team 'North' in the store; teams: East, West"):
            queries.load_reps(store, team="North")
        with pytest.raises(NotFoundError, match="no rep 'cy' in the store"):
            queries.load_reps(store, rep="cy")


def test_load_scores_normalises_leaves_pending_out_and_places_comments(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        scores = queries.load_scores(store)
        ann_only = queries.load_scores(store, ["ann"], detail=False)
    assert list(scores.columns) == queries.SCORE_COLUMNS
    rows = {(r["rep_id"], r["item_id"]): r for r in scores.to_dict("records")}
    assert rows[("ann", 1)]["score"] == 3.0 and rows[("ann", 1)]["x"] == 1.0       # extra credit, capped at 1
    assert rows[("ann", 2)]["x"] == 0.75 and rows[("ann", 2)]["comment"] == "Lead with the impact."
    assert rows[("bob", 2)]["pending"] and math.isnan(rows[("bob", 2)]["x"])
    assert math.isnan(rows[("dee", 3)]["x"])                                          # worth no points
    assert rows[("dee", 3)]["comment"] is None and rows[("dee", 3)]["submitted_at"] == ""
    assert rows[("ann", 1)]["cell"] == "c1" and rows[("ann", 1)]["assignment"] == "a1"
    assert list(ann_only["item_id"]) == [1, 2]
    assert ann_only["cell"].isna().all() and ann_only["comment"].isna().all()
    assert list(ann_only["assignment"]) == ["a1", "a1"] and list(ann_only["max_score"]) == [2.0, 4.0]


def test_kpi_queries(tmp_path: Path) -> None:
    kpis = {k: v for k, v in load_kpis().items() if k == "win_rate"}
    with _store(tmp_path) as store:
        history = queries.load_history(store, kpis, ["East"])
        assert list(history.columns) == queries.HISTORY_COLUMNS
        assert sorted(history["period"]) == ["2026-09", "2026-10"] and set(history["team"]) == {"East"}
        assert np.allclose(sorted(history["attainment"]), [0.8, 1.2])
        assert queries.current_periods(store) == {"win_rate": "2026-10"}
        assert sorted(queries.kpi_periods(store)) == ["2026-08", "2026-09", "2026-10"]
        assert [r["kpi"] for r in queries.kpi_rows(store, kpis)] == ["win_rate"] * 3
        assert queries.team_attainments(store, kpis, "2026-08") == [
            {"team": "West", "rep_id": "dee", "kpi": "win_rate", "attainment": 2.0}]
        assert [r["rep_id"] for r in queries.rep_rows(store)] == ["ann", "bob", "dee"]
        exported = {(r["rep_id"], r["cell"]): r for r in queries.score_rows(store)}
        assert exported[("ann", "c1")]["score"] == 3.0 and exported[("bob", "c2")]["needs_manual_grade"] is True
        assert queries.tampering_rows(store, ["ann"]) == []


def test_kpi_directions_come_from_the_catalog_else_from_the_store(tmp_path: Path) -> None:
    """One catalog per analysis (Project.catalogs): a kpis.yml that turns win_rate around takes effect
    without a re-import; a KPI the catalog no longer has keeps the direction the store recorded."""
    import dataclasses

    win_rate = load_kpis()["win_rate"]
    turned = {"win_rate": dataclasses.replace(win_rate, direction="lower")}
    with _store(tmp_path) as store:
        as_stored = queries.kpi_rows(store, {})                    # no catalog entry: the store's 'higher'
        as_catalog = queries.kpi_rows(store, turned)
        history = queries.load_history(store, turned)
        (west,) = queries.team_attainments(store, turned, "2026-08")
    assert [r["attainment"] for r in as_stored] == pytest.approx([0.8, 1.2, 2.0])       # value ÷ target
    assert [r["attainment"] for r in as_catalog] == pytest.approx([1.25, 0.25 / 0.3, 0.5])  # target ÷ value
    assert set(history["direction"]) == {"lower"}
    assert sorted(history["attainment"]) == pytest.approx(sorted([1.25, 0.25 / 0.3, 0.5]))
    assert west["attainment"] == pytest.approx(0.5)
