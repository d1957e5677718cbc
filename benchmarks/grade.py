"""Sequential ``nbgrader autograde`` against ``spm grade``, on the same submissions, in one run.

Two copies of the course (``assessments/`` by default) get the same generated assignment and the same
submissions: a deterministic mix of complete, partly answered and unanswered notebooks. One copy is
graded by the nbgrader command line, the other by the spm command line (sandboxed unless --no-sandbox;
kernels forked from a warm parent unless --no-fork), each timed from start to exit as a trainer would run
it. The grades of the two gradebooks must be
identical (every grade row's auto score, manual score, extra credit and needs-manual-grade flag, by
rep and cell); the script prints both times and the ratio, and exits 1 if the grades differ.

    python benchmarks/grade.py                      # 24 reps, assignment 01_kpi_smart
    python benchmarks/grade.py --rounds 3           # alternate the order; the median ratio
    python benchmarks/grade.py --reps 48 --assignment 02_funnel_analysis
    python benchmarks/grade.py --reps 200 --workers 2  # the issue's second size
    python benchmarks/grade.py --no-fork               # kernels started one by one, as before issue 20

The machine's load average is printed before each command: on a shared machine, what other people run
takes cores from both, and the ratio moves with it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE_FILES = ("nbgrader_config.py", "skills.yml", "source")


def _env() -> dict[str, str]:
    # nbgrader runs the alembic executable from PATH when it creates a gradebook.
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _copy_course(source: Path, dest: Path, assignment: str) -> None:
    dest.mkdir(parents=True)
    for name in COURSE_FILES:
        path = source / name
        if path.is_dir():
            shutil.copytree(path / assignment, dest / name / assignment)
        elif path.is_file():
            shutil.copyfile(path, dest / name)


def _generate(course: Path, assignment: str) -> None:
    """nbgrader generate_assignment, run in the course folder as a trainer runs it."""
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    done = subprocess.run([nbgrader, "generate_assignment", assignment, "--force"], cwd=course, env=_env(),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")


_SOLUTION_MARK = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def _solutions(source_nb: dict) -> dict[str, str]:
    """The model answer of every answer cell: the source with the solution markers taken out."""
    answers = {}
    for cell in source_nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            answers[meta["grade_id"]] = "\n".join(line for line in text.split("\n") if not _SOLUTION_MARK.match(line))
    return answers


def _submit(course: Path, assignment: str, reps: int) -> None:
    """``reps`` submissions: complete, first answer missing, last answer missing, untouched, in turn."""
    release = course / "release" / assignment
    notebooks = sorted(release.glob("*.ipynb"))
    for index in range(reps):
        folder = course / "submitted" / f"rep{index + 1:03d}" / assignment
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text(f"2026-02-{1 + index % 27:02d} 09:00:00.000000 UTC")
        for path in notebooks:
            nb = json.loads(path.read_text())
            answers = _solutions(json.loads((course / "source" / assignment / path.name).read_text()))
            ids = list(answers)
            keep = {0: ids, 1: ids[1:], 2: ids[:-1], 3: []}[index % 4]
            for cell in nb["cells"]:
                grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
                if grade_id in keep:
                    cell["source"] = answers[grade_id]
            (folder / path.name).write_text(json.dumps(nb, indent=1))


def _grades(course: Path) -> dict[tuple[str, str, str], tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{course / 'gradebook.db'}")
    query = text("""
        SELECT s.student_id, n.name, b.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade
        FROM grade g JOIN submitted_notebook sn ON g.notebook_id = sn.id
        JOIN submitted_assignment s ON sn.assignment_id = s.id
        JOIN notebook n ON sn.notebook_id = n.id JOIN base_cell b ON g.cell_id = b.id""")
    with engine.connect() as conn:
        rows = {(r[0], r[1], r[2]): (r[3], r[4], r[5], bool(r[6])) for r in conn.execute(query)}
    engine.dispose()
    return rows


def _timed(argv: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True)
    return time.perf_counter() - started, done


def _load() -> str:
    """The machine's load average: other people's work changes what two cores can give."""
    return f"load {os.getloadavg()[0]:.1f}"


def _round(pristine: Path, work: Path, args: argparse.Namespace, spm_first: bool) -> tuple[float, float] | None:
    """Grade fresh copies both ways; the two times, or None if the grades differ."""
    by_nbgrader, by_spm = work / "nbgrader" / "course", work / "spm" / "course"
    shutil.copytree(pristine, by_nbgrader)
    shutil.copytree(pristine, by_spm)
    bin_dir = Path(sys.executable).parent
    spm = [str(bin_dir / "spm"), "--course", str(by_spm), "--db", str(work / "spm.db"), "grade", args.assignment]
    if args.workers:
        spm += ["--workers", str(args.workers)]
    if args.no_sandbox:
        spm.append("--no-sandbox")
    if args.no_fork:
        spm.append("--no-fork")
    runs = {}
    for name in (("spm", "nbgrader") if spm_first else ("nbgrader", "spm")):
        load = _load()
        if name == "nbgrader":
            runs[name] = _timed([str(bin_dir / "nbgrader"), "autograde", args.assignment], by_nbgrader)
            label = "nbgrader autograde (sequential)"
        else:
            runs[name] = _timed(spm, work)
            label = f"spm grade ({'no sandbox' if args.no_sandbox else 'sandboxed'}" \
                    f"{', no fork' if args.no_fork else ''})"
        print(f"  {label:<32} {runs[name][0]:6.1f} s  (exit {runs[name][1].returncode}, {load} before)", flush=True)
    (nbgrader_seconds, nbgrader_run), (spm_seconds, spm_run) = runs["nbgrader"], runs["spm"]
    print(f"  speed-up: {nbgrader_seconds / spm_seconds:.2f}x", flush=True)

    expected, got = _grades(by_nbgrader), _grades(by_spm)
    graded = {key[0] for key in expected}
    if spm_run.returncode != 0 or nbgrader_run.returncode != 0:
        print(spm_run.stdout[-2000:], spm_run.stderr[-2000:], nbgrader_run.stderr[-2000:], sep="\n")
    if expected != got or len(graded) != args.reps:
        differ = sorted(k for k in expected.keys() | got.keys() if expected.get(k) != got.get(k))
        print(f"  GRADES DIFFER in {len(differ)} grade rows ({len(graded)} of {args.reps} reps graded by "
              f"nbgrader), e.g. {differ[:5]}")
        return None
    total = sum(1 for v in expected.values() if v[0] is not None)
    # The submissions only answer the answer cells, so a tampering report here would be a false alarm.
    reports = sorted((by_spm / "autograded").glob("*/*.tampering.json"))
    print(f"  grades identical: {len(expected)} grade rows of {len(graded)} reps ({total} autograded scores); "
          f"tampering reports: {len(reports)}")
    return None if reports else (nbgrader_seconds, spm_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", type=Path, default=ROOT / "assessments", help="the nbgrader course to copy")
    parser.add_argument("--assignment", default="01_kpi_smart")
    parser.add_argument("--reps", type=int, default=24, help="number of submissions (default 24)")
    parser.add_argument("--workers", type=int, default=None, help="spm grade --workers (default: one per core)")
    parser.add_argument("--no-sandbox", action="store_true", help="run spm grade without the sandbox")
    parser.add_argument("--no-fork", action="store_true", help="run spm grade with kernels started one by one")
    parser.add_argument("--rounds", type=int, default=1,
                        help="grade fresh copies this many times, alternating which command goes first")
    parser.add_argument("--keep", action="store_true", help="keep the course copies and print where they are")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="spm-bench-grade-"))
    try:
        pristine = work / "pristine" / "course"
        _copy_course(args.course, pristine, args.assignment)
        _generate(pristine, args.assignment)
        _submit(pristine, args.assignment, args.reps)
        print(f"{args.reps} submissions of {args.assignment}, {os.cpu_count()} cores", flush=True)
        ratios = []
        for number in range(args.rounds):
            print(f"round {number + 1}:", flush=True)
            times = _round(pristine, work / f"round{number + 1}", args, spm_first=bool(number % 2))
            if times is None:
                return 1
            ratios.append(times[0] / times[1])
        if args.rounds > 1:
            print(f"median speed-up over {args.rounds} rounds: {statistics.median(ratios):.2f}x "
                  f"(from {min(ratios):.2f}x to {max(ratios):.2f}x)")
        return 0
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
