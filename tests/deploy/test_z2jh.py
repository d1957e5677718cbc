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

import sqlite3
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
