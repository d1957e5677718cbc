"""``spm gaps`` and ``spm skills list`` as a person reads them (issue 15): 80 columns, names and
percentages, a summary line, a rep found by name and a team in any case; and ``spm report`` finding
its team or rep the same way. The store is tests/analysis/test_gaps.py's, whose figures are worked out
by hand there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from spm_training.cli.main import cli
from tests.analysis.test_gaps import build

WHOLE = """\
4 reps: 3 linked gaps over 2 skills, 4 other skill gaps, 1 KPI gap (KPIs for
2026-Q3).
Most urgent: Cy Oh, Discovery questioning at 40% (needs 70%) with Win rate at
80% of target.

Skill                         Mastery  KPI below target              Attained
-------------------------  ----------  ----------------------------  --------
Cy Oh (East): 2 linked gaps
Discovery questioning      40%* < 70%  Win rate                           80%
Qualification              50%* < 70%  Win rate                           80%

Ann Lee (East): 1 linked gap, 1 skill gap, 1 KPI gap
Discovery questioning       58% < 70%  Win rate                           80%
CRM hygiene                 67% < 70%  (no linked KPI below target)
(no weak skill behind it)              Sales cycle length                 90%

Dee Fox (West): 3 skill gaps
CRM hygiene                 30% < 70%  (no linked KPI below target)
Discovery questioning       30% < 70%  (no linked KPI below target)
Qualification               30% < 70%  (no linked KPI below target)

* Some of the rep's answers on this skill still await a manual grade; mastery
leaves them out until a trainer grades them.
"""

ANN = """\
1 rep: 1 linked gap over 1 skill, 1 other skill gap, 1 KPI gap (KPIs for
2026-Q3).
Most urgent: Ann Lee, Discovery questioning at 58% (needs 70%) with Win rate at
80% of target.

Skill                        Mastery  KPI below target              Attained
-------------------------  ---------  ----------------------------  --------
Ann Lee: 1 linked gap, 1 skill gap, 1 KPI gap
Discovery questioning      58% < 70%  Win rate                           80%
CRM hygiene                67% < 70%  (no linked KPI below target)
(no weak skill behind it)             Sales cycle length                 90%
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, _, _ = build(tmp_path_factory.mktemp("gaps-cli"))
    return db


def spm(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), "--course", str(db.parent / "course"), *args])


def test_gaps_table_for_people_line_by_line(world: Path) -> None:
    result = spm(world, "gaps")
    assert result.exit_code == 0, result.output
    assert result.output == WHOLE
    assert max(len(line) for line in result.output.splitlines()) <= 80
    # names and percentages, never an id or a raw fraction
    assert "ann" not in result.output.replace("Ann", "") and "0.58" not in result.output


def test_gaps_rep_by_id_by_name_in_any_case_and_by_a_unique_part_of_the_name(world: Path) -> None:
    for rep in ("ann", "Ann Lee", "ANN   lee", "lee", "An"):
        result = spm(world, "gaps", "--rep", rep)
        assert (result.exit_code, result.output) == (0, ANN), rep


def test_gaps_team_in_any_case(world: Path) -> None:
    for team in ("East", "east", "EAST"):
        result = spm(world, "gaps", "--team", team)
        assert result.exit_code == 0
        assert result.output.splitlines()[0] == ("3 reps: 3 linked gaps over 2 skills, 1 other skill gap, 1 KPI gap "
                                                 "(KPIs for")
        assert "Cy Oh: 2 linked gaps" in result.output and "Dee Fox" not in result.output
    rows = json.loads(spm(world, "gaps", "--team", "east", "--format", "json").output)
    assert {r["team"] for r in rows} == {"East"}


def test_an_ambiguous_or_unknown_rep_is_one_error_line(world: Path, tmp_path: Path) -> None:
    from spm_training.demo.store import build_demo_store

    demo = build_demo_store(tmp_path / "demo.db", seed=7, n_reps=30).path
    # five reps are called Jade: refused, with every id that fits; the full name picks one
    result = CliRunner().invoke(cli, ["--db", str(demo), "gaps", "--rep", "jade"])
    assert (result.exit_code, result.output) == (
        1, "Error: 'jade' matches 5 reps: jade.abbott (Jade Abbott), jade.berg (Jade Berg), jade.kowalski "
           "(Jade Kowalski), jade.larsen (Jade Larsen), jade.okafor (Jade Okafor); give one of the ids\n")
    one = CliRunner().invoke(cli, ["--db", str(demo), "gaps", "--rep", "JADE ABBOTT"])
    assert one.exit_code == 0 and "\nJade Abbott: " in one.output
    report = CliRunner().invoke(cli, ["--db", str(demo), "report", "rep", "Jade", "-o", str(tmp_path / "r.html")])
    assert report.exit_code == 1
    assert report.output.startswith("Error: 'Jade' matches 5 reps: jade.abbott (Jade Abbott), ")
    unknown = spm(world, "gaps", "--rep", "Zed")
    assert (unknown.exit_code, unknown.output) == (1, "Error: no rep 'Zed' in the store; spm export reps lists them\n")


def test_a_rep_without_gaps_says_so_by_name(world: Path) -> None:
    result = spm(world, "gaps", "--rep", "bob ray")
    assert (result.exit_code, result.output) == (0, "no gaps for Bob Ray: every measured skill is at its threshold "
                                                    "and every KPI on\ntarget\n")


def test_csv_keeps_its_exact_machine_columns_and_values(world: Path) -> None:
    lines = spm(world, "gaps", "--rep", "Ann Lee", "--format", "csv").output.splitlines()
    assert lines[0] == "rep_id,name,team,kind,skill,mastery,threshold,method,graded,pending,kpi,period,attainment,pages"
    assert lines[1].startswith("ann,Ann Lee,East,linked,discovery_questioning,0.5843,0.7,")


def test_report_team_and_rep_find_their_key_the_same_way(world: Path, tmp_path: Path) -> None:
    team = spm(world, "report", "team", "east", "-o", str(tmp_path / "t.html"))
    assert (team.exit_code, team.output) == (0, f"wrote {tmp_path / 't.html'}\n")
    assert "Ann Lee" in (tmp_path / "t.html").read_text() and "Dee Fox" not in (tmp_path / "t.html").read_text()
    rep = spm(world, "report", "rep", "ann lee", "-o", str(tmp_path / "r.html"))
    assert (rep.exit_code, rep.output) == (0, f"wrote {tmp_path / 'r.html'}\n")
    assert "Ann Lee" in (tmp_path / "r.html").read_text()


def test_skills_list_shows_every_kpi_whole_in_80_columns(world: Path) -> None:
    result = CliRunner().invoke(cli, ["skills", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[:5] == [
        "Skill                      Threshold  Mastery method    KPIs",
        "-------------------------  ---------  ----------------  ----------------------",
        "prospecting_research             70%  decaying_average  meetings_booked",
        "  Prospecting research                                  pipeline_generated",
        "icp_targeting                    70%  decaying_average  lead_to_opp_conversion"]
    assert "…" not in result.output
    # every KPI of every skill, whole
    listed = json.loads(CliRunner().invoke(cli, ["skills", "list", "--format", "json"]).output)
    for skill in listed:
        for kpi in skill["kpis"].split():
            assert any(line.rstrip().endswith(" " + kpi) for line in lines), kpi


def test_summary_counts_have_thousands_separators() -> None:
    from spm_training.cli.gap_table import summary

    counts = {"r1": {"linked": 2758, "skill_only": 1, "kpi": 1000, "pairs": 4100, "skills": 2759}}
    assert summary(counts, {}, {}, ["2026-Q3"]) == [
        "1 rep: 2,758 linked gaps over 0 skills, 1 other skill gap, 1,000 KPI gaps (KPIs",
        "for 2026-Q3)."]


def test_a_skill_not_credited_yet_reads_so() -> None:
    """An n_times skill not yet reached often enough has a gap but no mastery figure."""
    from spm_training.cli.gap_table import table

    rows = [{"rep_id": "a", "name": "Ann Lee", "kind": "linked", "skill": "s", "skill_name": "Cold calling",
             "mastery": None, "threshold": 0.7, "pending": 0, "kpi": "k", "kpi_name": "Win rate", "period": "2026-Q3",
             "attainment": 0.8}]
    out = table(rows, {"a": {"linked": 1, "skill_only": 0, "kpi": 0, "pairs": 1, "skills": 1}}, {"a": "East"}, False)
    assert out.splitlines()[2:] == [
        "Most urgent: Ann Lee, Cold calling not yet credited (needs 70%) with Win rate at",
        "80% of target.",
        "",
        "Skill               Mastery  KPI below target  Attained",
        "------------  -------------  ----------------  --------",
        "Ann Lee: 1 linked gap",
        "Cold calling  not yet < 70%  Win rate               80%"]


def test_a_name_many_reps_share_lists_the_first_eight_ids() -> None:
    from spm_training.cli.common import _resolve_rep
    from spm_training.errors import NotFoundError

    reps = [{"rep_id": f"sam.{n:02d}", "name": f"Sam Lee{n:02d}"} for n in range(11)]
    with pytest.raises(NotFoundError) as found:
        _resolve_rep(reps, "SAM")
    assert str(found.value) == ("'SAM' matches 11 reps: " + ", ".join(f"sam.{n:02d} (Sam Lee{n:02d})" for n in range(8))
                                + " and 3 more; give one of the ids")
    assert _resolve_rep(reps, "sam lee07") == "sam.07" and _resolve_rep(reps, "  ") == "  "


def test_a_first_or_last_name_matches_the_start_of_either(tmp_path: Path) -> None:
    from spm_training.demo.store import build_demo_store

    demo = build_demo_store(tmp_path / "demo.db", seed=7, n_reps=30).path
    result = CliRunner().invoke(cli, ["--db", str(demo), "gaps", "--rep", "a"])
    assert (result.exit_code, result.output) == (1, "Error: 'a' matches 3 reps: amir.ivanova (Amir Ivanova), "
                                                    "amir.tanaka (Amir Tanaka), jade.abbott (Jade Abbott); give one "
                                                    "of the ids\n")
