"""nbgrader's own autograde test notebooks (shipped in its package, ``nbgrader/tests/apps/files/``),
graded by `spm grade` in the sandbox: the scores nbgrader's test suite expects, and the tampering
report on its notebooks with changed locked and test cells."""

from __future__ import annotations

import shutil
from pathlib import Path

import grading_course as gc
import pytest

from spm_training.grading.autograde import grade
from spm_training.grading.sandbox import SandboxUnavailable, find_sandbox

pytestmark = pytest.mark.slow

try:
    import nbgrader.tests.apps as _nbgrader_apps_tests

    FILES = Path(_nbgrader_apps_tests.__file__).parent / "files"
except ImportError:  # pragma: no cover - a trimmed nbgrader install
    FILES = Path("/nonexistent")

NEEDED = ("submitted-unchanged.ipynb", "submitted-changed.ipynb", "submitted-cheat-attempt.ipynb",
          "submitted-cheat-attempt-alternative.ipynb", "submitted-locked-cell-changed.ipynb",
          "submitted-grade-cell-changed.ipynb", "side-effects.ipynb", "open_relative_file.ipynb", "data.txt")

#: ps1's submissions, as nbgrader's test_grade_timestamp-era tests use them (student -> file).
PS1 = {"foo": "submitted-unchanged.ipynb", "bar": "submitted-changed.ipynb", "spam": "submitted-cheat-attempt.ipynb",
       "eggs": "submitted-cheat-attempt-alternative.ipynb", "lock": "submitted-locked-cell-changed.ipynb",
       "test": "submitted-grade-cell-changed.ipynb"}


def _place(course: Path, assignment: str, student: str, name: str, as_name: str = "p1.ipynb") -> None:
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FILES / name, folder / as_name)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    missing = [n for n in NEEDED if not (FILES / n).is_file()]
    if missing:
        pytest.skip(f"nbgrader's test notebooks are not installed here ({', '.join(missing)})")
    try:
        sandbox = find_sandbox()
    except SandboxUnavailable as exc:
        pytest.skip(f"no sandbox on this machine: {exc.reason} (scripts/test.sh installs bubblewrap)")
    course = tmp_path_factory.mktemp("nbgrader-files") / "course"
    for assignment, files in (("ps1", {"submitted-unchanged.ipynb": "p1.ipynb"}),
                              ("ps2", {"side-effects.ipynb": "p1.ipynb"}),
                              ("ps3", {"open_relative_file.ipynb": "p1.ipynb", "data.txt": "data.txt"})):
        (course / "source" / assignment).mkdir(parents=True)
        for name, as_name in files.items():
            shutil.copyfile(FILES / name, course / "source" / assignment / as_name)
    (course / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n")
    for assignment in ("ps1", "ps2", "ps3"):
        gc.generate(course, assignment, "2015-02-02 14:58:23.948203 America/Los_Angeles")
    for student, name in PS1.items():
        _place(course, "ps1", student, name)
    _place(course, "ps2", "foo", "side-effects.ipynb")
    _place(course, "ps3", "foo", "open_relative_file.ipynb")
    reports = {a: grade(course, a, sandbox=sandbox, workers=2) for a in ("ps1", "ps2", "ps3")}
    return {"course": course, "reports": reports, "rows": gc.gradebook_state(course)}


def _needs_manual(rows: dict, student: str) -> bool:
    return any(r[7] for r in rows["grade"] if r[0] == student)


def test_scores_are_the_ones_nbgraders_own_tests_expect(course):
    results = {r.student: r for r in course["reports"]["ps1"].results}
    # nbgrader's test_grade_timestamp / cheat-attempt test: foo 1, bar 2, spam 1, eggs 1 of 7.
    assert {s: (r.score, r.max_score) for s, r in results.items()} == {
        "foo": (1.0, 7.0), "bar": (2.0, 7.0), "spam": (1.0, 7.0), "eggs": (1.0, 7.0), "lock": (1.0, 7.0),
        "test": (1.0, 7.0)}
    rows = course["rows"]
    assert [_needs_manual(rows, s) for s in ("foo", "bar", "spam", "eggs")] == [False, True, True, True]
    assert all(r.status == "graded" for r in results.values())


def test_the_tracebacks_trick_still_fails_the_test(course):
    # spam and eggs switch tracebacks off; their failing test ("assert a == 1") must still score 0.
    grades = {(r[0], r[2]): r[4] for r in course["rows"]["grade"]}
    assert grades[("spam", "bar")] == 0.0 and grades[("eggs", "bar")] == 0.0
    assert grades[("bar", "bar")] == 1.0


def test_changed_locked_and_test_cells_are_reported_and_nothing_else(course):
    findings = {r.student: {(f.cell, f.kind) for f in r.findings} for r in course["reports"]["ps1"].results}
    assert findings == {"foo": set(), "bar": set(), "spam": set(), "eggs": set(),
                        "lock": {("ro1", "edited"), ("ro2", "edited")}, "test": {("bar", "edited")}}


def test_side_effects_land_in_the_autograded_folder_as_with_nbgrader(course):
    # nbgrader's test_side_effects: a file the notebook writes appears beside the autograded notebook.
    folder = course["course"] / "autograded" / "foo" / "ps2"
    assert (folder / "side-effect.txt").read_text() == "a side effect"
    assert not (course["course"] / "submitted" / "foo" / "ps2" / "side-effect.txt").exists()


def test_source_data_files_are_there_for_the_kernel(course):
    result = course["reports"]["ps3"].results[0]
    assert (result.status, result.score, result.max_score) == ("graded", 10.0, 10.0)
