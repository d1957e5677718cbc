"""The reports' default file names: one per team, rep or assignment, valid on every common filesystem.

A name is ``<kind>-<stem>.html``. The stem is the key itself when the key is already a safe, plain
file name (``rep-r00042.html``, ``team-Closers.html``). Otherwise it is a readable ASCII form of the
key (accents dropped through Unicode's NFKD decomposition, æ ø ß ł and their like spelt out,
anything but letters, digits, ``.``, ``_`` and ``-`` turned into ``-``, at most :data:`READABLE`
characters) followed by a short hash of the exact key, so that keys the readable form cannot tell
apart get files of their own:

- ``Sales A/B`` and ``Sales A B`` (both read ``Sales-A-B``), every all-Cyrillic, Greek or CJK name (no
  ASCII left at all: the stem is the hash alone), a 300-character name (cut, so never too long);
- ``Sales`` and ``sales`` where both are keys of the same kind: Windows and macOS see one file name
  in two spellings, so keys whose stems differ only in case all get the hash.

Windows' reserved names (``CON``, ``NUL``, ``COM1``...) cannot occur, since every name starts with its
kind, and no name ends in a dot or a space. The hash is the first :data:`HASH` hex digits of the key's
SHA-256, the same on every machine and every run.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

#: the readable part's longest length, in characters (all ASCII): names stay far below 255 bytes
READABLE = 60
#: hex digits of the key's SHA-256 that tell apart keys whose readable forms are alike
HASH = 10

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Latin letters that NFKD leaves whole (they are letters of their own, not a letter and an accent)
_LATIN = str.maketrans({"Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe", "ß": "ss", "Ł": "L",
                        "ł": "l", "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "Ð": "D", "ð": "d", "ı": "i"})


def slug(text: str) -> str:
    """A readable, file-name-safe ASCII form of ``text`` (possibly empty; see the module's docstring)."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_LATIN)).encode("ascii", "ignore").decode("ascii")
    readable = _UNSAFE.sub("-", ascii_text).strip("-.")
    return readable[:READABLE].rstrip("-.")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:HASH]


def report_stems(keys: Iterable[str]) -> dict[str, str]:
    """key -> the stem of its report's file name, for all the keys of one kind at once."""
    keys = list(dict.fromkeys(keys))
    readable = {key: slug(key) for key in keys}
    # Only keys that are their own safe name keep it bare; of those, ones that differ from another
    # key only in letter case would share a file on a case-insensitive filesystem.
    folded = Counter(readable[key].casefold() for key in keys if readable[key] == key)
    stems = {}
    for key in keys:
        stem = readable[key]
        if stem == key and folded[stem.casefold()] == 1:
            stems[key] = stem
        else:
            stems[key] = f"{stem}-{key_hash(key)}" if stem else key_hash(key)
    return stems


def report_name(kind: str, key: str, siblings: Iterable[str] = ()) -> str:
    """The file name of the ``kind`` report for ``key``, among the other keys of that kind (``siblings``,
    the store's teams, reps or assignments: see :func:`~spm_training.analysis.queries.report_keys`)."""
    return f"{kind}-{report_stems([key, *siblings])[key]}.html"
