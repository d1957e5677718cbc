"""A first ``skills.yml`` for a course that has none (``spm skills init``).

An existing nbgrader course may already name skills: a graded cell carries them as ``skill:<id>``
tags in its metadata (the same tags ``spm sync`` reads). Each id found becomes a skill with a name
made from the id, a description saying which cells measure it, the default threshold and mastery
method, and no KPI links or book pages yet: those are the trainer's to add, and the file's comments
say how. A course with no such tags gets a commented template with an empty list, which loads as
it is. Either way the file passes ``spm skills check`` as far as the catalog goes; cells that still
name no skill are listed by the check, since tagging them is the next step.
"""

from __future__ import annotations

import json
from pathlib import Path

from .catalog import DEFAULT_MASTERY_METHOD, MASTERY_METHODS
from .course import Item, read_items
from .errors import InputError
from .fileio import write_text_atomic
from .text import plural

DEFAULT_THRESHOLD = 0.7

_HEADER = """\
# The skills this course measures, for spm (spm skills list, spm skills check, spm sync).
# Written by `spm skills init` from the skill:<id> tags of the graded cells in {source}.
#
# Each skill:
#   id           the id the cells' tags use (skill:<id>); keep it as it is
#   name         what reports call it
#   description  what a rep can do once they master it (here at first: which cells measure it)
#   kpis         the KPIs it should move, ids from `spm kpis list`, each with the expected direction:
#                  kpis: [{{id: win_rate, direction: positive}}]
#   pages        the book pages that teach it, e.g. [book/handbook/techniques]
#   threshold    the share of the points that counts as mastered (0 to 1)
#   method       how several scores make one mastery: {methods}
#
# Run `spm skills check` after each change.
"""

_TEMPLATE = """\
# No graded cell in {source} names a skill yet. Tag each graded cell with the skills it measures
# (in JupyterLab: the cell's property inspector, Common Tools, Cell Tags: skill:<id>), list each id
# below, then run `spm skills check`. An entry looks like this:
#
#  - id: discovery_questioning
#    name: Discovery questioning
#    description: Asks open questions that uncover the buyer's pain, impact and timeline.
#    kpis: [{{id: win_rate, direction: positive}}]
#    pages: [book/handbook/techniques]
#    threshold: 0.7
#    method: {method}
skills: []
"""


def _name(skill_id: str) -> str:
    words = skill_id.replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else skill_id


def _quoted(text: str) -> str:
    # A JSON string is a YAML string: quotes, colons and '#' in an id or a cell name stay text.
    return json.dumps(text, ensure_ascii=False)


def starting_catalog(items: list[Item], source: str) -> str:
    """The text of a first ``skills.yml`` for a course whose graded cells are ``items``."""
    header = _HEADER.format(source=source, methods=", ".join(MASTERY_METHODS))
    cells: dict[str, list[Item]] = {}
    for item in items:
        for skill_id in item.skills:
            cells.setdefault(skill_id, []).append(item)
    if not cells:
        return header + "\n" + _TEMPLATE.format(source=source, method=DEFAULT_MASTERY_METHOD)
    lines = [header, "skills:"]
    for skill_id, measured in cells.items():
        assignments = sorted({i.assignment for i in measured})
        description = f"Measured by {plural(len(measured), 'graded cell')} in {', '.join(assignments)}."
        lines += [f"  - id: {_quoted(skill_id)}",
                  f"    name: {_quoted(_name(skill_id))}",
                  f"    description: {_quoted(description)}",
                  "    kpis: []",
                  "    pages: []",
                  f"    threshold: {DEFAULT_THRESHOLD}",
                  f"    method: {DEFAULT_MASTERY_METHOD}"]
    return "\n".join(lines) + "\n"


def init_catalog(course_dir: Path, path: Path) -> tuple[Path, int]:
    """Write the starting catalog of the course at ``path``; returns the path and how many skills it
    names. An existing file is never overwritten."""
    if path.exists():
        raise InputError(path, "a skills catalog is already here; spm skills init does not overwrite it",
                         fix="edit it, or move it away first")
    if not course_dir.is_dir():
        raise InputError(course_dir, "no course folder here", fix="point --course at the nbgrader course")
    items = read_items(course_dir)
    text = starting_catalog(items, f"{course_dir / 'source'}")
    write_text_atomic(path, text)
    return path, len({s for i in items for s in i.skills})

