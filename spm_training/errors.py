"""The package's exceptions. The CLI turns each into a one-line ``Error: ...`` and exit code 1."""

from __future__ import annotations

from pathlib import Path


class SpmError(Exception):
    """Base class: a problem the user can fix, described in one line."""


class InputError(SpmError):
    """A file the user gave us is malformed; the message names the file, the line and the fix."""

    def __init__(self, path: str | Path, problem: str, *, line: int | None = None,
                 column: str | None = None, fix: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.problem = problem
        self.fix = fix
        where = self.path if line is None else f"{self.path}:{line}"
        if column:
            where += f" (column {column})"
        message = f"{where}: {problem}"
        if fix:
            message += f"; {fix}"
        super().__init__(message)


class CatalogError(InputError):
    """A catalog (kpis.yml, skills.yml) is malformed or inconsistent."""


class StoreError(SpmError):
    """The store cannot be opened or is from an incompatible version."""


class NotFoundError(SpmError):
    """A rep, team, KPI, skill or assignment named on the command line does not exist."""
