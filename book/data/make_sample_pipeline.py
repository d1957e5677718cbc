"""Generate the sample pipeline used by the funnel-analysis chapter.

Writes ``sample_pipeline.csv`` next to this script: about 400 Northwind Signal opportunities for
Relay, created during 2025, with the furthest stage each one reached. The data are invented, and
the generator is seeded so the chapter's numbers stay the same from build to build.

Run it again only when you mean to change the sample (then re-read the chapter's prose, since the
prose quotes what the charts show):

    python book/data/make_sample_pipeline.py
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

SEED = 20250101
N_OPPORTUNITIES = 400
AS_OF = dt.date(2025, 12, 31)
FIRST_CREATED = dt.date(2025, 1, 6)
LAST_CREATED = dt.date(2025, 12, 12)

# The order of the sales process; "Closed won" is the last stage a deal can reach.
STAGES = ["Discovery", "Demo", "Proposal", "Negotiation", "Closed won"]

TEAMS: dict[str, list[str]] = {
    "Europe Central": ["Ana Duarte", "Jonas Weber", "Marta Kowalska"],
    "Europe North": ["Erik Lindqvist", "Saoirse Byrne", "Pieter de Vries"],
    "North America": ["Grace Holloway", "Mateo Alvarez", "Priya Raman"],
}

# Chance of moving from each stage to the next, per team. Europe North loses many deals after
# the demo, so the chapter has a bottleneck to find and a team to look at first.
ADVANCE: dict[str, list[float]] = {
    "Europe Central": [0.76, 0.62, 0.74, 0.66],
    "Europe North": [0.74, 0.38, 0.76, 0.64],
    "North America": [0.78, 0.56, 0.70, 0.62],
}

# Typical days spent in each stage before moving on or being lost; cycle times are their sum.
DAYS_IN_STAGE = [12.0, 10.0, 14.0, 12.0]

# Relay list prices in EUR per seat per month, by plan, with the share of deals on each plan.
PLANS = [("Team", 45, 0.35), ("Business", 75, 0.50), ("Enterprise", 95, 0.15)]


def _furthest_stage(rng: np.random.Generator, team: str) -> int:
    """Walk the stages, stopping at the first failed step; return the index reached."""
    reached = 0
    for p in ADVANCE[team]:
        if rng.random() >= p:
            break
        reached += 1
    return reached


def _amount(rng: np.random.Generator) -> int:
    """Annual contract value: seats times the plan's monthly price times 12, to the nearest 100 EUR."""
    names = [p[0] for p in PLANS]
    weights = np.array([p[2] for p in PLANS])
    plan = names[rng.choice(len(PLANS), p=weights / weights.sum())]
    price = dict((p[0], p[1]) for p in PLANS)[plan]
    if plan == "Team":
        seats = rng.integers(10, 40)
    elif plan == "Business":
        seats = rng.integers(30, 120)
    else:
        seats = rng.integers(60, 160)
    return int(round(seats * price * 12, -2))


def _days(rng: np.random.Generator, stages_spent: int) -> int:
    """Days from creation to close for a deal that spent time in the given number of stages."""
    mean = sum(DAYS_IN_STAGE[:stages_spent])
    # A gamma spread keeps durations positive and skewed, as real cycle times are.
    return max(3, int(round(rng.gamma(shape=4.0, scale=mean / 4.0))))


def generate(seed: int = SEED, n: int = N_OPPORTUNITIES) -> list[dict[str, object]]:
    """Return the sample opportunities as rows, in a fixed order for a given seed."""
    rng = np.random.default_rng(seed)
    owners = [(team, owner) for team, people in TEAMS.items() for owner in people]
    span = (LAST_CREATED - FIRST_CREATED).days
    rows: list[dict[str, object]] = []
    for _ in range(n):
        team, owner = owners[rng.integers(len(owners))]
        created = FIRST_CREATED + dt.timedelta(days=int(rng.integers(span + 1)))
        reached = _furthest_stage(rng, team)
        won = reached == len(STAGES) - 1
        # A lost deal spent time in every stage it reached; a won one in all four open stages.
        duration = _days(rng, reached + 1 if not won else len(DAYS_IN_STAGE))
        close = created + dt.timedelta(days=duration)
        if close > AS_OF:
            # Not decided by the end of the year: still open at the furthest stage so far.
            status, close_text = "open", ""
            reached = min(reached, len(STAGES) - 2)
        else:
            status, close_text = ("won" if won else "lost"), close.isoformat()
        rows.append(
            {
                "opportunity_id": "",
                "owner": owner,
                "team": team,
                "created_date": created.isoformat(),
                "stage_reached": STAGES[reached],
                "status": status,
                "close_date": close_text,
                "amount": _amount(rng),
            }
        )
    # Number the opportunities in creation order, as a CRM would; the sort is stable, so deals
    # created on the same day keep the order in which they were generated.
    rows.sort(key=lambda r: str(r["created_date"]))
    for number, row in enumerate(rows, start=1):
        row["opportunity_id"] = f"OPP-{number:04d}"
    return rows


def write_csv(rows: list[dict[str, object]], path: Path) -> None:
    """Write rows to path as CSV with Unix line endings, so reruns produce identical bytes."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    out = Path(__file__).with_name("sample_pipeline.csv")
    write_csv(generate(), out)
    print(f"wrote {out} ({out.stat().st_size} bytes)")
