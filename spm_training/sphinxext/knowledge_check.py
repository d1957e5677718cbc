"""The ``knowledge-check`` directive: self-grading multiple-choice questions, rendered as accessible HTML.

Each question becomes a ``<fieldset>`` with a ``<legend>``, one radio input per option, a Check button
and a feedback area announced to screen readers (``aria-live``). The feedback for every option is in
the page, hidden; ``static/spm/knowledge-check.js`` reveals the chosen option's feedback, so grading
needs no kernel and no network. Problems in the YAML body are Sphinx warnings naming the file and the
line, so a strict build (``-W``) fails on them.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .quiz_model import Question, parse_knowledge_check

logger = logging.getLogger(__name__)

JS_FILE = "spm/knowledge-check.js"


class kc_quiz(nodes.General, nodes.Element):
    """A whole knowledge check: a group of questions."""


class kc_question(nodes.General, nodes.Element):
    """One question: a fieldset."""


class kc_legend(nodes.General, nodes.TextElement):
    """The question's text: the fieldset's legend."""


class kc_option(nodes.General, nodes.Element):
    """One answer: a radio input followed by its label and its hidden feedback."""


class kc_label(nodes.General, nodes.TextElement):
    """The answer's text: the radio input's label."""


class kc_why(nodes.General, nodes.TextElement):
    """The feedback shown when the learner checks this answer."""


def _first_content_line(directive: Directive) -> int:
    """The source line (1-based) of the directive body's first line.

    MyST gives ``content_offset`` as the number of option lines between the directive's own line and
    its body; reStructuredText gives the absolute, 0-based line of the content.
    """
    if type(directive.state).__module__.startswith("myst_parser"):
        return directive.lineno + directive.content_offset + 1
    return directive.content_offset + 1


class KnowledgeCheckDirective(SphinxDirective):
    """```{knowledge-check}`` with a YAML list of questions as its body (see CONTRIBUTING.md)."""

    has_content = True
    required_arguments = 0
    optional_arguments = 0
    final_argument_whitespace = False

    def run(self) -> list[nodes.Node]:
        first_line = _first_content_line(self)
        questions, problems = parse_knowledge_check("\n".join(self.content))
        for problem in problems:
            logger.warning("knowledge-check: %s", problem.message,
                           location=(self.env.docname, first_line + problem.line - 1),
                           type="spm", subtype="knowledge_check")
        if not questions:
            return []
        quiz_number = self.env.new_serialno("spm-knowledge-check") + 1
        quiz = kc_quiz(classes=["spm-kc"])
        quiz["ids"] = [f"spm-kc-{quiz_number}"]
        quiz["data_questions"] = len(questions)
        self.set_source_info(quiz)
        for number, question in enumerate(questions, start=1):
            quiz += self._question(question, quiz_number, number, len(questions), first_line)
        return [quiz]

    def _inline(self, text: str, line: int) -> list[nodes.Node]:
        # Question, answer and feedback text may use inline markup (emphasis, code, links, roles).
        parsed, messages = self.state.inline_text(text, line)
        return [*parsed, *messages]

    def _question(self, question: Question, quiz_number: int, number: int, total: int,
                  first_line: int) -> kc_question:
        base = f"spm-kc-{quiz_number}-q{number}"
        line = first_line + question.line - 1
        node = kc_question(classes=["spm-kc-question"])
        node["ids"] = [base]
        node["data_number"] = number
        node["data_total"] = total
        node += kc_legend("", "", *self._inline(question.text, line))
        for index, option in enumerate(question.options, start=1):
            option_line = first_line + option.line - 1
            option_node = kc_option(classes=["spm-kc-option"])
            option_node["input_id"] = f"{base}-o{index}"
            option_node["input_name"] = base
            option_node["value"] = index
            option_node += kc_label("", "", *self._inline(option.text, option_line))
            why = kc_why("", "", *self._inline(option.why, option_line))
            why["correct"] = option.correct
            option_node += why
            node += option_node
        return node


# HTML rendering. The translator writes the opening tag on visit and the closing tag on depart;
# the children (inline markup of question, answer and feedback) are rendered in between.

def visit_kc_quiz(self: Any, node: kc_quiz) -> None:
    self.body.append(self.starttag(node, "div", role="group", **{
        "aria-label": "Knowledge check", "data-questions": str(node["data_questions"])}))


def depart_kc_quiz(self: Any, node: kc_quiz) -> None:
    # Filled in by knowledge-check.js once every question has been checked: the score and the next step.
    self.body.append('<p class="spm-kc-score" role="status" aria-live="polite" hidden></p>\n</div>\n')


def visit_kc_question(self: Any, node: kc_question) -> None:
    self.body.append(self.starttag(node, "fieldset"))


def depart_kc_question(self: Any, node: kc_question) -> None:
    feedback_id = node["ids"][0] + "-feedback"
    self.body.append(
        f'<button type="button" class="spm-kc-check" aria-describedby="{feedback_id}">Check answer</button>\n'
        f'<p class="spm-kc-feedback" id="{feedback_id}" role="status" aria-live="polite"></p>\n'
        "</fieldset>\n")


def visit_kc_legend(self: Any, node: kc_legend) -> None:
    question = node.parent
    self.body.append(self.starttag(node, "legend", "", CLASS="spm-kc-legend"))
    self.body.append(f'<span class="spm-kc-number">Question {question["data_number"]} of '
                     f'{question["data_total"]}</span> ')


def depart_kc_legend(self: Any, node: kc_legend) -> None:
    self.body.append("</legend>\n")


def visit_kc_option(self: Any, node: kc_option) -> None:
    self.body.append(self.starttag(node, "div"))
    self.body.append(f'<input type="radio" id="{node["input_id"]}" name="{node["input_name"]}" '
                     f'value="{node["value"]}">\n')


def depart_kc_option(self: Any, node: kc_option) -> None:
    self.body.append("</div>\n")


def visit_kc_label(self: Any, node: kc_label) -> None:
    self.body.append(self.starttag(node, "label", "", **{"for": node.parent["input_id"]}))


def depart_kc_label(self: Any, node: kc_label) -> None:
    self.body.append("</label>\n")


def visit_kc_why(self: Any, node: kc_why) -> None:
    correct = "true" if node["correct"] else "false"
    self.body.append(self.starttag(node, "div", "", CLASS="spm-kc-why", hidden="hidden",
                                   **{"data-correct": correct}))


def depart_kc_why(self: Any, node: kc_why) -> None:
    self.body.append("</div>\n")


def skip_node(self: Any, node: nodes.Node) -> None:
    # A self-grading quiz only makes sense in HTML; other formats leave it out.
    raise nodes.SkipNode


def add_script(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Load the grading script on the pages that have a knowledge check, and only there."""
    if doctree is not None and any(True for _ in doctree.findall(kc_quiz)):
        app.add_js_file(JS_FILE, defer="defer")


def setup(app: Sphinx) -> None:
    app.add_directive("knowledge-check", KnowledgeCheckDirective)
    for node, visit, depart in (
        (kc_quiz, visit_kc_quiz, depart_kc_quiz),
        (kc_question, visit_kc_question, depart_kc_question),
        (kc_legend, visit_kc_legend, depart_kc_legend),
        (kc_option, visit_kc_option, depart_kc_option),
        (kc_label, visit_kc_label, depart_kc_label),
        (kc_why, visit_kc_why, depart_kc_why),
    ):
        app.add_node(node, html=(visit, depart), latex=(skip_node, None), text=(skip_node, None),
                     man=(skip_node, None), texinfo=(skip_node, None))
    app.connect("html-page-context", add_script)
