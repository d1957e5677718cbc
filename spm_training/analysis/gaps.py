"""Gaps and coaching plans (book/performance/skill-gaps.md, "Gaps").

- a skill gap: the rep has graded items on a skill and its mastery is below the skill's threshold
  (an n_times skill not yet reached n times is not credited, so it is a gap too);
- a KPI gap: the rep's attainment on a KPI in its current period is below 1;
- a linked gap: both at once, for a skill and one of the KPIs that skills.yml lists for it.

Each gap is reported once: a skill gap or KPI gap that is part of a linked gap appears inside the
linked gap, not again on its own. Coaching plans put linked gaps first, then the other skill gaps,
then the KPI gaps that no weak skill explains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..catalog import Kpi, Skill
from .mastery import N_TIMES, score_skill_rows

GAP_KINDS = ("linked", "skill", "kpi")
GAP_COLUMNS = ["rep_id", "kind", "skill", "mastery", "threshold", "method", "graded", "pending", "reached", "kpi",
               "period", "attainment"]


def find_gaps(mastery: pd.DataFrame, current: pd.DataFrame, skills: dict[str, Skill]) -> pd.DataFrame:
    """Every gap of the reps in ``mastery`` and ``current``, linked gaps first within each rep.

    Set-based: weak skills meet their KPI links, those meet the short KPIs, and what is left of
    each side is a plain skill gap or a plain KPI gap (merges, not a loop per rep)."""
    skill_part = ["rep_id", "skill_id", "mastery", "threshold", "method", "graded", "pending", "reached"]
    weak = mastery.loc[(mastery["graded"] > 0) & ~mastery["mastered"].astype(bool), skill_part]
    short = current.loc[current["attainment"].notna() & (current["attainment"] < 1), ["rep_id", "kpi", "period",
                                                                                      "attainment"]]
    links = pd.DataFrame([(s.id, k) for s in skills.values() for k in s.kpi_ids], columns=["skill_id", "kpi"])
    linked = weak.merge(links, on="skill_id").merge(short, on=["rep_id", "kpi"])
    linked["kind"] = "linked"
    weak_keys = pd.MultiIndex.from_frame(weak[["rep_id", "skill_id"]])
    skill_only = weak[~weak_keys.isin(pd.MultiIndex.from_frame(linked[["rep_id", "skill_id"]]))].assign(
        kind="skill", kpi=None, period=None, attainment=np.nan)
    short_keys = pd.MultiIndex.from_frame(short[["rep_id", "kpi"]])
    kpi_only = short[~short_keys.isin(pd.MultiIndex.from_frame(linked[["rep_id", "kpi"]]))].assign(
        kind="kpi", skill_id=None, mastery=np.nan, threshold=np.nan, method=None, graded=np.nan, pending=np.nan,
        reached=np.nan)
    parts = [p for p in (linked, skill_only, kpi_only) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=GAP_COLUMNS)
    frame = pd.concat(parts, ignore_index=True).rename(columns={"skill_id": "skill"})
    frame["_kind"] = frame["kind"].map(GAP_KINDS.index)
    # Within a kind, the worst first: the lowest attainment, then the lowest mastery.
    frame["_att"] = frame["attainment"].astype(float).fillna(9.0)
    frame["_mastery"] = frame["mastery"].astype(float).fillna(-1.0)
    frame = frame.sort_values(["rep_id", "_kind", "_att", "_mastery", "skill", "kpi"], ignore_index=True)
    return frame[GAP_COLUMNS]


def severity(gap: dict) -> float:
    """How far a linked gap is from closing: the skill's shortfall as a share of its threshold plus
    the KPI's shortfall from target. Orders the team's table, largest first."""
    mastery = gap["mastery"] if gap["mastery"] is not None else 0.0
    return (gap["threshold"] - mastery) / gap["threshold"] + (1 - gap["attainment"])


# --- coaching plans ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanEntry:
    """One step of a coaching plan: a skill to work on (with the KPIs it is holding back), or a KPI
    gap that no weak skill explains."""

    kind: str
    skill: str | None
    skill_name: str | None
    mastery: float | None
    threshold: float | None
    pending: int
    kpis: tuple[dict, ...]                # {"kpi", "name", "period", "attainment"}
    pages: tuple[str, ...] = ()           # the book pages that teach the skill (skills.yml), as page paths
    assignments: tuple[dict, ...] = ()    # {"assignment", "share"}: the rep's share of its points on the skill
    note: str = ""


def skill_assignments(items: pd.DataFrame, tags: pd.DataFrame) -> dict[str, list[str]]:
    """skill id -> the assignments whose items measure it, in course order (``items``: id, assignment)."""
    frame = items[["id", "assignment"]].merge(tags, left_on="id", right_on="item_id")
    first = frame.groupby(["skill_id", "assignment"], as_index=False)["id"].min().sort_values("id")
    out: dict[str, list[str]] = {}
    for skill_id, assignment in zip(first["skill_id"].tolist(), first["assignment"].tolist()):
        out.setdefault(skill_id, []).append(assignment)
    return out


def rep_skill_shares(scores: pd.DataFrame, tags: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """(rep, skill, assignment) -> points earned ÷ points available on the skill's graded items there."""
    graded = scores[scores["x"].notna()]
    if graded.empty or tags.empty:
        return {}
    # Integer codes and bincount: a (rep, skill, assignment) key per score and skill of its item.
    rep_code, reps = pd.factorize(graded["rep_id"])
    assignment_code, assignments = pd.factorize(graded["assignment"])
    skill_code, skill_ids = pd.factorize(tags["skill_id"])
    row, skill = score_skill_rows(graded["item_id"].to_numpy(np.int64), tags["item_id"].to_numpy(np.int64),
                                  skill_code)
    n_s, n_a = len(skill_ids), len(assignments)
    key = (rep_code[row].astype(np.int64) * n_s + skill) * n_a + assignment_code[row]
    codes, key = np.unique(key, return_inverse=True)
    earned = np.bincount(key, weights=graded["score"].to_numpy(float)[row], minlength=len(codes))
    available = np.bincount(key, weights=graded["max_score"].to_numpy(float)[row], minlength=len(codes))
    reps, skill_ids, assignments = list(reps), list(skill_ids), list(assignments)
    out = {}
    for code, e, m in zip(codes.tolist(), earned.tolist(), available.tolist()):
        if m > 0:
            rest, a = divmod(code, n_a)
            r, k = divmod(rest, n_s)
            out[(reps[r], skill_ids[k], assignments[a])] = min(1.0, e / m)
    return out


def gap_records(gaps: pd.DataFrame) -> list[dict]:
    """The gap frame as plain dicts, with None (not NaN) where a field does not apply."""
    def clean(values: list, kind: type) -> list:
        # NaN is the one value that differs from itself; a column-wise pass is far faster than pd.isna per cell
        return [None if v is None or v != v else kind(v) for v in values]

    columns = {c: gaps[c].tolist() for c in GAP_COLUMNS}
    for f in ("skill", "kpi", "period", "method"):
        columns[f] = clean(columns[f], str)
    for f in ("mastery", "threshold", "attainment"):
        columns[f] = clean(columns[f], float)
    for f in ("graded", "pending", "reached"):
        columns[f] = clean(columns[f], int)
    return [dict(zip(GAP_COLUMNS, values)) for values in zip(*(columns[c] for c in GAP_COLUMNS))]


def coaching_plan(rep_id: str, gaps: list[dict], skills: dict[str, Skill], kpis: dict[str, Kpi],
                  assignments: dict[str, list[str]],
                  shares: dict[tuple[str, str, str], float], measured_kpis: set[str] | None = None,
                  given: set[str] | None = None) -> list[PlanEntry]:
    """The rep's gaps (records from :func:`gap_records`) as a plan: linked gaps first, one entry per
    skill with its short KPIs inside, then the other skill gaps, then KPI gaps no weak skill explains.
    Each assignment that measures a skill says whether the rep was given it (``given``: the
    assignments of the rep's role in the onboarding plan; None: all of them)."""
    mine = [g for g in gaps if g["rep_id"] == rep_id]
    entries: list[PlanEntry] = []
    by_skill: dict[str, list[dict]] = {}
    for g in mine:
        if g["kind"] != "kpi":
            by_skill.setdefault(g["skill"], []).append(g)
    for skill_id, rows in by_skill.items():
        first, skill = rows[0], skills[skill_id]
        kind = first["kind"]
        short = tuple({"kpi": r["kpi"], "name": kpis[r["kpi"]].name if r["kpi"] in kpis else r["kpi"],
                       "period": r["period"], "attainment": r["attainment"]} for r in rows if kind == "linked")
        entries.append(PlanEntry(
            kind=kind, skill=skill_id, skill_name=skill.name, mastery=first["mastery"],
            threshold=first["threshold"], pending=first["pending"] or 0, kpis=short, pages=skill.pages,
            assignments=tuple({"assignment": a, "share": shares.get((rep_id, skill_id, a)),
                               "given": given is None or a in given}
                              for a in assignments.get(skill_id, [])),
            note=_skill_note(kind, skill, first, measured_kpis)))
    for r in mine:
        if r["kind"] != "kpi":
            continue
        linked = [s for s in skills.values() if r["kpi"] in s.kpi_ids]
        note = ("no skill linked to it is below threshold: look at territory, time and pipeline first"
                if linked else "no skill in skills.yml is linked to this KPI")
        entries.append(PlanEntry(kind="kpi", skill=None, skill_name=None, mastery=None, threshold=None, pending=0,
                                 kpis=({"kpi": r["kpi"], "name": kpis[r["kpi"]].name if r["kpi"] in kpis else r["kpi"],
                                        "period": r["period"], "attainment": r["attainment"]},), note=note))
    # Gaps arrive linked first (find_gaps sorts them), so entries already are in plan order.
    return sorted(entries, key=lambda e: GAP_KINDS.index(e.kind))


def _skill_note(kind: str, skill: Skill, row: dict, measured_kpis: set[str] | None) -> str:
    if row["mastery"] is None:
        return (f"at or above the threshold {row['reached'] or 0} of the {N_TIMES} times n_times needs"
                if skill.method == "n_times" else "")
    if kind == "skill":
        if measured_kpis is not None and not measured_kpis & set(skill.kpi_ids):
            return "none of the KPIs it is linked to is measured for this rep"
        return "no KPI linked to it is below target yet"
    return ""


def gap_rows(gaps: list[dict], reps: dict[str, dict], skills: dict[str, Skill]) -> list[dict]:
    """The gap records as rows for ``spm gaps`` and ``spm export gaps``."""
    rows = []
    paths = {skill.id: " ".join(skill.pages) for skill in skills.values()}
    for g in gaps:
        rep = reps.get(g["rep_id"], {})
        rows.append({
            "rep_id": g["rep_id"], "name": rep.get("name"), "team": rep.get("team"), "kind": g["kind"],
            "skill": g["skill"], "mastery": _round(g["mastery"]), "threshold": g["threshold"], "method": g["method"],
            "graded": g["graded"], "pending": g["pending"], "kpi": g["kpi"], "period": g["period"],
            "attainment": _round(g["attainment"]),
            "pages": paths.get(g["skill"], "") if g["skill"] else "",
        })
    return rows


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


GAP_EXPORT_COLUMNS = ("rep_id", "name", "team", "kind", "skill", "mastery", "threshold", "method", "graded",
                      "pending", "kpi", "period", "attainment", "pages")

