"""Charts as inline SVG, generated here and dropped into the templates as markup.

No JavaScript, no fonts or stylesheets from elsewhere: a report is one file that prints and works
offline. Colour is never the only cue: every cell carries its value as text, and every mark a
<title> that browsers show on hover and screen readers read out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from ..formatting import attainment, attainment_tone, mastery_tone, whole
from ..periods import period_bounds
from .filters import fmt_percent

# A palette that stays distinguishable with the common colour-vision deficiencies.
TONES = {
    "good": ("#2c7bb6", "#ffffff"),
    "near": ("#fdd49e", "#1a1a1a"),
    "gap": ("#d7301f", "#ffffff"),
    "none": ("#eeeeee", "#555555"),
    "pending": ("#ffffff", "#555555"),
}
__all__ = ["TONES", "Cell", "attainment_tone", "facility_chart", "heatmap", "mastery_tone", "meter", "ramp_chart",
           "readiness_bar", "sparkline"]
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"


@dataclass(frozen=True)
class Cell:
    """One heatmap cell: the text shown in it, its tone and its hover title."""

    text: str
    tone: str
    title: str


# The heatmap's palette: one hue per side, and three clearly different lightnesses, so that the
# bands stay apart in greyscale print too (CIE L* about 95, 75 and 40); each cell prints its value.
HEATMAP_TONES = {
    "good": ("#e3eef8", "#0b2e4f"),
    "near": ("#f5b16d", "#1a1a1a"),
    "gap": ("#a3241a", "#ffffff"),
    "none": ("#ffffff", "#6b6b6b"),
}
HEATMAP_LEGEND = (
    ("good", "at or above the threshold / on target", "70%"),
    ("near", "up to 10 points below", "64%"),
    ("gap", "further below", "41%"),
    ("none", "not measured yet", "·"),
)


def heatmap(row_labels: Sequence[str], groups: Sequence[tuple[str, Sequence[str]]],
            cells: Sequence[Sequence[Cell]], *, label: str, row_links: Sequence[str] | None = None) -> Markup:
    """A grid as an HTML table: one row per rep, columns in titled groups (skills, then KPIs).

    A table rather than an image, so that it scrolls inside its own box with the reps' names
    sticky on the left, keeps its text at the page's size and stays a file a browser opens quickly
    for a team of thousands (cells are styled by class). ``row_links``: each rep's report."""
    out = [f'<table class="heatmap" aria-label="{escape(label)}"><caption>{escape(label)}</caption><thead><tr>'
           '<th scope="col" rowspan="2" class="hm-rep">Rep</th>']
    for g, (group_label, cols) in enumerate(groups):
        out.append(f'<th scope="colgroup" colspan="{len(cols)}" class="hm-group{" hm-start" if g else ""}">'
                   f"{escape(group_label)}</th>")
    out.append("</tr><tr>")
    for g, (_, cols) in enumerate(groups):
        for c, col in enumerate(cols):
            start = " hm-start" if g and c == 0 else ""
            out.append(f'<th scope="col" class="hm-col{start}"><span>{escape(col)}</span></th>')
    out.append("</tr></thead><tbody>")
    starts = set()
    n = 0
    for g, (_, cols) in enumerate(groups):
        if g:
            starts.add(n)
        n += len(cols)
    for r, row_label in enumerate(row_labels):
        name = escape(row_label)
        if row_links is not None and row_links[r]:
            name = Markup(f'<a href="{escape(row_links[r])}">{name}</a>')
        out.append(f'<tr><th scope="row" class="hm-rep">{name}</th>')
        for c, cell in enumerate(cells[r]):
            start = " hm-start" if c in starts else ""
            out.append(f'<td class="hm-{cell.tone}{start}" title="{escape(cell.title)}">{escape(cell.text)}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return Markup("".join(out))


def heatmap_legend() -> Markup:
    """What the heatmap's colours mean, each swatch a cell of the heatmap's own style."""
    items = "".join(f'<li><span class="hm-swatch hm-{tone}">{escape(sample)}</span> {escape(text)}</li>'
                    for tone, text, sample in HEATMAP_LEGEND)
    return Markup(f'<ul class="legend" aria-label="Heatmap colours">{items}</ul>')


def heatmap_style() -> str:
    """The heatmap's colours as CSS rules (report.css has its layout)."""
    return "".join(f".heatmap .hm-{t},.hm-swatch.hm-{t}{{background:{fill};color:{ink}}}"
                   for t, (fill, ink) in HEATMAP_TONES.items())


def sparkline(values: Sequence[float | None], *, label: str, reference: float = 1.0, width: int = 90,
              height: int = 24) -> Markup:
    """A small line of attainment over periods, with the target (1.0) dashed; gaps where a period has
    no value."""
    known = [v for v in values if v is not None]
    if not known:
        return Markup("")
    low, high = min(known + [reference]) * 0.95, max(known + [reference]) * 1.05
    span = high - low or 1.0
    step = (width - 8) / max(1, len(values) - 1)

    def y(v: float) -> float:
        return round(height - 3 - (v - low) / span * (height - 6), 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart spark" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>',
             f'<line x1="0" x2="{width}" y1="{y(reference)}" y2="{y(reference)}" stroke="#999999" '
             f'stroke-dasharray="3 2"/>']
    segment: list[str] = []
    for i, v in enumerate(list(values) + [None]):
        if v is None:
            if len(segment) > 1:
                parts.append(f'<polyline fill="none" stroke="#2c7bb6" stroke-width="1.5" points="{" ".join(segment)}"/>')
            segment = []
            continue
        segment.append(f"{4 + i * step:.1f},{y(v)}")
        parts.append(f'<circle cx="{4 + i * step:.1f}" cy="{y(v)}" r="2" fill="#2c7bb6"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def meter(value: float | None, *, mark: float, label: str, tone: str, scale: float = 1.0, width: int = 120,
          height: int = 14) -> Markup:
    """A horizontal bar for value on 0..scale with a tick at ``mark`` (a threshold or the target),
    coloured by ``tone`` (from :func:`mastery_tone` or :func:`attainment_tone`)."""
    if value is None:
        return Markup("")
    filled = max(0.0, min(value, scale)) / scale * width
    tick = min(mark, scale) / scale * width
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart meter" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<rect x="0" y="2" width="{width}" height="{height - 4}" fill="#eeeeee"/>'
        f'<rect x="0" y="2" width="{filled:.1f}" height="{height - 4}" fill="{TONES[tone][0]}"/>'
        f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="0" y2="{height}" stroke="#1a1a1a" stroke-width="1.5"/></svg>')


def readiness_bar(parts: Sequence[tuple[str, float]], *, label: str, width: int = 420) -> Markup:
    """The readiness index as stacked contributions (weight × part, in index points) out of 100,
    with a legend under the bar."""
    colours = ("#2c7bb6", "#abd9e9", "#fdae61")
    bar_h, height = 22, 48
    x = 0.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart readiness" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" style="{FONT}">'
           f"<title>{escape(label)}</title>",
           f'<rect x="0" y="0" width="{width}" height="{bar_h}" fill="#f4f4f4" stroke="#cccccc"/>']
    for (name, points), colour in zip(parts, colours):
        w = max(0.0, points) / 100 * width
        out.append(f'<g><title>{escape(name)}: {whole(points)} points</title><rect x="{x:.1f}" y="0" width="{w:.1f}" '
                   f'height="{bar_h}" fill="{colour}"/></g>')
        x += w
    lx = 0
    for (name, points), colour in zip(parts, colours):
        text = f"{name} {whole(points)}"
        out.append(f'<rect x="{lx}" y="{bar_h + 10}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{lx + 14}" y="{bar_h + 19}" font-size="11">{escape(text)}</text>')
        lx += 24 + int(len(text) * 6.2)
    out.append("</svg>")
    return Markup("".join(out))


# What an item's bar colour says, in a trainer's words: one colour per finding, the first of its
# flags in reading order (analysis/items.py), lightnesses far apart for greyscale print.
ITEM_TONES = {
    "works": ("#2c7bb6", "works: neither too hard nor too easy, and it separates strong from weak reps"),
    "hard": ("#7f0000", "too hard: few reps get the points"),
    "easy": ("#c6dbef", "too easy: almost every rep gets the points"),
    "separate": ("#f5b16d", "doesn't separate strong from weak reps"),
}
ITEM_FLAG_TONES = {"everyone fails": "hard", "too hard": "hard", "everyone passes": "easy", "too easy": "easy",
                   "goes against the rest": "separate", "weak discrimination": "separate"}
ITEM_FLAG_WORDS = {"everyone fails": "everyone fails", "too hard": "too hard", "everyone passes": "everyone passes",
                   "too easy": "too easy", "goes against the rest": "strong reps do worse on it: check the key",
                   "weak discrimination": "doesn't separate strong from weak reps"}
# the same, short enough for the chart's right-hand column
ITEM_FLAG_SHORT = {**ITEM_FLAG_WORDS, "goes against the rest": "strong reps do worse",
                   "weak discrimination": "doesn't separate"}


def item_tone(flags: Sequence[str]) -> str:
    """The bar colour of an item: its first flag's finding, or 'works'."""
    return next((ITEM_FLAG_TONES[f] for f in flags if f in ITEM_FLAG_TONES), "works")


def facility_legend() -> Markup:
    """What the items chart's colours mean, in the chart's own colours."""
    items = "".join(f'<li><span class="bar" style="background:{fill}"></span> {escape(text)}</li>'
                    for fill, text in ITEM_TONES.values())
    return Markup(f'<ul class="legend" aria-label="Bar colours">{items}</ul>')


def facility_chart(items: Sequence[dict], *, label: str, width: int = 640) -> Markup:
    """One bar per item: facility (the share of the points reps got) on 0..100%, with the too-hard and
    too-easy bands shaded and named, each bar coloured by its finding (:data:`ITEM_TONES`) and
    labelled with its facility and, for a flagged item, the finding in words."""
    from ..analysis.items import TOO_EASY, TOO_HARD

    row_h, label_w, right = 24, 170, 200
    height = 30 + len(items) * row_h
    bar_w = width - label_w - right
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart facility" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" style="{FONT}">'
           f"<title>{escape(label)}</title>",
           f'<rect x="{label_w}" y="20" width="{TOO_HARD * bar_w:.1f}" height="{height - 20}" fill="#eeeeee"/>',
           f'<rect x="{label_w + TOO_EASY * bar_w:.1f}" y="20" width="{(1 - TOO_EASY) * bar_w:.1f}" '
           f'height="{height - 20}" fill="#eeeeee"/>',
           f'<text x="{label_w + TOO_HARD * bar_w / 2:.1f}" y="14" font-size="13" text-anchor="middle">'
           f"too hard</text>",
           f'<text x="{label_w + (TOO_HARD + TOO_EASY) * bar_w / 2:.1f}" y="14" font-size="13" text-anchor="middle" '
           f'fill="#555555">facility</text>',
           f'<text x="{label_w + bar_w:.1f}" y="14" font-size="13" text-anchor="end">too easy</text>']
    for i, item in enumerate(items):
        y = 22 + i * row_h
        facility = item.get("facility")
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" font-size="13" text-anchor="end">'
                   f'{escape(item["cell"])}</text>')
        if facility is None:
            out.append(f'<text x="{label_w + 4}" y="{y + 15}" font-size="13" fill="#555555">no graded answers</text>')
            continue
        flags = list(item.get("flags") or ())
        tone = item_tone(flags)
        words = ITEM_FLAG_SHORT.get(flags[0], flags[0]) if flags else ""
        text = fmt_percent(facility) + (f" · {words}" if words else "")
        out.append(f'<g><title>{escape(item["cell"])}: facility {fmt_percent(facility)}'
                   f'{escape("; " + "; ".join(ITEM_FLAG_WORDS.get(f, f) for f in flags)) if flags else ""}</title>'
                   f'<rect x="{label_w}" y="{y + 3}" width="{facility * bar_w:.1f}" height="{row_h - 8}" '
                   f'fill="{ITEM_TONES[tone][0]}" stroke="#555555" stroke-width="0.5"/></g>'
                   f'<text x="{label_w + bar_w + 8}" y="{y + 15}" font-size="13">{escape(text)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def ramp_chart(points: Sequence[dict], *, label: str, hire_date: date | None = None, width: int = 480,
               height: int = 250) -> Markup:
    """Mean KPI attainment in each period since the hire date, as a line over labelled axes: the
    y axis in steps of 20% from 0, the x axis one tick a period (with the month since hire when
    ``hire_date`` is given), and the target (100%) as a dashed line. The SVG scales down to the
    width of its box (a phone) and keeps its proportions."""
    if not points:
        return Markup("")
    values = [p["attainment"] for p in points]
    top = max(1.2, math.ceil(max(values) * 5 + 1e-9) / 5)          # a multiple of 20% above every value
    left, right, above, below = 70, 16, 24, 58
    plot_w, plot_h = width - left - right, height - above - below
    step = plot_w / len(points)

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y(v: float) -> float:
        return above + plot_h * (1 - min(max(v, 0.0), top) / top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart ramp" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" style="{FONT}">'
           f"<title>{escape(label)}</title>"]
    ticks = round(top * 5)
    for t in range(ticks + 1):
        v = t / 5
        ty = y(v)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e3e3e3"/>'
                   f'<text x="{left - 6}" y="{ty + 5:.1f}" font-size="14" text-anchor="end">{t * 20}%</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(1):.1f}" y2="{y(1):.1f}" stroke="#1a1a1a" '
               f'stroke-width="1.5" stroke-dasharray="6 4"/>'
               f'<text x="{left + 6}" y="{y(1) - 6:.1f}" font-size="13" font-weight="600">target 100%</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{above}" y2="{above + plot_h}" stroke="#555555"/>'
               f'<line x1="{left}" x2="{width - right}" y1="{above + plot_h}" y2="{above + plot_h}" stroke="#555555"/>')
    out.append(f'<text transform="translate(16,{above + plot_h / 2:.1f}) rotate(-90)" font-size="14" '
               f'text-anchor="middle">Mean KPI attainment</text>')
    every = max(1, math.ceil(len(points) / 6))       # at most six period labels, so that they never overlap
    for i, p in enumerate(points):
        if i % every and i != len(points) - 1:
            continue
        month = _months_since(hire_date, p["period"])
        out.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{above + plot_h}" y2="{above + plot_h + 5}" '
                   f'stroke="#555555"/><text x="{x(i):.1f}" y="{above + plot_h + 20}" font-size="14" '
                   f'text-anchor="middle">{escape(p["period"])}</text>'
                   + (f'<text x="{x(i):.1f}" y="{above + plot_h + 36}" font-size="13" fill="#555555" '
                      f'text-anchor="middle">month {month}</text>' if month is not None else ""))
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" font-size="14" text-anchor="middle">'
               f'{"Period (month since hire)" if hire_date is not None else "Period"}</text>')
    if len(points) > 1:
        out.append('<polyline fill="none" stroke="#1f5f99" stroke-width="2.5" points="'
                   + " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values)) + '"/>')
    for i, (p, v) in enumerate(zip(points, values, strict=True)):
        text = attainment(v)
        out.append(f'<g><title>{escape(p["period"])}: {text} of target on average over '
                   f'{p.get("kpis", 0)} KPIs</title><circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="4.5" '
                   f'fill="#1f5f99"/></g>')
        if len(points) <= 8:
            # away from the target line: above a point on or over target, below one under it
            ty = y(v) - 9 if v >= 1 or y(v) + 20 > above + plot_h - 4 else y(v) + 20
            out.append(f'<text x="{x(i):.1f}" y="{ty:.1f}" font-size="13" text-anchor="middle" '
                       f'font-weight="600">{text}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _months_since(hire_date: date | None, period: str) -> int | None:
    """The month of the rep's tenure a period starts in: 1 for the month of the hire date."""
    if hire_date is None:
        return None
    try:
        start, _ = period_bounds(period)
    except ValueError:
        return None
    return max(1, (start.year - hire_date.year) * 12 + start.month - hire_date.month + 1)
