"""Training impact (issue 18): does ``spm impact``'s interval hold, and how biased are the usual shortcuts?

Data: simulated organisations of 60 reps in 4 teams over 24 months. Each rep has a level of their own,
the organisation a trend, each team a shock every month, each rep noise that carries over from month to
month (AR(1), ρ = 0.5). Completion dates are staggered: each rep trains in month 6, 9, 12, 15 or 18, or
never, at random. In the organisations with an effect, it differs between cohorts (earlier cohorts gain
more) and grows with time since training; in the others there is none.

The target of each run is the effect the estimator aims at, from the true effects: their mean over
the trained rep-periods it averages over (the same estimator run on the true-effect matrix). Goals:

- the 95% interval covers the target in at least 90% of the runs with an effect;
- with no effect, it claims one (the interval leaves out zero) in at most 7% of the runs.

Beside ours, on the same data: a naive before/after comparison (trained reps' mean after minus their mean
before, no comparison group) and two-way fixed effects (KPI on rep and month dummies and a trained
indicator); their bias is the mean of (estimate − target).

Speed: ``training_impact`` on a store of 500 reps over 36 months (one KPI, one programme), from the store's
rows to the verdict, with the default 999 shuffles and the event study. Goal: under 10 s.

    python benchmarks/impact.py [--runs N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spm_training import (ImpactPanel, estimate_impact, import_trainings, load_kpis, open_store, training_impact,
                          write_kpi_values, write_roster)

REPS, TEAMS, MONTHS = 60, 4, 24
COHORTS = (6, 9, 12, 15, 18)
NEVER = 10**9


def organisation(rng: np.random.Generator, *, effect: bool, reps: int = REPS, teams: int = TEAMS,
                 months: int = MONTHS) -> tuple[ImpactPanel, np.ndarray]:
    """One simulated organisation: the panel as observed, and the true effect of every rep-month."""
    team = rng.permutation(np.arange(reps) % teams)
    cohort = rng.choice(np.array([*COHORTS, NEVER]), reps)
    t = np.arange(months)
    noise = np.zeros((reps, months))
    noise[:, 0] = rng.normal(0, 3, reps)
    for m in range(1, months):
        noise[:, m] = 0.5 * noise[:, m - 1] + rng.normal(0, 3 * np.sqrt(1 - 0.25), reps)
    y = (50 + rng.normal(0, 6, reps)[:, None] + 0.4 * t[None, :] + rng.normal(0, 1.5, (teams, months))[team]
         + noise)
    true = np.zeros((reps, months))
    if effect:
        for k, g in enumerate(COHORTS):
            size = 5.0 - 0.8 * k                     # earlier cohorts gain more
            true[cohort == g] = np.where(t >= g, size * (1 + 0.1 * (t - g)), 0.0)
    return ImpactPanel([f"r{i}" for i in range(reps)], [str(m) for m in t], y + true, cohort, team), true


def naive(panel: ImpactPanel) -> float:
    """Trained reps' mean after their training minus their mean before it."""
    t = np.arange(panel.y.shape[1])[None, :]
    trained = panel.cohort < NEVER
    after = t >= panel.cohort[:, None]
    rows = panel.y[trained]
    return float(np.mean([r[a].mean() - r[~a].mean() for r, a in zip(rows, after[trained], strict=True)]))


def twfe(panel: ImpactPanel) -> float:
    """Two-way fixed effects by the within transformation (balanced panel): the trained indicator's
    coefficient after rep and month means are taken out."""
    d = (np.arange(panel.y.shape[1])[None, :] >= panel.cohort[:, None]).astype(float)

    def within(m: np.ndarray) -> np.ndarray:
        return m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + m.mean()

    dd, yy = within(d), within(panel.y)
    return float((dd * yy).sum() / (dd * dd).sum())


def accuracy(runs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for effect in (True, False):
        covered = claimed = 0
        errors: dict[str, list[float]] = {"ours (Callaway & Sant'Anna)": [], "naive before/after": [],
                                          "two-way fixed effects": []}
        widths = []
        start = time.perf_counter()
        for _ in range(runs):
            panel, true = organisation(rng, effect=effect)
            result = estimate_impact(panel, program="p", kpi="k", events=False)
            target = estimate_impact(ImpactPanel(panel.rep_ids, panel.periods, true, panel.cohort, panel.strata),
                                     program="p", kpi="k", permutations=1, events=False).effect
            assert result.effect is not None and target is not None
            low = -np.inf if result.ci_low is None else result.ci_low
            high = np.inf if result.ci_high is None else result.ci_high
            covered += low <= target <= high
            claimed += result.verdict in ("helped", "hurt")
            widths.append(high - low)
            errors["ours (Callaway & Sant'Anna)"].append(result.effect - target)
            errors["naive before/after"].append(naive(panel) - target)
            errors["two-way fixed effects"].append(twfe(panel) - target)
        elapsed = time.perf_counter() - start
        print(f"\n{'With' if effect else 'Without'} an effect: {runs} organisations of {REPS} reps in {TEAMS} teams "
              f"over {MONTHS} months ({elapsed:.0f} s, {elapsed / runs:.2f} s each)")
        if effect:
            print(f"  95% interval covers the target: {covered}/{runs} = {covered / runs:.1%} (goal >= 90%)")
        print(f"  claims an effect (helped or hurt): {claimed}/{runs} = {claimed / runs:.1%}"
              + ("" if effect else " (goal <= 7%)"))
        print(f"  median interval width: {np.median(widths):.2f}")
        for name, e in errors.items():
            e_ = np.array(e)
            print(f"  {name:29s} bias {e_.mean():+.3f}  (mean |error| {np.abs(e_).mean():.3f}, "
                  f"RMSE {np.sqrt((e_ ** 2).mean()):.3f})")


def speed(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reps, months = 500, 36
    panel, _ = organisation(rng, effect=True, reps=reps, teams=20, months=months)
    kpis = load_kpis(None)
    with tempfile.TemporaryDirectory() as folder:
        roster = [{"id": f"r{i:03d}", "name": f"Rep {i}", "email": f"r{i}@example.com", "team_id": f"T{int(s)}",
                   "manager": f"Boss {int(s)}", "role": "AE", "hire_date": "2023-01-02", "crm_owner": None}
                  for i, s in enumerate(panel.strata)]
        periods = [f"{2024 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
        frame = pd.DataFrame({"rep_id": np.repeat([r["id"] for r in roster], months), "period": periods * reps,
                              "kpi_id": "activities", "value": np.abs(panel.y).ravel(), "target": 60.0})
        csv = Path(folder) / "trainings.csv"
        csv.write_text("rep_id,program,completed_on\n" + "".join(
            f"{roster[i]['id']},Workshop,{periods[g]}-15\n" for i, g in enumerate(panel.cohort) if g < NEVER))
        with open_store(Path(folder) / "spm.db") as store:
            write_roster(store, roster)
            write_kpi_values(store, frame, kpis, source="bench.csv")
            import_trainings(store, csv)
            start, cpu = time.perf_counter(), time.process_time()
            result = training_impact(store, kpis, "Workshop", "activities")
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"\nSpeed: training_impact on {reps} reps x {months} months ({len(frame):,} KPI values, "
          f"{result.n_treated} trained, {len(result.cohorts)} cohorts, 999 shuffles, event study): "
          f"{elapsed:.2f} s wall, {cpu:.2f} s CPU (goal < 10 s; load average {os.getloadavg()[0]:.1f}); "
          f"effect {result.effect:+.2f}, 95% interval {result.ci_low:+.2f} to "
          f"{result.ci_high:+.2f}, verdict {result.verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="organisations with an effect, and as many without")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--part", choices=("accuracy", "speed", "all"), default="all")
    args = parser.parse_args()
    if args.part in ("speed", "all"):
        speed(args.seed)
    if args.part in ("accuracy", "all"):
        accuracy(args.runs, args.seed)


if __name__ == "__main__":
    main()
