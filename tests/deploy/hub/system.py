"""Local Unix accounts and groups for the hub tests, all named with one prefix and removed afterwards.

Everything here needs root: the hub's spawner switches to these users, and the permission checks are
the operating system's own.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PREFIX = "spmtest-"


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    home: Path


def missing_tools() -> list[str]:
    return [tool for tool in ("useradd", "userdel", "groupadd", "groupdel", "chpasswd", "runuser")
            if shutil.which(tool) is None]


def _run(argv: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), check=True, capture_output=True, text=True, **kwargs)


def group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def create_group(name: str) -> None:
    if not group_exists(name):
        _run(["groupadd", name])


def create_user(name: str, home_root: Path, groups: Iterable[str] = ()) -> Account:
    """A login with a random password and a private home (0700) under ``home_root``."""
    home = home_root / name
    argv = ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group"]
    groups = list(groups)
    if groups:
        argv += ["--groups", ",".join(groups)]
    _run([*argv, name])
    home.chmod(0o700)
    password = secrets.token_urlsafe(18)
    _run(["chpasswd"], input=f"{name}:{password}\n")
    return Account(name, password, home)


def processes_of(name: str) -> list[int]:
    """The ids of the processes running as the user (read from /proc, no pattern matching)."""
    uid = pwd.getpwnam(name).pw_uid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except FileNotFoundError:
                continue
    return found


def stop_processes_of(name: str, grace: float = 5.0) -> None:
    """End what the user still runs (servers and kernels the hub started for them), one id at a time."""
    if not user_exists(name):
        return
    pids = processes_of(name)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def remove_user(name: str) -> None:
    if user_exists(name):
        stop_processes_of(name)
        subprocess.run(["userdel", "--remove", "--force", name], capture_output=True)
    # --user-group made a group of the same name; userdel removes it unless another user is in it.
    remove_group(name)


def remove_group(name: str) -> None:
    if group_exists(name):
        subprocess.run(["groupdel", name], capture_output=True)


def run_as(user: str, argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a command as the user, with only the environment given (plus HOME, USER, LOGNAME and a PATH)."""
    entry = pwd.getpwnam(user)
    base = {"HOME": entry.pw_dir, "USER": user, "LOGNAME": user, "SHELL": entry.pw_shell,
            "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    base.update(env or {})
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in base.items()), *argv],
                          capture_output=True, text=True, cwd=cwd or entry.pw_dir, timeout=timeout)


def can_run(user: str, executable: str) -> bool:
    """Whether the user can start the executable (every folder above it must be searchable by them)."""
    return run_as(user, [executable, "-c", "pass"], timeout=60).returncode == 0
