"""The rep report, the page a rep brings to the 1:1 (issue 15): it leads with the two gaps to work on
this month, suggests practice only on assignments of the rep's plan they have not aced, names
assignments by title, counts what the summary says as the course table lists it, keeps the KPI
catalog's notes out of the KPI table, and says "ramping" / "not measured yet" for a new hire."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from analysis_data import ROOT, TODAY, populated

from spm_training import formatting as fmt
from spm_training.analysis import views
from spm_training.analysis.facade import analyse
from spm_training.analysis.gaps import severity
from spm_training.analysis.readiness import role_skills
from spm_training.ingest.roster import write_roster
from spm_training.project import Project
from spm_training.reports import charts
from spm_training.reports.build import render, rep_context
from spm_training.reports.links import BookLinks
from spm_training.store import open_store

BOOK = "../book/html/"
TITLES = {"a1": "Discovery basics", "a2": "Qualification drill", "a3": "Objection practice", "a4": "Negotiation lab"}
PLAN = """phases:
  - {name: "Days 1 to 90", first_day: 1, last_day: 90, what: everything}
assignments:
  - {id: a1, title: Discovery basics, due_day: 10, roles: [SDR, AE, AM], why: first}
  - {id: a3, title: Objection practice, due_day: 20, roles: [SDR, AE, AM], why: second}
  - {id: a2, title: Qualification drill, due_day: 30, roles: [SDR, AE, AM], why: third}
  - {id: a4, title: Negotiation lab, due_day: 40, roles: [AE, AM], why: closers only}
"""
NEW_HIRE = {"id": "nina.new", "name": "Nina New", "email": "nina.new@northwind-signal.example",
            "team_id": "Pathfinders", "manager": "Marta Keller", "role": "SDR",
            "hire_date": (TODAY - timedelta(days=21)).isoformat()}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Project, dict]:
    """The analysis test store with an onboarding plan that gives a4 to AEs and AMs only (so
    an SDR who submitted it did so as extra practice), and a new hire with nothing measured."""
    folder = tmp_path_factory.mktemp("rep-report")
    db, info = populated(folder)
    for assignment in TITLES:
        (folder / "course" / "source" / assignment).mkdir(parents=True, exist_ok=True)
    (folder / "course" / "plan.yml").write_text(PLAN)
    with open_store(db) as store:
        write_roster(store, [NEW_HIRE])
    return db, Project.at(ROOT, course_dir=folder / "course", db_path=db), info


def _rep(db: Path, project: Project, rep_id: str) -> tuple[dict, str]:
    with open_store(db) as store:
        a = analyse(store, project, rep=rep_id, today=TODAY)
    ctx = rep_context(a, rep_id, BookLinks(project, BOOK))
    return ctx, render("rep", ctx)


def _reps(db: Path, project: Project, role: str | None = None) -> list[dict]:
    with open_store(db) as store:
        a = analyse(store, project, today=TODAY)
    return [r for r in views.reps_in_order(a) if role is None or r["role"] == role]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_report_leads_with_the_two_most_urgent_linked_gaps_as_coach_first_names_them(course) -> None:
    db, project, _ = course
    with open_store(db) as store:
        whole = analyse(store, project, today=TODAY)
    first = views.coach_first(whole)
    row = next(r for r in first if len(r["gaps"]) == 2)
    ctx, html = _rep(db, project, row["rep_id"])
    assert [e["skill"] for e in ctx["focus"]] == [g["skill"] for g in row["gaps"]]
    assert severity(row["gaps"][0]) >= severity(row["gaps"][1])
    focus = html[html.index('<section id="focus"'):html.index('<section id="summary"')]
    # the focus is the first section, right under the header and the section links
    assert html.index("<section") == html.index('<section id="focus"')
    for g in row["gaps"]:
        mastery, attainment = fmt.mastery(g["mastery"], g["threshold"]), fmt.attainment(g["attainment"])
        tone = fmt.mastery_tone(g["mastery"], g["threshold"])
        assert (f'<strong>{g["skill_name"]}</strong> <span class="tone-{tone} pill">{mastery}</span> → '
                f'<strong>{g["kpi_name"]}</strong> <span class="tone-'
                f'{fmt.attainment_tone(g["attainment"])} pill">{attainment}</span>') in focus
        assert (f"Your mastery of {g['skill_name']} is {mastery} against a threshold of "
                f"{fmt.percent(g['threshold'])}, and {g['kpi_name']} is at {attainment} of target in {g['period']}"
                ) in focus
    # at most three steps of each focus item in view; the rest collapsed
    verb = '<span class="verb">'
    for item in focus.split('<li data-skill="')[1:]:
        assert item.split("<details")[0].count(verb) == min(3, item.count(verb))
        if item.count(verb) > 3:
            more = item.count(verb) - 3
            assert f"<summary>{more} more step{'s' if more > 1 else ''}</summary>" in item
    # the focus skills are not repeated in the rest of the plan
    assert not {e["skill"] for e in ctx["rest"]} & {e["skill"] for e in ctx["focus"]}


def test_practice_leaves_out_aced_assignments_and_those_not_in_the_role_s_plan(course) -> None:
    db, project, _ = course
    aced_seen = off_plan_seen = 0
    for rep in _reps(db, project):
        with open_store(db) as store:
            a = analyse(store, project, rep=rep["rep_id"], today=TODAY)
        entries = {e.skill: e for e in a.plan(rep["rep_id"]) if e.kind != "kpi"}
        ctx = rep_context(a, rep["rep_id"], BookLinks(project, BOOK))
        for view in ctx["focus"] + ctx["rest"]:
            if view["kind"] == "kpi":
                continue
            raw = entries[view["skill"]]
            practised = [s["text"] for s in view["steps"] if s["verb"] in ("Do", "Redo")]
            for x in raw.assignments:
                title = TITLES[x["assignment"]]
                if not x["given"]:
                    off_plan_seen += 1
                    assert title not in practised and not any(title in d for d in view["done"])
                elif x["share"] is not None and x["share"] >= raw.threshold:
                    aced_seen += 1
                    assert title not in practised
                    assert f"{title} ({fmt.percent(x['share'])})" in view["done"]
                elif x["share"] is None:
                    assert {"verb": "Do", "text": title, "url": "", "note": "not submitted yet"} in view["steps"]
                else:
                    assert {"verb": "Redo", "text": title, "url": "",
                            "note": f"{fmt.percent(x['share'])} of this skill's points there so far"} in view["steps"]
            assert [s["text"] for s in view["steps"] if s["verb"] == "Read"] == \
                [BookLinks(project, BOOK).page(p).title for p in raw.pages]
    assert aced_seen and off_plan_seen     # both cases occur in this store, so the checks above ran


def test_assignments_are_named_by_their_titles(course) -> None:
    db, project, _ = course
    rep = _reps(db, project, "AE")[0]
    _, html = _rep(db, project, rep["rep_id"])
    for slug, title in TITLES.items():
        assert f"<td>{title}</td>" in html
        assert f">{slug}<" not in html and f">{slug} " not in html and f" {slug} (" not in html
    assert "Negotiation lab (extra practice" not in html       # a4 is in an AE's plan


def test_of_n_in_the_summary_counts_the_rows_of_the_plan_in_the_course_table(course) -> None:
    db, project, _ = course
    sdr = next(r for r in _reps(db, project, "SDR") if (TODAY - date.fromisoformat(r["hire_date"])).days > 60)
    ctx, html = _rep(db, project, sdr["rep_id"])
    assert (ctx["progress"]["given"], ctx["progress"]["submitted"]) == (3, 3)
    graded = ctx["progress"]["graded"]
    assert (f"<dt>Course</dt><dd>3 of 3 assignments submitted, {graded} fully graded <span class=\"note\">(the "
            "assignments your role's onboarding plan gives you, of those released so far)</span></dd>") in html
    assert html.count('data-in-plan="yes"') == 3 and html.count('data-in-plan="no"') == 1
    assert "<td>Negotiation lab <span class=\"note\">(extra practice, not in your plan)</span></td>" in html
    # in the plan's order (due days 10, 20, 30), then the extra one
    rows = re.findall(r'data-assignment="(a\d)"', html)
    assert rows == ["a1", "a3", "a2", "a4"]
    assert '3 assignments of your role\'s onboarding plan have been released so far; those are the "of 3"' in html


def test_the_kpi_table_links_to_the_kpi_reference_instead_of_quoting_the_catalog(course) -> None:
    db, project, info = course
    rep = _reps(db, project, "AE")[0]
    ctx, html = _rep(db, project, rep["rep_id"])
    assert ctx["kpis"]
    table = html[html.index('<table class="kpis">'):html.index("</table>", html.index('<table class="kpis">'))]
    assert "Why it matters" not in html
    for k in ctx["kpis"]:
        kpi = info["kpis"][k["id"]]
        assert kpi.goal not in table and kpi.definition not in table
        anchor = k["id"].replace("_", "-")
        assert f'<a href="{BOOK}book/performance/kpi-reference.html#kpi-{anchor}">{k["name"]}</a>' in table
        assert f'<td class="num tone-{fmt.attainment_tone(k["attainment"])}">{fmt.attainment(k["attainment"])}<br>' \
            in table
        if k["change"] is not None:
            assert f"{fmt.points(k['change'])}</td>" in table


def test_counts_are_the_team_report_s(course) -> None:
    db, project, _ = course
    with open_store(db) as store:
        team = analyse(store, project, team="Closers", today=TODAY)
    counts = views.rep_gap_counts(team)
    checked = 0
    for rep_id, c in counts.items():
        ctx, html = _rep(db, project, rep_id)
        assert ctx["counts"] == c
        text = (f"<dt>Gaps</dt><dd>{fmt_plural(c['linked'], 'skill')} with a linked gap"
                + (f" ({fmt_plural(c['pairs'], 'skill–KPI pair')})" if c["pairs"] else "")
                + f", {fmt_plural(c['skill_only'], 'other skill gap')}, {fmt_plural(c['kpi'], 'KPI gap')}</dd>")
        assert text in html
        checked += c["linked"] > 0
    assert checked


def fmt_plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def test_a_new_hire_with_nothing_measured_reads_ramping_not_a_low_score(course) -> None:
    db, project, _ = course
    ctx, html = _rep(db, project, NEW_HIRE["id"])
    assert (ctx["days"], ctx["new_hire"], ctx["measured"], ctx["focus"]) == (21, True, 0, [])
    assert "(21 days ago, a new hire)" in html
    assert ("<dt>Readiness</dt><dd><strong>Ramping</strong>: not measured yet (no skill graded yet; no KPI value "
            "yet)</dd>") in html
    assert "<dt>Strengths</dt><dd>not measured yet: no skill graded so far</dd>" in html
    assert "<dt>Gaps</dt><dd>not measured yet: no graded skill and no KPI value so far</dd>" in html
    assert ('<p class="callout">Ramping: no skill has been measured yet, so there is no gap to work on. Next in your '
            "onboarding plan: <strong>Discovery basics</strong>, then <strong>Objection practice</strong>.</p>") in html
    assert "KPIs not measured yet: no KPI value has been imported for you." in html
    assert "Not measured yet: no KPI value since your hire date." in html
    assert "of 100" not in _text(html[:html.index('<section id="kpis"')])
    skills, kpis = project.catalogs()
    n = len(role_skills(skills, kpis, "SDR"))
    assert [s["id"] for s in ctx["skills"]] == role_skills(skills, kpis, "SDR") and n > 1
    assert f"<p>Not measured yet: none of the {n} skills below has a graded item so far.</p>" in html
    assert f"<summary>The {n} skills your assignments will measure</summary>" in html
    assert "none yet" not in html


def test_a_rep_with_every_part_measured_has_a_whole_number_readiness(course) -> None:
    db, project, _ = course
    rep = _reps(db, project, "AE")[0]
    ctx, html = _rep(db, project, rep["rep_id"])
    r = ctx["readiness"]
    assert not r["ramping"] and r["missing"] == []
    assert f"<dt>Readiness</dt><dd><strong>{fmt.whole(r['index'])}</strong> of 100</dd>" in html
    assert re.search(r"<strong>\d+</strong> of 100", html)
    assert not re.search(r"\d\.\d of 100", html)
    # the whole-number parts add up to the whole-number index, each within a point of its exact value
    parts = [int(p["points"]) for p in r["parts"]]
    assert sum(parts) == int(fmt.whole(r["index"]))
    exact = ctx["readiness"]["points_exact"]
    assert len(exact) == 3 and all(abs(p - e) < 1 for p, e in zip(parts, exact, strict=True))
    assert (f"<p><strong>{fmt.whole(r['index'])}</strong> of 100: {parts[0]} from skill mastery (M), {parts[1]} from "
            f"KPI attainment (K), {parts[2]} from course progress (P).</p>") in html


def test_the_ramp_chart_has_labelled_axes_ticks_and_a_target_line() -> None:
    points = [{"period": "2026-08", "attainment": 0.42, "kpis": 3},
              {"period": "2026-09", "attainment": 0.81, "kpis": 3},
              {"period": "2026-10", "attainment": 1.31, "kpis": 3}]
    svg = str(charts.ramp_chart(points, label="Ramp", hire_date=date(2026, 8, 12)))
    assert 'width="480" height="250" viewBox="0 0 480 250"' in svg
    ticks = re.findall(r'text-anchor="end">(\d+)%</text>', svg)
    assert ticks == ["0", "20", "40", "60", "80", "100", "120", "140"]
    assert ">target 100%</text>" in svg and 'stroke-dasharray="6 4"' in svg
    assert ">Mean KPI attainment</text>" in svg and ">Period (month since hire)</text>" in svg
    assert re.findall(r">month (\d+)</text>", svg) == ["1", "2", "3"]
    assert re.findall(r'font-weight="600">([^<]+)</text>', svg) == ["target 100%", "42%", "81%", "131%"]
    assert svg.count("<circle") == 3 and svg.count("<polyline") == 1
    one = str(charts.ramp_chart(points[:1], label="Ramp", hire_date=None))
    assert one.count("<circle") == 1 and "<polyline" not in one and ">Period</text>" in one and "month" not in one
    assert str(charts.ramp_chart([], label="Ramp")) == ""


def test_without_a_plan_of_n_is_every_released_assignment(tmp_path: Path) -> None:
    db, info = populated(tmp_path, n_reps=6)
    rep_id = info["data"].roster[0]["id"]
    ctx, html = _rep(db, info["project"], rep_id)
    assert ctx["has_plan"] is False and ctx["progress"]["given"] == 4
    assert ("(every assignment released so far: the course has no onboarding plan)</span></dd>") in html
    assert '4 assignments have been released so far; those are the "of 4" in the summary.' in html
    assert html.count('data-in-plan="yes"') == 4 and 'data-in-plan="no"' not in html
    assert "onboarding plan gives you" not in html
