"""Assignment 6: recognise objection types, choose the best response in scenarios, and write two
responses graded on the acknowledge-explore-answer-check rubric."""

from __future__ import annotations

from .cells import NotebookBuilder
from .data import Built, literal

NAME = "06_objection_handling"
TYPES = ["price", "timing", "authority", "no_need", "incumbent", "risk"]
STATEMENTS = {
    "O1": "Honestly, at 75 euros a seat this costs more than our CRM.",
    "O2": "Call me again after our kickoff in January; nothing new starts before then.",
    "O3": "I'd have to take this to our VP, and she doesn't take vendor calls.",
    "O4": "Our managers already know which deals are at risk. We don't have a forecasting problem.",
    "O5": "We already get call recordings from the CRM vendor's add-on.",
    "O6": "Our works council will never agree to recording customer calls.",
}
STATEMENT_TYPES = {"O1": "price", "O2": "timing", "O3": "authority", "O4": "no_need", "O5": "incumbent",
                   "O6": "risk"}

SCENARIOS = [
    dict(grade_id="test-s1", variable="answer_s1", skills=["objection_handling", "cold_calling"], correct="B",
         question="""
         ### Scenario 1: ten seconds into a cold call

         You have just given your reason for calling a VP of Sales. She says: "Not interested, thanks."
         What is the best reply?
         """,
         options={
             "A": "No problem, I'll send you an email with more information.",
             "B": "Understood. Before I let you go, is that because the forecast is in good shape, or "
                  "because this is a bad moment?",
             "C": "Most of our customers said that at first, and now they love Relay.",
             "D": "Relay improves forecast accuracy for teams like yours; can I take two minutes to explain how?",
         }),
    dict(grade_id="test-s2", variable="answer_s2", skills=["objection_handling", "negotiation_closing"],
         correct="C",
         question="""
         ### Scenario 2: a discount request at the end of the quarter

         A VP of Sales who has agreed the scope of a 60-seat Business deal says: "Take 20% off and we
         sign this week." What is the best reply?
         """,
         options={
             "A": "Agreed: 20% off if the order form is signed by Friday.",
             "B": "I can't change the price; it's company policy.",
             "C": "If we look at price, I'd want to look at the terms as well: with a two-year term and a "
                  "reference call, I could work on the first year's price. Which of those could work for you?",
             "D": "Let me ask my manager for 25%, so you get an even better deal.",
         }),
    dict(grade_id="test-s3", variable="answer_s3", skills=["objection_handling", "product_knowledge"],
         correct="D",
         question="""
         ### Scenario 3: the security review

         The IT and security lead says: "Recordings of our customer calls cannot leave the EU." What is
         the best reply?
         """,
         options={
             "A": "Our data is stored securely in the cloud, so there's nothing to worry about.",
             "B": "Recording is optional, so you could simply not record.",
             "C": "Every vendor has the same issue, so it shouldn't stop you.",
             "D": "That's an important requirement. Which rules apply to the calls you record? Relay records "
                  "only with consent and, on Enterprise, lets you choose the data region and retention; would "
                  "a review of our data processing agreement with your team settle it?",
         }),
    dict(grade_id="test-s4", variable="answer_s4", skills=["objection_handling"], correct="A",
         question="""
         ### Scenario 4: the incumbent tool

         A RevOps manager says: "The CRM vendor's add-on already records our calls." What is the best
         reply?
         """,
         options={
             "A": "That's useful to know. What happens to those calls once they're recorded, and who uses "
                  "them today?",
             "B": "The add-on is much weaker than Relay.",
             "C": "Then you probably don't need us; thanks for your time.",
             "D": "Relay has fourteen capabilities the add-on lacks; let me take you through them.",
         }),
    dict(grade_id="test-s5", variable="answer_s5", skills=["objection_handling", "outreach_messaging"],
         correct="B",
         question="""
         ### Scenario 5: "send me some information"

         A RevOps lead replies to your first email: "Send me some information." What is the best reply?
         """,
         options={
             "A": "Sure! Attached are our 30-page deck and the price list.",
             "B": "Happy to. So I send what is useful rather than everything: is it the forecast or the "
                  "coaching side that matters more to you right now?",
             "C": "Information is best shared live; when can we meet?",
             "D": "No reply; add the contact to the monthly newsletter instead.",
         }),
]

RESPONSE_RUBRIC = """
**Rubric for the trainer ({points} points)**, from the pattern in book/handbook/objections and scenario 3
of book/sdr/role-play. One point for each step done well.

| Step | 1 point when the response ... |
|---|---|
| Acknowledge | takes the concern seriously in the buyer's words, without agreeing that it ends the conversation and without arguing |
| Explore | asks at least one open question that uncovers what is behind the objection |
| Answer | answers briefly with something specific: a fact about Relay, a customer result or {answer_hint} |
| Check | ends by checking whether the answer resolves the concern, or by agreeing the next step |

Zero for the whole answer if it concedes straight away ({concede}).
"""


def build(skills: set[str]) -> Built:
    assert set(STATEMENT_TYPES.values()) == set(TYPES)
    assert len({s["correct"] for s in SCENARIOS}) >= 3, "spread the correct letters"
    nb = NotebookBuilder(NAME, skills)

    nb.md("""
    # Assignment 6: objection handling

    This assignment practises **book/handbook/objections**, scenario 3 of **book/sdr/role-play** (the
    objection-heavy call) and the trading principle of **book/handbook/negotiation-closing**.

    An objection is information: it tells you what the buyer is worried about. The pattern we use
    has four steps: **acknowledge** the concern, **explore** it with a question, **answer** briefly
    with something specific, and **check** whether the answer landed.

    Parts 1 and 2 are autograded when the assignment is graded; the visible checks only make sure
    your answers have the right form, so that the answers stay your own. Part 3 is written and graded
    by a trainer against the rubric shown above each answer cell.
    """)
    nb.setup("setup", f"""
    OBJECTION_TYPES = {literal(TYPES)}
    """)
    nb.choice_setup()

    listing = "\n".join(f"    - **{key}** \"{text}\"" for key, text in STATEMENTS.items()).lstrip()
    nb.md(f"""
    ## 1. What kind of objection is it?

    Classify each statement by the concern behind it, using one of the names in `OBJECTION_TYPES`:
    `price` (the cost), `timing` (not now), `authority` (not my decision), `no_need` (no problem to
    solve), `incumbent` (we already have something) or `risk` (security, legal or the fear of
    failure). Set `objection_types` to a dictionary from each statement id to its type.

    {listing}
    """)
    solution = f"objection_types = {literal(STATEMENT_TYPES)}"
    check = ("assert {str(k).strip().upper(): str(v).strip().lower() for k, v in objection_types.items()} == "
             f"{literal(STATEMENT_TYPES)}")
    nb.answer("types-answer", f"""
    ### BEGIN SOLUTION
    {solution}
    ### END SOLUTION
    """)
    nb.tests("test-types", 2, ["objection_handling"], visible=f"""
    _ids = {literal(set(STATEMENTS))}
    assert {{str(k).strip().upper() for k in objection_types}} == _ids, "Classify every statement, O1 to O6."
    assert {{str(v).strip().lower() for v in objection_types.values()}} <= set(OBJECTION_TYPES), (
        f"Use only the type names {{OBJECTION_TYPES}}."
    )
    print("Your answer has the right form; it is marked when you submit.")
    """, hidden=check)
    nb.key("objection_types", solution, check)

    nb.md("""
    ## 2. Choose the best reply

    For each scenario, pick the reply that follows the pattern best. Each scenario is worth one point.
    """)
    for scenario in SCENARIOS:
        nb.choice(scenario["grade_id"], 1, scenario["skills"], scenario["variable"], scenario["question"],
                  scenario["options"], scenario["correct"])

    nb.md("""
    ## 3. Write the response

    Write what you would say, as you would say it, in two to five sentences. Do not describe what you
    would do; say it.

    **Response 1.** You are in the final call of a 40-seat Business deal (EUR 36,000 a year). The VP of
    Sales says: *"Your price is fine, but our CFO has told every supplier to take 15% off this year. I
    need that from you to get it signed."*
    """)
    nb.manual("response-price", 4, ["objection_handling", "negotiation_closing"],
              rubric=RESPONSE_RUBRIC.format(points=4, answer_hint="a trade (something of value to us in return for any price movement)",
                                            concede="\"OK, 15% it is\""),
              model="""
    "I understand: the CFO has set a rule for every supplier, and you need to show you applied it.
    Can I ask what the CFO is trying to achieve with it: a lower total this year, or a lower
    price per seat over time? If it's this year's total, there's a way to get there without
    changing the value of the deal: with a two-year agreement I can take 15% off the first year,
    and the second year is at the current price. Would that meet the CFO's rule?"
    """)
    nb.md("""
    **Response 2.** A front-line sales manager says on a discovery call: *"We tried a call-recording tool
    two years ago. Nobody used it, and it was switched off after six months."*
    """)
    nb.manual("response-tried", 4, ["objection_handling"],
              rubric=RESPONSE_RUBRIC.format(points=4, answer_hint="how other teams made recordings part of their routine",
                                            concede="\"then this probably isn't for you\""),
              model="""
    "That's a fair worry; nobody wants to pay for a second tool that gets switched off. What do you
    think stopped people using it: was it the time it took, or that the recordings didn't lead to
    anything? The teams that keep using Relay are the ones where managers coach from two-minute
    moments in a call during their one-to-ones, so it saves them time instead of adding work. If we
    showed you how that would fit your one-to-ones, would that address the concern?"
    """)

    return Built(NAME, nb.notebook(), {}, nb.answer_keys)
