"""scripts/lint.py's baseline logic, on made-up findings: new or more findings fail and are named, fewer
findings make the baseline stale (and fail), equal counts pass, and --update may only shrink the baseline.
The tools themselves run in scripts/test.sh, before pytest."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_lint():
    spec = importlib.util.spec_from_file_location("spm_lint_script", ROOT / "scripts" / "lint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


lint = _load_lint()
F = lint.Finding


def ruff(file: str, line: int, code: str, message: str = "msg") -> object:
    return F("ruff", file, line, 1, code, message)


FINDINGS = [ruff("pkg/a.py", 3, "F401", "`os` imported but unused"), ruff("pkg/a.py", 9, "B905"),
            ruff("pkg/a.py", 20, "B905"), ruff("pkg/b.py", 1, "E501")]
BASELINE = {"pkg/a.py": {"F401": 1, "B905": 2}, "pkg/b.py": {"E501": 1}}


def test_equal_counts_pass_even_if_the_lines_moved():
    moved = [F(f.tool, f.file, f.line + 40, f.column, f.code, f.message) for f in FINDINGS]
    result = lint.compare("ruff", moved, BASELINE)
    assert result.ok and result.grown == [] and result.shrunk == []
    ok, lines = lint.check([result])
    assert ok
    assert lines == ["ruff: 4 findings (baseline 4)"]


def test_a_new_finding_fails_and_is_named_with_file_line_code_and_message():
    new = ruff("pkg/c.py", 7, "F821", "Undefined name `frobnicate`")
    result = lint.compare("ruff", [*FINDINGS, new], BASELINE)
    assert not result.ok
    assert [(file, code, now, then) for file, code, now, then, _ in result.grown] == [("pkg/c.py", "F821", 1, 0)]
    ok, lines = lint.check([result])
    assert not ok
    assert "  pkg/c.py:7:1: ruff F821 Undefined name `frobnicate`  [new]" in lines
    assert lines[-1] == "ruff: 5 findings (baseline 4)"


def test_a_new_code_in_a_known_file_is_new():
    result = lint.compare("ruff", [*FINDINGS, ruff("pkg/b.py", 2, "F841")], BASELINE)
    assert [(file, code) for file, code, *_ in result.grown] == [("pkg/b.py", "F841")]


def test_a_grown_count_fails_and_lists_every_finding_of_that_file_and_code():
    extra = ruff("pkg/a.py", 15, "B905", "`zip()` without an explicit `strict=` parameter")
    result = lint.compare("ruff", [*FINDINGS, extra], BASELINE)
    assert [(file, code, now, then) for file, code, now, then, _ in result.grown] == [("pkg/a.py", "B905", 3, 2)]
    ok, lines = lint.check([result])
    assert not ok
    listed = [line for line in lines if "B905" in line]
    assert [line.split(":")[1] for line in listed] == ["9", "15", "20"]  # in line order, all three
    assert all(line.endswith("[3 of these in this file, baseline 2]") for line in listed)
    assert not any("E501" in line or "F401" in line for line in lines)  # unchanged groups stay quiet


def test_growth_in_one_file_is_not_offset_by_a_fix_in_another():
    fixed_b = [f for f in FINDINGS if f.file != "pkg/b.py"]
    result = lint.compare("ruff", [*fixed_b, ruff("pkg/a.py", 30, "E501")], BASELINE)
    assert [(file, code) for file, code, *_ in result.grown] == [("pkg/a.py", "E501")]
    assert [(file, code) for file, code, *_ in result.shrunk] == [("pkg/b.py", "E501")]
    assert not lint.check([result])[0]


def test_a_shrunk_count_reports_a_stale_baseline_and_fails():
    result = lint.compare("ruff", FINDINGS[1:], BASELINE)  # the unused import was removed
    assert result.grown == []
    assert result.shrunk == [("pkg/a.py", "F401", 0, 1)]
    ok, lines = lint.check([result])
    assert not ok
    assert any("baseline is stale" in line and "python scripts/lint.py --update" in line for line in lines)
    assert "  pkg/a.py: ruff F401 0 (baseline 1)" in lines
    assert lines[-1] == "ruff: 3 findings (baseline 4)"


def test_the_summary_names_both_tools():
    mypy = [F("mypy", "pkg/a.py", 4, 5, "arg-type", "Argument 1 has incompatible type")]
    results = [lint.compare("ruff", FINDINGS, BASELINE), lint.compare("mypy", mypy, {})]
    ok, lines = lint.check(results)
    assert not ok
    assert lines[-1] == "ruff: 4 findings (baseline 4); mypy: 1 findings (baseline 0)"


def test_the_baseline_counts_per_file_and_code_and_matches_its_findings():
    assert lint.to_baseline(FINDINGS) == {"pkg/a.py": {"B905": 2, "F401": 1}, "pkg/b.py": {"E501": 1}}
    assert lint.compare("ruff", FINDINGS, lint.to_baseline(FINDINGS)).ok


def test_ruff_and_mypy_output_are_read(tmp_path):
    ruff_json = json.dumps([{"code": "F401", "filename": str(lint.ROOT / "spm_training" / "x.py"),
                             "location": {"row": 3, "column": 8}, "message": "`os` imported but unused"},
                            {"code": None, "filename": "spm_training/y.py", "location": {"row": 1, "column": 1},
                             "message": "SyntaxError: invalid syntax"}])
    assert lint.parse_ruff(ruff_json) == [F("ruff", "spm_training/x.py", 3, 8, "F401", "`os` imported but unused"),
                                          F("ruff", "spm_training/y.py", 1, 1, "invalid-syntax",
                                            "SyntaxError: invalid syntax")]
    mypy_lines = "\n".join([
        json.dumps({"file": "spm_training/x.py", "line": 5, "column": 4, "message": "Name \"q\" is not defined",
                    "hint": None, "code": "name-defined", "severity": "error"}),
        json.dumps({"file": "spm_training/x.py", "line": 6, "column": 0, "message": "Revealed type",
                    "hint": None, "code": "misc", "severity": "note"}),
        "pyproject.toml: note: unused section(s): module = ['foo.*']",
    ])
    other: list[str] = []
    assert lint.parse_mypy(mypy_lines, other) == [F("mypy", "spm_training/x.py", 5, 5, "name-defined",
                                                    "Name \"q\" is not defined")]
    assert other == ["pyproject.toml: note: unused section(s): module = ['foo.*']"]
    with pytest.raises(lint.ToolError):
        lint.parse_mypy(mypy_lines)


def _fake_tools(monkeypatch, findings):
    monkeypatch.setattr(lint, "run_tools", lambda: ({"ruff": findings, "mypy": []}, {"ruff": "1", "mypy": "2"}))


def test_update_writes_a_smaller_baseline_and_refuses_a_larger_one(tmp_path, monkeypatch, capsys):
    path = tmp_path / "lint-baseline.json"
    _fake_tools(monkeypatch, FINDINGS)
    assert lint.main(["--baseline", str(path)]) == 1  # no baseline yet: everything is new
    assert "there is no lint-baseline.json yet" in capsys.readouterr().out
    assert lint.main(["--baseline", str(path), "--update"]) == 0  # the first one is written as found
    assert json.loads(path.read_text())["ruff"] == lint.to_baseline(FINDINGS)
    assert lint.main(["--baseline", str(path)]) == 0
    assert lint.main(["--baseline", str(path), "--update"]) == 0
    assert "up to date" in capsys.readouterr().out

    _fake_tools(monkeypatch, [*FINDINGS, ruff("pkg/a.py", 50, "B905")])
    written = path.read_text()
    assert lint.main(["--baseline", str(path)]) == 1
    assert lint.main(["--baseline", str(path), "--update"]) == 1
    assert "counts may only shrink" in capsys.readouterr().out
    assert path.read_text() == written  # refused: untouched
    assert lint.main(["--baseline", str(path), "--update", "--allow-growth"]) == 0
    assert json.loads(path.read_text())["ruff"]["pkg/a.py"]["B905"] == 3

    _fake_tools(monkeypatch, FINDINGS[1:])
    assert lint.main(["--baseline", str(path)]) == 1  # stale
    assert lint.main(["--baseline", str(path), "--update"]) == 0
    assert json.loads(path.read_text())["ruff"] == {"pkg/a.py": {"B905": 2}, "pkg/b.py": {"E501": 1}}
    assert lint.main(["--baseline", str(path)]) == 0


def test_a_tool_that_cannot_run_is_an_error_not_a_clean_result(tmp_path, monkeypatch, capsys):
    def broken():
        raise lint.ToolError("mypy failed (exit 2): spm_training/x.py: error: invalid syntax")

    monkeypatch.setattr(lint, "run_tools", broken)
    assert lint.main(["--baseline", str(tmp_path / "b.json")]) == 2
    assert "mypy failed" in capsys.readouterr().err
