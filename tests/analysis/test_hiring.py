"""The hiring plan (issue 19): small plans worked out by hand, the properties every plan keeps
(hypothesis), the measured inputs (ramp curve, attrition) and the hiring profile."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spm_training.analysis.capacity import rep_loads, team_loads
from spm_training.analysis.hiring import (
    Rep,
    Role,
    base_revenue,
    compute_plan,
    hire_revenue,
    hiring_profile,
    measured_attrition,
    measured_curve,
    months_before,
    plan_role,
    plan_start,
    start_month,
    target_path,
    tenure_points,
)
from spm_training.errors import InputError

# A role whose rep makes 30,000 a month at 100%: a hire delivers half of that in their first month.
AE = Role(quota=90_000, curve=(0.5,), steady=1.0, attrition=0.0, reps=(Rep(tenure=10, attainment=1.0),))


def test_time_to_hire_rounds_up_to_whole_months():
    assert [start_month(d) for d in (0, 1, 30, 31, 60, 61)] == [0, 1, 1, 2, 2, 3]


def test_a_hires_revenue_follows_the_ramp_curve_month_by_month():
    # starts in month 1 (the plan's second): 15,000 (month 1 since hire) + 30,000 in the first quarter
    assert hire_revenue(AE, 1, 2) == [45_000, 90_000]
    assert hire_revenue(AE, 2, 2) == [15_000, 90_000]
    assert hire_revenue(AE, 3, 2) == [0, 75_000]
    assert base_revenue(AE, 2) == [90_000, 90_000]


def test_a_small_plan_worked_out_by_hand():
    # Today 90,000 a quarter; the target 180,000 in the second quarter: 135,000 then 180,000.
    # Short by 45,000 and 90,000. One hire from month 1 brings 45,000 and 90,000: exactly enough,
    # and starting a month later (15,000 in the first quarter) would not be.
    [plan] = compute_plan({"AE": AE}, current=90_000, final=180_000, quarters=2, time_to_hire_days=30)
    assert plan.target == [135_000, 180_000]
    assert plan.base == [90_000, 90_000]
    assert plan.starts == [1] and plan.hires == [1, 0]
    assert plan.delivered == [135_000, 180_000]
    assert plan.unreachable == []


def test_a_hire_starts_as_late_as_the_target_allows():
    # Target 120,000: short by 15,000 then 30,000. A hire from month 2 brings 15,000 then 90,000.
    [plan] = compute_plan({"AE": AE}, current=90_000, final=120_000, quarters=2, time_to_hire_days=30)
    assert plan.starts == [2] and plan.hires == [1, 0]
    assert plan.delivered == [105_000, 180_000]


def test_two_hires_when_one_is_not_enough_and_a_gap_no_hire_can_reach():
    # Time to hire 90 days: the first start is month 3, so the first quarter's gap is out of reach.
    # Targets 150,000 and 210,000: short by 60,000 and 120,000. A hire from month 3 brings 0, then
    # 15,000 + 30,000 + 30,000 = 75,000: two hires. The first can start a month later (45,000) and
    # the two still bring 120,000; the second cannot (90,000).
    [plan] = compute_plan({"AE": AE}, current=90_000, final=210_000, quarters=2, time_to_hire_days=90)
    assert plan.target == [150_000, 210_000]
    assert plan.unreachable == [0]
    assert plan.hires == [0, 2] and plan.starts == [3, 4]
    assert plan.delivered == [90_000, 210_000]


def test_attrition_thins_the_team_month_by_month():
    leaving = Role(quota=90_000, curve=(0.5,), steady=1.0, attrition=0.75, reps=(Rep(tenure=10, attainment=1.0),))
    keep = 0.25 ** (1 / 12)
    expected = [30_000 * (keep + keep ** 2 + keep ** 3), 30_000 * (keep ** 4 + keep ** 5 + keep ** 6)]
    assert base_revenue(leaving, 2) == pytest.approx(expected, rel=1e-12)


def test_the_target_splits_by_todays_targets_and_follows_a_straight_line():
    assert target_path(100.0, 200.0, 4) == [125.0, 150.0, 175.0, 200.0]
    am = Role(quota=30_000, curve=(0.5,), steady=1.0, attrition=0.0, reps=(Rep(tenure=10, attainment=1.0),))
    plans = compute_plan({"AE": AE, "AM": am}, current=120_000, final=120_000, quarters=1, time_to_hire_days=0)
    assert [p.target for p in plans] == [[90_000], [30_000]]
    assert [p.total for p in plans] == [0, 0]


def test_a_horizon_below_one_quarter_is_refused():
    with pytest.raises(InputError, match=r"^--horizon: the horizon must be at least 1 quarter, not 0; give"):
        compute_plan({"AE": AE}, current=1.0, final=2.0, quarters=0, time_to_hire_days=0)


def test_a_target_that_needs_more_than_ten_thousand_hires_is_refused():
    # short by 2,000,000,000 - 90,000; a hire from month 0 brings 15,000 + 30,000 + 30,000 a quarter
    with pytest.raises(InputError, match=r"^--target: the plan needs 26,666 hires of role AE, more than 10,000; "
                                         r"give the target as revenue per quarter"):
        plan_role("AE", AE, [2_000_000_000.0], 0)


# --- properties ---------------------------------------------------------------------------------------

# a curve reaches 1% at least (MIN_ATTAINMENT): a hire in seat always delivers something
curves = st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6).map(lambda xs: tuple(sorted(xs)))
teams = st.lists(st.tuples(st.integers(1, 24), st.one_of(st.none(), st.floats(0.3, 1.6))), max_size=6)


def role(curve: tuple[float, ...], attrition: float, team: list) -> Role:
    return Role(quota=90_000, curve=curve, steady=1.0, attrition=attrition,
                reps=tuple(Rep(tenure=t, attainment=a) for t, a in team))


def total(r: Role, current: float, final: float, quarters: int, days: int) -> int:
    return sum(p.total for p in compute_plan({"AE": r}, current, final, quarters, days))


FAST = settings(max_examples=40, deadline=None, derandomize=True)


@FAST
@given(curve=curves, attrition=st.floats(0.0, 0.6), team=teams, final=st.floats(0, 1e6), more=st.floats(0, 5e5),
       quarters=st.integers(1, 6), days=st.integers(0, 200))
def test_a_higher_target_never_needs_fewer_hires(curve, attrition, team, final, more, quarters, days):
    r = role(curve, attrition, team)
    assert total(r, 300_000, final + more, quarters, days) >= total(r, 300_000, final, quarters, days)


@FAST
@given(curve=curves, first=st.floats(0.01, 1.0), attrition=st.floats(0.0, 0.6), team=teams, final=st.floats(0, 1e6),
       quarters=st.integers(1, 6), days=st.integers(0, 200))
def test_a_longer_ramp_never_needs_fewer_hires(curve, first, attrition, team, final, quarters, days):
    # one more month at the start, no higher than the first: the curve reaches each level a month later
    longer = (min(first, curve[0]), *curve)
    assert total(role(longer, attrition, team), 300_000, final, quarters, days) >= \
        total(role(curve, attrition, team), 300_000, final, quarters, days)


@FAST
@given(curve=curves, attrition=st.floats(0.0, 0.6), more=st.floats(0.0, 0.39), team=teams, final=st.floats(0, 1e6),
       quarters=st.integers(1, 6), days=st.integers(0, 200))
def test_higher_attrition_never_needs_fewer_hires(curve, attrition, more, team, final, quarters, days):
    assert total(role(curve, attrition + more, team), 300_000, final, quarters, days) >= \
        total(role(curve, attrition, team), 300_000, final, quarters, days)


@FAST
@given(attainments=st.lists(st.floats(1.0, 1.5), min_size=1, max_size=6), loads=st.data(),
       quarters=st.integers(1, 6), days=st.integers(0, 200))
def test_a_team_under_capacity_and_on_target_needs_no_hire(attainments, loads, quarters, days):
    import pandas as pd

    reps = [{"rep_id": f"r{i}", "name": f"R {i}", "team": "East", "role": "AE"} for i in range(len(attainments))]
    activities = [loads.draw(st.floats(0, 400)) for _ in reps]          # AE capacity: 400 a month
    current = pd.DataFrame({"rep_id": [r["rep_id"] for r in reps], "kpi": "activities", "period": "2026-10",
                            "value": activities})
    _, rows = rep_loads(current, reps, {"activities": {"AE": 400.0}}, {})
    [team] = team_loads(rows)
    assert not team["full"] and team["over"] == 0
    r = Role(quota=90_000, curve=(0.2, 0.6), steady=1.0, attrition=0.0,
             reps=tuple(Rep(tenure=12, attainment=a) for a in attainments))
    today = sum(90_000 * a for a in attainments)
    assert total(r, today, today, quarters, days) == 0


# --- measured inputs ------------------------------------------------------------------------------------

def test_the_plan_starts_on_the_first_day_of_the_next_quarter():
    assert plan_start(date(2026, 11, 15)) == date(2027, 1, 1)
    assert plan_start(date(2026, 3, 31)) == date(2026, 4, 1)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 11, 15), 12) == date(2025, 11, 15)


def test_tenure_points_give_a_quarter_to_each_of_its_months_since_hire():
    # hired 15 August: 2026-Q3 holds months 1 (August) and 2 (September); 2026-10 is month 3
    points = tenure_points([("2026-Q2", 0.9), ("2026-Q3", 0.4), ("2026-10", 0.7)], date(2026, 8, 15))
    assert points == {1: 0.4, 2: 0.4, 3: 0.7}


def test_a_month_of_the_curve_is_measured_only_with_enough_hires():
    points = [{1: 0.2, 2: 0.5}, {1: 0.4, 2: 0.7}, {1: 0.3}]
    curve, measured = measured_curve(points, [0.1, 0.25, 0.45], min_hires=3)
    assert curve == pytest.approx((0.3, 0.25, 0.45)) and measured == (True, False, False)
    curve, measured = measured_curve(points, [0.1, 0.25, 0.45], min_hires=2)
    assert curve == pytest.approx((0.3, 0.6, 0.45)) and measured == (True, True, False)


def test_attrition_counts_leavers_over_the_average_headcount():
    today = date(2026, 12, 31)
    roster = [
        {"role": "AE", "hire_date": "2020-01-01", "left_on": None},
        {"role": "AE", "hire_date": "2020-01-01", "left_on": None},
        {"role": "AE", "hire_date": "2020-01-01", "left_on": "2026-07-02"},     # half the year, then left
        {"role": "AE", "hire_date": "2026-07-02", "left_on": None},             # the backfill, half the year
        {"role": "AE", "hire_date": "2020-01-01", "left_on": "2024-03-01"},     # left before the span
        {"role": "AM", "hire_date": "2020-01-01", "left_on": "2026-05-01"},     # another role
    ]
    leavers, headcount = measured_attrition(roster, "AE", today, 12, lambda r: date.fromisoformat(r["hire_date"]))
    assert leavers == 1
    # the span is 2025-12-31 to 2026-12-31: 365, 365, 183 (to 2 July) and 182 days (from it) of 365
    assert headcount == pytest.approx((365 + 365 + 183 + 182) / 365)


# --- the hiring profile -------------------------------------------------------------------------------

class _Kpi:
    def __init__(self, name: str) -> None:
        self.name = name


class _Skill:
    def __init__(self, name: str, kpi_ids: tuple[str, ...]) -> None:
        self.name, self.kpi_ids = name, kpi_ids


def test_the_hiring_profile_compares_the_top_third_with_the_bottom_third():
    # nine reps ranked by win rate: r1..r3 on top, r7..r9 at the bottom
    current = [{"rep_id": f"r{i}", "kpi": "win_rate", "attainment": 2.0 - i / 10} for i in range(1, 10)]
    mastery = [{"rep_id": f"r{i}", "skill_id": "discovery", "mastery": 0.9 if i <= 3 else 0.5} for i in range(1, 10)]
    mastery += [{"rep_id": f"r{i}", "skill_id": "closing", "mastery": 0.6 if i <= 3 else 0.5} for i in range(1, 10)]
    mastery += [{"rep_id": f"r{i}", "skill_id": "crm", "mastery": 0.4 if i <= 3 else 0.8} for i in range(1, 10)]
    skills = {"discovery": _Skill("Discovery", ("win_rate",)), "closing": _Skill("Closing", ()),
              "crm": _Skill("CRM", ())}
    [entry] = hiring_profile(mastery, current, {"win_rate": _Kpi("Win rate"), "revenue": _Kpi("Revenue")}, skills)
    assert (entry["kpi"], entry["reps"], entry["top"], entry["bottom"], entry["enough"]) == ("win_rate", 9, 3, 3, True)
    assert [(s["skill"], round(s["difference"], 4), s["linked"]) for s in entry["skills"]] == [
        ("discovery", 0.4, True), ("closing", 0.1, False)]          # CRM is higher at the bottom: left out


def test_the_hiring_profile_says_not_enough_below_three_reps_a_third():
    current = [{"rep_id": f"r{i}", "kpi": "win_rate", "attainment": 1.0 + i} for i in range(8)]
    mastery = [{"rep_id": f"r{i}", "skill_id": "discovery", "mastery": i / 10} for i in range(8)]
    [entry] = hiring_profile(mastery, current, {"win_rate": _Kpi("Win rate")},
                             {"discovery": _Skill("Discovery", ())})
    assert (entry["top"], entry["bottom"], entry["enough"], entry["skills"]) == (2, 2, False, [])
