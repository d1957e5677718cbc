"""Reports for managers, reps and trainers: computed contexts rendered by Jinja templates."""

from .build import items_context, rep_context, team_context, write_report, write_reports

__all__ = ["items_context", "rep_context", "team_context", "write_report", "write_reports"]
