"""A throwaway PostgreSQL cluster on 127.0.0.1 that asks for a password over TCP, as a gradebook
server shared by several trainers would.

tests/ingest/test_sync.py starts a simpler one (trust authentication); here every local user can reach the
port, and the test checks that a rep without the password cannot read the gradebook, so the cluster
must check passwords. The server runs as the ``postgres`` system user (it refuses to run as root); its
socket folder is that user's alone, so only root and postgres can use the password-less socket.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def why_unavailable() -> str | None:
    """None when a cluster can be started here, else the reason in one line."""
    bin_dir = postgres_bin()
    missing = [n for n in ("initdb", "pg_ctl", "postgres") if bin_dir is None or not (bin_dir / n).exists()]
    if missing:
        return (f"PostgreSQL server binaries not found ({', '.join(missing)}); install the Debian package "
                "postgresql (scripts/test.sh does)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install -e '.[test]')"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' system user to run the server as"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """``with Cluster() as pg:``; ``pg.create_database(name)`` returns a URL with a password."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="spm-hub-pg-"))
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_postgres, *argv], check=True, capture_output=True, text=True)

    def __enter__(self) -> Cluster:
        self.sock.mkdir(mode=0o700)
        if self.as_postgres:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.sock, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--no-sync",
                  "--auth-local=trust", "--auth-host=scram-sha-256")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "log"), "-w", "-o",
                  f"-h 127.0.0.1 -p {self.port} -k {self.sock} -F", "start")
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run([*self.as_postgres, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def admin(self):  # noqa: ANN201 - a psycopg2 connection
        """A superuser connection over the socket (no password: only root and postgres reach it)."""
        import psycopg2

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg2.connect(host=str(self.sock), port=self.port, user="postgres", dbname="postgres")
                conn.autocommit = True
                return conn
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def create_database(self, name: str, owner: str) -> str:
        """A database owned by a new role with a random password; its URL over TCP."""
        password = secrets.token_urlsafe(16)
        conn = self.admin()
        try:
            cur = conn.cursor()
            cur.execute(f'CREATE ROLE "{owner}" LOGIN PASSWORD %s', (password,))
            cur.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        finally:
            conn.close()
        return f"postgresql+psycopg2://{owner}:{password}@127.0.0.1:{self.port}/{name}"
