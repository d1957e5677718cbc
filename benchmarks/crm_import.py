"""CRM import against a bare pandas computation of the same KPIs, side by side on the same export.

Generates an opportunities export of 1,000,000 rows (two years, ~2,000 owners, half of the amounts
written with thousands separators, a tenth of the owners given by email) and a roster of the same reps,
imports the roster first, then in the same run:

- ours: ``spm crm import`` end to end (reads and validates every row, matches owners, derives the KPIs
  per quarter, fills targets, upserts into the store in one transaction);
- baseline: plain pandas, ``read_csv`` + ``groupby``, computing the same KPIs with no validation, no
  zero-filled periods, no targets and no store.

Both run as subprocesses; each one's wall time and peak resident memory (``ru_maxrss``, the figure
``getrusage(RUSAGE_CHILDREN)`` reports, taken per child with ``os.wait4`` so that one child's peak does
not hide another's) are its own. A sample of the baseline's values is looked up in the store: they must
agree. Goals: ours under 60 s with peak memory under 2 GiB.

Then the export a month later, in which 1% of the reps have left and their deals belong to colleagues,
is imported into the same store: it must also take under 60 s, agree with the baseline on the new
export, and leave no value the new export does not give (the leavers' KPIs are removed).

    python benchmarks/crm_import.py [--rows 1000000] [--reps 2000]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

GOAL_SECONDS = 60.0
GOAL_BYTES = 2 * 2**30
ROLES = ("AE",) * 7 + ("AM",) * 2 + ("SDR",)


def write_roster(path: Path, n_reps: int) -> None:
    with path.open("w") as out:
        out.write("id,name,email,team,manager,role,hire_date,crm_owner\n")
        out.writelines(f"rep{i:05d},Rep {i:05d},rep{i:05d}@example.com,team{i % 50},Manager {i % 50},"
                       f"{ROLES[i % len(ROLES)]},2023-06-01,Rep {i:05d}\n" for i in range(n_reps))


def write_opportunities(path: Path, n_rows: int, n_reps: int, seed: int = 5, leavers: int = 0) -> None:
    """A generic-preset export built column by column with numpy (no Python loop per row). With
    ``leavers``, the export a month later in which the first ``leavers`` reps have left and their
    deals belong to the next reps (every other column as with none)."""
    rng = np.random.default_rng(seed)
    owner_ix = rng.integers(0, n_reps, n_rows)
    if leavers:
        owner_ix = np.where(owner_ix < leavers, owner_ix + leavers, owner_ix)
    names = np.array([f"Rep {i:05d}" for i in range(n_reps)], dtype=object)
    emails = np.array([f"rep{i:05d}@example.com" for i in range(n_reps)], dtype=object)
    owner = np.where(rng.random(n_rows) < 0.1, emails[owner_ix], names[owner_ix])
    created = np.datetime64("2024-01-01") + rng.integers(0, 731, n_rows).astype("timedelta64[D]")
    closed = created + rng.gamma(2.0, 25.0, n_rows).astype(np.int64).astype("timedelta64[D]")
    draw = rng.random(n_rows)
    status = np.where(closed > np.datetime64("2025-12-31"), "open",
                      np.where(draw < 0.3, "won", np.where(draw < 0.85, "lost", "open")))
    amount = pd.Series(np.round(rng.lognormal(9.5, 0.8, n_rows), 2))
    grouped = rng.random(n_rows) < 0.5
    amount_text = np.where(grouped, amount.map("{:,.2f}".format).to_numpy(), amount.astype(str).to_numpy())
    pd.DataFrame({
        "id": pd.Series(np.arange(n_rows)).map("OPP-{:07d}".format),
        "owner": owner,
        "account": pd.Series(rng.integers(0, 200_000, n_rows)).map("Account {}".format),
        "created_date": pd.Series(created).dt.strftime("%Y-%m-%d"),
        "close_date": np.where(status == "open", "", pd.Series(closed).dt.strftime("%Y-%m-%d")),
        "stage": np.where(status == "won", "Closed Won", np.where(status == "lost", "Closed Lost", "Proposal")),
        "amount": amount_text,
        "status": status,
    }).to_csv(path, index=False)


def baseline(roster: Path, opportunities: Path, out: Path) -> None:
    """The same KPIs per rep and quarter, the plain pandas way: read_csv + groupby."""
    reps = pd.read_csv(roster)
    who = dict(zip(reps["crm_owner"].str.lower(), reps["id"])) | dict(zip(reps["email"].str.lower(), reps["id"]))
    df = pd.read_csv(opportunities, usecols=["id", "owner", "created_date", "close_date", "amount", "status"],
                     dtype=str, keep_default_na=False)
    df = df.drop_duplicates("id", keep="last")
    df["rep"] = df["owner"].str.lower().map(who)
    df["amount"] = df["amount"].str.replace(",", "", regex=False).astype(float)
    created = pd.to_datetime(df["created_date"], format="%Y-%m-%d")
    closed = pd.to_datetime(df["close_date"], format="%Y-%m-%d", errors="coerce")
    df["cq"] = created.dt.year.astype(str) + "-Q" + created.dt.quarter.astype(str)
    df["xq"] = closed.dt.year.astype("Int64").astype(str) + "-Q" + closed.dt.quarter.astype("Int64").astype(str)
    df["days"] = (closed - created).dt.days
    won = df[df["status"] == "won"]
    shut = df[df["status"] != "open"]
    by_won = won.groupby(["rep", "xq"])
    parts = {
        "revenue": by_won["amount"].sum(),
        "deals_won": by_won.size().astype(float),
        "win_rate": (shut["status"] == "won").groupby([shut["rep"], shut["xq"]]).mean(),
        "avg_deal_size": by_won["amount"].mean(),
        "sales_cycle_length": by_won["days"].median(),
        "pipeline_generated": df.groupby(["rep", "cq"])["amount"].sum(),
    }
    frames = [s.rename("value").rename_axis(["rep_id", "period"]).reset_index().assign(kpi_id=k)
              for k, s in parts.items()]
    pd.concat(frames).to_csv(out, index=False)


def run(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time and peak resident memory (bytes) of one child process."""
    with tempfile.TemporaryFile() as log:   # a file, not a pipe: a chatty child cannot block on it
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        log.seek(0)
        output = log.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{output}")
    sys.stdout.write("".join(f"  | {line}\n" for line in output.splitlines()))
    return elapsed, usage.ru_maxrss * 1024


def compare(store: Path, baseline_csv: Path, sample: int = 2000) -> tuple[int, list]:
    expected = pd.read_csv(baseline_csv).sample(sample, random_state=3)
    conn = sqlite3.connect(store)
    differ = []
    for rep, period, kpi, value in expected[["rep_id", "period", "kpi_id", "value"]].itertuples(index=False):
        row = conn.execute("SELECT value FROM kpi_values WHERE rep_id = ? AND period = ? AND kpi_id = ?",
                           (rep, period, kpi)).fetchone()
        if row is None or abs(row[0] - value) > 1e-6 * max(1.0, abs(value)):
            differ.append((rep, period, kpi, value, row and row[0]))
    return len(expected), differ


def extra_values(store: Path, baseline_csv: Path, leavers: list[str]) -> list[tuple]:
    """(rep, period, KPI) in the store that the new export does not give: any value of a rep who
    left, and, for the KPIs defined only where a deal was won or closed (the baseline computes them
    without zero-filled periods), any value the baseline does not have."""
    kpis = ("win_rate", "avg_deal_size", "sales_cycle_length")
    expected = pd.read_csv(baseline_csv)
    wanted = set(expected.loc[expected["kpi_id"].isin(kpis), ["rep_id", "period", "kpi_id"]].itertuples(index=False,
                                                                                                     name=None))
    conn = sqlite3.connect(store)
    found = conn.execute(f"SELECT rep_id, period, kpi_id FROM kpi_values WHERE kpi_id IN {kpis}").fetchall()
    gone = conn.execute(f"SELECT rep_id, period, kpi_id FROM kpi_values WHERE rep_id IN "
                        f"({', '.join('?' * len(leavers))})", leavers).fetchall()
    conn.close()
    return sorted((set(found) - wanted) | set(gone))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--baseline", nargs=3, metavar=("ROSTER", "OPPS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        baseline(*map(Path, args.baseline))
        return
    spm = shutil.which("spm", path=str(Path(sys.executable).parent)) or "spm"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "course").mkdir()
        roster, opps = folder / "roster.csv", folder / "opps.csv"
        started = time.perf_counter()
        write_roster(roster, args.reps)
        write_opportunities(opps, args.rows, args.reps)
        print(f"{args.rows:,} opportunity rows ({opps.stat().st_size / 2**20:.0f} MiB), {args.reps:,} reps; "
              f"generated in {time.perf_counter() - started:.1f} s")
        env_db = ["--db", str(folder / "spm.db"), "--course", str(folder / "course")]
        t_roster, _ = run([spm, *env_db, "roster", "import", str(roster)], folder)
        print(f"roster imported first (not timed against the goal): {t_roster:.1f} s")

        # the baseline first, then ours: the page cache is equally warm for both after the write
        t_base, mem_base = run([sys.executable, __file__, "--baseline", str(roster), str(opps),
                                str(folder / "baseline.csv")], folder)
        t_ours, mem_ours = run([spm, *env_db, "crm", "import", str(opps), "--period", "quarter"], folder)
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024

        n_sample, differ = compare(folder / "spm.db", folder / "baseline.csv")
        print(f"agree: {not differ} ({n_sample} baseline values looked up in the store, {len(differ)} differ"
              + (f", e.g. {differ[:3]}" if differ else "") + ")")
        print(f"baseline pandas read_csv + groupby: {t_base:7.2f} s  peak {mem_base / 2**20:6.0f} MiB")
        print(f"spm crm import (validated, stored): {t_ours:7.2f} s  peak {mem_ours / 2**20:6.0f} MiB")
        print(f"ratio ours / baseline: {t_ours / t_base:.2f}x; largest child so far (RUSAGE_CHILDREN): "
              f"{children / 2**20:.0f} MiB")
        ok_time, ok_mem = t_ours < GOAL_SECONDS, mem_ours < GOAL_BYTES
        print(f"goal: under {GOAL_SECONDS:.0f} s: {'met' if ok_time else 'MISSED'}; "
              f"peak under {GOAL_BYTES / 2**30:.0f} GiB: {'met' if ok_mem else 'MISSED'}")

        # A second export a month later: 1% of the reps left and their deals went to colleagues. The
        # re-import must leave the store equal to the new export's KPIs: the leavers' values and any
        # other value only the old export gave removed, not left behind.
        changed = folder / "opps-moved.csv"
        leavers = max(1, args.reps // 100)
        write_opportunities(changed, args.rows, args.reps, leavers=leavers)
        run([sys.executable, __file__, "--baseline", str(roster), str(changed), str(folder / "baseline2.csv")], folder)
        t_again, mem_again = run([spm, *env_db, "crm", "import", str(changed), "--period", "quarter"], folder)
        n_sample, differ2 = compare(folder / "spm.db", folder / "baseline2.csv")
        stale = extra_values(folder / "spm.db", folder / "baseline2.csv", [f"rep{i:05d}" for i in range(leavers)])
        print(f"re-import after {leavers} reps left (their deals reassigned): {t_again:7.2f} s  "
              f"peak {mem_again / 2**20:6.0f} MiB; "
              f"agree: {not differ2} ({len(differ2)} of {n_sample} differ); values the new export does not give "
              f"left in the store: {len(stale)}" + (f", e.g. {stale[:3]}" if stale else ""))
        ok_again = t_again < GOAL_SECONDS and not differ2 and not stale
        if differ or differ2 or stale or not (ok_time and ok_mem and ok_again):
            sys.exit(1)


if __name__ == "__main__":
    main()
