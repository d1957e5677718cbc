"""The warm parent of a grading process's kernels: a Python that imported ipykernel and the course's
modules once, inside the sandbox, and forks a fresh kernel for each submission.

Starting a kernel costs most of the time a submission takes to grade (a Python, ipykernel, then pandas
and numpy, again for every rep). Here one process per grading process pays that once: it starts in the
same bubblewrap sandbox a kernel gets (:meth:`~spm_training.grading.sandbox.Sandbox.parent_command`),
imports, and then only ever forks. It never runs student code itself.

Each child gets namespaces of its own before any student code runs, so what one submission does cannot
reach the next one, nor the parent:

- a **mount namespace**, with a fresh ``/tmp`` and ``/dev/shm``, only its own kernel folder and working
  folder bound in (the folder where the next kernels' folders are made is covered), and a ``/proc`` of
  its own. The parent's ``/`` and ``/dev`` are read-only, so nothing can be left beside them.
- a **pid namespace**: the kernel cannot name the parent's pid, so it cannot signal or trace it, and when
  the child's init ends, the kernel ends every process it left behind with it.
- a **network namespace** (no interface up, not even loopback), an **IPC** and a **UTS** namespace:
  no abstract socket, System V object or host name survives into the next child.

The parent creates a user namespace of its own first, the only way an unprivileged process may create
the others; every child then drops all capabilities, its bounding set and ``no_new_privs`` before the
kernel starts, and no child can create a user namespace (the namespace's limit is 0). A child is a copy
of the parent's memory: what it changes in ``sys.modules`` or in imported modules stays in the copy.

It talks to the grading process over its stdin and stdout, one JSON object a line: requests ``spawn``,
``kill``, ``signal``, ``strays`` and ``ping``, each answered by a reply with the request's ``re``; and
events ``exit`` when a child ends.

This file is run with ``python -c`` (the sandbox does not see the package's folder), so it imports the
standard library only, and the grading process imports it for :func:`stop_strays`.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import importlib
import json
import os
import runpy
import select
import signal
import sys
import time
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_PRIVATE = 0x40000

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}

#: Files of the parent's /proc that say nothing about a process and that programs read (the CPU count,
#: the memory): bound into a child's /proc when the kernel does not allow a new one to be mounted.
PROC_FILES = ("cpuinfo", "meminfo", "stat", "uptime", "loadavg", "version", "filesystems", "cgroups")

#: What a kernel imports while it starts, beyond ``ipykernel.kernelapp`` (the shell, the debugger and its
#: debugpy, the history's sqlite3): imported by the parent, so that no child imports them again.
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
                  "ipykernel.comm", "ipykernel.eventloops", "IPython.core.history", "IPython.core.completer",
                  "IPython.core.debugger", "IPython.core.completerlib", "IPython.core.oinspect",
                  "IPython.extensions.storemagic", "IPython.utils.wildcard", "tornado.platform.asyncio", "sqlite3",
                  "pdb", "pydoc", "faulthandler", "mimetypes", "code")

#: The signals a child's init ignores, so that nothing inside can end it but the end of its kernel.
INIT_IGNORES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGPIPE")

_libc = ctypes.CDLL(None, use_errno=True)


class SetupError(Exception):
    """A namespace, mount or capability step that this machine refused."""


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(code)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def _locked_flags(path: str) -> int:
    """The flags a remount of ``path`` must keep (a mount made by a more privileged namespace is locked)."""
    have = os.statvfs(path).f_flag
    flags = 0
    for st_flag, ms_flag in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
                             (os.ST_NOATIME, 0x400), (os.ST_NODIRATIME, 0x800), (os.ST_RELATIME, 0x200000)):
        if have & st_flag:
            flags |= ms_flag
    return flags


def _read_only(path: str) -> None:
    _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(path))


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


# --- the parent -----------------------------------------------------------------------------------------

def become_parent() -> None:
    """A user namespace of the parent's own (so that it may make the children's namespaces) and a mount
    namespace in it, made private, with ``/`` and ``/dev`` read-only. Must run before any thread starts."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare a user namespace")
    with open("/proc/self/setgroups", "w") as handle:
        handle.write("deny")
    with open("/proc/self/uid_map", "w") as handle:
        handle.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{gid} {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _read_only("/")
    _read_only("/dev")
    # No child may make a user namespace of its own (bubblewrap's --disable-userns does the same).
    with open("/proc/sys/user/max_user_namespaces", "w") as handle:
        handle.write("0")


def preload(modules: list[str]) -> list[str]:
    """Import the kernel and the course's modules; the names that imported."""
    done = []
    for name in [*KERNEL_MODULES, *modules]:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception:  # noqa: BLE001 - a module the course names but this Python lacks is skipped
            pass
    return done


def fingerprint() -> str:
    """What the parent has imported: it changes only if something ran in the parent that should not."""
    return hashlib.sha256("\n".join(sorted(sys.modules)).encode()).hexdigest()[:16]


class Parent:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.children: dict[int, int] = {}      # request id -> pid of the child's outer process
        self.buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        os.write(1, (json.dumps(message) + "\n").encode())

    def serve(self) -> None:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        while True:
            ready, _, _ = select.select([0, wake_r], [], [])
            if wake_r in ready:
                os.read(wake_r, 4096)
                self.reap()
            if 0 in ready:
                data = os.read(0, 65536)
                if not data:
                    self.stop_all()
                    return
                self.buffer += data
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    self.handle(json.loads(line))

    def handle(self, request: dict[str, Any]) -> None:
        op, rid = request["op"], request["re"]
        try:
            if op == "spawn":
                self.children[request["id"]] = self.spawn(request)
                self.send({"re": rid, "ok": True, "pid": self.children[request["id"]]})
            elif op == "kill":
                self.kill(request["id"], signal.SIGKILL)
                self.send({"re": rid, "ok": True})
            elif op == "signal":
                self.kill(request["id"], request["signum"], kernel_only=True)
                self.send({"re": rid, "ok": True})
            elif op == "strays":
                outer = self.children.get(request["id"])
                self.send({"re": rid, "ok": True, "killed": stop_strays(outer) if outer else 0})
            elif op == "ping":
                self.send({"re": rid, "ok": True, "fingerprint": fingerprint(), "children": len(self.children)})
            else:
                self.send({"re": rid, "ok": False, "error": f"unknown request {op}"})
        except Exception as exc:  # noqa: BLE001 - the grading process decides what a failed request means
            self.send({"re": rid, "ok": False, "error": f"{exc.__class__.__name__}: {exc}"})

    def spawn(self, request: dict[str, Any]) -> int:
        pid = self.fork()
        if pid == 0:
            code = 70
            try:
                code = run_child(request, self.config)
            finally:
                os._exit(code)
        return pid

    @staticmethod
    def fork() -> int:
        deadline = time.monotonic() + 10
        while True:
            try:
                return os.fork()
            except BlockingIOError:
                # The last child's processes may still be on their way out and count against the limit.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def kill(self, rid: int, signum: int, kernel_only: bool = False) -> None:
        outer = self.children.get(rid)
        if outer is None:
            return
        init = _children(outer)[:1]
        targets = _children(init[0])[:1] if kernel_only and init else [*init, outer]
        for pid in targets:
            try:
                os.kill(pid, signum)
            except OSError:
                pass

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for rid, outer in list(self.children.items()):
                if outer == pid:
                    del self.children[rid]
                    self.send({"event": "exit", "id": rid, "code": os.waitstatus_to_exitcode(status)})

    def stop_all(self) -> None:
        for rid in list(self.children):
            self.kill(rid, signal.SIGKILL)


# --- a child --------------------------------------------------------------------------------------------

def run_child(request: dict[str, Any], config: dict[str, Any]) -> int:
    """The child's outer process: new namespaces, then its init (pid 1 inside), whose exit code it returns."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, 65536)
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl pdeathsig")
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS),
           "unshare the child's namespaces")
    pid = os.fork()
    if pid == 0:
        code = 71
        try:
            code = run_init(request, config)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) & 0xFF


def run_init(request: dict[str, Any], config: dict[str, Any]) -> int:
    """pid 1 of the child's namespace: the mounts, then the kernel; reaps whatever is orphaned until the
    kernel ends, and then ends (which ends every process left inside)."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl pdeathsig")
    for name in INIT_IGNORES:
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    _check(_libc.sethostname(b"sandbox", 7), "sethostname")
    isolate_mounts(request, config)
    drop_privileges()
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl dumpable")
    kernel = os.fork()
    if kernel == 0:
        code = 1
        try:
            code = run_kernel(request)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - the kernel's own failure is its exit code, as a process's
            code = 1
        finally:
            _at_exit()
            os._exit(code)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        if pid == kernel:
            return os.waitstatus_to_exitcode(status) & 0xFF


def _at_exit() -> None:
    """What the interpreter does on the way out: atexit handlers (IPython's), then flushed streams."""
    import atexit

    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - a handler's failure does not change the kernel's exit code
        pass


def _bind_fd(fd: int, target: str) -> None:
    _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)


def isolate_mounts(request: dict[str, Any], config: dict[str, Any]) -> None:
    """Everything the child may write is its own: a new /tmp, /dev/shm and /proc, its kernel folder and
    working folder, and nothing of the folder where the other kernels' folders are made.

    The folders leading to those (and to the read-only binds that live under /tmp) are rebuilt in small
    read-only file systems, mode 0555 as bubblewrap makes them: student code cannot plant a file beside
    its folder (say a gradebook.db where the course's would be), not even in this throwaway copy.
    """
    kernel_dir, workdir, inside = request["kernel_dir"], request["workdir"], request["inside"]
    tmp_size = f"size={config['tmp_mb'] * 1024 * 1024},mode=1777"
    flags = MS_NOSUID | MS_NODEV
    binds = [(path, os.open(path, os.O_PATH), False) for path in config["under_tmp"] if os.path.exists(path)]
    binds += [(kernel_dir, os.open(kernel_dir, os.O_PATH | os.O_DIRECTORY), True),
              (inside, os.open(workdir, os.O_PATH | os.O_DIRECTORY), True)]
    proc_fd = os.open("/proc", os.O_PATH | os.O_DIRECTORY)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", "/tmp", "tmpfs", flags, tmp_size)

    tops: dict[str, bool] = {}        # skeleton root -> whether a bind landed right on it
    for target, _fd, _dir in binds:
        top = _skeleton_root(target, config)
        if top not in tops:
            tops[top] = False
            if _under(top, "/tmp"):
                os.mkdir(top, 0o555)
            _mount("tmpfs", top, "tmpfs", flags, "size=1048576,mode=0555")
    for target, fd, is_dir in sorted(binds, key=lambda b: b[0].count("/")):
        if target in tops:
            tops[target] = True
        elif is_dir or os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    for top, covered in tops.items():
        if not covered:
            _mount(None, top, None, MS_REMOUNT | MS_RDONLY | flags)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", flags, tmp_size)
    mount_proc(proc_fd)
    for fd in (proc_fd, *(fd for _, fd, _ in binds)):
        os.close(fd)


def _skeleton_root(target: str, config: dict[str, Any]) -> str:
    """The folder whose read-only copy holds ``target``'s mount point: its top folder under /tmp, the
    spawn folder, or the folder above the reps' working folders."""
    if _under(target, "/tmp"):
        parts = target.split("/")
        return "/".join(parts[:3]) if len(parts) > 2 else target
    for root in (config["spawn_dir"], config.get("base")):
        if root and _under(target, root):
            return root
    raise SetupError(f"{target} is neither under /tmp nor under a folder the parent can mount on")


def mount_proc(old_fd: int) -> None:
    """A /proc that shows the child's pid namespace only. A new proc cannot be mounted where bubblewrap
    covered parts of the parent's (the kernel refuses what would reveal them), so then /proc is a small
    read-only folder with the parent's few process-neutral files: no process of the parent's is in it.
    It is made in the child's new /tmp and moved into place, since binding the parent's files needs the
    parent's /proc to still be there."""
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        return
    except SetupError:
        pass
    staging = "/tmp/.spm-proc"
    os.mkdir(staging, 0o555)
    _mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=65536,mode=0555")
    for name in PROC_FILES:
        source = f"/proc/self/fd/{old_fd}/{name}"
        if os.path.exists(source):
            open(f"{staging}/{name}", "w").close()
            _mount(source, f"{staging}/{name}", None, MS_BIND)
    _mount(None, staging, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount(staging, "/proc", None, MS_MOVE)
    os.rmdir(staging)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges() -> None:
    """No capability left, none to be had again: bounding set, ambient set and no_new_privs."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl no_new_privs")
    cap = 0
    while _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    if ctypes.get_errno() != errno.EINVAL or cap == 0:
        raise SetupError(f"dropping capability {cap} from the bounding set: {os.strerror(ctypes.get_errno())}")
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    number = SYS_CAPSET.get(os.uname().machine)
    if number is None:
        raise SetupError(f"no capset system call known for {os.uname().machine}")
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    _check(_libc.syscall(number, ctypes.byref(header), data), "capset")


def run_kernel(request: dict[str, Any]) -> int:
    """The kernel: its own session, environment and folder, then ``python ARGV`` as the interpreter would
    run it (``-m module ...`` or ``-c code ...``)."""
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl dumpable")
    for name in INIT_IGNORES:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)   # as Python sets it at start-up
    os.setsid()
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["inside"])
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        # Each kernel draws numpy's unseeded random numbers from a seed of its own, as a new process would.
        try:
            numpy.random.seed()
        except Exception:  # noqa: BLE001 - a numpy without its random module has nothing to reseed
            pass
    argv = list(request["argv"])
    if argv[:1] == ["-m"]:
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    elif argv[:1] == ["-c"]:
        sys.argv = ["-c", *argv[2:]]
        sys.path.insert(0, "")
        exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})  # what python -c does
    else:
        raise SetupError(f"cannot run {argv[:1]}: only -m MODULE and -c CODE")
    return 0


# --- processes in a child's namespace (also used for kernels started by bubblewrap) ---------------------

def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    return found


def _alive(pid: int) -> bool:
    """False for a zombie: killed already, waiting for the namespace's init to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _pid_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def stop_strays(outer_pid: int, seconds: float = 5.0) -> int:
    """SIGKILL every process in the pid namespace whose init is the first child of ``outer_pid``
    (bubblewrap, or a forked child's outer process), except that init and the kernel (init's first child);
    returns how many were killed.

    The kernel may go on forking until its interrupt lands, and a child may fork while we scan, so the
    scan repeats until a few rounds in a row find nothing alive (or ``seconds`` pass).
    """
    init = _children(outer_pid)
    if not init:
        return 0
    kernel = _children(init[0])[:1]
    # A forked child's init is not dumpable, so its namespace is read from the kernel's entry.
    namespace = _pid_namespace(init[0]) or (_pid_namespace(kernel[0]) if kernel else None)
    if namespace is None:
        return 0
    keep = {init[0], *kernel}
    killed = 0
    quiet = 0
    deadline = time.monotonic() + seconds
    while quiet < 3 and time.monotonic() < deadline:
        strays = [int(e) for e in os.listdir("/proc")
                  if e.isdigit() and int(e) not in keep and _pid_namespace(int(e)) == namespace and _alive(int(e))]
        if not strays:
            quiet += 1
            time.sleep(0.01)
            continue
        quiet = 0
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed


def main(config_text: str) -> None:
    config = json.loads(config_text)
    # python -c puts the working folder first on the path; nothing is imported from there (kernels put it
    # back, as ipykernel does).
    if sys.path and sys.path[0] == "":
        del sys.path[0]
    try:
        become_parent()
    except (SetupError, OSError) as exc:
        os.write(1, (json.dumps({"ready": False, "error": str(exc)}) + "\n").encode())
        return
    loaded = preload(config.get("preload", []))
    parent = Parent(config)
    parent.send({"ready": True, "preloaded": loaded, "fingerprint": fingerprint()})
    parent.serve()


if __name__ == "__main__":
    main(sys.argv[1])
