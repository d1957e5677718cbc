"""Hub mode's roles, with a stub in place of JupyterHub's user model: a rep sees their own pages, a
manager their teams and those teams' reps, ops and trainers everything; links carry the prefix."""

from __future__ import annotations

import re

import pytest
from served import TODAY, Org, Served, path, project_copy

from spm_training.serve.access import COURSE_SCOPE, ORGANISATION_SCOPE
from spm_training.serve.app import ServeConfig

PREFIX = "/services/spm/"


@pytest.fixture(scope="module")
def served(org: Org, org_logins: Org, tmp_path_factory: pytest.TempPathFactory):
    project = project_copy(org_logins, tmp_path_factory.mktemp("roles"))
    a, b = org.roster[0], next(r for r in org.roster if r["team"] != org.roster[0]["team"])
    users = {
        "rep-a": {"name": a["id"], "groups": [], "scopes": ["access:services!service=spm"]},
        "rep-b": {"name": b["id"], "groups": [], "scopes": []},
        "manager": {"name": org.manager_of(org.teams[0]), "groups": [], "scopes": []},
        "ops": {"name": "olga", "groups": [], "scopes": [ORGANISATION_SCOPE]},
        "trainer": {"name": "tess", "groups": ["spm-trainers"], "scopes": []},
        "trainer-scope": {"name": "tim", "groups": [], "scopes": [COURSE_SCOPE]},
        "stranger": {"name": "sam", "groups": ["sales"], "scopes": []},
    }
    app = Served(ServeConfig(project=project, auth="hub", prefix=PREFIX, today=TODAY), users)
    yield app
    app.stop()


def p(*parts: str) -> str:
    return path(*parts, prefix=PREFIX)


def test_a_rep_gets_their_own_page_and_403_on_any_other_rep_or_team(served: Served, org: Org) -> None:
    a = org.roster[0]
    client = served.client("rep-a")
    own = client.get(p("rep", a["id"]))
    assert own.status == 200 and a["name"] in own.text
    for other in org.roster:
        if other["id"] != a["id"]:
            r = client.get(p("rep", other["id"]))
            assert r.status == 403, other["id"]
            assert other["name"] not in r.text
            assert f'<p class="message">{a["id"]} may not see this page.</p>' in r.text
            assert client.get(p("api", "rep", other["id"])).json() == {
                "status": 403, "error": f"{a['id']} may not see this page."}
    for team in org.teams:
        assert client.get(p("team", team)).status == 403, team
    for route in (p("reports"), p("items", "a1"), p("upload"), p("api", "reports")):
        assert client.get(route).status == 403, route


def test_a_manager_gets_their_team_and_its_reps_and_403_elsewhere(served: Served, org: Org) -> None:
    mine, *others = org.teams
    client = served.client("manager")
    team = client.get(p("team", mine))
    assert team.status == 200
    for rep in org.reps_of(mine):
        assert client.get(p("rep", rep["id"])).status == 200, rep["id"]
        assert f'href="{p("rep", rep["id"])}"' in team.text
    for other in others:
        assert client.get(p("team", other)).status == 403, other
        for rep in org.reps_of(other):
            assert client.get(p("rep", rep["id"])).status == 403, rep["id"]
            assert rep["name"] not in team.text
    assert client.get(p("reports")).status == 403


def test_every_link_of_a_served_page_carries_the_prefix(served: Served, org: Org) -> None:
    client = served.client("ops")
    for route in (p(), p("reports"), p("team", org.teams[0]), p("rep", org.roster[0]["id"]), p("items", "a1")):
        page = client.get(route)
        assert page.status == 200, route
        links = re.findall(r'href="([^"#][^"]*)"', page.text)
        assert links, route
        for link in links:
            assert link.startswith((PREFIX, "data:")), (route, link)
    index = client.get(p("reports")).text
    for rep in org.roster:
        assert f'href="{p("rep", rep["id"])}"' in index
    for team in org.teams:
        assert f'href="{p("team", team)}"' in index


def test_trainers_by_group_or_scope_see_everything_but_may_not_upload(served: Served, org: Org) -> None:
    for user in ("trainer", "trainer-scope"):
        client = served.client(user)
        assert client.get(p("team", org.teams[-1])).status == 200
        assert client.get(p("items", "a1")).status == 200
        r = client.get(p("upload"))
        assert r.status == 403
        assert "may not upload files or sync: that is for sales ops." in r.text


def test_a_user_with_no_role_gets_a_403_page_saying_whom_to_ask(served: Served, org: Org) -> None:
    client = served.client("stranger")
    r = client.get(p())
    assert r.status == 403
    assert ('<p class="message">sam has no role in spm: not a rep or a team manager in the roster, nor in a '
            "trainers&#39; or sales ops group.</p>") in r.text
    assert "Ask your sales ops admin to add your login to the roster" in r.text
    assert client.get(p("api", "me")).json() == {"login": "sam", "roles": [], "rep_id": None, "teams": [],
                                                  "may_upload": False}
    assert client.get(p("api", "team", org.teams[0])).status == 403
    assert served.client(None).get(p("team", org.teams[0])).status == 401


def test_the_api_gives_the_pages_contexts_as_json(served: Served, org: Org) -> None:
    client = served.client("ops")
    team = client.get(p("api", "team", org.teams[0])).json()
    assert {"team", "manager", "skills", "kpis", "rows", "coach_first", "counts", "evidence"} <= set(team)
    assert team["team"] == org.teams[0]
    assert [r["rep_id"] for r in team["rows"]] and {r["rep_id"] for r in team["rows"]} == {
        r["id"] for r in org.reps_of(org.teams[0])}
    assert "heatmap" not in team                  # charts are HTML, not data
    rep = client.get(p("api", "rep", org.roster[0]["id"])).json()
    assert rep["rep"]["rep_id"] == org.roster[0]["id"] and {"skills", "kpis", "readiness", "focus"} <= set(rep)
    items = client.get(p("api", "items", "a1")).json()
    assert items["assignment_title"] == "a1" and items["items"]
    index = client.get(p("api", "reports")).json()
    assert [t["team"] for t in index["teams"]] == org.teams
    progress = client.get(p("api", "progress", org.roster[0]["id"])).json()
    assert set(progress) == {"rep_id", "day", "pages", "due_now", "read_due", "read_total", "answered",
                             "right_first"}
    assert client.get(p("api", "rep", "nobody")).json() == {
        "status": 404, "error": "no rep 'nobody' in the store; spm export reps lists them"}


def test_home_pages_by_role(served: Served, org: Org) -> None:
    a = org.roster[0]
    rep_home = served.client("rep-a").get(p())
    assert rep_home.status == 200
    assert f'<a href="{p("rep", a["id"])}">{a["name"]}: focus, KPIs and next steps</a>' in rep_home.text
    assert "Your reading and knowledge checks" in rep_home.text
    manager_home = served.client("manager").get(p()).text
    assert f'<a href="{p("team", org.teams[0])}">Team {org.teams[0]}</a>' in manager_home
    for rep in org.reps_of(org.teams[0]):
        assert f'<tr data-rep="{rep["id"]}">' in manager_home
    for rep in org.roster:
        if rep["team"] != org.teams[0]:
            assert rep["name"] not in manager_home
    ops_home = served.client("ops").get(p()).text
    assert "Needs attention" in ops_home and f'href="{p("upload")}"' in ops_home


def test_a_served_page_is_the_static_report_with_served_links(served: Served, org: Org) -> None:
    from spm_training.analysis.facade import analyse
    from spm_training.reports.build import render, rep_context, team_context, team_impact
    from spm_training.reports.links import BookLinks

    project = served.config.project
    links = BookLinks(project, f"{PREFIX}book/")
    team, rep = org.teams[0], org.roster[0]["id"]
    with project.open_store(write=False) as store:
        a = analyse(store, project, team=team)
        static_team = render("team", team_context(a, team, links, rep_pages={r: p("rep", r) for r in a.rep_ids},
                                                  impact=team_impact(store, a, team)))
        static_rep = render("rep", rep_context(analyse(store, project, rep=rep), rep, links))
    client = served.client("ops")
    nav = re.compile(r'<nav class="toc site" aria-label="Site">.*?</nav>\n?')
    stamp = re.compile(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d")
    for route, static in ((p("team", team), static_team), (p("rep", rep), static_rep)):
        page = client.get(route).text
        assert nav.search(page), route
        assert stamp.sub("", nav.sub("", page, count=1)) == stamp.sub("", static), route
