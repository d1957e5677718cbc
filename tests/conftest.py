"""Shared fixtures. The book is built once per test run and shared by the build and browser tests."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Generated or local-only content (see .gitignore) that a clean checkout does not have.
_SKIP_ANYWHERE = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".jupyter_cache", "*.db", "*.db-wal",
                  "*.db-shm", "*.egg-info")
_SKIP_AT = {
    ROOT: {".git", "_build", ".venv", "spm-demo", "reports", ".mypy_cache", ".ruff_cache"},
    ROOT / "assessments": {"release", "submitted", "autograded", "feedback", "exchange"},
}


def _not_copied(folder: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in _SKIP_ANYWHERE)}
    return skipped | (_SKIP_AT.get(Path(folder), set()) & set(names))


@dataclass(frozen=True)
class BookBuild:
    returncode: int
    output: str
    source: Path

    @property
    def html(self) -> Path:
        return self.source / "_build" / "html"


def jupyter_book_executable() -> str:
    """jupyter-book from the interpreter running the tests (its virtualenv), else from PATH."""
    beside = Path(sys.executable).parent / "jupyter-book"
    exe = str(beside) if beside.exists() else shutil.which("jupyter-book")
    if exe is None:
        pytest.skip("jupyter-book is not installed (pip install -e '.[test]')")
    return exe


@pytest.fixture(scope="session")
def book_build(tmp_path_factory: pytest.TempPathFactory) -> BookBuild:
    """A clean, strict build of a copy of the project, so no earlier output or execution cache is reused."""
    source = tmp_path_factory.mktemp("book") / "project"
    shutil.copytree(ROOT, source, ignore=_not_copied)
    # The notebooks' kernel and nbgrader must come from the same environment as jupyter-book.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [jupyter_book_executable(), "build", str(source), "-W", "--keep-going", "--all"],
        cwd=source, capture_output=True, text=True, timeout=1800, env=env,
    )
    return BookBuild(proc.returncode, proc.stdout + proc.stderr, source)


@pytest.fixture(scope="session")
def built_html(book_build: BookBuild) -> Path:
    """The built site; fails (rather than skips) when the build did not succeed."""
    if book_build.returncode != 0 or not (book_build.html / "index.html").is_file():
        tail = "\n".join(book_build.output.splitlines()[-30:])
        pytest.fail(f"the book did not build (exit {book_build.returncode}):\n{tail}")
    return book_build.html


# In CI, scripts/test.sh installs everything these tests need, so a skip for one of these reasons means
# an install step or the set-up broke: it must fail the run, not pass it quietly.
_MUST_NOT_SKIP_IN_CI = ("no sandbox on this machine", "Debian's chromium is not installed", "chromium is not installed",
                        "PostgreSQL server binaries", "playwright is not installed", "jupyter-book is not installed",
                        "psycopg2 is not installed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        if reason.startswith(_MUST_NOT_SKIP_IN_CI):
            report.outcome = "failed"
            report.longrepr = f"skipped in CI, where it must run: {reason}"
