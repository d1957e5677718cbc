"""Issue 14, input edge cases in the importers: targets no role default fills, CR-only line endings,
semicolon-separated files, huge values in error lines, control characters, a wide target without its
value, and a roster that changes a team's manager."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from store_files import store_digests

from spm_training.cli.main import cli
from spm_training.ingest.roster import parse_roster, write_roster
from spm_training.store import checkpoint, open_store

REPS = [
    {"id": "ann", "name": "Ann Lee", "email": "ann@example.com", "team_id": "East", "manager": "Mia Roth",
     "role": "AE", "hire_date": "2025-01-06", "crm_owner": "Ann Lee"},
    {"id": "sam", "name": "Sam Kim", "email": "sam@example.com", "team_id": "East", "manager": "Mia Roth",
     "role": "SDR", "hire_date": "2025-02-03", "crm_owner": None},
    {"id": "cy", "name": "Cy Oh", "email": "cy@example.com", "team_id": "West", "manager": "Jo Park",
     "role": "AM", "hire_date": "2025-03-03", "crm_owner": "C. Oh"},
]
ROSTER_HEADER = "id,name,email,team,manager,role,hire_date\n"
OPP_HEADER = "owner,account,created_date,close_date,stage,amount,status\n"
CONTROL_FIX = "remove it (a value may hold tabs, but no other control character and no line break)"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("edges")
    with open_store(folder / "spm.db") as store:
        write_roster(store, REPS)
        checkpoint(store)
    return folder


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Path:
    shutil.copy2(template / "spm.db", tmp_path / "spm.db")
    return tmp_path


def run(ws: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(ws / "spm.db"), "--course", str(ws), *args])


def write(ws: Path, name: str, content: str | bytes) -> Path:
    path = ws / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, newline="")    # the line endings exactly as given
    return path


def refused(ws: Path, command: list[str], name: str, content: str | bytes) -> str:
    """An import that must be refused: exit 1, exactly one line, the store byte-identical; returns the
    message with the file's path as {f}."""
    path = write(ws, name, content)
    before = store_digests(ws)
    result = run(ws, *command, str(path))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert store_digests(ws) == before
    return result.output.removeprefix("Error: ").removesuffix("\n").replace(str(path), "{f}")


def stored(ws: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(ws / "spm.db") as conn:
        return conn.execute(sql).fetchall()


def values(ws: Path) -> list[tuple]:
    return stored(ws, "SELECT rep_id, period, kpi_id, value, target FROM kpi_values ORDER BY 1, 2, 3")


# --- targets ---------------------------------------------------------------------------------------------

def test_an_empty_target_where_the_role_has_no_default_is_stored_without_one(ws: Path) -> None:
    # the catalog sets no meetings_booked target for an AM and no revenue target for an SDR; pandas 3
    # refused to put None into the float column (a TypeError traceback)
    path = write(ws, "k.csv", "rep_id,period,kpi,value,target\ncy,2026-Q1,meetings_booked,5,\n"
                              "sam,2026-Q1,revenue,100,\nann,2026-Q1,revenue,40,\n")
    result = run(ws, "kpis", "import", str(path))
    assert result.output == f"{path}: 3 values: 3 new, 0 updated, 0 unchanged\n"
    assert values(ws) == [("ann", "2026-Q1", "revenue", 40.0, 120000.0),
                          ("cy", "2026-Q1", "meetings_booked", 5.0, None), ("sam", "2026-Q1", "revenue", 100.0, None)]
    exported = json.loads(run(ws, "export", "kpis", "--format", "json").output)
    assert [(r["rep_id"], r["target"], r["attainment"]) for r in exported if r["rep_id"] != "ann"] == [
        ("cy", None, None), ("sam", None, None)]


# --- line endings and separators -------------------------------------------------------------------------

def test_cr_only_line_endings_are_read_like_any_other(ws: Path) -> None:
    path = write(ws, "mac.csv", "rep_id,period,kpi,value\rann,2026-Q1,revenue,40\rcy,2026-Q1,activities,7\r")
    assert run(ws, "kpis", "import", str(path)).output == f"{path}: 2 values: 2 new, 0 updated, 0 unchanged\n"
    assert [v[:4] for v in values(ws)] == [("ann", "2026-Q1", "revenue", 40.0), ("cy", "2026-Q1", "activities", 7.0)]
    # and the lines an error names are the file's lines
    assert refused(ws, ["kpis", "import"], "mac2.csv", "rep_id,period,kpi,value\rann,2026-Q2,revenue,1\r"
                                                       "ann,2026-Q2,activities,lots\r") == (
        "{f}:3 (column value): 'value' is not a number: 'lots'; write plain numbers such as 1200.5, without "
        "units or thousands separators")
    assert refused(ws, ["roster", "import"], "roster2.csv", ROSTER_HEADER.replace("\n", "\r")
                   + "ann,Ann Lee,ann@example.com,East,Mia Roth,CEO,2025-01-06\r") == (
        "{f}:2 (column role): unknown role 'CEO'; use one of SDR, AE, AM")


def test_stray_carriage_returns_are_one_error_line(ws: Path) -> None:
    # CR-only with a quoted line break inside a value: the csv module raised "new-line character seen in
    # unquoted field" (found by tests/ingest/test_properties.py)
    assert refused(ws, ["roster", "import"], "r.csv", ROSTER_HEADER.replace("\n", "\r")
                   + 'ann,Ann Lee,ann@example.com,East,"two\nlines",AE,2025-01-06\r') == (
        f"{{f}}:2 (column manager): 'manager' holds the control character '\\n': 'two\\nlines'; {CONTROL_FIX}")
    assert refused(ws, ["kpis", "import"], "k.csv", "rep_id,period,kpi,value\r\nann,2026-Q1,reve\rnue,5\r\n") == (
        "{f}:2: a carriage return (\\r) inside a line; remove it, or save the file again as CSV UTF-8 with one kind "
        "of line ending")


def test_a_semicolon_separated_file_is_read(ws: Path) -> None:
    # Excel's "CSV" where the decimal mark is a comma (German, Polish settings), with Windows line endings
    path = write(ws, "excel.csv", "rep_id;period;kpi;value;target\r\nann;2026-Q1;revenue;40;50\r\n"
                                  "cy;2026-Q1;activities;7;\r\n")
    assert run(ws, "kpis", "import", str(path)).output == f"{path}: 2 values: 2 new, 0 updated, 0 unchanged\n"
    assert values(ws) == [("ann", "2026-Q1", "revenue", 40.0, 50.0), ("cy", "2026-Q1", "activities", 7.0, 600.0)]
    wide = write(ws, "wide.csv", "rep_id;period;revenue;target_revenue\nann;2026-Q2;41;52\n")
    assert run(ws, "kpis", "import", str(wide)).exit_code == 0
    assert ("ann", "2026-Q2", "revenue", 41.0, 52.0) in values(ws)
    crm = write(ws, "opps.csv", OPP_HEADER.replace(",", ";") + "Ann Lee;Acme, Inc.;2026-01-10;2026-02-20;Won;"
                                                               "1000;won\n")
    result = run(ws, "crm", "import", str(crm))
    assert result.exit_code == 0, result.output
    assert ("ann", "2026-Q1", "revenue", 1000.0, 50.0) in values(ws)        # the KPI file's target stays
    # a comma inside a value of a semicolon file is part of the value
    roster = ROSTER_HEADER.replace(",", ";") + "ann;Lee, Ann;ann@example.com;East;Mia Roth;CEO;2025-01-06\n"
    assert refused(ws, ["roster", "import"], "r.csv", roster) == (
        "{f}:2 (column role): unknown role 'CEO'; use one of SDR, AE, AM")


def test_semicolon_files_that_cannot_be_read_say_why(ws: Path) -> None:
    assert refused(ws, ["kpis", "import"], "decimal.csv", "rep_id;period;kpi;value\nann;2026-Q1;revenue;40,5\n") == (
        "{f}:2 (column value): 'value' is not a number: '40,5'; write the decimal mark as a point (1200.5, not "
        "1200,5), without units or thousands separators")
    assert refused(ws, ["kpis", "import"], "mixed.csv", "rep_id;period;kpi;value,target\nann;2026-Q1;revenue;4\n") == (
        "{f}:1: missing column 'rep_id'; the header must include rep_id,period,kpi,value; the header mixes ';' and "
        "',', so it cannot be told which separates the columns: save the file as CSV UTF-8 (comma delimited)")


# --- how much of a value an error quotes ------------------------------------------------------------------

def test_a_huge_bad_value_is_cut_in_the_error_line(ws: Path) -> None:
    huge = "9" * 3_000_000 + "x"
    message = refused(ws, ["kpis", "import"], "big.csv", f"rep_id,period,kpi,value\nann,2026-Q1,revenue,{huge}\n")
    assert message == ("{f}:2 (column value): 'value' is not a number: '" + "9" * 40 + "…' (3,000,001 characters); "
                       "write plain numbers such as 1200.5, without units or thousands separators")
    rep = "z" * 100_000
    assert refused(ws, ["kpis", "import"], "rep.csv", f"rep_id,period,kpi,value\n{rep},2026-Q1,revenue,1\n") == (
        "{f}:2 (column rep_id): unknown rep '" + "z" * 40 + "…' (100,000 characters); add the rep to the roster "
        "first (spm roster import) or correct the id")
    role = "R" * 50_000
    assert refused(ws, ["roster", "import"], "roster.csv",
                   ROSTER_HEADER + f"ann,Ann Lee,ann@example.com,East,Mia Roth,{role},2025-01-06\n") == (
        "{f}:2 (column role): unknown role '" + "R" * 40 + "…' (50,000 characters); use one of SDR, AE, AM")
    amount = "1" * 200_000 + "abc"
    assert refused(ws, ["crm", "import"], "opps.csv", OPP_HEADER + f"Ann Lee,Acme,2026-01-10,2026-02-20,Won,"
                                                                   f"{amount},won\n") == (
        "{f}:2 (column amount): 'amount' is not an amount: '" + "1" * 40 + "…' (200,003 characters); write amounts "
        "such as 1,200.50 or EUR 1200; if the export writes 1.200,50, set decimal: ',' in a --mapping file")


# --- control characters -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("row", "column", "char", "value"), [
    ("ann,Ann\x00Lee,ann@example.com,East,Mia Roth,AE,2025-01-06", "name", "'\\x00'", "'Ann\\x00Lee'"),
    ("ann,Ann Lee,ann@example.com,East\x1b[2J,Mia Roth,AE,2025-01-06", "team", "'\\x1b'", "'East\\x1b[2J'"),
    ("ann,Ann Lee,ann@example.com,East,Mia\x9bRoth,AE,2025-01-06", "manager", "'\\x9b'", "'Mia\\x9bRoth'"),
    ('ann,"Ann\nLee",ann@example.com,East,Mia Roth,AE,2025-01-06', "name", "'\\n'", "'Ann\\nLee'"),
    ("ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2025-01-06\x7f", "hire_date", "'\\x7f'", "'2025-01-06\\x7f'"),
])
def test_control_characters_in_a_roster_are_refused(ws: Path, row: str, column: str, char: str, value: str) -> None:
    roster = ROSTER_HEADER + "sam,Sam Kim,sam@example.com,East,Mia Roth,SDR,2025-02-03\n" + row + "\n"
    assert refused(ws, ["roster", "import"], "roster.csv", roster) == (
        f"{{f}}:3 (column {column}): '{column}' holds the control character {char}: {value}; {CONTROL_FIX}")


def test_a_tab_inside_a_value_is_allowed(ws: Path) -> None:
    roster = write(ws, "roster.csv", ROSTER_HEADER + "ann,Ann\tLee,ann@example.com,East,Mia Roth,AE,2025-01-06\n")
    assert [r["name"] for r in parse_roster(roster)] == ["Ann\tLee"]


def test_control_characters_in_kpi_files_and_crm_exports_are_refused(ws: Path) -> None:
    assert refused(ws, ["kpis", "import"], "k.csv", "rep_id,period,kpi,value\nann\x1b[31m,2026-Q1,revenue,5\n") == (
        f"{{f}}:2 (column rep_id): 'rep_id' holds the control character '\\x1b': 'ann\\x1b[31m'; {CONTROL_FIX}")
    assert refused(ws, ["crm", "import"], "opps.csv", OPP_HEADER + "Ann Lee,Ac\x00me,2026-01-10,2026-02-20,Won,1000,"
                                                                   "won\n") == (
        f"{{f}}:2 (column account): 'account' holds the control character '\\x00': 'Ac\\x00me'; {CONTROL_FIX}")


def test_a_crm_column_the_mapping_does_not_read_may_hold_anything(ws: Path) -> None:
    path = write(ws, "opps.csv", OPP_HEADER.rstrip("\n") + ",notes\n"
                 'Ann Lee,Acme,2026-01-10,2026-02-20,Won,1000,won,"called twice\nsee \x1b log"\n')
    result = run(ws, "crm", "import", str(path))
    assert result.exit_code == 0, result.output
    assert ("ann", "2026-Q1", "revenue", 1000.0, 120000.0) in values(ws)


# --- the wide format --------------------------------------------------------------------------------------

def test_a_wide_target_needs_its_value(ws: Path) -> None:
    assert refused(ws, ["kpis", "import"], "w.csv", "rep_id,period,revenue,target_deals_won\nann,2026-Q1,5,3\n") == (
        "{f}:1 (column target_deals_won): 'target_deals_won' has no 'deals_won' column beside it; add a 'deals_won' "
        "column with the values the targets are for")
    assert refused(ws, ["kpis", "import"], "w2.csv", "rep_id,period,revenue,target_revenue\nann,2026-Q1,5,6\n"
                                                      "cy,2026-Q1,,7\n") == (
        "{f}:3 (column revenue): target_revenue given without a value; give the revenue value of that row, or "
        "leave its target empty too")
    # a row with neither is simply not a value
    path = write(ws, "w3.csv", "rep_id,period,revenue,target_revenue\nann,2026-Q1,5,6\ncy,2026-Q1,,\n")
    assert run(ws, "kpis", "import", str(path)).output == f"{path}: 1 values: 1 new, 0 updated, 0 unchanged\n"


# --- a roster that changes a team's manager ----------------------------------------------------------------------

def test_the_roster_summary_names_a_changed_manager(tmp_path: Path) -> None:
    roster = ROSTER_HEADER + ("ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2025-01-06\n"
                              "cy,Cy Oh,cy@example.com,West,Jo Park,AM,2025-03-03\n")
    first = run(tmp_path, "roster", "import", str(write(tmp_path, "roster.csv", roster)))
    assert first.output == f"{tmp_path / 'roster.csv'}: 2 reps added, 0 updated, 0 unchanged, 2 teams; store " \
                           f"{tmp_path / 'spm.db'}\n"
    # a partial roster of one new rep in East, with another manager
    partial = write(tmp_path, "new.csv", ROSTER_HEADER + "sam,Sam Kim,sam@example.com,East,Lea Wolf,SDR,2025-02-03\n")
    result = run(tmp_path, "roster", "import", str(partial))
    assert result.output == (f"{partial}: 1 reps added, 0 updated, 0 unchanged, 1 teams; store {tmp_path / 'spm.db'}\n"
                             "team East: manager changed from Mia Roth to Lea Wolf\n")
    assert stored(tmp_path, "SELECT id, manager FROM teams ORDER BY id") == [("East", "Lea Wolf"), ("West", "Jo Park")]
    # the same file again changes nothing and says nothing more
    assert run(tmp_path, "roster", "import", str(partial)).output.count("\n") == 1
