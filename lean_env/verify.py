"""Whole-proof verification: the one authority on whether a proof counts.

A proof is checked as the benchmark statement verbatim + the model's tactics indented under its
`by`, elaborated as ONE command in a fresh environment (the header's, never one holding
exploration `sorry`s), followed by `#print axioms NAME`. Every backend verifies through
`verify_proof`; the model supplies tactics only, never the statement.

Threat model. The adversary is the policy being trained: it writes any text it likes as tactics
and is rewarded when this module says `ok`. It does not control the benchmark statement, the
header, the Lean toolchain or this process. A proof counts only when all of these hold:

1. Statement: the checked text starts with the benchmark statement character for character; a
   whole theorem submitted as text (`split_full_proof`) must match it token for token (comments
   and spacing aside), or it is "statement tampering".
2. Text refusals, before Lean sees anything (`lean_env.rules.scan`, on Lean's own tokens, so
   comments, strings, line breaks and odd spacing hide nothing): `sorry`/`admit`/`exact?`/
   `apply?`; compiler trust (`native_decide`, `Lean.ofReduceBool`, `implemented_by`, `extern`);
   metaprogramming (`run_tac`, `run_cmd`, `elab`, `macro`, `syntax`, `#eval`, `Lean.*`);
   declarations (`axiom`, `opaque`, `theorem`, `instance`, `@[...]`, `where`); other commands
   (`namespace`, `attribute`, `open` unless `open Ns in`); `termination_by`/`decreasing_by`;
   `set_option` except `set_option maxHeartbeats|maxRecDepth|synthInstance.* N in`; invisible,
   bidi, non-ASCII space or Cyrillic look-alike characters; text Lean's tokenizer rejects; and a
   reference to the theorem's own name (recursion would need a termination argument).
3. Lean's reply: no `message` key, no error-severity message, no `sorries`, no "declaration uses
   sorry" warning (either quote style).
4. Axioms: read only from the message the `#print axioms` command itself produced, found by its
   position (the command's line, which the proof cannot reach) and the declared name; its text
   must be exactly Lean's wording. `trace`, `logInfo` or any message elsewhere with the same text
   counts for nothing (it is reported as spoofing). The list must be a subset of
   {propext, Classical.choice, Quot.sound}: `sorryAx`, `Lean.ofReduceBool`,
   `Lean.trustCompiler` and any custom axiom reject.

5. The statement survives the refutation screen (`lean_env.screen`): a second elaborator,
   written apart from every backend, types the statement by Lean's rules and looks for a
   counterexample (exact evaluation, z3). A refuted statement was accepted by a backend that
   proves false things: the proof is rejected ("kernel accepted a refutable statement;
   counterexample: ...") and the verdict carries the incident, which summaries count.

What this does not cover, and what a kernel re-check adds on real Lean: everything above trusts
the elaborator's front end and the REPL's report. A bug in an elaborator extension, an
environment extension that fakes a declaration, or an `addDecl` path that skips the kernel would
pass unseen. `lean4checker` replays every declaration of the compiled module through the kernel
in a fresh environment, and SafeVerify additionally compares the submitted theorem's type with the
reference statement's (compiled separately with `sorry`) and re-derives the axioms from the
replayed terms; `lean_env.recheck.KernelRecheck` runs that check as an optional final stage where
the toolchain has it (`prover verify --env lean-repl --lean-project P --recheck CMD`). Every
reason starts with its class (`sorry:`, `metaprogramming:`, `set_option:`, `#print axioms
spoofing:` ...), so a report says which cheat was tried. The embedded environment has no kernel
below its tactics: there, soundness rests on the tactic engine itself, which
`tests/test_fuzz_soundness.py` and `bench/fuzz_soundness.py` hold to an independent truth oracle.
"""
from __future__ import annotations

import asyncio
import re
import textwrap
import time
from typing import Any, Awaitable, Callable, Sequence

from lean_env.lexer import IDENT, LexError, code_tokens
from lean_env.rules import ALLOWED_AXIOMS, COMPILER, SORRY, scan
from lean_env.screen.refute import screen as screen_statement
from lean_env.types import Theorem, Verdict

# (command text, timeout seconds) -> the REPL's reply, elaborated in the fresh header env.
# Raises TimeoutError on expiry (ReplTimeoutError is one); other failures propagate to the backend.
RunCommand = Callable[[str, float], Awaitable[dict[str, Any]]]

STATEMENT_TAMPERING = "statement tampering"
AXIOMS_SPOOFING = "#print axioms spoofing"
FOREIGN_AXIOM = "foreign axiom"
SELF_REFERENCE = "self-reference"

_DECL_KEYWORDS = ("theorem", "lemma")
_SORRY_WARNING = re.compile(r"declaration uses ['`]sorry['`]")
# Lean's exact wording of `#print axioms` (the list may wrap onto several lines).
_AXIOMS_NONE = re.compile(r"\s*'(?P<name>[^']+)' does not depend on any axioms\s*")
_AXIOMS_LIST = re.compile(r"\s*'(?P<name>[^']+)' depends on axioms: \[(?P<list>[^\]]*)\]\s*", re.S)


def declared_name(theorem: Theorem) -> str:
    """The name `#print axioms` must be asked about: the one declared in the statement (the
    identifier after `theorem`/`lemma`, modifiers and attributes before it skipped)."""
    try:
        toks = code_tokens(theorem.statement)
    except LexError:
        return theorem.name
    for i, t in enumerate(toks[:-1]):
        if t.kind == IDENT and t.text in _DECL_KEYWORDS and toks[i + 1].kind == IDENT:
            return toks[i + 1].name
    return theorem.name


def _tactic_lines(tactic: str) -> list[str]:
    """A tactic's lines with the common indentation removed and trailing blank lines dropped
    (tabs, which Lean refuses, become two spaces; Windows line ends become plain ones)."""
    return textwrap.dedent(tactic.replace("\r\n", "\n").replace("\t", "  ")).strip("\n").split("\n")


def build_proof_text(theorem: Theorem, tactics: Sequence[str]) -> str:
    """The statement verbatim, then every tactic indented two spaces under its `by` (the lines of
    a multi-line tactic keep their relative indentation)."""
    lines = [theorem.statement.rstrip()]
    for tac in tactics:
        for line in _tactic_lines(tac):
            lines.append("  " + line if line.strip() else "")
    return "\n".join(lines)


def _statement_mismatch(theorem: Theorem, text: str, whole: bool) -> tuple[str | None, int]:
    """Compare `text` with the benchmark statement token by token (comments and spacing aside):
    (why it differs or None, offset in `text` just past the statement). With `whole`, nothing
    may follow the statement."""
    try:
        want, got = code_tokens(theorem.statement.rstrip()), code_tokens(text)
    except LexError as e:
        return f"{STATEMENT_TAMPERING}: the text does not lex ({e.message} at line {e.line})", 0
    if not want:
        return f"{STATEMENT_TAMPERING}: the benchmark statement is empty", 0
    for k, w in enumerate(want):
        g = got[k] if k < len(got) else None
        if g is None or (g.kind, g.text) != (w.kind, w.text):
            shown = f"'{g.text}' at line {g.line}, column {g.column}" if g else "the end of the text"
            return f"{STATEMENT_TAMPERING}: expected '{w.text}' of the benchmark statement, found {shown}", 0
    if whole and len(got) > len(want):
        extra = got[len(want)]
        return f"{STATEMENT_TAMPERING}: text after the statement at line {extra.line}: '{extra.text}'", 0
    return None, got[len(want) - 1].end


def check_statement(theorem: Theorem, statement: str) -> list[str]:
    """Reasons a submitted statement is not the benchmark's (empty: the same statement)."""
    why, _ = _statement_mismatch(theorem, statement, whole=True)
    return [why] if why else []


def split_full_proof(theorem: Theorem, text: str) -> tuple[list[str], list[str]]:
    """A whole theorem as text (what many provers emit) -> (tactics, reasons). The text must be
    the benchmark statement token for token, then the tactic block; anything else before the
    proof (imports, another statement, a weaker hypothesis) is statement tampering."""
    why, end = _statement_mismatch(theorem, text, whole=False)
    if why:
        return [], [why]
    # a tactic on the `by` line is one tactic; the indented lines below it are dedented as a block
    first, _, rest = text[end:].partition("\n")
    return [t for t in (first, rest) if t.strip()], []


def precheck(theorem: Theorem, tactics: Sequence[str]) -> list[str]:
    """Reasons to reject a proof before Lean sees it (empty list: send it)."""
    reasons: list[str] = []
    try:
        stmt = code_tokens(theorem.statement)
        if [t.text for t in stmt[-2:]] != [":=", "by"]:
            reasons.append("statement does not end with ':= by'")
    except LexError as e:
        reasons.append(f"the benchmark statement does not lex: {e.message}")
    if not tactics or not any(t.strip() for t in tactics):
        reasons.append("empty proof")
    # the proof part of the checked text (the statement may span several lines)
    body = build_proof_text(theorem, tactics)[len(theorem.statement.rstrip()) + 1:]
    findings = scan(body)
    reasons += [f.reason() for f in findings]
    if not findings:
        name = declared_name(theorem)
        if any(t.kind == IDENT and t.name == name for t in code_tokens(body)):
            reasons.append(f"{SELF_REFERENCE}: the proof names the theorem `{name}` itself")
    # Every proof line must sit inside the `by` block (column > 0), whatever the tactics contain.
    for line in body.split("\n"):
        if line.strip() and not line[0].isspace():
            reasons.append(f"line outside the by-block: {line[:60]!r}")
    return list(dict.fromkeys(reasons))


def _message_line(m: dict) -> int | None:
    pos = m.get("pos")
    return pos.get("line") if isinstance(pos, dict) and isinstance(pos.get("line"), int) else None


def _axioms_report(data: str) -> tuple[str, tuple[str, ...]] | None:
    """(name, axioms) when `data` is exactly Lean's `#print axioms` wording, else None."""
    if m := _AXIOMS_NONE.fullmatch(data):
        return m["name"], ()
    if m := _AXIOMS_LIST.fullmatch(data):
        return m["name"], tuple(a.strip() for a in m["list"].replace("\n", " ").split(",") if a.strip())
    return None


def parse_axioms(messages: Sequence[Any], name: str, line: int | None = None) -> tuple[str, ...] | None:
    """The axioms `#print axioms NAME` listed, or None when the reply holds no such report.

    With `line` (the line of the `#print axioms` command in the sent text) only an info message
    at that line counts: the proof's own messages (`trace`, `logInfo`) sit on earlier lines."""
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("data"), str):
            continue
        if line is not None and (_message_line(m) != line or m.get("severity") != "info"):
            continue
        report = _axioms_report(m["data"])
        if report and _same_name(report[0], name):
            return report[1]
    return None


def _same_name(reported: str, name: str) -> bool:
    """Lean prints the full name: `X.foo` when the header opened `namespace X`."""
    return reported == name or reported.endswith("." + name)


def check_reply(reply: dict[str, Any], name: str, axioms_line: int | None = None) -> Verdict:
    """Judge a REPL reply to `proof text + #print axioms NAME` (the command on `axioms_line`)."""
    reasons: list[str] = []
    if "message" in reply:
        reasons.append(f"REPL error: {str(reply['message'])[:300]}")
    messages = [m for m in reply.get("messages") or [] if isinstance(m, dict)]
    for m in messages:
        data = str(m.get("data", ""))
        if m.get("severity") == "error":
            reasons.append(f"error: {data[:300]}")
        elif _SORRY_WARNING.search(data):
            reasons.append(f"{SORRY}: declaration uses sorry")
        if axioms_line is not None and _message_line(m) != axioms_line and (
                _axioms_report(data) or "depend" in data and "axioms" in data):
            reasons.append(f"{AXIOMS_SPOOFING}: a message at line {_message_line(m)} imitates the "
                           "`#print axioms` report; only the command's own message counts")
    if reply.get("sorries"):
        reasons.append(f"{SORRY}: {len(reply['sorries'])} sorry(ies) in the proof")
    anchored = [m for m in messages if axioms_line is None or _message_line(m) == axioms_line]
    reports = [r for m in anchored if (r := _axioms_report(str(m.get("data", "")))) and _same_name(r[0], name)]
    if len(reports) > 1:
        reasons.append(f"{AXIOMS_SPOOFING}: {len(reports)} axioms reports for {name}")
    axioms = parse_axioms(messages, name, axioms_line)
    if axioms is None:
        reasons.append(f"could not read axioms: no `#print axioms {name}` output in the reply")
        axioms = ()
    for a in axioms:
        if a == "sorryAx":
            reasons.append(f"{SORRY}: the proof depends on sorryAx")
        elif a in ("Lean.ofReduceBool", "Lean.trustCompiler"):
            reasons.append(f"{COMPILER}: the proof depends on {a}")
        elif a not in ALLOWED_AXIOMS:
            reasons.append(f"{FOREIGN_AXIOM}: {a} is outside the allowed set "
                           f"{{{', '.join(sorted(ALLOWED_AXIOMS))}}}")
    return Verdict(ok=not reasons, reasons=tuple(dict.fromkeys(reasons)), axioms=tuple(axioms))


def answer_declaration(theorem: Theorem, answer: str) -> str:
    """The benchmark's answer declaration with its `sorry` replaced by `answer` (the prover
    supplies the term only, never the name or the type)."""
    decl = theorem.answer.rstrip()
    if not re.search(r":=\s*sorry$", decl):
        raise ValueError(f"{theorem.id}: the answer declaration must end in ':= sorry', got {decl[-60:]!r}")
    return decl[:decl.rindex(":=")] + ":= " + answer.strip()


def check_answer(theorem: Theorem, answer: str | None) -> list[str]:
    """Reasons to refuse an answer before Lean sees it, each starting with `answer:`."""
    if not theorem.answer:
        return [] if answer is None else ["answer: the statement has no answer to fill"]
    if answer is None or not answer.strip():
        return [f"answer: the statement has an answer to fill ({declared_answer_name(theorem)}) and none was given"]
    return list(dict.fromkeys(f"answer: {f.reason()}" for f in scan(answer)))


def declared_answer_name(theorem: Theorem) -> str:
    toks = code_tokens(theorem.answer)
    return next((toks[i + 1].name for i, t in enumerate(toks[:-1])
                 if t.kind == IDENT and t.text in ("abbrev", "def") and toks[i + 1].kind == IDENT), "the answer")


def verification_command(theorem: Theorem, tactics: Sequence[str], answer: str | None = None) -> tuple[str, str, int]:
    """(proof text, the command sent, the line `#print axioms` sits on in that command). With an
    answer, the filled answer declaration comes first: `#print axioms` of the theorem then covers
    the answer's value too (the statement mentions it)."""
    text = build_proof_text(theorem, tactics)
    if theorem.answer and answer is not None:
        text = answer_declaration(theorem, answer) + "\n\n" + text
    name = declared_name(theorem)
    cmd = f"{text}\n\n#print axioms {name}"
    return text, cmd, cmd.count("\n") + 1


def _split_answer_reply(reply: dict[str, Any], answer_lines: int) -> tuple[list[str], dict[str, Any]]:
    """(reasons against the answer declaration, the reply without its messages): Lean's messages
    and sorries positioned on the answer's lines are the answer's, the rest the proof's."""
    def on_answer(m: Any) -> bool:
        line = _message_line(m) if isinstance(m, dict) else None
        return line is not None and line <= answer_lines

    reasons = []
    for m in reply.get("messages") or []:
        if on_answer(m):
            data = str(m.get("data", ""))
            if m.get("severity") == "error":
                reasons.append(f"answer: error: {data[:300]}")
            elif _SORRY_WARNING.search(data):
                reasons.append(f"answer: {SORRY}: the answer uses sorry")
    if any(on_answer(s) for s in reply.get("sorries") or []):
        reasons.append(f"answer: {SORRY}: the answer uses sorry")
    rest = {**reply, "messages": [m for m in reply.get("messages") or [] if not on_answer(m)],
            "sorries": [s for s in reply.get("sorries") or [] if not on_answer(s)]}
    return list(dict.fromkeys(reasons)), rest


async def verify_proof(run_command: RunCommand, theorem: Theorem, tactics: Sequence[str], timeout: float,
                       answer: str | None = None, screen: bool = True) -> Verdict:
    """Precheck, then elaborate the whole proof plus `#print axioms` as one command in the fresh
    header environment, and judge the reply. A timeout rejects the proof. A statement with an
    answer to fill needs `answer` (the term); the verdict reports the answer's faults
    (`answer_reasons`) apart from the proof's (`reasons`). An accepted proof then goes through the
    refutation screen (`screen=False` only to test a backend alone)."""
    t0 = time.perf_counter()
    answer_reasons = check_answer(theorem, answer)
    filled = answer if theorem.answer and not answer_reasons else None
    text, cmd, axioms_line = verification_command(theorem, tactics, filled)
    reasons = precheck(theorem, tactics)
    if reasons or answer_reasons:
        return Verdict(False, tuple(reasons), (), time.perf_counter() - t0, text, answer, tuple(answer_reasons))
    # the screen depends on the statement only: it runs (in a thread, z3 releases the GIL) while the
    # backend checks the proof, and its memo serves every later proof of the same theorem
    screening = asyncio.ensure_future(asyncio.to_thread(screen_statement, theorem.statement)) if screen else None
    try:
        reply = await run_command(cmd, timeout)
    except TimeoutError:
        return Verdict(False, (f"verification timed out after {timeout:.0f}s",), (), time.perf_counter() - t0, text,
                       answer)
    if filled is not None:
        answer_reasons, reply = _split_answer_reply(reply, answer_declaration(theorem, filled).count("\n") + 1)
    verdict = check_reply(reply, declared_name(theorem), axioms_line)
    if verdict.ok and not answer_reasons and screening is not None:
        result = await screening
        if result.refuted:
            reason = result.reason()
            return Verdict(False, (reason,), verdict.axioms, time.perf_counter() - t0, text, answer,
                           tuple(answer_reasons), incident=reason)
    return Verdict(verdict.ok and not answer_reasons, verdict.reasons, verdict.axioms, time.perf_counter() - t0, text,
                   answer, tuple(answer_reasons))
