"""spm sync against nbgrader export, and spm sync alone on 1.2 million grades.

The gradebooks are built with SQL on the schema nbgrader itself creates: ``nbgrader.api.Gradebook``
makes an empty gradebook (its alembic migrations, its tables and indexes), then every row (students,
assignments, notebooks, grade and solution cells, submissions, grades, comments) goes in with
``executemany`` in one transaction, with deterministic 32-character ids in nbgrader's format,
``synchronous = OFF`` and an in-memory journal. That takes seconds where nbgrader's per-object API
would take hours. Source notebooks with ``skill:`` tags are written beside it, as a course has them.

Part 1, 500 students × 10 assignments × 10 graded cells (about 50,000 grades: each student misses
5% of the assignments, to compare nbgrader's zero rows too), in the same run:

- ``spm sync``: the whole sync, per-cell scores, comments and skills into the store;
- ``nbgrader export``: nbgrader's CSV of per-student assignment totals (no per-cell scores).

Both run as subprocesses from the same virtual environment, so both pay interpreter start-up. Every
student's total per assignment from the store must equal nbgrader's ``raw_score``. Goal: spm sync at
least 100× faster.

Part 2, 5,000 students × 12 assignments × 20 cells (1,200,000 grades): ``spm sync`` alone, with its
wall time and peak resident memory (``ru_maxrss`` of the child, from ``os.wait4``), then a re-sync
with nothing changed. Goals: under 30 s and 1 GiB; the re-sync under 5 s.

    python benchmarks/sync.py [--part 1|2|all] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SPEEDUP_GOAL = 100.0
FULL_SECONDS_GOAL = 30.0
FULL_BYTES_GOAL = 2**30
RESYNC_SECONDS_GOAL = 5.0
MANUAL_EVERY = 5          # every fifth cell is a manually graded answer (a GradeCell and a SolutionCell)


def skill_ids() -> list[str]:
    import yaml

    return [s["id"] for s in yaml.safe_load((ROOT / "assessments" / "skills.yml").read_text())["skills"]]


def _id(kind: str, n: int) -> str:
    """A 32-character id like nbgrader's uuid4().hex, deterministic and unique per kind."""
    return f"{kind}{n:0{32 - len(kind)}x}"


def write_course(course: Path, n_assignments: int, n_cells: int) -> None:
    """skills.yml, nbgrader_config.py and the source notebooks whose cells carry the skill tags."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "assessments" / "skills.yml", course / "skills.yml")
    skills = skill_ids()
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = {('sqlite:///' + str(course / 'gradebook.db'))!r}\n")
    for a in range(n_assignments):
        folder = course / "source" / f"a{a + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        cells = []
        for c in range(n_cells):
            manual = (c + 1) % MANUAL_EVERY == 0
            tags = [f"skill:{skills[(a + c % 2) % len(skills)]}"]      # two skills per assignment
            cells.append({"cell_type": "markdown" if manual else "code", "id": f"c{c + 1:02d}", "source": "",
                          "metadata": {"tags": tags, "nbgrader": {
                              "grade": True, "solution": manual, "locked": not manual, "task": False,
                              "grade_id": f"c{c + 1:02d}", "points": 4.0 if manual else 2.0, "schema_version": 3}},
                          **({} if manual else {"outputs": [], "execution_count": None})})
        (folder / "nb.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                                     "nbformat_minor": 5}))


def create_gradebook(path: Path) -> None:
    """An empty gradebook, created by nbgrader (and its alembic) exactly as a course gets it."""
    env_path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{BIN}{os.pathsep}{env_path}"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{path}"):
        pass


def fill_gradebook(path: Path, n_students: int, n_assignments: int, n_cells: int, submit_share: float = 1.0,
                   seed: int = 3) -> int:
    """Students, the course structure, and a submission per student and assignment (for the given
    share of students), with a grade per cell and a comment per answer cell. Returns the number of
    grades."""
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = MEMORY")
    conn.execute("BEGIN")
    students = [f"s{i:05d}" for i in range(n_students)]
    conn.executemany("INSERT INTO student (id, first_name, last_name, email) VALUES (?, ?, ?, ?)",
                     [(s, "Rep", s, f"{s}@example.com") for s in students])
    grade_cells, cell_n = [], 0
    for a in range(n_assignments):
        aid, nid = _id("as", a), _id("nb", a)
        conn.execute("INSERT INTO assignment (id, name, duedate, course_id) VALUES (?, ?, NULL, 'default_course')",
                     (aid, f"a{a + 1:02d}"))
        conn.execute("INSERT INTO notebook (id, name, assignment_id) VALUES (?, 'nb', ?)", (nid, aid))
        for c in range(n_cells):
            manual = (c + 1) % MANUAL_EVERY == 0
            gid = _id("gc", cell_n)
            conn.execute("INSERT INTO base_cell (id, name, notebook_id, type) VALUES (?, ?, ?, 'GradeCell')",
                         (gid, f"c{c + 1:02d}", nid))
            conn.execute("INSERT INTO grade_cells (id, max_score, cell_type) VALUES (?, ?, ?)",
                         (gid, 4.0 if manual else 2.0, "markdown" if manual else "code"))
            sid = None
            if manual:
                sid = _id("sc", cell_n)
                conn.execute("INSERT INTO base_cell (id, name, notebook_id, type) VALUES (?, ?, ?, 'SolutionCell')",
                             (sid, f"c{c + 1:02d}", nid))
                conn.execute("INSERT INTO solution_cells (id) VALUES (?)", (sid,))
            grade_cells.append((a, gid, sid, manual))
            cell_n += 1
    n_grades = sub_n = 0
    for a in range(n_assignments):
        submitted = rng.random(n_students) < submit_share
        cells = [g for g in grade_cells if g[0] == a]
        subs, nbs, grades, comments = [], [], [], []
        for i, student in enumerate(students):
            if not submitted[i]:
                continue
            sa, sn = _id("sa", sub_n), _id("sn", sub_n)
            day = 1 + a * 7 + int(rng.integers(0, 5))
            subs.append((sa, _id("as", a), student, f"2026-{1 + day // 28:02d}-{1 + day % 28:02d} "
                                                    f"{9 + i % 8:02d}:00:00.000000"))
            nbs.append((sn, sa, _id("nb", a)))
            draws = rng.random(len(cells))
            for k, (_, gid, sid, manual) in enumerate(cells):
                if manual:
                    pending = draws[k] < 0.02
                    manual_score = None if pending else float(np.round(draws[k] * 8) / 2)
                    extra = 0.5 if draws[k] > 0.99 else None
                    grades.append((_id("gr", n_grades), sn, gid, None, manual_score, extra, int(pending)))
                    comments.append((_id("cm", n_grades), sn, sid, None,
                                     "Name the business impact first." if draws[k] < 0.3 else None))
                else:
                    grades.append((_id("gr", n_grades), sn, gid, float(2.0 if draws[k] < 0.7 else
                                                                     1.0 if draws[k] < 0.8 else 0.0),
                                   None, None, 0))
                n_grades += 1
            sub_n += 1
        conn.executemany("INSERT INTO submitted_assignment (id, assignment_id, student_id, timestamp) "
                         "VALUES (?, ?, ?, ?)", subs)
        conn.executemany("INSERT INTO submitted_notebook (id, assignment_id, notebook_id, flagged, "
                         "late_submission_penalty) VALUES (?, ?, ?, 0, NULL)", nbs)
        conn.executemany("INSERT INTO grade (id, notebook_id, cell_id, auto_score, manual_score, extra_credit, "
                         "needs_manual_grade) VALUES (?, ?, ?, ?, ?, ?, ?)", grades)
        conn.executemany("INSERT INTO comment (id, notebook_id, cell_id, auto_comment, manual_comment) "
                         "VALUES (?, ?, ?, ?, ?)", comments)
    conn.execute("COMMIT")
    conn.close()
    return n_grades


def make_store(work: Path, n_students: int) -> Path:
    """A store with the roster (the same ids as the gradebook's students)."""
    sys.path.insert(0, str(ROOT))
    from spm_training import import_roster, open_store

    roster = work / "roster.csv"
    with roster.open("w") as out:
        out.write("id,name,email,team,manager,role,hire_date\n")
        out.writelines(f"s{i:05d},Rep s{i:05d},s{i:05d}@example.com,team{i % 20},Manager {i % 20},"
                       f"{('SDR', 'AE', 'AM')[i % 3]},2025-06-01\n" for i in range(n_students))
    with open_store(work / "spm.db") as store:
        import_roster(store, roster, None)       # the students are in the gradebook already
    return work / "spm.db"


def timed(args: list[str], cwd: Path) -> tuple[float, int, str]:
    """Run a command; its wall time, its own peak RSS in bytes (os.wait4) and its output."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    text = out.read().decode()
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{text}")
    return seconds, usage.ru_maxrss * 1024, text


def spm_sync(work: Path, course: Path) -> tuple[float, int, str]:
    return timed([str(BIN / "spm"), "--db", str(work / "spm.db"), "--course", str(course), "sync"], work)


def in_process_resync(work: Path, course: Path) -> float:
    """The sync itself, without the command's start-up: into a fresh store, timed in this process."""
    sys.path.insert(0, str(ROOT))
    from spm_training import load_kpis, load_skills, open_store, sync_gradebook

    fresh = work / "fresh.db"
    make_store_at(fresh, work / "roster.csv")
    kpis = load_kpis(None)
    skills = load_skills(course, kpis)
    with open_store(fresh) as store:
        start = time.perf_counter()
        sync_gradebook(store, f"sqlite:///{course / 'gradebook.db'}", course, skills, kpis)
        return time.perf_counter() - start


def make_store_at(db: Path, roster: Path) -> None:
    from spm_training import import_roster, open_store

    with open_store(db) as store:
        import_roster(store, roster, None)


def store_scores(db: Path, course: Path) -> list[dict]:
    """``spm export scores``: every per-cell score in the store, as nbgrader counts it."""
    sys.path.insert(0, str(ROOT))
    from spm_training import Project, export_rows, open_store

    with open_store(db, create=False) as store:
        return export_rows(store, "scores", Project.at(None, course_dir=course, db_path=db))


def totals(rows: list[dict]) -> dict[tuple[str, str], float]:
    """Each rep's total per assignment, from the per-cell scores."""
    out: dict[tuple[str, str], float] = {}
    for row in rows:
        key = (row["rep_id"], row["assignment"])
        out[key] = out.get(key, 0.0) + row["score"]
    return out


def part1(base: Path) -> dict:
    n_students, n_assignments, n_cells = 500, 10, 10
    work, course = base / "part1", base / "part1" / "course"
    write_course(course, n_assignments, n_cells)
    start = time.perf_counter()
    create_gradebook(course / "gradebook.db")
    # 5% miss each assignment, so that nbgrader's zero rows for missing submissions are compared too
    grades = fill_gradebook(course / "gradebook.db", n_students, n_assignments, n_cells, submit_share=0.95)
    build = time.perf_counter() - start
    make_store(work, n_students)
    startup, _, _ = timed([str(BIN / "spm"), "--version"], work)
    # The machine may be shared: spm sync (seconds) runs three times, each into a fresh copy of the
    # roster-only store, and the median counts; nbgrader export (minutes) runs once.
    runs = []
    for n in range(3):
        shutil.copy2(work / "spm.db", work / f"run{n}.db")
    for n in range(3):
        runs.append(timed([str(BIN / "spm"), "--db", str(work / f"run{n}.db"), "--course", str(course), "sync"],
                          work))
    ours, ours_rss, ours_out = sorted(runs)[1]
    shutil.copy2(work / "run0.db", work / "spm.db")
    inside = in_process_resync(work, course)
    theirs, theirs_rss, _ = timed([str(BIN / "nbgrader"), "export", "--to", str(work / "grades.csv")], course)
    scores = store_scores(work / "spm.db", course)
    store_totals = totals(scores)
    with (work / "grades.csv").open() as handle:
        exported = list(csv.DictReader(handle))
    disagree = [(r["student_id"], r["assignment"], float(r["raw_score"]),
                 store_totals.get((r["student_id"], r["assignment"]), 0.0)) for r in exported
                if abs(float(r["raw_score"]) - store_totals.get((r["student_id"], r["assignment"]), 0.0)) > 1e-9]
    per_cell = len(scores)
    return {"grades": grades, "build_s": build, "startup_s": startup, "inside_s": inside, "spm_sync_s": ours,
            "spm_sync_runs": [r[0] for r in runs], "spm_sync_rss": ours_rss,
            "export_s": theirs, "export_rss": theirs_rss, "speedup": theirs / ours, "export_rows": len(exported),
            "per_cell_scores": per_cell, "disagreements": disagree, "sync_output": ours_out.strip()}


def part2(base: Path) -> dict:
    n_students, n_assignments, n_cells = 5000, 12, 20
    work, course = base / "part2", base / "part2" / "course"
    write_course(course, n_assignments, n_cells)
    start = time.perf_counter()
    create_gradebook(course / "gradebook.db")
    grades = fill_gradebook(course / "gradebook.db", n_students, n_assignments, n_cells)
    build = time.perf_counter() - start
    make_store(work, n_students)
    first, first_rss, first_out = spm_sync(work, course)
    again, again_rss, again_out = spm_sync(work, course)
    return {"grades": grades, "build_s": build, "sync_s": first, "sync_rss": first_rss, "resync_s": again,
            "resync_rss": again_rss, "sync_output": first_out.strip(), "resync_output": again_out.strip()}


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["1", "2", "all"], default="all")
    parser.add_argument("--keep", type=Path, help="Build in this folder and keep it (default: a temporary one).")
    options = parser.parse_args()
    base = options.keep or Path(tempfile.mkdtemp(prefix="spm-bench-sync-"))
    base.mkdir(parents=True, exist_ok=True)
    ok = True
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    try:
        if options.part in ("1", "all"):
            r = part1(base)
            print(f"part 1: {r['grades']:,} grades (gradebook built by SQL in {r['build_s']:.1f} s)")
            print(f"  spm sync          {r['spm_sync_s']:8.2f} s  peak {mib(r['spm_sync_rss'])}  "
                  f"({r['per_cell_scores']:,} per-cell scores, comments, skills; median of "
                  f"{', '.join(f'{x:.2f}' for x in r['spm_sync_runs'])} s)")
            print(f"    of which: the spm command's start-up (spm --version) {r['startup_s']:.2f} s; "
                  f"the sync itself, timed in-process, {r['inside_s']:.2f} s")
            print(f"  nbgrader export   {r['export_s']:8.2f} s  peak {mib(r['export_rss'])}  "
                  f"({r['export_rows']:,} assignment totals)")
            print(f"  speed-up          {r['speedup']:8.1f}×  (goal ≥ {SPEEDUP_GOAL:.0f}×)")
            print(f"  totals agree      {r['export_rows'] - len(r['disagreements']):,} of {r['export_rows']:,}")
            for d in r["disagreements"][:5]:
                print("    disagree:", d)
            ok &= r["speedup"] >= SPEEDUP_GOAL and not r["disagreements"]
        if options.part in ("2", "all"):
            r = part2(base)
            print(f"part 2: {r['grades']:,} grades (gradebook built by SQL in {r['build_s']:.1f} s)")
            print(f"  spm sync          {r['sync_s']:8.2f} s  peak {mib(r['sync_rss'])}  "
                  f"(goal < {FULL_SECONDS_GOAL:.0f} s, < {mib(FULL_BYTES_GOAL)})")
            print(f"  re-sync unchanged {r['resync_s']:8.2f} s  peak {mib(r['resync_rss'])}  "
                  f"(goal < {RESYNC_SECONDS_GOAL:.0f} s)")
            print(f"  {r['sync_output'].splitlines()[0]}")
            print(f"  {r['resync_output'].splitlines()[-1]}")
            ok &= (r["sync_s"] < FULL_SECONDS_GOAL and r["sync_rss"] < FULL_BYTES_GOAL
                   and r["resync_s"] < RESYNC_SECONDS_GOAL and "nothing changed" in r["resync_output"])
    finally:
        if options.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("all goals met" if ok else "some goals missed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
