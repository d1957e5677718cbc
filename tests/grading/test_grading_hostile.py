"""Hostile submissions against `spm grade`: each must leave the gradebook, source/ and the other reps'
results intact, score exactly what it earned, and (when it edits protected cells) be reported.

All of them are graded in one batch, beside an honest rep, through the command line: a batch is how
trainers grade, and it is what lets one submission reach for another's files while both are graded.
"""

from __future__ import annotations

import functools
import json
import socket
import sqlite3
from pathlib import Path

import grading_course as gc
import pytest
from click.testing import CliRunner

import spm_training.grading.autograde as grading
from spm_training.cli.main import cli
from spm_training.grading.sandbox import Limits, SandboxUnavailable, find_sandbox
from spm_training.store import open_store

pytestmark = pytest.mark.slow

HOSTILE = Path(__file__).parent / "hostile"
IN_ANSWER = ("delete_gradebook", "read_hidden_tests", "write_other_rep", "network", "tracebacks_off")
IN_DOUBLE = ("memory_hog", "spin_forever", "fork_bomb", "output_flood")


def _rep(name: str) -> str:
    return name.replace("_", "-")


def _edit_locked_test(nb: dict) -> None:
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id == "test_value":
            cell["source"] = "assert True  # the check is fine as it is"
        if grade_id == "read_only":
            cell["source"] = "Nothing to read here."


def _delete_cells(nb: dict) -> None:
    nb["cells"] = [c for c in nb["cells"]
                   if c["metadata"].get("nbgrader", {}).get("grade_id") not in ("double", "test_double")]


def _retype_test(nb: dict) -> None:
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_type":
            cell["cell_type"] = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    try:
        find_sandbox()
    except SandboxUnavailable as exc:
        pytest.skip(f"no sandbox on this machine: {exc.reason} (scripts/test.sh installs bubblewrap)")
    work = tmp_path_factory.mktemp("hostile")
    course = gc.copy_course(gc.course_template(tmp_path_factory), work / "course")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]

    def code(name: str) -> str:
        return (HOSTILE / f"{name}.py").read_text().replace("__COURSE__", str(course)).replace("__PORT__", str(port))

    gc.submit(course, "victim", gc.CORRECT)
    for name in IN_ANSWER:
        gc.submit(course, _rep(name), dict(gc.CORRECT, answer=code(name)))
    for name in IN_DOUBLE:
        gc.submit(course, _rep(name), dict(gc.CORRECT, double=code(name)))
    gc.submit(course, "edit-locked-test", dict(gc.CORRECT, answer="answer = 0"), edit=_edit_locked_test)
    gc.submit(course, "deleted-cells", gc.CORRECT, edit=_delete_cells)
    gc.submit(course, "changed-cell-type", gc.CORRECT, edit=_retype_test)
    gc.submit(course, "invalid-json", raw='{"cells": [{"cell_type": "code", "source": "answer = 4242"')

    before = {folder: gc.tree_digest(course / folder) for folder in ("source", "release", "submitted")}
    db = work / "spm.db"
    # A memory limit low enough that the memory hog meets it well within the cell's six-second timeout,
    # and an output cap low enough to keep the flooded notebook small.
    workers: list[int] = []
    start_worker = grading._Worker.__init__

    def recording_worker(self, *args, **kwargs):
        start_worker(self, *args, **kwargs)
        workers.append(self.process.pid)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("spm_training.cli.grade.Limits", functools.partial(Limits, output_mb=2))
        # Which grading processes ran, to look for sandboxes they might have left behind.
        patch.setattr(grading._Worker, "__init__", recording_worker)
        result = CliRunner().invoke(cli, ["--db", str(db), "--course", str(course), "grade", gc.ASSIGNMENT,
                                          "--workers", "2", "--memory", "1024"])
    connections = 0
    try:
        while True:
            listener.accept()[0].close()
            connections += 1
    except OSError:
        pass
    listener.close()
    with open_store(db) as store:
        findings = store.query("SELECT rep_id, notebook, cell, kind FROM tampering ORDER BY rep_id, cell, kind")
    return {"course": course, "result": result, "before": before, "connections": connections, "workers": workers,
            "rows": gc.gradebook_rows(course / "gradebook.db"), "findings": findings}


def _score(batch, rep: str) -> float:
    cells = batch["rows"][rep]
    return sum((c["manual_score"] if c["manual_score"] is not None else (c["auto_score"] or 0))
               for c in cells.values())


def _autograded(batch, rep: str) -> Path:
    return batch["course"] / "autograded" / rep / gc.ASSIGNMENT / f"{gc.NOTEBOOK}.ipynb"


def _findings(batch, rep: str) -> set[tuple[str, str]]:
    return {(f["cell"], f["kind"]) for f in batch["findings"] if f["rep_id"] == rep}


def assert_intact(batch) -> None:
    """The gradebook, source/, release/, the submissions and the honest rep's results are as they were."""
    course = batch["course"]
    with sqlite3.connect(course / "gradebook.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        sources = conn.execute("SELECT count(*) FROM source_cell").fetchone()[0]
    assert sources == 8
    assert len(batch["rows"]) == 14 and all(len(cells) == 5 for cells in batch["rows"].values())
    for folder in ("source", "release", "submitted"):
        assert gc.tree_digest(course / folder) == batch["before"][folder]
    victim = batch["rows"]["victim"]
    assert {c: v["auto_score"] for c, v in victim.items()} == {
        "test_type": 1.0, "test_value": 2.0, "test_double": 1.0, "explain": None, "explain_task": None}
    notebook = json.loads(_autograded(batch, "victim").read_text())
    assert "pwned" not in json.dumps(notebook)
    assert sorted(p.name for p in _autograded(batch, "victim").parent.iterdir()) == \
        ["deals.csv", "hw.ipynb", "timestamp.txt"]
    assert len(batch["workers"]) == 2
    assert gc.sandbox_processes(batch["workers"]) == []


def test_deletes_or_rewrites_the_gradebook(batch):
    assert_intact(batch)
    assert _score(batch, "delete-gradebook") == 4.0
    output = gc.cell_outputs(_autograded(batch, "delete-gradebook"), "answer")
    assert output.count("blocked:") == 9 and "succeeded" not in output
    assert _findings(batch, "delete-gradebook") == set()


def test_reads_a_hidden_test_from_source(batch):
    assert_intact(batch)
    rows = batch["rows"]["read-hidden-tests"]
    assert rows["test_type"]["auto_score"] == 1.0 and rows["test_value"]["auto_score"] == 0.0
    assert _score(batch, "read-hidden-tests") == 2.0
    assert "hidden tests were not readable" in gc.cell_outputs(_autograded(batch, "read-hidden-tests"), "answer")


def test_writes_into_another_reps_folders(batch):
    assert_intact(batch)
    assert _score(batch, "write-other-rep") == 4.0
    output = gc.cell_outputs(_autograded(batch, "write-other-rep"), "answer")
    assert output.count("blocked") == 5 and "wrote" not in output


def test_opens_a_network_connection(batch):
    assert_intact(batch)
    assert batch["connections"] == 0
    # The answer is right only if no connection got through.
    assert _score(batch, "network") == 4.0
    assert gc.cell_outputs(_autograded(batch, "network"), "answer").count("no connection to") == 3


def test_allocates_memory_without_end(batch):
    assert_intact(batch)
    assert "MemoryError" in gc.cell_outputs(_autograded(batch, "memory-hog"), "double")
    assert _score(batch, "memory-hog") == 4.0


def test_spins_forever(batch):
    assert_intact(batch)
    output = gc.cell_outputs(_autograded(batch, "spin-forever"), "double")
    assert "KeyboardInterrupt" in output and "CellTimeoutError" in output
    # The cell was cut at the timeout; the function it defined first still passes its test.
    assert batch["rows"]["spin-forever"]["test_double"]["auto_score"] == 1.0
    assert _score(batch, "spin-forever") == 4.0


def test_forks_repeatedly(batch):
    assert_intact(batch)
    # The process limit contains the bomb. The cell ends either when the kernel's own fork hits the
    # limit (BlockingIOError) or at the cell's timeout (KeyboardInterrupt), whichever comes first on a
    # given machine; either way every process it forked is ended and the rest of the notebook runs:
    # the function defined before the bomb passes its test.
    output = gc.cell_outputs(_autograded(batch, "fork-bomb"), "double")
    assert "KeyboardInterrupt" in output or "BlockingIOError" in output, output
    assert batch["rows"]["fork-bomb"]["test_double"]["auto_score"] == 1.0
    assert _score(batch, "fork-bomb") == 4.0


def test_floods_its_output(batch):
    assert_intact(batch)
    output = gc.cell_outputs(_autograded(batch, "output-flood"), "double")
    assert "[spm grade: this notebook's output passed 2 MB; the rest was dropped]" in output
    assert _autograded(batch, "output-flood").stat().st_size < 4 * 1024 * 1024
    assert _score(batch, "output-flood") == 4.0


def test_turns_off_tracebacks(batch):
    assert_intact(batch)
    rows = batch["rows"]["tracebacks-off"]
    assert rows["test_type"]["auto_score"] == 1.0
    assert rows["test_value"]["auto_score"] == 0.0
    assert _score(batch, "tracebacks-off") == 2.0


def test_edits_a_locked_test_cell(batch):
    assert_intact(batch)
    # nbgrader puts the real test back before running it: the wrong answer fails it.
    assert batch["rows"]["edit-locked-test"]["test_value"]["auto_score"] == 0.0
    assert _score(batch, "edit-locked-test") == 2.0
    assert _findings(batch, "edit-locked-test") == {("test_value", "edited"), ("read_only", "edited")}
    report = json.loads((batch["course"] / "autograded" / "edit-locked-test" / "hw.tampering.json").read_text())
    assert report["rep_id"] == "edit-locked-test" and report["assignment"] == "hw"
    assert {(f["cell"], f["kind"]) for f in report["findings"]} == {("test_value", "edited"), ("read_only", "edited")}
    assert "+assert True  # the check is fine as it is" in \
        next(f["detail"] for f in report["findings"] if f["cell"] == "test_value")


def test_deleted_cells_are_graded_as_far_as_nbgrader_can(batch):
    assert_intact(batch)
    rows = batch["rows"]["deleted-cells"]
    assert rows["test_double"] == {"auto_score": None, "manual_score": None, "extra_credit": None,
                                   "needs_manual_grade": True}
    assert _score(batch, "deleted-cells") == 3.0
    assert _findings(batch, "deleted-cells") == {("test_double", "deleted")}


def test_changed_cell_type_is_restored_and_reported(batch):
    assert_intact(batch)
    assert batch["rows"]["changed-cell-type"]["test_type"]["auto_score"] == 1.0
    assert _score(batch, "changed-cell-type") == 4.0
    assert _findings(batch, "changed-cell-type") == {("test_type", "cell_type")}


def test_invalid_json_is_reported_and_does_not_stop_the_batch(batch):
    assert_intact(batch)
    output = batch["result"].output
    assert "  invalid-json  hw.ipynb: NotJSONError: Notebook does not appear to be JSON" in output
    assert _findings(batch, "invalid-json") == {("", "unreadable")}
    assert not _autograded(batch, "invalid-json").parent.exists()


def test_untouched_submissions_produce_no_report(batch):
    honest = ["victim", *(_rep(n) for n in IN_ANSWER + IN_DOUBLE)]
    for rep in honest:
        assert _findings(batch, rep) == set()
        assert not (batch["course"] / "autograded" / rep / "hw.tampering.json").exists()


def test_the_batch_summary(batch):
    result = batch["result"]
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("hw: 14 submission(s) autograded in ")
    assert lines[0].endswith(" by 2 worker(s), student code sandboxed")
    assert "  victim  4/6" in lines
    assert "  edit-locked-test  2/6  tampered" in lines
    assert "  fork-bomb  4/6" in lines
    assert "  invalid-json  0/6  FAILED, tampered" in lines
    assert lines[-1] == "Error: 1 of 14 submission(s) of hw could not be fully graded; see above"
