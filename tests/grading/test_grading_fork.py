"""Kernels forked from a warm parent: attacks aimed at the fork design, the parent's replacement, and the
fallback to kernels started one by one.

The attacks (``fork_attacks/``) are graded by one grading process, so each kernel is forked from the same
parent right after the one before: a file left, a module changed, a daemon started or a signal sent by an
earlier submission is what the later ones would meet.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import grading_course as gc
import pytest
from click.testing import CliRunner

import spm_training.grading.autograde as grading
from spm_training.cli.main import cli
from spm_training.grading.fork_client import ForkParent, ForkSettings, ForkUnavailable, course_preload
from spm_training.grading.sandbox import SandboxUnavailable, find_sandbox, sandbox_env

ATTACKS = Path(__file__).parent / "fork_attacks"
# Real grading runs and real fork parents: slow like the hostile and equivalence suites beside it.
slow = pytest.mark.slow
NAMES = ("a_plant", "b_daemon", "c_signal", "d_reader")


def _rep(name: str) -> str:
    return "fork-" + name.replace("_", "-")


@pytest.fixture(scope="module")
def sandbox():
    try:
        return find_sandbox()
    except SandboxUnavailable as exc:
        pytest.skip(f"no sandbox on this machine: {exc.reason} (scripts/test.sh installs bubblewrap)")


@pytest.fixture(scope="module")
def batch(sandbox, tmp_path_factory):
    course = gc.copy_course(gc.course_template(tmp_path_factory), tmp_path_factory.mktemp("fork") / "course")
    for name in NAMES:
        gc.submit(course, _rep(name), dict(gc.CORRECT, answer=(ATTACKS / f"{name}.py").read_text()))
    gc.submit(course, "victim", gc.CORRECT)
    workers: list[int] = []
    start_worker = grading._Worker.__init__

    def recording_worker(self, *args, **kwargs):
        start_worker(self, *args, **kwargs)
        workers.append(self.process.pid)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grading._Worker, "__init__", recording_worker)
        report = grading.grade(course, gc.ASSIGNMENT, sandbox=sandbox, workers=1)
    return {"course": course, "report": report, "workers": workers,
            "rows": gc.gradebook_rows(course / "gradebook.db")}


def _output(batch, rep: str) -> str:
    return gc.cell_outputs(batch["course"] / "autograded" / rep / gc.ASSIGNMENT / f"{gc.NOTEBOOK}.ipynb", "answer")


def _score(batch, rep: str) -> float:
    return sum((c["manual_score"] if c["manual_score"] is not None else (c["auto_score"] or 0))
               for c in batch["rows"][rep].values())


@slow
def test_every_kernel_was_forked_from_one_parent_that_was_never_replaced(batch):
    report = batch["report"]
    assert [r.student for r in report.results] == [*(_rep(n) for n in NAMES), "victim"]
    assert report.failed == []
    assert (report.forked, report.fork_replaced, report.fork_note) == (5, 0, None)
    assert {r.student: r.score for r in report.results} == {rep: 4.0 for rep in batch["rows"]}


@slow
def test_nothing_planted_or_poisoned_reaches_the_next_kernel(batch):
    assert _output(batch, "fork-a-plant") == "planted\n"
    assert _output(batch, "fork-d-reader") == "leftovers [], poisoned [], other processes []\n"
    assert _score(batch, "fork-d-reader") == 4.0


@slow
def test_a_daemon_does_not_outlive_its_kernel(batch):
    assert _output(batch, "fork-b-daemon") == "daemon started\n"
    # Neither the daemon nor the parent is left once grading is done.
    assert len(batch["workers"]) == 1
    assert gc.sandbox_processes(batch["workers"]) == []


@slow
def test_the_parent_cannot_be_signalled_or_traced(batch):
    # Inside, the kernel's parent is its namespace's init; the fork parent has no pid there at all.
    assert _output(batch, "fork-c-signal") == "parent 1, processes seen [], traced []\n"
    assert batch["report"].fork_replaced == 0
    assert _score(batch, "victim") == 4.0


@slow
def test_a_crashed_or_tampered_parent_is_replaced(sandbox):
    root = tempfile.mkdtemp(prefix="spm-fork-test-")
    parent = ForkParent(sandbox, ForkSettings(preload=(), base=None), os.path.join(root, "spawn"))

    def run(code: str) -> int:
        parent.ensure()
        kernel_dir = tempfile.mkdtemp(prefix="k", dir=parent.spawn_dir)
        os.makedirs(os.path.join(kernel_dir, "work"))
        sandbox.chown_for_sandbox(kernel_dir)
        kernel = parent.spawn(kernel_dir=kernel_dir, workdir=os.path.join(kernel_dir, "work"),
                              inside=os.path.join(root, "work"), argv=["-c", code],
                              env=sandbox_env(os.environ, kernel_dir))
        return kernel.wait(60)

    try:
        assert run("raise SystemExit(3)") == 3
        assert parent.started == 1
        first = parent.process
        assert first is not None
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert run("pass") == 0
        assert parent.started == 2
        parent.fingerprint = "not what it answers"      # as if something had been imported into it
        assert run("pass") == 0
        assert parent.started == 3
    finally:
        parent.close()


@slow
def test_a_machine_without_a_fork_parent_falls_back_and_says_so_once(sandbox, tmp_path_factory, monkeypatch):
    course = gc.copy_course(gc.course_template(tmp_path_factory), tmp_path_factory.mktemp("nofork") / "course")
    for rep in ("ann", "ben", "cat"):
        gc.submit(course, rep, gc.CORRECT)

    def refuse(self):
        raise ForkUnavailable("unshare a user namespace: Operation not permitted")

    monkeypatch.setattr(ForkParent, "_start", refuse)
    result = CliRunner().invoke(cli, ["--db", str(tmp_path_factory.mktemp("nofork-db") / "spm.db"), "--course",
                                      str(course), "grade", gc.ASSIGNMENT, "--workers", "2"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("Note:")]
    assert notes == ["Note: kernels were started one by one, not forked from a warm parent: unshare a user "
                     "namespace: Operation not permitted. Grades are the same, only slower; pass --no-fork to "
                     "skip the attempt."]
    assert [line for line in result.output.splitlines() if line.startswith("  ")] == \
        ["  ann  4/6", "  ben  4/6", "  cat  4/6"]


@slow
def test_no_fork_starts_kernels_one_by_one_without_trying(sandbox, tmp_path_factory, monkeypatch):
    course = gc.copy_course(gc.course_template(tmp_path_factory), tmp_path_factory.mktemp("nofork2") / "course")
    gc.submit(course, "ann", gc.CORRECT)
    tried = []
    monkeypatch.setattr(ForkParent, "_start", lambda self: tried.append(1))
    report = grading.grade(course, gc.ASSIGNMENT, sandbox=sandbox, workers=1, fork=False)
    assert (report.forked, report.fork_note, tried) == (0, None, [])
    assert [r.score for r in report.results] == [4.0]


def test_the_default_preload_is_what_the_source_notebooks_import(tmp_path):
    import nbformat

    folder = tmp_path / "source" / "week1"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport pandas as pd\nfrom numpy import mean\n"
                                          "import os.path, __future__\nfrom . import local"),
                nbformat.v4.new_code_cell("try:\n    import scipy.stats\nexcept ImportError:\n    pass\n"
                                          "def f():\n    import json\n"),
                nbformat.v4.new_code_cell("import pandas\nimport nbgrader"),
                nbformat.v4.new_markdown_cell("import yaml"),
                nbformat.v4.new_code_cell("this is not python (")]
    nbformat.write(nb, folder / "a.ipynb")
    assert course_preload(tmp_path / "source") == ("pandas", "numpy", "os", "scipy")


def test_the_grading_settings_of_spm_yml(tmp_path):
    from spm_training.errors import CatalogError
    from spm_training.settings import load_grading

    settings = tmp_path / "spm.yml"
    assert load_grading(None) == {"fork": True, "preload": None}
    settings.write_text("grading:\n  fork: false\n  preload: [pandas, scipy.stats]\n")
    assert load_grading(settings) == {"fork": False, "preload": ["pandas", "scipy.stats"]}
    for text, message in (
            ("grading:\n  fork: maybe\n", "grading fork must be true or false, not 'maybe'"),
            ("grading:\n  preload: pandas\n", "grading preload must be a list of module names, not 'pandas'"),
            ("grading:\n  preload: [pandas, 'not a module']\n",
             "grading preload must be a list of module names, not ['pandas', 'not a module']"),
            ("grading:\n  forks: true\n", "unknown grading setting 'forks'")):
        settings.write_text(text)
        with pytest.raises(CatalogError) as caught:
            load_grading(settings)
        assert message in str(caught.value)
        assert "write grading: {fork: true, preload: [pandas, numpy]}" in str(caught.value)
