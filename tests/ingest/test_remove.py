"""spm kpis remove: undoing KPI values by rep, period, KPI and source, in one transaction."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from store_files import make_store, rows, snapshot

from spm_training.cli.main import cli
from spm_training.errors import NotFoundError, SpmError
from spm_training.ingest.remove import Selection, remove_kpi_values, split_values
from spm_training.periods import DateWindow
from spm_training.store import open_store

ALL_VALUES = "SELECT rep_id, period, kpi_id, source FROM kpi_values ORDER BY rep_id, period, kpi_id"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_store(tmp_path / "spm.db")


def invoke(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), "--course", str(db.parent), "kpis", "remove", *args])


def remaining(db: Path) -> list[tuple]:
    return rows(db, ALL_VALUES)


def test_nothing_is_removed_without_a_selector(db: Path) -> None:
    before = snapshot(db)
    result = invoke(db)
    assert result.exit_code == 1
    assert result.output == ("Error: say which values to remove (--rep, --period, --kpi, --source or "
                             "--outside-window), or --all to remove every KPI value\n")
    result = invoke(db, "--all", "--rep", "ann")
    assert result.exit_code == 1
    assert result.output == ("Error: --all removes every KPI value; give it alone, or drop it to remove only the "
                             "selection\n")
    assert snapshot(db) == before


def test_all_removes_every_value_and_nothing_else(db: Path) -> None:
    result = invoke(db, "--all")
    assert result.exit_code == 0, result.output
    assert result.output == f"removed 7 KPI values (3 reps, 3 periods) from {db}\n"
    assert remaining(db) == []
    assert rows(db, "SELECT count(*) FROM reps") == [(3,)]


def test_dry_run_lists_and_leaves_the_store_unchanged(db: Path) -> None:
    before = snapshot(db)
    result = invoke(db, "--rep", "ann", "--dry-run", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output == ("rep_id,period,kpi,value,target,source\n"
                             "ann,2026-Q1,revenue,90000.0,100000.0,kpis.csv\n"
                             "ann,2026-Q2,deals_won,4.0,5.0,crm:opps.csv\n"
                             "ann,2026-Q2,revenue,120000.0,100000.0,kpis.csv\n")
    table = invoke(db, "--rep", "ann", "--dry-run")
    assert table.output.splitlines()[-1] == "3 KPI values (1 rep, 2 periods) would be removed (dry run: nothing was)"
    as_json = json.loads(invoke(db, "--kpi", "win_rate", "--dry-run", "--format", "json").output)
    assert as_json == [{"rep_id": "cy", "period": "2026-Q2", "kpi": "win_rate", "value": 0.25, "target": 0.3,
                        "source": "kpis.csv"}]
    assert invoke(db, "--period", "2030-Q1", "--dry-run").output == "no KPI values match: nothing would be removed\n"
    assert snapshot(db) == before


def test_selectors_combine_with_and_their_values_with_or(db: Path) -> None:
    result = invoke(db, "--rep", "ann,bob", "--kpi", "revenue", "--kpi", "meetings_booked")
    assert result.exit_code == 0, result.output
    assert result.output == f"removed 4 KPI values (2 reps, 3 periods) from {db}\n"
    assert remaining(db) == [("ann", "2026-Q2", "deals_won", "crm:opps.csv"),
                             ("cy", "2026-Q2", "revenue", "crm:opps.csv"),
                             ("cy", "2026-Q2", "win_rate", "kpis.csv")]


@pytest.mark.parametrize(("source", "left"), [
    ("crm", [("ann", "2026-Q1", "revenue"), ("ann", "2026-Q2", "revenue"), ("bob", "2026-03", "meetings_booked"),
             ("bob", "2026-Q1", "meetings_booked"), ("cy", "2026-Q2", "win_rate")]),
    ("file", [("ann", "2026-Q2", "deals_won"), ("cy", "2026-Q2", "revenue")]),
    ("kpis.csv", [("ann", "2026-Q2", "deals_won"), ("cy", "2026-Q2", "revenue")]),
    ("crm:opps.csv", [("ann", "2026-Q1", "revenue"), ("ann", "2026-Q2", "revenue"),
                      ("bob", "2026-03", "meetings_booked"), ("bob", "2026-Q1", "meetings_booked"),
                      ("cy", "2026-Q2", "win_rate")]),
])
def test_by_source(db: Path, source: str, left: list[tuple]) -> None:
    result = invoke(db, "--source", source)
    assert result.exit_code == 0, result.output
    assert [r[:3] for r in remaining(db)] == left


@pytest.mark.parametrize(("period", "left"), [
    ("2026-Q1", ["2026-03", "2026-Q2", "2026-Q2", "2026-Q2", "2026-Q2"]),
    ("2026-03", ["2026-Q1", "2026-Q1", "2026-Q2", "2026-Q2", "2026-Q2", "2026-Q2"]),
    # a range holds the months and quarters inside it: 2026-03 is inside 2026-Q1..2026-Q1
    ("2026-Q1..2026-Q1", ["2026-Q2", "2026-Q2", "2026-Q2", "2026-Q2"]),
    ("2026-04..", ["2026-03", "2026-Q1", "2026-Q1"]),
    ("..2026-02", ["2026-03", "2026-Q1", "2026-Q1", "2026-Q2", "2026-Q2", "2026-Q2", "2026-Q2"]),
])
def test_by_period_and_range(db: Path, period: str, left: list[str]) -> None:
    result = invoke(db, "--period", period)
    assert result.exit_code == 0, result.output
    assert sorted(r[1] for r in remaining(db)) == left


def test_outside_the_date_window_undoes_a_placeholder_date(db: Path) -> None:
    # what an older spm let a CRM close date of 9999-12-31 write: one value per quarter up to 9999
    conn = sqlite3.connect(db)
    conn.executemany("INSERT INTO kpi_values VALUES ('ann', ?, 'revenue', 0, NULL, 'crm:opps.csv')",
                     [(f"{year}-Q{q}",) for year in range(2027, 10000) for q in (1, 2, 3, 4)])
    conn.execute("INSERT INTO kpi_values VALUES ('bob', '0000-01', 'meetings_booked', 0, NULL, 'kpis.csv')")
    conn.commit()
    conn.close()
    window = DateWindow.years_ahead(DateWindow.default().earliest, 5)
    outside = sum(1 for year in range(2027, 10000) if year > window.latest.year) * 4 + 1
    result = CliRunner().invoke(cli, ["--db", str(db), "kpis", "remove", "--outside-window"])
    assert result.exit_code == 0, result.output
    assert outside > 30_000         # every quarter from six years ahead to 9999, and 0000-01
    assert result.output == f"removed {outside:,} KPI values (2 reps, {outside:,} periods) from {db}\n"
    assert max(r[1] for r in remaining(db) if r[0] == "ann") == f"{window.latest.year}-Q4"
    assert rows(db, "SELECT count(*) FROM kpi_values WHERE period = '0000-01'") == [(0,)]


@pytest.mark.parametrize(("args", "message"), [
    (["--rep", "anne"], "no rep 'anne' in the store {db}; see spm export reps"),
    (["--kpi", "revenu"], "no KPI 'revenu' in the store {db}; see spm kpis list"),
    (["--source", "q3.csv"], "no KPI values from source 'q3.csv' in the store {db}; use file, crm or one of the "
                             "stored sources (crm:opps.csv, kpis.csv)"),
    (["--period", "2026-Q5"], "--period '2026-Q5' is not a period; write periods as YYYY-Qn (e.g. 2026-Q3) or "
                              "YYYY-MM (e.g. 2026-09), or a range such as 2027-Q1..9999-Q4"),
    (["--period", "2026-Q3..2026-Q1"], "--period '2026-Q3..2026-Q1' ends before it starts"),
    (["--period", ".."], "--period '..' is not a range of periods; write FROM..TO with periods such as "
                         "2027-Q1..9999-Q4 (either end may be left out)"),
])
def test_a_typo_is_an_error_not_an_empty_selection(db: Path, args: list[str], message: str) -> None:
    before = snapshot(db)
    for dry in ([], ["--dry-run"]):
        result = invoke(db, *args, *dry)
        assert result.exit_code == 1
        assert result.output == f"Error: {message.format(db=db)}\n"
    assert snapshot(db) == before


def test_no_store_is_created_to_remove_from(tmp_path: Path) -> None:
    result = invoke(tmp_path / "absent.db", "--all")
    assert result.exit_code == 1
    assert result.output == (f"Error: {tmp_path / 'absent.db'}: no store here; import a roster first "
                             "(spm roster import FILE.csv)\n")
    assert list(tmp_path.iterdir()) == []


def test_the_removal_is_one_transaction(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TRIGGER keep_cy BEFORE DELETE ON kpi_values WHEN old.rep_id = 'cy' "
                 "BEGIN SELECT RAISE(ABORT, 'cy is kept'); END")
    conn.commit()
    conn.close()
    before = remaining(db)
    with open_store(db) as store, pytest.raises(sqlite3.IntegrityError, match="cy is kept"):
        remove_kpi_values(store, Selection(kpis=("revenue",)))
    assert remaining(db) == before          # ann's revenue, deleted before cy's failed, is back too


def test_the_api_refuses_the_same_as_the_command(db: Path) -> None:
    with open_store(db) as store:
        with pytest.raises(SpmError, match=r"^say which values to remove"):
            remove_kpi_values(store, Selection())
        with pytest.raises(NotFoundError):
            remove_kpi_values(store, Selection(reps=("zed",)))
        result = remove_kpi_values(store, Selection(reps=("cy",), sources=("crm",)))
    assert (result.removed, result.reps, result.periods) == (1, 1, 1)
    assert result.rows == [{"rep_id": "cy", "period": "2026-Q2", "kpi": "revenue", "value": 50000.0,
                            "target": 60000.0, "source": "crm:opps.csv"}]


def test_split_values() -> None:
    assert split_values(["ann, bob", "cy", "ann", ""]) == ("ann", "bob", "cy")
