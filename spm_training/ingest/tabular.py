"""Reading the CSV files users give us, with one-line errors that name the file, line and column.

Line numbers are file lines: the header is line 1, the first data row line 2.

What is accepted beyond plain comma-separated UTF-8: a byte-order mark, Windows (CR LF) and old Mac
(CR only) line endings, and a file separated by semicolons (Excel's CSV where the decimal mark is a
comma, as in German or Polish settings) when its header has semicolons and no comma. What is refused:
control characters in a value (NUL, escape, line breaks inside a quoted value, ...; a tab is allowed),
which would otherwise reach the store and then the terminal, CSV and HTML raw. An error message quotes
at most 40 characters of a value (:func:`spm_training.text.shown`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..text import normalise_header, shown

# Control characters anywhere in a file's text (line breaks and tabs aside), and in a single value
# (where a line break means a quoted value spanning lines). C1 controls (U+0080–U+009F) count too:
# terminals act on some of them as they do on escape.
FILE_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
VALUE_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "no such file", fix="check the path") from None
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", line=line,
                         fix="save the file as UTF-8 (CSV UTF-8 in Excel)") from None
    if (end := re.search(r"\r\n?|\n", text)) and end.group() == "\r":
        # old Mac line endings (some Excel for Mac exports): a CR alone ends each line
        return text.replace("\r", "\n")
    text = text.replace("\r\n", "\n")
    if (stray := text.find("\r")) >= 0:
        # pandas would end a row there and the csv module refuse the line: say where it is instead
        raise InputError(path, "a carriage return (\\r) inside a line", line=text.count("\n", 0, stray) + 1,
                         fix="remove it, or save the file again as CSV UTF-8 with one kind of line ending")
    return text


def _delimiter(first_line: str) -> str:
    """``;`` for a header separated by semicolons and holding no comma (Excel's CSV in locales whose
    decimal mark is a comma); ``,`` otherwise."""
    if len(next(csv.reader([first_line]))) == 1 and len(next(csv.reader([first_line], delimiter=";"))) > 1:
        return ";"
    return ","


def read_header(path: str | Path) -> list[str]:
    """The file's column names, normalised; [] for an empty file."""
    text = _decode(Path(path))
    if not text.strip():
        return []
    return _header(text)


def _header(text: str) -> list[str]:
    """The normalised column names of the first line of a file's text."""
    first = _first_line(text)
    return [normalise_header(h) for h in next(csv.reader([first], delimiter=_delimiter(first)))]


def _first_line(text: str) -> str:
    """The header line, without its line ending or any stray carriage return in it."""
    return text.split("\n", 1)[0].replace("\r", "")


def read_csv(path: str | Path, *, required: Sequence[str], optional: Iterable[str] = (),
             allow_extra: bool = False, what: str = "rows", text_columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Read a CSV as strings (stripped), check its columns, and keep the file line of each row.

    The frame's index is the file line number of each row. ``text_columns`` are the columns whose values
    are checked for control characters (default: every column; a CRM export names the ones it reads).
    """
    path = Path(path)
    text = _decode(path)
    if not text.strip():
        raise InputError(path, "the file is empty", line=1,
                         fix=f"start with a header row: {','.join(required)}")
    header = _header(text)
    sep = _delimiter(_first_line(text))
    missing = [c for c in required if c not in header]
    if missing:
        fix = f"the header must include {','.join(required)}"
        if sep == "," and ";" in text.split("\n", 1)[0]:
            fix += ("; the header mixes ';' and ',', so it cannot be told which separates the columns: save the "
                    "file as CSV UTF-8 (comma delimited)")
        raise InputError(path, f"missing column '{missing[0]}'", line=1, fix=fix)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(path, f"column '{dupes[0]}' appears twice", line=1, column=dupes[0],
                         fix="keep one column of each name")
    if not allow_extra:
        known = set(required) | set(optional)
        extra = [h for h in header if h not in known and h]
        if extra:
            raise InputError(path, f"unknown column '{extra[0]}'", line=1, column=extra[0],
                             fix=f"the columns are {','.join([*required, *optional])}")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                            skip_blank_lines=True, engine="c", sep=sep)
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise InputError(path, "a row has more fields than the header",
                         line=int(match.group(1)) if match else None,
                         fix="quote values that contain commas") from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas takes a surplus first column as the index when every row has one field too many
        raise InputError(path, "a row has more fields than the header",
                         line=_first_long_line(text, len(header), sep), fix="quote values that contain commas")
    frame.columns = header
    if frame.empty:
        raise InputError(path, f"no {what} after the header", line=2, fix="add at least one data row")
    frame.index, spanning = _file_lines(text, len(frame), sep)
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    if spanning or FILE_CONTROL_RE.search(text):
        _refuse_control(path, frame, header if text_columns is None else
                        [c for c in header if c in set(text_columns)])
    return frame


def _refuse_control(path: Path, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """A one-line error for the first value (in file order) that holds a control character."""
    found: list[tuple[int, int, str]] = []
    for position, column in enumerate(dict.fromkeys(columns)):
        if column and (line := first_bad(frame[column].str.contains(VALUE_CONTROL_RE))) is not None:
            found.append((line, position, column))
    if found:
        line, _, column = min(found)
        value = str(frame.at[line, column])
        char = match.group() if (match := VALUE_CONTROL_RE.search(value)) else ""
        raise InputError(path, f"'{column}' holds the control character {char!r}: {shown(value)}", line=line,
                         column=column, fix="remove it (a value may hold tabs, but no other control character "
                                            "and no line break)")


def _first_long_line(text: str, n_fields: int, sep: str = ",") -> int | None:
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    for record in reader:
        if len(record) > n_fields:
            return reader.line_num
    return None


def _file_lines(text: str, n_rows: int, sep: str = ",") -> tuple[np.ndarray, bool]:
    """File line numbers of the data rows, and whether a quoted value spans lines; blank lines are
    skipped as pandas skips them.

    When the file has one non-blank physical line per record, no quoted value spans lines and the
    physical line numbers are the answer. Otherwise we count records with the csv module, which
    knows where each record starts.
    """
    lines = np.flatnonzero(np.array([bool(ln.strip()) for ln in text.split("\n")])) + 1
    if len(lines) == n_rows + 1:
        return lines[1:], False
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    starts = []
    next(reader)
    line = reader.line_num + 1
    for record in reader:
        if any(field.strip() for field in record):
            starts.append(line)
        line = reader.line_num + 1
    return np.array(starts[:n_rows]), True


def first_bad(mask: pd.Series) -> int | None:
    """The file line of the first row where ``mask`` holds, or None."""
    if not mask.any():
        return None
    return int(mask.index[np.argmax(mask.to_numpy())])


def to_number(path: Path, frame: pd.DataFrame, column: str, *, allow_empty: bool = False,
              allow_negative: bool = False) -> pd.Series:
    """Parse a column as numbers, refusing empty, non-numeric and (by default) negative values."""
    values = frame[column]
    empty = values == ""
    if not allow_empty and (line := first_bad(empty)) is not None:
        raise InputError(path, f"'{column}' is empty", line=line, column=column, fix="give a number")
    numbers = pd.to_numeric(values.where(~empty, None), errors="coerce")
    bad = numbers.isna() & ~empty
    if (line := first_bad(bad)) is not None:
        value = values[bad].iloc[0]
        fix = "write plain numbers such as 1200.5, without units or thousands separators"
        if re.fullmatch(r"[-+]?\d+,\d+", value):
            fix = "write the decimal mark as a point (1200.5, not 1200,5), without units or thousands separators"
        raise InputError(path, f"'{column}' is not a number: {shown(value)}", line=line, column=column, fix=fix)
    infinite = ~np.isfinite(numbers.fillna(0))
    if (line := first_bad(infinite)) is not None:
        raise InputError(path, f"'{column}' is not a finite number: {shown(values[infinite].iloc[0])}", line=line,
                         column=column, fix="write a finite number")
    if not allow_negative and (line := first_bad(numbers < 0)) is not None:
        raise InputError(path, f"'{column}' is negative: {shown(values[numbers < 0].iloc[0])}", line=line,
                         column=column, fix="KPI values and targets cannot be negative; correct the value")
    return numbers.astype(float)
