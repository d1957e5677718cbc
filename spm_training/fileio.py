"""All-or-nothing file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any thread of ours writes files
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


#: The process's umask, as it was when spm started.
UMASK = _read_umask()
#: The mode of a file a user shares by the umask they chose (0o644 with umask 022, 0o600 with 077):
#: what a file created with open() gets, which the atomic writers' private temporary files do not.
SHARED_MODE = 0o666 & ~UMASK


def follow_umask(path: Path) -> None:
    """Give ``path`` (written by :func:`write_text_atomic`, which creates files private to their owner)
    the mode the umask gives a new file: :data:`SHARED_MODE`."""
    os.chmod(path, SHARED_MODE)


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
