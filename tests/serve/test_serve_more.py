"""--as LOGIN in local mode, the upload cap, a store busy with another writer, and a sync that cannot
find its gradebook."""

from __future__ import annotations

import pytest
from served import TODAY, Org, Served, path, project_copy
from store_files import store_digests

from spm_training.serve.access import ORGANISATION_SCOPE
from spm_training.serve.app import MAX_UPLOAD, ServeConfig

BUSY = ("{db}: the store is busy: another command has been writing to it for more than 0.5 seconds; run this again "
        "when it has finished, or let commands wait longer (SPM_BUSY_TIMEOUT=SECONDS, or store: {{busy_timeout: "
        "SECONDS}} in spm.yml)")


def test_as_a_login_local_mode_shows_what_that_rep_sees(org: Org, org_logins: Org, tmp_path) -> None:  # type: ignore[no-untyped-def]
    me = org.roster[0]
    app = Served(ServeConfig(project=project_copy(org_logins, tmp_path), token="t", as_login=me["id"], today=TODAY))
    try:
        client = app.client()
        assert client.get("/?token=t").status == 302
        assert client.get("/api/me").json() == {"login": me["id"], "roles": ["rep"], "rep_id": me["id"],
                                                "teams": [], "may_upload": False}
        assert client.get(path("rep", me["id"])).status == 200
        other = next(r for r in org.roster if r["id"] != me["id"])
        assert client.get(path("rep", other["id"])).status == 403
        assert client.get(path("team", me["team"])).status == 403
        assert client.get("/upload").status == 403
    finally:
        app.stop()


@pytest.fixture
def ops(org_logins: Org, tmp_path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SPM_BUSY_TIMEOUT", "0.5")
    app = Served(ServeConfig(project=project_copy(org_logins, tmp_path), auth="hub", today=TODAY),
                 {"ops": {"name": "olga", "groups": [], "scopes": [ORGANISATION_SCOPE]}})
    yield app
    app.stop()


def test_an_upload_over_the_cap_is_refused_on_the_page(ops: Served) -> None:
    assert MAX_UPLOAD == 50 * 1024 * 1024 and ServeConfig(project=ops.config.project).max_upload == MAX_UPLOAD
    ops.config.max_upload = 1024 * 1024                 # 1 MB here, to keep the test quick
    client = ops.client("ops")
    assert "File (CSV, at most 1 MB)" in client.get("/upload").text
    client.get("/upload")
    folder = ops.config.project.db_path.parent
    before = store_digests(folder)
    r = client.post_form("/upload", {"kind": "kpis"}, {"file": ("big.csv", b"x" * (1024 * 1024 + 1))})
    assert r.status == 413
    assert ('<p class="caveat error" role="alert">Error: big.csv is larger than 1 MB: split it by period and '
            "upload the parts</p>") in r.text
    assert store_digests(folder) == before


def test_pages_keep_working_while_another_command_writes_and_an_upload_says_busy(ops: Served, org: Org) -> None:
    client = ops.client("ops")
    client.get("/upload")
    project = ops.config.project
    writer = project.open_store()
    try:
        with writer.transaction():                     # a trainer's import holds the write lock
            assert client.get(path("team", org.teams[0])).status == 200
            assert client.get("/healthz").status == 200
            body = f"rep_id,period,kpi,value\n{org.roster[0]['id']},2026-Q4,revenue,5\n".encode()
            r = client.post_form("/upload", {"kind": "kpis"}, {"file": ("k.csv", body)})
            assert r.status == 503
            errors = [line for line in r.text.splitlines() if "Error: " in line]
            assert errors == [f'<p class="caveat error" role="alert">Error: {BUSY.format(db=project.db_path)}</p>']
    finally:
        writer.close()


def test_a_sync_without_a_gradebook_shows_why_on_the_page(ops: Served) -> None:
    client = ops.client("ops")
    client.get("/upload")
    gradebook = ops.config.project.course_dir / "gradebook.db"
    r = client.post_form("/sync", {})
    assert r.status == 400
    errors = [line for line in r.text.splitlines() if "Error: " in line]
    assert len(errors) == 1
    assert errors[0].startswith(f'<p class="caveat error" role="alert">Error: {gradebook}: no gradebook here; ')
    assert not gradebook.exists()
