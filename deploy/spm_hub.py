"""JupyterHub pieces for running spm-training on one server: who is a trainer, which course they
grade, and what each single-user server gets.

The operating system is the one source of truth about people. A user's Unix groups decide both what
the hub lets them do and what the file system lets them read:

- ``trainers`` (configurable): may open formgrader and nbgrader's authoring tools;
- ``formgrade-<course>``: trains that course; owns its course folder and its exchange folder;
- ``nbgrader-<course>``: a rep enrolled in that course (nbgrader's own naming, which its JupyterHub
  plugin reads to list a rep's courses);
- ``spm-ops`` (configurable): sales operations, who upload rosters, KPI files and CRM exports and
  start syncs through the ``spm`` service, without being trainers.

The hub mirrors these groups (``manage_groups``) at every login and before every spawn, so an admin
changes membership with ``usermod`` and nothing else.

Managers are the one exception: their Unix account needs no group at all. The roster of a course
names each team's manager (``manager_login``), so the hub reads the course stores at every login and
mirrors a ``spm-managers`` group for them. They get the ``spm`` service only, no JupyterLab server of
their own (see :func:`may_run_server`).
"""

from __future__ import annotations

import grp
import html
import importlib.util
import os
import pwd
import sys
from collections.abc import Callable, Iterable
from datetime import date

from jupyterhub.auth import PAMAuthenticator
from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Integer, Unicode, default
from traitlets.config import Configurable

COURSE_GROUP_PREFIXES = ("nbgrader-", "formgrade-")
TRAINER_COURSE_PREFIX = "formgrade-"
REP_COURSE_PREFIX = "nbgrader-"

SERVICE_NAME = "spm"
#: seconds the hub waits for the spm service to answer when it starts
SERVICE_START_TIMEOUT = 120
#: the scopes the spm service reads from a user's token (spm_training/serve/access.py)
ORGANISATION_SCOPE = "custom:spm:organisation"
COURSE_SCOPE = "custom:spm:course"

# Trainers share course folders with each other, so what they create stays writable by their group;
# reps share nothing, so what they create is theirs alone.
TRAINER_UMASK = 0o007
REP_UMASK = 0o077


class SpmHub(Configurable):
    """Where the hub keeps what nbgrader and spm share. Set as ``c.SpmHub.<name>``."""

    exchange_root = Unicode("/srv/spm/exchange", help="nbgrader's exchange folder (mode 1777).").tag(config=True)
    courses_root = Unicode("/srv/spm/courses", help="One course folder per course id, as add-course.sh makes them."
                           ).tag(config=True)
    trainers_group = Unicode("trainers", help="The Unix group whose members may open formgrader.").tag(config=True)
    jupyter_config_dir = Unicode(help="The folder holding the common/, trainer/ and rep/ Jupyter config folders."
                                 ).tag(config=True)
    user_environment = Unicode(sys.prefix, help="The Python environment (JupyterLab, nbgrader, spm) that users' "
                               "servers, terminals and kernels run from; by default the hub's own.").tag(config=True)

    ops_group = Unicode("spm-ops", help="The Unix group of sales operations: they upload and sync through the spm "
                        "service, with no trainer rights.").tag(config=True)
    managers_group = Unicode("spm-managers", help="The hub group mirrored for every login that a course roster "
                             "names as a team's manager_login (not a Unix group).").tag(config=True)
    service_course = Unicode("", help="The course whose store the spm service serves (a folder under courses_root); "
                             "empty: no spm service.").tag(config=True)
    service_user = Unicode("spm", help="The system account the spm service runs as: a member of the course's "
                           "trainers group (formgrade-<course>), so that it may write the store and read the "
                           "gradebook's address, and nothing else.").tag(config=True)
    service_port = Integer(10101, help="The loopback port the spm service listens on (the hub's proxy forwards "
                           "/services/spm/ to it).").tag(config=True)
    book_root = Unicode("/srv/spm/checkout", help="A checkout of the repository with the book built in "
                        "_build/html (jupyter-book build .): the service serves it at /services/spm/book/, and "
                        "reads kpis.yml and spm.yml there.").tag(config=True)
    sync_every_minutes = Integer(60, help="How often the spm service syncs the store from the course's gradebook "
                                 "(0: never; ops can still start a sync from the service).").tag(config=True)

    @default("jupyter_config_dir")
    def _jupyter_config_dir(self) -> str:
        return os.path.join(os.path.dirname(os.path.abspath(__file__)), "jupyter")

    def store_of(self, course: str) -> str:
        return os.path.join(self.courses_root, course, "spm.db")


def system_groups(username: str) -> set[str]:
    """The names of every Unix group the user is in, their primary group included."""
    entry = pwd.getpwnam(username)
    names = set()
    for gid in os.getgrouplist(username, entry.pw_gid):
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:  # a gid without a name in /etc/group: nothing to mirror
            continue
    return names


def hub_groups(os_groups: Iterable[str], trainers_group: str, also: Iterable[str] = ()) -> list[str]:
    """The groups the hub mirrors: the trainers group, the per-course groups and those named in
    ``also`` (the ops group), nothing else."""
    kept = {trainers_group, *also}
    return sorted(g for g in os_groups if g in kept or g.startswith(COURSE_GROUP_PREFIXES))


def may_run_server(groups: Iterable[str], trainers_group: str) -> bool:
    """Whether the user gets a JupyterLab server: trainers and reps enrolled in a course do.

    Managers (and ops people who are neither) get the spm service only. A server is a shell on the
    hub's machine under their own account, with the platform's environment and nbgrader's exchange;
    a manager needs none of that to read their team's pages, and every account without one is one
    less way into the machine.
    """
    groups = list(groups)
    return is_trainer(groups, trainers_group) or bool(courses_enrolled(groups))


SERVER_REFUSED = ("{name} has no JupyterLab server on this hub: managers and sales operations use the spm "
                  "service at {url}. Ask an admin to add you to a course group if you take a course.")


def service_prefix(base_url: str = "/") -> str:
    """Where the hub's proxy serves the spm service: ``/services/spm/`` under the hub's base URL."""
    return f"{base_url.rstrip('/')}/services/{SERVICE_NAME}/"


def custom_scopes() -> dict[str, dict[str, str]]:
    """``c.JupyterHub.custom_scopes``: what the spm service lets each scope do."""
    return {
        ORGANISATION_SCOPE: {"description": "Everything in the spm service: every team's and rep's pages, "
                                            "uploads of rosters, KPI files and CRM exports, syncs from the gradebook."},
        COURSE_SCOPE: {"description": "Every page of the spm service for the course (teams, reps, items), "
                                      "without uploads."},
    }


def spm_service(layout: SpmHub) -> dict:
    """The hub-managed service ``spm`` (``spm serve --auth hub``) for ``layout.service_course``.

    The hub starts it as ``layout.service_user`` from the platform's environment, in the book's
    checkout (so /services/spm/book/ is the built book), on the store and gradebook of the course,
    and gives it JUPYTERHUB_SERVICE_URL (where to listen) and JUPYTERHUB_SERVICE_PREFIX (the path
    it serves under). Its OAuth tokens may carry the two custom scopes, so the service sees whether a
    user is ops or a trainer; groups and the name come with every token.
    """
    course_dir = os.path.join(layout.courses_root, layout.service_course)
    store = layout.store_of(layout.service_course)
    bin_dir = os.path.join(layout.user_environment, "bin")
    return {
        "name": SERVICE_NAME,
        "url": f"http://127.0.0.1:{layout.service_port}",
        "command": [os.path.join(bin_dir, "spm"), "--db", store, "--course", course_dir, "serve", "--auth", "hub",
                    "--sync-every", str(layout.sync_every_minutes)],
        "cwd": layout.book_root,
        "user": layout.service_user,
        "environment": {
            "PATH": os.pathsep.join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
            "SPM_DB": store,
            "SPM_COURSE": layout.service_course,
        },
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [ORGANISATION_SCOPE, COURSE_SCOPE],
        "display": True,
        # The hub waits this long for the service to answer when it starts, and stops if it never does:
        # a busy machine can take a while to import the platform.
        "timeout": SERVICE_START_TIMEOUT,
    }


def spm_roles(layout: SpmHub) -> list[dict]:
    """The roles behind the service's scopes, granted to groups: ops get the organisation, the
    course's trainers (``formgrade-<course>``) the course. Access to the service itself goes to
    every user (``extra_user_scopes``); managers and reps then see what the roster gives them."""
    return [
        {"name": "spm-ops", "description": "Sales operations: uploads and syncs in the spm service",
         "scopes": [ORGANISATION_SCOPE], "groups": [layout.ops_group]},
        {"name": "spm-course-trainers", "description": "Trainers of the course the spm service serves",
         "scopes": [COURSE_SCOPE], "groups": [f"{TRAINER_COURSE_PREFIX}{layout.service_course}"]},
    ]


def services_and_roles(config, culler: bool = True) -> tuple[list[dict], list[dict]]:  # noqa: ANN001
    """``c.JupyterHub.services`` and ``load_roles`` for the settings in ``config`` (the hub's ``c``):
    the spm service when a course is set, and jupyterhub-idle-culler when it is installed (and
    ``culler``), stopping servers after an hour without activity."""
    layout = SpmHub(config=config)
    services = [spm_service(layout)] if layout.service_course else []
    roles = spm_roles(layout) if layout.service_course else []
    if culler and importlib.util.find_spec("jupyterhub_idle_culler") is not None:
        services.append({"name": "idle-culler",
                         "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]})
        roles.append({"name": "idle-culler", "services": ["idle-culler"],
                      "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]})
    return services, roles


def default_url(handler) -> str:  # noqa: ANN001 - a JupyterHub BaseHandler
    """``c.JupyterHub.default_url``: people without a server of their own (managers, ops) land on the
    spm service; everyone else on their server, as JupyterHub does by default ('')."""
    user = handler.current_user
    if user is None:
        return ""
    layout = SpmHub(config=handler.settings.get("config"))
    if may_run_server([g.name for g in user.groups], layout.trainers_group):
        return ""
    return service_prefix(handler.base_url)


def roster_logins(courses_root: str, log: Callable[[str], None] | None = None,
                  today: date | None = None) -> dict[str, set[str]]:
    """Every login the course rosters name, with what it is there: ``manager`` (a team's
    ``manager_login``) and ``rep`` (a rep's login, unless they left on or before ``today``).

    Each course's store (``<courses_root>/<course>/spm.db``) is read read-only through the platform's
    public API. A course without a store yet is skipped; a store that cannot be read is skipped and
    reported through ``log`` (one line), so that one broken course never locks everyone out.
    """
    from spm_training import SpmError, logins, open_store

    found: dict[str, set[str]] = {}
    day = (today or date.today()).isoformat()
    try:
        courses = sorted(os.listdir(courses_root))
    except OSError:
        return found
    for course in courses:
        path = os.path.join(courses_root, course, "spm.db")
        try:
            if not os.path.isfile(path) or os.path.getsize(path) == 0:
                continue
            with open_store(path, write=False) as store:
                rows = logins(store)
        except (SpmError, OSError) as exc:
            if log is not None:
                log(f"spm: the roster of course {course} was not read: {exc}")
            continue
        for row in rows:
            if row.get("manager_login"):
                found.setdefault(row["manager_login"], set()).add("manager")
            if row.get("login") and not (row.get("left_on") and str(row["left_on"]) <= day):
                found.setdefault(row["login"], set()).add("rep")
    return found


def courses_trained(groups: Iterable[str]) -> list[str]:
    return sorted(g[len(TRAINER_COURSE_PREFIX):] for g in groups if g.startswith(TRAINER_COURSE_PREFIX))


def courses_enrolled(groups: Iterable[str]) -> list[str]:
    return sorted(g[len(REP_COURSE_PREFIX):] for g in groups if g.startswith(REP_COURSE_PREFIX))


def is_trainer(groups: Iterable[str], trainers_group: str) -> bool:
    return trainers_group in set(groups)


def choose_course(groups: Iterable[str], requested: str | None) -> str | None:
    """The course a trainer's server grades: the one asked for, else their first. None if they
    train none. Asking for a course they do not train is refused, not silently replaced."""
    trained = courses_trained(groups)
    if requested:
        if requested not in trained:
            raise ValueError(f"you do not train the course {requested!r}; your courses: {', '.join(trained) or 'none'}")
        return requested
    return trained[0] if trained else None


def server_environment(groups: Iterable[str], layout: SpmHub, course: str | None, prefix: str) -> dict[str, str]:
    """What a single-user server needs in its environment, by role.

    ``JUPYTER_CONFIG_PATH`` puts the role's folder before the common one, and both before the
    environment's own config, so a rep's server starts with formgrader switched off.
    """
    groups = list(groups)
    trainer = is_trainer(groups, layout.trainers_group)
    role = "trainer" if trainer else "rep"
    env = {
        "JUPYTER_CONFIG_PATH": os.pathsep.join([os.path.join(layout.jupyter_config_dir, role),
                                                os.path.join(layout.jupyter_config_dir, "common")]),
        "SPM_EXCHANGE": layout.exchange_root,
        # nbgrader and spm run helper programs (alembic, jupyter) from PATH; the platform's
        # environment comes first so that terminals and kernels find them.
        "PATH": os.pathsep.join([os.path.join(prefix, "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
    }
    if trainer and course:
        env["SPM_COURSE"] = course
        env["SPM_DB"] = os.path.join(layout.courses_root, course, "spm.db")
    return env


class SystemGroupsAuthenticator(PAMAuthenticator):
    """PAM login for local users, allowed in when they are a trainer or in a course group, with
    their Unix groups mirrored into the hub's groups."""

    @default("manage_groups")
    def _manage_groups(self) -> bool:
        return True

    @default("refresh_pre_spawn")
    def _refresh_pre_spawn(self) -> bool:
        return True

    @default("any_allow_config")
    def _any_allow_config(self) -> bool:
        # Group membership is the allow rule (check_allowed below), which JupyterHub cannot see.
        return True

    @property
    def layout(self) -> SpmHub:
        return SpmHub(config=self.config)

    def roster_roles(self, username: str) -> set[str]:
        """What the course rosters make of this login: {'manager', 'rep'}, either or neither."""
        return roster_logins(self.layout.courses_root, self.log.warning).get(username, set())

    def groups_of(self, username: str) -> list[str]:
        """The user's Unix groups that the hub mirrors (trainers, course groups, ops)."""
        layout = self.layout
        return hub_groups(system_groups(username), layout.trainers_group, (layout.ops_group,))

    def _authentication(self, username: str) -> dict:
        """The hub's view of a user: their mirrored groups, plus the managers group when a course
        roster names them as a team's manager."""
        groups = self.groups_of(username)
        if "manager" in self.roster_roles(username):
            groups = sorted({*groups, self.layout.managers_group})
        return {"name": username, "groups": groups}

    async def authenticate(self, handler, data):  # noqa: ANN001, ANN201 - JupyterHub's signature
        username = await super().authenticate(handler, data)
        if username is None:
            return None
        return self._authentication(username)

    async def refresh_user(self, user, handler=None):  # noqa: ANN001, ANN201
        try:
            authentication = self._authentication(user.name)
        except KeyError:  # the account was removed: log them out
            return False
        if not self.check_allowed(user.name, authentication):  # no longer trains, enrolled nor named: log out
            return False
        return authentication

    def check_allowed(self, username: str, authentication: dict | None = None) -> bool:
        groups = (authentication or {}).get("groups")
        if groups is None:
            try:
                groups = self._authentication(username)["groups"]
            except KeyError:
                return False
        if groups:
            return True
        # A rep whom a roster names but who is in no course group logs in to read their own pages.
        return "rep" in self.roster_roles(username) or super().check_allowed(username, authentication)


def _set_umask_then(preexec: Callable[[], None], umask: int, link: tuple[str, str] | None) -> Callable[[], None]:
    def run() -> None:
        preexec()  # switch to the user first: everything below happens with their rights
        os.umask(umask)
        if link is not None:
            _link_course(*link)
    return run


def _link_course(target: str, link: str) -> None:
    """~/courses/<course> -> the course folder. formgrader needs the course inside the server's
    root folder; made as the user, so a planted symlink in their home cannot redirect it."""
    try:
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.islink(link) and os.readlink(link) == target:
            return
        if os.path.islink(link):
            os.unlink(link)
        if not os.path.exists(link):
            os.symlink(target, link)
    except OSError:
        # A home the user has rearranged must not stop their server; formgrader will then say that
        # the course is not inside the server's folder.
        pass


class CourseSpawner(LocalProcessSpawner):
    """The local-process spawner, with the role's environment, umask and course link."""

    @property
    def layout(self) -> SpmHub:
        return SpmHub(config=self.config)

    def _group_names(self) -> list[str]:
        return sorted(g.name for g in self.user.groups)

    @default("cmd")
    def _cmd_default(self) -> list[str]:
        return [os.path.join(self.layout.user_environment, "bin", "jupyterhub-singleuser")]

    @default("options_form")
    def _options_form_default(self) -> Callable:
        return _course_form

    @default("options_from_form")
    def _options_from_form_default(self) -> Callable:
        return _course_from_form

    def _course(self) -> str | None:
        groups = self._group_names()
        if not is_trainer(groups, self.layout.trainers_group):
            return None
        return choose_course(groups, (self.user_options or {}).get("course"))

    async def start(self):  # noqa: ANN201 - JupyterHub's signature
        if not may_run_server(self._group_names(), self.layout.trainers_group):
            from tornado import web

            base = self.hub.base_url.rsplit("hub/", 1)[0] or "/"
            refused = web.HTTPError(403, "no server for this user")
            refused.jupyterhub_message = SERVER_REFUSED.format(name=self.user.name, url=service_prefix(base))
            raise refused
        return await super().start()

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(server_environment(self._group_names(), self.layout, self._course(), self.layout.user_environment))
        return env

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        groups = self._group_names()
        trainer = is_trainer(groups, self.layout.trainers_group)
        course = self._course() if trainer else None
        link = None
        if course:
            home = pwd.getpwnam(name).pw_dir
            link = (os.path.join(self.layout.courses_root, course), os.path.join(home, "courses", course))
        return _set_umask_then(super().make_preexec_fn(name), TRAINER_UMASK if trainer else REP_UMASK, link)


def _course_form(spawner: CourseSpawner) -> str:
    """A course picker, shown only to a trainer of more than one course."""
    groups = spawner._group_names()
    courses = courses_trained(groups)
    if not is_trainer(groups, spawner.layout.trainers_group) or len(courses) < 2:
        return ""
    options = "".join(f'<option value="{html.escape(c)}">{html.escape(c)}</option>' for c in courses)
    return (f'<label for="spm-course">Course to grade</label>'
            f'<select class="form-control" id="spm-course" name="course">{options}</select>')


def _course_from_form(formdata: dict[str, list[str]]) -> dict[str, str]:
    chosen = (formdata.get("course") or [""])[0]
    return {"course": chosen} if chosen else {}
