"""The project's settings file, ``spm.yml`` at the project root (optional).

It holds the readiness weights (see :mod:`spm_training.analysis.readiness`) and the date window
(see :class:`spm_training.periods.DateWindow`)::

    readiness:
      weights: {mastery: 0.5, kpi: 0.3, progress: 0.2}
    dates:
      earliest: 2000-01-01      # the default
      years_ahead: 5            # the default: the window ends on 31 December, five years after this year
      # latest: 2035-12-31      # or a fixed last day instead of years_ahead
    serve:                      # spm serve on a hub (these are the defaults)
      ops_groups: [spm-ops]             # hub groups of sales ops: every page, uploads, syncs
      trainer_groups: [spm-trainers]    # hub groups of trainers: every page
      sync_every_minutes: 0             # a scheduled sync from the gradebook; 0: none

``capacity:`` (load per rep and role, :data:`DEFAULT_CAPACITY`) and ``hiring:`` (the hiring plan's
assumptions, :data:`DEFAULT_HIRING`) are read by :func:`load_capacity` and :func:`load_hiring`.

Without a ``dates`` section the window runs from 2000-01-01 to 31 December five years after the
current year. Imports refuse dates and periods outside it; the analysis ignores such values that
an older store already holds.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .errors import CatalogError
from .periods import DEFAULT_EARLIEST, DEFAULT_YEARS_AHEAD, DateWindow, parse_day
from .yamlio import LINE, read_yaml

DEFAULT_WEIGHTS = {"mastery": 0.5, "kpi": 0.3, "progress": 0.2}


def _settings(path: Path | None) -> dict[str, Any]:
    """The settings file's top-level mapping; {} without a file."""
    if path is None or not path.is_file():
        return {}
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise CatalogError(path, "expected a mapping at the top level", line=1)
    return data


def load_weights(path: Path | None) -> dict[str, float]:
    """The readiness weights from the settings file at ``path`` (``spm.yml``), else the defaults."""
    data = _settings(path)
    section = data.get("readiness")
    if section is None:
        return dict(DEFAULT_WEIGHTS)
    assert path is not None         # a section was read from the file
    line = section.get(LINE) if isinstance(section, dict) else None
    weights = section.get("weights") if isinstance(section, dict) else None
    if not isinstance(weights, dict):
        raise CatalogError(path, "readiness needs a 'weights:' mapping", line=line,
                           fix="write readiness: {weights: {mastery: 0.5, kpi: 0.3, progress: 0.2}}")
    line = weights.get(LINE, line)
    unknown = sorted(set(weights) - set(DEFAULT_WEIGHTS) - {LINE})
    if unknown:
        raise CatalogError(path, f"unknown readiness weight '{unknown[0]}'", line=line,
                           fix="use mastery, kpi and progress")
    out = {}
    for name in DEFAULT_WEIGHTS:
        value = weights.get(name, DEFAULT_WEIGHTS[name])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise CatalogError(path, f"readiness weight {name} must be a number of at least 0, not {value!r}",
                               line=line)
        out[name] = float(value)
    total = sum(out.values())
    if abs(total - 1) > 1e-6:
        raise CatalogError(path, f"readiness weights sum to {total:g}", line=line,
                           fix="make mastery + kpi + progress equal 1 so that the index runs from 0 to 100")
    return out


DATES_FIX = ("write dates: {earliest: 2000-01-01, years_ahead: 5} (the defaults), "
             "or a fixed latest: 2035-12-31 instead of years_ahead")


def load_date_window(path: Path | None, today: date | None = None) -> DateWindow:
    """The window of plausible dates from the ``dates`` section of ``spm.yml`` at ``path``, else the
    default: 2000-01-01 to 31 December five years after the year of ``today``."""
    data = _settings(path)
    section = data.get("dates")
    if section is None:
        return DateWindow.default(today)
    assert path is not None         # a section was read from the file
    if not isinstance(section, dict):
        raise CatalogError(path, "dates needs a mapping", line=None, fix=DATES_FIX)
    line = section.get(LINE)
    unknown = sorted(set(section) - {"earliest", "latest", "years_ahead", LINE})
    if unknown:
        raise CatalogError(path, f"unknown dates setting '{unknown[0]}'", line=line, fix=DATES_FIX)
    if "latest" in section and "years_ahead" in section:
        raise CatalogError(path, "dates gives both latest and years_ahead", line=line, fix="keep one of them")
    earliest = _day(path, section, "earliest", DEFAULT_EARLIEST, line)
    if "latest" in section:
        latest = _day(path, section, "latest", DEFAULT_EARLIEST, line)
        window = DateWindow(earliest, latest)
    else:
        years = section.get("years_ahead", DEFAULT_YEARS_AHEAD)
        if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 100:
            raise CatalogError(path, f"dates years_ahead must be a whole number from 0 to 100, not {years!r}",
                               line=line, fix=DATES_FIX)
        window = DateWindow.years_ahead(earliest, years, today)
    if window.latest < window.earliest:
        raise CatalogError(path, f"the date window ends ({window.latest}) before it starts ({window.earliest})",
                           line=line, fix=DATES_FIX)
    return window


def _day(path: Path, section: dict, name: str, default: date, line: int | None) -> date:
    value = section.get(name, default)
    # YAML reads an unquoted 2000-01-01 as a date, a quoted one as text
    if isinstance(value, datetime):
        value = value.date()
    day = value if isinstance(value, date) else parse_day(value)
    if day is None or not 1 <= day.year <= 9998:
        raise CatalogError(path, f"dates {name} must be a date written YYYY-MM-DD, not {value!r}", line=line,
                           fix=DATES_FIX)
    return day


STORE_FIX = "write store: {busy_timeout: 30} (seconds, the default), or set SPM_BUSY_TIMEOUT"


def load_busy_timeout(path: Path | None) -> float:
    """How long a write waits for another command that holds the store's write lock, in seconds:
    ``$SPM_BUSY_TIMEOUT``, else ``store: {busy_timeout: ...}`` in ``spm.yml`` at ``path``, else
    :data:`spm_training.store.DEFAULT_BUSY_TIMEOUT` (30 seconds)."""
    from .store import DEFAULT_BUSY_TIMEOUT, busy_timeout_from_env

    from_env = busy_timeout_from_env()
    if from_env is not None:
        return from_env
    section = _settings(path).get("store")
    if section is None:
        return DEFAULT_BUSY_TIMEOUT
    assert path is not None         # a section was read from the file
    if not isinstance(section, dict):
        raise CatalogError(path, "store needs a mapping", fix=STORE_FIX)
    line = section.get(LINE)
    unknown = sorted(set(section) - {"busy_timeout", "allow_network_filesystem", LINE})
    if unknown:
        raise CatalogError(path, f"unknown store setting '{unknown[0]}'", line=line, fix=STORE_FIX)
    value = section.get("busy_timeout", DEFAULT_BUSY_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 86_400:
        raise CatalogError(path, f"store busy_timeout must be a number of seconds from 0 to 86400, not {value!r}",
                           line=line, fix=STORE_FIX)
    return float(value)


# --- capacity and hiring (spm capacity, spm hiring-plan) -----------------------------------------------

#: The load each rep of a role can carry, per KPI of the store that measures load, in that KPI's own
#: period: activities a month, pipeline generated a quarter, accounts owned (a KPI a project's kpis.yml
#: may add). ``capacity:`` in spm.yml replaces a KPI's mapping; the others keep these.
DEFAULT_CAPACITY: dict[str, dict[str, float]] = {
    "activities": {"SDR": 1100.0, "AE": 400.0, "AM": 300.0},
    "pipeline_generated": {"SDR": 200000.0, "AE": 480000.0},
    "accounts": {"AE": 40.0, "AM": 60.0},
}
CAPACITY_FIX = "write capacity: {activities: {SDR: 1100, AE: 400, AM: 300}}: a KPI id, then each role's capacity " \
               "per rep as a number above 0"

#: The hiring plan's assumptions when spm.yml has no ``hiring:`` section (each key may be given alone).
DEFAULT_HIRING: dict[str, Any] = {
    "time_to_hire_days": 60,         # from opening a requisition to the new rep's first day
    "default_attrition": 0.2,        # a year's leavers per rep of average headcount, when too few were measured
    "attrition_months": 12,          # the span attrition is measured over, ending today
    "min_headcount": 5,              # the average headcount of a role below which the default attrition is used
    "default_ramp": [0.1, 0.25, 0.45, 0.65, 0.8, 0.9],  # attainment in months 1, 2, ... since hire
    "min_hires": 3,                  # the hires of a role below which a month of the ramp uses the default
}
HIRING_FIX = ("write hiring: {time_to_hire_days: 60, default_attrition: 0.2, attrition_months: 12, "
              "min_headcount: 5, default_ramp: [0.1, 0.25, 0.45, 0.65, 0.8, 0.9], min_hires: 3}")


def load_capacity(path: Path | None) -> dict[str, dict[str, float]]:
    """KPI id -> role -> the capacity of one rep, from ``capacity:`` in ``spm.yml`` over
    :data:`DEFAULT_CAPACITY`."""
    out = {kpi: dict(roles) for kpi, roles in DEFAULT_CAPACITY.items()}
    section = _settings(path).get("capacity")
    if section is None:
        return out
    assert path is not None         # a section was read from the file
    if not isinstance(section, dict):
        raise CatalogError(path, "capacity needs a mapping", fix=CAPACITY_FIX)
    line = section.get(LINE)
    for kpi, roles in section.items():
        if kpi == LINE:
            continue
        if not isinstance(roles, dict) or not set(roles) - {LINE}:
            raise CatalogError(path, f"capacity {kpi} needs a mapping of roles to numbers, not {roles!r}",
                               line=line, fix=CAPACITY_FIX)
        where = roles.get(LINE, line)
        out[str(kpi)] = {}
        for role, value in roles.items():
            if role == LINE:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= 0:
                raise CatalogError(path, f"capacity {kpi} {role} must be a number above 0, not {value!r}",
                                   line=where, fix=CAPACITY_FIX)
            out[str(kpi)][str(role)] = float(value)
    return out


def load_hiring(path: Path | None) -> dict[str, Any]:
    """The hiring plan's assumptions: ``hiring:`` in ``spm.yml`` over :data:`DEFAULT_HIRING`."""
    out = {key: (list(value) if isinstance(value, list) else value) for key, value in DEFAULT_HIRING.items()}
    section = _settings(path).get("hiring")
    if section is None:
        return out
    assert path is not None         # a section was read from the file
    if not isinstance(section, dict):
        raise CatalogError(path, "hiring needs a mapping", fix=HIRING_FIX)
    line = section.get(LINE)
    unknown = sorted(str(k) for k in set(section) - set(DEFAULT_HIRING) - {LINE})
    if unknown:
        raise CatalogError(path, f"unknown hiring setting '{unknown[0]}'", line=line, fix=HIRING_FIX)
    whole = {"time_to_hire_days": (0, 730), "attrition_months": (1, 120), "min_headcount": (1, 10_000),
             "min_hires": (1, 10_000)}
    for key, (low, high) in whole.items():
        if key in section:
            value = section[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise CatalogError(path, f"hiring {key} must be a whole number from {low} to {high}, not {value!r}",
                                   line=line, fix=HIRING_FIX)
            out[key] = value
    if "default_attrition" in section:
        value = section["default_attrition"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise CatalogError(path, f"hiring default_attrition must be a share of at least 0 and below 1 "
                               f"(0.2 for 20% a year), not {value!r}", line=line, fix=HIRING_FIX)
        out["default_attrition"] = float(value)
    if "default_ramp" in section:
        ramp = section["default_ramp"]
        if not isinstance(ramp, list) or not ramp or len(ramp) > 36 or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.01 <= v <= 2 for v in ramp):
            raise CatalogError(path, f"hiring default_ramp must be a list of 1 to 36 attainments from 0.01 to 2 "
                               f"(0.5 for 50%), one per month since hire, not {ramp!r}", line=line, fix=HIRING_FIX)
        out["default_ramp"] = [float(v) for v in ramp]
    return out


def load_allow_network_filesystem(path: Path | None) -> bool:
    """Whether a WAL store may live on a network or FUSE file system (see
    :func:`spm_training.store.refuse_wal_on_network`): ``$SPM_STORE_ON_NETWORK_FS``, else
    ``store: {allow_network_filesystem: true}`` in ``spm.yml`` at ``path``, else no."""
    from .store import NETWORK_FS_ENV

    if os.environ.get(NETWORK_FS_ENV, "").strip():
        return os.environ[NETWORK_FS_ENV].strip().lower() in {"1", "yes", "true", "allow"}
    section = _settings(path).get("store")
    if not isinstance(section, dict) or "allow_network_filesystem" not in section:
        return False
    assert path is not None         # a section was read from the file
    value = section["allow_network_filesystem"]
    if not isinstance(value, bool):
        raise CatalogError(path, f"store allow_network_filesystem must be true or false, not {value!r}",
                           line=section.get(LINE), fix="write store: {allow_network_filesystem: true} only "
                           "if one machine alone opens the store")
    return value


DEFAULT_OPS_GROUPS = ("spm-ops",)
DEFAULT_TRAINER_GROUPS = ("spm-trainers",)
SERVE_FIX = ("write serve: {ops_groups: [spm-ops], trainer_groups: [spm-trainers], sync_every_minutes: 0} "
             "(the defaults)")


@dataclass(frozen=True)
class ServeSettings:
    """``spm serve`` on a hub: the hub groups whose members are sales ops (everything, uploads and
    syncs) and trainers (every page), and how often the service syncs from the gradebook (0: never
    by itself)."""

    ops_groups: tuple[str, ...] = DEFAULT_OPS_GROUPS
    trainer_groups: tuple[str, ...] = DEFAULT_TRAINER_GROUPS
    sync_every_minutes: int = 0


def load_serve_settings(path: Path | None) -> ServeSettings:
    """The ``serve`` section of ``spm.yml`` at ``path``, else :class:`ServeSettings`' defaults."""
    section = _settings(path).get("serve")
    if section is None:
        return ServeSettings()
    assert path is not None         # a section was read from the file
    if not isinstance(section, dict):
        raise CatalogError(path, "serve needs a mapping", fix=SERVE_FIX)
    line = section.get(LINE)
    unknown = sorted(set(section) - {"ops_groups", "trainer_groups", "sync_every_minutes", LINE})
    if unknown:
        raise CatalogError(path, f"unknown serve setting '{unknown[0]}'", line=line, fix=SERVE_FIX)
    groups = {}
    for name, default in (("ops_groups", DEFAULT_OPS_GROUPS), ("trainer_groups", DEFAULT_TRAINER_GROUPS)):
        value = section.get(name, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(g, str) and g.strip() for g in value):
            raise CatalogError(path, f"serve {name} must be a list of hub group names, not {value!r}", line=line,
                               fix=SERVE_FIX)
        groups[name] = tuple(g.strip() for g in value)
    every = section.get("sync_every_minutes", 0)
    if isinstance(every, bool) or not isinstance(every, int) or not 0 <= every <= 10_080:
        raise CatalogError(path, f"serve sync_every_minutes must be a whole number from 0 to 10080, not {every!r}",
                           line=line, fix=SERVE_FIX)
    return ServeSettings(ops_groups=groups["ops_groups"], trainer_groups=groups["trainer_groups"],
                         sync_every_minutes=every)


GRADING_FIX = "write grading: {fork: true, preload: [pandas, numpy]} (preload: modules a kernel's warm parent imports)"


def load_grading(path: Path | None) -> dict[str, Any]:
    """``spm grade``'s settings: ``grading: {fork: true|false, preload: [module, ...]}`` in ``spm.yml``.
    ``fork`` (default true) forks each kernel from a warm parent; ``preload`` (default: the top-level
    imports of the course's source notebooks) is what that parent imports. Returns ``{"fork": bool,
    "preload": list | None}``."""
    section = _settings(path).get("grading")
    out: dict[str, Any] = {"fork": True, "preload": None}
    if section is None:
        return out
    assert path is not None         # a section was read from the file
    line = section.get(LINE) if isinstance(section, dict) else None
    if not isinstance(section, dict):
        raise CatalogError(path, "grading must be a mapping", line=line, fix=GRADING_FIX)
    unknown = sorted(set(section) - {"fork", "preload", LINE})
    if unknown:
        raise CatalogError(path, f"unknown grading setting '{unknown[0]}'", line=line, fix=GRADING_FIX)
    if "fork" in section:
        if not isinstance(section["fork"], bool):
            raise CatalogError(path, f"grading fork must be true or false, not {section['fork']!r}", line=line,
                               fix=GRADING_FIX)
        out["fork"] = section["fork"]
    if "preload" in section:
        modules = section["preload"]
        if not isinstance(modules, list) or not all(
                isinstance(m, str) and m and all(part.isidentifier() for part in m.split(".")) for m in modules):
            raise CatalogError(path, f"grading preload must be a list of module names, not {modules!r}", line=line,
                               fix=GRADING_FIX)
        out["preload"] = list(modules)
    return out
