"""The project's settings file, ``spm.yml`` at the project root (optional).

It holds the readiness weights (see :mod:`spm_training.analysis.readiness`) and the date window
(see :class:`spm_training.periods.DateWindow`)::

    readiness:
      weights: {mastery: 0.5, kpi: 0.3, progress: 0.2}
    dates:
      earliest: 2000-01-01      # the default
      years_ahead: 5            # the default: the window ends on 31 December, five years after this year
      # latest: 2035-12-31      # or a fixed last day instead of years_ahead

Without a ``dates`` section the window runs from 2000-01-01 to 31 December five years after the
current year. Imports refuse dates and periods outside it; the analysis ignores such values that
an older store already holds.
"""

from __future__ import annotations

import math
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
    unknown = sorted(set(section) - {"busy_timeout", LINE})
    if unknown:
        raise CatalogError(path, f"unknown store setting '{unknown[0]}'", line=line, fix=STORE_FIX)
    value = section.get("busy_timeout", DEFAULT_BUSY_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 86_400:
        raise CatalogError(path, f"store busy_timeout must be a number of seconds from 0 to 86400, not {value!r}",
                           line=line, fix=STORE_FIX)
    return float(value)
