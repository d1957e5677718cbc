"""Which submissions changed the cells a rep may not change.

nbgrader restores locked cells before it grades, and it warns about changed checksums, but those
warnings fire on every cell with hidden tests (nbgrader issue 1961): the released cell lacks the hidden
part that the recorded checksum covers. So each protected cell of a submission is compared here with what
the rep was given: the source nbgrader recorded at generate time (``source_cell``), with the hidden tests
and marking schemes cut out the way nbgrader cut them for the release. A submission that changed nothing
produces no finding.

Protected cells are the locked ones and the autograder tests (grade cells that are not answers), which
are locked unless a course turned that off.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..store import Store, replace_tampering
from .gradebook import CellInfo

KINDS = ("edited", "deleted", "cell_type", "metadata", "duplicated", "unreadable")


@dataclass(frozen=True)
class Finding:
    """One change to a protected cell (or a notebook that could not be read at all)."""

    notebook: str
    cell: str            # the nbgrader grade_id; empty for a whole notebook
    kind: str            # one of KINDS
    detail: str

    def line(self) -> str:
        where = f"{self.notebook}.ipynb" + (f" cell {self.cell}" if self.cell else "")
        return f"{where}: {self.kind}: {self.detail}"


def released_source(cell: CellInfo, config: Any = None) -> str:
    """The cell's source as the release gave it to reps: hidden tests and marking schemes removed."""
    from nbformat.notebooknode import NotebookNode
    from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme

    node = NotebookNode(cell_type=cell.cell_type, source=cell.source, metadata=NotebookNode(nbgrader=NotebookNode(
        grade=cell.is_grade, solution=cell.is_solution, task=cell.is_task, locked=cell.locked, grade_id=cell.name)))
    for preprocessor in (ClearHiddenTests, ClearMarkScheme):
        try:
            node, _ = preprocessor(config=config, enforce_metadata=False).preprocess_cell(node, {}, 0)
        except RuntimeError:  # unbalanced delimiters: the release kept the text as it was
            pass
    return node.source


def _protected(cell: CellInfo) -> bool:
    return cell.locked or (cell.is_grade and not cell.is_solution)


def _role(cell: CellInfo) -> str:
    if cell.is_grade and not cell.is_solution:
        return "test cell"
    return "locked cell"


def _normal(text: str) -> str:
    # Editors differ in line endings and in a trailing newline; neither changes what a cell does.
    return text.replace("\r\n", "\n").rstrip()


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _diff_summary(expected: str, actual: str, limit: int = 6) -> str:
    lines = [line for line in difflib.unified_diff(expected.splitlines(), actual.splitlines(), lineterm="", n=0)
             if not line.startswith(("---", "+++", "@@"))]
    shown = " | ".join(lines[:limit])
    more = f" | ... {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{sum(1 for x in lines if x.startswith('+'))} line(s) added, " \
           f"{sum(1 for x in lines if x.startswith('-'))} removed: {shown}{more}"


def check_notebook(path: Path, cells: Sequence[CellInfo], config: Any = None) -> list[Finding]:
    """Findings for one submitted notebook against the recorded cells of that notebook."""
    notebook = path.stem
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        submitted = data["cells"]
        if not isinstance(submitted, list):
            raise TypeError("cells is not a list")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        return [Finding(notebook, "", "unreadable", f"not a readable notebook ({exc.__class__.__name__}: "
                                                     f"{str(exc).splitlines()[0] if str(exc) else ''})")]
    by_id: dict[str, list[dict]] = {}
    for cell in submitted:
        if not isinstance(cell, dict):
            continue
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if isinstance(meta, dict) and meta.get("grade_id") is not None:
            by_id.setdefault(str(meta["grade_id"]), []).append(cell)
    findings: list[Finding] = []
    for info in cells:
        if not _protected(info):
            continue
        copies = by_id.get(info.name, [])
        role = _role(info)
        if not copies:
            findings.append(Finding(notebook, info.name, "deleted", f"the {role} is missing from the submission"))
            continue
        if len(copies) > 1:
            findings.append(Finding(notebook, info.name, "duplicated",
                                    f"the {role} appears {len(copies)} times; nbgrader grades the last copy"))
        # nbgrader keeps the last cell with an id and strips the metadata of earlier ones.
        cell = copies[-1]
        if cell.get("cell_type") != info.cell_type:
            findings.append(Finding(notebook, info.name, "cell_type",
                                    f"the {role} was changed from {info.cell_type} to {cell.get('cell_type')}"))
        expected, actual = _normal(released_source(info, config)), _normal(_source(cell))
        if expected != actual:
            findings.append(Finding(notebook, info.name, "edited",
                                    f"the {role} was edited; {_diff_summary(expected, actual)}"))
        problems = _metadata_changes(info, cell.get("metadata", {}).get("nbgrader", {}))
        if problems:
            findings.append(Finding(notebook, info.name, "metadata", f"the {role}'s nbgrader metadata changed: "
                                                                     + "; ".join(problems)))
    return findings


def _metadata_changes(info: CellInfo, meta: dict) -> list[str]:
    problems = []
    for flag, recorded in (("grade", info.is_grade), ("solution", info.is_solution), ("task", info.is_task)):
        if bool(meta.get(flag, False)) != recorded:
            problems.append(f"{flag} is {bool(meta.get(flag, False))}, was {recorded}")
    if info.locked and not info.is_grade and not meta.get("locked", False):
        problems.append("locked was turned off")
    if info.points is not None and meta.get("points") is not None:
        try:
            points = float(meta["points"])
        except (TypeError, ValueError):
            points = None
        if points != info.points:
            problems.append(f"points are {meta['points']}, were {info.points:g}")
    return problems


def check_submission(folder: Path, cells: Iterable[CellInfo], config: Any = None) -> list[Finding]:
    """Findings for every notebook of a submitted assignment folder; notebooks not submitted are skipped
    (nbgrader scores them zero)."""
    by_notebook: dict[str, list[CellInfo]] = {}
    for cell in cells:
        by_notebook.setdefault(cell.notebook, []).append(cell)
    findings: list[Finding] = []
    for notebook in sorted(by_notebook):
        path = folder / f"{notebook}.ipynb"
        if path.is_symlink():
            # Never followed: it could point at any file of the trainer's. nbgrader sees no notebook.
            findings.append(Finding(notebook, "", "unreadable", "the notebook is a symbolic link; it was not graded"))
        elif path.is_file():
            findings += check_notebook(path, by_notebook[notebook], config)
    return findings


def report_path(autograded_folder: Path) -> Path:
    """Where the JSON report sits: beside the rep's autograded assignment folder, not inside it, since
    ``nbgrader generate_feedback`` copies that folder's files into the feedback reps receive."""
    return autograded_folder.with_name(f"{autograded_folder.name}.tampering.json")


def write_report(autograded_folder: Path, rep: str, assignment: str, findings: Sequence[Finding],
                 detected_at: str) -> None:
    """Write the JSON report, or remove a stale one when the submission is now untouched."""
    from ..fileio import write_text_atomic

    path = report_path(autograded_folder)
    if not findings:
        path.unlink(missing_ok=True)
        return
    payload = {"rep_id": rep, "assignment": assignment, "detected_at": detected_at,
               "findings": [asdict(f) for f in findings]}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def store_findings(store: Store, rep: str, assignment: str, findings: Sequence[Finding],
                   detected_at: str | None = None) -> None:
    """Replace the rep's findings for the assignment in the store, in one transaction."""
    replace_tampering(store, rep, assignment, [(f.notebook, f.cell, f.kind, f.detail) for f in findings],
                      detected_at or now_text())


def now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
