"""Report file names (issue 14, section 7): one file per team, rep and assignment, valid on every
common filesystem, the same from `spm report` as from write_reports, and one `Error:` line when
`-o` cannot be written."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_data import ROOT, catalogs, course_items
from click.testing import CliRunner

from spm_training.cli.main import cli
from spm_training.demo.store import write_store
from spm_training.ingest.sync import ItemRow
from spm_training.project import Project
from spm_training.reports.build import default_output, write_reports
from spm_training.reports.names import report_name, report_stems, slug
from spm_training.store import open_store

LONG = "Enterprise Accounts " * 15                      # 300 characters
TEAMS = ["Продажи", "Πωλήσεις", "销售团队", "Sales A/B", "Sales A B", "Sales", "sales", "Closers",
         "Équipe Nord", "CON", "Team: West?", " trailing. ", LONG]


def test_names_tell_every_team_apart() -> None:
    stems = report_stems(TEAMS)
    assert stems == {
        "Продажи": "355eef1942", "Πωλήσεις": "3b1a2e9713", "销售团队": "b95948cb98",
        "Sales A/B": "Sales-A-B-e61df5e825", "Sales A B": "Sales-A-B-3607865d60",
        "Sales": "Sales-8de4e0ea73", "sales": "sales-e04eb29020", "Closers": "Closers",
        "Équipe Nord": "Equipe-Nord-d6f96d79d9", "CON": "CON", "Team: West?": "Team-West-4d31f34101",
        " trailing. ": "trailing-e5d40d6c81",
        LONG: "Enterprise-Accounts-Enterprise-Accounts-Enterprise-Accounts-b855124d08"}
    names = [f"team-{s}.html" for s in stems.values()]
    assert len({n.casefold() for n in names}) == len(TEAMS)     # unique on case-insensitive filesystems too
    for name in names:
        assert name.isascii() and len(name.encode()) <= 100
        assert not set(name) & set('<>:"/\\|?* ') and not name.removesuffix(".html").endswith(".")


def test_a_key_that_is_already_a_plain_file_name_stays_as_it_is() -> None:
    assert report_name("rep", "r00042", ["r00041", "r00043"]) == "rep-r00042.html"
    assert report_name("items", "01_kpi_smart") == "items-01_kpi_smart.html"
    # alone, Sales keeps its name; beside a team called sales both get the hash
    assert report_name("team", "Sales") == "team-Sales.html"
    assert report_name("team", "Sales", ["sales", "East"]) == "team-Sales-8de4e0ea73.html"
    assert slug("Ærø Ñandú Łódź straße") == "AEro-Nandu-Lodz-strasse" and slug("销售") == ""


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-names")
    skills, kpis = catalogs()
    reps = [{"id": f"r{i:02d}", "name": f"Rep {i}", "email": f"r{i}@example.com", "team_id": team,
             "manager": "Mia", "role": "AE", "hire_date": "2026-01-05"} for i, team in enumerate(TEAMS)]
    reps.append({"id": "Ann/Lee", "name": "Ann Lee", "email": "ann@example.com", "team_id": "Closers",
                 "manager": "Mia", "role": "AE", "hire_date": "2026-01-05"})
    items = [ItemRow(*i) for i in course_items(skills)][:2]
    items.append(ItemRow("Übung 1", "nb", "q1", 1.0, "autograded", ()))
    with open_store(folder / "spm.db") as store:
        write_store(store, reps=reps, skills=skills, kpis=kpis, items=items)
    (folder / "course").mkdir()
    (folder / "course" / "skills.yml").write_text((ROOT / "assessments" / "skills.yml").read_text())
    return folder


def project(ws: Path) -> Project:
    return Project.at(ROOT, course_dir=ws / "course", db_path=ws / "spm.db")


def test_write_reports_writes_one_file_per_key_and_the_index_links_them(ws: Path, tmp_path: Path) -> None:
    with open_store(ws / "spm.db") as store:
        paths = write_reports(store, tmp_path / "out", project(ws))
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    # the index, a report per team, per rep (Ann/Lee too) and per assignment (a1 and Übung 1), the hiring and
    # impact pages
    assert len(files) == len(paths) == 1 + len(TEAMS) + (len(TEAMS) + 1) + 2 + 2
    assert sorted(p.name for p in paths) == files
    assert "team-355eef1942.html" in files and "team-Closers.html" in files
    assert "rep-Ann-Lee-19c5fce426.html" in files and "items-Ubung-1-3aae807115.html" in files
    index = paths[0].read_text()
    for name in files:
        if name != "index.html":
            assert f'href="{name}"' in index


def spm(ws: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(ws / "spm.db"), "--course", str(ws / "course"), *args])


@pytest.mark.parametrize("team", ["Продажи", "Sales A/B", "sales", "Closers"])
def test_spm_report_writes_the_name_write_reports_gives(ws: Path, team: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(ws / "spm.db") as store:
        written = {p.name for p in write_reports(store, tmp_path / "all", project(ws))}
    monkeypatch.chdir(tmp_path)                 # no project here: the default is ./reports/
    result = spm(ws, "report", "team", team)
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().removeprefix("wrote "))
    assert path.parent == tmp_path / "reports" and path.is_file()
    assert path.name in written
    assert path == default_output(Project.find(db=ws / "spm.db"), "team", team, TEAMS)


def test_a_300_character_team_gets_a_report_by_default(ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--db", str(ws / "spm.db"), "--course", str(ws / "course"),
                                      "report", "team", LONG])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().removeprefix("wrote "))
    assert path.name == "team-Enterprise-Accounts-Enterprise-Accounts-Enterprise-Accounts-b855124d08.html"
    assert path.is_file()


def test_an_output_under_a_file_or_in_proc_is_one_error_line(ws: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    under = spm(ws, "report", "team", "Closers", "-o", str(notes / "team.html"))
    assert (under.exit_code, under.output) == (1, f"Error: {notes / 'team.html'}: cannot write here: {notes} is "
                                                  "a file, not a folder; choose another file with -o\n")
    assert notes.read_text() == "mine"
    export = spm(ws, "export", "reps", "-o", str(notes / "deeper" / "reps.csv"))
    assert (export.exit_code, export.output) == (1, f"Error: {notes / 'deeper' / 'reps.csv'}: cannot write here: "
                                                    f"{notes} is a file, not a folder; choose another file with -o\n")
    if Path("/proc/self").is_dir():
        proc = spm(ws, "report", "team", "Closers", "-o", "/proc/team.html")
        assert (proc.exit_code, proc.output) == (1, "Error: /proc/team.html: cannot write here: the folder /proc "
                                                    "takes no new files; choose another file with -o\n")
