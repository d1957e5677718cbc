"""The three reports: computed structures first (``*_context``), HTML from Jinja templates second.

A context holds only the data of its scope: the team report only that team's reps, the rep report
only that rep (a rank within the team is a number, not a list of colleagues). Contexts are plain
data (dicts and lists), so tests and other tools can read them without parsing HTML.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .. import __version__
from .. import formatting as fmt
from ..analysis import views
from ..analysis.evidence import CAVEAT, MIN_N, RESAMPLES
from ..analysis.facade import Analysis, analyse
from ..analysis.gaps import PlanEntry
from ..analysis.impact import impact_results
from ..analysis.items import FEW_LEARNERS, TOO_EASY, TOO_HARD, WEAK
from ..analysis.queries import report_keys
from ..analysis.readiness import KPI_CAP
from ..catalog import Kpi, Skill
from ..errors import NotFoundError
from ..fileio import follow_umask, write_output, write_text_atomic
from ..project import Project
from ..store import Store
from . import charts
from .filters import FILTERS, plural
from .hiring_view import hiring_context, hiring_section
from .impact_view import section as impact_section
from .links import DEFAULT_BOOK_URL, BookLinks
from .names import report_name, report_stems

REPORT_KINDS = ("team", "rep", "items")
IMPACT_PAGE = "impact.html"   # beside the index: did the training move the numbers, across the organisation
HIRING_PAGE = "hiring.html"   # beside the index: the organisation's hiring profile and interview scorecard
LINKED_SHOWN = 100        # the team report's table of linked gaps; every one is in the rep's plan

# A team report writes each figure several times (an attainment in its heatmap cell, its row and every
# plan that names the KPI; a threshold in every plan entry), tens of thousands of times on a large team.
# The formatters are pure functions of their arguments, so each distinct value is formatted once.
_MEMO = 1 << 16
_attainment = functools.lru_cache(maxsize=_MEMO)(fmt.attainment)
_attainment_tone = functools.lru_cache(maxsize=_MEMO)(fmt.attainment_tone)
_mastery = functools.lru_cache(maxsize=_MEMO)(fmt.mastery)
_mastery_tone = functools.lru_cache(maxsize=_MEMO)(fmt.mastery_tone)
_percent = functools.lru_cache(maxsize=_MEMO)(fmt.percent)
_points_text = functools.lru_cache(maxsize=_MEMO)(fmt.points)
_shown = functools.lru_cache(maxsize=_MEMO)(fmt.shown)


class _Collections:
    """Python's cyclic garbage collector, run less often while a report is built. A 2,000-rep team's
    context and HTML are millions of short-lived dicts and strings with no cycles to find, yet at
    the default threshold (700 allocations) the collector runs thousands of times, each run walking
    the young objects: about a tenth of the build. The threshold is raised while any report is
    being built (the service builds pages in several threads) and put back when the last one ends."""

    THRESHOLD = 50_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._builds = 0
        self._saved = gc.get_threshold()

    @contextlib.contextmanager
    def fewer(self) -> Iterator[None]:
        with self._lock:
            if self._builds == 0:
                self._saved = gc.get_threshold()
                gc.set_threshold(max(self.THRESHOLD, self._saved[0]), *self._saved[1:])
            self._builds += 1
        try:
            yield
        finally:
            with self._lock:
                self._builds -= 1
                if self._builds == 0:
                    gc.set_threshold(*self._saved)


_COLLECTIONS = _Collections()


@functools.lru_cache(maxsize=1)
class _Environment(Environment):
    """Jinja's ``row.name`` tries the attribute first and the key only after an AttributeError;
    every value a report shows is a key of a plain dict, so here the key is tried first. On a
    2,000-rep team report that is 400,000 exceptions fewer, a third of the rendering time."""

    def getattr(self, obj: object, attribute: str) -> object:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@functools.cache
def environment() -> Environment:
    """The reports' template environment, built once per process (templates compile on first use)."""
    env = _Environment(loader=PackageLoader("spm_training", "reports/templates"),
                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    return env


def default_output(project: Project | None, kind: str, key: str, siblings: Iterable[str] = ()) -> Path:
    """``reports/<kind>-<stem>.html`` in the project: the name :func:`write_reports` gives the same
    report, unique among ``siblings`` (the other keys of the kind; see :mod:`.names`)."""
    base = project.reports_dir if project is not None else Path.cwd() / "reports"
    return base / report_name(kind, key, siblings)


def _common(links: BookLinks, title: str) -> dict:
    return {"title": title, "generated": datetime.now().strftime("%Y-%m-%d %H:%M"), "version": __version__,
            "definitions_url": links.definitions_url}


def _mastery_cell(row: dict | None, skill: Skill, rep_name: str) -> dict:
    if row is None:
        return {"value": None, "graded": 0, "pending": 0, "tone": "none", "text": "·",
                "title": f"{rep_name}, {skill.name}: no graded items yet"}
    value = row["mastery"]
    tone = _mastery_tone(value, skill.threshold, row["graded"])
    if row["graded"] == 0:
        text, note = "…", f"{row['pending']} awaiting a manual grade"
    elif value is None:
        text, note = "not yet", f"reached the threshold {row['reached']} of 3 times"
    else:
        text, note = _mastery(value, skill.threshold), f"of {_percent(skill.threshold)}"
    if row["pending"] and row["graded"]:
        text += "*"
        note += f"; {row['pending']} awaiting a manual grade, left out"
    return {"value": value, "graded": row["graded"], "pending": row["pending"], "tone": tone, "text": text,
            "title": f"{rep_name}, {skill.name}: {text.rstrip('*')} ({note})"}


def _attainment_lookup(a: Analysis, spark: bool = False) -> dict[tuple[str, str], dict]:
    """(rep, KPI) -> the current figures of :func:`~spm_training.analysis.views.attainment_lookup`
    with their tone, and the trend's sparkline when ``spark``."""
    out = views.attainment_lookup(a)
    for (_, kpi), row in out.items():
        row["tone"] = _attainment_tone(row["attainment"])
        trend = row["trend"]
        row["spark"] = charts.sparkline(trend, label=f"{kpi}: attainment over the last {len(trend)} periods") \
            if spark else ""
    return out


def _plan_view(entries: list, links: BookLinks, titles: dict[str, str] | None = None) -> list[dict]:
    """Plan entries with their sentences' figures already written out, most urgent first within
    each kind (a team's plans run to tens of thousands of entries, and formatting them here is much
    quicker than in the template). Each skill entry carries its ``steps``: the book pages to read,
    then the assignments of the rep's plan to practise it on, leaving out those the rep already
    scored at or above the threshold there and those their role's plan does not give them."""
    titles = titles or {}
    view = []
    for e in entries:
        pending = ""
        if e.pending:
            pending = (f"{plural(e.pending, 'answer')} on this skill {'awaits' if e.pending == 1 else 'await'} a "
                       f"manual grade and {'is' if e.pending == 1 else 'are'} left out.")
        kpis = sorted(e.kpis, key=lambda k: k["attainment"])       # the KPI furthest from target first
        practise, done = _practice(e, titles)
        pages = links.pages(e.pages)
        reading = [{"verb": "Read", "text": p["title"], "url": p["url"], "note": "in the handbook"} for p in pages]
        doing = [{"verb": x["verb"], "text": x["title"], "url": "", "note": x["note"]} for x in practise]
        # one page and one assignment first, so that the steps in view always include practice
        steps = reading[:1] + doing[:1] + reading[1:] + doing[1:]
        view.append({
            "kind": e.kind, "skill": e.skill, "skill_name": e.skill_name, "note": e.note,
            "urgency": _urgency(e), "mastery": _mastery(e.mastery, e.threshold) if e.mastery is not None
            else "not yet credited", "threshold": _percent(e.threshold),
            "mastery_tone": _mastery_tone(e.mastery, e.threshold) if e.threshold is not None else "none",
            "kpis": ", ".join(f"{k['name']} at {_attainment(k['attainment'])} of target ({k['period']})"
                              for k in kpis),
            "kpi_list": [{"name": k["name"], "kpi": k["kpi"], "period": k["period"],
                          "attainment": _attainment(k["attainment"]),
                          "tone": _attainment_tone(k["attainment"])} for k in kpis],
            "kpi": e.kpis[0] if e.kind == "kpi" else None,
            "kpi_attainment": _attainment(e.kpis[0]["attainment"]) if e.kind == "kpi" else "",
            "pending": pending, "pages": pages, "steps": steps, "done": done,
            "assignments": ", ".join(f"{x['title']} ({x['note']})" for x in practise)})
    kinds = ("linked", "skill", "kpi")
    return sorted(view, key=lambda v: (kinds.index(v["kind"]), -v["urgency"]))


def _urgency(e: PlanEntry) -> float:
    """How far a plan entry is from closing: for a skill, its shortfall as a share of the threshold
    plus, for a linked gap, the largest shortfall of its KPIs from target (the severity of
    analysis/gaps.py); for a KPI gap, its shortfall from target."""
    skill = 0.0
    if e.threshold:
        skill = (e.threshold - (e.mastery or 0.0)) / e.threshold
    kpi = max((1 - k["attainment"] for k in e.kpis), default=0.0)
    return (skill if e.kind != "kpi" else 0.0) + (kpi if e.kind != "skill" else 0.0)


def _practice(e: PlanEntry, titles: dict[str, str]) -> tuple[list[dict], list[str]]:
    """The assignments to practise a skill on, and those already done at or above its threshold
    ("Objection handling (100%)"). An assignment the rep's role is not given in the onboarding plan
    is left out of both: it is not theirs to do."""
    practise, done = [], []
    for x in e.assignments:
        if not x.get("given", True):
            continue
        title = titles.get(x["assignment"], x["assignment"])
        share = x["share"]
        shown = _shown(share, below=e.threshold) if share is not None else None
        if share is None or shown is None:
            practise.append({"assignment": x["assignment"], "title": title, "verb": "Do",
                             "note": "not submitted yet"})
        elif e.threshold is not None and shown >= e.threshold * 100 - 1e-9:
            done.append(f"{title} ({_percent(share)})")
        else:
            practise.append({"assignment": x["assignment"], "title": title, "verb": "Redo",
                             "note": f"{_percent(share)} of this skill's points there so far"})
    return practise, done


def _readiness_view(a: Analysis, rep_id: str, chart: bool = False) -> dict:
    """The readiness index and its parts. ``ramping``: a new hire with a part not measured yet
    (no graded skill, no KPI value or no assignment given), for whom the index says little yet."""
    r = a.readiness(rep_id)
    w, points = r.weights, r.points
    missing = [MISSING_PARTS[m] for m in r.missing]
    ramping = bool(r.missing) and views.tenure(a, rep_id)["new_hire"]
    whole = fmt.whole(r.index)
    shown = dict(zip(points, _whole_parts(list(points.values()), int(whole)), strict=True))
    return {"index": r.index, "whole": whole, "mastery": r.mastery, "kpi": r.kpi,
            "progress": r.progress, "mean_attainment": r.mean_attainment, "weights": w, "missing": missing,
            "ramping": ramping, "cap": KPI_CAP, "points_exact": [points[k] for k in ("mastery", "kpi", "progress")],
            "parts": [{"name": name, "weight": _percent(w[key]), "value": _percent(value),
                       "points": str(shown[key])}
                      for name, key, value in (("skill mastery (M)", "mastery", r.mastery),
                                               ("KPI attainment (K)", "kpi", r.kpi),
                                               ("course progress (P)", "progress", r.progress))],
            "chart": charts.readiness_bar([("Mastery", shown["mastery"]), ("KPI attainment", shown["kpi"]),
                                           ("Course progress", shown["progress"])],
                                          label=f"Readiness {whole} of 100") if chart else ""}


def _whole_parts(values: list[float], total: int) -> list[int]:
    """``values`` rounded to whole numbers that add up to ``total`` (the rounded sum): the largest
    remainders round up, so that "67 of 100: 24 + 22 + 21" never reads 24 + 22 + 20."""
    floors = [int(v // 1) for v in values]
    order = sorted(range(len(values)), key=lambda i: -(values[i] - floors[i]))
    for i in order[:max(0, total - sum(floors))]:
        floors[i] += 1
    return floors


#: What each part of the readiness index is made of, as the report names a part not measured yet.
MISSING_PARTS = {"mastery": "no skill graded yet", "kpi": "no KPI value yet", "progress": "no assignment given yet"}


# --- team ----------------------------------------------------------------------------------------

COACH_FIRST_SHOWN = 10    # the reps "Coach first" lists; the rest are in the tables under it


@_COLLECTIONS.fewer()
def team_context(a: Analysis, team: str, links: BookLinks, rep_pages: dict[str, str] | None = None, *,
                 impact: dict | None = None) -> dict:
    """Everything the manager's report shows for ``team``, from an analysis scoped to it.
    ``rep_pages``: rep id -> the file name of the rep's report, for the links to it (by default the
    name :func:`default_output` gives it). ``impact``: the team's training-impact section
    (:func:`team_impact`); None leaves the section out."""
    if set(a.team_ids()) - {team}:
        raise ValueError("team_context needs an analysis scoped to the team")
    if not a.rep_ids:
        raise NotFoundError(f"no reps in team '{team}'")
    evidence_rows = a.evidence_later()      # the bootstrap runs while the rest is built
    skills, kpis = views.skill_columns(a), views.kpi_columns(a)
    pages = rep_pages if rep_pages is not None else {r: default_output(None, "rep", r).name for r in a.rep_ids}
    first = coach_first_view(a, pages)
    order = {r["rep_id"]: i for i, r in enumerate(first)}
    # Coaching plans in the order of urgency, then the reps with no linked gap by name.
    reps = sorted(views.reps_in_order(a), key=lambda r: order.get(r["rep_id"], len(order)))
    counts = views.rep_gap_counts(a)
    rows, heatmap = _team_rows(a, team, reps, skills, kpis, links, pages, counts)
    gaps = views.team_gaps(a)
    linked = views.by_severity(gaps)
    pending, reps_pending = views.pending_answers(a)
    totals = {k: sum(c[k] for c in counts.values()) for k in ("linked", "skill_only", "kpi", "pairs")}
    return {
        **_common(links, f"Team {team}: who to coach first, skills next to KPIs"), "team": team,
        "manager": reps[0]["manager"],
        "skills": [{"id": s.id, "name": s.name, "threshold": s.threshold, "method": s.method,
                    "pages": links.pages(s.pages)} for s in skills],
        "kpis": [{"id": k.id, "name": k.name, "unit": k.unit, "direction": k.direction} for k in kpis],
        "periods": views.periods(a), "rows": rows, "heatmap": heatmap, "legend": charts.heatmap_legend(),
        "heatmap_style": Markup(charts.heatmap_style()),
        "coach_first": first[:COACH_FIRST_SHOWN], "coach_first_total": len(first),
        "gaps": gaps, "linked": [_linked_row(g) for g in linked[:LINKED_SHOWN]], "linked_total": len(linked),
        "counts": {"linked": totals["linked"], "skill": totals["skill_only"], "kpi": totals["kpi"],
                   "pairs": totals["pairs"], "reps_linked": len(first), "reps": len(a.rep_ids)},
        "by_skill": views.gaps_by_skill(a, gaps, skills), "impact": impact,
        "evidence": _evidence_view(views.evidence_rows(a, evidence_rows())), "caveat": CAVEAT, "min_n": MIN_N,
        "resamples": RESAMPLES, "recognition": _recognition_view(views.recognition(a)),
        "onboarding": _new_hire_view(a, pages), "pending": pending, "reps_pending": reps_pending,
        "hiring": hiring_section(a, links),
    }


def gap_phrase(gap: dict) -> str:
    """A linked gap as the reports write it: 'Discovery questions (48%) → Win rate (71%)'."""
    mastery = "not yet credited" if gap["mastery"] is None else fmt.mastery(gap["mastery"], gap["threshold"])
    return f"{gap['skill_name']} ({mastery}) → {gap['kpi_name']} ({fmt.attainment(gap['attainment'])})"


def gap_reason(gap: dict) -> str:
    """Why a linked gap is urgent, in plain words: how far the skill is under its threshold and the
    KPI under target."""
    threshold = fmt.percent(gap["threshold"])
    if gap["mastery"] is None:
        skill = f"skill not credited yet (threshold {threshold})"
    else:
        skill = f"skill {_points_under(gap['threshold'] - gap['mastery'])} under its {threshold} threshold"
    return f"{skill}, KPI {_points_under(1 - gap['attainment'])} under target in {gap['period']}"


def _points_under(shortfall: float) -> str:
    """A shortfall of a share in percentage points, in words: '22 points', never '0 points'."""
    text = fmt.whole(max(0.0, shortfall) * 100)
    return "less than 1 point" if text == "0" else ("1 point" if text == "1" else f"{text} points")


def counts_text(c: dict) -> str:
    """A rep's gaps as every report counts them (:func:`~spm_training.analysis.views.rep_gap_counts`)."""
    parts = [f"{plural(c['linked'], 'linked gap')} ({plural(c['pairs'], 'skill–KPI pair')})"] if c["linked"] else []
    if c["skill_only"]:
        parts.append(plural(c["skill_only"], "other skill gap"))
    if c["kpi"]:
        parts.append(plural(c["kpi"], "KPI gap"))
    return ", ".join(parts) if parts else "no gaps"


def coach_first_view(a: Analysis, pages: dict[str, str]) -> list[dict]:
    """:func:`~spm_training.analysis.views.coach_first` written out: rank, link, the one or two most
    urgent linked gaps with the reason for each, and the rep's counts."""
    out = []
    for i, r in enumerate(views.coach_first(a), start=1):
        out.append({**r, "rank": i, "href": pages.get(r["rep_id"], ""),
                    "focus": [{"text": gap_phrase(g), "why": gap_reason(g), "skill": g["skill"], "kpi": g["kpi"]}
                              for g in r["gaps"]],
                    "counts_text": counts_text(r["counts"])})
    return out


def _linked_row(g: dict) -> dict:
    return {**g, "mastery_text": "not yet credited" if g["mastery"] is None else fmt.mastery(g["mastery"],
                                                                                              g["threshold"]),
            "threshold_text": fmt.percent(g["threshold"]), "attainment_text": fmt.attainment(g["attainment"])}


def _evidence_view(rows: list[dict]) -> list[dict]:
    return [{**e, "rho_text": fmt.correlation(e["rho"]), "interval_text": fmt.interval(e["ci_low"], e["ci_high"])}
            for e in rows]


def _recognition_view(found: dict) -> dict:
    for group in found["improved"]:
        for r in group["reps"]:
            r["text"] = (f"{r['name']} from {fmt.percent(r['first'])} to {fmt.percent(r['last'])} "
                         f"({fmt.points(r['rise'])})")
    for group in found["top"]:
        for r in group["reps"]:
            r["text"] = f"{r['name']} {fmt.attainment(r['attainment'])}"
    return found


def _new_hire_view(a: Analysis, pages: dict[str, str]) -> list[dict]:
    rows = views.new_hires(a)
    for row in rows:
        row["href"] = pages.get(row["rep_id"], "")
        row["mastery_text"] = fmt.percent(row["mastery"]) if row["measured"] else "not measured yet"
        row["strengths_text"] = ", ".join(row["strengths"]) if row["strengths"] else (
            "not measured yet" if not row["measured"] else "none mastered yet")
        row["status"] = "ramping" if row["ramping"] else "measured"
        row["ramp_chart"] = charts.ramp_chart(row["ramp"], label=f"Mean KPI attainment of {row['name']} since hire",
                                              hire_date=a.today - timedelta(days=row["days"]))
    return rows


def _team_rows(a: Analysis, team: str, reps: list[dict], skills: list[Skill], kpis: list[Kpi],
               links: BookLinks, pages: dict[str, str], counts: dict[str, dict]) -> tuple[list[dict], Markup]:
    """One row per rep (skill cells, KPI figures, readiness, plan, gap counts) and the heatmap of
    the same cells."""
    mastery, attained = views.mastery_lookup(a), _attainment_lookup(a)
    rows, cells = [], []
    titles = views.assignment_titles(a)
    for rep in reps:
        skill_cells = [_mastery_cell(mastery.get((rep["rep_id"], s.id)), s, rep["name"]) for s in skills]
        kpi_cells, kpi_rows = [], []
        for k in kpis:
            found = attained.get((rep["rep_id"], k.id))
            att = found["attainment"] if found else None
            text = _attainment(att) if found else "·"
            kpi_cells.append({"tone": _attainment_tone(att), "text": text,
                              "title": f"{rep['name']}, {k.name}: " + (
                                  f"{text} of target in {found['period']}" if found else "no value")})
            kpi_rows.append({**found, "tone": _attainment_tone(att), "text": text,
                             "change_text": _points_text(found["change"])} if found else None)
        readiness = _readiness_view(a, rep["rep_id"])
        # a new hire with a part of the index not measured yet is ramping: the number says little yet
        if "ramping" not in readiness:
            readiness["ramping"] = bool(readiness["missing"]) and views.tenure(a, rep["rep_id"])["new_hire"]
        readiness["text"] = "ramping" if readiness["ramping"] else fmt.whole(readiness["index"])
        rows.append({**rep, "skills": skill_cells, "kpis": kpi_rows, "readiness": readiness,
                     "href": pages.get(rep["rep_id"], ""), "counts": counts[rep["rep_id"]],
                     "counts_text": counts_text(counts[rep["rep_id"]]),
                     "plan": _plan_view(a.plan(rep["rep_id"]), links, titles)})
        cells.append([charts.Cell(c["text"], c["tone"], c["title"]) for c in skill_cells + kpi_cells])
    heatmap = charts.heatmap([r["name"] for r in reps], [("Skills (mastery)", [s.name for s in skills]),
                                                         ("KPIs (attainment)", [k.name for k in kpis])],
                             cells, label=f"Skill mastery and KPI attainment of team {team}",
                             row_links=[pages.get(r["rep_id"], "") for r in reps])
    return rows, heatmap


# --- rep -----------------------------------------------------------------------------------------

FOCUS = 2         # the gaps the rep report leads with: what to work on this month
STEPS_SHOWN = 3   # steps of a focus item in view; the rest are collapsed


def rep_context(a: Analysis, rep_id: str, links: BookLinks) -> dict:
    """Everything the 1:1 report shows, from an analysis scoped to the one rep."""
    if set(a.rep_ids) != {rep_id}:
        raise ValueError("rep_context needs an analysis scoped to the rep")
    rep = a.rep(rep_id)
    titles = views.assignment_titles(a)
    scores = views.rep_scores(a)
    skills = []
    for s in views.rep_skills(a, rep_id, scores):
        text = fmt.mastery(s["mastery"], s["threshold"])
        skills.append({
            **s, "text": text, "threshold_text": fmt.percent(s["threshold"]),
            "tone": fmt.mastery_tone(s["mastery"], s["threshold"], s["graded"]),
            "meter": charts.meter(s["mastery"], mark=s["threshold"],
                                  tone=fmt.mastery_tone(s["mastery"], s["threshold"], s["graded"]),
                                  label=f"{s['name']}: mastery {text} against a threshold of "
                                        f"{fmt.percent(s['threshold'])}"),
            "pages": links.pages(s["pages"]),
            "scored": [{**i, "title": titles.get(i["assignment"], i["assignment"])} for i in s["scored"]]})
    kpis = views.rep_kpis(a, rep_id)
    for k in kpis:
        k["tone"] = fmt.attainment_tone(k["attainment"])
        k["text"] = fmt.attainment(k["attainment"])
        k["url"] = links.kpi_url(k["id"])
        k["spark"] = charts.sparkline(k["trend"], label=f"{k['name']}: attainment over the last {len(k['trend'])} "
                                                        "periods")
        k["meter"] = charts.meter(k["attainment"], mark=1.0, scale=1.5, tone=k["tone"],
                                  label=f"{k['name']}: {k['text']} of target")
    plan = _plan_view(a.plan(rep_id), links, titles)
    focus = _focus(a, plan)
    tenure = views.tenure(a, rep_id)
    progress = a.progress(rep_id)
    assignments = [{**x, "points": _points(x)} for x in views.assignment_rows(a, rep_id)]
    ramp_points = a.ramp(rep_id)
    hired = a.today - timedelta(days=tenure["days"]) if tenure["days"] is not None else None
    return {
        **_common(links, f"{rep['name']}: focus, KPIs and next steps"), "rep": rep, **tenure,
        "readiness": _readiness_view(a, rep_id, chart=True), "progress": progress,
        "assignments": assignments, "skills": skills, "strengths": views.strengths(skills),
        "measured": sum(1 for s in skills if s["graded"]),
        "focus": focus, "rest": [e for e in plan if e["skill"] not in {f["skill"] for f in focus}],
        "counts": views.rep_gap_counts(a)[rep_id], "kpis": kpis,
        "comments": [{**c, "title": titles.get(c["assignment"], c["assignment"])} for c in views.comments(scores)],
        "pending": sum(1 for i in scores if i["pending"]), "next_assignments": _next_assignments(assignments),
        "kpi_reference_url": links.kpi_url(None), "steps_shown": STEPS_SHOWN, "has_plan": bool(a.role_assignments),
        "ramp": ramp_points,
        "ramp_chart": charts.ramp_chart(ramp_points, label="Mean KPI attainment in each period since hire",
                                        hire_date=hired),
    }


def _focus(a: Analysis, plan: list[dict]) -> list[dict]:
    """The two things to work on this month: the rep's most urgent linked gaps, as the team report's
    "coach first" names them (:func:`~spm_training.analysis.views.coach_first`: by severity, the
    worst KPI of each skill first), then, while fewer than two, the skill gaps furthest below their
    threshold."""
    by_skill = {e["skill"]: e for e in plan if e["kind"] != "kpi"}
    focus = []
    for row in views.coach_first(a)[:1]:
        for g in row["gaps"]:
            e = dict(by_skill[g["skill"]])
            e["kpi_list"] = sorted(e["kpi_list"], key=lambda k: k["kpi"] != g["kpi"])   # the coach-first KPI first
            focus.append(e)
    focus += [e for e in plan if e["kind"] == "skill"]
    return focus[:FOCUS]


def _points(row: dict) -> str:
    """'3.5 of 4 (88%)', or — before any graded answer."""
    if row["score"] is None or not row["max_score"]:
        return fmt.MISSING
    return f"{row['score']:g} of {row['max_score']:g} ({fmt.percent(row['score'] / row['max_score'])})"


def _next_assignments(assignments: list[dict]) -> list[str]:
    """The titles of the assignments of the rep's plan not submitted yet, in course order."""
    return [x["title"] for x in assignments if x["in_plan"] and not x["submitted"]]


# --- items ---------------------------------------------------------------------------------------

def items_context(a: Analysis, assignment: str, links: BookLinks) -> dict:
    """The trainer's item analysis of one assignment."""
    data = views.item_table(a, assignment)
    title = a.assignment_titles.get(assignment, assignment)
    for item in data["items"]:
        item["flag_words"] = [charts.ITEM_FLAG_WORDS.get(f, f) for f in item["flags"]]
        item["tone"] = charts.item_tone(item["flags"])
    return {**_common(links, f"Items of {title}: what works and what does not"), **data,
            "assignment_title": title, "tampering": views.tampering(a, assignment),
            "chart": charts.facility_chart(data["items"], label=f"Facility of each item in {title}"),
            "legend": charts.facility_legend(),
            "too_hard": TOO_HARD, "too_easy": TOO_EASY, "weak": WEAK, "few": FEW_LEARNERS}


# --- the index --------------------------------------------------------------------------------------

ATTENTION_SHOWN = 3       # the reps per team the index names under "Needs attention"


def index_context(whole: Analysis, groups: dict[str, list[dict]]) -> dict:
    """The index page: per team, the reps to coach first (the team report's "Coach first", its top
    :data:`ATTENTION_SHOWN`), then every report by kind, reps under their team with their gap counts
    and assignments by title. ``groups``: kind -> the reports written ({"key", "label", "href"})."""
    hrefs = {kind: {w["key"]: w["href"] for w in written} for kind, written in groups.items()}
    first = coach_first_view(whole, hrefs.get("rep", {}))
    counts = views.rep_gap_counts(whole)
    reps = views.reps_in_order(whole, ("team", "name"))
    teams = []
    for team in sorted(whole.team_ids()):
        members = [r for r in reps if r["team"] == team]
        urgent = [r for r in first if r["team"] == team]
        teams.append({"team": team, "href": hrefs.get("team", {}).get(team, ""), "size": len(members),
                      "linked": len(urgent), "first": urgent[:ATTENTION_SHOWN],
                      "reps": [{"name": r["name"], "role": r["role"], "href": hrefs.get("rep", {}).get(r["rep_id"], ""),
                                "counts": counts[r["rep_id"]],
                                "counts_text": counts_text(counts[r["rep_id"]]) if counts[r["rep_id"]]["linked"]
                                else _other_gaps_text(counts[r["rep_id"]])}
                               for r in members]})
    assignments = [{**w, "label": whole.assignment_titles.get(w["key"], w["key"])} for w in groups.get("items", [])]
    return {"groups": groups, "teams": teams, "assignments": assignments}


def _other_gaps_text(c: dict) -> str:
    parts = [plural(c["skill_only"], "skill gap")] if c["skill_only"] else []
    if c["kpi"]:
        parts.append(plural(c["kpi"], "KPI gap"))
    return ", ".join(parts) if parts else "no gaps"


# --- rendering -----------------------------------------------------------------------------------

CONTEXTS: dict[str, Callable[[Analysis, str, BookLinks], dict]] = {
    "team": team_context, "rep": rep_context, "items": items_context}


@_COLLECTIONS.fewer()
def render(kind: str, context: dict) -> str:
    return environment().get_template(f"{kind}.html").render(**context)


def write_report(analysis: Analysis, kind: str, key: str, path: Path, links: BookLinks,
                 rep_pages: dict[str, str] | None = None, *, impact: dict | None = None) -> Path:
    """Render one report of ``kind`` for ``key`` (team, rep id or assignment) to ``path``. A team
    report links its reps to ``rep_pages`` (rep id -> file name; see :func:`team_context`) and shows
    ``impact`` (:func:`team_impact`)."""
    if kind not in REPORT_KINDS:
        raise ValueError(kind)
    path = Path(path)
    context = team_context(analysis, key, links, rep_pages, impact=impact) if kind == "team" else \
        CONTEXTS[kind](analysis, key, links)
    write_output(path, render(kind, context))
    _readable(path)
    return path


def team_impact(store: Store, analysis: Analysis, team: str) -> dict:
    """The team report's training-impact section: each programme's effect on the KPIs, among the team's reps."""
    # imported programmes only: the course's assignments, a dozen pairs each, are on the organisation page
    return impact_section(impact_results(store, analysis.skills, analysis.kpis, team=team, kinds=("external",)),
                          analysis.kpis)


def _readable(path: Path) -> None:
    # The atomic writer creates files private to their owner; a report gets the mode the umask gives a new
    # file, so a trainer with umask 077 writes private reports and one with 022 shareable ones.
    follow_umask(path)


def write_reports(store: Store, out_dir: Path, project: Project, *, book_url: str = DEFAULT_BOOK_URL) -> list[Path]:
    """Every report the store supports, into ``out_dir``: one per team, per rep and per assignment,
    and an index page linking them. Returns the paths written, the index first. Skills link to
    their pages under ``book_url``, with titles from the project's book."""
    out_dir = Path(out_dir)
    whole = analyse(store, project)
    links = BookLinks(project, book_url)
    written: list[dict] = []
    # Names unique among every key of each kind (see .names), the same as `spm report` gives one report.
    stems = {kind: report_stems(report_keys(store, kind)) for kind in REPORT_KINDS}
    for team in sorted(whole.team_ids()):
        scope = whole.scoped(views.team_members(whole, team))
        path = write_report(scope, "team", team, out_dir / f"team-{stems['team'][team]}.html", links,
                            rep_pages={r: f"rep-{stems['rep'][r]}.html" for r in scope.rep_ids},
                            impact=team_impact(store, whole, team))
        written.append({"kind": "team", "key": team, "label": f"Team {team} ({len(scope.rep_ids)} reps)",
                        "path": path})
    for rep in views.reps_in_order(whole, ("team", "name")):
        rep_id = rep["rep_id"]
        path = write_report(whole.scoped([rep_id]), "rep", rep_id, out_dir / f"rep-{stems['rep'][rep_id]}.html",
                            links)
        written.append({"kind": "rep", "key": rep_id, "label": f"{rep['name']} ({rep['team']})", "path": path})
    for assignment in whole.assignments:
        path = write_report(whole, "items", assignment, out_dir / f"items-{stems['items'][assignment]}.html",
                            links)
        written.append({"kind": "items", "key": assignment, "label": assignment, "path": path})
    impact_page = out_dir / IMPACT_PAGE
    write_text_atomic(impact_page, render("impact", {
        **_common(links, "Training impact: did the training move the numbers?"), "reps": len(whole.rep_ids),
        "index_href": "index.html",
        "impact": impact_section(impact_results(store, whole.skills, whole.kpis), whole.kpis)}))
    _readable(impact_page)
    index = out_dir / "index.html"
    groups = {kind: [{**w, "href": w["path"].name} for w in written if w["kind"] == kind]
              for kind in REPORT_KINDS}
    hiring = out_dir / HIRING_PAGE          # the organisation's hiring profile (see .hiring_view)
    write_text_atomic(hiring, render("hiring", hiring_context(whole, links, _common(links, "Hiring profile"))))
    _readable(hiring)
    write_text_atomic(index, environment().get_template("index.html").render(
        **_common(links, "Reports"), **index_context(whole, groups), hiring_href=HIRING_PAGE, impact_href=IMPACT_PAGE))
    _readable(index)
    return [index, *(w["path"] for w in written), hiring, impact_page]
