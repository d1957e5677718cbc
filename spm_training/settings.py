"""The project's settings file, ``spm.yml`` at the project root (optional).

Today it holds the readiness weights (see :mod:`spm_training.analysis.readiness`)::

    readiness:
      weights: {mastery: 0.5, kpi: 0.3, progress: 0.2}
"""

from __future__ import annotations

import math
from pathlib import Path

from .errors import CatalogError
from .yamlio import LINE, read_yaml

DEFAULT_WEIGHTS = {"mastery": 0.5, "kpi": 0.3, "progress": 0.2}


def load_weights(path: Path | None) -> dict[str, float]:
    """The readiness weights from the settings file at ``path`` (``spm.yml``), else the defaults."""
    if path is None or not path.is_file():
        return dict(DEFAULT_WEIGHTS)
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise CatalogError(path, "expected a mapping at the top level", line=1)
    section = data.get("readiness")
    if section is None:
        return dict(DEFAULT_WEIGHTS)
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
