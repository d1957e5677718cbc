"""The readiness index, as book/performance/skill-gaps.md publishes it:

    R = 100 × (w_m·M + w_k·K + w_p·P)

- M: the rep's mean mastery over the skills of their role (0–1). The skills of a role are those
  that skills.yml links to at least one KPI the catalog measures for that role. A skill not yet
  measured (no graded item, or an n_times skill not yet reached n times) is not credited and
  counts as 0.
- K = min(mean attainment, 1.2) ÷ 1.2, the mean over the rep's KPIs in their current periods.
  With no KPI values yet, K counts as 0.
- P: the share of the assignments given to the rep that they have submitted and that are fully
  graded. Given: those in the gradebook that the course's onboarding plan (plan.yml) gives the rep's
  role; every assignment in the gradebook when there is no plan.

The weights default to 0.5, 0.3 and 0.2 and are set in the project's ``spm.yml``::

    readiness:
      weights: {mastery: 0.5, kpi: 0.3, progress: 0.2}

They must sum to 1, so that R stays between 0 and 100.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog import Kpi, Skill
from ..settings import DEFAULT_WEIGHTS

KPI_CAP = 1.2


@dataclass(frozen=True)
class Readiness:
    """The index and the parts it is made of, so that anyone can check it by hand."""

    index: float
    mastery: float           # M
    kpi: float               # K
    progress: float          # P
    mean_attainment: float | None
    weights: dict
    missing: tuple[str, ...] = ()    # parts with no data yet, counted as 0

    @property
    def points(self) -> dict[str, float]:
        """What each part adds to the index, in index points (100 × weight × part); they sum to it."""
        w = self.weights
        return {"mastery": w["mastery"] * self.mastery * 100, "kpi": w["kpi"] * self.kpi * 100,
                "progress": w["progress"] * self.progress * 100}


def role_skills(skills: dict[str, Skill], kpis: dict[str, Kpi], role: str) -> list[str]:
    """The skills of a role: those linked to at least one KPI the catalog measures for it."""
    return [s.id for s in skills.values() if any(k in kpis and role in kpis[k].roles for k in s.kpi_ids)]


def kpi_component(mean_attainment: float) -> float:
    """K = min(ā, 1.2) ÷ 1.2."""
    return min(mean_attainment, KPI_CAP) / KPI_CAP


def readiness_index(mastery: float, kpi: float, progress: float, weights: dict[str, float] | None = None) -> float:
    """R = 100 × (w_m·M + w_k·K + w_p·P)."""
    w = weights or DEFAULT_WEIGHTS
    return 100 * (w["mastery"] * mastery + w["kpi"] * kpi + w["progress"] * progress)


def readiness(skill_mastery: dict[str, float | None], role_skill_ids: list[str], attainments: list[float],
              assignments_given: int, assignments_graded: int, weights: dict[str, float] | None = None) -> Readiness:
    """The index for one rep from the parts the store gives."""
    weights = weights or dict(DEFAULT_WEIGHTS)
    missing = []
    credited = [skill_mastery.get(s) for s in role_skill_ids]
    m = sum(v for v in credited if v is not None) / len(role_skill_ids) if role_skill_ids else 0.0
    if not any(v is not None for v in credited):
        missing.append("mastery")
    mean_att = sum(attainments) / len(attainments) if attainments else None
    k = kpi_component(mean_att) if mean_att is not None else 0.0
    if mean_att is None:
        missing.append("kpi")
    p = assignments_graded / assignments_given if assignments_given else 0.0
    if not assignments_given:
        missing.append("progress")
    return Readiness(index=readiness_index(m, k, p, weights), mastery=m, kpi=k, progress=p,
                     mean_attainment=mean_att, weights=weights, missing=tuple(missing))
