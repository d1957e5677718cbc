"""Assignment 9: product knowledge (pricing, personas, the discovery-to-value map, a demo that follows
discovery) and negotiation and closing (the cost of a concession, trading, the mutual close plan)."""

from __future__ import annotations

from .cells import NotebookBuilder
from .data import Built, literal

NAME = "09_product_negotiation"
PLANS = {"Team": 45, "Business": 75}
FREE_VIEWERS = 5
PERSONAS = ["vp_sales", "revops", "frontline_manager", "it_security"]
QUOTES = {
    "P1": "I need to walk into the board meeting with a number I can defend.",
    "P2": "Every Monday I rebuild the pipeline report by hand, because nobody updates the CRM.",
    "P3": "I've got nine reps and I can listen to maybe two of their calls a week.",
    "P4": "Before anything is recorded I need to know where the data is stored and who can get at it.",
}
QUOTE_PERSONAS = {"P1": "vp_sales", "P2": "revops", "P3": "frontline_manager", "P4": "it_security"}
MODULES = ["record_analyse", "coach", "inspect", "forecast", "platform"]
PAINS = {
    "C1": "Deals slip in the last two weeks of the quarter and we never see it coming.",
    "C2": "Our new reps take six months to ramp.",
    "C3": "We missed the forecast badly last quarter.",
    "C4": "Nobody really knows what gets said on our sales calls.",
    "C5": "Recording calls makes our legal team nervous.",
}
PAIN_MODULES = {"C1": "inspect", "C2": "coach", "C3": "forecast", "C4": "record_analyse", "C5": "platform"}
DEMO_ORDER = ["forecast", "inspect", "coach"]
WESTERLY = {"reps": 34, "managers": 5, "viewers": 7}


def seats_needed(reps: int, managers: int, viewers: int) -> int:
    return reps + managers + max(0, viewers - FREE_VIEWERS)


def build(skills: set[str]) -> Built:
    westerly_seats = seats_needed(WESTERLY["reps"], WESTERLY["managers"], WESTERLY["viewers"])
    westerly_price = PLANS["Business"] * westerly_seats * 12
    nb = NotebookBuilder(NAME, skills)

    nb.md(f"""
    # Assignment 9: product knowledge, negotiation and closing

    This assignment practises **book/handbook/product** (modules, personas, the discovery-to-value
    map, pricing), the demo guidance of **book/handbook/techniques** and
    **book/handbook/negotiation-closing** (the cost of a discount, trading rather than conceding, the
    mutual close plan).

    Most of it follows one deal. **Westerly Freight Systems** (700 employees) sells logistics software
    with {WESTERLY["reps"]} account executives and {WESTERLY["managers"]} sales managers; its CEO, CFO and
    five other executives want read-only access to the forecast. You ran discovery with **Aurelio
    Medina**, VP of Sales, on 1 September 2025. Your notes:

    > Aurelio's biggest worry is the forecast: it missed by 19% in each of the last two quarters, and he
    > presents to the board on 23 October. Close behind that, deals slip at the end of the quarter:
    > 11 of last quarter's 30 commit deals moved out, most after three weeks without a meeting. Less
    > urgently, he would like new AEs to ramp faster next year. The IT lead, Sunita Rao, must approve
    > any recording tool, and the CFO countersigns contracts above EUR 30,000.

    Parts 1 to 3 are autograded; the multiple-choice and classification answers are marked when the
    assignment is graded. Part 4 is written and graded by a trainer against the rubric above each
    answer cell.
    """)
    nb.setup("setup", f"""
    import math

    # List prices in EUR per seat per month, billed annually. Enterprise is priced per deal.
    PLANS = {literal(PLANS)}
    FREE_VIEWERS = {FREE_VIEWERS}  # read-only executive viewers included at no charge
    PERSONAS = {literal(PERSONAS)}
    MODULES = {literal(MODULES)}
    """)
    nb.choice_setup()

    nb.md("""
    ## 1. Pricing

    A seat is needed for everyone whose calls are recorded or who works in Inspect or Forecast, which
    means every rep and every manager. Up to `FREE_VIEWERS` read-only executive viewers are included;
    each viewer beyond that needs a seat.

    - Write `seats_needed(reps, managers, viewers)` and `annual_list_price(plan, seats)`: the price per
      seat per month times the seats times 12. For `"Enterprise"`, or a plan that does not exist, raise
      a `ValueError`, because there is no list price to compute.
    - Set `westerly_annual` to the annual list price of Westerly on the Business plan.
    """)
    nb.answer("pricing-answer", """
    def seats_needed(reps: int, managers: int, viewers: int) -> int:
        ### BEGIN SOLUTION
        return reps + managers + max(0, viewers - FREE_VIEWERS)
        ### END SOLUTION


    def annual_list_price(plan: str, seats: int) -> int:
        ### BEGIN SOLUTION
        if plan not in PLANS:
            raise ValueError(f"no list price for the {plan!r} plan")
        return PLANS[plan] * seats * 12
        ### END SOLUTION


    ### BEGIN SOLUTION
    westerly_annual = annual_list_price("Business", seats_needed(34, 5, 7))
    ### END SOLUTION
    print(f"Westerly on Business: EUR {westerly_annual:,}")
    """)
    nb.tests("test-pricing", 2, ["product_knowledge"], visible="""
    assert annual_list_price("Business", 32) == 28800, "32 Business seats cost 32 x 75 x 12 = EUR 28,800 a year."
    assert seats_needed(10, 2, 5) == 12, "Five executive viewers are free: 10 reps and 2 managers need 12 seats."
    try:
        annual_list_price("Enterprise", 100)
    except ValueError:
        pass
    else:
        raise AssertionError("Enterprise has no list price: raise ValueError instead of returning a number.")
    print("Visible checks passed.")
    """, hidden=f"""
    assert annual_list_price("Team", 40) == 21600
    assert seats_needed(20, 3, 8) == 26
    assert westerly_annual == {westerly_price}
    try:
        annual_list_price("Premium", 10)
    except ValueError:
        pass
    else:
        raise AssertionError("unknown plan")
    """)

    quotes = "\n".join(f"    - **{key}** \"{text}\"" for key, text in QUOTES.items()).lstrip()
    nb.md(f"""
    ## 2. Who says it, and what answers it

    **Personas.** Set `personas` to a dictionary from each quote to the persona most likely to say it,
    using the names in `PERSONAS` (VP of Sales, RevOps manager, front-line sales manager, IT or
    security lead).

    {quotes}
    """)
    persona_solution = f"personas = {literal(QUOTE_PERSONAS)}"
    persona_check = ("assert {str(k).strip().upper(): str(v).strip().lower() for k, v in personas.items()} == "
                     f"{literal(QUOTE_PERSONAS)}")
    nb.answer("persona-answer", f"""
    ### BEGIN SOLUTION
    {persona_solution}
    ### END SOLUTION
    """)
    nb.tests("test-personas", 2, ["product_knowledge"], visible=f"""
    assert {{str(k).strip().upper() for k in personas}} == {literal(set(QUOTES))}, "Answer for every quote, P1 to P4."
    assert {{str(v).strip().lower() for v in personas.values()}} <= set(PERSONAS), f"Use only the names {{PERSONAS}}."
    print("Your answer has the right form; it is marked when you submit.")
    """, hidden=persona_check)
    nb.key("personas", persona_solution, persona_check)

    pains = "\n".join(f"    - **{key}** \"{text}\"" for key, text in PAINS.items()).lstrip()
    nb.md(f"""
    **Capabilities.** Using the discovery-to-value map, set `capabilities` to a dictionary from each
    statement to the part of Relay that answers it: `record_analyse` (Record and Analyse), `coach`,
    `inspect`, `forecast`, or `platform` (consent, retention, data region, single sign-on).

    {pains}
    """)
    capability_solution = f"capabilities = {literal(PAIN_MODULES)}"
    capability_check = ("assert {str(k).strip().upper(): str(v).strip().lower() for k, v in capabilities.items()} == "
                        f"{literal(PAIN_MODULES)}")
    nb.answer("capability-answer", f"""
    ### BEGIN SOLUTION
    {capability_solution}
    ### END SOLUTION
    """)
    nb.tests("test-capabilities", 2, ["product_knowledge"], visible=f"""
    assert {{str(k).strip().upper() for k in capabilities}} == {literal(set(PAINS))}, "Answer for every statement, C1 to C5."
    assert {{str(v).strip().lower() for v in capabilities.values()}} <= set(MODULES), f"Use only the names {{MODULES}}."
    print("Your answer has the right form; it is marked when you submit.")
    """, hidden=capability_check)
    nb.key("capabilities", capability_solution, capability_check)

    nb.md("""
    ## 3. The demo and the deal

    **Demo plan.** A demo follows the discovery: it shows first what answers the buyer's biggest pain,
    and leaves out what the buyer did not ask about. Set `demo_order` to the list of modules (names from
    `MODULES`) you will show Aurelio, in the order you will show them.
    """)
    demo_solution = f"demo_order = {literal(DEMO_ORDER)}"
    demo_check = f"assert [str(m).strip().lower() for m in demo_order] == {literal(DEMO_ORDER)}"
    nb.answer("demo-answer", f"""
    ### BEGIN SOLUTION
    {demo_solution}
    ### END SOLUTION
    """)
    nb.tests("test-demo", 2, ["demo_presentation"], visible="""
    assert isinstance(demo_order, list) and demo_order, "demo_order is a list of module names, in order."
    assert {str(m).strip().lower() for m in demo_order} <= set(MODULES), f"Use only the names {MODULES}."
    assert len(set(demo_order)) == len(demo_order), "Show each module once."
    print("Your plan has the right form; it is marked when you submit.")
    """, hidden=demo_check)
    nb.key("demo_order", demo_solution, demo_check)

    nb.md("""
    **The cost of a discount.** Write `concession_cost(plan, seats, discount, years)`: the revenue given
    up over the whole contract when the list price is reduced by `discount` (a share such as 0.15) in
    every year of a `years`-year contract.
    """)
    nb.answer("concession-answer", """
    def concession_cost(plan: str, seats: int, discount: float, years: int) -> float:
        ### BEGIN SOLUTION
        return annual_list_price(plan, seats) * discount * years
        ### END SOLUTION
    """)
    nb.tests("test-concession", 1, ["negotiation_closing"], visible="""
    assert math.isclose(concession_cost("Business", 10, 0.1, 1), 900), (
        "10% off 10 Business seats for one year gives up 10 x 75 x 12 x 0.10 = EUR 900."
    )
    print("Visible checks passed.")
    """, hidden="""
    assert math.isclose(concession_cost("Business", 120, 0.15, 2), 32400)
    assert math.isclose(concession_cost("Team", 50, 0.2, 3), 16200)
    """)

    nb.choice("test-close-plan", 1, ["negotiation_closing"], "answer_n1", question="""
    **Closing.** It is the last week of the quarter. Your champion says the contract is "with legal",
    but nobody has named a date for signature. What is the best next step?
    """, options={
        "A": "Offer 10% off if the contract is signed this week.",
        "B": "Ask the champion to walk through every remaining step to signature, with owners and dates, "
             "and agree them as a mutual close plan.",
        "C": "Move the close date to next quarter in the CRM and wait for legal.",
        "D": "Call the CFO directly to ask why the contract is taking so long.",
    }, correct="B")
    nb.choice("test-trade", 1, ["negotiation_closing"], "answer_n2", question="""
    **Trading.** Which of these offers is a trade rather than a concession?
    """, options={
        "A": "We can take 5% off the price.",
        "B": "We can add ten seats at no charge.",
        "C": "We can move the payment terms to 90 days.",
        "D": "We can take 5% off the first year if you sign for three years and speak to two of our prospects "
             "as a reference.",
    }, correct="D")

    nb.md("""
    ## 4. Written answers

    **Value statement.** Write the two or three sentences that open your demo for Aurelio, before you
    show anything.
    """)
    nb.manual("value-statement", 3, ["demo_presentation", "product_knowledge"], rubric="""
    **Rubric for the trainer (3 points).**

    | Criterion | Points |
    |---|---|
    | Restates Aurelio's pain in his own numbers (19% forecast miss, 11 of 30 commit deals slipped, the 23 October board) | 1 |
    | States the outcome he will get, not a feature list (a forecast he can defend; slipping deals seen weeks earlier) | 1 |
    | Says what the demo will show and in what order, matching the discovery, and checks the agenda with him | 1 |
    """, model="""
    "Aurelio, you told me the forecast missed by 19% two quarters running and that 11 of your 30 commit
    deals slipped last quarter, with the board meeting on 23 October. In the next twenty minutes I'll
    show you how you'd walk into that meeting with a forecast built from what happens in calls, and
    how your managers would spot a slipping deal three weeks before the close date rather than after.
    We'll start with the forecast view, then the deal risks; does that order work for you?"
    """)
    nb.md(f"""
    **Mutual close plan.** Aurelio wants Relay live before the 23 October board meeting, and your
    onboarding team needs two weeks from signature to go-live. The deal is Westerly on Business at
    list price (your `westerly_annual`). Write the mutual close plan as a table: each step from
    today (1 September 2025) to go-live, with who owns it on each side and the date it must be done.
    """)
    nb.manual("close-plan", 5, ["negotiation_closing"], rubric="""
    **Rubric for the trainer (5 points).**

    | Criterion | Points |
    |---|---|
    | Works back from go-live before 23 October and signature at least two weeks earlier (by about 6 October) | 1 |
    | Includes the security review with Sunita Rao (IT) before signature | 1 |
    | Includes the CFO's countersignature, since the deal's annual value is above EUR 30,000 | 1 |
    | Every step has an owner on the buyer's side or ours, and a date | 1 |
    | Includes a step where Aurelio confirms the plan, so it is mutual and not the seller's wish list | 1 |
    """, model="""
    | Step | Owner (Westerly / Northwind) | Done by |
    |---|---|---|
    | Review and agree this close plan | Aurelio / Sam | 3 September |
    | Security review: data region, consent, SSO; DPA sent | Sunita Rao / our security team | 12 September |
    | Proposal presented live to Aurelio and the CFO | Aurelio / Sam and Lena | 16 September |
    | Legal review of the order form and DPA | Westerly legal / our legal team | 24 September |
    | Order form signed by Aurelio and countersigned by the CFO | Aurelio and the CFO / Lena | 30 September |
    | Onboarding kickoff and CRM connection | Westerly RevOps / onboarding team | 2 October |
    | Go-live for managers, forecast view ready for the board pack | Aurelio / customer success | 14 October |
    """)

    return Built(NAME, nb.notebook(), {}, nb.answer_keys)
