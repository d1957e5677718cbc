"""Small text helpers every layer shares: counted nouns, CSV column names and one-line exception texts."""

from __future__ import annotations

import re


def plural(count: int, noun: str, many: str | None = None) -> str:
    """'1 item', '3 items' (``many`` for a plural that is not noun + 's'); the count as ``str`` writes it."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def normalise_header(name: str) -> str:
    """A CSV column name as it is matched: trimmed, lower case, runs of white space as one underscore."""
    return re.sub(r"\s+", "_", name.strip().lower())


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, trimmed; "" when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


#: How much of a value from the user's file an error message quotes.
ECHO_LIMIT = 40


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """A value from a user's file as an error message quotes it: ``repr``, so control characters show as
    escapes, and cut after ``limit`` characters with "…" and the full length, so that a 3 MB cell still
    makes a one-line message."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit] + '…'!r} ({len(text):,} characters)"
