"""Issue 14, section 5: a roster import writes two databases, the gradebook and the store, with no
transaction around both. The gradebook commits first; a process killed (kill -9) between the two
commits leaves only extra students in the gradebook, and importing the same roster again makes the two
agree. Killed before the gradebook's commit, neither side has anything."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from spm_training.store import open_store

N_REPS = 400
pytestmark = pytest.mark.slow      # nbgrader creates the gradebook (alembic) in each import

#: spm roster import, with nbgrader's registration wrapped so that the process SIGKILLs itself at the
#: chosen moment: "after" the gradebook committed (before the store does), or "before" it commits.
KILLING_SPM = """
import os, signal, sys
import spm_training.ingest.roster as roster
from spm_training.nbgrader_io import register_students

moment = os.environ["KILL_AT"]

def register_then_die(url, reps):
    if moment == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    count = register_students(url, reps)
    os.kill(os.getpid(), signal.SIGKILL)
    return count

roster.register_students = register_then_die
from spm_training.cli import main
sys.argv = ["spm", *sys.argv[1:]]
main()
"""

PLAIN_SPM = "import sys\nfrom spm_training.cli import main\nsys.argv = ['spm', *sys.argv[1:]]\nmain()"


def write_roster(path: Path) -> None:
    lines = ["id,name,email,team,manager,role,hire_date"]
    for i in range(N_REPS):
        lines.append(f"rep{i:04d},Rep Number{i},rep{i:04d}@example.com,Team {i % 7},Manager {i % 7},"
                     f"{('SDR', 'AE', 'AM')[i % 3]},2026-0{1 + i % 9}-15")
    path.write_text("\n".join(lines) + "\n")


def spm(tmp: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    code = KILLING_SPM if kill_at else PLAIN_SPM
    env = {**os.environ, "KILL_AT": kill_at or "", "SPM_BUSY_TIMEOUT": "30"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"    # nbgrader's alembic
    return subprocess.run([sys.executable, "-c", code, "--db", str(tmp / "spm.db"), "--course", str(tmp / "course"),
                           *args], capture_output=True, text=True, timeout=300, env=env)


def students(tmp: Path) -> list[tuple]:
    path = tmp / "course" / "gradebook.db"
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, first_name, last_name, email FROM student ORDER BY id").fetchall()
    finally:
        conn.close()


def reps(tmp: Path) -> list[tuple]:
    if not (tmp / "spm.db").exists():
        return []
    with open_store(tmp / "spm.db", write=False) as store:
        return [(r["id"], r["name"], r["email"]) for r in store.query("SELECT id, name, email FROM reps ORDER BY id")]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "course").mkdir()
    write_roster(tmp_path / "roster.csv")
    return tmp_path


def test_killed_between_the_two_commits_then_imported_again(project: Path) -> None:
    killed = spm(project, "roster", "import", str(project / "roster.csv"), kill_at="after")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # the worst moment: the gradebook has every student, the store none of the reps (but is intact)
    assert len(students(project)) == N_REPS
    assert reps(project) == []
    with sqlite3.connect(project / "spm.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    again = spm(project, "roster", "import", str(project / "roster.csv"))
    assert again.returncode == 0, again.stderr
    assert again.stdout == (f"{project / 'roster.csv'}: {N_REPS} reps added, 0 updated, 0 unchanged, 7 teams; "
                            f"store {project / 'spm.db'}\n")
    store_side = reps(project)
    gradebook_side = students(project)
    assert len(store_side) == N_REPS
    assert [(i, f"{first} {last}", email) for i, first, last, email in gradebook_side] == store_side
    assert store_side[7] == ("rep0007", "Rep Number7", "rep0007@example.com")


def test_killed_before_the_gradebook_commits_leaves_neither_side(project: Path) -> None:
    killed = spm(project, "roster", "import", str(project / "roster.csv"), kill_at="before")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert students(project) == []
    assert reps(project) == []
    again = spm(project, "roster", "import", str(project / "roster.csv"))
    assert again.returncode == 0, again.stderr
    assert len(reps(project)) == len(students(project)) == N_REPS
