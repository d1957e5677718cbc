"""Small helpers for the exercise data: deterministic CSV text and the built assignment."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nbformat.notebooknode import NotebookNode

from .cells import AnswerKey

# Each data file is committed; keep them small enough to read in a diff.
MAX_DATA_BYTES = 50_000


@dataclass
class Built:
    """One assignment as the generator produced it."""

    name: str
    notebook: NotebookNode
    data: dict[str, str] = field(default_factory=dict)
    answer_keys: list[AnswerKey] = field(default_factory=list)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV with "\\n" line endings on every platform, so the committed bytes never depend on the OS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def literal(value: object) -> str:
    """A Python literal for a hidden test, written the same way every run (sorted sets and keys)."""
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(literal(v) for v in sorted(value)) + "}" if value else "set()"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(round(value, 6))
    return repr(value)
