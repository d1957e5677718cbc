"""Small real stores for the safety, backup and removal tests, and byte snapshots of a store's files."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd

from spm_training.catalog import load_kpis
from spm_training.ingest.kpis import write_kpi_values
from spm_training.ingest.roster import write_roster
from spm_training.store import open_store

REPS = [
    {"id": "ann", "name": "Ann Lee", "email": "ann@example.com", "team_id": "East", "manager": "Mia Roth",
     "role": "AE", "hire_date": "2026-01-05", "crm_owner": "Ann Lee"},
    {"id": "bob", "name": "Bob Ray", "email": "bob@example.com", "team_id": "East", "manager": "Mia Roth",
     "role": "SDR", "hire_date": "2026-02-01", "crm_owner": None},
    {"id": "cy", "name": "Cy Oh", "email": "cy@example.com", "team_id": "West", "manager": "Jo Park",
     "role": "AM", "hire_date": "2025-11-20", "crm_owner": "C. Oh"},
]
#: (rep, period, kpi, value, target) from a KPI file called kpis.csv
FILE_VALUES = [
    ("ann", "2026-Q1", "revenue", 90000.0, 100000.0),
    ("ann", "2026-Q2", "revenue", 120000.0, 100000.0),
    ("bob", "2026-Q1", "meetings_booked", 30.0, 40.0),
    ("bob", "2026-03", "meetings_booked", 11.0, 12.0),
    ("cy", "2026-Q2", "win_rate", 0.25, 0.3),
]
#: the same shape, from a CRM import of opps.csv
CRM_VALUES = [
    ("ann", "2026-Q2", "deals_won", 4.0, 5.0),
    ("cy", "2026-Q2", "revenue", 50000.0, 60000.0),
]
#: a line the KPI import refuses (no such rep), for the "refused input" cases
REFUSED_KPIS = "rep_id,period,kpi,value\nnobody,2026-Q1,revenue,1\n"
GOOD_KPIS = "rep_id,period,kpi,value,target\nann,2026-Q3,revenue,99000,100000\n"


def frame(values: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(values, columns=["rep_id", "period", "kpi_id", "value", "target"])


def make_store(path: Path, *, journal_mode: str = "wal") -> Path:
    """A store with three reps in two teams, five KPI values from kpis.csv and two from a CRM import."""
    kpis = load_kpis(None)
    with open_store(path) as store:
        write_roster(store, REPS)
        write_kpi_values(store, frame(FILE_VALUES), kpis, source="kpis.csv")
        write_kpi_values(store, frame(CRM_VALUES), kpis, source="crm:opps.csv")
        if journal_mode != "wal":
            store.conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    return path


def snapshot(path: Path) -> dict[str, bytes | None]:
    """The bytes of the store and of each file SQLite keeps beside it (None: absent)."""
    out: dict[str, bytes | None] = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        file = Path(f"{path}{suffix}")
        out[suffix or "db"] = file.read_bytes() if file.exists() else None
    return out


def store_digests(folder: Path) -> dict[str, str]:
    """Digests of ``folder``'s spm.db and of its write-ahead log and rollback journal (an absent or empty
    one as b""): what a refused command must leave as it was. The -shm file is SQLite's shared-memory
    index of the log, not data, and goes with the last connection, so it is not compared."""
    return {name: hashlib.sha256(path.read_bytes() if path.is_file() else b"").hexdigest()
            for name in ("spm.db", "spm.db-wal", "spm.db-journal") for path in [folder / name]}


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- running spm as another process --------------------------------------------------------------

SPM = [sys.executable, "-c", "from spm_training.cli import main; main()"]


def can_drop_privileges() -> bool:
    """Whether a child can run without root's right to write read-only files (setpriv drops them)."""
    return os.geteuid() != 0 or shutil.which("setpriv") is not None


def run_spm(args: list[str], cwd: Path, *, unprivileged: bool = False, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """``spm ARGS`` in a child process; ``unprivileged`` drops root's capabilities first, so that file
    modes bind it as they bind any user (root writes a 0444 file otherwise)."""
    command = list(SPM)
    if unprivileged and os.geteuid() == 0:
        command = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", *command]
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env)


#: What the migrations after schema version 1 added, and the statements that take it away again.
AFTER_VERSION_1 = ("DROP TABLE tampering", "DROP TABLE revisions", "DROP TABLE self_checks", "DROP TABLE page_reads",
                   "DROP TABLE trainings", "DROP INDEX reps_login", "ALTER TABLE reps DROP COLUMN login",
                   "ALTER TABLE reps DROP COLUMN left_on", "ALTER TABLE teams DROP COLUMN manager_login")


def make_version_1(path: Path) -> None:
    """Turn the store at ``path`` back into a store of schema version 1, its data kept (a store an
    older spm wrote)."""
    conn = sqlite3.connect(path)
    try:
        for statement in AFTER_VERSION_1:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
    finally:
        conn.close()
