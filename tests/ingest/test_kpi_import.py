"""KPI import: formats, default targets, idempotence, and every kind of bad input refused whole."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from spm_training.analysis.attainment import attainment, kpi_rows
from spm_training.catalog import load_kpis
from spm_training.cli.main import cli
from spm_training.ingest.kpis import import_kpis
from spm_training.store import open_store

ROSTER = (
    "id,name,email,team,manager,role,hire_date\n"
    "ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05\n"
    "bob,Bob Ray,bob@example.com,East,Mia Roth,SDR,2026-02-01\n"
)
GOOD = "rep_id,period,kpi,value,target\nann,2026-Q1,revenue,40,50\nbob,2026-Q1,meetings_booked,60,50\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the roster and one good import, made once (the gradebook set-up takes seconds)."""
    base = tmp_path_factory.mktemp("kpi-template")
    (base / "roster.csv").write_text(ROSTER)
    (base / "course").mkdir()
    result = CliRunner().invoke(cli, ["--db", str(base / "spm.db"), "--course", str(base / "course"),
                                      "roster", "import", str(base / "roster.csv")])
    assert result.exit_code == 0, result.output
    (base / "good.csv").write_text(GOOD)
    assert run(base, "good.csv").exit_code == 0
    with open_store(base / "spm.db") as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return base


@pytest.fixture
def workspace(template: Path, tmp_path: Path) -> Path:
    for name in ("spm.db", "good.csv"):
        shutil.copy2(template / name, tmp_path / name)
    return tmp_path


def run(ws: Path, name: str, *extra: str):
    return CliRunner().invoke(cli, ["--db", str(ws / "spm.db"), "kpis", "import", str(ws / name), *extra])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


BAD_CASES = {
    "missing_column": ("rep_id,kpi,value\nann,revenue,40\n",
                       "{f}:1: missing column 'period'; the header must include rep_id,period,kpi,value"),
    "unknown_kpi": ("rep_id,period,kpi,value\nann,2026-Q2,revenue,1\nann,2026-Q2,no_such_kpi,40\n",
                    "{f}:3 (column kpi): unknown KPI 'no_such_kpi'; use an id from `spm kpis list`"),
    "unknown_rep": ("rep_id,period,kpi,value\nzed,2026-Q2,revenue,40\n",
                    "{f}:2 (column rep_id): unknown rep 'zed'; add the rep to the roster first "
                    "(spm roster import) or correct the id"),
    "non_numeric": ("rep_id,period,kpi,value,target\nann,2026-Q3,revenue,40,50\nbob,2026-Q3,activities,lots,50\n",
                    "{f}:3 (column value): 'value' is not a number: 'lots'; write plain numbers such as 1200.5, "
                    "without units or thousands separators"),
    "bad_period": ("rep_id,period,kpi,value\nann,Q9-2026,revenue,40\n",
                   "{f}:2 (column period): bad period 'Q9-2026'; write periods as YYYY-Qn (e.g. 2026-Q3) "
                   "or YYYY-MM (e.g. 2026-09)"),
    "conflicting_duplicate": ("rep_id,period,kpi,value\nann,2026-Q4,revenue,40\nann,2026-Q4,revenue,41\n",
                              "{f}:3: ann 2026-Q4 revenue has two different values (lines 2 and 3); "
                              "keep one row per rep, period and KPI"),
    "empty": ("", "{f}:1: the file is empty; start with a header row: rep_id,period,kpi,value"),
    "header_only": ("rep_id,period,kpi,value\n", "{f}:2: no KPI rows after the header; add at least one data row"),
    "negative": ("rep_id,period,kpi,value\nann,2026-Q4,revenue,-5\n",
                 "{f}:2 (column value): 'value' is negative: '-5'; KPI values and targets cannot be negative; "
                 "correct the value"),
    "zero_target": ("rep_id,period,kpi,value,target\nann,2026-Q4,revenue,5,0\n",
                    "{f}:2 (column target): 'target' is zero; give a target above zero, or leave it empty for "
                    "the catalog's default"),
    "wide_unknown_column": ("rep_id,period,revenue,wins\nann,2026-Q4,5,1\n",
                            "{f}:1 (column wins): unknown KPI column 'wins'; name columns after KPI ids from "
                            "`spm kpis list` (targets as target_<kpi>)"),
    "wide_non_numeric": ("rep_id,period,revenue,win_rate\nann,2026-Q4,5,0.2\nann,2026-Q3,5,x\n",
                         "{f}:3 (column win_rate): 'win_rate' is not a number: 'x'; write plain numbers such as "
                         "1200.5, without units or thousands separators"),
    "too_many_fields": ("rep_id,period,kpi,value\nann,2026-Q4,revenue,5,000\n",
                        "{f}:2: a row has more fields than the header; quote values that contain commas"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_line_and_leaves_the_store_unchanged(workspace: Path, case: str) -> None:
    content, expected = BAD_CASES[case]
    bad = workspace / f"{case}.csv"
    bad.write_text(content)
    before = digest(workspace / "spm.db")
    result = run(workspace, bad.name)
    assert result.exit_code == 1
    assert result.output == f"Error: {expected.format(f=bad)}\n"
    assert digest(workspace / "spm.db") == before


def test_wrong_encoding_names_the_line(workspace: Path) -> None:
    bad = workspace / "latin1.csv"
    bad.write_bytes("rep_id,period,kpi,value\nann,2026-Q4,revenue,1\nann,2026-Q3,revenue,4\xe90\n".encode("latin-1"))
    before = digest(workspace / "spm.db")
    result = run(workspace, bad.name)
    assert result.exit_code == 1
    assert result.output == f"Error: {bad}:3: not UTF-8 text (byte 0xe9); save the file as UTF-8 (CSV UTF-8 in Excel)\n"
    assert digest(workspace / "spm.db") == before


def test_reimport_changes_nothing(workspace: Path) -> None:
    before = digest(workspace / "spm.db")
    result = run(workspace, "good.csv")
    assert result.exit_code == 0
    assert "0 new, 0 updated, 2 unchanged" in result.output
    assert digest(workspace / "spm.db") == before
    with open_store(workspace / "spm.db") as store:
        rows = kpi_rows(store, load_kpis())
    assert [(r["rep_id"], r["kpi"], r["value"], r["target"]) for r in rows] == [
        ("ann", "revenue", 40.0, 50.0), ("bob", "meetings_booked", 60.0, 50.0)]


def test_changed_value_updates(workspace: Path) -> None:
    (workspace / "fix.csv").write_text("rep_id,period,kpi,value,target\nann,2026-Q1,revenue,45,50\n")
    result = run(workspace, "fix.csv")
    assert "0 new, 1 updated, 0 unchanged" in result.output
    with open_store(workspace / "spm.db") as store:
        assert store.query("SELECT value FROM kpi_values WHERE rep_id='ann'") == [{"value": 45.0}]


def test_default_targets_follow_role_and_period(workspace: Path) -> None:
    (workspace / "defaults.csv").write_text(
        "rep_id,period,kpi,value\n"
        "bob,2026-09,meetings_booked,10\n"     # SDR monthly target 12 (sum KPI, month)
        "bob,2026-Q3,meetings_booked,30\n"     # quarter: 3 x 12 = 36
        "ann,2026-Q3,win_rate,0.3\n"           # a rate does not scale: 0.25
        "ann,2026-Q3,sales_cycle_length,50\n"  # lower is better: 45 / 50
    )
    assert run(workspace, "defaults.csv").exit_code == 0
    with open_store(workspace / "spm.db") as store:
        rows = {(r["rep_id"], r["period"], r["kpi"]): r for r in kpi_rows(store, load_kpis())}
    assert rows[("bob", "2026-09", "meetings_booked")]["target"] == 12
    assert rows[("bob", "2026-Q3", "meetings_booked")]["target"] == 36
    assert rows[("bob", "2026-Q3", "meetings_booked")]["attainment"] == pytest.approx(30 / 36)
    assert rows[("ann", "2026-Q3", "win_rate")]["target"] == 0.25
    assert rows[("ann", "2026-Q3", "sales_cycle_length")]["attainment"] == pytest.approx(0.9)


def test_wide_format_matches_long(workspace: Path) -> None:
    (workspace / "wide.csv").write_text(
        "rep_id,period,revenue,win_rate,target_revenue\nann,2026-Q2,100000,0.3,110000\nbob,2026-Q2,,,\n")
    result = run(workspace, "wide.csv", "--format", "wide")
    assert result.exit_code == 0, result.output
    assert "2 values" in result.output
    with open_store(workspace / "spm.db") as store:
        rows = {(r["rep_id"], r["period"], r["kpi"]): r for r in kpi_rows(store, load_kpis())}
    assert rows[("ann", "2026-Q2", "revenue")]["target"] == 110000
    assert rows[("ann", "2026-Q2", "win_rate")]["target"] == 0.25
    assert ("bob", "2026-Q2", "revenue") not in rows


def test_exact_duplicate_rows_are_one_value(workspace: Path) -> None:
    (workspace / "dup.csv").write_text("rep_id,period,kpi,value\nann,2026-Q4,revenue,40\nann,2026-Q4,revenue,40\n")
    result = run(workspace, "dup.csv")
    assert result.exit_code == 0
    assert "1 values: 1 new" in result.output


def test_attainment_is_direction_aware() -> None:
    assert attainment(40, 50, "higher") == pytest.approx(0.8)
    assert attainment(40, 50, "lower") == pytest.approx(1.25)
    assert attainment(10, None, "higher") is None
    assert attainment(0, 30, "lower") is None


def test_api_import_counts(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    with store.transaction() as conn:
        conn.execute("INSERT INTO teams (id, manager) VALUES ('T', 'M')")
        conn.execute("INSERT INTO reps (id, name, email, team_id, role, hire_date, crm_owner) "
                     "VALUES ('r1', 'R One', 'r1@x.io', 'T', 'AE', '2026-01-01', NULL)")
    path = tmp_path / "k.csv"
    path.write_text("rep_id,period,kpi,value\nr1,2026-Q1,revenue,1\nr1,2026-Q2,revenue,2\n")
    result = import_kpis(store, path, load_kpis())
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (2, 2, 0, 0)
    store.close()
