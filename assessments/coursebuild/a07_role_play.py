"""Assignment 7: the role-play scorecard. The learner prepares a call plan; a trainer scores the live
role-play on five task cells, one per scorecard criterion."""

from __future__ import annotations

from .cells import NotebookBuilder
from .data import Built

NAME = "07_role_play"

# (grade id, criterion, skills, anchors at 0, 2 and 4, what to look for in this scenario)
CRITERIA = [
    ("score-opening", "Opening", ["cold_calling"],
     ("Starts pitching or reading a script: no greeting, no permission, no reason for the call.",
      "Introduces self and company and gives a reason, but the reason is generic or permission is skipped.",
      "Asks permission, gives a specific reason tied to Marc's situation and reaches a question within "
      "about 30 seconds."),
     "Did the rep name Marc's new role or the six AE openings? Score only the first 30 to 60 seconds."),
    ("score-discovery", "Discovery", ["discovery_questioning"],
     ("No questions about the buyer, or only closed questions that lead to the product.",
      "A few relevant open questions that stay on the surface; answers are not followed up.",
      "Open, layered questions that move from situation to problem to impact, follow up on the answers "
      "and summarise to check understanding."),
     "Marc mentions the forecast that was 25% off. Did the rep ask what that cost him or who noticed?"),
    ("score-value", "Value", ["demo_presentation", "product_knowledge"],
     ("Lists features with no link to anything the buyer said.",
      "Links Relay to the buyer's problem in general terms.",
      "States value in the buyer's own words and numbers, tied to the pain he described, in a sentence "
      "or two."),
     "The strongest link is between Forecast and Inspect and the 25% miss before the July board meeting."),
    ("score-objection", "Objection handling", ["objection_handling"],
     ("Ignores, argues with or talks over the objection, or gives in at once.",
      "Acknowledges the objection and answers it, but does not explore it or check that the answer landed.",
      "Acknowledges, asks a question to understand the concern, answers briefly and checks whether it "
      "resolves it."),
     "Marc says \"we already have a recording tool\". A good rep asks what the tool does with the calls."),
    ("score-next-step", "Next step", ["cold_calling"],
     ("Ends with no next step, or with \"I'll send some information\".",
      "Proposes a next step, but it is vague: no date and time, or no agreement from the buyer.",
      "Agrees a specific next step with a date and time, the attendees and the purpose, and the buyer "
      "confirms it."),
     "The goal is a 30-minute meeting with an account executive, with a date and time Marc says yes to."),
]


def build(skills: set[str]) -> Built:
    nb = NotebookBuilder(NAME, skills)

    nb.md("""
    # Assignment 7: role-play scorecard

    This assignment practises **book/sdr/role-play** (the session format and the scorecard), the
    cold-call opener of **book/sdr/messaging**, the questioning techniques of
    **book/handbook/techniques** and the objection pattern of **book/handbook/objections**.

    It is graded live. You prepare a call plan in this notebook and submit it before the session. In
    the session you play the rep in the scenario below while a colleague plays the buyer and a trainer
    observes. The trainer then scores the call on the five criteria of the role-play scorecard, each
    from 0 to 4, in the task cells at the end of this notebook, with a one-sentence comment on each
    that quotes or timestamps the moment behind the score.

    ## The scenario: a cold call to a VP of Sales

    **Your brief (the rep).** You are an SDR at Northwind Signal calling **Marc Duval**, VP of Sales at
    **Tarnwick Software** (650 employees). Marc joined in February, and Tarnwick has six account
    executive roles open. Your goal is a 30-minute meeting between Marc and one of our account
    executives.

    The buyer's brief is with the trainer and your colleague. Expect a busy person who gives you about
    thirty seconds, and expect at least one objection.
    """)

    nb.md("""
    ## 1. Your call plan (before the session)

    Write your plan in the cell below the rubric: the opener as you will say it, three discovery
    questions in the order you expect to ask them, and the next step you will ask for, with the
    attendees and how you will propose a time.
    """)
    nb.manual("call-plan", 4, ["cold_calling", "discovery_questioning"], rubric="""
    **Rubric for the trainer (4 points).**

    | Criterion | Points |
    |---|---|
    | The opener asks permission and gives a reason that names Marc's new role or the AE hiring | 1 |
    | All three discovery questions are open, and at least one asks about impact (what the problem costs or who feels it) | 1 |
    | The questions build on each other: situation, then problem, then impact | 1 |
    | The next step is specific: an AE meeting, the attendees, two concrete time slots to offer | 1 |
    """, model="""
    **Opener.** "Hi Marc, it's Sam from Northwind Signal. I'm calling out of the blue: can I have thirty
    seconds to tell you why, and then you decide whether we keep talking? You joined Tarnwick in
    February and you're hiring six AEs; sales leaders in that spot often tell us the forecast they
    inherited is hard to trust."

    **Discovery questions.**
    1. "How is the forecast put together today, and how much of it can you check against what happens
       in calls?"
    2. "How far off was the last quarter's forecast, and what happened when it missed?"
    3. "With six new AEs starting, what would it cost you if the next forecast is off by as much?"

    **Next step.** A 30-minute call with Lena, our account executive, to look at how teams of Tarnwick's
    size build a forecast from call evidence. I will offer two slots ("Tuesday at 10:00 or Thursday at
    14:00?") and ask whether Priya from RevOps should join.
    """)

    nb.md("""
    ## 2. The scorecard (the trainer scores these during and after the session)

    Each criterion is scored 0 to 4. The anchors describe a call at 0, 2 and 4; score 1 between the 0
    and 2 anchors and 3 between 2 and 4. Score what happened on the call, not what the rep intended.
    The buyer's brief for this scenario always includes an objection, so every criterion can be
    scored; grade all five before releasing feedback.
    """)
    for grade_id, criterion, skill_ids, (zero, two, four), focus in CRITERIA:
        nb.task(grade_id, 4, skill_ids, f"""
        ### {criterion} (0 to 4 points)

        | Score | What the trainer saw |
        |---|---|
        | 0 | {zero} |
        | 2 | {two} |
        | 4 | {four} |

        **In this scenario:** {focus}

        *Trainer:* enter the score for this task in formgrader and write one sentence that quotes or
        timestamps the moment behind it.
        """)

    nb.md("""
    ## After the session

    The trainer's comments and scores come back to you as feedback. Before your next role-play, reread
    them and pick one behaviour to change, as the debrief in **book/sdr/role-play** suggests.
    """)
    return Built(NAME, nb.notebook(), {}, nb.answer_keys)
