"""Assignment 1: KPI arithmetic from a quarter's team data, and a vague goal rewritten as SMART."""

from __future__ import annotations

import random

from .cells import NotebookBuilder
from .data import Built, csv_text, literal

NAME = "01_kpi_smart"
SEED = 101
TEAM_COSTS = {"Europe Central": 186000, "North America": 214000}
REPS = [
    ("Marta Kowalska", "Europe Central"), ("Jonas Brandt", "Europe Central"),
    ("Ana Duarte", "Europe Central"), ("Elif Demir", "Europe Central"),
    ("Priya Raman", "North America"), ("Mateo Alvarez", "North America"),
    ("Grace Okafor", "North America"), ("Liam Carter", "North America"),
]
NEW_HIRE = "Liam Carter"  # started late in the quarter: leads assigned, nothing decided yet
HEADER = ["rep", "team", "leads_created", "leads_converted", "opps_won", "opps_lost", "revenue", "quota"]


def make_rows() -> list[list]:
    rng = random.Random(SEED)
    rows = []
    for rep, team in REPS:
        leads = rng.randint(60, 140)
        converted = round(leads * rng.uniform(0.08, 0.2))
        if rep == NEW_HIRE:
            leads, converted, won, lost, revenue = 24, 2, 0, 0, 0
        else:
            won, lost = rng.randint(2, 9), rng.randint(5, 20)
            revenue = sum(round(rng.uniform(8000, 20000), -2) for _ in range(won))
        quota = rng.choice([90000, 110000, 120000, 140000])
        rows.append([rep, team, leads, converted, won, lost, int(revenue), quota])
    return rows


def expected(rows: list[list]) -> dict:
    """The answers, computed here in plain Python so the pandas solution is checked against an
    independent calculation."""
    table = {}
    for rep, _team, leads, converted, won, lost, revenue, quota in rows:
        table[rep] = {
            "lead_conversion": converted / leads,
            "win_rate": won / (won + lost) if won + lost else None,
            "attainment": revenue / quota,
        }
    won_total = sum(r[4] for r in rows)
    decided_total = sum(r[4] + r[5] for r in rows)
    team_won = {team: sum(r[4] for r in rows if r[1] == team) for team in TEAM_COSTS}
    attainments = {rep: v["attainment"] for rep, v in table.items()}
    best = max(attainments, key=attainments.get)
    rep_rates = [v["win_rate"] for v in table.values() if v["win_rate"] is not None]
    assert abs(won_total / decided_total - sum(rep_rates) / len(rep_rates)) > 0.005, "pooled = mean"
    assert sorted(attainments.values())[-1] > sorted(attainments.values())[-2], "tie for best rep"
    return {
        "table": table,
        "team_win_rate": won_total / decided_total,
        "team_cac": {team: TEAM_COSTS[team] / team_won[team] for team in TEAM_COSTS},
        "best_rep": best,
    }


def build(skills: set[str]) -> Built:
    rows = make_rows()
    exp = expected(rows)
    nb = NotebookBuilder(NAME, skills)

    nb.md(f"""
    # Assignment 1: KPI arithmetic and SMART goals

    This assignment practises the chapters **book/performance/smart-kpis** and
    **book/performance/kpi-reference**: how each KPI in our catalog is defined, how it is computed,
    and how a goal becomes specific, measurable, achievable, relevant and time-bound.

    You will work with `team_quarter.csv`, the second-quarter numbers of Northwind Signal's eight
    account executives. Each row is one rep: the leads assigned to them, how many of those leads
    became qualified opportunities, the opportunities they won and lost in the quarter, the revenue
    they closed and their revenue quota.

    **How to work.** Fill in every cell that says `YOUR CODE HERE` (delete the
    `raise NotImplementedError()` line) and run the test cell below it. A visible check that fails
    tells you what to fix. Some checks are hidden and run only when the assignment is graded, so a
    cell that passes its visible checks can still lose points: compare your numbers with the
    definitions, not only with the tests. The last question is written and graded by a trainer.
    """)
    nb.setup("setup", """
    import math

    import pandas as pd

    team = pd.read_csv("team_quarter.csv")
    # Sales and marketing cost attributed to each team for the quarter, in EUR (from finance).
    TEAM_COSTS = {"Europe Central": 186000, "North America": 214000}
    team
    """)

    nb.md("""
    ## 1. Four KPI functions

    Write each function so that it follows the catalog's definition exactly. Two rules from the
    catalog matter here:

    - A rate with nothing to divide by does not exist. A rep with no leads has no lead conversion
      and a rep with no decided opportunities has no win rate: return `None` instead of dividing by
      zero, and do not return 0, which would read as "converted nothing".
    - Attainment is `value / target` for a KPI where higher is better and `target / value` where
      lower is better (sales cycle length, CAC). With a zero in the denominator there is no
      attainment either.
    """)
    nb.answer("kpi-functions", """
    def conversion_rate(converted: int, created: int) -> float | None:
        \"\"\"Lead-to-opportunity conversion: leads converted / leads created.\"\"\"
        ### BEGIN SOLUTION
        if created == 0:
            return None
        return converted / created
        ### END SOLUTION


    def win_rate(won: int, lost: int) -> float | None:
        \"\"\"Share of decided (won or lost) opportunities that were won; open ones do not count.\"\"\"
        ### BEGIN SOLUTION
        decided = won + lost
        if decided == 0:
            return None
        return won / decided
        ### END SOLUTION


    def cac(cost: float, new_customers: int) -> float | None:
        \"\"\"Customer acquisition cost: attributed sales and marketing cost / new customers won.\"\"\"
        ### BEGIN SOLUTION
        if new_customers == 0:
            return None
        return cost / new_customers
        ### END SOLUTION


    def attainment(value: float, target: float, direction: str = "higher") -> float | None:
        \"\"\"value / target when higher is better, target / value when lower is better.\"\"\"
        ### BEGIN SOLUTION
        if direction not in ("higher", "lower"):
            raise ValueError(f"direction must be 'higher' or 'lower', not {direction!r}")
        numerator, denominator = (value, target) if direction == "higher" else (target, value)
        if denominator == 0:
            return None
        return numerator / denominator
        ### END SOLUTION
    """)
    nb.tests("test-conversion", 1, ["funnel_analysis"], visible="""
    assert conversion_rate(12, 100) == 0.12, "Conversion is converted / created: 12 of 100 leads is 0.12."
    assert conversion_rate(0, 0) is None, (
        "With no leads there is no conversion rate: return None instead of dividing by zero."
    )
    print("Visible checks passed.")
    """, hidden="""
    assert conversion_rate(0, 40) == 0.0
    assert math.isclose(conversion_rate(7, 56), 0.125)
    """)
    nb.tests("test-win-rate", 1, ["funnel_analysis"], visible="""
    assert win_rate(3, 9) == 0.25, (
        "Win rate is won / (won + lost): 3 won and 9 lost is 0.25. Check your denominator."
    )
    assert win_rate(0, 0) is None, (
        "A rep with nothing decided has no win rate: return None, not 0."
    )
    print("Visible checks passed.")
    """, hidden="""
    assert win_rate(5, 0) == 1.0
    assert win_rate(0, 4) == 0.0
    """)
    nb.tests("test-cac", 1, ["funnel_analysis"], visible="""
    assert cac(90000, 10) == 9000, "CAC is cost / new customers: EUR 90,000 for 10 customers is 9,000."
    assert cac(50000, 0) is None, "With no new customers CAC is undefined: return None."
    print("Visible checks passed.")
    """, hidden="""
    assert math.isclose(cac(214000, 16), 13375.0)
    """)
    nb.tests("test-attainment", 2, ["funnel_analysis"], visible="""
    assert attainment(90000, 120000) == 0.75, "Revenue 90,000 against a quota of 120,000 is 0.75."
    assert attainment(60, 45, "lower") == 0.75, (
        "Where lower is better, attainment is target / value: a 60-day cycle against a 45-day "
        "target is 0.75, not 1.33."
    )
    print("Visible checks passed.")
    """, hidden="""
    assert attainment(30, 45, "lower") == 1.5
    assert attainment(0, 0) is None
    assert attainment(10, 0) is None
    try:
        attainment(1, 1, "sideways")
    except ValueError:
        pass
    else:
        raise AssertionError("an unknown direction must raise ValueError")
    """)

    nb.md("""
    ## 2. The team's KPIs for the quarter

    Using your functions and the `team` table:

    - `kpi_table`: a DataFrame indexed by `rep` with the columns `lead_conversion`, `win_rate` and
      `attainment` (revenue against quota). A rep without a win rate keeps an empty value (`None`
      or `NaN`) in that column.
    - `team_win_rate`: the win rate of all eight reps together, pooled over every decided
      opportunity. This is not the mean of the reps' win rates.
    - `team_cac`: a dictionary from team name to that team's CAC, from `TEAM_COSTS` and the
      opportunities the team's reps won.
    - `best_rep`: the name of the rep with the highest quota attainment.
    """)
    nb.answer("team-kpis", """
    ### BEGIN SOLUTION
    kpi_table = pd.DataFrame(
        {
            "lead_conversion": [conversion_rate(c, n) for c, n in zip(team["leads_converted"], team["leads_created"])],
            "win_rate": [win_rate(w, l) for w, l in zip(team["opps_won"], team["opps_lost"])],
            "attainment": [attainment(v, q) for v, q in zip(team["revenue"], team["quota"])],
        },
        index=pd.Index(team["rep"], name="rep"),
    )
    team_win_rate = win_rate(team["opps_won"].sum(), team["opps_lost"].sum())
    won_by_team = team.groupby("team")["opps_won"].sum()
    team_cac = {name: cac(cost, int(won_by_team[name])) for name, cost in TEAM_COSTS.items()}
    best_rep = kpi_table["attainment"].idxmax()
    ### END SOLUTION
    kpi_table.round(3)
    """)
    table_literal = literal({rep: [v["lead_conversion"], v["win_rate"], v["attainment"]]
                             for rep, v in exp["table"].items()})
    nb.tests("test-kpi-table", 2, ["funnel_analysis"], visible=f"""
    assert list(kpi_table.columns) == ["lead_conversion", "win_rate", "attainment"], (
        "kpi_table needs exactly the columns lead_conversion, win_rate and attainment, in that order."
    )
    assert sorted(kpi_table.index) == sorted(team["rep"]), "kpi_table needs one row per rep, indexed by rep."
    assert pd.isna(kpi_table.loc["{NEW_HIRE}", "win_rate"]), (
        "{NEW_HIRE} has no decided opportunities yet: his win rate must be empty, not 0."
    )
    print("Visible checks passed.")
    """, hidden=f"""
    _expected = {table_literal}
    for _rep, _values in _expected.items():
        for _column, _value in zip(["lead_conversion", "win_rate", "attainment"], _values):
            _got = kpi_table.loc[_rep, _column]
            if _value is None:
                assert pd.isna(_got), (_rep, _column)
            else:
                assert math.isclose(float(_got), _value, abs_tol=1e-6), (_rep, _column, _got)
    """)
    team_cac_literal = literal(exp["team_cac"])
    nb.tests("test-team", 2, ["funnel_analysis"], visible="""
    _mean_of_reps = kpi_table["win_rate"].mean()
    assert 0 < team_win_rate < 1, "team_win_rate is a share between 0 and 1."
    assert not math.isclose(team_win_rate, _mean_of_reps), (
        "team_win_rate must pool all decided opportunities (total won / total decided), "
        "not average the reps' win rates."
    )
    assert set(team_cac) == set(TEAM_COSTS), "team_cac needs one entry per team in TEAM_COSTS."
    assert best_rep in set(team["rep"]), "best_rep must be one rep's name, as written in the data."
    print("Visible checks passed.")
    """, hidden=f"""
    assert math.isclose(team_win_rate, {literal(exp["team_win_rate"])}, abs_tol=1e-6)
    for _name, _value in {team_cac_literal}.items():
        assert math.isclose(team_cac[_name], _value, abs_tol=1e-3), _name
    assert best_rep == {literal(exp["best_rep"])}
    """)

    # The written question is about the experienced rep furthest from quota, with their real figures.
    subject = min((rep for rep in exp["table"] if rep != NEW_HIRE), key=lambda r: exp["table"][r]["attainment"])
    figures = exp["table"][subject]
    first = subject.split()[0]
    nb.md(f"""
    ## 3. From a vague goal to a SMART one

    {first}'s manager wrote this goal after the quarter above:

    > "{first} should sell more and get the pipeline in better shape next quarter."

    Rewrite it as **one** SMART goal that {first} and the manager could both check at the end of the
    third quarter. Use a KPI from the catalog by its name, a number grounded in the data you just
    computed, and a date. Then add one sentence on why the target is achievable and one on the
    business goal it serves. Write your answer in the cell below the rubric.
    """)
    nb.manual("smart-goal", 4, ["funnel_analysis"], rubric=f"""
    **Rubric for the trainer (4 points).** One point for each criterion met; no half points.

    | Criterion | 1 point when the answer ... |
    |---|---|
    | Specific and measurable | names one catalog KPI (for example win rate, quota attainment or revenue) and a number to reach on it |
    | Achievable | justifies the number from {first}'s actual figures as computed in part 2 (win rate, attainment) rather than picking it out of the air |
    | Relevant | states the business goal the KPI serves, in the catalog's sense (making the number, spending selling time on deals that can be won) |
    | Time-bound | ends on a date or a named period (for example 30 September 2025, or "by the end of Q3") |

    Zero for the whole answer if it is still two goals ("sell more" and "a better pipeline") rather than one.
    """, model=f"""
    **Goal:** by 30 September 2025, {first} wins at least 25% of the opportunities decided in the
    third quarter (the win rate KPI: won / (won + lost), as recorded in the CRM), up from
    {figures["win_rate"]:.0%} in the second quarter.

    **Why achievable:** 25% is the catalog's default target and the team as a whole won
    {exp["team_win_rate"]:.0%} of its decided deals this quarter with the same product and price list,
    so the gap is one of qualification and follow-through, not of market.

    **Business goal:** win rate measures whether selling time goes to deals that can be won; at
    {figures["attainment"]:.0%} of quota, converting more of the existing pipeline is the fastest way
    for {first} to contribute to the number.
    """)

    return Built(NAME, nb.notebook(), {"team_quarter.csv": csv_text(HEADER, rows)}, nb.answer_keys)
