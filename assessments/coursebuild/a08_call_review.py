"""Assignment 8: review a cold-call transcript with the four measures of the call-review chapter,
log the call in the CRM, and write feedback for the caller."""

from __future__ import annotations

import random
import re

from .cells import NotebookBuilder
from .data import Built, csv_text, literal

NAME = "08_call_review"
SEED = 808
HEADER = ["turn", "speaker", "start_s", "end_s", "text"]
REP, BUYER = "Lea", "Daniel"
WORDS_PER_SECOND = {REP: 2.7, BUYER: 2.4}
SCRIPT = [
    (REP, "Hi Daniel, it's Lea from Northwind Signal. I know I'm calling out of the blue. Could I take thirty "
          "seconds to tell you why, and then you decide if we keep talking?"),
    (BUYER, "Go on, thirty seconds."),
    (REP, "Thanks. I read that Corvane opened its Chicago office in May and is hiring four account executives "
          "there. How are you keeping the forecast consistent across two sales teams in two time zones?"),
    (BUYER, "Honestly, it's messy. The European team updates the CRM on Fridays, the Chicago team whenever they "
            "remember, and I merge it all in a spreadsheet on Monday morning."),
    (REP, "How long does that Monday merge take you?"),
    (BUYER, "Most of the morning. Four hours, maybe five if someone has moved close dates without telling me."),
    (REP, "And what happens when the numbers you merge turn out to be wrong?"),
    (BUYER, "Then I hear about it from our CRO. Last quarter we called two point one million and closed one point "
            "seven. She was not pleased, and the board asked her why."),
    (REP, "That sounds painful. So basically Relay is a revenue intelligence platform, and what we do is record "
          "and transcribe every sales call, link each call to its deal in the CRM, flag deals that have gone "
          "quiet or have no next step, give your managers coaching scorecards and call libraries, and build a "
          "forecast from what is actually said on the calls, so you are not relying on what reps type in on a "
          "Friday afternoon. We work with lots of logistics software companies, and our customers usually see a "
          "big improvement in their forecasts within the first quarter. Does that sound interesting?"),
    (BUYER, "It sounds like a lot. We already record our calls in the video tool, though."),
    (REP, "Fair point. What do you do with those recordings today?"),
    (BUYER, "Nothing, really. They sit in a folder. Nobody has time to listen to them, and they are not connected "
            "to the deals."),
    (REP, "So the recordings exist, but they never reach the forecast?"),
    (BUYER, "Exactly."),
    (REP, "Would it be worth thirty minutes with our account executive, Tom, to see how a team with offices on "
          "two continents builds one forecast from its calls?"),
    (BUYER, "Possibly. Our CRO, Ines, would want to see it too, but she is travelling this week."),
    (REP, "Understood. Could we do Tuesday the 8th of July at 16:00 your time, which is morning in Chicago, or "
          "Wednesday the 9th at 15:00?"),
    (BUYER, "Tuesday at four works. Ines is back by then, and I will bring her."),
    (REP, "Great. I'll send an invite for Tuesday the 8th at 16:00 to you and Ines, with Tom from our side. Is "
          "there anything you would like him to prepare?"),
    (BUYER, "Show us how the Monday merge would work with two teams. That's what I need to see."),
    (REP, "Will do. Thanks, Daniel, speak on the 8th."),
    (BUYER, "Thanks, bye."),
]
DISCOVERY_TURNS = {3, 5, 7, 11, 13}
OPEN_WORDS = ["what", "how", "why", "who", "which", "when", "where", "tell", "walk", "describe"]
FILLERS = ["and", "so", "but"]
OUTCOMES = ["connected", "voicemail", "no_answer", "wrong_number", "gatekeeper", "meeting_booked"]
CRM_LOG = {"outcome": "meeting_booked", "meeting_date": "2025-07-08", "meeting_time": "16:00", "ae": "Tom",
           "prospect_attendees": {"Daniel", "Ines"}}


def make_rows() -> list[list]:
    rng = random.Random(SEED)
    rows, clock = [], 0
    for number, (speaker, text) in enumerate(SCRIPT, start=1):
        seconds = max(1, round(len(text.split()) / WORDS_PER_SECOND[speaker] * rng.uniform(0.9, 1.1)))
        rows.append([number, speaker, clock, clock + seconds, text])
        clock += seconds + rng.randint(0, 2)  # short silences between turns
    return rows


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s]


def is_open(question: str) -> bool:
    words = [w.strip(",.?!").lower() for w in question.split()]
    while words and words[0] in FILLERS:
        words = words[1:]
    return bool(words) and words[0] in OPEN_WORDS


def expected(rows: list[list]) -> dict:
    talk = {REP: 0, BUYER: 0}
    for _n, speaker, start, end, _t in rows:
        talk[speaker] += end - start
    rep_turns = [(n, end - start) for n, speaker, start, end, _t in rows if speaker == REP]
    longest = max(rep_turns, key=lambda t: t[1])
    questions = [(n, s) for n, speaker, _s, _e, text in rows if speaker == REP
                 for s in sentences(text) if s.endswith("?")]
    call_length = rows[-1][3] - rows[0][2]
    assert call_length > talk[REP] + talk[BUYER], "the call should contain some silence"
    assert longest[1] > 30 and sorted(d for _n, d in rep_turns)[-2] < 30, rep_turns
    assert {n for n, _q in questions} >= DISCOVERY_TURNS
    return {"ratio": talk[REP] / (talk[REP] + talk[BUYER]), "longest": list(longest),
            "questions": len(questions), "open": sum(is_open(q) for _n, q in questions),
            "talk": talk, "call_length": call_length}


def build(skills: set[str]) -> Built:
    rows = make_rows()
    exp = expected(rows)
    nb = NotebookBuilder(NAME, skills)

    nb.md("""
    # Assignment 8: call review

    This assignment practises **book/sdr/call-review** (the four measures and how to give feedback),
    the cold-call opener of **book/sdr/messaging**, the questioning techniques of
    **book/handbook/techniques** and the activity logging of **book/sdr/cadences**.

    `call_transcript.csv` is the transcript of a cold call that Lea, an SDR, made on Tuesday 1 July
    2025 to Daniel, the sales operations manager of Corvane Logistics Software. Each row is one turn:
    who spoke, when the turn started and ended (in seconds from the start of the recording) and what
    was said. There are short silences between some turns.

    You will compute the four measures, log the call in the CRM as the chapter on cadences asks, and
    write feedback for Lea. Fill in the cells marked `YOUR CODE HERE` and run the tests below each;
    visible checks say what to fix, hidden checks of the exact values run at grading. The last
    question is written and graded by a trainer.
    """)
    nb.setup("setup", f"""
    import math
    import re

    import pandas as pd

    REP, BUYER = "{REP}", "{BUYER}"
    OPEN_WORDS = {literal(OPEN_WORDS)}
    FILLERS = {literal(FILLERS)}
    OUTCOMES = {literal(OUTCOMES)}

    transcript = pd.read_csv("call_transcript.csv")


    def sentences(text: str) -> list[str]:
        \"\"\"The sentences of a turn: a sentence ends with '.', '?' or '!' followed by a space.\"\"\"
        return [s for s in re.split(r"(?<=[.?!])\\s+", text.strip()) if s]


    for _, turn in transcript.iterrows():
        print(f"{{turn['turn']:02d}} [{{turn['start_s'] // 60:02d}}:{{turn['start_s'] % 60:02d}}-"
              f"{{turn['end_s'] // 60:02d}}:{{turn['end_s'] % 60:02d}}] {{turn['speaker'].upper():6s}} {{turn['text']}}")
    """)

    nb.md("""
    ## 1. Talk ratio and the longest monologue

    - `rep_talk_ratio`: Lea's speaking time divided by the total speaking time of both people. A turn
      lasts from `start_s` to `end_s`; silence between turns belongs to nobody and is left out.
    - `longest_rep_turn`: a list `[turn number, seconds]` for Lea's longest turn.
    """)
    nb.answer("talk-answer", """
    ### BEGIN SOLUTION
    _durations = transcript["end_s"] - transcript["start_s"]
    _by_speaker = _durations.groupby(transcript["speaker"]).sum()
    rep_talk_ratio = float(_by_speaker[REP] / _by_speaker.sum())
    _rep = transcript[transcript["speaker"] == REP]
    _longest = (_rep["end_s"] - _rep["start_s"]).idxmax()
    longest_rep_turn = [int(_rep.loc[_longest, "turn"]), int(_rep.loc[_longest, "end_s"] - _rep.loc[_longest, "start_s"])]
    ### END SOLUTION
    print(f"Talk ratio {rep_talk_ratio:.0%}; longest turn {longest_rep_turn}")
    """)
    nb.tests("test-talk-ratio", 2, ["cold_calling"], visible="""
    assert 0 < rep_talk_ratio < 1, "The talk ratio is a share between 0 and 1."
    _call_length = transcript["end_s"].max() - transcript["start_s"].min()
    _rep_seconds = (transcript["end_s"] - transcript["start_s"])[transcript["speaker"] == REP].sum()
    assert not math.isclose(rep_talk_ratio, _rep_seconds / _call_length), (
        "Divide by the total SPEAKING time of both people, not by the length of the call: silence is left out."
    )
    print("Visible checks passed.")
    """, hidden=f"""
    assert math.isclose(rep_talk_ratio, {literal(exp["ratio"])}, abs_tol=1e-6)
    """)
    nb.tests("test-monologue", 1, ["cold_calling"], visible="""
    assert len(longest_rep_turn) == 2, "longest_rep_turn is [turn number, seconds]."
    assert transcript.loc[transcript["turn"] == longest_rep_turn[0], "speaker"].item() == REP, (
        "That turn is Daniel's: look only at Lea's turns."
    )
    print("Visible checks passed.")
    """, hidden=f"""
    assert [int(x) for x in longest_rep_turn] == {literal(exp["longest"])}
    """)

    nb.md("""
    ## 2. Questions asked

    A question is one of Lea's sentences (use `sentences`) that ends with `?`. A question is **open**
    when its first word, after dropping any leading filler words in `FILLERS` ("and", "so", "but"), is
    one of `OPEN_WORDS`; ignore capitals and punctuation stuck to the words.

    - Write `is_open(question)`.
    - Set `rep_questions` to the list of Lea's questions, in the order she asked them, and
      `open_count` to how many of them are open.
    - The chapter also splits questions into **discovery questions** (about the buyer's situation,
      problem or impact) and **process questions** (permission, interest, scheduling, logistics). Set
      `discovery_turns` to the set of turn numbers in which Lea asked a discovery question.
    """)
    nb.answer("questions-answer", """
    def is_open(question: str) -> bool:
        ### BEGIN SOLUTION
        words = [w.strip(",.?!").lower() for w in question.split()]
        while words and words[0] in FILLERS:
            words = words[1:]
        return bool(words) and words[0] in OPEN_WORDS
        ### END SOLUTION


    ### BEGIN SOLUTION
    rep_questions = [
        s for text in transcript.loc[transcript["speaker"] == REP, "text"] for s in sentences(text) if s.endswith("?")
    ]
    open_count = sum(is_open(q) for q in rep_questions)
    ### END SOLUTION
    print(len(rep_questions), "questions,", open_count, "open")
    """)
    nb.tests("test-questions", 2, ["discovery_questioning"], visible="""
    assert is_open("What would that cost you?") and is_open("And how do you do it today?"), (
        "A question starting with an open word counts as open, also after a filler such as 'And'."
    )
    assert not is_open("Is Thursday good for you?") and not is_open("So you use a spreadsheet?"), (
        "'Is ...' and 'So you ...' questions can be answered with yes or no: they are not open."
    )
    assert all(q.endswith("?") for q in rep_questions), "rep_questions holds only sentences that end with '?'."
    print("Visible checks passed.")
    """, hidden=f"""
    assert len(rep_questions) == {exp["questions"]}
    assert open_count == {exp["open"]}
    assert is_open("Tell me more about that.") and not is_open("Could you tell me?")
    """)
    discovery_solution = f"discovery_turns = {literal(DISCOVERY_TURNS)}"
    discovery_check = f"assert {{int(t) for t in discovery_turns}} == {literal(DISCOVERY_TURNS)}"
    nb.answer("discovery-answer", f"""
    ### BEGIN SOLUTION
    {discovery_solution}
    ### END SOLUTION
    """)
    nb.tests("test-discovery", 1, ["discovery_questioning"], visible="""
    _rep_turns = set(transcript.loc[transcript["speaker"] == REP, "turn"])
    assert {int(t) for t in discovery_turns} <= _rep_turns, "discovery_turns holds numbers of Lea's turns only."
    print("Your answer has the right form; it is marked when you submit.")
    """, hidden=discovery_check)
    nb.key("discovery_turns", discovery_solution, discovery_check)

    nb.md(f"""
    ## 3. Log the call

    A call that is not in the CRM did not happen. Set `crm_log` to a dictionary with:

    - `outcome`: one of `OUTCOMES`;
    - `meeting_date` (`"YYYY-MM-DD"`) and `meeting_time` (`"HH:MM"`, 24-hour) of the meeting agreed,
      as said on the call;
    - `ae`: the first name of the account executive who will run it;
    - `prospect_attendees`: the set of first names of the people from Corvane who will attend.
    """)
    crm_solution = f"crm_log = {literal(CRM_LOG)}"
    crm_check = ("assert {**crm_log, \"prospect_attendees\": set(crm_log[\"prospect_attendees\"])} == "
                 f"{literal(CRM_LOG)}")
    nb.answer("crm-answer", f"""
    ### BEGIN SOLUTION
    {crm_solution}
    ### END SOLUTION
    """)
    nb.tests("test-crm", 2, ["crm_hygiene"], visible="""
    assert set(crm_log) == {"outcome", "meeting_date", "meeting_time", "ae", "prospect_attendees"}, (
        "crm_log needs exactly the keys outcome, meeting_date, meeting_time, ae and prospect_attendees."
    )
    assert crm_log["outcome"] in OUTCOMES, f"The outcome must be one of {OUTCOMES}."
    assert re.fullmatch(r"2025-\\d\\d-\\d\\d", crm_log["meeting_date"]), "Write the date as YYYY-MM-DD, in 2025."
    assert re.fullmatch(r"\\d\\d:\\d\\d", crm_log["meeting_time"]), "Write the time as HH:MM on the 24-hour clock."
    _said = " ".join(transcript["text"])
    assert all(name in _said for name in [crm_log["ae"], *crm_log["prospect_attendees"]]), (
        "Use first names exactly as they are said on the call."
    )
    print("Your log has the right form; it is marked when you submit.")
    """, hidden=crm_check)
    nb.key("crm_log", crm_solution, crm_check)

    nb.md("""
    ## 4. Feedback for Lea

    Write the feedback you would give Lea after this call, in the shape the chapter recommends: **one
    thing to keep and one thing to change**, each pointing to a moment (a turn number or a quote) and
    describing what Lea did and what Daniel did next. For the change, say what Lea could say instead.
    """)
    nb.manual("feedback", 5, ["cold_calling", "discovery_questioning"], rubric="""
    **Rubric for the trainer (5 points).** The learner's measures from parts 1 and 2 are above; the
    instructor's version of this notebook has the reference values.

    | Criterion | Points |
    |---|---|
    | Specific: both points name a turn, a timestamp or a quote | 2 (1 if only one does) |
    | Behavioural: describes what Lea did and how Daniel reacted, not what kind of caller she is | 1 |
    | Limited: one keep and one change, not a list | 1 |
    | The change offers a concrete alternative, for example one sentence linking one capability to Daniel's Monday merge, followed by a question | 1 |
    """, model=f"""
    **Keep.** In turns 5 and 7 you followed Daniel's answers with short, open questions ("How long does
    that Monday merge take you?", "And what happens when the numbers you merge turn out to be wrong?").
    He gave you the cost in hours and the forecast miss, and who noticed it: exactly what Tom needs.

    **Change.** In turn {exp["longest"][0]}, straight after Daniel described the miss, you spoke for
    {exp["longest"][1]} seconds, listing six capabilities, and ended with "Does that sound interesting?".
    His reply was an objection ("We already record our calls"). Next time, link one capability to what he
    just said and ask a question, for example: "That Monday merge is what we replace by tying each call
    to its deal. How do you check the Chicago deals before the forecast today?"
    """)

    data = csv_text(HEADER, rows)
    return Built(NAME, nb.notebook(), {"call_transcript.csv": data}, nb.answer_keys)
