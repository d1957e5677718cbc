"""Sales ops through the service: a KPI file lands whole; a bad one shows its one-line error and
leaves the store byte-identical; XSRF on every POST; the page cache and what makes it stale."""

from __future__ import annotations

import pytest
from served import TODAY, Org, Served, path, project_copy
from store_files import store_digests

from spm_training.analysis.export import export_rows
from spm_training.ingest.activity import record_self_check
from spm_training.ingest.kpis import import_kpis
from spm_training.serve.access import ORGANISATION_SCOPE
from spm_training.serve.app import ServeConfig


@pytest.fixture
def served(org: Org, org_logins: Org, tmp_path):  # type: ignore[no-untyped-def]
    project = project_copy(org_logins, tmp_path)
    users = {"ops": {"name": "olga", "groups": [], "scopes": [ORGANISATION_SCOPE]},
             "rep": {"name": org.roster[0]["id"], "groups": [], "scopes": []},
             "manager": {"name": org.manager_of(org.teams[0]), "groups": [], "scopes": []}}
    app = Served(ServeConfig(project=project, auth="hub", today=TODAY), users)
    yield app
    app.stop()


def revision(served: Served) -> int:
    return served.client().get("/healthz").json()["data_revision"]  # type: ignore[index]


def test_ops_upload_a_kpi_file_and_it_lands(served: Served, org: Org) -> None:
    client = served.client("ops")
    form = client.get("/upload")
    assert form.status == 200 and 'enctype="multipart/form-data"' in form.text
    before = revision(served)
    rep = org.roster[0]["id"]
    body = f"rep_id,period,kpi,value,target\n{rep},2026-Q4,revenue,123456,150000\n".encode()
    r = client.post_form("/upload", {"kind": "kpis", "format": "long"}, {"file": ("../../etc/kpis q4.csv", body)})
    assert r.status == 200
    assert "<li>kpis q4.csv: 1 values: 1 new, 0 updated, 0 unchanged</li>" in r.text
    assert revision(served) == before + 1
    project = served.config.project
    with project.open_store(write=False) as store:
        rows = [x for x in export_rows(store, "kpis", project) if x["rep_id"] == rep and x["period"] == "2026-Q4"]
    assert [(x["kpi"], x["value"], x["target"]) for x in rows] == [("revenue", 123456.0, 150000.0)]


def test_a_bad_file_shows_the_one_line_error_and_leaves_the_store_as_it_was(served: Served, org: Org) -> None:
    client = served.client("ops")
    client.get("/upload")
    folder = served.config.project.db_path.parent
    before, rev = store_digests(folder), revision(served)
    body = f"rep_id,period,kpi,value\n{org.roster[0]['id']},2026-Q4,revenue,lots\n".encode()
    r = client.post_form("/upload", {"kind": "kpis"}, {"file": ("q4.csv", body)})
    assert r.status == 400
    errors = [line for line in r.text.splitlines() if "Error: " in line]
    assert len(errors) == 1
    assert errors[0] == ('<p class="caveat error" role="alert">Error: q4.csv:2 (column value): &#39;value&#39; '
                         "is not a number: &#39;lots&#39;; write plain numbers such as 1200.5, without units or "
                         "thousands separators</p>")
    assert "/tmp" not in r.text and "spm-upload-" not in r.text
    assert "Nothing was written: the store is as it was before." in r.text
    assert store_digests(folder) == before and revision(served) == rev


def test_every_post_needs_the_xsrf_token_and_uploads_are_for_ops(served: Served, org: Org) -> None:
    ops = served.client("ops")
    ops.get("/upload")
    body = b"rep_id,period,kpi,value\n"
    assert ops.post_form("/upload", {"kind": "kpis"}, {"file": ("k.csv", body)}, xsrf=False).status == 403
    assert ops.request("POST", "/sync").status == 403
    rep = served.client("rep")
    assert rep.get("/upload").status == 403
    rep.cookies["_xsrf"] = ops.xsrf()
    assert rep.post_form("/upload", {"kind": "kpis"}, {"file": ("k.csv", body)}).status == 403


def test_a_page_is_computed_once_per_store_revision(served: Served, org: Org) -> None:
    cache = served.service.cache
    client = served.client("ops")
    team = path("team", org.teams[0])
    first = client.get(team)
    renders = cache.renders
    again = client.get(team)
    assert again.status == 200 and again.body == first.body and cache.renders == renders
    client.get(path("api", "team", org.teams[0]))          # the same context, as JSON
    assert cache.renders == renders
    # a self-check answer changes the reps' activity, not the store's data: the team page stays
    project = served.config.project
    with project.open_store() as store:
        record_self_check(store, org.reps_of(org.teams[0])[0]["id"], "book/sdr/prospecting", "spm-kc-1-q1", True)
    client.get(team)
    assert cache.renders == renders
    # ... while the home page that shows reading progress is computed again
    manager = served.client("manager")
    manager.get("/")
    renders = cache.renders
    manager.get("/")
    assert cache.renders == renders
    with project.open_store() as store:
        record_self_check(store, org.reps_of(org.teams[0])[0]["id"], "book/sdr/prospecting", "spm-kc-1-q2", False)
    manager.get("/")
    assert cache.renders == renders + 1
    # an import makes every page stale
    kpis = project.db_path.parent / "kpis.csv"
    kpis.write_text(f"rep_id,period,kpi,value\n{org.roster[0]['id']},2026-Q4,revenue,1000\n")
    with project.open_store() as store:
        import_kpis(store, kpis, project.kpis)
    renders = cache.renders
    client.get(team)
    assert cache.renders == renders + 1


def test_ops_upload_a_crm_export_and_a_roster(served: Served, org: Org, org_logins: Org) -> None:
    client = served.client("ops")
    form = client.get("/upload").text
    assert '<option value="salesforce">salesforce</option>' in form
    rep = org.roster[0]
    owner = rep["crm_owner"] or rep["email"]
    opportunities = ("owner,account,created_date,close_date,stage,amount,status\n"
                     f"{owner},Acme,2026-07-01,2026-08-15,Closed Won,12000,won\n"
                     f"{owner},Globex,2026-07-10,2026-09-01,Closed Lost,8000,lost\n").encode()
    before = revision(served)
    r = client.post_form("/upload", {"kind": "crm", "period": "quarter", "preset": "generic"},
                         {"file": ("opps.csv", opportunities)})
    assert r.status == 200, r.text[-600:]
    lines = [line for line in r.text.splitlines() if line.startswith("<li>")]
    assert lines == ["<li>opps.csv: 2 opportunities</li>",
                     "<li>6 KPI values for 1 reps, 2026-Q3 to 2026-Q3: 5 new, 1 updated, 0 unchanged</li>"]
    assert revision(served) == before + 1
    # the roster the store was loaded from: nothing changes, and the store's data revision stays
    body = (org_logins.folder / "roster-logins.csv").read_bytes()
    r = client.post_form("/upload", {"kind": "roster"}, {"file": ("roster.csv", body)})
    assert r.status == 200
    assert f"<li>roster.csv: 0 reps added, 0 updated, {len(org.roster)} unchanged, 3 teams</li>" in r.text
    assert revision(served) == before + 1
