"""Item analysis for trainers (``spm report items``): which graded cells of an assignment work.

Per graded cell:

- attempted: the submissions that hold a grade for it; graded: those not awaiting a manual grade;
- mean: the mean points over the graded answers; facility: mean ÷ max points;
- discrimination: the Pearson correlation, across the reps whose submission is fully graded, of
  the item's points with their points on the rest of the assignment (the item itself left out, so
  that it does not correlate with itself). None below :data:`MIN_DISCRIMINATION_N` reps or when
  either side does not vary.

Flags: "everyone fails" (every graded answer scored 0) or "too hard" (facility below
:data:`TOO_HARD`); "everyone passes" (every graded answer earned full points) or "too easy"
(facility above :data:`TOO_EASY`); "goes against the rest" (negative discrimination) or "weak
discrimination" (below :data:`WEAK`). With fewer than :data:`FEW_LEARNERS` learners the figures
are hints rather than findings.
"""

from __future__ import annotations

import pandas as pd

from ..errors import NotFoundError
from .evidence import pearson

TOO_HARD = 0.2
TOO_EASY = 0.9
WEAK = 0.2
MIN_DISCRIMINATION_N = 3
FEW_LEARNERS = 15
EPS = 1e-9


def flags(graded: int, facility: float | None, discrimination: float | None, all_zero: bool,
          all_full: bool) -> list[str]:
    """The item's flags, in the order a trainer should read them."""
    out = []
    if graded and facility is not None:
        if all_zero:
            out.append("everyone fails")
        elif facility < TOO_HARD:
            out.append("too hard")
        if all_full:
            out.append("everyone passes")
        elif facility > TOO_EASY:
            out.append("too easy")
    if discrimination is not None:
        if discrimination < 0:
            out.append("goes against the rest")
        elif discrimination < WEAK:
            out.append("weak discrimination")
    return out


def item_analysis(scores: pd.DataFrame, items: pd.DataFrame, tags: pd.DataFrame, assignment: str) -> dict:
    """The item table of one assignment and its summary, as plain data."""
    known = list(dict.fromkeys(items["assignment"]))
    if assignment not in known:
        raise NotFoundError(f"no assignment '{assignment}' in the store; assignments: "
                            f"{', '.join(known) or 'none yet (run spm sync)'}")
    mine = items[items["assignment"] == assignment]
    part = scores[scores["assignment"] == assignment]
    skills_of = tags.groupby("item_id")["skill_id"].apply(lambda s: sorted(s)).to_dict()
    # Points per rep and item; NaN where the answer awaits a manual grade.
    points = part.assign(points=part["score"].where(~part["pending"])).pivot_table(
        index="rep_id", columns="item_id", values="points", aggfunc="first", dropna=False)
    complete = part.groupby("rep_id")["pending"].sum() == 0
    full = points.loc[points.index.isin(complete[complete].index)].reindex(columns=list(mine["id"])).fillna(0.0)
    total = full.sum(axis=1).to_numpy()
    rows = []
    for item in mine.itertuples(index=False):
        answers = part[part["item_id"] == item.id]
        graded = answers[~answers["pending"]]
        mean = float(graded["score"].mean()) if len(graded) else None
        facility = mean / item.max_score if mean is not None and item.max_score > 0 else None
        discrimination = None
        if len(full) >= MIN_DISCRIMINATION_N and item.id in full.columns:
            own = full[item.id].to_numpy()
            discrimination = pearson(own, total - own)
        all_zero = bool(len(graded)) and bool((graded["score"] <= EPS).all())
        all_full = bool(len(graded)) and bool((graded["score"] >= item.max_score - EPS).all())
        rows.append({
            "item_id": int(item.id), "notebook": item.notebook, "cell": item.cell, "kind": item.kind,
            "max_score": float(item.max_score), "skills": skills_of.get(item.id, []),
            "attempted": int(len(answers)), "graded": int(len(graded)), "pending": int(answers["pending"].sum()),
            "mean": mean, "facility": facility, "discrimination": discrimination,
            "flags": flags(len(graded), facility, discrimination, all_zero, all_full),
        })
    submissions = int(part["rep_id"].nunique())
    return {
        "assignment": assignment, "items": rows, "submissions": submissions,
        "fully_graded": int(complete.sum()), "pending": int(part["pending"].sum()),
        "reps_waiting": int((~complete).sum()), "few_learners": submissions < FEW_LEARNERS,
        "max_total": float(mine["max_score"].sum()),
    }


def item_rows(analysis: dict) -> list[dict]:
    """The item table as flat rows (CSV/JSON)."""
    return [{**{k: v for k, v in row.items() if k not in ("skills", "flags")}, "skills": " ".join(row["skills"]),
             "flags": "; ".join(row["flags"])} for row in analysis["items"]]
