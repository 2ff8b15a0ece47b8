#!/usr/bin/env bash
# A Python 3.12 venv with the real Kimina Lean Server (PyPI kimina-ast-server 2.1.3), runnable offline.
#   bash scripts/setup_kimina.sh [VENV]        # default VENV: .venv-kimina in the repository root
# Then, with real Lean+Mathlib (or the embedded REPL through tests/repl_shim.py, as the tests do):
#   LEAN_SERVER_REPL_PATH=... LEAN_SERVER_PROJECT_DIR=... VENV/bin/kimina-offline
# Why each step:
# - kimina-ast-server needs Python >= 3.12; the interpreter is $BFS_PYTHON312, else python3.12 on
#   PATH (if it runs: a pyenv shim may not), else pyenv's newest 3.12. Without one the script exits 3 ("no Python 3.12 here"), which
#   CI reports and the Kimina tests skip on; any other failure exits non-zero and fails CI.
# - fastapi is pinned to 0.128.0: newer releases refuse the `logger=` argument the server passes to
#   FastAPI(...) ("unexpected keyword argument 'logger'") and the server dies at start.
# - The server imports `prisma` at start and, finding no generated client, runs `prisma generate`,
#   which downloads engine binaries; it uses the database only when LEAN_SERVER_DATABASE_URL is set.
#   VENV/offline/prisma is a stand-in whose client refuses to connect, put first on PYTHONPATH by
#   the VENV/bin/kimina-offline launcher (the real prisma package stays installed, untouched).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/.venv-kimina}
# Absolute, because the import check below runs from inside the venv (a relative path would not resolve there).
mkdir -p "$venv" && venv=$(cd "$venv" && pwd)

is_312() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }

find_python312() {
  local c
  for c in "${BFS_PYTHON312:-}" "$(command -v python3.12 || true)" \
           $(command -v pyenv >/dev/null 2>&1 && ls -d "$(pyenv root)"/versions/3.12.*/bin/python 2>/dev/null | sort -rV); do
    if [ -n "$c" ] && is_312 "$c"; then echo "$c"; return 0; fi
  done
  return 1
}

if ! py=$(find_python312); then
  echo "setup_kimina: no Python 3.12 here (set BFS_PYTHON312, or put python3.12 on PATH, or pyenv install 3.12): the real Kimina server tests will skip" >&2
  exit 3
fi

"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade pip
"$venv/bin/python" -m pip install "kimina-ast-server==2.1.3" "fastapi==0.128.0"

mkdir -p "$venv/offline/prisma"
cat > "$venv/offline/prisma/__init__.py" <<'PY'
"""Offline stand-in for the `prisma` client kimina-ast-server imports (scripts/setup_kimina.sh).
The real package runs `prisma generate` (a download) on first import; the server only needs
`Prisma().connect()`, called when LEAN_SERVER_DATABASE_URL is set, which this one refuses."""


class Prisma:
    def __init__(self, *args, **kwargs):
        pass

    async def connect(self):
        raise RuntimeError("no database: kimina-ast-server runs with the offline prisma stand-in")

    async def disconnect(self):
        pass
PY

cat > "$venv/bin/kimina-offline" <<SH
#!/bin/sh
# kimina-ast-server with the offline prisma stand-in first on the import path.
PYTHONPATH="$venv/offline\${PYTHONPATH:+:\$PYTHONPATH}" exec "$venv/bin/python" -m server "\$@"
SH
chmod +x "$venv/bin/kimina-offline"

# The server must import (settings, app, routers) without a network or a database.
(cd "$venv" && PYTHONPATH="$venv/offline" LEAN_SERVER_SKIP_VALIDATION=1 "$venv/bin/python" -c \
  'import fastapi, server.main; from importlib.metadata import version; print("kimina-ast-server", version("kimina-ast-server"), "fastapi", fastapi.__version__)')
echo "Kimina Lean Server installed in $venv: run $venv/bin/kimina-offline"
