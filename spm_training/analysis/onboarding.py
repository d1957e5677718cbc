"""Where reps are in the course, how new hires ramp, and whom to recognise.

- An assignment is *submitted* by a rep when the gradebook holds their submission of it, and
  *graded* when none of its answers still awaits a manual grade.
- A new hire is a rep hired within :data:`NEW_HIRE_DAYS` days. Their onboarding progress lists
  assignments submitted and graded, mastery so far, days since hire, and their ramp: the mean KPI
  attainment of each period since the hire date.
- Recognition (book/performance/recognition.md): per KPI, the reps with the highest attainment in
  its current period who are on or above target; per skill, the reps whose mastery rose the most
  from their first graded item on it (at least two graded items).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ..catalog import Kpi, Skill
from ..periods import safe_bounds

NEW_HIRE_DAYS = 90
TOP = 3


def assignment_status(scores: pd.DataFrame, assignments: list[str]) -> pd.DataFrame:
    """rep_id, assignment, submitted_at, pending (answers awaiting a manual grade), graded."""
    columns = ["rep_id", "assignment", "submitted_at", "pending", "graded"]
    part = scores[scores["assignment"].isin(assignments)]
    if part.empty:
        return pd.DataFrame(columns=columns)
    # Grouped on one integer key: pandas groups strings an order of magnitude slower.
    rep_code, reps = pd.factorize(part["rep_id"])
    assignment_code, names = pd.factorize(part["assignment"])
    time_code, times = pd.factorize(part["submitted_at"], sort=True)       # codes in time order
    key = rep_code.astype(np.int64) * len(names) + assignment_code
    grouped = pd.DataFrame({"key": key, "time": time_code, "pending": part["pending"].to_numpy(int)}).groupby(
        "key", sort=True).agg(time=("time", "max"), pending=("pending", "sum"))
    keys = grouped.index.to_numpy()
    status = pd.DataFrame({"rep_id": np.asarray(reps)[keys // len(names)],
                           "assignment": np.asarray(names)[keys % len(names)],
                           "submitted_at": np.asarray(times, dtype=object)[grouped["time"].to_numpy()],
                           "pending": grouped["pending"].to_numpy(int)})
    status["graded"] = status["pending"] == 0
    return status[columns]


def ramp(history: list[tuple[str, float]], hire_date: date) -> list[dict]:
    """Mean attainment over the rep's KPIs, from (period, attainment) pairs, in each period that ends
    on or after the hire date, oldest first."""
    by_period: dict[str, list[float]] = {}
    for period, value in history:
        by_period.setdefault(period, []).append(value)
    out = []
    for period, values in by_period.items():
        if (bounds := safe_bounds(period)) is None:
            continue            # not a period a calendar holds (the analysis filters these out before)
        start, end = bounds
        if end >= hire_date:
            out.append((start, period, {"period": period, "attainment": sum(values) / len(values),
                                        "kpis": len(values)}))
    return [row for _, _, row in sorted(out, key=lambda r: (r[0], r[1]))]


def is_new_hire(hire_date: date, today: date, days: int = NEW_HIRE_DAYS) -> bool:
    return 0 <= (today - hire_date).days <= days


def top_performers(current: pd.DataFrame, kpis: dict[str, Kpi], top: int = TOP) -> list[dict]:
    """Per KPI (catalog order), up to ``top`` reps on or above target, best first."""
    out = []
    for kpi_id, kpi in kpis.items():
        part = current[(current["kpi"] == kpi_id) & (current["attainment"] >= 1)]
        if part.empty:
            continue
        best = part.sort_values(["attainment", "rep_id"], ascending=[False, True]).head(top)
        out.append({"kpi": kpi_id, "name": kpi.name, "period": best["period"].iloc[0],
                    "reps": [{"rep_id": r, "value": float(v), "attainment": float(a)}
                             for r, v, a in zip(best["rep_id"], best["value"], best["attainment"])]})
    return out


def most_improved(mastery: pd.DataFrame, skills: dict[str, Skill], top: int = TOP) -> list[dict]:
    """Per skill (catalog order), up to ``top`` reps whose mastery rose most since their first item."""
    valued = mastery[(mastery["graded"] >= 2) & mastery["mastery"].notna()].copy()
    valued["rise"] = valued["mastery"] - valued["first"]
    valued = valued[valued["rise"] > 0]
    out = []
    for skill_id, skill in skills.items():
        part = valued[valued["skill_id"] == skill_id]
        if part.empty:
            continue
        best = part.sort_values(["rise", "rep_id"], ascending=[False, True]).head(top)
        out.append({"skill": skill_id, "name": skill.name,
                    "reps": [{"rep_id": r, "first": float(f), "mastery": float(m), "rise": float(d)}
                             for r, f, m, d in zip(best["rep_id"], best["first"], best["mastery"], best["rise"])]})
    return out
