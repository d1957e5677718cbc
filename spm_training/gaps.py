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
from pathlib import Path

import pandas as pd

from .catalog import Kpi, Skill

KINDS = ("linked", "skill", "kpi")
GAP_COLUMNS = ["rep_id", "kind", "skill", "mastery", "threshold", "method", "graded", "pending", "kpi", "period",
               "attainment"]
DEFAULT_BOOK_URL = "../book/html/"


def find_gaps(mastery: pd.DataFrame, current: pd.DataFrame, skills: dict[str, Skill]) -> pd.DataFrame:
    """Every gap of the reps in ``mastery`` and ``current``, linked gaps first within each rep."""
    weak = mastery[(mastery["graded"] > 0) & ~mastery["mastered"].astype(bool)]
    short = current[current["attainment"].notna() & (current["attainment"] < 1)]
    short_by_rep: dict[str, dict[str, tuple[str, float]]] = {}
    for rep_id, kpi, period, att in zip(short["rep_id"], short["kpi"], short["period"], short["attainment"]):
        short_by_rep.setdefault(rep_id, {})[kpi] = (period, float(att))
    rows: list[dict] = []
    linked_kpis: dict[str, set[str]] = {}
    for s in weak.itertuples(index=False):
        skill_part = {"rep_id": s.rep_id, "skill": s.skill_id, "mastery": _num(s.mastery),
                      "threshold": s.threshold, "method": s.method, "graded": int(s.graded), "pending": int(s.pending)}
        rep_short = short_by_rep.get(s.rep_id, {})
        links = [k for k in skills[s.skill_id].kpi_ids if k in rep_short]
        for kpi in links:
            period, att = rep_short[kpi]
            rows.append({**skill_part, "kind": "linked", "kpi": kpi, "period": period, "attainment": att})
            linked_kpis.setdefault(s.rep_id, set()).add(kpi)
        if not links:
            rows.append({**skill_part, "kind": "skill", "kpi": None, "period": None, "attainment": None})
    for rep_id, kpis in short_by_rep.items():
        for kpi, (period, att) in kpis.items():
            if kpi not in linked_kpis.get(rep_id, set()):
                rows.append({"rep_id": rep_id, "kind": "kpi", "skill": None, "mastery": None, "threshold": None,
                             "method": None, "graded": None, "pending": None, "kpi": kpi, "period": period,
                             "attainment": att})
    frame = pd.DataFrame(rows, columns=GAP_COLUMNS)
    if frame.empty:
        return frame
    frame["_kind"] = frame["kind"].map(KINDS.index)
    # Within a kind, the worst first: the lowest attainment, then the lowest mastery.
    frame["_att"] = frame["attainment"].astype(float).fillna(9.0)
    frame["_mastery"] = frame["mastery"].astype(float).fillna(-1.0)
    frame = frame.sort_values(["rep_id", "_kind", "_att", "_mastery", "skill", "kpi"], ignore_index=True)
    return frame.drop(columns=["_kind", "_att", "_mastery"])


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


# --- coaching plans ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """A book page that teaches a skill, with its link into the built book."""

    path: str
    title: str
    url: str


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
    pages: tuple[Page, ...] = ()
    assignments: tuple[dict, ...] = ()    # {"assignment", "share"}: the rep's share of its points on the skill
    note: str = ""


def page_title(project_root: Path | None, page: str) -> str:
    """The first heading of a book page (``book/sdr/prospecting``), else a title made from its name."""
    if project_root is not None:
        path = project_root / f"{page}.md"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return page.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ").capitalize()


def book_pages(skills: dict[str, Skill], project_root: Path | None, book_url: str = DEFAULT_BOOK_URL
               ) -> dict[str, tuple[Page, ...]]:
    """skill id -> the pages that teach it, as links into the built book (``book_url`` + page + .html)."""
    base = book_url if book_url.endswith("/") or not book_url else book_url + "/"
    titles: dict[str, str] = {}
    out = {}
    for skill in skills.values():
        pages = []
        for page in skill.pages:
            if page not in titles:
                titles[page] = page_title(project_root, page)
            pages.append(Page(path=page, title=titles[page], url=f"{base}{page}.html"))
        out[skill.id] = tuple(pages)
    return out


def skill_assignments(items: pd.DataFrame, tags: pd.DataFrame) -> dict[str, list[str]]:
    """skill id -> the assignments whose items measure it, in course order (``items``: id, assignment)."""
    frame = items[["id", "assignment"]].merge(tags, left_on="id", right_on="item_id")
    first = frame.groupby(["skill_id", "assignment"], as_index=False)["id"].min().sort_values("id")
    out: dict[str, list[str]] = {}
    for skill_id, assignment in zip(first["skill_id"], first["assignment"]):
        out.setdefault(skill_id, []).append(assignment)
    return out


def rep_skill_shares(scores: pd.DataFrame, tags: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """(rep, skill, assignment) -> points earned ÷ points available on the skill's graded items there."""
    graded = scores[scores["x"].notna()][["rep_id", "item_id", "assignment", "score", "max_score"]]
    frame = graded.merge(tags, on="item_id")
    sums = frame.groupby(["rep_id", "skill_id", "assignment"])[["score", "max_score"]].sum()
    return {key: min(1.0, float(s / m)) for key, s, m in zip(sums.index, sums["score"], sums["max_score"]) if m > 0}


def coaching_plan(rep_id: str, gaps: pd.DataFrame, skills: dict[str, Skill], kpis: dict[str, Kpi],
                  pages: dict[str, tuple[Page, ...]], assignments: dict[str, list[str]],
                  shares: dict[tuple[str, str, str], float]) -> list[PlanEntry]:
    """The rep's gaps as a plan: linked gaps first (one entry per skill, its short KPIs inside),
    then the other skill gaps, then KPI gaps no weak skill explains."""
    mine = gaps[gaps["rep_id"] == rep_id]
    entries: list[PlanEntry] = []
    seen: set[str] = set()
    for kind in ("linked", "skill"):
        part = mine[mine["kind"] == kind]
        for skill_id in dict.fromkeys(part["skill"]):
            if skill_id in seen:
                continue
            seen.add(skill_id)
            rows = part[part["skill"] == skill_id]
            first = rows.iloc[0]
            short = tuple({"kpi": r.kpi, "name": kpis[r.kpi].name if r.kpi in kpis else r.kpi, "period": r.period,
                           "attainment": float(r.attainment)} for r in rows.itertuples() if kind == "linked")
            entries.append(PlanEntry(
                kind=kind, skill=skill_id, skill_name=skills[skill_id].name, mastery=_num(first["mastery"]),
                threshold=float(first["threshold"]), pending=int(first["pending"] or 0), kpis=short,
                pages=pages.get(skill_id, ()),
                assignments=tuple({"assignment": a, "share": shares.get((rep_id, skill_id, a))}
                                  for a in assignments.get(skill_id, [])),
                note=_skill_note(kind, skills[skill_id], first)))
    for r in mine[mine["kind"] == "kpi"].itertuples():
        linked = [s for s in skills.values() if r.kpi in s.kpi_ids]
        note = ("no skill linked to it is below threshold: look at territory, time and pipeline first"
                if linked else "no skill in skills.yml is linked to this KPI")
        entries.append(PlanEntry(kind="kpi", skill=None, skill_name=None, mastery=None, threshold=None, pending=0,
                                 kpis=({"kpi": r.kpi, "name": kpis[r.kpi].name if r.kpi in kpis else r.kpi,
                                        "period": r.period, "attainment": float(r.attainment)},), note=note))
    return entries


def _skill_note(kind: str, skill: Skill, row: pd.Series) -> str:
    if row["mastery"] is None or pd.isna(row["mastery"]):
        return (f"not yet at the threshold {int(row['graded'])} time(s) out of the 3 that n_times needs"
                if skill.method == "n_times" else "")
    if kind == "skill":
        return "no KPI linked to it is below target yet"
    return ""


def gap_rows(gaps: pd.DataFrame, reps: pd.DataFrame, skills: dict[str, Skill],
             pages: dict[str, tuple[Page, ...]] | None = None) -> list[dict]:
    """The gaps as rows for ``spm gaps`` and ``spm export gaps``."""
    names = dict(zip(reps["rep_id"], reps["name"]))
    teams = dict(zip(reps["rep_id"], reps["team"]))
    rows = []
    for r in gaps.itertuples(index=False):
        rows.append({
            "rep_id": r.rep_id, "name": names.get(r.rep_id), "team": teams.get(r.rep_id), "kind": r.kind,
            "skill": r.skill, "mastery": _round(r.mastery), "threshold": _num(r.threshold), "method": r.method,
            "graded": None if r.graded is None or pd.isna(r.graded) else int(r.graded),
            "pending": None if r.pending is None or pd.isna(r.pending) else int(r.pending),
            "kpi": r.kpi, "period": r.period, "attainment": _round(r.attainment),
            "pages": " ".join(p.path for p in (pages or {}).get(r.skill, ())) if r.skill else "",
        })
    return rows


def _round(value: object, digits: int = 4) -> float | None:
    number = _num(value)
    return None if number is None else round(number, digits)


GAP_EXPORT_COLUMNS = ("rep_id", "name", "team", "kind", "skill", "mastery", "threshold", "method", "graded",
                      "pending", "kpi", "period", "attainment", "pages")

