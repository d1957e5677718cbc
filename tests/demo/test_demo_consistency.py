"""The demo's data does not contradict itself (issue 15): a trainer's comment matches the score it goes
with, no rep has KPI values from before their hire date, and KPIs derived from others (quota attainment,
average deal size) agree with what they are derived from."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from spm_training.catalog import load_kpis, load_skills
from spm_training.demo.course import COMMENTS, comment_tier, trainer_comment
from spm_training.demo.data import generate, worked_share
from spm_training.demo.store import DEMO_TODAY, DemoStore, build_demo_store
from spm_training.periods import period_bounds
from spm_training.store import open_store

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assessments"


@pytest.fixture(scope="module")
def data():
    kpis = load_kpis(None)
    return generate(load_skills(COURSE, kpis), kpis, seed=7, n_reps=30, today=DEMO_TODAY), kpis


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    return build_demo_store(tmp_path_factory.mktemp("consistency") / "spm.db", course_dir=COURSE)


# --- trainer comments ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("score", "max_score", "tier"), [
    (3, 3, "full"), (4, 4, "full"), (2.5, 3, "high"), (3, 4, "high"), (2.5, 4, "mid"), (1.5, 3, "mid"),
    (1, 3, "low"), (0, 4, "low"), (11.5, 12, "high"), (5.5, 12, "low")])
def test_comment_tier_follows_the_score_given(score: float, max_score: float, tier: str) -> None:
    assert comment_tier(score, max_score) == tier
    assert trainer_comment(score, max_score) == COMMENTS[tier]


def test_only_full_points_meet_every_point_of_the_rubric() -> None:
    assert [k for k, text in COMMENTS.items() if "every point of the rubric" in text] == ["full"]


def test_demo_store_comments_match_their_scores(built: DemoStore) -> None:
    with open_store(built.path, create=False) as store:
        rows = store.query("SELECT s.manual_score, s.comment, i.max_score FROM scores s "
                           "JOIN items i ON i.id = s.item_id WHERE s.comment IS NOT NULL")
    assert len(rows) == 384
    # Before the fix, 44 answers short of full points read "meets every point of the rubric".
    assert [r for r in rows if "every point of the rubric" in r["comment"] and r["manual_score"] < r["max_score"]] == []
    assert all(r["comment"] == trainer_comment(r["manual_score"], r["max_score"]) for r in rows)
    tiers = Counter(comment_tier(r["manual_score"], r["max_score"]) for r in rows)
    assert dict(tiers) == TIER_COUNTS


TIER_COUNTS = {"full": 9, "high": 107, "mid": 192, "low": 76}


# --- KPI history and hire dates -----------------------------------------------------------------------

def test_worked_share_of_a_period() -> None:
    assert worked_share("2026-Q3", date(2026, 6, 30)) == 1.0
    assert worked_share("2026-Q3", date(2026, 7, 1)) == 1.0
    assert worked_share("2026-Q3", date(2026, 10, 1)) == 0.0
    assert worked_share("2026-Q3", date(2026, 9, 30)) == 1 / 92
    assert worked_share("2026-Q3", date(2026, 8, 31)) == 31 / 92


def test_no_kpi_value_before_a_reps_hire_date(data) -> None:
    data, _ = data
    hired = {r["id"]: date.fromisoformat(r["hire_date"]) for r in data.roster}
    before = [r for r in data.kpi_rows if period_bounds(r["period"])[1] < hired[r["rep_id"]]]
    assert before == []
    # Every rep has a value in every period that ends on or after their hire date, and only there.
    periods = {(r["rep_id"], r["period"]) for r in data.kpi_rows}
    expected = {(rep_id, p) for rep_id, day in hired.items() for p in data.periods if period_bounds(p)[1] >= day}
    assert periods == expected
    assert len(data.kpi_rows) == KPI_ROWS


KPI_ROWS = 559    # 816 before: 257 values were for quarters that ended before the rep was hired


def test_first_period_targets_are_prorated_to_the_days_worked(data) -> None:
    data, kpis = data
    roles = {r["id"]: r["role"] for r in data.roster}
    hired = {r["id"]: date.fromisoformat(r["hire_date"]) for r in data.roster}
    explicit = [r for r in data.kpi_rows if r["target"] != ""]
    assert explicit, "some rep was hired within one of the four quarters"
    for row in explicit:
        kpi = kpis[row["kpi"]]
        share = worked_share(row["period"], hired[row["rep_id"]])
        assert kpi.aggregation == "sum" and 0 < share < 1
        full = kpi.target_for(roles[row["rep_id"]], "quarter")
        assert row["target"] == max(1.0, round(full * share))
    # A sum over a period worked in full, and any rate, keeps the catalog's target (left empty in the file).
    assert all(worked_share(r["period"], hired[r["rep_id"]]) == 1 for r in data.kpi_rows
               if r["target"] == "" and kpis[r["kpi"]].aggregation == "sum")
    assert len(explicit) == PRORATED


PRORATED = 43


# --- derived KPIs -------------------------------------------------------------------------------------

def test_quota_attainment_is_revenue_over_quota_in_the_store(built: DemoStore) -> None:
    with open_store(built.path, create=False) as store:
        values = store.query("SELECT rep_id, period, kpi_id, value, target FROM kpi_values "
                             "WHERE kpi_id IN ('revenue', 'quota_attainment', 'avg_deal_size')")
    by = {(v["rep_id"], v["period"], v["kpi_id"]): v for v in values}
    quota = [k for k in by if k[2] == "quota_attainment"]
    assert len(quota) == QUOTA_ROWS
    for rep_id, period, _ in quota:
        revenue = by[(rep_id, period, "revenue")]
        revenue_attainment = revenue["value"] / revenue["target"]
        # the quota attainment's own attainment (target 1.0) is the revenue's attainment
        assert by[(rep_id, period, "quota_attainment")]["target"] == 1.0
        assert by[(rep_id, period, "quota_attainment")]["value"] == pytest.approx(revenue_attainment, abs=1e-6)
    # The average deal size is revenue over a whole number of deals.
    for rep_id, period, _ in quota:
        deals = by[(rep_id, period, "revenue")]["value"] / by[(rep_id, period, "avg_deal_size")]["value"]
        assert deals == pytest.approx(round(deals), abs=1e-3) and round(deals) >= 1


QUOTA_ROWS = 50
