"""``spm demo`` end to end on a small roster: every artefact exists and agrees with the gradebook."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

N_REPS = 6
TEAMS = ("Closers", "Gardeners", "Pathfinders")


def run_demo(directory: Path) -> subprocess.CompletedProcess:
    env_bin = str(Path(sys.executable).parent)
    return subprocess.run([sys.executable, "-m", "spm_training.cli.main", "demo", "--dir", str(directory), "--reps",
                           str(N_REPS), "--seed", "5", "--no-book"], capture_output=True, text=True, timeout=1200,
                          env={"PATH": f"{env_bin}:/usr/bin:/bin", "HOME": str(directory.parent)})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    directory = tmp_path_factory.mktemp("demo") / "ws"
    proc = run_demo(directory)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return directory, proc


def gradebook_totals(directory: Path) -> dict[tuple[str, str], float]:
    """Per rep and assignment, nbgrader's score (``Grade.score``): manual else auto, plus extra credit; 0
    when neither is set. Written out here rather than taken from the package (spm_training.store's
    CELL_SCORE_SQL), so that the package's definition is checked against nbgrader's."""
    db = sqlite3.connect(directory / "course" / "gradebook.db")
    rows = db.execute(
        "SELECT sa.student_id, a.name, SUM(CASE WHEN COALESCE(g.manual_score, g.auto_score) IS NULL THEN 0 "
        "ELSE COALESCE(g.manual_score, g.auto_score) + COALESCE(g.extra_credit, 0) END) "
        "FROM grade g JOIN submitted_notebook sn ON sn.id = g.notebook_id "
        "JOIN submitted_assignment sa ON sa.id = sn.assignment_id JOIN assignment a ON a.id = sa.assignment_id "
        "GROUP BY sa.student_id, a.name").fetchall()
    return {(rep, assignment): total for rep, assignment, total in rows}


def test_every_artefact_is_written(demo) -> None:
    directory, proc = demo
    assert (directory / "spm.db").is_file()
    assert (directory / "reports" / "index.html").is_file()
    for team in TEAMS:
        assert (directory / "reports" / f"team-{team}.html").is_file()
    roster = list(csv.DictReader((directory / "roster.csv").open()))
    assert len(roster) == N_REPS
    for rep in roster:
        assert (directory / "reports" / f"rep-{rep['id']}.html").is_file()
    assignments = sorted(p.name for p in (directory / "course" / "source").iterdir() if p.is_dir())
    for assignment in assignments:
        assert (directory / "reports" / f"items-{assignment}.html").is_file()
    for what in ("reps", "kpis", "scores", "mastery", "gaps"):
        rows = json.loads((directory / "exports" / f"{what}.json").read_text())
        with (directory / "exports" / f"{what}.csv").open() as handle:
            assert len(list(csv.DictReader(handle))) == len(rows)
    assert not (directory / "book").exists()
    assert "largest linked gaps" in proc.stdout
    assert re.search(r"Spearman rho (0\.\d\d) over \d+ pairs", proc.stdout)


def test_scores_are_earned_and_the_analysis_recovers_the_latent_skills(demo) -> None:
    directory, proc = demo
    totals = gradebook_totals(directory)
    assert len(set(totals.values())) > 5, "every submission got the same score: scores are not earned"
    rho = float(re.search(r"Spearman rho (-?\d\.\d\d)", proc.stdout).group(1))
    assert rho > 0.3


def test_each_reps_report_total_equals_the_gradebook(demo) -> None:
    directory, _ = demo
    totals = gradebook_totals(directory)
    shown: dict[tuple[str, str], float] = {}
    for report in (directory / "reports").glob("rep-*.html"):
        rep = report.stem.removeprefix("rep-")
        for assignment, score in re.findall(r'data-assignment="([^"]+)" data-score="([^"]+)"', report.read_text()):
            shown[(rep, assignment)] = float(score)
    assert shown.keys() == totals.keys()
    for key, total in totals.items():
        assert shown[key] == pytest.approx(total), key


def test_the_scores_export_equals_the_gradebook(demo) -> None:
    directory, _ = demo
    summed: dict[tuple[str, str], float] = defaultdict(float)
    for row in csv.DictReader((directory / "exports" / "scores.csv").open()):
        summed[(row["rep_id"], row["assignment"])] += float(row["score"] or 0)
    totals = gradebook_totals(directory)
    assert summed.keys() == totals.keys()
    for key, total in totals.items():
        assert summed[key] == pytest.approx(total), key


def test_a_rep_report_holds_only_that_rep(demo) -> None:
    directory, _ = demo
    roster = list(csv.DictReader((directory / "roster.csv").open()))
    first, others = roster[0], roster[1:]
    text = (directory / "reports" / f"rep-{first['id']}.html").read_text()
    assert first["name"] in text
    for other in others:
        assert other["id"] not in text and other["name"] not in text


def test_a_second_run_reuses_what_is_up_to_date(demo, tmp_path: Path) -> None:
    directory, _ = demo
    copy = tmp_path / "ws"
    shutil.copytree(directory, copy)
    proc = run_demo(copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"({0} new)" in proc.stdout.split("\n", 2)[1]
    assert "  generated " not in proc.stdout
    assert "spm grade: 0 submissions autograded" in proc.stdout
    assert "scores 0 new, 0 updated" in proc.stdout


def test_the_team_report_opens_offline_in_chromium(demo) -> None:
    directory, _ = demo
    browser_check = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    bad: list[str] = []
    with browser_check.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = browser.new_page()
        page.on("request", lambda r: bad.append(f"outside: {r.url}") if not r.url.startswith(("file:", "data:"))
                else None)
        page.on("requestfailed", lambda r: bad.append(f"failed: {r.url}"))
        page.on("console", lambda m: bad.append(f"console: {m.text}") if m.type == "error" else None)
        page.goto((directory / "reports" / "team-Closers.html").as_uri())
        page.wait_for_load_state("load")
        assert page.locator("h1").first.inner_text().strip()
        # the heatmap is an HTML table (rep names stay in place when it scrolls sideways), one row per rep
        assert page.locator("table.heatmap tbody tr").count() == len(
            [r for r in csv.DictReader((directory / "roster.csv").open()) if r["team"] == "Closers"])
        assert page.locator("section").first.get_attribute("id") == "coach-first"
        browser.close()
    assert bad == []


def test_the_dashboard_renders_in_the_built_book(built_html: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    page_path = built_html / "notebooks" / "manager_dashboard.html"
    assert page_path.is_file()
    bad: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic", "--allow-file-access-from-files"])
        page = browser.new_page()
        page.on("request", lambda r: bad.append(f"outside: {r.url}") if not r.url.startswith(("file:", "data:"))
                else None)
        page.on("requestfailed", lambda r: bad.append(f"failed: {r.url}"))
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_selector(".widget-dropdown", timeout=20_000)
        assert page.locator(".widget-dropdown").count() >= 2
        assert page.get_by_text("Correlation, not causation").count() >= 1
        browser.close()
    assert bad == []
