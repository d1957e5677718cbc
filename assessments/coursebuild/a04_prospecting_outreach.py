"""Assignment 4: which research signals are live, what is wrong with a bad email, and a written email
and call opener graded on the messaging chapter's rubric."""

from __future__ import annotations

from datetime import date, timedelta

from .cells import NotebookBuilder
from .data import Built, csv_text, literal

NAME = "04_prospecting_outreach"
AS_OF = date(2025, 6, 30)
# How many days a trigger event stays a reason to call. The prospecting chapter gives a quarter for a
# funding round and about a hundred days for a new executive; the others follow the same logic.
SIGNAL_LIFE = {"new_sales_leader": 100, "funding_round": 90, "ae_hiring": 60, "crm_change": 120,
               "expansion": 90, "merger": 180, "revenue_miss": 90}
HEADER = ["account", "contact", "title", "signal_type", "signal_date", "detail"]
# (account, contact, title, signal type, days before AS_OF, detail)
SIGNALS = [
    ("Varden Freight Software", "Ines Moreau", "Head of Revenue Operations", "new_sales_leader", 49,
     "Kai Lindqvist joined as VP of Sales from a larger logistics platform"),
    ("Varden Freight Software", "Ines Moreau", "Head of Revenue Operations", "ae_hiring", 20,
     "Five account executive roles posted for Hamburg and Rotterdam"),
    ("Kestrel Payroll", "Nadia Petrov", "Head of Sales Operations", "merger", 89,
     "Completed merger with Aldwyn HR; the two sales teams keep separate processes for now"),
    ("Kestrel Payroll", "Nadia Petrov", "Head of Sales Operations", "award", 29,
     "Named one of the region's best places to work"),
    ("Pellam Analytics", "Tomasz Nowak", "VP of Sales", "funding_round", 130,
     "Series C round to expand into North America"),
    ("Pellam Analytics", "Tomasz Nowak", "VP of Sales", "conference_talk", 12,
     "Spoke on a panel about building a sales team from scratch"),
    ("Stanmore Logistics Tech", "Aisha Bello", "Sales Operations Manager", "crm_change", 107,
     "Job post for a CRM administrator to lead a move to a new CRM"),
    ("Stanmore Logistics Tech", "Aisha Bello", "Sales Operations Manager", "new_sales_leader", 161,
     "Promoted a new Chief Revenue Officer"),
    ("Quillon Insurance Software", "Rafael Costa", "VP of Sales", "revenue_miss", 33,
     "Missed first-quarter revenue guidance; pipeline coverage named as the reason"),
    ("Quillon Insurance Software", "Rafael Costa", "VP of Sales", "expansion", 25,
     "Opened a sales office in Chicago for North America"),
    ("Thornbury Security", "Helga Sorensen", "Head of Sales", "office_move", 10,
     "Moved headquarters to a larger office in the same city"),
    ("Thornbury Security", "Helga Sorensen", "Head of Sales", "award", 59,
     "Won an industry award for its product"),
    ("Elmstead Health Systems", "Owen Price", "Director of Sales", "ae_hiring", 71,
     "Three account executive roles posted"),
    ("Elmstead Health Systems", "Owen Price", "Director of Sales", "funding_round", 76,
     "Growth funding to double the sales team"),
    ("Glenrock Energy Software", "Sofia Marin", "RevOps Lead", "new_sales_leader", 100,
     "New VP of Sales, previously at a forecasting-heavy enterprise company"),
    ("Glenrock Energy Software", "Sofia Marin", "RevOps Lead", "ae_hiring", 5,
     "Four AE roles and one sales enablement manager posted"),
]

BAD_EMAIL = """
Subject: two sales teams, one forecast?

Hi Nadia,

Hope you're enjoying your work at Kestrell Payroll!

Relay records and transcribes every call, scores deals, inspects your pipeline, forecasts revenue,
hosts call libraries, builds coaching scorecards and sends deal alerts to your chat tool.

A 700-person payroll software company cut its forecast preparation from two days to three hours a
week after moving to Relay.

Here is my booking link: grab 45 minutes this week for a full demo.

Our introductory pricing ends this Friday, so the timing could not be better.

Best,
Alex
"""
ERRORS = {
    "E1": "Opens by talking about the sender (\"I am reaching out\", \"My name is\")",
    "E2": "Fake personalisation: a line that could be sent to anyone at the company",
    "E3": "A list of features instead of one problem",
    "E4": "Vague proof, such as \"leading companies trust us\"",
    "E5": "A calendar grab: a booking link or a long demo before the reader has shown interest",
    "E6": "Stacked asks: more than one call to action",
    "E7": "A careless error in the reader's name or company",
    "E8": "A pushy tone or false urgency",
    "E9": "Too long: over 150 words",
    "E10": "A generic or clickbait subject line",
}
ERRORS_PRESENT = {"E2", "E3", "E5", "E7", "E8"}


def rows() -> list[tuple]:
    return [(a, c, t, kind, (AS_OF - timedelta(days=days)).isoformat(), detail)
            for a, c, t, kind, days, detail in SIGNALS]


def expected() -> dict:
    live: dict[str, int] = {}
    for account, _c, _t, kind, days, _d in SIGNALS:
        live.setdefault(account, 0)
        if kind in SIGNAL_LIFE and 0 <= days <= SIGNAL_LIFE[kind]:
            live[account] += 1
    timing = {a: 1 if n == 0 else 2 if n == 1 else 3 for a, n in live.items()}
    assert sorted(set(timing.values())) == [1, 2, 3]
    words = len(BAD_EMAIL.split("\n", 2)[2].split())
    assert words < 150, words
    return {"live": live, "timing": timing}


def build(skills: set[str]) -> Built:
    exp = expected()
    nb = NotebookBuilder(NAME, skills)

    nb.md(f"""
    # Assignment 4: prospecting research and outreach

    This assignment practises **book/sdr/prospecting** (trigger events and the timing rating),
    **book/sdr/messaging** (the anatomy of a cold email, the cold-email rubric, cold-call openers) and
    **book/sdr/cadences** (why the first touch must be personal).

    `research_signals.csv` is an SDR's research log for eight accounts, as of
    {AS_OF:%d %B %Y}: one row per signal found, with its type, its date and a one-line note. The first
    two parts are autograded; the last two are written and graded by a trainer against the rubric
    shown above each answer cell.

    Fill in the cells marked `YOUR CODE HERE` (or `YOUR ANSWER HERE`) and run the tests below each.
    Visible checks say what to fix; the exact answers are checked when the assignment is graded.
    """)
    nb.setup("setup", f"""
    from datetime import date

    import pandas as pd

    AS_OF = date.fromisoformat("{AS_OF.isoformat()}")
    # Days a trigger event stays a reason to reach out. Types not listed here (an award, a talk, an
    # office move) are useful for personalisation but are not triggers.
    SIGNAL_LIFE = {literal(SIGNAL_LIFE)}

    signals = pd.read_csv("research_signals.csv")
    signals
    """)
    nb.choice_setup()

    nb.md("""
    ## 1. Which signals are live

    A signal is **live** on a given day when its type is a trigger (a key of `SIGNAL_LIFE`) and it
    happened at most that many days earlier, counting the boundary day as live; a signal dated after
    the day is not live yet.

    1. Write `is_live(signal_type, signal_date, as_of)`, where the dates are `datetime.date` objects.
    2. Set `timing` to a dictionary from every account in the log to its **timing rating** as of
       `AS_OF`: 1 with no live trigger, 2 with one, 3 with two or more.
    """)
    nb.answer("live-answer", """
    def is_live(signal_type: str, signal_date: date, as_of: date) -> bool:
        ### BEGIN SOLUTION
        if signal_type not in SIGNAL_LIFE:
            return False
        age = (as_of - signal_date).days
        return 0 <= age <= SIGNAL_LIFE[signal_type]
        ### END SOLUTION


    ### BEGIN SOLUTION
    _live = {account: 0 for account in signals["account"]}
    for _, signal in signals.iterrows():
        if is_live(signal["signal_type"], date.fromisoformat(signal["signal_date"]), AS_OF):
            _live[signal["account"]] += 1
    timing = {account: 1 if n == 0 else 2 if n == 1 else 3 for account, n in _live.items()}
    ### END SOLUTION
    timing
    """)
    nb.tests("test-live", 1, ["prospecting_research"], visible="""
    assert is_live("funding_round", date(2025, 6, 1), AS_OF), "A funding round 29 days old is live."
    assert not is_live("funding_round", date(2025, 1, 15), AS_OF), (
        "A funding round more than 90 days old is no longer a reason to call."
    )
    assert not is_live("award", date(2025, 6, 29), AS_OF), "An award is not a trigger, however recent."
    print("Visible checks passed.")
    """, hidden="""
    assert is_live("new_sales_leader", date(2025, 3, 22), AS_OF)
    assert not is_live("new_sales_leader", date(2025, 3, 21), AS_OF)
    assert not is_live("ae_hiring", date(2025, 7, 2), AS_OF)
    assert is_live("merger", AS_OF, AS_OF)
    """)
    nb.tests("test-timing", 2, ["prospecting_research"], visible="""
    assert set(timing) == set(signals["account"]), "timing needs one entry for every account in the log."
    assert set(timing.values()) <= {1, 2, 3}, "Timing ratings are 1, 2 or 3."
    assert timing["Thornbury Security"] == 1, (
        "Thornbury Security has an office move and an award: neither is a trigger, so its timing is 1."
    )
    print("Visible checks passed.")
    """, hidden=f"""
    assert timing == {literal(exp["timing"])}
    """)

    nb.md(f"""
    ## 2. What is wrong with this email

    An SDR drafted this first email to Nadia Petrov, Head of Sales Operations at Kestrel Payroll, which
    merged with Aldwyn HR in the spring.

    ```text
    {BAD_EMAIL.strip().replace(chr(10), chr(10) + "    ")}
    ```

    Which of these problems does the draft have? Set `errors_found` to the set of their codes, for
    example `{{"E1", "E4"}}` (those two are only an example of the format). Every code counts: the
    answer is marked right only when it lists all the problems present and none that are absent.

    {chr(10).join(f"    - **{code}** {text}" for code, text in ERRORS.items()).lstrip()}
    """)
    solution = f"errors_found = {literal(ERRORS_PRESENT)}"
    check = f"assert {{choice(code) for code in errors_found}} == {literal(ERRORS_PRESENT)}"
    nb.answer("errors-answer", f"""
    ### BEGIN SOLUTION
    {solution}
    ### END SOLUTION
    """)
    nb.tests("test-errors", 2, ["outreach_messaging"], visible=f"""
    _codes = {literal(set(ERRORS))}
    assert isinstance(errors_found, (set, list, tuple)), 'errors_found must be a set of codes such as {{"E1", "E4"}}.'
    assert {{choice(code) for code in errors_found}} <= _codes, "Use only the codes E1 to E10 from the list."
    assert len(errors_found) >= 1, "The draft has problems: list at least one code."
    print("Your answer has the right form; it is marked when you submit.")
    """, hidden=check)
    nb.key("errors_found", solution, check)

    nb.choice("test-subject", 1, ["outreach_messaging"], "answer_subject", question="""
    ### Subject line

    For a first email to Ines Moreau, Head of Revenue Operations at Varden Freight Software, which
    subject line follows the guidance in the messaging chapter?
    """, options={
        "A": "Northwind Signal | Revenue Intelligence for Varden",
        "B": "five AEs and a new VP of Sales",
        "C": "Re: our conversation",
        "D": "Transform your sales forecasting TODAY",
    }, correct="B")

    nb.md("""
    ## 3. Write the first email

    Write the first email of a cadence to **Ines Moreau**, Head of Revenue Operations at **Varden
    Freight Software**. Use what the research log says about Varden and the anatomy
    from the messaging chapter: a subject line, a relevance hook, the problem as a hypothesis, one
    proof point and one low-friction ask, in under 120 words. You may invent a plausible proof point
    about a comparable customer; do not invent facts about Varden.
    """)
    nb.manual("cold-email", 12, ["outreach_messaging", "prospecting_research"], rubric="""
    **Rubric for the trainer (12 points): the cold-email rubric of book/sdr/messaging.** Score each
    criterion 0, 1 or 2. Note any criterion scored 0 in the comment: the email is not ready to send.

    | Criterion | 0 | 1 | 2 |
    |---|---|---|---|
    | Relevance and personalisation | Could be sent to anyone | Mentions Varden or Ines's role but no real signal | Opens with a specific, recent signal about Varden from the research log |
    | Clarity and brevity | Over 150 words, or unclear | Clear but padded | Under 120 words; every sentence earns its place |
    | Value to the reader | About us and our features | Names a problem, not why it matters to RevOps | A problem RevOps plausibly has (for example a new VP wanting a forecast view, ramping five AEs) and what solving it is worth |
    | Credibility and proof | None, or vague claims | Generic proof | One concrete, relevant proof point |
    | Call to action | None, or several asks | One ask with high friction | One low-friction ask |
    | Tone and correctness | Errors in names, or pushy | Minor slips, or stiff | Correct, warm, plain language |
    """, model="""
    **Subject:** a new VP and five new AEs

    Hi Ines,

    I saw Kai Lindqvist joined Varden as VP of Sales in May, and that you are hiring five account
    executives for Hamburg and Rotterdam.

    A new sales leader usually wants his own view of the forecast within his first quarter, and five
    new AEs make the calls behind it harder to see. RevOps tends to end up building that view by hand.

    A 400-person logistics software company cut its weekly forecast preparation from a day to about
    an hour by linking every recorded call to its deal.

    Would it be worth a short conversation to see whether that applies at Varden?

    Sam
    """)

    nb.md("""
    ## 4. Write the call opener

    Ines has not replied. Two days later you call **Kai Lindqvist**, the new VP of Sales. Write what you
    say in the first twenty seconds, up to and including your first question, as you would say it.
    """)
    nb.manual("call-opener", 4, ["cold_calling"], rubric="""
    **Rubric for the trainer (4 points): the cold-call opener of book/sdr/messaging.**

    | Criterion | Points |
    |---|---|
    | A permission-based opener: acknowledges the interruption and gives Kai the choice to continue | 1 |
    | A reason for the call that links a recent signal from the research log to a likely problem, in one or two sentences | 2 (1 if the reason is generic or only names our product) |
    | Ends with an open question about Kai's situation, not a pitch or a yes/no question | 1 |
    """, model="""
    "Hi Kai, it's Sam from Northwind Signal. I'm calling out of the blue; can I take thirty seconds to
    say why, and then you decide whether we keep talking?

    You joined Varden in May and you're hiring five AEs. Sales leaders in their first months often tell
    us the forecast they inherited is hard to check against what actually happens in calls.

    How are you getting a view of the pipeline you can trust at the moment?"
    """)

    return Built(NAME, nb.notebook(), {"research_signals.csv": csv_text(HEADER, rows())}, nb.answer_keys)
