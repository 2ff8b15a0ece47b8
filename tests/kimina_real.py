"""The real Kimina Lean Server (kimina-ast-server 2.1.3, from the venv scripts/setup_kimina.sh makes)
serving the embedded REPL through tests/repl_shim.py: its own REPL manager launches `lake env
<repl>` in the project directory, which the shim turns into `python -m lean_env.embedded`.

    with RealKiminaServer(tmp_path, max_repls=2) as url:
        env = make_env("kimina", kimina_url=url)

`kimina_unavailable()` says why it cannot run here (no Python 3.12), or None; `ensure_venv()`
builds the venv when 3.12 is here and it is missing, and raises with the script's output if the
build fails, so a broken install fails the tests instead of skipping them.
"""
from __future__ import annotations

import functools
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from repl_shim import make_repl_shim

REPO = Path(__file__).resolve().parent.parent
SETUP = REPO / "scripts" / "setup_kimina.sh"
VERSION = "2.1.3"


def venv_dir() -> Path:
    return Path(os.environ.get("BFS_KIMINA_VENV") or REPO / ".venv-kimina")


def _is_312(python: str) -> bool:
    try:
        out = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "True"


@functools.cache
def find_python312() -> str | None:
    """The interpreter scripts/setup_kimina.sh would use (same order)."""
    candidates = [os.environ.get("BFS_PYTHON312"), shutil.which("python3.12")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        candidates += sorted(glob.glob(f"{root}/versions/3.12.*/bin/python"), reverse=True)
    return next((c for c in candidates if c and _is_312(c)), None)


def kimina_unavailable() -> str | None:
    if find_python312() is None:
        return ("kimina-ast-server needs Python 3.12 and none is here (BFS_PYTHON312, python3.12 on PATH "
                "or pyenv's 3.12): the real Kimina Lean Server cannot run")
    return None


def launcher() -> Path:
    return venv_dir() / "bin" / "kimina-offline"


@functools.cache
def ensure_venv() -> Path:
    """The venv's launcher, building the venv first when it is missing."""
    if not launcher().exists():
        out = subprocess.run(["bash", str(SETUP), str(venv_dir())], capture_output=True, text=True, timeout=1200)
        if out.returncode != 0 or not launcher().exists():
            raise RuntimeError(f"scripts/setup_kimina.sh failed (exit {out.returncode}):\n"
                               f"{(out.stdout + out.stderr)[-3000:]}")
    return launcher()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealKiminaServer:
    """kimina-ast-server on 127.0.0.1 with `max_repls` embedded REPLs; the URL on entry. Its log
    (and each REPL's stderr) goes to `root/server.log`."""

    def __init__(self, root: Path, max_repls: int = 2, api_key: str | None = None, start_timeout: float = 120.0):
        self.root = Path(root)
        self.max_repls, self.api_key, self.start_timeout = max_repls, api_key, start_timeout
        self.proc: subprocess.Popen | None = None
        self.log = self.root / "server.log"

    def __enter__(self) -> str:
        exe = ensure_venv()
        shim = make_repl_shim(self.root / "shim")
        port = _free_port()
        env = {**shim.environ(),
               "LEAN_SERVER_HOST": "127.0.0.1", "LEAN_SERVER_PORT": str(port),
               "LEAN_SERVER_REPL_PATH": str(shim.repl), "LEAN_SERVER_PROJECT_DIR": str(shim.project),
               "LEAN_SERVER_SKIP_VALIDATION": "1",   # no AST-export binary: the /verify path never needs it
               "LEAN_SERVER_MAX_REPLS": str(self.max_repls), "LEAN_SERVER_LOG_LEVEL": "WARNING",
               "LEAN_SERVER_ENVIRONMENT": "dev"}   # prod would try Google Cloud Logging
        env.pop("LEAN_SERVER_DATABASE_URL", None)
        env.pop("LEAN_SERVER_API_KEY", None)
        if self.api_key:
            env["LEAN_SERVER_API_KEY"] = self.api_key
        self._logf = open(self.log, "w")
        # cwd: the server reads `.env` from it; a fresh folder has none
        self.proc = subprocess.Popen([str(exe)], cwd=shim.root, env=env, stdout=self._logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.__exit__()
                raise RuntimeError(f"kimina-ast-server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self.url
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"kimina-ast-server did not answer /health in {self.start_timeout:g}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def __exit__(self, *exc) -> None:
        if self.proc is None:
            return
        # the REPLs run in sessions of their own (the server setsid()s them): collect them first
        try:
            import psutil
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except Exception:
            children = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)   # the server's shutdown closes its REPLs
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for child in children:
            try:
                child.wait(timeout=5)
            except Exception:
                try:
                    child.kill()
                except Exception:
                    pass
        self._logf.close()
        self.proc = None


if __name__ == "__main__":   # a server to try by hand: python tests/kimina_real.py DIR
    import tempfile

    with RealKiminaServer(Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())) as url:
        print(url, flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
