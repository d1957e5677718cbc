"""What every ``spm`` command shares: the project, error handling and output options."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import click

from ..errors import SpmError
from ..output import FORMATS
from ..project import Project


class SpmGroup(click.Group):
    """Turns SpmError anywhere below into ``Error: <one line>`` and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpmError as exc:
            raise click.ClickException(str(exc)) from None
        except sqlite3.OperationalError as exc:
            # A lock or a read-only file met by a query outside Store.transaction (which explains its own).
            message = str(exc)
            project = ctx.find_object(Project)
            if project is None or not ("locked" in message or "readonly" in message):
                raise
            from ..store import explain

            raise click.ClickException(str(explain(project.db_path, exc, project.busy_timeout))) from None


def format_option(default: str = "table", choices: tuple[str, ...] = FORMATS) -> Callable:
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format: a table for people, CSV or JSON (an array of objects) for tools.")


#: Hands a command the project that ``spm --db ... --course ...`` opened.
pass_project = click.make_pass_decorator(Project)
