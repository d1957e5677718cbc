"""Evidence: across a team, how strongly each skill's mastery goes with each KPI it is linked to.

Spearman's rho is the Pearson correlation of the ranks, with tied values given the average of the
ranks they span. Next to it: n (the reps with both a mastery value and a current attainment) and a
bootstrap 95% interval by the percentile method: the reps are resampled with replacement
:data:`RESAMPLES` times, rho is computed on each resample, and the interval runs from the 2.5th to
the 97.5th percentile (resamples in which either measure does not vary have no rho and are left
out). The generator is seeded, so the same data give the same interval. Below :data:`MIN_N` reps the
table says "not enough data" instead. Correlation, not causation.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..catalog import Skill

MIN_N = 8
RESAMPLES = 2000
SEED = 2026
LEVEL = 0.95
EPS = 1e-9              # a spread of squares below this is no variation (see pearson)
_CHUNK = 50             # resamples per vectorised block: bounds memory, and smaller blocks stay in cache

BACKGROUND_MIN_REPS = 300   # below this the bootstrap takes less time than starting a second process

CAVEAT = ("Correlation, not causation: reps who rank higher on a skill may also have better territories, "
          "more experience or easier targets. Use the table to decide which links deserve a closer look, "
          "never as proof that training moved a KPI.")


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given the mean of the ranks they span."""
    values = np.asarray(values, dtype=float)
    _, codes = np.unique(values, return_inverse=True)
    counts = np.bincount(codes)
    upto = np.cumsum(counts)
    return ((upto - counts + 1 + upto) / 2.0)[codes]


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r of two equally long samples; None when either does not vary. "Does not vary" has a
    tolerance (:data:`EPS`): the mean of equal floats need not be exactly equal to them, which
    would leave a spread of rounding errors to correlate."""
    dx, dy = x - x.mean(), y - y.mean()
    denom = float(np.sqrt((dx * dx).sum() * (dy * dy).sum()))
    return None if denom < EPS else float((dx * dy).sum() / denom)


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman's rho of two equally long samples; None when either does not vary."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y):
        raise ValueError("samples differ in length")
    if len(x) < 2:
        return None
    return pearson(average_ranks(x), average_ranks(y))


def _row_ranks(codes: np.ndarray, levels: int) -> np.ndarray:
    """Average ranks within each row of ``codes`` (B × n dense value codes), vectorised: the
    reference the bootstrap's in-place version below is tested against.

    A value's average rank is (values below it) + (values up to and including it, + 1), halved;
    per-row counts come from one bincount over codes offset by row.
    """
    rows, n = codes.shape
    flat = (codes + (np.arange(rows, dtype=np.int64) * levels)[:, None]).ravel()
    counts = np.bincount(flat, minlength=rows * levels).reshape(rows, levels)
    upto = np.cumsum(counts, axis=1)
    return (upto - 0.5 * counts + 0.5).ravel()[flat].reshape(rows, n)


def _codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    _, codes = np.unique(np.asarray(values, dtype=float), return_inverse=True)
    return codes.astype(np.intp), int(codes.max()) + 1 if len(codes) else 0


class _Ranker:
    """Centred average ranks of columns on each resample of a block, into buffers allocated once
    and shared by the columns (only each column's ranks are kept until its pairs are done): a
    fresh multi-megabyte temporary per step costs page faults that take longer than the
    arithmetic (``upto - 0.5 * counts`` ran ten times slower than the same steps written into a
    buffer), and buffers reused stay in cache."""

    def __init__(self, n: int, rows: int, levels: int) -> None:
        self.n = n
        self.flat = np.empty((rows, n), dtype=np.intp)
        self.upto = np.empty(rows * levels, dtype=np.int64)
        self.level = np.empty(rows * levels)
        self.row = np.arange(rows, dtype=np.intp)[:, None]

    def rank(self, codes: np.ndarray, levels: int, picks: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """The ranks of ``codes[picks]`` row by row, minus their mean, into ``ranks``; returns each
        row's norm. Average ranks of n values always sum to n(n + 1)/2, ties or not, so the mean
        is known without computing it."""
        block, n = len(picks), self.n
        flat = self.flat[:block]
        np.take(codes, picks, out=flat, mode="clip")   # in range; "raise" would buffer
        flat += self.row[:block] * levels
        counts = np.bincount(flat.ravel(), minlength=block * levels).reshape(block, levels)
        upto = self.upto[:block * levels].reshape(block, levels)
        np.cumsum(counts, axis=1, out=upto)
        # average rank (2·upto − count + 1) / 2, less the mean rank (n + 1) / 2
        level = self.level[:block * levels].reshape(block, levels)
        np.multiply(counts, -0.5, out=level)
        level += upto
        level += 0.5 - (n + 1) / 2
        np.take(self.level[:block * levels], flat, out=ranks, mode="clip")
        return np.sqrt(np.einsum("ij,ij->i", ranks, ranks))


def bootstrap_many(columns: dict[str, np.ndarray], pairs: list[tuple[str, str]], resamples: int = RESAMPLES,
                   seed: int = SEED) -> dict[tuple[str, str], np.ndarray]:
    """rho on each resample for several pairs of equally long columns that share their reps.

    The resamples are the same for every pair (one generator, seeded), so each variable is ranked
    once per resample however many pairs it is in; a pair's values are exactly those
    :func:`bootstrap_rhos` gives it alone. NaN where a resample does not vary.
    """
    coded = {name: _codes(values) for name, values in columns.items()
             if any(name in pair for pair in pairs)}
    n = len(next(iter(coded.values()))[0]) if coded else 0
    rng = np.random.default_rng(seed)
    out = {pair: np.empty(resamples) for pair in pairs}
    rows = min(_CHUNK, resamples)
    ranker = _Ranker(n, rows, max((levels for _, levels in coded.values()), default=0))
    ranks = {name: np.empty((rows, n)) for name in coded}
    for start in range(0, resamples, _CHUNK):
        block = min(_CHUNK, resamples - start)
        picks = rng.integers(0, n, size=(block, n))
        norms = {name: ranker.rank(codes, levels, picks, ranks[name][:block]) for name, (codes, levels) in coded.items()}
        for a, b in pairs:
            ra, na, rb, nb = ranks[a][:block], norms[a], ranks[b][:block], norms[b]
            den = na * nb
            with np.errstate(divide="ignore", invalid="ignore"):
                out[(a, b)][start:start + block] = np.where(den > 0, np.einsum("ij,ij->i", ra, rb) / den, np.nan)
    return out


def bootstrap_rhos(x: np.ndarray, y: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """rho on each of ``resamples`` resamples of the pairs (NaN where a resample does not vary)."""
    return bootstrap_many({"x": np.asarray(x), "y": np.asarray(y)}, [("x", "y")], resamples, seed)[("x", "y")]


def percentile_interval(rhos: np.ndarray, level: float = LEVEL) -> tuple[float, float] | None:
    """The percentile-method interval of bootstrap rhos; None when no resample has a rho."""
    rhos = rhos[~np.isnan(rhos)]
    if not len(rhos):
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(rhos, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_interval(x: np.ndarray, y: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED,
                       level: float = LEVEL) -> tuple[float, float] | None:
    """The bootstrap 95% interval for Spearman's rho of x and y."""
    return percentile_interval(bootstrap_rhos(x, y, resamples, seed), level)


@dataclass(frozen=True)
class Evidence:
    """One row of the evidence table."""

    skill: str
    kpi: str
    expected: str            # the direction skills.yml expects: positive or negative
    n: int
    rho: float | None
    low: float | None
    high: float | None
    status: str              # "ok", "not enough data" or "no variation"

    def as_row(self) -> dict:
        return {"skill": self.skill, "kpi": self.kpi, "expected": self.expected, "n": self.n,
                "rho": _r(self.rho), "ci_low": _r(self.low), "ci_high": _r(self.high), "status": self.status}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def evidence_table(mastery: pd.DataFrame, current: pd.DataFrame, skills: dict[str, Skill], *,
                   min_n: int = MIN_N, resamples: int = RESAMPLES, seed: int = SEED) -> list[Evidence]:
    """For each skill and each KPI it links to: rho, its bootstrap interval and n, over the reps in
    both frames (scope them to one team before calling)."""
    wide_m = mastery[mastery["mastery"].notna()].pivot(index="rep_id", columns="skill_id", values="mastery")
    wide_a = current[current["attainment"].notna()].pivot(index="rep_id", columns="kpi", values="attainment")
    wide = wide_m.add_prefix("skill:").join(wide_a.add_prefix("kpi:"), how="outer").sort_index()
    found: dict[tuple[str, str], Evidence] = {}
    # Pairs over the same reps share their resamples (see bootstrap_many).
    groups: dict[bytes, list[tuple[str, str]]] = {}
    for skill in skills.values():
        for kpi, direction in skill.kpis:
            a, b = f"skill:{skill.id}", f"kpi:{kpi}"
            if a not in wide or b not in wide:
                found[(skill.id, kpi)] = Evidence(skill.id, kpi, direction, 0, None, None, None, "not enough data")
                continue
            both = (wide[a].notna() & wide[b].notna()).to_numpy()
            n = int(both.sum())
            rho = spearman(wide[a].to_numpy()[both], wide[b].to_numpy()[both]) if n >= min_n else None
            status = "not enough data" if n < min_n else "no variation" if rho is None else "ok"
            found[(skill.id, kpi)] = Evidence(skill.id, kpi, direction, n, rho, None, None, status)
            if status == "ok":
                groups.setdefault(both.tobytes(), []).append((a, b))
    for mask_bytes, pairs in groups.items():
        mask = np.frombuffer(mask_bytes, dtype=bool)
        columns = {name: wide[name].to_numpy()[mask] for pair in pairs for name in pair}
        for (a, b), rhos in bootstrap_many(columns, pairs, resamples, seed).items():
            key = (a.removeprefix("skill:"), b.removeprefix("kpi:"))
            interval = percentile_interval(rhos)
            if interval:
                row = found[key]
                found[key] = Evidence(row.skill, row.kpi, row.expected, row.n, row.rho, interval[0], interval[1],
                                      row.status)
    return [found[(skill.id, kpi)] for skill in skills.values() for kpi, _ in skill.kpis]


def evidence_later(mastery: pd.DataFrame, current: pd.DataFrame, skills: dict[str, Skill], *,
                   min_reps: int = BACKGROUND_MIN_REPS, **options: object) -> Callable[[], list[Evidence]]:
    """Start :func:`evidence_table` and return a function that waits for its result.

    On a large team the bootstrap takes about a second; a report can build everything else
    meanwhile. Where that pays (at least ``min_reps`` reps, a second CPU, ``fork`` available and no
    other thread in this process, which fork would not copy), the table is computed in a forked
    child that inherits the frames and sends back the rows; otherwise it is computed right here.
    The result is the same either way: the child runs the same seeded function on the same data.
    """
    reps = mastery["rep_id"].nunique() if len(mastery) else 0
    if (reps < min_reps or (os.cpu_count() or 1) < 2 or threading.active_count() > 1
            or "fork" not in multiprocessing.get_all_start_methods()):
        rows = evidence_table(mastery, current, skills, **options)  # type: ignore[arg-type]
        return lambda: rows
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_evidence_child, args=(writer, mastery, current, skills, options), daemon=True)
    child.start()
    writer.close()

    def wait() -> list[Evidence]:
        try:
            result = reader.recv()
        except EOFError:          # the child died (killed, out of memory): compute it here instead
            result = None
        finally:
            reader.close()
            child.join()
        if isinstance(result, BaseException):
            raise result
        return result if result is not None else evidence_table(mastery, current, skills, **options)  # type: ignore[arg-type]

    return wait


def _evidence_child(writer, mastery: pd.DataFrame, current: pd.DataFrame, skills: dict[str, Skill],
                    options: dict) -> None:
    try:
        result: object = evidence_table(mastery, current, skills, **options)
    except Exception as error:  # noqa: BLE001  (handed to the parent, which raises it)
        result = error
    writer.send(result)
    writer.close()
