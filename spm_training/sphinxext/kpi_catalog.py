"""The ``kpi-catalog`` and ``kpi-summary`` directives: the KPI catalog in use, rendered at build time.

``kpi-catalog`` makes each KPI a section labelled ``kpi-<id>`` (for example ``kpi-win_rate``), so any
chapter can link to it with ``{ref}`kpi-win_rate``` and the link text is the KPI's name.
``kpi-summary`` is one table with a row per KPI (what it measures, unit, direction, target by role),
each row linking to the KPI's section.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..catalog import Kpi, load_kpis
from ..errors import SpmError
from ..project import kpi_catalog_path

logger = logging.getLogger(__name__)

LABEL_PREFIX = "kpi-"

DIRECTION_TEXT = {
    "higher": "Higher is better; attainment is value ÷ target.",
    "lower": "Lower is better; attainment is target ÷ value.",
}
AGGREGATION_TEXT = {
    "sum": "Sum: a longer period's value is the total of its parts, so the target scales with the "
           "period's length (a quarter is three months).",
    "rate": "Rate: a ratio or average, recomputed from the counts for a longer period; the target is "
            "the same for a month and a quarter.",
}


def kpi_label(kpi_id: str) -> str:
    """The cross-reference label of a KPI's section in the KPI reference."""
    return LABEL_PREFIX + kpi_id.lower()


def format_number(value: float, unit: str) -> str:
    """A target as a reader expects it: ratios as percentages, money with its currency."""
    if unit == "ratio":
        percent = value * 100
        return f"{percent:.0f}%" if percent == round(percent) else f"{percent:.1f}%"
    if value == int(value):
        number = f"{int(value):,}"
    else:
        number = f"{value:,.2f}".rstrip("0").rstrip(".")
    if unit in ("", "count", "ratio"):
        return number
    if unit.isupper() and len(unit) == 3:  # ISO currency code, written first as in "EUR 120,000"
        return f"{unit} {number}"
    return f"{number} {unit}"


def format_target(kpi: Kpi) -> str:
    """The default target, one number or one per role, with the period it applies to."""
    target = kpi.default_target
    if target is None:
        return "none set; import one per rep with the KPI values"
    # Only sums scale with the period; a rate's target reads the same for a month and a quarter.
    per = f" per {kpi.period}" if kpi.period and kpi.aggregation == "sum" else ""
    if isinstance(target, dict):
        parts = [f"{role} {format_number(value, kpi.unit)}" for role, value in target.items()]
        return "; ".join(parts) + per
    return format_number(target, kpi.unit) + per


def _field(name: str, *body: nodes.Node) -> nodes.field:
    return nodes.field("", nodes.field_name("", name), nodes.field_body("", nodes.paragraph("", "", *body)))


def kpi_section(kpi: Kpi, document: nodes.document) -> nodes.section:
    """One KPI as a section with a title, a label and a field list of its SMART fields."""
    label = kpi_label(kpi.id)
    section = nodes.section(classes=["spm-kpi"])
    section["ids"] = [nodes.make_id(label)]
    section["names"] = [label]
    section += nodes.title("", kpi.name)
    fields = nodes.field_list()
    fields += _field("Id", nodes.literal("", kpi.id))
    fields += _field("Definition", nodes.Text(kpi.definition or "not stated"))
    fields += _field("Unit", nodes.Text(kpi.unit or "not stated"))
    fields += _field("Formula", nodes.literal("", kpi.formula) if kpi.formula else nodes.Text("not stated"))
    fields += _field("Default target", nodes.Text(format_target(kpi)))
    fields += _field("Goal", nodes.Text(kpi.goal or "not stated"))
    fields += _field("Period", nodes.Text(kpi.period.capitalize() if kpi.period else "not stated"))
    fields += _field("Direction", nodes.Text(DIRECTION_TEXT.get(kpi.direction, kpi.direction)))
    fields += _field("Aggregation", nodes.Text(AGGREGATION_TEXT.get(kpi.aggregation, kpi.aggregation)))
    fields += _field("Roles", nodes.Text(", ".join(kpi.roles)))
    section += fields
    # An explicit target makes the label known to Sphinx's std domain, so {ref} resolves it.
    document.note_explicit_target(section, section)
    return section


SUMMARY_HEADERS = ("KPI", "What it measures", "Unit", "Better", "Target by role")
SUMMARY_DIRECTION = {"higher": "Higher", "lower": "Lower"}
UNIT_TEXT = {"ratio": "%", "count": "count"}


def first_sentence(text: str) -> str:
    """The definition's first sentence: what the KPI counts, before the fine print."""
    text = " ".join(text.split())
    cut = text.find(". ")
    return text if cut < 0 else text[: cut + 1]


def target_by_role(kpi: Kpi) -> list[str]:
    """One line per role, as the summary shows it ("SDR 12 per month"), or one target and the roles it is for."""
    target = kpi.default_target
    if target is None:
        return ["None set"]
    per = f" per {kpi.period}" if kpi.period and kpi.aggregation == "sum" else ""
    if isinstance(target, dict):
        return [f"{role} {format_number(value, kpi.unit)}{per}" for role, value in target.items()]
    return [f"{format_number(target, kpi.unit)}{per} for {', '.join(kpi.roles)}"]


def _entry(*children: nodes.Node) -> nodes.entry:
    return nodes.entry("", *children)


def kpi_summary_table(kpis: list[Kpi]) -> nodes.table:
    """The summary table: a row per KPI, the KPI's name a link to its section of the reference."""
    table = nodes.table(classes=["spm-kpi-summary"])
    group = nodes.tgroup(cols=len(SUMMARY_HEADERS))
    table += group
    for width in (18, 42, 8, 8, 24):
        group += nodes.colspec(colwidth=width)
    head = nodes.row()
    for header in SUMMARY_HEADERS:
        head += _entry(nodes.paragraph("", header))
    group += nodes.thead("", head)
    body = nodes.tbody()
    for kpi in kpis:
        name = nodes.reference("", kpi.name, internal=True, refid=nodes.make_id(kpi_label(kpi.id)))
        row = nodes.row()
        row += _entry(nodes.paragraph("", "", name))
        row += _entry(nodes.paragraph("", first_sentence(kpi.definition) or "Not stated"))
        row += _entry(nodes.paragraph("", UNIT_TEXT.get(kpi.unit, kpi.unit or "none")))
        row += _entry(nodes.paragraph("", SUMMARY_DIRECTION.get(kpi.direction, kpi.direction)))
        row += _entry(*(nodes.paragraph("", line) for line in target_by_role(kpi)))
        body += row
    group += body
    return table


class KpiCatalogDirective(SphinxDirective):
    """```{kpi-catalog}```: no arguments; reads the project's kpis.yml or the packaged catalog."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.app.confdir)
        path = kpi_catalog_path(root)
        self.env.note_dependency(str(path))
        try:
            kpis = load_kpis(root)
        except SpmError as exc:
            logger.warning("kpi-catalog: %s", exc, location=(self.env.docname, self.lineno),
                           type="spm", subtype="kpi_catalog")
            return []
        if not kpis:
            logger.warning("kpi-catalog: %s lists no KPI", path, location=(self.env.docname, self.lineno),
                           type="spm", subtype="kpi_catalog")
            return []
        return [kpi_section(kpi, self.state.document) for kpi in kpis.values()]


class KpiSummaryDirective(SphinxDirective):
    """```{kpi-summary}```: the catalog as one table; the page must also hold the ``kpi-catalog``."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.app.confdir)
        self.env.note_dependency(str(kpi_catalog_path(root)))
        try:
            kpis = load_kpis(root)
        except SpmError as exc:
            logger.warning("kpi-summary: %s", exc, location=(self.env.docname, self.lineno),
                           type="spm", subtype="kpi_catalog")
            return []
        return [kpi_summary_table(list(kpis.values()))]


def setup(app: Sphinx) -> None:
    app.add_directive("kpi-catalog", KpiCatalogDirective)
    app.add_directive("kpi-summary", KpiSummaryDirective)
