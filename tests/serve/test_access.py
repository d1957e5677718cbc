"""Who sees what: the role rules of spm_training.serve.access, without a server."""

from __future__ import annotations

from datetime import date

from spm_training.serve.access import COURSE_SCOPE, ORGANISATION_SCOPE, Access, everything, resolve

ROSTER = [
    {"rep_id": "ann", "login": "ann", "name": "Ann Lee", "team": "East", "manager_login": "mia", "left_on": None},
    {"rep_id": "bob", "login": "bob.hub", "name": "Bob Ray", "team": "East", "manager_login": "mia", "left_on": None},
    {"rep_id": "cy", "login": "cy", "name": "Cy Oh", "team": "West", "manager_login": "ann", "left_on": None},
    {"rep_id": "dee", "login": "dee", "name": "Dee Fox", "team": "West", "manager_login": "ann",
     "left_on": "2026-10-01"},
]
TODAY = date(2026, 11, 15)
GROUPS = {"ops_groups": ("spm-ops",), "trainer_groups": ("spm-trainers",)}


def who(name: str, groups: tuple[str, ...] = (), scopes: tuple[str, ...] = ()) -> Access:
    return resolve({"name": name, "groups": list(groups), "scopes": list(scopes)}, ROSTER, today=TODAY, **GROUPS)


def test_a_rep_sees_their_own_pages_only() -> None:
    bob = who("bob.hub")
    assert bob == Access(login="bob.hub", rep_id="bob")
    assert bob.roles == ("rep",)
    assert bob.sees_rep("bob") and not bob.sees_rep("ann")
    assert not bob.sees_team("East") and not bob.sees_items and not bob.sees_index and not bob.may_upload


def test_a_rep_is_found_by_their_login_not_their_id() -> None:
    assert not who("bob").allowed


def test_a_manager_sees_their_teams_and_those_teams_reps() -> None:
    mia = who("mia")
    assert mia.teams == frozenset({"East"}) and mia.team_reps == frozenset({"ann", "bob"})
    assert mia.roles == ("manager",)
    assert mia.sees_team("East") and not mia.sees_team("West")
    assert mia.sees_rep("ann") and mia.sees_rep("bob") and not mia.sees_rep("cy")
    assert not mia.sees_index and not mia.may_upload


def test_a_player_coach_holds_both_roles() -> None:
    ann = who("ann")
    assert ann.roles == ("manager", "rep")
    assert ann.sees_rep("ann") and ann.sees_rep("cy") and ann.sees_rep("dee")
    assert ann.sees_team("West") and not ann.sees_team("East")


def test_a_rep_who_left_no_longer_signs_in_as_a_rep() -> None:
    assert not who("dee").allowed
    # before the day they left, they still did
    assert resolve({"name": "dee"}, ROSTER, today=date(2026, 9, 30)).rep_id == "dee"


def test_ops_and_trainers_by_scope_or_by_group() -> None:
    for ops in (who("zed", scopes=(ORGANISATION_SCOPE,)), who("zed", groups=("spm-ops",))):
        assert ops.ops and ops.may_upload and ops.may_sync and ops.sees_index and ops.sees_team("West")
    for trainer in (who("zed", scopes=(COURSE_SCOPE,)), who("zed", groups=("spm-trainers",))):
        assert trainer.trainer and not trainer.ops and not trainer.may_upload
        assert trainer.sees_items and trainer.sees_rep("cy") and trainer.roles == ("trainer",)


def test_group_names_come_from_the_settings() -> None:
    custom = resolve({"name": "zed", "groups": ["revops"]}, ROSTER, ops_groups=("revops",), trainer_groups=())
    assert custom.ops
    assert not resolve({"name": "zed", "groups": ["spm-ops"]}, ROSTER, ops_groups=("revops",)).allowed


def test_a_filtered_scope_or_an_unknown_user_gets_nothing() -> None:
    assert not who("zed").allowed
    assert not who("zed", scopes=(f"{ORGANISATION_SCOPE}!group=x", "access:services")).allowed
    assert who("zed").roles == ()


def test_the_person_at_the_terminal_sees_everything() -> None:
    me = everything("trainer1")
    assert me.ops and me.trainer and me.may_upload and me.sees_rep("anyone") and me.roles == ("ops", "trainer")
