"""Issue 17: spm-training for a 5,000-rep organisation on Kubernetes, checked without a cluster.

- the store refuses SQLite's write-ahead log on a network or FUSE file system (a fake statfs), unless told;
- a rep's pod runs as a uid with no passwd entry: nbgrader's fetch and submit fail there, and work once
  deploy/z2jh/passwd-entry.sh has written the entry the pod mounts over /etc/passwd (real nbgrader, real
  uids, as root; the mount is a private bind mount, which is what the kubelet's subPath mount does);
- the exchange recipe (deploy/z2jh/exchange-check.sh): the volume keeps the modes nbgrader's exchange
  relies on, and reps cannot read each other's submissions;
- the image: .dockerignore, the lock file, the base image's digest;
- the chart values against the chart's own values.schema.yaml, vendored with its licence, and the hub
  service, roles, groups, profiles and network policy they define; the Kubernetes jobs beside them.

What only a cluster can show is listed in book/guides/kubernetes.md.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from spm_training.cli.main import cli
from spm_training.errors import CatalogError
from spm_training.settings import load_allow_network_filesystem
from spm_training.store import NETWORK_FILESYSTEMS, _statfs_type, network_filesystem, open_store

ROOT = Path(__file__).resolve().parents[2]
Z2JH = ROOT / "deploy" / "z2jh"

ROSTER = ("id,name,email,team,manager,role,hire_date\n"
          "dee,Dee Fox,dee@example.com,North,Ola Berg,AE,2026-03-02\n")
NFS = 0x6969


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


def refusal(db: Path, kind: str) -> str:
    return (f"Error: {db}: the store's folder is on {kind}, a network file system, where SQLite's write-ahead log "
            "can corrupt or lock the store; keep it on a local disk (on Kubernetes, the spm service's own "
            "ReadWriteOnce volume), or, if only one machine ever opens it, set SPM_STORE_ON_NETWORK_FS=1 "
            "(or store: {allow_network_filesystem: true} in spm.yml)")


# --- 1. the store on a network file system --------------------------------------------------------

@pytest.fixture
def on_nfs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """statfs reports NFS for every folder; the list collects the folders asked about."""
    asked: list[Path] = []

    def fake_statfs(folder: Path) -> int:
        asked.append(Path(folder))
        return NFS

    monkeypatch.delenv("SPM_STORE_ON_NETWORK_FS", raising=False)
    monkeypatch.setattr("spm_training.store._statfs_type", fake_statfs)
    return asked


def local_store(db: Path) -> Path:
    """A new store made on a local disk (so in WAL mode)."""
    with pytest.MonkeyPatch.context() as local:
        local.setattr("spm_training.store._statfs_type", lambda folder: 0xEF53)    # ext4
        open_store(db).close()
    return db


def spm(db: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["--db", str(db), "--course", str(db.parent), *args], env=env)


def import_roster(project: Path):
    (project / "roster.csv").write_text(ROSTER)
    return spm(project / "spm.db", "roster", "import", str(project / "roster.csv"))


def test_statfs_reads_the_real_file_system_type(tmp_path: Path) -> None:
    assert _statfs_type(Path("/proc")) == 0x9FA0        # procfs: the call reads f_type for real
    assert network_filesystem(tmp_path) is None          # the test machine's own disk is local


@pytest.mark.parametrize(("magic", "kind"), [(0x6969, "NFS"), (0xFF534D42, "CIFS"), (0xFE534D42, "SMB2"),
                                             (0x517B, "SMB"), (0x65735546, "FUSE"), (0x00C36400, "CephFS")])
def test_network_and_fuse_file_systems_are_named(monkeypatch: pytest.MonkeyPatch, magic: int, kind: str) -> None:
    monkeypatch.setattr("spm_training.store._statfs_type", lambda folder: magic)
    assert network_filesystem(Path("/srv")) == kind
    assert NETWORK_FILESYSTEMS[magic] == kind


def test_a_new_store_on_nfs_is_refused_in_one_line(tmp_path: Path, on_nfs: list[Path]) -> None:
    result = import_roster(tmp_path)
    assert result.exit_code == 1
    assert one_line(result.output) == refusal(tmp_path / "spm.db", "NFS")
    assert on_nfs == [tmp_path]
    assert not (tmp_path / "spm.db").exists()


def test_a_wal_store_on_cifs_is_refused_and_left_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = local_store(tmp_path / "spm.db")
    before = db.read_bytes()
    monkeypatch.setattr("spm_training.store._statfs_type", lambda folder: 0xFF534D42)
    result = spm(db, "export", "reps")
    assert result.exit_code == 1
    assert one_line(result.output) == refusal(db, "CIFS")
    assert db.read_bytes() == before


def test_a_store_in_rollback_journal_mode_opens_on_nfs(tmp_path: Path, on_nfs: list[Path]) -> None:
    db = local_store(tmp_path / "spm.db")
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    result = spm(db, "export", "reps")
    assert result.exit_code == 0, result.output
    assert on_nfs == []       # the file's header says rollback journal: nothing to refuse, nothing to ask


def test_the_environment_allows_a_store_on_fuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = local_store(tmp_path / "spm.db")
    monkeypatch.setattr("spm_training.store._statfs_type", lambda folder: 0x65735546)
    assert one_line(spm(db, "export", "reps").output) == refusal(db, "FUSE")
    result = spm(db, "export", "reps", env={"SPM_STORE_ON_NETWORK_FS": "1"})
    assert result.exit_code == 0, result.output
    open_store(tmp_path / "new.db", network_fs=True).close()      # the API's own switch
    assert (tmp_path / "new.db").exists()


def test_spm_yml_allows_a_store_on_nfs(tmp_path: Path, on_nfs: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "_config.yml").write_text("title: x\n")
    local_store(tmp_path / "spm.db")
    monkeypatch.chdir(tmp_path)
    settings = tmp_path / "spm.yml"
    settings.write_text("store:\n  allow_network_filesystem: true\n  busy_timeout: 5\n")
    result = CliRunner().invoke(cli, ["export", "reps"])
    assert result.exit_code == 0, result.output
    assert load_allow_network_filesystem(settings) is True
    settings.write_text("store:\n  allow_network_filesystem: false\n")
    assert load_allow_network_filesystem(settings) is False
    monkeypatch.setenv("SPM_STORE_ON_NETWORK_FS", "1")
    assert load_allow_network_filesystem(settings) is True       # the environment wins over the file
    monkeypatch.delenv("SPM_STORE_ON_NETWORK_FS")
    settings.write_text("store:\n  allow_network_filesystem: sometimes\n")
    with pytest.raises(CatalogError) as info:
        load_allow_network_filesystem(settings)
    assert str(info.value) == (f"{settings}:2: store allow_network_filesystem must be true or false, not "
                               "'sometimes'; write store: {allow_network_filesystem: true} only if one machine "
                               "alone opens the store")


# --- 2 and 3. the exchange, between pods that run as uids with no passwd entry ----------------------

COURSE = "spm-2026q3"
TRAINERS_GID = 2101                     # formgrade-spm-2026q3, as values.yaml's spmCourses numbers it
USERS_GID = 100                         # every pod's gid (values.yaml: singleuser's gid)
TRAINER = ("ola.trainer", 20011)        # (hub username, uid = 20000 + hub user id)
REP, OTHER_REP = ("dee.fox", 20021), ("sam.lee", 20022)
NO_ENTRY = ("ian.new", 20023)      # a rep whose pod runs without the fix
NOTEBOOK = ('{"cells": [{"cell_type": "code", "execution_count": null, "id": "a1", "metadata": {}, "outputs": [], '
            '"source": ["answer = 42"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n')


def why_no_pods() -> str | None:

    if os.geteuid() != 0:
        return "needs root: it runs nbgrader as uids of their own and bind-mounts a passwd file, as a pod would"
    missing = [tool for tool in ("unshare", "setpriv", "mount") if shutil.which(tool) is None]
    return f"missing {', '.join(missing)} (util-linux)" if missing else None


class Pods:
    """Processes that stand for user pods: each runs as its uid (gid 100, as values.yaml sets). With the
    fix, it runs in a mount namespace of its own where the passwd and group files passwd-entry.sh wrote
    lie over the image's /etc, as the pod's subPath mounts put them. (An overlay of /etc rather than a
    bind mount of the file: other tests on this machine add users, which replaces /etc/passwd and
    detaches a file's bind mount in every other mount namespace.)"""

    def __init__(self, root: Path, python_env: Path) -> None:
        self.root = root
        self.env_bin = python_env / "bin"
        self.exchange = root / "exchange"

    def home(self, user: tuple[str, int]) -> Path:

        home = self.root / "home" / user[0]
        if not home.exists():
            home.mkdir(parents=True)
            os.chown(home, user[1], USERS_GID)
            home.chmod(0o700)
        return home

    def run(self, user: tuple[str, int], argv: list[str], *, passwd: bool, groups: tuple[int, ...] = (),
            cwd: Path | None = None, env: dict | None = None):

        name, uid = user
        home = self.home(user)
        base = {"HOME": str(home), "PATH": f"{self.env_bin}:/usr/bin:/bin", "LANG": "C.UTF-8",
                "JUPYTERHUB_USER": name, "NB_USER": name, "NB_HOME": str(home), **(env or {})}
        supplementary = ["--groups", ",".join(str(g) for g in groups)] if groups else ["--clear-groups"]
        inner = ["setpriv", "--reuid", str(uid), "--regid", str(USERS_GID), *supplementary, "--",
                 "env", "-i", *(f"{k}={v}" for k, v in base.items()), *argv]
        if passwd:
            nss = self.root / "nss" / name
            inner = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                     'mount -t overlay spm-passwd -o "lowerdir=$0:/etc" /etc && exec "$@"', str(nss), *inner]
        return subprocess.run(inner, cwd=cwd or home, capture_output=True, text=True, timeout=300)

    def init_container(self, user: tuple[str, int], groups: tuple[int, ...] = (), extra_users: str = "") -> None:
        """What the pod's init container does: passwd-entry.sh as the pod's uid, into an emptyDir."""

        nss = self.root / "nss" / user[0]
        nss.mkdir(parents=True, exist_ok=True)
        os.chown(nss, user[1], USERS_GID)
        result = self.run(user, ["sh", str(Z2JH / "passwd-entry.sh"), str(nss)], passwd=False, groups=groups,
                          env={"SPM_PASSWD_USERS": extra_users} if extra_users else None)
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"passwd-entry.sh: {user[0]} is uid {user[1]}, gid {USERS_GID}\n"

    def exchange_steps(self, user: tuple[str, int], *steps: str, passwd: bool, groups: tuple[int, ...] = (),
                       cwd: Path | None = None):
        """nbgrader's exchange steps in one process of the user's pod (tests/deploy/exchange_pod.py)."""
        return self.run(user, [str(self.env_bin / "python"), str(Path(__file__).with_name("exchange_pod.py")),
                               str(self.exchange), COURSE, "ps1", *steps], passwd=passwd, groups=groups, cwd=cwd)


@pytest.fixture(scope="module")
def pods() -> Pods:

    why = why_no_pods()
    if why:
        pytest.skip(why)
    root = Path(tempfile.mkdtemp(prefix="spm-z2jh-"))
    root.chmod(0o755)           # the pods' uids must reach what is inside
    try:
        python_env = Path(sys.prefix)
        probe = subprocess_as(REP[1], [sys.executable, "-c", "import nbgrader"])
        if probe.returncode != 0:
            # The test environment sits behind a private folder (a pyenv under /root): give the uids a twin
            # of it on a system interpreter, as tests/deploy/hub does for the hub's users.
            from hub.userenv import _mirror, system_python

            python = system_python()
            if python is None or sys.prefix == sys.base_prefix:
                pytest.skip(f"the pods' uids cannot run {sys.executable}, and there is no twin to make of it")
            python_env = root / "python-env"
            _mirror(Path(sys.prefix), python_env, python)
        yield Pods(root, python_env)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        os.sync()


def subprocess_as(uid: int, argv: list[str]):

    return subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(USERS_GID), "--clear-groups", "--",
                           "env", "-i", *argv], capture_output=True, text=True, timeout=300, cwd="/")


@dataclass
class ExchangeRun:
    pods: Pods
    release: subprocess.CompletedProcess
    no_entry: subprocess.CompletedProcess         # a rep's pod without the fix: fetch, then submit
    reps: dict[str, subprocess.CompletedProcess]  # the reps' pods with it: fetch, answer, submit
    inbound_after_reps: list[list[str]]
    inbound_names: list[str]
    peek_listing: subprocess.CompletedProcess     # the other rep lists inbound
    collect: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def exchange_run(pods: Pods) -> ExchangeRun:
    """The exchange prepared by the recipe (exchange-volume.sh, as root, as the Job runs it); ps1 released
    by a trainer from the course folder; three reps' pods at once (one without the passwd entry); then
    the trainer collects. Each pod is one process (nbgrader's imports are what takes the time)."""
    prepared = subprocess.run(["sh", str(Z2JH / "exchange-volume.sh"), str(pods.exchange), f"{COURSE}={TRAINERS_GID}"],
                              capture_output=True, text=True, timeout=60)
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout == f"exchange-volume.sh: {pods.exchange}/{COURSE} ready for the trainers of group 2101\n"
    course = pods.root / "courses" / COURSE
    (course / "release" / "ps1").mkdir(parents=True)
    (course / "release" / "ps1" / "ps1.ipynb").write_text(NOTEBOOK)
    os.chmod(pods.root / "courses", 0o755)
    for folder, _dirs, files in os.walk(course):     # the course folder: its trainers' group only
        os.chown(folder, 0, TRAINERS_GID)
        os.chmod(folder, 0o2770)
        for name in files:
            os.chown(Path(folder) / name, 0, TRAINERS_GID)
            os.chmod(Path(folder) / name, 0o660)
    trainer = {"passwd": True, "groups": (TRAINERS_GID,), "cwd": course}
    pods.init_container(TRAINER, groups=(TRAINERS_GID,),
                        extra_users="\n".join(f"{name}:{uid}" for name, uid in (REP, OTHER_REP, NO_ENTRY)))
    release = pods.exchange_steps(TRAINER, "release", **trainer)
    for rep in (REP, OTHER_REP):
        pods.init_container(rep)
    with ThreadPoolExecutor(3) as pool:
        no_entry = pool.submit(pods.exchange_steps, NO_ENTRY, "fetch", "submit", passwd=False)
        reps = {rep[0]: pool.submit(pods.exchange_steps, rep, "fetch", f"answer=answer = '{rep[0]}'", "submit",
                                    passwd=True) for rep in (REP, OTHER_REP)}
        done = {name: future.result() for name, future in reps.items()}
        no_entry_result = no_entry.result()
    inbound = pods.exchange / COURSE / "inbound"
    names = sorted(entry.name.split("+")[:2] for entry in inbound.iterdir())
    full_names = sorted(entry.name for entry in inbound.iterdir())
    peek_listing = pods.run(OTHER_REP, ["ls", str(inbound)], passwd=True)
    collect = pods.exchange_steps(TRAINER, "collect", **trainer)
    return ExchangeRun(pods, release, no_entry_result, done, names, full_names, peek_listing, collect)


@pytest.mark.slow
def test_the_recipe_prepares_the_exchange_and_a_trainer_releases(exchange_run: ExchangeRun) -> None:
    assert exchange_run.release.returncode == 0, exchange_run.release.stderr
    assert exchange_run.release.stdout == "release: ok\n"
    outbound = exchange_run.pods.exchange / COURSE / "outbound" / "ps1" / "ps1.ipynb"
    assert outbound.read_text() == NOTEBOOK


@pytest.mark.slow
def test_without_a_passwd_entry_nbgrader_cannot_submit(exchange_run: ExchangeRun) -> None:
    result = exchange_run.no_entry
    assert result.returncode == 1
    assert result.stdout == "fetch: ok\n"          # fetching never asks who the rep is; submitting does
    assert result.stderr.rstrip().endswith(f"KeyError: 'getpwuid(): uid not found: {NO_ENTRY[1]}'")
    assert [NO_ENTRY[0], "ps1"] not in exchange_run.inbound_after_reps


@pytest.mark.slow
def test_with_the_entry_reps_fetch_and_submit(exchange_run: ExchangeRun) -> None:
    for name, result in exchange_run.reps.items():
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"fetch: ok\nanswer=answer = '{name}': ok\nsubmit: ok\n"
    assert exchange_run.inbound_after_reps == [[REP[0], "ps1"], [OTHER_REP[0], "ps1"]]


@pytest.mark.slow
def test_a_rep_cannot_find_another_reps_submission(exchange_run: ExchangeRun) -> None:
    """nbgrader's own protection, kept by the recipe's modes: inbound is write-and-search only for reps
    (2773), and each submission's folder is named with a timestamp and 9 random bytes, so no rep can list
    the folder or guess another's name. (A rep told the full name could open it: nbgrader makes
    submissions world-readable so that every trainer can collect.)"""
    inbound = exchange_run.pods.exchange / COURSE / "inbound"
    assert exchange_run.peek_listing.returncode == 2
    assert exchange_run.peek_listing.stderr == f"ls: cannot open directory '{inbound}': Permission denied\n"
    assert oct(inbound.stat().st_mode & 0o7777) == "0o2773"
    for name in exchange_run.inbound_names:
        student, assignment, timestamp, random_part = name.split("+")
        assert (assignment, len(random_part)) == ("ps1", 12), name      # base64 of 9 random bytes
        assert timestamp.startswith("20") and student in (REP[0], OTHER_REP[0])


@pytest.mark.slow
def test_the_trainer_collects_each_submission_under_its_reps_name(exchange_run: ExchangeRun) -> None:
    collect = exchange_run.collect
    assert collect.returncode == 0, collect.stderr
    assert collect.stdout == "collect: ok\n"
    # the trainer's passwd file names the course's reps (SPM_PASSWD_USERS), so nbgrader's owner check
    # finds each submission owned by the rep it claims to be from
    assert "cheating attempt" not in collect.stderr
    submitted = exchange_run.pods.root / "courses" / COURSE / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == sorted([REP[0], OTHER_REP[0]])
    for rep in (REP, OTHER_REP):
        notebook = json.loads((submitted / rep[0] / "ps1" / "ps1.ipynb").read_text())
        assert notebook["cells"][0]["source"] == [f"answer = '{rep[0]}'"]


def test_the_recipe_refuses_a_volume_that_drops_the_sticky_bit(tmp_path: Path) -> None:
    """A volume that loses modes (stat reporting 0777 where 1777 was set, as some NFS and SMB servers do)."""

    if os.geteuid() != 0:
        pytest.skip("exchange-volume.sh sets owners: it runs as root")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "stat").write_text('#!/bin/sh\necho "777 0 0"\n')
    (fake / "stat").chmod(0o755)
    result = subprocess.run(["sh", str(Z2JH / "exchange-volume.sh"), str(tmp_path / "exchange"), f"{COURSE}=2101"],
                            capture_output=True, text=True, env={"PATH": f"{fake}:/usr/bin:/bin"}, timeout=60)
    assert result.returncode == 1
    assert result.stderr == (f"exchange-volume.sh: {tmp_path / 'exchange'}: the volume did not keep mode 1777, "
                             "owner 0, group 0 (it reads mode 0777, owner 0, group 0); use a volume that keeps Unix "
                             "owners and modes (NFSv4 without squashing, CephFS), see the Kubernetes guide\n")


# --- 4. the image ----------------------------------------------------------------------------------

def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def docker_ignores(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` (relative to the build context) out: its patterns are Go's
    filepath.Match on the whole relative path, ``**`` matching any number of folders (none included), and
    a pattern that matches a folder leaves out everything in it. (No ``!`` exceptions are used.)"""
    import re

    def regex(pattern: str) -> re.Pattern:
        pattern = pattern.rstrip("/")
        out = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out + r"\Z")

    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return any(regex(p).match(prefix) for p in patterns for prefix in prefixes)


@pytest.mark.parametrize("path", [
    ".venv/lib/python3.11/site-packages/nbgrader/__init__.py", "spm.db", "spm.db-wal", "spm.db-shm",
    "assessments/gradebook.db", "assessments/gradebook.db-journal", "backups/spm-2026-12-01.db",
    "spm-demo/spm.db", "spm-demo/assessments/submitted/dee/ps1/ps1.ipynb",
    "assessments/submitted/dee/ps1/ps1.ipynb", "assessments/autograded/dee/ps1/ps1.ipynb",
    "assessments/feedback/dee/ps1/ps1.html", "assessments/release/ps1/ps1.ipynb",
    "srv/exchange/spm-2026q3/inbound/dee+ps1+x/ps1.ipynb", "reports/team-North.html", "_build/html/index.html",
    "secrets.yaml", "roster.csv", "data/roster-2026.csv", "kpis.csv", ".git/config",
    "spm_training/__pycache__/store.cpython-311.pyc", "courses/spm-2026q3/gradebook.url",
])
def test_dockerignore_keeps_data_out_of_the_image(path: str) -> None:
    assert docker_ignores(path, dockerignore_patterns())


def test_dockerignore_keeps_what_the_image_is_built_from() -> None:
    """Every tracked file the image's stages copy (the package, the book's sources, the deploy files)
    stays in the build context."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    patterns = dockerignore_patterns()
    dropped = [path for path in tracked if docker_ignores(path, patterns)]
    assert dropped == []
    for path in ("pyproject.toml", "README.md", "spm_training/store.py", "deploy/z2jh/requirements.lock",
                 "assessments/source/01_kpi_smart/team_quarter.csv", "spm_training/reports/build.py"):
        assert path in tracked and not docker_ignores(path, patterns)


def test_the_base_image_is_pinned_by_digest_and_every_copy_is_named() -> None:
    dockerfile = (Z2JH / "Dockerfile").read_text()
    assert ("ARG BASE=quay.io/jupyter/minimal-notebook:python-3.11@sha256:"
            "c0454dbeca4146113ea9f8c882d88ba03663105dd4b8ff6b153c066e453a2dd8\n") in dockerfile
    froms = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert froms == ["FROM ${BASE} AS book", "FROM ${BASE}"]
    # the final stage copies named files only: the whole context goes to the book stage, never further
    final = dockerfile.split("FROM ${BASE}\n", 1)[1]
    copies = [line for line in final.splitlines() if line.startswith("COPY ")]
    assert all(not line.rstrip().split()[-2] == "." for line in copies), copies
    assert "pip install --no-cache-dir --no-deps -r /tmp/spm-training/requirements.lock" in final
    assert "&& pip check" in final


def locked() -> dict[str, str]:
    pins = {}
    for line in (Z2JH / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name] = version
    return pins


def test_the_lock_pins_every_runtime_dependency_at_the_tested_version() -> None:
    import importlib.metadata as md

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    closure: dict[str, str] = {}
    todo = ["spm-training", "jupyterhub", "psycopg2-binary"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in closure:
            continue
        dist = md.distribution(name)
        closure[name] = dist.version
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    closure.pop("spm-training")
    pins = locked()
    assert all(canonicalize_name(name) == name for name in pins)
    assert sorted(pins) == sorted(closure)
    # jupyterhub follows the chart's hub (Zero to JupyterHub 4.4.0 runs JupyterHub 5.5.0); the rest are
    # exactly what these tests run on
    assert pins.pop("jupyterhub") == "5.5.0"
    assert {name: pins[name] for name in pins} == {name: closure[name] for name in pins}


# --- 5. the chart's values -------------------------------------------------------------------------

def values() -> dict:
    import yaml

    return yaml.safe_load((Z2JH / "values.yaml").read_text())


def without_required(schema):
    """The schema without its ``required`` lists (the chart's defaults fill those keys), except inside
    ``oneOf``, whose branches are told apart by what they require."""
    if isinstance(schema, dict):
        return {k: (v if k == "oneOf" else without_required(v)) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [without_required(v) for v in schema]
    return schema


def installed_values() -> dict:
    """values.yaml as the install command gives it to Helm: the --set-file options fill hub.extraFiles."""
    data = values()
    data["hub"]["extraFiles"]["spm-hub"]["stringData"] = (ROOT / "deploy" / "spm_hub.py").read_text()
    data["hub"]["extraFiles"]["spm-k8s"]["stringData"] = (Z2JH / "spm_k8s.py").read_text()
    return data


def schema_errors(data: dict) -> list[str]:
    import jsonschema
    import yaml

    schema = without_required(yaml.safe_load((Z2JH / "chart" / "values.schema.yaml").read_text()))
    validator = jsonschema.Draft7Validator(schema)
    return sorted(f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator.iter_errors(data))


def test_the_values_pass_the_charts_schema() -> None:
    assert schema_errors(installed_values()) == []
    licence = (Z2JH / "chart" / "LICENSE").read_text()
    assert licence.startswith("BSD 3-Clause License\n\nCopyright (c) 2017, Project Jupyter Contributors\n")


def test_the_schema_check_catches_a_misspelt_or_mistyped_value() -> None:
    assert schema_errors(values())[0].startswith("hub.extraFiles.spm-hub: {'mountPath': ")   # no --set-file
    data = installed_values()
    data["singleuser"]["memroy"] = {"limit": "2G"}
    data["cull"]["timeout"] = "an hour"
    data["hub"]["networkPolicy"] = {"egressAllowRules": {"privateIps": True}}
    assert schema_errors(data) == [
        "cull.timeout: 'an hour' is not of type 'integer', 'null'",
        "hub.networkPolicy.egressAllowRules: Additional properties are not allowed ('privateIps' was unexpected)",
        "singleuser: Additional properties are not allowed ('memroy' was unexpected)",
    ]


def test_the_chart_version_is_current_and_pinned_everywhere() -> None:
    text = (Z2JH / "values.yaml").read_text()
    assert "--version 4.4.0 --values deploy/z2jh/values.yaml" in text
    assert "4.2.0" not in text
    guide = (ROOT / "book" / "guides" / "kubernetes.md").read_text()
    assert "--version 4.4.0" in guide and "--version 4.2.0" not in guide


def spm_k8s():
    for folder in (ROOT / "deploy", Z2JH):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    import spm_k8s

    return spm_k8s


def settings() -> dict:
    return values()["custom"]["spm"]


def test_the_values_register_the_service_and_roles_the_rules_define() -> None:
    services, roles = spm_k8s().service_and_roles(settings())
    hub = values()["hub"]
    assert hub["services"] == services
    assert hub["loadRoles"] == roles
    assert services["spm"]["url"] == settings()["serviceUrl"] == "http://spm-service.spm.svc.cluster.local:8000"
    # managers and reps get no scope beyond reaching the service; ops and trainers get theirs by group
    assert roles["user"]["scopes"] == ["self", "access:services!service=spm"]
    assert roles["spm-ops"]["groups"] == ["spm-ops"] and roles["spm-trainers"]["groups"] == ["trainers"]
    assert hub["config"]["GenericOAuthenticator"]["allowed_groups"] == ["trainers", "spm-ops", "spm-managers"]
    assert not any("2026q3" in group for group in hub["config"]["GenericOAuthenticator"]["allowed_groups"])


def test_who_may_log_in_follows_the_kind_of_group() -> None:
    module = spm_k8s()
    assert module.may_log_in(["nbgrader-new-course-2027"], settings())        # a course nobody listed
    assert module.may_log_in(["formgrade-new-course-2027"], settings())
    assert module.may_log_in(["spm-managers"], settings()) and module.may_log_in(["spm-ops"], settings())
    assert not module.may_log_in(["finance", "everyone"], settings())
    assert not module.may_log_in([], settings())


def test_a_reps_pod_runs_as_its_own_uid_with_a_passwd_entry_and_no_store() -> None:
    pod = spm_k8s().pod_settings("dee.fox", 21, ["nbgrader-spm-2026q3"], None, [], settings())
    assert (pod["uid"], pod["gid"], pod["supplemental_gids"]) == (20021, 100, [])
    assert pod["environment"] == {"JUPYTER_CONFIG_PATH": "/etc/spm/jupyter/rep:/etc/spm/jupyter/common",
                                  "SPM_EXCHANGE": "/srv/spm/exchange",
                                  "PATH": "/opt/conda/bin:/usr/local/bin:/usr/bin:/bin"}
    assert pod["cmd"][2] == 'umask 0077 && exec jupyterhub-singleuser "$@"'
    assert pod["extra_labels"] == {"spm-training/role": "rep"}
    [init] = pod["init_containers"]
    assert init["command"] == ["/usr/local/bin/spm-passwd-entry", "/var/run/spm-passwd"]
    assert init["env"] == [{"name": "NB_USER", "value": "dee.fox"}, {"name": "NB_HOME", "value": "/home/jovyan"}]
    assert (init["securityContext"]["runAsUser"], init["securityContext"]["runAsGroup"]) == (20021, 100)
    assert init["image"] == "registry.example.com/spm-training/singleuser:0.2.0"
    assert f"{values()['singleuser']['image']['name']}:{values()['singleuser']['image']['tag']}" == init["image"]
    assert pod["volume_mounts"] == [
        {"name": "spm-passwd", "mountPath": "/etc/passwd", "subPath": "passwd", "readOnly": True},
        {"name": "spm-passwd", "mountPath": "/etc/group", "subPath": "group", "readOnly": True}]
    assert "cpu_limit" not in pod and "lifecycle_hooks" not in pod


def test_a_trainers_pod_gets_the_grading_profile_and_never_the_shared_store() -> None:
    module = spm_k8s()
    members = [("dee.fox", 21), ("sam.lee", 22)]
    groups = ["trainers", "formgrade-spm-2026q3", "formgrade-spm-2027q1"]
    pod = module.pod_settings("ola", 5, groups, "spm-2026q3", members, settings())
    assert pod["uid"] == 20005
    assert pod["supplemental_gids"] == sorted([module.course_gid("spm-2026q3"), module.course_gid("spm-2027q1")])
    assert module.course_gid("spm-2026q3") == 15985059
    assert (pod["cpu_limit"], pod["mem_limit"], pod["cpu_guarantee"], pod["mem_guarantee"]) == (4, "8G", 1, "4G")
    assert pod["environment"]["SPM_GRADE_WORKERS"] == "4"
    # the store is the service's: the trainer's own records (spm grade's changed-cell findings) stay home
    assert pod["environment"]["SPM_DB"] == "/home/jovyan/.spm/spm-2026q3.db"
    assert not any("spm-store" in str(volume) for volume in pod["volumes"])
    assert pod["extra_labels"] == {"spm-training/role": "trainer"}
    assert pod["init_containers"][0]["env"][-1] == {"name": "SPM_PASSWD_USERS", "value": "dee.fox:20021\nsam.lee:20022"}
    assert pod["cmd"][2] == 'umask 0007 && exec jupyterhub-singleuser "$@"'
    # 4 workers at most 1.5 GiB each, plus JupyterLab, inside the 8 GiB limit
    assert settings()["trainerProfile"]["gradeWorkers"] * 1.5 + 1 <= 8


def test_the_hook_keeps_the_charts_labels_and_refuses_managers_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    module = spm_k8s()
    monkeypatch.setattr(module, "course_members", lambda user, course: [("dee.fox", 21)])

    def spawner(groups: list[str]) -> SimpleNamespace:
        user = SimpleNamespace(name="ola", id=5, groups=[SimpleNamespace(name=g) for g in groups])
        return SimpleNamespace(user=user, user_options={}, environment={"JUPYTERHUB_USER": "ola"},
                               extra_labels={"hub.jupyter.org/network-access-hub": "true"},
                               init_containers=[], volumes=[{"name": "home"}], volume_mounts=[{"name": "home"}])

    trainer = spawner(["trainers", "formgrade-spm-2026q3"])
    module.pre_spawn_hook(trainer, settings())
    assert trainer.extra_labels == {"hub.jupyter.org/network-access-hub": "true", "spm-training/role": "trainer"}
    assert trainer.environment["JUPYTERHUB_USER"] == "ola" and trainer.environment["SPM_COURSE"] == "spm-2026q3"
    assert [v["name"] for v in trainer.volumes] == ["home", "spm-passwd", "spm-courses"]
    assert trainer.uid == 20005 and trainer.mem_limit == "8G"
    manager = spawner(["spm-managers"])
    with pytest.raises(RuntimeError) as refused:
        module.pre_spawn_hook(manager, settings())
    assert str(refused.value) == ("ola has no JupyterLab server on this hub: managers and sales operations use the "
                                  "spm service at /services/spm/. Ask an admin to add you to a course group if you "
                                  "take a course.")


def test_the_extra_config_wires_the_rules_into_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """hub.extraConfig run as the chart runs it (z2jh's get_config reads the values), with stand-ins for
    oauthenticator, which the hub image has and this test environment does not."""
    import asyncio
    import types

    from traitlets.config import Config

    module = spm_k8s()
    generic = types.ModuleType("oauthenticator.generic")

    class GenericOAuthenticator:
        allowed = frozenset({"trainers", "spm-ops", "spm-managers"})

        async def check_allowed(self, username: str, auth_model: dict | None) -> bool:
            return bool(self.allowed & set((auth_model or {}).get("groups", [])))

    generic.GenericOAuthenticator = GenericOAuthenticator
    z2jh = types.ModuleType("z2jh")
    z2jh.get_config = lambda key: values()["custom"]["spm"] if key == "custom.spm" else None
    monkeypatch.setitem(sys.modules, "oauthenticator", types.ModuleType("oauthenticator"))
    monkeypatch.setitem(sys.modules, "oauthenticator.generic", generic)
    monkeypatch.setitem(sys.modules, "z2jh", z2jh)
    monkeypatch.setitem(sys.modules, "spm_k8s", module)
    c = Config()
    exec(values()["hub"]["extraConfig"]["10-spm"], {"c": c})
    assert c.Authenticator.auth_refresh_age == 900 and c.Authenticator.refresh_pre_spawn is True
    assert c.JupyterHub.cookie_max_age_days == 1
    assert sorted(c.JupyterHub.custom_scopes) == ["custom:spm:course", "custom:spm:organisation"]
    authenticator = c.JupyterHub.authenticator_class()
    allowed = [asyncio.run(authenticator.check_allowed("x", {"groups": groups}))
               for groups in (["nbgrader-any-new-course"], ["spm-ops"], ["finance"])]
    assert allowed == [True, True, False]
    assert callable(c.KubeSpawner.pre_spawn_hook)


def exchange_prepare():
    import importlib.util

    spec = importlib.util.spec_from_file_location("exchange_prepare", Z2JH / "exchange-prepare.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_job_and_the_hub_number_a_course_alike() -> None:
    job, hub = exchange_prepare(), spm_k8s()
    for course in ("spm-2026q3", "spm-2027q1", "sdr-academy", "a", "x" * 22):
        assert job.course_gid(course) == hub.course_gid(course)
        assert 3_000_000 <= hub.course_gid(course) < 3_000_000 + 2 ** 24
    assert job.courses_and_gids(["formgrade-b", "nbgrader-b", "trainers", "formgrade-a"]) == [
        ("a", hub.course_gid("a")), ("b", hub.course_gid("b"))]


def test_the_exchange_job_prepares_every_course_group_the_hub_lists(tmp_path: Path) -> None:
    """exchange-prepare.py against a stand-in for the hub's REST API (two pages of groups), with a
    stand-in for exchange-volume.sh that records what it was asked."""
    import http.server
    import threading

    pages = {"0": {"items": [{"name": "formgrade-spm-2026q3"}, {"name": "nbgrader-spm-2026q3"}],
                   "_pagination": {"next": {"offset": 2}}},
             "2": {"items": [{"name": "formgrade-sdr-academy"}, {"name": "trainers"}], "_pagination": {"next": None}}}
    seen: list[str] = []

    class Hub(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers["Authorization"])
            offset = self.path.split("offset=")[1].split("&")[0]
            body = json.dumps(pages[offset]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake = tmp_path / "exchange-volume"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(0o755)
    try:
        result = subprocess.run([sys.executable, str(Z2JH / "exchange-prepare.py"), "/srv/spm/exchange"],
                                capture_output=True, text=True, timeout=60,
                                env={"JUPYTERHUB_API_URL": f"http://127.0.0.1:{server.server_port}/hub/api",
                                     "JUPYTERHUB_API_TOKEN": "t0ken", "SPM_EXCHANGE_VOLUME": str(fake),
                                     "PATH": "/usr/bin:/bin"})
    finally:
        server.shutdown()
    hub = spm_k8s()
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"/srv/spm/exchange sdr-academy={hub.course_gid('sdr-academy')} "
                             f"spm-2026q3={hub.course_gid('spm-2026q3')}\n")
    assert seen == ["token t0ken", "token t0ken"]
    unreachable = subprocess.run([sys.executable, str(Z2JH / "exchange-prepare.py"), "/x"], capture_output=True,
                                 text=True, timeout=60, env={"JUPYTERHUB_API_URL": "http://127.0.0.1:9/hub/api",
                                                             "JUPYTERHUB_API_TOKEN": "t", "PATH": "/usr/bin:/bin"})
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("exchange-prepare: cannot list the hub's groups (")
    assert unreachable.stderr.endswith("); check the job's JUPYTERHUB_API_URL and the spm-exchange-prepare "
                                       "service token\n")


# --- 1 and 6. the service's pod, its volume, and the jobs ------------------------------------------

def manifests(name: str) -> dict[tuple[str, str], dict]:
    import yaml

    docs = yaml.safe_load_all((Z2JH / name).read_text())
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs}


def test_the_service_owns_the_store_on_its_own_readwriteonce_volume() -> None:
    service = manifests("spm-service.yaml")
    assert service[("PersistentVolumeClaim", "spm-store")]["spec"]["accessModes"] == ["ReadWriteOnce"]
    deployment = service[("Deployment", "spm-service")]["spec"]
    assert deployment["replicas"] == 1 and deployment["strategy"] == {"type": "Recreate"}
    pod = deployment["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"] == ["spm", "--db", "/srv/spm/store/spm.db", "--course", "/srv/spm/courses/spm-2026q3",
                                    "serve", "--auth", "hub", "--sync-every", "60"]
    assert {"name": "JUPYTERHUB_API_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": "hub", "key": "hub.services.spm.apiToken"}}} in container["env"]
    assert pod["securityContext"]["supplementalGroups"] == [spm_k8s().course_gid("spm-2026q3")]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["courses"]["readOnly"] is True and "readOnly" not in mounts["store"]
    assert service[("Service", "spm-service")]["spec"]["ports"][0]["port"] == 8000
    # no user pod mounts the store: it appears in no values and in no pod the hook builds
    assert "spm-store" not in (Z2JH / "values.yaml").read_text()
    policy = service[("NetworkPolicy", "spm-trainers-gradebook")]["spec"]
    assert policy["podSelector"]["matchLabels"] == {"component": "singleuser-server", "spm-training/role": "trainer"}
    assert policy["egress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert values()["singleuser"]["networkPolicy"]["egressAllowRules"] == {"privateIPs": False}


def test_scheduled_jobs_back_up_and_refresh_on_the_services_node() -> None:
    jobs = manifests("jobs.yaml")
    schedules = {name: doc["spec"]["schedule"] for (kind, name), doc in jobs.items() if kind == "CronJob"}
    assert schedules == {"spm-exchange-prepare": "*/10 * * * *", "spm-report-refresh": "40 * * * *",
                         "spm-store-backup": "15 2 * * *", "spm-gradebook-backup": "45 2 * * *"}
    for name in ("spm-report-refresh", "spm-store-backup", "spm-gradebook-backup"):
        pod = jobs[("CronJob", name)]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        [term] = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term == {"labelSelector": {"matchLabels": {"app.kubernetes.io/name": "spm-service"}},
                        "topologyKey": "kubernetes.io/hostname"}
    backup = jobs[("CronJob", "spm-store-backup")]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert 'spm --db /srv/spm/store/spm.db backup "/backups/store/spm-$(date -u +%F).db"' in \
        backup["containers"][0]["command"][2]
    prepare = jobs[("CronJob", "spm-exchange-prepare")]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert prepare["containers"][0]["command"] == ["python", "/usr/local/bin/spm-exchange-prepare", "/srv/spm/exchange"]
    assert "COPY --chmod=0755 deploy/z2jh/exchange-prepare.py /usr/local/bin/spm-exchange-prepare" in \
        (Z2JH / "Dockerfile").read_text()
