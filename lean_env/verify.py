"""Whole-proof verification: the one authority on whether a proof counts.

A proof is checked as header + the benchmark statement verbatim + the indented tactics, elaborated
as one command in a fresh environment (the header's, never one holding exploration `sorry`s),
followed by `#print axioms NAME`. It counts only with no error, no sorry, and axioms within
{propext, Classical.choice, Quot.sound}. Every backend verifies through `verify_proof`.
"""
from __future__ import annotations

import re
import time
from typing import Any, Awaitable, Callable, Sequence

from lean_env.rules import ALLOWED_AXIOMS, TOP_LEVEL_COMMANDS, forbidden_tactic
from lean_env.types import Theorem, Verdict

_DECL_NAME = re.compile(r"^\s*(?:noncomputable\s+)?(?:theorem|lemma|def)\s+([^\s(:{\[]+)", re.M)
_SORRY_WARNING = re.compile(r"declaration uses ['`]sorry['`]")
_TOP_LEVEL = re.compile(r"^\s*(?:" + "|".join(re.escape(c) for c in TOP_LEVEL_COMMANDS) + r")(?![\w'])")

# (cmd text, env id) -> the REPL's reply; raises on timeouts/crashes.
RunCommand = Callable[[str, int], Awaitable[dict[str, Any]]]


def declared_name(theorem: Theorem) -> str:
    m = _DECL_NAME.search(theorem.statement)
    return m.group(1) if m else theorem.name


def build_proof_text(theorem: Theorem, tactics: Sequence[str]) -> str:
    """The statement verbatim, then every tactic line indented two spaces under its `by`."""
    lines = [theorem.statement.rstrip()]
    for tac in tactics:
        for line in tac.strip("\n").split("\n"):
            lines.append("  " + line if line.strip() else "")
    return "\n".join(lines)


def precheck(theorem: Theorem, tactics: Sequence[str]) -> list[str]:
    """Reasons to reject a proof before Lean sees it (empty list: send it)."""
    reasons: list[str] = []
    if not theorem.statement.rstrip().endswith(":= by"):
        reasons.append("statement does not end with ':= by'")
    if not tactics or not any(t.strip() for t in tactics):
        reasons.append("empty proof")
    for tac in tactics:
        bad = forbidden_tactic(tac)
        if bad:
            reasons.append(f"forbidden tactic '{bad}'")
        for line in tac.split("\n"):
            if _TOP_LEVEL.match(line):
                reasons.append(f"top-level command in proof: {line.strip()[:60]!r}")
    return reasons


def parse_axioms(messages: list[dict[str, Any]], name: str) -> tuple[str, ...] | None:
    """The axioms `#print axioms NAME` listed (the list may wrap onto several lines), or None."""
    for m in messages:
        data = m.get("data", "") if isinstance(m, dict) else ""
        if not isinstance(data, str):
            continue
        if f"'{name}' does not depend on any axioms" in data:
            return ()
        hit = re.search(rf"'{re.escape(name)}' depends on axioms:\s*\[([^\]]*)\]", data, re.S)
        if hit:
            return tuple(a.strip() for a in hit.group(1).replace("\n", " ").split(",") if a.strip())
    return None


def check_reply(reply: dict[str, Any], name: str) -> Verdict:
    """Judge a REPL reply to `proof + #print axioms NAME`."""
    reasons: list[str] = []
    if "message" in reply:
        reasons.append(f"REPL error: {str(reply['message'])[:300]}")
    messages = reply.get("messages") or []
    for m in messages:
        if not isinstance(m, dict):
            continue
        if m.get("severity") == "error":
            reasons.append(f"error: {str(m.get('data', ''))[:300]}")
        elif m.get("severity") == "warning" and _SORRY_WARNING.search(str(m.get("data", ""))):
            reasons.append("declaration uses sorry")
    if reply.get("sorries"):
        reasons.append(f"{len(reply['sorries'])} sorry(ies) in the proof")
    axioms = parse_axioms(messages, name)
    if axioms is None:
        reasons.append("could not read the output of #print axioms")
        axioms = ()
    bad = [a for a in axioms if a not in ALLOWED_AXIOMS]
    if bad:
        reasons.append(f"uses axioms outside the allowed set: {', '.join(bad)}")
    return Verdict(ok=not reasons, reasons=tuple(dict.fromkeys(reasons)), axioms=tuple(axioms))


async def verify_proof(run_command: RunCommand, header_env: int, theorem: Theorem, tactics: Sequence[str]) -> Verdict:
    """Precheck, then elaborate the whole proof in the fresh header environment and judge it."""
    t0 = time.perf_counter()
    reasons = precheck(theorem, tactics)
    text = build_proof_text(theorem, tactics)
    if reasons:
        return Verdict(False, tuple(reasons), (), time.perf_counter() - t0, text)
    name = declared_name(theorem)
    reply = await run_command(f"{text}\n\n#print axioms {name}", header_env)
    verdict = check_reply(reply, name)
    return Verdict(verdict.ok, verdict.reasons, verdict.axioms, time.perf_counter() - t0, text)
