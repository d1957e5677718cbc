"""JupyterHub pieces for running spm-training on one server: who is a trainer, which course they
grade, and what each single-user server gets.

The operating system is the one source of truth about people. A user's Unix groups decide both what
the hub lets them do and what the file system lets them read:

- ``trainers`` (configurable): may open formgrader and nbgrader's authoring tools;
- ``formgrade-<course>``: trains that course; owns its course folder and its exchange folder;
- ``nbgrader-<course>``: a rep enrolled in that course (nbgrader's own naming, which its JupyterHub
  plugin reads to list a rep's courses).

The hub mirrors these groups (``manage_groups``) at every login and before every spawn, so an admin
changes membership with ``usermod`` and nothing else.
"""

from __future__ import annotations

import grp
import html
import os
import pwd
import sys
from collections.abc import Callable, Iterable

from jupyterhub.auth import PAMAuthenticator
from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Unicode, default
from traitlets.config import Configurable

COURSE_GROUP_PREFIXES = ("nbgrader-", "formgrade-")
TRAINER_COURSE_PREFIX = "formgrade-"
REP_COURSE_PREFIX = "nbgrader-"

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

    @default("jupyter_config_dir")
    def _jupyter_config_dir(self) -> str:
        return os.path.join(os.path.dirname(os.path.abspath(__file__)), "jupyter")


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


def hub_groups(os_groups: Iterable[str], trainers_group: str) -> list[str]:
    """The groups the hub mirrors: the trainers group and the per-course groups, nothing else."""
    return sorted(g for g in os_groups if g == trainers_group or g.startswith(COURSE_GROUP_PREFIXES))


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

    def groups_of(self, username: str) -> list[str]:
        return hub_groups(system_groups(username), self.layout.trainers_group)

    async def authenticate(self, handler, data):  # noqa: ANN001, ANN201 - JupyterHub's signature
        username = await super().authenticate(handler, data)
        if username is None:
            return None
        return {"name": username, "groups": self.groups_of(username)}

    async def refresh_user(self, user, handler=None):  # noqa: ANN001, ANN201
        try:
            groups = self.groups_of(user.name)
        except KeyError:  # the account was removed: log them out
            return False
        if not self.check_allowed(user.name, {"groups": groups}):  # no longer trains nor enrolled: log them out
            return False
        return {"name": user.name, "groups": groups}

    def check_allowed(self, username: str, authentication: dict | None = None) -> bool:
        groups = (authentication or {}).get("groups")
        if groups is None:
            try:
                groups = self.groups_of(username)
            except KeyError:
                return False
        return bool(groups) or super().check_allowed(username, authentication)


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
