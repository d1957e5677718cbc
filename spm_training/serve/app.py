"""The Tornado application of ``spm serve``: routes, the per-request work and the error pages.

Handlers are thin: each checks who is asking (:mod:`.auth`, :mod:`.access`), then runs one function
of :mod:`.pages` or :mod:`.ops` in the thread pool with the store opened read-only for that request
(an import in a trainer's terminal keeps working beside the service, and one slow page never holds
up ``/healthz``), and turns the package's exceptions into an error page with one line.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import getpass
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import tornado.web
from markupsafe import Markup
from tornado.web import HTTPError, RequestHandler

from .. import __version__
from ..analysis.queries import logins
from ..errors import InputError, NotFoundError, SpmError, StoreError
from ..ingest.crm_mapping import preset_names
from ..project import Project
from ..reports.build import environment
from ..reports.links import DEFINITIONS_PAGE
from ..settings import ServeSettings
from ..store import Store
from . import access as access_rules
from . import auth, book, ops, pages
from .access import Access
from .cache import DEFAULT_SIZE, PageCache

T = TypeVar("T")
Builder = Callable[[Store, Access], pages.Page]
#: a page's cache key, its builder, and whether it shows reading progress (activity)
Choice = tuple[tuple, Builder, bool]

#: Threads that compute pages and run imports.
WORKERS = 4
#: The largest upload accepted, in bytes (50 MB); the server refuses a bigger request body.
MAX_UPLOAD = 50 * 1024 * 1024

CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'self'")
#: The book's pages also need 'unsafe-eval' and blob: images: the ipywidgets embed manager of the notebook
#: pages compiles its JSON-schema validator (ajv) with new Function() and shows widget images as blobs.
#: The reports do without both.
BOOK_CSP = (CSP.replace("script-src 'self' 'unsafe-inline'", "script-src 'self' 'unsafe-inline' 'unsafe-eval'")
            .replace("img-src 'self' data:", "img-src 'self' data: blob:"))


class Problem(Exception):
    """A request the service refuses or cannot answer: an HTTP status, one line, and what to do."""

    def __init__(self, status: int, message: str, fix: str = "", heading: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.fix = status, message, fix
        self.heading = heading or {401: "Sign-in needed", 403: "Not yours to see", 404: "Not found",
                                   503: "Busy"}.get(status, "Something went wrong")


@dataclasses.dataclass
class ServeConfig:
    """How one ``spm serve`` runs."""

    project: Project
    auth: str = "local"                    # "local" (a token) or "hub" (a JupyterHub service)
    token: str = ""                        # local mode: the token of the printed URL
    as_login: str | None = None            # local mode: serve as this roster login would see it
    prefix: str = "/"
    book_url: str | None = None            # where skills link to (default: the served book)
    settings: ServeSettings = dataclasses.field(default_factory=ServeSettings)
    workers: int = WORKERS
    cache_size: int = DEFAULT_SIZE
    max_upload: int = MAX_UPLOAD           # bytes
    today: date | None = None              # the day progress is computed for (default: each day's date)
    #: tests: a stand-in for the hub's user model of a request (None: unauthenticated)
    user_for: Callable[[RequestHandler], dict | None] | None = None
    cookie_secret: bytes = b""


class Service:
    """What every handler shares: the project, the page cache, the thread pool, the roster's logins."""

    def __init__(self, config: ServeConfig) -> None:
        if not config.prefix.startswith("/") or not config.prefix.endswith("/"):
            raise ValueError("the prefix starts and ends with /")
        self.config = config
        self.project = config.project
        self.site = pages.Site(config.prefix, config.book_url)
        self.cache: PageCache[pages.Page] = PageCache(config.cache_size)
        self.executor = concurrent.futures.ThreadPoolExecutor(config.workers, thread_name_prefix="spm-serve")
        self._roster: tuple[int, list[dict]] | None = None
        self._roster_lock = threading.Lock()
        self._readers = threading.local()
        self._open_readers: list[Store] = []
        self.terminal_user = getpass.getuser()

    @property
    def hub(self) -> bool:
        return self.config.auth == "hub"

    def with_store(self, work: Callable[[Store], T], *, write: bool = False) -> T:
        """``work(store)`` with the store opened for writing (closed after), or read-only on this thread's
        own connection, kept between requests: opening a store checks it, which costs more than many a
        page, and a read-only connection sees every commit of the others as it lands."""
        try:
            store = self.project.open_store(write=True, create=False) if write else self._reader()
        except StoreError as exc:
            raise _store_problem(exc) from None
        try:
            return work(store)
        except sqlite3.Error as exc:
            self._drop_reader(store)
            from ..store import explain

            raise _store_problem(explain(self.project.db_path, exc, self.project.busy_timeout)) from None
        except StoreError as exc:
            self._drop_reader(store)
            raise _store_problem(exc) from None
        finally:
            if write:
                store.close()

    def _reader(self) -> Store:
        store = getattr(self._readers, "store", None)
        if store is None:
            store = self.project.open_store(write=False)
            self._readers.store = store
            with self._roster_lock:
                self._open_readers.append(store)
        return store

    def _drop_reader(self, store: Store) -> None:
        if getattr(self._readers, "store", None) is store:
            self._readers.store = None
            with self._roster_lock:
                self._open_readers.remove(store)
            store.close()

    async def run(self, work: Callable[[Store], T]) -> T:
        """``work(store)`` in the thread pool, with the store opened read-only for it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.with_store, work)

    async def write(self, work: Callable[[Store], T]) -> T:
        """``work(store)`` in the thread pool with the store opened for writing (reps' activity)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: self.with_store(work, write=True))

    def roster(self, store: Store) -> list[dict]:
        """:func:`~spm_training.analysis.queries.logins`, read again only after the store changed."""
        revision = store.data_revision()
        with self._roster_lock:
            if self._roster is not None and self._roster[0] == revision:
                return self._roster[1]
        rows = logins(store)
        with self._roster_lock:
            self._roster = (revision, rows)
        return rows

    def access(self, store: Store | None, user: dict) -> Access:
        """What ``user`` (a hub user model, or the person at the terminal) may see."""
        if user.get("terminal"):
            return access_rules.everything(str(user["name"]))
        if store is None:
            raise ValueError("a hub user's access is read from the roster")
        s = self.config.settings
        return access_rules.resolve(user, self.roster(store), ops_groups=s.ops_groups, trainer_groups=s.trainer_groups,
                                    today=self.config.today)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        with self._roster_lock:
            readers, self._open_readers = self._open_readers, []
        for store in readers:
            try:
                store.close()
            except sqlite3.ProgrammingError:
                pass                # made on a worker thread: SQLite closes it when it is collected


def _store_problem(exc: StoreError) -> Problem:
    text = str(exc)
    if "busy" in text or "locked" in text:
        return Problem(503, text, "Another command is writing to the store; reload the page in a moment.")
    return Problem(503, text)


# --- handlers ------------------------------------------------------------------------------------------

class BaseHandler(RequestHandler):
    """Security headers, who is asking, error pages."""

    #: reachable without signing in (shows no data)
    public = False

    def initialize(self, service: Service) -> None:
        self.service = service

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("X-Frame-Options", "SAMEORIGIN")
        self.set_header("Cache-Control", "no-store")

    # --- who is asking ---------------------------------------------------------------------------------

    def get_current_user(self) -> dict | None:
        config = self.service.config
        if config.user_for is not None:
            return config.user_for(self)
        if self.service.hub:
            return super().get_current_user()  # HubOAuthenticated's, mixed in by make_app in hub mode
        return auth.local_user(self, self.service)

    async def prepare(self) -> None:
        if self.public:
            return
        if not self.service.hub and auth.token_in_url(self):
            return                                # auth.token_in_url redirected or refused
        if self.current_user is None:
            hub_login = self.service.hub and self.service.config.user_for is None
            if hub_login and self.request.method in ("GET", "HEAD") and not self.is_api:
                self.redirect(self.get_login_url())
                return
            raise Problem(401, auth.SIGN_IN_MESSAGE if not self.service.hub else "Sign in to JupyterHub first.",
                          auth.SIGN_IN_FIX if not self.service.hub else "")

    @property
    def is_api(self) -> bool:
        return self.request.path.startswith(self.service.site.prefix + "api/")

    def user_access(self, store: Store | None) -> Access:
        """The signed-in user's access; 403 when the roster and the hub give them no role."""
        user = self.current_user
        assert user is not None                   # prepare() refused anonymous requests
        found = self.service.access(store, user)
        if not found.allowed:
            raise Problem(403, f"{found.login} has no role in spm: not a rep or a team manager in the roster, "
                               "nor in a trainers' or sales ops group.",
                          "Ask your sales ops admin to add your login to the roster (login or manager_login) or "
                          "to give you a role on the hub.")
        return found

    async def served(self, allowed: Callable[[Access], bool], choose: Callable[[Access], Choice]
                     ) -> tuple[pages.Page, Access]:
        """The page that ``choose(access)`` names for the signed-in user (its cache key, how to build it,
        and whether it shows reading progress), from the cache while the store is unchanged."""
        service = self.service

        def work(store: Store) -> tuple[pages.Page, Access]:
            who = self.user_access(store)
            if not allowed(who):
                raise Problem(403, f"{who.login} may not see this page.",
                              "Ask your sales ops admin if you should; your home page lists what is yours.")
            key, build, activity = choose(who)
            revision = (store.data_revision(), store.activity_revision() if activity else None)
            return service.cache.get((*key, *revision), lambda: build(store, who)), who

        return await service.run(work)

    async def show(self, allowed: Callable[[Access], bool], key: tuple, build: Builder, *,
                   activity: bool = False) -> None:
        await self.show_chosen(allowed, lambda who: (key, build, activity))

    async def show_chosen(self, allowed: Callable[[Access], bool], choose: Callable[[Access], Choice]) -> None:
        page, who = await self.served(allowed, choose)
        if self.is_api:
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(page.json)
        else:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            for chunk in page.chunks(pages.nav(self.service.site, who)):
                self.write(chunk)
            self.finish()

    # --- errors ----------------------------------------------------------------------------------------

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, (Problem, SpmError)) and not self._finished:
            self.send_error(_status(e), exc_info=(type(e), e, e.__traceback__))
            return
        super()._handle_request_exception(e)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, (Problem, SpmError)):
            return                                   # an answer, not a fault of the service
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, Problem):
            message, fix, heading = exc.message, exc.fix, exc.heading
        elif isinstance(exc, SpmError):
            message, fix, heading = str(exc), "", Problem(status_code, "").heading
        elif isinstance(exc, HTTPError) and status_code in HTTP_MESSAGES:
            # Tornado's own messages may name server paths (StaticFileHandler's "... is not in root static
            # directory"): the page says what happened in words of its own.
            message, fix, heading = HTTP_MESSAGES[status_code], "", Problem(status_code, "").heading
        else:
            message, fix, heading = self._reason, "", Problem(status_code, "").heading
        self.set_header("Cache-Control", "no-store")
        if self.is_api:
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(json.dumps({"status": status_code, "error": message}))
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        site = self.service.site
        self.finish(environment().get_template("error.html").render(
            title=heading, status=status_code, reason=self._reason, heading=heading, message=message, fix=fix,
            back=site.home() if status_code not in (401,) else "", generated=date.today().isoformat(),
            version=__version__, definitions_url=f"{site.book}{DEFINITIONS_PAGE}.html"))


#: What an error page says for Tornado's own refusals.
HTTP_MESSAGES = {400: "The request could not be read.",
                 403: "This request is refused: a form sent without its security token, or a path outside the "
                      "book.",
                 404: "There is no such page.", 405: "This page does not take that kind of request."}


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _status(e: BaseException) -> int:
    if isinstance(e, Problem):
        return e.status
    if isinstance(e, NotFoundError):
        return 404
    if isinstance(e, StoreError):
        return 503
    if isinstance(e, InputError):
        return 400
    return 500


class HealthHandler(BaseHandler):
    """200 "ok" and the store's revisions: for load balancers and the hub; no sign-in, no data."""

    public = True

    async def get(self) -> None:
        def work(store: Store) -> dict:
            return {"status": "ok", "data_revision": store.data_revision(),
                    "activity_revision": store.activity_revision()}

        try:
            body = await self.service.run(work)
        except Problem as exc:
            self.set_status(503)
            body = {"status": "unavailable", "error": exc.message}
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(body))


class HomeHandler(BaseHandler):
    """The home page by role; for ops and trainers only, the index."""

    async def get(self) -> None:
        s = self.service

        def choose(who: Access) -> Choice:
            if who.organisation and not who.teams and who.rep_id is None:
                return ("index",), lambda store, w: pages.index_page(store, s.project, s.site, w), False
            return ("home", who), lambda store, w: pages.home_page(store, s.project, s.site, w, s.roster(store),
                                                                   today=s.config.today), True

        await self.show_chosen(lambda who: True, choose)


class IndexHandler(BaseHandler):
    async def get(self) -> None:
        s = self.service
        await self.show(lambda who: who.sees_index, ("index",),
                        lambda store, who: pages.index_page(store, s.project, s.site, who))


class ImpactHandler(BaseHandler):
    async def get(self) -> None:
        s = self.service
        await self.show(lambda who: who.sees_index, ("impact",),
                        lambda store, who: pages.impact_page(store, s.project, s.site, who))


class HiringHandler(BaseHandler):
    async def get(self) -> None:
        s = self.service
        await self.show(lambda who: who.sees_index, ("hiring",),
                        lambda store, who: pages.hiring_page(store, s.project, s.site, who))


class TeamHandler(BaseHandler):
    async def get(self, team: str) -> None:
        s = self.service
        await self.show(lambda who: who.sees_team(team), ("team", team),
                        lambda store, who: pages.team_page(store, s.project, s.site, who, team))


class RepHandler(BaseHandler):
    async def get(self, rep_id: str) -> None:
        s = self.service
        await self.show(lambda who: who.sees_rep(rep_id), ("rep", rep_id),
                        lambda store, who: pages.rep_page(store, s.project, s.site, who, rep_id))


class ItemsHandler(BaseHandler):
    async def get(self, assignment: str) -> None:
        s = self.service
        await self.show(lambda who: who.sees_items, ("items", assignment),
                        lambda store, who: pages.items_page(store, s.project, s.site, who, assignment))


class ProgressApiHandler(BaseHandler):
    """``/api/progress/<rep_id>``: the rep's reading and self-check progress."""

    async def get(self, rep_id: str) -> None:
        s = self.service

        def work(store: Store) -> dict:
            who = self.user_access(store)
            if not who.sees_rep(rep_id):
                raise Problem(403, f"{who.login} may not see this rep's progress.")
            from ..analysis.progress import book_progress

            return book_progress(store, s.project, rep_id, s.config.today)

        body = await s.run(work)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(pages.jsonable(body)))


class MeApiHandler(BaseHandler):
    """``/api/me``: who the service takes the user for, and their roles."""

    async def get(self) -> None:
        def work(store: Store) -> dict:
            who = self.service.access(store, self.current_user or {})
            return {"login": who.login, "roles": list(who.roles), "rep_id": who.rep_id, "teams": sorted(who.teams),
                    "may_upload": who.may_upload}

        body = await self.service.run(work)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(body))


class BookHandler(BaseHandler, tornado.web.StaticFileHandler):
    """``<prefix>book/...``: the built book, for every signed-in user with a role (see :mod:`.book`)."""

    def initialize(self, service: Service, path: str = "") -> None:  # type: ignore[override]
        self.service = service
        built = service.project.built_book
        tornado.web.StaticFileHandler.initialize(self, str(built or ""), default_filename="index.html")

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Security-Policy", BOOK_CSP)
        self.set_header("Cache-Control", "private, no-cache")      # revalidated with the ETag

    async def get(self, path: str, include_body: bool = True) -> None:
        built = self.service.project.built_book
        if built is None or not (built / "index.html").is_file():
            raise Problem(404, "The book has not been built yet.", book.missing_book_fix(built))
        who = await self.service.run(self.user_access)
        if who.rep_id is not None:
            self.path = self.parse_url_path(path)
            absolute = self.validate_absolute_path(self.root, self.get_absolute_path(self.root, self.path))
            if absolute is None:
                return                                   # redirected (a folder without its slash)
            if absolute.endswith(".html"):
                self.absolute_path, self._recording = absolute, True
                await self._recorded(who.rep_id, absolute)
                return
        await super().get(path, include_body)

    async def _recorded(self, rep_id: str, absolute: str) -> None:
        """A book page for a rep: recorded as read, with the tags that record its knowledge checks."""
        from ..ingest.activity import record_read

        relative = Path(absolute).relative_to(Path(self.root).resolve()).as_posix()
        s = self.service
        try:
            await s.write(lambda store: record_read(store, rep_id, book.page_of(relative)))
        except (InputError, NotFoundError):
            pass                                          # not a page of the book: served, not recorded
        body = book.with_recording(Path(absolute).read_bytes(), self_check_url=s.site.url("api", "self-check"),
                                   xsrf=self.xsrf_token.decode(), book_url=s.site.prefix + "book/")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(body)

    def compute_etag(self) -> str | None:
        # a page with a rep's XSRF token in it is that rep's alone: no ETag, never cached (see _recorded)
        return None if getattr(self, "_recording", False) else super().compute_etag()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        BaseHandler.write_error(self, status_code, **kwargs)


class SelfCheckHandler(BaseHandler):
    """``POST <prefix>api/self-check``: a knowledge-check answer from the served book, for the signed-in
    rep: ``{"page", "question", "correct", "first_try"}`` (JSON; XSRF token in ``X-XSRFToken``)."""

    async def post(self) -> None:
        from ..ingest.activity import record_self_check

        try:
            answer = json.loads(self.request.body or b"{}")
        except ValueError:
            raise Problem(400, "the answer is not JSON") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("correct"), bool):
            raise Problem(400, 'an answer is {"page": ..., "question": ..., "correct": true or false}')
        page, question = answer.get("page"), answer.get("question")
        if not isinstance(page, str) or not isinstance(question, str):
            raise Problem(400, "page and question are text")
        s = self.service

        def work(store: Store) -> None:
            who = self.user_access(store)
            if who.rep_id is None:
                raise Problem(403, f"{who.login} is not a rep in the roster: answers are recorded for reps only.")
            record_self_check(store, who.rep_id, page, question, answer["correct"])

        await s.write(work)
        self.set_status(204)
        self.finish()


class UploadHandler(BaseHandler):
    """``<prefix>upload``: sales ops upload a roster, a KPI file or a CRM export; the result or the
    one-line error is shown on the page."""

    async def get(self) -> None:
        await self._page()

    async def post(self) -> None:
        who = await self._ops()
        kind = self.get_body_argument("kind", "")
        files = {field: ops.Upload(f[0].filename, f[0].body) for field, f in self.request.files.items()
                 if field in ("file", "activities") and f and f[0].body}
        cap = self.service.config.max_upload
        too_big = [u.filename for u in files.values() if len(u.body) > cap]
        if too_big:
            await self._page(who, error=f"{ops.shown_name(too_big[0])} is larger than {_megabytes(cap)}: split it "
                                        "by period and upload the parts", status=413)
            return
        loop = asyncio.get_running_loop()
        try:
            lines = await loop.run_in_executor(
                self.service.executor, lambda: ops.run_import(self.service, kind, files,
                                                              kpi_format=self.get_body_argument("format", "auto"),
                                                              period=self.get_body_argument("period", "quarter"),
                                                              preset=self.get_body_argument("preset", "generic")))
        except SpmError as exc:
            await self._page(who, error=str(exc), status=503 if isinstance(exc, StoreError) else 400)
            return
        await self._page(who, lines=lines)

    async def _ops(self) -> Access:
        who = await self.service.run(self.user_access)
        if not who.may_upload:
            raise Problem(403, f"{who.login} may not upload files or sync: that is for sales ops.",
                          "Ask your sales ops admin to add you to the sales ops group on the hub.")
        return who

    async def _page(self, who: Access | None = None, *, lines: list[str] | None = None, error: str = "",
                    status: int = 200) -> None:
        who = who or await self._ops()
        site = self.service.site
        self.set_status(status)
        self.finish(environment().get_template("upload.html").render(
            title="Upload files and sync", generated=date.today().isoformat(), version=__version__,
            definitions_url=f"{site.book}{DEFINITIONS_PAGE}.html", served=Markup(pages.nav(site, who)),
            action=site.url("upload"), sync_action=site.url("sync"), xsrf=Markup(self.xsrf_form_html()),
            kinds=ops.KINDS, presets=preset_names(), lines=lines or [], error=error,
            max_size=_megabytes(self.service.config.max_upload)))


class SyncHandler(UploadHandler):
    """``POST <prefix>sync``: a sync from the course's gradebook, as ``spm sync`` runs it."""

    async def get(self) -> None:
        self.redirect(self.service.site.url("upload"))

    async def post(self) -> None:
        who = await self._ops()
        try:
            lines = await ops.sync_now(self.service)
        except SpmError as exc:
            await self._page(who, error=str(exc), status=503 if isinstance(exc, StoreError) else 400)
            return
        await self._page(who, lines=lines)


class FaviconHandler(BaseHandler):
    """Browsers ask for /favicon.ico beside a page that names no icon (the book's redirecting
    index.html): no content, rather than a 404 in the console."""

    public = True

    def get(self) -> None:
        self.set_status(204)
        self.set_header("Cache-Control", "public, max-age=86400")
        self.finish()


class NotFoundHandler(BaseHandler):
    async def get(self, *args: str) -> None:
        raise Problem(404, f"No page at {self.request.path}.", "The home page lists the pages that are yours.")


def routes(service: Service) -> list[tuple]:
    p = service.site.prefix
    found = [
        (rf"{p}healthz", HealthHandler),
        (rf"{p}favicon.ico", FaviconHandler),
        (rf"{p}", HomeHandler),
        (rf"{p}reports", IndexHandler),
        (rf"{p}impact", ImpactHandler),
        (rf"{p}hiring", HiringHandler),
        (rf"{p}team/([^/]+)", TeamHandler),
        (rf"{p}rep/([^/]+)", RepHandler),
        (rf"{p}items/([^/]+)", ItemsHandler),
        (rf"{p}api/me", MeApiHandler),
        (rf"{p}api/team/([^/]+)", TeamHandler),
        (rf"{p}api/rep/([^/]+)", RepHandler),
        (rf"{p}api/items/([^/]+)", ItemsHandler),
        (rf"{p}api/reports", IndexHandler),
        (rf"{p}api/impact", ImpactHandler),
        (rf"{p}api/hiring", HiringHandler),
        (rf"{p}api/progress/([^/]+)", ProgressApiHandler),
        (rf"{p}api/self-check", SelfCheckHandler),
        (rf"{p}upload", UploadHandler),
        (rf"{p}sync", SyncHandler),
        (rf"{p}book/(.*)", BookHandler),
        (rf"{p}book", tornado.web.RedirectHandler, {"url": f"{p}book/"}),
    ]
    return [(route[0], route[1], route[2] if len(route) > 2 else {"service": service}) for route in found]


def make_app(config: ServeConfig) -> tornado.web.Application:
    """The application for ``config``; in hub mode every handler authenticates through JupyterHub's
    OAuth (``HubOAuthenticated``) and ``<prefix>oauth_callback`` finishes the sign-in."""
    service = Service(config)
    handlers = [*routes(service), (r"(.*)", NotFoundHandler, {"service": service})]
    if service.hub and config.user_for is None:
        from jupyterhub.services.auth import (  # type: ignore[import-untyped]
            HubOAuthCallbackHandler,
            HubOAuthenticated,
        )

        handlers = [(pattern, type(f"Hub{h.__name__}", (HubOAuthenticated, h), {}) if issubclass(h, BaseHandler) else h,
                     kw) for pattern, h, kw in handlers]
        handlers.insert(0, (rf"{config.prefix}oauth_callback", HubOAuthCallbackHandler))
    # Local mode signs its cookie with a key derived from the token (a restart with the same token keeps
    # browsers signed in); on the hub, HubOAuth's cookie is signed with a key of this process alone.
    secret = config.cookie_secret or (secrets.token_bytes(32) if service.hub else auth.cookie_secret(config.token))
    app = tornado.web.Application(handlers, cookie_secret=secret, xsrf_cookies=True,
                                  xsrf_cookie_kwargs={"httponly": False, "samesite": "Strict"},
                                  autoescape="xhtml_escape")
    app.settings["spm_service"] = service
    return app
