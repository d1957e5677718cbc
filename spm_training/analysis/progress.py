"""Reading and self-check progress against the onboarding plan: what a rep's home page in ``spm serve``
shows, and what a manager sees for each rep of a team.

A book page is due when the first assignment that draws on it is: the plan (``plan.yml``) gives each
assignment a due day, the assignment's items measure skills, and each skill's ``pages`` in
``skills.yml`` are the pages that teach it. So a page is due on the earliest due day among the
assignments of the rep's role whose skills it teaches. Pages no planned assignment draws on are not
listed.

Self-check answers are counted here and only here: they are practice, taken as often as a rep likes with
the answer a click away, so they never enter mastery, which rests on graded work alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ..periods import parse_day
from ..plan import Plan, due_date
from ..project import Project
from ..store import Store
from . import queries


def book_progress(store: Store, project: Project, rep_id: str, today: date | None = None) -> dict:
    """The rep's progress on ``today`` (default: the current date): see :func:`team_progress` for the
    shape. NotFoundError when the store has no such rep."""
    return _progress(store, project, queries.progress_reps(store, rep=rep_id), today)[0]


def team_progress(store: Store, project: Project, team: str, today: date | None = None) -> list[dict]:
    """One progress dict per rep of the team, by name; NotFoundError when the store has no such team.

    Each dict: ``rep_id``; ``day``, today's plan day for the rep (day 1 is the hire date; for a rep who
    has left, the day they left); ``pages``, one per page of the rep's plan in due order, each with
    ``page``, ``due_day``, ``phase`` (the name of the phase that day is in), ``read`` (opened in the served
    book), ``answered`` (knowledge-check questions answered) and ``right_first`` (of them, right on the
    first try); ``due_now``, the pages due by that day (a due day on a weekend counts from the Friday
    before, as for assignments); ``read_due``, those of them read; ``read_total``, the plan's pages read
    whether due or not; ``answered`` and ``right_first``, the sums over the listed pages."""
    return _progress(store, project, queries.progress_reps(store, team=team), today)


def page_due_days(plan: Plan, skill_pages: Mapping[str, Sequence[str]], assignment_skills: Sequence[tuple[str, str]],
                  role: str) -> dict[str, int]:
    """page -> the earliest due day of the role's planned assignments whose skills the page teaches."""
    skills_of: dict[str, set[str]] = {}
    for assignment, skill in assignment_skills:
        skills_of.setdefault(assignment, set()).add(skill)
    due: dict[str, int] = {}
    for planned in plan.for_role(role):
        for skill in sorted(skills_of.get(planned.id, ())):
            for page in skill_pages.get(skill, ()):
                due[page] = min(due.get(page, planned.due_day), planned.due_day)
    return due


def _progress(store: Store, project: Project, reps: list[dict], today: date | None) -> list[dict]:
    today = today or date.today()
    plan = project.plan
    skills, _ = project.catalogs(store)
    skill_pages = {skill.id: skill.pages for skill in skills.values()}
    links = queries.assignment_skills(store) if plan is not None else []
    ids = [rep["rep_id"] for rep in reps]
    read = set(queries.pages_read(store, ids))
    checks = {(rep, page): (answered, right) for rep, page, answered, right in queries.self_check_counts(store, ids)}
    due_by_role: dict[str, dict[str, int]] = {}
    result = []
    for rep in reps:
        hired = parse_day(rep["hire_date"])
        left = parse_day(rep["left_on"]) if rep["left_on"] else None
        until = min(today, left) if left is not None else today
        pages: list[dict[str, Any]] = []
        due_now = read_due = read_total = answered_total = right_total = 0
        if plan is not None and hired is not None:
            if rep["role"] not in due_by_role:
                due_by_role[rep["role"]] = page_due_days(plan, skill_pages, links, rep["role"])
            due = due_by_role[rep["role"]]
            for page, due_day in sorted(due.items(), key=lambda item: (item[1], item[0])):
                answered, right = checks.get((rep["rep_id"], page), (0, 0))
                was_read = (rep["rep_id"], page) in read
                if due_date(hired, due_day) <= until:
                    due_now += 1
                    read_due += was_read
                pages.append({"page": page, "due_day": due_day, "phase": plan.phases[plan.phase_of(due_day)].name,
                              "read": was_read, "answered": int(answered), "right_first": int(right)})
                read_total += was_read
                answered_total += int(answered)
                right_total += int(right)
        result.append({
            "rep_id": rep["rep_id"],
            "day": (until - hired).days + 1 if hired is not None else 0,
            "pages": pages,
            "due_now": due_now,
            "read_due": read_due,
            "read_total": read_total,
            "answered": answered_total,
            "right_first": right_total,
        })
    return result
