"""Feedback without the hidden tests.

Our multiple-choice and classification answers live only in hidden tests (``### BEGIN HIDDEN TESTS``
... ``### END HIDDEN TESTS``), because everything in a released notebook can be read. ``nbgrader
autograde`` puts those tests back to run them, and ``nbgrader generate_feedback`` renders the
autograded notebook as it is, so by default the feedback a rep receives shows every hidden test, and
the traceback of a failing one quotes the line with the answer. Feedback is shared between reps and
cohorts, and the questions are reused, so this preprocessor takes the hidden tests out of the feedback
again: the course's ``nbgrader_config.py`` runs it between nbgrader's ``GetGrades`` and the HTML
header preprocessor (see there).

Which lines are hidden is decided by nbgrader's own ``ClearHiddenTests``, with its configuration
(``c.ClearHiddenTests.begin_test_delimeter`` and ``end_test_delimeter``), so the feedback hides exactly
what the released notebook left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.filters import strip_ansi
from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool
from traitlets.config import Config

# The line left where a hidden region was. The course's notebooks are Python, hence the '#'.
HIDDEN_NOTE = "# Hidden checks ran here; they are not shown in feedback."

# What a rep reads instead of the error of a hidden check.
HIDDEN_FAILURE = ("A hidden check in this cell did not pass, so its code and error are not shown: use the "
                  "visible tests, the rubric and your trainer's comments to work out what to change.")

# IPython marks the line a frame was executing with an arrow ("----> 3 assert ...") and has done so for
# many versions; a traceback without one is treated as coming from hidden code.
_CURRENT_LINE = re.compile(r"^\s*-+>")

# Each source line is handed to ClearHiddenTests with its index in front, so that the lines it keeps
# tell which ones it removed. NUL never occurs in a delimiter; see _check_delimiters for digits.
_TAG = "\x00"


@dataclass(frozen=True)
class HiddenSplit:
    """A cell source with its hidden regions taken out."""

    source: str  # the source with each hidden region replaced by HIDDEN_NOTE
    hidden: tuple[str, ...]  # every non-blank line removed, delimiters included, stripped


class HideHiddenTests(Preprocessor):
    """Take hidden tests out of an autograded notebook before it is rendered as feedback.

    In every cell with a hidden region: the region becomes one comment line; an error output whose
    traceback or message quotes a line of the region is replaced, keeping its ``ename``, by a single
    sentence (``HIDDEN_FAILURE``) when the failing line is hidden, or has the quoted lines dropped from
    its traceback when a visible line failed and IPython merely showed hidden lines around it. Other
    cells and outputs, scores and comments are left as they are.
    """

    # nbgrader registers the preprocessors of GenerateFeedback without enabling them, and nbconvert's
    # are off unless enabled: off here would mean feedback with every hidden test in it. (nbgrader's own
    # NbGraderPreprocessor is on for the same reason, but it declares display_data_priority without
    # config=True, so the HTML exporter's setting for it is logged as unknown on every notebook.)
    enabled = Bool(True, help="Whether feedback leaves the hidden tests out").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        # The configuration's ClearHiddenTests section is the one `nbgrader generate_assignment` used to
        # strip the release. Only that section is passed: the HTML exporter's settings for every
        # NbConvertBase would make ClearHiddenTests log that it does not know them.
        section = self.config["ClearHiddenTests"] if "ClearHiddenTests" in self.config else Config()
        self._regions = ClearHiddenTests(config=Config(ClearHiddenTests=section), log=self.log)
        _check_delimiters(self._regions)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        index: int) -> tuple[NotebookNode, ResourcesDict]:
        split = split_hidden(self._regions, cell.source)
        if split is None:
            return cell, resources
        cell.source = split.source
        if "outputs" in cell:
            cell.outputs = [hide_error(output, split.hidden) for output in cell.outputs]
        return cell, resources


def split_hidden(regions: ClearHiddenTests, source: str) -> HiddenSplit | None:
    """``source`` with its hidden regions replaced by ``HIDDEN_NOTE`` (indented like the region's first
    line), or None when it has none. Raises nbgrader's RuntimeError for a nested or unclosed region."""
    lines = source.split("\n")
    probe = NotebookNode(source="\n".join(f"{_TAG}{i}{_TAG}{line}" for i, line in enumerate(lines)))
    if not regions._remove_hidden_test_region(probe):
        return None
    kept = {int(line[1:line.index(_TAG, 1)]) for line in probe.source.split("\n")}
    out: list[str] = []
    hidden: list[str] = []
    for i, line in enumerate(lines):
        if i in kept:
            out.append(line)
            continue
        if i == 0 or i - 1 in kept:  # the first line of a removed run: a BEGIN delimiter
            out.append(line[:len(line) - len(line.lstrip())] + HIDDEN_NOTE)
        if line.strip():
            hidden.append(line.strip())
    return HiddenSplit("\n".join(out), tuple(hidden))


def hide_error(output: NotebookNode, hidden: tuple[str, ...]) -> NotebookNode:
    """The output to show in feedback for one output of a cell whose hidden lines are ``hidden``."""
    if output.get("output_type") != "error":
        return output
    evalue = strip_ansi(output.get("evalue", ""))
    lines = [strip_ansi(line) for entry in output.get("traceback", []) for line in entry.split("\n")]
    if not _quotes(evalue, hidden) and not any(_quotes(line, hidden) for line in lines):
        return output
    current = next((line for line in lines if _CURRENT_LINE.match(line)), None)
    if current is None or _quotes(current, hidden) or _quotes(evalue, hidden):
        return from_dict({"output_type": "error", "ename": output.get("ename", ""), "evalue": HIDDEN_FAILURE,
                          "traceback": [HIDDEN_FAILURE]})
    # A visible line failed; IPython printed the hidden lines near it as context. Drop those lines only.
    traceback = []
    for entry in output.get("traceback", []):
        shown = [line for line in entry.split("\n") if not _quotes(strip_ansi(line), hidden)]
        if any(line.strip() for line in shown):
            traceback.append("\n".join(shown))
    return from_dict({**output, "traceback": traceback})


def _quotes(text: str, hidden: tuple[str, ...]) -> bool:
    return any(line in text for line in hidden)


def _check_delimiters(regions: ClearHiddenTests) -> None:
    """The index tags are NUL and digits, so a delimiter made only of those would be found inside a tag."""
    for name in ("begin_test_delimeter", "end_test_delimeter"):
        value = getattr(regions, name)
        if _TAG in value or not value.strip("0123456789"):
            raise ValueError(f"ClearHiddenTests.{name} = {value!r} cannot mark hidden tests: use a delimiter "
                             "with letters in it, such as the default 'BEGIN HIDDEN TESTS'")
