"""A real JupyterHub on 127.0.0.1 with the project's deploy/jupyterhub_config.py, and clients that use
it the way a trainer's or a rep's browser session would.

The hub loads deploy/jupyterhub_config.py unchanged through a small wrapper that only moves what a
test must move: ports on the loopback interface, the hub's state and the shared folders into a
temporary root, and the proxy's executable. Users log in through the hub's login form (PAM, real Unix
passwords), create an API token for themselves, start their server through the hub's REST API and
then talk to it through the proxy, as JupyterLab does: nbgrader's assignment-list endpoints for
fetch and submit, formgrader's API for generate, release and collect, the contents API to save a
notebook, and a terminal for commands such as ``spm grade``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from .postgres import free_port
from .system import Account

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
PROXY_PACKAGE = "configurable-http-proxy"


def find_proxy() -> str | None:
    """configurable-http-proxy: $SPM_TEST_CHP, else on PATH, else where scripts/test.sh installs it."""
    candidates = [os.environ.get("SPM_TEST_CHP"), shutil.which(PROXY_PACKAGE),
                  str(ROOT / ".venv" / "chp" / "node_modules" / ".bin" / PROXY_PACKAGE)]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def why_unavailable() -> str | None:
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "JupyterHub is not installed (pip install -e '.[test]')"
    if find_proxy() is None:
        return ("configurable-http-proxy not found: scripts/test.sh installs it with npm into "
                ".venv/chp; or set SPM_TEST_CHP to its path")
    if shutil.which("node") is None:
        return "Node.js is not installed, and configurable-http-proxy needs it (apt-get install nodejs npm)"
    return None


@dataclass
class Hub:
    """``with Hub(root, ...) as hub:`` starts the hub (and its proxy) and stops both, servers included."""

    root: Path
    trainers_group: str
    proxy: str
    user_environment: Path
    #: the spm service: the course it serves ("" for none), its account, ops group and the book's checkout
    service_course: str = ""
    service_user: str = ""
    ops_group: str = "spm-ops"
    book_root: Path | None = None
    port: int = field(default_factory=free_port)
    hub_port: int = field(default_factory=free_port)
    proxy_api_port: int = field(default_factory=free_port)
    service_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def courses(self) -> Path:
        return self.root / "courses"

    @property
    def state(self) -> Path:
        return self.root / "hub"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}/hub/api"

    @property
    def service_url(self) -> str:
        """The spm service through the hub's proxy, as a browser reaches it."""
        return f"{self.url}/services/spm/"

    @property
    def log(self) -> Path:
        return self.state / "hub.log"

    def write_config(self) -> Path:
        self.state.mkdir(mode=0o700, exist_ok=True)
        config = self.state / "jupyterhub_config.py"
        config.write_text(f"""\
c = get_config()
load_subconfig({str(DEPLOY / 'jupyterhub_config.py')!r})
c.SpmHub.exchange_root = {str(self.exchange)!r}
c.SpmHub.courses_root = {str(self.courses)!r}
c.SpmHub.trainers_group = {self.trainers_group!r}
c.SpmHub.user_environment = {str(self.user_environment)!r}
c.JupyterHub.db_url = {f'sqlite:///{self.state}/jupyterhub.sqlite'!r}
c.JupyterHub.cookie_secret_file = {str(self.state / 'jupyterhub_cookie_secret')!r}
c.ConfigurableHTTPProxy.pid_file = {str(self.state / 'jupyterhub-proxy.pid')!r}
c.JupyterHub.bind_url = {self.url!r}
c.JupyterHub.hub_bind_url = {f'http://127.0.0.1:{self.hub_port}'!r}
c.ConfigurableHTTPProxy.api_url = {f'http://127.0.0.1:{self.proxy_api_port}'!r}
c.ConfigurableHTTPProxy.command = [{self.proxy!r}]
c.PAMAuthenticator.admin_groups = set()
# A shared two-core machine may take a while to start several JupyterLab servers at once.
c.Spawner.http_timeout = 180
# Answer a spawn request at once (202) and let the client wait for readiness, so servers start side by side.
c.JupyterHub.tornado_settings = {{"slow_spawn_timeout": 0}}
c.Spawner.start_timeout = 240
c.SpmHub.ops_group = {self.ops_group!r}
c.SpmHub.service_course = {self.service_course!r}
c.SpmHub.service_user = {self.service_user!r}
c.SpmHub.service_port = {self.service_port}
c.SpmHub.book_root = {str(self.book_root or self.root)!r}
c.SpmHub.sync_every_minutes = 0   # the tests sync when they mean to
# The services and roles again, for the paths above; no idle culler.
import spm_hub
c.JupyterHub.services, c.JupyterHub.load_roles = spm_hub.services_and_roles(c, culler=False)
""")
        return config

    def __enter__(self) -> Hub:
        config = self.write_config()
        env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=self.state,
                                         stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not answer within 90 s:\n{self.log_tail()}")
            time.sleep(0.3)

    def __exit__(self, *exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # SIGTERM lets the hub stop every server it spawned and its proxy (cleanup_servers).
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self, lines: int = 60) -> str:
        """The hub's last lines, without the proxy's multi-line reports of requests it could not pass on
        (they would fill the tail while the hub starts)."""
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no hub log)"
        kept, in_proxy_report = [], False
        for line in text:
            if "[ConfigProxy]" in line:
                in_proxy_report = "error" in line
                continue
            if in_proxy_report and (line.startswith((" ", "\t", "}")) or not line.strip()):
                continue
            in_proxy_report = False
            kept.append(line)
        return "\n".join(kept[-lines:])


class HubError(AssertionError):
    """A request through the hub did not do what a user's browser session would have got."""


@dataclass
class User:
    """One person's session: logged in through the form, then acting with their own API token."""

    hub: Hub
    account: Account
    token: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def name(self) -> str:
        return self.account.name

    # --- the hub ------------------------------------------------------------------------------

    def login(self) -> requests.Response:
        """The hub's login form, with the account's Unix password (PAM); the hub's redirect after it."""
        page = self.session.get(f"{self.hub.url}/hub/login", timeout=30)
        page.raise_for_status()
        xsrf = self.session.cookies.get("_xsrf", path="/hub/") or self.session.cookies.get("_xsrf")
        reply = self.session.post(f"{self.hub.url}/hub/login?next=", allow_redirects=False, timeout=60,
                                  data={"username": self.name, "password": self.account.password, "_xsrf": xsrf})
        if reply.status_code != 302:
            raise HubError(f"{self.name}: login refused ({reply.status_code}):\n{self.hub.log_tail(20)}")
        return reply

    def create_token(self) -> str:
        """A token for scripts, as the hub's token page makes one (same rights as the user)."""
        xsrf = self.session.cookies.get("_xsrf", path="/hub/") or self.session.cookies.get("_xsrf")
        reply = self.session.post(f"{self.hub.url}/hub/api/users/{self.name}/tokens", timeout=30,
                                  headers={"X-XSRFToken": xsrf, "Referer": f"{self.hub.url}/hub/token"},
                                  json={"note": "spm hub test", "expires_in": 3600})
        if reply.status_code != 201:
            raise HubError(f"{self.name}: no token ({reply.status_code}): {reply.text[:300]}")
        self.token = reply.json()["token"]
        return self.token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def hub_api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.hub.url}/hub/api{path}", headers=self.headers(), timeout=60,
                                **kwargs)

    def model(self) -> dict:
        reply = self.hub_api("GET", f"/users/{self.name}")
        reply.raise_for_status()
        return reply.json()

    def start_server(self, options: dict | None = None) -> None:
        reply = self.hub_api("POST", f"/users/{self.name}/server", json=options or {})
        if reply.status_code not in (201, 202):
            raise HubError(f"{self.name}: server not started ({reply.status_code}): {reply.text[:300]}")

    def wait_ready(self, timeout: float = 240) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            server = self.model().get("servers", {}).get("")
            if server and server.get("ready"):
                return
            # While it starts, the server is listed as pending; a failed spawn removes it.
            if server is None and time.monotonic() - started > 5:
                raise HubError(f"{self.name}: the server stopped while starting:\n{self.hub.log_tail(40)}")
            time.sleep(0.5)
        raise HubError(f"{self.name}: the server was not ready within {timeout:.0f} s:\n{self.hub.log_tail(40)}")

    def stop_server(self) -> None:
        self.hub_api("DELETE", f"/users/{self.name}/server")

    # --- the spm service, through the proxy, with the session's cookies ------------------------

    def service(self, path: str = "", method: str = "GET", **kwargs: Any) -> requests.Response:
        """A page of the spm service as this user's browser gets it: the first request goes through the
        hub's OAuth (no confirmation page) and leaves the service's own cookie in the session."""
        return self.session.request(method, self.hub.service_url + path.lstrip("/"), timeout=120, **kwargs)

    def service_form(self, path: str, data: dict[str, str], files: dict[str, tuple[str, bytes, str]] | None = None,
                     page: str | None = None) -> requests.Response:
        """Submit one of the service's forms as the browser would: the page that holds it is loaded
        first, and its XSRF field is sent back with the data."""
        shown = self.service(page or path)
        found = re.search(r'name="_xsrf" value="([^"]+)"', shown.text)
        if shown.status_code != 200 or found is None:
            raise HubError(f"{self.name}: no form at {page or path} ({shown.status_code}): {shown.text[:300]}\n"
                           f"--- hub log ---\n{self.hub.log_tail(40)}")
        return self.service(path, "POST", data={**data, "_xsrf": found.group(1)}, files=files)

    # --- the user's server, through the proxy -----------------------------------------------

    def server_url(self, path: str, owner: str | None = None) -> str:
        return f"{self.hub.url}/user/{owner or self.name}/{path.lstrip('/')}"

    def get(self, path: str, owner: str | None = None, **kwargs: Any) -> requests.Response:
        return requests.get(self.server_url(path, owner), headers=self.headers(), timeout=120,
                            allow_redirects=False, **kwargs)

    def post(self, path: str, owner: str | None = None, **kwargs: Any) -> requests.Response:
        return requests.post(self.server_url(path, owner), headers=self.headers(), timeout=600,
                             allow_redirects=False, **kwargs)

    def put(self, path: str, owner: str | None = None, **kwargs: Any) -> requests.Response:
        return requests.put(self.server_url(path, owner), headers=self.headers(), timeout=120,
                            allow_redirects=False, **kwargs)

    def ok_json(self, reply: requests.Response) -> Any:
        if reply.status_code >= 300:
            raise HubError(f"{self.name}: {reply.request.method} {reply.url} -> {reply.status_code}: "
                           f"{reply.text[:500]}")
        return reply.json()

    # nbgrader's assignment list, as its JupyterLab panel calls it
    def assignments(self, course: str) -> list[dict]:
        result = self.ok_json(self.get("assignments", params={"course_id": course}))
        if not result.get("success"):
            raise HubError(f"{self.name}: assignment list failed: {result.get('value')}")
        return result["value"]

    def assignment_action(self, action: str, course: str, assignment: str) -> Any:
        reply = self.post(f"assignments/{action}", data={"course_id": course, "assignment_id": assignment})
        result = self.ok_json(reply)
        if isinstance(result, dict) and result.get("success") is False:
            raise HubError(f"{self.name}: {action} {assignment} failed: {result.get('value')}")
        return result

    # formgrader, as its pages call it
    def formgrader(self, action: str, assignment: str) -> dict:
        result = self.ok_json(self.post(f"formgrader/api/assignment/{assignment}/{action}"))
        if not result.get("success"):
            raise HubError(f"{self.name}: formgrader {action} {assignment} failed: "
                           f"{result.get('error') or result.get('log') or result}")
        return result

    # the contents API, as JupyterLab saves a notebook
    def read_notebook(self, path: str) -> dict:
        return self.ok_json(self.get(f"api/contents/{path}", params={"content": "1"}))["content"]

    def save_notebook(self, path: str, nb: dict) -> None:
        self.ok_json(self.put(f"api/contents/{path}", json={"type": "notebook", "format": "json", "content": nb}))

    def save_text(self, path: str, text: str) -> None:
        self.ok_json(self.put(f"api/contents/{path}", json={"type": "file", "format": "text", "content": text}))

    # a terminal, as the trainer opens one in JupyterLab
    def terminal(self, command: str, timeout: float = 300) -> tuple[int, str]:
        """Type ``command`` into a new terminal of the user's server; its exit status and output."""
        name = self.ok_json(self.post("api/terminals"))["name"]
        try:
            return asyncio.run(_type_into_terminal(self, name, command, timeout))
        finally:
            requests.delete(self.server_url(f"api/terminals/{name}"), headers=self.headers(), timeout=30)


_EXIT = re.compile(r"__SPM_EXIT_(\d+)__")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


async def _connect(user: User, name: str):  # noqa: ANN202 - a tornado WebSocketClientConnection
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    url = user.server_url(f"terminals/websocket/{name}").replace("http://", "ws://", 1)
    return await websocket_connect(HTTPRequest(url, headers=user.headers(), request_timeout=60))


async def _type_into_terminal(user: User, name: str, command: str, timeout: float) -> tuple[int, str]:
    conn = await _connect(user, name)
    try:
        await conn.write_message(json.dumps(["set_size", 50, 250, 600, 1200]))
        # No echo and no prompt: the transcript is then the command's own output.
        await conn.write_message(json.dumps(["stdin", "stty -echo; PS1=''; PS2=''\r"]))
        # The markers are printed, not typed: what is typed has %s where the output has the word or
        # the status, so an echo of the command line cannot be mistaken for them.
        await conn.write_message(json.dumps(
            ["stdin", f"printf '__SPM_%s__\\n' START; {command}; printf '\\n__SPM_EXIT_%s__\\n' $?\r"]))
        output: list[str] = []
        closed: list[str] = []
        tail = ""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HubError(f"{user.name}: {command!r} did not finish within {timeout:.0f} s:\n{''.join(output)}")
            message = await asyncio.wait_for(conn.read_message(), left)
            if message is None:
                # A terminal outlives its websocket: the shell and the command go on, and JupyterLab
                # reconnects to the same terminal, which replays its recent output. So do we.
                closed.append(f"{conn.close_code} {conn.close_reason}")
                if len(closed) > 3:
                    raise HubError(f"{user.name}: the terminal's websocket kept closing ({'; '.join(closed)}):\n"
                                   f"{''.join(output)[-3000:]}\n--- hub log ---\n{user.hub.log_tail(40)}")
                await asyncio.sleep(1)
                conn = await _connect(user, name)
                continue
            kind, *payload = json.loads(message)
            if kind != "stdout":
                continue
            output.append(payload[0])
            tail = (tail + payload[0])[-400:]   # the marker may arrive split over several messages
            if "__SPM_EXIT_" not in tail:
                continue
            text = _ANSI.sub("", "".join(output))
            found = _EXIT.search(text)
            if found:
                before = text[:found.start()]
                return int(found.group(1)), before[before.rfind("__SPM_START__") + len("__SPM_START__"):].strip()
    finally:
        conn.close()
