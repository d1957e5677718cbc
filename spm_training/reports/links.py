"""Links from a report into the built book: each page's title (its first heading) and URL.

This is the reporting edge: the analysis names pages by their path in the book (``book/sdr/prospecting``,
as ``skills.yml`` lists them); here they become a title read from the page's markdown and a URL under
the built book, relative to the report or absolute (``--book-url``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from ..project import Project

#: Where a report outside a project looks for the book: a sibling ``book/html/`` folder.
DEFAULT_BOOK_URL = "../book/html/"
#: The handbook page that defines every figure the reports show.
DEFINITIONS_PAGE = "book/performance/skill-gaps"
#: The handbook page that defines every KPI: one section a KPI, with the anchor ``kpi-<id>``
#: (underscores as hyphens, as docutils makes ids; see spm_training/sphinxext/kpi_catalog.py).
KPI_REFERENCE_PAGE = "book/performance/kpi-reference"


def with_slash(url: str) -> str:
    """``url`` ending in one slash, so that a page path can follow it (empty stays empty)."""
    return url if url.endswith("/") or not url else url + "/"


@dataclass(frozen=True)
class Page:
    """A book page that teaches a skill, with its link into the built book."""

    path: str
    title: str
    url: str


def page_title(source: Path | None, page: str) -> str:
    """The first heading of a book page's markdown (``source``), else a title made from its name."""
    if source is not None and source.is_file():
        for line in source.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return page.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ").capitalize()


class BookLinks:
    """Resolves page paths to :class:`Page` links for one report (or one set of reports)."""

    def __init__(self, project: Project | None, book_url: str = DEFAULT_BOOK_URL) -> None:
        self.project = project
        self.base = with_slash(book_url)

    @functools.lru_cache(maxsize=None)  # noqa: B019 - one instance per report run; titles are read once
    def page(self, path: str) -> Page:
        source = self.project.page_source(path) if self.project is not None else None
        return Page(path=path, title=page_title(source, path), url=f"{self.base}{path}.html")

    def pages(self, paths: tuple[str, ...] | list[str]) -> list[dict]:
        return [{"title": p.title, "url": p.url} for p in map(self.page, paths)]

    @property
    def definitions_url(self) -> str:
        return f"{self.base}{DEFINITIONS_PAGE}.html"

    def kpi_url(self, kpi: str | None) -> str:
        """The KPI's section in the KPI reference (the page itself with ``kpi`` None)."""
        page = f"{self.base}{KPI_REFERENCE_PAGE}.html"
        return page if kpi is None else f"{page}#kpi-{kpi.lower().replace('_', '-')}"


def default_book_url(project: Project | None, output: Path) -> str:
    """The project's built book (``_build/html``), relative to the folder the report is written to."""
    if project is None or project.built_book is None:
        return DEFAULT_BOOK_URL
    relative = os.path.relpath(project.built_book.resolve(), output.resolve().parent)
    return Path(relative).as_posix().rstrip("/") + "/"
