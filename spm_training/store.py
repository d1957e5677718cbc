"""The store: one SQLite file (``spm.db``) through sqlite-utils, with a versioned schema.

Every import and every sync runs inside :func:`transaction`, so it lands whole or not at all.
The schema version lives in SQLite's ``user_version``; :data:`MIGRATIONS` takes a store of any
earlier version to the current one, each step in its own transaction.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import StoreError

if TYPE_CHECKING:
    from .catalog import Kpi, Skill


_SCHEMA_V1 = """
CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    manager TEXT NOT NULL
);
CREATE TABLE reps (
    id TEXT PRIMARY KEY,                 -- the nbgrader student id
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id),
    role TEXT NOT NULL,
    hire_date TEXT NOT NULL,             -- ISO date
    crm_owner TEXT                       -- the owner name the CRM uses for this rep
);
CREATE INDEX reps_team ON reps(team_id);
CREATE UNIQUE INDEX reps_email ON reps(email);
CREATE TABLE kpis (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('higher', 'lower')),
    aggregation TEXT NOT NULL,
    period TEXT NOT NULL
);
CREATE TABLE kpi_values (
    rep_id TEXT NOT NULL REFERENCES reps(id),
    period TEXT NOT NULL,                -- 2026-Q3 or 2026-09
    kpi_id TEXT NOT NULL REFERENCES kpis(id),
    value REAL NOT NULL,
    target REAL,
    source TEXT NOT NULL,                -- the file (or CRM export) the value came from
    PRIMARY KEY (rep_id, period, kpi_id)
) WITHOUT ROWID;
CREATE INDEX kpi_values_kpi ON kpi_values(kpi_id, period);
CREATE TABLE skills (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    threshold REAL NOT NULL,
    method TEXT NOT NULL
);
CREATE TABLE skill_kpis (
    skill_id TEXT NOT NULL REFERENCES skills(id),
    kpi_id TEXT NOT NULL REFERENCES kpis(id),
    direction TEXT NOT NULL,
    PRIMARY KEY (skill_id, kpi_id)
);
CREATE TABLE skill_pages (
    skill_id TEXT NOT NULL REFERENCES skills(id),
    page TEXT NOT NULL,
    PRIMARY KEY (skill_id, page)
);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    assignment TEXT NOT NULL,
    notebook TEXT NOT NULL,
    cell TEXT NOT NULL,                  -- nbgrader grade_id
    max_score REAL NOT NULL,
    kind TEXT NOT NULL,                  -- autograded, manual or task
    UNIQUE (assignment, notebook, cell)
);
CREATE TABLE item_skills (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    skill_id TEXT NOT NULL REFERENCES skills(id),
    PRIMARY KEY (item_id, skill_id)
);
CREATE INDEX item_skills_skill ON item_skills(skill_id);
CREATE TABLE scores (
    rep_id TEXT NOT NULL REFERENCES reps(id),
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    auto_score REAL,
    manual_score REAL,
    extra_credit REAL,
    needs_manual_grade INTEGER NOT NULL DEFAULT 0,
    comment TEXT,
    submitted_at TEXT,
    PRIMARY KEY (rep_id, item_id)
) WITHOUT ROWID;
CREATE INDEX scores_item ON scores(item_id);
"""


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migrate_add_tampering(conn: sqlite3.Connection) -> None:
    # spm grade: changes to locked or test cells found in submissions; no foreign key to reps, since a
    # submission can come from a student who is not in the roster yet.
    conn.execute("""
        CREATE TABLE tampering (
            rep_id TEXT NOT NULL,            -- the nbgrader student id
            assignment TEXT NOT NULL,
            notebook TEXT NOT NULL,
            cell TEXT NOT NULL,              -- nbgrader grade_id; empty for a whole notebook
            kind TEXT NOT NULL,              -- edited, deleted, cell_type, metadata, duplicated, unreadable
            detail TEXT NOT NULL,
            detected_at TEXT NOT NULL        -- ISO timestamp (UTC) of the grading run
        )""")
    conn.execute("CREATE INDEX tampering_assignment ON tampering(assignment, rep_id)")


#: One function per schema version; MIGRATIONS[i] takes version i to i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_to_1, _migrate_add_tampering]
SCHEMA_VERSION = len(MIGRATIONS)


class Store:
    """An open store. Use :meth:`transaction` around every write."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    @functools.cached_property
    def db(self) -> "sqlite_utils.Database":  # noqa: F821 - imported when first used
        """sqlite-utils over the same connection (imported on first use: it pulls in pandas, and
        most commands start faster without it)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception: all or nothing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict]:
        return [dict(r) for r in self.conn.execute(sql, params)]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def open_store(path: str | os.PathLike | Path, *, create: bool = True) -> Store:
    """Open (and if needed create or migrate) the store at ``path``."""
    path = Path(path)
    if not path.exists() and not create:
        raise StoreError(f"{path}: no store here; import a roster first (spm roster import FILE.csv)")
    if path.parent and not path.parent.exists():
        raise StoreError(f"{path}: the folder {path.parent} does not exist; create it or pass another --db")
    try:
        # Autocommit mode: transactions are ours, explicit, and never committed behind our back.
        conn = sqlite3.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        version = schema_version(conn)
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not an spm store ({exc}); pass another --db") from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(f"{path}: store schema version {version} is newer than this spm ({SCHEMA_VERSION}); "
                         "upgrade spm-training")
    store = Store(path, conn)
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with store.transaction():
            MIGRATIONS[target - 1](conn)
            conn.execute(f"PRAGMA user_version = {target}")
    return store


# --- the store's copy of the catalogs ----------------------------------------------------------------

def sync_kpi_definitions(conn: sqlite3.Connection, kpis: dict[str, Kpi]) -> None:
    """Keep the store's KPI table in step with the catalog (writes only what differs)."""
    conn.executemany(
        "INSERT INTO kpis (id, name, unit, direction, aggregation, period) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, unit = excluded.unit, direction = excluded.direction, "
        "aggregation = excluded.aggregation, period = excluded.period "
        "WHERE (name, unit, direction, aggregation, period) IS NOT "
        "(excluded.name, excluded.unit, excluded.direction, excluded.aggregation, excluded.period)",
        [(k.id, k.name, k.unit, k.direction, k.aggregation, k.period) for k in kpis.values()])


def stored_catalogs(store: Store) -> tuple[dict[str, Skill], dict[str, Kpi]]:
    """The skills and KPIs as the last sync and import wrote them: the catalog of a store read
    without its course (see :meth:`spm_training.project.Project.catalogs`)."""
    from .catalog import ROLES, Kpi, Skill

    links: dict[str, list[tuple[str, str]]] = {}
    for skill_id, kpi_id, direction in store.conn.execute(
            "SELECT skill_id, kpi_id, direction FROM skill_kpis ORDER BY skill_id, kpi_id"):
        links.setdefault(skill_id, []).append((kpi_id, direction))
    pages: dict[str, list[str]] = {}
    for skill_id, page in store.conn.execute("SELECT skill_id, page FROM skill_pages ORDER BY skill_id, page"):
        pages.setdefault(skill_id, []).append(page)
    skills = {r[0]: Skill(id=r[0], name=r[1], description="", kpis=tuple(links.get(r[0], ())),
                          pages=tuple(pages.get(r[0], ())), threshold=float(r[2]), method=r[3])
              for r in store.conn.execute("SELECT id, name, threshold, method FROM skills ORDER BY id")}
    kpis = {r[0]: Kpi(id=r[0], name=r[1], definition="", unit=r[2], formula="", default_target=None, goal="",
                      period=r[5], direction=r[3], aggregation=r[4], roles=ROLES)
            for r in store.conn.execute("SELECT id, name, unit, direction, aggregation, period FROM kpis ORDER BY id")}
    return skills, kpis


# --- small writes and reads the layers above share -----------------------------------------------

#: nbgrader's score of a cell (``Grade.score`` in nbgrader.api) as SQL over a ``scores`` row aliased
#: ``s``: the manual score if there is one, else the automatic score, plus any extra credit; 0 when
#: neither is set (the extra credit then does not count). :func:`cell_score` is the same in Python.
CELL_SCORE_SQL = ("CASE WHEN s.manual_score IS NOT NULL THEN s.manual_score + COALESCE(s.extra_credit, 0) "
                  "WHEN s.auto_score IS NOT NULL THEN s.auto_score + COALESCE(s.extra_credit, 0) ELSE 0 END")


def cell_score(auto: float | None, manual: float | None, extra: float | None) -> float:
    """The points a cell earned, as nbgrader counts them (:data:`CELL_SCORE_SQL`)."""
    if manual is not None:
        return manual + (extra or 0.0)
    if auto is not None:
        return auto + (extra or 0.0)
    return 0.0


def replace_tampering(store: Store, rep: str, assignment: str, rows: Iterable[tuple[str, str, str, str]],
                      detected_at: str) -> None:
    """Replace the rep's tampering findings for the assignment with ``rows`` of (notebook, cell, kind,
    detail), all found at ``detected_at``, in one transaction."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM tampering WHERE rep_id = ? AND assignment = ?", (rep, assignment))
        conn.executemany(
            "INSERT INTO tampering (rep_id, assignment, notebook, cell, kind, detail, detected_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(rep, assignment, notebook, cell, kind, detail, detected_at) for notebook, cell, kind, detail in rows])


def table_counts(store: Store, tables: Iterable[str]) -> dict[str, int]:
    """The number of rows of each of the store's ``tables``."""
    known = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    counts = {}
    for table in tables:
        if table not in known:
            raise StoreError(f"{store.path}: no table {table!r} in the store")
        counts[table] = store.conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    return counts


def checkpoint(store: Store) -> None:
    """Fold the write-ahead log into the store's file, so that the file alone is the whole store
    (to copy it, or to ship it)."""
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
