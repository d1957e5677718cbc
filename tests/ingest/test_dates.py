"""Issue 14, dates and periods: the date window (spm.yml ``dates``), periods and dates outside it refused
on import with one line, placeholder close dates on open CRM deals, and an analysis that does not crash
on what an older store already holds."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from analysis_data import ROOT, populated
from click.testing import CliRunner
from store_files import store_digests

from spm_training.cli.main import cli
from spm_training.errors import CatalogError
from spm_training.ingest.roster import write_roster
from spm_training.periods import DateWindow, parse_day, safe_bounds
from spm_training.settings import load_date_window
from spm_training.store import checkpoint, open_store

WINDOW = DateWindow.default()
W = str(WINDOW)           # "2000-01-01 to <this year + 5>-12-31"
REPS = [
    {"id": "ann", "name": "Ann Lee", "email": "ann@example.com", "team_id": "East", "manager": "Mia Roth",
     "role": "AE", "hire_date": "2025-01-06", "crm_owner": "Ann Lee"},
    {"id": "cy", "name": "Cy Oh", "email": "cy@example.com", "team_id": "West", "manager": "Jo Park",
     "role": "AM", "hire_date": "2025-03-03", "crm_owner": "C. Oh"},
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dates")
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


def refused(ws: Path, name: str, text: str, *args: str) -> str:
    """Run an import of ``text`` that must be refused: exit 1, one line, the store untouched."""
    (ws / name).write_text(text)
    before = store_digests(ws)
    result = run(ws, *args, str(ws / name))
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: "), result.output
    assert store_digests(ws) == before
    return result.output.removeprefix("Error: ").removesuffix("\n").replace(str(ws / name), "{f}")


def kpi_rows(ws: Path) -> list[tuple]:
    with sqlite3.connect(ws / "spm.db") as conn:
        return conn.execute("SELECT rep_id, period, kpi_id, value FROM kpi_values ORDER BY 1, 2, 3").fetchall()


# --- the window and its settings ------------------------------------------------------------------

def test_the_default_window_runs_from_2000_to_five_years_ahead() -> None:
    window = DateWindow.default(date(2026, 9, 1))
    assert (window.earliest, window.latest) == (date(2000, 1, 1), date(2031, 12, 31))
    assert str(window) == "2000-01-01 to 2031-12-31"
    assert window.holds_period("2000-01") and window.holds_period("2031-Q4") and window.holds_period("2026-09")
    assert not window.holds_period("1999-12") and not window.holds_period("2032-Q1")
    # periods a calendar cannot hold, and text that is no period, are simply outside
    for bad in ("9999-Q4", "9999-12", "0000-01", "2026-13", "garbage", "", None, 2026):
        assert not window.holds_period(bad)
    assert safe_bounds("9999-Q4") is None and safe_bounds("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))


def test_only_plain_iso_dates_are_dates() -> None:
    assert parse_day("2026-09-01") == date(2026, 9, 1)
    # date.fromisoformat takes all of these on Python 3.11
    for text in ("20260901", "2026-W36-2", "2026-09-01T10:00", "2026-02-30", " 2026-09-01", "", None):
        assert parse_day(text) is None


@pytest.mark.parametrize(("yaml_text", "expected"), [
    ("readiness: {weights: {mastery: 0.5, kpi: 0.3, progress: 0.2}}\n", "2000-01-01 to 2031-12-31"),
    ("dates: {earliest: 1995-03-01}\n", "1995-03-01 to 2031-12-31"),
    ("dates: {earliest: '1995-03-01', years_ahead: 10}\n", "1995-03-01 to 2036-12-31"),
    ("dates: {latest: 2040-06-30}\n", "2000-01-01 to 2040-06-30"),
    ("dates: {years_ahead: 0}\n", "2000-01-01 to 2026-12-31"),
])
def test_spm_yml_moves_the_window(tmp_path: Path, yaml_text: str, expected: str) -> None:
    (tmp_path / "spm.yml").write_text(yaml_text)
    assert str(load_date_window(tmp_path / "spm.yml", today=date(2026, 9, 1))) == expected
    assert str(load_date_window(None, today=date(2026, 9, 1))) == "2000-01-01 to 2031-12-31"


FIX = ("write dates: {earliest: 2000-01-01, years_ahead: 5} (the defaults), or a fixed latest: 2035-12-31 "
       "instead of years_ahead")


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("dates: {earliest: 2000-01-01, latest: 2030-12-31, years_ahead: 5}\n",
     "{f}:1: dates gives both latest and years_ahead; keep one of them"),
    ("dates:\n  earlyest: 2000-01-01\n", "{f}:2: unknown dates setting 'earlyest'; " + FIX),
    ("dates: {earliest: 01/01/2000}\n", "{f}:1: dates earliest must be a date written YYYY-MM-DD, not '01/01/2000'; "
     + FIX),
    ("dates: {years_ahead: -1}\n", "{f}:1: dates years_ahead must be a whole number from 0 to 100, not -1; " + FIX),
    ("dates: {years_ahead: five}\n", "{f}:1: dates years_ahead must be a whole number from 0 to 100, not 'five'; "
     + FIX),
    ("dates: {earliest: 2030-01-01, latest: 2020-12-31}\n",
     "{f}:1: the date window ends (2020-12-31) before it starts (2030-01-01); " + FIX),
    ("dates: 2000\n", "{f}: dates needs a mapping; " + FIX),
])
def test_a_bad_dates_section_is_one_clear_error(tmp_path: Path, yaml_text: str, message: str) -> None:
    (tmp_path / "spm.yml").write_text(yaml_text)
    with pytest.raises(CatalogError) as caught:
        load_date_window(tmp_path / "spm.yml", today=date(2026, 9, 1))
    assert str(caught.value) == message.replace("{f}", str(tmp_path / "spm.yml"))


# --- KPI periods ----------------------------------------------------------------------------------

@pytest.mark.parametrize("period", ["9999-Q4", "9999-12", "0000-01", "1999-Q4", f"{WINDOW.latest.year + 1}-01"])
def test_kpi_periods_outside_the_window_are_refused(ws: Path, period: str) -> None:
    text = f"rep_id,period,kpi,value\nann,2026-Q1,revenue,10\ncy,{period},revenue,40\n"
    assert refused(ws, "k.csv", text, "kpis", "import") == (
        f"{{f}}:3 (column period): period '{period}' is outside the date window {W}; correct the period, "
        "or widen the window under dates: in spm.yml")
    # the wide format goes through the same check
    assert refused(ws, "w.csv", f"rep_id,period,revenue\nann,{period},10\n", "kpis", "import") == (
        f"{{f}}:2 (column period): period '{period}' is outside the date window {W}; correct the period, "
        "or widen the window under dates: in spm.yml")


def test_the_window_ends_are_inside_and_spm_yml_widens_it(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (ws / "k.csv").write_text(f"rep_id,period,kpi,value\nann,2000-01,revenue,1\nann,{WINDOW.latest.year}-Q4,"
                              "revenue,2\n")
    assert run(ws, "kpis", "import", str(ws / "k.csv")).exit_code == 0
    assert [r[1] for r in kpi_rows(ws)] == ["2000-01", f"{WINDOW.latest.year}-Q4"]
    # a project whose spm.yml starts the window in 1995 takes 1999-Q4
    (ws / "_config.yml").write_text("title: test\n")
    (ws / "spm.yml").write_text("dates:\n  earliest: 1995-01-01\n")
    monkeypatch.chdir(ws)
    (ws / "old.csv").write_text("rep_id,period,kpi,value\nann,1999-Q4,revenue,3\n")
    result = run(ws, "kpis", "import", str(ws / "old.csv"))
    assert result.exit_code == 0, result.output
    assert ("ann", "1999-Q4", "revenue", 3.0) in kpi_rows(ws)
    assert refused(ws, "older.csv", "rep_id,period,kpi,value\nann,1994-12,revenue,3\n", "kpis", "import") == (
        f"{{f}}:2 (column period): period '1994-12' is outside the date window 1995-01-01 to "
        f"{WINDOW.latest.isoformat()}; correct the period, or widen the window under dates: in spm.yml")


# --- hire dates -------------------------------------------------------------------------------------

ROSTER_HEADER = "id,name,email,team,manager,role,hire_date\n"


@pytest.mark.parametrize(("hire_date", "problem"), [
    ("20260901", "hire_date '20260901' is not a date; write dates as YYYY-MM-DD"),
    ("2026-W36-2", "hire_date '2026-W36-2' is not a date; write dates as YYYY-MM-DD"),
    ("2026-09-01T09:00", "hire_date '2026-09-01T09:00' is not a date; write dates as YYYY-MM-DD"),
    ("9999-12-31", f"hire_date 9999-12-31 is outside the date window {W}; correct the date, or widen the window "
                   "under dates: in spm.yml"),
    ("1999-12-31", f"hire_date 1999-12-31 is outside the date window {W}; correct the date, or widen the window "
                   "under dates: in spm.yml"),
    (f"{WINDOW.latest.year + 1}-01-01", f"hire_date {WINDOW.latest.year + 1}-01-01 is outside the date window {W}; "
                                        "correct the date, or widen the window under dates: in spm.yml"),
])
def test_hire_dates_are_iso_and_inside_the_window(ws: Path, hire_date: str, problem: str) -> None:
    text = ROSTER_HEADER + f"ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05\n" \
                           f"bob,Bob Ray,bob@example.com,East,Mia Roth,SDR,{hire_date}\n"
    assert refused(ws, "roster.csv", text, "roster", "import") == f"{{f}}:3 (column hire_date): {problem}"


# --- CRM exports --------------------------------------------------------------------------------------

OPP_HEADER = "owner,account,created_date,close_date,stage,amount,status\n"


def test_a_placeholder_close_date_on_an_open_deal_means_no_expected_close(ws: Path) -> None:
    # An earlier CRM import gave ann a value in 2026-Q3; the new export spans 2026-Q1 only once its
    # placeholder is set aside, so the Q3 value stays (a placeholder read as a date would have replaced
    # every quarter up to 9999-Q4 and written 127,585 zero rows per rep).
    (ws / "q3.csv").write_text(OPP_HEADER + "Ann Lee,Old,2026-07-01,2026-08-01,Won,700,won\n")
    assert run(ws, "crm", "import", str(ws / "q3.csv")).exit_code == 0
    (ws / "opps.csv").write_text(OPP_HEADER + "Ann Lee,Acme,2026-01-10,2026-02-20,Won,1000,won\n"
                                              "Ann Lee,Birch,2026-01-15,9999-12-31,Proposal,500,open\n"
                                              "Ann Lee,Cedar,2026-02-01,1900-01-01,Proposal,300,open\n")
    result = run(ws, "crm", "import", str(ws / "opps.csv"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "7 KPI values for 1 reps, 2026-Q1 to 2026-Q1: 7 new, 0 updated, " \
                                             "0 unchanged"
    rows = kpi_rows(ws)
    assert sorted({r[1] for r in rows}) == ["2026-Q1", "2026-Q3"]
    assert ("ann", "2026-Q1", "pipeline_generated", 1800.0) in rows      # the open deals still count as pipeline
    assert ("ann", "2026-Q1", "revenue", 1000.0) in rows and ("ann", "2026-Q3", "revenue", 700.0) in rows
    assert len(rows) == 14


@pytest.mark.parametrize(("opps", "message"), [
    ("Ann Lee,Acme,2026-01-10,2026-02-20,Won,1000,won\nAnn Lee,Birch,2026-01-15,9999-12-31,Won,500,won\n",
     f"{{f}}:3 (column close_date): a closed opportunity's close date 9999-12-31 is outside the date window {W}"),
    ("Ann Lee,Birch,2026-01-15,1900-01-01,Lost,500,lost\n",
     f"{{f}}:2 (column close_date): a closed opportunity's close date 1900-01-01 is outside the date window {W}"),
    ("Ann Lee,Birch,1900-01-01,2026-01-15,Won,500,won\n",
     f"{{f}}:2 (column created_date): created date 1900-01-01 is outside the date window {W}"),
    ("Ann Lee,Birch,1900-01-01,,Proposal,500,open\n",
     f"{{f}}:2 (column created_date): created date 1900-01-01 is outside the date window {W}"),
])
def test_implausible_dates_on_closed_deals_are_refused(ws: Path, opps: str, message: str) -> None:
    assert refused(ws, "opps.csv", OPP_HEADER + opps, "crm", "import") == (
        message + "; correct it in the CRM and export again, or widen the window under dates: in spm.yml")


def test_implausible_activity_and_lead_dates_are_refused(ws: Path) -> None:
    (ws / "opps.csv").write_text(OPP_HEADER + "Ann Lee,Acme,2026-01-10,2026-02-20,Won,1000,won\n")
    (ws / "acts.csv").write_text("owner,date,type,outcome\nAnn Lee,2026-01-12,call,\nAnn Lee,9999-12-31,call,\n")
    before = store_digests(ws)
    result = run(ws, "crm", "import", str(ws / "opps.csv"), "--activities", str(ws / "acts.csv"))
    assert result.output == (f"Error: {ws / 'acts.csv'}:3 (column date): activity date 9999-12-31 is outside the "
                             f"date window {W}; correct it in the CRM and export again, or widen the window under "
                             "dates: in spm.yml\n")
    (ws / "leads.csv").write_text("owner,created_date,converted_date\nAnn Lee,2026-01-12,9999-12-31\n")
    result = run(ws, "crm", "import", str(ws / "opps.csv"), "--leads", str(ws / "leads.csv"))
    assert result.output == (f"Error: {ws / 'leads.csv'}:2 (column converted_date): converted date 9999-12-31 is "
                             f"outside the date window {W}; correct it in the CRM and export again, or widen the "
                             "window under dates: in spm.yml\n")
    assert store_digests(ws) == before


# --- what an older store holds ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tainted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A populated store into which rows from before the window were written straight with SQL."""
    folder = tmp_path_factory.mktemp("tainted")
    db, info = populated(folder, n_reps=8)
    reps = [r["id"] for r in info["data"].roster]
    with sqlite3.connect(db) as conn:
        good = conn.execute("SELECT max(period) FROM kpi_values WHERE period LIKE '%-Q%'").fetchone()[0]
        for period in ("9999-Q4", "9999-12", "0000-01", "2026-13", "garbage", "1899-Q1"):
            conn.execute("INSERT INTO kpi_values VALUES (?, ?, 'revenue', 0, 1000, 'crm:old.csv')", (reps[0], period))
        for rep, hired in zip(reps[:4], ("9999-12-31", "20260901", "2026-W36-2", "junk"), strict=True):
            conn.execute("UPDATE reps SET hire_date = ? WHERE id = ?", (hired, rep))
    info["good_period"] = good
    return db, info


def spm(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), "--course", str(ROOT / "assessments"), *args])


def test_reports_gaps_and_exports_run_on_whatever_the_store_holds(tainted, tmp_path: Path) -> None:
    db, info = tainted
    roster = info["data"].roster
    team = roster[0]["team"]
    outputs = {}
    for args in (["report", "team", team, "-o", str(tmp_path / "team.html")],
                 ["report", "rep", roster[0]["id"], "-o", str(tmp_path / "rep0.html")],
                 ["report", "rep", roster[1]["id"], "-o", str(tmp_path / "rep1.html")],
                 ["report", "items", "a1", "-o", str(tmp_path / "items.html")],
                 ["gaps"], ["gaps", "--team", team, "--format", "json"], ["gaps", "--rep", roster[0]["id"]],
                 *(["export", kind, "--format", fmt] for kind in ("reps", "kpis", "scores", "mastery", "gaps")
                   for fmt in ("csv", "json"))):
        result = spm(db, *args)
        assert result.exit_code == 0, (args, result.output)
        outputs[" ".join(args[:2])] = result.output
    gaps = json.loads(spm(db, "export", "gaps", "--format", "json").output)
    kpi_gaps = [g for g in gaps if g["kind"] != "skill"]
    assert kpi_gaps and {g["period"] for g in kpi_gaps} == {info["good_period"]}
    for text in (outputs["gaps"], (tmp_path / "team.html").read_text(), (tmp_path / "rep0.html").read_text()):
        for bad in ("9999-Q4", "0000-01", "2026-13", "garbage", "1899-Q1"):
            assert bad not in text
    assert "days ago" not in (tmp_path / "rep0.html").read_text()
    # the stored rows are still listed as they are, so that an admin can find and remove them
    stored = json.loads(spm(db, "export", "kpis", "--format", "json").output)
    assert {"9999-Q4", "0000-01", "garbage"} <= {r["period"] for r in stored}
    assert "hired 9999-12-31 (not a valid hire date: correct it in the roster)" in (tmp_path / "rep0.html").read_text()
    assert "hired 20260901 (not a valid hire date: correct it in the roster)" in (tmp_path / "rep1.html").read_text()


def test_analysis_treats_an_implausible_hire_date_as_unknown(tainted) -> None:
    from spm_training.analysis.facade import analyse
    from spm_training.analysis.views import tenure

    db, info = tainted
    roster = info["data"].roster
    with open_store(db, create=False) as store:
        a = analyse(store, info["project"], today=date(2026, 11, 15))
    for rep in roster[:4]:
        assert a.hire_date(rep["id"]) is None and a.ramp(rep["id"]) == []
        assert tenure(a, rep["id"]) == {"days": None, "new_hire": False}
    assert {r["rep_id"] for r in a.onboarding()}.isdisjoint(r["id"] for r in roster[:4])
    fine = roster[4]
    assert tenure(a, fine["id"])["days"] == (date(2026, 11, 15) - date.fromisoformat(fine["hire_date"])).days
    assert "9999-Q4" not in set(a.history["period"]) and "garbage" not in set(a.current["period"])
