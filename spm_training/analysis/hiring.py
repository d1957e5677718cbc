"""The hiring plan (``spm hiring-plan``) and the hiring profile (the reports' hiring page).

**The plan** covers a revenue target with hires, quarter by quarter, over a horizon of whole quarters
that starts on the first day of the quarter after today:

- *Target*: the team's revenue per quarter to reach in the horizon's last quarter (``--target``, or
  ``--growth``: today's quarterly revenue raised by a percentage). The quarters before it follow a straight
  line from today's quarterly revenue to the target. Today's quarterly revenue is the sum, over the reps
  still on the roster, of the ``revenue`` KPI in its current period (a month's value counts three times).
- *The team as it is*: each rep of a role that carries a revenue target (the KPI catalog's ``revenue``
  default target per role, else the mean of the store's revenue targets for the role) delivers their
  quarterly target × their own current revenue attainment; a rep with no revenue value yet follows the
  ramp curve for their month since hire, then the role's steady attainment. (A rep still ramping today is
  so counted at today's attainment, which keeps a young team's plan on the safe side.) Every month, a rep
  stays with the probability that the role's attrition gives (a year's attrition *a*: (1 − a)^(1/12) a
  month).
- *Ramp curve*: per role, the mean revenue attainment in each month since hire (1 is the month of the hire
  date), read from the store through the same ramp view as the reports' (:func:`.onboarding.ramp`; a
  quarter's value counts for each of its months). A month where fewer than ``min_hires`` reps of the role
  have a value takes the default curve's value (``hiring: default_ramp`` in ``spm.yml``). After the curve's
  last month a rep delivers the role's *steady attainment*: the mean current revenue attainment of the
  role's reps past the curve, or 100% when fewer than ``min_hires`` of them have one.
- *Attrition*: per role, the reps who left (the roster's ``left_on``) over the last ``attrition_months``
  months ÷ the role's average headcount over those months, as a yearly rate; ``default_attrition`` when the
  average headcount is below ``min_headcount``.
- *Hires*: a requisition opened on the horizon's first day fills after ``time_to_hire_days`` (rounded up
  to whole months of 30 days): that is the earliest start. A hire then counts only for what the ramp curve
  says they deliver in each month, and leaves as the rest of the role does. The target is split between
  roles by their share of the team's quarterly targets today. The plan is the fewest hires per role that
  cover every quarter's target, each started as late as the target allows; quarters that no hire can reach
  in time are listed as out of reach. So a higher target, a longer ramp or higher attrition never needs
  fewer hires, and a team on target with nobody leaving needs none.

**The hiring profile**: per KPI, the reps of the scope are ranked by their current attainment; the top
third and the bottom third (at least :data:`PROFILE_MIN_GROUP` reps each) are compared skill by skill on
mean mastery. The skills where the top third's mastery is highest above the bottom third's are what the
top performers have in common; they become the weight of an interview scorecard. It is a comparison of
groups, not proof that the skill causes the result (see :data:`.evidence.CAVEAT`).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..errors import InputError, NotFoundError
from ..periods import period_bounds, period_kind, period_of
from .onboarding import ramp as ramp_view

if TYPE_CHECKING:
    from .facade import Analysis

MONTH_DAYS = 30              # time to hire, in days, becomes whole months of this length
MAX_HIRES = 10_000           # a plan that needs more is a target typed wrong, not a plan
#: a month of the ramp curve measured below this counts as this: a hire in seat always delivers something,
#: so only the time to hire puts a quarter out of reach
MIN_ATTAINMENT = 0.01
PROFILE_MIN_GROUP = 3        # reps in each of the top and bottom thirds, below which a KPI is not compared
PROFILE_SHOWN = 5            # skills listed per KPI


# --- the plan's inputs ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rep:
    """A rep on the roster today: their month since hire in the horizon's first month, and their own
    current revenue attainment (None: not measured)."""

    tenure: int
    attainment: float | None = None
    quota: float | None = None         # their own revenue target a quarter (None: the role's)


@dataclass(frozen=True)
class Role:
    """What the plan knows of one role that carries a revenue target."""

    quota: float                       # the role's revenue target per quarter, per rep
    curve: tuple[float, ...]           # attainment in months 1, 2, ... since hire
    steady: float                      # attainment after the curve
    attrition: float                   # a year's leavers per rep of average headcount, 0 <= a < 1
    reps: tuple[Rep, ...] = ()
    # how each figure was found, for the assumptions the plan prints
    curve_measured: tuple[bool, ...] = ()
    steady_measured: int = 0           # the reps the steady attainment is the mean of (0: the default)
    attrition_measured: dict = field(default_factory=dict)   # leavers, headcount, months; {} for the default
    quota_source: str = "the KPI catalog's default"

    def attainment(self, tenure: int) -> float:
        return self.curve[tenure - 1] if 1 <= tenure <= len(self.curve) else self.steady

    def monthly_survival(self) -> float:
        return (1.0 - self.attrition) ** (1 / 12)


def start_month(time_to_hire_days: int) -> int:
    """The first month of the horizon (0 its first) a hire can start in: requisitions open on its first day."""
    return math.ceil(time_to_hire_days / MONTH_DAYS)


def base_revenue(role: Role, quarters: int) -> list[float]:
    """Per quarter, what the role's reps of today are expected to deliver."""
    keep = role.monthly_survival()
    out = [0.0] * quarters
    for rep in role.reps:
        quota = role.quota if rep.quota is None else rep.quota
        for k in range(3 * quarters):
            level = role.attainment(rep.tenure + k) if rep.attainment is None else rep.attainment
            out[k // 3] += quota / 3 * level * keep ** (k + 1)
    return out


def hire_revenue(role: Role, start: int, quarters: int) -> list[float]:
    """Per quarter, what one hire who starts in month ``start`` of the horizon is expected to deliver."""
    keep = role.monthly_survival()
    out = [0.0] * quarters
    for k in range(start, 3 * quarters):
        tenure = k - start + 1
        out[k // 3] += role.quota / 3 * role.attainment(tenure) * keep ** tenure
    return out


@dataclass
class RolePlan:
    role: str
    target: list[float]                # the role's share of each quarter's target
    base: list[float]                  # the team of today
    hires: list[int]                   # hires starting in each quarter
    starts: list[int]                  # each hire's start month (0: the horizon's first month)
    delivered: list[float]             # the team of today and the hires
    unreachable: list[int]             # quarters (0 the first) short of target that no hire reaches in time

    @property
    def total(self) -> int:
        return len(self.starts)


EPSILON = 1e-9


def plan_role(name: str, role: Role, target: list[float], first_start: int) -> RolePlan:
    """The fewest hires that cover ``target`` (one figure per quarter) for the role, each started as late
    as every quarter's target allows; quarters no hire starting in time reaches are out of reach."""
    quarters = len(target)
    base = base_revenue(role, quarters)
    need = [t - b for t, b in zip(target, base, strict=True)]
    by_start = {s: hire_revenue(role, s, quarters) for s in range(first_start, 3 * quarters)}
    earliest = by_start.get(first_start, [0.0] * quarters)
    unreachable = [q for q in range(quarters) if need[q] > EPSILON and earliest[q] <= EPSILON]
    wanted = [q for q in range(quarters) if need[q] > EPSILON and q not in unreachable]
    count = max((math.ceil(need[q] / earliest[q] - EPSILON) for q in wanted), default=0)
    if count > MAX_HIRES:
        raise InputError("--target", f"the plan needs {count:,} hires of role {name}, more than {MAX_HIRES:,}",
                         fix="give the target as revenue per quarter (EUR), or a smaller --growth")
    starts = [first_start] * count
    total = [earliest[q] * count for q in range(quarters)]
    # Each hire in turn starts as late as the targets allow, the others where they are.
    for i in range(count):
        for s in range(3 * quarters - 1, first_start, -1):
            moved = [total[q] - earliest[q] + by_start[s][q] for q in range(quarters)]
            if all(moved[q] >= need[q] - EPSILON for q in wanted):
                starts[i], total = s, moved
                break
    hires = [0] * quarters
    for s in starts:
        hires[s // 3] += 1
    return RolePlan(role=name, target=target, base=base, hires=hires, starts=sorted(starts),
                    delivered=[b + t for b, t in zip(base, total, strict=True)], unreachable=unreachable)


def target_path(current: float, final: float, quarters: int) -> list[float]:
    """Each quarter's target: a straight line from ``current`` (today) to ``final`` (the last quarter)."""
    return [current + (final - current) * (q + 1) / quarters for q in range(quarters)]


def role_shares(roles: dict[str, Role]) -> dict[str, float]:
    """Each role's share of the target: its share of today's quarterly targets (reps × quota); an empty
    team splits it by quota alone."""
    weights = {name: sum(r.quota if rep.quota is None else rep.quota for rep in r.reps) for name, r in roles.items()}
    if not sum(weights.values()):
        weights = {name: r.quota for name, r in roles.items()}
    total = sum(weights.values())
    return {name: w / total for name, w in weights.items()} if total else {}


def compute_plan(roles: dict[str, Role], current: float, final: float, quarters: int,
                 time_to_hire_days: int) -> list[RolePlan]:
    """The plan for every role, from the inputs alone (no store): see the module's docstring."""
    if quarters < 1:
        raise InputError("--horizon", f"the horizon must be at least 1 quarter, not {quarters}",
                         fix="give --horizon 4 for a year")
    path = target_path(current, final, quarters)
    shares = role_shares(roles)
    first = start_month(time_to_hire_days)
    return [plan_role(name, role, [t * shares[name] for t in path], first) for name, role in roles.items()]


# --- the plan's inputs, measured ---------------------------------------------------------------------

def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from ``earlier``'s month to ``later``'s (0: the same month)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def plan_start(today: date) -> date:
    """The first day of the quarter after ``today``'s."""
    _, end = period_bounds(period_of(today, "quarter"))
    return end + timedelta(days=1)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` months before ``day`` (the month's last day when shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def measured_attrition(roster: list[dict], role: str, today: date, months: int,
                       hire_date: Callable[[dict], date | None]) -> tuple[int, float]:
    """(leavers, average headcount) of ``role`` over the ``months`` months before ``today``.
    ``hire_date``: rep row -> their hire date, None when unknown (then counted from the span's start)."""
    start = months_before(today, months)
    span = max(1, (today - start).days)
    leavers, days = 0, 0
    for rep in roster:
        if rep["role"] != role:
            continue
        hired = hire_date(rep) or start
        left = _day(rep.get("left_on"))
        if hired > today or (left is not None and left <= start):
            continue
        until = today if left is None or left > today else left
        days += max(0, (until - max(hired, start)).days)
        if left is not None and start < left <= today:
            leavers += 1
    return leavers, days / span


def _day(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def tenure_points(history: list[tuple[str, float]], hired: date) -> dict[int, float]:
    """Month since hire -> attainment, from the ramp view's periods (a quarter counts for each of its
    months since hire; the month of the hire date is month 1)."""
    out: dict[int, list[float]] = {}
    for row in ramp_view(history, hired):
        start, end = period_bounds(row["period"])
        for m in range(months_between(hired, start) + 1, months_between(hired, end) + 2):
            if m >= 1:
                out.setdefault(m, []).append(row["attainment"])
    return {m: sum(v) / len(v) for m, v in out.items()}


def measured_curve(points: list[dict[int, float]], default: list[float], min_hires: int) -> tuple[
        tuple[float, ...], tuple[bool, ...]]:
    """The ramp curve over the default's months: a month's mean over the reps with a value for it when
    at least ``min_hires`` have one (at least :data:`MIN_ATTAINMENT`), else the default's value; and
    which months were measured."""
    curve, measured = [], []
    for m, fallback in enumerate(default, start=1):
        values = [p[m] for p in points if m in p]
        ok = len(values) >= min_hires
        curve.append(max(MIN_ATTAINMENT, sum(values) / len(values)) if ok else fallback)
        measured.append(ok)
    return tuple(curve), tuple(measured)


def current_revenue(value: float, period: str) -> float:
    """A revenue value as a quarter's: a month's counts three times."""
    return value * 3 if period_kind(period) == "month" else value


def revenue_roles(kpis: dict, targets: dict[str, list[float]] | None = None) -> dict[str, float]:
    """Role -> the quarterly revenue target of one rep: the KPI catalog's ``revenue`` default target for
    the role, else the mean of the quarterly revenue targets the store holds for the role's reps
    (``targets``: role -> targets, each already a quarter's). Roles with neither carry no revenue."""
    kpi = kpis.get("revenue")
    if kpi is None:
        raise NotFoundError("the hiring plan needs the KPI 'revenue' in the KPI catalog (kpis.yml)")
    roles = list(kpi.roles) or (list(kpi.default_target) if isinstance(kpi.default_target, dict) else [])
    roles += [r for r in (targets or {}) if r not in roles]
    out = {}
    for role in roles:
        target = kpi.target_for(role, "quarter")
        stored = [v for v in (targets or {}).get(role, []) if v > 0]
        if not target and stored:
            target = sum(stored) / len(stored)
        if target:
            out[role] = target
    if not out:
        raise NotFoundError("no revenue target for any role: the KPI 'revenue' has no default_target in kpis.yml "
                            "and the store holds no revenue target; write default_target: {AE: 120000, AM: 90000}")
    return out


# --- the hiring profile -----------------------------------------------------------------------------

def hiring_profile(mastery: list[dict], current: list[dict], kpis: dict, skills: dict,
                   min_group: int = PROFILE_MIN_GROUP, shown: int = PROFILE_SHOWN) -> list[dict]:
    """Per KPI with current values (catalog order): the top and bottom thirds of the reps by attainment,
    their sizes, and the skills whose mean mastery is higher in the top third (largest difference first,
    at most ``shown``); ``enough`` is False when either third has fewer than ``min_group`` reps with a
    mastery to compare, and the KPI then lists no skills.

    ``mastery``: rows with rep_id, skill_id, mastery (None: not measured); ``current``: rows with
    rep_id, kpi, attainment."""
    by_rep: dict[str, dict[str, float]] = {}
    for m in mastery:
        if m["mastery"] is not None:
            by_rep.setdefault(m["rep_id"], {})[m["skill_id"]] = float(m["mastery"])
    out = []
    for kpi_id, kpi in kpis.items():
        ranked = sorted(((float(c["attainment"]), c["rep_id"]) for c in current
                         if c["kpi"] == kpi_id and c["attainment"] is not None and c["attainment"] == c["attainment"]
                         and c["rep_id"] in by_rep), key=lambda p: (-p[0], p[1]))
        if not ranked:
            continue
        third = len(ranked) // 3
        top, bottom = [r for _, r in ranked[:third]], [r for _, r in ranked[len(ranked) - third:]] if third else []
        entry = {"kpi": kpi_id, "name": kpi.name, "reps": len(ranked), "top": len(top), "bottom": len(bottom),
                 "enough": third >= min_group, "skills": []}
        if entry["enough"]:
            rows = []
            for skill_id, skill in skills.items():
                high = [by_rep[r][skill_id] for r in top if skill_id in by_rep[r]]
                low = [by_rep[r][skill_id] for r in bottom if skill_id in by_rep[r]]
                if len(high) < min_group or len(low) < min_group:
                    continue
                top_mean, bottom_mean = sum(high) / len(high), sum(low) / len(low)
                if top_mean > bottom_mean:
                    rows.append({"skill": skill_id, "name": skill.name, "top": top_mean, "bottom": bottom_mean,
                                 "difference": top_mean - bottom_mean, "linked": kpi_id in skill.kpi_ids})
            entry["skills"] = sorted(rows, key=lambda r: (-r["difference"], r["name"]))[:shown]
        out.append(entry)
    return out


def analysis_profile(a: Analysis, min_group: int = PROFILE_MIN_GROUP, shown: int = PROFILE_SHOWN) -> list[dict]:
    """:func:`hiring_profile` of an analysis' reps (its mastery and current attainment)."""
    mastery = [{"rep_id": r, "skill_id": s, "mastery": None if v != v else float(v)} for r, s, v in zip(
        a.mastery["rep_id"].tolist(), a.mastery["skill_id"].tolist(), a.mastery["mastery"].tolist(), strict=True)]
    current = [{"rep_id": r, "kpi": k, "attainment": None if v != v else float(v)} for r, k, v in zip(
        a.current["rep_id"].tolist(), a.current["kpi"].tolist(), a.current["attainment"].tolist(), strict=True)]
    return hiring_profile(mastery, current, a.kpis, a.skills, min_group, shown)


def scorecard_weights(profile: list[dict]) -> dict[str, int]:
    """Skill id -> how many KPIs list it among the skills that separate top from bottom performers."""
    out: dict[str, int] = {}
    for entry in profile:
        for s in entry["skills"]:
            out[s["skill"]] = out.get(s["skill"], 0) + 1
    return out


# --- the plan, from the store ------------------------------------------------------------------------

PLAN_COLUMNS = ("quarter", "role", "target", "expected", "hires", "with_hires", "open_by", "reachable")
MAX_ATTRITION = 0.95         # a measured rate is capped here, so that someone always stays


@dataclass
class HiringPlan:
    """The plan and what it assumed: see the module's docstring."""

    start: date
    quarters: list[str]
    current: float
    final: float
    roles: dict[str, Role]
    plans: list[RolePlan]
    time_to_hire_days: int
    hires_measured: dict[str, int]     # role -> reps with a revenue value in their first months since hire

    def start_day(self, month: int) -> date:
        return add_months(self.start, month)

    def rows(self) -> list[dict]:
        """One row per quarter and role (:data:`PLAN_COLUMNS`): the role's share of the quarter's target,
        what today's team is expected to deliver, the hires who start in the quarter, what the team
        delivers with every hire of the plan, the day the quarter's first hire's requisition must open,
        and whether the quarter's target can be reached at all."""
        out = []
        for q, label in enumerate(self.quarters):
            for p in self.plans:
                starts = [s for s in p.starts if s // 3 == q]
                open_by = self.start_day(starts[0]) - timedelta(days=self.time_to_hire_days) if starts else None
                out.append({"quarter": label, "role": p.role, "target": round(p.target[q], 2),
                            "expected": round(p.base[q], 2), "hires": p.hires[q],
                            "with_hires": round(p.delivered[q], 2),
                            "open_by": None if open_by is None else max(open_by, self.start).isoformat(),
                            "reachable": q not in p.unreachable})
        return out

    @property
    def total(self) -> int:
        return sum(p.total for p in self.plans)


def _attrition(roster: list[dict], role: str, today: date, settings: dict, hire_date: Callable) -> tuple[
        float, dict]:
    leavers, headcount = measured_attrition(roster, role, today, settings["attrition_months"], hire_date)
    if headcount < settings["min_headcount"]:
        return settings["default_attrition"], {}
    rate = min(MAX_ATTRITION, leavers / headcount * 12 / settings["attrition_months"])
    return rate, {"leavers": leavers, "headcount": headcount, "months": settings["attrition_months"]}


def hiring_plan(whole: Analysis, roster: list[dict], settings: dict, *, horizon: int, target: float | None = None,
                growth: float | None = None, team: str | None = None) -> HiringPlan:
    """The plan for the whole store or one ``team``. Ramp curves, steady attainment and attrition are
    measured over the whole store (every team's reps of the role); today's revenue and team are the
    scope's. ``roster``: :func:`.queries.roster_dates`; ``settings``: :func:`~spm_training.settings.load_hiring`."""
    if (target is None) == (growth is None):
        raise InputError("spm hiring-plan", "give one of --target and --growth",
                         fix="--target 500000 (revenue per quarter, EUR) or --growth 20 (percent)")
    if horizon < 1 or horizon > 20:
        raise InputError("--horizon", f"the horizon must be from 1 to 20 quarters, not {horizon}",
                         fix="give --horizon 4 for a year")
    if target is not None and (not math.isfinite(target) or target < 0):
        raise InputError("--target", f"the target must be a revenue of at least 0, not {target:g}",
                         fix="give revenue per quarter in EUR, e.g. --target 500000")
    if growth is not None and (not math.isfinite(growth) or growth <= -100):
        raise InputError("--growth", f"growth must be a percentage above -100, not {growth:g}",
                         fix="give e.g. --growth 20 for 20% more revenue per quarter")
    today = whole.today
    start = plan_start(today)
    left = {r["rep_id"]: _day(r["left_on"]) for r in roster}
    here = [r for r in whole.rep_ids if left.get(r) is None or left[r] > today]  # type: ignore[operator]
    scope = [r for r in here if team is None or whole.index.reps[r]["team"] == team]
    if team is not None and not any(whole.index.reps[r]["team"] == team for r in whole.rep_ids):
        known = ", ".join(sorted(whole.team_ids())) or "none yet"
        raise NotFoundError(f"no team '{team}' in the store; teams: {known}")
    revenue = whole.current[whole.current["kpi"] == "revenue"]
    stored: dict[str, list[float]] = {}
    past = whole.history[(whole.history["kpi"] == "revenue") & whole.history["target"].notna()]
    for r, p, v in zip(past["rep_id"].tolist(), past["period"].tolist(), past["target"].tolist(), strict=True):
        if r in whole.index.reps:
            stored.setdefault(whole.index.reps[r]["role"], []).append(current_revenue(float(v), p))
    quotas = revenue_roles(whole.kpis, stored)
    now = {r: (p, float(v), None if a != a else float(a)) for r, p, v, a in zip(
        revenue["rep_id"].tolist(), revenue["period"].tolist(), revenue["value"].tolist(),
        revenue["attainment"].tolist(), strict=True) if v == v}
    current = sum(current_revenue(v, p) for r, (p, v, _) in now.items() if r in set(scope))
    if growth is not None and current <= 0:
        raise NotFoundError("no revenue measured for the team's reps in the current period to grow from; "
                            "give --target (revenue per quarter, EUR) instead")
    final = target if target is not None else current * (1 + growth / 100)  # type: ignore[operator]
    history = _revenue_history(whole)
    default = settings["default_ramp"]
    roles, measured_hires = {}, {}
    for role, quota in quotas.items():
        members = [r for r in whole.rep_ids if whole.index.reps[r]["role"] == role]
        points = []
        for r in members:
            hired = whole.hire_date(r)
            pairs = history.get(r, [])
            if hired is not None and pairs:
                found = tenure_points(pairs, hired)
                if 1 in found:
                    points.append(found)
        curve, curve_ok = measured_curve(points, default, settings["min_hires"])
        measured_hires[role] = len(points)
        ramped: list[float] = []
        for r in members:
            hired = whole.hire_date(r)
            own = now[r][2] if r in now else None
            if r in here and own is not None and (hired is None or months_between(hired, today) + 1 > len(curve)):
                ramped.append(own)
        enough = len(ramped) >= settings["min_hires"]
        steady = sum(ramped) / len(ramped) if enough else 1.0
        rate, measured = _attrition(roster, role, today, settings, lambda rep: whole.window.hire_date(rep["hire_date"]))
        reps = []
        for r in scope:
            if whole.index.reps[r]["role"] != role:
                continue
            hired = whole.hire_date(r)
            tenure = months_between(hired, start) + 1 if hired is not None else len(curve) + 1
            period, value, level = now.get(r, ("", 0.0, None))
            if level:               # their own target a quarter: the revenue over the attainment
                reps.append(Rep(tenure=max(1, tenure), attainment=level, quota=current_revenue(value, period) / level))
            else:
                reps.append(Rep(tenure=max(1, tenure)))
        source = ("the KPI catalog's default" if whole.kpis["revenue"].target_for(role, "quarter")
                  else "the mean of the store's revenue targets")
        roles[role] = Role(quota=quota, quota_source=source, curve=curve, steady=steady, attrition=rate,
                           reps=tuple(reps), curve_measured=curve_ok, steady_measured=len(ramped) if enough else 0,
                           attrition_measured=measured)
    plans = compute_plan(roles, current, final, horizon, settings["time_to_hire_days"])
    labels = [period_of(add_months(start, 3 * q), "quarter") for q in range(horizon)]
    return HiringPlan(start=start, quarters=labels, current=current, final=final, roles=roles, plans=plans,
                      time_to_hire_days=settings["time_to_hire_days"], hires_measured=measured_hires)


def _revenue_history(whole: Analysis) -> dict[str, list[tuple[str, float]]]:
    """rep id -> (period, revenue attainment) of every revenue value with a target."""
    part = whole.history[(whole.history["kpi"] == "revenue") & whole.history["attainment"].notna()]
    out: dict[str, list[tuple[str, float]]] = {}
    for rep_id, period, value in zip(part["rep_id"].tolist(), part["period"].tolist(), part["attainment"].tolist(),
                                     strict=True):
        out.setdefault(rep_id, []).append((period, float(value)))
    return out
