"""One REPL session of the embedded kernel: environments, proof states, and the request handler.

`Session.handle(request) -> reply` takes and returns the JSON objects of leanprover-community/repl
(see ../shared/docs/lean-repl-protocol.md and the REPL's `REPL/JSON.lean`, `REPL/Main.lean`), so
every client that talks to real Lean (ours, LeanInteract, lean-repl-py, Kimina) runs unchanged.

What the replies carry, as the REPL does:
- messages: `pos`/`endPos` are `{"line", "column"}` of the syntax Lean blames: a failing tactic,
  the `by` of a proof with unsolved goals (to the end of its block), the declaration's name for
  "declaration uses `sorry`" (the `example` keyword for examples), `#print` for `#print axioms`.
  In tactic mode the REPL has no file positions: every message is at line 0, column 0.
- sorries: one entry per `sorry` *tactic* the proof runs (nested `by`, bullets, `<;>` once per
  goal, `first`, `have h : t := by sorry`) and per term `:= sorry`, with `pos`/`endPos` at the
  token and a proof state holding the skipped goal (in the environment from before the command, as
  the REPL's, so a theorem can never prove itself). `admit` expands to `exact @sorryAx _ false`
  without `sorry` syntax, so it gives the warning and `sorryAx` but no entry, as in the REPL.
- "declaration uses `sorry`" only when the declaration has no error (Lean's rule).
- rootGoals: each tactic proof's initial goal as an extra `sorries` entry at its `by`.

Requests the embedded kernel cannot serve as Lean would (`allTactics`, `infotree`,
`declarations`, pickling, most options) get an explicit `{"message": ...}`, never a silent drop.

Commands are read with the shared Lean lexer (`lean_env.lexer`): comments separate tokens and hide
nothing, string literals are opaque, and every position is a real one. Any Python exception inside
a command becomes an error message at that command; the session itself never fails.
"""
from __future__ import annotations

import re
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from lean_env.embedded import arith
from lean_env.embedded.functions import context_entries
from lean_env.embedded.carriers import is_integral
from lean_env.embedded.elab import Elab
from lean_env.embedded.goals import Goal, ProofState, TacticError
from lean_env.embedded.parser import ParseError, parse_statement, parse_term
from lean_env.embedded.tactics import Engine, TacticSyntaxError
from lean_env.embedded.types import elab_prop, tree
from lean_env.embedded.terms import INT, NAT, REL_OPS, Bin, Quant, Term, Var, free_vars
from lean_env.lexer import IDENT, LexError, LineIndex, Token, blank_comments, numeral_text, tokenize

Theorems = dict[str, tuple[Term, frozenset]]

# Lean's words for the ways a command can go wrong (kept verbatim: clients match on them).
SORRY_WARNING = "declaration uses `sorry`"
MAX_REC_DEPTH = ("maximum recursion depth has been reached\nuse `set_option maxRecDepth <num>` to increase limit\n"
                 "use `set_option diagnostics true` to get diagnostic information")

# Tokens that begin a command: at column 0 always; the unambiguous ones also first on any line.
_COMMANDS = frozenset({
    "import", "open", "set_option", "theorem", "lemma", "example", "axiom", "def", "noncomputable", "namespace",
    "section", "end", "universe", "variable", "macro", "macro_rules", "syntax", "notation", "infix", "infixl",
    "infixr", "prefix", "postfix", "instance", "abbrev", "structure", "inductive", "class", "attribute", "private",
    "protected", "elab", "elab_rules", "run_cmd", "local", "scoped", "opaque", "mutual", "@[", "#print", "#eval",
    "#check", "#exit", "#reduce", "#synth", "#help", "#lint", "#guard", "#align",
})
_ANYWHERE = frozenset({"theorem", "lemma", "example", "axiom", "def", "instance", "abbrev", "structure",
                       "inductive", "#print", "#eval", "#check", "#exit", "#reduce", "import", "namespace"})
_MODIFIERS = frozenset({"private", "protected", "noncomputable", "partial", "unsafe", "nonrec"})
_HARMLESS_MODIFIERS = frozenset({"private", "protected", "noncomputable"})  # no effect on a theorem
_OPEN = {"(": ")", "[": "]", "{": "}", "⟨": "⟩", "@[": "]", "#[": "]", "%[": "]"}
_CLOSE = frozenset(_OPEN.values())
# Options that change nothing the embedded kernel computes: limits it has no counterpart of
# (heartbeats), linters, and `Elab.async` (which LeanInteract sends). Any other option (`pp.all`,
# `autoImplicit`, `warningAsError`, ...) would change Lean's answer, so it is refused explicitly.
_INERT_OPTIONS = frozenset({"maxHeartbeats", "maxRecDepth", "synthInstance.maxHeartbeats", "synthInstance.maxSize",
                            "Elab.async", "exponentiation.threshold",
                            "checkBinderAnnotations"})   # relaxes instance binders, which the parser refuses


def _inert_option(name: str) -> bool:
    return name in _INERT_OPTIONS or name.startswith("linter.")
_INPUT_PREFIX = re.compile(r"^<input>:\d+:\d+: ")


class _ReplyError(Exception):
    """A request the REPL answers with a top-level `{"message": ...}`."""


@dataclass
class _Engine(Engine):
    """The tactic engine, noting the goal of every `sorry` it runs, tactic or term: the REPL
    reports each as a `sorries` entry. It matches `sorry` syntax only, so `admit` and `exact?`
    (which close goals with `sorryAx` without it) are not noted."""

    sorry_goals: list[Goal] = field(default_factory=list)

    def atomic(self, state: ProofState, head: str, rest: str) -> ProofState:
        if head == "sorry" and not rest and state.goals:
            self.sorry_goals.append(state.main)
        return super().atomic(state, head, rest)

    def elab(self, goal: Goal) -> Elab:
        return _NotingElab(goal, self.theorems, self._run_by, note=self.sorry_goals.append)


@dataclass
class _NotingElab(Elab):
    """Term elaboration that notes the expected type of every term `sorry` (as a goal)."""

    note: Callable[[Goal], None] | None = None

    def check(self, t: Term, expected: Term) -> None:
        if self.note and isinstance(t, Var) and t.name == "sorry" and self.goal.hyp("sorry") is None:
            self.note(self.goal.with_target(expected))
        super().check(t, expected)


@dataclass
class _Output:
    """Messages and sorries of one command request, positioned in its text."""

    lines: LineIndex
    messages: list[dict] = field(default_factory=list)
    sorries: list[dict] = field(default_factory=list)

    def span(self, start: int, end: int) -> tuple[dict, dict]:
        return self.lines.pos(start), self.lines.pos(end)

    def add(self, severity: str, start: int, end: int, data: str) -> None:
        pos, end_pos = self.span(start, end)
        self.messages.append({"severity": severity, "pos": pos, "endPos": end_pos, "data": data.strip()})

    def at(self, severity: str, tok: Token, data: str) -> None:
        self.add(severity, tok.start, tok.end, data)


@dataclass
class _Block:
    """One top-level tactic of a `by` block: its tokens and its text (comments blanked)."""

    tokens: list[Token]
    text: str

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end


@dataclass
class Session:
    envs: list[Theorems] = field(default_factory=list)
    states: list[tuple[ProofState, Theorems]] = field(default_factory=list)  # with the env they live in
    # Print a kernel exception's traceback to stderr. Off by default: like the REPL, the server
    # writes nothing there in normal operation (Kimina's server treats any stderr as a dead REPL).
    debug: bool = False

    def _report(self) -> None:
        if self.debug:
            traceback.print_exc(file=sys.stderr)

    # ------------------------------------------------------------ requests
    def handle(self, req: Any) -> dict:
        """One request object in, one reply object out (the REPL tries the kinds in this order)."""
        if not isinstance(req, dict):
            return {"message": "Could not parse as a valid JSON command:\nexpected an object"}
        try:
            if "tactic" in req and "proofState" in req:
                return self.tactic(req["tactic"], req["proofState"])
            if any(k in req for k in ("pickleTo", "unpickleEnvFrom", "unpickleProofStateFrom")):
                raise _ReplyError("pickling is not supported by the embedded environment (it has no .olean files)")
            if "cmd" in req:
                options = _command_options(req)
                return self.command(req["cmd"], req.get("env"), **options)
            if "path" in req:
                options = _command_options(req)
                return self.file(req["path"], req.get("env"), **options)
            raise _ReplyError("Could not parse as a valid JSON command:\nexpected 'cmd', 'path' or 'tactic'")
        except _ReplyError as e:
            return {"message": str(e)}
        except RecursionError:
            return {"message": f"Lean error:\n{MAX_REC_DEPTH}"}
        except Exception as e:  # a kernel bug must never take the server down
            self._report()
            return {"message": f"Lean error:\n{_exception_text(e)}"}

    def _new_state(self, st: ProofState, theorems: Theorems) -> int:
        self.states.append((st, theorems))
        return len(self.states) - 1

    # ------------------------------------------------------------ tactic mode
    def tactic(self, text: Any, sid: Any) -> dict:
        """`{"tactic": text, "proofState": sid}` in-process: the same reply dict as the server."""
        if not isinstance(text, str):
            return {"message": "Could not parse as a valid JSON command:\n'tactic' must be a string"}
        if isinstance(sid, bool) or not isinstance(sid, int) or not 0 <= sid < len(self.states):
            return {"message": "Unknown proof state."}
        state, theorems = self.states[sid]
        try:
            text = blank_comments(text)
        except LexError as e:
            return {"message": f"Lean error:\n<input>:{e.line}:{e.column}: {e.message}"}
        info: list[str] = []
        engine = _Engine(theorems, info)
        try:
            new = engine.run(state, text)
        except TacticSyntaxError as e:
            return {"message": f"Lean error:\n{e}"}
        except Exception as e:  # noqa: BLE001 -- a kernel bug fails the tactic, never the session
            # The REPL's error recovery: the error is a message and the goal is admitted.
            if not isinstance(e, (TacticError, RecursionError)):
                self._report()
            k = self._new_state(ProofState((), state.axioms | {"sorryAx"}, state.sorries + 1), theorems)
            messages = [_tactic_message("error", _error_text(e))] + [_tactic_message("info", m) for m in info]
            return {"proofState": k, "goals": [], "messages": messages, "proofStatus": "Incomplete: contains sorry"}
        reply: dict[str, Any] = {"proofState": self._new_state(new, theorems), "goals": new.pp_goals()}
        if info:
            reply["messages"] = [_tactic_message("info", m) for m in info]
        if engine.sorry_goals:
            # each sorry's own proof state holds the goal it skipped (to resume from)
            reply["sorries"] = [{"proofState": self._new_state(ProofState((g,)), theorems), "goal": g.pp()}
                                for g in engine.sorry_goals]
        if new.goals:
            reply["proofStatus"] = "Incomplete: open goals remain"
        elif "sorryAx" in new.axioms or new.sorries > 0:
            reply["proofStatus"] = "Incomplete: contains sorry"
        else:
            reply["proofStatus"] = "Completed"
        return reply

    # ------------------------------------------------------------ command mode
    def file(self, path: Any, env: Any = None, root_goals: bool = False) -> dict:
        """`{"path": file, "env": env}`: the file's text as one command."""
        if not isinstance(path, str):
            return {"message": "Could not parse as a valid JSON command:\n'path' must be a string"}
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return {"message": f"no such file or directory (error code: 2)\n  file: {path}"}
        except (OSError, UnicodeDecodeError) as e:
            return {"message": f"{e}\n  file: {path}"}
        return self.command(text, env, root_goals=root_goals)

    def command(self, text: Any, env: Any = None, root_goals: bool = False) -> dict:
        """`{"cmd": text, "env": env}` in-process: the same reply dict as the server."""
        if not isinstance(text, str):
            return {"message": "Could not parse as a valid JSON command:\n'cmd' must be a string"}
        if env is None:
            base: Theorems = {}
        elif not isinstance(env, bool) and isinstance(env, int) and 0 <= env < len(self.envs):
            base = self.envs[env]
        else:
            return {"message": "Unknown environment."}
        out = _Output(LineIndex(text))
        code, tokens = _lex(text, out)
        theorems = dict(base)
        run = _CommandRun(self, code, out, base, theorems, fresh=env is None, root_goals=root_goals)
        for cmd in _split_commands(tokens):
            try:
                run.command(cmd)
            except RecursionError:
                out.at("error", cmd[0], MAX_REC_DEPTH)
            except Exception as e:  # noqa: BLE001 -- Lean logs a failing command and goes on
                self._report()
                out.at("error", cmd[0], _exception_text(e))
        self.envs.append(theorems)
        reply: dict[str, Any] = {"env": len(self.envs) - 1}
        if out.messages:
            reply["messages"] = out.messages
        if out.sorries:
            reply["sorries"] = out.sorries
        return reply


@dataclass
class _CommandRun:
    """Runs the commands of one request in order, into `theorems` (a copy of the base env)."""

    session: Session
    code: str                 # the request text with comments blanked (offsets unchanged)
    out: _Output
    base: Theorems            # the env before the request: where sorry proof states live
    theorems: Theorems
    fresh: bool               # no `env` given: imports are allowed at the start
    root_goals: bool
    in_header: bool = True    # only imports so far

    def command(self, toks: list[Token]) -> None:
        mods, toks = _split_modifiers(toks)
        if not toks:
            self.out.at("error", mods[-1], "unexpected end of input; expected a declaration")
            return
        head = toks[0]
        header, self.in_header = self.in_header, self.in_header and head.text == "import" and not mods
        if head.text in ("open", "set_option"):
            inner = _after_in(toks)
            if inner is not None:
                if head.text == "open" or self._scoped_option(toks[:toks.index(inner[0]) - 1]):
                    self.command(mods + inner)
                return
        if head.text == "import":
            if not (self.fresh and header):
                self.out.at("error", head, "invalid 'import' command, it must be used in the beginning of the file")
            return
        if head.text == "set_option":
            self._scoped_option(toks)
            return
        if head.text in ("open", "universe", "section", "end"):
            return
        if head.text == "abbrev":
            bad = [m for m in mods if m.text not in _HARMLESS_MODIFIERS]
            if bad:
                self.out.at("error", bad[0], f"the embedded environment does not support '{bad[0].text}' on declarations")
                return
            self._abbrev(toks)
            return
        if head.text in ("theorem", "lemma", "example", "axiom"):
            bad = [m for m in mods if m.text not in _HARMLESS_MODIFIERS]
            if bad:
                self.out.at("error", bad[0], f"the embedded environment does not support '{bad[0].text}' on declarations")
                return
            self._declaration(toks)
            return
        if head.text == "#print":
            self._print_axioms(toks)
            return
        if head.text == "#eval":
            self._eval(toks)
            return
        what = head.text if head.kind == IDENT or head.text.startswith("#") else "this command"
        self.out.at("error", head, f"the embedded environment does not support '{what}' (only theorem, lemma, "
                                   "example, axiom, abbrev, #print axioms, #eval, open, set_option, section, end)")

    def _scoped_option(self, toks: list[Token]) -> bool:
        """`set_option NAME VALUE`: whether it is one the kernel may ignore (else an error)."""
        if len(toks) < 3:
            self.out.add("error", toks[-1].end, toks[-1].end, "unexpected end of input; expected an option value")
            return False
        if not _inert_option(toks[1].text):
            self.out.at("error", toks[1], f"the embedded environment does not support the option '{toks[1].text}'")
            return False
        return True

    # ---------------------------------------------------------- answers to fill
    def _abbrev(self, toks: list[Token]) -> None:
        """`abbrev NAME : T := value` (a benchmark's answer to fill, e.g. PutnamBench's
        `abbrev X_solution : ℕ := sorry`). An abbrev is reducible, so every later statement that
        mentions NAME is read with `(value : T)` in its place (`_unfold`). Only a closed value of a
        type the kernel has is taken; a `sorry` value is noted as Lean does (warning, sorries
        entry) and any statement that mentions it is refused, since nothing can be proved about
        it. The definition is kept in the env's table under the key `abbrev NAME` (a space: no
        Lean name collides), as the replacement text."""
        assign = _top_level_index(toks, ":=")
        if len(toks) < 5 or toks[1].kind != IDENT or toks[2].text != ":" or assign is None or assign < 4 \
                or assign == len(toks) - 1:
            self.out.at("error", toks[0], "the embedded environment supports `abbrev NAME : T := value` only "
                                          "(no binders, a type and a value)")
            return
        name_tok = toks[1]
        name = name_tok.text
        if name in self.theorems or "abbrev " + name in self.theorems:
            self.out.at("error", name_tok, f"'{name}' has already been declared")
            return
        type_text = self.code[toks[3].start:toks[assign].start].strip()
        value_toks = toks[assign + 1:]
        value_text = self.code[value_toks[0].start:value_toks[-1].end].strip()
        if value_text == "sorry":
            sig, _ = self._unfold(f"theorem {name} : {type_text}", name_tok)
            self.out.sorries.append({"pos": self.out.lines.pos(value_toks[0].start),
                                     "endPos": self.out.lines.pos(value_toks[0].end), "goal": f"⊢ {type_text}"})
            self.out.at("warning", name_tok, SORRY_WARNING)
            self.theorems["abbrev " + name] = (Var("sorry"), frozenset({"sorryAx"}))
            return
        typed = f"({value_text} : {type_text})"
        check, bad = self._unfold(f"theorem {name} : {typed} = {typed}", name_tok)
        if bad:
            return
        try:
            st = parse_statement(check)
        except ParseError as e:
            self.out.at("error", value_toks[0], e.message)
            return
        _, unknown = _initial_goal(st)
        if unknown:
            at = next((t for t in value_toks if t.kind == IDENT and t.text == unknown), value_toks[0])
            self.out.at("error", at, f"Unknown identifier `{unknown}`")
            return
        unfolded, _ = self._unfold(typed, name_tok)
        self.theorems["abbrev " + name] = (Var(unfolded), frozenset())

    def _unfold(self, text: str, at: Token) -> tuple[str, bool]:
        """`text` with every abbrev it mentions replaced by its value; (text, refused) where
        refused means it mentions a `sorry` abbrev (reported at `at`)."""
        try:
            toks = tokenize(text, comments=False)
        except LexError:
            return text, False
        for t in reversed(toks):
            if t.kind != IDENT:
                continue
            found = self.theorems.get("abbrev " + t.text)
            if found is None:
                continue
            if "sorryAx" in found[1]:
                self.out.at("error", at, f"the embedded environment cannot reason about `{t.text}`: its value is "
                                         "`sorry` (fill the answer)")
                return text, True
            text = text[:t.start] + found[0].name + text[t.end:]
        return text, False

    # ---------------------------------------------------------- declarations
    def _declaration(self, toks: list[Token]) -> None:
        kw = toks[0]
        assign = _top_level_index(toks, ":=")
        if kw.text == "axiom":
            if assign is not None:
                self.out.at("error", toks[assign], "unexpected token ':='; expected an axiom's type, not a value")
                return
            sig_end, proof = toks[-1].end, []
        elif assign is None:
            self.out.add("error", toks[-1].end, toks[-1].end, "unexpected end of input; expected ':='")
            return
        else:
            sig_end, proof = toks[assign].start, toks[assign + 1:]
        name_tok = kw if kw.text == "example" or len(toks) < 2 else toks[1]
        # The statement parser reads `theorem ...`: say `theorem` for lemma/axiom, keeping offsets.
        sig = self.code[kw.start:sig_end]
        shift = 0
        if kw.text in ("lemma", "axiom"):
            sig, shift = "theorem" + sig[len(kw.text):], len("theorem") - len(kw.text)
        unfolded, refused = self._unfold(sig, name_tok)
        if refused:
            return
        if unfolded != sig:   # positions past an unfolded answer are approximate
            sig, shift = unfolded, 0
        try:
            st = parse_statement(sig)
        except ParseError as e:
            at = kw.start + max(0, e.pos - shift)
            self.out.add("error", at, at, e.message)
            return
        goal, unknown = _initial_goal(st)
        if unknown:
            at = next((t for t in toks if t.kind == IDENT and t.text == unknown and t.start < sig_end), name_tok)
            self.out.at("error", at, f"Unknown identifier `{unknown}`")
            return
        closed = _close(st.binders, st.goal)
        if kw.text == "axiom":
            self.theorems[st.name] = (closed, frozenset({st.name}))
            return
        if st.name in self.theorems and kw.text != "example":
            self.out.at("error", name_tok, f"'{st.name}' has already been declared")
            return
        if not proof:
            self.out.add("error", toks[-1].end, toks[-1].end, "unexpected end of input; expected term")
            return
        axioms, ok = self._proof(goal, proof)
        if ok and "sorryAx" in axioms:
            self.out.at("warning", name_tok, SORRY_WARNING)
        if kw.text != "example":
            self.theorems[st.name] = (closed, axioms)

    def _proof(self, goal: Goal, proof: list[Token]) -> tuple[frozenset, bool]:
        """Check `:= proof`; (axioms used, whether it went without error)."""
        if proof[0].text != "by":
            if len(proof) == 1 and proof[0].text == "sorry":   # a term `sorry`: the REPL reports it too
                self._sorry_entry(goal, proof[0])
                return frozenset({"sorryAx"}), True
            # a term proof `:= e` elaborates like `exact e` (layout does not matter inside a term)
            text = "exact " + " ".join(self.code[proof[0].start:proof[-1].end].split())
            return self._run_blocks(goal, [_Block(proof, text)], proof[0], proof[-1].end)
        by = proof[0]
        if self.root_goals:
            self.out.sorries.append(self._entry(goal, by.start, by.start))
        blocks, leftover = _tactic_blocks(proof[1:], by, self.code)
        if not blocks:
            self.out.at("error", by, "unsolved goals\n" + goal.pp())
            result = (frozenset({"sorryAx"}), False)
        else:
            result = self._run_blocks(goal, blocks, by, blocks[-1].end)
        if leftover:
            self.out.at("error", leftover[0], f"unexpected token '{leftover[0].text}'; expected command")
        return result

    def _run_blocks(self, goal: Goal, blocks: list[_Block], by: Token, end: int) -> tuple[frozenset, bool]:
        state = ProofState((goal,))
        info: list[str] = []
        engine = _Engine(self.theorems, info)
        for block in blocks:
            noted, shown = len(engine.sorry_goals), len(info)
            try:
                state = engine.run(state, block.text)
            except TacticSyntaxError as e:
                self.out.add("error", block.start, block.end, _error_text(e))
                return state.axioms | {"sorryAx"}, False
            except Exception as e:  # noqa: BLE001 -- a kernel bug fails this tactic, as a Lean error
                if not isinstance(e, (TacticError, RecursionError)):
                    self.session._report()
                self._sorries_of(block, engine.sorry_goals[noted:])
                self.out.add("error", block.start, block.end, _error_text(e))
                return state.axioms | {"sorryAx"}, False
            self._sorries_of(block, engine.sorry_goals[noted:])
            for m in info[shown:]:
                self.out.add("info", block.start, block.end, m)
        if state.goals:
            self.out.add("error", by.start, end, "unsolved goals\n" + "\n\n".join(state.pp_goals()))
            return state.axioms | {"sorryAx"}, False
        # a `sorry` the engine ran is a fact, whatever the tactics did with their axioms
        gave_up = state.sorries or engine.sorry_goals
        return state.axioms | ({"sorryAx"} if gave_up else set()), True

    def _sorries_of(self, block: _Block, goals: list[Goal]) -> None:
        """Pair the sorries a block ran with its `sorry` tokens: in order; a token run on several
        goals (`<;> sorry`, `all_goals sorry`) gives one entry per goal, all at that token."""
        toks = [t for t in block.tokens if t.kind == IDENT and t.text == "sorry"]
        if not goals or not toks:
            return
        for i, g in enumerate(goals):
            self._sorry_entry(g, toks[0] if len(toks) == 1 else toks[min(i, len(toks) - 1)])

    def _sorry_entry(self, goal: Goal, tok: Token) -> None:
        self.out.sorries.append(self._entry(goal, tok.start, tok.end))

    def _entry(self, goal: Goal, start: int, end: int) -> dict:
        pos, end_pos = self.out.span(start, end)
        sid = self.session._new_state(ProofState((goal,)), self.base)
        return {"proofState": sid, "pos": pos, "goal": goal.pp(), "endPos": end_pos}

    # ---------------------------------------------------------- #print axioms, #eval
    def _print_axioms(self, toks: list[Token]) -> None:
        kw = toks[0]
        if len(toks) < 2 or toks[1].text != "axioms":
            self.out.at("error", kw, "the embedded environment supports only `#print axioms NAME`")
            return
        if len(toks) != 3 or toks[2].kind != IDENT:
            bad = toks[3] if len(toks) > 3 else toks[-1]
            self.out.at("error", bad, "unexpected token; expected identifier" if len(toks) > 3
                        else "unexpected end of input; expected identifier")
            return
        name = toks[2].name
        if name not in self.theorems:
            self.out.at("error", toks[2], f"Unknown constant `{name}`")
            return
        axioms = sorted(self.theorems[name][1], key=_name_order)
        # Lean logs it at the `#print` keyword: the proof's own messages can never sit there
        if axioms:
            self.out.at("info", kw, f"'{name}' depends on axioms: [{', '.join(axioms)}]")
        else:
            self.out.at("info", kw, f"'{name}' does not depend on any axioms")

    def _eval(self, toks: list[Token]) -> None:
        """`#eval` of closed ℕ/ℤ arithmetic or a decidable comparison of it, printed as Lean does."""
        kw = toks[0]
        if len(toks) < 2:
            self.out.add("error", kw.end, kw.end, "unexpected end of input; expected term")
            return
        text = " ".join(self.code[toks[1].start:toks[-1].end].split())
        try:
            t = parse_term(text)
        except ParseError as e:
            self.out.at("error", toks[1], e.message)
            return
        try:
            value = _evaluate(t)
        except arith.ArithError as e:
            self.out.at("error", toks[1], str(e))
            return
        if value is None:
            self.out.at("error", kw, "the embedded environment can #eval only closed ℕ/ℤ arithmetic and "
                                     "comparisons of it")
            return
        self.out.at("info", kw, value)


# ---------------------------------------------------------------- reading commands

def _command_options(req: dict) -> dict:
    """The command options the REPL (and LeanInteract's fork) accept: served, inert, or refused."""
    for key in ("allTactics", "declarations"):
        if req.get(key):
            raise _ReplyError(f"the embedded environment does not support \"{key}\": it builds no info trees")
    if req.get("infotree") is not None:
        raise _ReplyError("the embedded environment does not support \"infotree\": it builds no info trees")
    for opt in req.get("setOptions") or []:
        name = ".".join(opt[0]) if isinstance(opt, list) and opt and isinstance(opt[0], list) else repr(opt)
        if not _inert_option(name):
            raise _ReplyError(f"the embedded environment does not support the option '{name}' (setOptions)")
    return {"root_goals": bool(req.get("rootGoals"))}


def _lex(text: str, out: _Output) -> tuple[str, list[Token]]:
    """The text with comments blanked, and its code tokens. Text Lean's tokenizer refuses gets
    Lean's error at its position; reading resumes at the next line that starts a command (Lean
    skips to the next command too), except after an unterminated comment, which runs to the end."""
    code = text
    while True:
        try:
            tokens = tokenize(code)
            return blank_comments(code, tokens), [t for t in tokens if t.kind != "comment"]
        except LexError as e:
            out.add("error", e.offset, e.offset, e.message)
            good_end = e.tokens[-1].end if e.tokens else 0
            resume = len(code) if e.message == "unterminated comment" else _next_command_line(code, e.offset)
            # blank from the last good token to the resume point: the bad construct is gone
            code = code[:good_end] + "".join(c if c == "\n" else " " for c in code[good_end:resume]) + code[resume:]


def _next_command_line(text: str, offset: int) -> int:
    i = text.find("\n", offset)
    while i >= 0:
        line = text[i + 1:]
        word = re.match(r"[#@]?[\w\[]+", line)
        if word and (word.group() in _COMMANDS or word.group().startswith("@[")):
            return i + 1
        i = text.find("\n", i + 1)
    return len(text)


def _split_commands(tokens: list[Token]) -> list[list[Token]]:
    """Group code tokens into commands: a command keyword at column 0 (or an unambiguous one first
    on its line) starts one, except after modifiers (`private`, `@[..]`) or `open ... in`."""
    out: list[list[Token]] = []
    prev: Token | None = None
    for tok in tokens:
        first_on_line = prev is None or tok.line > prev.end_line
        starts = tok.text in _COMMANDS and first_on_line and (tok.column == 0 or tok.text in _ANYWHERE)
        if out and (not starts or _continues(out[-1])):
            out[-1].append(tok)
        else:
            out.append([tok])
        prev = tok
    return out


def _continues(cmd: list[Token]) -> bool:
    """Whether the next command keyword still belongs to `cmd` (it is only modifiers, or ends in `in`)."""
    mods, rest = _split_modifiers(cmd)
    if mods and not rest:
        return True
    return bool(rest) and rest[0].text in ("open", "set_option") and cmd[-1].text == "in"


def _split_modifiers(toks: list[Token]) -> tuple[list[Token], list[Token]]:
    """`@[attr] private theorem ...` -> (the modifier tokens, `theorem ...`)."""
    i = 0
    while i < len(toks):
        if toks[i].text == "@[":
            j = _matching(toks, i)
            if j is None:
                return toks, []
            i = j + 1
        elif toks[i].text in _MODIFIERS:
            i += 1
        else:
            break
    return toks[:i], toks[i:]


def _matching(toks: list[Token], i: int) -> int | None:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text in _OPEN:
            depth += 1
        elif toks[j].text in _CLOSE:
            depth -= 1
            if depth == 0:
                return j
    return None


def _top_level_index(toks: list[Token], text: str) -> int | None:
    depth = 0
    for i, t in enumerate(toks):
        if t.text in _OPEN:
            depth += 1
        elif t.text in _CLOSE:
            depth -= 1
        elif depth == 0 and t.text == text:
            return i
    return None


def _after_in(toks: list[Token]) -> list[Token] | None:
    """`open A in CMD` / `set_option o v in CMD` -> the tokens of CMD (None without `in`)."""
    i = _top_level_index(toks, "in")
    return toks[i + 1:] if i is not None and i + 1 < len(toks) else None


def _tactic_blocks(toks: list[Token], by: Token, code: str) -> tuple[list[_Block], list[Token]]:
    """Cut a `by` block into its top-level tactics the way Lean's layout rule does: the first
    tactic fixes the column; a line starting at that column (outside brackets) starts the next
    tactic; a line starting left of it ends the block. A block that begins on a later line at
    column 0 is empty (its tokens are left over, as Lean leaves them to the next command).

    Each block's text keeps its column (it is padded on the left), so continuation lines keep
    their indentation relative to it and the engine reads it as it reads a whole script."""
    if not toks:
        return [], []
    first = toks[0]
    if first.line > by.line and first.column == 0:
        return [], toks
    col, blocks, current, depth = first.column, [], [first], _depth_change(first)
    for i in range(1, len(toks)):
        prev, tok = toks[i - 1], toks[i]
        # alternatives and `<;>` (starting a line or ending the one above) belong to the tactic above
        continues = tok.text in ("|", "<;>") or prev.text == "<;>"
        if tok.line > prev.end_line and depth <= 0 and tok.column <= col and not continues:
            blocks.append(current)
            if tok.column < col:
                return _blocks(blocks, code), toks[i:]
            current = [tok]
        else:
            current.append(tok)
        depth += _depth_change(tok)
    blocks.append(current)
    return _blocks(blocks, code), []


def _depth_change(tok: Token) -> int:
    return 1 if tok.text in _OPEN else -1 if tok.text in _CLOSE else 0


def _blocks(groups: list[list[Token]], code: str) -> list[_Block]:
    return [_Block(g, " " * g[0].column + code[g[0].start:g[-1].end]) for g in groups]


# ---------------------------------------------------------------- statements

def _initial_goal(st) -> tuple[Goal, str]:
    """The statement's goal, and the first name it uses that no binder declares ("" if none)."""
    g = Goal((), st.goal)
    ctx: dict[str, str] = {}
    for name, ty in st.binders:
        if isinstance(ty, str):
            ctx.update(context_entries(name, ty))
        else:
            bad = _unknown_vars(ty, ctx)
            if bad:
                return g, bad
        g = g.add(name, ty)
    return g, _unknown_vars(st.goal, ctx) or ""


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


def _evaluate(t: Term) -> str | None:
    """What `#eval t` prints, or None when t is not closed arithmetic (or a comparison of it)."""
    try:   # elaborated first: `(2 : ℤ) - 5` is an integer subtraction
        t = elab_prop(t, {}) if isinstance(t, Bin) and t.op in REL_OPS else tree(t, {}, None)[0]
    except TacticError:
        return None
    if isinstance(t, Bin) and t.op in REL_OPS and arith.is_closed_arith(t.lhs) and arith.is_closed_arith(t.rhs):
        ty = arith.term_type(t.lhs, {}) or arith.term_type(t.rhs, {}) or NAT
        if not is_integral(ty):   # ℝ does not compute in Lean; ℚ values are not printed here
            return None
        a, b = arith.evaluate(arith.typed(t.lhs, ty), ty), arith.evaluate(arith.typed(t.rhs, ty), ty)
        return "true" if arith.decide_relation(t.op, a, b) else "false"
    if arith.is_closed_arith(t):
        ty = arith.term_type(t, {}) or NAT
        if not is_integral(ty):
            return None
        return numeral_text(arith.evaluate(arith.typed(t, ty), ty))
    return None


def _name_order(name: str) -> tuple:
    """Lean's `Name.lt`, which `#print axioms` sorts by: fewer components first, then by component."""
    parts = name.split(".")
    return len(parts), parts


# ---------------------------------------------------------------- messages

def _tactic_message(severity: str, data: str) -> dict:
    # tactic mode has no file positions: the REPL reports line 0, column 0
    return {"severity": severity, "pos": {"line": 0, "column": 0}, "endPos": {"line": 0, "column": 0},
            "data": data.strip()}


def _error_text(e: BaseException) -> str:
    if isinstance(e, RecursionError):
        return MAX_REC_DEPTH
    if isinstance(e, (TacticError, ParseError)):
        return _INPUT_PREFIX.sub("", str(e))
    return _exception_text(e)


def _exception_text(e: BaseException) -> str:
    """A Python exception where Lean would report an error: Lean's wording when there is one."""
    if isinstance(e, RecursionError):
        return MAX_REC_DEPTH
    if isinstance(e, MemoryError):
        return "out of memory (the embedded server's memory cap)"
    if isinstance(e, ValueError) and "int" in str(e) and "digits" in str(e):
        return f"numeral too large for the embedded kernel: {e}"
    return f"embedded kernel exception (a bug, please report): {type(e).__name__}: {e}"
