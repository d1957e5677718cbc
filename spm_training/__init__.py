"""spm-training: train and onboard sales teams, and see which skills hold back which KPIs.

The public API. Everything a notebook, a script or a benchmark needs is importable from here::

    from spm_training import Project, analyse, write_reports

    project = Project.find()                 # the project around the working directory
    with project.open_store() as store:
        analysis = analyse(store, project, team="Closers")

Names are imported on first use (PEP 562), so that ``import spm_training`` and the ``spm`` command
stay quick: pandas, nbgrader and Jinja load only when something needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module that defines it ("module:attribute" where the module's name for it differs)
_EXPORTS: dict[str, str] = {
    # the project and the store
    "Project": "project",
    "DB_ENV": "project",
    "open_store": "store",
    "Store": "store",
    "backup_store": "store",
    "restore_store": "store",
    # errors
    "SpmError": "errors",
    "InputError": "errors",
    "CatalogError": "errors",
    "StoreError": "errors",
    "NotFoundError": "errors",
    # catalogs and the onboarding plan
    "Kpi": "catalog",
    "Skill": "catalog",
    "load_kpis": "catalog",
    "load_skills": "catalog",
    "Plan": "plan",
    "load_plan": "plan",
    "read_items": "course",
    "check_skills": "checks",
    # importers and sync
    "import_roster": "ingest.roster",
    "import_kpis": "ingest.kpis",
    "import_crm": "ingest.crm",
    "load_mapping": "ingest.crm_mapping",
    "sync_gradebook": "ingest.sync",
    "import_trainings": "ingest.trainings",
    # undoing KPI values
    "KpiSelection": "ingest.remove:Selection",
    "select_kpi_values": "ingest.remove",
    "remove_kpi_values": "ingest.remove",
    # the writers under the importers and the sync
    "write_roster": "ingest.roster",
    "write_kpi_values": "ingest.kpis",
    "write_catalog": "ingest.sync",
    "write_scores": "ingest.sync",
    "ItemRow": "ingest.sync",
    "ScoreRow": "ingest.sync",
    # what reps do in the served book
    "record_self_check": "ingest.activity",
    "record_read": "ingest.activity",
    # grading
    "grade": "grading.autograde",
    "find_sandbox": "grading.sandbox",
    "Limits": "grading.sandbox",
    "Sandbox": "grading.sandbox",
    "SandboxUnavailable": "grading.sandbox",
    # analysis
    "analyse": "analysis.facade",
    "Analysis": "analysis.facade",
    "attainment": "analysis.attainment",
    "export_rows": "analysis.export",
    "rep_gap_counts": "analysis.views",
    "book_progress": "analysis.progress",
    "team_progress": "analysis.progress",
    "logins": "analysis.queries",
    "ImpactPanel": "analysis.impact:Panel",
    "estimate_impact": "analysis.impact",
    "training_impact": "analysis.impact",
    "rep_loads": "analysis.capacity",
    "team_loads": "analysis.capacity",
    "hiring_plan": "analysis.hiring",
    "compute_plan": "analysis.hiring",
    "hiring_profile": "analysis.hiring",
    "load_capacity": "settings",
    "load_hiring": "settings",
    # reports
    "BookLinks": "reports.links",
    "team_context": "reports.build",
    "rep_context": "reports.build",
    "items_context": "reports.build",
    "write_report": "reports.build",
    "write_reports": "reports.build",
    "template_environment": "reports.build:environment",
    "plural": "text",
    # the served platform (spm serve)
    "ServeConfig": "serve.app",
    "make_serve_app": "serve.app:make_app",
    # numbers for people (reports, dashboard, CLI)
    "format_percent": "formatting:percent",
    "format_mastery": "formatting:mastery",
    "format_attainment": "formatting:attainment",
    "format_points": "formatting:points",
    "format_whole": "formatting:whole",
    "format_number": "formatting:number",
    "format_count": "formatting:count",
    "format_money": "formatting:money",
    "format_kpi_value": "formatting:kpi_value",
    "format_correlation": "formatting:correlation",
    "format_interval": "formatting:interval",
    "shown_percent": "formatting:shown",
    "tone": "formatting",
    "attainment_tone": "formatting",
    "mastery_tone": "formatting",
    "half_up": "formatting",
    # the demo
    "run_demo": "demo.loop",
    "project_template": "demo.loop",
    "build_demo_store": "demo.store",
    "write_store": "demo.store",
    "DEMO_TODAY": "demo.store",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'spm_training' has no attribute {name!r}")
    module, _, attribute = where.partition(":")
    value = getattr(importlib.import_module(f".{module}", __name__), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and editors; at run time the names load on first use
    from .analysis.attainment import attainment
    from .analysis.capacity import rep_loads, team_loads
    from .analysis.export import export_rows
    from .analysis.facade import Analysis, analyse
    from .analysis.hiring import compute_plan, hiring_plan, hiring_profile
    from .analysis.views import rep_gap_counts
    from .catalog import Kpi, Skill, load_kpis, load_skills
    from .checks import check_skills
    from .course import read_items
    from .demo.loop import project_template, run_demo
    from .demo.store import DEMO_TODAY, build_demo_store, write_store
    from .errors import CatalogError, InputError, NotFoundError, SpmError, StoreError
    from .formatting import attainment as format_attainment
    from .formatting import attainment_tone, half_up, mastery_tone, tone
    from .formatting import correlation as format_correlation
    from .formatting import count as format_count
    from .formatting import interval as format_interval
    from .formatting import kpi_value as format_kpi_value
    from .formatting import mastery as format_mastery
    from .formatting import money as format_money
    from .formatting import number as format_number
    from .formatting import percent as format_percent
    from .formatting import points as format_points
    from .formatting import shown as shown_percent
    from .formatting import whole as format_whole
    from .grading.autograde import grade
    from .grading.sandbox import Limits, Sandbox, SandboxUnavailable, find_sandbox
    from .ingest.crm import import_crm
    from .ingest.crm_mapping import load_mapping
    from .ingest.kpis import import_kpis, write_kpi_values
    from .ingest.remove import Selection as KpiSelection
    from .ingest.remove import remove_kpi_values, select_kpi_values
    from .ingest.roster import import_roster, write_roster
    from .ingest.sync import ItemRow, ScoreRow, sync_gradebook, write_catalog, write_scores
    from .plan import Plan, load_plan
    from .project import DB_ENV, Project
    from .reports.build import environment as template_environment
    from .reports.build import items_context, rep_context, team_context, write_report, write_reports
    from .reports.links import BookLinks
    from .settings import load_capacity, load_hiring
    from .store import Store, backup_store, open_store, restore_store
    from .text import plural
