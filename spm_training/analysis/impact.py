"""Training impact: did completing a programme move a KPI? A staggered difference-in-differences.

Reps complete a programme at different times (staggered cohorts). The estimator is Callaway and
Sant'Anna's (2021) group-time average treatment effect, ATT(g, t), with the reps not yet trained at
``t`` and the reps never trained as the comparison group:

    ATT(g, t) = mean over cohort g of (Y_t − Y_{g−1})  −  mean over controls of (Y_t − Y_{g−1})

where cohort g is the reps whose first completion falls in period g (that period is event time 0),
``g − 1`` is the last period before it (the base), and the controls are the reps whose first
completion comes after ``max(t, g)``, or never. Each mean is over the reps observed in both periods.
The cells are averaged with weights equal to the number of trained reps in each cell:

* the **average effect** over every cell with ``t ≥ g`` (the effect per trained rep-period);
* the **cohort effects**, the same average within one cohort;
* the **event-study** effects θ(e), averaged over cells with ``t − g = e``; θ(−1) is 0 by
  construction and θ(e) for e ≤ −2 compares trends *before* the training: the placebo check.

Never two-way fixed effects: regressing Y on rep and period dummies and a trained indicator
compares later cohorts with earlier ones that are already trained, which is biased when the
effect differs between cohorts or grows over time (see ``benchmarks/impact.py``).

**Interval: randomisation inference** (Fisher), which holds with few reps and teams because it
does not rely on a large sample. Inside each team the reps' completion dates (never included) are
shuffled :data:`PERMUTATIONS` times with a seeded generator; for a candidate effect τ, the outcome
with τ taken out of every trained rep-period is tested by comparing its estimate under the real
dates with the estimates under the shuffled ones. The 95% interval is every τ that this test does
not reject at 5% (two-sided). Because the estimate is linear in the outcome, one pass over the
permutations serves every τ. The event-study bands are the 95% spread of the shuffled estimates
after the average effect is taken out.

Implemented here in numpy rather than through the ``differences`` package (its ATTgt is the same
estimator, but it brings polars, formulaic, statsmodels and joblib, and its bootstrap is not the
randomisation inference used here). ``benchmarks/impact_differences.py`` checks the two agree: on a
simulated organisation of 60 reps over 24 months, all 115 ATT(g, t) cells to 5e-15 and the average
effect to every digit. ``tests/analysis/test_impact.py`` holds a hand-computed panel.

The estimator works on plain arrays and frames (:func:`estimate_impact`, :func:`build_panel`); the
functions at the end read what it needs from the store through :mod:`.queries`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ..catalog import Kpi, Skill
from ..errors import NotFoundError
from ..periods import period_kind, period_of
from ..store import Store
from ..text import plural
from .queries import assignment_skills, kpi_series, kpis_with_values, load_reps, plausible_periods, training_rows

PERMUTATIONS = 999
SEED = 2026
LEVEL = 0.95
MIN_TREATED = 5         # trained reps with a KPI value before and after their training
MIN_CONTROL = 5         # reps not (yet) trained that serve as the comparison
EVENT_LEADS = 6         # pre-periods drawn in the event study (placebo)
EVENT_LAGS = 12         # post-periods drawn
_BLOCK = 128            # permutations per vectorised block: bounds memory

VERDICTS = ("helped", "hurt", "inconclusive", "not enough data")

CAVEATS = (
    "Parallel trends: the estimate assumes that, without the training, trained reps' KPI would have "
    "moved like the untrained reps' did. The pre-period points of the event study test this: they "
    "should sit near zero.",
    "Spill-over inside a team: a trained rep may share what they learnt with teammates who serve as the "
    "comparison, which shrinks the estimate towards zero.",
    "Who chose to train: reps who signed up early may be the keen ones, or the struggling ones sent by "
    "their manager. The shuffle of dates inside each team treats timing as if it were assigned at random.",
)


# --- the panel --------------------------------------------------------------------------------------

NEVER = 10**9   # the cohort of a rep never trained (inside the panel's window)


@dataclass
class Panel:
    """A KPI as a rep × period matrix, with each rep's cohort and team."""

    rep_ids: list[str]
    periods: list[str]
    y: np.ndarray           # n × T values, NaN where not observed
    cohort: np.ndarray      # n, the period index of the first completion, NEVER if none in the window
    strata: np.ndarray      # n, team codes (the shuffle stays inside a team)
    trained_before: int = 0     # reps trained at or before the first period: no base period, left out

    @property
    def observed(self) -> np.ndarray:
        return ~np.isnan(self.y)


def _ordinal(period: str) -> int:
    year, rest = int(period[:4]), period[5:]
    return year * 4 + int(rest[1]) - 1 if rest.startswith("Q") else year * 12 + int(rest) - 1


def _label(ordinal: int, kind: str) -> str:
    if kind == "quarter":
        return f"{ordinal // 4}-Q{ordinal % 4 + 1}"
    return f"{ordinal // 12}-{ordinal % 12 + 1:02d}"


@dataclass
class _Matrix:
    """A KPI as a rep × period matrix, before cohorts: what every programme's panel of the KPI shares."""

    rep_ids: list[str]
    periods: list[str]
    y: np.ndarray
    strata: np.ndarray
    kind: str
    first: int              # the first period's ordinal


def _matrix(values: pd.DataFrame, teams: pd.DataFrame) -> _Matrix:
    kind_of = {p: period_kind(p) for p in values["period"].unique()}
    kinds = values["period"].map(kind_of)
    # a KPI imported both per month and per quarter: the kind with more values (months on a tie)
    kind = "quarter" if (kinds == "quarter").sum() > (kinds == "month").sum() else "month"
    values = values[kinds == kind] if len(kind_of) else values
    teams = teams.drop_duplicates("rep_id").sort_values("rep_id").reset_index(drop=True)
    values = values[values["rep_id"].isin(set(teams["rep_id"]))]
    reps, strata = list(teams["rep_id"]), pd.factorize(teams["team"])[0]
    if values.empty:
        return _Matrix(reps, [], np.empty((len(reps), 0)), strata, kind, 0)
    ordinals = values["period"].map(_ordinal)
    first, last = int(ordinals.min()), int(ordinals.max())
    index = {rep: i for i, rep in enumerate(reps)}
    y = np.full((len(reps), last - first + 1), np.nan)
    y[values["rep_id"].map(index).to_numpy(), (ordinals - first).to_numpy()] = values["value"].to_numpy(float)
    return _Matrix(reps, [_label(o, kind) for o in range(first, last + 1)], y, strata, kind, first)


def _panel(matrix: _Matrix, first_completion: dict[str, str]) -> Panel:
    """The matrix with each rep's cohort: the period of their first completion (rep id -> ISO date)."""
    cohort = np.full(len(matrix.rep_ids), NEVER, dtype=np.int64)
    if matrix.periods:
        for i, rep in enumerate(matrix.rep_ids):
            day = first_completion.get(rep)
            if day is not None:
                g = _ordinal(period_of(date.fromisoformat(str(day)[:10]), matrix.kind)) - matrix.first
                cohort[i] = g if g < len(matrix.periods) else NEVER
    keep = cohort > 0
    return Panel([r for r, k in zip(matrix.rep_ids, keep, strict=True) if k], matrix.periods, matrix.y[keep],
                 cohort[keep], matrix.strata[keep], trained_before=int((~keep).sum()))


def _first_completions(completions: pd.DataFrame) -> dict[str, str]:
    return {} if completions.empty else completions.groupby("rep_id")["completed_on"].min().to_dict()


def build_panel(values: pd.DataFrame, completions: pd.DataFrame, teams: pd.DataFrame) -> Panel:
    """The panel of one KPI: ``values`` has rep_id, period, value (one kind of period), ``completions``
    rep_id, completed_on (ISO dates; a rep's first completion counts), ``teams`` rep_id, team for every
    rep to include. A completion falls in the period that contains its date (event time 0)."""
    return _panel(_matrix(values, teams), _first_completions(completions))


# --- ATT(g, t) for many assignments at once --------------------------------------------------------

@dataclass
class _Cells:
    """Per assignment (P), cohort (K) and period (T): the treated and control sums of the change since
    the base period, for the outcome and for the real trained indicator, and how many reps each holds."""

    cohorts: np.ndarray                 # K period indices
    treated: np.ndarray                 # P × K × T × 3: sum dy, sum dd, count
    control: np.ndarray                 # P × K × T × 3

    def att(self, outcome: int) -> tuple[np.ndarray, np.ndarray]:
        """ATT(g, t) of outcome 0 (the KPI) or 1 (the real trained indicator), and the cell weights
        (trained reps in the cell; 0 where the cell has no treated or no control rep)."""
        tn, cn = self.treated[..., 2], self.control[..., 2]
        ok = (tn > 0) & (cn > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            att = np.where(ok, self.treated[..., outcome] / tn - self.control[..., outcome] / cn, 0.0)
        return att, np.where(ok, tn, 0.0)


def _cells(panel: Panel, assignments: np.ndarray) -> _Cells:
    n, periods = panel.y.shape
    observed = panel.observed
    y = np.where(observed, panel.y, 0.0)
    trained = (np.arange(periods)[None, :] >= panel.cohort[:, None]).astype(float)
    cohorts = np.unique(panel.cohort[panel.cohort < NEVER])
    # the change since each cohort's base period, of the KPI and of the real trained indicator, and
    # whether both periods are observed: n × K × T × 3, zero where not
    changes = np.zeros((n, len(cohorts), periods, 3))
    for k, g in enumerate(cohorts):
        valid = observed & observed[:, [g - 1]]
        changes[:, k, :, 0] = np.where(valid, y - y[:, [g - 1]], 0.0)
        changes[:, k, :, 1] = np.where(valid, trained - trained[:, [g - 1]], 0.0)
        changes[:, k, :, 2] = valid
    p = len(assignments)
    treated = np.zeros((p, len(cohorts), periods, 3))
    control = np.zeros((p, len(cohorts), periods, 3))
    for start in range(0, p, _BLOCK):
        block = assignments[start:start + _BLOCK]
        rows = slice(start, start + len(block))
        for k, g in enumerate(cohorts):
            flat = changes[:, k].reshape(n, -1)
            treated[rows, k] = ((block == g).astype(float) @ flat).reshape(len(block), periods, 3)
            # controls for t ≤ g: untrained after g
            control[rows, k, :g + 1] = ((block > g).astype(float) @ flat[:, :(g + 1) * 3]).reshape(len(block), g + 1, 3)
        # controls for t > g: untrained after t, the same reps for every cohort trained before t
        for t in range(1, periods):
            before = np.flatnonzero(cohorts < t)
            if len(before):
                part = changes[:, before, t, :].reshape(n, -1)
                control[rows, before, t] = ((block > t).astype(float) @ part).reshape(len(block), len(before), 3)
    return _Cells(cohorts, treated, control)


def shuffled_cohorts(panel: Panel, permutations: int, seed: int) -> np.ndarray:
    """Row 0: the real cohorts; then ``permutations`` rows with the cohorts shuffled inside each team."""
    rng = np.random.default_rng(seed)
    out = np.empty((permutations + 1, len(panel.cohort)), dtype=np.int64)
    out[0] = panel.cohort
    groups = [np.flatnonzero(panel.strata == s) for s in np.unique(panel.strata)]
    for members in groups:
        out[1:, members] = rng.permuted(np.tile(panel.cohort[members], (permutations, 1)), axis=1)
    return out


def group_time_effects(panel: Panel) -> list[dict]:
    """Every identified ATT(g, t) under the real dates: cohort and period labels, event time (t − g), the
    effect, and how many trained and comparison reps the cell compares."""
    cells = _cells(panel, panel.cohort[None, :])
    att, _ = cells.att(0)
    out = []
    for k, g in enumerate(cells.cohorts):
        for t in range(panel.y.shape[1]):
            treated, control = cells.treated[0, k, t, 2], cells.control[0, k, t, 2]
            if t != g - 1 and treated > 0 and control > 0:
                out.append({"cohort": panel.periods[g], "period": panel.periods[t], "event": int(t - g),
                            "att": float(att[0, k, t]), "n_treated": int(treated), "n_control": int(control)})
    return out


# --- aggregation and the interval -----------------------------------------------------------------

def _aggregate(att: np.ndarray, weight: np.ndarray, select: np.ndarray) -> np.ndarray:
    """Weighted mean of ATT(g, t) over the selected cells (K × T mask), per assignment; NaN if none."""
    w = weight * select[None]
    total = w.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (att * w).sum(axis=(1, 2)) / np.where(total > 0, total, 1), np.nan)


def invert(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The randomisation-inference interval: every τ whose p-value is above 1 − level.

    ``a[0]``, ``b[0]`` are the estimates of the KPI and of the real trained indicator under the real
    dates, the rest under shuffled ones; the outcome with τ taken out gives ``a − τ·b``, and τ is
    rejected when too few shuffles give an estimate at least as far from zero as the real one."""
    a0, b0 = float(a[0]), float(b[0])
    ap, bp = a[1:][np.isfinite(a[1:])], b[1:][np.isfinite(a[1:])]
    if not math.isfinite(a0) or len(ap) == 0:
        return math.nan, math.nan
    estimate = a0 / b0 if b0 else a0
    alpha = 1 - level

    def accepted(tau: np.ndarray) -> np.ndarray:
        far = np.abs(ap[None, :] - tau[:, None] * bp[None, :]) >= np.abs(a0 - tau * b0)[:, None] - 1e-12
        return (1 + far.sum(axis=1)) / (len(ap) + 1) > alpha

    spread = float(np.std(ap - estimate * bp)) or abs(estimate) * 1e-6 or 1e-9
    grid, ok = np.array([estimate]), np.array([True])
    for width in (8, 32, 128):
        grid = estimate + spread * np.linspace(-width, width, 801)
        ok = accepted(grid)
        if not ok.any():
            return estimate, estimate
        if ok[0] or ok[-1]:
            continue        # the accepted set reaches the grid's edge: widen it
        break
    inside = np.flatnonzero(ok)
    if ok[0] or ok[-1]:
        # no shuffle bounds the effect on that side (few reps, or a trained indicator the shuffles barely move)
        return (-math.inf if ok[0] else float(grid[inside[0]]), math.inf if ok[-1] else float(grid[inside[-1]]))

    def edge(inner: float, outer: float) -> float:
        for _ in range(24):     # the bracket starts at 2% of the spread: 24 halvings leave about 1e-9 of it
            mid = (inner + outer) / 2
            if accepted(np.array([mid]))[0]:
                inner = mid
            else:
                outer = mid
        return inner

    return (edge(float(grid[inside[0]]), float(grid[inside[0] - 1])),
            edge(float(grid[inside[-1]]), float(grid[inside[-1] + 1])))


@dataclass
class ImpactResult:
    """The effect of one programme on one KPI, with what it rests on."""

    program: str
    kpi: str
    direction: str                      # higher or lower is better
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    n_treated: int
    n_control: int
    n_never: int
    verdict: str
    method: str
    cohorts: list[dict] = field(default_factory=list)       # period, n, effect, ci_low, ci_high
    events: list[dict] = field(default_factory=list)        # event, effect, low, high, n
    placebo: dict | None = None         # the largest pre-period departure and whether its band holds 0
    reason: str = ""                    # why "not enough data", in words
    caveats: tuple[str, ...] = CAVEATS
    trained_before: int = 0
    first_period: str | None = None     # the span of KPI periods the estimate read
    last_period: str | None = None

    def to_dict(self) -> dict:
        """The JSON shape: program, kpi, effect, ci_low, ci_high, n_treated, n_control, verdict first."""
        return {"program": self.program, "kpi": self.kpi, "effect": self.effect, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "n_treated": self.n_treated, "n_control": self.n_control,
                "verdict": self.verdict, "n_never_trained": self.n_never, "direction": self.direction,
                "method": self.method, "reason": self.reason, "cohorts": self.cohorts, "events": self.events,
                "placebo": self.placebo, "trained_before_data": self.trained_before,
                "first_period": self.first_period, "last_period": self.last_period,
                "caveats": list(self.caveats)}


METHOD = (f"Callaway & Sant'Anna difference-in-differences (not-yet-trained and never-trained reps as "
          f"controls); 95% interval by randomisation inference, {PERMUTATIONS} shuffles of completion dates "
          f"inside each team, seed {SEED}")


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def verdict(effect: float | None, low: float | None, high: float | None, direction: str) -> str:
    """helped / hurt when the interval leaves out zero (on the better or worse side), else inconclusive."""
    if effect is None or low is None or high is None:
        return "inconclusive"
    if low > 0 or high < 0:
        better = (low > 0) == (direction == "higher")
        return "helped" if better else "hurt"
    return "inconclusive"


def estimate_impact(panel: Panel, *, program: str, kpi: str, direction: str = "higher",
                    permutations: int = PERMUTATIONS, seed: int = SEED, events: bool = True) -> ImpactResult:
    """The average effect of the programme on the KPI, per cohort and by event time, with intervals."""
    periods = panel.y.shape[1]
    observed = panel.observed
    cohorts = np.unique(panel.cohort[panel.cohort < NEVER])
    t_index = np.arange(periods)
    # who can take part: a trained rep observed in its base period and after; controls observed twice
    takes_part = {int(g): int((observed[panel.cohort == g, g - 1][:, None]
                               & observed[panel.cohort == g][:, g:]).any(axis=1).sum()) for g in cohorts}
    n_treated = sum(takes_part.values())
    untrained_obs = observed.sum(axis=1) >= 2
    n_control = int((untrained_obs & (panel.cohort > cohorts.min() if len(cohorts) else untrained_obs)).sum()) \
        if len(cohorts) else int(untrained_obs.sum())
    n_never = int(((panel.cohort == NEVER) & untrained_obs).sum())
    result = ImpactResult(program, kpi, direction, None, None, None, n_treated, n_control, n_never,
                          "not enough data", METHOD, trained_before=panel.trained_before,
                          first_period=panel.periods[0] if panel.periods else None,
                          last_period=panel.periods[-1] if panel.periods else None)
    if n_treated < MIN_TREATED or n_control < MIN_CONTROL:
        result.reason = (f"{plural(n_treated, 'trained rep')} with KPI values before and after (at least "
                         f"{MIN_TREATED} needed) and {plural(n_control, 'rep')} to compare with (at least "
                         f"{MIN_CONTROL} needed)")
        return result

    cells = _cells(panel, shuffled_cohorts(panel, permutations, seed))
    att_y, weight = cells.att(0)
    att_d, _ = cells.att(1)
    event = t_index[None, :] - cohorts[:, None]                       # K × T
    post = event >= 0
    a, b = _aggregate(att_y, weight, post), _aggregate(att_d, weight, post)
    if not math.isfinite(a[0]):
        result.reason = "no trained rep has a comparison rep observed in the same periods"
        return result
    low, high = invert(a, b)
    result.effect, result.ci_low, result.ci_high = float(a[0]), _finite(low), _finite(high)
    result.verdict = verdict(result.effect, result.ci_low, result.ci_high, direction)

    for k, g in enumerate(cohorts):
        select = post & (np.arange(len(cohorts)) == k)[:, None]
        ak, bk = _aggregate(att_y, weight, select), _aggregate(att_d, weight, select)
        if not math.isfinite(ak[0]):
            continue
        lo, hi = invert(ak, bk)
        result.cohorts.append({"period": panel.periods[g], "n": takes_part[int(g)],
                               "effect": float(ak[0]), "ci_low": _finite(lo), "ci_high": _finite(hi)})
    if events:
        worst: dict | None = None
        z_real: list[float] = []
        z_shuffled: list[np.ndarray] = []
        for e in range(-EVENT_LEADS, EVENT_LAGS + 1):
            select = event == e
            ae, be = _aggregate(att_y, weight, select), _aggregate(att_d, weight, select)
            if e == -1:
                result.events.append({"event": -1, "effect": 0.0, "low": 0.0, "high": 0.0, "n": 0})
                continue
            if not math.isfinite(ae[0]):
                continue
            # the shuffled estimates with the average effect taken out: their spread under the null
            shuffled = ae[1:] - result.effect * be[1:]
            known = shuffled[np.isfinite(shuffled)]
            centre = float(known.mean()) if len(known) else 0.0
            half = float(np.quantile(np.abs(known - centre), LEVEL)) if len(known) else math.nan
            point = {"event": e, "effect": float(ae[0]), "low": float(ae[0]) - half, "high": float(ae[0]) + half,
                     "n": int((weight[0] * select).sum())}
            result.events.append(point)
            if e <= -2:
                if worst is None or abs(point["effect"]) > abs(worst["effect"]):
                    worst = point
                sd = float(known.std()) if len(known) > 1 else 0.0
                if sd > 0:
                    z_real.append(abs(float(ae[0]) - centre) / sd)
                    z_shuffled.append(np.nan_to_num(np.abs(shuffled - centre) / sd))
        if worst is not None:
            # one joint test over every pre-period: the largest standardised departure, real against shuffled
            p_value = 1.0
            if z_real:
                largest = np.max(np.vstack(z_shuffled), axis=0)
                p_value = float((1 + (largest >= max(z_real) - 1e-12).sum()) / (len(largest) + 1))
            result.placebo = {"event": worst["event"], "effect": worst["effect"], "periods": len(z_real),
                              "p_value": p_value, "holds": p_value > 1 - LEVEL}
    return result


# --- from the store -------------------------------------------------------------------------------

def programs(store: Store, rows: list[dict] | None = None) -> list[dict]:
    """Every programme with completions: program, kind (external or course), reps, first and last date
    (from ``rows`` of :func:`~.queries.training_rows` when given, else read)."""
    seen: dict[str, dict] = {}
    for row in training_rows(store) if rows is None else rows:
        entry = seen.setdefault(row["program"], {"program": row["program"], "kind": row["kind"], "reps": set(),
                                                  "first": row["completed_on"], "last": row["completed_on"]})
        entry["reps"].add(row["rep_id"])
        entry["first"] = min(entry["first"], row["completed_on"])
        entry["last"] = max(entry["last"], row["completed_on"])
    return [{**e, "reps": len(e["reps"])} for e in sorted(seen.values(), key=lambda e: e["program"])]


class _Source:
    """The store's trainings, reps and KPI series, each read once however many estimates use them."""

    def __init__(self, store: Store, *, course: bool = True) -> None:
        self.store = store
        self.rows = training_rows(store, course=course)
        self.completions = pd.DataFrame(self.rows, columns=["rep_id", "program", "completed_on", "hours", "source",
                                                            "kind"])
        self.reps = load_reps(self.store)[["rep_id", "team"]]
        self._series: dict[str, pd.DataFrame] = {}
        self._matrices: dict[tuple[str, str | None], _Matrix] = {}
        self._firsts = {p: _first_completions(g) for p, g in self.completions.groupby("program")}

    def series(self, kpi: str) -> pd.DataFrame:
        if kpi not in self._series:
            frame = pd.DataFrame(kpi_series(self.store, kpi), columns=["rep_id", "team", "period", "value"])
            # a period outside the date window (a placeholder 9999-Q4 in an old store) would stretch the
            # panel over millennia: left out, as the reports leave it out
            kept = plausible_periods(frame["period"].unique().tolist())
            self._series[kpi] = frame[frame["period"].isin(kept)]
        return self._series[kpi]

    def matrix(self, kpi: str, team: str | None) -> _Matrix:
        if (kpi, team) not in self._matrices:
            series, reps = self.series(kpi), self.reps
            if team is not None:
                reps = load_reps(self.store, team=team)[["rep_id", "team"]]      # NotFoundError names the teams
                series = series[series["team"] == team]
            self._matrices[(kpi, team)] = _matrix(series[["rep_id", "period", "value"]], reps)
        return self._matrices[(kpi, team)]

    def impact(self, kpis: dict[str, Kpi], program: str, kpi: str, team: str | None, permutations: int,
               seed: int) -> ImpactResult:
        if kpi not in kpis:
            raise NotFoundError(f"no KPI '{kpi}' in the catalog; spm kpis list shows them")
        if program not in self._firsts:
            known = [p["program"] for p in programs(self.store, self.rows)]
            listed = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
            raise NotFoundError(f"no completions of programme '{program}' in the store; programmes: "
                                f"{listed or 'none yet (spm trainings import FILE.csv)'}")
        panel = _panel(self.matrix(kpi, team), self._firsts[program])
        return estimate_impact(panel, program=program, kpi=kpi, direction=kpis[kpi].direction,
                               permutations=permutations, seed=seed)


def training_impact(store: Store, kpis: dict[str, Kpi], program: str, kpi: str, *, team: str | None = None,
                    permutations: int = PERMUTATIONS, seed: int = SEED) -> ImpactResult:
    """The effect of completing ``program`` on ``kpi`` across the organisation, or inside one team.

    NotFoundError when the programme has no completions, the KPI is not in the catalog or the team
    has no reps."""
    return _Source(store).impact(kpis, program, kpi, team, permutations, seed)


#: How many shuffles a report's estimates use: fewer than the command's, since a report shows many at once.
REPORT_PERMUTATIONS = 499


def impact_pairs(source: _Source, skills: dict[str, Skill], kpis: dict[str, Kpi]) -> list[tuple[str, str]]:
    """The programme-KPI pairs a report estimates: every imported programme with every KPI that has
    values, and each course assignment with the KPIs linked to the skills it measures (skills.yml)."""
    measured = set(kpis_with_values(source.store))
    linked: dict[str, set[str]] = {}
    for assignment, skill in assignment_skills(source.store):
        if skill in skills:
            linked.setdefault(assignment, set()).update(skills[skill].kpi_ids)
    pairs = []
    for p in programs(source.store, source.rows):
        wanted = sorted(k for k in kpis if k in measured) if p["kind"] == "external" else \
            sorted(k for k in linked.get(p["program"], ()) if k in measured and k in kpis)
        pairs += [(p["program"], k) for k in wanted]
    return pairs


def impact_results(store: Store, skills: dict[str, Skill], kpis: dict[str, Kpi], *, team: str | None = None,
                   permutations: int = REPORT_PERMUTATIONS,
                   kinds: tuple[str, ...] = ("external", "course")) -> list[ImpactResult]:
    """The pairs of :func:`impact_pairs` that could have enough data, for the organisation or one team:
    those with an estimate first (helped, hurt, then inconclusive), then those without enough data.
    ``kinds``: imported programmes (external), the course's assignments (course), or both.

    A pair is left out before any estimate when fewer than :data:`MIN_TREATED` reps in scope with values
    of the KPI completed the programme, or no more than :data:`MIN_CONTROL` reps have values: no estimate
    could come of it, and a course has dozens of such pairs."""
    source = _Source(store, course="course" in kinds)
    if not source.rows:
        return []
    scope = set(source.reps["rep_id"]) if team is None else set(load_reps(store, team=team)["rep_id"])
    trained = {p: set(g["rep_id"]) & scope for p, g in source.completions.groupby("program")}
    with_values: dict[str, set[str]] = {}
    results = []
    kind = {p["program"]: p["kind"] for p in programs(store, source.rows)}
    for program, kpi in impact_pairs(source, skills, kpis):
        if kind[program] not in kinds:
            continue
        if kpi not in with_values:
            with_values[kpi] = set(source.series(kpi)["rep_id"]) & scope
        done = trained.get(program, set()) & with_values[kpi]
        # reps trained later serve as controls until then, so only a scope too small for both is left out
        if len(done) < MIN_TREATED or len(with_values[kpi]) < MIN_CONTROL + 1:
            continue
        results.append(source.impact(kpis, program, kpi, team, permutations, SEED))
    order = {v: i for i, v in enumerate(VERDICTS)}
    return sorted(results, key=lambda r: (order[r.verdict], r.program, r.kpi))
