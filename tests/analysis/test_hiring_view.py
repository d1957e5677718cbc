"""The hiring profile in the reports (issue 19): the organisation's hiring page and the team report's
section, on the shared populated store; the figures are recomputed here from the analysis' own frames."""

from __future__ import annotations

import pytest

from spm_training.analysis.evidence import CAVEAT
from spm_training.analysis.facade import analyse
from spm_training.project import Project
from spm_training.reports.build import render, team_context
from spm_training.reports.hiring_view import hiring_context, hiring_section
from spm_training.reports.links import BookLinks
from spm_training.scorecard import RATINGS, scorecard_rows
from spm_training.store import open_store
from tests.analysis_data import ROOT, TODAY, populated

LINKS = BookLinks(Project.at(ROOT), "../book/html/")


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory):
    db, info = populated(tmp_path_factory.mktemp("hiring"))
    with open_store(db, write=False) as store:
        return analyse(store, info["project"], today=TODAY)


def thirds(a, kpi: str) -> tuple[list[str], list[str]]:
    measured = set(a.mastery[a.mastery["mastery"].notna()]["rep_id"])
    part = a.current[(a.current["kpi"] == kpi) & a.current["attainment"].notna() & a.current["rep_id"].isin(measured)]
    ranked = part.sort_values(["attainment", "rep_id"], ascending=[False, True])["rep_id"].tolist()
    k = len(ranked) // 3
    return ranked[:k], ranked[len(ranked) - k:]


def test_the_profile_compares_the_top_and_bottom_thirds_of_each_kpi(whole):
    section = hiring_section(whole, LINKS)
    revenue = next(p for p in section["profile"] if p["kpi"] == "revenue")
    top, bottom = thirds(whole, "revenue")
    assert (revenue["top"], revenue["bottom"]) == (len(top), len(bottom))
    m = whole.mastery[whole.mastery["mastery"].notna()]
    for s in revenue["skills"]:
        high = m[(m["skill_id"] == s["skill"]) & m["rep_id"].isin(top)]["mastery"].mean()
        low = m[(m["skill_id"] == s["skill"]) & m["rep_id"].isin(bottom)]["mastery"].mean()
        assert s["top"] == pytest.approx(high) and s["bottom"] == pytest.approx(low)
        assert s["difference"] > 0
    assert [s["difference"] for s in revenue["skills"]] == sorted((s["difference"] for s in revenue["skills"]),
                                                                   reverse=True)
    assert section["caveat"].startswith(CAVEAT + " ")


def test_the_scorecard_has_a_row_per_skill_and_marks_the_skills_that_separate(whole):
    section = hiring_section(whole, LINKS)
    assert [r["id"] for r in section["scorecard"]] == list(whole.skills)
    counted: dict[str, int] = {}
    for p in section["profile"]:
        for s in p["skills"]:
            counted[s["skill"]] = counted.get(s["skill"], 0) + 1
    assert {r["id"]: r["separates"] for r in section["scorecard"] if r["separates"]} == counted
    assert scorecard_rows(whole.skills, whole.kpis)[0]["separates"] == 0


def test_the_hiring_page_renders_the_profile_the_scorecard_and_the_caveat(whole):
    common = {"title": "Hiring profile", "generated": "2026-11-15 09:00", "version": "test",
              "definitions_url": LINKS.definitions_url}
    html = render("hiring", hiring_context(whole, LINKS, common))
    section = hiring_section(whole, LINKS)
    assert html.count('<table class="hiring"') == len(section["profile"])
    assert html.count("<tr data-skill=") == sum(len(p["skills"]) for p in section["profile"]) + len(whole.skills)
    assert "Correlation, not causation" in html
    assert f'href="{LINKS.page("book/team/interviews").url}"' in html
    for points, label, _ in RATINGS:
        assert f"☐ {points} " in html and f"<strong>{points} {label}</strong>" in html


def test_the_team_report_holds_the_teams_own_profile(whole):
    team = sorted(whole.team_ids())[0]
    scope = whole.scoped(list(whole.reps[whole.reps["team"] == team]["rep_id"]))
    context = team_context(scope, team, LINKS)
    html = render("team", context)
    assert '<section id="hiring"' in html and '<a href="#hiring">Hiring profile</a>' in html
    members = set(scope.rep_ids)
    for p in context["hiring"]["profile"] + context["hiring"]["thin"]:
        assert p["reps"] <= len(members)


def test_the_scorecard_asks_about_each_skill_in_its_own_words(whole):
    rows = {r["id"]: r for r in scorecard_rows(whole.skills, whole.kpis)}
    assert rows["icp_targeting"]["question"] == ("Tell me about a recent deal or prospect where ICP targeting made "
                                                 "the difference. What did you do yourself, and what happened next?")
    assert rows["cold_calling"]["watch_for"] == "In the role-play, the candidate " + \
        whole.skills["cold_calling"].description[0].lower() + whole.skills["cold_calling"].description[1:]
    assert rows["icp_targeting"]["kpis"] == [whole.kpis[k].name for k in whole.skills["icp_targeting"].kpi_ids]
