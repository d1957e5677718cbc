"""Every command describes itself, and is documented in the README or the book."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from spm_training.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(all_commands(command, path))
    return found


def documentation() -> str:
    parts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "book").rglob("*.md"))]
    return "\n".join(parts)


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: cli {' '.join(path)}")
    described = result.output.split("\n\n", 2)[1].strip()
    assert described and not described.startswith("Options:"), f"spm {' '.join(path)} has no description"


@pytest.mark.parametrize("path", [p for p in all_commands() if not isinstance(
    cli.get_command(None, p[0]), click.Group) or len(p) > 1], ids=" ".join)
def test_command_is_documented(path: tuple[str, ...]) -> None:
    assert f"spm {' '.join(path)}" in documentation(), f"`spm {' '.join(path)}` is in neither README.md nor book/"


def test_unknown_command_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["nonsense"])
    assert result.exit_code == 2
    assert "No such command 'nonsense'" in result.output
