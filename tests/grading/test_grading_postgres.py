"""`spm grade` on a PostgreSQL gradebook (several trainers share one): the same rows as on SQLite.

A throwaway PostgreSQL server is started from the Debian server binaries (scripts/test.sh installs
them), the test course's gradebook is moved into it, and the same submissions are graded on both.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import grading_course as gc
import pytest

from spm_training.grading.autograde import grade
from spm_training.grading.sandbox import SandboxUnavailable, find_sandbox

pytestmark = pytest.mark.slow


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its tools as the postgres user."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@pytest.fixture(scope="module")
def postgres():
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed (it is in the test extra)")
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql; scripts/test.sh does)")
    bindir = Path(bins[-1]).parent
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user to run the server as")
    # Not under pytest's temporary folder, which only root may enter when the tests run as root.
    base = Path(tempfile.mkdtemp(prefix="spm-pg-"))
    data, sockets = base / "data", base / "s"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                    "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"),
                                    "-o", f"-k {sockets} -c listen_addresses='' -F", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg2://postgres@/postgres?host={sockets}"
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _move_gradebook(course: Path, url: str) -> None:
    """Copy every row of the course's SQLite gradebook into an empty gradebook at ``url``."""
    from nbgrader.api import Base, Gradebook
    from sqlalchemy import create_engine, select

    from spm_training.nbgrader_io import ensure_env_bin_on_path

    ensure_env_bin_on_path()
    Gradebook(url, "spm-grading-test").close()  # nbgrader's own schema, with its alembic version
    source = create_engine(f"sqlite:///{course / 'gradebook.db'}")
    target = create_engine(url)
    with source.connect() as read, target.begin() as write:
        for table in Base.metadata.sorted_tables:
            rows = [dict(r) for r in read.execute(select(table)).mappings()]
            if table.name == "course":
                rows = [r for r in rows if r["id"] != "spm-grading-test"]
            if rows:
                write.execute(table.insert(), rows)
    source.dispose()
    target.dispose()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, postgres):
    try:
        sandbox = find_sandbox()
    except SandboxUnavailable as exc:
        pytest.skip(f"no sandbox on this machine: {exc.reason} (scripts/test.sh installs bubblewrap)")
    template = gc.course_template(tmp_path_factory)
    work = tmp_path_factory.mktemp("postgres")
    on_sqlite = gc.copy_course(template, work / "sqlite" / "course")
    on_postgres = gc.copy_course(template, work / "postgres" / "course")
    _move_gradebook(on_postgres, postgres)
    for course in (on_sqlite, on_postgres):
        gc.submit(course, "alice", gc.CORRECT)
        gc.submit(course, "bob", {"answer": "answer = 7"}, timestamp=gc.LATE)
    first = grade(on_postgres, gc.ASSIGNMENT, sandbox=sandbox, workers=2, gradebook=postgres)
    grade(on_sqlite, gc.ASSIGNMENT, sandbox=sandbox, workers=2)
    return {"sqlite": on_sqlite, "url": postgres, "first": first, "sandbox": sandbox, "course": on_postgres}


def test_grades_land_in_postgresql_as_they_do_in_sqlite(graded):
    on_postgres = gc.gradebook_state(graded["url"])
    assert on_postgres == gc.gradebook_state(graded["sqlite"])
    scores = {(r[0], r[2]): r[4] for r in on_postgres["grade"]}
    assert scores[("alice", "test_value")] == 2.0 and scores[("bob", "test_value")] == 0.0
    assert {r.student: r.score for r in graded["first"].results} == {"alice": 4.0, "bob": 1.0}


def test_grading_again_updates_the_rows_in_place(graded):
    before = gc.gradebook_state(graded["url"])
    again = grade(graded["course"], gc.ASSIGNMENT, sandbox=graded["sandbox"], workers=2, force=True,
                  gradebook=graded["url"])
    assert [r.status for r in again.results] == ["graded", "graded"]
    after = gc.gradebook_state(graded["url"])
    assert after == before
    assert len(after["grade"]) == 10
