"""Small nbgrader gradebooks and courses for the tests, built through nbgrader's own API.

A course spec maps assignment -> notebook -> cells, each cell (name, points, kind, skills) with kind
"autograded" (a test cell), "manual" (an answer cell graded by hand: a GradeCell and a SolutionCell
of the same name) or "task". ``write_source`` writes the source notebooks that carry the skill tags;
``build_gradebook`` creates the gradebook with nbgrader's API and fills in submissions and grades.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spm_training.nbgrader_io import ensure_env_bin_on_path

Cell = tuple[str, float, str, tuple[str, ...]]
Course = dict[str, dict[str, list[Cell]]]


@dataclass
class Grade:
    auto: float | None = None
    manual: float | None = None
    extra: float | None = None
    needs_manual: bool = False
    comment: str | None = None


def write_source(course_dir: Path, course: Course) -> None:
    """source/<assignment>/<notebook>.ipynb with one nbgrader cell per item, tagged skill:<id>."""
    for assignment, notebooks in course.items():
        folder = course_dir / "source" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for notebook, cells in notebooks.items():
            nb_cells = []
            for name, points, kind, skills in cells:
                meta = {"grade": kind != "task", "solution": kind == "manual", "locked": kind == "autograded",
                        "task": kind == "task", "grade_id": name, "points": points, "schema_version": 3}
                nb_cells.append({"cell_type": "markdown" if kind != "autograded" else "code", "id": name,
                                 "metadata": {"nbgrader": meta, "tags": [f"skill:{s}" for s in skills]},
                                 "source": f"cell {name}", **({"outputs": [], "execution_count": None}
                                                              if kind == "autograded" else {})})
            (folder / f"{notebook}.ipynb").write_text(json.dumps(
                {"cells": nb_cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")


def build_gradebook(url: str, course: Course, students: Iterable[str],
                    submissions: dict[tuple[str, str], tuple[str, dict[tuple[str, str], Grade]]],
                    duedates: dict[str, str] | None = None) -> None:
    """Create the gradebook at ``url``.

    ``submissions`` maps (student, assignment) -> (timestamp, {(notebook, cell): Grade}); cells a
    submission does not mention keep nbgrader's defaults (no score, needs a manual grade).
    """
    ensure_env_bin_on_path()
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        for assignment, notebooks in course.items():
            gb.add_assignment(assignment, duedate=(duedates or {}).get(assignment))
            for notebook, cells in notebooks.items():
                gb.add_notebook(notebook, assignment)
                for name, points, kind, _ in cells:
                    if kind == "task":
                        gb.add_task_cell(name, notebook, assignment, max_score=points, cell_type="markdown")
                        continue
                    gb.add_grade_cell(name, notebook, assignment, max_score=points,
                                      cell_type="markdown" if kind == "manual" else "code")
                    if kind == "manual":
                        gb.add_solution_cell(name, notebook, assignment)
        for student in students:
            gb.add_student(student, first_name=student.title(), last_name="Rep")
        for (student, assignment), (timestamp, grades) in submissions.items():
            gb.add_submission(assignment, student, timestamp=timestamp)
            set_grades(gb, student, assignment, grades)


def set_grades(gb: object, student: str, assignment: str, grades: dict[tuple[str, str], Grade]) -> None:
    """Write grades (and comments) for one submission through nbgrader's API."""
    for (notebook, cell), grade in grades.items():
        row = gb.find_grade(cell, notebook, assignment, student)
        row.auto_score, row.manual_score, row.extra_credit = grade.auto, grade.manual, grade.extra
        row.needs_manual_grade = grade.needs_manual
        if grade.comment is not None:
            gb.find_comment(cell, notebook, assignment, student).manual_comment = grade.comment
    gb.db.commit()


def roster_csv(rows: Iterable[tuple[str, str, str, str]]) -> str:
    """A roster file from (id, name, team, role) rows; hire dates and managers filled in."""
    lines = ["id,name,email,team,manager,role,hire_date"]
    for rep_id, name, team, role in rows:
        lines.append(f"{rep_id},{name},{rep_id}@example.com,{team},Manager {team},{role},2026-01-05")
    return "\n".join(lines) + "\n"
