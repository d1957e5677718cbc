"""The whole single-server deployment of deploy/, on this machine, for as long as a ``with`` block runs.

``deployed()`` creates a temporary root (world-searchable, so the hub's users can reach what is in
it), a trainers group, the course with deploy/add-course.sh and its PostgreSQL gradebook, a second
course with a SQLite gradebook (several cohorts on one hub), two trainers (one of them trains both
courses), reps with their own JupyterLab servers, and simulated reps who log in and work from the
command line only. Everything it made is removed at the end, users and groups included.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import postgres, system
from .book import build_checkout
from .hub import DEPLOY, ROOT, Hub, User, find_proxy
from .hub import why_unavailable as hub_unavailable
from .userenv import environment_for

COURSE = "spmtest-onboarding"
OTHER_COURSE = "spmtest-cohort-b"
TRAINERS_GROUP = f"{system.PREFIX}trainers"
OPS_GROUP = f"{system.PREFIX}ops"
SERVICE_USER = f"{system.PREFIX}svc"
SOURCE = ROOT / "assessments"
#: the roster's two teams: the first rep (and the second) in Closers, the others in Gardeners
CLOSERS, GARDENERS = "Closers", "Gardeners"
CLOSERS_MANAGER, GARDENERS_MANAGER = f"{system.PREFIX}mgr1", f"{system.PREFIX}mgr2"


def why_unavailable() -> str | None:
    """None if the deployment can run here, else why not, in one line."""
    if os.geteuid() != 0:
        return "needs root: it creates Unix users, and the hub switches to them to run their servers"
    if missing := system.missing_tools():
        return f"missing {', '.join(missing)} (Debian's passwd and util-linux packages)"
    return hub_unavailable() or postgres.why_unavailable()


def spm_hub():  # noqa: ANN201 - the deploy/spm_hub module
    if str(DEPLOY) not in sys.path:
        sys.path.insert(0, str(DEPLOY))
    import spm_hub

    return spm_hub


@dataclass
class Deployment:
    root: Path
    hub: Hub
    gradebook_url: str
    user_environment: Path
    trainers: list[User]
    reps: list[User]
    simulated: list[User]
    timings: dict[str, float] = field(default_factory=dict)
    #: the Closers' manager: a Unix account in no group, whom only the roster names
    manager: User | None = None
    #: sales operations: a Unix account in the ops group only
    ops: User | None = None
    #: an account in no group and no roster: the hub must refuse it
    outsider: User | None = None

    @property
    def course_root(self) -> Path:
        return self.hub.courses / COURSE

    @property
    def exchange_course(self) -> Path:
        return self.hub.exchange / COURSE

    def cli_environment(self, user: User) -> dict[str, str]:
        """What a rep's JupyterLab terminal has: the hub's environment for their server, with their token."""
        hub_module = spm_hub()
        layout = hub_module.SpmHub(exchange_root=str(self.hub.exchange), courses_root=str(self.hub.courses),
                                   trainers_group=TRAINERS_GROUP,
                                   jupyter_config_dir=str(DEPLOY / "jupyter"),
                                   user_environment=str(self.user_environment))
        groups = hub_module.hub_groups(hub_module.system_groups(user.name), TRAINERS_GROUP)
        env = hub_module.server_environment(groups, layout, None, str(self.user_environment))
        env.update({"JUPYTERHUB_USER": user.name, "JUPYTERHUB_API_TOKEN": user.token,
                    "JUPYTERHUB_API_URL": self.hub.api_url})
        return env

    def python(self) -> str:
        return str(self.user_environment / "bin" / "python")

    def team_of(self, user: User) -> str:
        return CLOSERS if user in self.reps[:2] else GARDENERS

    def roster_csv(self) -> str:
        """The roster: each rep's hub login, and each team's manager by name and by hub login."""
        lines = ["id,name,email,team,manager,role,hire_date,login,manager_login"]
        managers = {CLOSERS: ("Casey Closer", CLOSERS_MANAGER), GARDENERS: ("Gale Gardener", GARDENERS_MANAGER)}
        for number, user in enumerate(self.reps + self.simulated, start=1):
            team = self.team_of(user)
            manager, login = managers[team]
            lines.append(f"{user.name},Rep {number:02d} Test,{user.name}@example.com,{team},{manager},SDR,2026-07-01,"
                         f"{user.name},{login}")
        return "\n".join(lines) + "\n"


def _timed(timings: dict[str, float], name: str, step: Callable[[], object]) -> object:
    started = time.monotonic()
    result = step()
    timings[name] = time.monotonic() - started
    return result


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """The accounts have fixed names, so two runs on one machine (the suite and the benchmark, say)
    take turns rather than delete each other's users."""
    with open(os.path.join(tempfile.gettempdir(), "spm-hub-test.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def deployed(reps: int = 3, simulated: int = 0) -> Iterator[Deployment]:
    with _one_at_a_time(), _deployed(reps, simulated) as deployment:
        yield deployment


@contextmanager
def _deployed(reps: int, simulated: int) -> Iterator[Deployment]:
    timings: dict[str, float] = {}
    # /var/tmp rather than /tmp: it is on disk, like the test environment, so the users' twin of that
    # environment (userenv.py) is made of hard links, where a /tmp in memory would force a full copy.
    root = Path(tempfile.mkdtemp(prefix="spm-hub-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    root.chmod(0o755)
    homes = root / "home"
    homes.mkdir(mode=0o755)
    homes.chmod(0o755)
    accounts: list[str] = []
    groups = [TRAINERS_GROUP, OPS_GROUP, *(f"{kind}-{course}" for course in (COURSE, OTHER_COURSE)
                                           for kind in ("formgrade", "nbgrader"))]
    for stale in (f"{system.PREFIX}trainer1", f"{system.PREFIX}trainer2"):
        system.remove_user(stale)  # left by an interrupted run: its home is gone with its temporary root
    try:
        with ExitStack() as stack:
            pg = stack.enter_context(postgres.Cluster())
            url = pg.create_database("spmtest_gradebook", "spmtest_grader")
            system.create_group(TRAINERS_GROUP)
            system.create_group(OPS_GROUP)
            for course, extra in ((COURSE, ["--gradebook-url", url]), (OTHER_COURSE, [])):
                made = subprocess.run([str(DEPLOY / "add-course.sh"), course, str(SOURCE), *extra,
                                       "--exchange", str(root / "exchange"), "--courses", str(root / "courses"),
                                       "--trainers", TRAINERS_GROUP], capture_output=True, text=True)
                if made.returncode != 0:
                    raise RuntimeError(f"add-course.sh {course} failed:\n{made.stdout}{made.stderr}")

            def account(name: str, member_of: list[str]) -> system.Account:
                system.remove_user(name)
                made = system.create_user(name, homes, member_of)
                accounts.append(name)
                return made

            trainer_accounts = [
                account(f"{system.PREFIX}trainer1",
                        [TRAINERS_GROUP, f"formgrade-{COURSE}", f"formgrade-{OTHER_COURSE}"]),
                account(f"{system.PREFIX}trainer2", [TRAINERS_GROUP, f"formgrade-{COURSE}"]),
            ]
            rep_accounts = [account(f"{system.PREFIX}rep{i}", [f"nbgrader-{COURSE}"]) for i in range(1, reps + 1)]
            sim_accounts = [account(f"{system.PREFIX}sim{i:02d}", [f"nbgrader-{COURSE}"])
                            for i in range(1, simulated + 1)]
            # The spm service's own account (in the course's trainers group: it writes the store), a
            # manager and an outsider in no group at all, and sales operations in the ops group only.
            account(SERVICE_USER, [f"formgrade-{COURSE}"])
            manager_account = account(CLOSERS_MANAGER, [])
            outsider_account = account(f"{system.PREFIX}nobody", [])
            ops_account = account(f"{system.PREFIX}ops1", [OPS_GROUP])
            checkout = build_checkout(root)
            someone = (rep_accounts + sim_accounts + trainer_accounts)[0].name
            environment, why = _timed(timings, "python environment for the users",
                                      lambda: environment_for(someone, root))
            if environment is None:
                raise RuntimeError(why)
            hub = stack.enter_context(Hub(root, TRAINERS_GROUP, find_proxy() or "", environment,
                                          service_course=COURSE, service_user=SERVICE_USER, ops_group=OPS_GROUP,
                                          book_root=checkout))
            trainers = [User(hub, a) for a in trainer_accounts]
            rep_users = [User(hub, a) for a in rep_accounts]
            sims = [User(hub, a) for a in sim_accounts]
            everyone = trainers + rep_users + sims

            def log_in(user: User) -> None:
                user.login()
                user.create_token()

            with ThreadPoolExecutor(8) as pool:
                _timed(timings, f"{len(everyone)} logins (PAM) and tokens",
                       lambda: list(pool.map(log_in, everyone)))
            # Trainer 1 trains two courses and picks this one, as on the hub's spawn page.
            trainers[0].start_server({"course": COURSE})
            for user in trainers[1:] + rep_users:
                user.start_server()

            def wait_all() -> None:
                for user in trainers + rep_users:
                    user.wait_ready()

            _timed(timings, f"{len(trainers) + len(rep_users)} JupyterLab servers started", wait_all)
            yield Deployment(root, hub, url, environment, trainers, rep_users, sims, timings,
                             manager=User(hub, manager_account), ops=User(hub, ops_account),
                             outsider=User(hub, outsider_account))
    finally:
        for name in accounts:
            system.remove_user(name)
        for group in groups:
            system.remove_group(group)
        shutil.rmtree(root, ignore_errors=True)
