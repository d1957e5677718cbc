"""The served pages: the static reports' contexts and templates, with links to served URLs.

Each function takes an open store and returns a :class:`Page`: the context (plain data, the
``/api/...`` JSON) and its HTML, rendered by the reports' own templates. Only the links differ from
the files ``spm report`` writes: a team page links its reps to ``<prefix>rep/<id>``, skills link to
``<prefix>book/...`` and every page carries the site's navigation.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from .. import formatting as fmt
from ..analysis import views
from ..analysis.facade import analyse
from ..analysis.progress import book_progress, team_progress
from ..project import Project
from ..reports.build import (
    _common,
    environment,
    index_context,
    items_context,
    rep_context,
    team_context,
    team_impact,
)
from ..reports.links import BookLinks
from ..store import Store
from ..text import plural
from .access import Access


@dataclasses.dataclass(frozen=True)
class Site:
    """The served URLs, all under one prefix (``/`` locally, ``JUPYTERHUB_SERVICE_PREFIX`` on a hub).
    ``book_url``: where skills link to (default: the served book)."""

    prefix: str = "/"
    book_url: str | None = None

    def url(self, *parts: str) -> str:
        return self.prefix + "/".join(quote(p, safe="") for p in parts)

    def home(self) -> str:
        return self.prefix

    def team(self, team: str) -> str:
        return self.url("team", team)

    def rep(self, rep_id: str) -> str:
        return self.url("rep", rep_id)

    def items(self, assignment: str) -> str:
        return self.url("items", assignment)

    @property
    def book(self) -> str:
        return self.book_url or self.prefix + "book/"


#: Where a served page's navigation goes: it names the user, so it is written per request into the
#: cached HTML (see base.html).
NAV_MARKER = "<!--spm:nav-->"


@dataclasses.dataclass
class Page:
    """A computed page: its template kind, context and HTML (with :data:`NAV_MARKER` where the
    navigation goes); the JSON is written on first use."""

    kind: str
    context: dict
    html: str
    _json: str | None = None
    _parts: tuple[bytes, bytes] | None = None

    def with_nav(self, nav: str) -> str:
        return self.html.replace(NAV_MARKER, nav, 1)

    def chunks(self, nav: str) -> tuple[bytes, bytes, bytes]:
        """The page's UTF-8 bytes around the navigation, encoded once per page (a 2,000-rep team page
        is megabytes: a warm request should copy it, not encode it again)."""
        if self._parts is None:
            head, _, tail = self.html.encode("utf-8").partition(NAV_MARKER.encode())
            self._parts = (head, tail)
        return self._parts[0], nav.encode("utf-8"), self._parts[1]

    @property
    def json(self) -> str:
        if self._json is None:
            self._json = json.dumps(jsonable(self.context), ensure_ascii=False)
        return self._json


def jsonable(value: Any) -> Any:
    """A context as plain JSON: charts (SVG markup) left out, NaN as null, dates as ISO text."""
    if isinstance(value, Markup):
        return None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items() if not isinstance(v, Markup)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "item") and callable(value.item):        # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def nav(site: Site, access: Access | None) -> str:
    """The served pages' navigation for one user (none for an anonymous visitor)."""
    if access is None:
        return ""
    return environment().get_template("nav.html").render(
        home=site.home(), reports=site.url("reports") if access.sees_index else "",
        upload=site.url("upload") if access.may_upload else "", book=site.book, user=access.login,
        roles=", ".join(access.roles))


@functools.lru_cache(maxsize=8)
def links_for(project: Project, book: str) -> BookLinks:
    return BookLinks(project, book)


def _render(kind: str, context: dict, site: Site, access: Access) -> Page:
    html = environment().get_template(f"{kind}.html").render(**context, served=Markup(NAV_MARKER))
    return Page(kind, context, html)


def team_page(store: Store, project: Project, site: Site, access: Access, team: str) -> Page:
    a = analyse(store, project, team=team)
    context = team_context(a, team, links_for(project, site.book), rep_pages={r: site.rep(r) for r in a.rep_ids},
                           impact=team_impact(store, a, team))
    return _render("team", context, site, access)


def rep_page(store: Store, project: Project, site: Site, access: Access, rep_id: str) -> Page:
    a = analyse(store, project, rep=rep_id)
    return _render("rep", rep_context(a, rep_id, links_for(project, site.book)), site, access)


def items_page(store: Store, project: Project, site: Site, access: Access, assignment: str) -> Page:
    from ..errors import NotFoundError

    a = analyse(store, project)
    if assignment not in a.assignments:
        raise NotFoundError(f"no assignment '{assignment}' in the store; assignments: "
                            f"{', '.join(a.assignments) or 'none synced yet'}")
    return _render("items", items_context(a, assignment, links_for(project, site.book)), site, access)


def index_page(store: Store, project: Project, site: Site, access: Access) -> Page:
    """The index of every report, as ``write_reports`` writes it, linking to the served pages."""
    whole = analyse(store, project, detail=False)
    groups: dict[str, list[dict]] = {"team": [], "rep": [], "items": []}
    for team in sorted(whole.team_ids()):
        size = len(views.team_members(whole, team))
        groups["team"].append({"kind": "team", "key": team, "label": f"Team {team} ({size} reps)",
                               "href": site.team(team)})
    for rep in views.reps_in_order(whole, ("team", "name")):
        groups["rep"].append({"kind": "rep", "key": rep["rep_id"], "label": f"{rep['name']} ({rep['team']})",
                              "href": site.rep(rep["rep_id"])})
    for assignment in whole.assignments:
        groups["items"].append({"kind": "items", "key": assignment, "label": assignment,
                                "href": site.items(assignment)})
    context = {**_common(links_for(project, site.book), "Reports"), **index_context(whole, groups),
               "impact_href": site.url("impact"), "hiring_href": site.url("hiring")}
    return _render("index", context, site, access)


def impact_page(store: Store, project: Project, site: Site, access: Access) -> Page:
    """The organisation's training impact, as ``write_reports`` writes ``impact.html``."""
    from ..analysis.impact import impact_results
    from ..reports.impact_view import section

    whole = analyse(store, project, detail=False)
    context = {**_common(links_for(project, site.book), "Training impact: did the training move the numbers?"),
               "reps": len(whole.rep_ids), "index_href": site.url("reports"),
               "impact": section(impact_results(store, whole.skills, whole.kpis), whole.kpis)}
    return _render("impact", context, site, access)


def hiring_page(store: Store, project: Project, site: Site, access: Access) -> Page:
    """The organisation's hiring profile and interview scorecard, as ``write_reports`` writes ``hiring.html``."""
    from ..reports.hiring_view import hiring_context

    whole = analyse(store, project, detail=False)
    links = links_for(project, site.book)
    return _render("hiring", hiring_context(whole, links, _common(links, "Hiring profile")), site, access)


# --- the home page and reading progress ------------------------------------------------------------

def progress_view(progress: dict, links: BookLinks) -> dict:
    """A rep's :func:`~spm_training.analysis.progress.book_progress` with each page's title and link,
    and its sentences written out."""
    pages = []
    for p in progress["pages"]:
        link = links.page(p["page"])
        pages.append({**p, "title": link.title, "url": link.url, "due": p["due_day"] <= progress["day"]})
    answered, right = progress["answered"], progress["right_first"]
    return {**progress, "pages": pages,
            "reading_text": f"{progress['read_due']} of {plural(progress['due_now'], 'page')} due by day "
                            f"{progress['day']} read" if progress["due_now"] else
                            f"no pages due yet by day {progress['day']}",
            "checks_text": (f"{plural(answered, 'knowledge-check question')} answered, "
                            f"{fmt.percent(right / answered)} right on the first try") if answered else
                           "no knowledge-check answers recorded yet"}


def home_page(store: Store, project: Project, site: Site, access: Access, roster: list[dict],
              today: date | None = None) -> Page:
    """The home page of a manager (their teams, each rep's reading progress) or a rep (their report
    and progress); several roles, several sections, and a link to the index for ops and trainers
    (who have only the index as their home page: see the app's home handler)."""
    links = links_for(project, site.book)
    names = {r["rep_id"]: r for r in roster}
    own = None
    if access.rep_id is not None:
        rep = names[access.rep_id]
        own = {"rep_id": access.rep_id, "name": rep["name"], "team": rep["team"], "href": site.rep(access.rep_id),
               "progress": progress_view(book_progress(store, project, access.rep_id, today), links)}
    teams = []
    for team in sorted(access.teams):
        rows = []
        for p in team_progress(store, project, team, today):
            view = progress_view(p, links)
            rows.append({"rep_id": p["rep_id"], "name": names[p["rep_id"]]["name"], "href": site.rep(p["rep_id"]),
                         "day": p["day"], "due_now": p["due_now"], "read_due": p["read_due"],
                         "answered": p["answered"], "right_first": p["right_first"],
                         "reading_text": view["reading_text"], "checks_text": view["checks_text"]})
        teams.append({"team": team, "href": site.team(team), "reps": rows})
    title = f"Welcome, {own['name']}" if own else f"Welcome, {access.login}"
    context = {**_common(links, title), "own": own, "teams": teams, "organisation": access.organisation,
               "reports_url": site.url("reports") if access.sees_index else ""}
    return _render("home", context, site, access)
