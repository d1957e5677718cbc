"""The analysis API: everything the reports, ``spm gaps`` and ``spm export`` show, computed once.

``analyse(store, project, team=..., rep=...)`` loads the store's data for a scope (the whole
store, one team or one rep) through :mod:`.queries`, with the project's one catalog
(:meth:`~spm_training.project.Project.catalogs`), and computes mastery, attainment, gaps, readiness
and progress; the heavier evidence table is computed on request. The result is format-neutral: the
CLI writes its rows as a table, CSV or JSON, and the reports format what :mod:`.views` reads from
it as HTML.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from ..catalog import Kpi, Skill
from ..errors import NotFoundError
from ..periods import DateWindow
from ..project import Project
from ..settings import DEFAULT_WEIGHTS
from ..store import Store
from .attainment import current_attainment
from .evidence import Evidence, evidence_later, evidence_table
from .gaps import PlanEntry, coaching_plan, find_gaps, gap_records, gap_rows, rep_skill_shares, skill_assignments
from .mastery import mastery_frame
from .onboarding import assignment_status, is_new_hire, most_improved, ramp, top_performers
from .queries import current_periods, item_skills, load_history, load_items, load_reps, load_scores, tampering_rows
from .readiness import Readiness, readiness, role_skills


def _records(frame: pd.DataFrame) -> list[dict]:
    """The frame's rows as dicts of plain Python values, as ``to_dict("records")`` gives them but
    from column lists: several times quicker on the tens of thousands of rows of a large team."""
    columns = list(frame.columns)
    return [dict(zip(columns, row)) for row in zip(*(frame[c].tolist() for c in columns))]


class _Index:
    """Per-rep lookups, each built on first use from the frames, so that per-rep work (a plan, a
    readiness index, a report for each of 2,000 reps) is dictionary access rather than a pandas
    filter, and a command that needs only gaps never builds the rest."""

    def __init__(self, a: Analysis) -> None:
        self._a = a

    @functools.cached_property
    def reps(self) -> dict[str, dict]:
        return {r["rep_id"]: r for r in self._a.reps.to_dict("records")}

    @functools.cached_property
    def gaps(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for g in gap_records(self._a.gaps):
            out.setdefault(g["rep_id"], []).append(g)
        return out

    @functools.cached_property
    def mastery(self) -> dict[str, dict[str, dict]]:
        out: dict[str, dict[str, dict]] = {}
        for m in _records(self._a.mastery):
            m["mastery"] = None if m["mastery"] != m["mastery"] else float(m["mastery"])    # NaN != NaN
            out.setdefault(m["rep_id"], {})[m["skill_id"]] = m
        return out

    @functools.cached_property
    def attainments(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        valued = self._a.current[self._a.current["attainment"].notna()]
        for rep_id, value in zip(valued["rep_id"].tolist(), valued["attainment"].tolist()):
            out.setdefault(rep_id, []).append(float(value))
        return out

    @functools.cached_property
    def measured_kpis(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        valued = self._a.current[self._a.current["attainment"].notna()]
        for rep_id, kpi in zip(valued["rep_id"].tolist(), valued["kpi"].tolist()):
            out.setdefault(rep_id, set()).add(kpi)
        return out

    @functools.cached_property
    def status(self) -> dict[str, dict[str, dict]]:
        out: dict[str, dict[str, dict]] = {}
        for st in _records(self._a.status):
            out.setdefault(st["rep_id"], {})[st["assignment"]] = st
        return out

    @functools.cached_property
    def history(self) -> dict[str, list[tuple[str, float]]]:
        out: dict[str, list[tuple[str, float]]] = {}
        valued = self._a.history[self._a.history["attainment"].notna()]
        for rep_id, period, value in zip(valued["rep_id"].tolist(), valued["period"].tolist(),
                                         valued["attainment"].tolist()):
            out.setdefault(rep_id, []).append((period, float(value)))
        return out

    @functools.cached_property
    def skill_assignments(self) -> dict[str, list[str]]:
        return skill_assignments(self._a.items, self._a.tags)

    @functools.cached_property
    def shares(self) -> dict[tuple[str, str, str], float]:
        return rep_skill_shares(self._a.scores, self._a.tags)

    def role_skills(self, role: str) -> list[str]:
        cache = self.__dict__.setdefault("_role_skills", {})
        if role not in cache:
            cache[role] = role_skills(self._a.skills, self._a.kpis, role)
        return cache[role]


@dataclass
class Analysis:
    """The computed state of one scope. Frames hold only the scope's reps."""

    skills: dict[str, Skill]
    kpis: dict[str, Kpi]
    reps: pd.DataFrame
    items: pd.DataFrame              # every item of the course: id, assignment, notebook, cell, kind, max_score
    tags: pd.DataFrame               # item_id, skill_id
    scores: pd.DataFrame
    mastery: pd.DataFrame
    history: pd.DataFrame            # every KPI value of the scope's reps
    current: pd.DataFrame            # per rep and KPI, the current period, ranked within the team
    gaps: pd.DataFrame
    assignments: list[str]           # the course's assignments, in course order
    tampering: list[dict] = field(default_factory=list)  # locked or test cells a submission changed (spm grade)
    # role -> the assignments the onboarding plan (plan.yml) gives that role; empty: no plan, every
    # assignment is given to everyone
    role_assignments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # assignment id -> its title in the onboarding plan (plan.yml); empty without a plan
    assignment_titles: dict[str, str] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    today: date = field(default_factory=date.today)
    # the plausible dates: a stored hire date outside it (or not ISO) counts as unknown
    window: DateWindow = field(default_factory=DateWindow.default)
    _index: _Index | None = field(default=None, repr=False)
    _status: pd.DataFrame | None = field(default=None, repr=False)
    _rep_set: frozenset[str] | None = field(default=None, repr=False)

    @property
    def status(self) -> pd.DataFrame:
        """Per rep and assignment: submitted_at, pending answers, graded (computed on first use)."""
        if self._status is None:
            self._status = assignment_status(self.scores, self.assignments)
        return self._status

    @property
    def index(self) -> _Index:
        if self._index is None:
            self._index = _Index(self)
        return self._index

    @property
    def rep_ids(self) -> list[str]:
        return list(self.reps["rep_id"])

    def scoped(self, rep_ids: list[str]) -> Analysis:
        """The same analysis restricted to some of its reps (a team, one rep), without reloading.

        Ranks and percentiles keep the values computed over each rep's whole team; the per-rep
        index is shared, so scoping thousands of times stays cheap."""
        keep = set(rep_ids)

        def only(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["rep_id"].isin(keep)].reset_index(drop=True)

        return Analysis(skills=self.skills, kpis=self.kpis, reps=only(self.reps), items=self.items, tags=self.tags,
                        scores=only(self.scores), mastery=only(self.mastery), history=only(self.history),
                        current=only(self.current), gaps=only(self.gaps), assignments=self.assignments,
                        tampering=[t for t in self.tampering if t["rep_id"] in keep],
                        role_assignments=self.role_assignments, assignment_titles=self.assignment_titles,
                        weights=self.weights, today=self.today, window=self.window, _index=self.index)

    def team_ids(self) -> list[str]:
        return list(dict.fromkeys(self.reps["team"]))

    def rep(self, rep_id: str) -> dict:
        if self._rep_set is None:
            # the scope's reps, gathered once: a report asks for each of a large team's reps
            self._rep_set = frozenset(self.reps["rep_id"].tolist())
        found = self.index.reps.get(rep_id)
        if found is None or rep_id not in self._rep_set:
            raise NotFoundError(f"no rep '{rep_id}' in this scope")
        return found

    def plan(self, rep_id: str) -> list[PlanEntry]:
        """The rep's coaching plan: linked gaps first, with pages and assignments."""
        return coaching_plan(rep_id, self.index.gaps.get(rep_id, []), self.skills, self.kpis,
                             self.index.skill_assignments, self.index.shares, self.index.measured_kpis.get(rep_id, set()),
                             set(self.given(rep_id)) if self.role_assignments else None)

    def skill_assignments(self, skill_id: str) -> list[str]:
        return self.index.skill_assignments.get(skill_id, [])

    def given(self, rep_id: str) -> list[str]:
        """The course's assignments given to the rep: those the onboarding plan gives their role, or
        all of them when there is no plan (in course order; only assignments in the gradebook)."""
        planned = self.role_assignments.get(self.index.reps[rep_id]["role"]) if self.role_assignments else None
        return self.assignments if planned is None else [a for a in self.assignments if a in planned]

    def progress(self, rep_id: str) -> dict:
        """Assignments given, submitted and graded, and the share graded (P). Work on an assignment
        the rep was not given (extra practice) counts in mastery, not here."""
        given = self.given(rep_id)
        status = self.index.status.get(rep_id, {})
        mine = [status[a] for a in given if a in status]
        graded = sum(1 for st in mine if st["graded"])
        return {"given": len(given), "submitted": len(mine), "graded": graded,
                "pending_answers": sum(int(st["pending"]) for st in mine),
                "share": graded / len(given) if given else 0.0}

    def readiness(self, rep_id: str) -> Readiness:
        role = self.index.reps[rep_id]["role"]
        prog = self.progress(rep_id)
        mastery = {k: m["mastery"] for k, m in self.index.mastery.get(rep_id, {}).items()}
        return readiness(mastery, self.index.role_skills(role),
                         self.index.attainments.get(rep_id, []), prog["given"], prog["graded"], self.weights)

    def readiness_rows(self) -> list[dict]:
        rows = []
        for rep_id in self.rep_ids:
            r = self.readiness(rep_id)
            rows.append({"rep_id": rep_id, "readiness": round(r.index, 1), "mastery": round(r.mastery, 4),
                         "kpi": round(r.kpi, 4), "progress": round(r.progress, 4),
                         "mean_attainment": None if r.mean_attainment is None else round(r.mean_attainment, 4),
                         "missing": " ".join(r.missing)})
        return rows

    def evidence(self, **options: object) -> list[Evidence]:
        """The evidence table over this scope's reps (meant for one team)."""
        return evidence_table(self.mastery, self.current, self.skills, **options)  # type: ignore[arg-type]

    def evidence_later(self, **options: object) -> Callable[[], list[Evidence]]:
        """:meth:`evidence`, started now (in a second process on a large team) and collected by
        calling the function returned, so that a report builds its other sections meanwhile."""
        return evidence_later(self.mastery, self.current, self.skills, **options)

    def hire_date(self, rep_id: str) -> date | None:
        """The rep's hire date; None when the store holds no plausible one (not YYYY-MM-DD, or outside
        the date window: a store written before imports checked hire dates may hold 9999-12-31)."""
        return self.window.hire_date(self.index.reps[rep_id]["hire_date"])

    def ramp(self, rep_id: str) -> list[dict]:
        hired = self.hire_date(rep_id)
        return [] if hired is None else ramp(self.index.history.get(rep_id, []), hired)

    def onboarding(self) -> list[dict]:
        """Onboarding progress of every new hire in the scope."""
        rows = []
        for rep_id in self.rep_ids:
            rep = self.index.reps[rep_id]
            hired = self.hire_date(rep_id)
            if hired is None or not is_new_hire(hired, self.today):
                continue
            mine = self.index.mastery.get(rep_id, {}).values()
            rows.append({"rep_id": rep_id, "name": rep["name"], "role": rep["role"], "hire_date": rep["hire_date"],
                         "days": (self.today - hired).days, **self.progress(rep_id),
                         "mastery": self.readiness(rep_id).mastery,
                         "skills_mastered": sum(1 for m in mine if m["mastered"]),
                         "skills_measured": sum(1 for m in mine if m["graded"] > 0),
                         "ramp": self.ramp(rep_id)})
        return rows

    def recognition(self) -> dict:
        return {"top": top_performers(self.current, self.kpis), "improved": most_improved(self.mastery, self.skills)}

    def gap_rows(self) -> list[dict]:
        records = [g for rep_id in self.rep_ids for g in self.index.gaps.get(rep_id, [])]
        return gap_rows(records, self.index.reps, self.skills)

    def mastery_rows(self) -> list[dict]:
        teams = dict(zip(self.reps["rep_id"].tolist(), self.reps["team"].tolist()))
        return [{"rep_id": m["rep_id"], "team": teams.get(m["rep_id"]), "skill": m["skill_id"], "method": m["method"],
                 "mastery": None if pd.isna(m["mastery"]) else round(float(m["mastery"]), 4),
                 "threshold": m["threshold"], "mastered": bool(m["mastered"]), "graded": int(m["graded"]),
                 "pending": int(m["pending"]), "reached": int(m["reached"]), "last_submitted": m["last_at"] or None}
                for m in _records(self.mastery)]


MASTERY_EXPORT_COLUMNS = ("rep_id", "team", "skill", "method", "mastery", "threshold", "mastered", "graded",
                          "pending", "reached", "last_submitted")


def analyse(store: Store, project: Project, *, team: str | None = None, rep: str | None = None,
            today: date | None = None, detail: bool = True) -> Analysis:
    """Compute the analysis of the whole store, one team (``team``) or one rep (``rep``).

    The project gives the catalog (its YAML, or the store's copy without a course: see
    :meth:`Project.catalogs`), the readiness weights (``spm.yml``) and the onboarding plan: a course
    whose ``plan.yml`` gives assignments to roles makes each rep's progress (and so readiness) count
    the assignments of their role only; without a plan every assignment counts for everyone.

    ``detail=False`` leaves out what only a rep's report shows (each score's cell and the
    trainers' comments), for the commands that list gaps or mastery over thousands of reps."""
    skills, kpis = project.catalogs(store)
    reps = load_reps(store, team=team, rep=rep)
    rep_ids = list(reps["rep_id"])
    whole = team is None and rep is None
    items = load_items(store)
    tags = item_skills(store)
    scores = load_scores(store, None if whole else rep_ids, detail=detail)
    mastery = mastery_frame(scores, tags, skills)
    # Rank and percentile are within the team, so a rep's scope still reads the team's KPI values.
    teams = None if whole else sorted(set(reps["team"]))
    history = load_history(store, kpis, teams, window=project.date_window)
    current = current_attainment(history, current_periods(store, project.date_window))
    if not whole:
        history = history[history["rep_id"].isin(rep_ids)].reset_index(drop=True)
        current = current[current["rep_id"].isin(rep_ids)].reset_index(drop=True)
    gaps = find_gaps(mastery, current, skills)
    assignments = list(dict.fromkeys(items["assignment"]))
    tampering = tampering_rows(store, rep_ids)
    return Analysis(skills=skills, kpis=kpis, reps=reps, items=items, tags=tags, scores=scores, mastery=mastery,
                    history=history, current=current, gaps=gaps, assignments=assignments, tampering=tampering,
                    role_assignments=project.role_assignments(), weights=dict(project.weights),
                    assignment_titles={p.id: p.title for p in project.plan.assignments} if project.plan else {},
                    today=today or date.today(), window=project.date_window)


# --- exports (spm export scores|mastery|gaps) ---------------------------------------------------------

SCORE_EXPORT_COLUMNS = ("rep_id", "assignment", "notebook", "cell", "max_score", "score", "needs_manual_grade",
                        "skills", "auto_score", "manual_score", "extra_credit", "submitted_at", "comment")


def mastery_export_rows(store: Store, project: Project) -> list[dict]:
    return analyse(store, project, detail=False).mastery_rows()


def gap_export_rows(store: Store, project: Project) -> list[dict]:
    return analyse(store, project, detail=False).gap_rows()
