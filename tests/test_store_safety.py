"""Issue 14, section 4: stores that are not ours, read-only stores, busy stores, and refused input that
must leave every file of the store byte for byte as it was, in every journal mode."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from store_files import (
    GOOD_KPIS,
    REFUSED_KPIS,
    can_drop_privileges,
    make_store,
    make_version_1,
    rows,
    run_spm,
    snapshot,
)

from spm_training.cli.main import cli
from spm_training.errors import CatalogError, StoreError
from spm_training.settings import load_busy_timeout
from spm_training.store import DEFAULT_BUSY_TIMEOUT, SCHEMA_VERSION, open_store

ROSTER = ("id,name,email,team,manager,role,hire_date\n"
          "dee,Dee Fox,dee@example.com,North,Ola Berg,AE,2026-03-02\n")
BAD_ROSTER = ("id,name,email,team,manager,role,hire_date\n"
              "dee,Dee Fox,not-an-email,North,Ola Berg,AE,2026-03-02\n")


def invoke(db: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["--db", str(db), "--course", str(db.parent), *args], env=env)


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


@pytest.fixture(autouse=True)
def _no_busy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPM_BUSY_TIMEOUT", raising=False)


# --- files that are not spm stores ---------------------------------------------------------------

@pytest.fixture(scope="module")
def made_gradebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real nbgrader gradebook, made once by nbgrader's own API (which takes a while: it runs alembic)."""
    from nbgrader.api import Gradebook

    from spm_training.nbgrader_io import ensure_env_bin_on_path

    ensure_env_bin_on_path()
    path = tmp_path_factory.mktemp("nbgrader") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}") as gb:
        gb.add_student("ann", first_name="Ann", last_name="Lee")
    return path


@pytest.fixture
def gradebook(made_gradebook: Path, tmp_path: Path) -> Path:
    path = tmp_path / "gradebook.db"
    shutil.copyfile(made_gradebook, path)
    return path


@pytest.mark.parametrize("command", [["export", "reps"], ["gaps"], ["report", "team", "East"],
                                     ["kpis", "import", "kpis.csv"], ["roster", "import", "roster.csv"],
                                     ["kpis", "remove", "--all"], ["backup", "copy.db"]])
def test_an_nbgrader_gradebook_as_db_is_refused_and_left_unchanged(gradebook: Path, command: list[str]) -> None:
    (gradebook.parent / "kpis.csv").write_text(GOOD_KPIS)
    (gradebook.parent / "roster.csv").write_text(ROSTER)
    before = snapshot(gradebook)
    args = [str(gradebook.parent / a) if a.endswith(".csv") or a == "copy.db" else a for a in command]
    result = invoke(gradebook, *args)
    assert result.exit_code == 1
    assert one_line(result.output) == (f"Error: {gradebook}: not an spm store: it looks like an nbgrader gradebook; "
                                       "pass it to --gradebook instead, and --db the spm store")
    assert snapshot(gradebook) == before
    conn = sqlite3.connect(gradebook)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert "reps" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert not (gradebook.parent / "copy.db").exists()


def test_another_sqlite_database_is_named_by_its_tables(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    conn = sqlite3.connect(path)
    for table in ("orders", "customers", "accounts", "leads", "notes", "users", "stages"):
        conn.execute(f"CREATE TABLE {table} (id INTEGER)")
    conn.commit()
    conn.close()
    before = snapshot(path)
    (tmp_path / "kpis.csv").write_text(GOOD_KPIS)
    for args in (["export", "kpis"], ["kpis", "import", str(tmp_path / "kpis.csv")]):
        result = invoke(path, *args)
        assert result.exit_code == 1
        assert one_line(result.output) == (
            f"Error: {path}: not an spm store: it is an SQLite database with other tables (accounts, customers, "
            "leads, notes, orders and 2 more); pass the spm store to --db")
    assert snapshot(path) == before


def test_a_file_that_is_not_sqlite_is_one_line_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "spm.db"
    path.write_text("rep_id,period\n" * 200)
    before = snapshot(path)
    result = invoke(path, "roster", "import", str(tmp_path / "missing.csv"))
    assert result.exit_code == 1
    assert one_line(result.output) == f"Error: {path}: not an spm store (file is not a database); pass another --db"
    assert snapshot(path) == before


# --- a new store is created only by a write that succeeds ---------------------------------------------

def test_a_refused_import_at_a_new_path_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    (tmp_path / "bad.csv").write_text(BAD_ROSTER)
    result = invoke(db, "roster", "import", str(tmp_path / "bad.csv"))
    assert result.exit_code == 1
    assert one_line(result.output) == (f"Error: {tmp_path / 'bad.csv'}:2 (column email): 'not-an-email' is not an "
                                       "email address; write it as name@company.com")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_a_refused_kpi_import_at_a_new_path_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    (tmp_path / "kpis.csv").write_text(REFUSED_KPIS)
    result = invoke(db, "kpis", "import", str(tmp_path / "kpis.csv"))
    assert result.exit_code == 1
    assert one_line(result.output) == (f"Error: {tmp_path / 'kpis.csv'}:2 (column rep_id): unknown rep 'nobody'; add "
                                       "the rep to the roster first (spm roster import) or correct the id")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kpis.csv"]


def test_a_store_whose_first_write_fails_is_removed_through_the_api(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    with pytest.raises(RuntimeError, match="refused"):
        with open_store(db):
            raise RuntimeError("refused")
    assert list(tmp_path.iterdir()) == []
    open_store(db).close()          # without a failure, the new store stays
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_an_empty_file_is_a_new_store_and_stays_empty_when_refused(tmp_path: Path) -> None:
    db = tmp_path / "spm.db"
    db.touch()
    result = invoke(db, "export", "reps")
    assert result.exit_code == 1
    assert one_line(result.output) == f"Error: {db}: no store here; import a roster first (spm roster import FILE.csv)"
    (tmp_path / "kpis.csv").write_text(REFUSED_KPIS)
    assert invoke(db, "kpis", "import", str(tmp_path / "kpis.csv")).exit_code == 1
    assert db.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kpis.csv", "spm.db"]
    with open_store(db) as store:
        store.conn.execute("PRAGMA user_version").fetchone()
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


# --- refused input leaves the store as it was, in every journal mode ----------------------------------

# WAL and the rollback journal are the two on-disk modes (truncate and persist are per connection).
@pytest.mark.parametrize("mode", ["wal", "delete"])
def test_refused_input_leaves_every_file_byte_identical(tmp_path: Path, mode: str) -> None:
    db = make_store(tmp_path / "spm.db", journal_mode=mode)
    (tmp_path / "kpis.csv").write_text(REFUSED_KPIS)
    (tmp_path / "bad.csv").write_text(BAD_ROSTER)
    before = snapshot(db)
    for args in (["kpis", "import", str(tmp_path / "kpis.csv")], ["roster", "import", str(tmp_path / "bad.csv")],
                 ["kpis", "remove", "--rep", "nobody"], ["export", "kpis"], ["gaps"]):
        result = invoke(db, *args)
        assert result.exit_code in (0, 1), result.output
        assert snapshot(db) == before, args
    assert rows(db, "PRAGMA journal_mode") == [(mode,)]


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_a_write_keeps_the_journal_mode_the_admin_chose(tmp_path: Path, mode: str) -> None:
    db = make_store(tmp_path / "spm.db", journal_mode=mode)
    (tmp_path / "kpis.csv").write_text(GOOD_KPIS)
    result = invoke(db, "kpis", "import", str(tmp_path / "kpis.csv"))
    assert result.exit_code == 0, result.output
    assert rows(db, "PRAGMA journal_mode") == [(mode,)]
    assert rows(db, "SELECT value FROM kpi_values WHERE period = '2026-Q3'") == [(99000.0,)]


# --- read-only stores --------------------------------------------------------------------------------

needs_unprivileged = pytest.mark.skipif(not can_drop_privileges(), reason="needs setpriv to drop root's rights")


@pytest.fixture
def readonly_store(tmp_path: Path):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = make_store(folder / "spm.db")
    (tmp_path / "kpis.csv").write_text(GOOD_KPIS)
    expected = invoke(db, "export", "kpis").output
    os.chmod(db, 0o444)
    os.chmod(folder, 0o555)
    yield db, expected
    os.chmod(folder, 0o755)
    os.chmod(db, 0o644)


@needs_unprivileged
def test_a_read_only_store_can_be_read_but_not_written(readonly_store, tmp_path: Path) -> None:
    db, expected = readonly_store
    before = snapshot(db)
    result = run_spm(["--db", str(db), "export", "kpis"], tmp_path, unprivileged=True)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == expected
    gaps = run_spm(["--db", str(db), "--course", str(tmp_path), "gaps", "--format", "csv"], tmp_path,
                   unprivileged=True)
    assert gaps.returncode == 0, gaps.stderr
    assert gaps.stdout.startswith("rep_id,name,team,kind,skill,")
    result = run_spm(["--db", str(db), "kpis", "import", str(tmp_path / "kpis.csv")], tmp_path, unprivileged=True)
    assert result.returncode == 1
    assert result.stdout == ""
    assert one_line(result.stderr) == (
        f"Error: {db}: the store is read-only (the file is not writable); commands that read it work, this one "
        "writes: run it where the store is writable, or on a copy (spm backup COPY.db, then --db COPY.db)")
    assert snapshot(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["spm.db"]


@needs_unprivileged
def test_a_writable_store_in_a_read_only_folder_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = make_store(folder / "spm.db")
    (tmp_path / "kpis.csv").write_text(GOOD_KPIS)
    os.chmod(folder, 0o555)
    try:
        result = run_spm(["--db", str(db), "kpis", "import", str(tmp_path / "kpis.csv")], tmp_path,
                         unprivileged=True)
        reading = run_spm(["--db", str(db), "export", "reps"], tmp_path, unprivileged=True)
    finally:
        os.chmod(folder, 0o755)
    assert result.returncode == 1
    assert one_line(result.stderr).startswith(f"Error: {db}: the store is read-only (its folder {folder} is not "
                                              "writable); commands that read it work")
    assert reading.returncode == 0, reading.stderr
    # login is the effective one (the id when the roster gives none); manager_login and left_on are empty
    assert reading.stdout.splitlines()[1:] == ["ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05,Ann Lee,ann,,",
                                               "bob,Bob Ray,bob@example.com,East,Mia Roth,SDR,2026-02-01,,bob,,",
                                               "cy,Cy Oh,cy@example.com,West,Jo Park,AM,2025-11-20,C. Oh,cy,,"]


def _read_only_mount_works() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _read_only_mount_works(), reason="needs root and unshare to make a read-only mount")
def test_a_store_on_a_read_only_mount(tmp_path: Path) -> None:
    folder = tmp_path / "mnt"
    folder.mkdir()
    db = make_store(folder / "spm.db")
    (tmp_path / "kpis.csv").write_text(GOOD_KPIS)
    expected = invoke(db, "export", "kpis").output
    before = snapshot(db)
    spm = " ".join(f"'{w}'" for w in [*run_spm.__globals__["SPM"]])
    script = (f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}' && "
              f"{spm} --db '{db}' export kpis > '{tmp_path}/out.csv' 2> '{tmp_path}/read.err'; "
              f"{spm} --db '{db}' kpis import '{tmp_path}/kpis.csv' 2> '{tmp_path}/write.err'; echo $? > "
              f"'{tmp_path}/write.rc'")
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=120, env={**os.environ})
    assert (tmp_path / "read.err").read_text() == ""
    assert (tmp_path / "out.csv").read_text() == expected
    assert (tmp_path / "write.rc").read_text().strip() == "1"
    assert one_line((tmp_path / "write.err").read_text()).startswith(
        f"Error: {db}: the store is read-only (it is on a read-only file system); commands that read it work")
    assert snapshot(db) == before


@needs_unprivileged
def test_a_read_only_folder_with_unfolded_wal_is_refused_not_misread(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    source = make_store(tmp_path / "live.db")
    live = sqlite3.connect(source, isolation_level=None)
    live.execute("PRAGMA wal_autocheckpoint = 0")
    live.execute("UPDATE reps SET name = 'Ann Lee-Park' WHERE id = 'ann'")
    for suffix in ("", "-wal"):          # the file and its log, copied as a careless cp would
        shutil.copyfile(f"{source}{suffix}", folder / f"spm.db{suffix}")
    live.close()
    db = folder / "spm.db"
    os.chmod(folder, 0o555)
    try:
        result = run_spm(["--db", str(db), "export", "reps"], tmp_path, unprivileged=True)
    finally:
        os.chmod(folder, 0o755)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"Error: {db}: the store is read-only and its write-ahead log (spm.db-wal) holds changes the file does not "
        "have yet; open it once where it is writable (any spm command folds them in), or copy it with spm backup "
        "there")


def test_a_read_only_open_never_writes(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    with open_store(db, write=False) as store:
        with pytest.raises(StoreError) as info:
            with store.transaction():
                pass
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.conn.execute("DELETE FROM kpi_values")
    assert str(info.value).startswith(f"{db}: the store is read-only (this command opened it for reading only)")
    assert rows(db, "SELECT count(*) FROM kpi_values") == [(7,)]


def test_reading_an_older_store_upgrades_it_only_where_it_may_write(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    make_version_1(db)
    result = invoke(db, "export", "reps")
    assert result.exit_code == 0, result.output
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


# --- busy stores -------------------------------------------------------------------------------------

HOLD = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def test_a_write_waits_for_another_process_then_says_busy(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    (tmp_path / "kpis.csv").write_text(GOOD_KPIS)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        before = snapshot(db)
        started = time.monotonic()
        result = invoke(db, "kpis", "import", str(tmp_path / "kpis.csv"), env={"SPM_BUSY_TIMEOUT": "0.5"})
        waited = time.monotonic() - started
        assert result.exit_code == 1
        assert one_line(result.output) == (
            f"Error: {db}: the store is busy: another command has been writing to it for more than 0.5 seconds; "
            "run this again when it has finished, or let commands wait longer (SPM_BUSY_TIMEOUT=SECONDS, or "
            "store: {busy_timeout: SECONDS} in spm.yml)")
        assert waited >= 0.5
        reading = invoke(db, "export", "reps", env={"SPM_BUSY_TIMEOUT": "0.5"})      # WAL: readers go on
        assert reading.exit_code == 0, reading.output
        assert snapshot(db)["db"] == before["db"]
    finally:
        holder.communicate("\n", timeout=30)
    result = invoke(db, "kpis", "import", str(tmp_path / "kpis.csv"), env={"SPM_BUSY_TIMEOUT": "0.5"})
    assert result.exit_code == 0, result.output


def test_a_write_that_gets_the_lock_within_the_wait_goes_through(tmp_path: Path) -> None:
    db = make_store(tmp_path / "spm.db")
    (tmp_path / "kpis.csv").write_text(GOOD_KPIS)
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: other.execute("ROLLBACK"))
    release.start()
    result = invoke(db, "kpis", "import", str(tmp_path / "kpis.csv"), env={"SPM_BUSY_TIMEOUT": "20"})
    release.join()
    other.close()
    assert result.exit_code == 0, result.output
    assert result.output == f"{tmp_path / 'kpis.csv'}: 1 values: 1 new, 0 updated, 0 unchanged\n"


def test_the_wait_comes_from_spm_yml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "_config.yml").write_text("title: x\n")
    (tmp_path / "spm.yml").write_text("store:\n  busy_timeout: 0.3\n")
    db = make_store(tmp_path / "spm.db")
    (tmp_path / "kpis.csv").write_text(GOOD_KPIS)
    monkeypatch.chdir(tmp_path)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        result = CliRunner().invoke(cli, ["kpis", "import", "kpis.csv"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 1
    assert one_line(result.output).startswith(f"Error: {db}: the store is busy: another command has been writing to "
                                              "it for more than 0.3 seconds; ")
    # the environment wins over the file
    monkeypatch.setenv("SPM_BUSY_TIMEOUT", "7")
    assert load_busy_timeout(tmp_path / "spm.yml") == 7.0


def test_busy_timeout_settings_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = tmp_path / "spm.yml"
    assert load_busy_timeout(settings) == DEFAULT_BUSY_TIMEOUT == 30.0
    settings.write_text("store:\n  busy_timeout: soon\n")
    with pytest.raises(CatalogError) as info:
        load_busy_timeout(settings)
    assert str(info.value) == (f"{settings}:2: store busy_timeout must be a number of seconds from 0 to 86400, not "
                               "'soon'; write store: {busy_timeout: 30} (seconds, the default), or set "
                               "SPM_BUSY_TIMEOUT")
    settings.write_text("store:\n  timeout: 5\n")
    with pytest.raises(CatalogError, match="unknown store setting 'timeout'"):
        load_busy_timeout(settings)
    monkeypatch.setenv("SPM_BUSY_TIMEOUT", "a while")
    with pytest.raises(StoreError) as env_info:
        load_busy_timeout(None)
    assert str(env_info.value) == "SPM_BUSY_TIMEOUT='a while': expected a number of seconds from 0 to 86400, such as 30"


def test_a_new_store_another_command_wrote_to_is_not_taken_away(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    first = open_store(db)              # two imports into a store that did not exist, at the same moment
    second = open_store(db)
    with second.transaction() as conn:
        conn.execute("INSERT INTO teams (id, manager) VALUES ('East', 'Mia Roth')")
    second.close()
    with pytest.raises(RuntimeError):
        with first:
            raise RuntimeError("the first import was refused")
    assert rows(db, "SELECT id, manager FROM teams") == [("East", "Mia Roth")]


def test_a_command_whose_new_store_was_taken_away_writes_nothing_silently(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    first = open_store(db)
    second = open_store(db)             # opened the new store before the first command's import was refused
    with pytest.raises(RuntimeError):
        with first:
            raise RuntimeError("the first import was refused")
    assert not db.exists()
    with pytest.raises(StoreError) as info:
        with second.transaction() as conn:
            conn.execute("INSERT INTO teams (id, manager) VALUES ('East', 'Mia Roth')")
    second.close()
    assert str(info.value) == (f"{db}: the store was removed or replaced while this command ran; nothing was "
                               "written: run it again")


def test_an_empty_file_put_back_keeps_its_mode(tmp_path: Path) -> None:
    db = tmp_path / "spm.db"
    db.touch()
    os.chmod(db, 0o660)
    with pytest.raises(RuntimeError):
        with open_store(db):
            raise RuntimeError("refused")
    assert db.read_bytes() == b""
    assert db.stat().st_mode & 0o777 == 0o660
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spm.db"]
