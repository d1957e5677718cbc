"""Removing KPI values: the undo of a KPI file or CRM import (``spm kpis remove``).

A selection names reps, periods, KPIs and sources; a value goes when it matches every kind of
selector given, and any one of the values given for each kind. Periods are exact (``2026-Q3``,
``2026-09``: matched as written, so 2026-Q1 leaves the month 2026-03 alone) or ranges of them
(``2027-Q1..9999-Q4``; either end may be left open: ``2031-01..``), where a range holds every month
and quarter that lies wholly inside it. A source is ``file`` (values from
KPI files), ``crm`` (values from CRM imports) or the exact source a value was stored with (the
file's name, as ``spm export kpis`` does not show but the dry run does). ``outside_window`` picks
the values whose period lies wholly outside the project's date window, such as the thousands of
empty quarters a placeholder close date of 9999-12-31 once created.

Nothing is removed without a selector, unless ``everything`` says so. The removal is one
transaction: it lands whole or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import NotFoundError, SpmError
from ..periods import PERIOD_HELP, PERIOD_RE, DateWindow
from ..store import Store
from .crm import SOURCE_PREFIX as CRM_SOURCE_PREFIX  # a CRM import stores crm:<files>, a KPI file its name

SOURCE_KINDS = ("file", "crm")
COLUMNS = ("rep_id", "period", "kpi", "value", "target", "source")
RANGE_RE = re.compile(r"^(?P<start>[^.]*)\.\.(?P<end>[^.]*)$")


@dataclass(frozen=True)
class Selection:
    """Which KPI values to remove; see the module's docstring."""

    reps: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    kpis: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    outside_window: DateWindow | None = None
    everything: bool = False

    @property
    def empty(self) -> bool:
        return not (self.reps or self.periods or self.kpis or self.sources or self.outside_window)


@dataclass(frozen=True)
class RemoveResult:
    rows: list[dict]            # the values that matched (rep_id, period, kpi, value, target, source)
    removed: int                # how many were deleted (0 in a dry run)

    @property
    def reps(self) -> int:
        return len({r["rep_id"] for r in self.rows})

    @property
    def periods(self) -> int:
        return len({r["period"] for r in self.rows})

    def summary(self) -> str:
        """``31,873 KPI values (2 reps, 31,873 periods)``."""
        return f"{_count(self.removed or len(self.rows), 'KPI value')} ({_count(self.reps, 'rep')}, " \
               f"{_count(self.periods, 'period')})"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def split_values(values: Iterable[str]) -> tuple[str, ...]:
    """Repeated options and comma lists as one tuple: ``("a,b", "c")`` -> ``("a", "b", "c")``."""
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(dict.fromkeys(out))


def _month_span(period: str) -> tuple[int, int] | None:
    """First and last month of a period as months since year 0, or None when it is not a period. Plain
    arithmetic, so that a stored 9999-Q4 (whose last day no calendar holds) compares like any other."""
    m = PERIOD_RE.match(period)
    if not m:
        return None
    year = int(m.group(1))
    if m.group(2):
        first = (int(m.group(2)) - 1) * 3 + 1
        return year * 12 + first - 1, year * 12 + first + 1
    month = int(m.group(3))
    return year * 12 + month - 1, year * 12 + month - 1


def _period_matcher(periods: Sequence[str]) -> tuple[set[str], list[tuple[int, int]]]:
    """The exact periods (matched as written: 2026-Q1 is not 2026-03) and the ranges as spans of months."""
    exact: set[str] = set()
    spans = []
    for text in periods:
        ranged = RANGE_RE.match(text)
        if ranged is None:
            if _month_span(text) is None:
                raise SpmError(f"--period {text!r} is not a period; {PERIOD_HELP}, or a range such as "
                               "2027-Q1..9999-Q4")
            exact.add(text)
            continue
        start, end = ranged.group("start"), ranged.group("end")
        low = _month_span(start) if start else (0, 0)
        high = _month_span(end) if end else (10**6, 10**6)
        if low is None or high is None or not (start or end):
            raise SpmError(f"--period {text!r} is not a range of periods; write FROM..TO with periods such as "
                           "2027-Q1..9999-Q4 (either end may be left out)")
        if high[1] < low[0]:
            raise SpmError(f"--period {text!r} ends before it starts")
        spans.append((low[0], high[1]))
    return exact, spans


def _period_selected(period: str, exact: set[str], spans: list[tuple[int, int]]) -> bool:
    if period in exact:
        return True
    span = _month_span(period)
    return span is not None and any(low <= span[0] and span[1] <= high for low, high in spans)


def _source_clause(sources: Sequence[str]) -> tuple[str, list[str]]:
    parts, params = [], []
    for source in sources:
        if source == "file":
            parts.append("substr(source, 1, length(?)) <> ?")
            params += [CRM_SOURCE_PREFIX, CRM_SOURCE_PREFIX]
        elif source == "crm":
            parts.append("substr(source, 1, length(?)) = ?")
            params += [CRM_SOURCE_PREFIX, CRM_SOURCE_PREFIX]
        else:
            parts.append("source = ?")
            params.append(source)
    return "(" + " OR ".join(parts) + ")", params


def _check_names(store: Store, selection: Selection) -> None:
    """A rep, KPI or exact source that the store does not know is a typo, not an empty selection."""
    conn = store.conn
    if selection.reps:
        known = {r[0] for r in conn.execute("SELECT id FROM reps")}
        unknown = [r for r in selection.reps if r not in known]
        if unknown:
            raise NotFoundError(f"no rep {unknown[0]!r} in the store {store.path}; see spm export reps")
    if selection.kpis:
        known = {r[0] for r in conn.execute("SELECT id FROM kpis UNION SELECT DISTINCT kpi_id FROM kpi_values")}
        unknown = [k for k in selection.kpis if k not in known]
        if unknown:
            raise NotFoundError(f"no KPI {unknown[0]!r} in the store {store.path}; see spm kpis list")
    exact = [s for s in selection.sources if s not in SOURCE_KINDS]
    if exact:
        known = {r[0] for r in conn.execute("SELECT DISTINCT source FROM kpi_values")}
        unknown = [s for s in exact if s not in known]
        if unknown:
            listed = ", ".join(sorted(known)[:6]) + (", ..." if len(known) > 6 else "")
            raise NotFoundError(f"no KPI values from source {unknown[0]!r} in the store {store.path}; use file, "
                                f"crm or one of the stored sources ({listed or 'none yet'})")


def _matching(store: Store, selection: Selection) -> list[dict]:
    if selection.empty and not selection.everything:
        raise SpmError("say which values to remove (--rep, --period, --kpi, --source or --outside-window), "
                       "or --all to remove every KPI value")
    if selection.everything and not selection.empty:
        raise SpmError("--all removes every KPI value; give it alone, or drop it to remove only the selection")
    exact, spans = _period_matcher(selection.periods)
    _check_names(store, selection)
    where, params = ["1"], []
    for column, values in (("rep_id", selection.reps), ("kpi_id", selection.kpis)):
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params += list(values)
    if selection.sources:
        clause, more = _source_clause(selection.sources)
        where.append(clause)
        params += more
    rows = store.query(
        "SELECT rep_id, period, kpi_id AS kpi, value, target, source FROM kpi_values "
        f"WHERE {' AND '.join(where)} ORDER BY rep_id, period, kpi_id", tuple(params))
    if selection.periods:
        rows = [r for r in rows if _period_selected(r["period"], exact, spans)]
    window = selection.outside_window
    if window is not None:
        rows = [r for r in rows if not window.holds_period(r["period"])]
    return rows


def select_kpi_values(store: Store, selection: Selection) -> list[dict]:
    """The stored KPI values the selection matches, without removing them (the dry run)."""
    return _matching(store, selection)


def remove_kpi_values(store: Store, selection: Selection) -> RemoveResult:
    """Delete the KPI values the selection matches, in one transaction; returns them and the count."""
    with store.transaction() as conn:
        rows = _matching(store, selection)
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS removing "
                     "(rep_id TEXT, period TEXT, kpi_id TEXT, PRIMARY KEY (rep_id, period, kpi_id))")
        conn.execute("DELETE FROM temp.removing")
        conn.executemany("INSERT INTO temp.removing VALUES (?, ?, ?)",
                         [(r["rep_id"], r["period"], r["kpi"]) for r in rows])
        removed = conn.execute("DELETE FROM kpi_values WHERE (rep_id, period, kpi_id) IN "
                               "(SELECT rep_id, period, kpi_id FROM temp.removing)").rowcount
        conn.execute("DELETE FROM temp.removing")
    return RemoveResult(rows=rows, removed=removed)


__all__ = ["COLUMNS", "SOURCE_KINDS", "RemoveResult", "Selection", "remove_kpi_values", "select_kpi_values",
           "split_values"]
