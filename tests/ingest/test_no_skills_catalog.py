"""An existing nbgrader course with no skills catalog (issue 14, section 8): spm sync, the item
report and the exports work without skills.yml (skills are then empty, and sync says so once), and
`spm skills init` starts a catalog from the cells' skill tags, or a commented template."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from gradebooks import Grade, build_gradebook, roster_csv, write_source

from spm_training.catalog import load_skills
from spm_training.catalog_init import starting_catalog
from spm_training.cli.main import cli
from spm_training.course import read_items

COURSE = {
    "a1": {"nb": [("q1", 2.0, "autograded", ("discovery_questioning",)),
                  ("essay", 4.0, "manual", ("objection_handling", "discovery_questioning"))]},
    "a2": {"nb": [("q1", 1.0, "autograded", ("objection_handling",))]},
}
SUBMISSIONS = {
    ("ann", "a1"): ("2026-03-01 09:00:00", {("nb", "q1"): Grade(auto=2.0),
                                            ("nb", "essay"): Grade(manual=3.0, comment="Name the cost of waiting.")}),
    ("bob", "a2"): ("2026-03-02 09:00:00", {("nb", "q1"): Grade(auto=1.0)}),
}

EXPECTED_CATALOG = """\
skills:
  - id: "discovery_questioning"
    name: "Discovery questioning"
    description: "Measured by 2 graded cells in a1."
    kpis: []
    pages: []
    threshold: 0.7
    method: decaying_average
  - id: "objection_handling"
    name: "Objection handling"
    description: "Measured by 2 graded cells in a1, a2."
    kpis: []
    pages: []
    threshold: 0.7
    method: decaying_average
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain nbgrader course: source notebooks with skill tags and a gradebook, no skills.yml."""
    base = tmp_path_factory.mktemp("plain-course")
    course = base / "course"
    course.mkdir()
    write_source(course, COURSE)
    build_gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE, ["ann", "bob"], SUBMISSIONS)
    return base


@pytest.fixture
def ws(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(template / "course", tmp_path / "course")
    reps = [("ann", "Ann Lee", "East", "AE"), ("bob", "Bob Ray", "East", "AE")]
    (tmp_path / "roster.csv").write_text(roster_csv(reps))
    monkeypatch.chdir(tmp_path)                 # no _config.yml here: no project root, no book
    assert spm(tmp_path, "roster", "import", "roster.csv").exit_code == 0
    return tmp_path


def spm(ws: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(ws / "spm.db"), "--course", str(ws / "course"), *args])


def test_sync_without_a_catalog_syncs_the_scores_and_says_so_once(ws: Path) -> None:
    result = spm(ws, "sync")
    assert result.exit_code == 0, result.output
    url = f"sqlite:///{(ws / 'course' / 'gradebook.db').resolve()}"
    assert result.output.splitlines() == [
        f"{url}: 3 grades in 2 assignments, 3 items; scores 3 new, 0 updated, 0 unchanged, 0 removed; "
        "0 awaiting a manual grade",
        f"note: no skills.yml in {ws / 'course'}: scores are synced without skills; run `spm skills init` to "
        "start a catalog"]
    with sqlite3.connect(ws / "spm.db") as db:
        assert db.execute("SELECT count(*) FROM skills").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM item_skills").fetchone()[0] == 0
    again = spm(ws, "sync")
    assert again.output.splitlines()[1:] == [
        f"note: no skills.yml in {ws / 'course'}: scores are synced without skills; run `spm skills init` to "
        "start a catalog", "the store already matched the gradebook: nothing changed"]


def test_the_item_report_gaps_and_exports_work_without_a_catalog(ws: Path) -> None:
    assert spm(ws, "sync").exit_code == 0
    items = spm(ws, "report", "items", "a1", "-o", str(ws / "items.html"))
    assert (items.exit_code, items.output) == (0, f"wrote {ws / 'items.html'}\n")
    assert "essay" in (ws / "items.html").read_text()
    scores = list(csv.DictReader(io.StringIO(spm(ws, "export", "scores").output)))
    assert [(r["rep_id"], r["assignment"], r["cell"], r["score"], r["skills"], r["comment"]) for r in scores] == [
        ("ann", "a1", "q1", "2.0", "", ""), ("ann", "a1", "essay", "3.0", "", "Name the cost of waiting."),
        ("bob", "a2", "q1", "1.0", "", "")]
    assert spm(ws, "export", "mastery").output == (
        "rep_id,team,skill,method,mastery,threshold,mastered,graded,pending,reached,last_submitted\n")
    assert spm(ws, "export", "gaps", "--format", "json").output == "[]\n"
    gaps = spm(ws, "gaps")
    assert gaps.exit_code == 0, gaps.output
    for kind, key in (("team", "East"), ("rep", "ann")):
        report = spm(ws, "report", kind, key, "-o", str(ws / f"{kind}.html"))
        assert report.exit_code == 0, report.output


def test_skills_init_writes_a_catalog_from_the_tags_that_passes_the_check(ws: Path) -> None:
    result = spm(ws, "skills", "init")
    path = ws / "course" / "skills.yml"
    assert (result.exit_code, result.output) == (
        0, f"wrote {path}: 2 skills from the course's tags; add KPIs and pages, then run spm skills check\n")
    text = path.read_text()
    assert text.startswith("# The skills this course measures")
    assert text[text.index("skills:\n"):] == EXPECTED_CATALOG
    check = spm(ws, "skills", "check")
    assert (check.exit_code, check.output) == (0, "2 skills, 3 graded items: consistent\n")
    # the next sync takes the skills from it, and says nothing more about a missing catalog
    synced = spm(ws, "sync")
    assert synced.exit_code == 0 and "note:" not in synced.output
    with sqlite3.connect(ws / "spm.db") as db:
        assert db.execute("SELECT id FROM skills ORDER BY id").fetchall() == [("discovery_questioning",),
                                                                               ("objection_handling",)]
        assert db.execute("SELECT count(*) FROM item_skills").fetchone()[0] == 4


def test_skills_init_never_overwrites_a_catalog(ws: Path) -> None:
    path = ws / "course" / "skills.yml"
    path.write_text("skills: []\n# mine\n")
    result = spm(ws, "skills", "init")
    assert (result.exit_code, result.output) == (
        1, f"Error: {path}: a skills catalog is already here; spm skills init does not overwrite it; edit it, or "
           "move it away first\n")
    assert path.read_text() == "skills: []\n# mine\n"


def test_a_course_without_skill_tags_gets_a_commented_template(ws: Path) -> None:
    untagged = {"a1": {"nb": [("q1", 2.0, "autograded", ())]}}
    shutil.rmtree(ws / "course" / "source")
    write_source(ws / "course", untagged)
    result = spm(ws, "skills", "init")
    path = ws / "course" / "skills.yml"
    assert (result.exit_code, result.output) == (
        0, f"wrote {path}: a commented template (no skill tags found); add KPIs and pages, then run spm skills "
           "check\n")
    text = path.read_text()
    assert text.endswith("#    method: decaying_average\nskills: []\n")
    assert "#  - id: discovery_questioning\n" in text
    assert load_skills(ws / "course", None) == {}
    check = spm(ws, "skills", "check")
    assert (check.exit_code, check.output.splitlines()) == (1, [
        f"{ws / 'course' / 'source' / 'a1' / 'nb.ipynb'}: cell 'q1' names no skill; add a tag skill:<id> "
        "(ids from skills.yml)", "Error: 1 problems in the skills catalog, course or book"])


def test_the_starting_catalog_quotes_what_yaml_would_misread(tmp_path: Path) -> None:
    write_source(tmp_path, {"a1": {"nb": [("q1", 1.0, "autograded", ("yes", "x:y", "#1"))]}})
    catalog = tmp_path / "skills.yml"
    catalog.write_text(starting_catalog(read_items(tmp_path), "source"))
    assert {s.id: s.name for s in load_skills(tmp_path, None).values()} == {"yes": "Yes", "x:y": "X:y", "#1": "#1"}
