"""The built book through the service (``<prefix>book/``), for signed-in users only.

Files come from :attr:`Project.built_book` through Tornado's ``StaticFileHandler``, which keeps every
path inside the book's folder (``..`` or ``..%2f`` is refused). For a rep, each HTML page viewed is
recorded as read, and the page carries three meta tags that the book's knowledge-check.js looks for:
where to post each checked answer (``spm-self-check``), the XSRF token to send with it
(``spm-xsrf``) and the book's base URL (``spm-book``), from which the page's path is read. The static
book has none of them, so there the answers stay in the browser.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

#: The tags go right after the opening <head> tag.
_HEAD = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)


def page_of(relative: str) -> str:
    """The book page a file of the built site is (``book/sdr/prospecting.html`` -> ``book/sdr/prospecting``)."""
    page = relative.replace("\\", "/").lstrip("/")
    return page[:-5] if page.endswith(".html") else page


def with_recording(body: bytes, *, self_check_url: str, xsrf: str, book_url: str) -> bytes:
    """The page's HTML with the meta tags that make knowledge-check.js record each answer."""
    tags = (f'<meta name="spm-self-check" content="{html.escape(self_check_url)}">'
            f'<meta name="spm-xsrf" content="{html.escape(xsrf)}">'
            f'<meta name="spm-book" content="{html.escape(book_url)}">').encode()
    found = _HEAD.search(body)
    if found is None:
        return tags + body
    return body[:found.end()] + tags + body[found.end():]


def missing_book_fix(built: Path | None) -> str:
    where = f" into {built}" if built is not None else ""
    return (f"Build it with `jupyter-book build .` at the project's root{where}; the service serves it from "
            "the next request on.")
