"""Assignment 3: score accounts with the handbook's weighted ICP model, pick a segment and a call list."""

from __future__ import annotations

import random
import statistics

from .cells import NotebookBuilder
from .data import Built, csv_text, literal

NAME = "03_icp_targeting"
SEED = 309

# The rating tables of book/handbook/icp, as the notebook's setup cell gives them to the learner.
REGION = {"team_in_region": 3, "most_in_region": 2, "head_office_only": 1, "neither": 0}
CRM = {"cloud_inhouse_admin": 3, "cloud_outside_admin": 2, "moving_between_cloud_crms": 2,
       "homegrown_or_spreadsheets": 1, "none": 0}
CALLS = {"mostly_remote": 3, "about_half": 2, "mostly_in_person": 1, "recording_not_allowed": 0}
REVOPS = {"dedicated_team": 3, "named_person": 2, "part_of_a_job": 1, "none": 0}
FORECAST = {"weekly": 3, "monthly": 2, "quarterly": 1, "none": 0}
ENABLEMENT = {"programme_and_hiring": 3, "one_of_two": 2, "occasional": 1, "none": 0}
WEIGHTS = {"size": 10, "reps": 20, "region": 10, "crm": 15, "calls": 15, "revops": 10, "forecast": 10,
           "enablement": 10}
CATEGORICAL = {"sales_region": REGION, "crm": CRM, "calls": CALLS, "revops": REVOPS, "forecast": FORECAST,
               "enablement": ENABLEMENT}

HEADER = ["account_id", "name", "industry", "employees", "quota_reps", "sales_region", "crm", "calls",
          "revops", "forecast", "enablement", "on_prem_required", "consumer_sales", "customer_subsidiary",
          "live_signals"]
STEMS = ["Halden", "Corvane", "Brightwater", "Mossgiel", "Ashgrove", "Fernhill", "Larchmont", "Sablewood",
         "Wyvern", "Ottery", "Pellam", "Quillon", "Redcliff", "Stanmore", "Thornbury", "Upland", "Varden",
         "Westerly", "Yarrow", "Alder", "Birchfield", "Calloway", "Dunmore", "Elmstead", "Foxley", "Glenrock",
         "Harwood", "Ivybridge", "Juniper", "Kilnsey"]
# Industry, how many accounts, and the word that ends their names.
INDUSTRIES = [("Software", 8, "Software"), ("Business services", 6, "Partners"), ("Fintech", 6, "Pay"),
              ("Industrial", 6, "Industries"), ("Healthcare IT", 2, "Health"), ("Consumer retail", 2, "Stores")]


def rate_size(employees: int) -> int:
    if 400 <= employees <= 1500:
        return 3
    if 200 <= employees <= 399 or 1501 <= employees <= 2000:
        return 2
    if 150 <= employees <= 199 or 2001 <= employees <= 3000:
        return 1
    return 0


def rate_reps(reps: int) -> int:
    return 3 if reps >= 40 else 2 if reps >= 15 else 1 if reps >= 8 else 0


def make_rows() -> list[dict]:
    rng = random.Random(SEED)
    rows: list[dict] = []
    stems = iter(STEMS)
    number = 0
    for industry, count, suffix in INDUSTRIES:
        for _ in range(count):
            number += 1
            strong = industry == "Healthcare IT"  # a small segment that scores well: a trap for averages
            row = {
                "account_id": f"ACC-{number:02d}",
                "name": f"{next(stems)} {suffix}",
                "industry": industry,
                "employees": rng.choice([180, 240, 320, 450, 620, 880, 1200, 1450, 1700, 1950, 2400]),
                "quota_reps": rng.choice([6, 10, 12, 18, 24, 32, 45, 60]),
                "sales_region": rng.choice(["team_in_region"] * 5 + ["most_in_region", "head_office_only"]),
                "crm": rng.choice(["cloud_inhouse_admin"] * 3 + ["cloud_outside_admin", "moving_between_cloud_crms",
                                                                "homegrown_or_spreadsheets"]),
                "calls": rng.choice(["mostly_remote"] * 3 + ["about_half", "mostly_in_person"]),
                "revops": rng.choice(list(REVOPS)),
                "forecast": rng.choice(["weekly", "weekly", "monthly", "quarterly", "none"]),
                "enablement": rng.choice(list(ENABLEMENT)),
                "on_prem_required": "no",
                "consumer_sales": "yes" if industry == "Consumer retail" else "no",
                "customer_subsidiary": "no",
                "live_signals": rng.choice([0, 0, 1, 1, 2, 3]),
            }
            if strong:
                row.update(employees=rng.choice([600, 900]), quota_reps=45, sales_region="team_in_region",
                           crm="cloud_inhouse_admin", calls="mostly_remote", revops="dedicated_team",
                           forecast="weekly", enablement="programme_and_hiring")
            rows.append(row)
    # The negative ICP gates, each on an account that would otherwise score well.
    by_id = {r["account_id"]: r for r in rows}
    by_id["ACC-03"].update(calls="recording_not_allowed", quota_reps=45, employees=880)
    by_id["ACC-10"].update(on_prem_required="yes", quota_reps=32, crm="cloud_inhouse_admin")
    by_id["ACC-22"].update(customer_subsidiary="yes", quota_reps=24)
    return rows


def excluded(row: dict) -> bool:
    return (row["calls"] == "recording_not_allowed" or row["on_prem_required"] == "yes"
            or row["quota_reps"] < 8 or row["consumer_sales"] == "yes" or row["customer_subsidiary"] == "yes")


def score(row: dict) -> int:
    ratings = {"size": rate_size(row["employees"]), "reps": rate_reps(row["quota_reps"])}
    ratings.update({"region": REGION[row["sales_region"]], "crm": CRM[row["crm"]], "calls": CALLS[row["calls"]],
                    "revops": REVOPS[row["revops"]], "forecast": FORECAST[row["forecast"]],
                    "enablement": ENABLEMENT[row["enablement"]]})
    total = sum(WEIGHTS[k] * v for k, v in ratings.items())
    # A sum divided by 3 never ends in .5, so round() cannot hit a tie.
    return round(total / 3)


def tier(points: int, is_excluded: bool) -> int | None:
    if is_excluded:
        return None
    return 1 if points >= 75 else 2 if points >= 55 else 3 if points >= 35 else None


def expected(rows: list[dict]) -> dict:
    scored = {}
    for row in rows:
        points = score(row)
        scored[row["account_id"]] = {"score": points, "tier": tier(points, excluded(row)), "row": row}
    targets = {k: v for k, v in scored.items() if v["tier"] is not None}
    by_industry: dict[str, list[int]] = {}
    for v in targets.values():
        by_industry.setdefault(v["row"]["industry"], []).append(v["score"])
    means = {k: statistics.mean(v) for k, v in by_industry.items()}
    eligible = {k: m for k, m in means.items() if len(by_industry[k]) >= 3}
    top = max(eligible, key=eligible.get)
    naive = max(means, key=means.get)
    assert naive != top, "the minimum-count rule should change the answer"
    assert sorted(eligible.values())[-1] - sorted(eligible.values())[-2] > 1, "top segment too close to call"
    fit = {1: 3, 2: 2, 3: 1}
    priorities = {}
    for key, v in targets.items():
        signals = v["row"]["live_signals"]
        timing = 1 if signals == 0 else 2 if signals == 1 else 3
        priorities[key] = fit[v["tier"]] * timing
    first = sorted((k for k, p in priorities.items() if p >= 6),
                   key=lambda k: (-priorities[k], -scored[k]["score"], k))
    tiers = [v["tier"] for v in scored.values()]
    assert {1, 2, 3, None} <= set(tiers), tiers
    excluded_good = [k for k, v in scored.items() if excluded(v["row"]) and v["score"] >= 55]
    assert len(excluded_good) >= 2, "the negative ICP should remove accounts that score well"
    return {"scores": {k: v["score"] for k, v in scored.items()}, "tiers": {k: v["tier"] for k, v in scored.items()},
            "excluded": sorted(k for k, v in scored.items() if excluded(v["row"])), "top_segment": top,
            "naive_segment": naive, "first_calls": first, "means": eligible, "priorities": priorities}


def build(skills: set[str]) -> Built:
    rows = make_rows()
    exp = expected(rows)
    nb = NotebookBuilder(NAME, skills)

    nb.md(f"""
    # Assignment 3: ICP scoring and targeting

    This assignment practises **book/handbook/icp** (the weighted ICP model, tiers and the negative
    ICP) and the account priority of **book/sdr/prospecting**. You will score {len(rows)} accounts,
    decide which segment deserves a campaign, and build this week's call list.

    `accounts.csv` holds one row per account with what an SDR found in research: headcount, the number
    of quota-carrying reps, and one value per criterion of the model (for example `forecast` is
    `weekly`, `monthly`, `quarterly` or `none`). The last columns are the negative-ICP facts and the
    number of live trigger events (`live_signals`).

    Fill in the cells marked `YOUR CODE HERE` and run the tests below each. Visible checks say what to
    fix; hidden checks of every account's score run when the assignment is graded. The last question
    is written and graded by a trainer.
    """)
    nb.setup("setup", f"""
    import pandas as pd

    accounts = pd.read_csv("accounts.csv")

    # Ratings (0 to 3) for the criteria described by a category, from the table in book/handbook/icp.
    REGION = {literal(REGION)}
    CRM = {literal(CRM)}
    CALLS = {literal(CALLS)}
    REVOPS = {literal(REVOPS)}
    FORECAST = {literal(FORECAST)}
    ENABLEMENT = {literal(ENABLEMENT)}
    WEIGHTS = {literal(WEIGHTS)}
    accounts.head()
    """)

    nb.md("""
    ## 1. Ratings, the negative ICP and the score

    Two criteria are rated from a number rather than a category:

    | Rating | Company size (`employees`) | Quota-carrying reps (`quota_reps`) |
    |---|---|---|
    | 3 | 400 to 1,500 | 40 or more |
    | 2 | 200 to 399, or 1,501 to 2,000 | 15 to 39 |
    | 1 | 150 to 199, or 2,001 to 3,000 | 8 to 14 |
    | 0 | anything else | fewer than 8 |

    Write:

    - `rate_size(employees)` and `rate_reps(reps)`, returning the ratings above;
    - `is_excluded(account)`, True when the account meets any negative-ICP condition: recording not
      allowed (`calls == "recording_not_allowed"`), on-premises hosting required, fewer than 8
      quota-carrying reps, consumer sales, or a subsidiary of an existing customer;
    - `icp_score(account)`: rate the eight criteria, multiply each rating by its weight in `WEIGHTS`,
      add the products, divide by 3 and round to a whole number, as the chapter does.

    `account` is one row of `accounts` (for example `accounts.iloc[0]`), so read its values as
    `account["employees"]` and so on.
    """)
    nb.answer("score-answer", """
    def rate_size(employees: int) -> int:
        ### BEGIN SOLUTION
        if 400 <= employees <= 1500:
            return 3
        if 200 <= employees <= 399 or 1501 <= employees <= 2000:
            return 2
        if 150 <= employees <= 199 or 2001 <= employees <= 3000:
            return 1
        return 0
        ### END SOLUTION


    def rate_reps(reps: int) -> int:
        ### BEGIN SOLUTION
        if reps >= 40:
            return 3
        if reps >= 15:
            return 2
        if reps >= 8:
            return 1
        return 0
        ### END SOLUTION


    def is_excluded(account) -> bool:
        ### BEGIN SOLUTION
        return bool(
            account["calls"] == "recording_not_allowed"
            or account["on_prem_required"] == "yes"
            or account["quota_reps"] < 8
            or account["consumer_sales"] == "yes"
            or account["customer_subsidiary"] == "yes"
        )
        ### END SOLUTION


    def icp_score(account) -> int:
        ### BEGIN SOLUTION
        ratings = {
            "size": rate_size(account["employees"]),
            "reps": rate_reps(account["quota_reps"]),
            "region": REGION[account["sales_region"]],
            "crm": CRM[account["crm"]],
            "calls": CALLS[account["calls"]],
            "revops": REVOPS[account["revops"]],
            "forecast": FORECAST[account["forecast"]],
            "enablement": ENABLEMENT[account["enablement"]],
        }
        return round(sum(WEIGHTS[name] * rating for name, rating in ratings.items()) / 3)
        ### END SOLUTION
    """)
    nb.tests("test-ratings", 1, ["icp_targeting"], visible="""
    assert rate_size(650) == 3 and rate_size(320) == 2, "650 employees rates 3 and 320 rates 2."
    assert rate_size(2000) == 2 and rate_size(2001) == 1, "The bands include both ends: 2,000 rates 2, 2,001 rates 1."
    assert rate_reps(18) == 2 and rate_reps(7) == 0, "18 reps rates 2; fewer than 8 rates 0."
    print("Visible checks passed.")
    """, hidden="""
    assert [rate_size(n) for n in (149, 150, 199, 200, 399, 400, 1500, 1501, 3000, 3001)] == [0, 1, 1, 2, 2, 3, 3, 2, 1, 0]
    assert [rate_reps(n) for n in (0, 7, 8, 14, 15, 39, 40, 200)] == [0, 0, 1, 1, 2, 2, 3, 3]
    """)
    nb.tests("test-excluded", 1, ["icp_targeting"], visible="""
    _row = accounts.iloc[0].copy()
    _row["quota_reps"] = 5
    assert is_excluded(_row), "Fewer than 8 quota-carrying reps is on the negative ICP."
    print("Visible checks passed.")
    """, hidden=f"""
    assert sorted(accounts.loc[[bool(is_excluded(a)) for _, a in accounts.iterrows()], "account_id"]) == {literal(exp["excluded"])}
    """)
    lumenfold = {"employees": 320, "quota_reps": 18, "sales_region": "team_in_region", "crm": "cloud_inhouse_admin",
                 "calls": "mostly_remote", "revops": "part_of_a_job", "forecast": "monthly", "enablement": "occasional"}
    nb.tests("test-score", 2, ["icp_targeting"], visible=f"""
    # The chapter's worked example, Lumenfold Analytics, scores 73.
    _lumenfold = pd.Series({literal(lumenfold)})
    assert icp_score(_lumenfold) == 73, (
        f"Lumenfold should score 73, got {{icp_score(_lumenfold)}}: multiply each rating by its weight, "
        "add them up, then divide by 3 and round."
    )
    print("Visible checks passed.")
    """, hidden=f"""
    assert {{a["account_id"]: icp_score(a) for _, a in accounts.iterrows()}} == {literal(exp["scores"])}
    """)

    nb.md("""
    ## 2. Tiers and the top segment

    The tier follows from the score, after the negative-ICP gate: tier 1 from 75, tier 2 from 55, tier
    3 from 35; below 35, or excluded, the account is not a target.

    - Build `scored`: the `accounts` table with two new columns, `score` (the ICP score of every
      account, excluded or not) and `tier` (1, 2 or 3, or empty (`None`/`NaN`) for accounts that are
      not a target).
    - Set `top_segment` to the `industry` whose **target** accounts have the highest mean score. A
      mean of one or two accounts proves nothing, so consider only industries with at least three
      target accounts.
    """)
    nb.answer("tier-answer", """
    ### BEGIN SOLUTION
    def tier_of(score: int, excluded: bool):
        if excluded:
            return None
        if score >= 75:
            return 1
        if score >= 55:
            return 2
        if score >= 35:
            return 3
        return None


    scored = accounts.copy()
    scored["score"] = [icp_score(a) for _, a in accounts.iterrows()]
    scored["tier"] = [tier_of(s, is_excluded(a)) for s, (_, a) in zip(scored["score"], accounts.iterrows())]
    targets = scored[scored["tier"].notna()]
    segments = targets.groupby("industry")["score"].agg(["mean", "count"])
    top_segment = segments[segments["count"] >= 3]["mean"].idxmax()
    ### END SOLUTION
    scored[["account_id", "industry", "score", "tier"]]
    """)
    tiers_literal = literal({k: v for k, v in exp["tiers"].items()})
    nb.tests("test-tiers", 1, ["icp_targeting"], visible="""
    assert {"score", "tier"} <= set(scored.columns), "scored needs the columns score and tier."
    assert len(scored) == len(accounts), "Keep every account in scored; excluded ones get an empty tier."
    _excluded = scored[[bool(is_excluded(a)) for _, a in accounts.iterrows()]]
    assert _excluded["tier"].isna().all(), "An excluded account is not a target whatever its score: leave its tier empty."
    print("Visible checks passed.")
    """, hidden=f"""
    _want = {tiers_literal}
    for _id, _tier in zip(scored["account_id"], scored["tier"]):
        assert (pd.isna(_tier) and _want[_id] is None) or _tier == _want[_id], (_id, _tier)
    """)
    segment_check = f"assert top_segment == {literal(exp['top_segment'])}"
    nb.tests("test-segment", 2, ["icp_targeting"], visible="""
    assert top_segment in set(accounts["industry"]), "top_segment must be one industry name, as written in the data."
    _small = scored[scored["tier"].notna()].groupby("industry").size()
    assert _small.get(top_segment, 0) >= 3, (
        "That industry has fewer than three target accounts: its mean is too thin to build a campaign on."
    )
    print("Visible checks passed.")
    """, hidden=segment_check)
    nb.key("top_segment", 'top_segment = segments[segments["count"] >= 3]["mean"].idxmax()', segment_check)

    nb.md("""
    ## 3. This week's calls

    The prospecting chapter ranks target accounts by **priority = fit × timing**:

    - fit is 3 for tier 1, 2 for tier 2 and 1 for tier 3;
    - timing is 1 with no live signal, 2 with one, 3 with two or more (`live_signals`).

    Accounts with a priority of 6 or 9 are worked first. Set `first_calls` to the list of their
    `account_id`s, highest priority first; among equal priorities, higher ICP score first; among equal
    scores, by `account_id`.
    """)
    nb.answer("calls-answer", """
    ### BEGIN SOLUTION
    _targets = scored[scored["tier"].notna()].copy()
    _fit = _targets["tier"].map({1: 3, 2: 2, 3: 1})
    _timing = _targets["live_signals"].clip(upper=2) + 1
    _targets["priority"] = _fit * _timing
    first_calls = list(
        _targets[_targets["priority"] >= 6]
        .sort_values(["priority", "score", "account_id"], ascending=[False, False, True])["account_id"]
    )
    ### END SOLUTION
    first_calls
    """)
    nb.tests("test-first-calls", 1, ["icp_targeting", "prospecting_research"], visible="""
    assert isinstance(first_calls, list) and first_calls, "first_calls must be a non-empty list of account ids."
    _tiers = dict(zip(scored["account_id"], scored["tier"]))
    assert all(_tiers[a] in (1, 2) for a in first_calls), (
        "A tier 3 account has a fit of 1, so its priority is at most 3: it cannot be in first_calls."
    )
    assert len(set(first_calls)) == len(first_calls), "List each account once."
    print("Visible checks passed.")
    """, hidden=f"""
    assert list(first_calls) == {literal(exp["first_calls"])}
    """)

    first = next(r for r in rows if r["account_id"] == exp["first_calls"][0])
    nb.md(f"""
    ## 4. Make the case

    In the cell below the rubric, write a short note to your manager (at most 150 words) that:

    1. recommends a segment for next month's campaign and defends it with your numbers, including why
       you did not pick the industry with the single highest mean score;
    2. names the first account on your call list and the three things you will research about it
       before the first call, each tied to a criterion of the ICP or to its trigger events.
    """)
    nb.manual("segment-case", 4, ["icp_targeting", "prospecting_research"], rubric="""
    **Rubric for the trainer (4 points).** Check the numbers against the learner's own results in parts
    2 and 3; the instructor's version of this notebook has the reference values.

    | Criterion | Points |
    |---|---|
    | Recommends the segment found in part 2, with its mean score and number of target accounts | 1 |
    | Explains why the industry with the highest mean over all its target accounts is not chosen (too few target accounts to trust the mean or to fill a campaign) | 1 |
    | Names the first account and gives three research items, each tied to an ICP criterion or a trigger (for example: confirm the CRM admin, count the AEs, find who runs the forecast call) | 1 |
    | Clear and within about 150 words; numbers match the learner's own results | 1 |
    """, model=f"""
    I recommend **{exp["top_segment"]}** for next month's campaign: its target accounts have the highest
    mean ICP score ({exp["means"][exp["top_segment"]]:.1f}) of the industries with at least three targets.
    {exp["naive_segment"]} scores higher on average, but on fewer than three accounts; that is too few to
    trust the mean and too few to fill a campaign, so I will work those accounts one by one instead.

    First call: **{first["name"]}** ({exp["first_calls"][0]}). Before calling I will check (1) who runs the
    weekly forecast call and whether RevOps owns it, (2) which CRM they use and whether an in-house admin
    runs it, from job posts, and (3) what the live trigger events are and when they happened, so the
    opener names something recent and specific.
    """)

    data = csv_text(HEADER, ([r[h] for h in HEADER] for r in rows))
    return Built(NAME, nb.notebook(), {"accounts.csv": data}, nb.answer_keys)
