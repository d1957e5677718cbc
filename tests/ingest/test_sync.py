"""spm sync: nbgrader's gradebook into the store, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from gradebooks import Grade, build_gradebook, roster_csv, set_grades, write_source

from spm_training.analysis.export import export_rows
from spm_training.catalog import load_kpis, load_skills
from spm_training.cli.main import cli
from spm_training.course import read_items
from spm_training.errors import SpmError
from spm_training.ingest import sync as sync_module
from spm_training.ingest.roster import import_roster
from spm_training.ingest.sync import CatalogWrite, ItemRow, ScoreRow, sync_gradebook, write_catalog, write_scores
from spm_training.nbgrader_io import ensure_env_bin_on_path
from spm_training.project import Project
from spm_training.store import open_store

SKILLS_YML = """\
skills:
  - id: discovery_questioning
    name: Discovery questioning
    kpis: [{id: win_rate, direction: positive}]
    pages: [book/handbook/techniques]
    threshold: 0.7
  - id: qualification
    name: Qualification
    kpis: [{id: win_rate, direction: positive}, {id: sales_cycle_length, direction: positive}]
    pages: [book/sdr/qualification]
    threshold: 0.7
    method: highest
"""

COURSE = {
    "a1": {"nb": [("q1", 2.0, "autograded", ("discovery_questioning",)),
                  ("essay", 4.0, "manual", ("discovery_questioning", "qualification")),
                  ("plan", 3.0, "task", ("qualification",))]},
    "a2": {"nb": [("q1", 1.0, "autograded", ("qualification",)),
                  ("q2", 5.0, "autograded", ("no_such_skill",))]},
}
SUBMISSIONS = {
    ("ann", "a1"): ("2026-03-01 09:00:00", {
        ("nb", "q1"): Grade(auto=2.0),
        ("nb", "essay"): Grade(auto=None, manual=3.0, extra=0.5, comment="Good questions; dig into impact."),
        ("nb", "plan"): Grade(manual=2.0, comment="Name the next step.")}),
    ("ann", "a2"): ("2026-03-08 10:30:00", {("nb", "q1"): Grade(auto=0.0), ("nb", "q2"): Grade(auto=5.0)}),
    ("bob", "a1"): ("2026-03-02 11:00:00", {
        ("nb", "q1"): Grade(auto=1.0),
        ("nb", "essay"): Grade(auto=None, needs_manual=True),     # still waiting for the trainer
        ("nb", "plan"): Grade(manual=3.0)}),
    ("zed", "a1"): ("2026-03-03 12:00:00", {("nb", "q1"): Grade(auto=2.0)}),
}
ROSTER = roster_csv([("ann", "Ann Lee", "East", "AE"), ("bob", "Bob Ray", "East", "AE")])

EXPECTED_SCORES = [
    # rep, assignment, cell, auto, manual, extra, needs manual grade, comment, submitted at
    ("ann", "a1", "q1", 2.0, None, None, 0, None, "2026-03-01 09:00:00.000000"),
    ("ann", "a1", "essay", None, 3.0, 0.5, 0, "Good questions; dig into impact.", "2026-03-01 09:00:00.000000"),
    ("ann", "a1", "plan", None, 2.0, None, 0, "Name the next step.", "2026-03-01 09:00:00.000000"),
    ("ann", "a2", "q1", 0.0, None, None, 0, None, "2026-03-08 10:30:00.000000"),
    ("ann", "a2", "q2", 5.0, None, None, 0, None, "2026-03-08 10:30:00.000000"),
    ("bob", "a1", "q1", 1.0, None, None, 0, None, "2026-03-02 11:00:00.000000"),
    ("bob", "a1", "essay", None, None, None, 1, None, "2026-03-02 11:00:00.000000"),
    ("bob", "a1", "plan", None, 3.0, None, 0, None, "2026-03-02 11:00:00.000000"),
]


def make_course(folder: Path) -> Path:
    course = folder / "course"
    course.mkdir(parents=True)
    (course / "skills.yml").write_text(SKILLS_YML)
    write_source(course, COURSE)
    return course


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course with its SQLite gradebook, built once through nbgrader's API (that takes seconds)."""
    base = tmp_path_factory.mktemp("sync-template")
    course = make_course(base)
    build_gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE, ["ann", "bob", "zed"], SUBMISSIONS)
    return base


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template / "course", tmp_path / "course")
    (tmp_path / "roster.csv").write_text(ROSTER)
    with open_store(tmp_path / "spm.db") as store:
        import_roster(store, tmp_path / "roster.csv", None)
    return tmp_path


def run_sync(ws: Path, url: str | None = None):
    course = ws / "course"
    kpis = load_kpis(None)
    with open_store(ws / "spm.db") as store:
        return sync_gradebook(store, url or f"sqlite:///{course / 'gradebook.db'}", course,
                              load_skills(course, kpis), kpis)


def score_rows(db: Path) -> list[tuple]:
    with open_store(db) as store:
        rows = store.conn.execute(
            "SELECT s.rep_id, i.assignment, i.cell, s.auto_score, s.manual_score, s.extra_credit, "
            "s.needs_manual_grade, s.comment, s.submitted_at FROM scores s JOIN items i ON i.id = s.item_id "
            "ORDER BY s.rep_id, i.id").fetchall()
    return [tuple(r) for r in rows]


def store_dump(db: Path) -> list[tuple]:
    """Every table of the store except the score-independent rosters, as sorted rows."""
    with open_store(db) as store:
        out = []
        for table in ("items", "item_skills", "scores", "skills", "skill_kpis", "skill_pages", "kpis"):
            out.append((table, sorted(tuple(r) for r in store.conn.execute(f"SELECT * FROM {table}"))))
        return out


def test_sync_writes_every_score_with_its_parts(ws: Path) -> None:
    result = run_sync(ws)
    assert score_rows(ws / "spm.db") == EXPECTED_SCORES
    assert (result.grades, result.inserted, result.updated, result.unchanged, result.removed) == (11, 8, 0, 0, 0)
    assert (result.assignments, result.items, result.needs_manual_grade) == (2, 5, 1)


def test_items_mirror_the_gradebook_with_skills_from_the_source(ws: Path) -> None:
    result = run_sync(ws)
    with open_store(ws / "spm.db") as store:
        items = store.query("SELECT assignment, notebook, cell, max_score, kind FROM items ORDER BY id")
        tags = store.query("SELECT i.assignment, i.cell, t.skill_id FROM item_skills t JOIN items i "
                           "ON i.id = t.item_id ORDER BY i.id, t.skill_id")
    assert items == [
        {"assignment": "a1", "notebook": "nb", "cell": "q1", "max_score": 2.0, "kind": "autograded"},
        {"assignment": "a1", "notebook": "nb", "cell": "essay", "max_score": 4.0, "kind": "manual"},
        {"assignment": "a1", "notebook": "nb", "cell": "plan", "max_score": 3.0, "kind": "task"},
        {"assignment": "a2", "notebook": "nb", "cell": "q1", "max_score": 1.0, "kind": "autograded"},
        {"assignment": "a2", "notebook": "nb", "cell": "q2", "max_score": 5.0, "kind": "autograded"}]
    assert [(t["assignment"], t["cell"], t["skill_id"]) for t in tags] == [
        ("a1", "q1", "discovery_questioning"), ("a1", "essay", "discovery_questioning"),
        ("a1", "essay", "qualification"), ("a1", "plan", "qualification"), ("a2", "q1", "qualification")]
    assert result.unknown_skills == ("no_such_skill",)


def test_a_student_missing_from_the_roster_is_reported(ws: Path) -> None:
    result = run_sync(ws)
    assert result.unknown_students == ("zed",)
    assert result.unknown_grades == 3
    assert "zed" not in {row[0] for row in score_rows(ws / "spm.db")}
    lines = sync_module.summary_lines(result)
    assert lines[1] == ("not in the roster, not synced: 1 students with 3 grades (zed); "
                        "add them with spm roster import")


def test_resync_of_an_unchanged_gradebook_changes_nothing(ws: Path) -> None:
    run_sync(ws)
    before = store_dump(ws / "spm.db")
    watcher = sqlite3.connect(ws / "spm.db")
    version = watcher.execute("PRAGMA data_version").fetchone()[0]
    result = run_sync(ws)
    # data_version moves when another connection commits a change to the file; it must not.
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
    watcher.close()
    assert store_dump(ws / "spm.db") == before
    assert (result.inserted, result.updated, result.unchanged, result.removed, result.items_changed) == (0, 0, 8, 0, 0)
    assert not result.changed
    assert sync_module.summary_lines(result)[-1] == "the store already matched the gradebook: nothing changed"


def test_a_regraded_cell_and_a_removed_submission_update_the_store(ws: Path) -> None:
    run_sync(ws)
    ensure_env_bin_on_path()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{ws / 'course' / 'gradebook.db'}") as gb:
        set_grades(gb, "bob", "a1", {("nb", "essay"): Grade(manual=4.0, comment="Much better.")})
        gb.remove_submission("a2", "ann")
    result = run_sync(ws)
    assert (result.inserted, result.updated, result.removed) == (0, 1, 2)
    rows = score_rows(ws / "spm.db")
    assert ("bob", "a1", "essay", None, 4.0, None, 0, "Much better.", "2026-03-02 11:00:00.000000") in rows
    assert [r for r in rows if r[1] == "a2"] == []


def test_a_failed_sync_leaves_the_store_as_it_was(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_sync(ws)
    before = store_dump(ws / "spm.db")
    ensure_env_bin_on_path()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{ws / 'course' / 'gradebook.db'}") as gb:
        set_grades(gb, "ann", "a1", {("nb", "q1"): Grade(auto=0.0)})

    def broken(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sync_module, "_sync_scores", broken)
    with pytest.raises(sqlite3.OperationalError):
        run_sync(ws)
    assert store_dump(ws / "spm.db") == before


def test_the_generic_path_gives_the_same_store_as_the_attached_one(ws: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    run_sync(ws)
    attached = store_dump(ws / "spm.db")
    other = tmp_path_factory.mktemp("generic")
    shutil.copytree(ws / "course", other / "course")
    (other / "roster.csv").write_text(ROSTER)
    with open_store(other / "spm.db") as store:
        import_roster(store, other / "roster.csv", None)
    monkeypatch.setattr(sync_module, "sqlite_path", lambda url: None)
    result = run_sync(other)
    assert result.inserted == 8
    assert store_dump(other / "spm.db") == attached


def test_errors_name_the_gradebook_and_the_fix(ws: Path) -> None:
    with pytest.raises(sync_module.SpmError) as missing:
        run_sync(ws, f"sqlite:///{ws / 'nothing.db'}")
    assert str(missing.value) == (f"{ws / 'nothing.db'}: no gradebook here; run nbgrader (generate_assignment, "
                                  "autograde) in the course first, or pass --gradebook URL")
    (ws / "other.db").write_bytes(b"")
    sqlite3.connect(ws / "other.db").execute("CREATE TABLE t (x)")
    with pytest.raises(sync_module.SpmError) as wrong:
        run_sync(ws, f"sqlite:///{ws / 'other.db'}")
    assert str(wrong.value) == (f"{ws / 'other.db'}: not an nbgrader gradebook (no table assignment); pass the "
                                "gradebook with --gradebook, or run nbgrader db upgrade in the course")
    with pytest.raises(sync_module.SpmError) as bad_url:
        run_sync(ws, "not a url")
    assert str(bad_url.value).startswith("not a url: not a database URL")


def test_cli_sync_prints_the_outcome(ws: Path) -> None:
    args = ["--db", str(ws / "spm.db"), "--course", str(ws / "course"), "sync"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    url = f"sqlite:///{(ws / 'course' / 'gradebook.db').resolve()}"
    assert first.output.splitlines()[0] == (
        f"{url}: 11 grades in 2 assignments, 5 items; scores 8 new, 0 updated, 0 unchanged, 0 removed; "
        "1 awaiting a manual grade")
    second = CliRunner().invoke(cli, args)
    assert second.output.splitlines()[-1] == "the store already matched the gradebook: nothing changed"
    missing = CliRunner().invoke(cli, args + ["--gradebook", f"sqlite:///{ws / 'none.db'}"])
    assert missing.exit_code == 1
    assert missing.output.startswith(f"Error: {ws / 'none.db'}: no gradebook here")


def test_export_scores_has_the_contract_columns(ws: Path) -> None:
    run_sync(ws)
    with open_store(ws / "spm.db") as store:
        rows = export_rows(store, "scores", Project.at(ws, course_dir=ws / "course", db_path=ws / "spm.db"))
    assert list(rows[0])[:8] == ["rep_id", "assignment", "notebook", "cell", "max_score", "score",
                                 "needs_manual_grade", "skills"]
    essay = next(r for r in rows if r["rep_id"] == "ann" and r["cell"] == "essay")
    assert (essay["score"], essay["max_score"], essay["needs_manual_grade"], essay["skills"]) == (
        3.5, 4.0, False, "discovery_questioning qualification")
    pending = next(r for r in rows if r["rep_id"] == "bob" and r["cell"] == "essay")
    assert (pending["score"], pending["needs_manual_grade"]) == (0.0, True)


# --- PostgreSQL --------------------------------------------------------------------------------------

def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url() -> str:
    """A throwaway PostgreSQL cluster on 127.0.0.1, owned by a non-root user (postgres refuses root)."""
    bin_dir = _postgres_bin()
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if bin_dir is None or not (bin_dir / name).exists()]
    if missing:
        pytest.skip(f"PostgreSQL server binaries not found ({', '.join(missing)}); "
                    "install the Debian package postgresql (scripts/test.sh does)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.skip("psycopg2 is not installed (pip install -e '.[test]')")
    run_as: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        run_as = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="spm-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if run_as:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "spm", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
                    f"-h 127.0.0.1 -p {port} -k {sock} -F", "start"], check=True, capture_output=True)
    try:
        deadline = time.time() + 30
        import psycopg2

        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=port, user="spm", dbname="postgres")
                break
            except psycopg2.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql+psycopg2://spm@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_sync_from_postgresql_matches_sqlite(postgres_url: str, ws: Path,
                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    run_sync(ws)
    from_sqlite = store_dump(ws / "spm.db")
    other = tmp_path_factory.mktemp("pg")
    make_course(other)
    build_gradebook(postgres_url, COURSE, ["ann", "bob", "zed"], SUBMISSIONS)
    (other / "roster.csv").write_text(ROSTER)
    with open_store(other / "spm.db") as store:
        import_roster(store, other / "roster.csv", None)
    result = run_sync(other, postgres_url)
    assert result.gradebook == postgres_url
    assert (result.inserted, result.unknown_students) == (8, ("zed",))
    assert score_rows(other / "spm.db") == EXPECTED_SCORES
    assert store_dump(other / "spm.db") == from_sqlite
    again = run_sync(other, postgres_url)
    assert not again.changed
    ensure_env_bin_on_path()
    from nbgrader.api import Gradebook

    with Gradebook(postgres_url) as gb:
        set_grades(gb, "bob", "a1", {("nb", "essay"): Grade(manual=1.5)})
    regraded = run_sync(other, postgres_url)
    assert (regraded.updated, regraded.needs_manual_grade) == (1, 0)


def test_a_changed_skills_catalog_is_a_change(ws: Path) -> None:
    run_sync(ws)
    catalog = ws / "course" / "skills.yml"
    catalog.write_text(catalog.read_text().replace("threshold: 0.7\n    method: highest", "threshold: 0.8\n"
                                                   "    method: highest"))
    result = run_sync(ws)
    assert (result.inserted, result.updated, result.items_changed, result.catalog_changes) == (0, 0, 0, 1)
    assert result.changed
    with open_store(ws / "spm.db") as store:
        assert store.query("SELECT threshold, method FROM skills WHERE id = 'qualification'") == [
            {"threshold": 0.8, "method": "highest"}]


def test_spm_sync_does_not_import_pandas_or_sqlalchemy_for_a_sqlite_gradebook(ws: Path) -> None:
    """A sync is a fraction of a second of SQL; importing pandas (0.3 s) or SQLAlchemy would be most
    of the command's time (benchmarks/sync.py). This runs the real command and lists what it loaded."""
    import sys

    probe = ("import sys, runpy\n"
             f"sys.argv = ['spm', '--db', {str(ws / 'spm.db')!r}, '--course', {str(ws / 'course')!r}, 'sync']\n"
             "try:\n"
             "    runpy.run_module('spm_training.cli.main', run_name='__main__')\n"
             "except SystemExit as end:\n"
             "    assert not end.code, end.code\n"
             "print('LOADED', ' '.join(m for m in ('pandas', 'sqlalchemy', 'sqlite_utils', 'nbgrader') "
             "if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ws, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "scores " in done.stdout and " new," in done.stdout      # the sync ran and wrote scores
    assert done.stdout.splitlines()[-1].split() == ["LOADED"]


# --- the public writers under the sync (the store builder of the demo, the tests and the benchmarks) ---

def test_write_catalog_is_what_a_sync_writes(ws: Path) -> None:
    """The items a sync wrote, given again to write_catalog with their source tags, change nothing."""
    run_sync(ws)
    course = ws / "course"
    kpis = load_kpis(None)
    skills = load_skills(course, kpis)
    tags = {item.key: item.skills for item in read_items(course)}
    before = store_dump(ws / "spm.db")
    with open_store(ws / "spm.db") as store:
        items = [ItemRow(r["assignment"], r["notebook"], r["cell"], r["max_score"], r["kind"],
                         tags[(r["assignment"], r["notebook"], r["cell"])])
                 for r in store.query("SELECT * FROM items ORDER BY id")]
        written = write_catalog(store, skills, kpis, items)
    assert written == CatalogWrite(catalog_changes=0, items_changed=0, unknown_skills=("no_such_skill",))
    assert store_dump(ws / "spm.db") == before
    with open_store(ws / "spm.db") as store:       # an item left out goes, with its scores
        written = write_catalog(store, skills, kpis, [i for i in items if i.cell != "plan"])
        assert store.query("SELECT count(*) AS n FROM scores s JOIN items i ON i.id = s.item_id "
                           "WHERE i.cell = 'plan'") == [{"n": 0}]
    assert written.items_changed == 4               # the item, and by cascade its skill link and two scores


def test_write_scores_upserts_by_item_key_and_keeps_the_rest(ws: Path) -> None:
    course = ws / "course"
    kpis = load_kpis(None)
    with open_store(ws / "spm.db") as store:
        write_catalog(store, load_skills(course, kpis), kpis, read_items(course))
        first = write_scores(store, [ScoreRow("ann", "a1", "nb", "q1", auto_score=2.0),
                                     ScoreRow("bob", "a1", "nb", "essay", needs_manual_grade=True)])
        again = write_scores(store, [ScoreRow("ann", "a1", "nb", "q1", auto_score=2.0),
                                     ScoreRow("bob", "a1", "nb", "essay", manual_score=3.0, comment="Good."),
                                     ScoreRow("bob", "a2", "nb", "q1", auto_score=1.0)])
        assert (first.rows, first.inserted, first.updated, first.unchanged) == (2, 2, 0, 0)
        assert (again.rows, again.inserted, again.updated, again.unchanged) == (3, 1, 1, 1)
        assert write_scores(store, [ScoreRow("ann", "a2", "nb", "q2", auto_score=5.0)]).inserted == 1
        assert [tuple(r) for r in store.conn.execute(
            "SELECT s.rep_id, i.cell, s.auto_score, s.manual_score, s.needs_manual_grade, s.comment FROM scores s "
            "JOIN items i ON i.id = s.item_id ORDER BY s.rep_id, i.id")] == [
            ("ann", "q1", 2.0, None, 0, None), ("ann", "q2", 5.0, None, 0, None),
            ("bob", "essay", None, 3.0, 0, "Good."), ("bob", "q1", 1.0, None, 0, None)]
        with pytest.raises(SpmError, match=r"^no item a1/nb/q9 in the store; write the items first"):
            write_scores(store, [ScoreRow("ann", "a1", "nb", "q9", auto_score=1.0)])
        with pytest.raises(SpmError, match=r"^no rep 'zed' in the store; write the roster first"):
            write_scores(store, [ScoreRow("zed", "a1", "nb", "q1", auto_score=1.0)])
        assert store.query("SELECT count(*) AS n FROM scores") == [{"n": 4}]      # a refused write wrote nothing
