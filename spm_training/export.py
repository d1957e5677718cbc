"""The store's data as rows for BI tools and scripts (``spm export``)."""

from __future__ import annotations

from collections.abc import Callable

from .analysis import (MASTERY_EXPORT_COLUMNS, SCORE_EXPORT_COLUMNS, gap_export_rows, mastery_export_rows,
                       score_export_rows)
from .errors import NotFoundError
from .gaps import GAP_EXPORT_COLUMNS
from .kpis import kpi_rows
from .store import Store


def rep_rows(store: Store) -> list[dict]:
    return store.query(
        "SELECT r.id AS rep_id, r.name, r.email, r.team_id AS team, t.manager, r.role, r.hire_date, r.crm_owner "
        "FROM reps r JOIN teams t ON t.id = r.team_id ORDER BY r.team_id, r.id")


EXPORTS: dict[str, Callable[[Store], list[dict]]] = {
    "reps": rep_rows,
    "kpis": kpi_rows,
    "scores": score_export_rows,
    "mastery": mastery_export_rows,
    "gaps": gap_export_rows,
}

COLUMNS: dict[str, tuple[str, ...]] = {
    "reps": ("rep_id", "name", "email", "team", "manager", "role", "hire_date", "crm_owner"),
    "kpis": ("rep_id", "period", "kpi", "value", "target", "attainment"),
    "scores": SCORE_EXPORT_COLUMNS,
    "mastery": MASTERY_EXPORT_COLUMNS,
    "gaps": GAP_EXPORT_COLUMNS,
}


def export_rows(store: Store, what: str) -> list[dict]:
    try:
        return EXPORTS[what](store)
    except KeyError:
        raise NotFoundError(f"nothing to export called '{what}'; choose one of {', '.join(EXPORTS)}") from None
