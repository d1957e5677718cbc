"""``spm impact`` (issue 18) on a store with a planted effect: the workshop lifts win rate by 8 points
and does nothing to revenue. JSON, CSV and the table, the team scope, errors as one line, and the
training-impact section of the team report and the organisation page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from spm_training import Project, open_store, write_reports
from tests.ingest.test_trainings import EFFECT, PROGRAM, build, spm, trainings_csv

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("impact")
    db = build(folder / "org")
    assert spm(db, "trainings", "import", str(trainings_csv(folder / "trainings.csv"))).exit_code == 0
    return db


def test_json_carries_the_estimate_the_counts_and_the_verdict(db: Path) -> None:
    result = spm(db, "impact", "--program", PROGRAM, "--kpi", "win_rate", "--format", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert list(row)[:8] == ["program", "kpi", "effect", "ci_low", "ci_high", "n_treated", "n_control", "verdict"]
    assert (row["program"], row["kpi"], row["verdict"]) == (PROGRAM, "win_rate", "helped")
    assert (row["n_treated"], row["n_control"], row["n_never_trained"]) == (24, 24, 6)
    assert row["ci_low"] < EFFECT < row["ci_high"] and row["ci_low"] > 0
    assert abs(row["effect"] - EFFECT) < 0.02
    assert [c["period"] for c in row["cohorts"]] == ["2025-10", "2025-12", "2026-02", "2026-04"]
    assert [e["event"] for e in row["events"]][:2] == [-6, -5] and row["placebo"]["holds"] is True
    assert len(row["caveats"]) == 3


def test_a_kpi_the_programme_does_not_move_is_inconclusive(db: Path) -> None:
    [row] = json.loads(spm(db, "impact", "--program", PROGRAM, "--kpi", "revenue", "--format", "json").output)
    assert row["verdict"] == "inconclusive" and row["ci_low"] < 0 < row["ci_high"]


def test_csv_has_the_flat_columns(db: Path) -> None:
    lines = spm(db, "impact", "--program", PROGRAM, "--kpi", "win_rate", "--format", "csv").output.splitlines()
    assert lines[0] == ("program,kpi,effect,ci_low,ci_high,n_treated,n_control,n_never_trained,verdict,direction,"
                        "method,reason")
    assert lines[1].startswith(f"{PROGRAM},win_rate,0.0") and ",24,24,6,helped,higher," in lines[1]


def test_the_table_reads_for_people(db: Path) -> None:
    out = spm(db, "impact", "--program", PROGRAM, "--kpi", "win_rate").output
    lines = out.splitlines()
    assert lines[0] == f"Effect of {PROGRAM} on Win rate (win_rate, higher is better), the organisation:"
    assert re.fullmatch(r"  effect \+\d\.\d pp per trained rep and period, 95% interval \+\d\.\d pp to \+\d+\.\d pp",
                        lines[1]), lines[1]
    assert lines[2] == "  24 trained reps, 24 reps to compare with (6 never trained)"
    assert lines[3] == "  verdict: helped: the 95% interval lies wholly on the better side of zero"
    assert "By cohort (the period of completion):" in lines and "Caveats:" in lines
    assert "0.0" not in lines[1]        # points, never a bare share


def test_the_team_scope_compares_the_teams_reps_only(db: Path) -> None:
    [row] = json.loads(spm(db, "impact", "--program", PROGRAM, "--kpi", "win_rate", "--team", "north",
                           "--format", "json").output)
    assert (row["n_treated"], row["n_control"], row["n_never_trained"]) == (8, 8, 2)


def test_too_few_trained_reps_is_not_enough_data(db: Path) -> None:
    # the course assignment a1, graded for reps 0-5: two of them (rep00, rep03) are in team North
    [row] = json.loads(spm(db, "impact", "--program", "a1", "--kpi", "win_rate", "--team", "North",
                           "--format", "json").output)
    assert row["verdict"] == "not enough data" and row["effect"] is None and row["ci_low"] is None
    assert row["reason"] == ("2 trained reps with KPI values before and after (at least 5 needed) and 8 reps to "
                             "compare with (at least 5 needed)")
    out = spm(db, "impact", "--program", "a1", "--kpi", "win_rate", "--team", "North").output
    assert out.splitlines()[1] == f"  not enough data: {row['reason']}"


@pytest.mark.parametrize(("args", "message"), [
    (["--program", "Sandler", "--kpi", "win_rate"],
     f"Error: no completions of programme 'Sandler' in the store; programmes: {PROGRAM}, a1\n"),
    (["--program", PROGRAM, "--kpi", "happiness"], "Error: no KPI 'happiness' in the catalog; spm kpis list shows them\n"),
    (["--program", PROGRAM, "--kpi", "win_rate", "--team", "Mars"],
     "Error: no team 'Mars' in the store; teams: North, South, West\n"),
])
def test_errors_are_one_line(db: Path, args: list[str], message: str) -> None:
    result = spm(db, "impact", *args)
    assert result.exit_code == 1 and result.output == message


def test_the_team_report_and_the_organisation_page_show_the_estimates(db: Path, tmp_path: Path) -> None:
    team = tmp_path / "north.html"
    assert spm(db, "report", "team", "North", "-o", str(team)).exit_code == 0
    html = team.read_text()
    section = html[html.index('<section id="impact"'):]
    section = section[:section.index("</section>")]
    row = re.search(rf'<tr data-program="{PROGRAM}" data-kpi="win_rate">(.*?)</tr>', section).group(1)
    assert "<td>Win rate" in row and "helped" in row and re.search(r'<td class="num">\+\d+\.\d pp</td>', row)
    assert '<td class="num">8</td><td class="num">8</td>' in row
    assert '<svg class="event-study"' in section and "Placebo check" in section
    with open_store(db) as store:
        paths = write_reports(store, tmp_path / "site", Project.at(ROOT, db_path=db))
    page = tmp_path / "site" / "impact.html"
    assert page in paths and 'href="impact.html"' in (tmp_path / "site" / "index.html").read_text()
    org = page.read_text()
    assert re.search(rf'<tr data-program="{PROGRAM}" data-kpi="win_rate">.*?<td class="num">24</td>'
                     r'<td class="num">24</td><td class="verdict-good">helped</td></tr>', org)
    assert "http://" not in org.replace("http://www.w3.org/2000/svg", "") and "<script" not in org
