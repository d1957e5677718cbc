"""A tiny nbgrader course for the grading tests: one assignment, one notebook, every kind of cell.

``hw.ipynb`` (6 points): an answer cell, a visible test (1), a test with a hidden part (2), a second
answer with its test (1), a locked note, and a written answer graded by hand (2). Tests copy the course
(generated once per session) and drop submissions into ``submitted/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ASSIGNMENT = "hw"
NOTEBOOK = "hw"
HIDDEN_SECRET = "4242"
MAX_SCORE = 6.0
DUE = "2026-03-01 12:00:00 UTC"
ON_TIME = "2026-02-27 09:30:00.000000 UTC"
LATE = "2026-03-02 08:00:00.000000 UTC"

CONFIG = '''import os
c = get_config()  # noqa: F821
_root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "spm-grading-test"
c.CourseDirectory.root = _root
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_root, "gradebook.db")
# Small, so the hostile loops are cut short quickly; every honest cell runs in milliseconds.
c.Execute.timeout = 6
# Late work scores zero, so the late-penalty column is exercised too.
c.LateSubmissionPlugin.penalty_method = "zero"
'''


def _cell(kind: str, source: str, grade_id: str | None = None, **flags: object) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.id = (grade_id or "intro").replace("_", "-")
    if grade_id:
        meta = {"grade_id": grade_id, "grade": False, "solution": False, "locked": False, "schema_version": 3}
        meta.update(flags)
        cell.metadata["nbgrader"] = meta
    return cell


def source_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("markdown", "# Pipeline check\n\nSet `answer` to the pipeline's weighted deal count."),
        _cell("code", "### BEGIN SOLUTION\nanswer = 4242\n### END SOLUTION", "answer", solution=True),
        _cell("code", "assert isinstance(answer, int), 'answer must be a whole number'", "test_type",
              grade=True, points=1, locked=True),
        _cell("code", "assert answer is not None\n### BEGIN HIDDEN TESTS\n"
                      f"assert answer == {HIDDEN_SECRET}, 'the weighted count is wrong'\n### END HIDDEN TESTS",
              "test_value", grade=True, points=2, locked=True),
        _cell("code", "### BEGIN SOLUTION\ndef double(x):\n    return 2 * x\n### END SOLUTION", "double",
              solution=True),
        _cell("code", "assert double(3) == 6", "test_double", grade=True, points=1, locked=True),
        _cell("markdown", "Read this note before you submit.", "read_only", locked=True),
        _cell("markdown", "Explain the count in one sentence.\n\n=== BEGIN MARK SCHEME ===\nmentions weights\n"
                          "=== END MARK SCHEME ===", "explain_task", task=True, points=0, locked=True),
        _cell("markdown", "YOUR ANSWER HERE", "explain", grade=True, solution=True, points=2),
    ]
    return nb


def nbgrader_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the nbgrader command line in the course folder, as a trainer would."""
    return subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args], cwd=course, env=nbgrader_env(),
                          capture_output=True, text=True, check=check)


def generate(course: Path, assignment: str, duedate: str | None = None) -> None:
    """``nbgrader generate_assignment`` through nbgrader's own API, in this process: the same converter
    as the command line without paying for nbgrader's start-up again."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from spm_training.grading.worker import load_nbgrader_config
    from spm_training.nbgrader_io import ensure_env_bin_on_path

    ensure_env_bin_on_path()
    config = load_nbgrader_config(course)
    coursedir = CourseDirectory(config=config)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        gradebook.update_or_create_assignment(assignment, duedate=duedate)
    result = NbGraderAPI(coursedir=coursedir, config=config).generate_assignment(assignment)
    if not result["success"]:
        raise RuntimeError(f"generate_assignment {assignment} failed:\n{result.get('error')}\n{result.get('log')}")


def build_course(course: Path) -> Path:
    """Write and generate the course under ``course`` (the slow part, done once per session)."""
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(CONFIG)
    nbformat.write(source_notebook(), course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    (course / "source" / ASSIGNMENT / "deals.csv").write_text("stage,weight\nqualified,0.2\n")
    generate(course, ASSIGNMENT, DUE)
    return course


_TEMPLATE: Path | None = None


def course_template(tmp_path_factory) -> Path:
    """The generated course, built once per test session and shared by every grading test module."""
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = build_course(tmp_path_factory.mktemp("grading-template") / "course")
    return _TEMPLATE


def copy_course(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def released(course: Path) -> dict:
    return json.loads((course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text())


def submit(course: Path, student: str, answers: dict[str, str] | None = None, *, timestamp: str = ON_TIME,
           edit: callable = None, raw: str | None = None) -> Path:
    """Put a submission in ``submitted/<student>/hw/``: the released notebook with the cells named in
    ``answers`` (by grade_id) given new source, then ``edit`` applied to the notebook dict; or ``raw`` text."""
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(timestamp)
    path = folder / f"{NOTEBOOK}.ipynb"
    if raw is not None:
        path.write_text(raw)
        return path
    nb = released(course)
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if answers and grade_id in answers:
            cell["source"] = answers[grade_id]
    if edit:
        edit(nb)
    path.write_text(json.dumps(nb, indent=1))
    return path


CORRECT = {"answer": f"answer = {HIDDEN_SECRET}", "double": "def double(x):\n    return x + x",
           "explain": "Each deal counts with its stage weight."}


def gradebook_rows(db: Path) -> dict[str, dict[str, dict]]:
    """Every grade row of the course's SQLite gradebook: student -> cell name -> the grade's columns."""
    import sqlite3

    query = """
        SELECT s.student_id, b.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade
        FROM grade g
        JOIN submitted_notebook sn ON g.notebook_id = sn.id
        JOIN submitted_assignment s ON sn.assignment_id = s.id
        JOIN base_cell b ON g.cell_id = b.id"""
    rows: dict[str, dict[str, dict]] = {}
    with sqlite3.connect(db) as conn:
        for student, cell, auto, manual, extra, needs in conn.execute(query):
            rows.setdefault(student, {})[cell] = {"auto_score": auto, "manual_score": manual, "extra_credit": extra,
                                                  "needs_manual_grade": bool(needs)}
    return rows


def tree_digest(folder: Path) -> dict[str, str]:
    """A hash per file under ``folder``, to show a tree was left as it was."""
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def cell_outputs(notebook: Path, grade_id: str) -> str:
    """All output text of one cell of an autograded notebook (streams, error names and values)."""
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            parts = []
            for out in cell.get("outputs", []):
                text = out.get("text", "")
                parts.append("".join(text) if isinstance(text, list) else text)
                if out.get("output_type") == "error":
                    parts.append(f"{out['ename']}: {out['evalue']}")
            return "\n".join(parts)
    raise KeyError(grade_id)


def sandbox_processes(workers: list[int]) -> list[int]:
    """Processes still running as the sandbox uid of one of these grading processes (root's sandboxes
    run as SANDBOX_UID_BASE + the grading process's pid); other people's sandboxes are not counted."""
    from spm_training.grading.sandbox import SANDBOX_UID_BASE

    uids = {SANDBOX_UID_BASE + pid for pid in workers}
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid in uids:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def gradebook_state(course_or_url: Path | str) -> dict:
    """Every row of the submission tables of a gradebook (a course's SQLite file, or any URL), keyed and
    valued by content rather than by the random ids, so two gradebooks can be compared."""
    from sqlalchemy import create_engine, text

    url = course_or_url if isinstance(course_or_url, str) else f"sqlite:///{course_or_url / 'gradebook.db'}"
    queries = {
        "student": "SELECT id, first_name, last_name, email, lms_user_id FROM student",
        "submitted_assignment": """SELECT a.name, s.student_id, s.timestamp, s.extension FROM submitted_assignment s
                                   JOIN assignment a ON s.assignment_id = a.id""",
        "submitted_notebook": """SELECT s.student_id, n.name, sn.flagged, sn.late_submission_penalty
                                 FROM submitted_notebook sn JOIN submitted_assignment s ON sn.assignment_id = s.id
                                 JOIN notebook n ON sn.notebook_id = n.id""",
    }
    for table, columns in (("grade", "g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade"),
                           ("comment", "g.auto_comment, g.manual_comment")):
        queries[table] = f"""SELECT s.student_id, n.name, b.name, b.type, {columns} FROM {table} g
                             JOIN submitted_notebook sn ON g.notebook_id = sn.id
                             JOIN submitted_assignment s ON sn.assignment_id = s.id
                             JOIN notebook n ON sn.notebook_id = n.id JOIN base_cell b ON g.cell_id = b.id"""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {table: sorted((tuple(_plain(v) for v in row) for row in conn.execute(text(sql))),
                                  key=lambda r: tuple((v is None, str(v)) for v in r))
                    for table, sql in queries.items()}
    finally:
        engine.dispose()


def _plain(value: object) -> object:
    """SQLite hands back booleans as 0/1 and timestamps as text; make both backends' rows comparable."""
    from datetime import datetime

    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value
