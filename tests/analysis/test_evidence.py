"""Evidence: Spearman's rho with ties, the seeded bootstrap interval, n and "not enough data"."""

from __future__ import annotations

import os
import threading

import numpy as np
import pandas as pd
import pytest

from spm_training.analysis import evidence
from spm_training.catalog import Skill


def test_the_worked_example_of_the_book() -> None:
    mastery_rank = np.arange(1, 9)
    kpi_rank = np.array([1, 5, 2, 3, 7, 4, 8, 6])
    rho = evidence.spearman(mastery_rank, kpi_rank)
    assert rho == pytest.approx(1 - 6 * 24 / (8 * 63))           # 0.714...
    low, high = evidence.bootstrap_interval(mastery_rank, kpi_rank)
    # "with only eight reps a bootstrap interval for it runs from roughly 0.05 to 1.0"
    assert 0.0 < low < 0.15 and high == pytest.approx(1.0)


def test_ties_get_average_ranks() -> None:
    assert evidence.average_ranks(np.array([10, 20, 20, 30, 20])).tolist() == [1, 3, 3, 5, 3]
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 4, 40).astype(float), rng.integers(0, 3, 40).astype(float)
    expected = pd.Series(x).rank().corr(pd.Series(y).rank())          # Pearson of average ranks
    assert evidence.spearman(x, y) == pytest.approx(expected, abs=1e-12)


def test_rho_is_none_when_a_measure_does_not_vary() -> None:
    assert evidence.spearman(np.ones(9), np.arange(9)) is None
    assert evidence.spearman(np.array([1.0]), np.array([2.0])) is None


def test_pearson_sees_no_variation_in_equal_values_whose_mean_is_rounded() -> None:
    """The one Pearson of the package (the items' discrimination uses it too): three 0.1s have a
    mean a hair above 0.1, and a correlation of those rounding errors would be noise, not 1 or −1."""
    flat = np.full(3, 0.1)
    assert flat.mean() != 0.1 and evidence.pearson(flat, np.array([1.0, 2.0, 4.0])) is None
    assert evidence.pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.5])) == pytest.approx(
        np.corrcoef([1.0, 2.0, 3.0], [2.0, 4.0, 6.5])[0, 1])


def test_row_ranks_match_the_one_sample_ranks() -> None:
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 6, size=(50, 30))
    got = evidence._row_ranks(codes, 6)
    for row, ranks in zip(codes, got):
        assert ranks.tolist() == evidence.average_ranks(row).tolist()


def test_the_bootstrap_is_deterministic_and_shared_resamples_change_nothing() -> None:
    rng = np.random.default_rng(2)
    x, y, z = rng.random(30), rng.random(30), rng.random(30)
    first = evidence.bootstrap_rhos(x, y)
    assert np.array_equal(first, evidence.bootstrap_rhos(x, y))
    many = evidence.bootstrap_many({"x": x, "y": y, "z": z}, [("x", "y"), ("x", "z")])
    assert np.array_equal(many[("x", "y")], first)
    assert np.array_equal(many[("x", "z")], evidence.bootstrap_rhos(x, z))
    assert not np.array_equal(first, evidence.bootstrap_rhos(x, y, seed=evidence.SEED + 1))


def test_each_bootstrap_rho_is_the_rho_of_its_resample() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.random(12), rng.random(12)
    rhos = evidence.bootstrap_rhos(x, y, resamples=20, seed=9)
    picks = np.random.default_rng(9).integers(0, 12, size=(20, 12))
    expected = [evidence.spearman(x[p], y[p]) for p in picks]
    assert rhos.tolist() == pytest.approx([np.nan if e is None else e for e in expected], nan_ok=True)


def _skill(skill_id: str, *kpis: str) -> Skill:
    return Skill(id=skill_id, name=skill_id, description="", kpis=tuple((k, "positive") for k in kpis), pages=(),
                 threshold=0.7, method="decaying_average")


def _known_relation() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Skill], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20)
    reps = [f"r{i:02d}" for i in range(40)]
    strong = rng.uniform(0.3, 1.0, 40)
    unrelated = rng.uniform(0.3, 1.0, 40)
    mastery = pd.DataFrame(
        [{"rep_id": r, "skill_id": "strong", "mastery": m} for r, m in zip(reps, strong)]
        + [{"rep_id": r, "skill_id": "unrelated", "mastery": m} for r, m in zip(reps, unrelated)]
        + [{"rep_id": r, "skill_id": "few", "mastery": m} for r, m in zip(reps[:7], strong)]
        + [{"rep_id": r, "skill_id": "flat", "mastery": 0.8} for r in reps])
    win = 0.5 + strong + rng.normal(0, 0.05, 40)
    revenue = rng.uniform(0.5, 1.5, 40)
    current = pd.DataFrame([{"rep_id": r, "kpi": "win_rate", "attainment": a} for r, a in zip(reps, win)]
                           + [{"rep_id": r, "kpi": "revenue", "attainment": a} for r, a in zip(reps, revenue)])
    skills = {"strong": _skill("strong", "win_rate"), "unrelated": _skill("unrelated", "revenue"),
              "few": _skill("few", "win_rate"), "flat": _skill("flat", "win_rate"),
              "unmeasured": _skill("unmeasured", "csat")}
    return mastery, current, skills, strong, win


def test_a_known_relation_is_found_and_noise_is_not() -> None:
    """40 reps: 'strong' drives win rate (plus a little noise), 'unrelated' has nothing to do with
    revenue, 'few' is measured for only 7 reps, and 'flat' is the same for everyone."""
    mastery, current, skills, strong, win = _known_relation()
    rows = {(e.skill, e.kpi): e for e in evidence.evidence_table(mastery, current, skills)}
    found = rows[("strong", "win_rate")]
    assert (found.status, found.n) == ("ok", 40)
    assert found.rho > 0.9 and found.low > 0.8 and found.high <= 1.0
    assert found.rho == pytest.approx(evidence.spearman(strong, win))
    noise = rows[("unrelated", "revenue")]
    assert noise.status == "ok" and noise.low < 0 < noise.high
    assert (rows[("few", "win_rate")].status, rows[("few", "win_rate")].n, rows[("few", "win_rate")].rho) == (
        "not enough data", 7, None)
    assert (rows[("flat", "win_rate")].status, rows[("flat", "win_rate")].rho) == ("no variation", None)
    assert (rows[("unmeasured", "csat")].status, rows[("unmeasured", "csat")].n) == ("not enough data", 0)
    again = {(e.skill, e.kpi): e for e in evidence.evidence_table(mastery, current, skills)}
    assert again == rows


def test_evidence_uses_only_reps_with_both_figures() -> None:
    reps = [f"r{i}" for i in range(10)]
    mastery = pd.DataFrame([{"rep_id": r, "skill_id": "s", "mastery": i / 10} for i, r in enumerate(reps)])
    # r0 has no KPI value: n is 9, not 10
    current = pd.DataFrame([{"rep_id": r, "kpi": "k", "attainment": i / 10} for i, r in enumerate(reps) if i])
    (row,) = evidence.evidence_table(mastery, current, {"s": _skill("s", "k")})
    assert (row.n, row.rho, row.low, row.high) == (9, pytest.approx(1.0), pytest.approx(1.0), pytest.approx(1.0))


def test_evidence_later_in_a_forked_child_equals_the_table_computed_here(tmp_path, monkeypatch) -> None:
    mastery, current, skills, _, _ = _known_relation()
    here = evidence.evidence_table(mastery, current, skills)
    started = os.getpid()
    child = evidence._evidence_child

    def recorded(*args):
        (tmp_path / "pid").write_text(str(os.getpid()))
        child(*args)

    monkeypatch.setattr(evidence, "_evidence_child", recorded)
    # Other tests leave threads behind (tqdm's monitor); this one is about the forked path.
    monkeypatch.setattr(evidence.threading, "active_count", lambda: 1)
    background = evidence.evidence_later(mastery, current, skills, min_reps=0)   # 40 reps: forced to fork
    assert background() == here
    assert int((tmp_path / "pid").read_text()) != started                        # computed in another process
    (tmp_path / "pid").unlink()
    small = evidence.evidence_later(mastery, current, skills)                    # below the size: computed here
    assert small() == here and not (tmp_path / "pid").exists()
    monkeypatch.undo()
    monkeypatch.setattr(evidence, "_evidence_child", recorded)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:                                                  # a second thread: fork would not copy it, so no fork
        assert evidence.evidence_later(mastery, current, skills, min_reps=0)() == here
    finally:
        stop.set()
        other.join()
    assert not (tmp_path / "pid").exists()


def test_evidence_later_passes_options_and_raises_the_childs_error(monkeypatch: pytest.MonkeyPatch) -> None:
    mastery, current, skills, _, _ = _known_relation()
    monkeypatch.setattr(evidence.threading, "active_count", lambda: 1)
    fewer = evidence.evidence_later(mastery, current, skills, min_reps=0, resamples=50, seed=3)
    assert fewer() == evidence.evidence_table(mastery, current, skills, resamples=50, seed=3)
    broken = evidence.evidence_later(mastery.rename(columns={"mastery": "score"}), current, skills, min_reps=0)
    with pytest.raises(KeyError, match="mastery"):
        broken()


def test_evidence_later_computes_here_when_the_child_dies(monkeypatch: pytest.MonkeyPatch) -> None:
    mastery, current, skills, _, _ = _known_relation()
    monkeypatch.setattr(evidence.threading, "active_count", lambda: 1)
    monkeypatch.setattr(evidence, "_evidence_child", lambda writer, *args: os._exit(9))
    rows = evidence.evidence_later(mastery, current, skills, min_reps=0)()
    assert rows == evidence.evidence_table(mastery, current, skills)
