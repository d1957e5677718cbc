"""spm serve under load: live pages against a static file of the same size, and the first cold team page.

Part 1, on the demo store (``spm demo --no-book``, or ``--demo DIR`` for a workspace made earlier):
``spm serve`` runs in local mode as a subprocess, as a trainer starts it. After one request to each page
(the pages are then in the service's cache, as they are for every visitor after the first), 20
concurrent clients send requests for 60 s, round-robin over four URLs:

- ``/rep/<id>`` and ``/team/<team>``: the live pages (the first rep of the first team, and that team);
- ``/book/bench-rep.html`` and ``/book/bench-team.html``: static files of exactly the same sizes (the
  pages' own bytes), served by the same server's ``/book/`` handler, in the same run.

Every request carries the token (``Authorization: token ...``), so both sides pass the same sign-in
check. Reported: requests, p50 and p95 of each URL, and live p95 / static p95. Goals: at most 3x, and no
failed request (a status other than 200, a wrong size, an error or a timeout).

Part 2, a store with a 2,000-rep team (drawn as benchmarks/reports.py draws it): ``spm report team``
as a subprocess (start-up included), then a fresh ``spm serve`` on the same store and its first request
for the team's page (nothing cached). Goal: the served page takes no longer than the command.

    python benchmarks/serve_load.py [--demo DIR] [--clients 20] [--seconds 60] [--team-reps 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import quote

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reports import build_store  # noqa: E402  (the benchmark helpers beside this file)
from sync import BIN, timed  # noqa: E402

RATIO_GOAL = 3.0
STARTUP_SECONDS = 120.0
COLD_TEAM = "Big"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """``spm serve`` in local mode on a store, from a project folder whose built book is ``site/_build/html``."""

    db: Path
    course: Path
    site: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    log: IO[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def start(self) -> float:
        """Start the service; the seconds until /healthz answers."""
        self.site.mkdir(parents=True, exist_ok=True)
        (self.site / "_config.yml").write_text("title: serve benchmark\n")
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.log = open(self.site / "serve.log", "wb")       # closed in stop()
        start = time.perf_counter()
        self.proc = subprocess.Popen([str(BIN / "spm"), "--db", str(self.db), "--course", str(self.course), "serve",
                                      "--port", str(self.port), "--token", self.token],
                                     cwd=self.site, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        while time.perf_counter() - start < STARTUP_SECONDS:
            if self.proc.poll() is not None:
                raise SystemExit(f"spm serve exited ({self.proc.returncode}):\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"spm serve did not answer /healthz within {STARTUP_SECONDS:.0f} s:\n{self.output()}")

    def get(self, path: str, timeout: float = 600) -> tuple[int, bytes, float]:
        request = urllib.request.Request(self.base + path, headers=self.headers)
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                body = r.read()
                return r.status, body, time.perf_counter() - start
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), time.perf_counter() - start

    def output(self) -> str:
        return (self.site / "serve.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()


def demo_store(work: Path, given: Path | None) -> Path:
    """The demo workspace: ``given``, else one made now with ``spm demo --no-book``."""
    if given is not None:
        if not (given / "spm.db").is_file():
            raise SystemExit(f"{given}: no spm.db here; make a demo with: spm demo --no-book --dir {given}")
        return given
    folder = work / "demo"
    seconds, _, _ = timed([str(BIN / "spm"), "demo", "--no-book", "--dir", str(folder)], work)
    print(f"demo store made with spm demo --no-book in {seconds:.0f} s")
    return folder


def first_rep_and_team(server: Server) -> tuple[str, str]:
    """The first rep (by team, then id) of ``spm export reps``, and their team."""
    _, _, out = timed([str(BIN / "spm"), "--db", str(server.db), "--course", str(server.course), "export", "reps",
                       "--format", "json"], server.site)
    first = min(json.loads(out), key=lambda r: (r["team"], r["rep_id"]))
    return str(first["rep_id"]), str(first["team"])


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def load(server: Server, urls: dict[str, tuple[str, int | None]], clients: int,
               seconds: float) -> dict[str, Sample]:
    """``clients`` concurrent loops over ``urls`` (name -> (path, exact size or None)) for ``seconds``."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    AsyncHTTPClient.configure(None, max_clients=clients)
    http = AsyncHTTPClient()
    names = list(urls)
    samples = {name: Sample() for name in names}
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        n = i
        while time.perf_counter() < deadline:
            name = names[n % len(names)]
            n += 1
            path, size = urls[name]
            request = HTTPRequest(server.base + path, headers=server.headers, request_timeout=120,
                                  follow_redirects=False)
            start = time.perf_counter()
            try:
                response = await http.fetch(request, raise_error=False)
            except Exception as exc:  # noqa: BLE001 - every failure is counted, whatever it is
                samples[name].failed.append(f"{type(exc).__name__}: {exc}")
                continue
            took = time.perf_counter() - start
            if response.code != 200:
                samples[name].failed.append(f"status {response.code}")
            elif size is not None and len(response.body) != size:
                samples[name].failed.append(f"{len(response.body)} bytes, not {size}")
            else:
                samples[name].seconds.append(took)

    await asyncio.gather(*(client(i) for i in range(clients)))
    http.close()
    return samples


def percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    p50, p95 = np.percentile(np.asarray(values) * 1000, [50, 95])
    return float(p50), float(p95)


def part1(work: Path, demo: Path, clients: int, seconds: float) -> bool:
    server = Server(db=demo / "spm.db", course=demo / "course", site=work / "site-demo")
    book = server.site / "_build" / "html"
    book.mkdir(parents=True, exist_ok=True)
    (book / "index.html").write_text("<!doctype html><title>book</title><p>benchmark book</p>\n")
    startup = server.start()
    ok = True
    try:
        rep, team = first_rep_and_team(server)
        live = {"rep": f"/rep/{quote(rep)}", "team": f"/team/{quote(team)}"}
        sizes = {}
        for kind, path in live.items():
            status, body, took = server.get(path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
            sizes[kind] = len(body)
            (book / f"bench-{kind}.html").write_bytes(body)       # the same bytes, as a static file
            print(f"  first {path}: {took * 1000:,.0f} ms, {len(body) / 1024:,.1f} KiB")
        urls = {"rep page (live)": (live["rep"], None), "rep-sized static file": ("/book/bench-rep.html", sizes["rep"]),
                "team page (live)": (live["team"], None),
                "team-sized static file": ("/book/bench-team.html", sizes["team"])}
        for _, (path, _) in urls.items():                       # warm: every URL once more
            status, _, _ = server.get(path)
            if status != 200:
                raise SystemExit(f"{path} answered {status} while warming up")
        print(f"spm serve up in {startup:.1f} s; {clients} clients for {seconds:.0f} s, round-robin over "
              f"{len(urls)} URLs (rep {rep}, team {team})")
        start = time.perf_counter()
        samples = asyncio.run(load(server, urls, clients, seconds))
        elapsed = time.perf_counter() - start
    finally:
        server.stop()
    total = sum(len(s.seconds) + len(s.failed) for s in samples.values())
    print(f"  {total:,} requests in {elapsed:.1f} s ({total / elapsed:,.0f} per second)")
    print(f"  {'URL':24s} {'requests':>9s} {'p50 ms':>9s} {'p95 ms':>9s}")
    stats = {}
    for name, s in samples.items():
        stats[name] = percentiles(s.seconds)
        print(f"  {name:24s} {len(s.seconds):9,d} {stats[name][0]:9.1f} {stats[name][1]:9.1f}")
    for kind in ("rep", "team"):
        live_p95, static_p95 = stats[f"{kind} page (live)"][1], stats[f"{kind}-sized static file"][1]
        ratio = live_p95 / static_p95
        p50_ratio = stats[f"{kind} page (live)"][0] / stats[f"{kind}-sized static file"][0]
        print(f"  {kind} page: p95 live {live_p95:.1f} ms / static {static_p95:.1f} ms = {ratio:.2f}x "
              f"(p50 {p50_ratio:.2f}x; goal p95 <= {RATIO_GOAL:.0f}x)")
        ok &= ratio <= RATIO_GOAL
    failed = [(name, f) for name, s in samples.items() for f in s.failed]
    print(f"  failed requests: {len(failed)}" + (f" (first: {failed[0][0]}: {failed[0][1]})" if failed else ""))
    return ok and not failed


def part2(work: Path, team_reps: int) -> bool:
    start = time.perf_counter()
    db = work / "team.db"
    build_store(db, team_reps, [(COLD_TEAM, "AE")])
    print(f"team store: {team_reps:,} reps in team {COLD_TEAM} (built in {time.perf_counter() - start:.1f} s)")
    course = ROOT / "assessments"
    cli_seconds, rss, _ = timed([str(BIN / "spm"), "--db", str(db), "--course", str(course), "report", "team",
                                 COLD_TEAM, "-o", str(work / "team.html")], work)
    cli_size = (work / "team.html").stat().st_size
    print(f"  spm report team {COLD_TEAM}: {cli_seconds:.2f} s (start-up included; peak {rss / 2**20:,.0f} MiB, "
          f"{cli_size / 2**20:.1f} MiB of HTML)")
    server = Server(db=db, course=course, site=work / "site-team")
    try:
        server.start()
        status, body, served_seconds = server.get(f"/team/{COLD_TEAM}")
        again_status, _, again_seconds = server.get(f"/team/{COLD_TEAM}")
    finally:
        server.stop()
    if status != 200 or again_status != 200:
        print(f"  /team/{COLD_TEAM} answered {status}, then {again_status}: {body[:300]!r}")
        return False
    ratio = served_seconds / cli_seconds
    print(f"  first (cold) /team/{COLD_TEAM} from spm serve: {served_seconds:.2f} s ({len(body) / 2**20:.1f} MiB); "
          f"then from its cache {again_seconds * 1000:,.0f} ms")
    print(f"  cold served / CLI = {served_seconds:.2f} / {cli_seconds:.2f} s = {ratio:.2f}x (goal <= 1x)")
    return ratio <= 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, help="An spm demo workspace to serve (default: make one).")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--team-reps", type=int, default=2000)
    parser.add_argument("--part", choices=("1", "2", "all"), default="all")
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it (default: a temporary one).")
    options = parser.parse_args()
    work = options.keep or Path(tempfile.mkdtemp(prefix="spm-bench-serve-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    ok = True
    try:
        if options.part in ("1", "all"):
            ok &= part1(work, demo_store(work, options.demo), options.clients, options.seconds)
        if options.part in ("2", "all"):
            ok &= part2(work, options.team_reps)
    finally:
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("all goals met" if ok else "some goals missed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
