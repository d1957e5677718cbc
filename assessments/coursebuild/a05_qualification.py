"""Assignment 5: classify discovery notes against BANT and MEDDIC, apply the SDR's working rule, and
write the next questions for a deal that is not yet qualified."""

from __future__ import annotations

from .cells import NotebookBuilder
from .data import Built, csv_text, literal

NAME = "05_qualification"
HEADER = ["note_id", "account", "contact_role", "employees", "quota_reps", "note"]
NOTES = [
    ("N1", "Harwood Software", "RevOps manager", 850, 30,
     "Lukas runs RevOps. The forecast missed by 18% last quarter and the CFO now wants a deal-by-deal "
     "review every week, which takes Lukas most of Monday. Carla Jensen, the VP of Sales, approves every "
     "tool purchase. This year's sales tools budget is approved and has a line for forecasting. Lukas "
     "offered to set up a call with Carla and to send last quarter's forecast file before it."),
    ("N2", "Foxley Studio", "Founder", 40, 0,
     "The founder sells every project himself and has no plans for a sales team. He signs everything "
     "himself and wants to decide on any new tool this month. He likes the idea of recording his calls "
     "but could not name a problem it would solve for him."),
    ("N3", "Calloway Insurance Software", "Front-line sales manager", 1100, 9,
     "Manages nine AEs. She cannot listen to enough calls to coach, and her two newest reps are well "
     "behind quota. She has no idea about budget and says tool decisions are made 'somewhere above me'. "
     "Nothing is planned."),
    ("N4", "Dunmore Fintech", "VP of Sales", 600, 22,
     "Henrik Aalto decides on sales tools; the CFO countersigns every contract after a security review. "
     "His board wants the forecast within 5% of the actual number by the end of the year; last quarter's "
     "22% miss made for a hard board meeting. Any tool must integrate with their CRM and keep data in the "
     "EU. He wants a decision before the sales kickoff on 15 September."),
    ("N5", "Birchfield Logistics Tech", "RevOps lead", 380, 6,
     "The RevOps lead decides on tools herself. She builds the forecast in spreadsheets from CRM exports "
     "for their six sales reps and finds it slow. No budget or date came up."),
    ("N6", "Ivybridge Analytics", "Sales operations manager", 1300, 50,
     "Their call-recording point tool does not connect to the CRM, so she exports calls by hand every "
     "Friday to match them to deals. The point tool's contract ends in October and she must recommend "
     "keeping or replacing it by 1 September; its budget would move to a replacement. She did not say "
     "who signs."),
]
BANT = {
    "N1": {"budget", "authority", "need"},
    "N2": {"authority", "timeline"},
    "N3": {"need"},
    "N4": {"authority", "need", "timeline"},
    "N5": {"authority", "need"},
    "N6": {"budget", "need", "timeline"},
}
RULED_OUT = {"N2", "N5"}  # outside the ICP: no sales team; fewer than eight quota-carrying reps
MEDDIC = {
    "N1": {"economic_buyer", "identify_pain", "champion"},
    "N4": {"metrics", "economic_buyer", "decision_criteria", "decision_process", "identify_pain"},
}
BANT_ELEMENTS = ["budget", "authority", "need", "timeline"]
MEDDIC_ELEMENTS = ["metrics", "economic_buyer", "decision_criteria", "decision_process", "identify_pain",
                   "champion"]


def book_meeting(elements: set[str], ruled_out: bool) -> bool:
    """The SDR's working rule from book/sdr/qualification."""
    return not ruled_out and "need" in elements and bool({"authority", "timeline"} & elements)


def decisions() -> dict[str, str]:
    return {n: "book" if book_meeting(BANT[n], n in RULED_OUT) else "disqualify" if n in RULED_OUT
            else "nurture" for n in BANT}


def build(skills: set[str]) -> Built:
    assert sorted(set(decisions().values())) == ["book", "disqualify", "nurture"]
    nb = NotebookBuilder(NAME, skills)

    nb.md("""
    # Assignment 5: qualification with BANT and MEDDIC

    This assignment practises **book/sdr/qualification** (BANT, MEDDIC, the SDR's working rule and
    when to disqualify) and the stage exit criteria of **book/handbook/sales-process**.

    `discovery_notes.csv` holds six notes that SDRs wrote after first conversations, with the
    account's headcount and number of quota-carrying reps. You will decide what each note
    evidences, which accounts to book for an account executive, and what to ask next where the note
    falls short.

    **What counts as evidence.** Mark an element only when the note says it; do not infer what is
    likely. For BANT:

    - `budget`: money for this kind of tool is set aside or approved, or the spend on an existing tool
      would move to a replacement;
    - `authority`: the note names who decides, or the contact decides;
    - `need`: the contact describes a concrete problem that Relay solves;
    - `timeline`: a date or deadline makes the decision matter now.

    The autograded answers are checked when the assignment is graded; the visible checks only make
    sure your answers have the right form. The last question is written and graded by a trainer.
    """)
    nb.setup("setup", f"""
    import textwrap

    import pandas as pd

    BANT_ELEMENTS = {literal(BANT_ELEMENTS)}
    MEDDIC_ELEMENTS = {literal(MEDDIC_ELEMENTS)}

    notes = pd.read_csv("discovery_notes.csv")
    for _, row in notes.iterrows():
        print(f"{{row['note_id']}} {{row['account']}} ({{row['contact_role']}}, {{row['employees']}} employees, "
              f"{{row['quota_reps']}} quota-carrying reps)")
        print(textwrap.fill(row["note"], 100, initial_indent="    ", subsequent_indent="    "), end="\\n\\n")


    def normalised(answer: dict) -> dict:
        \"\"\"Your answer with every element in lower case and without stray spaces.\"\"\"
        return {{str(key).strip().upper(): {{str(e).strip().lower() for e in value}} for key, value in answer.items()}}
    """)

    nb.md("""
    ## 1. The working rule

    The chapter's working rule for booking a meeting with an account executive is: **need confirmed,
    plus at least one of authority or timeline, and nothing that rules the account out.** Budget is
    not required.

    Write `book_meeting(elements, ruled_out)`, where `elements` is the set of BANT elements a note
    evidences and `ruled_out` says whether something rules the account out.
    """)
    nb.answer("rule-answer", """
    def book_meeting(elements: set, ruled_out: bool) -> bool:
        ### BEGIN SOLUTION
        return not ruled_out and "need" in elements and bool({"authority", "timeline"} & set(elements))
        ### END SOLUTION
    """)
    nb.tests("test-rule", 1, ["qualification"], visible="""
    assert book_meeting({"need", "authority"}, False), "Need plus authority is enough to book the meeting."
    assert not book_meeting({"budget", "authority", "timeline"}, False), (
        "Without a confirmed need there is nothing to meet about, whatever else is known."
    )
    assert not book_meeting({"need", "authority", "timeline"}, True), (
        "An account that is ruled out is not booked, however good the note."
    )
    print("Visible checks passed.")
    """, hidden="""
    assert book_meeting({"need", "timeline"}, False)
    assert not book_meeting({"need"}, False)
    assert not book_meeting({"need", "budget"}, False)
    assert book_meeting({"budget", "authority", "need", "timeline"}, False)
    assert not book_meeting(set(), False)
    """)

    nb.md("""
    ## 2. BANT for every note

    Set `bant` to a dictionary from each note id (`"N1"` to `"N6"`) to the **set** of BANT elements the
    note evidences, using the names in `BANT_ELEMENTS`. A note that evidences nothing gets an empty
    set, `set()`.
    """)
    bant_solution = f"bant = {literal(BANT)}"
    bant_check = f"assert normalised(bant) == {literal(BANT)}"
    nb.answer("bant-answer", f"""
    ### BEGIN SOLUTION
    {bant_solution}
    ### END SOLUTION
    """)
    nb.tests("test-bant", 3, ["qualification"], visible="""
    assert set(normalised(bant)) == set(notes["note_id"]), "bant needs one entry for each note, N1 to N6."
    for _note, _elements in normalised(bant).items():
        assert _elements <= set(BANT_ELEMENTS), f"{_note}: use only the names {BANT_ELEMENTS}."
    print("Your answer has the right form; it is marked when you submit.")
    """, hidden=bant_check)
    nb.key("bant", bant_solution, bant_check)

    nb.md("""
    ## 3. Ruled out, and the decision

    The chapter lists what rules an account out: outside the ICP (for example no sales team, or fewer
    than eight quota-carrying reps), no identifiable need after a real conversation, budget locked by a
    long contract just signed, no way to reach authority, or a contact who is not a buyer at all.

    - Set `ruled_out` to the set of note ids whose account is ruled out.
    - Set `decisions` to a dictionary from every note id to `"book"` (the working rule is met),
      `"disqualify"` (ruled out) or `"nurture"` (neither: keep the contact warm and find what is
      missing). Use your `book_meeting`.
    """)
    ruled_solution = f"ruled_out = {literal(RULED_OUT)}"
    ruled_check = f"assert {{str(n).strip().upper() for n in ruled_out}} == {literal(RULED_OUT)}"
    decisions_check = f"assert {{str(k).strip().upper(): v for k, v in decisions.items()}} == {literal(decisions())}"
    nb.answer("decision-answer", f"""
    ### BEGIN SOLUTION
    {ruled_solution}
    decisions = {{}}
    for _note, _elements in normalised(bant).items():
        if book_meeting(_elements, _note in ruled_out):
            decisions[_note] = "book"
        elif _note in ruled_out:
            decisions[_note] = "disqualify"
        else:
            decisions[_note] = "nurture"
    ### END SOLUTION
    decisions
    """)
    nb.tests("test-decisions", 2, ["qualification"], visible="""
    assert set(decisions) == set(notes["note_id"]), "decisions needs one entry for each note."
    assert set(decisions.values()) <= {"book", "disqualify", "nurture"}, (
        'Each decision is "book", "disqualify" or "nurture".'
    )
    for _note, _decision in decisions.items():
        _expected = "book" if book_meeting(normalised(bant)[_note], _note in ruled_out) else (
            "disqualify" if _note in ruled_out else "nurture")
        assert _decision == _expected, (
            f"{_note}: with your bant and ruled_out the decision should be {_expected!r}; "
            "derive decisions from book_meeting rather than by hand."
        )
    print("Your decisions follow from your BANT answers; they are marked when you submit.")
    """, hidden=f"{ruled_check}\n{decisions_check}")
    nb.key("ruled_out", ruled_solution, ruled_check)

    nb.md("""
    ## 4. MEDDIC clues for the AE

    For the two richest notes, N1 and N4, record which MEDDIC elements the note evidences, so the
    account executive knows what is already known. Set `meddic` to a dictionary from `"N1"` and `"N4"`
    to the set of element names from `MEDDIC_ELEMENTS`:

    - `metrics`: a measurable result the buyer wants, in their numbers;
    - `economic_buyer`: the person who releases the money is named;
    - `decision_criteria`: what the options will be judged on;
    - `decision_process`: steps or people between interest and signature;
    - `identify_pain`: the business problem and what it costs;
    - `champion`: someone inside the account who acts to move the deal forward.
    """)
    meddic_solution = f"meddic = {literal(MEDDIC)}"
    meddic_check = f"assert normalised(meddic) == {literal(MEDDIC)}"
    nb.answer("meddic-answer", f"""
    ### BEGIN SOLUTION
    {meddic_solution}
    ### END SOLUTION
    """)
    nb.tests("test-meddic", 2, ["qualification"], visible="""
    assert set(normalised(meddic)) == {"N1", "N4"}, "meddic needs exactly the notes N1 and N4."
    for _note, _elements in normalised(meddic).items():
        assert _elements <= set(MEDDIC_ELEMENTS), f"{_note}: use only the names {MEDDIC_ELEMENTS}."
    print("Your answer has the right form; it is marked when you submit.")
    """, hidden=meddic_check)
    nb.key("meddic", meddic_solution, meddic_check)

    nb.md("""
    ## 5. The next conversation

    A seventh note came in after the others. It is not part of the autograded questions:

    > **N7, Sablewood Fintech** (front-line sales manager, 900 employees, 14 quota-carrying reps). His
    > managers review almost no calls, and the three reps hired in spring are still well short of
    > quota. He does not know who would approve a tool like ours, and nothing is planned.

    The note has a need but neither authority nor a timeline, so you are not booking the AE yet. You
    have a follow-up call with him next week. Write the **three questions** you will ask, in the order
    you will ask them, and after each one a line on what you want to learn from it.
    """)
    nb.manual("next-questions", 6, ["discovery_questioning", "qualification"], rubric="""
    **Rubric for the trainer (6 points).**

    | Criterion | 2 points | 1 point | 0 points |
    |---|---|---|---|
    | Open questions | All three are open; none can be answered with yes or no | One is closed | Two or more are closed |
    | Impact | At least one question asks what the problem costs in money or time (for example what a month of ramp is worth for the three new reps) | Impact is asked about vaguely ("is it a big problem?") | No question about impact |
    | Buying process | One question uncovers who decides or how tools are bought, without asking "are you the decision-maker?" | Asks about authority bluntly | Nothing about authority or process |
    """, model="""
    1. **"When you think about the three reps you hired in spring, what is it costing the team that they
       are behind quota, in deals or in months?"** I want the impact in numbers, which turns a coaching
       wish into a business case.

    2. **"How do you choose which calls to listen to today, and what happens to the rest?"** I want
       to understand the current process and how much of the team's selling nobody sees.

    3. **"When your team needed a new tool in the past, who else got involved, and how did it get
       decided?"** I want the people and steps above him (RevOps, the VP of Sales) so I can ask for an
       introduction without asking whether he decides.
    """)

    data = csv_text(HEADER, NOTES)
    return Built(NAME, nb.notebook(), {"discovery_notes.csv": data}, nb.answer_keys)
