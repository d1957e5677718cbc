"""The demo dataset as code: one deterministic generator shared by the demo, the tests and the notebooks.

Each rep gets latent skill levels in [0, 1]. KPI attainment is drawn from the skills that
``skills.yml`` links to the KPI, so the analysis has a real relation to recover:

    log(attainment) = 0.35 * (mean linked skill - 0.6) * 2 + rep form + noise

with rep form ~ N(0, 0.08) and noise ~ N(0, 0.10) per period. A value is target × attainment
where higher is better and target ÷ attainment where lower is better.

The data does not contradict itself:

- a rep has KPI values only for the periods that end on or after their hire date; in the period
  they were hired in, the targets of the KPIs that add up over time (``aggregation: sum``: revenue,
  meetings, activities, pipeline) are prorated to the days from the hire date to the period's end,
  and written into the file, as a sales team prorates a new hire's first quota;
- KPIs that the catalog's formulas derive from others are derived, not drawn: quota attainment is
  revenue ÷ the rep's revenue target (so the two attainments are equal), and the average deal size
  is revenue ÷ a whole number of deals won. Revenue is drawn from the skills linked to revenue and
  to quota attainment, so that both keep a relation to their skills.

A programme's effect can be planted (:class:`PlantedEffect`, :data:`PLANTED`): a share of the reps
whose role has the KPI complete the programme, at a random day of the second, third or fourth
quarter (staggered cohorts), the others never; from the quarter of completion on, the KPI's
log-attainment rises by ``lift``. Completions are drawn with a generator of their own, so every
other value is the same with and without the effect.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from ..catalog import Kpi, Skill
from ..periods import period_bounds, period_kind

FIRST_NAMES = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam",
               "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wes", "Xenia",
               "Yusuf", "Zoe", "Amir", "Bea", "Carl", "Dana", "Emil", "Fay", "Gus", "Hana", "Ivo", "Jade")
LAST_NAMES = ("Abbott", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haas", "Ivanova", "Jansen",
              "Kowalski", "Larsen", "Moreau", "Nowak", "Okafor", "Petrov", "Quist", "Rossi", "Silva", "Tanaka",
              "Ulrich", "Varga", "Weber", "Xu", "Yilmaz", "Zeller")
TEAMS = {"SDR": ("Pathfinders", "Marta Keller"), "AE": ("Closers", "Tom Brandt"), "AM": ("Gardeners", "Lena Fox")}
ROLE_SHARE = {"SDR": 0.4, "AE": 0.35, "AM": 0.25}
EFFECT = 0.35          # strength of the skill -> KPI relation on the log-attainment scale
FORM_SD = 0.08
NOISE_SD = 0.10
RATIO_UNITS = ("ratio",)


@dataclass(frozen=True)
class PlantedEffect:
    """A programme that moves one KPI: ``lift`` is added to the log-attainment of the KPI for each
    trained rep from the period of completion on; ``share`` of the reps whose role has the KPI train."""

    program: str
    kpi: str
    lift: float
    share: float = 0.7


#: The demo's programme: a Challenger workshop that lifts win rate by about 28% of its value (e^0.25).
PLANTED = PlantedEffect("Challenger workshop", "win_rate", 0.25)


@dataclass
class DemoData:
    """A generated organisation: roster rows, latent skills, and KPI rows in the long format."""

    roster: list[dict]
    latent: dict[str, dict[str, float]]          # rep id -> skill id -> level in [0, 1]
    kpi_rows: list[dict]
    periods: list[str]
    seed: int
    meta: dict = field(default_factory=dict)
    trainings: list[dict] = field(default_factory=list)     # rep_id, program, completed_on, hours

    def roster_csv(self) -> str:
        return _csv(self.roster, ("id", "name", "email", "team", "manager", "role", "hire_date", "crm_owner", "login",
                                  "manager_login"))

    def kpis_csv(self) -> str:
        return _csv(self.kpi_rows, ("rep_id", "period", "kpi", "value", "target"))

    def trainings_csv(self) -> str:
        return _csv(self.trainings, ("rep_id", "program", "completed_on", "hours"))


def _csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def last_quarters(today: date, n: int) -> list[str]:
    """The ``n`` complete quarters before ``today``, oldest first."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    periods = []
    for _ in range(n):
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
        periods.append(f"{year}-Q{quarter}")
    return periods[::-1]


def manager_login(manager: str) -> str:
    """A team manager's hub login in the demo: their name in lower case, with dots (``marta.keller``)."""
    return ".".join(manager.lower().split())


def make_roster(rng: np.random.Generator, n_reps: int, today: date) -> list[dict]:
    counts = {role: max(1, round(n_reps * share)) for role, share in ROLE_SHARE.items()}
    counts["SDR"] += n_reps - sum(counts.values())
    names = [(f, l) for l in LAST_NAMES for f in FIRST_NAMES]
    picks = rng.permutation(len(names))[:n_reps]
    roster = []
    i = 0
    for role, count in counts.items():
        team, manager = TEAMS[role]
        for _ in range(count):
            first, last = names[picks[i]]
            rep_id = f"{first.lower()}.{last.lower()}"
            # a third of the cohort are new hires (under 120 days), the rest up to two years in
            days = int(rng.integers(14, 120)) if rng.random() < 0.33 else int(rng.integers(120, 730))
            roster.append({
                "id": rep_id, "name": f"{first} {last}", "email": f"{rep_id}@northwind-signal.example",
                "team": team, "manager": manager, "role": role,
                "hire_date": (today - timedelta(days=days)).isoformat(), "crm_owner": f"{first} {last}",
                # hub logins, so that spm serve on the demo store has reps and managers to show pages to
                "login": rep_id, "manager_login": manager_login(manager),
            })
            i += 1
    return roster


def make_latent(rng: np.random.Generator, roster: list[dict], skills: dict[str, Skill]) -> dict[str, dict[str, float]]:
    """Skill levels: a general ability per rep plus a skill-specific part, kept in [0.05, 0.98]."""
    latent = {}
    for rep in roster:
        ability = rng.normal(0.62, 0.12)
        latent[rep["id"]] = {s: float(np.clip(ability + rng.normal(0, 0.12), 0.05, 0.98)) for s in skills}
    return latent


def _round(kpi: Kpi, value: float) -> float:
    if kpi.unit == "count":
        return float(round(value))
    if kpi.unit in RATIO_UNITS:
        return round(min(value, 1.0), 4)
    if kpi.unit.startswith("score"):
        return round(min(value, 5.0), 2)
    if kpi.unit == "days":
        return float(max(1, round(value)))
    return round(value, 2)


#: KPI -> the KPI it is derived from, as the catalog's formula says: quota attainment is revenue ÷ quota.
RATIO_OF_TARGET = {"quota_attainment": "revenue"}
#: KPI -> the KPI it divides by a whole number of deals: the average deal size is revenue ÷ deals won.
PER_DEAL = {"avg_deal_size": "revenue"}


def worked_share(period: str, hire_date: date) -> float:
    """The share of the period's days from the hire date (or the period's start) to its end: 1 for a
    period that starts on or after the hire date, 0 for one that ends before it."""
    start, end = period_bounds(period)
    if end < hire_date:
        return 0.0
    first = max(start, hire_date)
    return ((end - first).days + 1) / ((end - start).days + 1)


def _round_target(kpi: Kpi, target: float) -> float:
    return float(max(1, round(target))) if kpi.unit in ("count", "EUR") else round(target, 2)


def make_trainings(seed: int, roster: list[dict], kpis: dict[str, Kpi], periods: list[str],
                   planted: PlantedEffect) -> list[dict]:
    """Who completed the planted programme and when: a random day of the second to last period."""
    rng = np.random.default_rng([seed, 18])
    rows = []
    for rep in roster:
        train, cohort, offset = rng.random() < planted.share, int(rng.integers(1, len(periods))), rng.random()
        if rep["role"] not in kpis[planted.kpi].roles or not train or len(periods) < 2:
            continue
        start, end = period_bounds(periods[cohort])
        day = start + timedelta(days=int(offset * (end - start).days))
        if day >= date.fromisoformat(rep["hire_date"]):
            rows.append({"rep_id": rep["id"], "program": planted.program, "completed_on": day.isoformat(),
                         "hours": 16})
    return rows


def make_kpi_rows(rng: np.random.Generator, roster: list[dict], latent: dict[str, dict[str, float]],
                  skills: dict[str, Skill], kpis: dict[str, Kpi], periods: list[str],
                  lifted: dict[str, tuple[str, date, float]] | None = None) -> list[dict]:
    """``lifted``: rep id -> (KPI, completion day, lift) of a planted programme."""
    linked = {k: [s.id for s in skills.values() if k in s.kpi_ids] for k in kpis}
    # A base KPI is drawn from its own skills and those of the KPIs derived from it.
    drawn_from = {k: list(dict.fromkeys(linked[k] + [s for d, base in RATIO_OF_TARGET.items() if base == k
                                                     for s in linked.get(d, [])]))
                  for k in kpis}
    rows = []
    for rep in roster:
        form = rng.normal(0, FORM_SD)
        hired = date.fromisoformat(rep["hire_date"])
        for period in periods:
            share = worked_share(period, hired)
            values: dict[str, tuple[float, float | None]] = {}      # KPI -> (value, explicit target)
            for kpi in kpis.values():
                if rep["role"] not in kpi.roles or not linked[kpi.id]:
                    continue
                target = kpi.target_for(rep["role"], period_kind(period))
                if not target:
                    continue
                skill_level = float(np.mean([latent[rep["id"]][s] for s in drawn_from[kpi.id]]))
                # Drawn for every period and KPI, kept or not, so that one rep's values never depend
                # on another's hire date.
                log_att = EFFECT * (skill_level - 0.6) * 2 + form + rng.normal(0, NOISE_SD)
                lift = (lifted or {}).get(rep["id"])
                if lift is not None and lift[0] == kpi.id and period_bounds(period)[1] >= lift[1]:
                    log_att += lift[2]      # trained in or before this period
                if share == 0:
                    continue        # hired after the period ended: no value
                explicit = None
                if share < 1 and kpi.aggregation == "sum":
                    target = explicit = _round_target(kpi, target * share)
                att = float(np.exp(log_att))
                value = target * att if kpi.direction == "higher" else target / att
                values[kpi.id] = (_round(kpi, value), explicit)
            for kpi_id, base in RATIO_OF_TARGET.items():
                if kpi_id in values and base in values:
                    base_value, base_target = values[base]
                    # the base has a value, so it has a target: the prorated one, else the catalog's
                    quota = base_target or kpis[base].target_for(rep["role"], period_kind(period)) or 1.0
                    values[kpi_id] = (round(base_value / quota, 6), None)
            for kpi_id, base in PER_DEAL.items():
                if kpi_id in values and base in values:
                    deals = max(1, round(values[base][0] / values[kpi_id][0]))
                    values[kpi_id] = (round(values[base][0] / deals, 2), None)
            rows += [{"rep_id": rep["id"], "period": period, "kpi": kpi_id, "value": value,
                      "target": "" if target is None else target} for kpi_id, (value, target) in values.items()]
    return rows


def generate(skills: dict[str, Skill], kpis: dict[str, Kpi], *, seed: int = 7, n_reps: int = 30,
             n_quarters: int = 4, today: date | None = None, planted: PlantedEffect | None = None) -> DemoData:
    """The whole demo organisation, the same for the same seed, size and day; with ``planted``, the
    programme's completions and its effect on the KPI."""
    today = today or date.today()
    rng = np.random.default_rng(seed)
    roster = make_roster(rng, n_reps, today)
    latent = make_latent(rng, roster, skills)
    periods = last_quarters(today, n_quarters)
    trainings = make_trainings(seed, roster, kpis, periods, planted) if planted and planted.kpi in kpis else []
    lifted = {t["rep_id"]: (planted.kpi, date.fromisoformat(t["completed_on"]), planted.lift)
              for t in trainings} if planted else None
    rows = make_kpi_rows(rng, roster, latent, skills, kpis, periods, lifted)
    meta = {"effect": EFFECT, "today": today.isoformat()}
    if planted:
        meta["planted"] = planted
    return DemoData(roster=roster, latent=latent, kpi_rows=rows, periods=periods, seed=seed, meta=meta,
                    trainings=trainings)
