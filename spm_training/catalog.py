"""The KPI and skill catalogs: plain YAML, validated with errors that name the file and line."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CatalogError
from .periods import PERIOD_KINDS
from .project import kpi_catalog_path, skills_path
from .yamlio import LINE, read_yaml  # read_yaml is re-exported: settings.py imports it from here

DIRECTIONS = ("higher", "lower")
AGGREGATIONS = ("sum", "rate")
ROLES = ("SDR", "AE", "AM")
MASTERY_METHODS = ("highest", "latest", "average", "weighted_average", "decaying_average", "n_times")
DEFAULT_MASTERY_METHOD = "decaying_average"
SKILL_KPI_DIRECTIONS = ("positive", "negative")


def _entries(path: Path, data: Any, key: str) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise CatalogError(path, f"expected a top-level '{key}:' list", line=1,
                           fix=f"start the file with '{key}:' followed by a list of entries")
    entries = data[key]
    for entry in entries:
        if not isinstance(entry, dict):
            raise CatalogError(path, f"each entry of '{key}' must be a mapping with an 'id'",
                               line=data.get(LINE))
    return entries


def _text(path: Path, entry: dict, field: str, *, required: bool = True) -> str:
    value = entry.get(field)
    if value is None:
        if required:
            raise CatalogError(path, f"entry '{entry.get('id', '?')}' has no '{field}'", line=entry[LINE],
                               fix=f"add a '{field}:' field")
        return ""
    return str(value).strip()


@dataclass(frozen=True)
class Kpi:
    """One KPI definition, with the fields that make it SMART."""

    id: str
    name: str
    definition: str
    unit: str
    formula: str
    default_target: float | dict[str, float] | None
    goal: str
    period: str
    direction: str
    aggregation: str
    roles: tuple[str, ...]
    line: int = 0

    def target_for(self, role: str | None, period_kind: str) -> float | None:
        """The default target for a rep of ``role`` over a period of ``period_kind``.

        Targets are stated for the KPI's own period; sums scale with the period's length
        (a quarter is three months), rates do not.
        """
        target = self.default_target
        if isinstance(target, dict):
            target = target.get(role or "")
        if target is None:
            return None
        if self.aggregation == "sum" and period_kind != self.period:
            target = target * 3 if period_kind == "quarter" else target / 3
        return float(target)

    def smart_problems(self) -> list[str]:
        """What keeps this KPI from being SMART; empty when it is."""
        problems = []
        if len(self.definition.split()) < 5:
            problems.append("specific: the definition says too little about what is counted")
        if not self.unit:
            problems.append("measurable: no unit")
        if not self.formula:
            problems.append("measurable: no formula")
        targets = (list(self.default_target.values()) if isinstance(self.default_target, dict)
                   else [self.default_target])
        if self.default_target is None or not targets or any(t is None for t in targets):
            problems.append("achievable: no default target")
        elif self.direction == "lower" and any(t <= 0 for t in targets):
            problems.append("achievable: a lower-is-better target must be above zero")
        if not self.goal:
            problems.append("relevant: no business goal")
        if self.period not in PERIOD_KINDS:
            problems.append(f"time-bound: period must be one of {', '.join(PERIOD_KINDS)}")
        return problems


def _number(path: Path, line: int, what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CatalogError(path, f"{what} must be a number, not {value!r}", line=line)
    return float(value)


def _parse_kpi(path: Path, entry: dict) -> Kpi:
    line = entry[LINE]
    kpi_id = _text(path, entry, "id")
    target = entry.get("default_target")
    if isinstance(target, dict):
        target = {str(k): _number(path, line, f"default_target of {kpi_id} for {k}", v)
                  for k, v in target.items() if k != LINE}
        unknown = set(target) - set(ROLES)
        if unknown:
            raise CatalogError(path, f"KPI '{kpi_id}' has a target for unknown role {sorted(unknown)[0]!r}",
                               line=line, fix=f"use one of {', '.join(ROLES)}")
    elif target is not None:
        target = _number(path, line, f"default_target of {kpi_id}", target)
    direction = _text(path, entry, "direction")
    if direction not in DIRECTIONS:
        raise CatalogError(path, f"KPI '{kpi_id}' has direction {direction!r}", line=line,
                           fix="use 'higher' or 'lower'")
    aggregation = _text(path, entry, "aggregation", required=False) or "rate"
    if aggregation not in AGGREGATIONS:
        raise CatalogError(path, f"KPI '{kpi_id}' has aggregation {aggregation!r}", line=line,
                           fix="use 'sum' or 'rate'")
    roles = entry.get("roles") or list(ROLES)
    return Kpi(
        id=kpi_id, name=_text(path, entry, "name"),
        definition=_text(path, entry, "definition", required=False),
        unit=_text(path, entry, "unit", required=False),
        formula=_text(path, entry, "formula", required=False),
        default_target=target, goal=_text(path, entry, "goal", required=False),
        period=_text(path, entry, "period", required=False), direction=direction,
        aggregation=aggregation, roles=tuple(str(r) for r in roles), line=line,
    )


def load_kpis(project_root: Path | None = None, path: Path | None = None) -> dict[str, Kpi]:
    """Load the KPI catalog, in file order, keyed by id."""
    path = path or kpi_catalog_path(project_root)
    kpis: dict[str, Kpi] = {}
    for entry in _entries(path, read_yaml(path), "kpis"):
        kpi = _parse_kpi(path, entry)
        if kpi.id in kpis:
            raise CatalogError(path, f"KPI id '{kpi.id}' appears twice", line=kpi.line,
                               fix="give each KPI a unique id")
        kpis[kpi.id] = kpi
    return kpis


@dataclass(frozen=True)
class Skill:
    """A skill the book teaches and the course measures."""

    id: str
    name: str
    description: str
    kpis: tuple[tuple[str, str], ...]   # (kpi id, "positive" | "negative")
    pages: tuple[str, ...]
    threshold: float
    method: str
    modules: tuple[str, ...] = ()       # the book's interactive notebooks that practise the skill
    line: int = 0

    @property
    def kpi_ids(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.kpis)


def load_skills(course_dir: Path, kpis: dict[str, Kpi] | None = None,
                path: Path | None = None) -> dict[str, Skill]:
    """Load ``skills.yml`` from the course folder; with ``kpis``, check every linked KPI exists."""
    path = path or skills_path(course_dir)
    if not path.is_file():
        raise CatalogError(path, "no skills catalog here",
                           fix="start one with `spm skills init`, or point --course at the course folder")
    skills: dict[str, Skill] = {}
    for entry in _entries(path, read_yaml(path), "skills"):
        line = entry[LINE]
        skill_id = _text(path, entry, "id")
        links = []
        for link in entry.get("kpis") or []:
            if isinstance(link, str):
                link = {"id": link, "direction": "positive", LINE: line}
            kpi_id = str(link.get("id", ""))
            direction = str(link.get("direction", "positive"))
            link_line = link.get(LINE, line)
            if kpis is not None and kpi_id not in kpis:
                raise CatalogError(path, f"skill '{skill_id}' links to unknown KPI '{kpi_id}'", line=link_line,
                                   fix="use an id from `spm kpis list` or add the KPI to kpis.yml")
            if direction not in SKILL_KPI_DIRECTIONS:
                raise CatalogError(path, f"skill '{skill_id}' has KPI direction {direction!r}", line=link_line,
                                   fix="use 'positive' or 'negative'")
            links.append((kpi_id, direction))
        threshold = _number(path, line, f"threshold of {skill_id}", entry.get("threshold", 0.7))
        if not 0 < threshold <= 1:
            raise CatalogError(path, f"skill '{skill_id}' has threshold {threshold}", line=line,
                               fix="use a share of the points between 0 and 1, e.g. 0.7")
        method = str(entry.get("method") or DEFAULT_MASTERY_METHOD)
        if method not in MASTERY_METHODS:
            raise CatalogError(path, f"skill '{skill_id}' has mastery method {method!r}", line=line,
                               fix=f"use one of {', '.join(MASTERY_METHODS)}")
        if skill_id in skills:
            raise CatalogError(path, f"skill id '{skill_id}' appears twice", line=line,
                               fix="give each skill a unique id")
        skills[skill_id] = Skill(
            id=skill_id, name=_text(path, entry, "name"),
            description=_text(path, entry, "description", required=False),
            kpis=tuple(links), pages=tuple(str(p) for p in entry.get("pages") or []),
            threshold=threshold, method=method, line=line,
            modules=tuple(str(m) for m in entry.get("modules") or []),
        )
    return skills
