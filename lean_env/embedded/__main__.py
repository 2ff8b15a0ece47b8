"""`python -m lean_env.embedded`: serve the embedded kernel over the Lean REPL protocol on stdio.

Framing is the REPL's own (`getLines` in REPL/Main.lean): a request is the lines up to a blank
line, each with its trailing whitespace cut off and joined with nothing in between (so a raw
newline inside a JSON string joins the words, as in Lean); a request that starts with `#` or `--`
is skipped without a reply; each reply is one JSON object and a blank line, flushed at once. A
request still buffered when stdin closes is answered too. Unlike the REPL, text that is not JSON
gets a `{"message": "Could not parse JSON: ..."}` reply instead of ending the process.

Resources, like a real REPL worker under the pool: `--max-memory-mb N` (or the environment
variable LEAN_EMBEDDED_MAX_MEMORY_MB) caps the address space at N MB (RLIMIT_AS: a single huge
allocation fails with MemoryError) and starts a watchdog that interrupts the request in flight
once resident memory passes 80% of N (a computation growing step by step, e.g. `ring` on a large
power). Either way the request is answered with an error and the server lives on, its memory
freed. Nothing is written to stderr unless LEAN_EMBEDDED_DEBUG is set (kernel tracebacks), as
some clients take any stderr output for a crashed REPL. Integers print with any number of digits (Python's 4300-digit guard is lifted here, in the
server process only).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import threading
from typing import TextIO

from lean_env.embedded.session import Session

MEMORY_ENV = "LEAN_EMBEDDED_MAX_MEMORY_MB"
DEBUG_ENV = "LEAN_EMBEDDED_DEBUG"        # set: kernel exceptions print their traceback to stderr
WATCH_FRACTION = 0.8     # of the cap: interrupt before allocations start failing at random places
WATCH_INTERVAL = 0.05    # seconds between resident-memory checks


class MemoryCapExceeded(BaseException):
    """Raised in the main thread by the watchdog; a BaseException so that no `except Exception`
    inside the kernel swallows it: it ends the whole request."""


class MemoryGuard:
    """RLIMIT_AS at `limit_mb`, plus a thread that interrupts the request in flight when resident
    memory passes `watch_mb` (default WATCH_FRACTION of the cap). Only requests are interrupted
    (`busy`), never the idle loop."""

    def __init__(self, limit_mb: int, watch_mb: int | None = None):
        import psutil  # a dependency of lean_env already (the pool measures workers with it)

        self.limit_mb = limit_mb
        self.watch_mb = watch_mb or int(limit_mb * WATCH_FRACTION)
        self.busy = False
        self.tripped = False
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self._previous_handler = None

    def start(self) -> None:
        self.watch()               # first: the thread's stack and malloc arena count against the cap
        self.cap_address_space()

    def cap_address_space(self) -> None:
        import resource

        cap = self.limit_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))

    def watch(self) -> None:
        """Install the interrupt (main thread only) and start the watchdog thread."""
        self._previous_handler = signal.signal(signal.SIGUSR1, self._interrupt)
        threading.Thread(target=self._watch, name="rss-watchdog", daemon=True).start()

    def stop(self) -> None:
        """Stop watching and put the previous SIGUSR1 handler back."""
        self._stop.set()
        if self._previous_handler is not None:
            signal.signal(signal.SIGUSR1, self._previous_handler)

    def _interrupt(self, signum, frame) -> None:
        if self.busy and self.tripped:
            raise MemoryCapExceeded(
                f"out of memory: the request used more than {self.watch_mb} MB of resident memory "
                f"(the embedded server's cap is {self.limit_mb} MB); it was stopped")

    def _watch(self) -> None:
        threshold = self.watch_mb * 1024 * 1024
        while not self._stop.wait(WATCH_INTERVAL):
            if not self.busy or self.tripped:
                continue
            try:
                rss = self._proc.memory_info().rss
            except Exception:  # noqa: BLE001 -- even MemoryError here: look again next time
                continue
            if rss > threshold:
                self.tripped = True
                os.kill(os.getpid(), signal.SIGUSR1)   # the handler runs in the main thread


def _answer(session: Session, text: str) -> dict:
    try:
        req = json.loads(text)
    except json.JSONDecodeError as e:
        return {"message": f"Could not parse JSON:\n{e.msg} at line {e.lineno} column {e.colno}"}
    except RecursionError:
        return {"message": "Could not parse JSON:\nnested too deeply"}
    return session.handle(req)


def _reply(session: Session, text: str, guard: MemoryGuard | None) -> str:
    if guard:
        guard.busy, guard.tripped = True, False
    try:
        reply = _answer(session, text)
        out = json.dumps(reply, ensure_ascii=False)
    except MemoryCapExceeded as e:
        out = json.dumps({"message": f"Lean error:\n{e}"}, ensure_ascii=False)
    except MemoryError:
        out = json.dumps({"message": "Lean error:\nout of memory (the embedded server's memory cap)"})
    except Exception as e:  # noqa: BLE001 -- whatever happens, the client gets an answer
        out = json.dumps({"message": f"Lean error:\nembedded server exception: {type(e).__name__}: {e}"})
    finally:
        if guard:
            guard.busy = False
    if guard and guard.tripped:
        gc.collect()
    return out


def serve(stdin: TextIO, stdout: TextIO, guard: MemoryGuard | None = None, debug: bool = False) -> None:
    session = Session(debug=debug)
    buf: list[str] = []

    def flush_request() -> None:
        text = "".join(buf)
        buf.clear()
        if text.startswith("#") or text.startswith("--"):
            return   # the REPL skips these without a reply (comment lines in scripted sessions)
        try:
            out = _reply(session, text, guard)
        except MemoryCapExceeded as e:   # the watchdog fired as the request was finishing
            out = json.dumps({"message": f"Lean error:\n{e}"}, ensure_ascii=False)
        stdout.write(out + "\n\n")
        stdout.flush()

    lines = iter(stdin)
    while True:
        try:
            line = next(lines, None)
        except MemoryError:   # a request larger than the memory cap: answer it, drop it, go on
            buf.clear()
            gc.collect()
            stdout.write(json.dumps({"message": "Lean error:\nout of memory: the request is larger than "
                                                "the embedded server's memory cap"}) + "\n\n")
            stdout.flush()
            continue
        if line is None:
            break
        if line.strip():
            buf.append(line.rstrip())
        elif buf:
            flush_request()
    if buf:
        flush_request()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lean_env.embedded", description=__doc__.split("\n")[0])
    parser.add_argument("--max-memory-mb", type=int, default=None,
                        help=f"cap the address space (and watch resident memory); default ${MEMORY_ENV} or no cap")
    args, _ = parser.parse_known_args(argv)   # the REPL ignores its arguments; so do we, but ours
    limit = args.max_memory_mb or int(os.environ.get(MEMORY_ENV) or 0) or None
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)   # Lean prints numerals of any length
    # Goals are full of ∀ ℕ ⊢: never let a C locale turn them into encoding errors.
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    guard = None
    if limit:
        guard = MemoryGuard(limit)
        guard.start()
    try:
        serve(sys.stdin, sys.stdout, guard, debug=bool(os.environ.get(DEBUG_ENV)))
    except (BrokenPipeError, KeyboardInterrupt):
        pass


if __name__ == "__main__":
    main()
