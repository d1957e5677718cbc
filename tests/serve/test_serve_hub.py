"""Hub mode with JupyterHub's own HubOAuth (no hub running): an anonymous visitor is sent to the hub's
login with the service's OAuth client, the API answers 401, /healthz stays open, and the OAuth callback
lives under the prefix."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from served import TODAY, Org, Served, project_copy

from spm_training.serve.app import ServeConfig

PREFIX = "/services/spm/"
HUB_ENV = {
    "JUPYTERHUB_API_TOKEN": "0" * 32, "JUPYTERHUB_API_URL": "http://127.0.0.1:9/hub/api",
    "JUPYTERHUB_SERVICE_PREFIX": PREFIX, "JUPYTERHUB_SERVICE_NAME": "spm", "JUPYTERHUB_CLIENT_ID": "service-spm",
    "JUPYTERHUB_BASE_URL": "/", "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{PREFIX}oauth_callback",
    "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:10101",
    "JUPYTERHUB_OAUTH_ACCESS_SCOPES": '["access:services!service=spm"]',
}


@pytest.fixture
def served(org: Org, tmp_path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from jupyterhub.services.auth import HubOAuth

    for name, value in HUB_ENV.items():
        monkeypatch.setenv(name, value)
    HubOAuth.clear_instance()
    app = Served(ServeConfig(project=project_copy(org, tmp_path, book=False), auth="hub", prefix=PREFIX, today=TODAY))
    yield app
    app.stop()
    HubOAuth.clear_instance()


def test_an_anonymous_visitor_is_sent_to_the_hubs_login(served: Served, org: Org) -> None:
    client = served.client()
    for route in (PREFIX, f"{PREFIX}team/{org.teams[0]}", f"{PREFIX}book/", f"{PREFIX}upload"):
        r = client.get(route)
        assert r.status == 302, route
        target = urlsplit(r.headers["Location"])
        assert target.path == "/hub/api/oauth2/authorize", route
        query = parse_qs(target.query)
        assert query["client_id"] == ["service-spm"] and query["redirect_uri"] == [f"{PREFIX}oauth_callback"]
        assert query["response_type"] == ["code"] and query["state"]
        assert org.roster[0]["name"] not in r.text
    assert client.get(f"{PREFIX}api/me").json() == {"status": 401, "error": "Sign in to JupyterHub first."}
    assert client.get(f"{PREFIX}healthz").status == 200
    # the callback is JupyterHub's own handler: without a code from the hub it refuses
    assert client.get(f"{PREFIX}oauth_callback").status == 400
    # nothing outside the prefix
    assert client.get("/team/x").status in (302, 404)
