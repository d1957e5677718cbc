"""Fifty reps submitting at the same moment on a real hub, then two trainers grading at once.

Deploys deploy/ on this machine as tests/test_hub.py does (a JupyterHub on 127.0.0.1 with
configurable-http-proxy, local Unix users, nbgrader's exchange, a PostgreSQL gradebook), with a trainer
and ``--reps`` simulated reps, then:

1. every rep fetches the assignment and writes their answers; then all of them submit at the same
   moment (each process waits at a barrier with nbgrader already loaded, and is released at once);
2. the trainer collects through formgrader and runs ``spm grade`` in a JupyterLab terminal;
3. two trainers, each on half of the reps, run ``spm grade --force`` at the same time, then mark the
   written answer by hand in formgrader at the same time, both against the one PostgreSQL gradebook;
4. ``spm sync`` copies the gradebook into the store.

Each rep's answers carry a known score (9, 5 or 0 of 9 autograded points, in turn) and their
signature, so a lost, duplicated or swapped submission shows as a missing or wrong score. Prints what
held and how long each step took; exit code 1 if anything was lost or wrong.

Needs root (it creates the users), JupyterHub, configurable-http-proxy (scripts/test.sh installs it;
or set SPM_TEST_CHP) and PostgreSQL's server binaries.

    sudo .venv/bin/python benchmarks/hub_load.py [--reps 50] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hub import answers, flows  # noqa: E402
from hub.deployment import deployed, why_unavailable  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=50, help="simulated reps submitting at once (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="spm grade's grading processes (default 2)")
    args = parser.parse_args()
    reason = why_unavailable()
    if reason:
        print(f"cannot run: {reason}")
        return 2

    held: list[tuple[str, bool]] = []
    started = time.monotonic()
    with deployed(reps=0, simulated=args.reps) as deployment:
        print(f"deployed in {time.monotonic() - started:.1f} s: " +
              ", ".join(f"{name} {seconds:.1f} s" for name, seconds in deployment.timings.items()))
        trainer = deployment.trainers[0]
        step = time.monotonic()
        flows.release(trainer)
        trainer.save_text("roster.csv", deployment.roster_csv())
        code, output = flows.in_course(trainer, "spm --course . roster import ~/roster.csv")
        print(f"released and roster imported in {time.monotonic() - step:.1f} s")
        if code != 0:
            print(output)
            return 1

        load = flows.simultaneous_submissions(deployment, trainer, deployment.simulated, workers=args.workers)
        print(f"\n{load.reps} reps fetched the assignment and waited at the barrier: {load.fetch_seconds:.1f} s "
              f"({load.reps} processes loading nbgrader at once)")
        print(f"barrier opened: every submit finished within {load.submit_seconds:.1f} s; nbgrader stamped the "
              f"{load.inbound} submissions within {load.stamped_within:.1f} s of each other; the longest time "
              f"inside one submit was {load.slowest_submit:.2f} s")
        print(f"collected {len(load.collected)} in {load.collect_seconds:.1f} s (formgrader)")
        print(f"spm grade --workers {args.workers}: {len(load.scores)} autograded in {load.grade_seconds:.1f} s "
              f"({load.grade_seconds / max(1, len(load.scores)):.2f} s per submission)")
        for failure in load.failures:
            print(f"  FAILED: {failure[:500]}")
        held += [
            (f"every submission reached the exchange ({load.inbound} of {load.reps})", load.inbound == load.reps),
            (f"every submission collected ({len(load.collected)} of {load.reps})", len(load.collected) == load.reps),
            (f"no collected notebook mixed up ({len(load.mixed_up)} signed by someone else)", not load.mixed_up),
            (f"every submission graded ({len(load.scores)} of {load.reps}; lost: {len(load.lost)})", not load.lost),
            (f"every score as answered ({len(load.wrong)} wrong)", not load.wrong),
            ("no step failed", not load.failures),
        ]

        students = [u.name for u in deployment.simulated]
        both = flows.two_trainers_grade(deployment, students, workers=1)
        print(f"\ntwo trainers, {len(both.halves[0])} and {len(both.halves[1])} reps each, at the same time:")
        print(f"  spm grade --force in both terminals: {both.autograde_seconds:.1f} s "
              f"(exit codes {both.autograde_codes})")
        print(f"  {len(both.marks)} manual grades typed into formgrader: {both.manual_seconds:.1f} s")
        kinds = {u.name: answers.kind_for(i) for i, u in enumerate(deployment.simulated)}
        expected = {s: flows.Totals(answers.SCORES[kinds[s]], both.marks[s], False, 7) for s in students}
        lost = [s for s in students if both.scores.get(s) != expected[s]]
        held += [
            ("both trainers' spm grade succeeded", both.autograde_codes == (0, 0)),
            (f"no grade lost in the PostgreSQL gradebook ({len(lost)} reps with a missing or wrong grade)", not lost),
        ]

        step = time.monotonic()
        code, output = flows.in_course(deployment.trainers[1], "spm --course . sync")
        synced = flows.store_totals(deployment.course_root / "spm.db")
        first_line = output.splitlines()[0] if output else ""
        print(f"\nspm sync from PostgreSQL: {time.monotonic() - step:.1f} s; {first_line}")
        held.append((f"the store matches the gradebook for all {len(students)} reps", code == 0 and synced == expected))

    print(f"\nheld ({time.monotonic() - started:.0f} s in all):")
    for what, ok in held:
        print(f"  {'yes' if ok else 'NO '}  {what}")
    return 0 if all(ok for _, ok in held) else 1


if __name__ == "__main__":
    sys.exit(main())
