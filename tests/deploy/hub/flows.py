"""What trainers and reps do on the deployed hub, step by step, shared by tests/deploy/test_hub.py and
benchmarks/hub_load.py. Each step works through the hub as the person would, and returns what it
saw, so that the callers can check it and time it."""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import answers
from .deployment import COURSE, SOURCE, Deployment
from .hub import HubError, User

ASSIGNMENT = answers.ASSIGNMENT
NOTEBOOK_PATH = f"{COURSE}/{ASSIGNMENT}/{answers.NOTEBOOK}.ipynb"   # Exchange.path_includes_course


def solutions() -> dict[str, str]:
    return answers.solutions(SOURCE / "source" / ASSIGNMENT / f"{answers.NOTEBOOK}.ipynb")


def in_course(trainer: User, command: str, timeout: float = 600) -> tuple[int, str]:
    """A command typed into the trainer's terminal, in their link to the course folder."""
    return trainer.terminal(f"cd ~/courses/{COURSE} && {command}", timeout=timeout)


def release(trainer: User) -> None:
    """Generate and release, as the formgrader's buttons do."""
    trainer.formgrader("assign", ASSIGNMENT)
    trainer.formgrader("release", ASSIGNMENT)


def statuses(rep: User) -> list[str]:
    """The assignment's entries in the rep's Assignments tab: released or fetched, plus one per submission."""
    return sorted(a["status"] for a in rep.assignments(COURSE) if a["assignment_id"] == ASSIGNMENT)


def rep_works(rep: User, kind: str, answer_code: dict[str, str]) -> list[list[str]]:
    """A rep in JupyterLab: the Assignments tab (list, fetch), the notebook (open, answer, save),
    then submit. Returns the assignment's entries in the tab after each step."""
    seen = [statuses(rep)]
    rep.assignment_action("fetch", COURSE, ASSIGNMENT)
    seen.append(statuses(rep))
    released = rep.read_notebook(NOTEBOOK_PATH)
    rep.save_notebook(NOTEBOOK_PATH, answers.answer(released, rep.name, kind, answer_code))
    rep.assignment_action("submit", COURSE, ASSIGNMENT)
    seen.append(statuses(rep))
    return seen


def submitted_signatures(deployment: Deployment, students: Sequence[str], folder: str = "submitted") -> dict[str, str]:
    """student -> the signature found in their collected (or autograded) notebook."""
    found = {}
    for student in students:
        path = deployment.course_root / folder / student / ASSIGNMENT / f"{answers.NOTEBOOK}.ipynb"
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = next(c for c in nb["cells"]
                    if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == answers.MANUAL_CELL)
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        found[student] = text.split(" By the end", 1)[0]
    return found


# --- reading the results as root -------------------------------------------------------------------

_TOTALS_SQL = """
SELECT sa.student_id, SUM(g.auto_score), SUM(g.manual_score), MAX(CASE WHEN g.needs_manual_grade THEN 1 ELSE 0 END),
       COUNT(*)
FROM grade g
JOIN submitted_notebook sn ON sn.id = g.notebook_id
JOIN submitted_assignment sa ON sa.id = sn.assignment_id
JOIN assignment a ON a.id = sa.assignment_id
WHERE a.name = :assignment
GROUP BY sa.student_id
"""


@dataclass(frozen=True)
class Totals:
    auto: float
    manual: float | None
    needs_manual: bool
    grades: int


def gradebook_totals(url: str) -> dict[str, Totals]:
    """Each student's autograded and manual totals on the assignment, straight from the gradebook."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(_TOTALS_SQL), {"assignment": ASSIGNMENT}).all()
    finally:
        engine.dispose()
    return {r[0]: Totals(float(r[1] or 0), None if r[2] is None else float(r[2]), bool(r[3]), int(r[4]))
            for r in rows}


def store_totals(db: Path) -> dict[str, Totals]:
    """The same totals, from the spm store after a sync."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT s.rep_id, SUM(s.auto_score), SUM(s.manual_score), MAX(s.needs_manual_grade), COUNT(*) "
            "FROM scores s JOIN items i ON i.id = s.item_id WHERE i.assignment = ? GROUP BY s.rep_id",
            (ASSIGNMENT,)).fetchall()
    finally:
        conn.close()
    return {r[0]: Totals(float(r[1] or 0), None if r[2] is None else float(r[2]), bool(r[3]), int(r[4]))
            for r in rows}


# --- many reps submitting at the same moment -------------------------------------------------------

# Runs as each simulated rep, as they would type it in a terminal: fetch the assignment, then wait at
# the barrier with nbgrader already loaded, and submit the moment the test says go.
_FETCH_THEN_SUBMIT = """
import sys, time
from nbgrader.apps import FetchAssignmentApp, SubmitApp
assignment, course = sys.argv[1:3]
FetchAssignmentApp.launch_instance([assignment, "--course", course, "--log-level=WARN"])
FetchAssignmentApp.clear_instance()
print("ready", flush=True)
sys.stdin.readline()
started = time.time()
try:
    SubmitApp.launch_instance([assignment, "--course", course, "--log-level=WARN"])
finally:
    print(f"submitted-in {time.time() - started:.3f}", flush=True)
"""


@dataclass
class LoadResult:
    reps: int
    fetch_seconds: float                  # until every rep had fetched and waited at the barrier
    submit_seconds: float                 # from "go" to the last submission written
    inbound: int                          # submissions found in the exchange afterwards
    collect_seconds: float
    collected: dict[str, str]             # rep -> signature in their collected notebook
    grade_seconds: float
    grade_output: str
    scores: dict[str, Totals]
    expected: dict[str, float]
    slowest_submit: float = 0.0           # the longest time one rep spent inside nbgrader's submit
    stamped_within: float = 0.0           # latest minus earliest submission timestamp nbgrader recorded
    failures: list[str] = field(default_factory=list)

    @property
    def lost(self) -> list[str]:
        return sorted(set(self.expected) - set(self.scores))

    @property
    def wrong(self) -> list[str]:
        return sorted(s for s in self.expected if s in self.scores and self.scores[s].auto != self.expected[s])

    @property
    def mixed_up(self) -> list[str]:
        return sorted(s for s, signed in self.collected.items() if signed != answers.signature(s))


def submission_times(deployment: Deployment, students: set[str]) -> list[datetime]:
    """When nbgrader stamped each of these students' submissions in the exchange (from the folder names,
    student+assignment+timestamp+random)."""
    times = []
    for entry in deployment.exchange_course.joinpath("inbound").iterdir():
        student, _, stamp, _ = entry.name.split("+", 3)
        if student in students:
            times.append(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f %Z"))
    return times


def _write_work(rep: User, kind: str, answer_code: dict[str, str]) -> None:
    """The rep's work, saved into their fetched notebook (written as root, handed to the rep)."""
    entry = pwd.getpwnam(rep.name)
    path = Path(entry.pw_dir) / NOTEBOOK_PATH
    nb = answers.answer(json.loads(path.read_text(encoding="utf-8")), rep.name, kind, answer_code)
    path.write_text(json.dumps(nb), encoding="utf-8")
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _start_rep(deployment: Deployment, rep: User) -> subprocess.Popen:
    env = deployment.cli_environment(rep)
    entry = pwd.getpwnam(rep.name)
    env.update({"HOME": entry.pw_dir, "USER": rep.name, "LOGNAME": rep.name, "LANG": "C.UTF-8"})
    argv = ["runuser", "-u", rep.name, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
            deployment.python(), "-c", _FETCH_THEN_SUBMIT, ASSIGNMENT, COURSE]
    return subprocess.Popen(argv, cwd=entry.pw_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def simultaneous_submissions(deployment: Deployment, trainer: User, reps: Sequence[User], workers: int = 2
                             ) -> LoadResult:
    """Every rep fetches and works, then all submit at the same moment; the trainer collects and grades."""
    answer_code = solutions()
    kinds = {rep.name: answers.kind_for(i) for i, rep in enumerate(reps)}
    before = len(list(deployment.exchange_course.joinpath("inbound").iterdir()))
    started = time.monotonic()
    procs = [_start_rep(deployment, rep) for rep in reps]
    for proc, rep in zip(procs, reps):
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            raise HubError(f"{rep.name}: fetch failed: {line!r} {proc.stderr.read()[-600:]}")
    fetch_seconds = time.monotonic() - started
    for rep in reps:
        _write_work(rep, kinds[rep.name], answer_code)

    go = time.monotonic()
    for proc in procs:                    # the barrier opens for everyone at once
        proc.stdin.write("go\n")
        proc.stdin.flush()
    failures: list[str] = []
    slowest = 0.0
    for proc, rep in zip(procs, reps):
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            failures.append(f"{rep.name}: submit exited {proc.returncode}: {err.strip()[-400:]}")
        for line in out.splitlines():
            if line.startswith("submitted-in "):
                slowest = max(slowest, float(line.split()[1]))
    submit_seconds = time.monotonic() - go
    inbound = len(list(deployment.exchange_course.joinpath("inbound").iterdir())) - before
    stamps = submission_times(deployment, {rep.name for rep in reps})
    stamped_within = (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0

    started = time.monotonic()
    trainer.formgrader("collect", ASSIGNMENT)
    collect_seconds = time.monotonic() - started
    names = [rep.name for rep in reps]
    collected = submitted_signatures(deployment, [n for n in names
                                                  if (deployment.course_root / "submitted" / n / ASSIGNMENT).is_dir()])

    started = time.monotonic()
    code, output = in_course(trainer, f"spm --course . grade {ASSIGNMENT} --workers {workers}", timeout=3600)
    grade_seconds = time.monotonic() - started
    if code != 0:
        failures.append(f"spm grade exited {code}:\n{output[-2000:]}")
    scores = {s: t for s, t in gradebook_totals(deployment.gradebook_url).items() if s in kinds}
    return LoadResult(len(reps), fetch_seconds, submit_seconds, inbound, collect_seconds, collected, grade_seconds,
                      output, scores, {n: answers.SCORES[k] for n, k in kinds.items()}, slowest, stamped_within,
                      failures)


# --- two trainers grading at the same time ---------------------------------------------------------

def manual_score_for(index: int) -> float:
    """The trainer's mark for the index-th rep's SMART goal (0-based), 1 to 4 in turn."""
    return float(1 + index % 4)


def _grade_by_hand(trainer: User, marks: dict[str, float]) -> None:
    """Formgrader's grading page: find each rep's SMART-goal grade, type the score, save."""
    submissions = trainer.ok_json(trainer.get(f"formgrader/api/submitted_notebooks/{ASSIGNMENT}/{answers.NOTEBOOK}"))
    ids = {s["student"]: s["id"] for s in submissions}
    for student, score in marks.items():
        grades = trainer.ok_json(trainer.get("formgrader/api/grades", params={"submission_id": ids[student]}))
        grade_id = next(g["id"] for g in grades if g["name"] == answers.MANUAL_CELL)
        trainer.ok_json(trainer.put(f"formgrader/api/grade/{grade_id}", json={"manual_score": score}))


@dataclass
class TwoTrainersResult:
    halves: tuple[list[str], list[str]]
    autograde_seconds: float
    autograde_outputs: tuple[str, str]
    autograde_codes: tuple[int, int]
    manual_seconds: float
    marks: dict[str, float]
    scores: dict[str, Totals]


def two_trainers_grade(deployment: Deployment, students: Sequence[str], workers: int = 1) -> TwoTrainersResult:
    """Both trainers at once, each on half of the reps: first ``spm grade --force`` in their terminals,
    then marking the SMART goal by hand in formgrader. Both write to the one PostgreSQL gradebook."""
    first, second = deployment.trainers[:2]
    halves = (list(students[0::2]), list(students[1::2]))

    def regrade(trainer: User, half: list[str]) -> tuple[int, str]:
        chosen = " ".join(f"--student {s}" for s in half)
        return in_course(trainer, f"spm --course . grade {ASSIGNMENT} --force --workers {workers} {chosen}",
                         timeout=1800)

    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(regrade, (first, second), halves))
    autograde_seconds = time.monotonic() - started

    marks = {s: manual_score_for(i) for i, s in enumerate(students)}
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(_grade_by_hand, (first, second),
                      [{s: marks[s] for s in half} for half in halves]))
    manual_seconds = time.monotonic() - started
    scores = {s: t for s, t in gradebook_totals(deployment.gradebook_url).items() if s in marks}
    return TwoTrainersResult(halves, autograde_seconds, (outcomes[0][1], outcomes[1][1]),
                             (outcomes[0][0], outcomes[1][0]), manual_seconds, marks, scores)
