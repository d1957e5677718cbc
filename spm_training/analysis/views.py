"""What the reports show, read from an :class:`~.facade.Analysis` as plain data.

The reports (and the manager dashboard, and any other view) format these values: text, tones,
charts and links. Which skills and KPIs a scope has columns for, the gaps with their names and
their order, per-skill counts, a rep's scores grouped by skill, the points per assignment: all of
it is decided here, from the analysis's frames, so that a report never reaches into a frame.

Unless a docstring says otherwise, each call returns new dicts, which a caller may add its
formatted fields to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..catalog import Kpi, Skill
from .evidence import Evidence
from .facade import Analysis
from .gaps import GAP_KINDS, severity
from .items import item_analysis
from .onboarding import is_new_hire
from .readiness import role_skills


def _nan_none(values: list, kind: type = float) -> list:
    # NaN is the one value unequal to itself; quicker than pd.isna on each of tens of thousands
    return [None if v is None or v != v else kind(v) for v in values]


# --- the scope: reps, columns, lookups ----------------------------------------------------------------

def roles(a: Analysis) -> set[str]:
    """The roles of the scope's reps."""
    return set(a.reps["role"])


def reps_in_order(a: Analysis, by: tuple[str, ...] = ("name", "rep_id")) -> list[dict]:
    """The scope's reps (rep_id, name, email, team, manager, role, hire_date), sorted by ``by``."""
    return a.reps.sort_values(list(by)).to_dict("records")


def team_members(a: Analysis, team: str) -> list[str]:
    """The ids of the team's reps, in the analysis's order."""
    return list(a.reps.loc[a.reps["team"] == team, "rep_id"])


def skill_columns(a: Analysis) -> list[Skill]:
    """The skills a report of the scope has a column for, in catalog order: every skill measured in
    it and every skill of a role in it."""
    measured = set(a.mastery["skill_id"])
    wanted = measured | {s for role in roles(a) for s in role_skills(a.skills, a.kpis, role)}
    return [s for s in a.skills.values() if s.id in wanted]


def kpi_columns(a: Analysis) -> list[Kpi]:
    """The KPIs with a value in their current period in the scope, in catalog order."""
    present = set(a.current["kpi"])
    return [k for k in a.kpis.values() if k.id in present]


def periods(a: Analysis) -> list[str]:
    """The current periods of the scope's KPI values, sorted."""
    return sorted(set(a.current["period"].tolist()))


def mastery_lookup(a: Analysis) -> dict[tuple[str, str], dict]:
    """(rep, skill) -> the rep's mastery row (mastery, threshold, mastered, graded, pending, reached,
    ...). The rows are the analysis's own index: read them, do not change them."""
    return {(rep_id, skill_id): m for rep_id in a.rep_ids for skill_id, m in a.index.mastery.get(rep_id, {}).items()}


def attainment_lookup(a: Analysis) -> dict[tuple[str, str], dict]:
    """(rep, KPI) -> the KPI's current period, value, target, attainment, team rank and size,
    percentile, trend (oldest first) and change; None where a figure is undefined."""
    c = a.current
    columns = zip(c["rep_id"].tolist(), c["kpi"].tolist(), c["period"].tolist(), c["value"].tolist(),
                  _nan_none(c["target"].tolist()), _nan_none(c["attainment"].tolist()),
                  _nan_none(c["rank"].tolist(), int), _nan_none(c["team_size"].tolist(), int),
                  _nan_none(c["percentile"].tolist()), c["trend"].tolist(), _nan_none(c["change"].tolist()),
                  strict=True)
    return {(rep_id, kpi): {"period": period, "value": float(value), "target": target, "attainment": att,
                            "rank": rank, "team_size": size, "percentile": percentile, "trend": trend,
                            "change": change}
            for rep_id, kpi, period, value, target, att, rank, size, percentile, trend, change in columns}


def assignment_title(a: Analysis, assignment: str) -> str:
    """The assignment's title in the onboarding plan, else one made from its folder name
    (``06_objection_handling`` -> "Objection handling")."""
    found = a.assignment_titles.get(assignment)
    if found:
        return found
    words = re.sub(r"^\d+[_-]*", "", assignment).replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else assignment


def assignment_titles(a: Analysis) -> dict[str, str]:
    """assignment id -> :func:`assignment_title`, for every assignment of the course, in course order."""
    return {x: assignment_title(a, x) for x in a.assignments}


def pending_answers(a: Analysis) -> tuple[int, int]:
    """Answers in the scope awaiting a manual grade, and the reps they are from."""
    pending = int(a.scores["pending"].sum()) if not a.scores.empty else 0
    return pending, int(a.scores.loc[a.scores["pending"], "rep_id"].nunique()) if pending else 0


# --- gaps ---------------------------------------------------------------------------------------------

def team_gaps(a: Analysis) -> list[dict]:
    """The scope's gap rows (those of ``spm gaps``) with the rep's, the skill's and the KPI's names:
    linked gaps first, then skill gaps, then KPI gaps, by rep name within each kind."""
    names = {rep_id: a.index.reps[rep_id]["name"] for rep_id in a.rep_ids}
    return sorted(({**g, "name": names[g["rep_id"]], "skill_name": a.skills[g["skill"]].name if g["skill"] else None,
                    "kpi_name": a.kpis[g["kpi"]].name if g["kpi"] in a.kpis else g["kpi"]} for g in a.gap_rows()),
                  key=lambda g: (GAP_KINDS.index(g["kind"]), g["name"]))


def by_severity(gaps: Iterable[dict]) -> list[dict]:
    """The linked gaps among ``gaps`` (each with the rep's ``name``), largest first by
    :func:`~.gaps.severity`, by name among equals."""
    return sorted((g for g in gaps if g["kind"] == "linked"), key=lambda g: (-severity(g), g["name"]))


def largest_linked_gaps(a: Analysis, top: int | None = None) -> list[dict]:
    """The scope's ``top`` largest linked gaps (all of them when None), as :func:`by_severity`
    orders them, with their figures unrounded, the rep's name and the gap's ``severity``."""
    names = {rep_id: a.index.reps[rep_id]["name"] for rep_id in a.rep_ids}
    linked = [{**g, "name": names[rep_id], "severity": severity(g)}
              for rep_id in a.rep_ids for g in a.index.gaps.get(rep_id, []) if g["kind"] == "linked"]
    return by_severity(linked)[:top]


def gap_counts(gaps: Iterable[dict]) -> dict[str, int]:
    """How many of ``gaps`` are of each kind, in :data:`~.gaps.GAP_KINDS` order."""
    kinds = [g["kind"] for g in gaps]
    return {k: kinds.count(k) for k in GAP_KINDS}


def gaps_by_skill(a: Analysis, gaps: list[dict], skills: list[Skill]) -> list[dict]:
    """Per skill: how many reps are measured, below the threshold, and of those with a linked gap:
    the column view of the team's gaps."""
    weak: dict[str, set[str]] = {}
    linked: dict[str, set[str]] = {}
    for g in gaps:
        if g["skill"]:
            weak.setdefault(g["skill"], set()).add(g["rep_id"])
            if g["kind"] == "linked":
                linked.setdefault(g["skill"], set()).add(g["rep_id"])
    measured: dict[str, int] = {}
    for rep_id in a.rep_ids:
        for skill_id, row in a.index.mastery.get(rep_id, {}).items():
            if row["graded"]:
                measured[skill_id] = measured.get(skill_id, 0) + 1
    return [{"skill": s.name, "measured": measured.get(s.id, 0), "below": len(weak.get(s.id, ())),
             "linked": len(linked.get(s.id, ()))} for s in skills]


# --- the team's other sections ------------------------------------------------------------------------

def evidence_rows(a: Analysis, rows: list[Evidence]) -> list[dict]:
    """The evidence table's rows with the skill's and the KPI's names and a ``verdict`` in plain
    words (:func:`evidence_verdict`). A KPI that no role in the scope is measured on has no data by
    design; listing it says nothing, so it is left out."""
    scope_roles = roles(a)
    out = []
    for e in rows:
        if not (e.n or (e.kpi in a.kpis and scope_roles & set(a.kpis[e.kpi].roles))):
            continue
        row = {**e.as_row(), "skill_name": a.skills[e.skill].name,
               "kpi_name": a.kpis[e.kpi].name if e.kpi in a.kpis else e.kpi}
        row["verdict"], row["verdict_kind"] = evidence_verdict(row)
        out.append(row)
    return out


def evidence_verdict(row: dict, digits: int = 2) -> tuple[str, str]:
    """What one evidence row says, in plain words, and its kind ("none", "unclear", "expected",
    "against"). Decided on the interval as printed (to ``digits`` decimals), so that a bound shown
    as 0.00 counts as touching zero."""
    if row["status"] != "ok" or row["ci_low"] is None or row["ci_high"] is None:
        return "not enough data yet", "none"
    low, high = round(row["ci_low"], digits), round(row["ci_high"], digits)
    if low <= 0 <= high:
        return "no clear link yet (the interval includes zero)", "unclear"
    together = low > 0
    if together == (row["expected"] == "positive"):
        return (("skill and KPI move together, as expected" if together
                 else "the KPI falls as the skill rises, as expected"), "expected")
    return (("skill and KPI move together, against the expected direction" if together
             else "the KPI falls as the skill rises, against the expected direction"), "against")


def recognition(a: Analysis) -> dict:
    """Top performers per KPI (:meth:`~.facade.Analysis.recognition`) and, per skill, the reps who
    improved most between two real measurements (:func:`improved`), each rep named."""
    found = {"top": a.recognition()["top"], "improved": improved(a)}
    for group in found["top"] + found["improved"]:
        for rep in group["reps"]:
            rep["name"] = a.index.reps[rep["rep_id"]]["name"]
    return found


def improved(a: Analysis, top: int = 3) -> list[dict]:
    """Per skill (catalog order), up to ``top`` reps whose share of the skill's points rose most
    from their first graded submission on it to their latest: two real measurements, never a first
    one against nothing. Each rep: ``first`` and ``last`` (0–1 shares), ``rise``, and the
    assignments ``first_assignment`` and ``last_assignment`` they come from."""
    graded = a.scores[a.scores["x"].notna() & (a.scores["max_score"] > 0)]
    if graded.empty or a.tags.empty:
        return []
    rows = graded[["rep_id", "item_id", "assignment", "submitted_at", "score", "max_score"]].merge(
        a.tags[["item_id", "skill_id"]], on="item_id")
    # integer codes instead of string keys: a 2,000-rep team has a million score-and-skill rows
    codes = {c: pd.factorize(rows[c], sort=c == "submitted_at") for c in ("rep_id", "skill_id", "submitted_at",
                                                                        "assignment")}
    keyed = pd.DataFrame({c: codes[c][0] for c in codes} | {"score": rows["score"].to_numpy(),
                                                             "max_score": rows["max_score"].to_numpy()})
    per = keyed.groupby(["rep_id", "skill_id", "submitted_at", "assignment"], as_index=False, sort=True)[
        ["score", "max_score"]].sum()
    per["share"] = (per["score"] / per["max_score"]).clip(0, 1)
    ends = per.groupby(["rep_id", "skill_id"], sort=False).agg(
        n=("share", "size"), first=("share", "first"), last=("share", "last"),
        first_assignment=("assignment", "first"), last_assignment=("assignment", "last")).reset_index()
    ends = ends[ends["n"] >= 2]
    ends = ends.assign(rise=ends["last"] - ends["first"])
    ends = ends[ends["rise"] > 1e-9]
    for c in ("rep_id", "skill_id"):
        ends[c] = np.asarray(codes[c][1], dtype=object)[ends[c].to_numpy()]
    for c in ("first_assignment", "last_assignment"):
        ends[c] = np.asarray(codes["assignment"][1], dtype=object)[ends[c].to_numpy()]
    out = []
    for skill_id, skill in a.skills.items():
        part = ends[ends["skill_id"] == skill_id]
        if part.empty:
            continue
        best = part.sort_values(["rise", "rep_id"], ascending=[False, True]).head(top)
        out.append({"skill": skill_id, "name": skill.name,
                    "reps": [{"rep_id": r["rep_id"], "first": float(r["first"]), "last": float(r["last"]),
                              "rise": float(r["rise"]), "first_assignment": r["first_assignment"],
                              "last_assignment": r["last_assignment"]} for r in best.to_dict("records")]})
    return out


def new_hires(a: Analysis) -> list[dict]:
    """:meth:`~.facade.Analysis.onboarding` with what has been measured of each new hire:
    ``measured`` (skills with a graded item), ``strengths`` (the names of the mastered ones, highest
    first), and ``ramping``: nothing graded or no KPI value yet, so that a report says "ramping"
    or "not measured yet" rather than a low number."""
    rows = a.onboarding()
    for row in rows:
        mine = a.index.mastery.get(row["rep_id"], {})
        measured = {k: m for k, m in mine.items() if m["graded"]}
        mastered = sorted((k for k, m in measured.items() if m["mastered"]),
                          key=lambda k: (-(measured[k]["mastery"] or 0), k))
        row["measured"] = len(measured)
        row["strengths"] = [a.skills[k].name for k in mastered if k in a.skills]
        row["has_kpis"] = bool(a.index.attainments.get(row["rep_id"]))
        row["ramping"] = not measured or not row["has_kpis"] or row["graded"] == 0
    return rows


# --- one rep ------------------------------------------------------------------------------------------

def rep_scores(a: Analysis) -> list[dict]:
    """The scope's scores as dicts, oldest first (by submission time, then course order)."""
    return a.scores.sort_values(["submitted_at", "item_id"]).to_dict("records")


def scores_by_skill(a: Analysis, scores: list[dict]) -> dict[str, list[dict]]:
    """skill id -> the scores (of :func:`rep_scores`) on items that measure it, in the order given."""
    by_skill: dict[str, list[dict]] = {}
    item_skills = a.tags.groupby("item_id")["skill_id"].apply(list).to_dict()
    for row in scores:
        for skill_id in item_skills.get(row["item_id"], ()):
            by_skill.setdefault(skill_id, []).append(row)
    return by_skill


def rep_skills(a: Analysis, rep_id: str, scores: list[dict]) -> list[dict]:
    """Per skill column: the skill, the rep's mastery figures and the scores behind them (``scored``),
    oldest first; ``pages`` are the skill's page paths."""
    mastery, by_skill = mastery_lookup(a), scores_by_skill(a, scores)
    rows = []
    for skill in skill_columns(a):
        m = mastery.get((rep_id, skill.id))
        rows.append({
            "id": skill.id, "name": skill.name, "description": skill.description, "threshold": skill.threshold,
            "method": skill.method, "mastery": m["mastery"] if m else None, "mastered": bool(m and m["mastered"]),
            "graded": m["graded"] if m else 0, "pending": m["pending"] if m else 0,
            "reached": m["reached"] if m else 0,
            "scored": [{"assignment": i["assignment"], "cell": i["cell"], "score": i["score"],
                        "max_score": i["max_score"], "pending": bool(i["pending"]), "submitted_at": i["submitted_at"],
                        "comment": i["comment"]} for i in by_skill.get(skill.id, [])],
            "pages": skill.pages,
        })
    return rows


def strengths(skills: list[dict]) -> list[dict]:
    """The measured, mastered skills among rows of :func:`rep_skills`, highest mastery first."""
    measured = [s for s in skills if s["graded"]]
    return sorted([s for s in measured if s["mastered"]], key=lambda s: -(s["mastery"] or 0))


def rep_kpis(a: Analysis, rep_id: str) -> list[dict]:
    """The rep's KPIs with a current value, in catalog order: the figures of :func:`attainment_lookup`
    with the KPI's definition and the names of the skills linked to it."""
    attained = attainment_lookup(a)
    rows = []
    for kpi in kpi_columns(a):
        found = attained.get((rep_id, kpi.id))
        if found:
            rows.append({**found, "id": kpi.id, "name": kpi.name, "unit": kpi.unit, "direction": kpi.direction,
                         "definition": kpi.definition, "goal": kpi.goal,
                         "skills": [s.name for s in a.skills.values() if kpi.id in s.kpi_ids]})
    return rows


def comments(scores: list[dict]) -> list[dict]:
    """The trainers' comments among the scores, in the order given."""
    return [{"assignment": i["assignment"], "notebook": i["notebook"], "cell": i["cell"], "comment": i["comment"],
             "score": i["score"], "max_score": i["max_score"], "pending": bool(i["pending"])}
            for i in scores if i["comment"]]


def tenure(a: Analysis, rep_id: str) -> dict:
    """Days since the rep's hire date, and whether that makes them a new hire; days is None when the
    store holds no plausible hire date (see :meth:`Analysis.hire_date`)."""
    if rep_id not in a.index.reps:
        # the scope check of Analysis.rep passes over every rep: too slow for each of 2,000 in a team report
        a.rep(rep_id)
    hired = a.hire_date(rep_id)
    if hired is None:
        return {"days": None, "new_hire": False}
    return {"days": (a.today - hired).days, "new_hire": is_new_hire(hired, a.today)}


def assignment_rows(a: Analysis, rep_id: str) -> list[dict]:
    """The rep's assignments: those given to them (their role's in the onboarding plan, every one
    without a plan; ``in_plan``), in the plan's order (else the course's), then any other they
    submitted as extra practice.
    Per assignment: its title, submitted when, answers pending, and the points so far (the
    gradebook's total: manual score, else auto score, else 0, plus extra credit, over the graded
    cells). The rows in the plan are the ones :meth:`~.facade.Analysis.progress` counts."""
    status = a.index.status.get(rep_id, {})
    mine = a.scores[a.scores["rep_id"] == rep_id]
    points = mine.groupby("assignment")[["score", "max_score"]].sum()
    given = set(a.given(rep_id))
    # the plan's order (due day) where there is a plan, else the course's
    planned = a.role_assignments.get(a.index.reps[rep_id]["role"], ()) if a.role_assignments else ()
    order = [x for x in planned if x in given] + [x for x in a.assignments if x in given and x not in planned]
    shown = order + [x for x in a.assignments if x not in given and x in status]
    rows = []
    for assignment in shown:
        st = status.get(assignment)
        got = points.loc[assignment] if assignment in points.index else None
        rows.append({"assignment": assignment, "title": assignment_title(a, assignment), "in_plan": assignment in given,
                     "submitted": st is not None,
                     "submitted_at": st["submitted_at"] if st else None, "pending": int(st["pending"]) if st else 0,
                     "graded": bool(st["graded"]) if st else False,
                     "score": float(got["score"]) if got is not None else None,
                     "max_score": float(got["max_score"]) if got is not None else None})
    return rows


# --- one assignment -----------------------------------------------------------------------------------

def item_table(a: Analysis, assignment: str) -> dict:
    """:func:`~.items.item_analysis` of the assignment, each item with its skills' names."""
    data = item_analysis(a.scores, a.items, a.tags, assignment)
    for row in data["items"]:
        row["skill_names"] = [a.skills[s].name if s in a.skills else s for s in row["skills"]]
    return data


def tampering(a: Analysis, assignment: str) -> list[dict]:
    """What ``spm grade`` found changed in the locked or test cells of the assignment's submissions."""
    return [t for t in a.tampering if t["assignment"] == assignment]


# --- who to coach first, and the one way gaps are counted ---------------------------------------------

COACH_FIRST_GAPS = 2      # the linked gaps a rep's line in "coach first" names


def rep_gap_counts(a: Analysis) -> dict[str, dict[str, int]]:
    """Per rep of the scope, the one count of their gaps every view shows: ``linked`` the skills
    with a linked gap, ``skill_only`` the other skills below threshold, ``kpi`` the KPIs below
    target that no weak skill explains, ``pairs`` the skill–KPI pairs behind the linked skills (the
    detail), and ``skills`` every skill below threshold (``linked`` + ``skill_only``)."""
    # a team report asks twice (its rows and "coach first"): each rep is counted once per analysis
    counted: dict[str, dict[str, int]] = a.index.__dict__.setdefault("_gap_counts", {})
    out = {}
    for rep_id in a.rep_ids:
        found = counted.get(rep_id)
        if found is None:
            found = counted[rep_id] = _gap_count(a.index.gaps.get(rep_id, []))
        out[rep_id] = dict(found)
    return out


def _gap_count(gaps: list[dict]) -> dict[str, int]:
    linked = {g["skill"] for g in gaps if g["kind"] == "linked"}
    skill_only = {g["skill"] for g in gaps if g["kind"] == "skill"}
    return {"linked": len(linked), "skill_only": len(skill_only),
            "kpi": len({g["kpi"] for g in gaps if g["kind"] == "kpi"}),
            "pairs": sum(1 for g in gaps if g["kind"] == "linked"), "skills": len(linked | skill_only)}


def coach_first(a: Analysis, top: int = COACH_FIRST_GAPS) -> list[dict]:
    """The reps with a linked gap, most urgent first: by the :func:`~.gaps.severity` of their worst
    linked gap, then by name. Each carries their counts (:func:`rep_gap_counts`) and ``gaps``: the
    ``top`` most severe linked gaps on different skills (the worst KPI of each skill), with names,
    figures unrounded and the gap's ``severity``."""
    names = {rep_id: a.index.reps[rep_id]["name"] for rep_id in a.rep_ids}
    counts = rep_gap_counts(a)
    out = []
    for rep_id in a.rep_ids:
        linked = [g for g in a.index.gaps.get(rep_id, []) if g["kind"] == "linked"]
        if not linked:
            continue
        ranked = sorted(linked, key=lambda g: (-severity(g), g["skill"], g["kpi"]))
        worst: dict[str, dict] = {}
        for g in ranked:
            worst.setdefault(g["skill"], g)
        picked = [{**g, "severity": severity(g), "skill_name": a.skills[g["skill"]].name,
                   "kpi_name": a.kpis[g["kpi"]].name if g["kpi"] in a.kpis else g["kpi"]}
                  for g in list(worst.values())[:top]]
        rep = a.index.reps[rep_id]
        out.append({"rep_id": rep_id, "name": names[rep_id], "role": rep["role"], "team": rep["team"],
                    "severity": picked[0]["severity"], "gaps": picked, "counts": counts[rep_id]})
    return sorted(out, key=lambda r: (-r["severity"], r["name"], r["rep_id"]))
