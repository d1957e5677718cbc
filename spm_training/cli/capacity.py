"""``spm capacity`` and ``spm hiring-plan``: thin commands over :mod:`spm_training.analysis.capacity` and
:mod:`spm_training.analysis.hiring`, with the assumptions printed for people."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import click

from .. import formatting as fm
from ..output import render, to_table
from ..project import Project
from ..settings import load_capacity, load_hiring
from ..text import plural
from .common import format_option, pass_project

if TYPE_CHECKING:
    from ..analysis.facade import Analysis
    from ..analysis.hiring import HiringPlan
    from ..catalog import Kpi

WIDTH = 80
#: short column titles for the load measures (others take the KPI's name)
LABELS = {"activities": "Activities", "pipeline_generated": "Pipeline", "accounts": "Accounts"}
PER = {"month": "a month", "quarter": "a quarter"}


def _wrap(text: str, indent: str = "") -> str:
    return "\n".join(textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False))


def _loads(project: Project, team: str | None) -> tuple[dict, list[str], list[dict], list[dict]]:
    from ..analysis.capacity import load_current, rep_loads, team_loads
    from .common import resolve_scope

    capacity = load_capacity(project.settings_path)
    with project.open_store(write=False) as store:
        team, _ = resolve_scope(store, team, None)
        reps, current, kpis, _ = load_current(store, project, team)
    measured, rows = rep_loads(current, reps, capacity, kpis)
    return kpis, measured, rows, team_loads(rows)


def _team_loads(project: Project, whole: Analysis, roster: list[dict], team: str | None) -> list[dict]:
    """Each team's load, from an analysis already made (the hiring plan's), for its reps still here."""
    from ..analysis.capacity import active_reps, rep_loads, team_loads

    scope = whole if team is None else whole.scoped([r for r in whole.rep_ids if whole.index.reps[r]["team"] == team])
    reps = active_reps(scope.reps, {r["rep_id"]: r["left_on"] for r in roster}, scope.today)
    _, rows = rep_loads(scope.current, reps, load_capacity(project.settings_path), scope.kpis)
    return team_loads(rows)


@click.command("capacity")
@click.option("--team", metavar="TEAM", help="Only this team's reps (its name, in any case).")
@format_option()
@pass_project
def capacity(project: Project, team: str | None, fmt: str) -> None:
    """Each rep's and each team's load against capacity: activities, pipeline and accounts per rep.

    A rep's load on a KPI is its value in the KPI's latest period against the capacity of one rep of their
    role (spm.yml capacity:, else the defaults: activities a month SDR 1,100, AE 400, AM 300; pipeline
    generated a quarter SDR EUR 200,000, AE EUR 480,000; accounts AE 40, AM 60). A rep is over capacity
    above 100% on any KPI; a team whose every rep is over capacity is full: time to hire.
    """
    kpis, measured, rows, teams = _loads(project, team)
    if fmt != "table":
        click.echo(render(_flat(measured, rows, teams), fmt, _columns(measured)))
        return
    if not rows:
        click.echo("no reps on the roster")
        return
    if not measured:
        click.echo(_wrap("No load measured: the store has no value of the capacity KPIs (activities, "
                         "pipeline_generated, accounts) for these reps. Import a CRM export with spm crm import "
                         "(--activities for activities) or a KPI file."))
        return
    click.echo(_wrap("Capacity per rep: " + "; ".join(
        f"{_label(kpis, k)} {_per(kpis, k)}: " + ", ".join(
            f"{role} {fm.number(value, 0)}" for role, value in load_capacity(project.settings_path)[k].items())
        for k in measured) + "."))
    for t in teams:
        click.echo("")
        members = [r for r in rows if r["team"] == t["team"]]
        head = (f"Team {t['team']}: {t['over']} of {plural(t['measured'], 'measured rep')} over capacity, "
                f"mean load {fm.percent(t['mean_load'])}.")
        if t["full"]:
            head += " The team is full: every rep is over capacity, so this is the time to hire (spm hiring-plan)."
        click.echo(_wrap(head))
        table = [{"Rep": r["name"], "Role": r["role"],
                  **{_label(kpis, k): fm.percent(r[f"{k}_load"]) if r[f"{k}_load"] is not None else "-"
                     for k in measured},
                  "Load": fm.percent(r["load"]) if r["load"] is not None else "-",
                  "": "over capacity" if r["over"] else ""}
                 for r in sorted(members, key=lambda r: (-(r["load"] or -1), r["name"]))]
        click.echo(to_table(table, right=[_label(kpis, k) for k in measured] + ["Load"]))


def _label(kpis: dict[str, Kpi], kpi: str) -> str:
    kpi_def = kpis.get(kpi)
    return LABELS.get(kpi, kpi_def.name if kpi_def else kpi)


def _per(kpis: dict[str, Kpi], kpi: str) -> str:
    kpi_def = kpis.get(kpi)
    if kpi_def is None or kpi_def.aggregation != "sum":
        return "held"
    return PER.get(kpi_def.period, kpi_def.period)


def _columns(measured: list[str]) -> list[str]:
    per = [c for k in measured for c in (k, f"{k}_period", f"{k}_capacity", f"{k}_load")]
    return ["level", "team", "rep_id", "name", "role", *per, "load", "over_capacity", "reps", "reps_over", "full"]


def _flat(measured: list[str], rows: list[dict], teams: list[dict]) -> list[dict]:
    """Rep rows, then team rows (``level``), under one set of columns for CSV and JSON."""
    columns = _columns(measured)
    out = []
    for r in rows:
        row = {c: r.get(c) for c in columns}
        row.update(level="rep", over_capacity=r["over"], reps=None, reps_over=None, full=None)
        out.append(row)
    for t in teams:
        row = dict.fromkeys(columns)
        row.update(level="team", team=t["team"], load=t["mean_load"], reps=t["measured"], reps_over=t["over"],
                   full=t["full"])
        out.append(row)
    return out


# --- spm hiring-plan -----------------------------------------------------------------------------------

@click.command("hiring-plan")
@click.option("--target", type=float, metavar="REVENUE",
              help="Revenue per quarter (EUR) to reach in the horizon's last quarter.")
@click.option("--growth", type=float, metavar="PCT",
              help="Or: today's quarterly revenue raised by PCT percent in the horizon's last quarter.")
@click.option("--horizon", type=int, required=True, metavar="QUARTERS", help="Quarters to plan, from next quarter.")
@click.option("--team", metavar="TEAM", help="Only this team (its name, in any case).")
@format_option()
@pass_project
def hiring_plan(project: Project, target: float | None, growth: float | None, horizon: int, team: str | None,
                fmt: str) -> None:
    """The hires needed per quarter and role to cover a revenue target, and the assumptions behind them.

    From each role's ramp curve (revenue attainment by month since hire, measured in the store; the
    default of spm.yml hiring: when there are too few hires), its attrition (reps who left the roster), and
    the time to hire (spm.yml hiring: time_to_hire_days, default 60). A hire counts only for what the ramp
    curve says they deliver in each quarter.
    """
    from ..analysis.facade import analyse
    from ..analysis.hiring import PLAN_COLUMNS
    from ..analysis.hiring import hiring_plan as compute
    from ..analysis.queries import roster_dates
    from .common import resolve_scope

    settings = load_hiring(project.settings_path)
    with project.open_store(write=False) as store:
        team, _ = resolve_scope(store, team, None)
        whole = analyse(store, project, detail=False)
        roster = roster_dates(store)
    plan = compute(whole, roster, settings, horizon=horizon, target=target, growth=growth, team=team)
    if fmt != "table":
        click.echo(render(plan.rows(), fmt, PLAN_COLUMNS))
        return
    click.echo(plan_text(plan, team, growth))
    teams = _team_loads(project, whole, roster, team)
    full = [t["team"] for t in teams if t["full"]]
    over = sum(t["over"] for t in teams)
    measured = sum(t["measured"] for t in teams)
    if measured:
        click.echo("")
        note = (f"Capacity today: {over} of {plural(measured, 'measured rep')} over capacity; "
                + (f"full: {', '.join(full)} (every rep over capacity)." if full else
                   "no team is full yet, so some of the growth may fit the reps there are (spm capacity)."))
        click.echo(_wrap(note))


def plan_text(plan: HiringPlan, team: str | None, growth: float | None) -> str:
    """The plan for people: what it covers, the table, the total and every assumption."""
    scope = f"team {team}" if team else "the whole organisation"
    change = f" ({'+' if growth >= 0 else ''}{fm.number(growth, 0)}%)" if growth is not None else ""
    lines = [_wrap(f"Hiring plan for {scope}, {plan.quarters[0]} to {plan.quarters[-1]}: revenue per quarter "
                   f"from {fm.money(plan.current)} today to {fm.money(plan.final)}{change} in "
                   f"{plan.quarters[-1]}, on a straight line."), ""]
    table = [{"Quarter": r["quarter"], "Role": r["role"], "Target": fm.money(r["target"]),
              "Without hires": fm.money(r["expected"]), "Hires": r["hires"],
              "With hires": fm.money(r["with_hires"]) + ("" if r["reachable"] else " *"),
              "Open by": r["open_by"] or ""} for r in plan.rows()]
    lines.append(to_table(table, right=["Target", "Without hires", "With hires"]))
    by_role = ", ".join(f"{p.role} {p.total}" for p in plan.plans)
    lines += ["", _wrap(f"Total: {plural(plan.total, 'hire')} ({by_role}). 'Open by' is the day the quarter's "
                        f"first requisition must open, time to hire before the start.")]
    if any(p.unreachable for p in plan.plans):
        lines.append(_wrap("* Out of reach: no hire whose requisition opens on the plan's first day starts in time "
                           "to close this quarter's gap."))
    lines += ["", "Assumptions:"]
    first = min((min(p.starts) for p in plan.plans if p.starts), default=None)
    from ..analysis.hiring import role_shares, start_month

    month = start_month(plan.time_to_hire_days)
    lines.append(_wrap(f"- Time to hire: {plan.time_to_hire_days} days (spm.yml hiring: time_to_hire_days): a "
                       f"requisition opened on {plan.start.isoformat()} fills from "
                       f"{plan.start_day(month).isoformat()}, month {month + 1} of the plan."
                       + ("" if first is None else f" The first hire starts {plan.start_day(first).isoformat()}."),
                       "  "))
    shares = role_shares(plan.roles)
    lines.append(_wrap("- The target is split by role as today's quarterly targets are: "
                       + ", ".join(f"{r} {fm.percent(s)}" for r, s in shares.items()) + ".", "  "))
    for name, role in plan.roles.items():
        measured = sum(role.curve_measured)
        mixed = 0 < measured < len(role.curve)
        curve = ", ".join(fm.percent(v) + ("*" if mixed and not ok else "") for v, ok in
                          zip(role.curve, role.curve_measured, strict=True))
        months = "month 1" if len(role.curve) == 1 else f"months 1 to {len(role.curve)}"
        source = ("the default (spm.yml hiring: default_ramp): too few hires measured" if not measured else
                  f"measured on {plural(plan.hires_measured[name], 'hire')}"
                  + (f", {measured} of {len(role.curve)} months; * the default" if mixed else ""))
        steady = (f"{fm.percent(role.steady)}, the mean of {role.steady_measured} ramped reps" if role.steady_measured
                  else "100%, the default: too few ramped reps measured")
        m = role.attrition_measured
        attrition = (f"{fm.percent(role.attrition)} a year: {plural(m['leavers'], 'leaver')} over {m['months']} "
                     f"months, average headcount {fm.number(m['headcount'], 1)}" if m else
                     f"{fm.percent(role.attrition)} a year, the default (spm.yml hiring: default_attrition): "
                     "too few reps to measure")
        lines.append(_wrap(f"- {name}: {fm.money(role.quota)} revenue target per rep a quarter ({role.quota_source}); "
                           f"ramp (revenue attainment in {months} since hire) {curve} ({source}); "
                           f"after that {steady}; attrition {attrition}.", "  "))
    return "\n".join(lines)
