"""spm report team for a 2,000-rep team and spm gaps --format csv for 5,000 reps.

Each store is drawn with numpy and written by the package's one store builder
(``spm_training.write_store``, through the public writers that ``spm roster import``, ``spm kpis
import`` and ``spm sync`` use): the roster, four quarters of KPI values per rep (every KPI of the
rep's role), the course's items (12 assignments × 20 graded cells, tagged with the catalog's skills)
and every rep's score on every item, with a share awaiting a manual grade and trainers' comments on
answer cells. That is the state ``spm sync`` and ``spm kpis import`` leave behind, built in seconds.
Each assignment measures two skills (each skill is measured by two assignments), as in a real course.

The commands run as subprocesses, as a manager or a script would run them; each one's wall time and
peak resident memory (``os.wait4``) are reported. Goals: under 5 s each.

    python benchmarks/reports.py [--team-reps 2000] [--reps 5000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync import BIN, timed  # noqa: E402  (the benchmark helpers beside this file)

GOAL_SECONDS = 5.0
ASSIGNMENTS, CELLS = 12, 20
QUARTERS = ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
TODAY = date(2026, 11, 15)


def build_store(db: Path, n_reps: int, teams: list[tuple[str, str]], seed: int = 1) -> None:
    """``teams``: (team id, role) pairs; reps are spread over them evenly."""
    from spm_training import ItemRow, load_kpis, load_skills, open_store, write_store

    kpis = load_kpis(None)
    skills = load_skills(ROOT / "assessments", kpis)
    skill_ids = list(skills)
    rng = np.random.default_rng(seed)
    reps = []
    for i in range(n_reps):
        team, role = teams[i % len(teams)]
        hired = TODAY - timedelta(days=int(rng.integers(14, 900)))
        reps.append({"id": f"r{i:05d}", "name": f"Rep {i:05d}", "email": f"r{i:05d}@example.com", "team_id": team,
                     "manager": f"Manager of {team}", "role": role, "hire_date": hired.isoformat()})
    level = {r["id"]: rng.uniform(0.35, 0.95) for r in reps}
    items, placed = [], []
    for a in range(ASSIGNMENTS):
        for c in range(CELLS):
            manual = (c + 1) % 5 == 0
            # As in a real course, an assignment teaches a couple of skills, not all of them.
            items.append(ItemRow(f"a{a + 1:02d}", "nb", f"c{c + 1:02d}", 4.0 if manual else 2.0,
                                 "manual" if manual else "autograded", (skill_ids[(a + c % 2) % len(skill_ids)],)))
            placed.append((items[-1], manual, a))
    scores = []
    for rep in reps:
        rep_id = rep["id"]
        x = np.clip(level[rep_id] + rng.normal(0, 0.2, len(items)), 0, 1)
        for (item, manual, a), share in zip(placed, x):
            score = float(np.round(share * item.max_score * 2) / 2)
            pending = manual and share > 0.97
            # (rep, assignment, notebook, cell, auto, manual, extra credit, pending, comment, submitted at):
            # a ScoreRow's fields, as a plain tuple for speed
            scores.append((rep_id, item.assignment, item.notebook, item.cell, None if manual else score,
                           score if manual and not pending else None, None, int(pending),
                           "Name the business impact first." if manual and share < 0.4 else None,
                           f"2026-{1 + a % 9:02d}-10 10:00:00.000000"))
    values = []
    for rep in reps:
        for period in QUARTERS:
            for kpi in kpis.values():
                target = kpi.target_for(rep["role"], "quarter")
                if rep["role"] not in kpi.roles or not target:
                    continue
                att = float(np.exp(rng.normal(0.7 * (level[rep["id"]] - 0.65), 0.15)))
                value = target * att if kpi.direction == "higher" else target / att
                values.append((rep["id"], period, kpi.id, value, target))
    with open_store(db) as store:
        write_store(store, reps=reps, kpi_values=values, kpi_source="benchmark", skills=skills, kpis=kpis,
                    items=items, scores=scores)


def spm(db: Path, work: Path, *args: str) -> tuple[float, int, str]:
    return timed([str(BIN / "spm"), "--db", str(db), "--course", str(ROOT / "assessments"), *args], work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--team-reps", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="Build in this folder and keep it (default: a temporary one).")
    options = parser.parse_args()
    work = options.keep or Path(tempfile.mkdtemp(prefix="spm-bench-reports-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    ok = True
    try:
        start = time.perf_counter()
        build_store(work / "team.db", options.team_reps, [("Big", "AE")])
        print(f"team store: {options.team_reps:,} reps in one team, {options.team_reps * ASSIGNMENTS * CELLS:,} "
              f"scores (built in {time.perf_counter() - start:.1f} s)")
        seconds, rss, out = spm(work / "team.db", work, "report", "team", "Big", "-o", str(work / "team.html"))
        size = (work / "team.html").stat().st_size
        print(f"  spm report team   {seconds:6.2f} s  peak {rss / 2**20:,.0f} MiB  ({size / 2**20:.1f} MiB of HTML; "
              f"goal < {GOAL_SECONDS:.0f} s)")
        ok &= seconds < GOAL_SECONDS

        start = time.perf_counter()
        teams = [(f"team{t:02d}", ("SDR", "AE", "AM")[t % 3]) for t in range(25)]
        build_store(work / "org.db", options.reps, teams, seed=2)
        print(f"org store: {options.reps:,} reps in {len(teams)} teams, {options.reps * ASSIGNMENTS * CELLS:,} scores "
              f"(built in {time.perf_counter() - start:.1f} s)")
        seconds, rss, out = spm(work / "org.db", work, "gaps", "--format", "csv")
        lines = out.count("\n")
        print(f"  spm gaps --format csv {seconds:6.2f} s  peak {rss / 2**20:,.0f} MiB  ({lines - 1:,} gap rows; "
              f"goal < {GOAL_SECONDS:.0f} s)")
        ok &= seconds < GOAL_SECONDS
    finally:
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("all goals met" if ok else "some goals missed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
