"""KPIs from CRM exports: opportunities (and optionally activities and leads) in, KPI values per rep
and month or quarter out, written through the same validated, all-or-nothing path as ``spm kpis import``.

The rules the derivation follows (the KPI catalog states each formula):

- An export is a snapshot: each opportunity counts with the status it has in the file. A deal that was
  won and then re-opened is open in the export, so it counts in no closed-deal KPI until it closes
  again; the close date of an open deal is only its expected close and is ignored.
- With an id column, the last row of each id wins (a later row is a later state of the same deal).
  Without one, exact duplicate rows are dropped, and two rows with the same owner, account and created
  date that differ otherwise are refused, naming both lines. Activities and leads without an id column
  are all counted: two calls on the same day are two calls.
- Closed-deal KPIs count on the close date, pipeline generated on the created date, activities on their
  date, lead conversion on the lead's created date.
- Counts and amounts are zero, not missing, in every period from a rep's first to last dated row;
  rates and averages are missing where undefined (no closed deal, no won deal, no lead).

Every value column is parsed once per distinct value (``pd.factorize``), so a million rows with a few
thousand distinct owners, dates and stages cost a few thousand parses, and no Python loop runs per row.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .catalog import _LINE, Kpi, read_yaml
from .errors import CatalogError, InputError, SpmError
from .kpis import ImportResult, write_kpi_values
from .store import Store
from .tabular import normalise_header, read_csv, read_header

PERIOD_KINDS = ("month", "quarter")
STATUSES = ("won", "lost", "open")
ACTIVITY_TYPES = ("call", "email", "meeting", "other")
KINDS = ("opportunities", "activities", "leads")
# fields each export must have; `id` is read when the file has it
FIELDS = {
    "opportunities": ("owner", "account", "created_date", "close_date", "amount"),
    "activities": ("owner", "date", "type", "outcome"),
    "leads": ("owner", "created_date", "converted_date"),
}
OPTIONAL_FIELDS = {"opportunities": ("id", "stage", "status"), "activities": ("id",), "leads": ("id",)}
SECTION_KEYS = {"opportunities": {"columns", "status_from", "status_values", "other_status"},
                "activities": {"columns", "types", "held_outcomes"}, "leads": {"columns"}}
CRM_KPIS = ("revenue", "deals_won", "win_rate", "avg_deal_size", "sales_cycle_length", "pipeline_generated",
            "quota_attainment", "meetings_booked", "activities", "lead_to_opp_conversion")
SOURCE_PREFIX = "crm:"
# The KPIs each export gives: an import replaces these, in the periods its export covers.
KPIS_BY_EXPORT = {"opportunities": ("revenue", "deals_won", "win_rate", "avg_deal_size", "sales_cycle_length",
                                    "pipeline_generated", "quota_attainment"),
                  "activities": ("meetings_booked", "activities"), "leads": ("lead_to_opp_conversion",)}
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB"}
_SIGNS = "".join(CURRENCY_SIGNS)
_CURRENCY = rf"[A-Za-z]{{3}}|[{_SIGNS}]"
_GROUPED = {".": r"\d{1,3}(?:[,'\s]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+",
            ",": r"\d{1,3}(?:[.'\s]\d{3})+(?:,\d+)?|\d+(?:,\d+)?|,\d+"}


# --- the mapping: which columns and values mean what ---------------------------------------------

@dataclass(frozen=True)
class Mapping:
    """How to read one CRM's exports: column names, date format, decimal mark and value meanings."""

    name: str
    date_format: str
    decimal: str
    columns: dict[str, dict[str, str]]          # kind -> field -> normalised column name
    status_from: str                            # "status" or "stage"
    status_values: dict[str, str]               # casefolded value -> won / lost / open
    other_status: str | None
    activity_types: dict[str, str]              # casefolded value -> call / email / meeting / other
    held_outcomes: frozenset[str]               # casefolded


def presets_path() -> Path:
    return Path(str(resources.files("spm_training") / "data" / "crm_presets.yml"))


def preset_names() -> list[str]:
    return [k for k in read_yaml(presets_path()) if k != _LINE]


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _values(path: Path, line: int, what: str, raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if any(isinstance(v, (dict, list)) or v is None for v in items):
        raise CatalogError(path, f"{what} must be a list of values", line=line, fix="write it as [value, value]")
    return [str(v).strip().casefold() for v in items]


def _meanings(path: Path, section: dict, key: str, allowed: tuple[str, ...]) -> dict[str, str]:
    raw = section.get(key) or {}
    line = raw.get(_LINE, section.get(_LINE)) if isinstance(raw, dict) else section.get(_LINE)
    if not isinstance(raw, dict):
        raise CatalogError(path, f"'{key}' must be a mapping", line=line, fix=f"use keys among {', '.join(allowed)}")
    meaning: dict[str, str] = {}
    for name, values in raw.items():
        if name == _LINE:
            continue
        if name not in allowed:
            raise CatalogError(path, f"'{key}' has unknown key '{name}'", line=line,
                               fix=f"use keys among {', '.join(allowed)}")
        for value in _values(path, line, f"{key}.{name}", values):
            if meaning.setdefault(value, name) != name:
                raise CatalogError(path, f"'{value}' is listed under both {meaning[value]} and {name}", line=line,
                                   fix="list each value once")
    return meaning


def load_mapping(preset: str = "generic", path: str | Path | None = None) -> Mapping:
    """The preset's mapping, with the mapping file at ``path`` (same shape as a preset) laid over it."""
    presets = read_yaml(presets_path())
    if preset not in presets or preset == _LINE:
        raise SpmError(f"no CRM preset '{preset}'; choose one of {', '.join(preset_names())}")
    data, source = presets[preset], presets_path()
    if path is not None:
        source = Path(path)
        if not source.is_file():
            raise InputError(source, "no such mapping file", fix="check the path given to --mapping")
        user = read_yaml(source)
        if not isinstance(user, dict):
            raise CatalogError(source, "a mapping file must be a YAML mapping", line=1,
                               fix="write settings such as date_format: '%d/%m/%Y' at the top level")
        data = _merge(data, user)
    return _build_mapping(source, preset if path is None else f"{preset} + {Path(path).name}", data)


def _build_mapping(path: Path, name: str, data: dict) -> Mapping:
    top = data.get(_LINE, 1)
    known = {"date_format", "decimal", *KINDS}
    for key in data:
        if key != _LINE and key not in known:
            raise CatalogError(path, f"unknown setting '{key}'", line=top, fix=f"use {', '.join(sorted(known))}")
    date_format = str(data.get("date_format") or "iso")
    if date_format != "iso" and not ("%d" in date_format and ("%m" in date_format or "%b" in date_format)
                                     and ("%Y" in date_format or "%y" in date_format)):
        raise CatalogError(path, f"date_format {date_format!r} lacks a day, month or year", line=top,
                           fix="use iso or a strftime pattern such as '%d/%m/%Y' or '%m/%d/%Y'")
    decimal = str(data.get("decimal") or ".")
    if decimal not in _GROUPED:
        raise CatalogError(path, f"decimal {decimal!r} is neither '.' nor ','", line=top,
                           fix="write decimal: '.' for 1,200.50 or decimal: ',' for 1.200,50")
    columns, sections = {}, {}
    for kind in KINDS:
        section = data.get(kind) or {}
        line = section.get(_LINE, top) if isinstance(section, dict) else top
        if not isinstance(section, dict):
            raise CatalogError(path, f"'{kind}' must be a mapping", line=line)
        for key in section:
            if key != _LINE and key not in SECTION_KEYS[kind]:
                raise CatalogError(path, f"'{kind}' has unknown setting '{key}'", line=line,
                                   fix=f"use {', '.join(sorted(SECTION_KEYS[kind]))}")
        raw = section.get("columns") or {}
        allowed = FIELDS[kind] + OPTIONAL_FIELDS[kind]
        unknown = [f for f in raw if f != _LINE and f not in allowed]
        if unknown:
            raise CatalogError(path, f"'{kind}.columns' has unknown field '{unknown[0]}'", line=raw.get(_LINE, line),
                               fix=f"the fields are {', '.join(allowed)}")
        columns[kind] = {f: normalise_header(str(c)) for f, c in raw.items() if f != _LINE and c}
        missing = [f for f in FIELDS[kind] if f not in columns[kind]]
        if missing:
            raise CatalogError(path, f"'{kind}.columns' does not name the column of '{missing[0]}'",
                               line=raw.get(_LINE, line), fix=f"add {missing[0]}: <column name>")
        sections[kind] = section
    opps = sections["opportunities"]
    status_from = str(opps.get("status_from") or "status")
    if status_from not in ("status", "stage") or status_from not in columns["opportunities"]:
        raise CatalogError(path, f"status_from {status_from!r} is not a mapped column", line=opps.get(_LINE, top),
                           fix="use status or stage, and name its column under opportunities.columns")
    other = opps.get("other_status")
    if other is not None and other not in STATUSES:
        raise CatalogError(path, f"other_status {other!r} is not a status", line=opps.get(_LINE, top),
                           fix=f"use one of {', '.join(STATUSES)}, or leave it out to refuse unlisted values")
    acts = sections["activities"]
    return Mapping(
        name=name, date_format=date_format, decimal=decimal, columns=columns, status_from=status_from,
        status_values=_meanings(path, opps, "status_values", STATUSES), other_status=other,
        activity_types=_meanings(path, acts, "types", ACTIVITY_TYPES),
        held_outcomes=frozenset(_values(path, acts.get(_LINE, top), "held_outcomes",
                                        acts.get("held_outcomes") or [])))


# --- reading an export: columns, owners, dates, amounts --------------------------------------------

def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _line(frame: pd.DataFrame, mask: np.ndarray) -> int:
    """The file line of the first row where ``mask`` holds (the frame's index is file lines)."""
    return int(frame.index[int(np.argmax(mask))])


def _per_value(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes and distinct values of a column: work on the distinct values, then take by code."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    return codes, pd.Series(uniques, dtype=object)


def _read_export(path: Path, mapping: Mapping, kind: str) -> pd.DataFrame:
    """The export's mapped columns, renamed to their fields; the index is the file line of each row."""
    spec = mapping.columns[kind]
    header = read_header(path)
    wanted = [f for f in FIELDS[kind] if f != "status"]
    if kind == "opportunities":
        wanted.append(mapping.status_from)
    missing = [f for f in wanted if spec[f] not in header]
    if header and missing:   # (an empty file gets read_csv's own message)
        raise InputError(path, f"no column '{spec[missing[0]]}' (the {kind}' {missing[0]})", line=1,
                         fix=f"the {mapping.name} mapping reads {', '.join(spec[f] for f in wanted)}; "
                             "choose another --preset or name your columns in a --mapping file")
    frame = _drop_footer(read_csv(path, required=[spec[f] for f in wanted], allow_extra=True, what=kind))
    fields = wanted + [f for f in OPTIONAL_FIELDS[kind] if f in spec and spec[f] in frame.columns
                       and f not in wanted]
    return frame[[spec[f] for f in fields]].set_axis(fields, axis=1)


def _drop_footer(frame: pd.DataFrame, longest: int = 10) -> pd.DataFrame:
    """Report exports (Salesforce's) end with a few lines of text in the first field only (report name,
    copyright, "Generated by"); drop that tail. Only the last rows are looked at."""
    tail = frame.iloc[-longest:, 1:].to_numpy(dtype=object)
    only_first = (tail == "").all(axis=1)
    footer = int(np.cumprod(np.flip(only_first)).sum())
    return frame.iloc[:-footer] if 0 < footer < len(frame) else frame


def _owner_key(names: pd.Series) -> pd.Series:
    return names.str.casefold().str.split().str.join(" ")


@dataclass
class OwnerIndex:
    """CRM owner names and emails, casefolded, to rep ids (from the roster in the store)."""

    reps: dict[str, str]
    ambiguous: dict[str, list[str]]

    @classmethod
    def from_store(cls, store: Store) -> OwnerIndex:
        rows = store.query("SELECT id, email, crm_owner FROM reps ORDER BY id")
        reps: dict[str, str] = {}
        ambiguous: dict[str, list[str]] = {}
        owners = pd.Series([r["crm_owner"] or "" for r in rows], dtype=object)
        for row, key in zip(rows, _owner_key(owners)):
            if key and reps.setdefault(key, row["id"]) != row["id"]:
                ambiguous.setdefault(key, [reps[key]]).append(row["id"])
        for row in rows:   # an email matches when no crm_owner claims the same text
            reps.setdefault(row["email"].casefold(), row["id"])
        return cls(reps, ambiguous)


def _match_owners(path: Path, frame: pd.DataFrame, column: str, owners: OwnerIndex,
                  skip_unmatched: bool, skipped: dict[str, int]) -> pd.DataFrame:
    """Adds ``rep_id``; unmatched owners are an error listing them, or (knowingly) left out."""
    codes, names = _per_value(frame["owner"])
    keys = _owner_key(names)
    if (used := [k for k in keys if k in owners.ambiguous]):
        reps = owners.ambiguous[used[0]]
        raise InputError(path, f"owner {used[0]!r} is the crm_owner of reps {', '.join(reps)}",
                         line=_line(frame, keys.to_numpy()[codes] == used[0]), column=column,
                         fix="give each rep their own crm_owner in the roster and import it again")
    rep_of_name = keys.map(owners.reps).to_numpy(dtype=object)
    unmatched = pd.isna(rep_of_name)
    if unmatched.any():
        row_unmatched = unmatched[codes]
        counts = np.bincount(codes[row_unmatched], minlength=len(names))
        if not skip_unmatched:
            first_rows = pd.Series(frame.index[row_unmatched]).groupby(codes[row_unmatched]).min()
            listed = [f"{names[c] or '(empty)'!r} (line {first_rows[c]}, {plural(counts[c], 'row')})"
                      for c in first_rows.sort_values().index]
            more = f" and {len(listed) - 5} more" if len(listed) > 5 else ""
            raise InputError(path, f"{plural(len(listed), 'owner')} match no rep: {', '.join(listed[:5])}{more}",
                             line=int(first_rows.min()), column=column,
                             fix="set their crm_owner (or email) in the roster and import it again, "
                                 "or pass --skip-unmatched to leave their rows out")
        for c in np.flatnonzero(unmatched):
            skipped[names[c] or "(empty)"] = skipped.get(names[c] or "(empty)", 0) + int(counts[c])
        frame, codes = frame[~row_unmatched], codes[~row_unmatched]
    return frame.assign(rep_id=rep_of_name[codes])


def _date_fix(date_format: str) -> str:
    if date_format == "iso":
        return "write dates as YYYY-MM-DD, or set date_format in a --mapping file (e.g. date_format: '%d/%m/%Y')"
    return f"dates are read as {date_format}; set date_format in a --mapping file if the export differs"


def _dates(path: Path, frame: pd.DataFrame, field_name: str, column: str, date_format: str,
           *, allow_empty: bool = False) -> np.ndarray:
    """A date column as datetime64[D] (NaT where empty); unparseable or missing dates name their line."""
    codes, text = _per_value(frame[field_name])
    if date_format == "iso":
        # the date as written: a time (and zone) after it is dropped, not converted
        iso = text.str.match(r"\d{4}-\d{2}-\d{2}(?:[ T]|$)").fillna(False).astype(bool)
        parsed = pd.to_datetime(text.str.slice(0, 10).where(iso), format="%Y-%m-%d", errors="coerce")
    else:
        day = text if " " in date_format else text.str.split(" ", n=1).str[0]
        parsed = pd.to_datetime(day, format=date_format, errors="coerce")
    empty = (text == "").to_numpy()
    bad = (parsed.isna().to_numpy() & ~empty)[codes]
    if bad.any():
        line = _line(frame, bad)
        raise InputError(path, f"'{column}' is not a date: {frame.at[line, field_name]!r}", line=line, column=column,
                         fix=_date_fix(date_format))
    if not allow_empty and empty[codes].any():
        raise InputError(path, f"'{column}' is empty", line=_line(frame, empty[codes]), column=column,
                         fix="give every row a date")
    return parsed.to_numpy().astype("datetime64[D]")[codes]


def _amounts(path: Path, frame: pd.DataFrame, column: str, decimal: str) -> np.ndarray:
    """Amounts as floats (NaN where empty): currency signs or codes and thousands separators allowed,
    negative amounts and mixed currencies refused, each with the line named."""
    codes, text = _per_value(frame["amount"])
    numbers = (pd.to_numeric(text, errors="coerce") if decimal == "." else pd.Series(np.nan, index=text.index))
    numbers = numbers.astype(float)
    currency = pd.Series("", index=text.index, dtype=object)
    negative = (numbers < 0).to_numpy(copy=True)
    pending = text[numbers.isna() & (text != "")]
    # the common case, 1,200.50, needs no currency or sign handling: parse it without the heavy regex
    grouped = pending.str.fullmatch(_GROUPED[decimal]).astype(bool)
    numbers[grouped[grouped].index] = _ungroup(pending[grouped], decimal)
    rest = pending[~grouped]
    if len(rest):
        parens = rest.str.fullmatch(r"\(.*\)").astype(bool)
        rest = rest.where(~parens, rest.str.slice(1, -1)).str.strip()
        parts = rest.str.extract(rf"^([-−]?)\s*({_CURRENCY})?\s*([-−]?)\s*(.*?)\s*({_CURRENCY})?$")
        digits = parts[3].fillna("")
        valid = digits.str.fullmatch(_GROUPED[decimal]).astype(bool)
        numbers[rest.index] = _ungroup(digits.where(valid, "x"), decimal)
        token = parts[1].fillna(parts[4]).fillna("")
        currency[rest.index] = token.map(CURRENCY_SIGNS).fillna(token.str.upper())
        signed = (parts[0].fillna("") + parts[2].fillna("")) != ""
        negative[text.index.get_indexer(rest.index)] = ((signed | parens) & valid).to_numpy() & (
            numbers[rest.index].to_numpy() != 0)
    bad = (numbers.isna() & (text != "")).to_numpy()[codes]
    if bad.any():
        line = _line(frame, bad)
        fix = ("write amounts such as 1,200.50 or EUR 1200; if the export writes 1.200,50, set decimal: ',' "
               "in a --mapping file" if decimal == "." else "write amounts such as 1.200,50 or EUR 1200")
        raise InputError(path, f"'{column}' is not an amount: {frame.at[line, 'amount']!r}", line=line,
                         column=column, fix=fix)
    if (row_negative := negative[codes]).any():
        line = _line(frame, row_negative)
        raise InputError(path, f"'{column}' is negative: {frame.at[line, 'amount']!r}", line=line, column=column,
                         fix="an opportunity's amount cannot be negative; correct it in the CRM and export again")
    if not np.isfinite(numbers.fillna(0).to_numpy()).all():
        line = _line(frame, ~np.isfinite(numbers.fillna(0).to_numpy())[codes])
        raise InputError(path, f"'{column}' is not a finite amount", line=line, column=column)
    row_currency = currency.to_numpy()[codes]
    named = row_currency != ""
    if named.any():
        first = row_currency[int(np.argmax(named))]
        other = named & (row_currency != first)
        if other.any():
            line = _line(frame, other)
            raise InputError(path, f"amounts in two currencies, {first} (line {_line(frame, named)}) and "
                             f"{row_currency[int(np.argmax(other))]}", line=line, column=column,
                             fix="export every amount in one currency (in Salesforce, the converted amount)")
    return numbers.to_numpy(dtype=float)[codes]


def _ungroup(text: pd.Series, decimal: str) -> np.ndarray:
    """Numbers from digits with thousands separators (already checked against the grouping pattern)."""
    drop = r"[,'\s]" if decimal == "." else r"[.'\s]"
    plain = text.str.replace(drop, "", regex=True)
    if decimal == ",":
        plain = plain.str.replace(",", ".", regex=False)
    return pd.to_numeric(plain, errors="coerce").to_numpy(dtype=float)


def _meaning(path: Path, frame: pd.DataFrame, field_name: str, column: str, meanings: dict[str, str],
             default: str | None, what: str, fix: str) -> np.ndarray:
    codes, text = _per_value(frame[field_name])
    meant = text.str.casefold().map(meanings)
    if default is not None:
        meant = meant.fillna(default)
    unknown = meant.isna().to_numpy()[codes]
    if unknown.any():
        line = _line(frame, unknown)
        raise InputError(path, f"unknown {what} {frame.at[line, field_name]!r}", line=line, column=column, fix=fix)
    return meant.to_numpy(dtype=object)[codes]


def _last_per_id(path: Path, frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, int]:
    """The last row of each id: an earlier row is an earlier state, superseded before it is even read."""
    if (frame["id"] == "").any():
        raise InputError(path, f"'{column}' is empty", line=_line(frame, (frame["id"] == "").to_numpy()),
                         column=column, fix="give every row its id, or leave the id column out of the export")
    later = frame["id"].duplicated(keep="last").to_numpy()
    return frame[~later], int(later.sum())


def _parse_opportunities(path: Path, frame: pd.DataFrame, mapping: Mapping) -> tuple[pd.DataFrame, int]:
    spec = mapping.columns["opportunities"]
    meanings = mapping.status_values
    listed = "; ".join(f"{s}: " + ", ".join(repr(v) for v, m in meanings.items() if m == s) for s in STATUSES)
    status = _meaning(path, frame, mapping.status_from, spec[mapping.status_from], mapping.status_values,
                      mapping.other_status, mapping.status_from,
                      f"the {mapping.name} mapping knows {listed}; list it under status_values in a --mapping file")
    created = _dates(path, frame, "created_date", spec["created_date"], mapping.date_format)
    closed = _dates(path, frame, "close_date", spec["close_date"], mapping.date_format, allow_empty=True)
    amount = _amounts(path, frame, spec["amount"], mapping.decimal)
    is_closed = status != "open"
    if (no_close := is_closed & np.isnat(closed)).any():
        line = _line(frame, no_close)
        raise InputError(path, f"a {frame.loc[line, mapping.status_from]} opportunity has no close date", line=line,
                         column=spec["close_date"], fix="give every won or lost opportunity its close date")
    if (early := is_closed & (closed < created)).any():
        raise InputError(path, "the close date is before the created date", line=_line(frame, early),
                         column=spec["close_date"], fix="correct the dates in the CRM and export again")
    if (no_amount := (status == "won") & np.isnan(amount)).any():
        raise InputError(path, "a won opportunity has no amount", line=_line(frame, no_amount),
                         column=spec["amount"], fix="give every won opportunity its amount")
    opps = pd.DataFrame({"rep_id": frame["rep_id"].to_numpy(), "account": frame["account"].to_numpy(),
                         "created": created, "closed": np.where(is_closed, closed, np.datetime64("NaT")),
                         # an open deal's expected close counts in no KPI, only in the periods the export covers
                         "expected": np.where(is_closed, np.datetime64("NaT"), closed),
                         "amount": amount, "status": status}, index=frame.index)
    if "id" in frame.columns:   # ids are unique by now, and tell apart deals that look alike
        return opps, 0
    exact = opps.drop(columns="expected").duplicated(keep="first").to_numpy()   # as before expected dates counted
    opps = opps[~exact]
    identity = ["rep_id", "account", "created"]
    if (conflict := opps.duplicated(identity, keep=False).to_numpy()).any():
        first = opps[conflict].iloc[0]
        same = opps[conflict & (opps[identity] == first[identity]).all(axis=1).to_numpy()]
        lines = [int(i) for i in same.index[:2]]
        raise InputError(path, f"lines {lines[0]} and {lines[1]} are the same owner, account and created date "
                         "with different details", line=lines[1],
                         fix=f"add the opportunity id column ({spec.get('id', 'id')}) so the last row of each deal "
                             "wins, or remove the stale row")
    return opps, int(exact.sum())


def _parse_activities(path: Path, frame: pd.DataFrame, mapping: Mapping) -> tuple[pd.DataFrame, int]:
    spec = mapping.columns["activities"]
    kind = _meaning(path, frame, "type", spec["type"], mapping.activity_types, None, "activity type",
                    "list it under activity types in a --mapping file (under other to read it without counting it)")
    date = _dates(path, frame, "date", spec["date"], mapping.date_format)
    codes, outcomes = _per_value(frame["outcome"])
    held = outcomes.str.casefold().isin(mapping.held_outcomes).to_numpy()[codes]
    acts = pd.DataFrame({"rep_id": frame["rep_id"].to_numpy(), "date": date, "type": kind,
                         "held": held}, index=frame.index)
    return acts, 0


def _parse_leads(path: Path, frame: pd.DataFrame, mapping: Mapping) -> tuple[pd.DataFrame, int]:
    spec = mapping.columns["leads"]
    created = _dates(path, frame, "created_date", spec["created_date"], mapping.date_format)
    converted = _dates(path, frame, "converted_date", spec["converted_date"], mapping.date_format, allow_empty=True)
    if (early := converted < created).any():
        raise InputError(path, "the converted date is before the created date", line=_line(frame, early),
                         column=spec["converted_date"], fix="correct the dates in the CRM and export again")
    leads = pd.DataFrame({"rep_id": frame["rep_id"].to_numpy(), "created": created, "converted": converted},
                         index=frame.index)
    return leads, 0


_PARSERS = {"opportunities": _parse_opportunities, "activities": _parse_activities, "leads": _parse_leads}


@dataclass
class CrmData:
    """The parsed exports: rep ids, dates as datetime64[D], amounts as floats."""

    opportunities: pd.DataFrame
    activities: pd.DataFrame | None = None
    leads: pd.DataFrame | None = None
    rows: dict[str, int] = field(default_factory=dict)          # data rows read, per export kind
    duplicates: dict[str, int] = field(default_factory=dict)    # rows dropped as duplicates or superseded
    skipped: dict[str, int] = field(default_factory=dict)       # unmatched owner -> rows left out


def read_exports(opportunities: str | Path, owners: OwnerIndex, mapping: Mapping, *,
                 activities: str | Path | None = None, leads: str | Path | None = None,
                 skip_unmatched: bool = False) -> CrmData:
    """Read and validate every export; nothing is derived or written until all of them pass."""
    data = CrmData(opportunities=pd.DataFrame())
    for kind, given in (("opportunities", opportunities), ("activities", activities), ("leads", leads)):
        if given is None:
            continue
        path = Path(given)
        columns = mapping.columns[kind]
        frame = _read_export(path, mapping, kind)
        data.rows[kind] = len(frame)
        superseded = 0
        if "id" in frame.columns:   # first, so that a deal's last owner decides whether it is skipped
            frame, superseded = _last_per_id(path, frame, columns["id"])
        frame = _match_owners(path, frame, columns["owner"], owners, skip_unmatched, data.skipped)
        parsed, duplicates = _PARSERS[kind](path, frame, mapping)
        data.duplicates[kind] = superseded + duplicates
        setattr(data, kind, parsed)
    return data


# --- deriving the KPIs --------------------------------------------------------------------------

def _period_codes(dates: np.ndarray, kind: str) -> np.ndarray:
    """Months (or quarters) since January 1970, so that consecutive periods are consecutive integers."""
    months = dates.astype("datetime64[M]").astype(np.int64)
    return months if kind == "month" else months // 3


def period_labels(codes: np.ndarray, kind: str) -> np.ndarray:
    """``2026-03`` or ``2026-Q1`` for each period code."""
    unique, inverse = np.unique(codes, return_inverse=True)
    if kind == "month":
        names = [f"{1970 + c // 12}-{c % 12 + 1:02d}" for c in unique.tolist()]
    else:
        names = [f"{1970 + c // 4}-Q{c % 4 + 1}" for c in unique.tolist()]
    return np.array(names, dtype=object)[inverse.reshape(-1)]


def _span(reps: np.ndarray, periods: np.ndarray) -> pd.MultiIndex:
    """Every (rep, period) from each rep's first to last period: the periods where counts are zero, not
    missing."""
    bounds = pd.DataFrame({"rep": reps, "p": periods}).groupby("rep")["p"].agg(["min", "max"])
    lengths = (bounds["max"] - bounds["min"] + 1).to_numpy()
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    p = np.repeat(bounds["min"].to_numpy(), lengths) + (np.arange(lengths.sum()) - starts)
    return pd.MultiIndex.from_arrays([np.repeat(bounds.index.to_numpy(), lengths), p], names=["rep", "p"])


def _kpi(kpi_id: str, values: pd.Series) -> pd.DataFrame:
    frame = values.rename("value").reset_index()
    frame["kpi_id"] = kpi_id
    return frame


def _opportunity_kpis(opps: pd.DataFrame, kind: str) -> list[pd.DataFrame]:
    created_p = _period_codes(opps["created"].to_numpy(), kind)
    closed = opps["status"].to_numpy() != "open"
    close_p = _period_codes(opps["closed"].to_numpy(), kind)
    rep = opps["rep_id"].to_numpy()
    span = _span(np.concatenate([rep, rep[closed]]), np.concatenate([created_p, close_p[closed]]))
    won = opps["status"].to_numpy() == "won"
    won_frame = pd.DataFrame({"rep": rep[won], "p": close_p[won], "amount": opps["amount"].to_numpy()[won],
                              "days": (opps["closed"].to_numpy()[won] - opps["created"].to_numpy()[won])
                              .astype("timedelta64[D]").astype(np.int64)})
    by_won = won_frame.groupby(["rep", "p"])
    revenue = by_won["amount"].sum()
    deals = by_won.size()
    closed_deals = pd.DataFrame({"rep": rep[closed], "p": close_p[closed]}).groupby(["rep", "p"]).size()
    pipeline = pd.DataFrame({"rep": rep, "p": created_p, "amount": opps["amount"].to_numpy()}) \
        .groupby(["rep", "p"])["amount"].sum()
    return [
        _kpi("revenue", revenue.reindex(span, fill_value=0.0)),
        _kpi("deals_won", deals.reindex(span, fill_value=0).astype(float)),
        _kpi("win_rate", deals.reindex(closed_deals.index, fill_value=0) / closed_deals),
        _kpi("avg_deal_size", revenue / deals),
        _kpi("sales_cycle_length", by_won["days"].median().astype(float)),
        _kpi("pipeline_generated", pipeline.reindex(span, fill_value=0.0)),
    ]


def _activity_kpis(acts: pd.DataFrame, kind: str) -> list[pd.DataFrame]:
    frame = pd.DataFrame({"rep": acts["rep_id"].to_numpy(), "p": _period_codes(acts["date"].to_numpy(), kind),
                          "touch": acts["type"].isin(["call", "email"]).to_numpy(),
                          "meeting": ((acts["type"] == "meeting") & acts["held"]).to_numpy()})
    span = _span(frame["rep"].to_numpy(), frame["p"].to_numpy())
    sums = frame.groupby(["rep", "p"])[["touch", "meeting"]].sum().reindex(span, fill_value=0).astype(float)
    return [_kpi("activities", sums["touch"]), _kpi("meetings_booked", sums["meeting"])]


def _lead_kpis(leads: pd.DataFrame, kind: str) -> list[pd.DataFrame]:
    created_p = _period_codes(leads["created"].to_numpy(), kind)
    converted = leads["converted"].to_numpy()
    same = ~np.isnat(converted) & (_period_codes(converted, kind) == created_p)
    frame = pd.DataFrame({"rep": leads["rep_id"].to_numpy(), "p": created_p, "converted": same})
    return [_kpi("lead_to_opp_conversion", frame.groupby(["rep", "p"])["converted"].mean().astype(float))]


def derive_kpis(data: CrmData, period_kind: str = "quarter") -> pd.DataFrame:
    """KPI values per rep and period: rep_id, period, kpi_id, value (no targets yet, no quota attainment,
    which needs each rep's quota)."""
    if period_kind not in PERIOD_KINDS:
        raise ValueError(period_kind)
    parts = _opportunity_kpis(data.opportunities, period_kind) if len(data.opportunities) else []
    if data.activities is not None and len(data.activities):
        parts += _activity_kpis(data.activities, period_kind)
    if data.leads is not None and len(data.leads):
        parts += _lead_kpis(data.leads, period_kind)
    if not parts:
        return pd.DataFrame({"rep_id": pd.Series(dtype=object), "period": pd.Series(dtype=object),
                             "kpi_id": pd.Series(dtype=object), "value": pd.Series(dtype=float)})
    frame = pd.concat(parts, ignore_index=True).sort_values(["rep", "p", "kpi_id"], kind="stable")
    return pd.DataFrame({"rep_id": frame["rep"].to_numpy(), "period": period_labels(frame["p"].to_numpy(), period_kind),
                         "kpi_id": frame["kpi_id"].to_numpy(), "value": frame["value"].to_numpy(dtype=float)})


def covered_periods(data: CrmData, period_kind: str) -> list[tuple[str, str]]:
    """The (KPI, period) pairs an import speaks for: for each export given, the KPIs it gives in
    every period from its earliest date to its latest (created, closed, expected to close, logged
    or converted). Values a CRM import wrote there before and this one no longer gives are stale:
    a deal that moved owner, was re-opened or was deleted in the CRM."""
    dates = {"opportunities": ("created", "closed", "expected"), "activities": ("date",),
             "leads": ("created", "converted")}
    pairs = []
    for kind, columns in dates.items():
        frame = getattr(data, kind)
        if frame is None or not len(frame):
            continue
        found = np.concatenate([frame[c].to_numpy(dtype="datetime64[D]") for c in columns if c in frame])
        found = found[~np.isnat(found)]
        if not len(found):
            continue
        codes = _period_codes(found, period_kind)
        periods = period_labels(np.arange(codes.min(), codes.max() + 1), period_kind)
        pairs += [(kpi, str(p)) for kpi in KPIS_BY_EXPORT[kind] for p in periods]
    return pairs


def with_targets(values: pd.DataFrame, kpis: dict[str, Kpi], rep_roles: dict[str, str], period_kind: str,
                 kept: pd.DataFrame | None = None) -> pd.DataFrame:
    """Adds each value's target and the quota attainment rows.

    A target already in the store from a KPI file (``kept``: rep_id, period, kpi_id, target) wins over
    the catalog's default for the rep's role; the revenue target is the rep's quota, and quota
    attainment is revenue ÷ quota with a target of 1.
    """
    values = values[values["kpi_id"].isin(kpis.keys())].reset_index(drop=True)
    roles = values["rep_id"].map(rep_roles).fillna("")
    pairs = pd.DataFrame({"kpi_id": values["kpi_id"], "role": roles}).drop_duplicates()
    pairs["target"] = [kpis[k].target_for(r or None, period_kind) for k, r in zip(pairs["kpi_id"], pairs["role"])]
    values = values.assign(role=roles).merge(pairs, on=["kpi_id", "role"], how="left").drop(columns="role")
    values["target"] = values["target"].astype(float)
    values = _keep_store_targets(values, kept)
    if "quota_attainment" in kpis and "revenue" in kpis:
        revenue = values[(values["kpi_id"] == "revenue") & (values["target"] > 0)]
        quota = pd.DataFrame({"rep_id": revenue["rep_id"], "period": revenue["period"], "kpi_id": "quota_attainment",
                              "value": revenue["value"] / revenue["target"], "target": 1.0})
        values = pd.concat([values, _keep_store_targets(quota, kept)], ignore_index=True)
    return values.sort_values(["rep_id", "period", "kpi_id"], kind="stable").reset_index(drop=True)


def _keep_store_targets(values: pd.DataFrame, kept: pd.DataFrame | None) -> pd.DataFrame:
    if kept is None or kept.empty:
        return values
    merged = values.merge(kept.rename(columns={"target": "kept"}), on=["rep_id", "period", "kpi_id"], how="left")
    merged["target"] = merged["kept"].where(merged["kept"].notna(), merged["target"]).astype(float)
    return merged.drop(columns="kept")


# --- the import -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CrmImportResult:
    rows: dict[str, int]                 # data rows read per export kind
    duplicates: dict[str, int]           # rows dropped as duplicates or superseded by a later row of the id
    skipped: dict[str, int]              # unmatched owner -> rows left out (with --skip-unmatched)
    reps: int
    periods: tuple[str, str] | None      # first and last period with a value
    not_in_catalog: tuple[str, ...]      # derivable KPIs the project's catalog does not define
    written: ImportResult


def _kept_targets(store: Store) -> pd.DataFrame:
    """Targets that came from KPI files rather than a CRM import: quotas someone set on purpose."""
    rows = store.query(
        f"SELECT rep_id, period, kpi_id, target FROM kpi_values WHERE target IS NOT NULL "
        f"AND source NOT LIKE '{SOURCE_PREFIX}%' AND kpi_id IN ({', '.join('?' * len(CRM_KPIS))})", CRM_KPIS)
    return pd.DataFrame(rows, columns=["rep_id", "period", "kpi_id", "target"])


def import_crm(store: Store, opportunities: str | Path, kpis: dict[str, Kpi], *,
               activities: str | Path | None = None, leads: str | Path | None = None,
               period_kind: str = "quarter", mapping: Mapping | None = None,
               skip_unmatched: bool = False) -> CrmImportResult:
    """Read and validate the exports, derive the KPIs, then upsert them in one transaction."""
    mapping = mapping or load_mapping()
    data = read_exports(opportunities, OwnerIndex.from_store(store), mapping, activities=activities, leads=leads,
                        skip_unmatched=skip_unmatched)
    derived = derive_kpis(data, period_kind)
    rep_roles = dict(store.conn.execute("SELECT id, role FROM reps").fetchall())
    frame = with_targets(derived, kpis, rep_roles, period_kind, _kept_targets(store))
    files = [Path(p).name for p in (opportunities, activities, leads) if p is not None]
    scope = [(kpi, period) for kpi, period in covered_periods(data, period_kind) if kpi in kpis]
    if frame.empty and not scope:
        written = ImportResult(0, 0, 0, 0)
    else:
        written = write_kpi_values(store, frame, kpis, source=SOURCE_PREFIX + ",".join(files),
                                   replace=(SOURCE_PREFIX, scope))
    periods = sorted(set(frame["period"]))
    derivable = set(derived["kpi_id"]) | ({"quota_attainment"} if (derived["kpi_id"] == "revenue").any() else set())
    missing = sorted(derivable - set(kpis))
    return CrmImportResult(rows=data.rows, duplicates=data.duplicates, skipped=data.skipped,
                           reps=int(frame["rep_id"].nunique()), periods=(periods[0], periods[-1]) if periods else None,
                           not_in_catalog=tuple(missing), written=written)
