"""Issue 14, property-based: whatever roster, KPI file or CRM export a user feeds in, valid or not, either
the import succeeds and then ``spm gaps``, every report kind and every export run, or it exits 1 with
exactly one ``Error:`` line and leaves the store byte-identical.

The files are built from pieces that real exports contain (good values, CRM placeholder dates, foreign
date formats, decimal commas, negative and huge numbers, control characters, unknown reps and KPIs),
written with either separator and any line ending. The examples come from a fixed seed
(``derandomize``), so CI sees the same ones every run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from analysis_data import populated
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spm_training.catalog import ROLES, load_kpis
from spm_training.cli.main import cli
from spm_training.store import open_store

EXAMPLES = 6
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
EXPORTS = ("reps", "kpis", "scores", "mastery", "gaps")


def store_files(folder: Path) -> dict[str, str]:
    """The bytes of the store and of its write-ahead log (an absent log as b"")."""
    return {name: hashlib.sha256(path.read_bytes() if path.is_file() else b"").hexdigest()
            for name in ("spm.db", "spm.db-wal", "spm.db-journal") for path in [folder / name]}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A small populated store (reps, KPI values, items, scores) and its course folder with a gradebook
    that already has the reps, so that a roster import only adds to it."""
    folder = tmp_path_factory.mktemp("properties")
    db, info = populated(folder, n_reps=6)
    roster = info["data"].roster
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "--course", str(folder / "course"), "roster", "import",
                                 str(folder / "roster.csv")])
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    info["reps"] = roster
    return folder, info


# --- the pieces files are made of ------------------------------------------------------------------

# Each pool: values a clean export holds, then those a broken one may. A file is drawn clean (good values
# only: it must import) or rough (any value: it imports or is refused), half and half.
ODD_TEXT = ["", " ", "Ann\x00Lee", "East\x1b[2J", "Mia\x9bRoth", "two\nlines", "tab\there", "=1+1", "Łódź",
            "名前", "x" * 300, "a;b", 'say "hi"', "9" * 5000]
GOOD_DATES = ["2026-01-05", "2025-11-30", "2026-09-01"]
DATES = [*GOOD_DATES, "9999-12-31", "1900-01-01", "0001-01-01", "20260901",
         "2026-W36-2", "05/01/2026", "2026-02-30", "", "junk"]
GOOD_PERIODS = ["2026-Q1", "2026-Q2", "2025-Q4", "2026-03"]
PERIODS = [*GOOD_PERIODS, "9999-Q4", "9999-12", "0000-01", "1999-Q4", "2026-13",
           "Q1-2026", "", "2026-q1"]
GOOD_NUMBERS = ["1", "40", "1200.5", " 7 "]
NUMBERS = [*GOOD_NUMBERS, "0", "-5", "1e400", "nan", "lots", "40,5", "1,200", "", "9" * 400]
GOOD_AMOUNTS = ["1000", "1,200.50", "EUR 900"]
AMOUNTS = [*GOOD_AMOUNTS, "$1,200", "-5", "(300)", "", "abc", "1.200,50", "1e400"]
STATUSES = ["won", "lost", "open", "Won", "pending", ""]


def pick(draw: st.DrawFn, clean: bool, good: list[str], rough: list[str]) -> str:
    return draw(st.sampled_from(good if clean else [*good, *rough]))


def separated(rows: list[list[str]], sep: str, ending: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator=ending).writerows(rows)
    return out.getvalue()


@st.composite
def layout(draw: st.DrawFn) -> tuple[str, str]:
    return draw(st.sampled_from([",", ";"])), draw(st.sampled_from(["\n", "\r\n", "\r"]))


@st.composite
def roster_files(draw: st.DrawFn, reps: list[dict]) -> str:
    clean = draw(st.booleans())
    ids = [r["id"] for r in reps] + ["new.rep"]
    chosen = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=clean))
    rows = [["id", "name", "email", "team", "manager", "role", "hire_date", "crm_owner"]]
    teams = {r["team"]: r["manager"] for r in reps}
    for rep_id in chosen:
        known = next((r for r in reps if r["id"] == rep_id), None)
        team = pick(draw, clean, [known["team"] if known else "Newcomers"], ["", *ODD_TEXT[:6]])
        rows.append([
            rep_id if clean else draw(st.sampled_from([rep_id, "bad id", ""])),
            pick(draw, clean, [known["name"] if known else "New Rep", "Łódź Nowak", "tab\there"], ODD_TEXT),
            known["email"] if known else pick(draw, clean, ["new.rep@example.com"], ["not-an-email"]),
            team,
            pick(draw, clean, [teams.get(team, "Ada Brook")], ["Someone Else", *ODD_TEXT[:6]]),
            pick(draw, clean, [known["role"] if known else "SDR", *ROLES], ["CEO", ""]),
            pick(draw, clean, GOOD_DATES, DATES),
            pick(draw, clean, ["", known["crm_owner"] if known else "New Rep"], ["J. Weber", *ODD_TEXT[:4]]),
        ])
    return separated(rows, *draw(layout()))


@st.composite
def kpi_files(draw: st.DrawFn, reps: list[dict]) -> str:
    clean = draw(st.booleans())
    kpis = list(load_kpis())
    ids = [r["id"] for r in reps]
    keys = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(GOOD_PERIODS)), min_size=1, max_size=5,
                         unique=True))
    if draw(st.booleans()):
        rows = [["rep_id", "period", "kpi", "value", "target"]]
        for rep_id, period in keys:
            rows.append([pick(draw, clean, [rep_id], ["nobody", ""]), pick(draw, clean, [period], PERIODS),
                         pick(draw, clean, [kpis[0]], ["no_such_kpi"]), pick(draw, clean, GOOD_NUMBERS, NUMBERS),
                         pick(draw, clean, [*GOOD_NUMBERS, ""], NUMBERS)])
    else:
        columns = ["revenue", *draw(st.lists(st.sampled_from(kpis[1:4]), max_size=2, unique=True))]
        if not clean:
            columns += draw(st.lists(st.sampled_from(["target_revenue", "target_deals_won", "mystery"]), max_size=2,
                                     unique=True))
        rows = [["rep_id", "period", *columns]]
        for rep_id, period in keys:
            rows.append([pick(draw, clean, [rep_id], ["nobody", ""]), pick(draw, clean, [period], PERIODS),
                         *(pick(draw, clean, GOOD_NUMBERS, NUMBERS) for _ in columns)])
    return separated(rows, *draw(layout()))


@st.composite
def crm_files(draw: st.DrawFn, reps: list[dict]) -> str:
    clean = draw(st.booleans())
    owners = [r["crm_owner"] for r in reps] + [reps[0]["email"]]
    rows = [["id", "owner", "account", "created_date", "close_date", "stage", "amount", "status"]]
    for n in range(draw(st.integers(1, 5))):
        status = pick(draw, clean, ["won", "lost", "open"], STATUSES)
        created = pick(draw, clean, ["2025-10-01", "2026-01-05"], DATES)
        # a clean export's placeholder close dates sit on open deals only
        closed = pick(draw, clean, ["2026-02-01", "2026-04-30", *(["9999-12-31", ""] if status == "open" else [])],
                      DATES)
        rows.append([f"opp-{n}", pick(draw, clean, owners, ["Unknown Owner", ""]),
                     pick(draw, clean, ["Acme", "Birch", "Łódź S.A.", "tab\there"], ODD_TEXT),
                     created, closed, "Stage", pick(draw, clean, GOOD_AMOUNTS, AMOUNTS), status])
    return separated(rows, *draw(layout()))


# --- the property ----------------------------------------------------------------------------------------

def check(base: tuple[Path, dict], command: list[str], text: str) -> None:
    folder, info = base
    with tempfile.TemporaryDirectory() as scratch:
        ws = Path(scratch)
        shutil.copy2(folder / "spm.db", ws / "spm.db")
        shutil.copytree(folder / "course", ws / "course")
        path = ws / "input.csv"
        path.write_text(text, newline="")
        runner = CliRunner()

        def spm(*args: str):
            return runner.invoke(cli, ["--db", str(ws / "spm.db"), "--course", str(ws / "course"), *args])

        before = store_files(ws)
        result = spm(*command, str(path))
        if result.exit_code != 0:
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
            assert result.exit_code == 1, result.output
            lines = result.output.splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
            assert store_files(ws) == before, lines[0]
            return
        rep = info["reps"][0]
        for args in (["gaps"], ["report", "team", rep["team"], "-o", str(ws / "team.html")],
                     ["report", "rep", rep["id"], "-o", str(ws / "rep.html")],
                     ["report", "items", "a1", "-o", str(ws / "items.html")],
                     *(["export", kind] for kind in EXPORTS)):
            after = spm(*args)
            assert after.exit_code == 0, (args, after.output, after.exc_info)


@given(data=st.data())
@SETTINGS
def test_any_roster_is_imported_whole_or_refused_in_one_line(base, data: st.DataObject) -> None:
    check(base, ["roster", "import"], data.draw(roster_files(base[1]["reps"])))


@given(data=st.data())
@SETTINGS
def test_any_kpi_file_is_imported_whole_or_refused_in_one_line(base, data: st.DataObject) -> None:
    check(base, ["kpis", "import"], data.draw(kpi_files(base[1]["reps"])))


@given(data=st.data())
@SETTINGS
def test_any_crm_export_is_imported_whole_or_refused_in_one_line(base, data: st.DataObject) -> None:
    check(base, ["crm", "import"], data.draw(crm_files(base[1]["reps"])))
