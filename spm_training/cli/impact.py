"""``spm trainings import|list`` and ``spm impact``: trainings as data, and whether a programme moved a KPI."""

from __future__ import annotations

import textwrap

import click

from ..output import render, to_table
from ..project import Project
from ..text import plural
from .common import SpmGroup, format_option, pass_project

#: The flat fields of ``spm impact`` (CSV columns; the JSON object starts with them).
IMPACT_COLUMNS = ("program", "kpi", "effect", "ci_low", "ci_high", "n_treated", "n_control", "n_never_trained",
                  "verdict", "direction", "method", "reason")
TRAINING_COLUMNS = ("rep_id", "program", "completed_on", "hours", "kind", "source")


@click.group(cls=SpmGroup)
def trainings() -> None:
    """Trainings completed: imported programmes and the course's assignments."""


@trainings.command("import")
@click.argument("file", type=click.Path(dir_okay=False), metavar="FILE.csv")
@pass_project
def trainings_import(project: Project, file: str) -> None:
    """Import completed trainings from FILE.csv (rep_id,program,completed_on[,hours]), all or nothing.

    A workshop, an online course or any programme outside the course: one row per rep and completion,
    dates as YYYY-MM-DD inside the date window (dates: in spm.yml), hours optional. Every rep must be in
    the roster. Importing the same file twice changes nothing the second time.
    """
    from ..ingest.trainings import import_trainings

    with project.open_store(create=False) as store:
        result = import_trainings(store, file, window=project.date_window)
    click.echo(f"{file}: {plural(result.rows, 'completion')} of {plural(len(result.programs), 'programme')}: "
               f"{result.inserted} new, {result.updated} updated, {result.unchanged} unchanged")


@trainings.command("list")
@click.option("--program", metavar="PROGRAM", help="Only this programme.")
@format_option()
@pass_project
def trainings_list(project: Project, program: str | None, fmt: str) -> None:
    """List every completed training, imported ones and the course's assignments.

    An assignment counts as completed once none of its answers awaits a manual grade, on the date of
    the rep's submission (the store keeps nbgrader's submission time, not the time of grading).
    """
    from ..analysis.queries import training_rows

    with project.open_store(write=False) as store:
        rows = training_rows(store, program)
    click.echo(render(rows, fmt, TRAINING_COLUMNS))


@click.command("impact")
@click.option("--program", required=True, metavar="PROGRAM", help="The programme (or course assignment).")
@click.option("--kpi", required=True, metavar="KPI", help="The KPI id (spm kpis list).")
@click.option("--team", metavar="TEAM", help="Only this team's reps (default: the whole organisation).")
@format_option()
@pass_project
def impact(project: Project, program: str, kpi: str, team: str | None, fmt: str) -> None:
    """The effect of completing PROGRAM on KPI: did the training move the numbers?

    A staggered difference-in-differences (Callaway & Sant'Anna): each cohort of reps trained in the
    same period is compared with the reps not trained yet and the reps never trained, from the period
    before the training on. The 95% interval comes from randomisation inference: completion dates are
    shuffled 999 times inside each team (seeded, so the same data give the same interval). The verdict
    is helped, hurt, inconclusive (the interval includes zero) or not enough data (fewer than 5 trained
    reps or 5 reps to compare with).
    """
    from ..analysis.impact import training_impact
    from ..reports.impact_view import summary
    from .common import resolve_scope

    catalog = project.kpis
    with project.open_store(write=False) as store:
        team, _ = resolve_scope(store, team, None)
        result = training_impact(store, catalog, program, kpi, team=team)
    data = result.to_dict()
    if fmt == "json":
        click.echo(render([data], fmt))
        return
    if fmt == "csv":
        click.echo(render([{c: data[c] for c in IMPACT_COLUMNS}], fmt, IMPACT_COLUMNS))
        return
    for line in report_lines(summary(result, catalog.get(kpi)), team):
        click.echo(line)


def report_lines(view: dict, team: str | None) -> list[str]:
    """The table format: the estimate, the counts and verdict, the cohorts, the placebo check, caveats."""
    scope = f"team {team}" if team else "the organisation"
    lines = [f"Effect of {view['program']} on {view['kpi_name']} ({view['kpi']}, {view['better']} is better), "
             f"{scope}:"]
    if view["verdict"] == "not enough data":
        lines += [f"  not enough data: {view['reason']}"]
    else:
        lines += [f"  effect {view['effect']} per trained rep and period, 95% interval {view['interval']}",
                  f"  {view['n_treated']} trained reps, {view['n_control']} reps to compare with "
                  f"({view['n_never']} never trained)",
                  f"  verdict: {view['verdict_text']}"]
        if view["cohorts"]:
            lines += ["", "By cohort (the period of completion):",
                      to_table(view["cohorts"], ("period", "n", "effect", "interval"),
                               headers={"n": "reps"}, right=("effect", "interval"))]
        lines += ["", view["placebo"]]
    if view["trained_before"]:
        lines.append(f"{view['trained_before']} reps trained before their first KPI value are left out.")
    lines += ["", "Caveats:"] + [textwrap.fill(c, 100, initial_indent="- ", subsequent_indent="  ")
                                 for c in view["caveats"]]
    lines += ["", textwrap.fill(f"Method: {view['method']}.", 100)]
    return lines
