"""Load against capacity (issue 19): each KPI's value against one rep's capacity for the role, a period of
another length scaled as a target is, the highest load decides, a team is full when every measured rep is
over capacity, and reps who have left are not counted."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from spm_training.analysis.capacity import active_reps, measure_capacity, rep_loads, team_loads
from spm_training.catalog import load_kpis
from spm_training.settings import DEFAULT_CAPACITY, load_capacity

KPIS = load_kpis(None)
REPS = [{"rep_id": "ann", "name": "Ann", "team": "East", "role": "AE"},
        {"rep_id": "bob", "name": "Bob", "team": "East", "role": "AE"},
        {"rep_id": "cy", "name": "Cy", "team": "West", "role": "AM"},
        {"rep_id": "dee", "name": "Dee", "team": "West", "role": "AM"}]


def current(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rep_id", "kpi", "period", "value"])


def test_a_period_of_another_length_is_scaled_as_a_target_is():
    activities, pipeline = KPIS["activities"], KPIS["pipeline_generated"]
    assert measure_capacity(400, activities, "2026-10") == 400           # a month, the KPI's own period
    assert measure_capacity(400, activities, "2026-Q4") == 1200          # a quarter: three months
    assert measure_capacity(480_000, pipeline, "2026-Q4") == 480_000
    assert measure_capacity(480_000, pipeline, "2026-11") == 160_000
    assert measure_capacity(40, None, "2026-Q4") == 40                    # accounts: a KPI outside the catalog


def test_the_highest_load_decides_and_above_100_percent_is_over():
    measured, rows = rep_loads(current(("ann", "activities", "2026-10", 300), ("ann", "pipeline_generated",
                                                                               "2026-Q3", 528_000),
                                       ("bob", "activities", "2026-10", 400), ("cy", "activities", "2026-Q3", 990)),
                               REPS, DEFAULT_CAPACITY, KPIS)
    assert measured == ["activities", "pipeline_generated"]
    ann, bob, cy, dee = rows
    assert (ann["activities_load"], ann["pipeline_generated_load"], ann["load"], ann["over"]) == (0.75, 1.1, 1.1, True)
    assert (bob["load"], bob["over"]) == (1.0, False)                      # at capacity is not over it
    assert (cy["activities_capacity"], cy["load"], cy["over"]) == (900.0, 1.1, True)
    # an AM has no pipeline capacity, and Dee has no value at all
    assert (cy["pipeline_generated"], cy["pipeline_generated_load"]) == (None, None)
    assert (dee["load"], dee["over"]) == (None, False)


def test_a_team_is_full_when_every_measured_rep_is_over_capacity():
    _, rows = rep_loads(current(("ann", "activities", "2026-10", 440), ("bob", "activities", "2026-10", 500),
                                ("cy", "activities", "2026-10", 330), ("dee", "activities", "2026-10", 150)),
                        REPS, DEFAULT_CAPACITY, KPIS)
    east, west = team_loads(rows)
    assert east == {"team": "East", "reps": 2, "measured": 2, "over": 2, "mean_load": pytest.approx(1.175),
                    "full": True}
    assert west == {"team": "West", "reps": 2, "measured": 2, "over": 1, "mean_load": pytest.approx(0.8),
                    "full": False}


def test_a_team_with_no_measured_rep_is_not_full():
    _, rows = rep_loads(current(), REPS, DEFAULT_CAPACITY, KPIS)
    assert [t["full"] for t in team_loads(rows)] == [False, False]


def test_reps_who_have_left_are_not_counted():
    reps = pd.DataFrame(REPS)
    left = {"ann": "2026-10-31", "bob": "2026-12-01", "cy": None}
    assert [r["rep_id"] for r in active_reps(reps, left, date(2026, 11, 15))] == ["bob", "cy", "dee"]


def test_capacity_settings_replace_one_kpi_and_keep_the_others(tmp_path):
    spm_yml = tmp_path / "spm.yml"
    spm_yml.write_text("capacity:\n  activities: {AE: 250}\n  accounts: {AM: 80, AE: 50}\n")
    capacity = load_capacity(spm_yml)
    assert capacity == {"activities": {"AE": 250.0}, "pipeline_generated": DEFAULT_CAPACITY["pipeline_generated"],
                        "accounts": {"AM": 80.0, "AE": 50.0}}
    assert load_capacity(None) == DEFAULT_CAPACITY and load_capacity(None) is not DEFAULT_CAPACITY
