"""``spm sync``, ``spm gaps`` and ``spm report``: thin commands over sync, analysis and reports."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Env, SpmGroup, format_option, pass_env
from ..output import render

GAP_TABLE_COLUMNS = ("rep_id", "kind", "skill", "mastery", "threshold", "pending", "kpi", "period", "attainment")


@click.command("sync")
@click.option("--gradebook", metavar="URL",
              help="The nbgrader gradebook, any SQLAlchemy URL (default: the course's db_url, else "
                   "its gradebook.db).")
@pass_env
def sync(env: Env, gradebook: str | None) -> None:
    """Copy nbgrader's gradebook into the store, in one transaction.

    Writes every rep's score on every graded cell (auto, manual, extra credit, whether it awaits a
    manual grade, the trainer's comment, the submission time), with skills from the course's source
    notebooks. A re-sync of an unchanged gradebook changes nothing; students who are not in the
    roster are listed, not synced.
    """
    from ..nbgrader_io import gradebook_url
    from ..ingest.sync import summary_lines, sync_gradebook

    skills, kpis = env.skills(), env.kpis()
    with env.store() as store:
        result = sync_gradebook(store, gradebook_url(env.course_dir, gradebook), env.course_dir, skills, kpis)
    for line in summary_lines(result):
        click.echo(line)


def _scope_options(func):
    func = click.option("--rep", metavar="REP", help="Only this rep.")(func)
    return click.option("--team", metavar="TEAM", help="Only this team's reps.")(func)


@click.command("gaps")
@_scope_options
@format_option()
@pass_env
def gaps(env: Env, team: str | None, rep: str | None, fmt: str) -> None:
    """List skill gaps, KPI gaps and linked gaps, linked gaps first for each rep.

    A skill gap is mastery below the skill's threshold, a KPI gap is attainment below 1 in the KPI's
    latest period, and a linked gap is both for a skill and one of its KPIs in skills.yml.
    """
    from ..analysis.facade import analyse
    from ..analysis.gaps import GAP_EXPORT_COLUMNS

    if team and rep:
        raise click.UsageError("give --team or --rep, not both")
    skills, kpis = env.skills(), env.kpis()
    with env.store(create=False) as store:
        rows = analyse(store, skills, kpis, team=team, rep=rep, project_root=env.project_root,
                       detail=False, course_dir=env.course_dir).gap_rows()
    if fmt == "table" and not rows:
        click.echo(f"no gaps{' for ' + (rep or team) if rep or team else ''}")
        return
    click.echo(render(rows, fmt, GAP_TABLE_COLUMNS if fmt == "table" else GAP_EXPORT_COLUMNS))


@click.group("report", cls=SpmGroup)
def report() -> None:
    """Self-contained HTML reports for managers, reps and trainers."""


def _report_options(func):
    func = click.option("--book-url", metavar="URL",
                        help="Where the built book is, for links to the pages that teach each skill (default: "
                             "the project's _build/html/, relative to the report; else ../book/html/).")(func)
    return click.option("-o", "--output", type=click.Path(dir_okay=False),
                        help="The HTML file to write (default: reports/<kind>-<id>.html in the project).")(func)


def _write(env: Env, kind: str, key: str, output: str | None, book_url: str | None) -> None:
    from ..analysis.facade import analyse
    from ..analysis.readiness import load_weights
    from ..reports.build import default_book_url, default_output, write_report

    path = Path(output) if output else default_output(env.project_root, kind, key)
    skills, kpis = env.skills(), env.kpis()
    url = book_url if book_url is not None else default_book_url(env.project_root, path)
    with env.store(create=False) as store:
        scope = {"team": key} if kind == "team" else {"rep": key} if kind == "rep" else {}
        # Only a rep's report shows each answer's cell and the trainer's comment.
        analysis = analyse(store, skills, kpis, project_root=env.project_root, book_url=url,
                           weights=load_weights(env.project_root), detail=kind == "rep",
                           course_dir=env.course_dir, **scope)
        write_report(analysis, kind, key, path)
    click.echo(f"wrote {path}")


@report.command("team")
@click.argument("team")
@_report_options
@pass_env
def report_team(env: Env, team: str, output: str | None, book_url: str | None) -> None:
    """The manager's report for TEAM: skills heatmap, KPI attainment, gaps, coaching plans, evidence,
    recognition. It holds only that team's reps."""
    _write(env, "team", team, output, book_url)


@report.command("rep")
@click.argument("rep")
@_report_options
@pass_env
def report_rep(env: Env, rep: str, output: str | None, book_url: str | None) -> None:
    """The 1:1 report for REP: strengths, gaps, KPIs against target, the trainer's comments, pages and
    assignments to work on, readiness. It holds only that rep's data."""
    _write(env, "rep", rep, output, book_url)


@report.command("items")
@click.argument("assignment")
@_report_options
@pass_env
def report_items(env: Env, assignment: str, output: str | None, book_url: str | None) -> None:
    """The trainer's item analysis for ASSIGNMENT: per graded cell, attempts, mean, facility,
    discrimination and flags, and the answers still awaiting a manual grade."""
    _write(env, "items", assignment, output, book_url)
