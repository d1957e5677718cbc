"""``spm serve``: the reports as a live web app, alone on one machine (a token) or as a JupyterHub
service (HubOAuth), each user seeing only what is theirs.

:mod:`.app` (routes and handlers), :mod:`.access` (who sees what), :mod:`.auth` (local mode's token),
:mod:`.pages` (the reports' contexts with served links), :mod:`.cache` (pages per store revision),
:mod:`.book` (the built book, recording reps' reading), :mod:`.ops` (uploads and syncs),
:mod:`.run` (the command's start-up).
"""

from __future__ import annotations

from .app import ServeConfig, make_app

__all__ = ["ServeConfig", "make_app"]
