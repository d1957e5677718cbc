"""`spm serve` in local mode, in headless Chromium: every page at desktop and phone width loads with no
request leaving 127.0.0.1, no failed request and no console error (the pages' inline scripts and styles
live with the service's Content-Security-Policy), and fits a phone's width; `--as <rep login>` shows a rep
only their own pages and their progress; without the token the browser sees no data.

The service is the real command (`spm serve --token ...` in a subprocess, as a trainer starts it) on a
copy of the small serve store (tests/serve/served.py: 9 reps in 3 teams, hub logins in the roster, a
two-page stand-in for the built book). The real built book is served too when this session built it (the
book tests' `built_html`, or SPM_BUILT_BOOK): no second build. Screenshots: _build/screenshots/serve-*.png.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from served import Org, path, project_copy

from spm_training.analysis.queries import self_check_counts
from spm_training.project import Project
from spm_training.serve.auth import SIGN_IN_MESSAGE
from spm_training.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))

from book_browser import DESKTOP, PHONE, Traffic, chromium, offline_page, screenshot, visit  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
ASSIGNMENTS = ("a1", "a2", "a3", "a4")      # the serve store's course (tests/analysis_data.py)
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
# How far the page's content overflows the window sideways (0: it fits, nothing to scroll).
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def spm_serve(project: Project, *options: str) -> Iterator[tuple[str, str]]:
    """`spm serve` on the project, in a subprocess: (its base URL with the trailing slash, its token)."""
    token, port = secrets.token_urlsafe(24), _free_port()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("SPM_SERVE_TOKEN", None)
    assert project.root is not None
    log = project.root / f"serve-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN / "spm"), "--db", str(project.db_path), "--course", str(project.course_dir),
                                 "serve", "--port", str(port), "--token", token, *options],
                                cwd=project.root, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, f"spm serve exited {proc.returncode}: {log.read_text()}"
                try:
                    with urllib.request.urlopen(base + "healthz", timeout=5) as r:
                        if r.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                assert time.monotonic() < deadline, f"spm serve did not answer /healthz: {log.read_text()}"
                time.sleep(0.2)
            printed = log.read_text()
            assert f"    {base}?token={token}\n" in printed, printed
            yield base, token
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def project(org_logins: Org, tmp_path_factory: pytest.TempPathFactory) -> Project:
    return project_copy(org_logins, tmp_path_factory.mktemp("serve-browser"))


@pytest.fixture(scope="module")
def terminal(project: Project) -> Iterator[tuple[str, str]]:
    """The service as the person at the terminal sees it: the whole organisation."""
    with spm_serve(project) as served:
        yield served


def signed_in(browser: object, base: str, token: str, viewport: dict[str, int]) -> tuple[object, object, Traffic]:
    """A fresh offline context that opened the printed URL: the token set the cookie and went away."""
    context, page, traffic = offline_page(browser, base, viewport)
    visit(page, traffic, f"?token={token}")
    assert page.url == base, page.url
    return context, page, traffic


def refused_log(status: int, reason: str) -> str:
    """What Chromium's console says of a page the server refused."""
    return f"Failed to load resource: the server responded with a status of {status} ({reason})"


def every_page(org: Org) -> list[str]:
    return (["", "reports"] + [path("team", t)[1:] for t in org.teams] + [path("rep", r["id"])[1:] for r in org.roster]
            + [f"items/{a}" for a in ASSIGNMENTS] + ["book/", "book/book/sdr/prospecting.html"])


def shot_name(rel: str, width: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", rel.lower()).strip("-") or "home"
    return f"serve-{name}-{width}.png"


def test_every_page_loads_clean_and_fits_a_phone(chromium: object, terminal: tuple[str, str], org: Org) -> None:
    base, token = terminal
    pages = every_page(org)
    assert len(pages) == 2 + 3 + 9 + 4 + 2
    shots = {"", "reports", path("team", org.teams[0])[1:], path("rep", org.roster[0]["id"])[1:], "items/a1"}
    for width, viewport in WIDTHS.items():
        context, page, traffic = signed_in(chromium, base, token, viewport)
        overflow = {}
        try:
            for rel in pages:
                visit(page, traffic, rel)
                assert page.url == base + rel, (rel, page.url)
                if width == "phone":
                    overflow[rel] = page.evaluate(OVERFLOW)
                if rel in shots:
                    screenshot(page, shot_name(rel, width), full_page=True)
        finally:
            context.close()
        assert traffic.outside == [], width
        assert traffic.failed == [], width
        assert traffic.console == [], width
        assert {rel: px for rel, px in overflow.items() if px > 0} == {}


def test_pages_show_the_reports_of_their_scope(chromium: object, terminal: tuple[str, str], org: Org) -> None:
    base, token = terminal
    context, page, traffic = signed_in(chromium, base, token, DESKTOP)
    try:
        team = org.teams[0]
        visit(page, traffic, path("team", team)[1:])
        assert page.title().startswith(f"Team {team}: who to coach first")
        names = set(page.locator("table a").all_inner_texts())
        assert {r["name"] for r in org.reps_of(team)} <= names
        assert not {r["name"] for r in org.roster if r["team"] != team} & names
        # the team page links each rep to their served page, which opens
        rep = org.reps_of(team)[0]
        page.locator(f'a[href="/rep/{rep["id"]}"]').first.click()
        page.wait_for_load_state("networkidle")
        assert page.url == f"{base}rep/{rep['id']}"
        assert page.title() == f"{rep['name']}: focus, KPIs and next steps"
    finally:
        context.close()
    assert traffic.clean(), traffic


def test_as_a_rep_only_their_own_pages_and_progress(chromium: object, project: Project, org: Org) -> None:
    me = org.reps_of(org.teams[0])[0]
    other = next(r for r in org.roster if r["id"] != me["id"])
    with spm_serve(project, "--as", me["id"]) as (base, token):
        for width, viewport in WIDTHS.items():
            context, page, traffic = signed_in(chromium, base, token, viewport)
            try:
                home = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
                assert f"{me['name']}: focus, KPIs and next steps" in home
                assert "Your reading and knowledge checks" in home
                assert "no knowledge-check answers recorded yet" in home
                assert re.search(r"Day \d+ of your onboarding plan: ", home), home
                screenshot(page, f"serve-as-rep-home-{width}.png", full_page=True)
                visit(page, traffic, path("rep", me["id"])[1:])
                assert page.title() == f"{me['name']}: focus, KPIs and next steps"
                if width == "phone":
                    assert page.evaluate(OVERFLOW) <= 0
                screenshot(page, f"serve-as-rep-report-{width}.png", full_page=True)
                assert traffic.clean(), traffic
                refused = ["reports", path("rep", other["id"])[1:], *(path("team", t)[1:] for t in org.teams),
                           "items/a1"]
                for rel in refused:
                    traffic.page = rel
                    response = page.goto(base + rel, wait_until="networkidle")
                    assert response is not None and response.status == 403, rel
                    assert page.title() == "Not yours to see", rel
                    text = page.inner_text("body")
                    assert f"{me['id']} may not see this page." in text, (rel, text)
                    assert not [r["name"] for r in org.roster if r["name"] in text], (rel, text)
                screenshot(page, f"serve-as-rep-refused-{width}.png")
            finally:
                context.close()
            # the refused pages' own 403s (which Chromium also logs), and nothing else
            assert [(p, status) for p, _, status in traffic.failed] == [(rel, 403) for rel in refused]
            assert traffic.console == [(rel, refused_log(403, "Forbidden")) for rel in refused]
            assert traffic.outside == []


def test_without_the_token_the_browser_sees_no_data(chromium: object, terminal: tuple[str, str], org: Org) -> None:
    base, token = terminal
    context, page, traffic = offline_page(chromium, base, DESKTOP)
    secrets_shown = [r["name"] for r in org.roster] + [r["id"] for r in org.roster] + org.teams
    try:
        for rel in [*every_page(org), "api/me", path("api", "team", org.teams[0])[1:], f"?token={token[:-1]}x"]:
            traffic.page = rel
            response = page.goto(base + rel, wait_until="networkidle")
            assert response is not None and response.status == 401, rel
            text = page.content()
            assert SIGN_IN_MESSAGE in text, rel
            assert [s for s in secrets_shown if s in text] == [], rel
        screenshot(page, "serve-sign-in-needed.png")
        assert page.context.cookies() == []
        visit(page, traffic, f"reports?token={token}")
        assert page.url == base + "reports"
        shown = page.content()
        assert [r["name"] for r in org.roster if r["name"] not in shown] == []
        assert [c["name"] for c in page.context.cookies() if c["httpOnly"] and c["sameSite"] == "Strict"]
    finally:
        context.close()
    assert {status for _, _, status in traffic.failed} == {401}
    assert {text for _, text in traffic.console} == {refused_log(401, "Unauthorized")}
    assert traffic.outside == []


@pytest.fixture(scope="module")
def session_book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book this session built for the book tests (or SPM_BUILT_BOOK's): never a build of its own, so
    this module alone stays quick; the whole suite builds the book in tests/book before it gets here."""
    if os.environ.get("SPM_BUILT_BOOK") and not os.environ.get("CI"):
        return Path(os.environ["SPM_BUILT_BOOK"])
    built = sorted(tmp_path_factory.getbasetemp().glob("book*/project/_build/html/index.html"))
    if not built:
        pytest.skip("no book was built in this session (run with tests/book, or set SPM_BUILT_BOOK)")
    return Path(request.getfixturevalue("built_html"))


def test_the_built_book_through_the_service_records_a_reps_answers(chromium: object, org_logins: Org,
                                                                   session_book: Path,
                                                                   tmp_path: Path) -> None:
    project = project_copy(org_logins, tmp_path, book=False)
    assert project.root is not None
    (project.root / "_build").mkdir()
    (project.root / "_build" / "html").symlink_to(session_book, target_is_directory=True)
    pages = sorted(p.relative_to(session_book).as_posix() for p in session_book.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts)
    assert len(pages) >= 20
    me = org_logins.reps_of(org_logins.teams[0])[0]
    with spm_serve(project, "--as", me["id"]) as (base, token):
        context, page, traffic = signed_in(chromium, base, token, DESKTOP)
        try:
            for rel in pages:
                visit(page, traffic, f"book/{rel}")
                # a rep's served page carries where to post answers; the static book has no such tag
                assert page.locator('meta[name="spm-self-check"]').get_attribute("content") == "/api/self-check", rel
            visit(page, traffic, "book/book/handbook/objections.html")
            question = page.locator("fieldset.spm-kc-question").first
            question.scroll_into_view_if_needed()
            question.locator("label").first.click()
            with page.expect_response(lambda r: r.url == base + "api/self-check") as posted:
                question.get_by_role("button", name="Check answer").click()
            assert posted.value.status == 204          # recorded, nothing to send back
            right = question.locator(".spm-kc-feedback").inner_text().startswith("Correct.")
            screenshot(page, "serve-book-objections-desktop.png")
        finally:
            context.close()
    assert traffic.outside == [] and traffic.failed == [] and traffic.console == [], traffic
    # the answer is in the store, for this rep and page (progress counts only the pages of a plan, and
    # this course has none)
    with open_store(project.db_path, write=False) as store:
        assert self_check_counts(store, [me["id"]]) == [(me["id"], "book/handbook/objections", 1, int(right))]
