"""What reps do in the served book: the pages they open and their answers to its knowledge checks.

``spm serve`` calls these for the logged-in rep. Each call is one activity transaction
(``Store.transaction(activity=True)``), so it moves the store's activity revision and leaves its data
revision, and with it every cached report page, alone. Self-check answers are kept apart from the
graded scores: nothing here feeds mastery.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ..errors import InputError, NotFoundError
from ..store import Store
from ..text import shown

#: What the errors of this module name as their "file".
SOURCE = "self-check"
MAX_PAGE = 200
MAX_QUESTION = 100
# a page as skills.yml writes it: folders and a name of letters, digits, '_', '-' and '.', joined by '/'
_PAGE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")


def clean_page(page: str) -> str:
    """The book page ``page`` names, as skills.yml writes it (``book/sdr/prospecting``): a trailing
    ``.html`` is dropped; an absolute path, a ``..``, an empty segment or a path over 200 characters is an
    InputError."""
    if page.endswith(".html"):
        page = page[: -len(".html")]
    if not page:
        raise InputError(SOURCE, "the page is empty", fix="name a book page such as book/sdr/prospecting")
    if len(page) > MAX_PAGE:
        raise InputError(SOURCE, f"the page name is {len(page)} characters long",
                         fix=f"name a book page of at most {MAX_PAGE} characters")
    if page.startswith("/"):
        raise InputError(SOURCE, f"page {shown(page)} is an absolute path",
                         fix="name the page from the book's root, such as book/sdr/prospecting")
    if ".." in page.split("/"):
        raise InputError(SOURCE, f"page {shown(page)} leaves the book with '..'",
                         fix="name the page from the book's root, such as book/sdr/prospecting")
    if not _PAGE_RE.match(page):
        raise InputError(SOURCE, f"page {shown(page)} is not a book page path",
                         fix="use letters, digits, '.', '_', '-' and '/' only, such as book/sdr/prospecting")
    return page


def clean_question(question: str) -> str:
    """A knowledge check's question id: 1 to 100 printable characters."""
    if not question:
        raise InputError(SOURCE, "the question id is empty", fix="send the knowledge check's question id")
    if len(question) > MAX_QUESTION:
        raise InputError(SOURCE, f"the question id is {len(question)} characters long",
                         fix=f"use a question id of at most {MAX_QUESTION} characters")
    if not question.isprintable():
        raise InputError(SOURCE, f"question id {shown(question)} has characters that are not printable",
                         fix="use a question id of printable characters")
    return question


def _moment(at: datetime | None) -> str:
    """``at`` (default: now) as an ISO timestamp in UTC, to the second; a naive time counts as UTC."""
    moment = at or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _check_rep(store: Store, rep_id: str) -> None:
    if store.conn.execute("SELECT 1 FROM reps WHERE id = ?", (rep_id,)).fetchone() is None:
        raise NotFoundError(f"no rep '{rep_id}' in the store; spm export reps lists them")


def record_self_check(store: Store, rep_id: str, page: str, question: str, correct: bool,
                      at: datetime | None = None) -> None:
    """Record the rep's answer to a knowledge check of the book, at ``at`` (default: now).

    The first answer to a question decides ``first_correct``; every later one adds an attempt and moves
    ``last_at``, whether right or wrong. One activity transaction."""
    page, question = clean_page(page), clean_question(question)
    moment = _moment(at)
    _check_rep(store, rep_id)
    with store.transaction(activity=True) as conn:
        conn.execute(
            "INSERT INTO self_checks (rep_id, page, question, first_correct, attempts, first_at, last_at) "
            "VALUES (?, ?, ?, ?, 1, ?, ?) "
            "ON CONFLICT(rep_id, page, question) DO UPDATE SET attempts = attempts + 1, "
            "last_at = max(last_at, excluded.last_at)",
            (rep_id, page, question, int(bool(correct)), moment, moment))


def record_read(store: Store, rep_id: str, page: str, at: datetime | None = None) -> None:
    """Record that the rep opened the book page, at ``at`` (default: now): the first visit is kept, a
    later one moves ``last_at``. One activity transaction."""
    page = clean_page(page)
    moment = _moment(at)
    _check_rep(store, rep_id)
    with store.transaction(activity=True) as conn:
        conn.execute(
            "INSERT INTO page_reads (rep_id, page, first_at, last_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(rep_id, page) DO UPDATE SET last_at = max(last_at, excluded.last_at)",
            (rep_id, page, moment, moment))
