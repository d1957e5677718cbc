"""spm-training on Zero to JupyterHub: the hub-side rules of deploy/z2jh/values.yaml, in a file of their own.

values.yaml mounts this file and deploy/spm_hub.py beside the chart's jupyterhub_config.py (hub.extraFiles)
and calls :func:`configure` from hub.extraConfig with the ``custom.spm`` section of the values. Nothing here
names a course: the identity provider's groups (``formgrade-<course>`` for its trainers, ``nbgrader-<course>``
for its reps) are mirrored into the hub at every login and refreshed every :data:`AUTH_REFRESH_SECONDS`,
and everything per course is derived from them: who may log in, each course's numeric group on the shared
volumes (:func:`course_gid`, which deploy/z2jh/jobs.yaml computes the same way), the passwd entries a pod
needs. A new course is a pair of groups in the identity provider, and no edit here or in the values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import spm_hub

#: the first numeric group of the course groups; a course's gid is this plus 24 bits of its name's hash
COURSE_GID_BASE = 3_000_000
#: how often the hub asks the identity provider again for a user's groups (seconds), instead of only at
#: login: a rep removed from a course loses it within this time, not when their 14-day cookie runs out
AUTH_REFRESH_SECONDS = 900
#: how long a login lasts without activity (days); the chart's JupyterHub default is 14
COOKIE_MAX_AGE_DAYS = 1

PASSWD_VOLUME = "spm-passwd"
PASSWD_DIR = "/var/run/spm-passwd"


def course_gid(course: str) -> int:
    """The numeric group of a course's trainers on the shared volumes: stable, and the same for every
    pod and job without a table to keep (collisions across 16 million values are checked by the guide's
    monitoring step, spm-exchange-prepare)."""
    return COURSE_GID_BASE + int(hashlib.sha256(course.encode()).hexdigest()[:6], 16)


def may_log_in(groups: Iterable[str], settings: Mapping[str, Any]) -> bool:
    """Trainers, reps of any course, sales ops and managers may log in; anyone else is refused."""
    groups = set(groups)
    kept = {settings["trainersGroup"], settings["opsGroup"], settings["managersGroup"], *settings["adminGroups"]}
    return bool(groups & kept) or any(g.startswith(spm_hub.COURSE_GROUP_PREFIXES) for g in groups)


def may_run_server(groups: Iterable[str], settings: Mapping[str, Any]) -> bool:
    """Trainers and enrolled reps get a JupyterLab pod; managers and ops use the spm service only."""
    return spm_hub.may_run_server(groups, settings["trainersGroup"])


def uid_of(user_id: int, settings: Mapping[str, Any]) -> int:
    """A uid per user, stable (the hub's user id), never the image's shared 1000: the exchange's modes
    are what keep one rep's submission from another's."""
    return int(settings["firstUid"]) + int(user_id)


def course_members(user: Any, course: str) -> list[tuple[str, int]]:
    """(hub name, hub user id) of the reps enrolled in ``course`` (members of nbgrader-<course>)."""
    from jupyterhub import orm

    group = orm.Group.find(user.db, f"{spm_hub.REP_COURSE_PREFIX}{course}")
    return sorted((member.name, member.id) for member in (group.users if group else []))


def pod_settings(name: str, user_id: int, groups: Iterable[str], course: str | None,
                 members: Iterable[tuple[str, int]], settings: Mapping[str, Any]) -> dict[str, Any]:
    """What the hub sets on a user's KubeSpawner before it starts the pod, as plain data (tested without a
    cluster): uid and gids, environment, umask, the init container that writes the pod's passwd entry
    (deploy/z2jh/passwd-entry.sh), the volumes, and for trainers the grading profile's resources."""
    groups = sorted(groups)
    trainer = spm_hub.is_trainer(groups, settings["trainersGroup"])
    uid = uid_of(user_id, settings)
    gid = int(settings["usersGid"])
    layout = spm_hub.SpmHub(exchange_root=settings["exchangeRoot"], courses_root=settings["coursesRoot"],
                            trainers_group=settings["trainersGroup"], jupyter_config_dir="/etc/spm/jupyter",
                            user_environment=settings["environment"])
    environment = spm_hub.server_environment(groups, layout, course, settings["environment"])
    home = settings["home"]
    if trainer and course:
        # The store belongs to the spm service (its own ReadWriteOnce volume): a trainer's pod never opens
        # it on the shared course volume. spm grade's records of changed cells go to a store in the home.
        environment["SPM_DB"] = f"{home}/.spm/{course}.db"
    umask = "0007" if trainer else "0077"
    passwd_users = "\n".join(f"{member}:{uid_of(member_id, settings)}" for member, member_id in members)
    init_env = [{"name": "NB_USER", "value": name}, {"name": "NB_HOME", "value": home}]
    if trainer and passwd_users:
        init_env.append({"name": "SPM_PASSWD_USERS", "value": passwd_users})
    init = {
        "name": "passwd-entry",
        "image": settings["image"],
        "command": ["/usr/local/bin/spm-passwd-entry", PASSWD_DIR],
        "env": init_env,
        "securityContext": {"runAsUser": uid, "runAsGroup": gid, "runAsNonRoot": True,
                            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": PASSWD_VOLUME, "mountPath": PASSWD_DIR}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
    }
    volumes = [{"name": PASSWD_VOLUME, "emptyDir": {"sizeLimit": "2Mi"}}]
    mounts = [{"name": PASSWD_VOLUME, "mountPath": "/etc/passwd", "subPath": "passwd", "readOnly": True},
              {"name": PASSWD_VOLUME, "mountPath": "/etc/group", "subPath": "group", "readOnly": True}]
    out: dict[str, Any] = {
        "uid": uid,
        "gid": gid,
        "supplemental_gids": sorted(course_gid(c) for c in spm_hub.courses_trained(groups)) if trainer else [],
        "environment": environment,
        "cmd": ["/bin/sh", "-c", f'umask {umask} && exec jupyterhub-singleuser "$@"', "jupyterhub-singleuser"],
        # spm-service.yaml's spm-trainers-gradebook policy opens the gradebook to trainers' pods only
        "extra_labels": {"spm-training/role": "trainer" if trainer else "rep"},
        "init_containers": [init],
        "volumes": volumes,
        "volume_mounts": mounts,
    }
    if trainer:
        profile = settings["trainerProfile"]
        out.update(cpu_guarantee=profile["cpuGuarantee"], cpu_limit=profile["cpuLimit"],
                   mem_guarantee=profile["memGuarantee"], mem_limit=profile["memLimit"])
        out["environment"]["SPM_GRADE_WORKERS"] = str(profile["gradeWorkers"])
        out["volumes"].append({"name": "spm-courses", "persistentVolumeClaim": {"claimName": "spm-courses"}})
        out["volume_mounts"].append({"name": "spm-courses", "mountPath": settings["coursesRoot"]})
        if course:
            target = f"{settings['coursesRoot']}/{course}"
            out["lifecycle_hooks"] = {"postStart": {"exec": {"command": [
                "sh", "-c", f'mkdir -p "$HOME/courses" && ln -sfn {target} "$HOME/courses/{course}"']}}}
    return out


def pre_spawn_hook(spawner: Any, settings: Mapping[str, Any]) -> None:
    """KubeSpawner.pre_spawn_hook: apply :func:`pod_settings` to the spawner."""
    groups = sorted(g.name for g in spawner.user.groups)
    if not may_run_server(groups, settings):
        raise RuntimeError(spm_hub.SERVER_REFUSED.format(name=spawner.user.name,
                                                         url=spm_hub.service_prefix(settings["baseUrl"])))
    trainer = spm_hub.is_trainer(groups, settings["trainersGroup"])
    course = spm_hub.choose_course(groups, (spawner.user_options or {}).get("course")) if trainer else None
    members = course_members(spawner.user, course) if course else []
    for key, value in pod_settings(spawner.user.name, spawner.user.id, groups, course, members, settings).items():
        if key in ("environment", "extra_labels"):
            # merged: the chart's own labels (network access to the hub) and environment stay
            setattr(spawner, key, {**getattr(spawner, key), **value})
        elif key in ("init_containers", "volumes", "volume_mounts"):
            setattr(spawner, key, [*getattr(spawner, key), *value])
        else:
            setattr(spawner, key, value)


def service_and_roles(settings: Mapping[str, Any]) -> tuple[dict[str, dict], dict[str, dict]]:
    """hub.services and hub.loadRoles as the chart takes them (keyed by name) for the spm service, which
    runs in its own pod (deploy/z2jh/spm-service.yaml) and is registered here with its URL. Managers get
    no role: the service gives them their teams from the roster's manager_login."""
    services = {
        spm_hub.SERVICE_NAME: {
            "url": settings["serviceUrl"],
            "oauth_no_confirm": True,
            "display": True,
            "oauth_client_allowed_scopes": [spm_hub.ORGANISATION_SCOPE, spm_hub.COURSE_SCOPE],
        },
        # the spm-exchange-prepare job reads the course groups with this service's token
        "spm-exchange-prepare": {"display": False},
    }
    roles = {
        "user": {"description": "Everyone's own server, and the spm service (which decides what each sees)",
                 "scopes": ["self", f"access:services!service={spm_hub.SERVICE_NAME}"]},
        "spm-ops": {"description": "Sales operations: every page, uploads and syncs in the spm service",
                    "scopes": [spm_hub.ORGANISATION_SCOPE], "groups": [settings["opsGroup"]]},
        "spm-trainers": {"description": "Trainers: the pages of the courses they train (formgrade-<course>)",
                         "scopes": [spm_hub.COURSE_SCOPE], "groups": [settings["trainersGroup"]]},
        "spm-exchange-prepare": {"description": "Reads the course groups, to prepare their exchange folders",
                                 "scopes": ["list:groups", "read:groups:name"], "services": ["spm-exchange-prepare"]},
    }
    return services, roles


def configure(c: Any, settings: Mapping[str, Any]) -> None:
    """Everything values.yaml's hub.extraConfig sets: the authenticator's rules, group refresh, cookie age,
    custom scopes, the pre-spawn hook and the landing page of people without a server."""
    from oauthenticator.generic import GenericOAuthenticator

    class SpmOAuthenticator(GenericOAuthenticator):  # type: ignore[misc, valid-type]
        """Admits people by their groups' kind (any course group, trainers, ops, managers), so a new course
        needs no allowed_groups entry."""

        async def check_allowed(self, username: str, auth_model: dict | None) -> bool:
            if await super().check_allowed(username, auth_model):
                return True
            # with manage_groups, JupyterHub requires the identity provider's groups in the auth model
            return may_log_in((auth_model or {}).get("groups") or [], settings)

    c.JupyterHub.authenticator_class = SpmOAuthenticator
    c.Authenticator.auth_refresh_age = AUTH_REFRESH_SECONDS
    c.Authenticator.refresh_pre_spawn = True
    c.JupyterHub.cookie_max_age_days = COOKIE_MAX_AGE_DAYS
    c.JupyterHub.custom_scopes = spm_hub.custom_scopes()
    c.JupyterHub.default_url = spm_hub.default_url
    c.KubeSpawner.pre_spawn_hook = lambda spawner: pre_spawn_hook(spawner, settings)
