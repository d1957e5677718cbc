"""YAML that remembers its lines: every mapping read holds the line it starts on under :data:`LINE`,
so that a problem found later can name the file and line.

The catalogs, the onboarding plan, ``spm.yml``, the CRM presets and mapping files are read with
:func:`read_yaml`; the book's knowledge checks parse directive bodies with :func:`parse_yaml`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import CatalogError

#: The key under which each mapping holds the (1-based) line it starts on.
LINE = "__line__"


class LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line each mapping starts on, for error messages."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE] = node.start_mark.line + 1
        return mapping


def parse_yaml(text: str) -> Any:
    """Parse YAML text with every mapping's line under :data:`LINE`; raises yaml.YAMLError."""
    return yaml.load(text, Loader=LineLoader)


def error_position(exc: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    """Where a YAML syntax error is: its 1-based line (None when unknown) and `` at column N`` (or "")."""
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return None, ""
    return mark.line + 1, f" at column {mark.column + 1}"


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, turning syntax and encoding errors into one-line CatalogErrors."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(path, f"not UTF-8 text (byte {exc.start})", fix="save the file as UTF-8") from None
    except OSError as exc:
        raise CatalogError(path, f"cannot read the file ({exc.strerror})") from None
    try:
        return parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        line, col = error_position(exc)
        raise CatalogError(path, f"YAML syntax error{col}: {exc.problem}",
                           line=line, fix="fix the indentation or quoting there") from None
    except yaml.YAMLError as exc:
        raise CatalogError(path, f"YAML error: {exc}") from None
