"""The demo's course work: assignments generated with nbgrader, submissions written from answer
variants chosen by each rep's latent skill, and a simulated trainer who grades by hand.

Scores are earned, not set: a rep's submission holds the instructor's answer for a cell with a
probability equal to the rep's latent level of the skill the cell's tests measure, and the
released stub otherwise; nbgrader's autograder then scores it. Manual cells are graded the way a
trainer would, from the rep's latent skill and the rubric, through nbgrader's API.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import nbformat
import numpy as np

from ..errors import SpmError
from ..nbgrader_io import course_config, ensure_env_bin_on_path
from ..plan import Plan, due_for

MISSED_SHARE = 0.05           # some reps miss an assignment that is due
COMMENTS = {
    "full": "Clear and complete: this meets every point of the rubric. Keep doing it this way.",
    "high": "Strong answer: nearly every rubric point is covered; tighten the one detail that is thin.",
    "mid": "Good start: the core is there, but some rubric points are thin. Reread the chapter section on them.",
    "low": "Not there yet: most rubric points are missing. Let's walk through the model answer in our 1:1.",
}


def comment_tier(score: float, max_score: float) -> str:
    """Which of :data:`COMMENTS` a trainer writes beside ``score`` of ``max_score``: the comment
    follows the score given, so "every point of the rubric" goes with full points only."""
    if score >= max_score:
        return "full"
    share = score / max_score if max_score else 0.0
    return "high" if share >= 0.75 else "mid" if share >= 0.5 else "low"


def trainer_comment(score: float, max_score: float) -> str:
    """The simulated trainer's comment on ``score`` of ``max_score`` (see :func:`comment_tier`)."""
    return COMMENTS[comment_tier(score, max_score)]


@dataclass(frozen=True)
class Submission:
    rep_id: str
    assignment: str
    submitted_at: datetime


def nbgrader_api(course_dir: Path, exchange: Path | None = None):
    """nbgrader's own API over the course, configured from its nbgrader_config.py."""
    ensure_env_bin_on_path()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = course_config(course_dir)
    config.CourseDirectory.root = str(course_dir.resolve())
    if exchange is not None:
        config.Exchange.root = str(exchange.resolve())
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def assignments(course_dir: Path) -> list[str]:
    return sorted(p.name for p in (course_dir / "source").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate_assignments(course_dir: Path, echo: Callable[[str], None]) -> list[str]:
    """``nbgrader generate_assignment`` for each assignment whose release is missing or older than its source."""
    names = assignments(course_dir)
    api = None
    for name in names:
        source = course_dir / "source" / name
        release = course_dir / "release" / name
        newest_source = max(p.stat().st_mtime for p in source.iterdir())
        if release.is_dir() and any(release.glob("*.ipynb")) and min(
                p.stat().st_mtime for p in release.iterdir()) >= newest_source:
            continue
        api = api or nbgrader_api(course_dir)
        result = api.generate_assignment(name, force=True, create=True)
        if not result.get("success"):
            last = (result.get("error") or result.get("log") or "unknown error").strip().splitlines()[-1]
            raise SpmError(f"{source}: nbgrader generate_assignment failed: {last}")
        echo(f"  generated {name}")
    return names


def release_assignments(course_dir: Path, exchange: Path, names: list[str]) -> None:
    """``nbgrader release_assignment`` into the workspace's exchange, for releases not there yet or older."""
    exchange.mkdir(parents=True, exist_ok=True)
    # nbgrader's exchange is shared by everyone on a machine: world-writable with the sticky bit.
    exchange.chmod(0o1777)
    api = None
    for name in names:
        release = course_dir / "release" / name
        outbound = list(exchange.glob(f"*/outbound/{name}"))
        if outbound and all((outbound[0] / p.name).is_file()
                            and (outbound[0] / p.name).stat().st_mtime >= p.stat().st_mtime
                            for p in release.iterdir() if p.is_file()):
            continue
        api = api or nbgrader_api(course_dir, exchange)
        result = api.release_assignment(name)
        if not result.get("success"):
            last = (result.get("error") or result.get("log") or "unknown error").strip().splitlines()[-1]
            raise SpmError(f"{release}: nbgrader release_assignment failed: {last}")


def _answer_skills(source_nb) -> dict[str, list[str]]:
    """For each autograded answer cell, the skills of the test cells that follow it."""
    skills: dict[str, list[str]] = {}
    current: str | None = None
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):
            current = meta["grade_id"]
            skills[current] = []
        elif meta.get("grade") and not meta.get("solution") and current is not None:
            skills[current] += [t.split(":", 1)[1] for t in cell.metadata.get("tags", []) if t.startswith("skill:")]
    return skills


def write_submission(course_dir: Path, rep_id: str, assignment: str, latent: dict[str, float],
                     rng: np.random.Generator, submitted_at: datetime) -> None:
    """The rep's submitted folder, as ``nbgrader collect`` leaves it."""
    release = course_dir / "release" / assignment
    target = course_dir / "submitted" / rep_id / assignment
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(release, target)
    for released_path in sorted(release.glob("*.ipynb")):
        source_nb = nbformat.read(course_dir / "source" / assignment / released_path.name, as_version=4)
        solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source_nb.cells
                     if c.metadata.get("nbgrader", {}).get("solution")}
        answer_skills = _answer_skills(source_nb)
        nb = nbformat.read(released_path, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("solution"):
                continue
            grade_id = meta["grade_id"]
            cell_skills = answer_skills.get(grade_id) or [
                t.split(":", 1)[1] for t in cell.metadata.get("tags", []) if t.startswith("skill:")]
            level = float(np.mean([latent[s] for s in cell_skills if s in latent])) if cell_skills else 0.6
            # Manual answers are always written (their quality shows in the trainer's grade);
            # autograded answers are right with a probability equal to the rep's level.
            if meta.get("grade") or rng.random() < level:
                cell.source = _strip_solution_markers(solutions.get(grade_id, cell.source))
        nbformat.write(nb, target / released_path.name)
    (target / "timestamp.txt").write_text(submitted_at.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))


def _strip_solution_markers(text: str) -> str:
    return "\n".join(line for line in text.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def write_submissions(course_dir: Path, roster: list[dict], latent: dict[str, dict[str, float]],
                      plan: Plan, today: date, seed: int) -> list[Submission]:
    """Every due submission of every rep: the assignments the onboarding plan gives the rep's role,
    on its due days, up to ``today``; deterministic for a seed."""
    rng = np.random.default_rng(seed + 1000)
    submissions = []
    for rep in roster:
        for assignment, due in due_for(plan, rep["role"], date.fromisoformat(rep["hire_date"]), today):
            if rng.random() < MISSED_SHARE:
                continue
            when = datetime.combine(due, datetime.min.time(), tzinfo=timezone.utc) + timedelta(
                hours=int(rng.integers(8, 18)))
            write_submission(course_dir, rep["id"], assignment, latent[rep["id"]], rng, when)
            submissions.append(Submission(rep["id"], assignment, when))
    return submissions


def simulate_trainer(gradebook_url: str, course_dir: Path, latent: dict[str, dict[str, float]],
                     submissions: list[Submission], seed: int) -> int:
    """Enter manual grades and comments the way a trainer following the rubric would, through
    nbgrader's API: the score follows the rep's latent skill for the cell's skills, to half a point."""
    ensure_env_bin_on_path()
    from nbgrader.api import Gradebook, MissingEntry

    from ..course import read_items

    rng = np.random.default_rng(seed + 2000)
    manual = [i for i in read_items(course_dir) if i.kind in ("manual", "task")]
    graded = 0
    with Gradebook(gradebook_url) as gradebook:
        for sub in submissions:
            for item in (i for i in manual if i.assignment == sub.assignment):
                try:
                    grade = gradebook.find_grade(item.cell, item.notebook, item.assignment, sub.rep_id)
                except MissingEntry:
                    continue
                level = float(np.mean([latent[sub.rep_id].get(s, 0.6) for s in item.skills]))
                share = float(np.clip(level + rng.normal(0, 0.08), 0, 1))
                grade.manual_score = round(share * item.max_score * 2) / 2
                grade.needs_manual_grade = False   # as formgrader does when a trainer saves a score
                try:
                    comment = gradebook.find_comment(item.cell, item.notebook, item.assignment, sub.rep_id)
                    comment.manual_comment = trainer_comment(grade.manual_score, item.max_score)
                except MissingEntry:
                    pass
                graded += 1
        gradebook.db.commit()
    return graded


def copy_course(template: Path, course: Path) -> None:
    """The course's authored files (never its generated output) into the workspace."""
    course.mkdir(parents=True, exist_ok=True)
    for name in ("skills.yml", "plan.yml", "nbgrader_config.py"):
        shutil.copy2(template / name, course / name)
    shutil.copytree(template / "source", course / "source", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


__all__ = ["COMMENTS", "Submission", "assignments", "comment_tier", "copy_course", "generate_assignments",
           "release_assignments", "simulate_trainer", "trainer_comment", "write_submissions"]
