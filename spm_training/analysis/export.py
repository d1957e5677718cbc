"""The store's data as rows for BI tools and scripts (``spm export``)."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import NotFoundError
from ..project import Project
from ..store import Store


# The exports import their modules (pandas among them) when called, so that every command starts quickly.
def rep_rows(store: Store, project: Project) -> list[dict]:
    from .queries import rep_rows as rows

    return rows(store)


def kpi_rows(store: Store, project: Project) -> list[dict]:
    from .queries import kpi_rows as rows

    return rows(store, project.catalogs(store)[1])


def score_rows(store: Store, project: Project) -> list[dict]:
    from .queries import score_rows as rows

    return rows(store)


def mastery_rows(store: Store, project: Project) -> list[dict]:
    from .facade import mastery_export_rows

    return mastery_export_rows(store, project)


def gap_rows(store: Store, project: Project) -> list[dict]:
    from .facade import gap_export_rows

    return gap_export_rows(store, project)


EXPORTS: dict[str, Callable[[Store, Project], list[dict]]] = {
    "reps": rep_rows,
    "kpis": kpi_rows,
    "scores": score_rows,
    "mastery": mastery_rows,
    "gaps": gap_rows,
}

COLUMNS: dict[str, tuple[str, ...]] = {
    "reps": ("rep_id", "name", "email", "team", "manager", "role", "hire_date", "crm_owner", "login",
             "manager_login", "left_on"),
    "kpis": ("rep_id", "period", "kpi", "value", "target", "attainment"),
    # the same tuples as analysis.SCORE_EXPORT_COLUMNS, MASTERY_EXPORT_COLUMNS and gaps.GAP_EXPORT_COLUMNS
    "scores": ("rep_id", "assignment", "notebook", "cell", "max_score", "score", "needs_manual_grade", "skills",
               "auto_score", "manual_score", "extra_credit", "submitted_at", "comment"),
    "mastery": ("rep_id", "team", "skill", "method", "mastery", "threshold", "mastered", "graded", "pending",
                "reached", "last_submitted"),
    "gaps": ("rep_id", "name", "team", "kind", "skill", "mastery", "threshold", "method", "graded", "pending",
             "kpi", "period", "attainment", "pages"),
}


def export_rows(store: Store, what: str, project: Project) -> list[dict]:
    """The rows of ``spm export WHAT``; skills and KPIs from the project's catalog (see
    :meth:`~spm_training.project.Project.catalogs`)."""
    try:
        export = EXPORTS[what]
    except KeyError:
        raise NotFoundError(f"nothing to export called '{what}'; choose one of {', '.join(EXPORTS)}") from None
    return export(store, project)
