"""spm backup and spm restore: SQLite's online backup, all or nothing, safe beside readers and writers."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from store_files import make_store, make_version_1, rows, snapshot

from spm_training import store as store_module
from spm_training.cli.main import cli
from spm_training.errors import StoreError
from spm_training.store import SCHEMA_VERSION, backup_store, open_store, restore_store

TABLES = ("teams", "reps", "kpis", "kpi_values", "skills", "items", "scores", "tampering")


def invoke(db: Path, *args: str, **kwargs):
    return CliRunner().invoke(cli, ["--db", str(db), "--course", str(db.parent), *args], **kwargs)


def contents(path: Path) -> dict[str, list[tuple]]:
    return {t: rows(path, f"SELECT * FROM {t} ORDER BY 1, 2") for t in TABLES}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_store(tmp_path / "spm.db")


@pytest.fixture(autouse=True)
def _no_busy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPM_BUSY_TIMEOUT", raising=False)


def test_backup_is_a_checked_self_contained_copy(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "backups" / "spm-2026-09-30.db"
    target.parent.mkdir()
    result = invoke(db, "backup", str(target))
    assert result.exit_code == 0, result.output
    size = target.stat().st_size
    assert result.output == (f"backed up {db} to {target}: 3 reps, 7 KPI values, 0 scores, {size:,} bytes, "
                             "integrity ok\n")
    assert contents(target) == contents(db)
    assert rows(target, "PRAGMA journal_mode") == [("delete",)]     # one file: no -wal or -shm go with it
    assert rows(target, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["spm-2026-09-30.db"]


def test_backup_does_not_overwrite_without_force(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    target.write_bytes(b"last week's copy")
    result = invoke(db, "backup", str(target))
    assert result.exit_code == 1
    assert result.output == f"Error: {target}: already exists; pass --force to replace it, or choose another file\n"
    assert target.read_bytes() == b"last week's copy"
    result = invoke(db, "backup", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert contents(target) == contents(db)


def test_backup_refuses_the_store_itself_and_missing_folders(db: Path, tmp_path: Path) -> None:
    before = snapshot(db)
    result = invoke(db, "backup", str(db), "--force")
    assert result.output == f"Error: {db}: is the store itself; back it up to another file\n"
    missing = tmp_path / "nowhere" / "copy.db"
    result = invoke(db, "backup", str(missing))
    assert result.output == f"Error: {missing}: the folder {missing.parent} does not exist; create it first\n"
    assert snapshot(db) == before


def test_a_failed_backup_leaves_nothing(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out" / "copy.db"
    target.parent.mkdir()

    def damaged(conn: sqlite3.Connection, path: Path, what: str) -> int:
        raise StoreError(f"{path}: {what} fails SQLite's integrity check (page 3 is never used); it was not used")

    monkeypatch.setattr(store_module, "_verify", damaged)
    result = invoke(db, "backup", str(target))
    assert result.exit_code == 1
    assert result.output == (f"Error: {target}: the copy fails SQLite's integrity check (page 3 is never used); "
                             "it was not used\n")
    assert list(target.parent.iterdir()) == []


def test_backup_while_another_connection_writes_copies_what_was_committed(db: Path, tmp_path: Path) -> None:
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE reps SET name = 'not yet' WHERE id = 'ann'")
    try:
        with open_store(db, write=False, busy_timeout=0.5) as store:
            backup_store(store, tmp_path / "copy.db")
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert rows(tmp_path / "copy.db", "SELECT name FROM reps WHERE id = 'ann'") == [("Ann Lee",)]
    assert rows(db, "SELECT name FROM reps WHERE id = 'ann'") == [("not yet",)]


def test_restore_brings_back_what_was_removed(db: Path, tmp_path: Path) -> None:
    backup = tmp_path / "copy.db"
    assert invoke(db, "backup", str(backup)).exit_code == 0
    saved = contents(db)
    assert invoke(db, "kpis", "remove", "--all").exit_code == 0
    reader = sqlite3.connect(db, isolation_level=None)     # a report that has the store open meanwhile
    assert reader.execute("SELECT count(*) FROM kpi_values").fetchone() == (0,)
    result = invoke(db, "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    assert result.output == (f"restored {backup} into {db}: 3 reps, 7 KPI values, 0 scores (it held 3 reps, "
                             "0 KPI values, 0 scores)\n")
    assert contents(db) == saved
    assert reader.execute("SELECT count(*) FROM kpi_values").fetchone() == (7,)
    reader.close()
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]         # the store keeps its own journal mode


def test_restore_asks_first(db: Path, tmp_path: Path) -> None:
    backup = tmp_path / "copy.db"
    assert invoke(db, "backup", str(backup)).exit_code == 0
    assert invoke(db, "kpis", "remove", "--kpi", "revenue").exit_code == 0
    before = snapshot(db)
    result = invoke(db, "restore", str(backup), input="n\n")
    assert result.exit_code == 1
    assert result.output == (f"Replace the contents of {db} with {backup} (3 reps, 7 KPI values, 0 scores)? [y/N]: "
                             "n\nAborted!\n")
    assert snapshot(db) == before
    result = invoke(db, "restore", str(backup), input="y\n")
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT count(*) FROM kpi_values") == [(7,)]


def test_restore_into_a_new_store(db: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "elsewhere" / "spm.db"
    fresh.parent.mkdir()
    result = restore_store(fresh, db)
    assert (result.before, result.after) == ({"reps": 0, "kpi_values": 0, "scores": 0},
                                             {"reps": 3, "kpi_values": 7, "scores": 0})
    assert contents(fresh) == contents(db)


@pytest.mark.parametrize("kind", ["gradebook", "not sqlite", "newer", "damaged", "missing", "itself"])
def test_restore_refuses_what_is_not_a_usable_backup(db: Path, tmp_path: Path, kind: str) -> None:
    source = tmp_path / "source.db"
    if kind == "gradebook":
        conn = sqlite3.connect(source)
        for table in ("assignment", "student", "submitted_assignment", "grade", "base_cell", "alembic_version"):
            conn.execute(f"CREATE TABLE {table} (id TEXT)")
        conn.commit()
        conn.close()
        message = f"{source}: the backup is not an spm store: it looks like an nbgrader gradebook"
    elif kind == "not sqlite":
        source.write_text("id,name\n" * 500)
        message = f"{source}: the backup is not an intact SQLite database (file is not a database); it was not used"
    elif kind == "newer":
        shutil.copyfile(db, source)
        conn = sqlite3.connect(source)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.commit()
        conn.close()
        message = (f"{source}: the backup has schema version {SCHEMA_VERSION + 1}, newer than this spm "
                   f"({SCHEMA_VERSION}); upgrade spm-training")
    elif kind == "damaged":
        assert invoke(db, "backup", str(source)).exit_code == 0
        data = bytearray(source.read_bytes())
        page = 4096
        data[2 * page + 8: 3 * page] = b"\xff" * (page - 8)        # scribble over a b-tree page
        source.write_bytes(bytes(data))
        message = None
    elif kind == "missing":
        message = f"{source}: no such backup file"
    else:
        source = db
        message = f"{db}: is the store itself; name a backup file"
    before = snapshot(db)
    result = invoke(db, "restore", str(source), "--yes")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    if message is None:
        assert lines[0].startswith(f"Error: {source}: the backup ")
        assert lines[0].endswith("; it was not used")
    else:
        assert lines[0] == f"Error: {message}"
    assert snapshot(db) == before


def test_restore_upgrades_a_backup_from_an_older_spm(db: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    shutil.copyfile(db, old)
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    make_version_1(old)
    result = invoke(db, "restore", str(old))
    assert f"; schema version 1, upgraded to {SCHEMA_VERSION} after the restore)? [y/N]" in result.output
    result = invoke(db, "restore", str(old), "--yes")
    assert result.exit_code == 0, result.output
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db, "SELECT count(*) FROM tampering") == [(0,)]


def test_restore_waits_for_a_writer_then_says_busy(db: Path, tmp_path: Path) -> None:
    backup = tmp_path / "copy.db"
    assert invoke(db, "backup", str(backup)).exit_code == 0
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM kpi_values WHERE rep_id = 'bob'")
    try:
        result = invoke(db, "restore", str(backup), "--yes", env={"SPM_BUSY_TIMEOUT": "0.4"})
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {db}: the store is busy: another command has been writing to it for "
                                    "more than 0.4 seconds; ")
    assert rows(db, "SELECT count(*) FROM kpi_values") == [(5,)]          # the writer's change, not the backup's
