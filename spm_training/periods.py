"""Reporting periods: months (``2026-09``) and quarters (``2026-Q3``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
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


# --- the plausible window for dates and periods ---------------------------------------------------

ISO_DAY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DEFAULT_EARLIEST = date(2000, 1, 1)
DEFAULT_YEARS_AHEAD = 5


def parse_day(text: object) -> date | None:
    """A calendar date written as ``YYYY-MM-DD`` and nothing else, or None.

    ``date.fromisoformat`` also takes ``20260901`` and ``2026-W36-2``; a roster or a store holding those is
    a typo or a foreign format, not a date we can show a manager."""
    if not isinstance(text, str) or not ISO_DAY_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class DateWindow:
    """The dates and periods the project takes as real: from ``earliest`` to ``latest``, both included.

    CRMs write placeholder dates such as 9999-12-31 or 1900-01-01 for "not known"; a date outside the
    window is refused on import and ignored by the analysis, so that one placeholder cannot create
    thousands of empty periods or a report that says "hired -2912107 days ago". The default runs
    from 2000-01-01 to 31 December five years after the current year (``spm.yml`` can move both
    ends: see :func:`spm_training.settings.load_date_window`)."""

    earliest: date
    latest: date

    @classmethod
    def default(cls, today: date | None = None) -> DateWindow:
        return cls.years_ahead(DEFAULT_EARLIEST, DEFAULT_YEARS_AHEAD, today)

    @classmethod
    def years_ahead(cls, earliest: date, years: int, today: date | None = None) -> DateWindow:
        """From ``earliest`` to 31 December ``years`` years after the year of ``today``."""
        year = min((today or date.today()).year + years, 9999)
        return cls(earliest, date(year, 12, 31))

    def __str__(self) -> str:
        return f"{self.earliest.isoformat()} to {self.latest.isoformat()}"

    def holds(self, day: date) -> bool:
        return self.earliest <= day <= self.latest

    def holds_period(self, period: str) -> bool:
        """Whether ``period`` is a well-formed month or quarter with at least one day in the window."""
        bounds = safe_bounds(period)
        return bounds is not None and bounds[1] >= self.earliest and bounds[0] <= self.latest

    def hire_date(self, text: object) -> date | None:
        """A stored hire date as a date when it is ISO and inside the window; None otherwise."""
        day = parse_day(text)
        return day if day is not None and self.holds(day) else None


def safe_bounds(period: object) -> tuple[date, date] | None:
    """:func:`period_bounds`, or None for anything that is not a period a calendar can hold (``0000-01``,
    ``9999-Q4``, whose end would be in the year 10000, or text that is no period at all)."""
    if not isinstance(period, str):
        return None
    try:
        return period_bounds(period)
    except ValueError:
        return None
