"""A Python environment the test's Unix users can run.

On a hub the platform is installed where every user can run it (/opt/spm/venv). A test machine's
environment may sit behind a private folder instead (a pyenv interpreter under /root, mode 0700), which
no other user may enter. Then the hub's users get a twin of the test environment: the same installed
packages (hard links when the file system allows, so it costs seconds, not a gigabyte), on a system
interpreter of the same Python version that everyone can run. Its sys.prefix holds its site-packages,
as a venv's does, so spm grade's sandbox finds everything the kernel needs.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .system import can_run, run_as


def system_python() -> str | None:
    """An interpreter of this Python version outside any private folder, or None."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for folder in ("/usr/bin", "/usr/local/bin"):
        candidate = os.path.join(folder, version)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def environment_for(user: str, root: Path) -> tuple[Path | None, str]:
    """The environment the user's servers should run from: this one if the user can run it, else a
    twin under ``root``. (None, why) when neither works."""
    if _imports_all(user, sys.executable):
        return Path(sys.prefix), ""
    if sys.prefix == sys.base_prefix:
        return None, f"the test users cannot run {sys.executable}, and it is not a virtual environment to mirror"
    python = system_python()
    if python is None:
        return None, (f"the test users cannot run {sys.executable} (a folder above it is private), and there is "
                      f"no system python{sys.version_info.major}.{sys.version_info.minor} for them")
    twin = root / "python-env"
    _mirror(Path(sys.prefix), twin, python)
    if not can_run(user, str(twin / "bin" / "python")):
        return None, f"the test users cannot run {twin}/bin/python, nor {sys.executable}"
    if not _imports_all(user, str(twin / "bin" / "python")):
        import spm_training

        return None, (f"the test users cannot import spm_training from {Path(spm_training.__file__).parent}: "
                      "a folder above the checkout is private (move the checkout, or chmod o+x its parents)")
    return twin, ""


def _imports_all(user: str, python: str) -> bool:
    """Whether the user's Python finds the hub, nbgrader and the platform (an editable install points
    into the checkout, which must be readable too)."""
    return run_as(user, [python, "-c", "import jupyterhub, nbgrader, spm_training"], timeout=120).returncode == 0


def _mirror(source: Path, twin: Path, python: str) -> None:
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another file system: copy instead
            shutil.copy2(src, dst)

    shutil.copytree(source, twin, symlinks=True, copy_function=link_or_copy,
                    ignore=lambda folder, names: {"__pycache__"} & set(names))
    old_python = str(source / "bin" / "python")
    bin_dir = twin / "bin"
    for entry in bin_dir.iterdir():
        if entry.name.startswith("python"):
            entry.unlink()
            continue
        if entry.is_symlink() or not entry.is_file():
            continue
        with open(entry, "rb") as handle:
            first = handle.readline()
        if first.startswith(b"#!") and old_python.encode() in first:
            rest = entry.read_bytes()[len(first):]
            mode = entry.stat().st_mode
            entry.unlink()  # a hard link: replace it, never write through to the original
            entry.write_bytes(b"#!" + str(bin_dir / "python").encode() + b"\n" + rest)
            entry.chmod(mode)
    for name in ("python", "python3", f"python{sys.version_info.major}.{sys.version_info.minor}"):
        (bin_dir / name).symlink_to(python)
    cfg = twin / "pyvenv.cfg"
    lines = [line for line in cfg.read_text().splitlines()
             if not line.startswith(("home", "executable", "command"))]
    cfg.unlink()
    cfg.write_text("\n".join([f"home = {os.path.dirname(python)}", *lines, f"executable = {python}", ""]))
    # Everyone reads and runs it; nobody but root changes it.
    os.chmod(twin, 0o755)
