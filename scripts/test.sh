#!/usr/bin/env bash
# The whole test suite on a fresh machine: Debian packages, a virtual environment, the project with its
# test extra, then pytest. This is the README's test command, and CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive: Chromium (browser tests), bubblewrap (the grading sandbox),
# PostgreSQL server binaries (the gradebook on PostgreSQL), Node.js/npm (JupyterHub's proxy).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Missing ${need[*]}: install them with apt-get (as root); the tests that need them will be skipped."
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# Activate, so that nbgrader and jupyter-book find their own executables (alembic, jupyter) on PATH.
# shellcheck disable=SC1091
. .venv/bin/activate
exec python -m pytest "$@"
