"""Training impact (issue 18): the staggered difference-in-differences against a hand computation, its
freedom from the bias of two-way fixed effects, the randomisation-inference interval, the verdict
words and the sizes below which it says "not enough data"."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spm_training.analysis.impact import (NEVER, Panel, build_panel, estimate_impact, group_time_effects, invert,
                                          verdict)

# The hand example. Periods 0..3; A and B complete in period 2, C in period 3, D and E never.
HAND_Y = {"A": [10, 11, 15, 16], "B": [12, 12, 17, 19], "C": [9, 10, 11, 18], "D": [8, 9, 10, 11],
          "E": [20, 20, 21, 23]}
HAND_G = {"A": 2, "B": 2, "C": 3, "D": NEVER, "E": NEVER}
# Worked out by hand (base period g − 1; controls: completion after max(t, g), or never):
#   ATT(2,2) = mean(15−11, 17−12) − mean(C 11−10, D 10−9, E 21−20) = 4.5 − 1   = 3.5
#   ATT(2,3) = mean(16−11, 19−12) − mean(D 11−9, E 23−20)          = 6 − 2.5   = 3.5
#   ATT(3,3) = (18−11)            − mean(D 11−10, E 23−21)         = 7 − 1.5   = 5.5
#   ATT(2,0) = mean(10−11, 12−12) − mean(C 9−10, D 8−9, E 20−20)   = −0.5 + 2/3 = 1/6
#   ATT(3,0) = (9−11)             − mean(D 8−10, E 20−21)          = −2 + 1.5  = −0.5
#   ATT(3,1) = (10−11)            − mean(D 9−10, E 20−21)          = −1 + 1    = 0
# Average over the post cells weighted by trained reps: (2·3.5 + 2·3.5 + 1·5.5) / 5 = 3.9
# θ(0) = (2·3.5 + 1·5.5) / 3 = 25/6; θ(1) = 3.5; θ(−2) = (2·1/6 + 1·0) / 3 = 1/9; θ(−3) = −0.5
HAND_CELLS = {("2", "2"): 3.5, ("2", "3"): 3.5, ("3", "3"): 5.5, ("2", "0"): 1 / 6, ("3", "0"): -0.5,
              ("3", "1"): 0.0}


def hand_panel(copies: int = 1) -> Panel:
    reps = [f"{r}{i}" for i in range(copies) for r in HAND_Y]
    y = np.array([HAND_Y[r[0]] for r in reps], dtype=float)
    cohort = np.array([HAND_G[r[0]] for r in reps])
    return Panel(reps, ["0", "1", "2", "3"], y, cohort, np.zeros(len(reps), dtype=int))


def test_group_time_effects_match_the_hand_computation() -> None:
    cells = {(c["cohort"], c["period"]): c["att"] for c in group_time_effects(hand_panel())}
    assert cells.keys() == HAND_CELLS.keys()
    for key, value in HAND_CELLS.items():
        assert cells[key] == pytest.approx(value, abs=1e-12), key
    counts = {(c["cohort"], c["period"]): (c["n_treated"], c["n_control"]) for c in group_time_effects(hand_panel())}
    assert counts[("2", "2")] == (2, 3) and counts[("2", "3")] == (2, 2) and counts[("3", "3")] == (1, 2)


def test_average_effect_and_event_study_match_the_hand_computation() -> None:
    # five copies of each rep: every mean is the same, and there are enough reps for an estimate
    result = estimate_impact(hand_panel(5), program="p", kpi="k", permutations=199)
    assert result.effect == pytest.approx(3.9, abs=1e-12)
    assert (result.n_treated, result.n_control, result.n_never) == (15, 15, 10)
    events = {e["event"]: e["effect"] for e in result.events}
    assert events == pytest.approx({-3: -0.5, -2: 1 / 9, -1: 0.0, 0: 25 / 6, 1: 3.5}, abs=1e-12)
    cohorts = {c["period"]: (c["n"], c["effect"]) for c in result.cohorts}
    assert cohorts == {"2": (10, pytest.approx(3.5)), "3": (5, pytest.approx(5.5))}


def staggered(n: int = 60, periods: int = 24, teams: int = 4, *, effect: bool = True, noise: float = 3.0,
              seed: int = 1, pre_trend: float = 0.0) -> tuple[Panel, np.ndarray]:
    """Reps in teams, cohorts at periods 6, 10, 14, 18 or never; an effect that grows after training and is
    larger for earlier cohorts (what biases two-way fixed effects); returns the panel and the true effects."""
    rng = np.random.default_rng(seed)
    team = np.arange(n) % teams
    cohort = np.array([6, 10, 14, 18, NEVER])[np.arange(n) % 5]
    t = np.arange(periods)
    y = 50 + rng.normal(0, 5, n)[:, None] + 0.3 * t + rng.normal(0, 2, teams)[team][:, None] \
        + rng.normal(0, noise, (n, periods))
    true = np.zeros((n, periods))
    if effect:
        for g, size in zip([6, 10, 14, 18], [4.0, 3.0, 2.0, 1.0], strict=True):
            true[cohort == g] = np.where(t >= g, size * (1 + 0.2 * (t - g)), 0.0)
    if pre_trend:
        y += pre_trend * np.where(cohort[:, None] < NEVER, np.minimum(t[None, :] - cohort[:, None], 0), 0)
    return Panel([f"r{i}" for i in range(n)], [str(p) for p in t], y + true, cohort, team), true


def twfe(panel: Panel) -> float:
    """Two-way fixed effects: Y on rep and period dummies and the trained indicator (the biased baseline)."""
    n, periods = panel.y.shape
    trained = (np.arange(periods)[None, :] >= panel.cohort[:, None]).astype(float).ravel()
    reps = np.repeat(np.arange(n), periods)
    times = np.tile(np.arange(periods), n)
    design = np.zeros((n * periods, n + periods))
    design[np.arange(n * periods), reps] = 1
    design[np.arange(n * periods), n + times] = 1      # one column too many: lstsq takes the minimum norm
    design[:, -1] = trained
    design[:, n + periods - 1] = trained
    coef, *_ = np.linalg.lstsq(np.column_stack([design[:, :n + periods - 1], trained]), panel.y.ravel(), rcond=None)
    return float(coef[-1])


def test_without_noise_the_estimate_is_the_true_effect_where_two_way_fixed_effects_is_biased() -> None:
    panel, true = staggered(noise=0.0)
    # never-trained reps are always there to compare with, so every trained rep-period counts: by hand,
    # 12 reps per cohort, Σ over e of size·(1 + 0.2e): cohort 6 4·(18 + 30.6), 10 3·(14 + 18.2), 14 2·(10 + 9),
    # 18 1·(6 + 3); 12·338 = 4056 over 12·48 = 576 trained rep-periods: 169/24
    trained = panel.cohort[:, None] <= np.arange(24)[None, :]
    assert true[trained].mean() == pytest.approx(169 / 24, abs=1e-12)
    result = estimate_impact(panel, program="p", kpi="k", permutations=99)
    assert result.effect == pytest.approx(169 / 24, abs=1e-9)
    # two-way fixed effects compares later cohorts with earlier ones already trained: far below it
    assert twfe(panel) < 169 / 24 - 1.5


def test_interval_covers_the_effect_and_its_edges_are_where_the_test_turns() -> None:
    panel, true = staggered(seed=3)
    result = estimate_impact(panel, program="p", kpi="k", permutations=499)
    target = estimate_impact(Panel(panel.rep_ids, panel.periods, true, panel.cohort, panel.strata), program="p",
                             kpi="k", permutations=19).effect
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low < target < result.ci_high
    assert result.ci_low < result.effect < result.ci_high
    assert result.verdict == "helped"
    # seeded: the same data give the same interval, another seed a slightly different one
    again = estimate_impact(panel, program="p", kpi="k", permutations=499)
    assert (again.ci_low, again.ci_high) == (result.ci_low, result.ci_high)
    other = estimate_impact(panel, program="p", kpi="k", permutations=499, seed=7)
    assert (other.ci_low, other.ci_high) != (result.ci_low, result.ci_high)


def test_invert_rejects_just_outside_the_interval_and_accepts_just_inside() -> None:
    rng = np.random.default_rng(5)
    a = np.concatenate([[2.0], rng.normal(0, 1, 999)])
    b = np.concatenate([[1.0], rng.normal(0, 0.1, 999)])
    low, high = invert(a, b)

    def p_value(tau: float) -> float:
        far = np.abs(a[1:] - tau * b[1:]) >= abs(a[0] - tau * b[0]) - 1e-12
        return (1 + far.sum()) / 1000

    assert p_value(low + 1e-6) > 0.05 and p_value(low - 1e-3) <= 0.05
    assert p_value(high - 1e-6) > 0.05 and p_value(high + 1e-3) <= 0.05
    assert low < 2.0 < high


def test_no_effect_is_inconclusive() -> None:
    panel, _ = staggered(effect=False, seed=11)
    result = estimate_impact(panel, program="p", kpi="k", permutations=199)
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low < 0 < result.ci_high
    assert result.verdict == "inconclusive"


def test_a_rise_of_a_lower_is_better_kpi_hurt() -> None:
    panel, _ = staggered(seed=3)
    assert estimate_impact(panel, program="p", kpi="k", direction="lower", permutations=199).verdict == "hurt"


@pytest.mark.parametrize(("effect", "low", "high", "direction", "word"), [
    (1.0, 0.2, 1.8, "higher", "helped"), (1.0, 0.2, 1.8, "lower", "hurt"), (-1.0, -1.8, -0.2, "lower", "helped"),
    (-1.0, -1.8, -0.2, "higher", "hurt"), (0.5, -0.1, 1.1, "higher", "inconclusive"),
    (0.5, None, None, "higher", "inconclusive")])
def test_verdict_words(effect: float, low: float | None, high: float | None, direction: str, word: str) -> None:
    assert verdict(effect, low, high, direction) == word


def test_below_five_trained_reps_is_not_enough_data() -> None:
    result = estimate_impact(hand_panel(2), program="p", kpi="k")
    assert (result.n_treated, result.n_control) == (6, 6)
    few = hand_panel(1)
    result = estimate_impact(few, program="p", kpi="k")
    assert result.verdict == "not enough data" and result.effect is None and result.ci_low is None
    assert result.reason == ("3 trained reps with KPI values before and after (at least 5 needed) and 3 reps to "
                             "compare with (at least 5 needed)")


def test_a_trend_before_the_training_fails_the_placebo_check() -> None:
    clean, _ = staggered(seed=4)
    assert estimate_impact(clean, program="p", kpi="k", permutations=199).placebo["holds"] is True
    trending, _ = staggered(seed=4, pre_trend=1.5)
    placebo = estimate_impact(trending, program="p", kpi="k", permutations=199).placebo
    assert placebo["holds"] is False and placebo["event"] == -6 and placebo["effect"] < -4


def test_build_panel_puts_each_first_completion_in_its_period() -> None:
    values = pd.DataFrame([(rep, f"2026-{m:02d}", float(m)) for rep in ("a", "b", "c", "d") for m in range(1, 7)],
                          columns=["rep_id", "period", "value"])
    completions = pd.DataFrame([("a", "2026-03-31"), ("a", "2026-05-02"), ("b", "2026-01-15"), ("c", "2026-09-01")],
                               columns=["rep_id", "completed_on"])
    teams = pd.DataFrame({"rep_id": ["d", "c", "b", "a"], "team": ["T", "T", "U", "U"]})
    panel = build_panel(values, completions, teams)
    # b completed in the first period: no period before it, so left out; c after the last: never, here
    assert panel.rep_ids == ["a", "c", "d"] and panel.trained_before == 1
    assert panel.periods == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert panel.cohort.tolist() == [2, NEVER, NEVER]
    assert panel.y[0].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_build_panel_by_quarter_keeps_missing_quarters_as_gaps() -> None:
    values = pd.DataFrame([("a", "2025-Q4", 1.0), ("a", "2026-Q2", 3.0), ("b", "2026-Q1", 2.0)],
                          columns=["rep_id", "period", "value"])
    panel = build_panel(values, pd.DataFrame({"rep_id": ["a"], "completed_on": ["2026-05-20"]}),
                        pd.DataFrame({"rep_id": ["a", "b"], "team": ["T", "T"]}))
    assert panel.periods == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert panel.cohort.tolist() == [2, NEVER]
    assert math.isnan(panel.y[0, 1]) and panel.y[1, 1] == 2.0


def test_a_period_outside_the_date_window_is_left_out(tmp_path) -> None:
    from spm_training import open_store, training_impact, write_kpi_values, write_roster
    from spm_training.catalog import load_kpis
    from spm_training.ingest.trainings import write_trainings

    kpis = load_kpis(None)
    reps = [{"id": f"r{i}", "name": f"Rep {i}", "email": f"r{i}@example.com", "team_id": "T", "manager": "M",
             "role": "AE", "hire_date": "2025-01-06", "crm_owner": None} for i in range(12)]
    values = [(f"r{i}", f"2026-0{m}", "win_rate", 0.2 + 0.01 * m, 0.25) for i in range(12) for m in range(1, 7)]
    values.append(("r0", "9999-12", "win_rate", 0.3, 0.25))     # a placeholder an old import let in
    with open_store(tmp_path / "spm.db") as store:
        write_roster(store, reps)
        write_kpi_values(store, pd.DataFrame(values, columns=["rep_id", "period", "kpi_id", "value", "target"]),
                         kpis, source="old.csv")
        write_trainings(store, [{"rep_id": f"r{i}", "program": "W", "completed_on": "2026-03-10", "hours": None}
                                for i in range(6)], source="t.csv")
        result = training_impact(store, kpis, "W", "win_rate", permutations=19)
    assert (result.first_period, result.last_period) == ("2026-01", "2026-06")
    assert [c["period"] for c in result.cohorts] == ["2026-03"]
    assert (result.n_treated, result.n_never) == (6, 6)
    assert result.effect == pytest.approx(0.0, abs=1e-9)
