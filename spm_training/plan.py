"""The onboarding schedule (``assessments/plan.yml``): which assignment a rep takes, and when.

The course owns its schedule beside its skills catalog. The onboarding planner notebook shows it to
reps, ``spm demo`` gives its simulated reps their assignments from it, and ``spm skills check``
checks it against the assignment folders in ``source/``.

Day numbers count from the hire date, which is day 1. A deadline on a Saturday or a Sunday moves to
the Friday before, so that it stays inside its phase and before the phase's review; only in a plan
that starts on a weekend can that Friday come before the start, and then the deadline moves to the
Monday after instead.

Rules :func:`read_plan` enforces, and why:

- phases start on day 1 and follow each other with no gap or overlap, so every day of the plan
  belongs to exactly one phase and "the phase of a due day" is always defined;
- every due day falls inside a phase: a deadline outside the plan's days has no review to report to;
- due days never decrease in file order, so the file reads as the calendar a trainer reviews, and a
  typo (58 for 85) that lands a deadline among its neighbours of another phase is caught; two
  assignments may share a day (for instance two that different roles take);
- every assignment names at least one role, each among ``SDR``, ``AE`` and ``AM``
  (:data:`spm_training.catalog.ROLES`): an assignment nobody takes is left out of the file instead,
  and ``spm skills check`` then reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .catalog import ROLES
from .errors import CatalogError
from .project import plan_path
from .yamlio import LINE, read_yaml

PHASE_FIELDS = ("name", "first_day", "last_day", "what")
ASSIGNMENT_FIELDS = ("id", "title", "due_day", "roles", "why")


@dataclass(frozen=True)
class Phase:
    """A phase of the plan: days ``first_day`` to ``last_day``, both included."""

    name: str
    first_day: int
    last_day: int
    what: str
    line: int = 0


@dataclass(frozen=True)
class PlannedAssignment:
    """An assignment of the course, when it is due and who takes it."""

    id: str
    title: str
    due_day: int
    roles: tuple[str, ...]
    why: str
    line: int = 0


@dataclass(frozen=True)
class Plan:
    """The schedule as the file gives it: phases in order, assignments in due-day order."""

    path: Path
    phases: tuple[Phase, ...]
    assignments: tuple[PlannedAssignment, ...]

    def phase_of(self, day: int) -> int:
        """The index of the phase that holds plan day ``day``."""
        for index, phase in enumerate(self.phases):
            if phase.first_day <= day <= phase.last_day:
                return index
        raise ValueError(f"day {day} is outside the plan (days {self.first_day} to {self.last_day})")

    @property
    def first_day(self) -> int:
        return self.phases[0].first_day

    @property
    def last_day(self) -> int:
        return self.phases[-1].last_day

    def for_role(self, role: str) -> tuple[PlannedAssignment, ...]:
        """The assignments a rep of ``role`` takes, in due-day order."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        return tuple(a for a in self.assignments if role in a.roles)


def _mapping(path: Path, value: Any, what: str, line: int | None, fields: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise CatalogError(path, f"{what} must be a mapping with the fields {', '.join(fields)}", line=line)
    unknown = sorted(k for k in value if k != LINE and k not in fields)
    if unknown:
        raise CatalogError(path, f"{what} has an unknown field '{unknown[0]}'", line=value[LINE],
                           fix=f"use only {', '.join(fields)}")
    missing = [f for f in fields if value.get(f) in (None, "")]
    if missing:
        raise CatalogError(path, f"{what} has no '{missing[0]}'", line=value[LINE], fix=f"add a '{missing[0]}:' field")
    return value


def _day(path: Path, entry: dict, field: str, what: str) -> int:
    value = entry[field]
    # YAML reads 15 as an int, 15.0 as a float and yes as a bool (a bool is an int to Python).
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CatalogError(path, f"{what} has {field} {value!r}", line=entry[LINE],
                           fix="use a whole day number, counting the hire date as day 1")
    return value


def _list(path: Path, data: dict, key: str, line: int | None) -> list:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise CatalogError(path, f"expected a non-empty top-level '{key}:' list", line=line,
                           fix=f"add '{key}:' followed by its entries (see assessments/plan.yml)")
    return value


def _phases(path: Path, data: dict) -> tuple[Phase, ...]:
    phases: list[Phase] = []
    for raw in _list(path, data, "phases", data.get(LINE)):
        entry = _mapping(path, raw, "each phase", data.get(LINE), PHASE_FIELDS)
        name = str(entry["name"]).strip()
        what = f"phase '{name}'"
        first, last = _day(path, entry, "first_day", what), _day(path, entry, "last_day", what)
        if last < first:
            raise CatalogError(path, f"{what} ends on day {last}, before its first day {first}", line=entry[LINE],
                               fix="swap first_day and last_day")
        expected = phases[-1].last_day + 1 if phases else 1
        if first != expected:
            after = f"the day after phase '{phases[-1].name}' ends" if phases else "the hire date, day 1"
            raise CatalogError(path, f"{what} starts on day {first}, not on day {expected}", line=entry[LINE],
                               fix=f"start it on {after}: phases follow each other with no gap or overlap")
        phases.append(Phase(name=name, first_day=first, last_day=last, what=str(entry["what"]).strip(),
                            line=entry[LINE]))
    return tuple(phases)


def _assignments(path: Path, data: dict, phases: tuple[Phase, ...]) -> tuple[PlannedAssignment, ...]:
    first, last = phases[0].first_day, phases[-1].last_day
    planned: list[PlannedAssignment] = []
    seen: dict[str, int] = {}
    for raw in _list(path, data, "assignments", data.get(LINE)):
        entry = _mapping(path, raw, "each assignment", data.get(LINE), ASSIGNMENT_FIELDS)
        line = entry[LINE]
        assignment_id = str(entry["id"]).strip()
        what = f"assignment '{assignment_id}'"
        if assignment_id in seen:
            raise CatalogError(path, f"{what} appears twice (first on line {seen[assignment_id]})", line=line,
                               fix="keep one entry per assignment")
        seen[assignment_id] = line
        due = _day(path, entry, "due_day", what)
        if not first <= due <= last:
            raise CatalogError(path, f"{what} is due on day {due}, outside the phases (days {first} to {last})",
                               line=line, fix="give it a due day inside a phase")
        if planned and due < planned[-1].due_day:
            raise CatalogError(path, f"{what} is due on day {due}, before '{planned[-1].id}' above it "
                               f"(day {planned[-1].due_day})", line=line,
                               fix="list the assignments in the order of their due days, or check the day")
        roles = entry["roles"]
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list) or not roles:
            raise CatalogError(path, f"{what} has roles {roles!r}", line=line,
                               fix=f"list the roles that take it, e.g. [{', '.join(ROLES)}]")
        for role in roles:
            if role not in ROLES:
                raise CatalogError(path, f"{what} names unknown role {role!r}", line=line,
                                   fix=f"use {', '.join(ROLES)}")
        if len(set(roles)) < len(roles):
            raise CatalogError(path, f"{what} names a role twice", line=line, fix="name each role once")
        planned.append(PlannedAssignment(id=assignment_id, title=str(entry["title"]).strip(), due_day=due,
                                         roles=tuple(roles), why=str(entry["why"]).strip(), line=line))
    return tuple(planned)


def read_plan(path: Path) -> Plan:
    """Parse and validate a plan file on its own, without looking at the course's assignments."""
    if not path.is_file():
        raise CatalogError(path, "no onboarding plan here",
                           fix="create it (see assessments/plan.yml), or point --course at the course folder")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(path, "expected the top-level keys 'phases:' and 'assignments:'", line=1,
                           fix="start the file with 'phases:' (see assessments/plan.yml)")
    phases = _phases(path, data)
    return Plan(path=path, phases=phases, assignments=_assignments(path, data, phases))


def course_assignments(course_dir: Path) -> list[str]:
    """The assignment ids of the course: the folders in ``source/``."""
    source = course_dir / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []


def plan_problems(plan: Plan, course_dir: Path) -> list[str]:
    """Disagreements between the plan and the course, one line each: assignments the plan names that
    are not in ``source/``, and assignments of the course that the plan gives to no role."""
    on_disk = course_assignments(course_dir)
    planned = {a.id for a in plan.assignments}
    problems = [f"{plan.path}:{a.line}: assignment '{a.id}' is not in {course_dir / 'source'}; "
                "fix the id or remove the entry" for a in plan.assignments if a.id not in on_disk]
    problems += [f"{plan.path}: assignment '{name}' of the course is in the plan for no role; "
                 f"add it with a due day and the roles that take it" for name in on_disk if name not in planned]
    return problems


def load_plan(course_dir: Path, path: Path | None = None) -> Plan:
    """The course's plan, validated, with every assignment it names present in ``source/``.

    An assignment of the course that the plan leaves out is not an error here (a trainer may be
    drafting it); ``spm skills check`` reports it."""
    plan = read_plan(path or plan_path(course_dir))
    on_disk = set(course_assignments(course_dir))
    for planned in plan.assignments:
        if planned.id not in on_disk:
            raise CatalogError(plan.path, f"assignment '{planned.id}' is not in {course_dir / 'source'}",
                               line=planned.line, fix="use the name of an assignment folder there")
    return plan


def day_date(hire_date: date, day: int) -> date:
    """The calendar date of plan day ``day``; day 1 is the hire date."""
    return hire_date + timedelta(days=day - 1)


def working_day(when: date, earliest: date) -> date:
    """``when`` on a weekday; on a weekend the Friday before, or the Monday after when that Friday
    would come before ``earliest`` (only in a plan that starts on a weekend)."""
    friday = when - timedelta(days=max(0, when.weekday() - 4))
    return friday if friday >= earliest else when + timedelta(days=7 - when.weekday())


def due_date(hire_date: date, day: int) -> date:
    """The deadline of plan day ``day`` for a rep hired on ``hire_date``, moved off a weekend."""
    return working_day(day_date(hire_date, day), hire_date)


def due_for(plan: Plan, role: str, hire_date: date, today: date) -> list[tuple[str, date]]:
    """(assignment id, due date) for each assignment a rep of ``role`` hired on ``hire_date`` has
    reached by ``today`` (due on or before it), in due-date order."""
    due = [(a.id, due_date(hire_date, a.due_day)) for a in plan.for_role(role)]
    return [(assignment, when) for assignment, when in due if when <= today]


__all__ = ["Phase", "Plan", "PlannedAssignment", "course_assignments", "day_date", "due_date", "due_for",
           "load_plan", "plan_path", "plan_problems", "read_plan", "working_day"]
