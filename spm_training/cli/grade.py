"""``spm grade``: autograde a cohort in parallel, student code sandboxed, with nbgrader's own grades."""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING

import click

from ..grading.sandbox import Limits
from ..project import Project
from .common import pass_project

if TYPE_CHECKING:  # grading pulls in SQLAlchemy and nbgrader: imported when a grade runs, not at start-up
    from ..grading.autograde import GradeReport, SubmissionResult


def _score_text(result: SubmissionResult) -> str:
    if result.score is None:
        return f"-/{result.max_score:g}"
    return f"{result.score:g}/{result.max_score:g}"


class _Progress:
    """A progress bar on a terminal; nothing at all otherwise (logs and pipes stay clean)."""

    def __init__(self) -> None:
        self.bar = None

    def start(self, total: int) -> None:
        if sys.stderr.isatty():
            from tqdm import tqdm

            # No monitor thread: grading processes may be forked while the bar is up.
            tqdm.monitor_interval = 0
            self.bar = tqdm(total=total, unit="submission", file=sys.stderr, leave=False, dynamic_ncols=True)

    def done(self, result: SubmissionResult) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{result.student} {_score_text(result)}", refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _echo_report(report: GradeReport) -> None:
    where = "sandboxed" if report.sandboxed else "NOT sandboxed"
    if not report.results:
        click.echo(f"{report.assignment}: nothing to autograde")
    else:
        click.echo(f"{report.assignment}: {len(report.results)} submission(s) autograded in {report.seconds:.1f} s "
                   f"by {report.workers} worker(s), student code {where}")
    if report.fork_note:
        click.echo(f"Note: kernels were started one by one, not forked from a warm parent: {report.fork_note}. "
                   "Grades are the same, only slower; pass --no-fork to skip the attempt.", err=True)
    for result in report.results:
        flags = [f for f, on in (("FAILED", result.status == "failed"), ("tampered", result.tampered)) if on]
        click.echo(f"  {result.student}  {_score_text(result)}" + (f"  {', '.join(flags)}" if flags else ""))
    for student, why in report.skipped:
        click.echo(f"  {student}  skipped: {why}")
    if report.tampered:
        click.echo(f"Changed locked or test cells in {len(report.tampered)} submission(s):")
        for result in report.tampered:
            for finding in result.findings:
                click.echo(f"  {result.student}  {finding.line()}")
    if report.failed:
        click.echo(f"Could not be fully graded ({len(report.failed)}): nbgrader recorded what it could")
        for result in report.failed:
            for error in result.errors:
                click.echo(f"  {result.student}  {error}")


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@click.command("grade")
@click.argument("assignment")
@click.option("--student", "students", multiple=True, metavar="ID",
              help="Grade only this rep's submission (repeat for several). Default: every collected submission.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help=f"Grading processes (default: the number of cores, here {len(os.sched_getaffinity(0))}).")
@click.option("--force", is_flag=True, help="Grade again submissions that are already autograded.")
@click.option("--no-sandbox", is_flag=True,
              help="Run student code without a sandbox, with your rights. Only where no sandbox can be set up.")
@click.option("--no-fork", is_flag=True,
              help="Start every kernel on its own instead of forking it from a warm parent (slower; the same grades).")
@click.option("--gradebook", metavar="URL", help="nbgrader gradebook URL (default: the course's db_url).")
@click.option("--memory", "memory_mb", type=click.IntRange(min=256), default=Limits.memory_mb, show_default=True,
              metavar="MB", help="Address-space limit of each sandboxed process.")
@click.option("--cpu-time", "cpu_seconds", type=click.IntRange(min=1), default=Limits.cpu_seconds,
              show_default=True, metavar="SECONDS", help="CPU-time limit of each sandboxed process.")
@pass_project
def grade(project: Project, assignment: str, students: tuple[str, ...], workers: int | None, force: bool, no_sandbox: bool,
          no_fork: bool, gradebook: str | None, memory_mb: int, cpu_seconds: int) -> None:
    """Autograde the collected submissions of ASSIGNMENT in parallel, student code in a sandbox.

    Grades are nbgrader's own: each submission goes through nbgrader's autograde, in one of several
    processes, and its rows reach the gradebook in one transaction. Student code runs in a bubblewrap
    sandbox: no network, no access to the gradebook, source/ (hidden tests) or other reps' folders, and
    limits on memory, CPU time and processes, besides nbgrader's per-cell timeout.

    Each grading process forks its kernels from a warm parent that imported ipykernel and the course's
    modules once (spm.yml: grading: {fork: true, preload: [pandas, numpy]}; default: what the source
    notebooks import), each child in namespaces of its own; --no-fork starts every kernel on its own.

    Like nbgrader autograde, it grades submissions not autograded yet or collected again since; --force
    grades all. Submissions whose locked or test cells were changed are listed, stored for
    `spm report items`, and written beside the autograded folder as <assignment>.tampering.json.
    Exit code 1 if any submission could not be fully graded.
    """
    from concurrent.futures import ThreadPoolExecutor

    from ..grading.autograde import grade as grade_assignment
    from ..grading.autograde import preload
    from ..grading.sandbox import find_sandbox
    from ..settings import load_grading

    # jsonschema, which nbformat imports, loads rfc3987_syntax when it is installed, only to check the
    # "iri" string format, and that import compiles dozens of grammars: over a second, a good part of the
    # start-up. Neither the notebook format nor nbgrader's metadata uses the format, so this command
    # (not the library, whose callers may want it) goes without it.
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    settings = load_grading(project.settings_path)
    sandbox = None
    if not no_sandbox:
        # The sandbox check mostly waits for a process; import nbgrader (seconds) meanwhile. The thread
        # is done before any grading process is forked.
        with ThreadPoolExecutor(max_workers=1) as background:
            check = background.submit(find_sandbox, Limits(memory_mb=memory_mb, cpu_seconds=cpu_seconds))
            preload()
            sandbox = check.result()
    else:
        click.echo("Warning: --no-sandbox: student code runs with your rights, and can read the hidden tests "
                   "and change the gradebook.", err=True)
    progress = _Progress()
    # A SIGTERM (a hub stopping the server, `timeout`) ends the run like Ctrl-C does: through the
    # clean-up that stops the grading processes and removes the scratch copies of the submissions.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with project.open_store() as store:
        try:
            report = grade_assignment(project.course_dir, assignment, sandbox=sandbox, students=students or None,
                                      workers=workers, force=force, gradebook=gradebook, store=store,
                                      on_start=progress.start, on_result=progress.done,
                                      fork=settings["fork"] and not no_fork, preload_modules=settings["preload"])
        finally:
            progress.close()
            signal.signal(signal.SIGTERM, previous)
    _echo_report(report)
    if report.failed:
        raise click.ClickException(f"{len(report.failed)} of {len(report.results)} submission(s) of {assignment} "
                                   "could not be fully graded; see above")
