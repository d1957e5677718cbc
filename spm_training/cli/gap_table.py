"""``spm gaps`` for people: a summary, then each rep's gaps by name, with percentages, in 80 columns.

The rows are :func:`~spm_training.analysis.views.team_gaps`' (the same gaps as the CSV and JSON, with
the rep's, the skill's and the KPI's names). A rep's gaps are counted as the team report counts them:
skills, not skill–KPI pairs, so a weak skill that holds back two KPIs is one linked gap, with both
KPIs listed beside it. Reps come most urgent first (the largest linked gap by
:func:`~spm_training.analysis.gaps.severity`), then the others by name.
"""

from __future__ import annotations

import textwrap
from collections import Counter

from .. import formatting as fmt
from ..analysis.gaps import GAP_KINDS, severity
from ..text import plural

WIDTH = 80
GAP = "  "
HEADERS = ("Skill", "Mastery", "KPI below target", "Attained")
#: What stands in the empty half of a skill gap or a KPI gap: the row says which kind it is.
NO_KPI = "(no linked KPI below target)"
NO_SKILL = "(no weak skill behind it)"
PENDING_NOTE = ("* Some of the rep's answers on this skill still await a manual grade; mastery leaves them out "
                "until a trainer grades them.")


def group(rows: list[dict]) -> dict[str, list[dict]]:
    """rep id -> the rep's gaps, one per skill (a linked skill with all its short KPIs in ``kpis``) or
    per KPI that no weak skill explains; linked first, each kind worst first."""
    out: dict[str, dict[tuple, dict]] = {}
    for g in rows:
        key = (g["kind"], g["skill"] or g["kpi"])
        entry = out.setdefault(g["rep_id"], {}).setdefault(key, {**g, "kpis": [], "severity": 0.0})
        if g["kpi"]:
            entry["kpis"].append(g)
        if g["kind"] == "linked":
            entry["severity"] = max(entry["severity"], severity(g))
    return {rep_id: sorted(gaps.values(), key=_order) for rep_id, gaps in out.items()}


def _order(entry: dict) -> tuple:
    kind = GAP_KINDS.index(entry["kind"])
    if entry["kind"] == "linked":
        return (kind, -entry["severity"], entry["skill_name"] or "")
    if entry["kind"] == "skill":
        return (kind, entry["mastery"] if entry["mastery"] is not None else -1.0, entry["skill_name"] or "")
    return (kind, entry["attainment"], entry["kpi_name"] or "")


def summary(counts: dict[str, dict[str, int]], grouped: dict[str, list[dict]], names: dict[str, str],
            periods: list[str]) -> list[str]:
    """The lines above the table: how many gaps of each kind (``counts``: :func:`rep_gap_counts`), over
    how many skills, and the most urgent."""
    total = {k: sum(c[k] for c in counts.values()) for k in ("linked", "skill_only", "kpi")}
    linked_skills = {e["skill"] for entries in grouped.values() for e in entries if e["kind"] == "linked"}
    text = (f"{_many(len(counts), 'rep')}: {_many(total['linked'], 'linked gap')} over "
            f"{_many(len(linked_skills), 'skill')}, {_many(total['skill_only'], 'other skill gap')}, "
            f"{_many(total['kpi'], 'KPI gap')}")
    if periods:
        text += f" (KPIs for {', '.join(periods)})"
    lines = [text + "."]
    order = rep_order(grouped, names)
    if order and grouped[order[0]][0]["kind"] == "linked":
        e = grouped[order[0]][0]
        worst = min(e["kpis"], key=lambda k: k["attainment"])
        at = "not yet credited" if e["mastery"] is None else f"at {_mastery(e)}"
        lines.append(f"Most urgent: {names[order[0]]}, {e['skill_name']} {at} (needs "
                     f"{fmt.percent(e['threshold'])}) with {worst['kpi_name']} at "
                     f"{fmt.attainment(worst['attainment'])} of target.")
    return [part for line in lines for part in textwrap.wrap(line, WIDTH, break_on_hyphens=False)]


def _many(n: int, noun: str) -> str:
    """'1 rep', '2,758 linked gaps': a count with thousands separators and its noun."""
    return f"{fmt.count(n)} {noun if n == 1 else noun + 's'}"


def _mastery(entry: dict) -> str:
    # an n_times skill not yet reached often enough has graded items but no mastery figure
    return "not yet" if entry["mastery"] is None else fmt.mastery(entry["mastery"], entry["threshold"])


def rep_order(grouped: dict[str, list[dict]], names: dict[str, str]) -> list[str]:
    """Reps with a linked gap first, the largest first; then the others by name."""
    def key(rep_id: str) -> tuple:
        worst = max((e["severity"] for e in grouped[rep_id] if e["kind"] == "linked"), default=None)
        return (worst is None, -(worst or 0.0), names[rep_id], rep_id)
    return sorted(grouped, key=key)


def table(rows: list[dict], counts: dict[str, dict[str, int]], teams: dict[str, str], many_teams: bool) -> str:
    """The whole table-format output of ``spm gaps``: summary lines, a blank line, the table. ``rows``
    are :func:`~spm_training.analysis.views.team_gaps`', ``counts`` its
    :func:`~spm_training.analysis.views.rep_gap_counts`: the team report's counts."""
    grouped = group(rows)
    names = {g["rep_id"]: g["name"] for g in rows}
    periods = sorted({g["period"] for g in rows if g["period"]})
    main_period = Counter(g["period"] for g in rows if g["period"]).most_common(1)
    usual = main_period[0][0] if main_period else None

    lines: list[list[str]] = []            # one list of cells per printed line; a str for a rep's heading
    headings: dict[int, str] = {}
    pending = False
    for rep_id in rep_order(grouped, names):
        c = counts[rep_id]
        parts = [p for p, n in ((plural(c["linked"], "linked gap"), c["linked"]),
                                (plural(c["skill_only"], "skill gap"), c["skill_only"]),
                                (plural(c["kpi"], "KPI gap"), c["kpi"])) if n]
        team = f" ({teams.get(rep_id, '')})" if many_teams else ""
        headings[len(lines)] = f"{names[rep_id]}{team}: {', '.join(parts)}"
        lines.append([])
        for e in grouped[rep_id]:
            skill = (e["skill_name"] or "") if e["skill"] else NO_SKILL
            mark = "*" if e["pending"] else ""
            mastery = f"{_mastery(e)}{mark} < {fmt.percent(e['threshold'])}" if e["skill"] else ""
            pending = pending or bool(e["skill"] and e["pending"])
            if not e["kpis"]:
                lines.append([skill, mastery, NO_KPI, ""])
            for i, k in enumerate(e["kpis"]):
                period = "" if k["period"] == usual else f" ({k['period']})"
                lines.append([skill if i == 0 else "", mastery if i == 0 else "", k["kpi_name"] + period,
                              fmt.attainment(k["attainment"])])

    widths = [len(h) for h in HEADERS]
    for cells in lines:
        for i, v in enumerate(cells):
            widths[i] = max(widths[i], len(v))
    kpi_col = HEADERS.index("KPI below target")
    room = WIDTH - len(GAP) * (len(HEADERS) - 1) - sum(w for i, w in enumerate(widths) if i != kpi_col)
    widths[kpi_col] = max(len(HEADERS[kpi_col]), min(widths[kpi_col], room))
    right = {1, 3}

    def line(cells: list[str]) -> list[str]:
        # a KPI name wider than its column wraps; the attainment stays on its first line
        wrapped = textwrap.wrap(cells[kpi_col], widths[kpi_col], break_on_hyphens=False) or [""]
        out = []
        for n, kpi_part in enumerate(wrapped):
            row = cells if n == 0 else [""] * len(cells)
            row = [kpi_part if i == kpi_col else v for i, v in enumerate(row)]
            out.append(GAP.join(v.rjust(w) if i in right else v.ljust(w)
                                for i, (v, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        return out

    out = summary(counts, grouped, names, periods) + ["", *line(list(HEADERS)),
                                                      GAP.join("-" * w for w in widths)]
    for n, cells in enumerate(lines):
        if n in headings:
            # a blank line between reps, none under the rule
            out += ([""] if n else []) + textwrap.wrap(headings[n], WIDTH, break_on_hyphens=False)
        else:
            out += line(cells)
    if pending:
        out += ["", *textwrap.wrap(PENDING_NOTE, WIDTH)]
    return "\n".join(out)
