"""What a simulated rep writes into a fetched notebook of assignment 01_kpi_smart.

Three kinds of work, each with a known autograded score, so that a lost or swapped submission shows
up as a wrong score on the wrong rep:

- ``full``: both code answers as in the source's solution: every test passes, 9 of 9 points;
- ``functions``: the four KPI functions only; the team table stays unanswered: 5 of 9;
- ``blank``: nothing answered: 0 of 9.

Every rep also signs the written answer (the manually graded SMART goal) with their id, which is how
the tests tell whose notebook ended up where.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

ASSIGNMENT = "01_kpi_smart"
NOTEBOOK = "01_kpi_smart"
AUTOGRADED_MAX = 9.0
KINDS = {"full": ("kpi-functions", "team-kpis"), "functions": ("kpi-functions",), "blank": ()}
SCORES = {"full": 9.0, "functions": 5.0, "blank": 0.0}
MANUAL_CELL = "smart-goal"


def kind_for(index: int) -> str:
    """The kind of work of the index-th rep (0-based): the three kinds in turn."""
    return ("full", "functions", "blank")[index % 3]


def solutions(source_notebook: Path) -> dict[str, str]:
    """grade_id -> the answer code of each solution cell, without nbgrader's solution markers."""
    nb = json.loads(source_notebook.read_text(encoding="utf-8"))
    found = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            markers = ("### BEGIN SOLUTION", "### END SOLUTION")
            lines = [line for line in text.splitlines() if line.strip() not in markers]
            found[meta["grade_id"]] = "\n".join(lines)
    return found


def signature(rep: str) -> str:
    return f"Goal written by {rep}."


def answer(released: dict, rep: str, kind: str, answers: dict[str, str]) -> dict:
    """The released notebook with the rep's work in it."""
    nb = copy.deepcopy(released)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in KINDS[kind]:
            cell["source"] = answers[grade_id]
        elif grade_id == MANUAL_CELL:
            cell["source"] = (f"{signature(rep)} By the end of Q3 I win 25% of my decided opportunities, "
                              "up from 14%, measured as won / (won + lost) in the CRM.")
    return nb
