"""``spm crm``: KPI values derived from CRM exports (a thin layer over :mod:`spm_training.ingest.crm`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..ingest.crm_mapping import preset_names
from ..periods import PERIOD_KINDS
from ..project import Project
from ..text import plural
from .common import SpmGroup, pass_project

if TYPE_CHECKING:  # crm pulls in pandas: imported when an import runs, not when spm starts
    from ..ingest.crm import CrmImportResult


@click.group(cls=SpmGroup)
def crm() -> None:
    """KPIs from CRM exports: opportunities, and optionally activities and leads."""


@crm.command("import")
@click.argument("opportunities", type=click.Path(dir_okay=False), metavar="OPPORTUNITIES.csv")
@click.option("--activities", type=click.Path(dir_okay=False),
              help="An activities export (owner, date, type, outcome): activities and meetings booked.")
@click.option("--leads", type=click.Path(dir_okay=False),
              help="A leads export (owner, created date, converted date): lead-to-opportunity conversion.")
@click.option("--period", "period_kind", type=click.Choice(PERIOD_KINDS), default="quarter", show_default=True,
              help="Derive the KPIs per month or per quarter.")
@click.option("--preset", type=click.Choice(preset_names()), default="generic", show_default=True,
              help="Column names and values of the export: generic, a Salesforce report or a HubSpot export.")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False), metavar="FILE.yml",
              help="Your own column names, date format or values, laid over the preset (same shape as a preset).")
@click.option("--skip-unmatched", is_flag=True,
              help="Leave out the rows of owners who match no rep, instead of refusing the import.")
@pass_project
def crm_import(project: Project, opportunities: str, activities: str | None, leads: str | None, period_kind: str,
               preset: str, mapping_file: str | None, skip_unmatched: bool) -> None:
    """Derive per-rep KPIs from OPPORTUNITIES.csv (and the optional exports) and import them, all or nothing.

    The generic preset reads owner,account,created_date,close_date,stage,amount,status (won, lost or
    open), with an optional id column: the last row of each id wins. Owners are matched to reps by the
    roster's crm_owner, else their email. Derived: revenue, deals won,
    win rate, average deal size, sales cycle length, pipeline generated and quota attainment; with
    --activities, activities and meetings booked; with --leads, lead-to-opportunity conversion.
    Targets are the catalog's defaults for each rep's role unless a KPI file set them. Importing the
    same exports twice changes nothing the second time.
    """
    from ..ingest.crm import import_crm, load_mapping

    mapping = load_mapping(preset, mapping_file)
    catalog = project.kpis
    with project.open_store(create=False) as store:
        result = import_crm(store, opportunities, catalog, activities=activities, leads=leads,
                            period_kind=period_kind, mapping=mapping, skip_unmatched=skip_unmatched,
                            window=project.date_window)
    for line in summary(opportunities, result):
        click.echo(line)


def summary(opportunities: str, result: CrmImportResult) -> list[str]:
    """What the import read, left out and wrote, one line per fact."""
    dropped = sum(result.duplicates.values())
    lines = [f"{opportunities}: " + ", ".join(f"{n} {kind}" for kind, n in result.rows.items())
             + (f" ({plural(dropped, 'duplicate or superseded row')} dropped)" if dropped else "")]
    if result.skipped:
        names = ", ".join(f"{owner!r} ({n})" for owner, n in sorted(result.skipped.items()))
        lines.append(f"skipped {plural(sum(result.skipped.values()), 'row')} of "
                     f"{plural(len(result.skipped), 'owner')} matching no rep: {names}")
    if result.not_in_catalog:
        lines.append(f"not in the KPI catalog, so not imported: {', '.join(result.not_in_catalog)}")
    span = f", {result.periods[0]} to {result.periods[1]}" if result.periods else ""
    w = result.written
    lines.append(f"{w.rows} KPI values for {result.reps} reps{span}: {w.inserted} new, {w.updated} updated, "
                 f"{w.unchanged} unchanged" + (f", {w.removed} removed (an earlier CRM import gave them; this "
                                              f"export no longer does)" if w.removed else ""))
    return lines
