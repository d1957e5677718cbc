"""All-or-nothing file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(path: Path, text: str) -> None:
    """:func:`write_text_atomic` to a path the user named (``-o FILE``): a path that cannot be written
    (under a file, in ``/proc``, on a read-only disk, a name too long) is one
    :class:`~spm_training.errors.InputError` naming it, not a traceback."""
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise InputError(path, f"cannot write here: {_reason(path, exc)}",
                         fix="choose another file with -o") from None


def _reason(path: Path, exc: OSError) -> str:
    if isinstance(exc, (NotADirectoryError, FileExistsError)):
        for folder in Path(path).parents:
            if folder.exists() and not folder.is_dir():
                return f"{folder} is a file, not a folder"
    if isinstance(exc, IsADirectoryError) or Path(path).is_dir():
        return "it is a folder"
    if isinstance(exc, FileNotFoundError) and Path(path).parent.is_dir():
        # /proc and other virtual filesystems refuse new files this way
        return f"the folder {Path(path).parent} takes no new files"
    return (exc.strerror or exc.__class__.__name__).lower()
