"""Serve the book's scripts, styles and vendored libraries from the site itself, never from a CDN.

The files live in ``static/`` next to this module (see ``static/ASSETS.md``) and are copied into the
site's ``_static/``. The vendored libraries are loaded only where needed: MathJax by Sphinx on pages
with math (``mathjax_path``), require.js and the widget manager by MyST-NB on pages with widgets
(``nb_ipywidgets_js``). A configuration that still points either at the network is a build warning,
so the strict build fails before an offline reader meets a blank widget or raw LaTeX.

Pages also stay light on a phone's connection. Sphinx loads MathJax on the landing page whenever any
page of the book has math (it counts the pages a table of contents includes); here a page loads it only
for its own math. Our ``layout.html`` leaves out pydata-sphinx-theme's ``fontawesome.js`` (1.5 MB of
JavaScript for a dozen icons) and the search index,
which ``spm/search-loader.js`` fetches when a reader opens the search; ``spm/icons.css`` draws the
theme's few icons, so the Font Awesome web font loads only where an admonition needs it.
``spm/navigation.js`` makes the sidebar buttons work (see that file), and the book gets a favicon,
written into each page as a data: URI, unless it names its own (``html_favicon``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from docutils import nodes
from markupsafe import Markup
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
CSS_FILE = "spm/spm-book.css"
ICONS_CSS = "spm/icons.css"
NAVIGATION_JS = "spm/navigation.js"
SEARCH_LOADER_JS = "spm/search-loader.js"
FAVICON = STATIC_DIR / "spm" / "favicon.svg"
# Tags the theme writes into every page that our layout.html takes out again (see the module's docstring).
UNWANTED_TAGS = re.compile(r'<script\b[^>]*\bsrc="[^"]*(?:/scripts/fontawesome\.js|\bsearchindex\.js)[^"]*"[^>]*>'
                           r"\s*</script>\s*")

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
    config.templates_path = [*config.templates_path, str(TEMPLATES_DIR)]
    remote = []
    if "mathjax_path" in config and _is_remote(config.mathjax_path or ""):
        remote.append(f"mathjax_path = {config.mathjax_path!r} (use {MATHJAX_PATH!r})")
    if "nb_ipywidgets_js" in config:
        remote += [f"nb_ipywidgets_js loads {uri!r} (use {', '.join(IPYWIDGETS_JS)})"
                   for uri in (config.nb_ipywidgets_js or {}) if _is_remote(uri)]
    for problem in remote:
        logger.warning("offline book: %s, which needs the network; point it at the copy served with the "
                       "site", problem, type="spm", subtype="offline")


def trim_assets(html: str) -> Markup:
    """The theme's markup for a page's head without the scripts no page needs up front."""
    return Markup(UNWANTED_TAGS.sub("", str(html)))


def has_math(doctree: nodes.document | None) -> bool:
    """Whether the page itself (not the pages its table of contents lists) has math to typeset."""
    if doctree is None:
        return False
    return any(True for _ in doctree.findall(lambda n: isinstance(n, (nodes.math, nodes.math_block))))


def _is_mathjax(js: Any, mathjax_path: str) -> bool:
    """MathJax itself, or the inline script that configures it (a body starting ``window.MathJax``)."""
    filename = str(getattr(js, "filename", js))
    body = str(getattr(js, "attributes", {}).get("body", ""))
    return filename == mathjax_path or body.startswith("window.MathJax")


def favicon_uri() -> str:
    """The favicon as a data: URI, written into each page: no request, nothing to wait for or to abort."""
    return "data:image/svg+xml," + quote(" ".join(FAVICON.read_text(encoding="utf-8").split()), safe=" =/:-.,#")


def page_assets(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Per page: the trimming filter for layout.html, our favicon unless the book names its own, and MathJax
    only where the page has math."""
    context["spm_trim_assets"] = trim_assets
    context["spm_favicon"] = "" if app.config.html_favicon else favicon_uri()
    mathjax = "_static/" + (app.config.mathjax_path or "")
    scripts = context.get("script_files")
    if isinstance(scripts, list) and not has_math(doctree):
        scripts[:] = [js for js in scripts if not _is_mathjax(js, mathjax)]


def setup(app: Sphinx) -> None:
    # Priority 900: after the other extensions' config-inited handlers, so their paths come first.
    app.connect("config-inited", add_static_path, priority=900)
    # After sphinx.ext.mathjax's own handler (priority 500), which adds MathJax to the page.
    app.connect("html-page-context", page_assets, priority=600)
    app.add_css_file(CSS_FILE)
    app.add_css_file(ICONS_CSS)
    app.add_js_file(NAVIGATION_JS, defer="defer")
    app.add_js_file(SEARCH_LOADER_JS, defer="defer")
