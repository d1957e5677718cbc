"""The nbgrader course in assessments/: metadata and skill coverage, the generator, and the whole
generate -> submit -> autograde cycle on a temporary copy of the course.

The end-to-end tests grade three submissions per assignment: the instructor's source notebook
(zz-solution), the released notebook handed in unchanged (zz-blank) and a copy of the source with
specific answers broken by this file (zz-partial), then read nbgrader's gradebook with SQL.
"""

from __future__ import annotations

import collections
import importlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "assessments"
ASSIGNMENTS = ["01_kpi_smart", "02_funnel_analysis", "03_icp_targeting", "04_prospecting_outreach",
               "05_qualification", "06_objection_handling", "07_role_play", "08_call_review",
               "09_product_negotiation"]
SKILLS = {entry["id"] for entry in yaml.safe_load((COURSE / "skills.yml").read_text())["skills"]}
# nbgrader starts `alembic` from PATH when it creates the gradebook: put this environment's bin first.
ENV = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def build_course():
    """The generator module, imported from assessments/ (it is a script, not part of the package)."""
    if str(COURSE) not in sys.path:
        sys.path.insert(0, str(COURSE))
    return importlib.import_module("build_course")


def source_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(COURSE / "source" / assignment / f"{assignment}.ipynb", as_version=4)


@dataclass(frozen=True)
class Cell:
    assignment: str
    grade_id: str
    kind: str  # "autograded", "manual" or "task"
    points: float
    skills: tuple[str, ...]


def graded_cells(assignment: str) -> list[Cell]:
    cells = []
    for cell in source_notebook(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if not (meta.get("grade") or meta.get("task")):
            continue
        kind = "task" if meta.get("task") else "manual" if meta.get("solution") else "autograded"
        skills = tuple(t.split(":", 1)[1] for t in cell.metadata.get("tags", []) if t.startswith("skill:"))
        cells.append(Cell(assignment, meta["grade_id"], kind, float(meta.get("points") or 0), skills))
    return cells


ALL_CELLS = [cell for assignment in ASSIGNMENTS for cell in graded_cells(assignment)]


def autograded_points(assignment: str) -> float:
    return sum(c.points for c in graded_cells(assignment) if c.kind == "autograded")


# -- the course's shape ---------------------------------------------------------------------------

def test_the_nine_assignments_each_have_one_notebook():
    folders = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
    assert folders == ASSIGNMENTS
    for assignment in ASSIGNMENTS:
        notebooks = [p.name for p in (COURSE / "source" / assignment).glob("*.ipynb")]
        assert notebooks == [f"{assignment}.ipynb"]


@pytest.mark.parametrize("cell", ALL_CELLS, ids=lambda c: f"{c.assignment}/{c.grade_id}")
def test_every_graded_cell_has_points_and_one_or_two_known_skills(cell: Cell):
    assert cell.points > 0
    assert 1 <= len(cell.skills) <= 2
    assert set(cell.skills) <= SKILLS, f"unknown skills {set(cell.skills) - SKILLS}"


def test_every_skill_has_two_graded_items_and_an_autograded_one():
    items = collections.Counter(s for c in ALL_CELLS for s in c.skills)
    autograded = collections.Counter(s for c in ALL_CELLS if c.kind == "autograded" for s in c.skills)
    assert {s: items[s] for s in SKILLS if items[s] < 2} == {}
    # Every skill in this catalog can be measured by at least one autograded item.
    assert sorted(s for s in SKILLS if autograded[s] == 0) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_metadata_is_valid_nbgrader_schema_3(assignment: str):
    from nbgrader.nbgraderformat import MetadataValidator

    nb = source_notebook(assignment)
    MetadataValidator().validate_nb(nb)  # raises on a bad schema, duplicate ids, missing points
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        assert meta["schema_version"] == 3
        if meta["grade"] and not meta["solution"]:
            assert meta["locked"], f"{meta['grade_id']}: test cells are locked"
        if meta["solution"] and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, meta["grade_id"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_manual_cells_show_the_rubric_and_tasks_carry_their_anchors(assignment: str):
    cells = source_notebook(assignment).cells
    for index, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("solution"):
            before = cells[index - 1]
            assert before.metadata.get("nbgrader", {}).get("locked"), f"{meta['grade_id']}: rubric cell is read-only"
            assert "Rubric for the trainer" in before.source, meta["grade_id"]
            assert f"({meta['points']:g} points)" in before.source, f"{meta['grade_id']}: rubric states the points"
        if meta.get("task"):
            assert all(f"| {score} |" in cell.source for score in (0, 2, 4)), meta["grade_id"]


def test_the_role_play_is_scored_on_task_cells_for_the_five_criteria():
    tasks = [c for c in graded_cells("07_role_play") if c.kind == "task"]
    assert [c.grade_id for c in tasks] == ["score-opening", "score-discovery", "score-value",
                                           "score-objection", "score-next-step"]
    assert sum(c.points for c in tasks) == 20  # the scorecard of book/sdr/role-play: five criteria, 0 to 4


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_intro_names_chapters_of_the_book(assignment: str):
    intro = source_notebook(assignment).cells[0].source
    toc = (ROOT / "_toc.yml").read_text()
    chapters = re.findall(r"book/[a-z-]+/[a-z0-9-]+", intro)
    assert chapters, "the intro names the book chapters it practises"
    assert [c for c in chapters if f"file: {c}\n" not in toc] == []


def test_data_files_are_small_and_committed():
    data = [p for p in (COURSE / "source").rglob("*")
            if p.is_file() and p.suffix != ".ipynb"
            and not any(part.startswith(".") for part in p.relative_to(COURSE).parts)]
    assert {p.name for p in data} == {"team_quarter.csv", "pipeline_export.csv", "accounts.csv",
                                      "research_signals.csv", "discovery_notes.csv", "call_transcript.csv"}
    assert [p.name for p in data if p.stat().st_size >= 50_000] == []


def test_the_generator_reproduces_the_committed_files():
    result = subprocess.run([sys.executable, str(COURSE / "build_course.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_generator_check_notices_a_changed_file(tmp_path: Path):
    build = build_course()
    files = build.rendered(build.build_all())
    build.write(files, tmp_path)
    assert build.differences(files, tmp_path) == []
    target = tmp_path / "05_qualification" / "discovery_notes.csv"
    target.write_bytes(target.read_bytes().replace(b"N3", b"N7", 1))
    (tmp_path / "05_qualification" / "stray.txt").write_text("not generated")
    assert build.differences(files, tmp_path) == ["05_qualification/discovery_notes.csv",
                                                   "05_qualification/stray.txt (not made by the generator)"]


def test_hidden_tests_print_nothing_since_feedback_shows_output():
    """Feedback hides the hidden tests' code and errors (spm_training.grading.feedback) but shows whatever
    they print, so the builder refuses a hidden test that prints, and no committed one does."""
    build_course()
    from coursebuild.cells import BEGIN_HIDDEN, END_HIDDEN, SHOWS_OUTPUT, NotebookBuilder

    builder = NotebookBuilder("xx_probe", {"cold_calling"})
    for hidden in ('print(expected)', 'display(answer)', 'import sys; sys.stdout.write("B")', 'pprint (x)'):
        with pytest.raises(ValueError, match="hidden tests must not print or display anything"):
            builder.tests("t", 1, ["cold_calling"], visible="assert True", hidden=hidden)
    builder.tests("ok", 1, ["cold_calling"], visible='print("shown, fine")', hidden="assert blueprint(1) == 2")
    regions = [cell.source.split(BEGIN_HIDDEN, 1)[1].split(END_HIDDEN, 1)[0]
               for assignment in ASSIGNMENTS for cell in source_notebook(assignment).cells
               if BEGIN_HIDDEN in cell.source]
    assert len(regions) == 43                  # every hidden region of the course is looked at
    assert [r for r in regions if SHOWS_OUTPUT.search(r)] == []


def test_nbgrader_config_has_relative_paths_and_resolves_in_a_copy(tmp_path: Path):
    from traitlets.config.loader import PyFileConfigLoader

    text = (COURSE / "nbgrader_config.py").read_text()
    assert not re.search(r"""["'](/|[A-Za-z]:\\)""", text), "no absolute paths in nbgrader_config.py"
    shutil.copy(COURSE / "nbgrader_config.py", tmp_path)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.CourseDirectory.course_id == "spm-sales-onboarding"
    assert config.CourseDirectory.root == str(tmp_path)
    assert config.CourseDirectory.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert config.Execute.timeout == 30


# -- end to end: generate, submit, autograde ------------------------------------------------------

@dataclass(frozen=True)
class Break:
    """A wrong answer put into a copy of the source notebook, and the test cells it must fail."""

    cell: str
    old: str
    new: str
    fails: tuple[str, ...]


# One break per assignment with autograded items: a hidden test that must catch what the visible
# checks let through, a visible check, and multiple-choice and classification answers.
PARTIAL = {
    "01_kpi_smart": Break("team-kpis", 'kpi_table["attainment"].idxmax()', 'kpi_table["attainment"].idxmin()',
                          ("test-team",)),
    "02_funnel_analysis": Break("hygiene-answer", '"no_amount": open_deals["amount"].isna()',
                                '"no_amount": open_deals["amount"] == 0', ("test-hygiene",)),
    "03_icp_targeting": Break("score-answer", "if reps >= 40:", "if reps > 40:", ("test-ratings",)),
    "04_prospecting_outreach": Break("test-subject-answer", 'answer_subject = "B"', 'answer_subject = "c"',
                                     ("test-subject",)),
    "05_qualification": Break("meddic-answer", '"N1": {"champion", "economic_buyer", "identify_pain"}',
                              '"N1": {"economic_buyer", "identify_pain"}', ("test-meddic",)),
    "06_objection_handling": Break("test-s3-answer", 'answer_s3 = "D"', 'answer_s3 = "A"', ("test-s3",)),
    "08_call_review": Break("talk-answer", '_by_speaker[REP] / _by_speaker.sum()',
                            '_by_speaker[REP] / transcript["end_s"].max()', ("test-talk-ratio",)),
    "09_product_negotiation": Break("demo-answer", 'demo_order = ["forecast", "inspect", "coach"]',
                                    'demo_order = ["coach", "inspect", "forecast"]', ("test-demo",)),
}
# The partial submissions' scores, written out so that a change in points shows up here too.
PARTIAL_SCORES = {"01_kpi_smart": 7.0, "02_funnel_analysis": 7.0, "03_icp_targeting": 7.0,
                  "04_prospecting_outreach": 5.0, "05_qualification": 6.0, "06_objection_handling": 6.0,
                  "08_call_review": 6.0, "09_product_negotiation": 9.0}


def partial_notebook(assignment: str) -> nbformat.NotebookNode:
    spec = PARTIAL[assignment]
    nb = source_notebook(assignment)
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == spec.cell]
    assert cell.source.count(spec.old) == 1, f"{assignment}: the text to break is not in {spec.cell}"
    cell.source = cell.source.replace(spec.old, spec.new)
    return nb


def run(args: list[str], cwd: Path) -> None:
    result = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@dataclass(frozen=True)
class Grade:
    student: str
    assignment: str
    cell: str
    max_score: float
    auto_score: float | None
    needs_manual_grade: bool


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course, every assignment generated and three submissions of each autograded."""
    root = tmp_path_factory.mktemp("course")
    for name in ("nbgrader_config.py", "skills.yml"):
        shutil.copy(COURSE / name, root / name)
    shutil.copytree(COURSE / "source", root / "source", ignore=shutil.ignore_patterns(".*", "__pycache__"))
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for assignment in ASSIGNMENTS:
        run([*nbgrader, "generate_assignment", assignment, "--force"], root)
        submissions = {"zz-solution": root / "source" / assignment, "zz-blank": root / "release" / assignment}
        if assignment in PARTIAL:
            submissions["zz-partial"] = root / "source" / assignment
        for student, folder in submissions.items():
            shutil.copytree(folder, root / "submitted" / student / assignment)
        if assignment in PARTIAL:
            nbformat.write(partial_notebook(assignment),
                           root / "submitted" / "zz-partial" / assignment / f"{assignment}.ipynb")
        run([*nbgrader, "autograde", assignment, "--create"], root)  # one run grades all three students
    return root


@pytest.fixture(scope="module")
def grades(course: Path) -> list[Grade]:
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute("""
            SELECT sa.student_id, a.name, bc.name, COALESCE(gc.max_score, tc.max_score), g.auto_score,
                   g.needs_manual_grade
            FROM grade g
            JOIN submitted_notebook sn ON g.notebook_id = sn.id
            JOIN submitted_assignment sa ON sn.assignment_id = sa.id
            JOIN assignment a ON sa.assignment_id = a.id
            JOIN base_cell bc ON g.cell_id = bc.id
            LEFT JOIN grade_cells gc ON gc.id = bc.id
            LEFT JOIN task_cells tc ON tc.id = bc.id
        """).fetchall()
    return [Grade(s, a, c, float(m), auto, bool(manual)) for s, a, c, m, auto, manual in rows]


def scores(grades: list[Grade], student: str, assignment: str) -> dict[str, Grade]:
    return {g.cell: g for g in grades if g.student == student and g.assignment == assignment}


@pytest.mark.slow
def test_generate_assignment_releases_every_assignment_without_solutions(course: Path):
    for assignment in ASSIGNMENTS:
        release = (course / "release" / assignment / f"{assignment}.ipynb").read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in release, f"{assignment}: {marker}"
        source_data = {p.name for p in (COURSE / "source" / assignment).iterdir() if not p.name.startswith(".")}
        assert {p.name for p in (course / "release" / assignment).iterdir()} == source_data


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_instructor_solution_earns_every_autograded_point(grades: list[Grade], assignment: str):
    graded = scores(grades, "zz-solution", assignment)
    cells = graded_cells(assignment)
    assert set(graded) == {c.grade_id for c in cells}
    for cell in cells:
        if cell.kind == "autograded":
            assert (graded[cell.grade_id].auto_score, graded[cell.grade_id].needs_manual_grade) == (cell.points, False), \
                cell.grade_id
    assert sum(g.auto_score or 0 for g in graded.values()) == autograded_points(assignment)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_released_notebook_handed_in_unchanged_earns_nothing(grades: list[Grade], assignment: str):
    graded = scores(grades, "zz-blank", assignment)
    assert len(graded) == len(graded_cells(assignment))
    assert {cell: g.auto_score for cell, g in graded.items() if g.auto_score} == {}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(PARTIAL))
def test_a_partly_correct_submission_earns_exactly_its_score(grades: list[Grade], assignment: str):
    graded = scores(grades, "zz-partial", assignment)
    spec = PARTIAL[assignment]
    points = {c.grade_id: c.points for c in graded_cells(assignment)}
    failed = sorted(cell for cell, g in graded.items() if g.auto_score == 0 and not g.needs_manual_grade)
    assert failed == sorted(spec.fails)
    earned = sum(g.auto_score or 0 for g in graded.values())
    assert earned == autograded_points(assignment) - sum(points[c] for c in spec.fails)
    assert earned == PARTIAL_SCORES[assignment]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_manual_answers_and_tasks_wait_for_a_trainer(grades: list[Grade], assignment: str):
    graded = scores(grades, "zz-solution", assignment)
    manual = [c.grade_id for c in graded_cells(assignment) if c.kind in ("manual", "task")]
    assert manual, "every assignment has written or observed work"
    assert {c: (graded[c].auto_score, graded[c].needs_manual_grade) for c in manual} == \
        {c: (None, True) for c in manual}


@pytest.mark.slow
def test_multiple_choice_and_classification_answers_are_not_in_the_release(course: Path):
    keys = build_course().answer_keys()
    assert len(keys) >= 15
    for key in keys:
        source = "\n".join(c.source for c in source_notebook(key.assignment).cells)
        release_nb = nbformat.read(course / "release" / key.assignment / f"{key.assignment}.ipynb", as_version=4)
        release = "\n".join(c.source for c in release_nb.cells)
        assert key.solution in source and key.check in source, f"{key.assignment}: {key.variable} key not in the source"
        assert key.solution not in release, f"{key.assignment}: the solution for {key.variable} is released"
        assert key.check not in release, f"{key.assignment}: the check of {key.variable} is released"


def computed_answers() -> dict[str, list[str]]:
    """Results of autograded questions, as a rubric or an instruction might have spelled them out."""
    build_course()
    from coursebuild import a01_kpi_smart, a02_funnel_analysis, a03_icp_targeting, a08_call_review
    from coursebuild import a09_product_negotiation as a09

    kpi = a01_kpi_smart.expected(a01_kpi_smart.make_rows())
    reps = [v for rep, v in kpi["table"].items() if rep != a01_kpi_smart.NEW_HIRE]
    funnel = a02_funnel_analysis.expected(a02_funnel_analysis.make_rows())
    icp = a03_icp_targeting.expected(a03_icp_targeting.make_rows())
    call = a08_call_review.expected(a08_call_review.make_rows())
    price = a09.PLANS["Business"] * a09.seats_needed(*a09.WESTERLY.values()) * 12
    return {
        "01_kpi_smart": [kpi["best_rep"], f"{kpi['team_win_rate']:.2f}"]
        + [f"{v[k]:.2f}" for v in reps for k in ("win_rate", "attainment")],
        "02_funnel_analysis": [funnel["bottleneck"], f"{min(funnel['conversion']):.0%}"],
        "03_icp_targeting": [icp["top_segment"], icp["first_calls"][0]],
        "08_call_review": [a08_call_review.CRM_LOG["meeting_date"], f"{call['ratio']:.0%}", "turns 3, 5, 7"],
        "09_product_negotiation": [f"{price:,}", str(price)],
    }


@pytest.mark.slow
def test_rubrics_and_instructions_do_not_give_away_autograded_answers(course: Path):
    # Regression: rubric cells are read-only but visible to learners, and once quoted the reference
    # values of autograded questions (the bottleneck, the top segment, the contract value).
    for assignment, values in computed_answers().items():
        release = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
        prose = "\n".join(c.source for c in release.cells if c.cell_type == "markdown")
        assert [v for v in values if v in prose] == [], assignment


@pytest.mark.slow
def test_the_source_notebooks_run_cleanly_under_nbval(course: Path):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         "source"],
        cwd=course, env=ENV, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    # nbval reports every cell as a test item; all of them ran, none failed.
    summary = result.stdout.strip().splitlines()[-1]
    assert re.match(r"\d+ passed in ", summary), summary
