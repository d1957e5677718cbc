"""Local mode: nothing without the token, the token sets the cookie, the cookie opens the pages;
the address and token rules of `spm serve`; the security headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from served import TODAY, Org, Served, path, project_copy

from spm_training.cli.main import cli
from spm_training.serve.app import ServeConfig
from spm_training.serve.auth import SIGN_IN_FIX, SIGN_IN_MESSAGE
from spm_training.serve.run import plan

TOKEN = "test-token-0123456789"


@pytest.fixture(scope="module")
def served(org: Org, tmp_path_factory: pytest.TempPathFactory):
    project = project_copy(org, tmp_path_factory.mktemp("local"))
    app = Served(ServeConfig(project=project, token=TOKEN, today=TODAY))
    yield app
    app.stop()


def routes(org: Org) -> list[str]:
    team, rep = org.teams[0], org.roster[0]["id"]
    return ["/", "/reports", path("team", team), path("rep", rep), "/items/a1", path("api", "team", team),
            path("api", "rep", rep), "/api/items/a1", "/api/me", path("api", "progress", rep), "/api/reports",
            "/book/", "/book/book/sdr/prospecting.html", "/upload", "/sync", "/no/such/page"]


def test_without_the_token_every_page_is_401_and_shows_no_data(served: Served, org: Org) -> None:
    client = served.client()
    for route in routes(org):
        r = client.get(route)
        assert r.status == 401, route
        if route.startswith("/api/"):
            assert r.json() == {"status": 401, "error": SIGN_IN_MESSAGE}, route
            continue
        assert "<title>Sign-in needed</title>" in r.text, route
        assert f'<p class="message">{SIGN_IN_MESSAGE}</p>' in r.text, route
        assert f"<p>{SIGN_IN_FIX}</p>" in r.text, route
        for rep in org.roster:
            assert rep["name"] not in r.text and rep["id"] not in r.text, (route, rep["id"])
        for team in org.teams:
            assert team not in r.text, (route, team)


def test_a_wrong_token_or_a_forged_cookie_is_refused(served: Served) -> None:
    client = served.client()
    assert client.get("/?token=not-the-token").status == 401
    client.cookies["spm-serve"] = "1"
    assert client.get("/").status == 401
    assert client.get("/", headers={"Authorization": "token nope"}).status == 401


def test_the_token_sets_a_strict_httponly_cookie_and_drops_itself_from_the_url(served: Served, org: Org) -> None:
    client = served.client()
    r = client.get(f"/reports?token={TOKEN}")
    assert r.status == 302
    assert r.headers["Location"] == "/reports"
    cookie = next(c for c in r.headers.get_all("Set-Cookie") if c.startswith("spm-serve="))
    for flag in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/"):
        assert flag in cookie
    page = client.get("/reports")
    assert page.status == 200
    for rep in org.roster:
        assert rep["name"] in page.text
    assert client.get(path("team", org.teams[0])).status == 200


def test_scripts_may_send_the_token_in_a_header(served: Served, org: Org) -> None:
    r = served.client().get("/api/me", headers={"Authorization": f"token {TOKEN}"})
    assert r.status == 200
    me = r.json()
    assert me["roles"] == ["ops", "trainer"] and me["may_upload"] is True and me["rep_id"] is None


def test_healthz_needs_no_token_and_shows_no_data(served: Served) -> None:
    r = served.client().get("/healthz")
    assert r.status == 200
    body = r.json()
    assert set(body) == {"status", "data_revision", "activity_revision"}
    assert body["status"] == "ok" and isinstance(body["data_revision"], int) and body["data_revision"] > 0


def test_every_response_carries_the_security_headers(served: Served) -> None:
    for route in ("/", "/healthz", "/book/"):
        r = served.client().get(route)
        assert r.headers["Content-Security-Policy"].startswith("default-src 'self'; ")
        assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
    # the book's widgets compile their schema validator at run time; the reports need no eval
    assert "'unsafe-eval'" not in served.client().get("/").headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline' 'unsafe-eval';" in served.client().get("/book/").headers[
        "Content-Security-Policy"]
    assert served.client().get("/favicon.ico").status == 204


def _plan(project, **options):  # type: ignore[no-untyped-def]
    base = {"host": None, "port": None, "auth_mode": "local", "token": None, "as_login": None, "book_url": None,
            "sync_every": None}
    env = options.pop("env", {})
    return plan(project, **{**base, **options}, env=env)


def test_a_non_loopback_host_needs_a_token_or_the_hub(org: Org, tmp_path: Path) -> None:
    project = project_copy(org, tmp_path, book=False)
    result = CliRunner().invoke(cli, ["--db", str(project.db_path), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert result.output == ("Error: --host 0.0.0.0 would open the service to other machines: give --token (or "
                             "$SPM_SERVE_TOKEN), or run it as a JupyterHub service with --auth hub\n")
    config, host, port, every = _plan(project, host="0.0.0.0", token="given")
    assert (host, port, every, config.token, config.prefix) == ("0.0.0.0", 8765, 0, "given", "/")
    config, host, _, _ = _plan(project, host="10.1.2.3", env={"SPM_SERVE_TOKEN": "from-env"})
    assert config.token == "from-env"
    config, host, port, _ = _plan(project)
    assert (host, port) == ("127.0.0.1", 8765) and len(config.token) >= 40


def test_hub_mode_takes_its_address_and_prefix_from_jupyterhub(org: Org, tmp_path: Path) -> None:
    project = project_copy(org, tmp_path, book=False)
    env = {"JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:10101", "JUPYTERHUB_SERVICE_PREFIX": "/services/spm/"}
    config, host, port, _ = _plan(project, auth_mode="hub", env=env)
    assert (config.auth, config.prefix, host, port, config.token) == ("hub", "/services/spm/", "127.0.0.1", 10101, "")
    result = CliRunner().invoke(cli, ["--db", str(project.db_path), "serve", "--auth", "hub"], env={
        "JUPYTERHUB_SERVICE_URL": ""})
    assert result.exit_code == 1
    assert result.output == ("Error: --auth hub needs $JUPYTERHUB_SERVICE_URL: run spm serve as a service of "
                             "JupyterHub (see deploy/jupyterhub_config.py), which sets it\n")


def test_serve_help_names_every_option() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--auth", "--token", "--as", "--sync-every", "--book-url", "50 MB"):
        assert option in result.output


def test_scheduled_syncs_are_for_the_hub_and_as_for_local_mode(org: Org, tmp_path: Path) -> None:
    project = project_copy(org, tmp_path, book=False)
    db = ["--db", str(project.db_path), "serve"]
    assert CliRunner().invoke(cli, [*db, "--sync-every", "5"]).output == (
        "Error: --sync-every works in hub mode only: locally, run spm sync when you want one\n")
    assert CliRunner().invoke(cli, [*db, "--auth", "hub", "--as", "ann"]).output == (
        "Error: --as works in local mode only: on the hub each user sees what is theirs\n")
    env = {"JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:10101/", "JUPYTERHUB_SERVICE_PREFIX": "/services/spm/"}
    assert _plan(project, auth_mode="hub", sync_every=30, env=env)[3] == 30


def test_a_scheduled_sync_says_each_outcome_in_one_line(org: Org, tmp_path: Path) -> None:
    import asyncio

    from spm_training.serve.app import Service
    from spm_training.serve.run import scheduled_sync

    project = project_copy(org, tmp_path, book=False)
    service = Service(ServeConfig(project=project, auth="hub"))
    said: list[str] = []

    async def two_rounds() -> None:
        task = asyncio.ensure_future(scheduled_sync(service, 0.01, said.append))
        while len(said) < 2:
            await asyncio.sleep(0.01)
        task.cancel()

    try:
        asyncio.run(asyncio.wait_for(two_rounds(), 30))
    finally:
        service.close()
    gradebook = project.course_dir / "gradebook.db"
    assert said[0] == said[1]
    assert said[0].startswith(f"scheduled sync failed: {gradebook}: no gradebook here; ")
