"""Gradebook rows for parallel autograding: a worker's private gradebook in, its results out.

Every worker autogrades into a private SQLite gradebook that holds only what nbgrader needs for one
submission: the course, the assignment with its notebooks and cells (rows copied with their ids), the
rep and the rep's earlier submission if there is one. Afterwards the rows nbgrader changed there are
merged into the real gradebook in one transaction per submission, by the grading process alone, so
SQLite never sees two writers and PostgreSQL works the same way.

Rows travel as plain dicts keyed by column name (picklable, dialect-neutral); SQLAlchemy Core on
nbgrader's own table definitions converts the values for each backend.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from ..errors import NotFoundError, SpmError
from ..nbgrader_io import display_url, sqlite_url
from ..text import first_line

Row = dict[str, Any]
#: Rows of one submission, by table: student, submitted_assignment, submitted_notebook, grade, comment.
Rows = dict[str, list[Row]]

#: The tables autograde writes for one submission, parents first.
SUBMISSION_TABLES = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")

#: What identifies a row apart from its generated id: two gradebooks agree on these.
NATURAL_KEYS = {
    "course": ("id",),
    "student": ("id",),
    "submitted_assignment": ("assignment_id", "student_id"),
    "submitted_notebook": ("assignment_id", "notebook_id"),
    "grade": ("notebook_id", "cell_id"),
    "comment": ("notebook_id", "cell_id"),
}
#: Foreign keys that point at rows of the submission itself, whose ids differ between gradebooks.
PARENT_KEYS = {"submitted_notebook": ("assignment_id", "submitted_assignment"),
               "grade": ("notebook_id", "submitted_notebook"),
               "comment": ("notebook_id", "submitted_notebook")}


def tables() -> dict[str, Table]:
    from nbgrader.api import Base

    return dict(Base.metadata.tables)


def engine_for(url: str) -> Engine:
    return create_engine(url, future=True)


@dataclass(frozen=True)
class CellInfo:
    """A cell nbgrader recorded at generate time, as the tampering check needs it."""

    notebook: str
    name: str
    cell_type: str
    locked: bool
    source: str
    is_grade: bool
    is_solution: bool
    is_task: bool
    points: float | None


@dataclass
class AssignmentRows:
    """The assignment's structure in the real gradebook: what every worker gradebook starts from."""

    assignment: Row
    courses: list[Row]
    notebooks: list[Row]
    cells: dict[str, list[Row]]       # base_cell, grade_cells, solution_cells, task_cells, source_cell
    alembic_version: str | None

    def cell_infos(self) -> list[CellInfo]:
        notebook_names = {n["id"]: n["name"] for n in self.notebooks}
        base = {c["id"]: c for c in self.cells["base_cell"]}
        by_kind: dict[str, dict[tuple[str, str], Row]] = {}
        for kind in ("grade_cells", "solution_cells", "task_cells"):
            by_kind[kind] = {(base[c["id"]]["notebook_id"], base[c["id"]]["name"]): c for c in self.cells[kind]}
        infos = []
        for cell in self.cells["source_cell"]:
            key = (cell["notebook_id"], cell["name"])
            grade = by_kind["grade_cells"].get(key)
            task = by_kind["task_cells"].get(key)
            infos.append(CellInfo(
                notebook=notebook_names[cell["notebook_id"]], name=cell["name"], cell_type=cell["cell_type"],
                locked=bool(cell["locked"]), source=cell["source"] or "", is_grade=grade is not None,
                is_solution=key in by_kind["solution_cells"], is_task=task is not None,
                points=float((grade or task)["max_score"]) if (grade or task) else None))
        return infos

    @property
    def max_score(self) -> float:
        return float(sum(c["max_score"] for kind in ("grade_cells", "task_cells") for c in self.cells[kind]))


def gradebook_error(url: str, exc: Exception) -> SpmError:
    first = first_line(exc) or exc.__class__.__name__
    return SpmError(f"{display_url(url)}: cannot read the nbgrader gradebook ({exc.__class__.__name__}: {first}); "
                    "check --course and the db_url in nbgrader_config.py")


def read_assignment(engine: Engine, assignment: str) -> AssignmentRows:
    """The assignment's rows; NotFoundError when ``nbgrader generate_assignment`` has not recorded it."""
    t = tables()
    try:
        with engine.connect() as conn:
            if "assignment" not in inspect(conn).get_table_names():
                raise NotFoundError(f"assignment {assignment!r} is not in the gradebook "
                                    f"({display_url(str(engine.url))}); run nbgrader generate_assignment {assignment} "
                                    "first")
            found = _rows(conn, select(t["assignment"]).where(t["assignment"].c.name == assignment))
            if not found:
                raise NotFoundError(f"assignment {assignment!r} is not in the gradebook; run "
                                    f"nbgrader generate_assignment {assignment} first")
            notebooks = _rows(conn, select(t["notebook"]).where(t["notebook"].c.assignment_id == found[0]["id"]))
            nb_ids = [n["id"] for n in notebooks]
            cells: dict[str, list[Row]] = {
                "base_cell": _rows(conn, select(t["base_cell"]).where(t["base_cell"].c.notebook_id.in_(nb_ids))),
                "source_cell": _rows(conn, select(t["source_cell"]).where(
                    t["source_cell"].c.notebook_id.in_(nb_ids))),
            }
            base_ids = [c["id"] for c in cells["base_cell"]]
            for kind in ("grade_cells", "solution_cells", "task_cells"):
                cells[kind] = _rows(conn, select(t[kind]).where(t[kind].c.id.in_(base_ids)))
            version = None
            if "alembic_version" in inspect(conn).get_table_names():
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            courses = _rows(conn, select(t["course"]))
    except SpmError:
        raise
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and driver errors differ by backend
        raise gradebook_error(str(engine.url), exc) from None
    return AssignmentRows(assignment=found[0], courses=courses, notebooks=notebooks, cells=cells,
                          alembic_version=version)


def write_template(structure: AssignmentRows, path: Path) -> None:
    """A SQLite gradebook holding the assignment's structure and nothing else."""
    from nbgrader.api import Base

    engine = engine_for(sqlite_url(path))
    try:
        Base.metadata.create_all(bind=engine)
        t = tables()
        with engine.begin() as conn:
            # nbgrader writes alembic_version itself when it creates a gradebook, by running the alembic
            # executable, which takes a second; a template that already has its tables skips that.
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            if structure.alembic_version:
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                             {"v": structure.alembic_version})
            _insert(conn, t["course"], structure.courses)
            _insert(conn, t["assignment"], [structure.assignment])
            _insert(conn, t["notebook"], structure.notebooks)
            for kind in ("base_cell", "grade_cells", "solution_cells", "task_cells", "source_cell"):
                _insert(conn, t[kind], structure.cells[kind])
    finally:
        engine.dispose()


def read_submission(conn: Connection, assignment_id: str, student: str) -> Rows:
    """The rep's student row and their submission of the assignment, every row of it."""
    t = tables()
    rows: Rows = {name: [] for name in SUBMISSION_TABLES}
    rows["student"] = _rows(conn, select(t["student"]).where(t["student"].c.id == student))
    sa = t["submitted_assignment"]
    rows["submitted_assignment"] = _rows(conn, select(sa).where(sa.c.assignment_id == assignment_id,
                                                                  sa.c.student_id == student))
    if rows["submitted_assignment"]:
        sn = t["submitted_notebook"]
        rows["submitted_notebook"] = _rows(conn, select(sn).where(
            sn.c.assignment_id == rows["submitted_assignment"][0]["id"]))
        nb_ids = [n["id"] for n in rows["submitted_notebook"]]
        for name in ("grade", "comment"):
            rows[name] = _rows(conn, select(t[name]).where(t[name].c.notebook_id.in_(nb_ids)))
    return rows


def seed_submission(path: Path, template: Path, rows: Rows) -> None:
    """Copy the template to ``path`` and add the rep's rows as the real gradebook has them."""
    shutil.copyfile(template, path)
    engine = engine_for(sqlite_url(path))
    try:
        t = tables()
        with engine.begin() as conn:
            for name in SUBMISSION_TABLES:
                _insert(conn, t[name], rows.get(name, []))
    finally:
        engine.dispose()


def merge_submission(conn: Connection, before: Rows, after: Rows, courses: Iterable[Row]) -> None:
    """Apply to the real gradebook what autograde changed in a worker gradebook.

    ``before`` is what the real gradebook held when the worker started, ``after`` what the worker's
    gradebook held when it finished. Rows are matched on their natural keys; a row the worker created is
    inserted, and of a row it changed only the columns it changed are written, so a grade a trainer
    entered in formgrader meanwhile survives. Call inside a transaction.
    """
    t = tables()
    for course in courses:
        if not _find(conn, t["course"], ("id",), course):
            _insert(conn, t["course"], [course])
    id_map: dict[str, dict[str, str]] = {name: {} for name in SUBMISSION_TABLES}
    for name in SUBMISSION_TABLES:
        table = t[name]
        keys = NATURAL_KEYS[name]
        parent = PARENT_KEYS.get(name)
        old_by_key = {_key(r, keys): r for r in before.get(name, [])}
        for row in after.get(name, []):
            # ``before`` and the worker share ids (the worker was seeded with the real rows), so the row
            # it had before is found by the worker's keys; the real row now, by keys in real ids.
            old = old_by_key.get(_key(row, keys))
            row = dict(row)
            if parent:
                column, parent_table = parent
                row[column] = id_map[parent_table].get(row[column], row[column])
            current = _find(conn, table, keys, row)
            if current is None:
                _insert(conn, table, [row])
                id_map[name][row["id"]] = row["id"]
                continue
            id_map[name][row["id"]] = current["id"]
            changed = {c: v for c, v in row.items()
                       if c != "id" and c not in keys and (old is None or old.get(c) != v)}
            if changed:
                conn.execute(table.update().where(table.c.id == current["id"]).values(**changed))


def _key(row: Row, keys: tuple[str, ...]) -> tuple:
    return tuple(row[k] for k in keys)


def _find(conn: Connection, table: Table, keys: tuple[str, ...], row: Row) -> Row | None:
    found = _rows(conn, select(table).where(*(table.c[k] == row[k] for k in keys)))
    return found[0] if found else None


def _rows(conn: Connection, query: Any) -> list[Row]:
    return [dict(r) for r in conn.execute(query).mappings()]


def _insert(conn: Connection, table: Table, rows: list[Row]) -> None:
    if rows:
        conn.execute(table.insert(), [dict(r) for r in rows])


_UNSYNCED_ROOTS: set[str] = set()


def unsynced_scratch_gradebooks(root: str) -> None:
    """SQLite databases under ``root`` (the scratch gradebooks, throwaway copies) are written without
    waiting for the disk: nbgrader commits a dozen times per submission, and on a busy disk each wait
    for fsync costs tens of milliseconds. Only this grading process's own connections are affected; the
    real gradebook is written by the coordinating process alone."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    if not _UNSYNCED_ROOTS:
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            if not isinstance(dbapi_connection, sqlite3.Connection):
                return
            rows = dbapi_connection.execute("PRAGMA database_list").fetchall()
            path = next((row[2] for row in rows if row[1] == "main"), "") or ""
            if any(path.startswith(r.rstrip("/") + "/") for r in _UNSYNCED_ROOTS):
                dbapi_connection.execute("PRAGMA synchronous=OFF")
                dbapi_connection.execute("PRAGMA journal_mode=MEMORY")

        event.listen(Pool, "connect", on_connect)
    _UNSYNCED_ROOTS.add(os.path.realpath(root))
