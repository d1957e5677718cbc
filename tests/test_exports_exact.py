"""Exports are exact and safe (issue 14, section 3).

Every value the store holds comes back out of every export, in CSV and in JSON, as the same float
(CSV used to round to six significant digits: 1234567.89 became 1.23457e+06). Text cells that a
spreadsheet would run as a formula get a single quote in front in CSV, numbers never do, and JSON
carries the text as it is.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from spm_training.analysis.export import COLUMNS, EXPORTS
from spm_training.catalog import load_kpis, load_skills
from spm_training.cli.main import cli
from spm_training.demo.store import write_store
from spm_training.ingest.sync import ItemRow, ScoreRow
from spm_training.output import FORMULA_STARTS, render, to_csv, to_table
from spm_training.store import open_store

AWKWARD = [1234567.89, 0.1 + 0.2, 1e-7, 123456789012.345, -42.125, 2.5e-12, 0.123456789012345, 7.0]

SKILLS_YML = """\
skills:
  - id: discovery_questioning
    name: Discovery questioning
    kpis: [{id: win_rate, direction: positive}, {id: revenue, direction: positive}]
    threshold: 0.30000000000000004
  - id: qualification
    name: Qualification
    kpis: [{id: win_rate, direction: positive}]
    threshold: 0.7000000000000001
    method: highest
"""

# name, team, manager, crm owner: a formula at the start of each, as a hostile or careless roster has it
REPS = [
    {"id": "ann", "name": "=HYPERLINK(\"http://evil.example\",\"Ann\")", "email": "ann@example.com",
     "team_id": "+East", "manager": "-Mia Boss", "role": "AE", "hire_date": "2026-01-05", "crm_owner": "@ann"},
    {"id": "bob", "name": "Bob Ray", "email": "bob@example.com", "team_id": "+East", "manager": "-Mia Boss",
     "role": "AE", "hire_date": "2026-01-05", "crm_owner": "Bob R."},
    {"id": "-cy", "name": "Cy -1+2", "email": "cy@example.com", "team_id": "West", "manager": "@Lee",
     "role": "AE", "hire_date": "2026-02-02", "crm_owner": None},
]

ITEMS = [ItemRow("a1", "nb", "q1", 123456789012.345, "autograded", ("discovery_questioning",)),
         ItemRow("a1", "nb", "essay", 0.30000000000000004, "manual", ("discovery_questioning", "qualification")),
         ItemRow("a2", "nb", "q1", 1e-7, "autograded", ("qualification",))]

SCORES = [
    ScoreRow("ann", "a1", "nb", "q1", 1234567.89, None, 1e-7, 0, None, "2026-03-01 09:00:00.000000"),
    ScoreRow("ann", "a1", "nb", "essay", None, 0.1 + 0.2, -0.125, 0, "=cmd|' /C calc'!A0",
             "2026-03-01 09:00:00.000000"),
    ScoreRow("ann", "a2", "nb", "q1", 2.5e-12, None, None, 0, "\tlooks empty", "2026-03-08 10:30:00.000000"),
    ScoreRow("bob", "a1", "nb", "q1", 0.123456789012345, None, None, 0, "\rcarriage", "2026-03-02 11:00:00.000000"),
    ScoreRow("bob", "a1", "nb", "essay", None, None, None, 1, "+1 for effort\r\nkeep going",
             "2026-03-02 11:00:00.000000"),
    ScoreRow("-cy", "a1", "nb", "q1", -42.125, None, 1234567.89, 0, "@mention", "2026-03-03 12:00:00.000000"),
]

KPI_VALUES = [
    ("ann", "2026-Q3", "revenue", 1234567.89, 123456789012.345),
    ("ann", "2026-Q3", "win_rate", 0.1 + 0.2, 0.123456789012345),
    ("ann", "2026-Q2", "revenue", -42.125, 1e-7),
    ("bob", "2026-Q3", "revenue", 123456789012.345, 1234567.89),
    ("bob", "2026-Q3", "win_rate", 1e-7, 0.30000000000000004),
    ("-cy", "2026-Q3", "win_rate", 2.5e-12, 7.0),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exports-exact")
    course = folder / "course"
    course.mkdir()
    (course / "skills.yml").write_text(SKILLS_YML)
    kpis = load_kpis(None)
    with open_store(folder / "spm.db") as store:
        write_store(store, reps=REPS, skills=load_skills(course, kpis), kpis=kpis, items=ITEMS, scores=SCORES,
                    kpi_values=KPI_VALUES, kpi_source="kpis.csv")
    return folder


def spm(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(ws / "spm.db"), "--course", str(ws / "course"), *args])
    assert result.exit_code == 0, result.output
    # the bytes written, since Result.output folds a CR LF into LF
    return result.stdout_bytes.decode("utf-8")


def exported(ws: Path, what: str, fmt: str) -> list[dict]:
    """The export read back as a BI tool reads it: JSON as it is; CSV as text, numbers parsed by column."""
    text = spm(ws, "export", what, "--format", fmt)
    if fmt == "json":
        return json.loads(text)
    return list(csv.DictReader(io.StringIO(text)))


def store_rows(ws: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(ws / "spm.db") as conn:
        return [tuple(r) for r in conn.execute(sql)]


def csv_number(text: str) -> float | None:
    return None if text == "" else float(text)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_kpi_values_and_targets_come_back_exactly(ws: Path, fmt: str) -> None:
    rows = exported(ws, "kpis", fmt)
    got = [(r["rep_id"], r["period"], r["kpi"], r["value"], r["target"]) for r in rows]
    if fmt == "csv":
        got = [(rep, period, kpi, csv_number(v), csv_number(t)) for rep, period, kpi, v, t in got]
    # the store as SQLite has it, bit for bit; '-cy' is a text cell and is neutralised in CSV
    stored = store_rows(ws, "SELECT rep_id, period, kpi_id, value, target FROM kpi_values ORDER BY 1, 2, 3")
    expected = [("'" + r[0] if fmt == "csv" and r[0].startswith("-") else r[0], *r[1:]) for r in stored]
    assert got == expected
    assert sorted(v for *_, v, _ in stored) == sorted(v for *_, v, _ in KPI_VALUES)
    # and the attainment of each is value / target to the last bit (all of these KPIs are higher-is-better)
    for row, (*_, value, target) in zip(rows, stored, strict=True):
        assert (csv_number(row["attainment"]) if fmt == "csv" else row["attainment"]) == value / target


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_scores_come_back_exactly(ws: Path, fmt: str) -> None:
    rows = exported(ws, "scores", fmt)
    fields = ("max_score", "auto_score", "manual_score", "extra_credit")
    got = {(r["rep_id"].lstrip("'"), r["assignment"], r["cell"]):
           tuple(csv_number(r[f]) if fmt == "csv" else r[f] for f in fields) for r in rows}
    stored = store_rows(ws, "SELECT s.rep_id, i.assignment, i.cell, i.max_score, s.auto_score, s.manual_score, "
                            "s.extra_credit FROM scores s JOIN items i ON i.id = s.item_id")
    assert got == {(rep, a, c): (m, auto, manual, extra) for rep, a, c, m, auto, manual, extra in stored}
    assert got[("ann", "a1", "essay")] == (0.30000000000000004, None, 0.30000000000000004, -0.125)
    assert got[("ann", "a1", "q1")] == (123456789012.345, 1234567.89, None, 1e-7)


@pytest.mark.parametrize("what", list(EXPORTS))
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_every_export_carries_its_rows_exactly(ws: Path, what: str, fmt: str) -> None:
    """Whatever the export computes (mastery, gaps, attainment...), CSV and JSON give the same values."""
    from spm_training.analysis.export import export_rows
    from spm_training.project import Project

    project = Project.at(None, course_dir=ws / "course", db_path=ws / "spm.db")
    with open_store(ws / "spm.db", create=False) as store:
        rows = export_rows(store, what, project)
    assert rows, f"the store gives no {what} rows to check"
    got = exported(ws, what, fmt)
    assert len(got) == len(rows)
    for row, back in zip(rows, got, strict=True):
        assert list(back) == list(COLUMNS[what])
        for column in COLUMNS[what]:
            value, text = row.get(column), back[column]
            if fmt == "json":
                assert text == value, (what, column)
            elif value is None:
                assert text == "", (what, column)
            elif isinstance(value, bool):
                assert text == str(value), (what, column)
            elif isinstance(value, float):
                assert float(text) == value and text == repr(value), (what, column)
            elif isinstance(value, int):
                assert int(text) == value, (what, column)
            else:
                assert text == ("'" + value if value[:1] in FORMULA_STARTS else value), (what, column)


def test_gaps_csv_keeps_the_stored_threshold_exactly(ws: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(spm(ws, "gaps", "--format", "csv"))))
    thresholds = {r["skill"]: r["threshold"] for r in rows if r["skill"]}
    assert thresholds == {"discovery_questioning": "0.30000000000000004", "qualification": "0.7000000000000001"}


def test_formula_cells_are_neutralised_in_csv_and_left_alone_in_json(ws: Path) -> None:
    reps = list(csv.DictReader(io.StringIO(spm(ws, "export", "reps"))))
    assert [(r["rep_id"], r["name"], r["team"], r["manager"], r["crm_owner"]) for r in reps] == [
        ("ann", "'=HYPERLINK(\"http://evil.example\",\"Ann\")", "'+East", "'-Mia Boss", "'@ann"),
        ("bob", "Bob Ray", "'+East", "'-Mia Boss", "Bob R."),
        ("'-cy", "Cy -1+2", "West", "'@Lee", "")]
    comments = {(r["rep_id"], r["assignment"], r["cell"]): r["comment"]
                for r in csv.DictReader(io.StringIO(spm(ws, "export", "scores")))}
    assert comments == {("ann", "a1", "q1"): "", ("ann", "a1", "essay"): "'=cmd|' /C calc'!A0",
                        ("ann", "a2", "q1"): "'\tlooks empty", ("bob", "a1", "q1"): "'\rcarriage",
                        ("bob", "a1", "essay"): "'+1 for effort\r\nkeep going", ("'-cy", "a1", "q1"): "'@mention"}
    as_json = json.loads(spm(ws, "export", "reps", "--format", "json"))
    assert [(r["name"], r["team"], r["manager"], r["crm_owner"]) for r in as_json] == [
        (REPS[0]["name"], "+East", "-Mia Boss", "@ann"), ("Bob Ray", "+East", "-Mia Boss", "Bob R."),
        ("Cy -1+2", "West", "@Lee", None)]


def test_numbers_are_never_prefixed_and_every_formula_start_is() -> None:
    rows = [{"text": start + "1", "number": -3.5, "count": -2} for start in FORMULA_STARTS]
    lines = list(csv.reader(io.StringIO(to_csv(rows))))
    assert lines == [["text", "number", "count"], ["'=1", "-3.5", "-2"], ["'+1", "-3.5", "-2"],
                     ["'-1", "-3.5", "-2"], ["'@1", "-3.5", "-2"], ["'\t1", "-3.5", "-2"], ["'\r1", "-3.5", "-2"]]
    # JSON is for programs: the text goes as it is
    assert [r["text"] for r in json.loads(render(rows, "json"))] == ["=1", "+1", "-1", "@1", "\t1", "\r1"]


def test_a_numpy_float_is_written_as_a_plain_float() -> None:
    np = pytest.importorskip("numpy")
    assert to_csv([{"x": np.float64(1234567.89), "y": np.float64(0.1) + np.float64(0.2)}]) == \
        "x,y\n1234567.89,0.30000000000000004\n"


def test_the_table_shows_numbers_for_people() -> None:
    rows = [{"v": v} for v in AWKWARD]
    assert to_table(rows).splitlines() == [
        "                 v", "------------------", "      1,234,567.89", "               0.3", "         0.0000001",
        "123,456,789,012.35", "            -42.12", "   0.0000000000025", "            0.1235", "                 7"]


def test_kpis_list_gives_default_targets_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spm_training.project import packaged_kpi_catalog

    (tmp_path / "_config.yml").write_text("title: t\n")
    text = packaged_kpi_catalog().read_text(encoding="utf-8")
    assert text.count("default_target: 9000\n") == 1
    (tmp_path / "kpis.yml").write_text(text.replace("default_target: 9000\n", "default_target: 1234567.89\n"))
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli, ["kpis", "list", "--format", "json"]).output
    targets = {k["id"]: k["default_target"] for k in json.loads(out)}
    assert (targets["cac"], targets["revenue"], targets["win_rate"]) == ("1234567.89", "AE:120000 AM:90000", "0.25")
