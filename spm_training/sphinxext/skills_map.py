"""The ``skills-map`` directive: for every skill, the KPIs it moves, the pages that teach it and the
assignments that measure it, generated at build time from ``skills.yml``, the KPI catalog and the
``skill:<id>`` tags of the graded cells in the course's source notebooks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..catalog import Skill, load_kpis, load_skills
from ..course import Item, read_items
from ..errors import SpmError
from ..project import skills_path
from ..text import plural
from .kpi_catalog import kpi_label

logger = logging.getLogger(__name__)

SKILL_LABEL_PREFIX = "skill-"
HEADERS = ("Skill", "Related KPIs", "Taught in", "Measured by")
NO_ASSIGNMENT = "No assignment yet"


@dataclass(frozen=True)
class AssignmentUse:
    """How much of one assignment measures one skill."""

    assignment: str
    items: int
    points: float


def assignments_by_skill(items: list[Item]) -> dict[str, list[AssignmentUse]]:
    """For each skill id, the assignments whose graded cells carry its tag, in assignment order."""
    counts: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        for skill in item.skills:
            counts[skill][item.assignment].append(item.max_score)
    return {
        skill: [AssignmentUse(name, len(points), sum(points)) for name, points in sorted(per.items())]
        for skill, per in counts.items()
    }


def _points(value: float) -> str:
    number = f"{value:g}"
    return f"{number} point" if value == 1 else f"{number} points"


def _para(*children: nodes.Node, classes: list[str] | None = None) -> nodes.paragraph:
    return nodes.paragraph("", "", *children, classes=classes or [])


def _bullets(paragraphs: list[nodes.paragraph]) -> nodes.bullet_list:
    return nodes.bullet_list("", *(nodes.list_item("", p) for p in paragraphs))


class SkillsMapDirective(SphinxDirective):
    """```{skills-map}```: no arguments; reads the course folder named by ``spm_course_dir``."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.app.confdir)
        course_dir = root / self.config.spm_course_dir
        source_dir = course_dir / "source"
        self.env.note_dependency(str(skills_path(course_dir)))
        # A missing path always counts as changed, so new or edited assignments rebuild this page.
        self.env.note_dependency(str(source_dir))
        try:
            skills = load_skills(course_dir, kpis=load_kpis(root))
            items = read_items(course_dir)
        except SpmError as exc:
            self._warn(str(exc))
            return []
        self._warn_unknown_tags(items, skills, root)
        uses = assignments_by_skill(items)
        return [self._table([(skill, uses.get(skill.id, [])) for skill in skills.values()])]

    def _warn(self, message: str, location: object = None) -> None:
        logger.warning("skills-map: %s", message, location=location or (self.env.docname, self.lineno),
                       type="spm", subtype="skills_map")

    def _warn_unknown_tags(self, items: list[Item], skills: dict[str, Skill], root: Path) -> None:
        for item in items:
            for skill in item.skills:
                if skill not in skills:
                    where = item.source.relative_to(root) if item.source.is_relative_to(root) else item.source
                    self._warn(f"{where}: cell '{item.cell}' is tagged skill:{skill}, which skills.yml does "
                               "not define; fix the tag or add the skill")

    def _xref(self, reftype: str, target: str, text: str) -> addnodes.pending_xref:
        node = addnodes.pending_xref("", nodes.inline("", text), refdomain="std", reftype=reftype,
                                     reftarget=target, refexplicit=False, refwarn=True,
                                     refdoc=self.env.docname)
        self.set_source_info(node)
        return node

    def _skill_cell(self, skill: Skill) -> list[nodes.Node]:
        anchor = SKILL_LABEL_PREFIX + skill.id.lower()
        name = nodes.strong("", skill.name)
        title = _para(name)
        title["ids"] = [nodes.make_id(anchor)]
        title["names"] = [anchor]
        self.state.document.note_explicit_target(title, title)
        method = skill.method.replace("_", " ")
        meta = _para(nodes.Text("Id "), nodes.literal("", skill.id),
                     nodes.Text(f"; mastered at {skill.threshold:.0%} of the points ({method})."),
                     classes=["spm-skill-meta"])
        cell = [title]
        if skill.description:
            cell.append(_para(nodes.Text(skill.description)))
        cell.append(meta)
        return cell

    def _kpi_cell(self, skill: Skill) -> list[nodes.Node]:
        if not skill.kpis:
            return [_para(nodes.Text("None linked"))]
        return [_bullets([_para(self._xref("ref", kpi_label(kpi_id), kpi_id), nodes.Text(f" ({direction})"))
                          for kpi_id, direction in skill.kpis])]

    def _page_cell(self, skill: Skill) -> list[nodes.Node]:
        if not skill.pages:
            return [_para(nodes.Text("No page yet"))]
        return [_bullets([_para(self._xref("doc", "/" + page.strip("/"), page)) for page in skill.pages])]

    @staticmethod
    def _assignment_cell(uses: list[AssignmentUse]) -> list[nodes.Node]:
        if not uses:
            return [_para(nodes.emphasis("", NO_ASSIGNMENT))]
        lines = []
        for use in uses:
            lines.append(_para(nodes.literal("", use.assignment),
                               nodes.Text(f": {plural(use.items, 'graded item')}, {_points(use.points)}")))
        return [_bullets(lines)]

    def _table(self, rows: list[tuple[Skill, list[AssignmentUse]]]) -> nodes.table:
        table = nodes.table(classes=["spm-skills-map"])
        group = nodes.tgroup(cols=len(HEADERS))
        table += group
        for width in (28, 24, 24, 24):
            group += nodes.colspec(colwidth=width)
        head = nodes.row()
        for header in HEADERS:
            head += nodes.entry("", _para(nodes.Text(header)))
        group += nodes.thead("", head)
        body = nodes.tbody()
        for skill, uses in rows:
            row = nodes.row()
            for cell in (self._skill_cell(skill), self._kpi_cell(skill), self._page_cell(skill),
                         self._assignment_cell(uses)):
                row += nodes.entry("", *cell)
            body += row
        group += body
        return table


def setup(app: Sphinx) -> None:
    app.add_config_value("spm_course_dir", "assessments", "env", types=[str])
    app.add_directive("skills-map", SkillsMapDirective)
