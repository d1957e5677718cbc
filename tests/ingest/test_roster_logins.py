"""The roster's optional hub columns: login, manager_login and left_on (issue 16).

A roster is the truth for the columns it has: without a column the stored values stay; with it, an
empty cell resets the rep (or team) to the default. Every refusal is one line naming file, line,
column and fix, and leaves the store as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from spm_training.analysis.queries import logins
from spm_training.errors import InputError
from spm_training.ingest.roster import import_roster
from spm_training.store import Store, open_store

BASE = "id,name,email,team,manager,role,hire_date\n"
HUB = "id,name,email,team,manager,role,hire_date,login,manager_login,left_on\n"
ROSTER = HUB + (
    "ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05,ann.lee,mia,\n"
    "bob,Bob Ray,bob@example.com,East,Mia Roth,SDR,2026-02-01,,mia,2026-06-30\n"
    "cy,Cy Oh,cy@example.com,West,Jo Park,AM,2025-11-20,cy@corp,jo,\n"
)


def load(tmp: Path, name: str, text: str, store: Store) -> None:
    path = tmp / name
    path.write_text(text)
    import_roster(store, path)


def rows(store: Store) -> list[tuple]:
    return [(r["rep_id"], r["login"], r["team"], r["manager_login"], r["left_on"]) for r in logins(store)]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_hub_columns_land_and_logins_default_to_the_id(tmp_path: Path) -> None:
    with open_store(tmp_path / "spm.db") as store:
        load(tmp_path, "roster.csv", ROSTER, store)
        assert rows(store) == [("ann", "ann.lee", "East", "mia", None), ("bob", "bob", "East", "mia", "2026-06-30"),
                               ("cy", "cy@corp", "West", "jo", None)]
        # the rep id as login is stored as the default (NULL), not as a copy of the id
        assert store.query("SELECT id, login FROM reps ORDER BY id") == [
            {"id": "ann", "login": "ann.lee"}, {"id": "bob", "login": None}, {"id": "cy", "login": "cy@corp"}]


def test_a_roster_without_the_columns_leaves_them_and_empty_cells_reset_them(tmp_path: Path) -> None:
    with open_store(tmp_path / "spm.db") as store:
        load(tmp_path, "roster.csv", ROSTER, store)
        # the old format: logins, managers' logins and leaving dates stay as they were
        old = BASE + ("ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05\n"
                      "bob,Bob Ray,bob@example.com,East,Mia Roth,SDR,2026-02-01\n")
        load(tmp_path, "old.csv", old, store)
        assert rows(store) == [("ann", "ann.lee", "East", "mia", None), ("bob", "bob", "East", "mia", "2026-06-30"),
                               ("cy", "cy@corp", "West", "jo", None)]
        # only the login column, its cell empty: ann is back to her id; bob's left_on stays
        load(tmp_path, "reset.csv", BASE.rstrip("\n") + ",login\n"
             "ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05,\n", store)
        assert rows(store)[0] == ("ann", "ann", "East", "mia", None)
        assert rows(store)[1] == ("bob", "bob", "East", "mia", "2026-06-30")
        # empty manager_login and left_on cells: no manager login, still here
        load(tmp_path, "back.csv", BASE.rstrip("\n") + ",manager_login,left_on\n"
             "bob,Bob Ray,bob@example.com,East,Mia Roth,SDR,2026-02-01,,\n", store)
        assert rows(store) == [("ann", "ann", "East", None, None), ("bob", "bob", "East", None, None),
                               ("cy", "cy@corp", "West", "jo", None)]


def test_reps_swap_logins_and_a_manager_may_be_a_rep_of_another_team(tmp_path: Path) -> None:
    with open_store(tmp_path / "spm.db") as store:
        load(tmp_path, "roster.csv", ROSTER, store)
        swapped = HUB + ("ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05,cy@corp,mia,\n"
                         "bob,Bob Ray,bob@example.com,East,Mia Roth,SDR,2026-02-01,,mia,2026-06-30\n"
                         "cy,Cy Oh,cy@example.com,West,Jo Park,AM,2025-11-20,ann.lee,bob,\n")
        load(tmp_path, "swapped.csv", swapped, store)
        assert rows(store) == [("ann", "cy@corp", "East", "mia", None), ("bob", "bob", "East", "mia", "2026-06-30"),
                               ("cy", "ann.lee", "West", "bob", None)]


ROW = "ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05,{login},{manager},{left}\n"
BOB = "bob,Bob Ray,bob@example.com,East,Mia Roth,SDR,2026-02-01,{login},{manager},\n"


def roster(ann: dict[str, str], bob: dict[str, str] | None = None) -> str:
    fields = {"login": "", "manager": "mia", "left": ""}
    text = HUB + ROW.format(**{**fields, **ann})
    if bob is not None:
        text += BOB.format(**{"login": "", "manager": "mia", **bob})
    return text


REFUSED = {
    "upper case": (roster({"login": "Ann"}),
                   ":2 (column login): login 'Ann' has upper-case letters, which JupyterHub lowercases; "
                   "write logins in lower case"),
    "a space": (roster({"login": "ann lee"}),
                ":2 (column login): login 'ann lee' has characters a hub username cannot have; "
                "use letters, digits, '.', '_', '-' and '@' only"),
    "a slash": (roster({"login": "ann/x"}),
                ":2 (column login): login 'ann/x' has characters a hub username cannot have; "
                "use letters, digits, '.', '_', '-' and '@' only"),
    "twice in the file": (roster({"login": "sam"}, {"login": "sam"}),
                          ":3 (column login): login 'sam' of rep 'bob' (its login) is also the login of rep 'ann' "
                          "on line 2; give each rep their own login"),
    "another rep's id": (roster({"login": "bob"}, {}),
                         ":3 (column login): login 'bob' of rep 'bob' (its default login (its id)) is also the login "
                         "of rep 'ann' on line 2; give each rep their own login"),
    "manager upper case": (roster({"manager": "Mia"}),
                           ":2 (column manager_login): manager_login 'Mia' has upper-case letters, which JupyterHub "
                           "lowercases; write logins in lower case"),
    "managers differ": (roster({}, {"manager": "mia.roth"}),
                        ":3 (column manager_login): team 'East' has manager_login 'mia.roth' here but 'mia' on line "
                        "2; give each team one manager_login, the same on every row"),
    "manager missing on one row": (roster({}, {"manager": ""}),
                                   ":3 (column manager_login): team 'East' has manager_login '' here but 'mia' on "
                                   "line 2; give each team one manager_login, the same on every row"),
    "left_on not a date": (roster({"left": "30/06/2026"}),
                           ":2 (column left_on): left_on '30/06/2026' is not a date; write dates as YYYY-MM-DD, or "
                           "leave the cell empty for a rep who is still here"),
    "left_on before hire": (roster({"left": "2026-01-04"}),
                            ":2 (column left_on): left_on 2026-01-04 is before the rep's hire_date 2026-01-05; "
                            "correct one of the two dates"),
    "left_on outside the window": (roster({"left": "1999-12-31"}),
                                   ":2 (column left_on): left_on 1999-12-31 is outside the date window 2000-01-01 to "
                                   "2031-12-31; correct the date, or widen the window under dates: in spm.yml"),
    "manager is a rep of the team": (roster({"manager": "bob"}, {"manager": "bob"}),
                                     ":3 (column manager_login): manager_login 'bob' of team 'East' is the login of "
                                     "rep 'bob', one of the team's own reps; give the manager their own login, or "
                                     "move the rep to another team"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_rosters_say_what_and_where_and_write_nothing(tmp_path: Path, case: str) -> None:
    text, message = REFUSED[case]
    db = tmp_path / "spm.db"
    with open_store(db) as store:
        load(tmp_path, "roster.csv", ROSTER, store)
    before = digest(db)
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with open_store(db) as store:
        with pytest.raises(InputError) as info:
            import_roster(store, path)
    assert str(info.value) == f"{path}{message}"
    assert digest(db) == before


STORE_CONFLICTS = {
    "a login the store gives another rep": (
        HUB + "dan,Dan Wu,dan@example.com,West,Jo Park,AE,2026-03-02,ann.lee,jo,\n",
        ":2 (column login): login 'ann.lee' of rep 'dan' already belongs to rep 'ann' in the store; "
        "give each rep their own login"),
    "a new rep whose id is another rep's login": (
        BASE + "ann.lee,Ann Other,other@example.com,West,Jo Park,AE,2026-03-02\n",
        ":2 (column login): login 'ann.lee' of rep 'ann.lee' already belongs to rep 'ann' in the store; "
        "give each rep their own login"),
    "a manager login that is a stored rep's of the team": (
        HUB + "dan,Dan Wu,dan@example.com,West,Jo Park,AE,2026-03-02,,cy@corp,\n",
        ":2 (column manager_login): manager_login 'cy@corp' of team 'West' is the login of rep 'cy', one of the "
        "team's own reps; give the manager their own login, or move the rep to another team"),
}


@pytest.mark.parametrize("case", sorted(STORE_CONFLICTS))
def test_logins_are_checked_against_the_store(tmp_path: Path, case: str) -> None:
    text, message = STORE_CONFLICTS[case]
    db = tmp_path / "spm.db"
    with open_store(db) as store:
        load(tmp_path, "roster.csv", ROSTER, store)
    before = digest(db)
    path = tmp_path / "more.csv"
    path.write_text(text)
    with open_store(db) as store:
        with pytest.raises(InputError) as info:
            import_roster(store, path)
    assert str(info.value) == f"{path}{message}"
    assert digest(db) == before


def test_a_reimport_of_the_same_roster_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "spm.db"
    with open_store(db) as store:
        load(tmp_path, "roster.csv", ROSTER, store)
    before = digest(db)
    with open_store(db) as store:
        result = import_roster(store, tmp_path / "roster.csv")
        revision = store.data_revision()
    assert (result.reps_added, result.reps_updated, result.reps_unchanged) == (0, 0, 3)
    assert revision == 1
    assert digest(db) == before


def test_export_reps_has_the_effective_login_the_manager_login_and_left_on(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from spm_training.cli.main import cli

    with open_store(tmp_path / "spm.db") as store:
        load(tmp_path, "roster.csv", ROSTER, store)
    args = ["--db", str(tmp_path / "spm.db"), "--course", str(tmp_path), "export", "reps"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "rep_id,name,email,team,manager,role,hire_date,crm_owner,login,manager_login,left_on",
        "ann,Ann Lee,ann@example.com,East,Mia Roth,AE,2026-01-05,,ann.lee,mia,",
        "bob,Bob Ray,bob@example.com,East,Mia Roth,SDR,2026-02-01,,bob,mia,2026-06-30",
        "cy,Cy Oh,cy@example.com,West,Jo Park,AM,2025-11-20,,cy@corp,jo,"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert [(r["login"], r["manager_login"], r["left_on"]) for r in json.loads(result.output)] == [
        ("ann.lee", "mia", None), ("bob", "mia", "2026-06-30"), ("cy@corp", "jo", None)]
