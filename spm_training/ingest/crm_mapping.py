"""How a CRM's exports are to be read: the presets in ``data/crm_presets.yml``, with a user's mapping
file laid over one, checked and turned into a :class:`Mapping` (column of each field, date format, decimal
mark, and what each status, activity type and outcome means).

Reading the exports with a mapping is :mod:`spm_training.ingest.crm_read`; deriving and importing the KPIs is
:mod:`spm_training.ingest.crm`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import CatalogError, InputError, SpmError
from ..text import normalise_header
from ..yamlio import LINE, read_yaml

STATUSES = ("won", "lost", "open")
ACTIVITY_TYPES = ("call", "email", "meeting", "other")
#: The exports a CRM import reads, in the order they are read and reported.
EXPORT_KINDS = ("opportunities", "activities", "leads")
# fields each export must have; `id` is read when the file has it
FIELDS = {
    "opportunities": ("owner", "account", "created_date", "close_date", "amount"),
    "activities": ("owner", "date", "type", "outcome"),
    "leads": ("owner", "created_date", "converted_date"),
}
OPTIONAL_FIELDS = {"opportunities": ("id", "stage", "status"), "activities": ("id",), "leads": ("id",)}
SECTION_KEYS = {"opportunities": {"columns", "status_from", "status_values", "other_status"},
                "activities": {"columns", "types", "held_outcomes"}, "leads": {"columns"}}
# The number grammar of each decimal mark: a mapping may name only these marks, and crm_read parses
# amounts with them (here rather than there so that crm_read can import the mapping, not the reverse).
_GROUPED = {".": r"\d{1,3}(?:[,'\s]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+",
            ",": r"\d{1,3}(?:[.'\s]\d{3})+(?:,\d+)?|\d+(?:,\d+)?|,\d+"}


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
    """The packaged presets in file order: the CLI's --preset choices, read as spm starts (this module
    imports no pandas for that reason)."""
    return [k for k in read_yaml(presets_path()) if k != LINE]


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
    line = raw.get(LINE, section.get(LINE)) if isinstance(raw, dict) else section.get(LINE)
    if not isinstance(raw, dict):
        raise CatalogError(path, f"'{key}' must be a mapping", line=line, fix=f"use keys among {', '.join(allowed)}")
    meaning: dict[str, str] = {}
    for name, values in raw.items():
        if name == LINE:
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
    if preset not in presets or preset == LINE:
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
    top = data.get(LINE, 1)
    known = {"date_format", "decimal", *EXPORT_KINDS}
    for key in data:
        if key != LINE and key not in known:
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
    for kind in EXPORT_KINDS:
        section = data.get(kind) or {}
        line = section.get(LINE, top) if isinstance(section, dict) else top
        if not isinstance(section, dict):
            raise CatalogError(path, f"'{kind}' must be a mapping", line=line)
        for key in section:
            if key != LINE and key not in SECTION_KEYS[kind]:
                raise CatalogError(path, f"'{kind}' has unknown setting '{key}'", line=line,
                                   fix=f"use {', '.join(sorted(SECTION_KEYS[kind]))}")
        raw = section.get("columns") or {}
        allowed = FIELDS[kind] + OPTIONAL_FIELDS[kind]
        unknown = [f for f in raw if f != LINE and f not in allowed]
        if unknown:
            raise CatalogError(path, f"'{kind}.columns' has unknown field '{unknown[0]}'", line=raw.get(LINE, line),
                               fix=f"the fields are {', '.join(allowed)}")
        columns[kind] = {f: normalise_header(str(c)) for f, c in raw.items() if f != LINE and c}
        missing = [f for f in FIELDS[kind] if f not in columns[kind]]
        if missing:
            raise CatalogError(path, f"'{kind}.columns' does not name the column of '{missing[0]}'",
                               line=raw.get(LINE, line), fix=f"add {missing[0]}: <column name>")
        sections[kind] = section
    opps = sections["opportunities"]
    status_from = str(opps.get("status_from") or "status")
    if status_from not in ("status", "stage") or status_from not in columns["opportunities"]:
        raise CatalogError(path, f"status_from {status_from!r} is not a mapped column", line=opps.get(LINE, top),
                           fix="use status or stage, and name its column under opportunities.columns")
    other = opps.get("other_status")
    if other is not None and other not in STATUSES:
        raise CatalogError(path, f"other_status {other!r} is not a status", line=opps.get(LINE, top),
                           fix=f"use one of {', '.join(STATUSES)}, or leave it out to refuse unlisted values")
    acts = sections["activities"]
    return Mapping(
        name=name, date_format=date_format, decimal=decimal, columns=columns, status_from=status_from,
        status_values=_meanings(path, opps, "status_values", STATUSES), other_status=other,
        activity_types=_meanings(path, acts, "types", ACTIVITY_TYPES),
        held_outcomes=frozenset(_values(path, acts.get(LINE, top), "held_outcomes",
                                        acts.get("held_outcomes") or [])))
