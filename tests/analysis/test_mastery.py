"""Mastery by every method, against the reference values in the design and the book."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from spm_training.analysis import mastery
from spm_training.catalog import DEFAULT_MASTERY_METHOD, MASTERY_METHODS, Skill

REFERENCE = [1, 2, 3, 4, 5]     # points out of 5, oldest first


def half_up(value: float, digits: int = 2) -> float:
    """Rounding as the book does it by hand (4.125 -> 4.13), not Python's round-half-even."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def of_five(method: str, threshold: float = 0.6) -> float | None:
    value = mastery.combine([x / 5 for x in REFERENCE], method, threshold)
    return None if value is None else value * 5


@pytest.mark.parametrize(("method", "expected"), [
    ("highest", 5.0), ("latest", 5.0), ("average", 3.0), ("weighted_average", 4.125),
    ("decaying_average", 4.46961875), ("n_times", 4.0),
])
def test_reference_values_of_the_design(method: str, expected: float) -> None:
    assert of_five(method) == pytest.approx(expected, abs=1e-12)


def test_reference_values_as_the_book_rounds_them() -> None:
    assert [half_up(of_five(m)) for m in MASTERY_METHODS] == [5, 5, 3, 4.13, 4.47, 4]


def test_the_decaying_average_steps_of_the_book() -> None:
    steps = [mastery.decaying_average([x / 5 for x in REFERENCE[:k]]) * 5 for k in range(1, 6)]
    assert steps == pytest.approx([1, 1.65, 2.5275, 3.484625, 4.46961875], abs=1e-12)


def test_the_default_method_is_the_decaying_average() -> None:
    assert DEFAULT_MASTERY_METHOD == "decaying_average"
    assert mastery.W == 0.65 and mastery.N_TIMES == 3


def test_worked_cases_of_the_book_and_the_managers_guide() -> None:
    # book/performance/skill-gaps.md: discovery questioning 0.50, 0.60, 0.55, 0.60 -> 0.584
    assert mastery.decaying_average([0.5, 0.6, 0.55, 0.6]) == pytest.approx(0.5843375)
    # book/guides/managers.md: discovery 0.50, 0.60, 0.60 -> 0.59; CRM hygiene 0.80, 0.60 -> 0.67
    assert round(mastery.decaying_average([0.5, 0.6, 0.6]), 2) == 0.59
    assert round(mastery.decaying_average([0.8, 0.6]), 2) == 0.67


def test_a_single_score_is_the_mastery_for_every_method_but_n_times() -> None:
    for method in ("highest", "latest", "average", "weighted_average", "decaying_average"):
        assert mastery.combine([0.4], method) == 0.4
    assert mastery.combine([0.9], "n_times", 0.7) is None
    assert mastery.combine([], "average") is None


def test_n_times_needs_n_scores_at_or_above_the_threshold() -> None:
    assert mastery.n_times([0.9, 0.5, 0.8], 0.7) is None          # twice at the threshold
    assert mastery.n_times([0.9, 0.5, 0.8, 0.7], 0.7) == pytest.approx(0.8)
    # 2.1 / 3 is a hair below 0.7 in floating point; it still counts as reaching 0.7
    assert mastery.n_times([2.1 / 3] * 3, 0.7) == pytest.approx(0.7)
    assert not mastery.is_mastered(None, 0.7)


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown mastery method 'median'"):
        mastery.combine([0.5], "median")


def test_item_scores_follow_nbgrader() -> None:
    assert mastery.item_score(2.0, None, None) == 2.0
    assert mastery.item_score(2.0, 1.0, None) == 1.0          # a manual grade overrides the autograder
    assert mastery.item_score(None, 3.0, 0.5) == 3.5
    assert mastery.item_score(1.0, None, 0.5) == 1.5
    assert mastery.item_score(None, None, None) == 0.0


# --- the vectorised frame against the one-rep functions ---------------------------------------------

def skill(method: str, threshold: float = 0.6, skill_id: str | None = None) -> Skill:
    return Skill(id=skill_id or method, name=method, description="", kpis=(), pages=(), threshold=threshold,
                 method=method)


def frame_for(histories: dict[tuple[str, str], list[float | None]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and tags from {(rep, skill): [x or None for pending, ...]}, oldest first; each item
    carries one skill and items are submitted a day apart."""
    scores, tags = [], []
    item = 0
    for (rep, skill_id), xs in histories.items():
        for day, x in enumerate(xs):
            item += 1
            scores.append({"rep_id": rep, "item_id": item, "x": np.nan if x is None else x, "pending": x is None,
                           "submitted_at": f"2026-03-{day + 1:02d} 09:00:00.000000"})
            tags.append((item, skill_id))
    return pd.DataFrame(scores), pd.DataFrame(tags, columns=["item_id", "skill_id"])


def test_the_frame_gives_the_reference_values_for_every_method() -> None:
    skills = {m: skill(m) for m in MASTERY_METHODS}
    scores, tags = frame_for({("ann", m): [x / 5 for x in REFERENCE] for m in MASTERY_METHODS})
    out = mastery.mastery_frame(scores, tags, skills).set_index("skill_id")
    assert {k: half_up(v * 5) for k, v in out["mastery"].items()} == {
        "average": 3.0, "decaying_average": 4.47, "highest": 5.0, "latest": 5.0, "n_times": 4.0,
        "weighted_average": 4.13}
    assert out["graded"].tolist() == [5] * 6
    assert out["reached"].tolist() == [3] * 6


def test_the_frame_agrees_with_the_functions_on_random_histories() -> None:
    rng = np.random.default_rng(3)
    skills = {m: skill(m, threshold=0.7) for m in MASTERY_METHODS}
    histories = {(f"rep{r}", m): list(np.round(rng.random(rng.integers(1, 9)), 3))
                 for r in range(25) for m in MASTERY_METHODS}
    out = mastery.mastery_frame(*frame_for(histories), skills)
    for row in out.itertuples(index=False):
        expected = mastery.combine(histories[(row.rep_id, row.skill_id)], row.skill_id, 0.7)
        if expected is None:
            assert np.isnan(row.mastery) and not row.mastered
        else:
            assert row.mastery == pytest.approx(expected, abs=1e-12)
            assert row.mastered == (expected >= 0.7 - mastery.EPS)


def test_pending_items_are_left_out_and_counted() -> None:
    skills = {"average": skill("average")}
    scores, tags = frame_for({("ann", "average"): [0.2, None, 1.0, None]})
    row = mastery.mastery_frame(scores, tags, skills).iloc[0]
    assert (row["mastery"], row["graded"], row["pending"]) == (pytest.approx(0.6), 2, 2)


def test_a_skill_with_only_pending_items_has_no_mastery_yet() -> None:
    scores, tags = frame_for({("ann", "latest"): [None]})
    row = mastery.mastery_frame(scores, tags, {"latest": skill("latest")}).iloc[0]
    assert np.isnan(row["mastery"]) and (row["graded"], row["pending"], bool(row["mastered"])) == (0, 1, False)


def test_order_is_by_submission_time_not_by_item() -> None:
    skills = {"latest": skill("latest")}
    scores = pd.DataFrame([
        {"rep_id": "ann", "item_id": 1, "x": 0.9, "pending": False, "submitted_at": "2026-04-01 09:00:00.000000"},
        {"rep_id": "ann", "item_id": 2, "x": 0.3, "pending": False, "submitted_at": "2026-03-01 09:00:00.000000"},
    ])
    tags = pd.DataFrame([(1, "latest"), (2, "latest")], columns=["item_id", "skill_id"])
    row = mastery.mastery_frame(scores, tags, skills).iloc[0]
    assert (row["mastery"], row["first"]) == (0.9, 0.3)


def test_an_item_tagged_with_two_skills_counts_for_both() -> None:
    skills = {"a": skill("average", skill_id="a"), "b": skill("highest", skill_id="b")}
    scores = pd.DataFrame([{"rep_id": "ann", "item_id": 1, "x": 0.5, "pending": False, "submitted_at": "2026-03-01"},
                           {"rep_id": "ann", "item_id": 2, "x": 0.7, "pending": False, "submitted_at": "2026-03-02"}])
    tags = pd.DataFrame([(1, "a"), (1, "b"), (2, "a")], columns=["item_id", "skill_id"])
    out = mastery.mastery_frame(scores, tags, skills).set_index("skill_id")["mastery"].to_dict()
    assert out == {"a": pytest.approx(0.6), "b": 0.5}
