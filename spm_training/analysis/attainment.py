"""KPI attainment per rep, KPI and period, with team rank, percentile and trend.

Attainment is value ÷ target where higher is better and target ÷ value where lower is better
(:func:`attainment`; in SQL, :func:`.queries.attainment_sql`), so 1 or more always means on or
ahead of target. Each KPI's direction comes from the analysis's catalog (see
:meth:`spm_training.project.Project.catalogs`).

The *current* period of a KPI is the latest period that has any value for it in the store
(:func:`.queries.current_periods`), the same for every report, so that a rep's report and the
team's never disagree. Rank and percentile are within the rep's team for that KPI and period: rank
1 is the highest attainment (ties share the better rank), and the percentile is the share of the
team's reps with a value whose attainment is at or below the rep's (the top rep is at 100).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog import Kpi
from ..periods import period_kind, sort_key
from ..store import Store
from .queries import kpi_periods, team_attainments

# tests/ingest read the export's rows from here; the query module owns them
from .queries import kpi_rows as kpi_rows

TREND_PERIODS = 4        # the current period and the three before it, of the same kind

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


def attainment_summary(store: Store, kpis: dict[str, Kpi], period: str | None = None) -> list[dict]:
    """Per team for one period (default: the latest): reps, KPI values, share on target, median
    attainment and the KPI with the lowest median attainment (``weakest_kpi`` as text; ``weakest``
    and ``weakest_attainment``, its id and median, for a table that formats them)."""
    if period is None:
        periods = kpi_periods(store)
        if not periods:
            return []
        period = max(periods, key=sort_key)
    frame = pd.DataFrame(team_attainments(store, kpis, period))
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
            "weakest": str(by_kpi.index[0]), "weakest_attainment": float(by_kpi.iloc[0]),
        })
    return rows
