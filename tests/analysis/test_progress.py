"""Reading and self-check progress against the onboarding plan (issue 16), on a store and a course
small enough to work out by hand.

The plan: a1 due day 10 (AE, SDR), a2 due day 41 (AE), a3 due day 70 (SDR). a1 measures skill s1
(pages p1, p2), a2 measures s2 (p2, p3), a3 measures s3 (p4) and s1. So for an AE: p1 and p2 are due
on day 10, p3 on day 41; for an SDR: p1 and p2 on day 10, p4 on day 70. Day 41 of a rep hired on
Monday 2026-01-05 is Saturday 2026-02-14, so p3 is due on Friday 2026-02-13.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from spm_training.analysis.progress import book_progress, team_progress
from spm_training.errors import NotFoundError
from spm_training.ingest.activity import record_read, record_self_check
from spm_training.ingest.roster import write_roster
from spm_training.project import Project
from spm_training.store import Store, open_store

PLAN = """\
phases:
  - {name: "Days 1 to 30: learn", first_day: 1, last_day: 30, what: learn}
  - {name: "Days 31 to 60: contribute", first_day: 31, last_day: 60, what: contribute}
  - {name: "Days 61 to 90: own", first_day: 61, last_day: 90, what: own}
assignments:
  - {id: a1, title: A1, due_day: 10, roles: [AE, SDR], why: first}
  - {id: a2, title: A2, due_day: 41, roles: [AE], why: second}
  - {id: a3, title: A3, due_day: 70, roles: [SDR], why: third}
"""
SKILLS = """\
skills:
  - {id: s1, name: S1, description: one, kpis: [], pages: [book/p1, book/p2], threshold: 0.7}
  - {id: s2, name: S2, description: two, kpis: [], pages: [book/p2, book/p3], threshold: 0.7}
  - {id: s3, name: S3, description: three, kpis: [], pages: [book/p4], threshold: 0.7}
"""
REPS = [
    {"id": "ann", "name": "Ann Lee", "email": "ann@example.com", "team_id": "East", "manager": "Mia",
     "role": "AE", "hire_date": "2026-01-05", "login": None, "manager_login": "mia", "left_on": None},
    {"id": "bob", "name": "Bob Ray", "email": "bob@example.com", "team_id": "East", "manager": "Mia",
     "role": "SDR", "hire_date": "2026-02-02", "login": None, "manager_login": "mia", "left_on": None},
    {"id": "cy", "name": "Cy Oh", "email": "cy@example.com", "team_id": "East", "manager": "Mia",
     "role": "AE", "hire_date": "2026-01-05", "login": None, "manager_login": "mia", "left_on": "2026-01-20"},
    {"id": "dee", "name": "Dee Fox", "email": "dee@example.com", "team_id": "West", "manager": "Jo",
     "role": "AM", "hire_date": "2026-01-05", "login": None, "manager_login": None, "left_on": None},
]
LEARN, CONTRIBUTE, OWN = "Days 1 to 30: learn", "Days 31 to 60: contribute", "Days 61 to 90: own"
AT = datetime(2026, 2, 1, 10, 0)


def course(tmp: Path, *, plan: bool = True) -> Project:
    folder = tmp / "course"
    for assignment in ("a1", "a2", "a3"):
        (folder / "source" / assignment).mkdir(parents=True)
    (folder / "skills.yml").write_text(SKILLS)
    if plan:
        (folder / "plan.yml").write_text(PLAN)
    return Project.at(tmp, course_dir=folder, db_path=tmp / "spm.db")


def fill(store: Store) -> None:
    write_roster(store, REPS)
    with store.transaction() as conn:
        conn.executemany("INSERT INTO skills (id, name, threshold, method) VALUES (?, ?, 0.7, 'highest')",
                         [(s, s.upper()) for s in ("s1", "s2", "s3")])
        conn.executemany("INSERT INTO items (id, assignment, notebook, cell, max_score, kind) "
                         "VALUES (?, ?, 'nb', ?, 1, 'autograded')",
                         [(1, "a1", "q1"), (2, "a1", "q2"), (3, "a2", "q1"), (4, "a3", "q1")])
        conn.executemany("INSERT INTO item_skills (item_id, skill_id) VALUES (?, ?)",
                         [(1, "s1"), (2, "s1"), (3, "s2"), (4, "s3"), (4, "s1")])
    for page in ("book/p1", "book/p3", "book/p9"):
        record_read(store, "ann", page, at=AT)
    record_self_check(store, "ann", "book/p1", "q1", True, at=AT)
    record_self_check(store, "ann", "book/p1", "q2", False, at=AT)
    record_self_check(store, "ann", "book/p1", "q2", True, at=AT)       # a second try: still wrong first
    record_self_check(store, "ann", "book/p2", "q1", True, at=AT)
    record_self_check(store, "ann", "book/p9", "q1", True, at=AT)       # a page of no planned assignment
    record_self_check(store, "cy", "book/p1", "q1", False, at=AT)
    record_read(store, "cy", "book/p2", at=AT)


def page(name: str, due_day: int, phase: str, read: bool = False, answered: int = 0, right_first: int = 0) -> dict:
    return {"page": name, "due_day": due_day, "phase": phase, "read": read, "answered": answered,
            "right_first": right_first}


ANN_PAGES = [page("book/p1", 10, LEARN, True, 2, 1), page("book/p2", 10, LEARN, False, 1, 1),
             page("book/p3", 41, CONTRIBUTE, True)]


def test_a_reps_progress_counts_the_pages_due_by_today(tmp_path: Path) -> None:
    project = course(tmp_path)
    with open_store(tmp_path / "spm.db") as store:
        fill(store)
        assert book_progress(store, project, "ann", date(2026, 2, 20)) == {
            "rep_id": "ann", "day": 47, "pages": ANN_PAGES, "due_now": 3, "read_due": 2, "read_total": 2,
            "answered": 3, "right_first": 2}
        # day 40, a Friday: p3's day 41 is a Saturday, so it is due today already
        assert book_progress(store, project, "ann", date(2026, 2, 13))["due_now"] == 3
        # the day before, only the day-10 pages are due, one of them read
        early = book_progress(store, project, "ann", date(2026, 2, 12))
        assert (early["day"], early["due_now"], early["read_due"], early["read_total"]) == (39, 2, 1, 2)


def test_a_teams_progress_has_one_entry_per_rep_by_name(tmp_path: Path) -> None:
    project = course(tmp_path)
    with open_store(tmp_path / "spm.db") as store:
        fill(store)
        assert team_progress(store, project, "East", date(2026, 2, 20)) == [
            {"rep_id": "ann", "day": 47, "pages": ANN_PAGES, "due_now": 3, "read_due": 2, "read_total": 2,
             "answered": 3, "right_first": 2},
            # an SDR: p4 is due on day 70, a Sunday, so on the Friday before, 2026-04-10
            {"rep_id": "bob", "day": 19, "pages": [page("book/p1", 10, LEARN), page("book/p2", 10, LEARN),
                                                    page("book/p4", 70, OWN)],
             "due_now": 2, "read_due": 0, "read_total": 0, "answered": 0, "right_first": 0},
            # cy left on 2026-01-20 (day 16): counted up to that day
            {"rep_id": "cy", "day": 16, "pages": [page("book/p1", 10, LEARN, False, 1, 0),
                                                   page("book/p2", 10, LEARN, True),
                                                   page("book/p3", 41, CONTRIBUTE)],
             "due_now": 2, "read_due": 1, "read_total": 1, "answered": 1, "right_first": 0}]
        # an AM takes no planned assignment: no pages, nothing due
        assert team_progress(store, project, "West", date(2026, 2, 20)) == [
            {"rep_id": "dee", "day": 47, "pages": [], "due_now": 0, "read_due": 0, "read_total": 0, "answered": 0,
             "right_first": 0}]


def test_without_a_plan_nothing_is_due(tmp_path: Path) -> None:
    project = course(tmp_path, plan=False)
    with open_store(tmp_path / "spm.db") as store:
        fill(store)
        assert book_progress(store, project, "ann", date(2026, 2, 20)) == {
            "rep_id": "ann", "day": 47, "pages": [], "due_now": 0, "read_due": 0, "read_total": 0, "answered": 0,
            "right_first": 0}


def test_an_unknown_rep_or_team_is_not_found(tmp_path: Path) -> None:
    project = course(tmp_path)
    with open_store(tmp_path / "spm.db") as store:
        fill(store)
        with pytest.raises(NotFoundError) as rep:
            book_progress(store, project, "zed")
        with pytest.raises(NotFoundError) as team:
            team_progress(store, project, "North")
    assert str(rep.value) == "no rep 'zed' in the store; spm export reps lists them"
    assert str(team.value) == "no team 'North' in the store; teams: East, West"
