"""Whole-proof verification on a Kimina Lean Server (project-numina/kimina-lean-server): a pool of
Lean REPLs behind HTTP, with the import header of each snippet elaborated once per REPL and reused.

    env = make_env("kimina", kimina_url="http://localhost:8000")   # $LEAN_SERVER_API_KEY if it has a key
    verdict = await env.verify(theorem, tactics)

The server is a backend for `lean_env.verify.verify_proof`, like a REPL worker: we send exactly the
text our own verifier builds (statement verbatim + tactics + `#print axioms NAME`) after the
benchmark header, and judge the REPL reply it returns with our own rules (`check_reply`), so a
Kimina "valid" counts for nothing by itself: no sorry, no foreign axiom, the axioms report found at
its own line. Prechecks (sorry, metaprogramming, ...) refuse a proof before anything is sent.

API (the server's backward-compatible batch endpoint, `POST /verify`):
  request  {"codes": [{"custom_id": str, "proof": str}], "timeout": int, "infotree_type": null,
            "disable_cache": false}; header `Authorization: Bearer KEY` when the server has a key
  reply    {"results": [{"custom_id": str, "error": str} or {"custom_id": str, "response":
            {REPL reply: "messages", "sorries", "env", ..., "time"}}]}
  errors   a result's `error` ("Lean REPL command timed out in N seconds", ...); a REPL-level
           error as response {"message": ...}; HTTP 401 (key), 429 (no free REPL), 422 (bad
           request), 500, each with {"detail": ...}
Lines: the server (kimina-ast-server 2.1.3, as every release before it) splits the leading blank
and `import` lines off as the header (`server/split.py`; newer sources also `module`, `prelude`,
`public`/`meta import`), runs the rest, the body, in the header's environment, and reports message
and sorry lines counted from the body's first line, not shifted back. We split the snippet by the
same rule and move each line to count from our command (`_body_to_command`), so the `#print
axioms` report is found at its own line. A snippet always has an import line (`import Init`, which
every Lean file imports anyway, where the benchmark header has none): a REPL whose header is blank
runs its later snippets in the environment its first snippet left (`env: 0`), which would let
one proof see another's declarations.

Batching: verifications started together (e.g. `prover verify`'s rows) go out in one request of
up to `batch_size` snippets, with at most `max_requests` requests in flight.

Failures of the server (unreachable, HTTP errors, replies we cannot read, no reply in time)
reject the proof with an `environment failure` reason; they never count as a proof.
"""
from __future__ import annotations

import asyncio
import itertools
import math
import os
import re
from typing import Any, Sequence

import httpx

from lean_env.types import EnvFailure, StartResult, TacticResult, TacticState, Theorem, Verdict
from lean_env.verify import verify_proof

API_KEY_ENV = "LEAN_SERVER_API_KEY"   # the name Kimina's own client and server read
QUEUE_WAIT = 60.0                     # the server's default wait for a free REPL before HTTP 429


class KiminaError(Exception):
    """The server could not be asked, or its reply could not be read."""


class KiminaEnv:
    def __init__(self, url: str, verify_timeout: float = 60.0, api_key: str | None = None,
                 batch_size: int = 64, max_requests: int = 4, http_timeout: float | None = None,
                 retries: int = 2, retry_delay: float = 1.0):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"kimina_url must be an http(s) URL, got {url!r}")
        if batch_size < 1 or max_requests < 1 or verify_timeout <= 0:
            raise ValueError("batch_size and max_requests must be >= 1 and verify_timeout > 0")
        self.url = url.rstrip("/")
        self.verify_timeout = verify_timeout
        self.api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        self.batch_size, self.max_requests = batch_size, max_requests
        # the server spends up to `timeout` on the header and again on the body, after queueing
        self.http_timeout = http_timeout or 2 * math.ceil(verify_timeout) + QUEUE_WAIT + 30
        self.retries, self.retry_delay = retries, retry_delay
        self._client: httpx.AsyncClient | None = None
        self._queue: list[tuple[str, str, float, asyncio.Future]] = []
        self._tasks: set[asyncio.Task] = set()
        self._slots: asyncio.Semaphore | None = None
        self._ids = itertools.count()
        self._closed = False

    # ------------------------------------------------------------ ProofEnv
    async def start(self, theorem: Theorem) -> StartResult:
        return EnvFailure("a Kimina Lean Server checks whole proofs only: use it for verification "
                          "(prover verify --env kimina, or kimina_url with --env dojo)")

    async def run_tactic(self, state: TacticState, tactic: str) -> TacticResult:
        return EnvFailure("a Kimina Lean Server runs no tactics one by one")

    async def verify(self, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
        if self._closed:
            return Verdict(False, ("environment failure: the Kimina client is closed",))

        async def run(cmd: str, timeout: float) -> dict[str, Any]:
            # called only once the prechecks pass: a refused proof is never sent
            prefix = snippet_prefix(theorem.header)
            snippet = prefix + cmd
            return _to_command_reply(await self._submit(snippet, timeout), _body_to_command(snippet, prefix))

        try:
            return await verify_proof(run, theorem, tactics, self.verify_timeout)
        except KiminaError as e:
            return Verdict(False, (f"environment failure during verification: {e}"[:500],))

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for *_, future in self._queue:
            if not future.done():
                future.set_exception(KiminaError("the Kimina client was closed"))
        self._queue.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ------------------------------------------------------------ batching
    async def _submit(self, code: str, timeout: float) -> dict[str, Any]:
        """One snippet's result entry, sent with whatever else is waiting."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((f"bfs-{next(self._ids)}", code, timeout, future))
        if len(self._queue) == 1:   # the first one waiting schedules the flush
            self._spawn(self._flush())
        return await future

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self) -> None:
        await asyncio.sleep(0)   # every verify started in this loop iteration joins the batch
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_requests)
        while True:
            await self._slots.acquire()   # while waiting, more snippets queue up: larger batches
            if not self._queue:
                self._slots.release()
                return
            batch, self._queue = self._queue[:self.batch_size], self._queue[self.batch_size:]
            self._spawn(self._send(batch))

    async def _send(self, batch: list[tuple[str, str, float, asyncio.Future]]) -> None:
        try:
            timeout = max(t for _, _, t, _ in batch)
            try:
                results = await self._post([(cid, code) for cid, code, _, _ in batch], timeout)
            except KiminaError as e:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(e)
                return
            for cid, _, _, future in batch:
                if future.done():   # its verify was cancelled
                    continue
                entry = results.get(cid)
                if entry is None:
                    future.set_exception(KiminaError(f"the reply has no result for snippet {cid}"))
                else:
                    future.set_result(entry)
        finally:
            self._slots.release()

    async def _post(self, codes: list[tuple[str, str]], timeout: float) -> dict[str, dict[str, Any]]:
        """POST /verify; the results by custom_id. Retries a busy (429/503) or unreachable server."""
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.AsyncClient(timeout=self.http_timeout, headers=headers)
        body = {"codes": [{"custom_id": cid, "proof": code} for cid, code in codes],
                "timeout": max(1, math.ceil(timeout)), "infotree_type": None, "disable_cache": False}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                resp = await self._client.post(f"{self.url}/verify", json=body)
            except httpx.TimeoutException as e:
                raise KiminaError(f"no reply from the Kimina Lean Server at {self.url} within "
                                  f"{self.http_timeout:g}s ({type(e).__name__})") from e
            except httpx.TransportError as e:   # refused, reset, DNS
                if last:
                    raise KiminaError(f"cannot reach the Kimina Lean Server at {self.url}: "
                                      f"{type(e).__name__}: {e}") from e
                await asyncio.sleep(self.retry_delay * (attempt + 1))
                continue
            if resp.status_code in (429, 503) and not last:
                await asyncio.sleep(self.retry_delay * (attempt + 1))
                continue
            return _results(resp, self.url)
        raise AssertionError("unreachable")


def _results(resp: httpx.Response, url: str) -> dict[str, dict[str, Any]]:
    """The reply's results by custom_id, or a KiminaError saying what was wrong with it."""
    if resp.status_code != 200:
        detail = _detail(resp)
        if resp.status_code == 401:
            raise KiminaError(f"the Kimina Lean Server at {url} refused the API key ({detail}); "
                              f"set {API_KEY_ENV}")
        if resp.status_code == 429:
            raise KiminaError(f"the Kimina Lean Server at {url} has no free REPL ({detail})")
        raise KiminaError(f"the Kimina Lean Server at {url} answered HTTP {resp.status_code}: {detail}")
    try:
        data = resp.json()
    except ValueError:
        raise KiminaError(f"the Kimina Lean Server's reply is not JSON: {resp.text[:200]!r}") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise KiminaError(f"the Kimina Lean Server's reply has no list of results: {resp.text[:200]!r}")
    return {str(r.get("custom_id")): r for r in results}


def _detail(resp: httpx.Response) -> str:
    try:
        detail = resp.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail if detail is not None else resp.text)[:300]


# The lines the server takes as the snippet's header (`server/split.py`): blank lines, imports,
# and in newer sources module-system headers. Everything from the first other line is the body.
_HEADER_LINE = re.compile(r"\s*(?:(?:public\s+)?(?:meta\s+)?import\s.*|module|prelude)?\s*")


def snippet_prefix(header: str) -> str:
    """The text sent before our command: the benchmark header, newline-terminated, with at least
    one import line (see the module docstring for why a blank header is not sent)."""
    if header and not header.endswith("\n"):
        header += "\n"
    if not any(line.strip().startswith("import ") for line in header.splitlines()):
        header = "import Init\n" + header
    return header


def body_start(snippet: str) -> int:
    """How many leading lines of `snippet` the server splits off as its header."""
    lines = snippet.splitlines()
    i = 0
    while i < len(lines) and _HEADER_LINE.fullmatch(lines[i]):
        i += 1
    return i


def _body_to_command(snippet: str, prefix: str) -> int:
    """What to add to a line the server reports (counted from the body) to count it from our
    command: body line L is snippet line L + body_start, and the command starts after the prefix."""
    return body_start(snippet) - prefix.count("\n")


def _to_command_reply(entry: dict[str, Any], delta: int) -> dict[str, Any]:
    """A result entry as the REPL reply to our command alone: line numbers moved by `delta` to
    count from the command (`_body_to_command`). The proof's
    own timeout raises TimeoutError (the verifier's "timed out"); the header's timeout and other
    server errors raise KiminaError (environment failures)."""
    error, response = entry.get("error"), entry.get("response")
    if error:
        # the header's import timing out is the server's start-up, not the proof's doing
        if "timed out" in str(error) and "header" not in str(error):
            raise TimeoutError(str(error))
        raise KiminaError(f"server error: {str(error)[:300]}")
    if not isinstance(response, dict):
        raise KiminaError(f"a result has neither an error nor a response: {str(entry)[:200]}")
    reply = {k: v for k, v in response.items() if k != "time"}
    for key in ("messages", "sorries"):
        items = reply.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise KiminaError(f"the response's {key} is not a list")
        reply[key] = [_shifted(item, delta) for item in items]
    return reply


def _shifted(item: Any, delta: int) -> Any:
    if not isinstance(item, dict):
        return item
    out = dict(item)
    for key in ("pos", "endPos"):
        pos = item.get(key)
        if isinstance(pos, dict) and isinstance(pos.get("line"), int):
            out[key] = {**pos, "line": pos["line"] + delta}
    return out
