"""CRM import: every KPI on small hand-computed exports, the edge cases, the presets and mappings, bad
input refused whole, and a realistic export checked against an independent pandas computation."""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from spm_training.analysis.attainment import kpi_rows
from spm_training.catalog import load_kpis
from spm_training.cli.crm import crm_import
from spm_training.cli.main import cli
from spm_training.errors import InputError, SpmError
from spm_training.ingest.crm import import_crm, load_mapping, preset_names
from spm_training.ingest.kpis import import_kpis
from spm_training.project import packaged_kpi_catalog
from spm_training.store import Store, open_store

# id, name, email, team, role, crm_owner
REPS = [
    ("ann", "Ann Lee", "ann@example.com", "East", "AE", "Ann Lee"),
    ("bob", "Bob Ray", "bob@example.com", "East", "AE", "Bob Ray"),
    ("sam", "Sam Kim", "sam@example.com", "East", "SDR", None),
    ("cy", "Cy Oh", "cy@example.com", "West", "AM", "C. Oh"),
]
HEADER = "owner,account,created_date,close_date,stage,amount,status\n"
OPPS = HEADER + (
    'Ann Lee,Acme,2026-01-10,2026-02-20,Closed Won,"1,000",won\n'      # 41 days
    "Ann Lee,Birch,2026-01-15,2026-03-01,Closed Won,500,won\n"          # 45 days
    "Ann Lee,Cedar,2026-02-01,2026-03-15,Closed Lost,800,lost\n"
    "Ann Lee,Delta,2026-03-05,2026-06-30,Proposal,300,open\n"           # expected close: ignored
    "Bob Ray,Elm,2025-12-01,2026-01-31,Closed Lost,400,lost\n"          # spans two quarters
    "Bob Ray,Fir,2026-02-10,2026-03-30,Closed Won,2000,won\n"           # 48 days
    'sam@example.com,Gum,2026-02-03,,Discovery,"$1,200",open\n'         # matched by email
)
KPIS = load_kpis()


def make_store(path: Path, reps: list[tuple] = REPS) -> Store:
    store = open_store(path)
    with store.transaction() as conn:
        conn.executemany("INSERT OR IGNORE INTO teams (id, manager) VALUES (?, 'Mia Roth')", [(r[3],) for r in reps])
        conn.executemany("INSERT INTO reps (id, name, email, team_id, role, hire_date, crm_owner) "
                         "VALUES (?, ?, ?, ?, ?, '2025-01-06', ?)", reps)
    return store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with make_store(tmp_path / "spm.db") as opened:
        yield opened


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def values(store: Store) -> dict[tuple[str, str, str], tuple[float, float | None]]:
    return {(r["rep_id"], r["period"], r["kpi"]): (r["value"], r["target"]) for r in kpi_rows(store, load_kpis())}


def derive(store: Store, folder: Path, opps: str, period: str = "quarter", **exports: str) -> dict:
    paths = {kind: write(folder, f"{kind}.csv", text) for kind, text in exports.items()}
    import_crm(store, write(folder, "opps.csv", opps), KPIS, period_kind=period, **paths)
    return {key: value for key, (value, _) in values(store).items()}


def dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    text = "\n".join(conn.iterdump())
    conn.close()
    return hashlib.sha256(text.encode()).hexdigest()


# --- every opportunity KPI, by hand -------------------------------------------------------------

def test_quarter_kpis_match_hand_computation(store: Store, tmp_path: Path) -> None:
    import_crm(store, write(tmp_path, "opps.csv", OPPS), KPIS)
    got = values(store)
    assert {k: v for k, v in got.items() if k[0] == "ann"} == {
        ("ann", "2026-Q1", "revenue"): (1500.0, 120000.0),
        ("ann", "2026-Q1", "deals_won"): (2.0, 5.0),
        ("ann", "2026-Q1", "win_rate"): (pytest.approx(2 / 3), 0.25),
        ("ann", "2026-Q1", "avg_deal_size"): (750.0, 24000.0),
        ("ann", "2026-Q1", "sales_cycle_length"): (43.0, 45.0),          # median of 41 and 45 days
        ("ann", "2026-Q1", "pipeline_generated"): (2600.0, 360000.0),    # open Delta included
        ("ann", "2026-Q1", "quota_attainment"): (0.0125, 1.0),           # 1,500 / the AE quota 120,000
    }
    # Elm: pipeline where it was created (2025-Q4), a loss where it closed (2026-Q1)
    assert {k: v for k, v in got.items() if k[0] == "bob"} == {
        ("bob", "2025-Q4", "revenue"): (0.0, 120000.0),
        ("bob", "2025-Q4", "deals_won"): (0.0, 5.0),
        ("bob", "2025-Q4", "pipeline_generated"): (400.0, 360000.0),
        ("bob", "2025-Q4", "quota_attainment"): (0.0, 1.0),
        ("bob", "2026-Q1", "revenue"): (2000.0, 120000.0),
        ("bob", "2026-Q1", "deals_won"): (1.0, 5.0),
        ("bob", "2026-Q1", "win_rate"): (0.5, 0.25),
        ("bob", "2026-Q1", "avg_deal_size"): (2000.0, 24000.0),
        ("bob", "2026-Q1", "sales_cycle_length"): (48.0, 45.0),
        ("bob", "2026-Q1", "pipeline_generated"): (2000.0, 360000.0),
        ("bob", "2026-Q1", "quota_attainment"): (pytest.approx(2000 / 120000), 1.0),
    }
    # an SDR with one open deal: no closed-deal rates, no revenue quota, the SDR pipeline target
    assert {k: v for k, v in got.items() if k[0] == "sam"} == {
        ("sam", "2026-Q1", "revenue"): (0.0, None),
        ("sam", "2026-Q1", "deals_won"): (0.0, None),
        ("sam", "2026-Q1", "pipeline_generated"): (1200.0, 150000.0),
    }


def test_month_kpis_fill_zero_counts_between_and_leave_rates_undefined(store: Store, tmp_path: Path) -> None:
    got = derive(store, tmp_path, OPPS, period="month")
    bob = {(p, k): v for (r, p, k), v in got.items() if r == "bob"}
    assert bob == {
        ("2025-12", "revenue"): 0.0, ("2025-12", "deals_won"): 0.0, ("2025-12", "pipeline_generated"): 400.0,
        ("2025-12", "quota_attainment"): 0.0,
        ("2026-01", "revenue"): 0.0, ("2026-01", "deals_won"): 0.0, ("2026-01", "pipeline_generated"): 0.0,
        ("2026-01", "quota_attainment"): 0.0, ("2026-01", "win_rate"): 0.0,      # one loss: a rate of zero
        ("2026-02", "revenue"): 0.0, ("2026-02", "deals_won"): 0.0, ("2026-02", "pipeline_generated"): 2000.0,
        ("2026-02", "quota_attainment"): 0.0,                                    # nothing closed: no win rate
        ("2026-03", "revenue"): 2000.0, ("2026-03", "deals_won"): 1.0, ("2026-03", "pipeline_generated"): 0.0,
        ("2026-03", "quota_attainment"): 0.05, ("2026-03", "win_rate"): 1.0, ("2026-03", "avg_deal_size"): 2000.0,
        ("2026-03", "sales_cycle_length"): 48.0,
    }
    with_targets = values(store)
    assert with_targets[("bob", "2026-03", "revenue")] == (2000.0, 40000.0)       # a third of the quarter's
    assert with_targets[("bob", "2026-03", "win_rate")] == (1.0, 0.25)            # rates do not scale


def test_periods_without_closed_deals_have_no_win_rate(store: Store, tmp_path: Path) -> None:
    got = derive(store, tmp_path, HEADER + "Ann Lee,Acme,2026-01-10,2026-05-20,Proposal,900,open\n"
                 "Ann Lee,Birch,2026-02-10,,Discovery,100,open\n")
    assert got == {("ann", "2026-Q1", "revenue"): 0.0, ("ann", "2026-Q1", "deals_won"): 0.0,
                   ("ann", "2026-Q1", "pipeline_generated"): 1000.0, ("ann", "2026-Q1", "quota_attainment"): 0.0}


# --- activities and leads -----------------------------------------------------------------------

ACTIVITIES = (
    "owner,date,type,outcome\n"
    "Ann Lee,2026-01-05,call,connected\n"
    "Ann Lee,2026-01-06,email,sent\n"
    "Ann Lee,2026-01-20,meeting,held\n"
    "Ann Lee,2026-01-21,meeting,no_show\n"        # not held: not booked
    "Ann Lee,2026-03-02,call,no answer\n"         # an attempt is still an activity
    "Ann Lee,2026-03-03,task,done\n"              # other: read, not counted
    "sam@example.com,2026-02-10,Meeting,Completed\n"
)
LEADS = (
    "owner,created_date,converted_date\n"
    "sam@example.com,2026-01-03,2026-01-20\n"     # converted the same month
    "sam@example.com,2026-01-10,2026-02-02\n"     # the next month: not in January's rate, in Q1's
    "sam@example.com,2026-01-12,\n"
    "sam@example.com,2026-01-30,2026-01-31\n"
    "sam@example.com,2026-02-05,\n"
)


def test_activities_and_meetings_per_month(store: Store, tmp_path: Path) -> None:
    got = derive(store, tmp_path, OPPS, period="month", activities=ACTIVITIES)
    acts = {k: v for k, v in got.items() if k[2] in ("activities", "meetings_booked")}
    assert acts == {
        ("ann", "2026-01", "activities"): 2.0, ("ann", "2026-01", "meetings_booked"): 1.0,
        ("ann", "2026-02", "activities"): 0.0, ("ann", "2026-02", "meetings_booked"): 0.0,
        ("ann", "2026-03", "activities"): 1.0, ("ann", "2026-03", "meetings_booked"): 0.0,
        ("sam", "2026-02", "activities"): 0.0, ("sam", "2026-02", "meetings_booked"): 1.0,
    }
    targets = values(store)
    assert targets[("sam", "2026-02", "meetings_booked")] == (1.0, 12.0)
    assert targets[("ann", "2026-01", "activities")] == (2.0, 300.0)


def test_lead_conversion_counts_leads_converted_in_their_own_period(store: Store, tmp_path: Path) -> None:
    monthly = derive(store, tmp_path, OPPS, period="month", leads=LEADS)
    assert {k: v for k, v in monthly.items() if k[2] == "lead_to_opp_conversion"} == {
        ("sam", "2026-01", "lead_to_opp_conversion"): 0.5, ("sam", "2026-02", "lead_to_opp_conversion"): 0.0}
    quarterly = derive(store, tmp_path, OPPS, period="quarter", leads=LEADS)
    assert quarterly[("sam", "2026-Q1", "lead_to_opp_conversion")] == pytest.approx(0.6)
    assert values(store)[("sam", "2026-Q1", "lead_to_opp_conversion")][1] == 0.12


# --- duplicates and re-opened deals -------------------------------------------------------------

def test_last_row_of_an_id_wins_so_a_reopened_deal_is_not_won(store: Store, tmp_path: Path) -> None:
    text = (
        "id,owner,account,created_date,close_date,stage,amount,status\n"
        "O1,Ann Lee,Acme,2026-01-10,2026-02-20,Closed Won,1000,won\n"
        "O2,Ann Lee,Birch,2026-01-15,2026-02-01,Closed Lost,500,lost\n"
        "O1,Ann Lee,Acme,2026-01-10,2026-02-20,Negotiation,1000,open\n"    # re-opened after the win
        "O2,Ann Lee,Birch,2026-01-15,2026-03-10,Closed Won,700,won\n"      # revived and won, for more
    )
    result = import_crm(store, write(tmp_path, "opps.csv", text), KPIS)
    assert result.duplicates == {"opportunities": 2}
    got = {k[2]: v for k, (v, _) in values(store).items()}
    assert got == {"revenue": 700.0, "deals_won": 1.0, "win_rate": 1.0, "avg_deal_size": 700.0,
                   "sales_cycle_length": 54.0, "pipeline_generated": 1700.0, "quota_attainment": 700 / 120000}


def test_a_deal_whose_last_owner_is_skipped_does_not_fall_back_to_its_earlier_owner(store: Store,
                                                                                     tmp_path: Path) -> None:
    text = ("id,owner,account,created_date,close_date,stage,amount,status\n"
            "O1,Ann Lee,Acme,2026-01-10,2026-02-20,Closed Won,1000,won\n"
            "O2,Ann Lee,Birch,2026-01-11,2026-02-21,Closed Won,10,won\n"
            "O1,Partner Desk,Acme,2026-01-10,2026-02-20,Closed Won,1000,won\n")
    result = import_crm(store, write(tmp_path, "opps.csv", text), KPIS, skip_unmatched=True)
    assert (result.duplicates, result.skipped) == ({"opportunities": 1}, {"Partner Desk": 1})
    assert values(store)[("ann", "2026-Q1", "revenue")] == (10.0, 120000.0)


def test_exact_duplicate_rows_count_once(store: Store, tmp_path: Path) -> None:
    lines = OPPS.splitlines(keepends=True)
    result = import_crm(store, write(tmp_path, "opps.csv", "".join(lines + lines[1:3])), KPIS)
    assert result.duplicates == {"opportunities": 2}
    assert values(store)[("ann", "2026-Q1", "revenue")] == (1500.0, 120000.0)


def test_reimport_changes_nothing(tmp_path: Path) -> None:
    make_store(tmp_path / "spm.db").close()
    write(tmp_path, "opps.csv", OPPS)
    first = invoke(tmp_path, "opps.csv")
    assert first.exit_code == 0, first.output
    before = dump(tmp_path / "spm.db")
    again = invoke(tmp_path, "opps.csv")
    assert again.output.endswith("21 KPI values for 3 reps, 2025-Q4 to 2026-Q1: 0 new, 0 updated, 21 unchanged\n")
    assert dump(tmp_path / "spm.db") == before


def test_a_reimport_removes_what_the_new_export_no_longer_gives(store: Store, tmp_path: Path) -> None:
    """A deal moved from Bob to Ann: Bob's Q1 has no won deal left, so his average deal size and
    sales cycle are undefined now and must go, not linger from the first import."""
    first = derive(store, tmp_path, OPPS)
    assert first[("bob", "2026-Q1", "avg_deal_size")] == 2000.0
    result = import_crm(store, write(tmp_path, "moved.csv", OPPS.replace("Bob Ray,Fir,", "Ann Lee,Fir,")), KPIS)
    assert (result.written.removed, result.written.rows) == (2, 19)
    now = {key: value for key, (value, _) in values(store).items()}
    assert set(first) - set(now) == {("bob", "2026-Q1", "avg_deal_size"), ("bob", "2026-Q1", "sales_cycle_length")}
    # Bob still closed Elm (lost) in Q1: 0 of 1 closed deals won; Ann now has 3 of 4 and 3,500 of revenue
    assert [now[("bob", "2026-Q1", k)] for k in ("revenue", "deals_won", "win_rate", "pipeline_generated")] == [
        0.0, 0.0, 0.0, 0.0]
    assert now[("ann", "2026-Q1", "revenue")] == 3500.0 and now[("ann", "2026-Q1", "win_rate")] == 0.75
    assert now[("ann", "2026-Q1", "avg_deal_size")] == pytest.approx(3500 / 3)


def test_a_reimport_keeps_kpi_files_other_periods_and_exports_not_given(store: Store, tmp_path: Path) -> None:
    """Only values an earlier CRM import wrote, for the KPIs of the exports given, in the periods the
    new export covers, can be replaced."""
    import_kpis(store, write(tmp_path, "file.csv", "rep_id,period,kpi,value\ncy,2026-Q1,revenue,900\n"), KPIS)
    derive(store, tmp_path, OPPS, activities=ACTIVITIES)
    before = values(store)
    assert before[("bob", "2025-Q4", "pipeline_generated")][0] == 400.0
    # Only the 2026 deals, and no activity export this time
    only_2026 = HEADER + "".join(line + "\n" for line in OPPS.splitlines()[1:] if "2025-" not in line)
    result = import_crm(store, write(tmp_path, "q1.csv", only_2026), KPIS)
    after = values(store)
    assert after[("cy", "2026-Q1", "revenue")] == (900.0, before[("cy", "2026-Q1", "revenue")][1])   # a KPI file's
    assert after[("bob", "2025-Q4", "pipeline_generated")][0] == 400.0          # 2025-Q4: not in this export
    assert {k: v for k, v in after.items() if k[2] in ("activities", "meetings_booked")} == {
        k: v for k, v in before.items() if k[2] in ("activities", "meetings_booked")}
    # Bob's Elm (created 2025-12, lost 2026-01) is gone from the export: his Q1 win rate with it
    assert ("bob", "2026-Q1", "win_rate") in before and ("bob", "2026-Q1", "win_rate") in after
    assert after[("bob", "2026-Q1", "win_rate")][0] == 1.0 and result.written.removed == 0


def test_a_reopened_deal_takes_its_revenue_back_out(store: Store, tmp_path: Path) -> None:
    won_in_q2 = OPPS + "C. Oh,Hazel,2026-03-20,2026-05-04,Closed Won,700,won\n"
    assert derive(store, tmp_path, won_in_q2)[("cy", "2026-Q2", "revenue")] == 700.0
    reopened = OPPS + "C. Oh,Hazel,2026-03-20,2026-06-15,Negotiation,700,open\n"
    now = derive(store, tmp_path, reopened)
    assert ("cy", "2026-Q2", "revenue") not in now and ("cy", "2026-Q2", "deals_won") not in now
    assert now[("cy", "2026-Q1", "pipeline_generated")] == 700.0


def test_cli_says_how_many_values_a_reimport_removed(tmp_path: Path) -> None:
    make_store(tmp_path / "spm.db").close()
    write(tmp_path, "opps.csv", OPPS)
    assert invoke(tmp_path, "opps.csv").exit_code == 0
    write(tmp_path, "opps.csv", OPPS.replace("Bob Ray,Fir,", "Ann Lee,Fir,"))
    again = invoke(tmp_path, "opps.csv")
    assert again.exit_code == 0, again.output
    assert again.output.endswith("19 KPI values for 3 reps, 2025-Q4 to 2026-Q1: 0 new, 12 updated, 7 unchanged, "
                                 "2 removed (an earlier CRM import gave them; this export no longer does)\n")


def test_store_quota_wins_over_the_catalog_default(store: Store, tmp_path: Path) -> None:
    quotas = write(tmp_path, "quotas.csv", "rep_id,period,kpi,value,target\nann,2026-Q1,revenue,0,60000\n")
    import_kpis(store, quotas, KPIS)
    import_crm(store, write(tmp_path, "opps.csv", OPPS), KPIS)
    got = values(store)
    assert got[("ann", "2026-Q1", "revenue")] == (1500.0, 60000.0)
    assert got[("ann", "2026-Q1", "quota_attainment")] == (0.025, 1.0)
    assert got[("bob", "2026-Q1", "revenue")] == (2000.0, 120000.0)


def test_kpis_missing_from_a_project_catalog_are_left_out(store: Store, tmp_path: Path) -> None:
    catalog = yaml.safe_load(packaged_kpi_catalog().read_text())
    catalog["kpis"] = [k for k in catalog["kpis"] if k["id"] != "pipeline_generated"]
    (tmp_path / "kpis.yml").write_text(yaml.safe_dump(catalog))
    kpis = load_kpis(path=tmp_path / "kpis.yml")
    result = import_crm(store, write(tmp_path, "opps.csv", OPPS), kpis)
    assert result.not_in_catalog == ("pipeline_generated",)
    assert not [k for k in values(store) if k[2] == "pipeline_generated"]


# --- amounts, dates, owners ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "decimal", "amount"), [
    ("1,200.50", ".", 1200.5), ("$1,200", ".", 1200.0), ("€ 1 200", ".", 1200.0), ("EUR 1,200.50", ".", 1200.5),
    ("1200 EUR", ".", 1200.0), ("1'200.5", ".", 1200.5), ("1\u00a0200", ".", 1200.0), ("1.200,50", ",", 1200.5),
    ("€1.200", ",", 1200.0), ("12,5", ",", 12.5), ("0", ".", 0.0),
])
def test_amount_formats(store: Store, tmp_path: Path, text: str, decimal: str, amount: float) -> None:
    mapping = write(tmp_path, "map.yml", f"decimal: '{decimal}'\n")
    opps = write(tmp_path, "opps.csv", HEADER + f'Ann Lee,Acme,2026-01-10,2026-02-20,Closed Won,"{text}",won\n')
    import_crm(store, opps, KPIS, mapping=load_mapping("generic", mapping))
    assert values(store)[("ann", "2026-Q1", "revenue")][0] == amount


def test_times_after_iso_dates_are_ignored(store: Store, tmp_path: Path) -> None:
    got = derive(store, tmp_path, HEADER + "Ann Lee,Acme,2026-03-31T23:30:00Z,2026-04-01 08:00,Closed Won,10,won\n")
    assert got[("ann", "2026-Q2", "sales_cycle_length")] == 1.0
    assert got[("ann", "2026-Q1", "pipeline_generated")] == 10.0


@pytest.mark.parametrize(("date_format", "created", "closed"), [
    ("%m/%d/%Y", "1/10/2026", "2/20/2026 3:45 PM"),     # a US report; the time is dropped
    ("%d/%m/%Y", "10/01/2026", "20/02/2026"),
    ("%d.%m.%y", "10.01.26", "20.02.26"),
])
def test_date_formats_from_the_mapping(store: Store, tmp_path: Path, date_format: str, created: str,
                                       closed: str) -> None:
    mapping = write(tmp_path, "map.yml", f"date_format: '{date_format}'\n")
    opps = write(tmp_path, "opps.csv", HEADER + f"Ann Lee,Acme,{created},{closed},Closed Won,10,won\n")
    import_crm(store, opps, KPIS, mapping=load_mapping("generic", mapping))
    assert values(store)[("ann", "2026-Q1", "sales_cycle_length")][0] == 41.0


def test_a_date_in_another_format_than_the_mapping_names_the_line(store: Store, tmp_path: Path) -> None:
    opps = write(tmp_path, "opps.csv", HEADER + "Ann Lee,Acme,1/10/2026,2026-02-20,Closed Won,10,won\n")
    with pytest.raises(InputError) as caught:
        import_crm(store, opps, KPIS,
                   mapping=load_mapping("generic", write(tmp_path, "m.yml", "date_format: '%m/%d/%Y'")))
    assert str(caught.value) == (f"{opps}:2 (column close_date): 'close_date' is not a date: '2026-02-20'; dates are "
                                 "read as %m/%d/%Y; set date_format in a --mapping file if the export differs")


def test_activities_and_leads_with_an_id_keep_the_last_row(store: Store, tmp_path: Path) -> None:
    acts = ("id,owner,date,type,outcome\nA1,Ann Lee,2026-01-20,meeting,scheduled\n"
            "A2,Ann Lee,2026-01-21,call,ok\nA1,Ann Lee,2026-01-20,meeting,held\n")
    leads = "id,owner,created_date,converted_date\nL1,Ann Lee,2026-01-03,\nL1,Ann Lee,2026-01-03,2026-01-09\n"
    got = derive(store, tmp_path, OPPS, period="month", activities=acts, leads=leads)
    assert got[("ann", "2026-01", "meetings_booked")] == 1.0
    assert got[("ann", "2026-01", "activities")] == 1.0
    assert got[("ann", "2026-01", "lead_to_opp_conversion")] == 1.0


def test_owner_matching_ignores_case_and_spacing(store: Store, tmp_path: Path) -> None:
    got = derive(store, tmp_path, HEADER + "  ann   LEE ,Acme,2026-01-10,2026-02-20,Closed Won,10,won\n"
                 "ANN@EXAMPLE.COM,Birch,2026-01-10,2026-02-20,Closed Won,5,won\n"
                 "c. oh,Cedar,2026-01-10,2026-02-20,Closed Won,7,won\n")
    assert got[("ann", "2026-Q1", "revenue")] == 15.0
    assert got[("cy", "2026-Q1", "revenue")] == 7.0


def test_skip_unmatched_leaves_those_rows_out(store: Store, tmp_path: Path) -> None:
    opps = write(tmp_path, "opps.csv", OPPS + "Old Rep,Hop,2026-01-10,2026-02-20,Closed Won,99,won\n"
                 "Old Rep,Ivy,2026-01-10,2026-02-20,Closed Won,99,won\n,Jay,2026-01-10,,Discovery,5,open\n")
    result = import_crm(store, opps, KPIS, skip_unmatched=True)
    assert result.skipped == {"Old Rep": 2, "(empty)": 1}
    assert values(store)[("ann", "2026-Q1", "revenue")] == (1500.0, 120000.0)


def test_a_crm_owner_shared_by_two_reps_is_refused(tmp_path: Path) -> None:
    twins = [*REPS, ("ann2", "Ann Lee", "ann2@example.com", "East", "AE", "Ann Lee")]
    with make_store(tmp_path / "spm.db", twins) as store, pytest.raises(InputError) as caught:
        import_crm(store, write(tmp_path, "opps.csv", OPPS), KPIS)
    assert str(caught.value) == (f"{tmp_path / 'opps.csv'}:2 (column owner): owner 'ann lee' is the crm_owner of "
                                 "reps ann, ann2; give each rep their own crm_owner in the roster and import it again")


# --- presets and mapping files ------------------------------------------------------------------

SALESFORCE = (
    '"Opportunity Owner","Account Name","Opportunity Name","Stage","Amount","Close Date","Created Date",'
    '"Opportunity ID"\n'
    '"Ann Lee","Acme","Acme - Relay","Closed Won","USD 1,000.00","2/20/2026","1/10/2026","0065g00000A1"\n'
    '"Bob Ray","Elm","Elm - Relay","Closed Lost","USD 400.00","1/31/2026","12/1/2025","0065g00000A2"\n'
    '"Bob Ray","Fir","Fir - Relay","Prospecting","","6/30/2026","2/10/2026","0065g00000A3"\n'
    "\n"
    '"Confidential Information - Do Not Distribute"\n'
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
)
HUBSPOT = (
    "Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Create Date,Associated Company,Pipeline\n"
    "101,Acme - Relay,Closed won,2026-02-20 10:15,Ann Lee,1000,2026-01-10 09:00,Acme,Sales Pipeline\n"
    "102,Elm - Relay,Closed lost,2026-01-31 16:40,Bob Ray,400,2025-12-01 11:00,Elm,Sales Pipeline\n"
    "103,Fir - Relay,Decision maker bought-in,2026-06-30 00:00,Bob Ray,,2026-02-10 08:30,Fir,Sales Pipeline\n"
)


@pytest.mark.parametrize(("preset", "text"), [("salesforce", SALESFORCE), ("hubspot", HUBSPOT)])
def test_presets_read_their_crm_exports(store: Store, tmp_path: Path, preset: str, text: str) -> None:
    result = import_crm(store, write(tmp_path, "export.csv", text), KPIS, mapping=load_mapping(preset))
    assert result.rows == {"opportunities": 3}
    got = {key: value for key, (value, _) in values(store).items()}
    assert got[("ann", "2026-Q1", "revenue")] == 1000.0
    assert got[("bob", "2025-Q4", "pipeline_generated")] == 400.0
    assert got[("bob", "2026-Q1", "win_rate")] == 0.0
    assert got[("bob", "2026-Q1", "pipeline_generated")] == 0.0     # an open deal with no amount yet


def test_mapping_file_renames_columns_and_sets_the_date_format(store: Store, tmp_path: Path) -> None:
    mapping = write(tmp_path, "ours.yml", "date_format: '%d/%m/%Y'\nopportunities:\n  columns:\n"
                    "    owner: Sales Rep\n    status: Result\n  status_values:\n    won: [Gewonnen]\n")
    opps = write(tmp_path, "opps.csv", "Sales Rep,account,created_date,close_date,stage,amount,Result\n"
                 "Ann Lee,Acme,10/01/2026,03/02/2026,Closed Won,250,Gewonnen\n")
    result = import_crm(store, opps, KPIS, mapping=load_mapping("generic", mapping))
    assert result.rows == {"opportunities": 1}
    assert values(store)[("ann", "2026-Q1", "sales_cycle_length")] == (24.0, 45.0)


def test_presets_are_the_cli_choices_and_all_load() -> None:
    choices = next(p for p in crm_import.params if p.name == "preset").type.choices
    assert list(choices) == preset_names() == ["generic", "salesforce", "hubspot"]
    for name in preset_names():
        mapping = load_mapping(name)
        assert mapping.columns["opportunities"]["owner"]


BAD_MAPPINGS = {
    "unknown_setting": ("date_fromat: iso\n", ":1: unknown setting 'date_fromat'; use activities, date_format, "
                        "decimal, leads, opportunities"),
    "unknown_section_key": ("opportunities:\n  colums: {owner: rep}\n", ":2: 'opportunities' has unknown setting "
                            "'colums'; use columns, other_status, status_from, status_values"),
    "bad_date_format": ("date_format: '%Y'\n", ":1: date_format '%Y' lacks a day, month or year; use iso or a "
                        "strftime pattern such as '%d/%m/%Y' or '%m/%d/%Y'"),
    "bad_decimal": ("decimal: ';'\n", ":1: decimal ';' is neither '.' nor ','; write decimal: '.' for 1,200.50 "
                    "or decimal: ',' for 1.200,50"),
    "status_twice": ("opportunities:\n  status_values:\n    won: [done]\n    lost: [done]\n",
                     ":3: 'done' is listed under both won and lost; list each value once"),
    "yaml_syntax": ("opportunities: [\n", ":2: YAML syntax error at column 1: expected the node content, but found "
                    "'<stream end>'; fix the indentation or quoting there"),
}


@pytest.mark.parametrize("case", sorted(BAD_MAPPINGS))
def test_bad_mapping_files_name_the_line(tmp_path: Path, case: str) -> None:
    text, expected = BAD_MAPPINGS[case]
    path = write(tmp_path, f"{case}.yml", text)
    with pytest.raises(InputError) as caught:
        load_mapping("generic", path)
    assert str(caught.value) == f"{path}{expected}"


def test_unknown_preset_is_refused() -> None:
    with pytest.raises(SpmError, match="no CRM preset 'pipedrive'; choose one of generic, salesforce, hubspot"):
        load_mapping("pipedrive")


# --- bad exports through the CLI: one line, the line named, the store unchanged -----------------

def invoke(folder: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(folder / "spm.db"), "crm", "import",
                                    *[str(folder / a) if a.endswith(".csv") else a for a in args]])


BAD_EXPORTS = {
    "negative": (HEADER + "Ann Lee,Acme,2026-01-10,2026-02-20,Closed Won,10,won\n"
                 "Ann Lee,Gum,2026-01-10,2026-02-20,Closed Won,-50,won\n",
                 ":3 (column amount): 'amount' is negative: '-50'; an opportunity's amount cannot be negative; "
                 "correct it in the CRM and export again"),
    "negative_in_parentheses": (HEADER + 'Ann Lee,Gum,2026-01-10,2026-02-20,Closed Won,"($1,050)",won\n',
                                ":2 (column amount): 'amount' is negative: '($1,050)'; an opportunity's amount "
                                "cannot be negative; correct it in the CRM and export again"),
    "decimal_comma_unannounced": (HEADER + 'Ann Lee,Gum,2026-01-10,2026-02-20,Closed Won,"1.200,50",won\n',
                                  ":2 (column amount): 'amount' is not an amount: '1.200,50'; write amounts such as "
                                  "1,200.50 or EUR 1200; if the export writes 1.200,50, set decimal: ',' in a "
                                  "--mapping file"),
    "two_currencies": (HEADER + "Ann Lee,Gum,2026-01-10,2026-02-20,Closed Won,EUR 10,won\n"
                       "Bob Ray,Hop,2026-01-10,2026-02-20,Closed Won,USD 10,won\n",
                       ":3 (column amount): amounts in two currencies, EUR (line 2) and USD; export every amount "
                       "in one currency (in Salesforce, the converted amount)"),
    "unmatched_owners": (OPPS + "Old Rep,Hop,2026-01-10,2026-02-20,Closed Won,99,won\n"
                         "Zed,Ivy,2026-01-10,2026-02-20,Closed Won,99,won\nOld Rep,Jay,2026-01-10,,Discovery,5,open\n",
                         ":9 (column owner): 2 owners match no rep: 'Old Rep' (line 9, 2 rows), 'Zed' (line 10, 1 "
                         "row); set their crm_owner (or email) in the roster and import it again, or pass "
                         "--skip-unmatched to leave their rows out"),
    "ambiguous_date": (HEADER + "Ann Lee,Gum,03/04/2026,2026-05-20,Closed Won,10,won\n",
                       ":2 (column created_date): 'created_date' is not a date: '03/04/2026'; write dates as "
                       "YYYY-MM-DD, or set date_format in a --mapping file (e.g. date_format: '%d/%m/%Y')"),
    "impossible_date": (HEADER + "Ann Lee,Gum,2026-01-10,2026-02-30,Closed Won,10,won\n",
                        ":2 (column close_date): 'close_date' is not a date: '2026-02-30'; write dates as "
                        "YYYY-MM-DD, or set date_format in a --mapping file (e.g. date_format: '%d/%m/%Y')"),
    "empty_created": (HEADER + "Ann Lee,Gum,,2026-02-20,Closed Won,10,won\n",
                      ":2 (column created_date): 'created_date' is empty; give every row a date"),
    "won_without_close": (HEADER + "Ann Lee,Gum,2026-01-10,,Closed Won,10,won\n",
                          ":2 (column close_date): a won opportunity has no close date; give every won or lost "
                          "opportunity its close date"),
    "won_without_amount": (HEADER + "Ann Lee,Gum,2026-01-10,2026-02-20,Closed Won,,won\n",
                           ":2 (column amount): a won opportunity has no amount; give every won opportunity its "
                           "amount"),
    "closed_before_created": (HEADER + "Ann Lee,Gum,2026-03-10,2026-02-20,Closed Won,10,won\n",
                              ":2 (column close_date): the close date is before the created date; correct the "
                              "dates in the CRM and export again"),
    "unknown_status": (HEADER + "Ann Lee,Gum,2026-01-10,2026-02-20,Closed Won,10,closed won\n",
                       ":2 (column status): unknown status 'closed won'; the generic mapping knows won: 'won'; "
                       "lost: 'lost'; open: 'open'; list it under status_values in a --mapping file"),
    "conflicting_duplicates": (HEADER + "Ann Lee,Gum,2026-01-10,2026-02-20,Closed Won,10,won\n"
                               "Bob Ray,Hop,2026-01-10,,Discovery,10,open\n"
                               "Ann Lee,Gum,2026-01-10,,Negotiation,10,open\n",
                               ":4: lines 2 and 4 are the same owner, account and created date with different "
                               "details; add the opportunity id column (id) so the last row of each deal wins, or "
                               "remove the stale row"),
    "missing_column": ("owner,account,created_date,close_date,amount\nAnn Lee,Gum,2026-01-10,,5\n",
                       ":1: no column 'status' (the opportunities' status); the generic mapping reads owner, "
                       "account, created_date, close_date, amount, status; choose another --preset or name your "
                       "columns in a --mapping file"),
    "empty_file": ("", ":1: the file is empty; start with a header row: owner,account,created_date,close_date,"
                   "amount,status"),
    "empty_id": ("id," + HEADER + "O1,Ann Lee,Gum,2026-01-10,2026-02-20,Closed Won,10,won\n"
                 ",Ann Lee,Hop,2026-01-10,2026-02-20,Closed Won,10,won\n",
                 ":3 (column id): 'id' is empty; give every row its id, or leave the id column out of the export"),
}


@pytest.mark.parametrize("case", sorted(BAD_EXPORTS))
def test_bad_export_is_one_line_and_leaves_the_store_unchanged(tmp_path: Path, case: str) -> None:
    make_store(tmp_path / "spm.db").close()
    write(tmp_path, "good.csv", OPPS)
    assert invoke(tmp_path, "good.csv").exit_code == 0
    content, expected = BAD_EXPORTS[case]
    bad = write(tmp_path, f"{case}.csv", content)
    before = dump(tmp_path / "spm.db")
    result = invoke(tmp_path, bad.name)
    assert result.exit_code == 1
    assert result.output == f"Error: {bad}{expected}\n"
    assert dump(tmp_path / "spm.db") == before


def test_bad_activities_refuse_the_whole_import(tmp_path: Path) -> None:
    make_store(tmp_path / "spm.db").close()
    write(tmp_path, "opps.csv", OPPS)
    acts = write(tmp_path, "acts.csv", "owner,date,type,outcome\nAnn Lee,2026-01-05,call,ok\n"
                 "Ann Lee,2026-01-06,linkedin,sent\n")
    before = dump(tmp_path / "spm.db")
    result = invoke(tmp_path, "opps.csv", "--activities", "acts.csv")
    assert result.output == (f"Error: {acts}:3 (column type): unknown activity type 'linkedin'; list it under "
                             "activity types in a --mapping file (under other to read it without counting it)\n")
    assert dump(tmp_path / "spm.db") == before


def test_leads_converted_before_they_were_created_are_refused(tmp_path: Path) -> None:
    make_store(tmp_path / "spm.db").close()
    write(tmp_path, "opps.csv", OPPS)
    leads = write(tmp_path, "leads.csv", "owner,created_date,converted_date\nsam@example.com,2026-01-10,2026-01-02\n")
    result = invoke(tmp_path, "opps.csv", "--leads", "leads.csv")
    assert result.output == (f"Error: {leads}:2 (column converted_date): the converted date is before the created "
                             "date; correct the dates in the CRM and export again\n")


def test_missing_mapping_file(tmp_path: Path) -> None:
    make_store(tmp_path / "spm.db").close()
    write(tmp_path, "opps.csv", OPPS)
    result = invoke(tmp_path, "opps.csv", "--mapping", str(tmp_path / "nope.yml"))
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nope.yml'}: no such mapping file; check the path given to --mapping\n"


def test_cli_reports_what_it_read_skipped_and_wrote(tmp_path: Path) -> None:
    make_store(tmp_path / "spm.db").close()
    write(tmp_path, "opps.csv", OPPS + "Old Rep,Hop,2026-01-10,2026-02-20,Closed Won,99,won\n" + OPPS.splitlines()[1])
    write(tmp_path, "acts.csv", ACTIVITIES)
    write(tmp_path, "leads.csv", LEADS)
    result = invoke(tmp_path, "opps.csv", "--activities", "acts.csv", "--leads", "leads.csv", "--period", "month",
                    "--skip-unmatched")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{tmp_path / 'opps.csv'}: 9 opportunities, 7 activities, 5 leads (1 duplicate or superseded row dropped)\n"
        "skipped 1 row of 1 owner matching no rep: 'Old Rep' (1)\n"
        # opportunities: ann 18, bob 20, sam 3; activities: ann 6, sam 2; leads: sam 2
        "51 KPI values for 3 reps, 2025-12 to 2026-03: 51 new, 0 updated, 0 unchanged\n")


def test_crm_import_needs_a_store_with_a_roster(tmp_path: Path) -> None:
    write(tmp_path, "opps.csv", OPPS)
    result = invoke(tmp_path, "opps.csv")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {tmp_path / 'spm.db'}: no store here; import a roster first")


# --- a realistic export against an independent computation --------------------------------------

N_REPS, N_OPPS, N_ACTS, N_LEADS = 40, 6000, 20000, 5000


def realistic_exports(folder: Path, seed: int = 11) -> tuple[list[tuple], dict[str, Path]]:
    """Two years of a mid-sized team's CRM: messy owners, amounts and dates, re-opened and edited deals
    (superseded rows of the same id earlier in the file), exact duplicate rows."""
    rng = np.random.default_rng(seed)
    roles = ["AE"] * 30 + ["AM"] * 5 + ["SDR"] * 5
    reps = [(f"r{i:02d}", f"Rep {i}", f"rep{i}@example.com", f"T{i % 4}", roles[i], f"Rep {i}")
            for i in range(N_REPS)]

    def owner_text(i: int) -> str:
        style = rng.integers(0, 3)
        return [f"Rep {i}", f"REP  {i}", f"Rep{i}@Example.com"][style]

    def day(offset: np.ndarray) -> np.ndarray:
        return np.datetime64("2024-01-01") + offset.astype("timedelta64[D]")

    created = day(rng.integers(0, 731, N_OPPS))
    closed = created + rng.gamma(2.0, 30.0, N_OPPS).astype(int).astype("timedelta64[D]")
    status = rng.choice(["won", "lost", "open"], N_OPPS, p=[0.3, 0.5, 0.2])
    amount = np.round(rng.lognormal(9.5, 0.9, N_OPPS), 2)
    owner = rng.integers(0, N_REPS, N_OPPS)
    rows = []
    for i in range(N_OPPS):
        text = [f"{amount[i]:.2f}", f"{amount[i]:,.2f}", f"${amount[i]:,.2f}"][i % 3]
        stamp = str(created[i]) + (" 09:15" if i % 7 == 0 else "")
        close = "" if status[i] == "open" and i % 2 else str(closed[i])
        rows.append([f"OPP-{i:05d}", owner_text(owner[i]), f"Account {rng.integers(0, 900)}", stamp, close,
                     "stage", text, status[i].capitalize() if i % 5 == 0 else status[i]])
    # an earlier state of 400 deals: lost on the day they were created, then re-opened (or won, or lost again)
    stale = [[r[0], r[1], r[2], r[3], r[3][:10], "stage", "1", "lost"]
             for r in (rows[i] for i in rng.choice(N_OPPS, 400, replace=False))]
    order = rng.permutation(len(rows))
    body = stale + [rows[i] for i in order] + [rows[i] for i in order[:50]]   # 50 exact duplicates at the end
    paths = {"opportunities": folder / "opps.csv", "activities": folder / "acts.csv", "leads": folder / "leads.csv"}
    with paths["opportunities"].open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "owner", "account", "created_date", "close_date", "stage", "amount", "status"])
        writer.writerows(body)

    act_owner = rng.integers(0, N_REPS, N_ACTS)
    act_type = rng.choice(["call", "email", "meeting", "task"], N_ACTS, p=[0.5, 0.3, 0.15, 0.05])
    outcome = rng.choice(["held", "no_show", "connected", "completed"], N_ACTS)
    act_day = day(rng.integers(0, 731, N_ACTS))
    with paths["activities"].open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["owner", "date", "type", "outcome"])
        writer.writerows([owner_text(o), str(d), t, c] for o, d, t, c in zip(act_owner, act_day, act_type, outcome))

    lead_owner = rng.integers(0, N_REPS, N_LEADS)
    lead_day = day(rng.integers(0, 731, N_LEADS))
    converted = lead_day + rng.integers(0, 60, N_LEADS).astype("timedelta64[D]")
    with paths["leads"].open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["owner", "created_date", "converted_date"])
        writer.writerows([owner_text(o), str(d), str(c) if i % 3 else ""]
                         for i, (o, d, c) in enumerate(zip(lead_owner, lead_day, converted)))
    return reps, paths


def independent_kpis(reps: list[tuple], paths: dict[str, Path]) -> dict[tuple[str, str, str], float]:
    """The same KPIs computed a second way: plain pandas, Period objects, one rep at a time for spans."""
    who = {r[5].lower(): r[0] for r in reps} | {r[2].lower(): r[0] for r in reps}

    def rep_of(owner: pd.Series) -> pd.Series:
        return owner.map(lambda s: who[" ".join(s.lower().split())])

    def quarter(dates: pd.Series) -> pd.Series:
        return dates.dt.to_period("Q").map(lambda p: f"{p.year}-Q{p.quarter}", na_action="ignore")

    out: dict[tuple[str, str, str], float] = {}

    def put(kpi: str, series: pd.Series) -> None:
        out.update({(r, p, kpi): float(v) for (r, p), v in series.items()})

    def spans(frame: pd.DataFrame) -> pd.MultiIndex:
        keys = []
        for rep, part in frame.groupby("rep"):
            first, last = part["quarter"].min(), part["quarter"].max()
            keys += [(rep, f"{p.year}-Q{p.quarter}") for p in pd.period_range(first, last, freq="Q")]
        return pd.MultiIndex.from_tuples(keys)

    opps = pd.read_csv(paths["opportunities"], dtype=str, keep_default_na=False).drop_duplicates("id", keep="last")
    opps["rep"] = rep_of(opps["owner"])
    opps["amount"] = opps["amount"].str.replace("$", "").str.replace(",", "").astype(float)
    opps["status"] = opps["status"].str.lower()
    opps["created"] = pd.to_datetime(opps["created_date"].str[:10])
    opps["closed"] = pd.to_datetime(opps["close_date"].replace("", None))
    opps["cq"], opps["xq"] = quarter(opps["created"]), quarter(opps["closed"])
    won = opps[opps["status"] == "won"]
    shut = opps[opps["status"] != "open"]
    touched = pd.concat([pd.DataFrame({"rep": opps["rep"], "quarter": opps["created"].dt.to_period("Q")}),
                         pd.DataFrame({"rep": shut["rep"], "quarter": shut["closed"].dt.to_period("Q")})])
    span = spans(touched)
    revenue = won.groupby(["rep", "xq"])["amount"].sum()
    put("revenue", revenue.reindex(span, fill_value=0))
    put("deals_won", won.groupby(["rep", "xq"]).size().reindex(span, fill_value=0))
    put("win_rate", shut.assign(w=shut["status"] == "won").groupby(["rep", "xq"])["w"].mean())
    put("avg_deal_size", won.groupby(["rep", "xq"])["amount"].mean())
    put("sales_cycle_length", (won["closed"] - won["created"]).dt.days.groupby([won["rep"], won["xq"]]).median())
    put("pipeline_generated", opps.groupby(["rep", "cq"])["amount"].sum().reindex(span, fill_value=0))
    quota = {r[0]: {"AE": 120000.0, "AM": 90000.0}.get(r[4]) for r in reps}
    out.update({(r, p, "quota_attainment"): out[(r, p, "revenue")] / quota[r]
                for (r, p, k) in list(out) if k == "revenue" and quota[r]})

    acts = pd.read_csv(paths["activities"], dtype=str, keep_default_na=False)
    acts["rep"] = rep_of(acts["owner"])
    acts["quarter"] = pd.to_datetime(acts["date"]).dt.to_period("Q")
    acts["q"] = acts["quarter"].map(lambda p: f"{p.year}-Q{p.quarter}")
    act_span = spans(acts)
    put("activities", acts[acts["type"].isin(["call", "email"])].groupby(["rep", "q"]).size()
        .reindex(act_span, fill_value=0))
    held = acts[(acts["type"] == "meeting") & acts["outcome"].isin(["held", "completed"])]
    put("meetings_booked", held.groupby(["rep", "q"]).size().reindex(act_span, fill_value=0))

    leads = pd.read_csv(paths["leads"], dtype=str, keep_default_na=False)
    leads["rep"] = rep_of(leads["owner"])
    leads["q"] = quarter(pd.to_datetime(leads["created_date"]))
    leads["cq"] = quarter(pd.to_datetime(leads["converted_date"].replace("", None)))
    put("lead_to_opp_conversion", (leads["q"] == leads["cq"]).groupby([leads["rep"], leads["q"]]).mean())
    return out


def test_realistic_export_matches_an_independent_computation(tmp_path: Path) -> None:
    reps, paths = realistic_exports(tmp_path)
    with make_store(tmp_path / "spm.db", reps) as store:
        result = import_crm(store, paths["opportunities"], KPIS, activities=paths["activities"],
                            leads=paths["leads"])
        got = {k: v for k, (v, _) in values(store).items()}
    assert result.duplicates == {"opportunities": 450, "activities": 0, "leads": 0}
    expected = independent_kpis(reps, paths)
    assert set(got) == set(expected)
    assert len(expected) > 3000 and {k[2] for k in expected} == {
        "revenue", "deals_won", "win_rate", "avg_deal_size", "sales_cycle_length", "pipeline_generated",
        "quota_attainment", "activities", "meetings_booked", "lead_to_opp_conversion"}
    wrong = [(k, got[k], expected[k]) for k in expected if got[k] != pytest.approx(expected[k], rel=1e-9, abs=1e-9)]
    assert not wrong, wrong[:5]
