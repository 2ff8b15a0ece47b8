"""A scriptable stand-in for the Lean REPL, for fault tests of the client and the pool.

Speaks the REPL transport (JSON + blank line). Commands: a header (no `env`) gives a fresh env;
`theorem NAME ... := by sorry` gives one sorry whose goal is `⊢ NAME`; a statement containing
`bad_statement` gives an error. Tactics on a state:
  step X      -> a new state, goal + " / X"         close    -> Completed, no goals
  fail        -> error message with empty goals      giveup   -> a sorry
  sleep MS    -> sleep, then behave like `step slept`
  flood       -> ~20 MB of output without a blank line
  garbage     -> a line that is not JSON
  crash       -> exit 3 after writing to stderr
  crash_once  -> crash if the file $FAKE_MARKER does not exist yet (and create it), else `step survived`
  nondet      -> a new state with a random goal (replay cannot reproduce it)
  spawn_hang  -> start a child `sleep`, write its pid to $FAKE_CHILD_PID, then hang
  pid         -> a state whose goal is this process's pid
Command `#rlimit` answers with RLIMIT_AS in an info message.
"""
import json
import os
import random
import resource
import subprocess
import sys
import time

states: list[str] = []
envs = 0


def reply(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n\n")
    sys.stdout.flush()


def new_state(goal: str) -> dict:
    states.append(goal)
    return {"proofState": len(states) - 1, "goals": [goal], "proofStatus": "Incomplete: open goals remain"}


def command(req: dict) -> dict:
    global envs
    cmd = req["cmd"]
    envs += 1
    if cmd.strip() == "#rlimit":
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        return {"env": envs, "messages": [{"severity": "info", "data": str(soft)}]}
    if "bad_statement" in cmd:
        return {"env": envs, "messages": [{"severity": "error", "data": "unexpected token ')'"}]}
    if cmd.startswith("theorem"):
        name = cmd.split()[1]
        states.append(f"⊢ {name}")
        return {"env": envs, "sorries": [{"proofState": len(states) - 1, "goal": f"⊢ {name}"}],
                "messages": [{"severity": "warning", "data": "declaration uses 'sorry'"}]}
    return {"env": envs}


def tactic(req: dict) -> dict | None:
    sid, tac = req["proofState"], req["tactic"].strip()
    if not isinstance(sid, int) or not 0 <= sid < len(states):
        return {"message": "Unknown proof state."}
    goal = states[sid]
    word, _, arg = tac.partition(" ")
    if word == "step":
        return new_state(f"{goal} / {arg}")
    if word == "close":
        states.append("")
        return {"proofState": len(states) - 1, "goals": [], "proofStatus": "Completed"}
    if word == "fail":
        states.append("")
        return {"proofState": len(states) - 1, "goals": [], "proofStatus": "Incomplete: contains sorry",
                "messages": [{"severity": "error", "data": "Unknown identifier `nope`"}]}
    if word == "giveup":
        states.append("")
        return {"proofState": len(states) - 1, "goals": [], "sorries": [{"goal": goal, "proofState": sid}]}
    if word == "sleep":
        time.sleep(int(arg) / 1000)
        return new_state(f"{goal} / slept")
    if word == "flood":
        chunk = "x" * 65536 + "\n"
        for _ in range(320):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        time.sleep(30)
        return None
    if word == "garbage":
        sys.stdout.write("this is not json {{{\n\n")
        sys.stdout.flush()
        return None
    if word == "crash" or (word == "crash_once" and not os.path.exists(os.environ["FAKE_MARKER"])):
        if word == "crash_once":
            open(os.environ["FAKE_MARKER"], "w").close()
        sys.stderr.write("fake REPL: deliberate crash\n")
        sys.stderr.flush()
        os._exit(3)
    if word == "crash_once":
        return new_state(f"{goal} / survived")
    if word == "nondet":
        return new_state(f"{goal} / {random.random()}")
    if word == "spawn_hang":
        child = subprocess.Popen(["sleep", "1000"])
        with open(os.environ["FAKE_CHILD_PID"], "w") as f:
            f.write(str(child.pid))
        time.sleep(1000)
    if word == "pid":
        return new_state(f"⊢ pid {os.getpid()}")
    return {"message": f"Lean error:\n<input>:1:0: unknown tactic {word}"}


def main() -> None:
    buf: list[str] = []
    for line in sys.stdin:
        if line.strip():
            buf.append(line)
            continue
        if not buf:
            continue
        req, buf = json.loads("".join(buf)), []
        out = command(req) if "cmd" in req else tactic(req)
        if out is not None:
            reply(out)


if __name__ == "__main__":
    main()
