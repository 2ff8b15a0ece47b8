"""A broken REPL for fault tests: answers the header properly, then prints garbage."""
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
        sys.stdout.write("this is not json {{{\n\n")
    sys.stdout.flush()
