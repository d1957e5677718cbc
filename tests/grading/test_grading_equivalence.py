"""`spm grade` writes exactly what sequential `nbgrader autograde` writes.

Two copies of one course get the same submissions; one is graded by the nbgrader command line, the
other by spm grade (sandboxed, two workers). Every gradebook row the submissions touch and every
autograded file must match, for first grading and for a resubmission graded again; only ids (random
uuids) and cell execution timestamps may differ.
"""

from __future__ import annotations

import json
from pathlib import Path

import grading_course as gc
import pytest

from spm_training.grading.autograde import grade
from spm_training.grading.sandbox import SandboxUnavailable, find_sandbox

pytestmark = pytest.mark.slow

PARTIAL = {"answer": f"answer = {gc.HIDDEN_SECRET}", "double": "def double(x):\n    return x * x",
           "explain": "Weights."}
RESUBMITTED = {"answer": "answer = 12", "double": "def double(x):\n    return 2 * x"}


def _drop_cells(nb: dict) -> None:
    nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "test_value"]


def _seed_manual_grades(course: Path) -> None:
    """dave was graded by hand before (a trainer's scores and comment), then submitted again."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "spm-grading-test") as gradebook:
        gradebook.update_or_create_student("dave", first_name="Dave", last_name="Okafor")
        gradebook.update_or_create_submission(gc.ASSIGNMENT, "dave", timestamp="2026-02-20 10:00:00 UTC")
        explain = gradebook.find_grade("explain", gc.NOTEBOOK, gc.ASSIGNMENT, "dave")
        explain.manual_score = 1.5
        test_type = gradebook.find_grade("test_type", gc.NOTEBOOK, gc.ASSIGNMENT, "dave")
        test_type.manual_score = 0.5
        test_type.extra_credit = 0.5
        gradebook.find_comment("explain", gc.NOTEBOOK, gc.ASSIGNMENT, "dave").manual_comment = "Clear."
        gradebook.db.commit()


def _submissions(course: Path) -> None:
    gc.submit(course, "alice", gc.CORRECT)
    gc.submit(course, "bob", {"answer": "answer = 7"}, timestamp=gc.LATE)
    gc.submit(course, "carol", PARTIAL)
    gc.submit(course, "dave", gc.CORRECT)
    gc.submit(course, "erin", gc.CORRECT, edit=_drop_cells)
    gc.submit(course, "frank", raw="{ not a notebook")
    _seed_manual_grades(course)


def autograded_state(course: Path) -> dict:
    """Every autograded file; notebooks without the cells' execution timestamps. spm's tampering reports,
    which sit beside the reps' folders, are left out."""
    files = {}
    for path in sorted((course / "autograded").rglob("*")):
        if not path.is_file() or path.name.endswith(".tampering.json"):
            continue
        key = str(path.relative_to(course / "autograded"))
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text())
            for cell in nb["cells"]:
                cell["metadata"].pop("execution", None)
            files[key] = nb
        else:
            files[key] = (path.read_bytes(), oct(path.stat().st_mode & 0o777))
    return files


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    try:
        sandbox = find_sandbox()
    except SandboxUnavailable as exc:
        pytest.skip(f"no sandbox on this machine: {exc.reason} (scripts/test.sh installs bubblewrap)")
    template = gc.course_template(tmp_path_factory)
    work = tmp_path_factory.mktemp("equivalence")
    nbgrader_course = gc.copy_course(template, work / "by-nbgrader" / "course")
    spm_course = gc.copy_course(template, work / "by-spm" / "course")
    for course in (nbgrader_course, spm_course):
        _submissions(course)
    return {"nbgrader": nbgrader_course, "spm": spm_course, "sandbox": sandbox}


def _grade_both(courses) -> dict:
    done = gc.nbgrader(courses["nbgrader"], "autograde", gc.ASSIGNMENT, check=False)
    report = grade(courses["spm"], gc.ASSIGNMENT, sandbox=courses["sandbox"], workers=2)
    return {"nbgrader": done, "report": report}


@pytest.fixture(scope="module")
def first_round(courses):
    return _grade_both(courses)


def test_first_grading_matches_nbgrader_row_for_row(courses, first_round):
    expected = gc.gradebook_state(courses["nbgrader"])
    assert gc.gradebook_state(courses["spm"]) == expected
    # The comparison is worth something only if the rows say what they should.
    grades = {(r[0], r[2]): r[4:] for r in expected["grade"]}
    assert grades[("alice", "test_value")] == (2.0, None, None, 0)
    assert grades[("bob", "test_value")] == (0.0, None, None, 0)
    assert grades[("carol", "test_double")] == (0.0, None, None, 0)
    assert grades[("dave", "test_type")] == (1.0, 0.5, 0.5, 1)     # a hand score makes nbgrader ask again
    assert grades[("dave", "explain")] == (None, 1.5, None, 1)
    assert grades[("erin", "test_value")] == (None, None, None, 1)  # the deleted test was never run
    assert grades[("frank", "test_type")] == (None, None, None, 1)  # not a notebook: nothing ran
    penalties = {r[0]: r[3] for r in expected["submitted_notebook"]}
    assert penalties["bob"] == 1.0 and penalties["alice"] is None


def test_first_grading_writes_the_same_autograded_files(courses, first_round):
    expected = autograded_state(courses["nbgrader"])
    assert autograded_state(courses["spm"]) == expected
    assert sorted({key.split("/")[0] for key in expected}) == ["alice", "bob", "carol", "dave", "erin"]
    reports = sorted(p.name for p in (courses["spm"] / "autograded").glob("*/*.tampering.json"))
    assert reports == ["hw.tampering.json", "hw.tampering.json"]
    assert (courses["spm"] / "autograded" / "erin" / "hw.tampering.json").is_file()
    assert (courses["spm"] / "autograded" / "frank" / "hw.tampering.json").is_file()


def test_first_grading_reports_what_nbgrader_failed_on(courses, first_round):
    assert first_round["nbgrader"].returncode == 1
    report = first_round["report"]
    assert [r.student for r in report.failed] == ["frank"]
    assert report.failed[0].errors[0].startswith("hw.ipynb: NotJSONError: Notebook does not appear to be JSON")
    assert {r.student: r.score for r in report.results} == {
        "alice": 4.0, "bob": 1.0, "carol": 3.0, "dave": 5.5, "erin": 2.0, "frank": 0.0}


def test_a_resubmission_is_graded_again_like_nbgrader_does(courses, first_round):
    for course in (courses["nbgrader"], courses["spm"]):
        gc.submit(course, "alice", RESUBMITTED, timestamp="2026-02-28 16:00:00.000000 UTC")
    second = _grade_both(courses)
    # nbgrader tries again whatever has no autograded folder: frank's notebook, which failed.
    assert [r.student for r in second["report"].results] == ["alice", "frank"]
    assert sorted(s for s, _ in second["report"].skipped) == ["bob", "carol", "dave", "erin"]
    nbgrader_rows = gc.gradebook_state(courses["nbgrader"])
    assert gc.gradebook_state(courses["spm"]) == nbgrader_rows
    assert autograded_state(courses["spm"]) == autograded_state(courses["nbgrader"])
    grades = {(r[0], r[2]): r[4:] for r in nbgrader_rows["grade"]}
    assert grades[("alice", "test_value")] == (0.0, None, None, 0)
