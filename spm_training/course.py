"""The course's graded items, read from the source notebooks (never from submissions, whose
metadata students can edit)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

SKILL_TAG = "skill:"


@dataclass(frozen=True)
class Item:
    """One graded cell: an autograded test, a manually graded answer, or a task."""

    assignment: str
    notebook: str
    cell: str
    max_score: float
    kind: str                      # "autograded", "manual" or "task"
    skills: tuple[str, ...]
    source: Path

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.assignment, self.notebook, self.cell)


def _kind(meta: dict) -> str:
    if meta.get("task"):
        return "task"
    if meta.get("solution") and meta.get("grade"):
        return "manual"
    return "autograded"


def read_items(course_dir: Path) -> list[Item]:
    """Every graded or task cell in ``source/<assignment>/*.ipynb``, in a stable order."""
    source = course_dir / "source"
    items: list[Item] = []
    if not source.is_dir():
        return items
    for nb_path in sorted(source.glob("*/*.ipynb")):
        try:
            nb = json.loads(nb_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(nb_path, f"not a readable notebook ({exc.__class__.__name__})",
                             fix="repair the JSON or restore it from version control") from None
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not (meta.get("grade") or meta.get("task")):
                continue
            tags = cell.get("metadata", {}).get("tags", [])
            items.append(Item(
                assignment=nb_path.parent.name, notebook=nb_path.stem, cell=str(meta.get("grade_id", "")),
                max_score=float(meta.get("points") or 0), kind=_kind(meta),
                skills=tuple(t[len(SKILL_TAG):] for t in tags if t.startswith(SKILL_TAG)), source=nb_path))
    return items
