"""Prepare nbgrader's exchange for every course the hub knows, so that a new course needs no hand edit.

The spm-exchange-prepare CronJob (deploy/z2jh/jobs.yaml) runs this as root every ten minutes: it asks the
hub for its groups (with the token of the hub service spm-exchange-prepare, which may only list group
names), takes every formgrade-<course> group as a course, and runs exchange-volume.sh for them with each
course's numeric group, computed as spm_k8s.course_gid does (tests/deploy/test_z2jh.py checks they agree).
It prints one line per course and fails, in one line, when the hub cannot be asked or two courses would
share a numeric group.

    JUPYTERHUB_API_URL=http://hub:8081/hub/api JUPYTERHUB_API_TOKEN=... python exchange-prepare.py EXCHANGE
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.request

TRAINER_PREFIX = "formgrade-"
COURSE_GID_BASE = 3_000_000
VOLUME_SCRIPT = os.environ.get("SPM_EXCHANGE_VOLUME", "/usr/local/bin/spm-exchange-volume")


def course_gid(course: str) -> int:
    return COURSE_GID_BASE + int(hashlib.sha256(course.encode()).hexdigest()[:6], 16)


def hub_groups(api_url: str, token: str) -> list[str]:
    names: list[str] = []
    offset = 0
    while True:
        request = urllib.request.Request(f"{api_url.rstrip('/')}/groups?offset={offset}&limit=200",
                                         headers={"Authorization": f"token {token}",
                                                  "Accept": "application/jupyterhub-pagination+json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.load(response)
        items = page["items"] if isinstance(page, dict) else page
        names += [group["name"] for group in items]
        following = page.get("_pagination", {}).get("next") if isinstance(page, dict) else None
        if not following:
            return names
        offset = following["offset"]


def courses_and_gids(groups: list[str]) -> list[tuple[str, int]]:
    courses = sorted(g[len(TRAINER_PREFIX):] for g in groups if g.startswith(TRAINER_PREFIX))
    pairs = [(course, course_gid(course)) for course in courses]
    seen: dict[int, str] = {}
    for course, gid in pairs:
        if gid in seen:
            raise SystemExit(f"exchange-prepare: courses {seen[gid]} and {course} would share the numeric group "
                             f"{gid}; rename one of them in the identity provider")
        seen[gid] = course
    return pairs


def main(exchange: str) -> None:
    try:
        groups = hub_groups(os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"])
    except (KeyError, OSError, ValueError) as exc:
        raise SystemExit(f"exchange-prepare: cannot list the hub's groups ({exc}); check the job's "
                         "JUPYTERHUB_API_URL and the spm-exchange-prepare service token") from None
    pairs = courses_and_gids(groups)
    if not pairs:
        print("exchange-prepare: no course groups (formgrade-<course>) on the hub yet")
        return
    result = subprocess.run([VOLUME_SCRIPT, exchange, *(f"{course}={gid}" for course, gid in pairs)])
    sys.exit(result.returncode)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: exchange-prepare.py EXCHANGE")
    main(sys.argv[1])
