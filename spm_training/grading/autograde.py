"""Autograde a cohort in parallel, each submission's code in a sandbox, with exactly nbgrader's grades.

``nbgrader autograde`` grades one submission after another in the trainer's own process, and the
students' code runs with the trainer's rights. Here every submission is graded by nbgrader's own
Autograde converter in one of N grading processes (see :mod:`.worker`), its kernel in a sandbox
(:mod:`.sandbox`), against a private copy of the gradebook rows it needs (:mod:`.gradebook`). This
process alone writes the results back, one transaction per submission, so the real gradebook (SQLite or
PostgreSQL) only ever has one writer, and it also records which submissions changed protected cells
(:mod:`.tampering`).

Which submissions are graded follows nbgrader: those not autograded yet, those collected again since
(a newer timestamp), or all of them with ``force``.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from ..errors import NotFoundError, SpmError
from ..nbgrader_io import sqlite_database
from ..store import Store
from ..text import first_line
from .fork_client import ForkSettings, course_preload
from .gradebook import (
    AssignmentRows,
    Rows,
    engine_for,
    gradebook_error,
    merge_submission,
    read_assignment,
    read_submission,
    write_template,
)
from .sandbox import Sandbox, _under
from .tampering import Finding, now_text, store_findings, write_report
from .worker import ForkParents, Outcome, Task, load_nbgrader_config, quiet_worker, run_task


@dataclass(frozen=True)
class Submission:
    """A collected submission: ``submitted/<student>/<assignment>/``."""

    student: str
    folder: Path


@dataclass
class SubmissionResult:
    """What grading did with one submission."""

    student: str
    status: str                          # "graded" or "failed"
    score: float | None
    max_score: float
    errors: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def tampered(self) -> bool:
        return bool(self.findings)


@dataclass
class GradeReport:
    """A grading run: every submission graded, and those left as they were."""

    assignment: str
    results: list[SubmissionResult]
    skipped: list[tuple[str, str]]       # (student, why)
    workers: int
    sandboxed: bool
    seconds: float
    forked: int = 0                      # kernels forked from a warm parent (the rest started one by one)
    fork_note: str | None = None         # why kernels were started one by one although forking was wanted
    fork_replaced: int = 0               # fork parents replaced after a crash or a sign of tampering

    @property
    def failed(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def tampered(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.tampered]


def default_workers() -> int:
    """One grading process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def course_directory(course_dir: Path) -> Any:
    """nbgrader's CourseDirectory for the course, configured as ``nbgrader autograde`` would be."""
    from nbgrader.coursedir import CourseDirectory

    if not course_dir.is_dir():
        raise NotFoundError(f"{course_dir}: no nbgrader course here; pass --course DIR")
    try:
        config = load_nbgrader_config(course_dir)
    except Exception as exc:  # noqa: BLE001 - a user's config can raise anything; report it in one line
        raise SpmError(f"{course_dir / 'nbgrader_config.py'}: cannot load the nbgrader config "
                       f"({exc.__class__.__name__}: {exc}); fix the file") from None
    return CourseDirectory(config=config)


def find_submissions(coursedir: Any, assignment: str, students: Sequence[str] | None = None
                     ) -> tuple[list[Submission], list[tuple[str, str]]]:
    """The collected submissions of the assignment (those of ``students`` only, if given), and the
    folders nbgrader would skip for want of a notebook."""
    pattern = coursedir.format_path(coursedir.submitted_directory, "(?P<student_id>[^/]+)", re.escape(assignment),
                                    escape=True)
    found: dict[str, Path] = {}
    empty: list[tuple[str, str]] = []
    excluded = {s for s in coursedir.student_id_exclude.split(",") if s}
    for path in sorted(Path(p) for p in _glob(coursedir.format_path(coursedir.submitted_directory, "*", assignment))):
        match = re.fullmatch(pattern, str(path))
        if not match or not path.is_dir() or match["student_id"] in excluded:
            continue
        student = match["student_id"]
        if students and student not in students:
            continue
        if not any(path.glob("*.ipynb")):
            empty.append((student, "no notebook in the submitted folder"))
            continue
        found[student] = path
    if students:
        missing = [s for s in students if s not in found and s not in {e[0] for e in empty}]
        if missing:
            raise NotFoundError(f"no collected submission of {assignment} for {', '.join(missing)} in "
                                f"{coursedir.format_path(coursedir.submitted_directory, '<student>', assignment)}; "
                                "collect it first (nbgrader collect)")
    elif not found and not empty:
        raise NotFoundError(f"no collected submissions of {assignment} in "
                            f"{coursedir.format_path(coursedir.submitted_directory, '*', assignment)}; "
                            f"run nbgrader collect {assignment} first")
    return [Submission(s, p) for s, p in found.items()], empty


def _glob(pattern: str) -> list[str]:
    import glob

    return glob.glob(pattern)


def needs_grading(coursedir: Any, assignment: str, submission: Submission, force: bool) -> bool:
    """nbgrader's rule: not autograded yet, forced, or collected again since it was autograded."""
    dest = coursedir.format_path(coursedir.autograded_directory, submission.student, assignment)
    if not os.path.exists(dest) or force:
        return True
    new = coursedir.get_existing_timestamp(str(submission.folder))
    old = coursedir.get_existing_timestamp(dest)
    return new is not None and old is not None and new > old


def grade(course_dir: Path, assignment: str, *, sandbox: Sandbox | None, students: Sequence[str] | None = None,
          workers: int | None = None, force: bool = False, gradebook: str | None = None,
          store: Store | None = None, on_result: Callable[[SubmissionResult], None] | None = None,
          on_start: Callable[[int], None] | None = None, fork: bool = True,
          preload_modules: Sequence[str] | None = None) -> GradeReport:
    """Autograde the collected submissions of ``assignment``.

    ``sandbox`` is required and may only be None on purpose: then student code runs unsandboxed.
    Each graded submission's rows land in the gradebook in one transaction; its tampering findings go to
    ``store`` (when given) and to a JSON file beside the rep's autograded folder. A submission that
    nbgrader cannot grade is reported in its result and never stops the others; a gradebook that cannot
    be written does stop the run (SpmError), after the submissions already merged.

    With a sandbox and ``fork``, each grading process forks its kernels from a warm parent that imported
    ipykernel and ``preload_modules`` (default: what the course's source notebooks import at the top level); where
    that parent cannot be set up, kernels start one by one, and the report's ``fork_note`` says why.
    """
    started = time.monotonic()
    course_dir = Path(course_dir).resolve()
    preload()
    coursedir = course_directory(course_dir)
    url = gradebook or coursedir.db_url
    submissions, skipped = find_submissions(coursedir, assignment, students)
    todo = [s for s in submissions if needs_grading(coursedir, assignment, s, force)]
    skipped += [(s.student, "already autograded; pass --force to grade it again")
                for s in submissions if s not in todo]
    size = max(1, min(workers or default_workers(), len(todo)))
    results: list[SubmissionResult] = []
    if not todo:
        return GradeReport(assignment, results, skipped, 0, sandbox is not None, time.monotonic() - started)

    database = sqlite_database(url)
    if database is not None and not Path(database).is_file():
        raise NotFoundError(f"no gradebook at {database}; run nbgrader generate_assignment "
                            f"{assignment} first, or pass --gradebook URL")
    scratch = Path(tempfile.mkdtemp(prefix="spm-grade-"))
    engine = engine_for(url)
    pool = None
    forked, replaced, fork_note = 0, 0, None
    try:
        structure = read_assignment(engine, assignment)
        template = scratch / "template.db"
        write_template(structure, template)
        settings = None
        if sandbox is not None and fork:
            settings = fork_settings(coursedir, assignment, sandbox, preload_modules)
        tasks = _tasks(engine, structure, coursedir, assignment, todo, scratch, template, sandbox, settings)
        # No connection is open while the grading processes are forked; they never use the gradebook.
        engine.dispose()
        pool = WorkerPool(size, course_dir)
        if on_start:
            on_start(len(todo))
        detected_at = now_text()
        for outcome in pool.run(tasks):
            forked += outcome.forked
            replaced += outcome.fork_replaced
            fork_note = fork_note or outcome.fork_problem
            result = _apply(outcome, tasks[outcome.index], engine, coursedir, structure, store, detected_at)
            results.append(result)
            if on_result:
                on_result(result)
    finally:
        if pool is not None:
            pool.close()
        engine.dispose()
        shutil.rmtree(scratch, ignore_errors=True)
    results.sort(key=lambda r: r.student)
    return GradeReport(assignment, results, skipped, size, sandbox is not None, time.monotonic() - started,
                       forked, fork_note, replaced)


def fork_settings(coursedir: Any, assignment: str, sandbox: Sandbox, preload: Sequence[str] | None = None
                  ) -> ForkSettings:
    """What the grading processes' fork parents import, and where kernels see their working folders: the
    folder above every rep's autograded folder (``<course>/autograded`` by default), when the sandbox
    can mount there."""
    marker = "spm-student-placeholder"
    sample = coursedir.format_path(coursedir.autograded_directory, marker, assignment)
    base = sample.split(marker)[0].rstrip("/") or None
    if base is not None and (_under(base, "/tmp") or not sandbox.can_mount_at(base)):
        base = None
    if preload is None:
        preload = course_preload(Path(coursedir.format_path(coursedir.source_directory, ".", ".")))
    return ForkSettings(preload=tuple(preload), base=base)


def preload() -> None:
    """Import what grading processes use before they are forked, so each does not import it again
    (nbgrader alone takes seconds to import). Idempotent; callers may run it early, beside other work."""
    import nbclient  # noqa: F401
    import nbgrader.converters  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    from . import sandbox_kernel  # noqa: F401


def _tasks(engine: Any, structure: AssignmentRows, coursedir: Any, assignment: str, todo: Iterable[Submission],
           scratch: Path, template: Path, sandbox: Sandbox | None, fork: ForkSettings | None = None) -> list[Task]:
    cells = tuple(structure.cell_infos())
    source = coursedir.format_path(coursedir.source_directory, ".", assignment)
    tasks = []
    try:
        with engine.connect() as conn:
            for index, submission in enumerate(todo):
                before = read_submission(conn, structure.assignment["id"], submission.student)
                tasks.append(Task(
                    index=index, assignment=assignment, student=submission.student, submitted=str(submission.folder),
                    source=source, scratch=str(scratch / f"s{index}"), template=str(template), before=before,
                    cells=cells, sandbox=sandbox, fork=fork,
                    autograded=coursedir.format_path(coursedir.autograded_directory, submission.student,
                                                     assignment)))
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and driver errors differ by backend
        raise gradebook_error(str(engine.url), exc) from None
    return tasks


def _score(after: Rows | None) -> float | None:
    if not after or not after.get("grade"):
        return None
    total = 0.0
    for row in after["grade"]:
        score = row["manual_score"] if row["manual_score"] is not None else (row["auto_score"] or 0.0)
        total += score + (row["extra_credit"] or 0.0)
    return total


def _apply(outcome: Outcome, task: Task, engine: Any, coursedir: Any, structure: AssignmentRows,
           store: Store | None, detected_at: str) -> SubmissionResult:
    """Land one submission's results: files staged, gradebook rows in one transaction, files swapped in."""
    result = SubmissionResult(task.student, "failed" if outcome.errors else "graded", _score(outcome.after),
                              structure.max_score, list(outcome.errors), list(outcome.findings), list(outcome.log),
                              outcome.seconds)
    dest = Path(task.autograded)
    if outcome.after is not None:
        staged = None
        if outcome.output:
            staged = dest.with_name(f".{dest.name}.spm-new-{os.getpid()}")
            shutil.rmtree(staged, ignore_errors=True)
            shutil.copytree(outcome.output, staged, symlinks=True)
        try:
            with engine.begin() as conn:
                merge_submission(conn, task.before, outcome.after, structure.courses)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy and driver errors differ by backend
            if staged:
                shutil.rmtree(staged, ignore_errors=True)
            raise SpmError(f"cannot write {task.student}'s grades to the gradebook ({exc.__class__.__name__}: "
                           f"{first_line(exc)}); the submissions merged before it are in the gradebook") from None
        _swap(dest, staged)
    if outcome.checked:
        # A process that died before checking leaves the earlier report as it was.
        write_report(dest, task.student, task.assignment, result.findings, detected_at)
        if store is not None:
            store_findings(store, task.student, task.assignment, result.findings, detected_at)
    return result


def _swap(dest: Path, staged: Path | None) -> None:
    """Replace the rep's autograded folder by the new one (or remove it, as nbgrader does when grading
    failed), so a reader never sees half of either."""
    old = dest.with_name(f".{dest.name}.spm-old-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    if staged is not None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, dest)
    shutil.rmtree(old, ignore_errors=True)


# --- grading processes --------------------------------------------------------------------------------

class _Worker:
    def __init__(self, context: Any, course_dir: Path) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, str(course_dir)), daemon=True,
                                       name="spm-grade-worker")
        self.process.start()
        child.close()
        self.task: Task | None = None


def _worker_main(conn: Any, course_dir: str) -> None:
    # A process group of its own: the trainer's Ctrl-C reaches the coordinator, which ends the workers.
    os.setpgrp()
    quiet_worker()
    config = load_nbgrader_config(Path(course_dir))
    parents = ForkParents()
    try:
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                return
            if task is None:
                return
            parents.before(task)
            conn.send(parents.after(run_task(task, config)))
    finally:
        parents.close()


class WorkerPool:
    """N grading processes. Unlike a ProcessPoolExecutor, a process that dies (a crash, the OOM killer)
    costs only the submission it was grading: that one is reported failed and the process replaced."""

    def __init__(self, size: int, course_dir: Path) -> None:
        # fork: the processes inherit the imported nbgrader; spawn would import it again in each.
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self._context = multiprocessing.get_context(method)
        self._course_dir = course_dir
        self._workers = [_Worker(self._context, course_dir) for _ in range(size)]

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        """Outcomes in the order they finish."""
        pending = deque(tasks)
        while pending or any(w.task is not None for w in self._workers):
            for worker in self._workers:
                if worker.task is None and pending:
                    worker.task = pending.popleft()
                    worker.conn.send(worker.task)
            busy = [w for w in self._workers if w.task is not None]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for worker in busy:
                if worker.conn in ready:
                    try:
                        outcome = worker.conn.recv()
                    except (EOFError, OSError):
                        outcome = None
                    if outcome is not None:
                        worker.task = None
                        yield outcome
                        continue
                if worker.process.sentinel in ready or not worker.process.is_alive():
                    task = worker.task
                    worker.process.join(timeout=1)
                    code = worker.process.exitcode
                    self._replace(worker)
                    if task is not None:
                        yield Outcome(task.index, task.student,
                                      errors=[f"the grading process stopped (exit code {code}) while grading; "
                                              "nothing was written for this submission"])

    def _replace(self, worker: _Worker) -> None:
        index = self._workers.index(worker)
        worker.conn.close()
        self._workers[index] = _Worker(self._context, self._course_dir)

    def close(self) -> None:
        for worker in self._workers:
            try:
                if worker.task is None:
                    worker.conn.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 5
        for worker in self._workers:
            if worker.task is None:
                worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                # Its kernels go with it: bubblewrap's --die-with-parent.
                worker.process.kill()
                worker.process.join(timeout=5)
            worker.conn.close()
