"""One REPL session of the embedded kernel: environments, proof states, and the request handler.

`Session.handle(request) -> reply` takes and returns the same JSON objects as
leanprover-community/repl (see ../shared/docs/lean-repl-protocol.md), so every client path that
talks to real Lean is exercised unchanged against this kernel.

Tactic errors follow the REPL exactly: text that does not parse as tactics (unknown tactic,
missing argument) is a top-level `{"message": "Lean error:\n<input>:1:0: ..."}`; a tactic that
parses but fails (`linarith failed`, type mismatch, unknown identifier) gets the REPL's error
recovery: a new proof state with `goals: []`, an error-severity message and `proofStatus:
"Incomplete: contains sorry"`. Clients classify both as errors (see the protocol notes).
"""
from __future__ import annotations

import re
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any

from lean_env.embedded.goals import Goal, ProofState, TacticError
from lean_env.embedded.parser import ParseError, parse_statement
from lean_env.embedded.tactics import Engine, TacticSyntaxError, split_tactics
from lean_env.embedded.terms import Bin, Quant, Term, free_vars

Theorems = dict[str, tuple[Term, frozenset]]

_CMD_START = re.compile(r"^(import|open|set_option|theorem|lemma|example|axiom|#print|#check|#eval|#exit|"
                        r"def|noncomputable|namespace|section|end|universe|variable|macro|macro_rules|syntax|"
                        r"notation|infix|infixl|infixr|prefix|postfix|instance|abbrev|structure|inductive|class|"
                        r"attribute|private|protected|elab|run_cmd|local|scoped|opaque|mutual)\b")
_SORRY_TACTICS = ("sorry", "admit", "exact?", "apply?")  # each leaves a `sorries` entry behind
_AXIOM_ORDER = ["propext", "sorryAx", "Classical.choice", "Lean.ofReduceBool", "Lean.trustCompiler", "Quot.sound"]


@dataclass
class Session:
    envs: list[Theorems] = field(default_factory=list)
    states: list[tuple[ProofState, Theorems]] = field(default_factory=list)  # with the env they live in

    # ------------------------------------------------------------ requests
    def handle(self, req: Any) -> dict:
        if not isinstance(req, dict):
            return {"message": "Could not parse JSON: expected an object"}
        try:
            if "cmd" in req:
                return self.command(req["cmd"], req.get("env"))
            if "tactic" in req:
                return self.tactic(req["tactic"], req.get("proofState"))
            if any(k in req for k in ("pickleTo", "unpickleEnvFrom", "unpickleProofStateFrom")):
                return {"message": "pickling is not supported by the embedded environment"}
            return {"message": "Could not parse JSON: expected 'cmd' or 'tactic'"}
        except Exception as e:  # a kernel bug must never take the server down
            traceback.print_exc(file=sys.stderr)
            return {"message": f"internal error in the embedded environment: {type(e).__name__}: {e}"}

    def _new_state(self, st: ProofState, theorems: Theorems) -> int:
        self.states.append((st, theorems))
        return len(self.states) - 1

    # ------------------------------------------------------------ tactic mode
    def tactic(self, text: Any, sid: Any) -> dict:
        """`{"tactic": text, "proofState": sid}` in-process: the same reply dict as the server."""
        if not isinstance(text, str):
            return {"message": "Could not parse JSON: 'tactic' must be a string"}
        if not isinstance(sid, int) or not 0 <= sid < len(self.states):
            return {"message": "Unknown proof state."}
        state, theorems = self.states[sid]
        text = _strip_comments(text)
        messages: list[str] = []
        engine = Engine(theorems, messages)
        try:
            new = engine.run(state, text)
        except TacticSyntaxError as e:
            return {"message": f"Lean error:\n{e}"}
        except TacticError as e:
            # The REPL's error recovery: the error is a message and the state "contains sorry".
            k = self._new_state(ProofState((), state.axioms | {"sorryAx"}, state.sorries + 1), theorems)
            return {
                "proofState": k,
                "goals": [],
                "messages": [_msg("error", 1, 0, str(e))] + [_msg("info", 1, 0, m) for m in messages],
                "proofStatus": "Incomplete: contains sorry",
            }
        reply: dict[str, Any] = {"proofState": self._new_state(new, theorems), "goals": new.pp_goals()}
        if messages:
            reply["messages"] = [_msg("info", 1, 0, m) for m in messages]
        if new.sorries > state.sorries:
            # like the REPL, the sorry's own proof state holds the goal it skipped (to resume from)
            reply["sorries"] = [{"proofState": self._new_state(ProofState((state.main,)), theorems), "goal": g}
                                for g in engine_sorry_goals(state)]
            reply["proofStatus"] = "Incomplete: contains sorry"
        elif new.goals:
            reply["proofStatus"] = "Incomplete: open goals remain"
        else:
            reply["proofStatus"] = "Completed"
        return reply

    # ------------------------------------------------------------ command mode
    def command(self, text: Any, env: Any = None) -> dict:
        """`{"cmd": text, "env": env}` in-process: the same reply dict as the server."""
        if not isinstance(text, str):
            return {"message": "Could not parse JSON: 'cmd' must be a string"}
        if env is None:
            theorems: Theorems = {}
        elif isinstance(env, int) and 0 <= env < len(self.envs):
            theorems = dict(self.envs[env])
        else:
            return {"message": "Unknown environment."}
        messages: list[dict] = []
        sorries: list[dict] = []
        if _unterminated_comment(text):
            messages.append(_msg("error", text.count("\n") + 1, 0, "unterminated comment"))
        for line_no, cmd in split_commands(text):
            self._run_one(cmd, line_no, env is None, theorems, messages, sorries)
        self.envs.append(theorems)
        reply: dict[str, Any] = {"env": len(self.envs) - 1}
        if messages:
            reply["messages"] = messages
        if sorries:
            reply["sorries"] = sorries
        return reply

    def _run_one(self, cmd: str, line: int, imports_ok: bool, theorems: Theorems, messages: list, sorries: list) -> None:
        head = cmd.split(None, 1)[0] if cmd.strip() else ""
        if head == "import":
            if not imports_ok:
                messages.append(_msg("error", line, 0, "invalid 'import' command, it must be used in the beginning of the file"))
            return
        if head in ("open", "set_option"):
            return
        if head == "#print":
            m = re.match(r"#print\s+axioms\s+(\S+)\s*$", cmd.strip())
            if not m:
                messages.append(_msg("error", line, 0, "the embedded environment supports only `#print axioms NAME`"))
                return
            name = m.group(1)
            if name not in theorems:
                messages.append(_msg("error", line, 0, f"unknown constant '{name}'"))
                return
            axioms = sorted(theorems[name][1], key=lambda a: (_AXIOM_ORDER.index(a) if a in _AXIOM_ORDER else 99, a))
            if axioms:
                messages.append(_msg("info", line, 0, f"'{name}' depends on axioms: [{', '.join(axioms)}]"))
            else:
                messages.append(_msg("info", line, 0, f"'{name}' does not depend on any axioms"))
            return
        if head in ("theorem", "lemma", "example", "axiom"):
            self._declaration(cmd, line, head, theorems, messages, sorries)
            return
        messages.append(_msg("error", line, 0, f"unsupported command '{head}' in the embedded environment"))

    def _declaration(self, cmd: str, line: int, head: str, theorems: Theorems, messages: list, sorries: list) -> None:
        split = _split_assign(cmd)
        if head == "axiom":
            sig, proof = cmd, None
            sig = "theorem" + sig[len("axiom"):]
        elif split is None:
            messages.append(_msg("error", line, len(cmd.rstrip()), "unexpected end of input; expected ':='"))
            return
        else:
            sig, proof = split
        try:
            st = parse_statement(sig)
        except ParseError as e:
            ln, col = _line_col(sig, e.pos)
            messages.append(_msg("error", line + ln, col, e.message))
            return
        goal, problem = _initial_goal(st)
        if problem:
            messages.append(_msg("error", line, 0, problem))
            return
        closed = _close(st.binders, st.goal)
        if head == "axiom":
            theorems[st.name] = (closed, frozenset({st.name}))
            return
        if st.name in theorems:
            messages.append(_msg("error", line, 0, f"'{st.name}' has already been declared"))
            return
        proof = proof.strip()
        if proof.startswith("by"):
            script, script_line = proof[2:], line + cmd[: cmd.index(proof)].count("\n")
        elif proof == "sorry":
            script, script_line = "sorry", line
        elif proof:
            # a term proof `:= e` elaborates like `exact e` (lines joined: terms ignore layout)
            script, script_line = "exact " + " ".join(proof.split()), line + cmd[: cmd.index(proof)].count("\n")
        else:
            messages.append(_msg("error", line, len(cmd.rstrip()), "unexpected end of input; expected term"))
            return
        axioms = self._check_proof(goal, script, script_line, theorems, messages, sorries)
        theorems[st.name] = (closed, axioms)

    def _check_proof(self, goal: Goal, script: str, line: int, theorems: Theorems, messages: list, sorries: list) -> frozenset:
        state = ProofState((goal,))
        info: list[str] = []
        engine = Engine(theorems, info)
        blocks = split_tactics(script)
        if not blocks:
            messages.append(_msg("error", line, 0, "unexpected end of input; expected '{'"))
            return frozenset({"sorryAx"})
        uses_sorry = False
        for block in blocks:
            before = state
            try:
                if block.strip() in _SORRY_TACTICS and state.goals:
                    sid = self._new_state(ProofState((state.main,)), dict(theorems))
                    sorries.append({"proofState": sid, "pos": {"line": line, "column": 0}, "goal": state.main.pp()})
                state = engine.run(state, block)
            except TacticError as e:
                messages.append(_msg("error", line + _line_of(script, block), 0, str(e).removeprefix("<input>:1:0: ")))
                return before.axioms | {"sorryAx"}
            if state.sorries > before.sorries:
                uses_sorry = True
        messages.extend(_msg("info", line, 0, m) for m in info)
        if state.goals:
            messages.append(_msg("error", line, 0, "unsolved goals\n" + "\n\n".join(state.pp_goals())))
            return state.axioms | {"sorryAx"}
        if uses_sorry:
            messages.append(_msg("warning", line, 0, "declaration uses 'sorry'"))
        return state.axioms


def engine_sorry_goals(state: ProofState) -> list[str]:
    return [state.main.pp()] if state.goals else []


def _msg(severity: str, line: int, col: int, data: str) -> dict:
    return {"severity": severity, "pos": {"line": line, "column": col}, "endPos": None, "data": data}


def _line_col(text: str, pos: int) -> tuple[int, int]:
    before = text[:pos]
    return before.count("\n"), pos - (before.rfind("\n") + 1)


def _line_of(script: str, block: str) -> int:
    first = block.strip().split("\n")[0]
    idx = script.find(first)
    return script[:idx].count("\n") if idx >= 0 else 0


def split_commands(text: str) -> list[tuple[int, str]]:
    """Cut a cmd string into top-level commands (1-based start line, text), dropping comments."""
    text = _strip_comments(text)
    out: list[tuple[int, list[str]]] = []
    for i, line in enumerate(text.split("\n"), start=1):
        if _CMD_START.match(line):
            out.append((i, [line]))
        elif out:
            out[-1][1].append(line)
        elif line.strip():
            out.append((i, [line]))
    return [(i, "\n".join(lines).rstrip()) for i, lines in out]


def _strip_comments(text: str) -> str:
    """Remove `/- ... -/` (nested, keeping newlines so positions hold) and `--` comments."""
    out, i, depth, quoted = [], 0, 0, False
    while i < len(text):
        if not depth and text[i] == '"':  # `--` inside a string literal is not a comment
            quoted = not quoted
        if quoted:
            out.append(text[i])
            i += 1
            continue
        if text.startswith("/-", i):
            depth += 1
            i += 2
            continue
        if depth and text.startswith("-/", i):
            depth -= 1
            i += 2
            continue
        if depth:
            if text[i] == "\n":
                out.append("\n")
            i += 1
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _unterminated_comment(text: str) -> bool:
    depth, i = 0, 0
    while i < len(text):
        if text.startswith("/-", i):
            depth, i = depth + 1, i + 2
        elif depth and text.startswith("-/", i):
            depth, i = depth - 1, i + 2
        elif not depth and text.startswith("--", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
        else:
            i += 1
    return depth > 0


def _split_assign(cmd: str) -> tuple[str, str] | None:
    """Split a declaration at its first top-level `:=` (later ones belong to the proof)."""
    depth = 0
    for i, c in enumerate(cmd):
        if c in "([{⟨":
            depth += 1
        elif c in ")]}⟩":
            depth -= 1
        elif depth == 0 and cmd.startswith(":=", i):
            return cmd[:i], cmd[i + 2 :]
    return None


def _initial_goal(st) -> tuple[Goal, str]:
    g = Goal((), st.goal)
    ctx: dict[str, str] = {}
    for name, ty in st.binders:
        if isinstance(ty, str):
            ctx[name] = ty
            g = g.add(name, ty)
        else:
            bad = _unknown_vars(ty, ctx)
            if bad:
                return g, f"unknown identifier '{bad}'"
            g = g.add(name, ty)
    bad = _unknown_vars(st.goal, ctx)
    if bad:
        return g, f"unknown identifier '{bad}'"
    return g, ""


def _unknown_vars(t: Term, ctx: dict[str, str]) -> str | None:
    for v in sorted(free_vars(t)):
        if v not in ctx:
            return v
    return None


def _close(binders, goal: Term) -> Term:
    """`theorem t (a : ℕ) (h : P a) : Q a` as the proposition `∀ (a : ℕ), P a → Q a`."""
    out = goal
    for name, ty in reversed(binders):
        out = Quant("∀", name, ty, out) if isinstance(ty, str) else Bin("→", ty, out)
    return out
