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
