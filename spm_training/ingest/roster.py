"""The roster: reps and teams, from a CSV, into the store and nbgrader's gradebook.

Optional columns beside ``crm_owner``: ``login`` (the rep's JupyterHub username; empty: the rep id),
``manager_login`` (the team manager's hub username, the same on every row of a team; empty: the
manager has no login) and ``left_on`` (the ISO date the rep left; empty: still here). A roster is the
truth for the columns it has: a file without one of them leaves what the store holds for it alone; a
file with it sets every rep it lists, an empty cell back to the default.
"""

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
OPTIONAL = ("crm_owner", "login", "manager_login", "left_on")
#: The optional columns a roster speaks for only when it has them (see the module's docstring).
HUB_COLUMNS = ("login", "manager_login", "left_on")
# nbgrader uses the student id in folder names and URLs: keep it to safe characters.
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# JupyterHub lowercases usernames; keep logins to what every authenticator and spawner takes as is.
LOGIN_RE = re.compile(r"^[a-z0-9._@-]+$")
LOGIN_FIX = "use letters, digits, '.', '_', '-' and '@' only"


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

    Hire dates are ISO dates (YYYY-MM-DD) inside ``window`` (default: :meth:`DateWindow.default`), and
    so are the ``left_on`` dates, none before its hire date. ``login``, ``manager_login`` and ``left_on``
    are keys of the dicts only when the file has those columns (None for an empty cell)."""
    return _parse(Path(path), window)[0]


def _parse(path: Path, window: DateWindow | None) -> tuple[list[dict], list[int]]:
    """:func:`parse_roster`, and the file line of each rep."""
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
    for line, team, manager in zip(frame.index, frame["team"], frame["manager"], strict=True):
        seen = managers.setdefault(team, (manager, int(line)))
        if seen[0] != manager:
            raise InputError(path, f"team {shown(team)} has manager {shown(manager)} here but {shown(seen[0])} "
                             f"on line {seen[1]}",
                             line=int(line), column="manager", fix="give each team one manager")
    hub = [c for c in HUB_COLUMNS if c in frame.columns]
    if hub:
        _check_hub_columns(path, frame, window)
    reps = [
        {"id": r.id, "name": r.name, "email": r.email, "team_id": r.team, "manager": r.manager,
         "role": r.role, "hire_date": r.hire_date, "crm_owner": r.crm_owner or None,
         **{c: getattr(r, c) or None for c in hub}}
        for r in frame.itertuples(index=False)
    ]
    return reps, [int(line) for line in frame.index]


def _check_login(path: Path, frame: Any, column: str) -> None:
    given = frame[column][frame[column] != ""]
    if (line := first_bad(given != given.str.lower())) is not None:
        raise InputError(path, f"{column} {shown(given[line])} has upper-case letters, which JupyterHub lowercases",
                         line=line, column=column, fix="write logins in lower case")
    if (line := first_bad(~given.str.match(LOGIN_RE))) is not None:
        raise InputError(path, f"{column} {shown(given[line])} has characters a hub username cannot have",
                         line=line, column=column, fix=LOGIN_FIX)


def _check_hub_columns(path: Path, frame: Any, window: DateWindow) -> None:
    """The checks of the optional login, manager_login and left_on columns (those the file has)."""
    if "login" in frame.columns:
        _check_login(path, frame, "login")
        seen: dict[str, tuple[str, int]] = {}
        for line, rep, login in zip(frame.index, frame["id"], frame["login"], strict=True):
            effective = login or rep
            first = seen.setdefault(effective, (rep, int(line)))
            if first[0] != rep:
                how = "login" if login else "default login (its id)"
                raise InputError(path, f"login {shown(effective)} of rep {shown(rep)} (its {how}) is also the login "
                                 f"of rep {shown(first[0])} on line {first[1]}", line=int(line), column="login",
                                 fix="give each rep their own login")
    if "manager_login" in frame.columns:
        _check_login(path, frame, "manager_login")
        managers: dict[str, tuple[str, int]] = {}
        for line, team, login in zip(frame.index, frame["team"], frame["manager_login"], strict=True):
            first = managers.setdefault(team, (login, int(line)))
            if first[0] != login:
                raise InputError(path, f"team {shown(team)} has manager_login {shown(login)} here but "
                                 f"{shown(first[0])} on line {first[1]}", line=int(line), column="manager_login",
                                 fix="give each team one manager_login, the same on every row")
    if "left_on" in frame.columns:
        for line, hired, left in zip(frame.index, frame["hire_date"], frame["left_on"], strict=True):
            if not left:
                continue
            day = parse_day(left)
            if day is None:
                raise InputError(path, f"left_on {shown(left)} is not a date", line=int(line), column="left_on",
                                 fix="write dates as YYYY-MM-DD, or leave the cell empty for a rep who is still here")
            if not window.holds(day):
                raise InputError(path, f"left_on {left} is outside the date window {window}", line=int(line),
                                 column="left_on", fix="correct the date, or widen the window under dates: in spm.yml")
            if left < hired:
                raise InputError(path, f"left_on {left} is before the rep's hire_date {hired}", line=int(line),
                                 column="left_on", fix="correct one of the two dates")


def import_roster(store: Store, path: str | Path, gradebook_url: str | None = None, *,
                  window: DateWindow | None = None) -> RosterResult:
    """Upsert the roster's teams and reps, and register the reps as nbgrader students.

    Validation happens before any write. See :func:`write_roster` for the order of the two commits.
    """
    reps, lines = _parse(Path(path), window)
    return write_roster(store, reps, gradebook_url, source=path, lines=lines)


def write_roster(store: Store, reps: Sequence[Mapping[str, Any]], gradebook_url: str | None = None, *,
                 source: str | Path = "roster", lines: Sequence[int] | None = None) -> RosterResult:
    """Upsert teams and reps, given as :func:`parse_roster` gives them (``id``, ``name``, ``email``,
    ``team_id``, ``manager``, ``role``, ``hire_date``, optionally ``crm_owner``, and ``login``,
    ``manager_login``, ``left_on`` when every rep has the key: without it the stored value stays), in one
    transaction; with ``gradebook_url``, register the reps as nbgrader students, committed just before
    the store.

    An email or a login that already belongs to another rep in the store, and a team manager's login
    that is the login of one of that team's reps, are refused before any write, as problems of
    ``source`` (the roster file; ``lines``: the file line of each rep, to name in the message)."""
    hub = [c for c in HUB_COLUMNS if reps and all(c in rep for rep in reps)]
    reps = [{**rep, "crm_owner": rep.get("crm_owner"),
             **({"login": None if rep["login"] in (None, "", rep["id"]) else rep["login"]} if "login" in hub else {})}
            for rep in reps]
    existing = {r["id"]: r for r in store.query(
        "SELECT id, name, email, team_id, role, hire_date, crm_owner, login, left_on FROM reps")}
    emails = {r["email"].lower(): r["id"] for r in existing.values()}

    def line_of(index: int) -> int | None:
        return lines[index] if lines is not None and index < len(lines) else None

    for index, rep in enumerate(reps):
        owner = emails.get(rep["email"].lower())
        if owner is not None and owner != rep["id"]:
            raise InputError(source, f"email {shown(rep['email'])} already belongs to rep {shown(owner)} in the store",
                             line=line_of(index), column="email", fix="use the rep's existing id or another email")
    _check_logins(store, reps, existing, hub, source, line_of)
    added = updated = unchanged = 0
    columns = ("name", "email", "team_id", "role", "hire_date", "crm_owner", *(c for c in hub if c != "manager_login"))
    for rep in reps:
        old = existing.get(rep["id"])
        if old is None:
            added += 1
        elif all(old[c] == rep[c] for c in columns):
            unchanged += 1
        else:
            updated += 1
    teams = {rep["team_id"]: (rep["manager"], rep.get("manager_login")) for rep in reps}
    before = dict(store.conn.execute("SELECT id, manager FROM teams").fetchall())
    changed = tuple((team, before[team], manager) for team, (manager, _) in sorted(teams.items())
                    if team in before and before[team] != manager)
    team_columns = ("manager", "manager_login") if "manager_login" in hub else ("manager",)
    # a rep whose login changes first gets a placeholder no login can be (a NUL and the id), so that two
    # reps who swap logins do not meet in the unique index halfway through
    moving = [rep["id"] for rep in reps if "login" in hub and rep["id"] in existing
              and existing[rep["id"]]["login"] != rep["login"]]
    with store.transaction() as conn:
        conn.executemany(
            f"INSERT INTO teams (id, {', '.join(team_columns)}) VALUES (?, {', '.join('?' * len(team_columns))}) "
            f"ON CONFLICT(id) DO UPDATE SET {_assignments(team_columns)} "
            f"WHERE {_row(team_columns, '')} IS NOT {_row(team_columns, 'excluded.')}",
            [(team, *values[:len(team_columns)]) for team, values in teams.items()])
        if moving:
            conn.executemany("UPDATE reps SET login = char(0) || id WHERE id = ?", [(rep,) for rep in moving])
        conn.executemany(
            f"INSERT INTO reps (id, {', '.join(columns)}) VALUES (:id, {', '.join(':' + c for c in columns)}) "
            f"ON CONFLICT(id) DO UPDATE SET {_assignments(columns)} "
            f"WHERE {_row(columns, '')} IS NOT {_row(columns, 'excluded.')}",
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


def _assignments(columns: Sequence[str]) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in columns)


def _row(columns: Sequence[str], prefix: str) -> str:
    return f"({', '.join(prefix + c for c in columns)})" if len(columns) > 1 else f"{prefix}{columns[0]}"


def _check_logins(store: Store, reps: Sequence[Mapping[str, Any]], existing: Mapping[str, Mapping[str, Any]],
                  hub: Sequence[str], source: str | Path, line_of: Any) -> None:
    """Refuse, before any write, a login the store gives another rep, and a manager_login that is the
    login of one of the team's reps, as the store will be once the roster is in."""
    logins = {rep_id: row["login"] or rep_id for rep_id, row in existing.items()}
    teams = {rep_id: row["team_id"] for rep_id, row in existing.items()}
    for rep in reps:
        if "login" in hub or rep["id"] not in logins:
            logins[rep["id"]] = rep.get("login") or rep["id"]
        teams[rep["id"]] = rep["team_id"]
    owners: dict[str, str] = {}
    for rep_id in sorted(logins, key=lambda r: (r not in existing, r)):
        owners.setdefault(logins[rep_id], rep_id)
    for index, rep in enumerate(reps):
        login = logins[rep["id"]]
        owner = owners[login]
        if owner != rep["id"]:
            raise InputError(source, f"login {shown(login)} of rep {shown(rep['id'])} already belongs to rep "
                             f"{shown(owner)} in the store", line=line_of(index),
                             column="login", fix="give each rep their own login")
    managers = {rep["team_id"]: (index, rep.get("manager_login")) for index, rep in enumerate(reps)}
    if "manager_login" in hub:
        for team, (index, manager) in sorted(managers.items()):
            member = owners.get(manager) if manager else None
            if member is not None and teams.get(member) == team:
                raise InputError(source, f"manager_login {shown(manager)} of team {shown(team)} is the login of rep "
                                 f"{shown(member)}, one of the team's own reps", line=line_of(index),
                                 column="manager_login", fix="give the manager their own login, or move the rep "
                                 "to another team")
