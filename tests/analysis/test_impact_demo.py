"""The demo plants a known programme effect (issue 18): a Challenger workshop that lifts win rate from the
quarter of completion on. Planting it changes nothing else, the demo store carries the completions, and
the estimate's interval covers the effect the generator planted, which the demo's summary reports."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from spm_training import open_store, training_impact
from spm_training.demo.data import PLANTED, generate
from spm_training.demo.loop import _planted_impact
from spm_training.demo.store import DEMO_TODAY, build_demo_store
from spm_training.periods import period_bounds
from tests.analysis_data import catalogs


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return build_demo_store(tmp_path_factory.mktemp("demo") / "demo.db", seed=7, n_reps=30, planted=PLANTED)


def test_planting_changes_only_the_trained_reps_kpi_after_their_training() -> None:
    skills, kpis = catalogs()
    plain = generate(skills, kpis, seed=7, n_reps=30, today=DEMO_TODAY)
    planted = generate(skills, kpis, seed=7, n_reps=30, today=DEMO_TODAY, planted=PLANTED)
    assert plain.roster == planted.roster and plain.trainings == []
    trained = {t["rep_id"]: date.fromisoformat(t["completed_on"]) for t in planted.trainings}
    assert {t["program"] for t in planted.trainings} == {PLANTED.program}
    roles = {r["id"]: (r["role"], date.fromisoformat(r["hire_date"])) for r in planted.roster}
    eligible = [r for r, (role, _) in roles.items() if role in kpis[PLANTED.kpi].roles]
    # only reps whose role has the KPI, after they were hired; enough of them for an estimate, not all
    assert all(roles[r][0] in kpis[PLANTED.kpi].roles and roles[r][1] <= d for r, d in trained.items())
    assert 5 <= len(trained) < len(eligible)
    # staggered: completions in three of the four quarters, none in the first
    quarters = {p for p in planted.periods for d in trained.values() if period_bounds(p)[0] <= d <= period_bounds(p)[1]}
    assert quarters == set(planted.periods[1:])
    changed = [(a, b) for a, b in zip(plain.kpi_rows, planted.kpi_rows, strict=True) if a != b]
    assert changed and all(b["kpi"] == PLANTED.kpi and b["rep_id"] in trained
                           and period_bounds(b["period"])[1] >= trained[b["rep_id"]] for _, b in changed)
    # the lift on the log scale, up to the rounding of a ratio to 4 decimals (and a cap at 100%)
    ratios = [b["value"] / a["value"] for a, b in changed if a["value"] and b["value"] < 1]
    assert np.median(ratios) == pytest.approx(math.exp(PLANTED.lift), abs=0.01)


def test_the_demo_store_finds_the_planted_effect(demo) -> None:
    skills, kpis = catalogs()
    plain = {(r["rep_id"], r["period"]): r["value"] for r in
             generate(skills, kpis, seed=7, n_reps=30, today=DEMO_TODAY).kpi_rows if r["kpi"] == PLANTED.kpi}
    lifted = [(r["rep_id"], r["period"], r["value"]) for r in demo.data.kpi_rows if r["kpi"] == PLANTED.kpi]
    # what the generator added, averaged over the trained rep-quarters (every one has a comparison rep here)
    true = [v - plain[(rep, p)] for rep, p, v in lifted if v != plain[(rep, p)]]
    with open_store(demo.path) as store:
        result = training_impact(store, demo.kpis, PLANTED.program, PLANTED.kpi)
    assert result.verdict == "helped"
    assert result.n_treated == len({rep for rep, p, v in lifted if v != plain[(rep, p)]})
    assert result.ci_low < float(np.mean(true)) < result.ci_high


def test_the_demo_summary_reports_the_planted_effect(demo, tmp_path: Path) -> None:
    lines: list[str] = []
    with open_store(demo.path) as store:
        found = _planted_impact(store, demo.data, demo.kpis, lines.append)
    assert found is not None and found["verdict"] == "helped"
    assert len(lines) == 1
    assert lines[0].startswith("  check: the generator planted an effect of Challenger workshop on Win rate (its "
                               "attainment x1.28 from the quarter of completion); spm impact finds +")
    assert ", helped, " in lines[0] and lines[0].endswith(f"{found['n_treated']} trained reps against "
                                                          f"{found['n_control']}")
