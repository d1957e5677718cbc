"""The ``interview-scorecard`` directive: the structured-interview scorecard of the book's interview
chapter, one row per skill of ``skills.yml`` (:func:`spm_training.scorecard.scorecard_rows`), built at
build time so that the book, the reports' hiring profile and the catalog never disagree.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..catalog import load_kpis, load_skills
from ..errors import SpmError
from ..project import skills_path
from ..scorecard import RATINGS, scorecard_rows

logger = logging.getLogger(__name__)

HEADERS = ("Skill", "Ask", "Watch for in the role-play", "Rating", "Notes")


def _para(*children: nodes.Node) -> nodes.paragraph:
    return nodes.paragraph("", "", *children)


class ScorecardDirective(SphinxDirective):
    """```{interview-scorecard}```: no arguments; reads the course folder named by ``spm_course_dir``."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.app.confdir)
        course_dir = root / self.config.spm_course_dir
        self.env.note_dependency(str(skills_path(course_dir)))
        try:
            kpis = load_kpis(root)
            skills = load_skills(course_dir, kpis=kpis)
        except SpmError as exc:
            logger.warning("interview-scorecard: %s", exc, location=(self.env.docname, self.lineno),
                           type="spm", subtype="scorecard")
            return []
        return [self._table(scorecard_rows(skills, kpis)), self._scale()]

    @staticmethod
    def _table(rows: list[dict]) -> nodes.table:
        table = nodes.table(classes=["spm-scorecard"])
        group = nodes.tgroup(cols=len(HEADERS))
        table += group
        for width in (18, 30, 30, 12, 10):
            group += nodes.colspec(colwidth=width)
        head = nodes.row()
        for header in HEADERS:
            head += nodes.entry("", _para(nodes.Text(header)))
        group += nodes.thead("", head)
        body = nodes.tbody()
        boxes = "  ".join(f"☐ {points}" for points, _, _ in RATINGS)
        for r in rows:
            row = nodes.row()
            skill = [_para(nodes.strong("", r["name"]))]
            if r["kpis"]:
                skill.append(_para(nodes.emphasis("", "Goes with: " + ", ".join(r["kpis"]))))
            for cell in (skill, [_para(nodes.Text(r["question"]))], [_para(nodes.Text(r["watch_for"]))],
                         [_para(nodes.Text(boxes))], [_para(nodes.Text(""))]):
                row += nodes.entry("", *cell)
            body += row
        group += body
        return table

    @staticmethod
    def _scale() -> nodes.bullet_list:
        return nodes.bullet_list("", *(nodes.list_item("", _para(nodes.strong("", f"{points} {label}"),
                                                                 nodes.Text(f": {meaning}")))
                                       for points, label, meaning in RATINGS))


def setup(app: Sphinx) -> None:
    app.add_directive("interview-scorecard", ScorecardDirective)
