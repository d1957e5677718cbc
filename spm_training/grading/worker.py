"""One submission, in one grading process: nbgrader's own autograde, in a scratch copy of the course.

The scratch course holds only what autograde reads for this rep: the submitted folder (regular files
only), the assignment's non-notebook source files (data files nbgrader copies next to the notebooks; the
source notebooks with the hidden tests stay out) and a private gradebook seeded with the real rows. The
Autograde converter runs there unchanged, with the course's configuration, except that its Execute
preprocessor starts kernels in the sandbox. The grades, the autograded folder and any problems go back
to the coordinating process, which alone writes to the real gradebook and the real course.
"""

from __future__ import annotations

import copy
import fnmatch
import logging
import os
import shutil
import stat
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..nbgrader_io import sqlite_url
from ..text import first_line
from .fork_client import ForkParent, ForkSettings, ForkUnavailable
from .gradebook import CellInfo, Rows, engine_for, read_submission, seed_submission, unsynced_scratch_gradebooks
from .sandbox import Sandbox
from .tampering import Finding, check_submission

#: Where nbgrader's converters log when no application owns them.
NBGRADER_LOGGER = "traitlets"


@dataclass(frozen=True)
class Task:
    """What a grading process needs to autograde one submission (picklable)."""

    index: int
    assignment: str
    student: str
    submitted: str                 # the rep's folder in the real course's submitted/
    source: str                    # the assignment's folder in the real course's source/
    scratch: str                   # a private folder for this submission
    template: str                  # the template gradebook (assignment structure only)
    before: Rows                   # the rep's rows in the real gradebook now
    cells: tuple[CellInfo, ...]    # the recorded cells, for the tampering check
    autograded: str                # the rep's autograded folder in the real course; the kernel works there
    sandbox: Sandbox | None
    fork: ForkSettings | None = None   # set: kernels are forked from a warm parent in the grading process


@dataclass
class Outcome:
    """What became of one submission in its grading process."""

    index: int
    student: str
    after: Rows | None = None              # the rep's rows after autograde; None if it never ran
    output: str | None = None              # the scratch autograded folder, when nbgrader left one
    errors: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    checked: bool = False                  # whether the tampering check ran (findings can be trusted)
    seconds: float = 0.0
    forked: int = 0                        # kernels forked from the warm parent
    fork_problem: str | None = None        # why a kernel was started by bubblewrap although forking was wanted
    fork_replaced: int = 0                 # fork parents started again before this submission (crashed, tampered)


def load_nbgrader_config(course_dir: Path) -> Any:
    """The configuration ``nbgrader autograde`` would use when run in the course folder: the
    ``nbgrader_config`` files of the Jupyter config path, then the course's own ``nbgrader_config.py``."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    config = Config()
    folders = [*reversed(jupyter_config_path()), str(course_dir)]
    for folder in folders:
        for name, loader in (("nbgrader_config.json", JSONFileConfigLoader),
                             ("nbgrader_config.py", PyFileConfigLoader)):
            if os.path.isfile(os.path.join(folder, name)):
                config.merge(loader(name, path=folder).load_config())
    config.CourseDirectory.root = str(course_dir.resolve())
    return config


class _RecordingAutograde:
    """Mixed into nbgrader's Autograde: remembers which notebook failed and why, since nbgrader only logs
    it and raises one NbGraderException for the whole run."""

    failures: list[str]

    def convert_single_notebook(self, notebook_filename: str) -> None:
        try:
            super().convert_single_notebook(notebook_filename)  # type: ignore[misc]
        except Exception as exc:
            self.failures.append(f"{os.path.basename(notebook_filename)}: {describe(exc)}")
            raise

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        try:
            super().init_assignment(assignment_id, student_id)  # type: ignore[misc]
        except Exception as exc:
            self.failures.append(describe(exc))
            raise


def describe(exc: BaseException) -> str:
    """An exception in one line, with a hint for the ones a sandbox limit causes."""
    text = first_line(exc)
    if len(text) > 200:
        text = text[:197] + "..."
    line = f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
    if exc.__class__.__name__ == "DeadKernelError":
        line += " (the kernel stopped: a crash, or a memory, CPU-time or process limit)"
    return line


def _autograde_class() -> type:
    from nbgrader.converters import Autograde

    return type("Autograde", (_RecordingAutograde, Autograde), {})


def _sandboxed_preprocessors(preprocessors: list, sandbox: Sandbox | None) -> list:
    if sandbox is None:
        return list(preprocessors)
    from nbgrader.preprocessors import Execute
    from traitlets.utils.importstring import import_item

    from .sandbox_kernel import sandboxed_execute

    result = []
    for item in preprocessors:
        cls = import_item(item) if isinstance(item, str) else item
        result.append(sandboxed_execute(cls) if isinstance(cls, type) and issubclass(cls, Execute) else item)
    return result


def _copy_submission(source: Path, dest: Path) -> None:
    """The rep's folder, regular files only: a symlink in a submission must not make the grader read a
    file of the trainer's (nbgrader copies submitted files by following links)."""
    for folder, dirs, files in os.walk(source):
        rel = Path(folder).relative_to(source)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in files:
            path = os.path.join(folder, name)
            if stat.S_ISREG(os.lstat(path).st_mode):
                shutil.copyfile(path, dest / rel / name)


def _copy_source_files(source: Path, dest: Path) -> None:
    """The assignment's data files; never its notebooks, which hold the hidden tests."""
    dest.mkdir(parents=True, exist_ok=True)
    if not source.is_dir():
        return
    for folder, _dirs, files in os.walk(source):
        rel = Path(folder).relative_to(source)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            if not fnmatch.fnmatch(name, "*.ipynb"):
                shutil.copyfile(os.path.join(folder, name), dest / rel / name)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(f"{record.levelname}: {record.getMessage()}".splitlines()[0][:300])
        except Exception:  # noqa: BLE001 - a log record that cannot be formatted is not worth a failure
            pass


def run_task(task: Task, base_config: Any) -> Outcome:
    """Autograde one submission in its scratch course; never raises for a problem of the submission."""
    started = time.monotonic()
    outcome = Outcome(task.index, task.student)
    scratch = Path(task.scratch)
    from . import sandbox_kernel

    sandbox_kernel.FORK_PROBLEMS.clear()
    parent = sandbox_kernel.FORK_PARENT
    forked_before = parent.forked if parent is not None else 0
    try:
        from nbgrader.converters import NbGraderException
        from nbgrader.coursedir import CourseDirectory

        if task.scratch:
            unsynced_scratch_gradebooks(os.path.dirname(task.scratch))

        config = copy.deepcopy(base_config)
        outcome.findings = check_submission(Path(task.submitted), task.cells, config)
        outcome.checked = True

        config.CourseDirectory.root = str(scratch)
        config.CourseDirectory.db_url = sqlite_url(scratch / "gradebook.db")
        config.CourseDirectory.assignment_id = task.assignment
        config.CourseDirectory.student_id = task.student
        config.CourseDirectory.notebook_id = "*"
        config.CourseDirectory.student_id_exclude = ""
        if task.sandbox is not None:
            (scratch / "run").mkdir(parents=True, exist_ok=True)
            config.SandboxKernelManager.sandbox = task.sandbox
            config.SandboxKernelManager.run_root = str(scratch / "run")
            config.SandboxKernelManager.kernel_cwd = task.autograded
            if sandbox_kernel.FORK_PARENT is not None:
                # Kernel folders are made where the fork parent can see them (and children see only theirs).
                config.SandboxKernelManager.run_root = sandbox_kernel.FORK_PARENT.spawn_dir
        coursedir = CourseDirectory(config=config)
        _copy_submission(Path(task.submitted),
                         Path(coursedir.format_path(coursedir.submitted_directory, task.student, task.assignment)))
        _copy_source_files(Path(task.source),
                           Path(coursedir.format_path(coursedir.source_directory, ".", task.assignment)))
        seed_submission(scratch / "gradebook.db", Path(task.template), task.before)

        converter = _autograde_class()(coursedir=coursedir, config=config)
        converter.failures = []
        # The coordinator decided that this submission is to be graded, as nbgrader decides it.
        converter.force = True
        converter.autograde_preprocessors = _sandboxed_preprocessors(converter.autograde_preprocessors, task.sandbox)

        handler = _Collect()
        logger = logging.getLogger(NBGRADER_LOGGER)
        logger.addHandler(handler)
        try:
            converter.start()
        except NbGraderException:
            if not converter.failures:
                converter.failures.append("nbgrader could not autograde the submission")
        finally:
            logger.removeHandler(handler)
        outcome.errors += converter.failures
        outcome.log = handler.lines

        engine = engine_for(config.CourseDirectory.db_url)
        try:
            with engine.connect() as conn:
                outcome.after = _read_after(conn, task)
        finally:
            engine.dispose()
        output = Path(coursedir.format_path(coursedir.autograded_directory, task.student, task.assignment))
        outcome.output = str(output) if output.is_dir() else None
    except Exception as exc:  # noqa: BLE001 - any failure is this submission's, reported, never the batch's
        outcome.errors.append(f"grading failed: {describe(exc)}")
        outcome.log.append(traceback.format_exc(limit=8))
    if parent is not None:
        outcome.forked = parent.forked - forked_before
    if sandbox_kernel.FORK_PROBLEMS:
        outcome.fork_problem = sandbox_kernel.FORK_PROBLEMS[0]
    outcome.seconds = time.monotonic() - started
    return outcome


class ForkParents:
    """A grading process's fork parent, started on the first sandboxed submission that wants one. If it
    cannot be started, kernels start the usual way for the rest of the run, and the reason is kept for
    the first outcome only (the coordinator says it once)."""

    def __init__(self) -> None:
        self.parent: ForkParent | None = None
        self.problem: str | None = None
        self.reported = False
        self.replaced = 0

    def before(self, task: Task) -> None:
        from . import sandbox_kernel

        sandbox_kernel.FORK_PARENT = None
        if task.sandbox is None or task.fork is None or self.problem is not None:
            return
        if self.parent is None:
            spawn_dir = os.path.join(os.path.dirname(task.scratch), f"parent-{os.getpid()}")
            self.parent = ForkParent(task.sandbox, task.fork, spawn_dir)
        started = self.parent.started
        try:
            self.parent.ensure()
        except ForkUnavailable as exc:
            self.problem = str(exc)
            self.parent.close()
            return
        if started and self.parent.started > started:
            self.replaced += 1
        sandbox_kernel.FORK_PARENT = self.parent

    def after(self, outcome: Outcome) -> Outcome:
        outcome.fork_replaced, self.replaced = self.replaced, 0
        if self.problem is not None and not self.reported:
            self.reported = True
            outcome.fork_problem = outcome.fork_problem or self.problem
        return outcome

    def close(self) -> None:
        if self.parent is not None:
            self.parent.close()


def _read_after(conn: Any, task: Task) -> Rows:
    from sqlalchemy import select

    from .gradebook import tables

    assignment = tables()["assignment"]
    assignment_id = conn.execute(select(assignment.c.id).where(assignment.c.name == task.assignment)).scalar_one()
    return read_submission(conn, assignment_id, task.student)


def quiet_worker() -> None:
    """Keep a grading process's stray output (nbgrader's, the kernel's) off the trainer's terminal."""
    logger = logging.getLogger(NBGRADER_LOGGER)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
