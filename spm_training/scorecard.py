"""The structured-interview scorecard: one row per skill of ``skills.yml``, the same in the book's
interview chapter (the ``interview-scorecard`` directive) and in the reports' hiring profile, where the
skills that separate top from bottom performers are marked.

Each row names the skill, what good looks like (the catalog's description), the KPIs it goes with,
a question that asks for past behaviour and what to watch for in the role-play. Every skill is rated on
the same four-point scale (:data:`RATINGS`), each point anchored to what the interviewer saw.
"""

from __future__ import annotations

from .catalog import Kpi, Skill

#: the rating scale, lowest first: (points, label, what the interviewer saw)
RATINGS: tuple[tuple[int, str, str], ...] = (
    (1, "Not shown", "No example, or an example of the opposite."),
    (2, "Partly", "A real example, but vague, or the skill only when prompted."),
    (3, "Shown", "A specific example with the candidate's own actions and a result."),
    (4, "Strong", "Several specific examples, unprompted, and the skill used again in the role-play."),
)


def question(skill: Skill) -> str:
    """The behavioural question for ``skill``: a real past case, the candidate's own part, the outcome."""
    # lower case inside the sentence, but acronyms (ICP, CRM, KPI) as they are
    name = " ".join(word if word.isupper() else word.lower() for word in skill.name.split())
    return (f"Tell me about a recent deal or prospect where {name} made the difference. "
            "What did you do yourself, and what happened next?")


def watch_for(skill: Skill) -> str:
    """What the role-play should show, from the catalog's description of the skill."""
    text = skill.description.strip().rstrip(".")
    return f"In the role-play, the candidate {text[0].lower()}{text[1:]}." if text else ""


def scorecard_rows(skills: dict[str, Skill], kpis: dict[str, Kpi], marked: dict[str, int] | None = None) -> list[dict]:
    """One row per skill, in catalog order: id, name, description, kpis (names), question, watch_for and
    ``separates``: on how many KPIs the skill separates top from bottom performers (``marked``, from the
    hiring profile; 0 when unknown)."""
    marked = marked or {}
    return [{"id": s.id, "name": s.name, "description": s.description,
             "kpis": [kpis[k].name if k in kpis else k for k in s.kpi_ids], "question": question(s),
             "watch_for": watch_for(s), "separates": marked.get(s.id, 0)} for s in skills.values()]
