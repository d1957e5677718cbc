"""Progress bars for long work: shown on a terminal, silent when output goes to a file or a pipe."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def on_terminal() -> bool:
    return sys.stderr.isatty()


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it") -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar on stderr when stderr is a terminal."""
    yield from tqdm(iterable, total=total, desc=desc, unit=unit, disable=not on_terminal(), leave=False,
                    file=sys.stderr, dynamic_ncols=True)


def chunks(rows: list, size: int) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
