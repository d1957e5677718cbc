"""The pieces of `spm grade` that need no kernel: the sandbox's command line, copying a kernel's files
back, the tampering check, the gradebook merge, the choice of submissions and the worker pool."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import nbformat
import pytest
from sqlalchemy import select

import spm_training.grading.autograde as grading
from spm_training.errors import NotFoundError
from spm_training.grading.gradebook import CellInfo, engine_for, merge_submission, read_submission, tables
from spm_training.grading.sandbox import ENV_ALLOWLIST, Limits, Sandbox, SandboxUnavailable, find_sandbox
from spm_training.grading.sandbox_kernel import mirror_regular_tree
from spm_training.grading.tampering import check_notebook, released_source
from spm_training.grading.worker import Outcome, Task

# --- the sandbox's command line --------------------------------------------------------------------

def _sandbox(as_root: bool) -> Sandbox:
    return Sandbox(bwrap="/usr/bin/bwrap", prlimit="/usr/bin/prlimit", setpriv="/usr/bin/setpriv" if as_root else None,
                   readonly=("/usr", "/etc/passwd", "/opt/py"), symlinks=(("usr/lib", "/lib"),),
                   masked=("/opt/py/etc/jupyter",), limits=Limits(memory_mb=1024, cpu_seconds=60, processes=64))


def test_the_sandbox_sees_only_what_it_is_given():
    argv = _sandbox(as_root=True).command(
        ["python", "-m", "ipykernel_launcher"], workdir="/tmp/g/k1/work", inside="/srv/course/autograded/ann/hw",
        rundir="/tmp/g/k1", env={"PATH": "/usr/bin", "PGPASSWORD": "secret", "LC_ALL": "C.UTF-8"})
    text = " ".join(argv)
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--clearenv"):
        assert flag in argv
    assert "secret" not in text and "--setenv LC_ALL C.UTF-8" in text and "--setenv PATH /usr/bin" in text
    assert "--ro-bind /usr /usr" in text and "--ro-bind /opt/py /opt/py" in text
    assert "--bind /tmp/g/k1/work /srv/course/autograded/ann/hw" in text
    assert "--chdir /srv/course/autograded/ann/hw" in text
    assert "--tmpfs /opt/py/etc/jupyter" in text
    # The course itself is never bound: only the rep's working copy appears at its path.
    sources = [argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    assert sources == ["/usr", "/etc/passwd", "/opt/py", "/tmp/g/k1", "/tmp/g/k1/work"]
    # Parents of mount points are made world-readable before anything is mounted on them.
    assert text.index("--dir /srv/course/autograded/ann") < text.index("--bind /tmp/g/k1/work")
    assert "--dir /tmp " not in text
    uid = 2_000_000_000 + os.getpid()
    assert argv[argv.index("/usr/bin/setpriv") + 1] == f"--reuid={uid}"
    assert argv[-10:] == ["/usr/bin/prlimit", "--as=1073741824", "--cpu=60:65", "--nproc=64", "--fsize=268435456",
                          "--core=0", "--", "python", "-m", "ipykernel_launcher"]


def test_an_environment_under_tmp_is_mounted_after_the_private_tmp():
    # A CI checkout's virtualenv lives under /tmp; the sandbox's own /tmp must not hide it.
    sandbox = Sandbox(bwrap="bwrap", prlimit="prlimit", setpriv=None, readonly=("/usr", "/tmp/ci/.venv"),
                      symlinks=(), masked=("/tmp/ci/.venv/etc/jupyter",))
    text = " ".join(sandbox.command(["python"], workdir="/tmp/g/w", inside="/tmp/g/w", rundir="/tmp/g/r", env={}))
    assert text.index("--tmpfs /tmp ") < text.index("--dir /tmp/ci ") < text.index("--ro-bind /tmp/ci/.venv ") \
        < text.index("--tmpfs /tmp/ci/.venv/etc/jupyter")


def test_a_course_inside_a_read_only_bind_cannot_be_a_mount_point():
    sandbox = _sandbox(as_root=True)
    assert sandbox.can_mount_at("/srv/course/autograded/ann/hw")
    assert not sandbox.can_mount_at("/opt/py/course/autograded/ann/hw")
    assert not sandbox.can_mount_at("/lib/course")


def test_limits_are_passed_to_prlimit():
    assert Limits(memory_mb=1024, cpu_seconds=60, processes=64, file_mb=8).prlimit_args() == [
        "--as=1073741824", "--cpu=60:65", "--nproc=64", "--fsize=8388608", "--core=0"]


def test_without_root_the_sandbox_uses_a_user_namespace():
    argv = _sandbox(as_root=False).command(["true"], workdir="/w", inside="/w", rundir="/r", env={})
    assert "--unshare-user" in argv and "--disable-userns" in argv and "/usr/bin/setpriv" not in argv
    assert argv[-1] == "true" and argv[argv.index("/usr/bin/prlimit") - 1] == "/w"


def test_only_allow_listed_variables_are_kept():
    assert set(ENV_ALLOWLIST) >= {"PATH", "LANG", "NBGRADER_EXECUTION"}


def test_no_bubblewrap_is_an_error_that_names_the_way_out(monkeypatch):
    monkeypatch.setattr("spm_training.grading.sandbox.shutil.which", lambda name: None)
    with pytest.raises(SandboxUnavailable) as caught:
        find_sandbox()
    assert str(caught.value) == (
        "cannot sandbox student code: bubblewrap (bwrap) is not installed. Install bubblewrap (apt-get install "
        "bubblewrap) on a kernel that allows namespaces, or pass --no-sandbox to grade without a sandbox (student "
        "code then runs with your rights and can read the hidden tests and change the gradebook)")


# --- copying a kernel's files back -----------------------------------------------------------------

def test_mirror_copies_regular_files_only(tmp_path):
    untrusted, trusted = tmp_path / "work", tmp_path / "autograded"
    (untrusted / "out").mkdir(parents=True)
    trusted.mkdir()
    (untrusted / "result.csv").write_text("a,b\n")
    (untrusted / "out" / "chart.txt").write_text("bars")
    (untrusted / "gradebook.db").symlink_to(tmp_path / "real-gradebook.db")
    (untrusted / "escape").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(untrusted / "pipe")
    (trusted / "hw.ipynb").write_text("{}")      # the kernel deleted it from its copy
    (trusted / "result.csv").write_text("old")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(untrusted / "sock"))
    try:
        assert mirror_regular_tree(str(untrusted), str(trusted)) == 0
    finally:
        sock.close()
    assert sorted(str(p.relative_to(trusted)) for p in trusted.rglob("*")) == ["out", "out/chart.txt", "result.csv"]
    assert (trusted / "result.csv").read_text() == "a,b\n"
    assert not (tmp_path / "real-gradebook.db").exists()


def test_mirror_leaves_out_what_is_over_the_budget(tmp_path):
    untrusted, trusted = tmp_path / "work", tmp_path / "autograded"
    untrusted.mkdir()
    (untrusted / "big.bin").write_bytes(b"x" * 2000)
    (untrusted / "small.txt").write_text("ok")
    assert mirror_regular_tree(str(untrusted), str(trusted), budget=1000) == 1
    assert sorted(p.name for p in trusted.iterdir()) == ["small.txt"]


# --- the tampering check ---------------------------------------------------------------------------

def _info(name: str, source: str, **kw: object) -> CellInfo:
    base = {"notebook": "hw", "name": name, "cell_type": "code", "locked": True, "source": source,
            "is_grade": True, "is_solution": False, "is_task": False, "points": 2.0}
    base.update(kw)
    return CellInfo(**base)


CELLS = [
    _info("answer", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", locked=False, is_grade=False, is_solution=True,
          points=None),
    _info("test_x", "assert x > 0\n### BEGIN HIDDEN TESTS\nassert x == 1\n### END HIDDEN TESTS"),
    _info("note", "Keep this.", cell_type="markdown", is_grade=False, points=None),
]


def _notebook(path: Path, cells: list[tuple[str, str, str, dict]]) -> Path:
    nb = nbformat.v4.new_notebook()
    for kind, grade_id, source, extra in cells:
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": grade_id, **extra}
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


TEST_META = {"grade": True, "solution": False, "locked": True, "points": 2}
NOTE_META = {"grade": False, "solution": False, "locked": True}
ANSWER_META = {"grade": False, "solution": True, "locked": False}


def test_released_source_drops_the_hidden_tests():
    assert released_source(CELLS[1]) == "assert x > 0"


def test_released_source_follows_the_courses_delimiters():
    from traitlets.config import Config

    config = Config()
    config.ClearHiddenTests.begin_test_delimeter = "BEGIN SECRET"
    config.ClearHiddenTests.end_test_delimeter = "END SECRET"
    cell = _info("test_y", "assert y\n# BEGIN SECRET\nassert y == 2\n# END SECRET")
    assert released_source(cell, config) == "assert y"
    assert released_source(cell) == cell.source


def test_an_untouched_submission_has_no_findings(tmp_path):
    path = _notebook(tmp_path / "hw.ipynb", [("code", "answer", "x = 5", ANSWER_META),
                                             ("code", "test_x", "assert x > 0\n", TEST_META),
                                             ("markdown", "note", "Keep this.", NOTE_META)])
    assert check_notebook(path, CELLS) == []


def test_every_kind_of_change_is_found(tmp_path):
    path = _notebook(tmp_path / "hw.ipynb", [
        ("code", "test_x", "assert x > 0", TEST_META),
        ("code", "test_x", "assert True", dict(TEST_META, points=20)),
        ("code", "note", "Keep this.", dict(NOTE_META, locked=False))])
    findings = {(f.cell, f.kind): f.detail for f in check_notebook(path, CELLS)}
    assert set(findings) == {("test_x", "duplicated"), ("test_x", "edited"), ("test_x", "metadata"),
                             ("note", "cell_type"), ("note", "metadata")}
    assert findings[("test_x", "edited")] == ("the test cell was edited; 1 line(s) added, 1 removed: "
                                              "-assert x > 0 | +assert True")
    assert findings[("test_x", "metadata")] == "the test cell's nbgrader metadata changed: points are 20, were 2"
    assert findings[("note", "cell_type")] == "the locked cell was changed from markdown to code"
    assert findings[("note", "metadata")] == "the locked cell's nbgrader metadata changed: locked was turned off"


def test_a_deleted_test_and_an_unreadable_notebook(tmp_path):
    path = _notebook(tmp_path / "hw.ipynb", [("markdown", "note", "Keep this.", NOTE_META)])
    assert [(f.cell, f.kind) for f in check_notebook(path, CELLS)] == [("test_x", "deleted")]
    path.write_text('{"cells": [')
    [finding] = check_notebook(path, CELLS)
    assert (finding.cell, finding.kind) == ("", "unreadable")
    assert finding.detail.startswith("not a readable notebook (JSONDecodeError: ")


# --- merging a worker's rows ---------------------------------------------------------------------------

def _gradebook(path: Path) -> str:
    from nbgrader.api import Base

    url = f"sqlite:///{path}"
    engine = engine_for(url)
    Base.metadata.create_all(engine)
    t = tables()
    with engine.begin() as conn:
        conn.execute(t["course"].insert(), [{"id": "c"}])
        conn.execute(t["assignment"].insert(), [{"id": "a1", "name": "hw", "course_id": "c"}])
        conn.execute(t["notebook"].insert(), [{"id": "n1", "name": "hw", "assignment_id": "a1"}])
        conn.execute(t["base_cell"].insert(),
                     [{"id": "c1", "name": "test_x", "notebook_id": "n1", "type": "GradeCell"}])
        conn.execute(t["grade_cells"].insert(), [{"id": "c1", "max_score": 2.0, "cell_type": "code"}])
        conn.execute(t["student"].insert(), [{"id": "ann"}])
        conn.execute(t["submitted_assignment"].insert(), [{"id": "s1", "assignment_id": "a1", "student_id": "ann"}])
        conn.execute(t["submitted_notebook"].insert(), [{"id": "sn1", "assignment_id": "s1", "notebook_id": "n1"}])
        conn.execute(t["grade"].insert(), [{"id": "g1", "notebook_id": "sn1", "cell_id": "c1",
                                            "needs_manual_grade": True}])
    engine.dispose()
    return url


def test_merge_writes_only_what_autograde_changed(tmp_path):
    engine = engine_for(_gradebook(tmp_path / "gradebook.db"))
    grade = tables()["grade"]
    with engine.connect() as conn:
        before = read_submission(conn, "a1", "ann")
    after = {k: [dict(r) for r in v] for k, v in before.items()}
    after["grade"][0].update(auto_score=2.0, needs_manual_grade=False)
    # Meanwhile a trainer gives a manual score in formgrader; the merge must keep it.
    with engine.begin() as conn:
        conn.execute(grade.update().values(manual_score=1.5))
        merge_submission(conn, before, after, [{"id": "c"}])
    with engine.connect() as conn:
        row = dict(conn.execute(select(grade)).mappings().one())
    assert (row["auto_score"], row["manual_score"], row["needs_manual_grade"]) == (2.0, 1.5, False)


def test_merge_inserts_a_new_submission_with_its_rows(tmp_path):
    engine = engine_for(_gradebook(tmp_path / "gradebook.db"))
    t = tables()
    after = {"student": [{"id": "bo", "first_name": None, "last_name": None, "email": None, "lms_user_id": None}],
             "submitted_assignment": [{"id": "s2", "assignment_id": "a1", "student_id": "bo", "timestamp": None,
                                       "extension": None}],
             "submitted_notebook": [{"id": "sn2", "assignment_id": "s2", "notebook_id": "n1", "flagged": False,
                                     "late_submission_penalty": None}],
             "grade": [{"id": "g2", "notebook_id": "sn2", "cell_id": "c1", "auto_score": 0.0, "manual_score": None,
                        "extra_credit": None, "needs_manual_grade": False}],
             "comment": []}
    empty = {name: [] for name in after}
    with engine.begin() as conn:
        merge_submission(conn, empty, after, [{"id": "c"}])
    with engine.connect() as conn:
        assert read_submission(conn, "a1", "bo")["grade"][0]["auto_score"] == 0.0
        assert len(conn.execute(select(t["grade"])).all()) == 2


# --- which submissions are graded ----------------------------------------------------------------------

@pytest.fixture
def course(tmp_path):
    course = tmp_path / "course"
    (course / "nbgrader_config.py").parent.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n")
    for student, stamp in (("ann", "2026-02-01 10:00:00 UTC"), ("bo", "2026-02-02 10:00:00 UTC")):
        folder = course / "submitted" / student / "hw"
        folder.mkdir(parents=True)
        (folder / "hw.ipynb").write_text("{}")
        (folder / "timestamp.txt").write_text(stamp)
    (course / "submitted" / "cy" / "hw").mkdir(parents=True)     # a folder without a notebook
    return course


def test_submissions_are_found_and_chosen_as_nbgrader_chooses(course):
    coursedir = grading.course_directory(course)
    found, empty = grading.find_submissions(coursedir, "hw")
    assert [s.student for s in found] == ["ann", "bo"]
    assert empty == [("cy", "no notebook in the submitted folder")]
    graded = course / "autograded" / "ann" / "hw"
    graded.mkdir(parents=True)
    (graded / "timestamp.txt").write_text("2026-02-01 10:00:00 UTC")
    assert not grading.needs_grading(coursedir, "hw", found[0], force=False)
    assert grading.needs_grading(coursedir, "hw", found[0], force=True)
    assert grading.needs_grading(coursedir, "hw", found[1], force=False)
    (course / "submitted" / "ann" / "hw" / "timestamp.txt").write_text("2026-02-03 10:00:00 UTC")
    assert grading.needs_grading(coursedir, "hw", found[0], force=False)


def test_a_named_rep_without_a_submission_is_an_error(course):
    coursedir = grading.course_directory(course)
    with pytest.raises(NotFoundError) as caught:
        grading.find_submissions(coursedir, "hw", ["ann", "zed"])
    assert str(caught.value) == (f"no collected submission of hw for zed in {course}/submitted/<student>/hw; "
                                 "collect it first (nbgrader collect)")
    with pytest.raises(NotFoundError):
        grading.find_submissions(coursedir, "other")


# --- the worker pool -------------------------------------------------------------------------------------

def _task(index: int, student: str) -> Task:
    return Task(index=index, assignment="hw", student=student, submitted="", source="", scratch="", template="",
                before={}, cells=(), autograded="", sandbox=None)


def test_a_grading_process_that_dies_costs_only_its_submission(monkeypatch, tmp_path):
    def fake_run(task: Task, config: object) -> Outcome:
        if task.student == "crash":
            os._exit(7)
        return Outcome(task.index, task.student, errors=[])

    monkeypatch.setattr(grading, "run_task", fake_run)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n")
    pool = grading.WorkerPool(2, tmp_path)
    try:
        outcomes = {o.student: o for o in pool.run([_task(i, s) for i, s in enumerate(["a", "crash", "b", "c"])])}
    finally:
        pool.close()
    assert sorted(outcomes) == ["a", "b", "c", "crash"]
    assert outcomes["crash"].errors == ["the grading process stopped (exit code 7) while grading; "
                                        "nothing was written for this submission"]
    assert [outcomes[s].errors for s in "abc"] == [[], [], []]
