"""What every ``spm`` command shares: the project, error handling and output options."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..errors import NotFoundError, SpmError
from ..output import FORMATS
from ..project import Project

if TYPE_CHECKING:
    from ..store import Store


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


# --- naming a rep or a team on the command line -------------------------------------------------------

def resolve_scope(store: Store, team: str | None, rep: str | None) -> tuple[str | None, str | None]:
    """The team id and rep id that ``--team``/``--rep`` (or a report's argument) name.

    A team matches its id in any case ("closers" is Closers). A rep matches their id, else their full
    name in any case ("ines quist"), else a first or last name or the start of one ("Ines", "quist")
    when exactly one rep has it; a name that fits several reps is refused with their ids. A team or rep
    that matches nothing is passed on as given, for the analysis to say what exists."""
    from ..analysis.queries import rep_rows

    if team is None and rep is None:
        return None, None
    reps = rep_rows(store)
    if team is not None:
        teams = {r["team"] for r in reps}
        if team not in teams:
            team = next((t for t in sorted(teams) if t.casefold() == team.strip().casefold()), team)
    if rep is not None:
        rep = _resolve_rep(reps, rep)
    return team, rep


#: How many of the reps an ambiguous name matches the error lists (it stays one readable line).
SHOWN_MATCHES = 8


def _resolve_rep(reps: list[dict], text: str) -> str:
    if any(r["rep_id"] == text for r in reps):
        return text
    wanted = " ".join(text.split()).casefold()
    if not wanted:
        return text
    for matches in ([r for r in reps if r["rep_id"].casefold() == wanted],
                    [r for r in reps if " ".join((r["name"] or "").split()).casefold() == wanted],
                    [r for r in reps if any(part.startswith(wanted) for part in (r["name"] or "").casefold().split())
                     or (r["name"] or "").casefold().startswith(wanted)]):
        if len(matches) == 1:
            return matches[0]["rep_id"]
        if len(matches) > 1:
            found = sorted(matches, key=lambda r: r["rep_id"])
            listed = ", ".join(f"{r['rep_id']} ({r['name']})" for r in found[:SHOWN_MATCHES])
            if len(found) > SHOWN_MATCHES:
                listed += f" and {len(found) - SHOWN_MATCHES} more"
            raise NotFoundError(f"'{text}' matches {len(matches)} reps: {listed}; give one of the ids")
    return text
