"""The store: one SQLite file (``spm.db``) through sqlite-utils, with a versioned schema.

Every import and every sync runs inside :func:`transaction`, so it lands whole or not at all.
The schema version lives in SQLite's ``user_version``; :data:`MIGRATIONS` takes a store of any
earlier version to the current one, each step in its own transaction.

:func:`open_store` opens a store for a command that writes or, read-only, for one that only reads
(which then works on a read-only file or mount); it refuses files that are not spm stores and leaves
them as they were, waits a configurable time for another writer, and says "busy" or "read-only" in
one line. :func:`backup_store` and :func:`restore_store` copy a store through SQLite's online backup.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def _migrate_add_served_platform(conn: sqlite3.Connection) -> None:
    # spm serve: hub logins for reps and team managers, when a rep left, the store's revisions (what a
    # served page's cache is keyed on), and what reps do in the served book (activity, kept apart
    # from the graded data); trainings completed outside the course (spm trainings import).
    conn.execute("ALTER TABLE reps ADD COLUMN login TEXT")        # the hub username; NULL: the rep id
    conn.execute("ALTER TABLE reps ADD COLUMN left_on TEXT")      # ISO date the rep left; NULL: still here
    conn.execute("CREATE UNIQUE INDEX reps_login ON reps(COALESCE(login, id))")
    conn.execute("ALTER TABLE teams ADD COLUMN manager_login TEXT")   # NULL: the manager has no hub login
    conn.execute("""
        CREATE TABLE revisions (
            name TEXT PRIMARY KEY,           -- data or activity
            value INTEGER NOT NULL
        ) WITHOUT ROWID""")
    conn.execute("""
        CREATE TABLE self_checks (
            rep_id TEXT NOT NULL REFERENCES reps(id),
            page TEXT NOT NULL,              -- the book page, such as book/sdr/prospecting
            question TEXT NOT NULL,          -- the knowledge check's question id on that page
            first_correct INTEGER NOT NULL,  -- 1 when the first answer was right
            attempts INTEGER NOT NULL,
            first_at TEXT NOT NULL,          -- ISO timestamps (UTC)
            last_at TEXT NOT NULL,
            PRIMARY KEY (rep_id, page, question)
        ) WITHOUT ROWID""")
    conn.execute("""
        CREATE TABLE page_reads (
            rep_id TEXT NOT NULL REFERENCES reps(id),
            page TEXT NOT NULL,
            first_at TEXT NOT NULL,
            last_at TEXT NOT NULL,
            PRIMARY KEY (rep_id, page)
        ) WITHOUT ROWID""")
    conn.execute("""
        CREATE TABLE trainings (
            rep_id TEXT NOT NULL REFERENCES reps(id),
            program TEXT NOT NULL,
            completed_on TEXT NOT NULL,      -- ISO date
            hours REAL,
            source TEXT NOT NULL,            -- the file the row came from
            PRIMARY KEY (rep_id, program, completed_on)
        ) WITHOUT ROWID""")
    conn.execute("CREATE INDEX trainings_program ON trainings(program)")


#: One function per schema version; MIGRATIONS[i] takes version i to i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_to_1, _migrate_add_tampering,
                                                          _migrate_add_served_platform]
SCHEMA_VERSION = len(MIGRATIONS)


#: Tables every spm store has: what tells an spm store from another SQLite file.
CORE_TABLES = frozenset({"teams", "reps", "kpis", "kpi_values", "skills", "items", "scores"})
#: nbgrader's gradebook tables (nbgrader.api): a file with these is a gradebook, for ``--gradebook``.
GRADEBOOK_TABLES = frozenset({"assignment", "student", "submitted_assignment", "grade", "base_cell"})
#: How long a write waits for another writer to finish, in seconds, unless told otherwise
#: (``$SPM_BUSY_TIMEOUT``, or ``store: {busy_timeout: ...}`` in spm.yml).
DEFAULT_BUSY_TIMEOUT = 30.0
BUSY_ENV = "SPM_BUSY_TIMEOUT"


class Store:
    """An open store. Use :meth:`transaction` around every write.

    ``readonly`` stores (opened for a command that only reads) refuse :meth:`transaction`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool = False,
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = path
        self.conn = conn
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        # A store this open created (or found as an empty file) is taken away again when the work on
        # it fails before anything was committed: a refused import leaves no empty store behind.
        self._fresh: bool | None = None     # None: not fresh; False: the path did not exist; True: a 0-byte file
        self._committed = False
        # The file this connection has open: a write checks that the path still names it (see transaction);
        # absolute, since a command may change its working folder (nbgrader does) after opening the store.
        self._absolute = Path(os.path.abspath(path))
        self._file = _file_id(self._absolute)

    @functools.cached_property
    def db(self) -> "sqlite_utils.Database":  # noqa: F821 - imported when first used
        """sqlite-utils over the same connection (imported on first use: it pulls in pandas, and
        most commands start faster without it)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    @contextmanager
    def transaction(self, *, activity: bool = False, _bump: bool = True) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception: all or nothing.

        A committed transaction that changed rows adds one to the store's :meth:`data_revision` (or,
        with ``activity``, for what reps do in the served book, to its :meth:`activity_revision`
        instead), in the same commit; one rolled back, or one that changed no row of the store (a
        re-import of the same file: rows staged in temporary tables do not count), changes neither.

        A store another process is writing to is waited for up to :attr:`busy_timeout` seconds, then
        refused with a StoreError that says so; so is a write to a read-only store."""
        if self.readonly:
            raise read_only_error(self.path, "this command opened it for reading only")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise explain(self.path, exc, self.busy_timeout) from None
        if self._file is not None and _file_id(self._absolute) != self._file:
            # Another command removed the new store it had just created (its import was refused) or an
            # admin moved another file into place while this connection held the old one: a commit now
            # would land in a file nobody will open again.
            self.conn.execute("ROLLBACK")
            raise StoreError(f"{self.path}: the store was removed or replaced while this command ran; nothing was "
                             "written: run it again")
        conn = self.conn
        if isinstance(conn, StoreConnection):
            conn.start_counting()
        try:
            yield conn
            if _bump and (conn.changed_store() if isinstance(conn, StoreConnection) else True):
                conn.execute(_BUMP_SQL, ("activity" if activity else "data",))
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise explain(self.path, exc, self.busy_timeout) from None
        self._committed = True

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict]:
        return [dict(r) for r in self.conn.execute(sql, params)]

    def data_revision(self) -> int:
        """How many writes (imports, syncs, roster changes, removals, restores) the store has taken:
        a number that grows with every committed :meth:`transaction` and that nothing else changes, so
        what is computed from the store can be cached under it. Seen by every open connection as soon
        as another one (of any process) commits."""
        return _revision(self.conn, "data")

    def activity_revision(self) -> int:
        """:meth:`data_revision` for the reps' activity in the served book (``transaction(activity=True)``)."""
        return _revision(self.conn, "activity")

    def close(self) -> None:
        self.conn.close()

    def discard_if_fresh(self) -> None:
        """Close, and undo the creation of a store that this open created and nothing committed to.

        Under the write lock, and only while every table is still empty: another command that opened
        the new store meanwhile and wrote to it keeps its data, and one that writes later finds the
        store gone (see :meth:`transaction`) instead of writing into a removed file."""
        if self._fresh is None or self._committed or self.readonly:
            self.close()
            return
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.conn.execute("BEGIN IMMEDIATE")
            tables = [r[0] for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            if any(self.conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() for t in tables):
                return
            if self._fresh:
                # it was an empty file: put an empty file with the same owner and mode in its place (a
                # new file, so that a connection that still has the old one open notices)
                _replace_with_empty(self.path)
            else:
                self.path.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        except (sqlite3.Error, OSError):
            return      # busy or gone: someone else has the store now, so it stays
        finally:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self.discard_if_fresh()
        else:
            self.close()


class StoreConnection(sqlite3.Connection):
    """The store's connection: tells whether the statements run since :meth:`start_counting` changed rows
    of the store itself, as opposed to rows of temporary tables (the staging an import or a sync writes
    before it upserts): what decides whether a transaction moves the store's revision.

    SQLite's authorizer names the database each statement writes to when the statement is prepared;
    :meth:`execute` and :meth:`executemany` remember that per SQL text (a cached statement is not
    prepared again) and add up the rows each changed. Rows changed some other way (a cursor of its
    own) count as changes of the store."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._targets: dict[str, bool] = {}     # SQL text -> whether it writes to the store (main)
        self._preparing: set[str] = set()
        self._start = self._counted = self._store_rows = 0
        self.set_authorizer(self._authorize)

    def _authorize(self, action: int, arg1: str | None, arg2: str | None, database: str | None,
                   trigger: str | None) -> int:
        if action in _WRITES and database:
            self._preparing.add(database)
        return sqlite3.SQLITE_OK

    def start_counting(self) -> None:
        self._start = self.total_changes
        self._counted = self._store_rows = 0

    def changed_store(self) -> bool:
        """Whether the statements since :meth:`start_counting` changed a row of the store."""
        uncounted = self.total_changes - self._start - self._counted
        return self._store_rows > 0 or uncounted > 0

    def _run(self, sql: str, run: Callable[[], sqlite3.Cursor]) -> sqlite3.Cursor:
        self._preparing = set()
        before = self.total_changes
        cursor = run()
        if self._preparing:
            self._targets[sql] = "temp" not in self._preparing or len(self._preparing) > 1
        changed = self.total_changes - before
        self._counted += changed
        if changed and self._targets.get(sql, True):
            self._store_rows += changed
        return cursor

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self._run(sql, lambda: super(StoreConnection, self).execute(sql, parameters))

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        return self._run(sql, lambda: super(StoreConnection, self).executemany(sql, parameters))


_WRITES = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})
_BUMP_SQL = ("INSERT INTO revisions (name, value) VALUES (?, 1) "
             "ON CONFLICT(name) DO UPDATE SET value = value + 1")


def _revision(conn: sqlite3.Connection, name: str) -> int:
    row = conn.execute("SELECT value FROM revisions WHERE name = ?", (name,)).fetchone()
    return 0 if row is None else int(row[0])


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _replace_with_empty(path: Path) -> None:
    info = os.stat(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.empty")
    temp.write_bytes(b"")
    try:
        os.chmod(temp, info.st_mode & 0o7777)
        if hasattr(os, "chown"):
            try:
                os.chown(temp, info.st_uid, info.st_gid)
            except PermissionError:
                pass        # only root may give the file away; the mode is kept all the same
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def read_only_error(path: Path, why: str) -> StoreError:
    return StoreError(f"{path}: the store is read-only ({why}); commands that read it work, this one writes: "
                      "run it where the store is writable, or on a copy (spm backup COPY.db, then --db COPY.db)")


def busy_error(path: Path, timeout: float) -> StoreError:
    seconds = f"{timeout:g} second{'' if timeout == 1 else 's'}"
    return StoreError(f"{path}: the store is busy: another command has been writing to it for more than {seconds}; "
                      "run this again when it has finished, or let commands wait longer "
                      f"({BUSY_ENV}=SECONDS, or store: {{busy_timeout: SECONDS}} in spm.yml)")


def explain(path: Path, exc: sqlite3.Error, timeout: float) -> StoreError:
    """The one-line StoreError for what SQLite said while opening, reading or writing the store."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return busy_error(path, timeout)
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return read_only_error(path, "SQLite may not write to it")
    first = text.splitlines()[0] if text else exc.__class__.__name__
    return StoreError(f"{path}: cannot use the store ({first})")


def busy_timeout_from_env() -> float | None:
    """``$SPM_BUSY_TIMEOUT`` in seconds, None when unset; a StoreError when it is not a number of seconds."""
    raw = os.environ.get(BUSY_ENV, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:
        raise StoreError(f"{BUSY_ENV}={raw[:40]!r}: expected a number of seconds from 0 to 86400, such as 30")
    return value


#: ``$SPM_STORE_ON_NETWORK_FS=1`` (or ``store: {allow_network_filesystem: true}`` in spm.yml) lets a WAL store
#: live on a network or FUSE file system; by default open_store refuses it (see :func:`network_filesystem`).
NETWORK_FS_ENV = "SPM_STORE_ON_NETWORK_FS"
#: statfs(2) f_type magic numbers of the file systems where SQLite's WAL is unsafe: its -shm index is shared
#: memory, which only works between processes of one host, and these may be mounted by several.
NETWORK_FILESYSTEMS = {0x6969: "NFS", 0xFF534D42: "CIFS", 0xFE534D42: "SMB2", 0x517B: "SMB",
                       0x65735546: "FUSE", 0x00C36400: "CephFS"}


@functools.cache
def _libc() -> object | None:
    """The C library this process already runs with (loaded once: ctypes.util.find_library would run
    ldconfig in a subprocess on every open); None off Linux."""
    import ctypes
    import sys

    return ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _statfs_type(folder: Path) -> int | None:
    """statfs(2)'s f_type for ``folder``, None where it cannot be read (not Linux, no libc)."""
    import ctypes

    libc: Any = _libc()
    if libc is None:
        return None
    buffer = ctypes.create_string_buffer(512)   # struct statfs is 120 bytes on 64-bit Linux; f_type comes first
    if libc.statfs(os.fsencode(folder), buffer) != 0:
        return None
    return ctypes.c_long.from_buffer(buffer).value & 0xFFFFFFFF


def network_filesystem(folder: Path) -> str | None:
    """The name of the network or FUSE file system ``folder`` is on (NFS, CIFS, SMB2, SMB, FUSE, CephFS),
    or None for a local one (or when statfs cannot tell)."""
    kind = _statfs_type(folder)
    return None if kind is None else NETWORK_FILESYSTEMS.get(kind)


def refuse_wal_on_network(path: Path, allow: bool | None = None) -> None:
    """Raise a one-line StoreError when the store at ``path`` uses WAL (or is new, and would) and its folder
    is on a network or FUSE file system; ``allow`` (default ``$SPM_STORE_ON_NETWORK_FS``) lets it be."""
    if allow is None:
        allow = os.environ.get(NETWORK_FS_ENV, "").strip().lower() in {"1", "yes", "true", "allow"}
    if allow:
        return
    try:
        with open(path, "rb") as handle:
            header = handle.read(20)
    except FileNotFoundError:
        header = b""
    # Bytes 18 and 19 of an SQLite file are 2 in WAL mode; a new (absent or empty) store starts in WAL.
    if len(header) == 20 and header[18:20] != b"\x02\x02":
        return
    kind = network_filesystem(path.parent if str(path.parent) else Path("."))
    if kind:
        raise StoreError(f"{path}: the store's folder is on {kind}, a network file system, where SQLite's "
                         "write-ahead log can corrupt or lock the store; keep it on a local disk (on Kubernetes, "
                         "the spm service's own ReadWriteOnce volume), or, if only one machine ever opens it, "
                         f"set {NETWORK_FS_ENV}=1 (or store: {{allow_network_filesystem: true}} in spm.yml)")


def _writable(path: Path) -> str | None:
    """Why ``path`` (an existing store) cannot be written, or None when it can."""
    folder = path.parent
    for target, what in ((path, "the file"), (folder, f"its folder {folder}")):
        if not os.access(target, os.W_OK):
            try:
                read_only_fs = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
            except OSError:
                read_only_fs = False
            return "it is on a read-only file system" if read_only_fs else f"{what} is not writable"
    return None


def _connect(uri: str, timeout: float, *, readonly: bool) -> sqlite3.Connection:
    # Autocommit mode: transactions are ours, explicit, and never committed behind our back.
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout, factory=StoreConnection)
    conn.row_factory = sqlite3.Row
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    return conn


def _uri(path: Path, **params: str) -> str:
    from urllib.parse import quote

    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{quote(str(path.resolve()))}" + (f"?{query}" if query else "")


def _open_readonly(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that reads ``path`` without changing it or the files beside it.

    A writable store is opened as usual with ``query_only`` on: the last connection to close then
    folds and deletes the -wal and -shm files, as after any command. A store we may not write is
    opened with ``mode=ro``; a WAL store there needs its -shm file, which SQLite cannot create in a
    read-only folder (it says "unable to open database file"). Since SQLite 3.22 such a store can be
    read as ``immutable`` instead, which is right only when its -wal holds nothing the file lacks:
    a read-only folder with a non-empty -wal is refused, since reading the file alone would miss
    the last writes."""
    if _writable(path) is None:
        return _connect(_uri(path), timeout, readonly=True)
    try:
        conn = _connect(_uri(path, mode="ro"), timeout, readonly=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        name = getattr(exc, "sqlite_errorname", "") or ""
        if not (name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY")) or "unable to open" in str(exc)):
            raise
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(f"{path}: the store is read-only and its write-ahead log ({wal.name}) holds changes "
                         "the file does not have yet; open it once where it is writable (any spm command "
                         "folds them in), or copy it with spm backup there")
    return _connect(_uri(path, mode="ro", immutable="1"), timeout, readonly=True)


def describe_foreign(path: Path, conn: sqlite3.Connection, *, hint: bool = True) -> str | None:
    """What an SQLite file that is not an spm store looks like (with what to do instead, when ``hint``),
    or None when it is one (or is blank)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    tables = {t for t in tables if not t.startswith("sqlite_")}
    if not tables or CORE_TABLES <= tables:
        return None
    if GRADEBOOK_TABLES <= tables:
        return "it looks like an nbgrader gradebook" + (
            "; pass it to --gradebook instead, and --db the spm store" if hint else "")
    names = sorted(tables)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"it is an SQLite database with other tables ({shown})" + ("; pass the spm store to --db" if hint else "")


def open_store(path: str | os.PathLike | Path, *, create: bool = True, write: bool = True,
               busy_timeout: float | None = None, network_fs: bool | None = None) -> Store:
    """Open the store at ``path``: for a command that writes (``write``, the default), else read-only.

    A writing open creates a missing store (unless ``create`` is false) and migrates an older one.
    A store it created is removed again when the ``with`` block around it fails before a commit, so a
    refused import leaves no store behind; an empty (0-byte) file counts as a new store, and is left
    empty. The journal mode of an existing store is never changed (a new store starts in WAL).

    Refused, each in one line and with the file left as it was: an SQLite file that is not an spm
    store (an nbgrader gradebook, say), a file that is not SQLite, a store newer than this spm, a
    write to a read-only file, folder or file system. ``busy_timeout`` (seconds; default
    ``$SPM_BUSY_TIMEOUT``, else :data:`DEFAULT_BUSY_TIMEOUT`) is how long to wait for another writer.
    A WAL store (or a new one) on NFS, CIFS/SMB, FUSE or CephFS is refused unless ``network_fs`` (default
    ``$SPM_STORE_ON_NETWORK_FS``) allows it: see :func:`refuse_wal_on_network`.
    """
    path = Path(path)
    timeout = busy_timeout if busy_timeout is not None else busy_timeout_from_env()
    timeout = DEFAULT_BUSY_TIMEOUT if timeout is None else timeout
    exists = path.exists()
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a store; pass the store's file to --db")
    empty = exists and path.stat().st_size == 0
    if (not exists or empty) and (not create or not write):
        raise StoreError(f"{path}: no store here; import a roster first (spm roster import FILE.csv)")
    if path.parent and not path.parent.exists():
        raise StoreError(f"{path}: the folder {path.parent} does not exist; create it or pass another --db")
    refuse_wal_on_network(path, network_fs)
    if write:
        why = _writable(path) if exists else (None if os.access(path.parent, os.W_OK)
                                              else f"its folder {path.parent} is not writable")
        if why:
            raise read_only_error(path, why)
    try:
        if write:
            conn = _connect(_uri(path), timeout, readonly=False)
        else:
            conn = _open_readonly(path, timeout)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the store ({exc})") from None
    try:
        version = schema_version(conn)
        foreign = describe_foreign(path, conn)
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_BUSY"):
            raise busy_error(path, timeout) from None
        raise StoreError(f"{path}: not an spm store ({exc}); pass another --db") from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not an spm store ({exc}); pass another --db") from None
    if foreign:
        conn.close()
        raise StoreError(f"{path}: not an spm store: {foreign}")
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(f"{path}: store schema version {version} is newer than this spm ({SCHEMA_VERSION}); "
                         "upgrade spm-training")
    blank = version == 0
    if blank and not write:
        conn.close()
        raise StoreError(f"{path}: no store here; import a roster first (spm roster import FILE.csv)")
    if version < SCHEMA_VERSION and not write:
        # A read must not write, and a migration does: read through a writable open when we may, else say so.
        conn.close()
        if _writable(path) is not None:
            raise read_only_error(path, f"its schema version {version} needs the upgrade to {SCHEMA_VERSION} "
                                        "that only a writable store can take")
        open_store(path, write=True, busy_timeout=timeout).close()
        return open_store(path, write=False, busy_timeout=timeout)
    store = Store(path, conn, readonly=not write, busy_timeout=timeout)
    if blank:
        # discard_if_fresh undoes this creation; a non-empty file without tables is left to the admin
        store._fresh = None if exists and not empty else empty
        try:
            # Only a new store gets WAL: an existing store keeps the journal mode its admin chose.
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            store.discard_if_fresh()
            raise explain(path, exc, timeout) from None
    try:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with store.transaction(_bump=False):     # the schema alone changes no data
                MIGRATIONS[target - 1](conn)
                conn.execute(f"PRAGMA user_version = {target}")
    except BaseException:
        store.discard_if_fresh()
        raise
    store._committed = False    # the schema alone is no reason to keep a store the command then fails to fill
    store._file = _file_id(store._absolute)
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


# --- backups and restores --------------------------------------------------------------------------

#: The tables whose row counts a backup and a restore report.
COUNTED_TABLES = ("reps", "kpi_values", "scores")
_BUSY_CODES = (5, 6)        # SQLITE_BUSY, SQLITE_LOCKED: what a backup step returns while another holds a lock


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int                       # bytes
    schema_version: int
    counts: dict[str, int]          # rows of COUNTED_TABLES


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    source: Path
    before: dict[str, int]          # rows of COUNTED_TABLES in the store before the restore
    after: dict[str, int]
    source_version: int


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in COUNTED_TABLES}


def _copy_pages(source: sqlite3.Connection, target: sqlite3.Connection, path: Path, timeout: float) -> None:
    """SQLite's online backup of ``source`` into ``target``, in one step: a consistent snapshot taken
    while others go on reading (and, in WAL mode, writing). A lock held longer than ``timeout`` seconds
    is the store's busy error instead of the endless retry Python's backup() would make."""
    started = time.monotonic()

    def progress(status: int, remaining: int, total: int) -> None:
        if status in _BUSY_CODES and time.monotonic() - started >= timeout:
            raise busy_error(path, timeout)

    source.backup(target, pages=-1, progress=progress)


def _verify(conn: sqlite3.Connection, path: Path, what: str) -> int:
    """The schema version of the spm store ``conn`` holds; a StoreError when it is damaged or not one."""
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        foreign = describe_foreign(path, conn, hint=False)
        version = schema_version(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: {what} is not an intact SQLite database ({str(exc).splitlines()[0]}); "
                         "it was not used") from None
    if problems != ["ok"]:
        raise StoreError(f"{path}: {what} fails SQLite's integrity check ({problems[0]}); it was not used")
    if foreign or version == 0:
        raise StoreError(f"{path}: {what} is not an spm store" + (f": {foreign}" if foreign else ""))
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: {what} has schema version {version}, newer than this spm ({SCHEMA_VERSION}); "
                         "upgrade spm-training")
    return version


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_store(store: Store, target: str | os.PathLike | Path, *, force: bool = False) -> BackupResult:
    """Copy the open ``store`` to ``target`` with SQLite's online backup, safe while others read and write.

    All or nothing: the copy is written to a temporary file beside ``target``, checked (SQLite's
    integrity check, an spm store of a known schema version) and only then renamed to ``target``. The
    copy is one self-contained file in rollback-journal mode: no -wal or -shm files go with it. An
    existing ``target`` is refused unless ``force``; the store itself always is."""
    target = Path(target)
    if target.is_dir():
        raise StoreError(f"{target}: is a folder; name the backup file, such as {target / 'spm-backup.db'}")
    if not target.parent.is_dir():
        raise StoreError(f"{target}: the folder {target.parent} does not exist; create it first")
    if target.exists() and target.resolve() == store.path.resolve():
        raise StoreError(f"{target}: is the store itself; back it up to another file")
    if target.exists() and not force:
        raise StoreError(f"{target}: already exists; pass --force to replace it, or choose another file")
    temp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        copy = sqlite3.connect(temp, isolation_level=None)
        try:
            _copy_pages(store.conn, copy, store.path, store.busy_timeout)
            copy.execute("PRAGMA journal_mode = DELETE")
            version = _verify(copy, target, "the copy")
            counts = _counts(copy)
        finally:
            copy.close()
        _fsync(temp)
        os.replace(temp, target)
    except sqlite3.Error as exc:
        raise StoreError(f"{target}: the backup failed ({str(exc).splitlines()[0]}); nothing was written") from None
    except OSError as exc:
        raise StoreError(f"{target}: the backup could not be written ({exc.strerror or exc}); "
                         "nothing was written") from None
    finally:
        temp.unlink(missing_ok=True)
    return BackupResult(path=target, size=target.stat().st_size, schema_version=version, counts=counts)


@contextmanager
def _open_backup(source: Path, timeout: float) -> Iterator[tuple[sqlite3.Connection, int]]:
    """The backup file read-only and untouched (an older one is not migrated in place), and its version."""
    if not source.is_file():
        raise StoreError(f"{source}: no such backup file")
    try:
        conn = _open_readonly(source, timeout)
    except sqlite3.Error as exc:
        raise StoreError(f"{source}: cannot open the backup ({exc})") from None
    try:
        yield conn, _verify(conn, source, "the backup")
    finally:
        conn.close()


def inspect_backup(source: str | os.PathLike | Path) -> tuple[int, dict[str, int]]:
    """The schema version and row counts of a backup file, after checking it as a restore would."""
    with _open_backup(Path(source), DEFAULT_BUSY_TIMEOUT) as (conn, version):
        return version, _counts(conn)


def restore_store(path: str | os.PathLike | Path, source: str | os.PathLike | Path, *,
                  busy_timeout: float | None = None) -> RestoreResult:
    """Replace the contents of the store at ``path`` with the backup ``source``.

    The backup is checked first (SQLite's integrity check; an spm store of this spm's schema version
    or an older one, which is then migrated). The store is overwritten through SQLite's backup API on
    a connection of its own, which takes the write lock (waiting ``busy_timeout`` seconds for another
    writer) and replaces the pages in one step, so readers that have the store open see either the old
    contents or the new ones, never a mix, and keep working; the store keeps its journal mode. A
    missing store is created."""
    path, source = Path(path), Path(source)
    if path.exists() and source.exists() and source.resolve() == path.resolve():
        raise StoreError(f"{source}: is the store itself; name a backup file")
    with _open_backup(source, DEFAULT_BUSY_TIMEOUT) as (backup, version):
        with open_store(path, write=True, busy_timeout=busy_timeout) as store:
            before = _counts(store.conn)
            revisions = store.data_revision(), store.activity_revision()
            try:
                _copy_pages(backup, store.conn, path, store.busy_timeout)
            except sqlite3.Error as exc:
                raise explain(path, exc, store.busy_timeout) from None
            store._committed = True
    # the migrations a backup from an older spm needs, and a check of what landed
    with open_store(path, write=True, busy_timeout=busy_timeout) as store:
        _verify(store.conn, path, "the restored store")
        after = _counts(store.conn)
        # The backup brought its own revisions, which may equal ones the store had before with other data:
        # both move past either, so that nothing cached from the old contents passes for the restored ones.
        restored = store.data_revision(), store.activity_revision()
        with store.transaction(_bump=False) as conn:
            conn.executemany(
                "INSERT INTO revisions (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                [(name, max(old, new) + 1) for name, old, new in zip(("data", "activity"), revisions, restored,
                                                                     strict=True)])
    return RestoreResult(path=path, source=source, before=before, after=after, source_version=version)
