"""A local stand-in for Kimina Lean Server's `POST /verify` on 127.0.0.1, for the Kimina backend tests
of what the real server (tests/kimina_real.py) cannot be made to do: fail on demand.

It behaves like kimina-ast-server 2.1.3 with the embedded REPL as its REPL binary (its
`server/split.py`, `manager.py`, `repl.py`): each snippet is split into its leading blank and
`import` lines, the header (`import Mathlib...` lines collapsed into one `import Mathlib`), and
the rest, the body; each distinct header gets its own REPL session, which runs the header once and
then each body with `env: 0` (so with a blank header, the environment the first body left); and
message and sorry lines are reported as the REPL gives them, counted from the body's first line,
not shifted back. Requests are validated like the server's pydantic model (422 with a `detail`
list), the `Authorization: Bearer KEY` header is checked when `api_key` is set (401), and `fault`
makes it misbehave the ways a real deployment does:

    "busy"       HTTP 429 {"detail": "No available REPLs"} (all REPLs taken)
    "busy_once"  429 for the first request only, then normal
    "garbage"    HTTP 200 with a body that is not JSON
    "no_results" HTTP 200 {"ok": true}
    "drop"       the reply leaves out the last snippet's result
    "timeout"    every snippet's result is {"error": "Lean REPL command timed out in N seconds"}
    "header_timeout"  ... {"error": "Lean REPL header command timed out in N seconds"}
    "hang"       no reply for `hang_seconds`

`rewrite(response) -> response` edits each REPL reply before it is sent (a server that lies).
Every request body and its Authorization header are kept in `requests` for assertions.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from lean_env.embedded.session import Session


def split_snippet(code: str) -> tuple[str, str]:
    """(header, body) as kimina-ast-server 2.1.3's `split_snippet` makes them."""
    lines = code.splitlines()
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("import ")):
        i += 1
    imports = [line.strip() for line in lines[:i] if line.strip()]
    header = ["import Mathlib"] if any(x.startswith("import Mathlib") for x in imports) else []
    header += dict.fromkeys(x for x in imports if not x.startswith("import Mathlib"))
    return "\n".join(header), "\n".join(lines[i:])


class FakeKiminaServer:
    def __init__(self, api_key: str | None = None, fault: str | None = None,
                 rewrite: Callable[[dict], dict] | None = None, hang_seconds: float = 5.0):
        self.api_key, self.fault, self.rewrite, self.hang_seconds = api_key, fault, rewrite, hang_seconds
        self.requests: list[tuple[dict, str | None]] = []
        self._repls: dict[str, Session] = {}   # header -> its REPL session
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):   # keep test output quiet
                pass

            def do_POST(self):
                if self.path not in ("/verify", "/one_pass_verify_batch"):
                    return self.reply(404, {"detail": "Not Found"})
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                auth = self.headers.get("Authorization")
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self.reply(422, {"detail": [{"msg": "JSON decode error"}]})
                server.requests.append((body, auth))
                status, payload = server.handle(body, auth)
                if status == "hang":
                    time.sleep(server.hang_seconds)
                    status, payload = 200, {"results": []}
                self.reply(status, payload)

            def reply(self, status: int, payload: Any) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):   # the client stopped waiting ("hang")
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def handle(self, body: Any, auth: str | None) -> tuple[Any, Any]:
        if self.api_key is not None:
            if not auth:
                return 401, {"detail": "Missing API key"}
            if auth.removeprefix("Bearer ").strip() != self.api_key:
                return 401, {"detail": "Invalid API key"}
        problems = _validate(body)
        if problems:
            return 422, {"detail": [{"msg": p} for p in problems]}
        if self.fault == "busy" or (self.fault == "busy_once" and len(self.requests) == 1):
            return 429, {"detail": "No available REPLs"}
        if self.fault == "garbage":
            return 200, b"<html>502 Bad Gateway</html>"
        if self.fault == "no_results":
            return 200, {"ok": True}
        if self.fault == "hang":
            return "hang", None
        results = [self.check(str(c["custom_id"]), c.get("proof") or c.get("code"), body.get("timeout", 300))
                   for c in body["codes"]]
        if self.fault == "drop":
            results = results[:-1]
        return 200, {"results": results}

    def check(self, cid: str, code: str, timeout: int) -> dict:
        if self.fault in ("timeout", "header_timeout"):
            which = "header command" if self.fault == "header_timeout" else "command"
            return {"custom_id": cid, "error": f"Lean REPL {which} timed out in {timeout} seconds"}
        header, body = split_snippet(code)
        with self._lock:   # one embedded session per header, used by one request at a time
            if header not in self._repls:
                self._repls[header] = Session()
                if header:
                    self._repls[header].handle({"cmd": header})
            session = self._repls[header]
            t0 = time.perf_counter()
            # the server sends `env: 0` once its REPL has run anything (its header, or a first body)
            response = session.handle({"cmd": body, **({"env": 0} if session.envs else {})})
        if self.rewrite is not None:
            response = self.rewrite(response)
        return {"custom_id": cid, "response": {**response, "time": time.perf_counter() - t0}}

    def __enter__(self) -> "FakeKiminaServer":
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _validate(body: Any) -> list[str]:
    """What the server's `VerifyRequestBody` model would refuse."""
    if not isinstance(body, dict) or not isinstance(body.get("codes"), list):
        return ["codes: field required (a list)"]
    problems = []
    for i, c in enumerate(body["codes"]):
        if not isinstance(c, dict) or not isinstance(c.get("custom_id"), (str, int)):
            problems.append(f"codes.{i}.custom_id: str or int required")
        elif not isinstance(c.get("proof") if c.get("proof") is not None else c.get("code"), str):
            problems.append(f"codes.{i}: proof or code required")
    if not isinstance(body.get("timeout", 300), int):
        problems.append("timeout: an integer required")
    return problems
