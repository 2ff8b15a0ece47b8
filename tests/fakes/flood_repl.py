"""A REPL that answers the header, then floods stdout with megabytes for every other request."""
import json
import sys

buf = []
first = True
for line in sys.stdin:
    if line.strip():
        buf.append(line)
        continue
    if not buf:
        continue
    buf = []
    if first:
        sys.stdout.write(json.dumps({"env": 0}) + "\n\n")
        first = False
    else:
        chunk = "x" * 65536 + "\n"
        for _ in range(300):  # ~20 MB, no blank line
            sys.stdout.write(chunk)
    sys.stdout.flush()
