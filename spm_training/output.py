"""Writing rows as a table, CSV or JSON: the one place the CLI's output formats are defined."""

from __future__ import annotations

import csv
import io
import json
import math
import textwrap
from collections.abc import Sequence

FORMATS = ("table", "csv", "json")
#: How wide the table format of a command written for people may be (a terminal's default).
TABLE_WIDTH = 80


def _plain(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(rows: Sequence[dict]) -> str:
    """A JSON array with one object per row, keyed by the CSV's column names."""
    return json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows], indent=1, ensure_ascii=False)


def to_csv(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """CSV for tools: every number exactly as stored (see :func:`_column`), and every text cell that a
    spreadsheet would run as a formula neutralised (see :data:`FORMULA_STARTS`)."""
    columns = list(columns or (rows[0].keys() if rows else []))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    # Column by column: one pass per column is quicker than a function call per cell (54,000 gap
    # rows of 14 columns: 0.8 s -> 0.3 s), and the values are written exactly as _column writes them.
    # (zip over the columns, not a list of rows: 54,000 row tuples kept alive cost a third more time)
    cells = [_column([row.get(c) for row in rows]) for c in columns]
    writer.writerows(zip(*cells, strict=True))
    text = out.getvalue()
    if "\r" not in text:
        return text
    # The csv module quotes a field for the line terminator's characters only ("\n"), so a carriage
    # return inside a text (a comment typed on Windows) would end the row for most readers: a row
    # that holds one is written with every field quoted.
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    for line in zip(*cells, strict=True):
        (quoted if any("\r" in v for v in line) else writer).writerow(line)
    return out.getvalue()


#: The first characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (or, tab
#: and carriage return, hide one behind white space). A text cell of a CSV export that starts with one
#: gets a single quote in front, as OWASP's CSV-injection advice says: the sheet then shows the text
#: instead of running it. Numbers are never prefixed (a negative number is not a formula), and JSON is
#: written as it is.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _column(values: list) -> list[str]:
    # repr() of a float is the shortest text that reads back as the same float, so a stored value
    # survives an export exactly (1234567.89 stays 1234567.89, 0.1 + 0.2 stays 0.30000000000000004).
    # (v[0] in a str of the six characters: the quickest test measured, no slice per cell)
    return ["" if v is None else repr(v) if type(v) is float
            else ("'" + v if v and v[0] in _FORMULA else v) if type(v) is str else _text(v) for v in values]


_FORMULA = "".join(FORMULA_STARTS)


def _text(value: object) -> str:
    if isinstance(value, float):                # numpy's float64 among them: its repr names the type
        return float.__repr__(value)
    text = str(value)
    return "'" + text if isinstance(value, str) and text and text[0] in _FORMULA else text


def _cell(value: object) -> str:
    """A value as a person reads it in the table format: numbers in positional notation with
    thousands separators (1,234,567.89; 0.0000001), never in exponent form."""
    if isinstance(value, float) and math.isfinite(value):
        return human_number(value)
    return str(value)


def human_number(value: float) -> str:
    """1,234,567.89 for 1234567.89; 0.3 for 0.1 + 0.2; 0.0000001 for 1e-7: two decimals from 1 on,
    four significant digits below 1, trailing zeros dropped."""
    size = abs(value)
    if size >= 1e15 or size < 1e-12:
        return "0" if value == 0 else repr(value)
    decimals = 2 if size >= 1 else min(2 - math.floor(math.log10(size)) + 1, 20)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def to_table(rows: Sequence[dict], columns: Sequence[str] | None = None, max_width: int = 48, *,
             width: int | None = None, wrap: Sequence[str] = (), headers: dict[str, str] | None = None,
             right: Sequence[str] = ()) -> str:
    """Rows as a plain-text table for people. Numbers are right-aligned (and the ``right`` columns);
    text longer than ``max_width`` is cut with "…", except in the ``wrap`` columns: when ``width`` is
    given and the table is wider, those are narrowed and their text wrapped onto further lines of the
    row, so that every line fits ``width`` and nothing is cut. ``headers`` are the columns' titles."""
    columns = list(columns or (rows[0].keys() if rows else []))
    if not rows:
        return "(no rows)"
    titles = [(headers or {}).get(c, c) for c in columns]
    body = [[_cell(r.get(c)) if r.get(c) is not None else "" for c in columns] for r in rows]
    wrapped = [c in wrap for c in columns]
    body = [[v if w or len(v) <= max_width else v[: max_width - 1] + "…" for v, w in zip(line, wrapped, strict=True)]
            for line in body]
    # a cell may hold several lines ("\n"): each is a line of the row, wrapped on its own
    widths = [max(len(t), *(len(part) for line in body for part in line[i].split("\n"))) for i, t in enumerate(titles)]
    if width is not None:
        _fit(widths, titles, wrapped, width - 2 * (len(columns) - 1))
    numeric = [c in right or all(_is_number(r.get(c)) for r in rows if r.get(c) is not None) for c in columns]

    def fmt(line: Sequence[str]) -> str:
        cells = zip(line, widths, numeric, strict=True)
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in cells).rstrip()

    out = [fmt(titles), "  ".join("-" * w for w in widths)]
    for line in body:
        cells = [[part for text in v.split("\n") for part in (textwrap.wrap(text, w, break_on_hyphens=False) or [""])]
                 if wrap_it else v.split("\n") for v, w, wrap_it in zip(line, widths, wrapped, strict=True)]
        for k in range(max(len(c) for c in cells)):
            out.append(fmt([c[k] if k < len(c) else "" for c in cells]))
    return "\n".join(out)


def _fit(widths: list[int], titles: list[str], wrapped: list[bool], room: int) -> None:
    """Narrow the wrapped columns, the widest first, until the columns fit ``room`` characters (or
    each is down to its title and 12 characters)."""
    while sum(widths) > room:
        candidates = [i for i, w in enumerate(wrapped) if w and widths[i] > max(12, len(titles[i]))]
        if not candidates:
            return
        i = max(candidates, key=lambda k: widths[k])
        widths[i] -= 1


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def render(rows: Sequence[dict], fmt: str, columns: Sequence[str] | None = None) -> str:
    if fmt == "json":
        return to_json(rows)
    if fmt == "csv":
        return to_csv(rows, columns).rstrip("\n")
    return to_table(rows, columns)
