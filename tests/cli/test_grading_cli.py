"""`spm grade` on the command line: the sandbox it insists on, the one-line errors, and the summary."""

from __future__ import annotations

import grading_course as gc
import pytest
from click.testing import CliRunner

from spm_training.cli.main import cli
from spm_training.grading.sandbox import SandboxUnavailable, find_sandbox


@pytest.fixture
def course(tmp_path_factory, tmp_path):
    course = gc.copy_course(gc.course_template(tmp_path_factory), tmp_path / "course")
    gc.submit(course, "alice", gc.CORRECT)
    return course


def _spm(tmp_path, course, *args: str):
    return CliRunner().invoke(cli, ["--db", str(tmp_path / "spm.db"), "--course", str(course), "grade", *args])


@pytest.mark.slow
def test_without_a_sandbox_grading_stops_unless_asked(tmp_path, course, monkeypatch):
    monkeypatch.setattr("spm_training.grading.sandbox.shutil.which", lambda name: None)
    result = _spm(tmp_path, course, "hw")
    assert result.exit_code == 1
    assert result.output == (
        "Error: cannot sandbox student code: bubblewrap (bwrap) is not installed. Install bubblewrap (apt-get "
        "install bubblewrap) on a kernel that allows namespaces, or pass --no-sandbox to grade without a sandbox "
        "(student code then runs with your rights and can read the hidden tests and change the gradebook)\n")
    assert not (course / "autograded").exists()

    result = _spm(tmp_path, course, "hw", "--no-sandbox")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Warning: --no-sandbox: student code runs with your rights")
    assert result.stdout.splitlines()[0].endswith("by 1 worker(s), student code NOT sandboxed")
    assert result.stdout.splitlines()[1] == "  alice  4/6"
    assert gc.gradebook_rows(course / "gradebook.db")["alice"]["test_value"]["auto_score"] == 2.0


@pytest.mark.slow
def test_a_second_run_grades_nothing_new(tmp_path, course):
    try:
        find_sandbox()
    except SandboxUnavailable as exc:
        pytest.skip(f"no sandbox on this machine: {exc.reason} (scripts/test.sh installs bubblewrap)")
    first = _spm(tmp_path, course, "hw")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[1:] == ["  alice  4/6"]
    again = _spm(tmp_path, course, "hw")
    assert again.exit_code == 0
    assert again.output.splitlines() == ["hw: nothing to autograde",
                                         "  alice  skipped: already autograded; pass --force to grade it again"]


@pytest.fixture
def bare_course(tmp_path):
    """A course folder with one collected submission and no gradebook: enough for the checks that come
    before any grading."""
    course = tmp_path / "bare"
    (course / "submitted" / "alice" / "hw").mkdir(parents=True)
    (course / "submitted" / "alice" / "hw" / "hw.ipynb").write_text("{}")
    (course / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n")
    return course


def test_an_unknown_rep_is_a_one_line_error(tmp_path, bare_course):
    result = _spm(tmp_path, bare_course, "hw", "--student", "zed", "--no-sandbox")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (f"Error: no collected submission of hw for zed in {bare_course}/"
                                              "submitted/<student>/hw; collect it first (nbgrader collect)")


def test_an_assignment_nobody_submitted(tmp_path, bare_course):
    result = _spm(tmp_path, bare_course, "nope", "--no-sandbox")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (f"Error: no collected submissions of nope in "
                                              f"{bare_course}/submitted/*/nope; run nbgrader collect nope first")


def test_an_assignment_missing_from_the_gradebook(tmp_path, bare_course):
    result = _spm(tmp_path, bare_course, "hw", "--no-sandbox")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (f"Error: no gradebook at {bare_course}/gradebook.db; run nbgrader "
                                              "generate_assignment hw first, or pass --gradebook URL")
    assert not (bare_course / "gradebook.db").exists()
