#!/usr/bin/env python3
"""Lint the package with ruff and mypy against a baseline that may only shrink.

    python scripts/lint.py                            # check: exit 0, or 1 with what to do
    python scripts/lint.py --update                   # rewrite lint-baseline.json after fixing findings
    python scripts/lint.py --update --allow-growth    # accept more findings (a file moved, a tool release)

lint-baseline.json holds, for each tool, how many findings each file has of each rule (counts, not line
numbers, so an edit elsewhere in a file does not disturb it). The check fails when

- a (file, rule) has more findings than the baseline allows, or a finding is new: each finding of that
  file and rule is printed as ``file:line:col: tool CODE message``, since counts cannot tell which one
  of them is the new one;
- a (file, rule) has fewer findings than the baseline says: the baseline is stale, and
  ``python scripts/lint.py --update`` writes the smaller counts. Failing here is what keeps the baseline
  shrinking: the committed file always equals what the tools find, so a fixed finding cannot come back
  unnoticed.

``--update`` refuses to write a baseline in which any count grew, unless ``--allow-growth`` (for a file
that was moved or renamed, a tool or stub release that finds more, or a finding that cannot be fixed
and is better left in the baseline than silenced inline); the baseline's diff then shows the growth
for review. Exit codes: 0 clean, 1 findings differ from the baseline, 2 a tool could not run.

Standard library only; ruff and mypy run as ``python -m ruff`` / ``python -m mypy`` with this
interpreter, with their settings from pyproject.toml. mypy keeps its cache in .mypy_cache.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "spm_training"
BASELINE = ROOT / "lint-baseline.json"
TOOLS = ("ruff", "mypy")
UPDATE = "python scripts/lint.py --update"

Key = tuple[str, str]  # (file relative to the repository, rule code)


@dataclass(frozen=True)
class Finding:
    tool: str
    file: str
    line: int
    column: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.tool} {self.code} {self.message}"


@dataclass
class Comparison:
    """One tool's findings against its baseline."""

    tool: str
    total: int
    baseline_total: int
    # (file, code, found, allowed, the findings of that file and code), for every count that grew
    grown: list[tuple[str, str, int, int, list[Finding]]] = field(default_factory=list)
    # (file, code, found, allowed), for every count that shrank
    shrunk: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.grown and not self.shrunk


class ToolError(Exception):
    """A tool did not run, or said something we cannot read."""


# --- counting and comparing (pure; tests/test_lint.py drives these) ---------------------------------------

def counts(findings: Iterable[Finding]) -> Counter[Key]:
    return Counter((f.file, f.code) for f in findings)


def compare(tool: str, findings: list[Finding], baseline: Mapping[str, Mapping[str, int]]) -> Comparison:
    """Compare one tool's findings with its part of the baseline, ``{file: {code: count}}``."""
    allowed: Counter[Key] = Counter({(file, code): n for file, codes in baseline.items() for code, n in codes.items()})
    found = counts(findings)
    result = Comparison(tool, sum(found.values()), sum(allowed.values()))
    for key in sorted(found.keys() | allowed.keys()):
        now, then = found[key], allowed[key]
        if now > then:
            group = sorted((f for f in findings if (f.file, f.code) == key), key=lambda f: (f.line, f.column))
            result.grown.append((*key, now, then, group))
        elif now < then:
            result.shrunk.append((*key, now, then))
    return result


def to_baseline(findings: Iterable[Finding]) -> dict[str, dict[str, int]]:
    """``{file: {code: count}}``, sorted, for the baseline file."""
    table: dict[str, dict[str, int]] = {}
    for (file, code), n in sorted(counts(findings).items()):
        table.setdefault(file, {})[code] = n
    return table


def grown_lines(comparisons: list[Comparison]) -> list[str]:
    """One line per finding of every (file, code) whose count grew or is new."""
    grown = [(c, g) for c in comparisons for g in c.grown]
    if not grown:
        return []
    lines = ["lint: findings beyond lint-baseline.json (fix them, or silence one with a reasoned "
             "`# noqa: CODE` / `# type: ignore[code]`):"]
    for _, (_, _, now, then, group) in grown:
        what = "new" if then == 0 else f"{now} of these in this file, baseline {then}"
        lines.extend(f"  {f}  [{what}]" for f in group)
    return lines


def shrunk_lines(comparisons: list[Comparison]) -> list[str]:
    """The (file, code) counts that shrank, and what to do about it."""
    shrunk = [(c, s) for c in comparisons for s in c.shrunk]
    if not shrunk:
        return []
    return ([f"lint: baseline is stale, fewer findings than it records (good): run `{UPDATE}` and commit "
             "lint-baseline.json"]
            + [f"  {file}: {c.tool} {code} {now} (baseline {then})" for c, (file, code, now, then) in shrunk])


def summary(comparisons: list[Comparison]) -> str:
    return "; ".join(f"{c.tool}: {c.total} findings (baseline {c.baseline_total})" for c in comparisons)


def version_note(versions: Mapping[str, str], baseline_versions: Mapping[str, str] | None) -> list[str]:
    moved = [f"{t} {baseline_versions[t]} -> {v}" for t, v in versions.items()
             if baseline_versions and baseline_versions.get(t) not in (None, v)]
    if not moved:
        return []
    return [f"lint: note: lint-baseline.json was written with other tool versions ({', '.join(moved)}); a new "
            "release can find more or less by itself"]


def check(comparisons: list[Comparison]) -> tuple[bool, list[str]]:
    """Whether the check passes, and the lines to print for it (the summary last)."""
    ok = all(c.ok for c in comparisons)
    return ok, grown_lines(comparisons) + shrunk_lines(comparisons) + [summary(comparisons)]


# --- running the tools -----------------------------------------------------------------------------------

def _relative(path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.resolve().relative_to(ROOT)
        except ValueError:
            pass
    return p.as_posix()


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ToolError(f"{args[0]}: {exc}") from None


def _version(tool: str) -> str:
    try:
        return importlib.metadata.version(tool)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _missing(proc: subprocess.CompletedProcess[str], tool: str) -> None:
    if "No module named" in proc.stderr and tool in proc.stderr:
        raise ToolError(f"{tool} is not installed in {sys.executable}: pip install -e '.[test]'")


def parse_ruff(text: str) -> list[Finding]:
    """ruff's ``--output-format json``: one array of findings."""
    findings = []
    for item in json.loads(text or "[]"):
        loc = item.get("location") or {}
        findings.append(Finding("ruff", _relative(item["filename"]), int(loc.get("row") or 0),
                                int(loc.get("column") or 0), item.get("code") or "invalid-syntax",
                                item.get("message", "")))
    return findings


def parse_mypy(text: str, other: list[str] | None = None) -> list[Finding]:
    """mypy's ``--output json``: one object a line. Notes are dropped (a note that belongs to an error is
    its ``hint``, which the message line leaves out); lines that are not JSON, such as a note on the
    configuration, go to ``other``."""
    findings = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            if other is None:
                raise ToolError(f"mypy: unexpected output: {line}") from None
            other.append(line)
            continue
        if not isinstance(item, dict) or item.get("severity") != "error":
            continue
        findings.append(Finding("mypy", _relative(item["file"]), int(item.get("line") or 0),
                                int(item.get("column") or 0) + 1, item.get("code") or "misc", item.get("message", "")))
    return findings


def run_ruff() -> tuple[list[Finding], str]:
    proc = _run(["ruff", "check", "--no-fix", "--output-format", "json", "--quiet", PACKAGE])
    _missing(proc, "ruff")
    if proc.returncode not in (0, 1):
        raise ToolError(f"ruff failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    try:
        findings = parse_ruff(proc.stdout)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ToolError(f"ruff: cannot read its output ({exc}): {proc.stdout[:500]}") from None
    if proc.returncode == 1 and not findings:
        raise ToolError(f"ruff exited 1 without a finding: {(proc.stderr + proc.stdout).strip()[:2000]}")
    return findings, _version("ruff")


def run_mypy() -> tuple[list[Finding], str]:
    proc = _run(["mypy", "--output", "json", "--no-error-summary", "--no-pretty", PACKAGE])
    _missing(proc, "mypy")
    other: list[str] = []
    findings = parse_mypy(proc.stdout, other)
    if proc.returncode not in (0, 1):  # a blocking error, such as a syntax error, stops mypy before it checks
        said = "\n".join([*map(str, findings), *other, proc.stderr.strip()]).strip()
        raise ToolError(f"mypy could not check the package (exit {proc.returncode}):\n{said[:4000]}")
    if proc.returncode == 1 and not findings:
        raise ToolError(f"mypy exited 1 without a finding: {(proc.stderr + proc.stdout).strip()[:2000]}")
    for line in other + proc.stderr.splitlines():
        print(f"lint: mypy says: {line}", file=sys.stderr)
    return findings, _version("mypy")


def run_tools() -> tuple[dict[str, list[Finding]], dict[str, str]]:
    with ThreadPoolExecutor(len(TOOLS)) as pool:
        ruff, mypy = pool.submit(run_ruff), pool.submit(run_mypy)
        results = {"ruff": ruff.result(), "mypy": mypy.result()}
    return {t: r[0] for t, r in results.items()}, {t: r[1] for t, r in results.items()}


# --- the baseline file -----------------------------------------------------------------------------------

def read_baseline(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ToolError(f"{path.name}: cannot read it ({exc}); restore it from git, or rewrite it with "
                        f"`{UPDATE} --allow-growth`") from None
    if not isinstance(data, dict):
        raise ToolError(f"{path.name}: not a JSON object")
    return data


def write_baseline(path: Path, findings: Mapping[str, list[Finding]], versions: Mapping[str, str]) -> None:
    data = {
        "about": "Findings of ruff and mypy on spm_training/ per file and rule, which scripts/lint.py "
                 f"(run by scripts/test.sh) allows and no more. Written by `{UPDATE}`; do not edit by hand.",
        "versions": dict(sorted(versions.items())),
    }
    data.update({tool: to_baseline(findings[tool]) for tool in TOOLS})
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="rewrite lint-baseline.json to what the tools find "
                        "now; refused if any count grew, unless --allow-growth")
    parser.add_argument("--allow-growth", action="store_true", help="with --update: also write counts that grew")
    parser.add_argument("--baseline", type=Path, default=BASELINE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.allow_growth and not args.update:
        parser.error("--allow-growth goes with --update")

    try:
        baseline = read_baseline(args.baseline)
        findings, versions = run_tools()
    except ToolError as exc:
        print(f"lint: {exc}", file=sys.stderr)
        return 2
    comparisons = [compare(tool, findings[tool], baseline.get(tool, {})) for tool in TOOLS]
    ok, lines = check(comparisons)
    note = version_note(versions, baseline.get("versions"))

    if not args.update:
        if not ok:
            lines[-1:-1] = note
            if not baseline:
                lines[-1:-1] = [f"lint: there is no {args.baseline.name} yet: `{UPDATE}` writes one"]
        print("\n".join(lines))
        return 0 if ok else 1

    if baseline and any(c.grown for c in comparisons) and not args.allow_growth:
        print("\n".join(grown_lines(comparisons) + note))
        print(f"lint: not updating {args.baseline.name}: counts may only shrink. Fix the findings above; for a "
              f"moved file or a new tool release, `{UPDATE} --allow-growth`, and say why in the commit.")
        print(summary(comparisons))
        return 1
    if ok and baseline.get("versions") == versions and args.baseline.exists():
        print(f"lint: {args.baseline.name} is up to date; {summary(comparisons)}")
        return 0
    write_baseline(args.baseline, findings, versions)
    print(f"lint: wrote {args.baseline.name}: "
          + "; ".join(f"{c.tool}: {c.total} findings (was {c.baseline_total})" for c in comparisons))
    return 0


if __name__ == "__main__":
    sys.exit(main())
