"""Reports: scoping (a report holds only its team's or rep's data), self-containment, the item
analysis figures, the formatting filters and the `spm report` commands."""

from __future__ import annotations

import dataclasses
import re
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
    assert len(paths) == 1 + len({r["team"] for r in roster}) + len(roster) + 4
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
    assert ctx["counts"] == {k: kinds.count(k) for k in ("linked", "skill", "kpi")}
    assert {r["rep_id"] for r in ctx["rows"]} == {r["id"] for r in info["data"].roster if r["team"] == "Closers"}
    assert {e["status"] for e in ctx["evidence"]} <= {"ok", "not enough data", "no variation"}
    assert all(e["n"] == 10 for e in ctx["evidence"] if e["status"] == "ok")
    assert ctx["caveat"].startswith("Correlation, not causation")
    assert [g["kind"] for g in ctx["linked"]] == ["linked"] * min(100, ctx["counts"]["linked"])
    sizes = [(g["threshold"] - g["mastery"]) / g["threshold"] + 1 - g["attainment"] for g in ctx["linked"]]
    assert sizes == sorted(sizes, reverse=True)
    assert [severity(g) for g in ctx["linked"]] == pytest.approx(sizes)
    for row in ctx["rows"]:
        plan_kinds = [e["kind"] for e in row["plan"]]
        assert plan_kinds == sorted(plan_kinds, key=("linked", "skill", "kpi").index)


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
