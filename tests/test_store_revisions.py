"""The store's schema for the served platform (issue 16): the migration from the previous version, the
login index, and the data and activity revisions that served pages are cached under."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from store_files import GOOD_KPIS, REFUSED_KPIS, make_store, rows, snapshot

from spm_training.catalog import load_kpis
from spm_training.errors import InputError
from spm_training.ingest.activity import record_read
from spm_training.ingest.kpis import import_kpis
from spm_training.store import MIGRATIONS, SCHEMA_VERSION, backup_store, open_store, restore_store


def test_a_store_of_the_previous_version_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for version, migrate in enumerate(MIGRATIONS[:-1], start=1):
        migrate(conn)
        conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO teams VALUES ('East', 'Mia Roth')")
    conn.execute("INSERT INTO reps VALUES ('ann', 'Ann Lee', 'ann@example.com', 'East', 'AE', '2026-01-05', NULL)")
    conn.close()
    assert SCHEMA_VERSION == len(MIGRATIONS) == 3
    with open_store(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert store.query("SELECT id, name, login, left_on FROM reps") == [
            {"id": "ann", "name": "Ann Lee", "login": None, "left_on": None}]
        assert store.query("SELECT id, manager, manager_login FROM teams") == [
            {"id": "East", "manager": "Mia Roth", "manager_login": None}]
        assert {"revisions", "self_checks", "page_reads", "trainings"} <= set(store.db.table_names())
        assert [r[1] for r in store.conn.execute("PRAGMA table_info(trainings)")] == [
            "rep_id", "program", "completed_on", "hours", "source"]
        assert [r[0] for r in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('reps', 'trainings') "
            "AND sql IS NOT NULL ORDER BY name")] == ["reps_email", "reps_login", "reps_team", "trainings_program"]
        # the schema change is no write of data: the revisions start at 0
        assert (store.data_revision(), store.activity_revision()) == (0, 0)


def test_a_login_cannot_be_another_reps_login_or_id(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    with open_store(db) as store:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed: index 'reps_login'"):
            with store.transaction() as conn:
                conn.execute("UPDATE reps SET login = 'bob' WHERE id = 'ann'")
        with store.transaction() as conn:
            conn.execute("UPDATE reps SET login = 'ann.lee' WHERE id = 'ann'")
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed: index 'reps_login'"):
            with store.transaction() as conn:
                conn.execute("UPDATE reps SET login = 'ann.lee' WHERE id = 'cy'")


def test_writes_move_the_data_revision_and_nothing_else_does(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    kpis = load_kpis(None)
    good, refused = tmp_path / "good.csv", tmp_path / "refused.csv"
    good.write_text(GOOD_KPIS)
    refused.write_text(REFUSED_KPIS)
    with open_store(db) as store:
        # make_store wrote the roster and two KPI files: three transactions
        assert (store.data_revision(), store.activity_revision()) == (3, 0)
        import_kpis(store, good, kpis)
        assert store.data_revision() == 4
        before = snapshot(db)
        with pytest.raises(InputError):
            import_kpis(store, refused, kpis)
        assert store.data_revision() == 4
        # the same file again: nothing changed, so neither the revision nor a byte of the store moves
        import_kpis(store, good, kpis)
        assert store.data_revision() == 4
        assert snapshot(db) == before
        # an error inside a transaction rolls the revision back with the rest
        with pytest.raises(RuntimeError):
            with store.transaction() as conn:
                conn.execute("DELETE FROM kpi_values")
                raise RuntimeError("refused")
        assert store.data_revision() == 4
        # reads change nothing, whether through the store or an open read-only connection
        store.query("SELECT * FROM kpi_values")
    with open_store(db, write=False) as reader:
        assert reader.query("SELECT count(*) AS n FROM kpi_values") == [{"n": 8}]
        assert (reader.data_revision(), reader.activity_revision()) == (4, 0)
        # another process's import is seen by this connection, opened before it
        script = ("import sys; from spm_training.catalog import load_kpis; from spm_training.ingest.kpis import "
                  "import_kpis; from spm_training.store import open_store\n"
                  "with open_store(sys.argv[1]) as s: import_kpis(s, sys.argv[2], load_kpis(None))")
        (tmp_path / "more.csv").write_text("rep_id,period,kpi,value,target\nann,2026-Q4,revenue,1,2\n")
        subprocess.run([sys.executable, "-c", script, str(db), str(tmp_path / "more.csv")], check=True)
        assert (reader.data_revision(), reader.activity_revision()) == (5, 0)
    assert rows(db, "SELECT name, value FROM revisions ORDER BY name") == [("data", 5)]


def test_activity_moves_only_the_activity_revision(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    with open_store(db) as store:
        record_read(store, "ann", "book/sdr/prospecting")
        record_read(store, "ann", "book/sdr/prospecting")
        assert (store.data_revision(), store.activity_revision()) == (3, 2)
        with store.transaction(activity=True) as conn:
            conn.execute("DELETE FROM page_reads")
        assert (store.data_revision(), store.activity_revision()) == (3, 3)


def test_a_restore_moves_both_revisions_past_the_store_and_the_backup(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    backup = tmp_path / "backup.db"
    with open_store(db) as store:
        backup_store(store, backup)             # data 3, activity 0
        for _ in range(3):
            record_read(store, "ann", f"book/page{_}")
        with store.transaction() as conn:
            conn.execute("DELETE FROM kpi_values WHERE rep_id = 'cy'")
        assert (store.data_revision(), store.activity_revision()) == (4, 3)
    restore_store(db, backup)
    with open_store(db, write=False) as store:
        assert (store.data_revision(), store.activity_revision()) == (5, 4)
        assert store.query("SELECT count(*) AS n FROM kpi_values") == [{"n": 7}]
