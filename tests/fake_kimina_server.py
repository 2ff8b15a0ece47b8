"""A local stand-in for Kimina Lean Server's `POST /verify` on 127.0.0.1, for the Kimina backend tests.

It behaves like the real server with the embedded REPL as its REPL binary: each snippet is split
into its leading `import` lines (the header, elaborated once per distinct header in an in-process
embedded `Session`, like the server's header-keyed REPL pool) and the rest, which runs in the
header's environment; message and sorry lines are shifted back to count from the top of the
snippet, as the server does. Requests are validated like the server's pydantic model (422 with a
`detail` list), the `Authorization: Bearer KEY` header is checked when `api_key` is set (401), and
`fault` makes it misbehave the ways a real deployment does:

    "busy"       HTTP 429 {"detail": "No available REPLs"} (all REPLs taken)
    "busy_once"  429 for the first request only, then normal
    "garbage"    HTTP 200 with a body that is not JSON
    "no_results" HTTP 200 {"ok": true}
    "drop"       the reply leaves out the last snippet's result
    "timeout"    every snippet's result is {"error": "Lean REPL command timed out in N seconds"}
    "header_timeout"  ... {"error": "Lean REPL header command timed out in N seconds"}
    "hang"       no reply for `hang_seconds`
    "unshifted"  line numbers counted from the first non-import line (servers before the fix)

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


def split_snippet(code: str) -> tuple[str, str, int]:
    """(header, body, header line count): the leading blank and `import` lines, the rest."""
    lines = code.splitlines()
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("import ")):
        i += 1
    header = "\n".join(line.strip() for line in lines[:i] if line.strip())
    return header, "\n".join(lines[i:]), i


def _shift(items: list[dict], offset: int) -> None:
    for item in items:
        for key in ("pos", "endPos"):
            if isinstance(item.get(key), dict):
                item[key]["line"] += offset


class FakeKiminaServer:
    def __init__(self, api_key: str | None = None, fault: str | None = None,
                 rewrite: Callable[[dict], dict] | None = None, hang_seconds: float = 5.0):
        self.api_key, self.fault, self.rewrite, self.hang_seconds = api_key, fault, rewrite, hang_seconds
        self.requests: list[tuple[dict, str | None]] = []
        self._headers: dict[str, tuple[Session, int]] = {}   # header -> (REPL session, its env)
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
        header, body, offset = split_snippet(code)
        with self._lock:   # one embedded session per header, used by one request at a time
            if header not in self._headers:
                session = Session()
                self._headers[header] = (session, session.handle({"cmd": header})["env"])
            session, env = self._headers[header]
            t0 = time.perf_counter()
            response = session.handle({"cmd": body, "env": env})
        if self.fault != "unshifted" and "message" not in response:
            _shift(response.get("messages") or [], offset)
            _shift(response.get("sorries") or [], offset)
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
