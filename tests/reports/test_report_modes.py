"""Written reports follow the umask of whoever writes them (issue 16): 0644 under umask 022, so the
team can read them; 0600 under umask 077, so nobody else can."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from store_files import make_store


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_a_report_gets_the_mode_the_umask_gives_a_new_file(tmp_path: Path, umask: int, mode: int) -> None:
    db = make_store(tmp_path / "spm.db")
    out = tmp_path / "team.html"
    result = subprocess.run(
        [sys.executable, "-c", "from spm_training.cli import main; main()", "--db", str(db), "--course", str(tmp_path),
         "report", "team", "East", "-o", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(umask))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out}\n"
    assert stat.S_IMODE(out.stat().st_mode) == mode
