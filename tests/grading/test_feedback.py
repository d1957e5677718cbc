"""Feedback leaves the hidden tests out: spm_training.feedback.HideHiddenTests on its own, the course
configuration that puts it into `nbgrader generate_feedback`, and real feedback of a tiny course.

The end-to-end test grades three submissions of tests/grading_course.py's notebook with `nbgrader
autograde` and renders their feedback with `nbgrader generate_feedback`, configured with the preprocessor
list read from assessments/nbgrader_config.py: "wrong" fails the hidden check of test_value and the
visible test_double, "none" fails the visible line of test_value (IPython then prints the hidden lines
around it) and "right" passes every test.
"""

from __future__ import annotations

import copy
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import grading_course as gc
import nbformat
import pytest
from nbconvert.filters import strip_ansi
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from spm_training.grading.feedback import HIDDEN_FAILURE, HIDDEN_NOTE, HideHiddenTests

ROOT = Path(__file__).resolve().parents[2]
PREPROCESSORS = ["nbgrader.preprocessors.GetGrades", "spm_training.feedback.HideHiddenTests",
                 "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]


# -- the preprocessor on a notebook in memory -----------------------------------------------------

def _frame(*lines: str) -> str:
    """One IPython traceback frame as the kernel sends it: coloured, the failing line marked '---->'."""
    body = "".join(f"\x1b[32m{'---->' if failing else '     '} {n}\x1b[39m {text}\n"
                   for n, text, failing in lines)
    return f"\x1b[36mCell In[3], line {next(n for n, _, failing in lines if failing)}\x1b[39m\n{body}"


def _error(ename: str, evalue: str, frame: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": ["\x1b[31m----\x1b[39m", f"\x1b[31m{ename}\x1b[39m    Traceback (most recent call last)",
                          frame, f"\x1b[31m{ename}\x1b[39m: {evalue}"]}


def _code(grade_id: str, source: str, outputs: list[dict]) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, outputs=[nbformat.from_dict(o) for o in outputs])
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": True, "solution": False, "locked": True,
                                 "points": 2, "score": 0.0, "comment": "See the weights table.",
                                 "schema_version": 3}
    return cell


STREAM = {"output_type": "stream", "name": "stdout", "text": "Visible checks passed.\n"}
HIDDEN_SOURCE = ('assert choice in "ABCD"\nprint("Visible checks passed.")\n### BEGIN HIDDEN TESTS\n'
                 'assert choice == "B", "not the strongest opener"\n### END HIDDEN TESTS')
# Failed on the hidden line 4: the traceback quotes it and the message is the hidden assert's.
HIDDEN_FAILED = _error("AssertionError", "not the strongest opener", _frame(
    (2, 'print("Visible checks passed.")', False), (3, "### BEGIN HIDDEN TESTS", False),
    (4, 'assert choice == "B", "not the strongest opener"', True), (5, "### END HIDDEN TESTS", False)))
# Failed on the visible line 1: IPython shows lines 2 to 4 as context, the hidden ones among them.
VISIBLE_FAILED = _error("AssertionError", "", _frame(
    (1, 'assert choice in "ABCD"', True), (2, 'print("Visible checks passed.")', False),
    (3, "### BEGIN HIDDEN TESTS", False), (4, 'assert choice == "B", "not the strongest opener"', False)))
# A cell without a hidden region whose traceback happens to show the same text as the hidden line.
PLAIN_FAILED = _error("AssertionError", "", _frame((1, 'assert choice == "B", "not the strongest opener"', True)))


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("Which opener is strongest?\n### BEGIN HIDDEN TESTS\nB\n### END HIDDEN TESTS"),
        _code("test-hidden", HIDDEN_SOURCE, [STREAM, HIDDEN_FAILED]),
        _code("test-visible", HIDDEN_SOURCE, [VISIBLE_FAILED]),
        _code("test-plain", 'assert choice == "B", "not the strongest opener"', [PLAIN_FAILED]),
        _code("test-indented", "for deal in deals:\n    assert deal\n    ### BEGIN HIDDEN TESTS\n"
                               "    assert deal.stage == 'won'\n    ### END HIDDEN TESTS\nprint('done')", []),
    ]
    return nb


def _run(nb: nbformat.NotebookNode, config: Config | None = None) -> nbformat.NotebookNode:
    out, _ = HideHiddenTests(config=config or Config()).preprocess(copy.deepcopy(nb), {})
    return out


def test_hidden_regions_and_their_failures_are_hidden_and_nothing_else_changes():
    nb = _notebook()
    out = _run(nb)
    visible_source = f'assert choice in "ABCD"\nprint("Visible checks passed.")\n{HIDDEN_NOTE}'
    neutral = {"output_type": "error", "ename": "AssertionError", "evalue": HIDDEN_FAILURE,
               "traceback": [HIDDEN_FAILURE]}
    visible_frame = ("\x1b[36mCell In[3], line 1\x1b[39m\n"
                     '\x1b[32m----> 1\x1b[39m assert choice in "ABCD"\n'
                     '\x1b[32m      2\x1b[39m print("Visible checks passed.")\n')
    expected = copy.deepcopy(nb)
    expected.cells[0].source = f"Which opener is strongest?\n{HIDDEN_NOTE}"
    expected.cells[1].source = visible_source
    expected.cells[1].outputs = [STREAM, neutral]
    expected.cells[2].source = visible_source
    expected.cells[2].outputs[0].traceback = [*VISIBLE_FAILED["traceback"][:2], visible_frame,
                                              *VISIBLE_FAILED["traceback"][3:]]
    expected.cells[4].source = f"for deal in deals:\n    assert deal\n    {HIDDEN_NOTE}\nprint('done')"
    assert out == expected
    assert out.cells[3] == nb.cells[3]  # no hidden region: its error is kept although it reads the same
    assert [c.metadata for c in out.cells] == [c.metadata for c in nb.cells]


def test_each_region_of_a_cell_leaves_one_note():
    nb = nbformat.v4.new_notebook()
    nb.cells = [_code("t", "a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc\n### BEGIN HIDDEN TESTS\nd\n"
                           "### END HIDDEN TESTS", [])]
    assert _run(nb).cells[0].source == f"a\n{HIDDEN_NOTE}\nc\n{HIDDEN_NOTE}"


def test_an_error_without_a_marked_failing_line_is_treated_as_hidden():
    """A traceback in a shape we do not know, quoting hidden code: safer to say nothing than to guess."""
    nb = nbformat.v4.new_notebook()
    odd = {"output_type": "error", "ename": "KeyError", "evalue": "'champion'",
           "traceback": ['  line 4: assert choice == "B", "not the strongest opener"', "KeyError: 'champion'"]}
    nb.cells = [_code("t", HIDDEN_SOURCE, [odd])]
    assert _run(nb).cells[0].outputs == [{"output_type": "error", "ename": "KeyError", "evalue": HIDDEN_FAILURE,
                                          "traceback": [HIDDEN_FAILURE]}]


def test_the_delimiters_are_nbgraders_clear_hidden_tests_settings():
    config = Config()
    config.ClearHiddenTests.begin_test_delimeter = "BEGIN SECRET CHECKS"
    config.ClearHiddenTests.end_test_delimeter = "END SECRET CHECKS"
    nb = nbformat.v4.new_notebook()
    nb.cells = [_code("t", "a\n# BEGIN SECRET CHECKS\nb\n# END SECRET CHECKS\n### BEGIN HIDDEN TESTS", [])]
    assert _run(nb, config).cells[0].source == f"a\n{HIDDEN_NOTE}\n### BEGIN HIDDEN TESTS"


@pytest.mark.parametrize(("source", "message"), [
    ("### BEGIN HIDDEN TESTS\na", "No end hidden tests statement found"),
    ("### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS",
     "Encountered nested begin hidden tests statements"),
])
def test_a_broken_region_stops_the_feedback_with_nbgraders_message(source: str, message: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [_code("t", source, [])]
    with pytest.raises(RuntimeError, match=f"^{message}$"):
        _run(nb)


def test_a_delimiter_of_digits_is_refused():
    config = Config()
    config.ClearHiddenTests.end_test_delimeter = "42"
    nb = nbformat.v4.new_notebook()
    with pytest.raises(ValueError) as raised:
        _run(nb, config)
    assert str(raised.value) == ("ClearHiddenTests.end_test_delimeter = '42' cannot mark hidden tests: use a "
                                 "delimiter with letters in it, such as the default 'BEGIN HIDDEN TESTS'")


# -- the course configuration ---------------------------------------------------------------------

@pytest.mark.parametrize("folder", ["assessments", "deploy/course"])
def test_the_course_configs_run_exactly_our_preprocessor_list(tmp_path: Path, folder: str):
    from nbgrader.converters import GenerateFeedback

    (tmp_path / "nbgrader_config.py").write_text((ROOT / folder / "nbgrader_config.py").read_text())
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.GenerateFeedback.preprocessors == PREPROCESSORS
    assert [import_item(name) for name in PREPROCESSORS] == [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
    assert GenerateFeedback(config=config).preprocessors == PREPROCESSORS  # what nbgrader's converter uses


# -- real feedback of a tiny course ---------------------------------------------------------------

HIDDEN_LINES = ["### BEGIN HIDDEN TESTS", f"assert answer == {gc.HIDDEN_SECRET}, 'the weighted count is wrong'",
                "the weighted count is wrong", "### END HIDDEN TESTS"]
COMMENT = "Check which stages carry a weight."


def _course_config_line() -> str:
    """The GenerateFeedback setting of assessments/nbgrader_config.py, as a line for another course."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "assessments")).load_config()
    return f"\nc.GenerateFeedback.preprocessors = {list(config.GenerateFeedback.preprocessors)!r}\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = gc.copy_course(gc.course_template(tmp_path_factory), tmp_path_factory.mktemp("feedback") / "course")
    with (course / "nbgrader_config.py").open("a") as handle:
        handle.write(_course_config_line())
    gc.submit(course, "wrong", {"answer": "answer = 7", "double": "def double(x):\n    return x"})
    gc.submit(course, "none", {"answer": "answer = None"})
    gc.submit(course, "right", gc.CORRECT)
    gc.nbgrader(course, "autograde", gc.ASSIGNMENT, "--create")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        comment = gradebook.find_comment("answer", gc.NOTEBOOK, gc.ASSIGNMENT, "wrong")
        comment.manual_comment = COMMENT
        gradebook.db.commit()
    done = gc.nbgrader(course, "generate_feedback", gc.ASSIGNMENT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "not recognized" not in done.stderr  # no config nbgrader or nbconvert does not understand
    return course


def _html(course: Path, student: str) -> str:
    return (course / "feedback" / student / gc.ASSIGNMENT / f"{gc.NOTEBOOK}.html").read_text()


def _text(page: str) -> str:
    """What a reader sees: the body without tags, entities decoded, whitespace runs made one space."""
    body = page[page.index("<body"):]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", body)))


def _traceback(course: Path, student: str, grade_id: str) -> list[str]:
    """The plain lines of the error of one cell of the autograded notebook."""
    nb = json.loads((course / "autograded" / student / gc.ASSIGNMENT / f"{gc.NOTEBOOK}.ipynb").read_text())
    [cell] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id]
    [error] = [o for o in cell["outputs"] if o["output_type"] == "error"]
    return [line for entry in error["traceback"] for line in strip_ansi(entry).split("\n") if line.strip()]


def _one_space(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.slow
@pytest.mark.parametrize("student", ["wrong", "none", "right"])
def test_feedback_shows_no_hidden_test(course: Path, student: str):
    text = _text(_html(course, student))
    for line in HIDDEN_LINES:
        assert line not in text
    assert "BEGIN HIDDEN" not in _html(course, student)
    assert text.count(HIDDEN_NOTE) == 1
    # The learner's own correct answer is the only place the value may appear.
    assert text.count(gc.HIDDEN_SECRET) == (1 if student == "right" else 0)
    if student == "right":
        assert f"answer = {gc.HIDDEN_SECRET}" in text
    for path in (course / "feedback" / student).rglob("*"):
        if path.is_file() and student != "right":
            assert gc.HIDDEN_SECRET.encode() not in path.read_bytes(), path


@pytest.mark.slow
def test_a_failed_hidden_check_is_reported_without_its_code(course: Path):
    assert any("the weighted count is wrong" in line for line in _traceback(course, "wrong", "test_value"))
    assert _text(_html(course, "wrong")).count(HIDDEN_FAILURE) == 1
    assert HIDDEN_FAILURE not in _text(_html(course, "none")) + _text(_html(course, "right"))


@pytest.mark.slow
def test_visible_failures_are_shown_as_the_kernel_reported_them(course: Path):
    text = _text(_html(course, "wrong"))
    shown = _traceback(course, "wrong", "test_double")
    assert shown[-2:] == ["----> 1 assert double(3) == 6", "AssertionError: "]
    assert _one_space(" ".join(shown)) in text
    # In "none" the visible line of test_value failed; IPython printed the hidden lines below it, and
    # only those are left out.
    raw = _traceback(course, "none", "test_value")
    assert [line for line in raw if any(hidden in line for hidden in HIDDEN_LINES)] == [
        "      2 ### BEGIN HIDDEN TESTS", f"      3 assert answer == {gc.HIDDEN_SECRET}, 'the weighted count is wrong'",
        "      4 ### END HIDDEN TESTS"]
    kept = [line for line in raw if not any(hidden in line for hidden in HIDDEN_LINES)]
    assert kept[-3:] == ["Cell In[3], line 1", "----> 1 assert answer is not None", "AssertionError: "]
    assert _one_space(" ".join(kept)) in _text(_html(course, "none"))


@pytest.mark.slow
@pytest.mark.parametrize(("student", "total"), [("wrong", 1.0), ("none", 0.0), ("right", 4.0)])
def test_scores_and_comments_are_the_gradebooks(course: Path, student: str, total: float):
    page = _html(course, student)
    shown = {cell: float(score) for cell, score in
             re.findall(r'<li><a href="#([\w-]+)">[^<]*</a> \(Score: ([\d.]+) / [\d.]+\)</li>', page)}
    rows = gc.gradebook_rows(course / "gradebook.db")[student]
    booked = {cell: (row["manual_score"] if row["manual_score"] is not None else row["auto_score"]) or 0.0
              for cell, row in rows.items() if cell in shown}
    assert shown == booked
    assert set(shown) == {"test_type", "test_value", "test_double", "explain_task", "explain"}
    assert f"{gc.NOTEBOOK} (Score: {total} / {gc.MAX_SCORE})" in page
    assert sum(shown.values()) == total
    assert (COMMENT in _text(page)) == (student == "wrong")


@pytest.mark.slow
def test_without_spm_training_feedback_generation_fails_instead_of_leaking(course: Path):
    """The course config names the preprocessor by import string: an environment without spm_training
    must stop with an error, not have nbgrader skip the config file and render the hidden tests."""
    run = ("import sys; sys.modules['spm_training'] = None; sys.argv = ['nbgrader', 'generate_feedback', "
           f"{gc.ASSIGNMENT!r}, '--force']; from nbgrader.apps.nbgraderapp import main; main()")
    before = _html(course, "wrong")
    done = subprocess.run([sys.executable, "-c", run], cwd=course, env=gc.nbgrader_env(), capture_output=True,
                          text=True)
    assert done.returncode != 0
    assert done.stderr.splitlines()[-1] == (
        "ModuleNotFoundError: No module named 'spm_training.feedback'; 'spm_training' is not a package")
    assert _html(course, "wrong") == before
