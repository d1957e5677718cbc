"""Numbers written for people: one set of pure functions for the reports, the dashboard and the CLI.

Shares and rates (mastery, attainment, ratio KPIs) read as percentages, changes of a share as
percentage points, the readiness index as a whole number, money and counts with thousands
separators, and a value that is not there as "—". Negative numbers carry a real minus sign (−),
and nothing reads as a signed zero ("±0.00", "−0%").

Colour follows the figure as printed: :func:`tone` compares the value *shown* (see :func:`shown`),
so a cell never reads "100%" in the colour of a miss. Where a figure below a limit would round up
to it (a mastery of 69.6% against a threshold of 70%, an attainment of 99.88%), it is printed
with as many extra decimals as it takes to stay below ("69.6%", "99.9%"): a gap never reads as a
pass, and its colour agrees with it.

Pure standard library, so that the command line can format without loading pandas or Jinja.
"""

from __future__ import annotations

import math

MISSING = "—"
MINUS = "−"
EXTRA_DIGITS = 2        # how many decimals a figure just below its limit may gain to stay below it
NEAR_MASTERY = 10       # percentage points below the threshold that still count as near
NEAR_TARGET = 10        # percentage points below target (100%) that still count as near


def missing(value: object) -> bool:
    """None, NaN or an infinity: nothing a report can print."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _known(value: float | None) -> float | None:
    # the value as a float, or None where :func:`missing` holds (lets the type checker follow along)
    return None if value is None or missing(value) else float(value)


def half_up(value: float, digits: int = 0) -> float:
    """Rounded as people round by hand and as the handbook's worked examples do (4.125 -> 4.13,
    0.825 -> 0.83), not half-to-even on the binary value (which gives 4.12 and 0.82). A nudge of
    one billionth past the half is enough for any figure a report shows, and much quicker than
    decimal arithmetic on the hundreds of thousands of figures of a large team."""
    return round(value + math.copysign(1e-9, value), digits)


def _signed(text: str, negative: bool, plus: bool = False) -> str:
    # ``text`` is the magnitude as printed; a magnitude that prints as zero takes no sign
    if not (negative or plus) or not text.strip("0.,"):
        return text
    if negative:
        return MINUS + text
    return "+" + text if plus else text


def number(value: float | None, digits: int = 2) -> str:
    """A plain number with thousands separators: 1234.5 -> '1,234.50', −3.14159 -> '−3.14'."""
    v = _known(value)
    if v is None:
        return MISSING
    return _signed(f"{half_up(abs(v), digits):,.{digits}f}", v < 0)


def count(value: float | None) -> str:
    """A count with thousands separators: 12345 -> '12,345'."""
    return number(value, 0)


def whole(value: float | None) -> str:
    """A whole number, as the readiness index is shown: 56.8 -> '57', 24.5 -> '25'."""
    return number(value, 0)


def money(value: float | None, currency: str = "EUR") -> str:
    """An amount with its currency and no cents: 26400 -> 'EUR 26,400'."""
    if missing(value):
        return MISSING
    return f"{currency} {count(value)}"


def _percent_digits(value: float, digits: int, below: float | None) -> int:
    """The decimals a share needs so that a value under ``below`` does not print as ``below`` or more."""
    if below is None or value >= below - 1e-12:
        return digits
    for extra in range(EXTRA_DIGITS + 1):
        if half_up(value * 100, digits + extra) < below * 100 - 1e-9:
            return digits + extra
    return digits + EXTRA_DIGITS


def shown(value: float | None, digits: int = 0, *, below: float | None = None) -> float | None:
    """The percentage :func:`percent` prints for a share, as a number: 0.9988 -> 100.0, and with
    ``below=1.0`` -> 99.9. This is the figure colour is decided on (:func:`tone`)."""
    v = _known(value)
    if v is None:
        return None
    if below is None or v >= below - 1e-12:
        return half_up(v * 100, digits)
    d = _percent_digits(v, digits, below)
    pct = half_up(v * 100, d)
    if pct >= below * 100 - 1e-9:
        # still at the limit with every extra decimal (0.699999 against 0.7): cut, never round up
        pct = math.floor(v * 100 * 10 ** d) / 10 ** d
    return pct


def percent(value: float | None, digits: int = 0, *, below: float | None = None) -> str:
    """A share or rate as a percentage: 0.2634 -> '26%', 0.0125 with one decimal -> '1.3%'.
    With ``below`` (a threshold or target), a value under it never prints as it: 0.695 against
    0.7 -> '69.5%'."""
    v = _known(value)
    if v is None:
        return MISSING
    if below is None or v >= below - 1e-12:       # the common case, without the search for decimals
        pct, d = half_up(v * 100, digits), digits
    else:
        pct, d = shown(v, digits, below=below), _percent_digits(v, digits, below)   # type: ignore[assignment]
    return _signed(f"{abs(pct):,.{d}f}", pct < 0) + "%"


def mastery(value: float | None, threshold: float | None = None) -> str:
    """Mastery as a percentage that never rounds up to its threshold: 0.28 -> '28%',
    0.695 against 0.70 -> '69.5%', 0.70 against 0.70 -> '70%'."""
    return percent(value, below=threshold)


def attainment(value: float | None) -> str:
    """KPI attainment as a percentage of target that never rounds up to the target while the KPI
    is short of it: 0.84 -> '84%', 0.9988 -> '99.9%', 1.0 -> '100%', 1.237 -> '124%'."""
    return percent(value, below=1.0)


def points(change: float | None, digits: int = 0) -> str:
    """A change of a share in percentage points, always signed: −0.18 -> '−18 pp', 0.05 -> '+5 pp',
    0.001 -> '0 pp'."""
    v = _known(change)
    if v is None:
        return MISSING
    return _signed(f"{half_up(abs(v) * 100, digits):.{digits}f}", v < 0, plus=True) + " pp"


def correlation(value: float | None, digits: int = 2) -> str:
    """A correlation or one of its bounds, signed: 0.45 -> '+0.45', −0.89 -> '−0.89',
    −0.0001 -> '0.00' (never '±0.00' or '−0.00')."""
    v = _known(value)
    if v is None:
        return MISSING
    return _signed(f"{half_up(abs(v), digits):.{digits}f}", v < 0, plus=True)


def interval(low: float | None, high: float | None, digits: int = 2) -> str:
    """A confidence interval of a correlation: '−0.89 to 0.00'."""
    if missing(low) or missing(high):
        return MISSING
    return f"{correlation(low, digits)} to {correlation(high, digits)}"


def days(value: float | None) -> str:
    """A number of days: 1 -> '1 day', 41 -> '41 days'."""
    if missing(value):
        return MISSING
    text = count(value)
    return f"{text} day" if text == "1" else f"{text} days"


def kpi_value(value: float | None, unit: str = "") -> str:
    """A KPI value in its unit (kpis.yml's ``unit``): 'EUR 26,400'; ratio 0.26 -> '26%'; '41 days';
    a count '948'; anything else with two decimals ('4.25')."""
    if missing(value):
        return MISSING
    if unit == "EUR":
        return money(value)
    if unit == "ratio":
        return percent(value)
    if unit == "count":
        return count(value)
    if unit == "days":
        return days(value)
    return number(value, 2)


def score(got: float | None, max_score: float | None) -> str:
    """Points of points, to two decimals at most: '3.5 / 4', '1.03 / 2'."""
    g, m = _known(got), _known(max_score)
    if g is None or m is None:
        return MISSING
    return f"{round(g, 2):g} / {round(m, 2):g}"


def day(value: str | None) -> str:
    """The date part of an ISO date or timestamp: '2026-03-01 09:00:00' -> '2026-03-01'."""
    if not value:
        return MISSING
    return str(value)[:10]


# --- colour -------------------------------------------------------------------------------------------

TONES = ("good", "near", "gap", "none")


def tone(value_shown: float | None, good_at: float, near_by: float = 0.0) -> str:
    """The band of a figure *as printed* (a percentage from :func:`shown`): 'good' at ``good_at``
    or above, 'near' within ``near_by`` below it, 'gap' further below, 'none' with no figure.
    tone(100.0, 100) is 'good' even when the unrounded share was 0.9996."""
    if value_shown is None:
        return "none"
    if value_shown >= good_at - 1e-9:
        return "good"
    return "near" if near_by and value_shown >= good_at - near_by - 1e-9 else "gap"


def attainment_tone(value: float | None) -> str:
    """The colour of an attainment, from the percentage :func:`attainment` prints: 100% and over is
    good, from 90% near, below that a gap."""
    return tone(shown(value, below=1.0), 100, NEAR_TARGET)


def mastery_tone(value: float | None, threshold: float, graded: int = 1) -> str:
    """The colour of a mastery, from the percentage :func:`mastery` prints: at or above the
    threshold good, up to 10 points under it near, below that a gap; nothing graded is 'none', and
    graded items with no mastery yet (an n_times skill not reached often enough) a gap."""
    if graded == 0:
        return "none"
    if value is None:
        return "gap"
    return tone(shown(value, below=threshold), threshold * 100, NEAR_MASTERY)
