"""A bubblewrap sandbox for student code.

Student code sees a private root: the system and Python read-only, its own working copy and a small
private ``/tmp`` read-write, and nothing else of the host: not the course (so no gradebook, no
``source/`` with the hidden tests, no other rep's folders), not the trainer's home, not the host's
network (a private network namespace has only a loopback that is down) and not the host's processes.
Inside, it runs as an unprivileged user under resource limits (address space, CPU time, number of
processes and threads, file size).

Run as root, bubblewrap sets up the mounts with root's rights (so it can bind a Python that lives under
``/root``) and ``setpriv`` then drops to a uid of the grading process's own before any student code
runs. Each grading process gets a uid of its own because Linux counts RLIMIT_NPROC per uid: a fork
bomb in one sandbox must not use up the process budget of the sandbox next to it. Run as another user,
bubblewrap adds a user namespace, which also gives every sandbox a process count of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..errors import SpmError

#: The first uid used for sandboxes started by root; the grading process's pid is added to it, so that
#: concurrent graders never share a uid (pids are below 2**22 on Linux).
SANDBOX_UID_BASE = 2_000_000_000

#: /etc entries programs commonly need; the rest of /etc (and every Jupyter config folder, which may
#: hold a gradebook password) stays out of the sandbox.
ETC_ALLOWLIST = (
    "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/etc/host.conf", "/etc/localtime",
    "/etc/timezone", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
    "/etc/fonts", "/etc/ssl/certs", "/etc/ca-certificates", "/etc/mime.types", "/etc/locale.alias",
    "/etc/os-release", "/etc/matplotlibrc",
)

#: Environment variables passed into the sandbox; anything else (tokens, passwords, database URLs in
#: the trainer's environment) is left outside.
ENV_ALLOWLIST = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONHASHSEED", "PYTHONIOENCODING", "MPLBACKEND",
                 "NBGRADER_EXECUTION", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class SandboxUnavailable(SpmError):
    """No sandbox can be set up on this machine; grading student code needs --no-sandbox explicitly."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"cannot sandbox student code: {reason}. Install bubblewrap (apt-get install bubblewrap) on a "
            "kernel that allows namespaces, or pass --no-sandbox to grade without a sandbox (student code then "
            "runs with your rights and can read the hidden tests and change the gradebook)")


@dataclass(frozen=True)
class Limits:
    """Resource limits of every process that runs student code."""

    memory_mb: int = 2048          # RLIMIT_AS: a kernel with pandas and numpy loaded uses about 1 GB of it
    cpu_seconds: int = 600         # RLIMIT_CPU: the backstop for loops that ignore the per-cell timeout
    processes: int = 128           # RLIMIT_NPROC: processes and threads; a kernel needs about 20
    file_mb: int = 256             # RLIMIT_FSIZE: the largest file student code may write
    tmp_mb: int = 64               # size of the private /tmp (memory-backed)
    output_mb: int = 64            # output kept per notebook: it piles up outside the sandbox

    def prlimit_args(self) -> list[str]:
        mib = 1024 * 1024
        # The hard CPU limit sits a little above the soft one, so a process first gets SIGXCPU
        # (which ends it unless it is caught) and SIGKILL only if it catches that.
        return [f"--as={self.memory_mb * mib}", f"--cpu={self.cpu_seconds}:{self.cpu_seconds + 5}",
                f"--nproc={self.processes}", f"--fsize={self.file_mb * mib}", "--core=0"]


@dataclass(frozen=True)
class Sandbox:
    """How to start a sandboxed command on this machine (picklable, so worker processes get a copy)."""

    bwrap: str
    prlimit: str
    setpriv: str | None                    # set when running as root: drops to an unprivileged uid
    readonly: tuple[str, ...]              # host paths bound read-only at the same place
    symlinks: tuple[tuple[str, str], ...]  # (target, path) for /lib -> usr/lib on merged-/usr systems
    masked: tuple[str, ...]                # folders inside read-only binds hidden behind an empty tmpfs
    limits: Limits = field(default_factory=Limits)

    @property
    def as_root(self) -> bool:
        return self.setpriv is not None

    def uid(self) -> int | None:
        """The uid student code runs as when the sandbox is started by root (else None: the caller's)."""
        return SANDBOX_UID_BASE + os.getpid() if self.as_root else None

    def command(self, argv: Sequence[str], *, workdir: str, inside: str, rundir: str,
                env: Mapping[str, str]) -> list[str]:
        """The command line that runs ``argv`` in the sandbox.

        ``workdir`` (a host folder) appears read-write at ``inside``, which is also the working folder;
        ``rundir`` (a host folder for the kernel's sockets, connection file and home) appears read-write at
        the same path. Only the allow-listed variables of ``env`` are passed in.
        """
        return self._command(argv, binds_rw=[(rundir, rundir), (workdir, inside)], mount_points=[], chdir=inside,
                             rundir=rundir, env=env, nested_userns=False)

    def parent_command(self, argv: Sequence[str], *, spawn_dir: str, mount_points: Sequence[str],
                       env: Mapping[str, str]) -> list[str]:
        """The command line of a fork parent (:mod:`.fork_parent`): the same sandbox, with ``spawn_dir``
        (where its children's kernel folders are made) read-write and empty folders at ``mount_points``
        (where children mount their working folders). It may make one user namespace, its own; it lets
        no child make another."""
        return self._command(argv, binds_rw=[(spawn_dir, spawn_dir)], mount_points=mount_points, chdir=spawn_dir,
                             rundir=spawn_dir, env=env, nested_userns=True)

    def _command(self, argv: Sequence[str], *, binds_rw: list[tuple[str, str]], mount_points: Sequence[str],
                 chdir: str, rundir: str, env: Mapping[str, str], nested_userns: bool) -> list[str]:
        args = [self.bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
        if not self.as_root:
            # Unprivileged: a user namespace is what makes the mounts possible; no nested ones inside
            # (a fork parent makes one itself, then forbids more).
            args += ["--unshare-user"] if nested_userns else ["--unshare-user", "--disable-userns"]
        args.append("--clearenv")
        for key, value in sorted(sandbox_env(env, rundir).items()):
            args += ["--setenv", key, value]

        mounted = [*self.readonly, *(link for _, link in self.symlinks)]
        # bubblewrap creates missing parents of a mount point with mode 0700, which an unprivileged uid
        # cannot enter; create them first, the ones outside /tmp before /tmp is mounted. Mode 0555: they
        # can be entered but not written, so student code cannot plant files beside its folder (say a
        # gradebook.db where the course's would be), not even in the sandbox's own throwaway copy of them.
        parents = _parents([*self.readonly, *(dest for _, dest in binds_rw), *mount_points], mounted)
        parents += [p for p in mount_points if p not in parents]
        early = [p for p in parents if not _under(p, "/tmp")]
        late = [p for p in parents if _under(p, "/tmp")]
        # Whatever lives under /tmp (an environment or a checkout there, as in a CI run) is mounted after
        # the private /tmp, which would otherwise hide it.
        def mounts(under_tmp: bool) -> list[str]:
            found: list[str] = []
            for path in self.readonly:
                if _under(path, "/tmp") == under_tmp:
                    found += ["--ro-bind", path, path]
            for target, link in self.symlinks:
                if _under(link, "/tmp") == under_tmp:
                    found += ["--symlink", target, link]
            for path in self.masked:
                if _under(path, "/tmp") == under_tmp:
                    found += ["--tmpfs", path]
            return found

        for folder in early:
            args += ["--perms", "0555", "--dir", folder]
        args += mounts(under_tmp=False)
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.limits.tmp_mb * 1024 * 1024), "--perms", "1777", "--tmpfs", "/tmp"]
        for folder in late:
            args += ["--perms", "0555", "--dir", folder]
        args += mounts(under_tmp=True)
        for source, dest in binds_rw:
            args += ["--bind", source, dest]
        args += ["--chdir", chdir]
        uid = self.uid()
        if uid is not None:
            args += [self.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                     "--bounding-set=-all", "--no-new-privs", "--"]
        args += [self.prlimit, *self.limits.prlimit_args(), "--", *argv]
        return args

    def can_mount_at(self, path: str) -> bool:
        """Whether a folder can appear at ``path``: not inside a read-only bind, where bubblewrap could
        not create the mount point."""
        return not any(_under(path, r) for r in (*self.readonly, *(link for _, link in self.symlinks)))

    def chown_for_sandbox(self, *paths: str) -> None:
        """Give the sandbox's uid the folders it writes to (only needed when started by root)."""
        uid = self.uid()
        if uid is None:
            return
        for top in paths:
            os.chown(top, uid, uid)
            for folder, dirs, files in os.walk(top):
                for name in dirs + files:
                    os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def sandbox_env(env: Mapping[str, str], rundir: str) -> dict[str, str]:
    """The allow-listed part of ``env``, with a home and a temporary folder of the sandbox's own."""
    kept = {k: v for k, v in env.items() if k in ENV_ALLOWLIST or k.startswith("LC_")}
    kept.update({"HOME": os.path.join(rundir, "home"), "TMPDIR": "/tmp", "USER": "student",
                 "LOGNAME": "student"})
    kept.setdefault("PATH", os.defpath)
    return kept


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _parents(paths: Iterable[str], mounted: Iterable[str]) -> list[str]:
    """Every ancestor of ``paths`` (shallowest first) that is not ``/`` or ``/tmp`` (a mount of its
    own) and not inside a mount."""
    mounted = list(mounted)
    found: set[str] = set()
    for path in paths:
        for parent in PurePosixPath(path).parents:
            text = str(parent)
            if text not in ("/", "/tmp") and not any(_under(text, m) for m in mounted):
                found.add(text)
    return sorted(found, key=lambda p: (p.count("/"), p))


def _python_roots() -> list[str]:
    """The folders the kernel's Python needs: the environment and the interpreter it was built from."""
    roots = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    return sorted(os.path.realpath(r) for r in roots if r)


def _jupyter_config_dirs() -> list[str]:
    try:
        from jupyter_core.paths import jupyter_config_path
    except ImportError:  # pragma: no cover - jupyter_core comes with nbgrader
        return []
    return [os.path.realpath(p) for p in jupyter_config_path()]


def _system_layout(extra_readonly: Iterable[str] = ()) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...],
                                                                  tuple[str, ...]]:
    readonly: list[str] = ["/usr"]
    symlinks: list[tuple[str, str]] = []
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            symlinks.append((os.readlink(top), top))
        elif os.path.isdir(top):
            readonly.append(top)
    readonly += [p for p in ETC_ALLOWLIST if os.path.exists(p)]
    for root in [*_python_roots(), *extra_readonly]:
        if os.path.exists(root) and not any(_under(root, r) for r in readonly):
            readonly = [r for r in readonly if not _under(r, root)] + [root]
    masked = [d for d in _jupyter_config_dirs()
              if os.path.isdir(d) and any(_under(d, r) and d != r for r in readonly)]
    return tuple(readonly), tuple(symlinks), tuple(masked)


def find_sandbox(limits: Limits | None = None, *, bwrap: str | None = None) -> Sandbox:
    """The sandbox of this machine, checked by starting Python in it; :class:`SandboxUnavailable` if none."""
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"bubblewrap needs Linux, this is {sys.platform}")
    bwrap_path = shutil.which(bwrap or "bwrap")
    if not bwrap_path:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    prlimit = shutil.which("prlimit")
    if not prlimit:
        raise SandboxUnavailable("prlimit (util-linux) is not installed, so no resource limits can be set")
    setpriv = None
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            raise SandboxUnavailable("setpriv (util-linux) is not installed, so root cannot drop its rights "
                                     "inside the sandbox")
    readonly, symlinks, masked = _system_layout()
    sandbox = Sandbox(bwrap=bwrap_path, prlimit=prlimit, setpriv=setpriv, readonly=readonly,
                      symlinks=symlinks, masked=masked, limits=limits or Limits())
    _smoke_test(sandbox)
    return sandbox


def _smoke_test(sandbox: Sandbox) -> None:
    """Start Python in the sandbox once: a kernel that cannot start would otherwise fail every submission."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="spm-sandbox-check-") as tmp:
        rundir, workdir = os.path.join(tmp, "run"), os.path.join(tmp, "work")
        os.makedirs(os.path.join(rundir, "home"))
        os.mkdir(workdir)
        sandbox.chown_for_sandbox(rundir, workdir)
        probe = "import os, socket; assert os.getuid() != 0; socket.socket().close()"
        argv = sandbox.command([sys.executable, "-c", probe], workdir=workdir, inside=workdir, rundir=rundir,
                               env=os.environ)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"bubblewrap did not start ({exc})") from None
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise SandboxUnavailable(f"bubblewrap could not start Python in a sandbox "
                                     f"({lines[-1] if lines else f'exit code {done.returncode}'})")
