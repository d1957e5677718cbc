"""KPI attainment per rep, KPI and period, with team rank, percentile and trend.

Attainment is value ÷ target where higher is better and target ÷ value where lower is better
(:func:`attainment`), so 1 or more always means on or ahead of target. Each KPI's direction comes
from the analysis's catalog (see :meth:`spm_training.project.Project.catalogs`).

The *current* period of a KPI is the latest period that has any value for it in the store, the same
for every report, so that a rep's report and the team's never disagree. Rank and percentile are
within the rep's team for that KPI and period: rank 1 is the highest attainment (ties share the
better rank), and the percentile is the share of the team's reps with a value whose attainment is
at or below the rep's (the top rep is at 100).
"""

from __future__ import annotations

from collections.abc import Sequence

import json

import numpy as np
import pandas as pd

from .mastery import records_frame, tuples
from ..periods import period_kind, sort_key
from ..catalog import Kpi
from ..store import Store

TREND_PERIODS = 4        # the current period and the three before it, of the same kind

HISTORY_COLUMNS = ["rep_id", "team", "kpi", "period", "value", "target", "direction", "attainment"]
CURRENT_COLUMNS = ["rep_id", "team", "kpi", "period", "value", "target", "direction", "attainment", "rank",
                   "team_size", "percentile", "trend", "change"]


def attainment(value: float | None, target: float | None, direction: str) -> float | None:
    """value ÷ target where higher is better, target ÷ value where lower is better.

    None where it is undefined: no target, a zero target (higher), or a zero value (lower).
    """
    if value is None or target is None or pd.isna(value) or pd.isna(target):
        return None
    if direction == "higher":
        return value / target if target else None
    return target / value if value else None


def attainment_sql(value: str = "v.value", target: str = "v.target", direction: str = "d.direction") -> str:
    """The same definition as :func:`attainment`, as an SQL expression."""
    return (f"CASE WHEN {target} IS NULL THEN NULL "
            f"WHEN {direction} = 'higher' THEN CASE WHEN {target} = 0 THEN NULL ELSE {value} / {target} END "
            f"ELSE CASE WHEN {value} = 0 THEN NULL ELSE {target} / {value} END END")


#: KPI values joined to the direction of their KPI: the catalog's (the JSON object of the first
#: parameter, id -> direction), else, for a KPI the catalog no longer has, the one the store recorded.
KPI_DIRECTIONS = ("SELECT k.id, COALESCE(c.value, k.direction) AS direction FROM kpis k "
                  "LEFT JOIN json_each(?) c ON c.key = k.id")
KPI_VALUES = f"FROM kpi_values v JOIN ({KPI_DIRECTIONS}) d ON d.id = v.kpi_id"


def directions(kpis: dict[str, Kpi]) -> str:
    """The catalog's directions as the JSON parameter :data:`KPI_VALUES` takes."""
    return json.dumps({k.id: k.direction for k in kpis.values()})


def load_history(store: Store, kpis: dict[str, Kpi], teams: Sequence[str] | None = None) -> pd.DataFrame:
    """Every KPI value of the reps in ``teams`` (all teams when None), with its attainment."""
    where, params = "", (directions(kpis),)
    if teams is not None:
        where = "WHERE v.rep_id IN (SELECT id FROM reps WHERE team_id IN (SELECT value FROM json_each(?)))"
        params += (json.dumps(list(teams)),)
    # Per value only what varies; the rep's team and the KPI's direction come from their own small
    # tables, since every column read per row costs a Python object per row.
    rows = tuples(store, f"SELECT v.rep_id, v.kpi_id, v.period, v.value, v.target, {attainment_sql()} "
                         f"{KPI_VALUES} {where}", params)
    frame = records_frame(rows, {"rep_id": object, "kpi": object, "period": object, "value": np.float64,
                                 "target": np.float64, "attainment": np.float64})
    team_of = dict(store.conn.execute("SELECT id, team_id FROM reps").fetchall())
    direction_of = dict(store.conn.execute(KPI_DIRECTIONS, (directions(kpis),)).fetchall())
    frame["team"] = frame["rep_id"].map(team_of)
    frame["direction"] = frame["kpi"].map(direction_of)
    for column in ("value", "target", "attainment"):
        frame[column] = frame[column].astype(float)
    return frame[HISTORY_COLUMNS]


def current_periods(store: Store) -> dict[str, str]:
    """KPI id -> the latest period with any value for it, across the whole store."""
    latest: dict[str, str] = {}
    for kpi_id, period in store.conn.execute("SELECT DISTINCT kpi_id, period FROM kpi_values"):
        if kpi_id not in latest or sort_key(period) > sort_key(latest[kpi_id]):
            latest[kpi_id] = period
    return latest


def previous_periods(period: str, count: int) -> list[str]:
    """``count`` periods of the same kind ending with ``period``, oldest first."""
    year, rest = period.split("-")
    quarterly = period_kind(period) == "quarter"
    index = int(year) * (4 if quarterly else 12) + (int(rest[1:]) if quarterly else int(rest)) - 1
    out = []
    for i in range(index - count + 1, index + 1):
        y, k = divmod(i, 4 if quarterly else 12)
        out.append(f"{y}-Q{k + 1}" if quarterly else f"{y}-{k + 1:02d}")
    return out


def rank_within_team(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds rank, team_size and percentile within each team, KPI and period."""
    frame = frame.copy()
    valued = frame["attainment"].notna()
    groups = frame[valued].groupby(["team", "kpi", "period"])["attainment"]
    frame.loc[valued, "rank"] = groups.rank(method="min", ascending=False)
    frame.loc[valued, "team_size"] = groups.transform("size")
    frame.loc[valued, "percentile"] = groups.rank(method="max", pct=True) * 100
    return frame


def current_attainment(history: pd.DataFrame, periods: dict[str, str]) -> pd.DataFrame:
    """One row per rep and KPI for the KPI's current period, with rank, percentile and trend.

    ``trend`` is the rep's attainment over the last :data:`TREND_PERIODS` periods of the current
    period's kind, oldest first (None where a period has no value); ``change`` is the current
    attainment minus the previous period's.
    """
    if history.empty:
        return pd.DataFrame(columns=CURRENT_COLUMNS)
    # Each (KPI, period) pair's place in the KPI's trend window, 0 the oldest and TREND_PERIODS - 1
    # the current period; looked up once per distinct pair, not per value.
    slot = {(kpi, p): i for kpi, period in periods.items()
            for i, p in enumerate(previous_periods(period, TREND_PERIODS))}
    pairs = pd.MultiIndex.from_arrays([history["kpi"], history["period"]])
    distinct = pairs.unique()
    position = np.array([slot.get(pair, -1) for pair in distinct])[distinct.get_indexer(pairs)]
    window = position >= 0
    key_code, keys = pd.factorize(pd.MultiIndex.from_arrays([history["rep_id"], history["kpi"]])[window])
    grid = np.full((len(keys), TREND_PERIODS), np.nan)
    grid[key_code, position[window]] = history["attainment"].to_numpy(float)[window]
    now = history[position == TREND_PERIODS - 1]
    now = rank_within_team(now)
    rows = pd.MultiIndex.from_arrays([now["rep_id"], now["kpi"]])
    trend = grid[keys.get_indexer(rows)]
    change = trend[:, -1] - trend[:, -2]
    now = now.assign(trend=[[None if v != v else v for v in row] for row in trend.tolist()],
                     change=[None if v != v else v for v in change.tolist()])
    return now.sort_values(["team", "rep_id", "kpi"], ignore_index=True)[CURRENT_COLUMNS]


def kpi_rows(store: Store, kpis: dict[str, Kpi]) -> list[dict]:
    """Every KPI value with its target and attainment: the shape of ``spm export kpis``."""
    return store.query(
        "SELECT v.rep_id, v.period, v.kpi_id AS kpi, v.value, v.target, "
        f"{attainment_sql()} AS attainment "
        f"{KPI_VALUES} ORDER BY v.rep_id, v.period, v.kpi_id", (directions(kpis),))


def attainment_summary(store: Store, kpis: dict[str, Kpi], period: str | None = None) -> list[dict]:
    """Per team for one period (default: the latest): reps, KPI values, share on target, median
    attainment and the KPI with the lowest median attainment."""
    if period is None:
        periods = [r["period"] for r in store.query("SELECT DISTINCT period FROM kpi_values")]
        if not periods:
            return []
        period = max(periods, key=sort_key)
    frame = pd.DataFrame(store.query(
        f"SELECT r.team_id AS team, v.rep_id, v.kpi_id AS kpi, {attainment_sql()} AS attainment "
        f"{KPI_VALUES} JOIN reps r ON r.id = v.rep_id WHERE v.period = ?",
        (directions(kpis), period)))
    if frame.empty:
        return []
    frame = frame.dropna(subset=["attainment"])
    rows = []
    for team, part in frame.groupby("team", sort=True):
        by_kpi = part.groupby("kpi")["attainment"].median().sort_values()
        rows.append({
            "team": team, "period": period, "reps": int(part["rep_id"].nunique()), "kpi_values": len(part),
            "on_target": round(float((part["attainment"] >= 1).mean()), 3),
            "median_attainment": round(float(part["attainment"].median()), 3),
            "weakest_kpi": f"{by_kpi.index[0]} ({by_kpi.iloc[0]:.0%})",
        })
    return rows
