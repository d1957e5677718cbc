"""Jupyter kernels that run in the sandbox, for nbgrader's Execute preprocessor.

nbgrader itself stays outside: it reads the submission, talks to the kernel and writes the grades. Only
the kernel, the one process that runs student code, is sandboxed. The two talk over Unix sockets in a
folder bound into the sandbox, since the sandbox has no network, not even the host's loopback.

The kernel works in a copy of the folder nbgrader gives it, seen inside at the path of the rep's
autograded folder in the real course. When the kernel stops, the files it left are copied back into
nbgrader's folder (as ``nbgrader autograde`` leaves them there too), but only regular files, read through
descriptors that never follow a link: student code could otherwise plant a symlink that makes the
trusted grader write over the gradebook.

When the grading process has a fork parent (:mod:`.fork_client`), the kernel is forked from it, already
warm, instead of being started by bubblewrap: same sandbox, namespaces of its own (see
:mod:`.fork_parent`). A kernel spec other than this Python's ``-m ipykernel_launcher``, or a parent that
fails, starts the kernel the usual way.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from traitlets import Any as AnyTrait
from traitlets import Unicode

from .fork_client import ForkedKernel, ForkParent, ForkUnavailable
from .fork_parent import _alive, _children, _pid_namespace, stop_strays  # noqa: F401 - used from here before
from .sandbox import _under, sandbox_env

#: The grading process's fork parent, when it has one (set by the grading process for each submission).
FORK_PARENT: ForkParent | None = None
#: Why kernels were started by bubblewrap although a fork parent was wanted (said once per grading run).
FORK_PROBLEMS: list[str] = []

#: The most bytes copied back from a kernel's working folder; beyond it, files are left out (and logged).
MIRROR_BUDGET = 256 * 1024 * 1024


class SandboxKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel process runs in a :class:`~spm_training.grading.sandbox.Sandbox`."""

    sandbox = AnyTrait(None, allow_none=True, help="The spm_training.grading.sandbox.Sandbox to run kernels in.").tag(
        config=True)
    run_root = Unicode("", help="A private folder for the kernels' sockets, connection files and homes.").tag(
        config=True)
    kernel_cwd = Unicode("", help="Where the kernel sees its working folder (default: where nbgrader has it).").tag(
        config=True)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        # Unix sockets reach into the sandbox's network namespace; TCP on the loopback does not.
        self.transport = "ipc"
        self._kernel_dir: str | None = None
        self._outside_cwd: str | None = None

    async def _async_pre_start_kernel(self, **kw: object) -> tuple[list[str], dict]:
        if self.sandbox is None:
            raise RuntimeError("SandboxKernelManager.sandbox is not set")
        root = self.run_root or tempfile.gettempdir()
        self._kernel_dir = tempfile.mkdtemp(prefix="k", dir=root)
        os.mkdir(os.path.join(self._kernel_dir, "home"))
        self.ip = os.path.join(self._kernel_dir, "ipc")
        self.connection_file = os.path.join(self._kernel_dir, "kernel.json")
        self._outside_cwd = str(kw.get("cwd") or os.getcwd())
        copy_regular_tree(self._outside_cwd, self._work_dir)
        # A SIGINT to bubblewrap would end the sandbox; ipykernel interrupts itself on a control message.
        if self.kernel_spec is not None:
            self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    @property
    def _work_dir(self) -> str:
        assert self._kernel_dir is not None
        return os.path.join(self._kernel_dir, "work")

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: object) -> None:
        assert self._kernel_dir is not None and self._outside_cwd is not None
        env = dict(kw.get("env") or os.environ)  # type: ignore[arg-type]
        self.sandbox.chown_for_sandbox(self._kernel_dir)
        # The kernel sees its folder where the rep's autograded folder is in the real course, as it would
        # under nbgrader, unless the course sits inside a folder the sandbox binds read-only.
        inside = self.kernel_cwd if self.kernel_cwd and self.sandbox.can_mount_at(self.kernel_cwd) \
            else self._outside_cwd
        if self._fork(kernel_cmd, inside, env):
            return
        argv = self.sandbox.command(kernel_cmd, workdir=self._work_dir, inside=inside, rundir=self._kernel_dir,
                                    env=env)
        # bubblewrap itself needs nothing from the environment; what the kernel gets is in --setenv.
        kw["env"] = {"PATH": os.environ.get("PATH", os.defpath)}
        # ipykernel's start-up banner and whatever student code writes to the process's own stdout and
        # stderr would land in the trainer's terminal; cell output travels over the sockets anyway.
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL
        await super()._async_launch_kernel(argv, **kw)

    def _fork(self, kernel_cmd: list[str], inside: str, env: dict[str, str]) -> bool:
        """Fork the kernel from the grading process's warm parent; False to start it the usual way."""
        parent = FORK_PARENT
        assert self._kernel_dir is not None
        if parent is None or not _forkable(kernel_cmd) or not _under(self._kernel_dir, parent.spawn_dir):
            return False
        base = parent.settings.base
        if not _under(inside, "/tmp") and not (base and _under(inside, base)):
            return False
        try:
            process = parent.spawn(kernel_dir=self._kernel_dir, workdir=self._work_dir, inside=inside,
                                   argv=kernel_cmd[1:], env=sandbox_env(env, self._kernel_dir))
        except ForkUnavailable as exc:
            FORK_PROBLEMS.append(str(exc))
            return False
        provisioner: Any = self.provisioner
        provisioner.process = process
        provisioner.pid = process.pid
        provisioner.pgid = None
        provisioner.cwd = inside
        self._reconcile_connection_info(provisioner.connection_info)
        return True

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        # nbclient shuts a kernel down once every cell has run and its output is in; a polite shutdown
        # would only let the kernel tidy up for a few hundred milliseconds in which the grading process
        # waits idle. Ending the sandbox at once (bubblewrap takes every process in it along) keeps the
        # cores busy grading; nothing nbgrader records depends on the kernel's own exit.
        await super()._async_shutdown_kernel(now=True, restart=restart)

    async def _async_wait(self, pollinterval: float = 0.01) -> None:
        # jupyter_client polls a dying kernel every 100 ms; a killed sandbox is gone within a few.
        await super()._async_wait(pollinterval=pollinterval)

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:
            # jupyter_client interrupts before every shutdown; ours kills the whole sandbox anyway.
            return
        # nbgrader interrupts a kernel when a cell times out; jupyter_client then signals the kernel's
        # whole process group, so whatever the cell started stops too. In the sandbox the message-mode
        # interrupt reaches the kernel alone, so the processes it started are ended here: a fork bomb
        # would otherwise keep both cores busy and starve the kernel of the time it needs to answer.
        await super()._async_interrupt_kernel()
        process = getattr(self.provisioner, "process", None)
        if isinstance(process, ForkedKernel):
            process.stop_strays()
            return
        outer = getattr(self.provisioner, "pid", None)
        if outer:
            stop_strays(outer)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if restart or self._kernel_dir is None:
            return
        try:
            if self._outside_cwd is not None and os.path.isdir(self._work_dir):
                skipped = mirror_regular_tree(self._work_dir, self._outside_cwd)
                if skipped:
                    self.log.warning("Left %d file(s) the kernel wrote out of the autograded folder: over %d MB",
                                     skipped, MIRROR_BUDGET // (1024 * 1024))
        finally:
            shutil.rmtree(self._kernel_dir, ignore_errors=True)
            self._kernel_dir = None

    # AsyncKernelManager binds its public coroutines to KernelManager's functions, so nbclient, which
    # calls the public names, would never reach overrides of the private ones alone.
    pre_start_kernel = _async_pre_start_kernel
    interrupt_kernel = _async_interrupt_kernel
    shutdown_kernel = _async_shutdown_kernel
    cleanup_resources = _async_cleanup_resources


@functools.cache
def sandboxed_execute(execute_class: type) -> type:
    """A subclass of nbgrader's Execute preprocessor (or of a course's own subclass of it) whose kernels
    run in the sandbox. Its config sections are still ``Execute`` and the class's own.

    It also caps the output it keeps per notebook (``Limits.output_mb``): the kernel is limited, but the
    outputs it sends pile up in the grading process, outside the sandbox, until the cell times out.
    """

    def __init__(self: Any, *args: object, **kwargs: object) -> None:
        # Execute sets its kernel manager with setdefault; set ours first.
        kwargs["kernel_manager_class"] = SandboxKernelManager
        execute_class.__init__(self, *args, **kwargs)
        self._output_bytes = 0
        self._output_capped = False

    def output(self: Any, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        sandbox = self.config.SandboxKernelManager.get("sandbox")
        budget = sandbox.limits.output_mb * 1024 * 1024 if sandbox is not None else None
        self._output_bytes += _message_size(msg)
        if budget is not None and self._output_bytes > budget:
            if not self._output_capped:
                self._output_capped = True
                self.log.warning("Output of the notebook passed %d MB; the rest was dropped", budget // 2**20)
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"[spm grade: this notebook's output passed {budget // 2**20} MB; the rest was dropped]\n"))
            return None
        return execute_class.output(self, outs, msg, display_id, cell_index)

    return type(f"Sandboxed{execute_class.__name__}", (execute_class,), {"__init__": __init__, "output": output})


def _message_size(msg: dict) -> int:
    content = msg.get("content", {})
    if "text" in content:
        return len(content["text"])
    if "data" in content:
        return sum(len(str(value)) for value in content["data"].values())
    return sum(len(line) for line in content.get("traceback", []))


def _forkable(kernel_cmd: list[str]) -> bool:
    """Whether the kernel is this Python's ipykernel, which the fork parent has imported."""
    if len(kernel_cmd) < 3 or kernel_cmd[1:3] != ["-m", "ipykernel_launcher"]:
        return False
    program = shutil.which(kernel_cmd[0]) or kernel_cmd[0]
    return os.path.realpath(program) == os.path.realpath(sys.executable)


def copy_regular_tree(source: str, dest: str) -> None:
    """Copy the folders and regular files of a trusted tree (symlinks and special files are left out)."""
    os.makedirs(dest, exist_ok=True)
    for folder, dirs, files in os.walk(source):
        rel = os.path.relpath(folder, source)
        target = os.path.normpath(os.path.join(dest, rel))
        for name in dirs:
            if not os.path.islink(os.path.join(folder, name)):
                os.makedirs(os.path.join(target, name), exist_ok=True)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in files:
            path = os.path.join(folder, name)
            if stat.S_ISREG(os.lstat(path).st_mode):
                shutil.copyfile(path, os.path.join(target, name))


def mirror_regular_tree(untrusted: str, trusted: str, budget: int = MIRROR_BUDGET) -> int:
    """Make ``trusted`` hold exactly the folders and regular files of ``untrusted``; returns how many
    files were left out for the byte budget.

    ``untrusted`` may still be changing under us (student code wrote it). Every name is opened relative to
    an already opened folder with O_NOFOLLOW, so no symlink, however placed, leads outside it; FIFOs and
    sockets are skipped. ``trusted`` holds only what nbgrader and we wrote, so plain paths are safe there.
    """
    state = {"budget": budget, "skipped": 0}
    top = os.open(untrusted, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        _mirror_dir(top, trusted, state)
    finally:
        os.close(top)
    return state["skipped"]


def _mirror_dir(dir_fd: int, dest: str, state: dict) -> None:
    os.makedirs(dest, exist_ok=True)
    kept: set[str] = set()
    for entry in os.scandir(dir_fd):
        name = entry.name
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        target = os.path.join(dest, name)
        if stat.S_ISDIR(info.st_mode):
            try:
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            except OSError:
                continue
            try:
                if os.path.lexists(target) and not os.path.isdir(target):
                    os.remove(target)
                _mirror_dir(sub, target, state)
            finally:
                os.close(sub)
            kept.add(name)
        elif stat.S_ISREG(info.st_mode):
            if _copy_file_in(dir_fd, name, target, state):
                kept.add(name)
    for name in os.listdir(dest):
        if name not in kept:
            _remove(os.path.join(dest, name))


def _copy_file_in(dir_fd: int, name: str, target: str, state: dict) -> bool:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode):
            return False
        if info.st_size > state["budget"]:
            state["skipped"] += 1
            return False
        data = source.read(state["budget"] + 1)
    if len(data) > state["budget"]:
        state["skipped"] += 1
        return False
    state["budget"] -= len(data)
    if os.path.isdir(target):
        shutil.rmtree(target)
    if os.path.isfile(target):
        with open(target, "rb") as current:
            if current.read() == data:
                return True
    _write_new(target, data)
    return True


def _write_new(target: str, data: bytes) -> None:
    if os.path.lexists(target):
        os.chmod(target, 0o644)  # nbgrader leaves its files read-only
        os.remove(target)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)
