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

from ..catalog import DEFAULT_MASTERY_METHOD, Skill
from ..store import cell_score

W = 0.65                 # weight of the newest score in the weighted and decaying averages
N_TIMES = 3              # scores at or above the threshold that n_times needs
# Normalised scores are ratios of floats: 2.1 / 3 is a hair below 0.7. A threshold compares with
# this tolerance so that a score exactly on it counts as reaching it.
EPS = 1e-9


#: The points a rep earned on an item, as nbgrader counts them (the store's one definition, also in SQL).
item_score = cell_score


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


# --- mastery of every rep and skill at once (the scores from queries.load_scores) --------------------

MASTERY_COLUMNS = ["rep_id", "skill_id", "method", "mastery", "threshold", "mastered", "graded", "pending",
                   "reached", "first", "last_at"]


def score_skill_rows(item_of: np.ndarray, tag_item: np.ndarray, tag_skill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row per score and skill of its item (an item may measure several skills), without a loop:
    for scores on items ``item_of`` and tags (``tag_item``, ``tag_skill`` code), the index of the
    score and the skill code of each row, a score's skills in tag order."""
    by_item = np.argsort(tag_item, kind="stable")
    tag_item, tag_skill = tag_item[by_item], tag_skill[by_item]
    size = int(max(item_of.max(), tag_item.max())) + 1
    per_item = np.bincount(tag_item, minlength=size)
    first_tag = np.cumsum(per_item) - per_item
    repeat = per_item[item_of]
    row = np.repeat(np.arange(len(item_of)), repeat)
    nth = np.arange(len(row)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    return row, tag_skill[first_tag[item_of[row]] + nth]


def mastery_frame(scores: pd.DataFrame, tags: pd.DataFrame, skills: dict[str, Skill]) -> pd.DataFrame:
    """Mastery per rep and skill, by each skill's method, for all reps at once.

    One row per rep and skill the rep has any score for (graded or pending). ``graded`` counts the
    scores used, ``pending`` those left out awaiting a manual grade, ``reached`` those at or above
    the threshold, ``first`` the oldest graded score (for "most improved").

    Vectorised with numpy over integer codes (rep, skill, submission time), sorted once, with
    per-group sums by ``bincount`` and ``reduceat``: pandas' groupby on string keys takes tens of
    seconds for a million scores, this well under one.
    """
    skill_ids = list(skills)
    tags = tags[tags["skill_id"].isin(skill_ids)]
    if scores.empty or tags.empty:
        return pd.DataFrame(columns=MASTERY_COLUMNS)
    # One row per score and skill of its item (an item may measure several skills).
    item_of = scores["item_id"].to_numpy(np.int64)
    row, skill = score_skill_rows(item_of, tags["item_id"].to_numpy(np.int64),
                                  tags["skill_id"].map({s: i for i, s in enumerate(skill_ids)}).to_numpy(np.int64))
    rep_code, rep_names = pd.factorize(scores["rep_id"])
    time_code, times = pd.factorize(scores["submitted_at"], sort=True)
    rep, when, item = rep_code[row], time_code[row], item_of[row]
    x = scores["x"].to_numpy(float)[row]
    pending = scores["pending"].to_numpy(bool)[row]
    # Oldest first within each rep and skill; within one submission, in course (item) order.
    order = np.lexsort((item, when, skill, rep))
    rep, skill, when, x, pending = rep[order], skill[order], when[order], x[order], pending[order]
    key = rep.astype(np.int64) * len(skill_ids) + skill
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    group = np.cumsum(np.r_[True, key[1:] != key[:-1]]) - 1
    n = len(starts)
    out = pd.DataFrame({"rep_id": np.asarray(rep_names)[rep[starts]],
                        "skill_id": np.asarray(skill_ids, dtype=object)[skill[starts]]})
    out["pending"] = np.bincount(group, weights=pending, minlength=n).astype(int)
    out["last_at"] = np.asarray(times, dtype=object)[np.maximum.reduceat(when, starts)]
    thresholds = np.array([skills[s].threshold for s in skill_ids])
    out["threshold"] = thresholds[skill[starts]]
    out["method"] = np.asarray([skills[s].method for s in skill_ids], dtype=object)[skill[starts]]

    by_method, count, reached, first = _by_method(x, group, n, thresholds[skill])
    mastery = np.full(n, np.nan)
    methods = out["method"].to_numpy()
    for method, series in by_method.items():
        chosen = methods == method
        mastery[chosen] = series[chosen]
    out["mastery"] = mastery
    out["mastered"] = ~np.isnan(mastery) & (mastery >= out["threshold"].to_numpy() - EPS)
    out["graded"] = count.astype(int)
    out["reached"] = reached.astype(int)
    out["first"] = first
    return out.sort_values(["rep_id", "skill_id"], ignore_index=True)[MASTERY_COLUMNS]


def _by_method(x: np.ndarray, group: np.ndarray, n: int,
               threshold: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Each method's mastery of ``n`` groups (a rep and a skill each) from their normalised scores
    ``x`` (NaN: pending), sorted by ``group`` and oldest first within one, and the ``threshold`` of
    each score's skill; with, per group, the graded scores, those at or above the threshold and the
    first graded score."""
    graded = ~np.isnan(x)
    gx, gg = x[graded], group[graded]
    count = np.bincount(gg, minlength=n)
    values = {name: np.full(n, np.nan) for name in ("best", "last", "first", "decaying")}
    if len(gx):
        g_starts = np.flatnonzero(np.r_[True, gg[1:] != gg[:-1]])
        g_ends = np.r_[g_starts[1:], len(gx)] - 1
        owners = gg[g_starts]
        values["best"][owners] = np.maximum.reduceat(gx, g_starts)
        values["last"][owners] = gx[g_ends]
        values["first"][owners] = gx[g_starts]
        # Decaying average in closed form: the k-th of n scores weighs w·(1 − w)^(n − k), except
        # the first, which weighs (1 − w)^(n − 1); the same as the recursion, with no loop.
        sizes = g_ends - g_starts + 1
        from_end = np.repeat(g_ends, sizes) - np.arange(len(gx))
        is_first = np.arange(len(gx)) == np.repeat(g_starts, sizes)
        weight = np.where(is_first, (1 - W) ** from_end, W * (1 - W) ** from_end)
        values["decaying"][owners] = np.add.reduceat(gx * weight, g_starts)
    total = np.bincount(gg, weights=gx, minlength=n)
    reach = gx >= threshold[graded] - EPS
    reached = np.bincount(gg, weights=reach, minlength=n)
    reach_total = np.bincount(gg, weights=gx * reach, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(count > 0, total / count, np.nan)
        earlier = np.where(count > 1, (total - values["last"]) / (count - 1), np.nan)
        by_method = {
            "highest": values["best"],
            "latest": values["last"],
            "average": average,
            "weighted_average": np.where(count > 1, W * values["last"] + (1 - W) * earlier, values["last"]),
            "decaying_average": values["decaying"],
            "n_times": np.where(reached >= N_TIMES, reach_total / np.maximum(reached, 1), np.nan),
        }
    return by_method, count, reached, values["first"]
