"""The demo generator: deterministic, realistic in shape, and with the skill -> KPI relation it plants."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from spm_training.catalog import load_kpis, load_skills
from spm_training.demo.data import generate, last_quarters

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 28)


def catalogs():
    kpis = load_kpis()
    return load_skills(ROOT / "assessments", kpis), kpis


def test_last_quarters() -> None:
    assert last_quarters(TODAY, 4) == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    assert last_quarters(date(2026, 1, 2), 2) == ["2025-Q3", "2025-Q4"]


def test_same_seed_same_data_other_seed_other_data() -> None:
    skills, kpis = catalogs()
    a = generate(skills, kpis, seed=3, n_reps=30, today=TODAY)
    b = generate(skills, kpis, seed=3, n_reps=30, today=TODAY)
    c = generate(skills, kpis, seed=4, n_reps=30, today=TODAY)
    assert a.roster_csv() == b.roster_csv() and a.kpis_csv() == b.kpis_csv()
    assert a.kpis_csv() != c.kpis_csv()


def test_roster_shape() -> None:
    skills, kpis = catalogs()
    data = generate(skills, kpis, seed=7, n_reps=30, today=TODAY)
    roles = pd.Series([r["role"] for r in data.roster]).value_counts().to_dict()
    assert roles == {"SDR": 12, "AE": 10, "AM": 8}
    assert len({r["id"] for r in data.roster}) == 30
    assert {r["team"] for r in data.roster} == {"Pathfinders", "Closers", "Gardeners"}
    new_hires = [r for r in data.roster if (TODAY - date.fromisoformat(r["hire_date"])).days < 120]
    assert 3 <= len(new_hires) <= 18


def test_kpis_follow_the_latent_skills() -> None:
    """Across 400 reps, mean linked skill and log attainment correlate clearly and positively."""
    skills, kpis = catalogs()
    data = generate(skills, kpis, seed=11, n_reps=400, today=TODAY)
    frame = pd.DataFrame(data.kpi_rows)
    win = frame[frame["kpi"] == "win_rate"]
    linked = [s.id for s in skills.values() if "win_rate" in s.kpi_ids]
    level = win["rep_id"].map(lambda r: np.mean([data.latent[r][s] for s in linked]))
    rho = pd.Series(level.values).rank().corr(pd.Series(win["value"].values).rank())  # Spearman
    assert rho > 0.4
