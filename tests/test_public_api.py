"""The public API (spm_training/__init__.py): the names are pinned, each resolves, and importing the
package loads none of the heavy libraries until a name is used."""

from __future__ import annotations

import subprocess
import sys

import spm_training

PUBLIC = [
    "__version__",
    # the project and the store
    "Project", "DB_ENV", "open_store", "Store", "backup_store", "restore_store",
    # errors
    "SpmError", "InputError", "CatalogError", "StoreError", "NotFoundError",
    # catalogs, plan, course
    "Kpi", "Skill", "load_kpis", "load_skills", "Plan", "load_plan", "read_items", "check_skills",
    # importers and sync
    "import_roster", "import_kpis", "import_crm", "load_mapping", "sync_gradebook", "import_trainings",
    # undoing KPI values
    "KpiSelection", "select_kpi_values", "remove_kpi_values",
    # the writers the importers and the store builders share
    "write_roster", "write_kpi_values", "write_catalog", "write_scores", "ItemRow", "ScoreRow", "write_store",
    # what reps do in the served book
    "record_self_check", "record_read",
    # grading
    "grade", "find_sandbox", "Limits", "Sandbox", "SandboxUnavailable",
    # analysis
    "analyse", "Analysis", "attainment", "export_rows", "rep_gap_counts", "book_progress", "team_progress", "logins",
    "ImpactPanel", "estimate_impact", "training_impact",
    "rep_loads", "team_loads", "hiring_plan", "compute_plan", "hiring_profile", "load_capacity", "load_hiring",
    # reports
    "BookLinks", "team_context", "rep_context", "items_context", "write_report", "write_reports",
    "template_environment", "plural",
    # the served platform
    "ServeConfig", "make_serve_app",
    # numbers for people
    "format_percent", "format_mastery", "format_attainment", "format_points", "format_whole", "format_number",
    "format_count", "format_money", "format_kpi_value", "format_correlation", "format_interval", "shown_percent",
    "tone", "attainment_tone", "mastery_tone", "half_up",
    # the demo
    "run_demo", "project_template", "build_demo_store", "DEMO_TODAY",
]


def test_the_public_names_are_pinned() -> None:
    assert sorted(spm_training.__all__) == sorted(PUBLIC)
    assert len(spm_training.__all__) == len(set(spm_training.__all__))


def test_every_public_name_resolves_to_what_its_module_defines() -> None:
    from spm_training.analysis.facade import analyse
    from spm_training.reports.build import environment

    for name in PUBLIC:
        assert getattr(spm_training, name) is not None, name
    assert spm_training.analyse is analyse
    assert spm_training.template_environment is environment
    assert spm_training.format_percent(0.2634) == "26%" and spm_training.shown_percent(0.9988) == 100.0
    assert spm_training.__version__ == "0.1.0"


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        spm_training.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert str(exc) == "module 'spm_training' has no attribute 'no_such_thing'"
    else:
        raise AssertionError("no AttributeError")


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = ("import sys, spm_training; from spm_training import Project, SpmError; "
            "print(sorted(m for m in ('pandas', 'nbgrader', 'jinja2', 'sqlalchemy', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
