"""Starting ``spm serve``: the address, the token, the HTTP server and the scheduled sync."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from ..errors import SpmError
from ..project import Project
from ..settings import load_serve_settings
from . import auth
from .app import MAX_UPLOAD, ServeConfig, Service, make_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ServeError(SpmError):
    """``spm serve`` cannot start as asked."""


def service_address(env: Mapping[str, str]) -> tuple[str, int, str]:
    """Hub mode's host, port and prefix, from JupyterHub's service environment
    (``JUPYTERHUB_SERVICE_URL``, ``JUPYTERHUB_SERVICE_PREFIX``)."""
    url = env.get("JUPYTERHUB_SERVICE_URL", "")
    if not url:
        raise ServeError("--auth hub needs $JUPYTERHUB_SERVICE_URL: run spm serve as a service of JupyterHub "
                         "(see deploy/jupyterhub_config.py), which sets it")
    parts = urlsplit(url)
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "/") or "/"
    return parts.hostname or DEFAULT_HOST, parts.port or DEFAULT_PORT, prefix if prefix.endswith("/") else prefix + "/"


def plan(project: Project, *, host: str | None, port: int | None, auth_mode: str, token: str | None,
         as_login: str | None, book_url: str | None, sync_every: int | None,
         env: Mapping[str, str] | None = None) -> tuple[ServeConfig, str, int, int]:
    """The configuration, host, port and sync interval (minutes) that the options give, or a
    ServeError in one line."""
    env = os.environ if env is None else env
    settings = load_serve_settings(project.settings_path)
    prefix = "/"
    if auth_mode == "hub":
        if as_login:
            raise ServeError("--as works in local mode only: on the hub each user sees what is theirs")
        hub_host, hub_port, prefix = service_address(env)
        host, port = host or hub_host, port if port is not None else hub_port
        token = ""
    else:
        host, port = host or DEFAULT_HOST, port if port is not None else DEFAULT_PORT
        explicit = token or env.get(auth.TOKEN_ENV, "")
        if not auth.is_loopback(host) and not explicit:
            raise ServeError(f"--host {host} would open the service to other machines: give --token (or "
                             f"${auth.TOKEN_ENV}), or run it as a JupyterHub service with --auth hub")
        token = explicit or auth.new_token()
    every = settings.sync_every_minutes if sync_every is None else sync_every
    if every and auth_mode != "hub":
        raise ServeError("--sync-every works in hub mode only: locally, run spm sync when you want one")
    config = ServeConfig(project=project, auth=auth_mode, token=token or "", as_login=as_login, prefix=prefix,
                         book_url=book_url, settings=settings)
    return config, host, port, every


def url_for(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={token}"


def run_service(project: Project, *, host: str | None, port: int | None, auth_mode: str, token: str | None,
                as_login: str | None, book_url: str | None, sync_every: int | None,
                echo: Callable[[str], None] = print) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    config, host, port, every = plan(project, host=host, port=port, auth_mode=auth_mode, token=token,
                                     as_login=as_login, book_url=book_url, sync_every=sync_every)
    asyncio.run(_serve(config, host, port, every, echo))


async def _serve(config: ServeConfig, host: str, port: int, every: int, echo: Callable[[str], None]) -> None:
    from tornado.httpserver import HTTPServer

    app = make_app(config)
    service = app.settings["spm_service"]
    # The multipart wrapping of a 50 MB file adds a few kilobytes; the handler checks the file itself.
    server = HTTPServer(app, max_body_size=MAX_UPLOAD + 1024 * 1024, xheaders=config.auth == "hub")
    try:
        server.listen(port, host)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; give another --port") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    if config.auth == "hub":
        echo(f"spm serve: a JupyterHub service on {host}:{port} under {config.prefix}, store {config.project.db_path}")
    else:
        as_whom = f" as {config.as_login} sees it" if config.as_login else ""
        echo(f"spm serve: the store {config.project.db_path}{as_whom}; open this URL (Ctrl-C stops the service):")
        echo(f"    {url_for(host, port, config.token)}")
    task = asyncio.ensure_future(scheduled_sync(service, every * 60, echo)) if every else None
    try:
        await stop.wait()
    finally:
        if task is not None:
            task.cancel()
        server.stop()
        service.close()


async def scheduled_sync(service: Service, seconds: float, echo: Callable[[str], None]) -> None:
    """Sync from the course's gradebook every ``seconds``, saying each outcome in one line, until cancelled."""
    from .ops import sync_now

    while True:
        await asyncio.sleep(seconds)
        try:
            lines = await sync_now(service)
            echo("scheduled sync: " + "; ".join(lines))
        except SpmError as exc:
            echo(f"scheduled sync failed: {exc}")
