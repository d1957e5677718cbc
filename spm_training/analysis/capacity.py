"""Each rep's and each team's load against capacity: the "hire when the team is full" signal.

Load is read from the KPI values the store already holds, in each KPI's current period (the latest
period with any value for it, as every report reads it):

- ``activities``: calls and personalised emails a month (a CRM import's activities export, or a KPI file);
- ``pipeline_generated``: the amount of the opportunities a rep created in the quarter (a CRM import's
  opportunities export). The store keeps no snapshot of open pipeline, so the pipeline a rep creates in a
  quarter stands for the pipeline they carry;
- ``accounts``: accounts owned, when a project's ``kpis.yml`` adds a KPI of that id and values are imported.

A rep's load on a KPI is its value ÷ the capacity of one rep of their role (``capacity:`` in ``spm.yml``,
else :data:`~spm_training.settings.DEFAULT_CAPACITY`); a value of another period length than the KPI's own
(a quarter's activities from ``spm crm import --period quarter``) is set against three months' capacity,
as a target would be. The rep's load is the highest of their loads: a rep is **over capacity** when it is
above 100%. A team is **full** when every rep with a measured load is over capacity, which is when the
guide says to hire. Reps who have left (the roster's ``left_on``) are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

from ..catalog import Kpi
from ..periods import period_kind
from ..project import Project
from ..store import Store
from .attainment import current_attainment
from .queries import current_periods, load_history, load_reps, roster_dates

#: load above this share of capacity is over capacity
FULL = 1.0


def measure_capacity(capacity: float, kpi: Kpi | None, period: str) -> float:
    """One rep's capacity for a value of ``period``: a sum over time (activities, pipeline) scales with
    the period's length as a target does; a stock (accounts) does not."""
    if kpi is None or kpi.aggregation != "sum":
        return capacity
    kind = period_kind(period)
    if kind == kpi.period:
        return capacity
    return capacity * 3 if kind == "quarter" else capacity / 3


def rep_loads(current: pd.DataFrame, reps: Iterable[dict], capacity: dict[str, dict[str, float]],
              kpis: dict[str, Kpi]) -> tuple[list[str], list[dict]]:
    """The measures the scope has values for (in the order of ``capacity``), and one row per rep:
    rep_id, name, team, role, for each measure its value, period, capacity and load, then ``load`` (the
    highest, None when nothing is measured) and ``over`` (load above 100%).

    ``current``: :attr:`Analysis.current` (rep_id, kpi, period, value)."""
    values: dict[tuple[str, str], tuple[str, float]] = {}
    part = current[current["kpi"].isin(list(capacity)) & current["value"].notna()]
    for rep_id, kpi, period, value in zip(part["rep_id"].tolist(), part["kpi"].tolist(), part["period"].tolist(),
                                          part["value"].tolist(), strict=True):
        values[(rep_id, kpi)] = (period, float(value))
    measured = [k for k in capacity if any(key[1] == k for key in values)]
    rows = []
    for rep in reps:
        row: dict = {"rep_id": rep["rep_id"], "name": rep["name"], "team": rep["team"], "role": rep["role"]}
        loads = []
        for kpi_id in measured:
            found = values.get((rep["rep_id"], kpi_id))
            cap = capacity[kpi_id].get(rep["role"])
            if found is None or cap is None:
                row.update({kpi_id: None if found is None else found[1], f"{kpi_id}_period": None if found is None
                            else found[0], f"{kpi_id}_capacity": None, f"{kpi_id}_load": None})
                continue
            period, value = found
            per_rep = measure_capacity(cap, kpis.get(kpi_id), period)
            load = value / per_rep
            loads.append(load)
            row.update({kpi_id: value, f"{kpi_id}_period": period, f"{kpi_id}_capacity": per_rep,
                        f"{kpi_id}_load": round(load, 4)})
        row["load"] = round(max(loads), 4) if loads else None
        row["over"] = bool(loads) and max(loads) > FULL
        rows.append(row)
    return measured, rows


def team_loads(rows: list[dict]) -> list[dict]:
    """Per team (in the order the reps come): reps, reps measured, reps over capacity, the mean of the
    measured reps' loads, and ``full``: every measured rep over capacity (and at least one measured)."""
    teams: dict[str, list[dict]] = {}
    for row in rows:
        teams.setdefault(row["team"], []).append(row)
    out = []
    for team, members in teams.items():
        measured = [r for r in members if r["load"] is not None]
        over = sum(1 for r in measured if r["over"])
        out.append({"team": team, "reps": len(members), "measured": len(measured), "over": over,
                    "mean_load": round(sum(r["load"] for r in measured) / len(measured), 4) if measured else None,
                    "full": bool(measured) and over == len(measured)})
    return out


def active_reps(reps: pd.DataFrame, left_on: dict[str, str | None], today: date) -> list[dict]:
    """The scope's reps still on the roster on ``today``: those with no ``left_on`` date, or one after it."""
    out = []
    for rep in reps.to_dict("records"):
        left = left_on.get(rep["rep_id"])
        try:
            gone = left is not None and date.fromisoformat(left) <= today
        except ValueError:
            gone = False          # not a date: the roster import refuses these, an older store may hold one
        if not gone:
            out.append(rep)
    return out


def load_current(store: Store, project: Project, team: str | None = None) -> tuple[list[dict], pd.DataFrame,
                                                                                  dict[str, Kpi], date]:
    """What ``spm capacity`` needs and no more (no scores, no mastery): the scope's reps still on the
    roster today, each KPI's current values of the scope (:func:`current_attainment`), the catalog."""
    _, kpis = project.catalogs(store)
    reps = load_reps(store, team=team)
    teams = None if team is None else [team]
    current = current_attainment(load_history(store, kpis, teams, window=project.date_window),
                                 current_periods(store, project.date_window))
    today = date.today()
    left = {r["rep_id"]: r["left_on"] for r in roster_dates(store)}
    return active_reps(reps, left, today), current, kpis, today
