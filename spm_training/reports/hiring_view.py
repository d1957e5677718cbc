"""The hiring profile as the reports show it: a section of the team report and a page of its own for the
organisation (``hiring.html`` beside the index), both from :func:`~spm_training.analysis.hiring.hiring_profile`.

Per KPI, the skills whose mastery is highest above the bottom third's in the top third of the reps by
attainment, with the group sizes and the evidence caveat; then the interview scorecard
(:mod:`spm_training.scorecard`) with those skills marked, which the book's interview chapter prints as a
blank template.
"""

from __future__ import annotations

from ..analysis.evidence import CAVEAT
from ..analysis.facade import Analysis
from ..analysis.hiring import PROFILE_MIN_GROUP, analysis_profile, scorecard_weights
from ..scorecard import RATINGS, scorecard_rows
from .links import BookLinks

#: the interview chapter of the book, which explains how to use the scorecard
INTERVIEW_PAGE = "book/team/interviews"
PAGE = "hiring.html"

GROUPS_NOTE = (f"Reps ranked by attainment in the KPI's latest period; the top and the bottom third compared, "
               f"each of at least {PROFILE_MIN_GROUP} reps with mastery measured.")
#: what the scorecard is for, under the evidence caveat
SCREENING_NOTE = ("The same holds for a hiring profile: a difference between two groups of reps is a pattern worth "
                  "asking about in an interview, never a reason on its own to turn a candidate down.")


def hiring_section(a: Analysis, links: BookLinks) -> dict:
    """The hiring profile of the analysis' reps, as plain data for the templates."""
    profile = analysis_profile(a)
    shown = [p for p in profile if p["enough"] and p["skills"]]
    return {"profile": shown, "thin": [p for p in profile if not p["enough"]],
            "none": [p for p in profile if p["enough"] and not p["skills"]],
            "scorecard": scorecard_rows(a.skills, a.kpis, scorecard_weights(profile)), "ratings": RATINGS,
            "note": GROUPS_NOTE, "caveat": f"{CAVEAT} {SCREENING_NOTE}", "interview": links.page(INTERVIEW_PAGE)}


def hiring_context(a: Analysis, links: BookLinks, common: dict) -> dict:
    """The organisation's hiring page: ``common`` is the reports' shared header data."""
    return {**common, "hiring": hiring_section(a, links), "reps": len(a.rep_ids)}
