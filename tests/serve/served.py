"""An in-process ``spm serve`` for the tests: a small populated store with hub logins, a fake built
book, and a client that keeps cookies and never follows redirects."""

from __future__ import annotations

import asyncio
import csv
import http.client
import io
import json
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from analysis_data import ROOT, TODAY, populated
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from spm_training.ingest.roster import import_roster
from spm_training.project import Project
from spm_training.serve.app import MAX_UPLOAD, ServeConfig, Service, make_app
from spm_training.store import checkpoint, open_store

BOOK_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>
<div class="spm-kc" id="spm-kc-1"><fieldset class="spm-kc-question" id="spm-kc-1-q1"><legend>Q</legend></fieldset></div>
</body></html>
"""


def manager_login(manager: str) -> str:
    return manager.lower().replace(" ", ".")


@dataclass
class Org:
    """The template store (never served itself: each test serves a copy) and who is in it."""

    folder: Path
    roster: list[dict]

    @property
    def teams(self) -> list[str]:
        return sorted({r["team"] for r in self.roster})

    def reps_of(self, team: str) -> list[dict]:
        return [r for r in self.roster if r["team"] == team]

    def manager_of(self, team: str) -> str:
        return manager_login(self.reps_of(team)[0]["manager"])


def build_org(folder: Path) -> Org:
    """A populated store (the analysis tests' builder, 9 reps in 3 teams), with the demo roster's
    logins as they come."""
    _, info = populated(folder, n_reps=9)
    return Org(folder, [dict(r) for r in info["data"].roster])


def with_logins(org: Org, folder: Path) -> Org:
    """A copy of ``org`` whose roster was imported again with each rep's hub login (the id) and each
    team's manager_login (the manager's name, dotted: see :func:`manager_login`)."""
    shutil.copy2(org.folder / "spm.db", folder / "spm.db")
    text = io.StringIO()
    columns = [*dict.fromkeys([*org.roster[0].keys(), "login", "manager_login"])]
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    for r in org.roster:
        writer.writerow({**r, "login": r["id"], "manager_login": manager_login(r["manager"])})
    (folder / "roster-logins.csv").write_text(text.getvalue())
    with open_store(folder / "spm.db") as store:
        import_roster(store, folder / "roster-logins.csv")
        checkpoint(store)
    return Org(folder, org.roster)


def project_copy(org: Org, tmp: Path, *, book: bool = True) -> Project:
    """A project in ``tmp`` serving a copy of the org's store, with the course's skills.yml and,
    when ``book``, a small built book."""
    root = tmp / "project"
    (root / "course").mkdir(parents=True)
    (root / "_config.yml").write_text("title: test\n")
    shutil.copy2(org.folder / "spm.db", root / "spm.db")
    shutil.copy2(ROOT / "assessments" / "skills.yml", root / "course" / "skills.yml")
    if book:
        html = root / "_build" / "html"
        (html / "book" / "sdr").mkdir(parents=True)
        (html / "_static").mkdir()
        (html / "index.html").write_text(BOOK_PAGE.format(title="Handbook"))
        (html / "book" / "sdr" / "prospecting.html").write_text(BOOK_PAGE.format(title="Prospecting"))
        (html / "_static" / "book.css").write_text("body { margin: 0; }\n")
    return Project.at(root, course_dir=root / "course", db_path=root / "spm.db")


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Client:
    """Requests to the served app; cookies are kept per client."""

    port: int
    user: str | None = None             # the stub hub user, by name (see Served.users)
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.user is not None:
            sent["X-Test-User"] = self.user
        try:
            conn.request(method, path, body=body, headers=sent)
            r = conn.getresponse()
            response = Response(r.status, r.headers, r.read())
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response

    def get(self, path: str, **kw: object) -> Response:
        return self.request("GET", path, **kw)  # type: ignore[arg-type]

    def xsrf(self) -> str:
        """The XSRF token (from the cookie that pages with a form set)."""
        return self.cookies["_xsrf"]

    def post_form(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None,
                  *, xsrf: bool = True) -> Response:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in {**fields, **({"_xsrf": self.xsrf()} if xsrf else {})}.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content) in (files or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         f"Content-Type: text/csv\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body=body,
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


class Served:
    """``make_app(config)`` listening on a free loopback port in a thread of its own."""

    def __init__(self, config: ServeConfig, users: dict[str, dict] | None = None) -> None:
        self.users = users or {}
        if users is not None:
            config.user_for = lambda handler: self.users.get(handler.request.headers.get("X-Test-User", ""))
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)

    async def _start(self) -> int:
        self.app = make_app(self.config)
        sock, port = bind_unused_port()
        self.server = HTTPServer(self.app, max_body_size=MAX_UPLOAD + 1024 * 1024)
        self.server.add_sockets([sock])
        return port

    @property
    def service(self) -> Service:
        return self.app.settings["spm_service"]

    def client(self, user: str | None = None) -> Client:
        return Client(self.port, user)

    def stop(self) -> None:
        async def _stop() -> None:
            self.server.stop()
        asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(timeout=30)
        self.service.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)


def path(*parts: str, prefix: str = "/") -> str:
    return prefix + "/".join(quote(p, safe="") for p in parts)


__all__ = ["TODAY", "Client", "Org", "Served", "build_org", "path", "project_copy", "with_logins"]
