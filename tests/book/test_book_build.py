"""The book builds clean and strict (``jupyter-book build . -W --keep-going --all``), as CI builds it."""

from __future__ import annotations

import json
import re

import pytest
from conftest import BookBuild

pytestmark = pytest.mark.slow

# ipykernel 7 logs this on every kernel start (it is about the local kernel's transport, not the book).
KERNEL_TRANSPORT_NOTICE = re.compile(r"\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption")


def test_book_builds_clean_and_strict(book_build: BookBuild) -> None:
    warnings = [line for line in book_build.output.splitlines()
                if "WARNING" in line and not KERNEL_TRANSPORT_NOTICE.search(line)]
    assert warnings == [], "the build printed warnings:\n" + "\n".join(warnings[:20])
    assert book_build.returncode == 0, book_build.output[-3000:]
    assert (book_build.html / "index.html").is_file()


def test_every_page_of_the_toc_is_built(book_build: BookBuild) -> None:
    import yaml

    toc = yaml.safe_load((book_build.source / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    missing = [f for f in files if not (book_build.html / f"{f}.html").is_file()]
    assert missing == []


def test_widget_state_is_embedded_in_the_calculator_page(book_build: BookBuild) -> None:
    page = (book_build.html / "notebooks" / "kpi_calculator.html").read_text(encoding="utf-8")
    state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', page, re.S)
    assert state, "no widget state on the page: the notebook was not executed with widget state saved"
    models = json.loads(state.group(1))["state"]
    html_values = [m["state"].get("value", "") for m in models.values() if m["model_name"] == "HTMLModel"]
    # The worked example computed at build time: 14 won of 44 decided, CAC 126,000 / 14.
    assert any("31.8%" in v and "EUR 9,000" in v for v in html_values)
    assert any("Calls: not SMART yet (4 to fix)" in v for v in html_values)
    assert page.count('type="application/vnd.jupyter.widget-view+json"') == 2
    # require.js, the path map and the widget manager come from the site, in that order.
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', page)
    local = [s.split("?")[0] for s in scripts if "spm/" in s]
    assert local[-3:] == ["../_static/spm/vendor/requirejs/require.js", "../_static/spm/widgets-paths.js",
                          "../_static/spm/vendor/html-manager/embed-amd.js"]
    assert not [s for s in scripts if "://" in s]


LOADING_TAG = re.compile(r"<(script|link|img|iframe|source|video|audio|embed)\b[^>]*>", re.I)
LOADING_REL = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "manifest"}


def remote_loads(html: str) -> list[str]:
    """URLs outside the site that a page's tags would load (plain <a href> links are not loads)."""
    urls = []
    for match in LOADING_TAG.finditer(html):
        tag, name = match.group(0), match.group(1).lower()
        if name == "link":
            rel = re.search(r'rel="([^"]*)"', tag)
            if not rel or not LOADING_REL & set(rel.group(1).lower().split()):
                continue
        for url in re.findall(r'\b(?:src|href)="([^"]+)"', tag):
            if re.match(r"(?:[a-z]+:)?//", url, re.I):
                urls.append(url)
    return urls


def test_remote_loads_finds_what_a_browser_would_fetch() -> None:
    page = ('<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/a.css">'
            '<link rel="canonical" href="https://example.org/page"><a href="https://example.org">x</a>'
            '<script src="_static/local.js"></script>')
    assert remote_loads(page) == ["https://cdn.example/x.js", "//cdn.example/a.css"]


def test_no_page_loads_anything_from_the_network(book_build: BookBuild) -> None:
    remote = {}
    for page in book_build.html.rglob("*.html"):
        found = remote_loads(page.read_text(encoding="utf-8"))
        if found:
            remote[str(page.relative_to(book_build.html))] = found[:3]
    assert remote == {}
