"""The ``spm`` command: a thin layer over the Python API.

Every command opens the store, calls one function, and turns the package's exceptions into a
one-line ``Error: ...`` with exit code 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import __version__
from ..analysis.export import COLUMNS, EXPORTS, export_rows
from ..output import render
from ..project import Project
from .common import SpmGroup, format_option, pass_project


@click.group(cls=SpmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH", help="The store (default: $SPM_DB, else spm.db beside the nearest _config.yml).")
@click.option("--course", metavar="DIR", help="The nbgrader course folder (default: assessments/ of the project).")
@click.version_option(__version__, prog_name="spm")
@click.pass_context
def cli(ctx: click.Context, db: str | None, course: str | None) -> None:
    """spm: link each rep's assessment results to their KPIs, and report skill gaps.

    Load a roster and KPIs, grade and sync the nbgrader course, then read the gaps and reports.
    Try `spm demo` for the whole loop on generated data.
    """
    ctx.obj = Project.find(db=db, course=course)


# --- roster -------------------------------------------------------------------------------------

@cli.group(cls=SpmGroup)
def roster() -> None:
    """The reps and teams."""


@roster.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--gradebook", metavar="URL", help="nbgrader gradebook URL (default: the course's).")
@pass_project
def roster_import(project: Project, file: str, gradebook: str | None) -> None:
    """Import reps from FILE.csv (id,name,email,team,manager,role,hire_date[,crm_owner] and the hub columns).

    Reps and teams are upserted into the store, and each rep is registered as a student in nbgrader's
    gradebook with the same id. Nothing is written unless the whole file is valid.

    The hub columns, all optional: login (the rep's JupyterHub username, lower case; empty: the id),
    manager_login (the team manager's hub username, the same on every row of a team) and left_on
    (YYYY-MM-DD, the day the rep left). The file is the truth for the columns it has: without a column,
    what the store holds for it stays; with it, an empty cell resets the rep or team to the default.
    """
    from ..ingest.roster import import_roster

    with project.open_store() as store:
        result = import_roster(store, file, project.gradebook_url(gradebook), window=project.date_window)
    click.echo(f"{file}: {result.reps_added} reps added, {result.reps_updated} updated, "
               f"{result.reps_unchanged} unchanged, {result.teams} teams; store {project.db_path}")
    for team, before, now in result.managers_changed:
        click.echo(f"team {team}: manager changed from {before} to {now}")


# --- kpis ---------------------------------------------------------------------------------------

@cli.group(cls=SpmGroup)
def kpis() -> None:
    """The KPI catalog and KPI values."""


@kpis.command("list")
@format_option()
@pass_project
def kpis_list(project: Project, fmt: str) -> None:
    """List the KPI catalog (the package's, or kpis.yml at the project root)."""
    rows = [{"id": k.id, "name": k.name, "unit": k.unit, "direction": k.direction, "period": k.period,
             "aggregation": k.aggregation, "default_target": _target_text(k.default_target),
             "roles": " ".join(k.roles), "definition": k.definition, "formula": k.formula, "goal": k.goal}
            for k in project.kpis.values()]
    columns = None if fmt != "table" else ("id", "name", "unit", "direction", "period", "default_target")
    click.echo(render(rows, fmt, columns))


def _target_text(target: object) -> str:
    if isinstance(target, dict):
        return " ".join(f"{role}:{_number_text(value)}" for role, value in target.items())
    return "" if target is None else _number_text(target)


def _number_text(value: object) -> str:
    # exact, as the exports write numbers (":g" made a target of 1234567 read 1.23457e+06)
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


@kpis.command("check")
@pass_project
def kpis_check(project: Project) -> None:
    """Name every KPI that is not SMART and what is missing; exit 1 if any."""
    catalog = project.kpis
    bad = {k.id: k.smart_problems() for k in catalog.values() if k.smart_problems()}
    for kpi_id, problems in bad.items():
        click.echo(f"{kpi_id}: not SMART: {'; '.join(problems)}")
    if bad:
        raise click.ClickException(f"{len(bad)} of {len(catalog)} KPIs are not SMART")
    click.echo(f"all {len(catalog)} KPIs are SMART")


@kpis.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["auto", "long", "wide"]), default="auto", show_default=True,
              help="long: rep_id,period,kpi,value[,target]; wide: rep_id,period,<kpi>...[,target_<kpi>...].")
@pass_project
def kpis_import(project: Project, file: str, fmt: str) -> None:
    """Import KPI values from FILE.csv, all or nothing.

    Periods are YYYY-Qn or YYYY-MM, inside the date window (by default 2000-01-01 to 31 December five
    years ahead; dates: in spm.yml). An empty or missing target takes the catalog's default for the
    rep's role. Importing the same file twice changes nothing the second time.
    """
    from ..ingest.kpis import import_kpis

    catalog = project.kpis
    with project.open_store() as store:
        result = import_kpis(store, file, catalog, fmt, window=project.date_window)
    click.echo(f"{file}: {result.rows} values: {result.inserted} new, {result.updated} updated, "
               f"{result.unchanged} unchanged")


@kpis.command("remove")
@click.option("--rep", "reps", multiple=True, metavar="REP", help="Only these reps (repeat, or a comma list).")
@click.option("--period", "periods", multiple=True, metavar="PERIOD",
              help="Only these periods: 2026-Q3, 2026-09, or a range such as 2027-Q1..9999-Q4 (an end may be "
                   "left open: 2031-01..).")
@click.option("--kpi", "kpi_ids", multiple=True, metavar="KPI", help="Only these KPIs (repeat, or a comma list).")
@click.option("--source", "sources", multiple=True, metavar="SOURCE",
              help="file (values from KPI files), crm (from CRM imports), or a stored source such as kpis.csv.")
@click.option("--outside-window", is_flag=True,
              help="Only values whose period lies outside the date window (dates: in spm.yml).")
@click.option("--all", "everything", is_flag=True, help="Every KPI value in the store (only on its own).")
@click.option("--dry-run", is_flag=True, help="List what would be removed, and remove nothing.")
@format_option()
@pass_project
def kpis_remove(project: Project, reps: tuple[str, ...], periods: tuple[str, ...], kpi_ids: tuple[str, ...],
                sources: tuple[str, ...], outside_window: bool, everything: bool, dry_run: bool, fmt: str) -> None:
    """Remove the KPI values that match every selector given, in one transaction.

    Give at least one of --rep, --period, --kpi, --source and --outside-window (or --all). Each takes
    several values, repeated or as a comma list; a value goes when it matches one of each. --dry-run
    lists the values (as a table, CSV or JSON with --format) without removing them.
    """
    from ..ingest.remove import COLUMNS, RemoveResult, Selection, remove_kpi_values, select_kpi_values, split_values

    selection = Selection(reps=split_values(reps), periods=split_values(periods), kpis=split_values(kpi_ids),
                          sources=split_values(sources), everything=everything,
                          outside_window=project.date_window if outside_window else None)
    if dry_run:
        with project.open_store(write=False) as store:
            rows = select_kpi_values(store, selection)
        if fmt == "table" and not rows:
            click.echo("no KPI values match: nothing would be removed")
        elif fmt == "table":
            click.echo(render(rows, fmt, COLUMNS))
            click.echo(f"{RemoveResult(rows, 0).summary()} would be removed (dry run: nothing was)")
        else:
            click.echo(render(rows, fmt, COLUMNS))
        return
    with project.open_store(create=False) as store:
        result = remove_kpi_values(store, selection)
    if not result.removed:
        click.echo("no KPI values match: nothing removed")
        return
    click.echo(f"removed {result.summary()} from {project.db_path}")


# --- skills -------------------------------------------------------------------------------------

@cli.group(cls=SpmGroup)
def skills() -> None:
    """The skills catalog (assessments/skills.yml)."""


@skills.command("list")
@format_option()
@pass_project
def skills_list(project: Project, fmt: str) -> None:
    """List the skills with their KPIs, threshold and mastery method."""
    rows = [{"id": s.id, "name": s.name, "threshold": s.threshold, "method": s.method,
             "kpis": " ".join(s.kpi_ids), "pages": " ".join(s.pages), "description": s.description}
            for s in project.skills.values()]
    if fmt != "table":
        click.echo(render(rows, fmt))
        return
    from ..formatting import percent
    from ..output import TABLE_WIDTH, to_table

    # For people: each skill's id with its name under it, and every KPI whole, one a line, in 80 columns.
    people = [{"skill": f"{s.id}\n  {s.name}", "threshold": percent(s.threshold), "method": s.method,
               "kpis": "\n".join(s.kpi_ids) or "(none)"} for s in project.skills.values()]
    click.echo(to_table(people, ("skill", "threshold", "method", "kpis"), width=TABLE_WIDTH, wrap=("kpis",),
                        headers={"skill": "Skill", "threshold": "Threshold", "method": "Mastery method",
                                 "kpis": "KPIs"}, right=("threshold",)))


@skills.command("check")
@pass_project
def skills_check(project: Project) -> None:
    """Check the catalog against the course, its plan and the book; exit 1 on any problem.

    Every graded cell needs points and known skill tags, every skill a graded cell, every page a
    skill names must exist in the book and its TOC, and the onboarding plan (plan.yml) must name only
    the course's assignments and give each of them to a role.
    """
    from ..checks import check_skills
    from ..course import read_items

    catalog = project.skills
    items = read_items(project.course_dir)
    problems = check_skills(catalog, items, project.root, project.course_dir)
    for problem in problems:
        click.echo(problem)
    if problems:
        raise click.ClickException(f"{len(problems)} problems in the skills catalog, course or book")
    click.echo(f"{len(catalog)} skills, {len(items)} graded items: consistent")


@skills.command("init")
@pass_project
def skills_init(project: Project) -> None:
    """Write a first skills.yml for the course from the skill:<id> tags of its graded cells.

    Each tagged id becomes a skill with a name, the default threshold and method, and no KPIs or
    pages yet; a course with no tags gets a commented template. An existing skills.yml is never
    overwritten.
    """
    from ..catalog_init import init_catalog

    path, count = init_catalog(project.course_dir, project.skills_path)
    found = f"{count} skills from the course's tags" if count else "a commented template (no skill tags found)"
    click.echo(f"wrote {path}: {found}; add KPIs and pages, then run spm skills check")


# --- export -------------------------------------------------------------------------------------

@cli.command("export")
@click.argument("what", type=click.Choice(list(EXPORTS)))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
@pass_project
def export(project: Project, what: str, fmt: str, output: str | None) -> None:
    """Export the store's data as CSV or JSON for BI tools and scripts."""
    from ..fileio import write_output

    with project.open_store(write=False) as store:
        text = render(export_rows(store, what, project), fmt, COLUMNS[what]) + "\n"
    if output:
        write_output(Path(output), text)
    else:
        click.echo(text, nl=False)


# --- demo ---------------------------------------------------------------------------------------

@cli.command("demo")
@click.option("--dir", "directory", default="spm-demo", show_default=True, type=click.Path(file_okay=False),
              help="The demo workspace (reused on a rerun).")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated data.")
@click.option("--reps", "n_reps", default=30, show_default=True, help="Number of reps in the generated roster.")
@click.option("--no-book", is_flag=True, help="Skip building the book into the workspace.")
def demo(directory: str, seed: int, n_reps: int, no_book: bool) -> None:
    """Run the whole loop on generated data in a workspace.

    Generates a roster of reps in SDR, AE and AM teams with latent skill levels, four quarters of KPI
    values driven by those skills, imports them through the same code as a user's files, and prints a
    KPI attainment summary.
    """
    from ..demo.loop import run_demo

    run_demo(Path(directory), seed=seed, n_reps=n_reps, build_book=not no_book, echo=click.echo)


# --- commands that live beside their concern (one module each, over its own API) ----------------
# (each later capability adds its command here with one import and one add_command line)
from .crm import crm  # noqa: E402

cli.add_command(crm)
from .report import gaps, report, sync  # noqa: E402

cli.add_command(sync)
cli.add_command(gaps)
cli.add_command(report)
from .grade import grade  # noqa: E402

cli.add_command(grade)
from .admin import backup, restore  # noqa: E402

cli.add_command(backup)
cli.add_command(restore)
from .serve import serve  # noqa: E402

cli.add_command(serve)
from .impact import impact, trainings  # noqa: E402

cli.add_command(trainings)
cli.add_command(impact)
from .capacity import capacity, hiring_plan  # noqa: E402

cli.add_command(capacity)
cli.add_command(hiring_plan)


def main() -> None:
    cli(prog_name="spm")


if __name__ == "__main__":
    sys.exit(main())
