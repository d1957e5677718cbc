"""Formatting as pure functions, registered as Jinja filters: every figure in a report is written
by one of these, so a value looks the same wherever it appears."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..text import plural

MISSING = "—"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def half_up(value: float, digits: int) -> float:
    """Rounded as people round by hand and as the handbook's worked examples do (4.125 -> 4.13,
    0.825 -> 0.83), not half-to-even on the binary value (which gives 4.12 and 0.82). A nudge of
    one billionth past the half is enough for any figure a report shows, and much quicker than
    decimal arithmetic on the hundreds of thousands of figures of a large team."""
    return round(value + math.copysign(1e-9, value), digits)


def fmt_percent(value: float | None, digits: int = 0) -> str:
    """0.724 -> '72%'."""
    if _missing(value):
        return MISSING
    return f"{half_up(value * 100, digits):.{digits}f}%"


def fmt_number(value: float | None, digits: int = 2) -> str:
    """A plain number with a fixed number of decimals and thousands separators."""
    if _missing(value):
        return MISSING
    return f"{half_up(value, digits):,.{digits}f}"


def fmt_share(value: float | None) -> str:
    """A 0–1 figure such as mastery, with two decimals: 0.5843 -> '0.58'."""
    return fmt_number(value, 2)


def fmt_mastery(value: float | None, threshold: float | None = None) -> str:
    """Mastery with two decimals, or three when two would round a value below the threshold up
    to it (0.695 against 0.70 reads '0.695', so that a gap never looks like a pass)."""
    text = fmt_share(value)
    if _missing(value) or threshold is None or value >= threshold - 1e-9:
        return text
    return text if half_up(value, 2) < half_up(threshold, 2) else fmt_number(value, 3)


def fmt_signed(value: float | None, digits: int = 2) -> str:
    """A change, always with its sign: '+0.05', '−0.10'."""
    if _missing(value):
        return MISSING
    text = f"{half_up(abs(value), digits):.{digits}f}"
    if float(text) == 0:
        return f"±{text}"
    return f"+{text}" if value > 0 else f"−{text}"


def fmt_value(value: float | None, unit: str = "") -> str:
    """A KPI value in its unit: EUR 26,400; 0.18; 41 days; 948."""
    if _missing(value):
        return MISSING
    if unit == "EUR":
        return f"EUR {value:,.0f}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "days":
        return f"{value:,.0f} days"
    if unit == "ratio":
        return f"{value:.2f}"
    return f"{value:,.2f}"


def fmt_score(score: float | None, max_score: float | None) -> str:
    """Points of points, to two decimals at most: '3.5 / 4', '1.03 / 2'."""
    if _missing(score) or _missing(max_score):
        return MISSING
    return f"{round(score, 2):g} / {round(max_score, 2):g}"


def fmt_date(value: str | None) -> str:
    """The date part of an ISO date or timestamp."""
    if not value:
        return MISSING
    return str(value)[:10]


FILTERS: dict[str, Callable] = {
    "percent": fmt_percent, "number": fmt_number, "share": fmt_share, "mastery": fmt_mastery, "signed": fmt_signed,
    "kpi_value": fmt_value, "score": fmt_score, "date": fmt_date, "plural": plural,
}
