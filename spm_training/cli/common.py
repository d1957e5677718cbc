"""What every ``spm`` command shares: the environment, error handling and output options."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..catalog import load_kpis, load_skills
from ..errors import SpmError
from ..output import FORMATS
from ..store import Store, find_project_root, open_store, resolve_db_path


@dataclass
class Env:
    """What every command needs: where the store, the course and the project are."""

    db: str | None
    course: str | None

    @functools.cached_property
    def project_root(self) -> Path | None:
        return find_project_root()

    @property
    def course_dir(self) -> Path:
        if self.course:
            return Path(self.course)
        return (self.project_root or Path.cwd()) / "assessments"

    @property
    def db_path(self) -> Path:
        return resolve_db_path(self.db)

    def store(self, *, create: bool = True) -> Store:
        return open_store(self.db_path, create=create)

    def kpis(self) -> dict:
        return load_kpis(self.project_root)

    def skills(self) -> dict:
        return load_skills(self.course_dir, self.kpis())


class SpmGroup(click.Group):
    """Turns SpmError anywhere below into ``Error: <one line>`` and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpmError as exc:
            raise click.ClickException(str(exc)) from None


def format_option(default: str = "table", choices: tuple[str, ...] = FORMATS) -> Callable:
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format: a table for people, CSV or JSON (an array of objects) for tools.")


pass_env = click.make_pass_decorator(Env)
