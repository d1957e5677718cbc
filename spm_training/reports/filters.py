"""The report templates' Jinja filters: the pure functions of :mod:`spm_training.formatting`, so
that a figure reads the same in a report, the dashboard and the command line.

The ``fmt_*`` names are the Python names the report code has long used; each is the formatting
function of the same meaning (a share is a percentage now: ``fmt_share(0.58)`` is '58%')."""

from __future__ import annotations

from collections.abc import Callable

from .. import formatting as f
from ..formatting import MISSING, half_up
from ..text import plural

fmt_percent = f.percent
fmt_number = f.number
fmt_share = f.percent
fmt_mastery = f.mastery
fmt_signed = f.correlation
fmt_value = f.kpi_value
fmt_score = f.score
fmt_date = f.day

FILTERS: dict[str, Callable] = {
    "percent": f.percent, "share": f.percent, "mastery": f.mastery, "attainment": f.attainment,
    "points": f.points, "whole": f.whole, "number": f.number, "count": f.count, "money": f.money,
    "signed": f.correlation, "correlation": f.correlation, "interval": f.interval, "days": f.days,
    "kpi_value": f.kpi_value, "score": f.score, "date": f.day, "plural": plural,
}

__all__ = ["FILTERS", "MISSING", "fmt_date", "fmt_mastery", "fmt_number", "fmt_percent", "fmt_score", "fmt_share",
           "fmt_signed", "fmt_value", "half_up", "plural"]
