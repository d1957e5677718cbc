"""The roster: reps and teams, from a CSV, into the store and nbgrader's gradebook."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog import ROLES
from ..errors import InputError
from ..nbgrader_io import register_students
from ..periods import DateWindow, parse_day
from ..store import Store
from ..text import shown
from .tabular import first_bad, read_csv

REQUIRED = ("id", "name", "email", "team", "manager", "role", "hire_date")
OPTIONAL = ("crm_owner",)
# nbgrader uses the student id in folder names and URLs: keep it to safe characters.
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class RosterResult:
    reps_added: int
    reps_updated: int
    reps_unchanged: int
    teams: int
    # (team, manager before, manager now) for every team of the store whose manager the import changed
    managers_changed: tuple[tuple[str, str, str], ...] = ()


def parse_roster(path: str | Path, *, window: DateWindow | None = None) -> list[dict]:
    """Read and validate a roster file; returns one dict per rep, in file order.

    Hire dates are ISO dates (YYYY-MM-DD) inside ``window`` (default: :meth:`DateWindow.default`)."""
    path = Path(path)
    window = window or DateWindow.default()
    frame = read_csv(path, required=REQUIRED, optional=OPTIONAL, what="reps")
    if "crm_owner" not in frame.columns:
        frame["crm_owner"] = ""
    for column in ("id", "name", "email", "team", "manager", "role", "hire_date"):
        if (line := first_bad(frame[column] == "")) is not None:
            raise InputError(path, f"'{column}' is empty", line=line, column=column, fix=f"give each rep a {column}")
    if (line := first_bad(~frame["id"].str.match(ID_RE))) is not None:
        raise InputError(path, f"rep id {shown(frame['id'][line])} has characters nbgrader cannot use", line=line,
                         column="id", fix="use letters, digits, '.', '_' and '-' only")
    if (line := first_bad(frame["id"].duplicated())) is not None:
        raise InputError(path, f"rep id {shown(frame['id'][line])} appears twice", line=line, column="id",
                         fix="give each rep one row")
    if (line := first_bad(~frame["email"].str.match(EMAIL_RE))) is not None:
        raise InputError(path, f"{shown(frame['email'][line])} is not an email address", line=line, column="email",
                         fix="write it as name@company.com")
    lowered = frame["email"].str.lower()
    if (line := first_bad(lowered.duplicated())) is not None:
        raise InputError(path, f"email {shown(frame['email'][line])} appears twice", line=line, column="email",
                         fix="give each rep their own email")
    if (line := first_bad(~frame["role"].isin(ROLES))) is not None:
        raise InputError(path, f"unknown role {shown(frame['role'][line])}", line=line, column="role",
                         fix=f"use one of {', '.join(ROLES)}")
    for line, value in frame["hire_date"].items():
        day = parse_day(value)
        if day is None:
            raise InputError(path, f"hire_date {shown(value)} is not a date", line=int(line), column="hire_date",
                             fix="write dates as YYYY-MM-DD")
        if not window.holds(day):
            raise InputError(path, f"hire_date {value} is outside the date window {window}", line=int(line),
                             column="hire_date", fix="correct the date, or widen the window under dates: in spm.yml")
    managers: dict[str, tuple[str, int]] = {}
    for line, team, manager in zip(frame.index, frame["team"], frame["manager"]):
        seen = managers.setdefault(team, (manager, int(line)))
        if seen[0] != manager:
            raise InputError(path, f"team {shown(team)} has manager {shown(manager)} here but {shown(seen[0])} "
                             f"on line {seen[1]}",
                             line=int(line), column="manager", fix="give each team one manager")
    return [
        {"id": r.id, "name": r.name, "email": r.email, "team_id": r.team, "manager": r.manager,
         "role": r.role, "hire_date": r.hire_date, "crm_owner": r.crm_owner or None}
        for r in frame.itertuples(index=False)
    ]


def import_roster(store: Store, path: str | Path, gradebook_url: str | None = None, *,
                  window: DateWindow | None = None) -> RosterResult:
    """Upsert the roster's teams and reps, and register the reps as nbgrader students.

    Validation happens before any write. See :func:`write_roster` for the order of the two commits.
    """
    return write_roster(store, parse_roster(path, window=window), gradebook_url, source=path)


def write_roster(store: Store, reps: Sequence[Mapping[str, Any]], gradebook_url: str | None = None, *,
                 source: str | Path = "roster") -> RosterResult:
    """Upsert teams and reps, given as :func:`parse_roster` gives them (``id``, ``name``, ``email``,
    ``team_id``, ``manager``, ``role``, ``hire_date``, optionally ``crm_owner``), in one transaction;
    with ``gradebook_url``, register the reps as nbgrader students, committed just before the store.

    An email that already belongs to another rep in the store is refused before any write, as a
    problem of ``source`` (the roster file)."""
    reps = [{**rep, "crm_owner": rep.get("crm_owner")} for rep in reps]
    existing = {r["id"]: r for r in store.query("SELECT id, name, email, team_id, role, hire_date, crm_owner FROM reps")}
    emails = {r["email"].lower(): r["id"] for r in existing.values()}
    for rep in reps:
        owner = emails.get(rep["email"].lower())
        if owner is not None and owner != rep["id"]:
            raise InputError(source, f"email {shown(rep['email'])} already belongs to rep {shown(owner)} in the store",
                             column="email", fix="use the rep's existing id or another email")
    added = updated = unchanged = 0
    columns = ("name", "email", "team_id", "role", "hire_date", "crm_owner")
    for rep in reps:
        old = existing.get(rep["id"])
        if old is None:
            added += 1
        elif all(old[c] == rep[c] for c in columns):
            unchanged += 1
        else:
            updated += 1
    teams = {rep["team_id"]: rep["manager"] for rep in reps}
    before = dict(store.conn.execute("SELECT id, manager FROM teams").fetchall())
    changed = tuple((team, before[team], manager) for team, manager in sorted(teams.items())
                    if team in before and before[team] != manager)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO teams (id, manager) VALUES (?, ?) "
            "ON CONFLICT(id) DO UPDATE SET manager = excluded.manager WHERE manager IS NOT excluded.manager",
            list(teams.items()))
        conn.executemany(
            "INSERT INTO reps (id, name, email, team_id, role, hire_date, crm_owner) "
            "VALUES (:id, :name, :email, :team_id, :role, :hire_date, :crm_owner) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email, "
            "team_id = excluded.team_id, role = excluded.role, hire_date = excluded.hire_date, "
            "crm_owner = excluded.crm_owner "
            "WHERE (name, email, team_id, role, hire_date, crm_owner) IS NOT "
            "(excluded.name, excluded.email, excluded.team_id, excluded.role, excluded.hire_date, excluded.crm_owner)",
            reps)
        if gradebook_url is not None:
            # Two databases, two commits, and no transaction spans both: the gradebook commits first, then
            # the store. A gradebook failure rolls the store back (it stays as it was). A crash between the two
            # commits leaves students in the gradebook that are not reps in the store yet: harmless, since
            # nothing joins them to KPIs (spm sync lists them as not in the roster), and mended by importing
            # the same roster again, which both sides take as an upsert. The other order could leave reps
            # in the store that nbgrader does not know, whom reports would show as missing every assignment.
            register_students(gradebook_url, reps)
    return RosterResult(added, updated, unchanged, len(teams), changed)
