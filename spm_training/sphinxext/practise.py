""""Practise this": the end of every chapter that ``skills.yml`` names as teaching a skill.

For each skill the chapter teaches, the section links the interactive modules that practise it
(``modules:`` in ``skills.yml``) and names the graded assignments that measure it (the ``skill:<id>``
tags of the course's source notebooks), with the title, due day and roles the onboarding plan
(``plan.yml``) gives them. It is generated at build time, so it cannot drift from the catalog.

The section is added when a page is read, so it appears in the page's table of contents; its links
are filled in once every page's title is known (``doctree-resolved``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

from ..catalog import Skill, load_kpis, load_skills
from ..course import read_items
from ..errors import SpmError
from ..plan import PlannedAssignment, read_plan
from ..project import plan_path, skills_path
from ..text import plural
from .skills_map import SKILL_LABEL_PREFIX

logger = logging.getLogger(__name__)

SECTION_ID = "practise-this"
TITLE = "Practise this"
SKILLS_MAP_DOC = "book/guides/skills-map"
# Where a new hire learns to fetch and submit an assignment (a section of the how-to-use chapter).
ASSIGNMENTS_DOC = "book/onboarding/how-to-use"
ASSIGNMENTS_ANCHOR = "assignments-in-jupyterlab"


@dataclass(frozen=True)
class Measured:
    """One assignment that measures a skill."""

    assignment: str
    items: int
    title: str = ""
    due_day: int | None = None
    roles: tuple[str, ...] = ()


@dataclass
class Practice:
    """What the build knows about practice: the skills each chapter teaches, and where they are measured."""

    skills_by_page: dict[str, list[Skill]] = field(default_factory=dict)
    measured: dict[str, list[Measured]] = field(default_factory=dict)
    files: tuple[Path, ...] = ()


def measured_by(items: list[Any], plan: dict[str, PlannedAssignment]) -> dict[str, list[Measured]]:
    """For each skill id, the assignments whose graded cells carry its tag: most graded items first."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        for skill in item.skills:
            counts[skill][item.assignment] += 1
    found = {}
    for skill, per in counts.items():
        rows = []
        for assignment, number in per.items():
            planned = plan.get(assignment)
            rows.append(Measured(assignment, number, planned.title if planned else "",
                                 planned.due_day if planned else None, planned.roles if planned else ()))
        found[skill] = sorted(rows, key=lambda m: (-m.items, m.assignment))
    return found


def load_practice(root: Path, course_dir: Path) -> Practice:
    """The catalog, the course's graded items and its plan, as the practice sections need them.

    A project without ``skills.yml`` gets no practice sections; a catalog that does not load is an
    :class:`~spm_training.errors.SpmError` for the caller to report."""
    if not skills_path(course_dir).is_file():
        return Practice()
    skills = load_skills(course_dir, kpis=load_kpis(root))
    plan: dict[str, PlannedAssignment] = {}
    files = [skills_path(course_dir), course_dir / "source"]
    if plan_path(course_dir).is_file():
        plan = {a.id: a for a in read_plan(plan_path(course_dir)).assignments}
        files.append(plan_path(course_dir))
    by_page: dict[str, list[Skill]] = defaultdict(list)
    for skill in skills.values():
        for page in skill.pages:
            by_page[page.strip("/")].append(skill)
    return Practice(dict(by_page), measured_by(read_items(course_dir), plan), tuple(files))


class practise_this(nodes.General, nodes.Element):
    """Placeholder for the section's body, filled in when links can be resolved."""


def _practice(app: Sphinx) -> Practice:
    practice = getattr(app, "spm_practice", None)
    if practice is None:
        root = Path(app.confdir)
        try:
            practice = load_practice(root, root / app.config.spm_course_dir)
        except SpmError as exc:
            logger.warning("practise-this: %s", exc, type="spm", subtype="practise")
            practice = Practice()
        app.spm_practice = practice  # type: ignore[attr-defined]
    return practice


def add_section(app: Sphinx, doctree: nodes.document) -> None:
    """Append the (empty) "Practise this" section to a chapter that teaches a skill."""
    docname = app.env.docname
    practice = _practice(app)
    skills = practice.skills_by_page.get(docname)
    if not skills:
        return
    for path in practice.files:
        app.env.note_dependency(str(path))
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    section = nodes.section(classes=["spm-practise"])
    section["ids"] = [SECTION_ID]
    section["names"] = [SECTION_ID]
    section += nodes.title("", TITLE)
    section += practise_this(skill_ids=[s.id for s in skills])
    top += section


def _link(app: Sphinx, fromdoc: str, todoc: str, text: str, anchor: str = "") -> nodes.Node:
    """A link to another page of the book; plain text in a book that does not have that page."""
    if todoc not in app.env.all_docs:
        return nodes.Text(text)
    uri = app.builder.get_relative_uri(fromdoc, todoc) + (f"#{anchor}" if anchor else "")
    return nodes.reference("", text, internal=True, refuri=uri)


def _title(app: Sphinx, docname: str, default: str = "") -> str:
    title = app.env.titles.get(docname)
    return title.astext() if title is not None else (default or docname)


def _assignment_name(measured: Measured) -> str:
    """The plan's title, else one made from the folder name (``06_objection_handling``: Objection handling)."""
    if measured.title:
        return measured.title
    words = re.sub(r"^\d+[-_ ]*", "", measured.assignment).replace("_", " ").replace("-", " ").strip()
    return words.capitalize() or measured.assignment


def _assignment_text(measured: Measured) -> list[nodes.Node]:
    parts: list[nodes.Node] = [nodes.strong("", _assignment_name(measured)), nodes.Text(" ("),
                               nodes.literal("", measured.assignment),
                               nodes.Text(f"), {plural(measured.items, 'graded item')} on this skill")]
    if measured.due_day is not None:
        roles = ", ".join(measured.roles)
        parts.append(nodes.Text(f"; due on day {measured.due_day} of onboarding" + (f" for {roles}" if roles else "")))
    return parts


def _skill_item(app: Sphinx, docname: str, skill: Skill, practice: Practice) -> nodes.list_item:
    heading = nodes.paragraph("", "", _link(app, docname, SKILLS_MAP_DOC, skill.name,
                                            nodes.make_id(SKILL_LABEL_PREFIX + skill.id.lower())),
                              classes=["spm-practise-skill"])
    rows = nodes.bullet_list()
    for module in _modules(app, skill):
        para = nodes.paragraph("", "", nodes.Text("Try it: "), _link(app, docname, module, _title(app, module)),
                               nodes.Text(" (interactive module, not graded)"))
        rows += nodes.list_item("", para)
    measured = practice.measured.get(skill.id, [])
    if measured:
        rows += nodes.list_item("", nodes.paragraph("", "", nodes.Text("Graded: "), *_assignment_text(measured[0])))
        if len(measured) > 1:
            also = nodes.paragraph("", "", nodes.Text("Also measured in "))
            for index, other in enumerate(measured[1:]):
                if index:
                    also += nodes.Text(", ")
                also += [nodes.Text(_assignment_name(other) + " ("), nodes.literal("", other.assignment),
                         nodes.Text(")")]
            rows += nodes.list_item("", also)
    else:
        rows += nodes.list_item("", nodes.paragraph("", "No graded assignment measures this skill yet."))
    return nodes.list_item("", heading, rows)


def _modules(app: Sphinx, skill: Skill) -> list[str]:
    """The skill's interactive modules that are pages of this book (``spm skills check`` names the others)."""
    known = set(app.env.all_docs)
    return [m.strip("/") for m in skill.modules if m.strip("/") in known]


def fill_sections(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    practice = _practice(app)
    skills = {s.id: s for page in practice.skills_by_page.values() for s in page}
    for node in list(doctree.findall(practise_this)):
        chosen = [skills[i] for i in node["skill_ids"] if i in skills]
        what = "the skill" if len(chosen) == 1 else f"the {len(chosen)} skills"
        first = ("Try the interactive module first, then hand in the graded assignment"
                 if any(_modules(app, s) for s in chosen) else "Hand in the graded assignment")
        intro = nodes.paragraph("", "", nodes.Text(
            f"This chapter teaches {what} below. {first}: your score there is what the reports count as your "
            "mastery of the skill."))
        steps = nodes.paragraph("", "", nodes.Text("You fetch and submit assignments in the Assignments tab of "
                                                   "JupyterLab, as "),
                                _link(app, docname, ASSIGNMENTS_DOC, "Assignments in JupyterLab",
                                      ASSIGNMENTS_ANCHOR),
                                nodes.Text(" explains. Each skill's entry in "),
                                _link(app, docname, SKILLS_MAP_DOC,
                                      _title(app, SKILLS_MAP_DOC, "the skills map").lower()),
                                nodes.Text(" shows which KPIs it moves."))
        items = nodes.bullet_list(classes=["spm-practise-list"])
        for skill in chosen:
            items += _skill_item(app, docname, skill, practice)
        node.replace_self([intro, items, steps])


def setup(app: Sphinx) -> None:
    # Before Sphinx's own doctree-read collectors (priority 500), so the section is in the page's TOC.
    app.connect("doctree-read", add_section, priority=400)
    app.connect("doctree-resolved", fill_sections)
    app.add_node(practise_this)
