"""Trainings completed outside the course (a Sandler or Challenger workshop, a LinkedIn Learning or
Udemy course), from a CSV of ``rep_id, program, completed_on[, hours]``, into the store.

The whole file is checked before anything is written, and the rows land in one transaction. A row
already in the store (same rep, programme and date) is updated when its hours differ. The course's
own assignments count as trainings too; they are read from the synced scores, not imported here
(see :func:`spm_training.analysis.queries.training_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..periods import DateWindow, parse_day
from ..store import Store
from ..text import shown
from .tabular import first_bad, read_csv, to_number

REQUIRED = ("rep_id", "program", "completed_on")
OPTIONAL = ("hours",)
MAX_PROGRAM = 80        # characters: a programme's name is printed in tables and page titles


@dataclass(frozen=True)
class TrainingImport:
    rows: int
    inserted: int
    updated: int
    unchanged: int
    programs: tuple[str, ...]


def parse_trainings(path: str | Path, rep_ids: set[str], *, window: DateWindow | None = None) -> list[dict]:
    """Read and validate a trainings file: one dict per row (rep_id, program, completed_on, hours).

    Every rep must be in the roster; dates are ISO dates inside ``window`` (default
    :meth:`DateWindow.default`); hours, when given, are a positive number."""
    path = Path(path)
    window = window or DateWindow.default()
    frame = read_csv(path, required=REQUIRED, optional=OPTIONAL, what="trainings")
    if "hours" not in frame.columns:
        frame["hours"] = ""
    for column, fix in (("rep_id", "give the rep's id from the roster"), ("program", "name the programme"),
                        ("completed_on", "give the date the rep completed it, as YYYY-MM-DD")):
        if (line := first_bad(frame[column] == "")) is not None:
            raise InputError(path, f"'{column}' is empty", line=line, column=column, fix=fix)
    known = frame["rep_id"].isin(rep_ids)
    if (line := first_bad(~known)) is not None:
        raise InputError(path, f"unknown rep {shown(frame['rep_id'][line])}", line=line, column="rep_id",
                         fix="add the rep to the roster first (spm roster import) or correct the id")
    if (line := first_bad(frame["program"].str.len() > MAX_PROGRAM)) is not None:
        raise InputError(path, f"the programme name {shown(frame['program'][line])} is longer than {MAX_PROGRAM} "
                         "characters", line=line, column="program", fix="shorten it")
    days = []
    for line, value in frame["completed_on"].items():
        day = parse_day(value)
        if day is None:
            raise InputError(path, f"completed_on {shown(value)} is not a date", line=int(line),
                             column="completed_on", fix="write dates as YYYY-MM-DD")
        if not window.holds(day):
            raise InputError(path, f"completed_on {value} is outside the date window {window}", line=int(line),
                             column="completed_on", fix="correct the date, or widen the window under dates: in spm.yml")
        days.append(day.isoformat())
    frame["completed_on"] = days
    hours = to_number(path, frame, "hours", allow_empty=True, allow_negative=True)
    if (line := first_bad(hours <= 0)) is not None:
        raise InputError(path, f"'hours' is {'zero' if hours[line] == 0 else 'negative'}", line=line, column="hours",
                         fix="give the hours the training took, or leave the cell empty")
    frame["hours"] = hours
    key = ["rep_id", "program", "completed_on"]
    dup = frame.duplicated(key, keep=False)
    if dup.any():
        distinct = frame[dup].drop_duplicates(key + ["hours"])
        clash = distinct.duplicated(key, keep=False)
        if clash.any():
            first = distinct[clash].iloc[0]
            lines = [int(i) for i, r in frame.iterrows() if tuple(r[key]) == tuple(first[key])]
            raise InputError(path, f"{first['rep_id']} {shown(first['program'])} {first['completed_on']} has two "
                             f"different hours (lines {lines[0]} and {lines[1]})", line=lines[1],
                             fix="keep one row per rep, programme and date")
        frame = frame.drop_duplicates(key + ["hours"])
    return [{"rep_id": r.rep_id, "program": r.program, "completed_on": r.completed_on,
             "hours": None if r.hours != r.hours else float(r.hours)} for r in frame.itertuples(index=False)]


def import_trainings(store: Store, path: str | Path, *, window: DateWindow | None = None) -> TrainingImport:
    """Validate the whole file, then upsert its rows in one transaction."""
    path = Path(path)
    rep_ids = {r[0] for r in store.conn.execute("SELECT id FROM reps")}
    return write_trainings(store, parse_trainings(path, rep_ids, window=window), source=path.name)


def write_trainings(store: Store, rows: list[dict], *, source: str) -> TrainingImport:
    """Upsert rows as :func:`parse_trainings` gives them; rows equal to the store's are left alone."""
    existing = {(r[0], r[1], r[2]): r[3] for r in
                store.conn.execute("SELECT rep_id, program, completed_on, hours FROM trainings")}
    inserted = sum((r["rep_id"], r["program"], r["completed_on"]) not in existing for r in rows)
    updated = sum((k := (r["rep_id"], r["program"], r["completed_on"])) in existing and existing[k] != r["hours"]
                  for r in rows)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO trainings (rep_id, program, completed_on, hours, source) "
            "VALUES (:rep_id, :program, :completed_on, :hours, :source) "
            "ON CONFLICT(rep_id, program, completed_on) DO UPDATE SET hours = excluded.hours, "
            "source = excluded.source WHERE hours IS NOT excluded.hours",
            [{**r, "source": source} for r in rows])
    return TrainingImport(len(rows), inserted, updated, len(rows) - inserted - updated,
                          tuple(sorted({r["program"] for r in rows})))
