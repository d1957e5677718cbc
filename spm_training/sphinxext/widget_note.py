"""A note beside every interactive control that the built book shows as a still picture.

The book's notebooks run once, when the book is built, and their ipywidgets are saved with the values
of that run. In the browser the controls render, but there is no kernel behind them, so moving a slider
or picking from a drop-down recomputes nothing. Without a word of warning a reader takes that for a bug.
Each widget output therefore gets a short note right above it: what the controls show, and how to run
the notebook to use them.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NOTE_CLASS = "spm-static-widget"


def widget_note(docname: str) -> nodes.paragraph:
    """The note, naming the notebook to open."""
    return nodes.paragraph(
        "", "",
        nodes.strong("", "Run this notebook to use the controls."),
        nodes.Text(" Here they show the example the book was built with and do not respond. Open "),
        nodes.literal("", f"{docname}.ipynb"),
        nodes.Text(" in JupyterLab and run all cells to change the values and see the results recompute."),
        classes=[NOTE_CLASS])


def is_widget_view(node: nodes.Node) -> bool:
    return isinstance(node, nodes.raw) and "html" in node.get("format", "").split() and WIDGET_VIEW in node.astext()


def add_notes(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for view in list(doctree.findall(is_widget_view)):
        parent = view.parent
        if parent is None:
            continue
        parent.insert(parent.index(view), widget_note(docname))


def setup(app: Sphinx) -> None:
    app.connect("doctree-resolved", add_notes)
