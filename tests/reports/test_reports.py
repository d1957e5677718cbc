"""Reports: scoping (a report holds only its team's or rep's data), self-containment, the item
analysis figures, the formatting filters and the `spm report` commands."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analysis_data import ROOT, populated
from click.testing import CliRunner

from spm_training.analysis.facade import Analysis, analyse
from spm_training.analysis.gaps import severity
from spm_training.analysis.items import item_analysis
from spm_training.cli.main import cli
from spm_training.project import Project
from spm_training.reports import filters
from spm_training.reports.build import (
    REPORT_KINDS,
    items_context,
    rep_context,
    team_context,
    write_report,
    write_reports,
)
from spm_training.reports.links import BookLinks, default_book_url
from spm_training.store import open_store

LINKS = BookLinks(Project.at(ROOT), "../book/html/")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[Path]]:
    folder = tmp_path_factory.mktemp("reports")
    db, info = populated(folder)
    with open_store(db) as store:
        paths = write_reports(store, folder / "out", info["project"], book_url="../book/html/")
    return db, info, paths


def test_write_reports_writes_an_index_and_one_report_per_team_rep_and_assignment(site) -> None:
    _, info, paths = site
    roster = info["data"].roster
    names = sorted(p.name for p in paths)
    assert paths[0].name == "index.html"
    assert len(paths) == 1 + len({r["team"] for r in roster}) + len(roster) + 4 + 2      # and hiring.html, impact.html
    assert "hiring.html" in names
    assert "impact.html" in names
    assert sum(n.startswith("team-") for n in names) == 3 and sum(n.startswith("items-") for n in names) == 4
    index = paths[0].read_text()
    for path in paths[1:]:
        assert f'href="{path.name}"' in index


def test_a_rep_report_holds_no_other_reps_id_or_name(site) -> None:
    _, info, paths = site
    roster = info["data"].roster
    for rep in roster:
        html = (paths[0].parent / f"rep-{rep['id']}.html").read_text()
        assert rep["id"] in html or rep["name"] in html
        for other in roster:
            if other["id"] == rep["id"]:
                continue
            assert other["id"] not in html, (rep["id"], other["id"])
            assert other["name"] not in html, (rep["id"], other["name"])
            assert other["email"] not in html


def test_a_team_report_holds_only_its_team(site) -> None:
    _, info, paths = site
    roster = info["data"].roster
    for team in {r["team"] for r in roster}:
        html = (paths[0].parent / f"team-{team}.html").read_text()
        for rep in roster:
            if rep["team"] == team:
                assert rep["name"] in html
            else:
                assert rep["name"] not in html and rep["id"] not in html, (team, rep["id"])


def test_reports_are_self_contained(site) -> None:
    _, _, paths = site
    for path in paths:
        html = path.read_text()
        assert "<script" not in html and "<link rel=\"stylesheet\"" not in html
        assert re.findall(r'(?:src|href)="(?:https?:)?//', html) == [], path.name
        assert re.findall(r"url\(", html) == [], path.name
        assert html.count("<svg") == html.count("</svg>")


def test_team_context_puts_linked_gaps_first_and_carries_evidence(site) -> None:
    db, info, _ = site
    with open_store(db) as store:
        a = analyse(store, info["project"], team="Closers")
    ctx = team_context(a, "Closers", LINKS)
    kinds = [g["kind"] for g in ctx["gaps"]]
    assert kinds == sorted(kinds, key=("linked", "skill", "kpi").index)
    # gaps are counted by skill (a rep's skills with a linked gap), the skill–KPI pairs are the detail
    by_kind = {k: {(g["rep_id"], g["skill"] if k != "kpi" else g["kpi"]) for g in ctx["gaps"] if g["kind"] == k}
               for k in ("linked", "skill", "kpi")}
    assert ctx["counts"] == {"linked": len(by_kind["linked"]), "skill": len(by_kind["skill"]),
                             "kpi": len(by_kind["kpi"]), "pairs": kinds.count("linked"),
                             "reps_linked": len({r for r, _ in by_kind["linked"]}), "reps": len(ctx["rows"])}
    assert ctx["counts"]["linked"] < ctx["counts"]["pairs"]     # the fixture has skills linked to two short KPIs
    assert {r["rep_id"] for r in ctx["rows"]} == {r["id"] for r in info["data"].roster if r["team"] == "Closers"}
    assert {e["status"] for e in ctx["evidence"]} <= {"ok", "not enough data", "no variation"}
    # n: the team's reps with both a mastery on the skill and an attainment on the KPI (the demo's
    # newest hire has no KPI period since hire yet)
    valued = a.mastery[a.mastery["mastery"].notna()]
    attained = a.current[a.current["attainment"].notna()]
    for e in ctx["evidence"]:
        if e["status"] == "ok":
            both = set(valued.loc[valued["skill_id"] == e["skill"], "rep_id"]) & set(
                attained.loc[attained["kpi"] == e["kpi"], "rep_id"])
            assert e["n"] == len(both) and e["n"] >= 9, (e["skill"], e["kpi"])
    assert ctx["caveat"].startswith("Correlation, not causation")
    assert [g["kind"] for g in ctx["linked"]] == ["linked"] * min(100, ctx["counts"]["pairs"])
    sizes = [(g["threshold"] - g["mastery"]) / g["threshold"] + 1 - g["attainment"] for g in ctx["linked"]]
    assert sizes == sorted(sizes, reverse=True)
    assert [severity(g) for g in ctx["linked"]] == pytest.approx(sizes)
    for row in ctx["rows"]:
        plan_kinds = [e["kind"] for e in row["plan"]]
        assert plan_kinds == sorted(plan_kinds, key=("linked", "skill", "kpi").index)


PERCENT = r"\d+(?:\.\d+)?%"


def test_coach_first_orders_reps_by_their_most_severe_linked_gap(site) -> None:
    """Issue 15: who to coach first, each rep with their one or two most urgent linked gaps on
    different skills, written as skill (mastery) → KPI (attainment), linking to the rep's report."""
    db, info, paths = site
    with open_store(db) as store:
        a = analyse(store, info["project"], team="Closers")
    ctx = team_context(a, "Closers", LINKS)
    worst: dict[str, float] = {}
    for g in ctx["gaps"]:
        if g["kind"] == "linked":
            worst[g["rep_id"]] = max(worst.get(g["rep_id"], -9.0), severity(g))
    names = {r["rep_id"]: r["name"] for r in ctx["rows"]}
    expected = sorted(worst, key=lambda r: (-worst[r], names[r]))
    assert [r["rep_id"] for r in ctx["coach_first"]] == expected[:10] and ctx["coach_first_total"] == len(expected)
    assert [r["rank"] for r in ctx["coach_first"]] == list(range(1, len(ctx["coach_first"]) + 1))
    for r in ctx["coach_first"]:
        assert r["severity"] == pytest.approx(worst[r["rep_id"]], abs=1e-3)
        assert 1 <= len(r["focus"]) <= 2 and len({f["skill"] for f in r["focus"]}) == len(r["focus"])
        for f in r["focus"]:
            assert re.fullmatch(rf"[^()]+(?: \([^()]+\))* \({PERCENT}\) → .+ \({PERCENT}\)", f["text"]), f["text"]
            assert re.fullmatch(r"skill (\d+ points|1 point|less than 1 point) under its \d+% threshold, "
                                r"KPI (\d+ points|1 point|less than 1 point) under target in \d{4}-Q\d", f["why"])
        assert r["href"] == f"rep-{r['rep_id']}.html" and (paths[0].parent / r["href"]).exists()
    # the first rep's first gap is their most severe pair, figures as the formatting module writes them
    top = ctx["coach_first"][0]
    pair = max((g for g in ctx["gaps"] if g["kind"] == "linked" and g["rep_id"] == top["rep_id"]), key=severity)
    from spm_training import formatting

    assert top["focus"][0]["text"] == (f"{pair['skill_name']} ({formatting.mastery(pair['mastery'], pair['threshold'])})"
                                       f" → {pair['kpi_name']} ({formatting.attainment(pair['attainment'])})")
    html = (paths[0].parent / "team-Closers.html").read_text()
    main = html[html.index("<main>"):]
    assert main.index('<section id="coach-first"') < main.index('<section id="heatmap"') < main.index("<details")
    assert main.startswith('<main>\n<section id="coach-first"')
    for r in ctx["coach_first"]:
        assert f'<a href="{r["href"]}">{r["name"]}</a>' in html
        assert html.count(f'data-rep="{r["rep_id"]}" data-linked="{r["counts"]["linked"]}"') == 2   # coach first, plan


def test_gap_counts_are_the_same_in_the_team_and_the_rep_context(site) -> None:
    """Issue 15: Sami Garcia had 9 linked gaps in one view and 17 in two others. Skills are counted
    everywhere; the skill–KPI pairs are the detail."""
    from spm_training.analysis.views import rep_gap_counts

    db, info, _ = site
    with open_store(db) as store:
        team = analyse(store, info["project"], team="Closers")
        ctx = team_context(team, "Closers", LINKS)
        checked = 0
        for row in ctx["rows"][:4]:
            one = rep_context(analyse(store, info["project"], rep=row["rep_id"]), row["rep_id"], LINKS)
            c = row["counts"]
            assert one["counts"] == c, row["rep_id"]
            assert rep_gap_counts(team)[row["rep_id"]] == c
            checked += 1
    mine = [g for g in ctx["gaps"] if g["rep_id"] == ctx["rows"][0]["rep_id"]]
    assert ctx["rows"][0]["counts"]["linked"] == len({g["skill"] for g in mine if g["kind"] == "linked"})
    assert ctx["rows"][0]["counts"]["pairs"] == sum(1 for g in mine if g["kind"] == "linked")
    assert checked == 4


def test_the_team_report_writes_figures_for_people(site) -> None:
    """Mastery and ratio KPIs as percentages, changes in points, readiness whole, no signed zero;
    the evidence table (class evidence) is the one place correlations appear."""
    _, _, paths = site
    html = (paths[0].parent / "team-Closers.html").read_text()
    outside = re.sub(r'<table class="evidence">.*?</table>', "", html, flags=re.S)
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", outside, flags=re.S)
    assert re.findall(r"(?<![\d.])[01]\.\d{2,}(?!\d)", text) == []
    assert "±" not in html and "−0.00" not in html
    assert re.search(r"[+−]\d+ pp", text) and " pp" in text
    assert re.findall(r"Readiness index", text)
    readiness = html[html.index('<section id="readiness"'):]
    cells = re.findall(r'<td class="num">([^<]*)</td>', readiness[readiness.index("<tbody>"):])
    assert cells and all(re.fullmatch(rf"\d+|ramping|{PERCENT}", c) for c in cells), cells


def test_the_evidence_verdict_says_in_words_what_the_interval_says() -> None:
    from spm_training.analysis.views import evidence_verdict

    def row(low: float | None, high: float | None, expected: str = "positive", status: str = "ok") -> dict:
        return {"ci_low": low, "ci_high": high, "expected": expected, "status": status}

    assert evidence_verdict(row(-0.89, -0.0001)) == ("no clear link yet (the interval includes zero)", "unclear")
    assert evidence_verdict(row(-0.3, 0.5)) == ("no clear link yet (the interval includes zero)", "unclear")
    assert evidence_verdict(row(0.1, 0.6)) == ("skill and KPI move together, as expected", "expected")
    assert evidence_verdict(row(-0.7, -0.2, "negative")) == ("the KPI falls as the skill rises, as expected",
                                                            "expected")
    assert evidence_verdict(row(-0.7, -0.2)) == ("the KPI falls as the skill rises, against the expected direction",
                                                 "against")
    assert evidence_verdict(row(None, None, status="not enough data")) == ("not enough data yet", "none")


def test_the_evidence_table_has_a_verdict_on_every_row(site) -> None:
    db, info, paths = site
    with open_store(db) as store:
        ctx = team_context(analyse(store, info["project"], team="Closers"), "Closers", LINKS)
    assert ctx["evidence"] and all(e["verdict"] for e in ctx["evidence"])
    for e in ctx["evidence"]:
        if e["status"] == "ok":
            assert re.fullmatch(r"(?:[+−]\d\.\d\d|0\.00) to (?:[+−]\d\.\d\d|0\.00)", e["interval_text"])
    unclear = sum(e["verdict_kind"] == "unclear" for e in ctx["evidence"])
    measured = sum(e["verdict_kind"] != "none" for e in ctx["evidence"])
    html = (paths[0].parent / "team-Closers.html").read_text()
    assert f"Of {measured} skill–KPI pairs with enough data, {unclear} " in html


def test_most_improved_compares_two_real_measurements(site) -> None:
    """Issue 15: "from 0.00 to 0.49" praised a first measurement. Each rep listed has graded
    answers on the skill in two submissions or more, and first and last are their shares there."""
    from spm_training.analysis.views import improved

    db, info, _ = site
    with open_store(db) as store:
        a = analyse(store, info["project"], team="Closers")
    found = improved(a)
    assert found
    graded = a.scores[a.scores["x"].notna()].merge(a.tags, on="item_id")
    for group in found:
        for r in group["reps"]:
            mine = graded[(graded["rep_id"] == r["rep_id"]) & (graded["skill_id"] == group["skill"])]
            per = mine.groupby("submitted_at")[["score", "max_score"]].sum().sort_index()
            assert len(per) >= 2
            assert r["first"] == pytest.approx(per["score"].iloc[0] / per["max_score"].iloc[0])
            assert r["last"] == pytest.approx(per["score"].iloc[-1] / per["max_score"].iloc[-1])
            assert r["rise"] == pytest.approx(r["last"] - r["first"]) and r["rise"] > 0
        rises = [r["rise"] for r in group["reps"]]
        assert rises == sorted(rises, reverse=True)


def test_new_hires_with_nothing_measured_read_ramping(site) -> None:
    """Issue 15: 21 days after hire the report said "Readiness 24.9 of 100" and "Strengths: none yet"."""
    from spm_training.analysis.views import new_hires

    db, info, paths = site
    html = {t: (paths[0].parent / f"team-{t}.html").read_text() for t in ("Closers", "Gardeners", "Pathfinders")}
    seen = 0
    with open_store(db) as store:
        for team in html:
            a = analyse(store, info["project"], team=team)
            for n in new_hires(a):
                assert n["ramping"] == (not n["measured"] or not n["has_kpis"] or n["graded"] == 0)
                row = re.search(rf'<tr><th scope="row"><a href="[^"]+">{n["name"]}</a></th><td class="num">\d+</td>'
                                r"<td>([a-z]+)</td>", html[team])
                assert row and row.group(1) == ("ramping" if n["ramping"] else "measured"), n["name"]
                seen += n["ramping"]
    assert seen >= 1
    assert all("none yet" not in h and "24.9" not in h for h in html.values())


def test_a_new_hires_ramp_chart_in_the_team_report_counts_months_since_hire(site) -> None:
    """The team report's ramp charts, like the rep report's, label each period with its month since hire."""
    from spm_training.analysis.views import new_hires
    from spm_training.periods import period_bounds

    db, info, paths = site
    charted = 0
    for team in ("Closers", "Gardeners", "Pathfinders"):
        html = (paths[0].parent / f"team-{team}.html").read_text()
        with open_store(db) as store:
            a = analyse(store, info["project"], team=team)
        for n in new_hires(a):
            if not n["ramp"]:
                continue
            hired = date.fromisoformat(n["hire_date"])
            months = [str((period_bounds(p["period"])[1].year - hired.year) * 12
                          + period_bounds(p["period"])[1].month - hired.month + 1) for p in n["ramp"]]
            svg = re.search(rf'<svg[^>]*aria-label="Mean KPI attainment of {n["name"]} since hire".*?</svg>', html, re.S)
            assert svg, n["name"]
            assert ">Period (month since hire)</text>" in svg.group(0)
            assert re.findall(r">month (\d+)</text>", svg.group(0)) == months, n["name"]
            charted += 1
    assert charted >= 1


def test_the_heatmap_is_a_table_with_sticky_names_and_a_greyscale_safe_palette() -> None:
    from spm_training.reports import charts

    html = charts.heatmap(["Ann Lee"], [("Skills (mastery)", ["Discovery"]), ("KPIs (attainment)", ["Win rate"])],
                          [[charts.Cell("48%", "gap", "Ann Lee, Discovery: 48%"), charts.Cell("71%", "gap", "t")]],
                          label="Team A", row_links=["rep-ann.html"])
    assert '<th scope="row" class="hm-rep"><a href="rep-ann.html">Ann Lee</a></th>' in html
    assert '<td class="hm-gap" title="Ann Lee, Discovery: 48%">48%</td><td class="hm-gap hm-start" title="t">71%</td>' \
        in html
    css = (ROOT / "spm_training" / "reports" / "templates" / "report.css").read_text()
    assert re.search(r"table\.heatmap \.hm-rep \{ position: sticky; left: 0;", css)
    size = int(re.search(r"table\.heatmap \{[^}]*font-size: (\d+)px", css).group(1))
    assert size >= 13

    def lightness(colour: str) -> float:      # CIE L* of an sRGB colour
        rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
        return 116 * (y ** (1 / 3) if y > 0.008856 else 7.787 * y + 16 / 116) - 16

    levels = sorted(lightness(fill) for tone, (fill, _) in charts.HEATMAP_TONES.items() if tone != "none")
    assert all(b - a >= 15 for a, b in zip(levels, levels[1:])), levels
    assert lightness(charts.TONES["good"][0]) - lightness(charts.TONES["gap"][0]) < 15   # the old pair looked alike
    legend = charts.heatmap_legend()
    assert [t for t, _, _ in charts.HEATMAP_LEGEND] == ["good", "near", "gap", "none"]
    assert legend.count("hm-swatch") == 4 and "not measured yet" in legend


def test_the_items_chart_says_what_each_colour_means() -> None:
    from spm_training.reports import charts

    items = [{"cell": "c1", "facility": 0.1, "flags": ["too hard"]},
             {"cell": "c2", "facility": 0.6, "flags": ["weak discrimination"]},
             {"cell": "c3", "facility": 0.95, "flags": ["too easy"]},
             {"cell": "c4", "facility": 0.6, "flags": []}]
    svg = charts.facility_chart(items, label="a")
    fills = re.findall(r'<rect x="170" y="\d+" width="[\d.]+" height="16" fill="(#[0-9a-f]{6})"', svg)
    assert fills == [charts.ITEM_TONES[t][0] for t in ("hard", "separate", "easy", "works")]
    assert ">10% · too hard<" in svg and ">60% · doesn&#39;t separate<" in svg and ">95% · too easy<" in svg
    assert ">60%<" in svg
    legend = charts.facility_legend()
    for fill, text in charts.ITEM_TONES.values():
        assert f'style="background:{fill}"></span> {text}</li>'.replace("'", "&#39;") in legend
    assert "doesn&#39;t separate strong from weak reps" in legend and "too hard" in legend


def test_the_index_shows_who_needs_attention_first(site) -> None:
    db, info, paths = site
    index = paths[0].read_text()
    assert index.index('<section id="attention"') < index.index('<section id="team"')
    with open_store(db) as store:
        for team in ("Closers", "Gardeners", "Pathfinders"):
            ctx = team_context(analyse(store, info["project"], team=team), team, LINKS)
            part = index[index.index(f"Team {team}</a>: "):]
            part = part[:part.index("</ol>")] if ctx["coach_first"] else part
            assert part.startswith(f"Team {team}</a>: {ctx['counts']['reps_linked']} of {len(ctx['rows'])} reps")
            shown = re.findall(r'<li data-rep="([^"]+)">', part)
            assert shown == [r["rep_id"] for r in ctx["coach_first"][:3]]
            for r in ctx["coach_first"][:3]:
                assert f'<a href="{r["href"]}">{r["name"]}</a>: {r["focus"][0]["text"]}' in part


def test_rep_context_lists_comments_strengths_and_the_rule_of_pending_grades(site) -> None:
    db, info, _ = site
    rep_id = info["data"].roster[0]["id"]
    with open_store(db) as store:
        a = analyse(store, info["project"], rep=rep_id)
        team = analyse(store, info["project"], team=a.rep(rep_id)["team"])
    with pytest.raises(ValueError, match="scoped to the rep"):
        rep_context(team, rep_id, LINKS)
    ctx = rep_context(a, rep_id, LINKS)
    assert ctx["rep"]["rep_id"] == rep_id
    assert all(s["mastered"] for s in ctx["strengths"])
    assert [s["mastery"] for s in ctx["strengths"]] == sorted((s["mastery"] for s in ctx["strengths"]), reverse=True)
    assert ctx["comments"] and all(isinstance(c["comment"], str) and c["comment"] for c in ctx["comments"])
    assert ctx["pending"] == int(a.scores["pending"].sum())
    assert ctx["readiness"]["index"] == pytest.approx(a.readiness(rep_id).index)


FRAMES = {f.name for f in dataclasses.fields(Analysis) if f.type == "pd.DataFrame"} | {"status"}


class _Watched(Analysis):
    """An analysis that records which of its frames code in reports/ reads."""

    reads: list[str] = []

    def __getattribute__(self, name: str) -> object:
        if name in FRAMES:
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if caller.startswith("spm_training.reports"):
                _Watched.reads.append(f"{caller} reads .{name}")
        return object.__getattribute__(self, name)


def test_reports_format_views_and_never_read_the_analysis_frames(site) -> None:
    """Issue 13: what a report shows is computed in the analysis layer (analysis/views.py); the
    reports only format it, so none of their code reads one of the Analysis's frames."""
    db, info, _ = site
    assert {"reps", "scores", "tags", "current", "mastery", "gaps"} <= FRAMES
    rep_id = info["data"].roster[0]["id"]
    with open_store(db) as store:
        scopes = {"team": analyse(store, info["project"], team="Closers"), "rep": analyse(store, info["project"], rep=rep_id),
                  "items": analyse(store, info["project"])}

    def watched(a: Analysis) -> Analysis:
        return _Watched(**{f.name: getattr(a, f.name) for f in dataclasses.fields(a)})

    _Watched.reads.clear()
    team_context(watched(scopes["team"]), "Closers", LINKS)
    rep_context(watched(scopes["rep"]), rep_id, LINKS)
    items_context(watched(scopes["items"]), "a2", LINKS)
    assert _Watched.reads == []
    # the watch itself sees a read from reports/
    exec(compile("a.scores", "probe", "eval"), {"__name__": "spm_training.reports.probe", "a": watched(scopes["rep"])})
    assert _Watched.reads == ["spm_training.reports.probe reads .scores"]


def test_write_report_knows_its_kinds(site, tmp_path: Path) -> None:
    db, info, _ = site
    assert REPORT_KINDS == ("team", "rep", "items")
    with open_store(db) as store:
        a = analyse(store, info["project"], team="Closers")
    with pytest.raises(ValueError, match="gaps"):
        write_report(a, "gaps", "Closers", tmp_path / "x.html", LINKS)


# --- the item analysis --------------------------------------------------------------------------

def test_item_analysis_by_hand() -> None:
    items = pd.DataFrame([(1, "a", "nb", "hard", "autograded", 2.0), (2, "a", "nb", "easy", "autograded", 1.0),
                          (3, "a", "nb", "none", "autograded", 2.0), (4, "a", "nb", "odd", "manual", 1.0),
                          (5, "b", "nb", "other", "autograded", 1.0)],
                         columns=["id", "assignment", "notebook", "cell", "kind", "max_score"])
    points = {  # rep -> points on items 1..4 (None: awaiting a manual grade)
        "r1": [2, 1, 0, 0], "r2": [2, 1, 0, 0], "r3": [1, 1, 0, 1], "r4": [0, 1, 0, 1], "r5": [0, 1, 0, 1],
        "r6": [1, 1, 0, None]}
    scores = pd.DataFrame([{"rep_id": r, "item_id": i + 1, "assignment": "a", "score": 0.0 if p is None else float(p),
                            "pending": p is None} for r, ps in points.items() for i, p in enumerate(ps)])
    tags = pd.DataFrame([(1, "s1"), (4, "s1"), (4, "s2")], columns=["item_id", "skill_id"])
    out = item_analysis(scores, items, tags, "a")
    rows = {r["cell"]: r for r in out["items"]}
    assert (out["submissions"], out["fully_graded"], out["pending"], out["reps_waiting"]) == (6, 5, 1, 1)
    assert out["few_learners"] and out["max_total"] == 6.0
    hard = rows["hard"]
    assert (hard["attempted"], hard["graded"], hard["pending"]) == (6, 6, 0)
    assert hard["mean"] == pytest.approx(1.0) and hard["facility"] == pytest.approx(0.5)
    full = np.array([points[r] for r in ("r1", "r2", "r3", "r4", "r5")], dtype=float)   # r6 is left out
    rest = full.sum(axis=1) - full[:, 0]
    assert hard["discrimination"] == pytest.approx(np.corrcoef(full[:, 0], rest)[0, 1])
    assert rows["easy"]["flags"] == ["everyone passes"] and rows["easy"]["discrimination"] is None
    assert rows["none"]["flags"] == ["everyone fails"] and rows["none"]["facility"] == 0
    odd = rows["odd"]
    assert (odd["graded"], odd["pending"], odd["mean"]) == (5, 1, pytest.approx(0.6))
    assert odd["discrimination"] == pytest.approx(np.corrcoef(full[:, 3], full.sum(axis=1) - full[:, 3])[0, 1])
    assert odd["discrimination"] < 0 and odd["flags"] == ["goes against the rest"]
    assert odd["skills"] == ["s1", "s2"]
    # the two reps who got everything on "hard" missed "odd", which the rest of the class got
    assert hard["discrimination"] < 0 and hard["flags"] == ["goes against the rest"]
    with pytest.raises(Exception, match="no assignment 'zz' in the store; assignments: a, b"):
        item_analysis(scores, items, tags, "zz")


# --- filters --------------------------------------------------------------------------------------

def test_filters_format_every_figure_the_same_way() -> None:
    """The templates' filters are spm_training.formatting's functions (tests/test_formatting.py)."""
    from spm_training import formatting

    assert filters.FILTERS["percent"] is formatting.percent and filters.FILTERS["points"] is formatting.points
    assert filters.fmt_percent(0.724) == "72%" and filters.fmt_percent(None) == "—"
    assert filters.fmt_share(0.825) == "83%" and filters.fmt_share(float("nan")) == "—"
    assert filters.fmt_signed(0.05) == "+0.05" and filters.fmt_signed(-0.1) == "−0.10"
    assert filters.fmt_signed(0.0001) == "0.00"
    assert filters.fmt_percent(0.0125, 1) == "1.3%"
    assert filters.fmt_mastery(0.695, 0.7) == "69.5%" and filters.fmt_mastery(0.684, 0.7) == "68%"
    assert filters.fmt_mastery(0.7, 0.7) == "70%" and filters.fmt_mastery(None, 0.7) == "—"
    assert filters.fmt_value(26400, "EUR") == "EUR 26,400" and filters.fmt_value(41, "days") == "41 days"
    assert filters.fmt_value(0.18, "ratio") == "18%" and filters.fmt_value(948, "count") == "948"
    assert filters.fmt_score(3.5, 4) == "3.5 / 4" and filters.fmt_score(1.0333, 2) == "1.03 / 2"
    assert filters.fmt_date("2026-03-01 09:00:00.000000") == "2026-03-01"
    assert filters.plural(1, "item") == "1 item" and filters.plural(3, "answer") == "3 answers"
    assert filters.FILTERS["points"](-0.18) == "−18 pp" and filters.FILTERS["whole"](56.8) == "57"


# --- the commands ---------------------------------------------------------------------------------

def test_spm_report_commands_write_their_files(site, tmp_path: Path) -> None:
    db, info, _ = site
    rep = info["data"].roster[0]
    base = ["--db", str(db), "--course", str(ROOT / "assessments"), "report"]
    for args, name in ((["team", "Closers"], "team.html"), (["rep", rep["id"]], "rep.html"),
                       (["items", "a2"], "items.html")):
        out = tmp_path / name
        result = CliRunner().invoke(cli, base + args + ["-o", str(out), "--book-url", "https://handbook.example/"])
        assert result.exit_code == 0, result.output
        assert result.output == f"wrote {out}\n"
        assert out.read_text().startswith("<!doctype html>")
    rep_html = (tmp_path / "rep.html").read_text()
    assert 'href="https://handbook.example/book/' in rep_html
    missing = CliRunner().invoke(cli, base + ["rep", "nobody", "-o", str(tmp_path / "x.html")])
    assert (missing.exit_code, missing.output) == (1, "Error: no rep 'nobody' in the store; spm export reps lists "
                                                      "them\n")
    no_assignment = CliRunner().invoke(cli, base + ["items", "zz", "-o", str(tmp_path / "x.html")])
    assert no_assignment.output == "Error: no assignment 'zz' in the store; assignments: a1, a2, a3, a4\n"


def test_the_default_book_url_is_relative_to_the_report(tmp_path: Path) -> None:
    assert default_book_url(None, tmp_path / "x.html") == "../book/html/"
    project = Project.at(tmp_path)
    assert default_book_url(project, tmp_path / "reports" / "team-a.html") == "../_build/html/"
    assert default_book_url(project, tmp_path / "deep" / "er" / "r.html") == "../../_build/html/"


def test_team_context_gaps_carry_names_for_other_views(site) -> None:
    """The manager dashboard notebook lays out team_context's gaps itself: each carries the rep's,
    the skill's and the KPI's names."""
    db, info, _ = site
    with open_store(db) as store:
        ctx = team_context(analyse(store, info["project"], team="Gardeners"), "Gardeners", LINKS)
    kinds = {g["kind"] for g in ctx["gaps"]}
    assert kinds <= {"linked", "skill", "kpi"} and ctx["gaps"]
    for g in ctx["gaps"]:
        assert g["name"] and (g["skill_name"] if g["skill"] else g["skill_name"] is None)
        assert (g["kpi_name"] if g["kpi"] else g["kpi_name"] is None)


def test_the_items_report_shows_what_spm_grade_found_tampered(tmp_path: Path) -> None:
    """Issue 6: the tampering report is stored so that `spm report items` shows it to the trainer."""
    db, info = populated(tmp_path)
    with open_store(db) as store:
        rep_id = store.query("SELECT id FROM reps ORDER BY id LIMIT 1")[0]["id"]
        assignment = store.query("SELECT assignment FROM items ORDER BY id LIMIT 1")[0]["assignment"]
        with store.transaction() as conn:
            conn.execute("INSERT INTO tampering (rep_id, assignment, notebook, cell, kind, detail, detected_at) "
                         "VALUES (?, ?, 'nb', 'test-a', 'edited', 'the test cell differs from the source', "
                         "'2026-11-28T12:00:00')", (rep_id, assignment))
        paths = write_reports(store, tmp_path / "out", info["project"])
    items = next(p for p in paths if p.name.startswith("items-") and assignment in p.name).read_text()
    assert f'data-tampering="{rep_id}"' in items
    assert "the test cell differs from the source" in items
    other = [p for p in paths if p.name.startswith("items-") and assignment not in p.name]
    for path in other:
        assert "No submission changed a locked or test cell." in path.read_text()
    rep_page = next(p for p in paths if p.name == f"rep-{rep_id}.html").read_text()
    assert "data-tampering" not in rep_page
