"""``spm sync``: copy nbgrader's gradebook into the store, set-based and in one transaction.

The gradebook is read with a handful of joined queries, never with nbgrader's per-object API (which
issues queries per student, per notebook and per cell, and takes minutes on a large course). Two read
paths share every statement after staging:

- a SQLite gradebook is ATTACHed read-only to the store's connection, so the grades travel from one
  file to the other inside SQLite without becoming Python objects;
- any other SQLAlchemy URL (PostgreSQL for several trainers) is read with the same SQL, streamed in
  chunks through a server-side cursor into temporary tables of the store.

The store then mirrors the gradebook: items are the gradebook's graded and task cells (with skills
from the source notebooks, never from submissions), and scores are one row per rep and item. Rows
whose values match are not written, so a re-sync of an unchanged gradebook changes nothing.

The store side is public, for every other writer of items and scores (the demo store, the tests'
and the benchmarks' stores): :func:`write_catalog` writes the skills catalog and the items exactly as
a sync does (the sync calls it), and :func:`write_scores` upserts scores through the sync's own staged
write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, Protocol
from urllib.parse import quote

from ..catalog import Kpi, Skill
from ..course import read_items
from ..errors import SpmError
from ..nbgrader_io import display_url, sqlite_database
from ..store import Store, sync_kpi_definitions
from ..text import first_line, plural

CHUNK = 20_000

# The graded and task cells of every notebook. A manually graded answer is a GradeCell and a
# SolutionCell with the same name; the trainer's comment hangs on the SolutionCell (on the TaskCell
# for a task), so each cell also carries the id its comments use.
_CELLS_SQL = """
SELECT c.id AS cell_id, a.name AS assignment, n.name AS notebook, c.name AS cell,
       COALESCE(gc.max_score, tc.max_score, 0.0) AS max_score,
       CASE WHEN c.type = 'TaskCell' THEN 'task' WHEN sc.id IS NOT NULL THEN 'manual' ELSE 'autograded' END AS kind,
       CASE WHEN c.type = 'TaskCell' THEN c.id ELSE sc.id END AS comment_cell_id,
       a.duedate AS duedate
FROM {gb}base_cell c
JOIN {gb}notebook n ON n.id = c.notebook_id
JOIN {gb}assignment a ON a.id = n.assignment_id
LEFT JOIN {gb}grade_cells gc ON gc.id = c.id
LEFT JOIN {gb}task_cells tc ON tc.id = c.id
LEFT JOIN {gb}base_cell sc ON sc.notebook_id = c.notebook_id AND sc.name = c.name AND sc.type = 'SolutionCell'
WHERE c.type IN ('GradeCell', 'TaskCell')
"""

# One row per grade. Grades join on grade.cell_id (the GradeCell or TaskCell row), never on the cell
# name, which a manually graded answer shares with its SolutionCell.
_GRADES_SQL = """
SELECT sa.student_id AS student_id, g.cell_id AS cell_id, g.auto_score AS auto_score,
       g.manual_score AS manual_score, g.extra_credit AS extra_credit,
       g.needs_manual_grade AS needs_manual_grade, NULLIF(cm.manual_comment, '') AS comment,
       sa.timestamp AS submitted_at
FROM {gb}grade g
JOIN {gb}submitted_notebook sn ON sn.id = g.notebook_id
JOIN {gb}submitted_assignment sa ON sa.id = sn.assignment_id
JOIN {gb}base_cell c ON c.id = g.cell_id
LEFT JOIN {gb}base_cell sc ON sc.notebook_id = c.notebook_id AND sc.name = c.name AND sc.type = 'SolutionCell'
LEFT JOIN {gb}comment cm ON cm.notebook_id = g.notebook_id
    AND cm.cell_id = CASE WHEN c.type = 'TaskCell' THEN c.id ELSE sc.id END
"""

# The scores on their way into the store: a sync's and write_scores' alike.
_SCORE_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS incoming_scores (
    rep_id TEXT, item_id INTEGER, auto_score REAL, manual_score REAL, extra_credit REAL,
    needs_manual_grade INTEGER, comment TEXT, submitted_at TEXT);
CREATE TEMP TABLE IF NOT EXISTS changed_scores (
    rep_id TEXT, item_id INTEGER, auto_score REAL, manual_score REAL, extra_credit REAL,
    needs_manual_grade INTEGER, comment TEXT, submitted_at TEXT, is_new INTEGER)
"""
_SCORE_STAGED = ("incoming_scores", "changed_scores")
_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS gb_cells (
    cell_id TEXT PRIMARY KEY, assignment TEXT, notebook TEXT, cell TEXT, max_score REAL, kind TEXT,
    comment_cell_id TEXT, duedate TEXT);
CREATE TEMP TABLE IF NOT EXISTS gb_grades (
    student_id TEXT, cell_id TEXT, auto_score REAL, manual_score REAL, extra_credit REAL,
    needs_manual_grade INTEGER, comment TEXT, submitted_at TEXT);
CREATE TEMP TABLE IF NOT EXISTS cell_items (cell_id TEXT PRIMARY KEY, item_id INTEGER, comment_cell_id TEXT)
    WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS known_submissions (notebook_id TEXT PRIMARY KEY, rep_id TEXT, submitted_at TEXT)
    WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS known_comments (notebook_id TEXT, cell_id TEXT, comment TEXT,
    PRIMARY KEY (notebook_id, cell_id)) WITHOUT ROWID;
""" + _SCORE_STAGE_DDL
_STAGED = ("gb_cells", "gb_grades", "cell_items", "known_submissions", "known_comments", *_SCORE_STAGED)


@dataclass(frozen=True)
class SyncResult:
    """What a sync found and changed."""

    gradebook: str                       # the URL, without a password
    assignments: int
    items: int
    items_changed: int                   # items added, updated or removed
    grades: int                          # grades in the gradebook
    inserted: int
    updated: int
    unchanged: int
    removed: int
    needs_manual_grade: int              # synced scores still awaiting a manual grade
    unknown_students: tuple[str, ...] = ()   # students with submissions who are not reps in the roster
    unknown_grades: int = 0              # their grades, which were not synced
    cells_without_source: tuple[str, ...] = ()   # gradebook cells missing from source/ (no skills)
    unknown_skills: tuple[str, ...] = ()     # skill tags in source/ that skills.yml does not define
    catalog_changes: int = 0             # rows of the store's copy of skills.yml and the KPI catalog
    #: assignments the store had and the gradebook no longer has (deleted or renamed there), each with
    #: the number of scores that went with it; their scores are part of ``removed``
    assignments_removed: tuple[tuple[str, int], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.items_changed or self.inserted or self.updated or self.removed or self.catalog_changes)


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (as :func:`~spm_training.nbgrader_io.sqlite_database` reads
    it); None for any other backend. A text that is no URL, or an in-memory database, is an error."""
    database = sqlite_database(url)
    if database is None:
        if "://" not in url:
            raise SpmError(f"{url}: not a database URL; write it as sqlite:///path/gradebook.db or "
                           "postgresql://user@host/db")
        return None
    if not database or database == ":memory:":
        raise SpmError(f"{url}: an in-memory SQLite gradebook cannot be synced; give the gradebook's file")
    return Path(database)


# --- staging: the gradebook's cells and grades into temporary tables of the store ----------------

def _stage_cells_attached(conn: sqlite3.Connection) -> None:
    conn.execute(f"INSERT INTO temp.gb_cells {_CELLS_SQL.format(gb='gb.')}")


def _stage_scores_attached(conn: sqlite3.Connection) -> tuple[int, tuple[str, ...]]:
    """Known reps' grades straight from the attached gradebook into ``incoming_scores``.

    The roster's submitted notebooks and the comments trainers wrote are resolved first (small
    in-memory tables), so the one pass over the grade table (a million rows) needs three lookups
    per grade, all in memory. Returns the gradebook's number of grades and the students who are
    not in the roster."""
    conn.execute(
        "INSERT INTO temp.known_submissions SELECT sn.id, sa.student_id, sa.timestamp FROM gb.submitted_notebook sn "
        "JOIN gb.submitted_assignment sa ON sa.id = sn.assignment_id JOIN reps r ON r.id = sa.student_id")
    conn.execute(
        "INSERT INTO temp.known_comments SELECT notebook_id, cell_id, manual_comment FROM gb.comment "
        "WHERE manual_comment IS NOT NULL AND manual_comment != ''")
    conn.execute(
        "INSERT INTO temp.incoming_scores SELECT s.rep_id, m.item_id, g.auto_score, g.manual_score, "
        "g.extra_credit, g.needs_manual_grade, cm.comment, s.submitted_at FROM gb.grade g "
        "JOIN temp.cell_items m ON m.cell_id = g.cell_id "
        "JOIN temp.known_submissions s ON s.notebook_id = g.notebook_id "
        "LEFT JOIN temp.known_comments cm ON cm.notebook_id = g.notebook_id AND cm.cell_id = m.comment_cell_id")
    grades = conn.execute("SELECT count(*) FROM gb.grade").fetchone()[0]
    unknown = tuple(r[0] for r in conn.execute(
        "SELECT DISTINCT student_id FROM gb.submitted_assignment sa WHERE NOT EXISTS "
        "(SELECT 1 FROM reps r WHERE r.id = sa.student_id) ORDER BY student_id"))
    return grades, unknown


def _stage_scores_staged(conn: sqlite3.Connection) -> tuple[int, tuple[str, ...]]:
    """The same as :func:`_stage_scores_attached`, from grades streamed into ``gb_grades``."""
    conn.execute(
        "INSERT INTO temp.incoming_scores SELECT g.student_id, m.item_id, g.auto_score, g.manual_score, "
        "g.extra_credit, g.needs_manual_grade, g.comment, g.submitted_at FROM temp.gb_grades g "
        "JOIN temp.cell_items m ON m.cell_id = g.cell_id JOIN reps r ON r.id = g.student_id")
    grades = conn.execute("SELECT count(*) FROM temp.gb_grades").fetchone()[0]
    unknown = tuple(r[0] for r in conn.execute(
        "SELECT DISTINCT student_id FROM temp.gb_grades g WHERE NOT EXISTS "
        "(SELECT 1 FROM reps r WHERE r.id = g.student_id) ORDER BY student_id"))
    return grades, unknown


def _stage_remote(conn: sqlite3.Connection, url: str) -> None:
    """The gradebook's cells and grades, read with the same SQL over SQLAlchemy, into temp tables."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = create_engine(url)
    except Exception as exc:  # noqa: BLE001 - a missing driver or a bad URL; both end up as one line
        raise SpmError(f"{display_url(url)}: cannot open the gradebook ({exc.__class__.__name__}: "
                       f"{_first_line(exc)})") from None
    try:
        with engine.connect() as gb:
            for sql, table, width in ((_CELLS_SQL, "gb_cells", 8), (_GRADES_SQL, "gb_grades", 8)):
                # A server-side cursor keeps memory flat however large the course is.
                result = gb.execution_options(stream_results=True, yield_per=CHUNK).execute(text(sql.format(gb="")))
                insert = f"INSERT INTO temp.{table} VALUES ({', '.join('?' * width)})"
                for chunk in result.partitions(CHUNK):
                    conn.executemany(insert, (_plain_row(row) for row in chunk))
    except SQLAlchemyError as exc:
        raise SpmError(f"{display_url(url)}: cannot read the gradebook ({exc.__class__.__name__}: "
                       f"{_first_line(exc)}); check the URL and that it is an nbgrader gradebook") from None
    finally:
        engine.dispose()


def _plain_row(row: Iterable[object]) -> tuple:
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'; other backends return
    # datetime objects, written the same way so that both paths fill the store identically.
    return tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime)
                 else int(v) if isinstance(v, bool) else v for v in row)


def _first_line(exc: BaseException) -> str:
    return first_line(exc) or exc.__class__.__name__


# --- the store side: the public writers, and the sync's use of them ----------------------------

class ItemLike(Protocol):
    """An item to write: :class:`ItemRow`, or :class:`spm_training.course.Item` as ``read_items`` gives it."""

    @property
    def assignment(self) -> str: ...
    @property
    def notebook(self) -> str: ...
    @property
    def cell(self) -> str: ...
    @property
    def max_score(self) -> float: ...
    @property
    def kind(self) -> str: ...
    @property
    def skills(self) -> tuple[str, ...]: ...


class ItemRow(NamedTuple):
    """An item (a graded or task cell) and the skills it is tagged with."""

    assignment: str
    notebook: str
    cell: str                            # nbgrader grade_id
    max_score: float
    kind: str                            # autograded, manual or task
    skills: tuple[str, ...] = ()


class ScoreRow(NamedTuple):
    """A rep's score on an item, named by the item's key; the parts nbgrader's grade has."""

    rep_id: str
    assignment: str
    notebook: str
    cell: str
    auto_score: float | None = None
    manual_score: float | None = None
    extra_credit: float | None = None
    needs_manual_grade: bool | int = False
    comment: str | None = None
    submitted_at: str | None = None      # 'YYYY-MM-DD HH:MM:SS.ffffff', as nbgrader stores it


@dataclass(frozen=True)
class CatalogWrite:
    """What :func:`write_catalog` changed."""

    catalog_changes: int                 # rows of KPI definitions, skills, skill-KPI links and skill pages
    items_changed: int                   # items added, updated or removed, their skill links, skills removed
    unknown_skills: tuple[str, ...] = ()     # item tags the skills catalog does not define (not written)


@dataclass(frozen=True)
class ScoreWrite:
    """What :func:`write_scores` changed."""

    rows: int
    inserted: int
    updated: int
    unchanged: int


@contextmanager
def _writing(target: Store | sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A store's connection in a transaction of its own; a connection as it is, inside its caller's."""
    if isinstance(target, Store):
        with target.transaction() as conn:
            yield conn
    else:
        yield target


def write_catalog(target: Store | sqlite3.Connection, skills: dict[str, Skill], kpis: dict[str, Kpi],
                  items: Iterable[ItemLike]) -> CatalogWrite:
    """Make the store's copy of the course catalog these KPI definitions, skills (with their KPI links
    and book pages) and items (with their skills), writing only what differs: what ``spm sync`` does.

    Items not given are removed, and their scores with them; new items get ids in the order given,
    the order reports list them in. An item's tags that ``skills`` does not define are left out and
    named in the result. A :class:`~spm_training.store.Store` is written in one transaction of its
    own; a connection, inside the transaction its caller has open."""
    with _writing(target) as conn:
        before = conn.total_changes
        _write_skills(conn, skills, kpis)
        catalog_changes = conn.total_changes - before
        items_changed, unknown = _write_items(conn, list(items), skills)
    return CatalogWrite(catalog_changes=catalog_changes, items_changed=items_changed, unknown_skills=unknown)


def _write_skills(conn: sqlite3.Connection, skills: dict[str, Skill], kpis: dict[str, Kpi]) -> None:
    """Mirror the skills catalog (skills, their KPI links and pages) into the store."""
    sync_kpi_definitions(conn, kpis)
    conn.executemany(
        "INSERT INTO skills (id, name, threshold, method) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, threshold = excluded.threshold, "
        "method = excluded.method WHERE (name, threshold, method) IS NOT "
        "(excluded.name, excluded.threshold, excluded.method)",
        [(s.id, s.name, s.threshold, s.method) for s in skills.values()])
    links = {(s.id, k, d) for s in skills.values() for k, d in s.kpis if k in kpis}
    pages = {(s.id, p) for s in skills.values() for p in s.pages}
    old_links = {tuple(r) for r in conn.execute("SELECT skill_id, kpi_id, direction FROM skill_kpis")}
    old_pages = {tuple(r) for r in conn.execute("SELECT skill_id, page FROM skill_pages")}
    conn.executemany("DELETE FROM skill_kpis WHERE skill_id = ? AND kpi_id = ? AND direction = ?",
                     sorted(old_links - links))
    conn.executemany("INSERT INTO skill_kpis (skill_id, kpi_id, direction) VALUES (?, ?, ?)", sorted(links - old_links))
    conn.executemany("DELETE FROM skill_pages WHERE skill_id = ? AND page = ?", sorted(old_pages - pages))
    conn.executemany("INSERT INTO skill_pages (skill_id, page) VALUES (?, ?)", sorted(pages - old_pages))


def _write_items(conn: sqlite3.Connection, items: list[ItemLike], skills: dict[str, Skill]
                 ) -> tuple[int, tuple[str, ...]]:
    """Upsert the items and their skills, drop the items not given; returns (rows changed, unknown tags)."""
    before = conn.total_changes
    conn.executemany(
        "INSERT INTO items (assignment, notebook, cell, max_score, kind) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(assignment, notebook, cell) DO UPDATE SET max_score = excluded.max_score, kind = excluded.kind "
        "WHERE (max_score, kind) IS NOT (excluded.max_score, excluded.kind)",
        [(i.assignment, i.notebook, i.cell, i.max_score, i.kind) for i in items])
    ids = {(a, n, c): i for i, a, n, c in conn.execute("SELECT id, assignment, notebook, cell FROM items")}
    given = {(i.assignment, i.notebook, i.cell) for i in items}
    conn.executemany("DELETE FROM items WHERE id = ?", [(i,) for key, i in ids.items() if key not in given])
    # New links in the order of the items and of each item's tags: the order analysis reads them in.
    wanted = dict.fromkeys((ids[(i.assignment, i.notebook, i.cell)], s) for i in items for s in i.skills
                           if s in skills)
    unknown = sorted({s for i in items for s in i.skills if s not in skills})
    old = {tuple(r) for r in conn.execute("SELECT item_id, skill_id FROM item_skills")}
    conn.executemany("DELETE FROM item_skills WHERE item_id = ? AND skill_id = ?", sorted(old - wanted.keys()))
    conn.executemany("INSERT INTO item_skills (item_id, skill_id) VALUES (?, ?)", [w for w in wanted if w not in old])
    # Skills that left the catalog go last, once no item or link names them any more.
    conn.execute("DELETE FROM skills WHERE id NOT IN (SELECT value FROM json_each(?))", (json.dumps(list(skills)),))
    return conn.total_changes - before, tuple(unknown)


def write_scores(target: Store | sqlite3.Connection, rows: Iterable[ScoreRow | tuple]) -> ScoreWrite:
    """Upsert scores, one :class:`ScoreRow` (or a tuple in its order) per rep and item; rows that
    match the store are not written, and scores not given are kept.

    The items must be in the store (:func:`write_catalog`) and the reps too
    (:func:`~spm_training.ingest.roster.write_roster`). Written the way ``spm sync`` writes the
    gradebook's scores, in one transaction (a connection: inside its caller's)."""
    conn = target.conn if isinstance(target, Store) else target
    # A Store's writes get the sync's in-memory staging; a caller's open transaction is left as it is
    # (changing temp_store drops the connection's temporary tables).
    with _fast_temp(conn) if isinstance(target, Store) else nullcontext(), _writing(target):
        ids = {(a, n, c): i for i, a, n, c in conn.execute("SELECT id, assignment, notebook, cell FROM items")}
        reps = {r[0] for r in conn.execute("SELECT id FROM reps")}
        for statement in _SCORE_STAGE_DDL.split(";"):
            conn.execute(statement)
        try:
            conn.execute("DELETE FROM temp.incoming_scores")
            conn.executemany("INSERT INTO temp.incoming_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (_staged_score(row, ids, reps) for row in rows))
            staged = conn.execute("SELECT count(*) FROM temp.incoming_scores").fetchone()[0]
            before = conn.execute("SELECT count(*) FROM scores").fetchone()[0]
            inserted, updated = _write_staged_scores(conn, staged, before)
        finally:
            for table in _SCORE_STAGED:
                conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
    return ScoreWrite(rows=staged, inserted=inserted, updated=updated, unchanged=staged - inserted - updated)


def _staged_score(row: ScoreRow | tuple, ids: dict[tuple[str, str, str], int], reps: set[str]) -> tuple:
    rep, assignment, notebook, cell, auto, manual, extra, pending, comment, submitted_at = row
    item_id = ids.get((assignment, notebook, cell))
    if item_id is None:
        raise SpmError(f"no item {assignment}/{notebook}/{cell} in the store; write the items first (write_catalog)")
    if rep not in reps:
        raise SpmError(f"no rep {rep!r} in the store; write the roster first (spm roster import)")
    return rep, item_id, auto, manual, extra, int(pending), comment, submitted_at


def _sync_items(conn: sqlite3.Connection, course_dir: Path, skills: dict[str, Skill], kpis: dict[str, Kpi]
                ) -> tuple[CatalogWrite, list[str]]:
    """The catalog and the gradebook's cells as items, with their skills from source/
    (:func:`write_catalog`); returns what it changed and the cells missing from source/."""
    source = {item.key: (position, item) for position, item in enumerate(read_items(course_dir))}
    cells = [tuple(r) for r in conn.execute("SELECT assignment, notebook, cell, max_score, kind, duedate "
                                            "FROM temp.gb_cells")]
    # New items get ids in course order (due date, assignment, then the cell's place in the source
    # notebook), which is the order reports list them in.
    cells.sort(key=lambda c: (c[5] is None, str(c[5] or ""), c[0], c[1],
                              source.get((c[0], c[1], c[2]), (10**9,))[0], c[2]))
    written = write_catalog(conn, skills, kpis, [
        ItemRow(a, n, cell, max_score, kind, source[(a, n, cell)][1].skills if (a, n, cell) in source else ())
        for a, n, cell, max_score, kind, _ in cells])
    conn.execute("INSERT INTO temp.cell_items SELECT c.cell_id, i.id, c.comment_cell_id FROM temp.gb_cells c "
                 "JOIN items i ON i.assignment = c.assignment AND i.notebook = c.notebook AND i.cell = c.cell")
    without_source = sorted({"/".join(c[:3]) for c in cells if c[:3] not in source})
    return written, without_source


_SCORE_FIELDS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade", "comment", "submitted_at")


def _write_staged_scores(conn: sqlite3.Connection, staged: int, before: int) -> tuple[int, int]:
    """Write the staged scores that differ from the store's ``before`` scores; (inserted, updated).

    One read-only pass finds what changed; only those rows are written. On a re-sync of an unchanged
    gradebook that pass is all the work, and nothing is written."""
    fields = ", ".join(_SCORE_FIELDS)
    if before == 0:
        conn.execute(f"INSERT INTO scores (rep_id, item_id, {fields}) SELECT * FROM temp.incoming_scores")
        return staged, 0
    differs = " OR ".join(f"s.{f} IS NOT i.{f}" for f in _SCORE_FIELDS)
    conn.execute(
        f"INSERT INTO temp.changed_scores SELECT i.*, s.rep_id IS NULL FROM temp.incoming_scores i "
        f"LEFT JOIN scores s ON s.rep_id = i.rep_id AND s.item_id = i.item_id WHERE s.rep_id IS NULL OR {differs}")
    inserted, updated = conn.execute(
        "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM temp.changed_scores"
    ).fetchone()
    if inserted or updated:
        conn.execute(
            f"INSERT INTO scores (rep_id, item_id, {fields}) SELECT rep_id, item_id, {fields} "
            f"FROM temp.changed_scores WHERE true ON CONFLICT(rep_id, item_id) DO UPDATE SET "
            + ", ".join(f"{f} = excluded.{f}" for f in _SCORE_FIELDS))
    return inserted, updated


def _sync_scores(conn: sqlite3.Connection) -> tuple[int, int, int, int]:
    """Write the staged scores of known reps that differ from the store; remove scores the
    gradebook no longer has. Returns (inserted, updated, unchanged, removed)."""
    staged = conn.execute("SELECT count(*) FROM temp.incoming_scores").fetchone()[0]
    before = conn.execute("SELECT count(*) FROM scores").fetchone()[0]
    inserted, updated = _write_staged_scores(conn, staged, before)
    # Every staged key is in the store now, and staged keys are unique (one grade per cell and
    # submission), so anything beyond them is a score the gradebook no longer has.
    removed = 0
    if before + inserted > staged:
        conn.execute("CREATE INDEX temp.incoming_scores_key ON incoming_scores (rep_id, item_id)")
        start = conn.total_changes
        conn.execute("DELETE FROM scores WHERE NOT EXISTS (SELECT 1 FROM temp.incoming_scores i "
                     "WHERE i.rep_id = scores.rep_id AND i.item_id = scores.item_id)")
        removed = conn.total_changes - start
    return inserted, updated, staged - inserted - updated, removed


def _drop_staging(conn: sqlite3.Connection) -> None:
    for table in _STAGED:
        conn.execute(f"DROP TABLE IF EXISTS temp.{table}")


_NBGRADER_TABLES = {"assignment", "notebook", "base_cell", "grade_cells", "task_cells", "grade", "comment",
                    "submitted_assignment", "submitted_notebook"}


@contextmanager
def _fast_temp(conn: sqlite3.Connection) -> Iterator[None]:
    """Staging tables in memory and a larger page cache for the sync, then the connection's own
    settings back. A million staged grades take some 150 MB, well inside the memory goal."""
    temp_store = conn.execute("PRAGMA temp_store").fetchone()[0]
    cache_size = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -262144")          # 256 MiB
    if "gb" in {r[1] for r in conn.execute("PRAGMA database_list")}:
        conn.execute("PRAGMA gb.cache_size = -262144")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA temp_store = {int(temp_store)}")
        conn.execute(f"PRAGMA cache_size = {int(cache_size)}")


@contextmanager
def _attached(conn: sqlite3.Connection, path: Path) -> Iterator[None]:
    """The SQLite gradebook as schema ``gb`` of the store's connection, read-only, for the block."""
    if not path.is_file():
        raise SpmError(f"{path}: no gradebook here; run nbgrader (generate_assignment, autograde) in the course "
                       "first, or pass --gradebook URL")
    # ATTACH is refused inside a transaction, so it brackets the sync's transaction.
    try:
        conn.execute("ATTACH DATABASE ? AS gb", (f"file:{quote(str(path.resolve()))}?mode=ro",))
    except sqlite3.DatabaseError as exc:
        # SQLite reads a file's header when it attaches it: a CSV, a zip or a half-copied file ends here.
        if "not a database" in str(exc):
            raise SpmError(f"{path}: not a SQLite database, so not an nbgrader gradebook; pass the course's "
                           "gradebook.db (or its URL) with --gradebook") from None
        raise SpmError(f"{path}: cannot open the gradebook ({_first_line(exc)}); check that the file is "
                       "readable") from None
    try:
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM gb.sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise SpmError(f"{path}: not a SQLite database ({exc}); pass the gradebook with --gradebook") from None
        if missing := sorted(_NBGRADER_TABLES - tables):
            raise SpmError(f"{path}: not an nbgrader gradebook (no table {missing[0]}); pass the gradebook with "
                           "--gradebook, or run nbgrader db upgrade in the course")
        yield
    finally:
        conn.execute("DETACH DATABASE gb")


def sync_gradebook(store: Store, url: str, course_dir: Path, skills: dict[str, Skill],
                   kpis: dict[str, Kpi]) -> SyncResult:
    """Copy the gradebook at ``url`` into the store in one transaction; see the module's docstring."""
    conn = store.conn
    path = sqlite_path(url)
    _drop_staging(conn)
    with _attached(conn, path) if path is not None else nullcontext(), _fast_temp(conn):
        try:
            with store.transaction():
                for statement in _STAGE_DDL.split(";"):
                    conn.execute(statement)
                if path is not None:
                    _stage_cells_attached(conn)
                else:
                    _stage_remote(conn, url)
                scores_before = conn.execute("SELECT count(*) FROM scores").fetchone()[0]
                gone = _assignments_gone(conn)
                written, without_source = _sync_items(conn, course_dir, skills, kpis)
                grades, unknown = (_stage_scores_attached(conn) if path is not None else _stage_scores_staged(conn))
                inserted, updated, unchanged, _ = _sync_scores(conn)
                # The items the gradebook no longer has took their scores with them (ON DELETE CASCADE)
                # before _sync_scores looked, so the count of what went is taken over the whole sync.
                removed = scores_before + inserted - conn.execute("SELECT count(*) FROM scores").fetchone()[0]
                staged = inserted + updated + unchanged
                counts = conn.execute(
                    "SELECT (SELECT count(DISTINCT assignment) FROM temp.gb_cells), (SELECT count(*) FROM items), "
                    "(SELECT count(*) FROM scores WHERE needs_manual_grade)").fetchone()
        finally:
            _drop_staging(conn)
    return SyncResult(
        gradebook=display_url(url), assignments=counts[0], items=counts[1], items_changed=written.items_changed,
        grades=grades, inserted=inserted, updated=updated, unchanged=unchanged, removed=removed,
        needs_manual_grade=counts[2], unknown_students=unknown,
        # every grade belongs to a graded or task cell, so the ones not staged are the unknown students'
        unknown_grades=grades - staged, cells_without_source=tuple(without_source),
        unknown_skills=written.unknown_skills, catalog_changes=written.catalog_changes, assignments_removed=gone)


def _assignments_gone(conn: sqlite3.Connection) -> tuple[tuple[str, int], ...]:
    """The store's assignments that the staged gradebook cells no longer name, with their scores."""
    return tuple((a, n) for a, n in conn.execute(
        "SELECT i.assignment, count(s.item_id) FROM items i LEFT JOIN scores s ON s.item_id = i.id "
        "WHERE i.assignment NOT IN (SELECT assignment FROM temp.gb_cells) GROUP BY i.assignment "
        "ORDER BY i.assignment"))


def summary_lines(result: SyncResult, *, no_catalog: Path | None = None) -> list[str]:
    """The sync's outcome as the lines ``spm sync`` prints; ``no_catalog``: the skills.yml the course
    does not have, said once (and the tags it would define are then not listed as unknown)."""
    lines = [f"{result.gradebook}: {result.grades} grades in {result.assignments} assignments, {result.items} items; "
             f"scores {result.inserted} new, {result.updated} updated, {result.unchanged} unchanged, "
             f"{result.removed} removed; {result.needs_manual_grade} awaiting a manual grade"]
    if result.assignments_removed:
        gone = ", ".join(f"{a} ({plural(n, 'score')})" for a, n in result.assignments_removed)
        lines.append(f"no longer in the gradebook, removed from the store with their scores: "
                     f"{plural(len(result.assignments_removed), 'assignment')}: {gone}; an assignment renamed in "
                     "nbgrader is synced under its new name")
    if result.unknown_students:
        shown = ", ".join(result.unknown_students[:10]) + (" ..." if len(result.unknown_students) > 10 else "")
        lines.append(f"not in the roster, not synced: {len(result.unknown_students)} students with "
                     f"{result.unknown_grades} grades ({shown}); add them with spm roster import")
    if result.cells_without_source:
        lines.append(f"no skills for {len(result.cells_without_source)} gradebook cells missing from the course's "
                     f"source/ ({', '.join(result.cells_without_source[:5])}); check --course")
    if no_catalog is not None:
        lines.append(f"note: no skills.yml in {no_catalog.parent}: scores are synced without skills; run "
                     "`spm skills init` to start a catalog")
    elif result.unknown_skills:
        lines.append(f"skill tags not in skills.yml, ignored: {', '.join(result.unknown_skills)}; "
                     "run spm skills check")
    if not result.changed:
        lines.append("the store already matched the gradebook: nothing changed")
    return lines
