"""Assignment 2: funnel analysis with pandas on a pipeline export, plus a CRM hygiene check."""

from __future__ import annotations

import random
import statistics
from datetime import date, timedelta

from .cells import NotebookBuilder
from .data import Built, csv_text, literal

NAME = "02_funnel_analysis"
SEED = 202
EXPORT_DATE = date(2025, 6, 30)
STAGES = ["Discovery", "Demo", "Proposal", "Negotiation", "Closed won"]
STEPS = [f"{a} → {b}" for a, b in zip(STAGES, STAGES[1:])]
# Chance that a deal at each stage moves on; the demo step is deliberately the weakest, so that the
# written question can connect the bottleneck to the demo skill.
MOVE_ON = [0.72, 0.47, 0.71, 0.64]
OWNERS = ["Marta Kowalska", "Jonas Brandt", "Elif Demir", "Priya Raman", "Mateo Alvarez", "Grace Okafor"]
HEADER = ["opportunity_id", "owner", "created_date", "stage_reached", "status", "close_date", "amount",
          "next_step_date"]
PROBLEMS = ["close_date_past", "no_next_step", "no_amount"]


def make_rows() -> list[dict]:
    rng = random.Random(SEED)
    rows = []
    start = date(2025, 1, 6)
    for number in range(1, 181):
        created = start + timedelta(days=rng.randint(0, 165))
        stage = 0
        while stage < 4 and rng.random() < MOVE_ON[stage]:
            stage += 1
        won = stage == 4
        cycle = 10 + 8 * stage + rng.randint(0, 30)
        closes = created + timedelta(days=cycle)
        amount: int | None = rng.randint(12, 110) * 900
        next_step: date | None = None
        if closes <= EXPORT_DATE:
            status, close_date = ("won" if won else "lost"), closes
        else:
            # Still open at export: it sits at the stage it has reached so far, with a planned close.
            status = "open"
            stage = min(stage, rng.randint(0, 3))
            close_date = EXPORT_DATE + timedelta(days=rng.randint(-25, 75))
            next_step = EXPORT_DATE + timedelta(days=rng.randint(-10, 24))
            if rng.random() < 0.1:
                next_step = None
            if rng.random() < 0.12:
                amount = None
        rows.append({
            "opportunity_id": f"OPP-{number:04d}", "owner": rng.choice(OWNERS), "created_date": created,
            "stage_reached": STAGES[stage], "status": status, "close_date": close_date, "amount": amount,
            "next_step_date": next_step,
        })
    return rows


def expected(rows: list[dict]) -> dict:
    decided = [r for r in rows if r["status"] != "open"]
    index = {stage: i for i, stage in enumerate(STAGES)}
    reached = [sum(1 for r in decided if index[r["stage_reached"]] >= i) for i in range(len(STAGES))]
    conversion = [reached[i + 1] / reached[i] for i in range(len(STEPS))]
    bottleneck = STEPS[conversion.index(min(conversion))]
    assert bottleneck == "Demo → Proposal", f"the data's bottleneck moved to {bottleneck}"
    assert sorted(conversion)[1] - min(conversion) > 0.05, "bottleneck is not clear"
    cycle = statistics.median((r["close_date"] - r["created_date"]).days for r in decided if r["status"] == "won")
    problems: dict[str, list[str]] = {}
    for r in rows:
        if r["status"] != "open":
            continue
        flags = []
        if r["close_date"] < EXPORT_DATE:
            flags.append("close_date_past")
        if r["next_step_date"] is None or r["next_step_date"] < EXPORT_DATE:
            flags.append("no_next_step")
        if r["amount"] is None:
            flags.append("no_amount")
        if flags:
            problems[r["opportunity_id"]] = flags
    counts = {flag: sum(flag in f for f in problems.values()) for flag in PROBLEMS}
    assert all(counts.values()), counts
    return {"reached": reached, "conversion": conversion, "bottleneck": bottleneck,
            "median_cycle_days": float(cycle), "needs_cleaning": sorted(problems), "problem_counts": counts,
            "decided": len(decided), "open": len(rows) - len(decided)}


def build(skills: set[str]) -> Built:
    rows = make_rows()
    exp = expected(rows)
    nb = NotebookBuilder(NAME, skills)

    nb.md(f"""
    # Assignment 2: funnel analysis on a pipeline export

    This assignment practises **book/performance/funnel-analysis** and the CRM hygiene rules of
    **book/handbook/sales-process**. You will take a raw pipeline export, find where deals stall, and
    list the open opportunities whose records would mislead a forecast.

    `pipeline_export.csv` holds {len(rows)} Relay opportunities created in the first half of 2025 by
    six account executives, exported on {EXPORT_DATE:%d %B %Y}. Each row has the furthest stage the
    deal reached (`stage_reached`), its `status` (won, lost or open), the close date (the actual date
    for decided deals, the planned one for open deals), the amount in EUR and, for open deals, the
    date of the next agreed step.

    Fill in the cells marked `YOUR CODE HERE` with pandas and run the test cell below each. Visible
    checks tell you what to fix; hidden checks of the exact numbers run when the assignment is graded.
    The last question is written and graded by a trainer.
    """)
    nb.setup("setup", f"""
    import math

    import pandas as pd

    EXPORT_DATE = pd.Timestamp("{EXPORT_DATE.isoformat()}")
    STAGES = {literal(STAGES)}
    STEPS = [f"{{a}} → {{b}}" for a, b in zip(STAGES, STAGES[1:])]

    opps = pd.read_csv("pipeline_export.csv", parse_dates=["created_date", "close_date", "next_step_date"])
    opps.head()
    """)

    nb.md("""
    ## 1. How many deals reached each stage

    A deal that reached the proposal also went through discovery and the demo, so the number that
    *reached* a stage counts every deal whose furthest stage is that stage or a later one.

    Count **decided deals only** (won or lost). An open deal sitting in Demo has not failed to reach
    the proposal; it has not got there yet, and counting it would make the demo step look worse than
    it is.

    Set `decided` to the decided deals and `reached` to a Series indexed by `STAGES`, in that order,
    holding the number of decided deals that reached each stage.
    """)
    nb.answer("reached-answer", """
    ### BEGIN SOLUTION
    decided = opps[opps["status"] != "open"]
    stage_index = decided["stage_reached"].map({stage: i for i, stage in enumerate(STAGES)})
    reached = pd.Series([int((stage_index >= i).sum()) for i in range(len(STAGES))], index=STAGES)
    ### END SOLUTION
    reached
    """)
    nb.tests("test-reached", 2, ["funnel_analysis"], visible="""
    assert list(reached.index) == STAGES, "reached must be indexed by STAGES, from Discovery to Closed won."
    assert len(decided) < len(opps) and set(decided["status"]) == {"won", "lost"}, (
        "decided should hold the won and lost deals only; leave the open ones out."
    )
    assert reached["Discovery"] == len(decided), (
        "Every decided deal reached Discovery, so reached['Discovery'] should equal len(decided). "
        "Are you counting open deals?"
    )
    assert all(reached.diff().dropna() <= 0), (
        "A stage can never be reached by more deals than the stage before it: count the deals whose "
        "furthest stage is this one OR A LATER ONE."
    )
    print("Visible checks passed.")
    """, hidden=f"""
    assert [int(n) for n in reached] == {literal(exp["reached"])}
    """)

    nb.md("""
    ## 2. Conversion from stage to stage, and the bottleneck

    Conversion from one stage to the next is the number that reached the next stage divided by the
    number that reached this one. Set `step_conversion` to a Series indexed by `STEPS` (the labels
    `"Discovery → Demo"` and so on) and `bottleneck` to the label of the step with the lowest
    conversion.
    """)
    nb.answer("conversion-answer", """
    ### BEGIN SOLUTION
    step_conversion = pd.Series(reached.to_numpy()[1:] / reached.to_numpy()[:-1], index=STEPS)
    bottleneck = step_conversion.idxmin()
    ### END SOLUTION
    step_conversion.round(3)
    """)
    nb.tests("test-conversion", 2, ["funnel_analysis"], visible="""
    assert list(step_conversion.index) == STEPS, "step_conversion must be indexed by STEPS, in order."
    assert all((step_conversion > 0) & (step_conversion <= 1)), (
        "Each conversion is a share between 0 and 1: deals reaching the NEXT stage divided by deals "
        "reaching THIS one."
    )
    print("Visible checks passed.")
    """, hidden=f"""
    for _got, _want in zip(step_conversion, {literal(exp["conversion"])}):
        assert math.isclose(float(_got), _want, abs_tol=1e-6), (_got, _want)
    """)
    bottleneck_check = f"assert bottleneck == {literal(exp['bottleneck'])}"
    nb.tests("test-bottleneck", 1, ["funnel_analysis"], visible="""
    assert bottleneck in STEPS, "bottleneck must be one of the labels in STEPS, written exactly the same way."
    print("Visible checks passed.")
    """, hidden=bottleneck_check)
    nb.key("bottleneck", "bottleneck = step_conversion.idxmin()", bottleneck_check)

    nb.md("""
    ## 3. Cycle time

    The sales cycle length KPI is the median number of calendar days from an opportunity's creation
    to its close, over won opportunities. Set `median_cycle_days` to that number for the deals in the
    export (a plain number, not a Series).
    """)
    nb.answer("cycle-answer", """
    ### BEGIN SOLUTION
    won = opps[opps["status"] == "won"]
    median_cycle_days = float((won["close_date"] - won["created_date"]).dt.days.median())
    ### END SOLUTION
    median_cycle_days
    """)
    nb.tests("test-cycle", 2, ["funnel_analysis"], visible="""
    assert isinstance(median_cycle_days, (int, float)), "median_cycle_days must be a single number of days."
    assert 0 < median_cycle_days < 365, (
        "A median cycle outside 0 to 365 days: subtract created_date from close_date and use .dt.days."
    )
    print("Visible checks passed.")
    """, hidden=f"""
    assert math.isclose(median_cycle_days, {literal(exp["median_cycle_days"])})
    """)

    nb.md(f"""
    ## 4. Which open deals need cleaning

    A forecast built on stale records is wrong before anyone looks at it. Our hygiene rules say that
    every **open** opportunity must have:

    - a close date that is not in the past (`close_date_past` when it is before the export date);
    - a next step dated on or after the export date (`no_next_step` when it is missing or earlier);
    - an amount (`no_amount` when it is missing).

    Set `needs_cleaning` to the sorted list of the `opportunity_id`s of open deals with at least one
    problem, and `problem_counts` to a dictionary from each problem name above to the number of open
    deals that have it (a deal can have several problems).
    """)
    nb.answer("hygiene-answer", """
    ### BEGIN SOLUTION
    open_deals = opps[opps["status"] == "open"]
    flags = pd.DataFrame(
        {
            "close_date_past": open_deals["close_date"] < EXPORT_DATE,
            "no_next_step": open_deals["next_step_date"].isna() | (open_deals["next_step_date"] < EXPORT_DATE),
            "no_amount": open_deals["amount"].isna(),
        }
    )
    needs_cleaning = sorted(open_deals.loc[flags.any(axis=1), "opportunity_id"])
    problem_counts = {name: int(flags[name].sum()) for name in flags.columns}
    ### END SOLUTION
    print(len(needs_cleaning), problem_counts)
    """)
    nb.tests("test-hygiene", 2, ["crm_hygiene"], visible=f"""
    assert set(problem_counts) == {literal(set(PROBLEMS))}, (
        "problem_counts needs exactly the keys close_date_past, no_next_step and no_amount."
    )
    _open_ids = set(opps.loc[opps["status"] == "open", "opportunity_id"])
    assert set(needs_cleaning) <= _open_ids, "Only open deals can need cleaning; decided deals are closed records."
    assert list(needs_cleaning) == sorted(needs_cleaning), "Sort needs_cleaning."
    assert max(problem_counts.values()) <= len(needs_cleaning) <= sum(problem_counts.values()), (
        "needs_cleaning lists each deal once, however many problems it has."
    )
    print("Visible checks passed.")
    """, hidden=f"""
    assert list(needs_cleaning) == {literal(exp["needs_cleaning"])}
    assert {{k: int(v) for k, v in problem_counts.items()}} == {literal(exp["problem_counts"])}
    """)

    nb.md("""
    ## 5. From the bottleneck to a coaching plan

    You found the step where most deals stall. Write a short plan for the front-line manager of this
    team, in the cell below the rubric:

    1. State the bottleneck with its numbers (conversion, and how many decided deals were lost at that
       step).
    2. Give one hypothesis about what goes wrong at that step, in terms of what the reps do in the
       meeting that precedes it.
    3. Propose one coaching action and say how the manager will know next quarter whether it worked.
    """)
    nb.manual("coaching-plan", 4, ["funnel_analysis", "demo_presentation"], rubric="""
    **Rubric for the trainer (4 points).**

    | Criterion | Points |
    |---|---|
    | Names the bottleneck step with its conversion and the number of deals lost there, matching the learner's own results in part 2 (the instructor's version of this notebook has the reference figures) | 1 |
    | The hypothesis is about what reps do in the meeting that precedes the step (for a demo, for example: features shown before the buyer's problem, no agreed agenda, no decision criteria confirmed, no next step asked for), not about the market or the leads | 1 |
    | The coaching action is concrete and practicable (for example: review two recorded demos per rep against the discovery notes, or rehearse a demo opening that restates the pain) | 1 |
    | Names a measure and a date to check it (for example the conversion of that step for deals decided next quarter, against this quarter's figure) | 1 |
    """, model=f"""
    **Bottleneck.** Demo → Proposal converts {exp["conversion"][1]:.0%}: of {exp["reached"][1]} decided
    deals that had a demo, only {exp["reached"][2]} were invited to propose, so
    {exp["reached"][1] - exp["reached"][2]} deals were lost at that step, more than at any other.

    **Hypothesis.** The demos show the product rather than the buyer's problem: reps run the standard
    tour instead of starting from the pain and metric found in discovery, so the buyer never confirms
    that Relay meets their decision criteria and no proposal is invited.

    **Coaching action and measure.** For the next four weeks the manager reviews two recorded demos per
    rep next to the rep's discovery notes, and coaches one change: open the demo by restating the pain
    and the metric, show only what answers it, and ask for the proposal at the end. Success is a Demo →
    Proposal conversion above 55% on deals decided in the third quarter, checked in the first week of
    October with the same analysis.
    """)

    data = csv_text(HEADER, ([r[h].isoformat() if isinstance(r[h], date) else r[h] for h in HEADER]
                             for r in rows))
    return Built(NAME, nb.notebook(), {"pipeline_export.csv": data}, nb.answer_keys)
