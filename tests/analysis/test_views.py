"""The views the reports format (analysis/views.py): what each returns, checked against the
analysis's frames, and the severity of a linked gap as published."""

from __future__ import annotations

import pytest
from analysis_data import populated

from spm_training.analysis import views
from spm_training.analysis.facade import Analysis, analyse
from spm_training.analysis.gaps import GAP_KINDS, severity
from spm_training.store import open_store


def test_severity_is_the_skills_shortfall_as_a_share_of_its_threshold_plus_the_kpis_shortfall() -> None:
    assert severity({"mastery": 0.35, "threshold": 0.7, "attainment": 0.8}) == pytest.approx(0.5 + 0.2)
    assert severity({"mastery": 0.7, "threshold": 0.7, "attainment": 0.9}) == pytest.approx(0.1)
    # an n_times skill not yet reached n times has no mastery: its whole threshold is short
    assert severity({"mastery": None, "threshold": 0.8, "attainment": 0.5}) == pytest.approx(1.5)


def test_by_severity_keeps_linked_gaps_largest_first_and_by_name_among_equals() -> None:
    gaps = [{"kind": "linked", "name": "Cy", "mastery": 0.5, "threshold": 0.7, "attainment": 0.9},
            {"kind": "skill", "name": "Ann", "mastery": 0.1, "threshold": 0.7, "attainment": None},
            {"kind": "linked", "name": "Bob", "mastery": 0.5, "threshold": 0.7, "attainment": 0.9},
            {"kind": "linked", "name": "Dee", "mastery": 0.1, "threshold": 0.7, "attainment": 0.9}]
    assert [g["name"] for g in views.by_severity(gaps)] == ["Dee", "Bob", "Cy"]
    assert views.gap_counts(gaps) == {"linked": 3, "skill": 1, "kpi": 0}
    assert list(views.gap_counts([])) == list(GAP_KINDS)


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    db, info = populated(tmp_path_factory.mktemp("views"))
    with open_store(db) as store:
        return analyse(store, info["project"])


def test_the_largest_linked_gaps_are_those_of_the_gap_frame_by_severity(whole: Analysis) -> None:
    linked = whole.gaps[whole.gaps["kind"] == "linked"]
    size = (linked["threshold"] - linked["mastery"]) / linked["threshold"] + (1 - linked["attainment"])
    expected = linked.assign(size=size).sort_values("size", ascending=False, kind="stable")
    top = views.largest_linked_gaps(whole, 5)
    assert [(g["rep_id"], g["skill"], g["kpi"]) for g in top] == list(
        expected[["rep_id", "skill", "kpi"]].head(5).itertuples(index=False, name=None))
    assert [g["severity"] for g in top] == pytest.approx(expected["size"].head(5).tolist())
    assert len(views.largest_linked_gaps(whole)) == len(linked)
    assert all(g["name"] == whole.rep(g["rep_id"])["name"] for g in top)


def test_team_views_read_the_teams_frames(whole: Analysis) -> None:
    team = sorted(whole.team_ids())[0]
    members = views.team_members(whole, team)
    a = whole.scoped(members)
    assert members == list(whole.reps.loc[whole.reps["team"] == team, "rep_id"]) and members
    reps = views.reps_in_order(a)
    assert [r["name"] for r in reps] == sorted(r["name"] for r in reps) and {r["rep_id"] for r in reps} == set(members)
    assert {s.id for s in views.skill_columns(a)} >= set(a.mastery["skill_id"])
    assert [k.id for k in views.kpi_columns(a)] == [k for k in a.kpis if k in set(a.current["kpi"])]
    assert views.pending_answers(a) == (int(a.scores["pending"].sum()),
                                        a.scores.loc[a.scores["pending"], "rep_id"].nunique())
    gaps = views.team_gaps(a)
    assert [g["kind"] for g in gaps] == sorted((g["kind"] for g in gaps), key=GAP_KINDS.index)
    assert len(gaps) == len(a.gaps) and {g["rep_id"] for g in gaps} <= set(members)
    by_skill = {row["skill"]: row for row in views.gaps_by_skill(a, gaps, views.skill_columns(a))}
    for skill in views.skill_columns(a):
        measured = a.mastery[(a.mastery["skill_id"] == skill.id) & (a.mastery["graded"] > 0)]
        assert by_skill[skill.name]["measured"] == len(measured)
        assert by_skill[skill.name]["below"] == int((~measured["mastered"].astype(bool)).sum())
    attained = views.attainment_lookup(a)
    assert len(attained) == len(a.current) and views.periods(a) == sorted({r["period"] for r in attained.values()})


def test_rep_views_read_the_reps_frames(whole: Analysis) -> None:
    rep_id = whole.rep_ids[0]
    a = whole.scoped([rep_id])
    scores = views.rep_scores(a)
    assert [(s["submitted_at"], s["item_id"]) for s in scores] == sorted((s["submitted_at"], s["item_id"])
                                                                         for s in scores)
    tags = a.tags.groupby("item_id")["skill_id"].apply(set).to_dict()
    item_of = {(s["assignment"], s["cell"]): s["item_id"] for s in scores}
    skills = views.rep_skills(a, rep_id, scores)
    for row in skills:       # every score behind a skill's figure is on an item that measures it
        assert all(row["id"] in tags[item_of[(i["assignment"], i["cell"])]] for i in row["scored"])
    assert sum(len(row["scored"]) for row in skills) == sum(len(tags.get(s["item_id"], ())) for s in scores)
    strengths = views.strengths(skills)
    assert all(s["mastered"] for s in strengths)
    assert [s["mastery"] for s in strengths] == sorted((s["mastery"] for s in strengths), reverse=True)
    points = a.scores.groupby("assignment")["score"].sum()
    for row in views.assignment_rows(a, rep_id):
        assert row["score"] == (points[row["assignment"]] if row["assignment"] in points.index else None)
    assert {k["id"] for k in views.rep_kpis(a, rep_id)} == set(a.current.loc[a.current["rep_id"] == rep_id, "kpi"])
    assert [c["comment"] for c in views.comments(scores)] == [s["comment"] for s in scores if s["comment"]]
    r = a.readiness(rep_id)
    assert sum(r.points.values()) == pytest.approx(r.index)


def test_the_item_table_names_each_items_skills(whole: Analysis) -> None:
    table = views.item_table(whole, whole.assignments[0])
    for row in table["items"]:
        assert row["skill_names"] == [whole.skills[s].name for s in row["skills"]]
    assert views.tampering(whole, whole.assignments[0]) == []
