"""A grading process's side of its fork parent (:mod:`.fork_parent`): start it in the sandbox, ask it for
kernels, watch that it stays what it was, and replace it when it does not.

A kernel forked by the parent is not a child of the grading process, so jupyter_client gets a
:class:`ForkedKernel` in place of a ``Popen``: the same ``poll``, ``wait``, ``kill`` and
``send_signal``, carried out by the parent.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import fork_parent
from .sandbox import Sandbox, _under

#: How long a fork parent may take to import the kernel and the course's modules on a loaded machine.
START_SECONDS = 120.0
#: How long a request (a fork, a kill) may take before the parent counts as broken.
REQUEST_SECONDS = 30.0

#: Modules never preloaded: the parent imports ipykernel itself, and these only matter inside a kernel.
NOT_PRELOADED = frozenset({"__future__", "nbgrader", "IPython", "ipykernel"})


class ForkUnavailable(Exception):
    """The fork parent could not be started or stopped answering; kernels start one by one instead."""


@dataclass(frozen=True)
class ForkSettings:
    """What a grading process needs to run a fork parent (picklable)."""

    preload: tuple[str, ...]        # modules the parent imports besides ipykernel
    base: str | None                # the folder under which kernels see their working folders


def course_preload(source_dir: Path) -> tuple[str, ...]:
    """The top-level packages the course's source notebooks import at the top level of a cell (or in a
    ``try`` there), in order of first appearance; the default of ``grading: {preload: [...]}``."""
    found: dict[str, None] = {}
    for path in sorted(Path(source_dir).glob("*/*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            for name in _top_level_imports(text):
                found.setdefault(name, None)
    return tuple(name for name in found if name not in NOT_PRELOADED)


def _top_level_imports(code: str) -> Iterable[str]:
    # IPython magics and shell escapes are not Python; leave those lines out before parsing.
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return
    body = list(tree.body)
    for node in list(body):
        if isinstance(node, ast.Try):
            body += node.body
    for node in body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split(".")[0]


class ForkedKernel:
    """A kernel process forked by the parent, as jupyter_client's provisioner uses a ``Popen``."""

    stdin = stdout = stderr = None

    def __init__(self, parent: ForkParent, child_id: int, pid: int) -> None:
        self.parent = parent
        self.id = child_id
        self.pid = pid                  # in the parent's pid namespace: for messages, not for os.kill
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.parent.exit_code(self.id)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("forked kernel", timeout or 0)
            self.parent.read_events(0.05)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is not None:
            return
        import signal

        if signum == signal.SIGKILL:
            self.kill()
        else:
            self.parent.request({"op": "signal", "id": self.id, "signum": int(signum)})

    def kill(self) -> None:
        if self.poll() is None:
            self.parent.request({"op": "kill", "id": self.id})

    def terminate(self) -> None:
        self.kill()

    def stop_strays(self) -> int:
        return int(self.parent.request({"op": "strays", "id": self.id}).get("killed", 0))


class ForkParent:
    """One grading process's fork parent, started on first use and replaced when it crashes or looks
    tampered with (it answers wrongly, is being traced, or imported something it did not at start)."""

    def __init__(self, sandbox: Sandbox, settings: ForkSettings, spawn_dir: str) -> None:
        self.sandbox = sandbox
        self.settings = settings
        self.spawn_dir = spawn_dir
        self.process: subprocess.Popen | None = None
        self.fingerprint = ""
        self.preloaded: list[str] = []
        self.started = 0                # how many parents were started (1 unless one was replaced)
        self.forked = 0                 # how many kernels were forked
        self._ids = itertools.count(1)
        self._buffer = b""
        self._exits: dict[int, int] = {}
        self._replies: dict[int, dict[str, Any]] = {}
        self._stderr: Any = None

    # -- life cycle

    def ensure(self) -> None:
        """A healthy parent, started or replaced if need be; ForkUnavailable if none can be started."""
        if self.process is not None and not self._healthy():
            self.close()
        if self.process is None:
            self._start()

    def _start(self) -> None:
        os.makedirs(self.spawn_dir, exist_ok=True)
        os.makedirs(os.path.join(self.spawn_dir, "home"), exist_ok=True)
        self.sandbox.chown_for_sandbox(self.spawn_dir)
        config = {
            "spawn_dir": self.spawn_dir, "base": self.settings.base, "tmp_mb": self.sandbox.limits.tmp_mb,
            "under_tmp": [p for p in self.sandbox.readonly if _under(p, "/tmp")],
            "preload": list(self.settings.preload),
        }
        source = Path(fork_parent.__file__).read_text(encoding="utf-8")
        code = source.replace('if __name__ == "__main__":', "if True:")
        mount_points = [self.settings.base] if self.settings.base else []
        env = dict(os.environ)
        argv = self.sandbox.parent_command([sys.executable, "-c", code, json.dumps(config)],
                                           spawn_dir=self.spawn_dir, mount_points=mount_points, env=env)
        self._stderr = tempfile.TemporaryFile()
        self._buffer, self._exits, self._replies = b"", {}, {}
        try:
            self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=self._stderr, env={"PATH": os.environ.get("PATH", os.defpath)},
                                            start_new_session=False)
        except OSError as exc:
            raise ForkUnavailable(f"bubblewrap did not start ({exc})") from None
        self.started += 1
        ready = self._read_message(lambda m: "ready" in m, START_SECONDS)
        if ready is None or not ready.get("ready"):
            why = (ready or {}).get("error") or self._stderr_tail() or "it did not start"
            self.close()
            raise ForkUnavailable(why)
        self.fingerprint = ready["fingerprint"]
        self.preloaded = list(ready.get("preloaded", []))

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None or _traced(self.process.pid):
            return False
        try:
            reply = self.request({"op": "ping"})
        except ForkUnavailable:
            return False
        return reply.get("fingerprint") == self.fingerprint

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            assert process.stdin is not None
            process.stdin.close()          # the parent kills its children and ends when its input ends
        except OSError:
            pass
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # -- kernels

    def spawn(self, *, kernel_dir: str, workdir: str, inside: str, argv: Sequence[str],
              env: Mapping[str, str]) -> ForkedKernel:
        """Fork a kernel that runs ``python ARGV`` (``-m module ...``) in its own namespaces."""
        self.ensure()
        child_id = next(self._ids)
        reply = self.request({"op": "spawn", "id": child_id, "kernel_dir": kernel_dir, "workdir": workdir,
                              "inside": inside, "argv": list(argv), "env": dict(env)})
        if not reply.get("ok"):
            raise ForkUnavailable(f"the fork parent could not fork a kernel ({reply.get('error')})")
        self.forked += 1
        return ForkedKernel(self, child_id, int(reply["pid"]))

    def exit_code(self, child_id: int) -> int | None:
        self.read_events(0)
        if child_id in self._exits:
            return self._exits[child_id]
        if self.process is None or self.process.poll() is not None:
            return -9                       # the parent is gone, and its children with it
        return None

    # -- messages

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            raise ForkUnavailable("the fork parent is not running")
        rid = next(self._ids)
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((json.dumps({**message, "re": rid}) + "\n").encode())
            self.process.stdin.flush()
        except OSError as exc:
            raise ForkUnavailable(f"the fork parent stopped reading ({exc})") from None
        reply = self._read_message(lambda m: m.get("re") == rid, REQUEST_SECONDS)
        if reply is None:
            self.close()
            raise ForkUnavailable(f"the fork parent did not answer a {message['op']} request")
        return reply

    def read_events(self, seconds: float) -> None:
        self._read_message(lambda m: False, seconds)

    def _read_message(self, wanted: Any, seconds: float) -> dict[str, Any] | None:
        """Read lines until one is ``wanted`` (returned) or ``seconds`` pass; exit events are kept."""
        for rid in list(self._replies):
            if wanted(self._replies[rid]):
                return self._replies.pop(rid)
        if self.process is None or self.process.stdout is None:
            return None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + seconds
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                if message.get("event") == "exit":
                    self._exits[int(message["id"])] = int(message["code"])
                elif wanted(message):
                    return message
                elif "re" in message:
                    self._replies[message["re"]] = message
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                return None
            data = os.read(fd, 65536)
            if not data:
                return None
            self._buffer += data


def _traced(pid: int) -> bool:
    """Whether the process (bubblewrap) or its descendants down to the parent are being traced."""
    pids = [pid]
    for _ in range(3):
        children = fork_parent._children(pids[-1])
        if not children:
            break
        pids.append(children[0])
    for each in pids:
        try:
            with open(f"/proc/{each}/status") as handle:
                for line in handle:
                    if line.startswith("TracerPid:") and line.split()[1] != "0":
                        return True
        except OSError:
            pass
    return False
