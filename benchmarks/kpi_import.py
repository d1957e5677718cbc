"""Validated KPI import against a bare load, side by side on the same file.

Generates a long-format file of about 1,000,000 KPI rows (2,000 reps x 24 months x 21 KPIs), then
in the same run:

- ours: ``spm kpis import`` (validates every row, fills default targets, upserts in one transaction);
- baseline: ``sqlite-utils insert --csv`` into a fresh database (validates nothing).

Both run as subprocesses so that each one's time and peak memory (ru_maxrss) are its own. The two
databases are compared: the same number of rows and the same values. Goal: ours at most 2x the
baseline, with peak memory under 1 GiB.

    python benchmarks/kpi_import.py [--reps 2000] [--months 24]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from spm_training import Project

EXTRA_KPIS = ("demos_held", "proposals_sent", "referrals", "nps", "upsell_calls")


def write_project(folder: Path) -> list[str]:
    """A project root whose kpis.yml is the default catalog plus five more KPIs (21 in all)."""
    # A project without a root reads the catalog shipped in the package.
    catalog = yaml.safe_load(Project.at(None).kpis_path.read_text())
    for kpi_id in EXTRA_KPIS:
        catalog["kpis"].append({
            "id": kpi_id, "name": kpi_id.replace("_", " ").title(),
            "definition": f"Number of {kpi_id.replace('_', ' ')} the rep logged in the period.",
            "unit": "count", "formula": "count", "default_target": 10, "goal": "Benchmark KPI.",
            "period": "month", "direction": "higher", "aggregation": "sum"})
    (folder / "kpis.yml").write_text(yaml.safe_dump(catalog, sort_keys=False))
    (folder / "_config.yml").write_text("title: benchmark\n")
    return [k["id"] for k in catalog["kpis"]]


def write_inputs(folder: Path, kpi_ids: list[str], n_reps: int, n_months: int) -> tuple[Path, Path, int]:
    rng = np.random.default_rng(1)
    reps = [f"rep{i:05d}" for i in range(n_reps)]
    roster = folder / "roster.csv"
    with roster.open("w") as out:
        out.write("id,name,email,team,manager,role,hire_date\n")
        for i, rep in enumerate(reps):
            out.write(f"{rep},Rep {i},{rep}@example.com,team{i % 40},Manager {i % 40},AE,2024-01-01\n")
    months = [f"{2024 + m // 12}-{m % 12 + 1:02d}" for m in range(n_months)]
    n = n_reps * n_months * len(kpi_ids)
    rep_col = np.repeat(np.array(reps), n_months * len(kpi_ids))
    month_col = np.tile(np.repeat(np.array(months), len(kpi_ids)), n_reps)
    kpi_col = np.tile(np.array(kpi_ids), n_reps * n_months)
    values = np.round(rng.gamma(2.0, 50.0, n), 2)
    targets = np.round(rng.uniform(50, 150, n), 0)
    kpis_file = folder / "kpis.csv"
    with kpis_file.open("w") as out:
        out.write("rep_id,period,kpi,value,target\n")
        for start in range(0, n, 200_000):
            stop = min(n, start + 200_000)
            out.write("".join(f"{r},{m},{k},{v},{t:g}\n" for r, m, k, v, t in zip(
                rep_col[start:stop], month_col[start:stop], kpi_col[start:stop], values[start:stop],
                targets[start:stop])))
    return roster, kpis_file, n


def run(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time and peak resident memory (bytes) of one child process, from its own rusage."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{output.decode(errors='replace')}")
    return elapsed, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    spm, sqlite_utils = shutil.which("spm", path=str(bin_dir)), shutil.which("sqlite-utils", path=str(bin_dir))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kpi_ids = write_project(folder)
        roster, kpis_file, n = write_inputs(folder, kpi_ids, args.reps, args.months)
        (folder / "course").mkdir()
        print(f"{n:,} KPI rows ({kpis_file.stat().st_size / 2**20:.0f} MiB), {args.reps} reps, {len(kpi_ids)} KPIs")
        env_db = ["--db", str(folder / "spm.db"), "--course", str(folder / "course")]
        subprocess.run([spm, *env_db, "roster", "import", str(roster)], cwd=folder, check=True, capture_output=True)

        # the baseline first, then ours: the page cache is equally warm for both after the write
        t_base, mem_base = run([sqlite_utils, "insert", str(folder / "bare.db"), "kpi_values", str(kpis_file),
                                "--csv"], folder)
        t_ours, mem_ours = run([spm, *env_db, "kpis", "import", str(kpis_file)], folder)

        ours = sqlite3.connect(folder / "spm.db")
        bare = sqlite3.connect(folder / "bare.db")
        n_ours = ours.execute("SELECT count(*) FROM kpi_values").fetchone()[0]
        n_bare = bare.execute("SELECT count(*) FROM kpi_values").fetchone()[0]
        sample = bare.execute("SELECT rep_id, period, kpi, value, target FROM kpi_values "
                              "WHERE rowid % 9973 = 0").fetchall()
        mismatches = [row for row in sample if ours.execute(
            "SELECT value, target FROM kpi_values WHERE rep_id = ? AND period = ? AND kpi_id = ?",
            row[:3]).fetchone() != (float(row[3]), float(row[4]))]
        agree = n_ours == n_bare == n and not mismatches
        print(f"agree: {agree} (rows ours {n_ours:,}, bare {n_bare:,}; {len(sample)} sampled rows compared, "
              f"{len(mismatches)} differ)")
        print(f"bare sqlite-utils insert --csv: {t_base:7.2f} s  peak {mem_base / 2**20:6.0f} MiB")
        print(f"spm kpis import (validated):    {t_ours:7.2f} s  peak {mem_ours / 2**20:6.0f} MiB")
        print(f"ratio ours / bare: {t_ours / t_base:.2f}x (goal <= 2x); peak memory goal < 1024 MiB")
        if not agree:
            sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
