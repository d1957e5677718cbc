"""The store: where it is found, its schema version and migrations, and its transactions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from spm_training import store as store_module
from spm_training.errors import StoreError
from spm_training.project import resolve_db_path
from spm_training.store import SCHEMA_VERSION, open_store


def test_db_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "book" / "deep").mkdir(parents=True)
    (project / "_config.yml").write_text("title: x\n")
    monkeypatch.delenv("SPM_DB", raising=False)
    assert resolve_db_path(None, start=project / "book" / "deep") == project.resolve() / "spm.db"
    monkeypatch.setenv("SPM_DB", str(tmp_path / "env.db"))
    assert resolve_db_path(None, start=project / "book") == tmp_path / "env.db"
    assert resolve_db_path(str(tmp_path / "flag.db"), start=project) == tmp_path / "flag.db"


def test_db_path_without_project_is_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPM_DB", raising=False)
    assert resolve_db_path(None, start=tmp_path) == tmp_path / "spm.db"


def test_new_store_has_schema_wal_and_foreign_keys(tmp_path: Path) -> None:
    with open_store(tmp_path / "spm.db") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert {"teams", "reps", "kpis", "kpi_values", "skills", "items", "item_skills", "scores"} <= set(
            store.db.table_names())
        with pytest.raises(sqlite3.IntegrityError):
            with store.transaction() as conn:
                conn.execute("INSERT INTO reps (id, name, email, team_id, role, hire_date, crm_owner) "
                             "VALUES ('r', 'R', 'r@x.io', 'no-team', 'AE', '2026-01-01', NULL)")


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with open_store(tmp_path / "spm.db") as store:
        with pytest.raises(RuntimeError):
            with store.transaction() as conn:
                conn.execute("INSERT INTO teams (id, manager) VALUES ('East', 'Mia')")
                raise RuntimeError("boom")
        assert store.query("SELECT * FROM teams") == []


def test_migrations_run_in_order_and_only_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def to_2(conn: sqlite3.Connection) -> None:
        calls.append(2)
        conn.execute("ALTER TABLE reps ADD COLUMN region TEXT")

    path = tmp_path / "spm.db"
    open_store(path).close()
    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, to_2])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with store_module.open_store(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert "region" in store.db["reps"].columns_dict
    store_module.open_store(path).close()
    assert calls == [2]


def test_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spm.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this spm"):
        open_store(path)


def test_not_a_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "spm.db"
    path.write_text("this is not sqlite\n" * 100)
    with pytest.raises(StoreError) as info:
        open_store(path)
    assert str(info.value).startswith(f"{path}: not an spm store")
    assert "\n" not in str(info.value)


def test_missing_store_is_not_created_for_reading(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store here"):
        open_store(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()
