"""Mastery: a rep's item scores on a skill combined into one number between 0 and 1.

The definitions are those of book/performance/skill-gaps.md. For the normalised scores
x₁ … xₙ of the items tagged with a skill, oldest first:

- highest: max xₖ;  latest: xₙ;  average: the mean of all xₖ;
- weighted_average: w·xₙ + (1 − w)·mean(x₁ … xₙ₋₁), with w = 0.65 (xₙ alone when n = 1);
- decaying_average (the default): D₁ = x₁, Dₖ = w·xₖ + (1 − w)·Dₖ₋₁, mastery Dₙ, w = 0.65;
- n_times: the mean of the scores at or above the skill's threshold once there are at least n of
  them (n = 3); before that the skill is not credited as mastered and the mastery has no value.

A score is nbgrader's: the manual score if set, else the autograder's, plus extra credit (0 when
neither is set). Normalised, it is score ÷ max points, capped at 1 so that extra credit cannot carry
mastery past "fully mastered". Items awaiting a manual grade are left out and counted. Scores are
ordered by submission time, and within one submission by the item's place in the course.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .catalog import DEFAULT_MASTERY_METHOD, Skill
from .store import Store

W = 0.65                 # weight of the newest score in the weighted and decaying averages
N_TIMES = 3              # scores at or above the threshold that n_times needs
# Normalised scores are ratios of floats: 2.1 / 3 is a hair below 0.7. A threshold compares with
# this tolerance so that a score exactly on it counts as reaching it.
EPS = 1e-9

# nbgrader's own definition of a cell's score (Grade.score in nbgrader.api), as SQL over the store.
SCORE_SQL = ("CASE WHEN s.manual_score IS NOT NULL THEN s.manual_score + COALESCE(s.extra_credit, 0) "
             "WHEN s.auto_score IS NOT NULL THEN s.auto_score + COALESCE(s.extra_credit, 0) ELSE 0 END")


def item_score(auto: float | None, manual: float | None, extra: float | None) -> float:
    """The points a rep earned on an item, as nbgrader counts them."""
    if manual is not None:
        return manual + (extra or 0.0)
    if auto is not None:
        return auto + (extra or 0.0)
    return 0.0


# --- the six methods on one sequence of normalised scores ----------------------------------------

def highest(xs: Sequence[float]) -> float:
    return max(xs)


def latest(xs: Sequence[float]) -> float:
    return xs[-1]


def average(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def weighted_average(xs: Sequence[float], w: float = W) -> float:
    if len(xs) == 1:
        return xs[0]
    earlier = xs[:-1]
    return w * xs[-1] + (1 - w) * sum(earlier) / len(earlier)


def decaying_average(xs: Sequence[float], w: float = W) -> float:
    d = xs[0]
    for x in xs[1:]:
        d = w * x + (1 - w) * d
    return d


def n_times(xs: Sequence[float], threshold: float, n: int = N_TIMES) -> float | None:
    reached = [x for x in xs if x >= threshold - EPS]
    if len(reached) < n:
        return None
    return sum(reached) / len(reached)


METHODS: dict[str, Callable[[Sequence[float], float], float | None]] = {
    "highest": lambda xs, t: highest(xs),
    "latest": lambda xs, t: latest(xs),
    "average": lambda xs, t: average(xs),
    "weighted_average": lambda xs, t: weighted_average(xs),
    "decaying_average": lambda xs, t: decaying_average(xs),
    "n_times": lambda xs, t: n_times(xs, t),
}


def combine(xs: Sequence[float], method: str = DEFAULT_MASTERY_METHOD, threshold: float = 0.7) -> float | None:
    """Mastery of one rep on one skill from normalised scores, oldest first; None without scores."""
    if not xs:
        return None
    try:
        return METHODS[method](list(xs), threshold)
    except KeyError:
        raise ValueError(f"unknown mastery method {method!r}; use one of {', '.join(METHODS)}") from None


def is_mastered(value: float | None, threshold: float) -> bool:
    return value is not None and value >= threshold - EPS


# --- the store's scores ------------------------------------------------------------------------------

def load_scores(store: Store, rep_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Every synced score of the given reps (all reps when None), one row per rep and item.

    Columns: rep_id, item_id, assignment, notebook, cell, kind, max_score, score, x (normalised,
    NaN while pending), pending, comment, submitted_at. Ordered as mastery reads them.
    """
    where, params = "", ()
    if rep_ids is not None:
        where, params = "WHERE s.rep_id IN (SELECT value FROM json_each(?))", (_json(list(rep_ids)),)
    rows = store.conn.execute(
        f"SELECT s.rep_id, s.item_id, i.assignment, i.notebook, i.cell, i.kind, i.max_score, {SCORE_SQL} AS score, "
        f"s.needs_manual_grade AS pending, s.comment, s.submitted_at FROM scores s JOIN items i ON i.id = s.item_id "
        f"{where}", params).fetchall()
    columns = ["rep_id", "item_id", "assignment", "notebook", "cell", "kind", "max_score", "score", "pending",
               "comment", "submitted_at"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame["pending"] = frame["pending"].astype(bool)
    frame["score"] = frame["score"].astype(float)
    frame["max_score"] = frame["max_score"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.clip(frame["score"].to_numpy() / frame["max_score"].to_numpy(), 0.0, 1.0)
    # Items worth no points cannot be normalised; they measure nothing.
    x[(frame["max_score"] <= 0).to_numpy() | frame["pending"].to_numpy()] = np.nan
    frame["x"] = x
    frame["submitted_at"] = frame["submitted_at"].fillna("")
    frame["comment"] = frame["comment"].astype(object).where(frame["comment"].notna() & (frame["comment"] != ""), None)
    return frame.sort_values(["rep_id", "submitted_at", "item_id"], kind="stable", ignore_index=True)


def _json(values: list) -> str:
    import json

    return json.dumps(values)


def item_skills(store: Store) -> pd.DataFrame:
    """item_id, skill_id for every tagged item."""
    return pd.DataFrame.from_records(store.conn.execute("SELECT item_id, skill_id FROM item_skills").fetchall(),
                                     columns=["item_id", "skill_id"])


MASTERY_COLUMNS = ["rep_id", "skill_id", "method", "mastery", "threshold", "mastered", "graded", "pending",
                   "reached", "first", "last_at"]


def mastery_frame(scores: pd.DataFrame, tags: pd.DataFrame, skills: dict[str, Skill]) -> pd.DataFrame:
    """Mastery per rep and skill, by each skill's method, vectorised over all reps at once.

    One row per rep and skill the rep has any score for (graded or pending). ``graded`` counts the
    scores used, ``pending`` those left out awaiting a manual grade, ``reached`` those at or above
    the threshold, ``first`` the oldest graded score (for "most improved").
    """
    frame = scores[["rep_id", "item_id", "x", "pending", "submitted_at"]].merge(tags, on="item_id", how="inner")
    frame = frame[frame["skill_id"].isin(skills.keys())]
    if frame.empty:
        return pd.DataFrame(columns=MASTERY_COLUMNS)
    # merge keeps the left frame's order within each (rep, item), so the order by time survives.
    frame = frame.sort_values(["rep_id", "skill_id", "submitted_at", "item_id"], kind="stable", ignore_index=True)
    key = ["rep_id", "skill_id"]
    pending = frame.groupby(key, sort=True)["pending"].sum().rename("pending")
    last_at = frame.groupby(key, sort=True)["submitted_at"].max().rename("last_at")
    graded = frame[frame["x"].notna()].copy()
    threshold = graded["skill_id"].map({s.id: s.threshold for s in skills.values()})
    graded["reach"] = graded["x"] >= threshold - EPS
    graded["x_reach"] = graded["x"].where(graded["reach"], 0.0)
    groups = graded.groupby(key, sort=True)
    stats = groups.agg(count=("x", "size"), total=("x", "sum"), best=("x", "max"), last=("x", "last"),
                       first=("x", "first"), reached=("reach", "sum"), reach_total=("x_reach", "sum"))
    # Decaying average in closed form: the k-th of n scores weighs w·(1 − w)^(n − k), except the
    # first, which weighs (1 − w)^(n − 1); the same as the recursion, without a loop per rep.
    from_end = groups.cumcount(ascending=False).to_numpy()
    is_first = groups.cumcount().to_numpy() == 0
    weight = np.where(is_first, (1 - W) ** from_end, W * (1 - W) ** from_end)
    graded["weighted"] = graded["x"].to_numpy() * weight
    stats["decaying"] = graded.groupby(key, sort=True)["weighted"].sum()
    count = stats["count"]
    earlier = (stats["total"] - stats["last"]) / (count - 1).where(count > 1)
    by_method = {
        "highest": stats["best"],
        "latest": stats["last"],
        "average": stats["total"] / count,
        "weighted_average": (W * stats["last"] + (1 - W) * earlier).where(count > 1, stats["last"]),
        "decaying_average": stats["decaying"],
        "n_times": (stats["reach_total"] / stats["reached"]).where(stats["reached"] >= N_TIMES),
    }
    out = pd.DataFrame(index=pending.index).join(stats[["count", "first", "reached"]]).join(last_at)
    out["pending"] = pending
    skill_of = out.index.get_level_values("skill_id")
    out["method"] = [skills[s].method for s in skill_of]
    out["threshold"] = [skills[s].threshold for s in skill_of]
    values = np.full(len(out), np.nan)
    for method, series in by_method.items():
        chosen = (out["method"] == method).to_numpy()
        if chosen.any():
            values[chosen] = series.reindex(out.index).to_numpy()[chosen]
    out["mastery"] = values
    out["mastered"] = out["mastery"].notna() & (out["mastery"] >= out["threshold"] - EPS)
    out["graded"] = out["count"].fillna(0).astype(int)
    out["reached"] = out["reached"].fillna(0).astype(int)
    out["pending"] = out["pending"].astype(int)
    return out.reset_index()[MASTERY_COLUMNS]
