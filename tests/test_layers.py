"""The layer rule of DESIGN.md and CONTRIBUTING.md, read from the code's own imports (AST).

    root      errors, store, project, catalogs, YAML, periods, file and output helpers: imports the root only
    ingest/   roster, KPI files, CRM exports, gradebook sync                          -> the root
    grading/  parallel sandboxed autograde, sandbox, tampering, feedback              -> the root
    analysis/ queries, mastery, attainment, gaps, evidence, readiness, items, facade  -> the root
    reports/  views formatted as HTML                                                 -> analysis and the root
    sphinxext/ the book's Sphinx extension                                            -> the root
    cli/, demo/, serve/                                                               -> anything

and SQL only in the store, ingest/, grading's gradebook rows and analysis's query module.
Each rule is also run on a planted violation, so that a rule that cannot fail is caught too.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "spm_training"

#: layer -> the layers it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "root": set(),
    "ingest": {"root"},
    "grading": {"root"},
    "analysis": {"root"},
    "reports": {"analysis", "root"},
    "sphinxext": {"root"},
    "cli": {"*"},
    "demo": {"*"},
    "serve": {"*"},
}
LAYERS = set(ALLOWED) - {"root"}

#: Modules above the rule, each for a stated reason.
EXEMPT = {
    # The public API: it names the whole package (lazily, by module string, and for type checkers).
    "spm_training",
    # Deployed nbgrader configs name spm_training.feedback.HideHiddenTests by import string.
    "spm_training.feedback",
}

#: Where SQL may be written: the store, the importers, grading's gradebook rows, analysis's queries.
SQL_ALLOWED = ("spm_training.store", "spm_training.ingest.", "spm_training.grading.gradebook",
               "spm_training.analysis.queries")
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(TEMP\s+|UNIQUE\s+)?(TABLE|INDEX|VIEW|TRIGGER)|DROP\s+(TABLE|INDEX)|ALTER\s+TABLE|"
                 r"PRAGMA\s+\w+)", re.S)


@dataclass(frozen=True)
class Import:
    module: str          # the importing module
    target: str          # the imported module, absolute
    line: int


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "root"


def imports_of(path: Path, source: str, package: Path = PACKAGE) -> list[Import]:
    module = module_name(path, package)
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[:len(base) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
            found += [Import(module, name, node.lineno) for name in names if name.startswith("spm_training")]
        elif isinstance(node, ast.Import):
            found += [Import(module, a.name, node.lineno) for a in node.names if a.name.startswith("spm_training")]
    return found


def layer_violations(files: dict[Path, str], package: Path = PACKAGE) -> list[str]:
    problems = []
    for path, source in sorted(files.items()):
        for imp in imports_of(path, source, package):
            if imp.module in EXEMPT or imp.target == "spm_training":     # `from .. import __version__`
                continue
            mine, theirs = layer_of(imp.module), layer_of(imp.target)
            allowed = ALLOWED[mine]
            if theirs != mine and "*" not in allowed and theirs not in allowed:
                problems.append(f"{path.relative_to(package.parent)}:{imp.line}: {mine} imports {imp.target} "
                                f"({theirs}); {mine} may import {', '.join(sorted(allowed | {mine}))}")
    return problems


def sql_violations(files: dict[Path, str], package: Path = PACKAGE) -> list[str]:
    problems = []
    for path, source in sorted(files.items()):
        module = module_name(path, package)
        if module.startswith(SQL_ALLOWED) or module in SQL_ALLOWED:
            continue
        tree = ast.parse(source, str(path))
        skipped = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        # the literal parts of an f-string are read as the whole f-string, once
        skipped |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            text = None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if text and SQL.search(text):
                problems.append(f"{path.relative_to(package.parent)}:{node.lineno}: SQL outside the store, ingest/, "
                                f"grading/gradebook.py and analysis/queries.py: {text.strip()[:60]!r}")
    return problems


def package_files() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py") if "static" not in p.parts}


def test_every_layer_imports_only_what_it_may() -> None:
    assert layer_violations(package_files()) == []


def test_sql_is_written_only_in_the_store_ingest_gradebook_rows_and_analysis_queries() -> None:
    assert sql_violations(package_files()) == []


def test_the_layers_exist_as_folders() -> None:
    for layer in ("ingest", "grading", "analysis", "reports", "cli", "demo", "sphinxext"):
        assert (PACKAGE / layer / "__init__.py").is_file(), layer
    assert layer_of("spm_training.analysis.facade") == "analysis"
    assert layer_of("spm_training.store") == "root"


# --- planted violations: each rule must fail on one -------------------------------------------------

def _planted(tmp_path: Path, files: dict[str, str]) -> tuple[dict[Path, str], Path]:
    package = tmp_path / "spm_training"
    out = {}
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        out[path] = text
    for folder in {p.parent for p in out}:
        (folder / "__init__.py").touch()
    return out, package


@pytest.mark.parametrize(("name", "source", "expected"), [
    ("analysis/attainment.py", "from ..ingest.kpis import attainment_sql\n",
     "spm_training/analysis/attainment.py:1: analysis imports spm_training.ingest.kpis (ingest); "
     "analysis may import analysis, root"),
    ("store.py", "def f():\n    from .analysis.facade import analyse\n",
     "spm_training/store.py:2: root imports spm_training.analysis.facade (analysis); root may import root"),
    ("ingest/kpis.py", "import spm_training.grading.sandbox\n",
     "spm_training/ingest/kpis.py:1: ingest imports spm_training.grading.sandbox (grading); "
     "ingest may import ingest, root"),
    ("reports/build.py", "from ..cli.common import pass_project\n",
     "spm_training/reports/build.py:1: reports imports spm_training.cli.common (cli); "
     "reports may import analysis, reports, root"),
    ("grading/worker.py", "from .. import analysis\n",
     "spm_training/grading/worker.py:1: grading imports spm_training.analysis (analysis); "
     "grading may import grading, root"),
])
def test_a_planted_import_across_layers_fails(tmp_path: Path, name: str, source: str, expected: str) -> None:
    files, package = _planted(tmp_path, {name: source})
    assert layer_violations(files, package) == [expected]


def test_allowed_imports_pass(tmp_path: Path) -> None:
    files, package = _planted(tmp_path, {
        "reports/build.py": "from ..analysis.facade import analyse\nfrom ..store import Store\n",
        "cli/main.py": "from ..demo.loop import run_demo\nfrom ..grading.autograde import grade\n",
        "analysis/facade.py": "from .queries import load_reps\nfrom ..project import Project\n",
        "analysis/queries.py": "", "demo/loop.py": "", "grading/autograde.py": "", "store.py": "", "project.py": ""})
    assert layer_violations(files, package) == []


def test_planted_sql_outside_its_places_fails(tmp_path: Path) -> None:
    files, package = _planted(tmp_path, {
        "reports/build.py": 'ROWS = "SELECT id FROM reps"\n',
        "demo/store.py": 'def f(conn, t):\n    conn.execute(f"INSERT INTO {t} VALUES (?)", (1,))\n',
        "analysis/queries.py": 'Q = "SELECT id FROM reps"\n',
        "ingest/sync.py": 'Q = "DELETE FROM scores"\n',
        "analysis/gaps.py": 'NOTE = "select the skills that matter"\n'})
    assert sql_violations(files, package) == [
        "spm_training/demo/store.py:2: SQL outside the store, ingest/, grading/gradebook.py and analysis/queries.py: "
        "'INSERT INTO  VALUES (?)'",
        "spm_training/reports/build.py:1: SQL outside the store, ingest/, grading/gradebook.py and "
        "analysis/queries.py: 'SELECT id FROM reps'"]
