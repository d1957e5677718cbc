"""Roster import: reps and teams into the store and, with the same ids, into nbgrader's gradebook."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from spm_training.cli.main import cli
from spm_training.store import open_store

HEADER = "id,name,email,team,manager,role,hire_date,crm_owner\n"
ROSTER = HEADER + (
    "ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05,Ann Lee\n"
    "bob,Bob Van Ray,bob@example.com,East,Mia Roth,SDR,2026-02-01,\n"
    "cy,Cy Oh,cy@example.com,West,Jo Park,AM,2025-11-20,C. Oh\n"
)


def invoke(tmp: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(tmp / "spm.db"), "--course", str(tmp), *args])


def test_import_registers_reps_in_store_and_gradebook(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    result = invoke(tmp_path, "roster", "import", str(tmp_path / "roster.csv"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{tmp_path / 'roster.csv'}: 3 reps added, 0 updated, 0 unchanged, 2 teams")
    with open_store(tmp_path / "spm.db") as store:
        assert store.query("SELECT id, manager FROM teams ORDER BY id") == [
            {"id": "East", "manager": "Mia Roth"}, {"id": "West", "manager": "Jo Park"}]
        assert store.query("SELECT id, team_id, role, crm_owner FROM reps ORDER BY id") == [
            {"id": "ann", "team_id": "East", "role": "AE", "crm_owner": "Ann Lee"},
            {"id": "bob", "team_id": "East", "role": "SDR", "crm_owner": None},
            {"id": "cy", "team_id": "West", "role": "AM", "crm_owner": "C. Oh"}]
    gradebook = sqlite3.connect(tmp_path / "gradebook.db")
    assert gradebook.execute("SELECT id, first_name, last_name, email FROM student ORDER BY id").fetchall() == [
        ("ann", "Ann", "Lee", "ann@example.com"), ("bob", "Bob", "Van Ray", "bob@example.com"),
        ("cy", "Cy", "Oh", "cy@example.com")]


def test_reimport_and_update(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    invoke(tmp_path, "roster", "import", str(tmp_path / "roster.csv"))
    result = invoke(tmp_path, "roster", "import", str(tmp_path / "roster.csv"))
    assert "0 reps added, 0 updated, 3 unchanged" in result.output
    (tmp_path / "moved.csv").write_text(HEADER + "bob,Bob Van Ray,bob@example.com,West,Jo Park,AE,2026-02-01,\n")
    result = invoke(tmp_path, "roster", "import", str(tmp_path / "moved.csv"))
    assert "0 reps added, 1 updated, 0 unchanged" in result.output
    with open_store(tmp_path / "spm.db") as store:
        assert store.query("SELECT team_id, role FROM reps WHERE id = 'bob'") == [{"team_id": "West", "role": "AE"}]


BAD = {
    "bad_role": (HEADER + "ann,Ann Lee,ann@example.com,East,Mia,CEO,2026-01-05,\n",
                 ":2 (column role): unknown role 'CEO'; use one of SDR, AE, AM"),
    "bad_date": (HEADER + "ann,Ann Lee,ann@example.com,East,Mia,AE,05/01/2026,\n",
                 ":2 (column hire_date): hire_date '05/01/2026' is not a date; write dates as YYYY-MM-DD"),
    "dup_id": (HEADER + "ann,Ann Lee,ann@example.com,East,Mia,AE,2026-01-05,\nann,Ann Two,a2@example.com,East,Mia,AE,"
               "2026-01-05,\n", ":3 (column id): rep id 'ann' appears twice; give each rep one row"),
    "bad_email": (HEADER + "ann,Ann Lee,ann-at-example,East,Mia,AE,2026-01-05,\n",
                  ":2 (column email): 'ann-at-example' is not an email address; write it as name@company.com"),
    "two_managers": (HEADER + "ann,Ann Lee,ann@example.com,East,Mia,AE,2026-01-05,\nbob,Bob,bob@example.com,East,Max,"
                     "SDR,2026-01-05,\n",
                     ":3 (column manager): team 'East' has manager 'Max' here but 'Mia' on line 2; "
                     "give each team one manager"),
    "unsafe_id": (HEADER + "ann lee,Ann Lee,ann@example.com,East,Mia,AE,2026-01-05,\n",
                  ":2 (column id): rep id 'ann lee' has characters nbgrader cannot use; "
                  "use letters, digits, '.', '_' and '-' only"),
    "missing_column": ("id,name,email,team,role,hire_date\nann,Ann,ann@example.com,East,AE,2026-01-05\n",
                       ":1: missing column 'manager'; the header must include "
                       "id,name,email,team,manager,role,hire_date"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_roster_is_refused_whole(tmp_path: Path, case: str) -> None:
    content, expected = BAD[case]
    open_store(tmp_path / "spm.db").close()
    before = hashlib.sha256((tmp_path / "spm.db").read_bytes()).hexdigest()
    path = tmp_path / f"{case}.csv"
    path.write_text(content)
    result = invoke(tmp_path, "roster", "import", str(path))
    assert result.exit_code == 1
    assert result.output == f"Error: {path}{expected}\n"
    assert hashlib.sha256((tmp_path / "spm.db").read_bytes()).hexdigest() == before
    assert not (tmp_path / "gradebook.db").exists()


def test_gradebook_failure_leaves_the_store_unchanged(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    open_store(tmp_path / "spm.db").close()
    before = (tmp_path / "spm.db").read_bytes()
    url = f"sqlite:///{tmp_path}/no/such/folder/gradebook.db"
    result = invoke(tmp_path, "roster", "import", str(tmp_path / "roster.csv"), "--gradebook", url)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {url}: cannot write the students to the nbgrader gradebook")
    assert len(result.output.strip().splitlines()) == 1
    assert (tmp_path / "spm.db").read_bytes() == before
