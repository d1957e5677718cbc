"""The KPI and skills catalogs: the defaults are complete and SMART, and bad YAML is named by line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from spm_training.catalog import load_kpis, load_skills
from spm_training.cli.main import cli
from spm_training.errors import CatalogError

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_KPIS = {
    "revenue", "quota_attainment", "win_rate", "lead_to_opp_conversion", "stage_conversion", "avg_deal_size",
    "sales_cycle_length", "cac", "csat", "retention_rate", "expansion_rate", "meetings_booked", "activities",
    "pipeline_generated", "ramp_time",
}
REQUIRED_SKILLS = {
    "prospecting_research", "icp_targeting", "outreach_messaging", "cold_calling", "discovery_questioning",
    "qualification", "objection_handling", "product_knowledge", "demo_presentation", "negotiation_closing",
    "funnel_analysis", "crm_hygiene",
}


def test_default_kpi_catalog_is_complete_and_smart() -> None:
    kpis = load_kpis()
    assert REQUIRED_KPIS <= set(kpis)
    assert {k.id: k.smart_problems() for k in kpis.values() if k.smart_problems()} == {}
    assert kpis["sales_cycle_length"].direction == "lower"
    assert kpis["cac"].direction == "lower"


def test_skills_link_to_known_kpis_and_real_pages() -> None:
    kpis = load_kpis()
    skills = load_skills(ROOT / "assessments", kpis)
    assert REQUIRED_SKILLS <= set(skills)
    for skill in skills.values():
        assert skill.kpis, skill.id
        assert skill.pages, skill.id


def test_skills_name_their_interactive_modules_and_skills_check_finds_a_missing_one(tmp_path: Path) -> None:
    from spm_training.checks import check_skills
    from spm_training.course import read_items

    skills = load_skills(ROOT / "assessments", load_kpis())
    assert skills["objection_handling"].modules == ("notebooks/objection_practice",)
    assert skills["funnel_analysis"].modules == ("notebooks/kpi_calculator", "notebooks/funnel_explorer")
    assert skills["qualification"].modules == ()
    items = read_items(ROOT / "assessments")
    assert check_skills(skills, items, ROOT) == []
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assessments", course, ignore=shutil.ignore_patterns("release", "submitted",
                                                                                 "autograded", "feedback"))
    text = (course / "skills.yml").read_text(encoding="utf-8")
    (course / "skills.yml").write_text(text.replace("modules: [notebooks/objection_practice]",
                                                    "modules: [notebooks/objection_drill]", 1), encoding="utf-8")
    moved = load_skills(course, load_kpis())
    assert check_skills(moved, items, ROOT) == [
        "skill 'objection_handling' names interactive module 'notebooks/objection_drill', which does not exist "
        "(modules are notebooks, named without .ipynb)"]


def test_kpis_check_names_each_kpi_that_is_not_smart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "kpis.yml").write_text(
        "kpis:\n"
        "  - id: calls\n    name: Calls\n    definition: Outbound calls the rep logged in the CRM.\n"
        "    unit: count\n    formula: count(calls)\n    default_target: 100\n    goal: Fill the funnel.\n"
        "    period: month\n    direction: higher\n"
        "  - id: vibes\n    name: Good vibes\n    definition: Vibes.\n    period: sometimes\n    direction: higher\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["kpis", "check"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "vibes: not SMART: specific: the definition says too little about what is counted; measurable: no unit; "
        "measurable: no formula; achievable: no default target; relevant: no business goal; "
        "time-bound: period must be one of month, quarter",
        "Error: 1 of 2 KPIs are not SMART",
    ]


def test_kpis_check_passes_on_the_default_catalog() -> None:
    result = CliRunner().invoke(cli, ["kpis", "check"])
    assert result.exit_code == 0
    assert result.output.strip() == f"all {len(load_kpis())} KPIs are SMART"


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "skills.yml").write_text("skills:\n  - id: a\n    name: A\n   kpis: [x]\n")
    result = CliRunner().invoke(cli, ["--course", str(course), "skills", "list"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {course / 'skills.yml'}:4: YAML syntax error at column 4:")
    assert len(result.output.strip().splitlines()) == 1


def test_skill_with_unknown_kpi_names_the_line(tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "skills.yml").write_text(
        "skills:\n  - id: calling\n    name: Calling\n    kpis:\n      - {id: revenue}\n      - {id: vibes}\n")
    with pytest.raises(CatalogError) as info:
        load_skills(course, load_kpis())
    assert str(info.value) == (f"{course / 'skills.yml'}:6: skill 'calling' links to unknown KPI 'vibes'; "
                               "use an id from `spm kpis list` or add the KPI to kpis.yml")


def test_project_kpis_yml_overrides_the_default(tmp_path: Path) -> None:
    shutil.copy(ROOT / "spm_training" / "data" / "kpis.yml", tmp_path / "kpis.yml")
    text = (tmp_path / "kpis.yml").read_text().replace("default_target: 0.25", "default_target: 0.3")
    (tmp_path / "kpis.yml").write_text(text)
    assert load_kpis(tmp_path)["win_rate"].default_target == 0.3


def test_json_listing_carries_ids() -> None:
    import json

    result = CliRunner().invoke(cli, ["kpis", "list", "--format", "json"])
    assert result.exit_code == 0
    assert [k["id"] for k in json.loads(result.output)] == list(load_kpis())
    result = CliRunner().invoke(cli, ["--course", str(ROOT / "assessments"), "skills", "list", "--format", "json"])
    assert [s["id"] for s in json.loads(result.output)][:2] == ["prospecting_research", "icp_targeting"]
