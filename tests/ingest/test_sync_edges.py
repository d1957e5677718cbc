"""spm sync at its edges: a gradebook file that is not SQLite, and an assignment renamed in nbgrader
(issue 14, section 6): one ``Error:`` line instead of a traceback, and a summary that counts the
scores the sync removed."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from gradebooks import Grade, build_gradebook, roster_csv, write_source

from spm_training.catalog import load_kpis, load_skills
from spm_training.cli.main import cli
from spm_training.errors import SpmError
from spm_training.ingest.roster import import_roster
from spm_training.ingest.sync import summary_lines, sync_gradebook
from spm_training.store import open_store

SKILLS_YML = """\
skills:
  - id: discovery_questioning
    name: Discovery questioning
    kpis: [{id: win_rate, direction: positive}]
    pages: [book/handbook/techniques]
    threshold: 0.7
"""
COURSE = {
    "a1": {"nb": [("q1", 2.0, "autograded", ("discovery_questioning",)),
                  ("q2", 3.0, "autograded", ("discovery_questioning",))]},
    "a2": {"nb": [("q1", 1.0, "autograded", ("discovery_questioning",))]},
}
SUBMISSIONS = {
    ("ann", "a1"): ("2026-03-01 09:00:00", {("nb", "q1"): Grade(auto=2.0), ("nb", "q2"): Grade(auto=1.5)}),
    ("bob", "a1"): ("2026-03-02 09:00:00", {("nb", "q1"): Grade(auto=1.0), ("nb", "q2"): Grade(auto=3.0)}),
    ("ann", "a2"): ("2026-03-08 09:00:00", {("nb", "q1"): Grade(auto=1.0)}),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sync-edges")
    course = base / "course"
    course.mkdir()
    (course / "skills.yml").write_text(SKILLS_YML)
    write_source(course, COURSE)
    build_gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE, ["ann", "bob"], SUBMISSIONS)
    return base


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template / "course", tmp_path / "course")
    reps = [("ann", "Ann Lee", "East", "AE"), ("bob", "Bob Ray", "East", "AE")]
    (tmp_path / "roster.csv").write_text(roster_csv(reps))
    with open_store(tmp_path / "spm.db") as store:
        import_roster(store, tmp_path / "roster.csv", None)
    return tmp_path


def sync(ws: Path, url: str | None = None):
    course = ws / "course"
    kpis = load_kpis(None)
    with open_store(ws / "spm.db") as store:
        return sync_gradebook(store, url or f"sqlite:///{course / 'gradebook.db'}", course,
                              load_skills(course, kpis), kpis)


def store_bytes(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(db.parent.glob(db.name + "*"))}


@pytest.mark.parametrize("content", [b"rep_id,score\nann,3\n", bytes(range(256)) * 20,
                                     b"SQLite format 3\x00" + b"\xff" * 4000],
                         ids=["csv", "binary", "broken-sqlite-header"])
def test_a_gradebook_that_is_not_sqlite_is_one_error_line(ws: Path, content: bytes) -> None:
    fake = ws / "gradebook.csv"
    fake.write_bytes(content)
    sync(ws)                                            # the store holds a real sync first
    before = store_bytes(ws / "spm.db")
    args = ["--db", str(ws / "spm.db"), "--course", str(ws / "course"), "sync", "--gradebook", f"sqlite:///{fake}"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.output == (f"Error: {fake}: not a SQLite database, so not an nbgrader gradebook; pass the "
                             "course's gradebook.db (or its URL) with --gradebook\n")
    assert store_bytes(ws / "spm.db") == before


def test_a_sqlite_database_that_is_not_a_gradebook_is_still_named_so(ws: Path) -> None:
    other = ws / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)")
    with pytest.raises(SpmError) as raised:
        sync(ws, f"sqlite:///{other}")
    assert str(raised.value) == (f"{other}: not an nbgrader gradebook (no table assignment); pass the gradebook "
                                 "with --gradebook, or run nbgrader db upgrade in the course")


def _rename_assignment(ws: Path, old: str, new: str) -> None:
    """What a trainer does in nbgrader: the assignment gets a new name, its grades stay."""
    with sqlite3.connect(ws / "course" / "gradebook.db") as gb:
        gb.execute("UPDATE assignment SET name = ? WHERE name = ?", (new, old))
    (ws / "course" / "source" / old).rename(ws / "course" / "source" / new)


def test_a_renamed_assignment_counts_the_scores_it_removed(ws: Path) -> None:
    first = sync(ws)
    assert (first.inserted, first.removed, first.assignments_removed) == (5, 0, ())
    _rename_assignment(ws, "a1", "a1_objections")
    result = sync(ws)
    # a1's four scores went with its items; the same grades came back under the new name
    assert (result.inserted, result.updated, result.unchanged, result.removed) == (4, 0, 1, 4)
    assert result.assignments_removed == (("a1", 4),)
    assert summary_lines(result)[:2] == [
        f"sqlite:///{ws / 'course' / 'gradebook.db'}: 5 grades in 2 assignments, 3 items; scores 4 new, 0 updated, "
        "1 unchanged, 4 removed; 0 awaiting a manual grade",
        "no longer in the gradebook, removed from the store with their scores: 1 assignment: a1 (4 scores); an "
        "assignment renamed in nbgrader is synced under its new name"]
    with open_store(ws / "spm.db") as store:
        left = store.conn.execute("SELECT i.assignment, count(*) FROM scores s JOIN items i ON i.id = s.item_id "
                                  "GROUP BY i.assignment ORDER BY 1").fetchall()
    assert [tuple(r) for r in left] == [("a1_objections", 4), ("a2", 1)]


def test_an_assignment_deleted_in_nbgrader_is_named_with_its_scores(ws: Path) -> None:
    sync(ws)
    with sqlite3.connect(ws / "course" / "gradebook.db") as gb:
        gb.execute("PRAGMA foreign_keys = OFF")
        for table, where in (("grade", "notebook_id IN (SELECT sn.id FROM submitted_notebook sn JOIN notebook n "
                                       "ON n.id = sn.notebook_id JOIN assignment a ON a.id = n.assignment_id "
                                       "WHERE a.name = 'a2')"),
                             ("submitted_notebook", "notebook_id IN (SELECT n.id FROM notebook n JOIN assignment a "
                                                    "ON a.id = n.assignment_id WHERE a.name = 'a2')"),
                             ("submitted_assignment", "assignment_id IN (SELECT id FROM assignment WHERE name = 'a2')"),
                             ("base_cell", "notebook_id IN (SELECT n.id FROM notebook n JOIN assignment a "
                                           "ON a.id = n.assignment_id WHERE a.name = 'a2')"),
                             ("notebook", "assignment_id IN (SELECT id FROM assignment WHERE name = 'a2')"),
                             ("assignment", "name = 'a2'")):
            gb.execute(f"DELETE FROM {table} WHERE {where}")
    result = sync(ws)
    assert (result.removed, result.assignments_removed) == (1, (("a2", 1),))
    assert summary_lines(result)[1] == (
        "no longer in the gradebook, removed from the store with their scores: 1 assignment: a2 (1 score); an "
        "assignment renamed in nbgrader is synced under its new name")
