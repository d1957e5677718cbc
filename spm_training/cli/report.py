"""``spm sync``, ``spm gaps`` and ``spm report``: thin commands over sync, analysis and reports."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from ..output import render
from ..project import Project
from .common import SpmGroup, format_option, pass_project


@click.command("sync")
@click.option("--gradebook", metavar="URL",
              help="The nbgrader gradebook, any SQLAlchemy URL (default: the course's db_url, else "
                   "its gradebook.db).")
@pass_project
def sync(project: Project, gradebook: str | None) -> None:
    """Copy nbgrader's gradebook into the store, in one transaction.

    Writes every rep's score on every graded cell (auto, manual, extra credit, whether it awaits a
    manual grade, the trainer's comment, the submission time), with skills from the course's source
    notebooks. A re-sync of an unchanged gradebook changes nothing; students who are not in the
    roster are listed, not synced. A course without skills.yml is synced without skills.
    """
    from ..ingest.sync import summary_lines, sync_gradebook

    # A plain nbgrader course has no skills catalog yet: its scores still sync, with no skills.
    skills, kpis = (project.skills if project.has_skills else {}), project.kpis
    with project.open_store() as store:
        result = sync_gradebook(store, project.gradebook_url(gradebook), project.course_dir, skills, kpis)
    for line in summary_lines(result, no_catalog=None if project.has_skills else project.skills_path):
        click.echo(line)


def _scope_options(func):
    func = click.option("--rep", metavar="REP",
                        help="Only this rep: their id, or their name in any case (a first or last name "
                             "will do when only one rep has it).")(func)
    return click.option("--team", metavar="TEAM", help="Only this team's reps (its name, in any case).")(func)


@click.command("gaps")
@_scope_options
@format_option()
@pass_project
def gaps(project: Project, team: str | None, rep: str | None, fmt: str) -> None:
    """List skill gaps, KPI gaps and linked gaps: the most urgent reps first, linked gaps first for each.

    A skill gap is mastery below the skill's threshold, a KPI gap is attainment below target in the
    KPI's latest period, and a linked gap is both for a skill and one of its KPIs in skills.yml. The
    table counts a rep's gaps as skills (a weak skill with two short KPIs is one linked gap, with both
    KPIs beside it) and fits 80 columns; CSV and JSON give one row per skill and KPI, with exact figures.
    """
    from ..analysis.facade import analyse
    from ..analysis.gaps import GAP_EXPORT_COLUMNS
    from ..analysis.views import rep_gap_counts, team_gaps
    from .common import resolve_scope
    from .gap_table import table

    if team and rep:
        raise click.UsageError("give --team or --rep, not both")
    with project.open_store(write=False) as store:
        team, rep = resolve_scope(store, team, rep)
        analysis = analyse(store, project, team=team, rep=rep, detail=False)
    if fmt != "table":
        click.echo(render(analysis.gap_rows(), fmt, GAP_EXPORT_COLUMNS))
        return
    rows = team_gaps(analysis)
    if not rows:
        who = analysis.rep(rep)["name"] if rep else f"team {team}" if team else f"{len(analysis.rep_ids)} reps"
        click.echo("\n".join(textwrap.wrap(f"no gaps for {who}: every measured skill is at its threshold and "
                                           "every KPI on target", 80)))
        return
    teams = dict(zip(analysis.reps["rep_id"].tolist(), analysis.reps["team"].tolist(), strict=True))
    click.echo(table(rows, rep_gap_counts(analysis), teams, many_teams=len(set(teams.values())) > 1))


@click.group("report", cls=SpmGroup)
def report() -> None:
    """Self-contained HTML reports for managers, reps and trainers."""


def _report_options(func):
    func = click.option("--book-url", metavar="URL",
                        help="Where the built book is, for links to the pages that teach each skill (default: "
                             "the project's _build/html/, relative to the report; else ../book/html/).")(func)
    return click.option("-o", "--output", type=click.Path(dir_okay=False),
                        help="The HTML file to write (default: reports/<kind>-<id>.html in the project).")(func)


def _write(project: Project, kind: str, key: str, output: str | None, book_url: str | None) -> None:
    from ..analysis.facade import analyse
    from ..analysis.queries import report_keys
    from ..reports.build import default_output, team_impact, write_report
    from ..reports.links import BookLinks, default_book_url

    with project.open_store(write=False) as store:
        # the name write_reports gives the same report: unique among the kind's keys (reports.names)
        path = Path(output) if output else default_output(project, kind, key, report_keys(store, kind))
        links = BookLinks(project, book_url if book_url is not None else default_book_url(project, path))
        scope = {"team": key} if kind == "team" else {"rep": key} if kind == "rep" else {}
        # Only a rep's report shows each answer's cell and the trainer's comment.
        analysis = analyse(store, project, detail=kind == "rep", **scope)
        write_report(analysis, kind, key, path, links,
                     impact=team_impact(store, analysis, key) if kind == "team" else None)
    click.echo(f"wrote {path}")


@report.command("team")
@click.argument("team")
@_report_options
@pass_project
def report_team(project: Project, team: str, output: str | None, book_url: str | None) -> None:
    """The manager's report for TEAM (its name, in any case): skills heatmap, KPI attainment, gaps,
    coaching plans, evidence, recognition. It holds only that team's reps."""
    _write(project, "team", _named(project, team=team), output, book_url)


@report.command("rep")
@click.argument("rep")
@_report_options
@pass_project
def report_rep(project: Project, rep: str, output: str | None, book_url: str | None) -> None:
    """The 1:1 report for REP (their id, or their name in any case): strengths, gaps, KPIs against target,
    the trainer's comments, pages and assignments to work on, readiness. It holds only that rep's data."""
    _write(project, "rep", _named(project, rep=rep), output, book_url)


def _named(project: Project, *, team: str | None = None, rep: str | None = None) -> str:
    """The team or rep id that a report's argument names, as ``spm gaps --team/--rep`` resolves it."""
    from .common import resolve_scope

    with project.open_store(write=False) as store:
        found_team, found_rep = resolve_scope(store, team, rep)
    return found_team or found_rep or ""


@report.command("items")
@click.argument("assignment")
@_report_options
@pass_project
def report_items(project: Project, assignment: str, output: str | None, book_url: str | None) -> None:
    """The trainer's item analysis for ASSIGNMENT: per graded cell, attempts, mean, facility,
    discrimination and flags, and the answers still awaiting a manual grade."""
    _write(project, "items", assignment, output, book_url)
