"""Reporting periods: months (``2026-09``) and quarters (``2026-Q3``)."""

from __future__ import annotations

import re
from datetime import date

#: The kinds of period a KPI is stated for and values are derived per.
PERIOD_KINDS = ("month", "quarter")
PERIOD_RE = re.compile(r"^(\d{4})-(?:Q([1-4])|(0[1-9]|1[0-2]))$")
PERIOD_HELP = "write periods as YYYY-Qn (e.g. 2026-Q3) or YYYY-MM (e.g. 2026-09)"


def is_period(text: str) -> bool:
    return PERIOD_RE.match(text) is not None


def period_kind(period: str) -> str:
    """``"quarter"`` or ``"month"``; raises ValueError for anything else."""
    m = PERIOD_RE.match(period)
    if not m:
        raise ValueError(f"not a period: {period!r}")
    return "quarter" if m.group(2) else "month"


def period_of(day: date, kind: str) -> str:
    """The month or quarter that contains ``day``."""
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a period."""
    m = PERIOD_RE.match(period)
    if not m:
        raise ValueError(f"not a period: {period!r}")
    year = int(m.group(1))
    if m.group(2):
        first_month = (int(m.group(2)) - 1) * 3 + 1
        last_month = first_month + 2
    else:
        first_month = last_month = int(m.group(3))
    end_year, end_month = (year + 1, 1) if last_month == 12 else (year, last_month + 1)
    return date(year, first_month, 1), date.fromordinal(date(end_year, end_month, 1).toordinal() - 1)


def sort_key(period: str) -> tuple[int, int, int]:
    """Orders periods by their first day, quarters before the months inside them."""
    start, _ = period_bounds(period)
    return (start.year, start.month, 0 if period_kind(period) == "quarter" else 1)
