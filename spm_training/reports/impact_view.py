"""Training impact for people: the effect in the KPI's unit, its interval, the verdict in words, and the
event-study chart as inline SVG (no JavaScript, works offline). The figures come from
:mod:`spm_training.analysis.impact`; nothing is computed here but their presentation.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from ..analysis.impact import MIN_CONTROL, MIN_TREATED, ImpactResult
from ..catalog import Kpi
from ..formatting import MINUS, MISSING, count, missing, number, percent, points
from ..text import plural
from .charts import FONT

VERDICT_TEXT = {
    "helped": "helped: the 95% interval lies wholly on the better side of zero",
    "hurt": "hurt: the 95% interval lies wholly on the worse side of zero",
    "inconclusive": "inconclusive: the 95% interval includes zero, so no effect can be told apart from noise",
    "not enough data": (f"not enough data: at least {MIN_TREATED} trained reps with KPI values before and after, "
                        f"and {MIN_CONTROL} reps to compare with, are needed"),
}
TONE = {"helped": "good", "hurt": "gap", "inconclusive": "near", "not enough data": "none"}


def change(value: float | None, unit: str = "") -> str:
    """A change of a KPI, signed, in the KPI's unit: a ratio in percentage points ('+5.2 pp'), money
    ('+EUR 1,200'), days ('−3.5 days'), anything else with one or two decimals ('+0.8')."""
    if value is None or missing(value):
        return MISSING
    if unit == "ratio":
        return points(value, 1)
    if unit == "EUR":
        text = f"EUR {count(abs(value))}"
        return text if text == "EUR 0" else (MINUS if value < 0 else "+") + text
    digits = 1 if unit in ("count", "days") else 2
    text = number(abs(value), digits)
    if text.strip("0.,"):
        text = (MINUS if value < 0 else "+") + text
    return f"{text} days" if unit == "days" else text


def interval_text(low: float | None, high: float | None, unit: str = "") -> str:
    """'+2.3 pp to +9.8 pp'; an interval the shuffles could not bound reads 'unbounded'."""
    if low is None and high is None:
        return MISSING
    return f"{change(low, unit) if low is not None else 'unbounded'} to " \
           f"{change(high, unit) if high is not None else 'unbounded'}"


def summary(result: ImpactResult, kpi: Kpi | None) -> dict:
    """The figures of one estimate, formatted: what the CLI table, the team section and the page show."""
    unit = kpi.unit if kpi else ""
    return {
        "program": result.program, "kpi": result.kpi, "kpi_name": kpi.name if kpi else result.kpi,
        "effect": change(result.effect, unit), "interval": interval_text(result.ci_low, result.ci_high, unit),
        "n_treated": count(result.n_treated), "n_control": count(result.n_control),
        "n_never": count(result.n_never), "verdict": result.verdict, "tone": TONE[result.verdict],
        "verdict_text": VERDICT_TEXT[result.verdict], "reason": result.reason,
        "better": "higher" if result.direction == "higher" else "lower",
        "cohorts": [{"period": c["period"], "n": count(c["n"]), "effect": change(c["effect"], unit),
                     "interval": interval_text(c["ci_low"], c["ci_high"], unit)} for c in result.cohorts],
        "placebo": _placebo_text(result, unit), "chart": event_chart(result, unit),
        "caveats": list(result.caveats), "method": result.method,
        "trained_before": count(result.trained_before) if result.trained_before else "",
    }


def _placebo_text(result: ImpactResult, unit: str) -> str:
    if result.placebo is None:
        return "No period before the training has enough data for the placebo check."
    p = result.placebo
    where = f"{-p['event']} periods before the training"
    test = (f"over the {plural(p['periods'], 'period')} before the training, the shuffled dates give a gap at "
            f"least as large in {percent(p['p_value'])} of shuffles")
    if p["holds"]:
        return (f"Placebo check passed: before the training, trained and comparison reps moved alike (the largest "
                f"gap, {change(p['effect'], unit)} {where}, is within chance; {test}).")
    return (f"Placebo check failed: before the training, trained reps already moved differently (by "
            f"{change(p['effect'], unit)} {where}; {test}). Trends were not parallel, so read the effect with care.")


def event_chart(result: ImpactResult, unit: str = "", *, width: int = 560, height: int = 220) -> Markup:
    """The event study: the effect by periods since training (0 = the period of completion), each with
    its 95% band; the points before −1 are the placebo check and should sit near zero."""
    points_ = [e for e in result.events if not missing(e["effect"])]
    if len(points_) < 2:
        return Markup("")
    left, right, top, bottom = 64, 12, 12, 34
    lows = [e["low"] for e in points_] + [0.0]
    highs = [e["high"] for e in points_] + [0.0]
    low, high = min(lows), max(highs)
    span = (high - low) or 1.0
    low, high = low - span * 0.08, high + span * 0.08
    events = [e["event"] for e in points_]
    first, last = min(events), max(events)
    step = (width - left - right) / max(1, last - first)

    def x(event: int) -> float:
        return left + (event - first) * step

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * (height - top - bottom)

    label = (f"Event study of {result.program} on {result.kpi}: effect by periods since training, with 95% bands; "
             "the periods before the training are a placebo check")
    out = [f'<svg class="event-study" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'style="{FONT};font-size:11px;max-width:100%;height:auto" aria-label="{escape(label)}">'
           f"<title>{escape(label)}</title>"]
    # the training: a band behind the post-periods
    out.append(f'<rect x="{x(0) - step / 2:.1f}" y="{top}" width="{x(last) - x(0) + step / 2:.1f}" '
               f'height="{height - top - bottom}" fill="#f3f7fb"/>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#555" '
               'stroke-dasharray="4 3"/>')
    for value in (low + (high - low) * 0.1, 0.0, high - (high - low) * 0.1):
        out.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#333">'
                   f"{escape(change(value, unit) if value else '0')}</text>")
    for e in points_:
        cx = x(e["event"])
        pre = e["event"] < 0
        colour = "#7a7a7a" if pre else "#2c7bb6"
        tip = (f"{_event_name(e['event'])}: {change(e['effect'], unit)} (95% band {change(e['low'], unit)} to "
               f"{change(e['high'], unit)})" if e["event"] != -1 else "1 period before: the base, 0 by construction")
        out.append(f'<g><title>{escape(tip)}</title>'
                   f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(e["low"]):.1f}" y2="{y(e["high"]):.1f}" '
                   f'stroke="{colour}" stroke-width="2"/>'
                   f'<circle cx="{cx:.1f}" cy="{y(e["effect"]):.1f}" r="3.5" fill="{colour}"/></g>')
        if e["event"] % 2 == 0 or len(points_) <= 10:
            out.append(f'<text x="{cx:.1f}" y="{height - bottom + 14}" text-anchor="middle" fill="#333">'
                       f"{_signed_int(e['event'])}</text>")
    out.append(f'<text x="{(left + width - right) / 2:.1f}" y="{height - 4}" text-anchor="middle" fill="#333">'
               "periods since training (grey: before, the placebo check)</text></svg>")
    return Markup("".join(out))


def _signed_int(value: int) -> str:
    return f"{MINUS}{-value}" if value < 0 else str(value)


def _event_name(event: int) -> str:
    if event < 0:
        return f"{-event} periods before" if event < -1 else "1 period before"
    return "the period of completion" if event == 0 else f"{event} period{'s' if event > 1 else ''} after"


def rows(results: Sequence[ImpactResult], kpis: dict[str, Kpi]) -> list[dict]:
    """One formatted summary per estimate, in the order given."""
    return [summary(r, kpis.get(r.kpi)) for r in results]


def section(results: Sequence[ImpactResult], kpis: dict[str, Kpi]) -> dict:
    """The training-impact section (team report) or page (organisation): the estimates, then the pairs
    without enough data, and the caveats and method once."""
    views = rows(results, kpis)
    return {"estimates": [v for v in views if v["verdict"] != "not enough data"],
            "too_few": [v for v in views if v["verdict"] == "not enough data"],
            "caveats": list(results[0].caveats) if results else [], "method": results[0].method if results else "",
            "min_treated": MIN_TREATED, "min_control": MIN_CONTROL}
