"""Sphinx extension for the spm-training book.

- ``knowledge-check``: self-grading multiple-choice questions (:mod:`.knowledge_check`)
- ``kpi-catalog``: the KPI catalog rendered at build time (:mod:`.kpi_catalog`)
- ``skills-map``: skills to KPIs, pages and assignments, rendered at build time (:mod:`.skills_map`)
- ``interview-scorecard``: the interview scorecard, a row per skill of ``skills.yml`` (:mod:`.scorecard`)
- "Practise this" at the end of every chapter that teaches a skill (:mod:`.practise`)
- a note beside the notebooks' saved widgets, which do not respond without a kernel (:mod:`.widget_note`)
- offline assets: scripts, styles and vendored libraries served by the site (:mod:`.assets`)

Enable it with ``sphinx: extra_extensions: [spm_training.sphinxext]`` in the book's ``_config.yml``.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from .. import __version__
from . import assets, knowledge_check, kpi_catalog, practise, scorecard, skills_map, widget_note


def setup(app: Sphinx) -> dict[str, Any]:
    assets.setup(app)
    knowledge_check.setup(app)
    kpi_catalog.setup(app)
    skills_map.setup(app)
    scorecard.setup(app)
    practise.setup(app)
    widget_note.setup(app)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
