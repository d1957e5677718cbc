"""``spm backup`` and ``spm restore``: copies of the store through SQLite's online backup."""

from __future__ import annotations

from pathlib import Path

import click

from ..project import Project
from ..text import plural
from .common import pass_project


def _contents(counts: dict[str, int]) -> str:
    return (f"{plural(counts['reps'], 'rep')}, {plural(counts['kpi_values'], 'KPI value')}, "
            f"{plural(counts['scores'], 'score')}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@pass_project
def backup(project: Project, file: str, force: bool) -> None:
    """Copy the store to FILE, safely while others read and write it.

    Uses SQLite's online backup into a temporary file beside FILE, checks the copy (SQLite's integrity
    check, an spm store) and only then renames it to FILE: a failed backup leaves nothing. The copy is
    one self-contained file. An existing FILE is refused unless --force.
    """
    from ..store import backup_store

    with project.open_store(write=False) as store:
        result = backup_store(store, file, force=force)
    click.echo(f"backed up {project.db_path} to {result.path}: {_contents(result.counts)}, "
               f"{result.size:,} bytes, integrity ok")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the store's contents.")
@pass_project
def restore(project: Project, file: str, yes: bool) -> None:
    """Replace the store's contents with the backup FILE.

    FILE must pass SQLite's integrity check and be an spm store of this version or an older one (it is
    then upgraded). The store is overwritten through SQLite's backup API under its write lock, so
    readers that have it open keep working and see the old contents or the new, never a mix. Asks
    first, unless --yes.
    """
    from ..store import SCHEMA_VERSION, inspect_backup, restore_store

    version, counts = inspect_backup(file)
    older = f"; schema version {version}, upgraded to {SCHEMA_VERSION} after the restore" \
        if version < SCHEMA_VERSION else ""
    if not yes:
        click.confirm(f"Replace the contents of {project.db_path} with {file} ({_contents(counts)}{older})?",
                      abort=True)
    result = restore_store(project.db_path, Path(file), busy_timeout=project.busy_timeout)
    click.echo(f"restored {result.source} into {result.path}: {_contents(result.after)} "
               f"(it held {_contents(result.before)})")
