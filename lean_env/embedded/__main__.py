"""`python -m lean_env.embedded`: serve the embedded kernel over the Lean REPL protocol on stdio.

Requests are JSON objects separated by blank lines; each reply is one JSON object followed by a
blank line, flushed at once, exactly as leanprover-community/repl does.
"""
from __future__ import annotations

import json
import sys

from lean_env.embedded.session import Session


def serve(stdin=sys.stdin, stdout=sys.stdout) -> None:
    session = Session()
    buf: list[str] = []
    for line in stdin:
        if line.strip():
            buf.append(line)
            continue
        if not buf:
            continue
        text, buf = "".join(buf), []
        try:
            req = json.loads(text)
        except json.JSONDecodeError as e:
            reply = {"message": f"Could not parse JSON: {e.msg} at line {e.lineno} column {e.colno}"}
        else:
            reply = session.handle(req)
        stdout.write(json.dumps(reply, ensure_ascii=False) + "\n\n")
        stdout.flush()


if __name__ == "__main__":
    serve()
