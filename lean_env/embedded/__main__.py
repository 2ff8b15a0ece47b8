"""`python -m lean_env.embedded`: serve the embedded kernel over the Lean REPL protocol on stdio.

Requests are JSON objects separated by blank lines; each reply is one JSON object followed by a
blank line, flushed at once, exactly as leanprover-community/repl does. A request still buffered
when stdin closes is answered too, so a client that forgets the final blank line loses nothing.
"""
from __future__ import annotations

import json
import sys
from typing import TextIO

from lean_env.embedded.session import Session


def _answer(session: Session, text: str) -> dict:
    try:
        req = json.loads(text)
    except json.JSONDecodeError as e:
        return {"message": f"Could not parse JSON: {e.msg} at line {e.lineno} column {e.colno}"}
    return session.handle(req)


def serve(stdin: TextIO, stdout: TextIO) -> None:
    session = Session()
    buf: list[str] = []

    def flush_request() -> None:
        text = "".join(buf)
        buf.clear()
        stdout.write(json.dumps(_answer(session, text), ensure_ascii=False) + "\n\n")
        stdout.flush()

    for line in stdin:
        if line.strip():
            buf.append(line)
        elif buf:
            flush_request()
    if buf:
        flush_request()


def main() -> None:
    # Goals are full of ∀ ℕ ⊢: never let a C locale turn them into encoding errors.
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
