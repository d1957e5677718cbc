"""``spm serve``: the reports as a live web app, alone on this machine or as a JupyterHub service."""

from __future__ import annotations

import click

from ..project import Project
from .common import pass_project


@click.command("serve")
@click.option("--host", default=None, metavar="HOST",
              help="The address to listen on (default: 127.0.0.1; with --auth hub, the host of "
                   "$JUPYTERHUB_SERVICE_URL). Any other than this machine's needs --auth hub or --token.")
@click.option("--port", default=None, type=click.IntRange(0, 65535), metavar="PORT",
              help="The port (default: 8765; with --auth hub, the port of $JUPYTERHUB_SERVICE_URL).")
@click.option("--auth", "auth_mode", type=click.Choice(["local", "hub"]), default="local", show_default=True,
              help="local: a token in the printed URL, then a cookie; hub: JupyterHub's OAuth, as a hub-managed "
                   "service.")
@click.option("--token", metavar="TOKEN", default=None,
              help="Local mode: the token of the URL (default: $SPM_SERVE_TOKEN, else a new random one).")
@click.option("--as", "as_login", metavar="LOGIN", default=None,
              help="Local mode: show the pages as this roster login sees them (a rep's or a manager's).")
@click.option("--book-url", metavar="URL", default=None,
              help="Where skills link to in the book (default: the built book served at /book/).")
@click.option("--sync-every", "sync_every", type=click.IntRange(0, 10_080), default=None, metavar="MINUTES",
              help="Hub mode: sync from the course's gradebook every MINUTES (default: serve.sync_every_minutes "
                   "in spm.yml, else 0: no scheduled sync).")
@pass_project
def serve(project: Project, host: str | None, port: int | None, auth_mode: str, token: str | None,
          as_login: str | None, book_url: str | None, sync_every: int | None) -> None:
    """Serve the team, rep and item reports, the index and the built book, live from the store.

    Pages are the static reports' views, rendered on first request and kept until an import or a sync
    changes the store. Local mode (the default) binds 127.0.0.1:8765 and prints a URL with a token, as
    Jupyter does; the person at the terminal sees the whole organisation and may upload files, unless
    --as LOGIN shows it as that login would see it. In hub mode (--auth hub) the service runs under
    JupyterHub: it listens on $JUPYTERHUB_SERVICE_URL, serves under $JUPYTERHUB_SERVICE_PREFIX and
    signs users in with the hub; the roster's login and manager_login columns and the hub groups of
    spm.yml's serve section say who sees what. Uploads are capped at 50 MB. Stop it with Ctrl-C.
    """
    from ..serve.run import run_service

    run_service(project, host=host, port=port, auth_mode=auth_mode, token=token, as_login=as_login,
                book_url=book_url, sync_every=sync_every, echo=click.echo)
