"""Serve the book's scripts, styles and vendored libraries from the site itself, never from a CDN.

The files live in ``static/`` next to this module (see ``static/ASSETS.md``) and are copied into the
site's ``_static/``. The vendored libraries are loaded only where needed: MathJax by Sphinx on pages
with math (``mathjax_path``), require.js and the widget manager by MyST-NB on pages with widgets
(``nb_ipywidgets_js``). A configuration that still points either at the network is a build warning,
so the strict build fails before an offline reader meets a blank widget or raw LaTeX.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
CSS_FILE = "spm/spm-book.css"

# Paths relative to the site's _static/ folder, for the book's _config.yml and for tests.
MATHJAX_PATH = "spm/vendor/mathjax/tex-chtml.js"
REQUIREJS_PATH = "spm/vendor/requirejs/require.js"
WIDGETS_PATHS_JS = "spm/widgets-paths.js"
HTML_MANAGER_PATH = "spm/vendor/html-manager/embed-amd.js"
# What nb_ipywidgets_js should hold, in this order (see static/spm/widgets-paths.js for why).
IPYWIDGETS_JS = (REQUIREJS_PATH, WIDGETS_PATHS_JS, HTML_MANAGER_PATH)


def _is_remote(uri: str) -> bool:
    return "://" in uri or uri.startswith("//")


def add_static_path(app: Sphinx, config: Config) -> None:
    """Copy our static folder into _static/ and refuse configuration that fetches from the network."""
    config.html_static_path = [*config.html_static_path, str(STATIC_DIR)]
    remote = []
    if "mathjax_path" in config and _is_remote(config.mathjax_path or ""):
        remote.append(f"mathjax_path = {config.mathjax_path!r} (use {MATHJAX_PATH!r})")
    if "nb_ipywidgets_js" in config:
        remote += [f"nb_ipywidgets_js loads {uri!r} (use {', '.join(IPYWIDGETS_JS)})"
                   for uri in (config.nb_ipywidgets_js or {}) if _is_remote(uri)]
    for problem in remote:
        logger.warning("offline book: %s, which needs the network; point it at the copy served with the "
                       "site", problem, type="spm", subtype="offline")


def setup(app: Sphinx) -> None:
    # Priority 900: after the other extensions' config-inited handlers, so their paths come first.
    app.connect("config-inited", add_static_path, priority=900)
    app.add_css_file(CSS_FILE)
