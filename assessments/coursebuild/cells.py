"""Cell constructors with nbgrader 0.9 metadata (schema version 3) and skill tags.

Every assignment module builds its notebook through :class:`NotebookBuilder`, so the rules that
nbgrader and the platform depend on are enforced in one place while the notebook is written, not
discovered later by a failing autograde: unique grade ids, points on every graded cell, one or two
known skills per graded cell, solution delimiters in every autograded answer cell, hidden tests that
print nothing (feedback hides their code, not their output).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from nbformat.notebooknode import NotebookNode

SCHEMA_VERSION = 3
GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")
SKILL_TAG = "skill:"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
# Calls whose output a feedback page would show.
SHOWS_OUTPUT = re.compile(r"\b(?:print|display|pprint)\s*\(|\bsys\.std(?:out|err)\b|\bIPython\.display\b")

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


# Shared by every notebook with multiple-choice questions, so " b" and "B" count the same.
CHOICE_HELPER = '''
def choice(answer: object) -> str:
    """Your answer as a capital letter: " b" and "B" count the same."""
    return str(answer).strip().upper()
'''


def known_skills(skills_file: Path) -> set[str]:
    """The skill ids of the catalog; graded cells may only name these."""
    catalog = yaml.safe_load(skills_file.read_text(encoding="utf-8"))
    return {entry["id"] for entry in catalog["skills"]}


def clean(text: str) -> str:
    """Dedent a triple-quoted block and drop the blank first and last lines."""
    return textwrap.dedent(text).strip("\n")


@dataclass(frozen=True)
class AnswerKey:
    """Where an answer that must not be readable in the release sits in the source notebook.

    ``solution`` is the line that sets the answer in the instructor's solution and ``check`` the
    hidden assertion that compares it; neither may survive ``nbgrader generate_assignment``.
    """

    assignment: str
    variable: str
    solution: str
    check: str


@dataclass
class NotebookBuilder:
    """Collects the cells of one assignment notebook and checks them as they are added."""

    assignment: str
    skills: set[str]
    cells: list[NotebookNode] = field(default_factory=list)
    answer_keys: list[AnswerKey] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)
    _plain: int = 0

    # -- plain cells -------------------------------------------------------------------------

    def md(self, text: str) -> None:
        """Instructions the learner reads; not tracked by nbgrader."""
        self._plain += 1
        cell = nbformat.v4.new_markdown_cell(clean(text))
        cell.id = f"md-{self._plain:02d}"
        self.cells.append(cell)

    # -- nbgrader cells ----------------------------------------------------------------------

    def readonly(self, grade_id: str, text: str) -> None:
        """A locked markdown cell: nbgrader restores it at autograde, so a rubric shown to the
        grader in formgrader is always the instructor's, whatever the learner did to their copy."""
        self._add(nbformat.v4.new_markdown_cell(clean(text)), grade_id, locked=True)

    def setup(self, grade_id: str, code: str) -> None:
        """Locked code the learner runs but does not change (data loading, shared helpers)."""
        self._add(nbformat.v4.new_code_cell(clean(code)), grade_id, locked=True)

    def choice_setup(self) -> None:
        """The locked helper that multiple-choice tests use to read the learner's letter."""
        self.setup("choice-helper", "# Used by the checks of the multiple-choice questions.\n" + CHOICE_HELPER.strip())

    def answer(self, grade_id: str, code: str) -> None:
        """An autograded answer cell. The solution sits between the delimiters, which nbgrader's
        ClearSolutions replaces with a stub that raises NotImplementedError in the release."""
        source = clean(code)
        if BEGIN_SOLUTION not in source or END_SOLUTION not in source:
            raise ValueError(f"{self.assignment}/{grade_id}: answer cell without solution delimiters")
        self._add(nbformat.v4.new_code_cell(source), grade_id, solution=True)

    def tests(self, grade_id: str, points: float, skills: list[str], visible: str,
              hidden: str = "") -> None:
        """An autograder tests cell: visible checks whose messages say what to fix, then hidden
        checks of the exact values, which the release does not contain."""
        source = clean(visible)
        if hidden:
            if SHOWS_OUTPUT.search(hidden):
                # Feedback hides the hidden code and its errors (spm_training.feedback), not what it
                # prints: an expected value printed here would reach the learner.
                raise ValueError(f"{self.assignment}/{grade_id}: hidden tests must not print or display "
                                 "anything; put messages in the visible tests")
            source += f"\n{BEGIN_HIDDEN}\n{clean(hidden)}\n{END_HIDDEN}"
        cell = nbformat.v4.new_code_cell(source)
        self._add(cell, grade_id, grade=True, locked=True, points=points, skills=skills)

    def manual(self, grade_id: str, points: float, skills: list[str], rubric: str, model: str) -> None:
        """A manually graded written answer, preceded by its rubric in a read-only cell so that
        formgrader shows the rubric right above every learner's answer."""
        self.readonly(f"{grade_id}-rubric", rubric)
        cell = nbformat.v4.new_markdown_cell(clean(model))
        self._add(cell, grade_id, grade=True, solution=True, points=points, skills=skills)

    def task(self, grade_id: str, points: float, skills: list[str], text: str) -> None:
        """A manually graded task: the trainer scores what they observed, against the rubric in
        the task text (used for the role-play scorecard)."""
        cell = nbformat.v4.new_markdown_cell(clean(text))
        self._add(cell, grade_id, locked=True, task=True, points=points, skills=skills)

    def choice(self, grade_id: str, points: float, skills: list[str], variable: str, question: str,
               options: dict[str, str], correct: str) -> None:
        """A multiple-choice question: the learner sets ``variable`` to a letter. The correct letter
        appears only in the solution and in a hidden test, both stripped from the release. (A hash
        of the answer in the released notebook would not hide it: with four options, hashing each
        letter and comparing reveals the right one.)"""
        if correct not in options:
            raise ValueError(f"{self.assignment}/{grade_id}: answer {correct!r} is not an option")
        lines = [clean(question), ""]
        lines += [f"- **{letter}.** {text}" for letter, text in options.items()]
        letters = ", ".join(f'"{letter}"' for letter in options)
        lines += ["", f"Set `{variable}` to the letter of your choice, for example "
                      f"`{variable} = \"<letter>\"`."]
        self.md("\n".join(lines))
        solution = f'{variable} = "{correct}"'
        self.answer(f"{grade_id}-answer", f"{BEGIN_SOLUTION}\n{solution}\n{END_SOLUTION}")
        check = f'assert choice({variable}) == "{correct}"'
        self.tests(
            grade_id, points, skills,
            visible=f"""
            assert choice({variable}) in {{{letters}}}, (
                "Set {variable} to one of the letters {', '.join(options)}, as a string in quotes."
            )
            print("Your answer is a valid option; it is marked when you submit.")
            """,
            hidden=f"""
            {check}
            """,
        )
        self.answer_keys.append(AnswerKey(self.assignment, variable, solution, check))

    def key(self, variable: str, solution: str, check: str) -> None:
        """Record an answer that a solution cell sets and a hidden test compares, so the release
        test can prove that neither reached the learner's copy."""
        self.answer_keys.append(AnswerKey(self.assignment, variable, clean(solution), clean(check)))

    # -- assembly ----------------------------------------------------------------------------

    def notebook(self) -> NotebookNode:
        nb = nbformat.v4.new_notebook()
        nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
        nb.cells = list(self.cells)
        for key in self.answer_keys:
            text = "\n".join(c.source for c in nb.cells)
            if key.solution not in text or key.check not in text:
                raise ValueError(f"{self.assignment}: answer key for {key.variable} is not in the notebook")
        nbformat.validate(nb)
        return nb

    def _add(self, cell: NotebookNode, grade_id: str, *, grade: bool = False, solution: bool = False,
             locked: bool = False, task: bool = False, points: float | None = None,
             skills: list[str] | None = None) -> None:
        if not GRADE_ID.match(grade_id) or len(grade_id) > 64:
            raise ValueError(f"{self.assignment}: bad grade id {grade_id!r}")
        if grade_id in self._ids:
            raise ValueError(f"{self.assignment}: duplicate grade id {grade_id!r}")
        self._ids.add(grade_id)
        meta: dict = {"grade": grade, "grade_id": grade_id, "locked": locked,
                      "schema_version": SCHEMA_VERSION, "solution": solution, "task": task}
        if grade or task:
            if not points or points <= 0:
                raise ValueError(f"{self.assignment}/{grade_id}: a graded cell needs points > 0")
            if not skills or not 1 <= len(skills) <= 2 or not set(skills) <= self.skills:
                raise ValueError(f"{self.assignment}/{grade_id}: needs one or two known skills, got {skills}")
            meta["points"] = points
            cell.metadata["tags"] = [f"{SKILL_TAG}{s}" for s in skills]
        cell.metadata["nbgrader"] = meta
        cell.id = grade_id
        self.cells.append(cell)


def notebook_bytes(nb: NotebookNode) -> bytes:
    """The notebook as committed: nbformat's JSON with a final newline, UTF-8."""
    return (nbformat.writes(nb, version=4) + "\n").encode("utf-8")
