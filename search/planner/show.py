"""The planner part of an attempt record as text (`prover show-tree`)."""
from __future__ import annotations

from search.records import AttemptRecord


def format_trace(rec: AttemptRecord) -> str:
    t = rec.planner
    status = "proved" if rec.proved else f"not proved ({rec.failure})"
    head = f"{rec.theorem_id} attempt {rec.attempt}: {status}; {rec.expansions} expansions"
    if t is None:
        return head + "; no planner"
    lines = [head]
    for j, p in enumerate(t.plans):
        verdict = "valid" if p.valid else f"invalid: {p.error}"
        kept = f", kept {p.kept} proven" if p.kept else ""
        lines.append(f"  plan {j + 1} ({p.reason}{kept}): {verdict}")
        lines.extend(f"    {s}" for s in p.steps)
    for s in t.progress:
        mark = "accepted" if s.accepted else "proved, refused by the store" if s.proved else f"failed ({s.failure})"
        proof = f": {' ; '.join(s.proof)}" if s.proof else ""
        what = "main goal" if s.statement == "main goal" else f"step {s.step + 1} `{s.statement}`"
        lines.append(f"  searcher {s.searcher} {what}: {mark}, {s.expansions} expansions{proof}")
    if t.wiped:
        lines.append(f"  progress wiped {t.wiped} time(s) after a failed whole-proof check")
    if rec.proved and rec.proof:
        lines.append("  proof:")
        lines.extend("    " + line for tac in rec.proof for line in tac.split("\n"))
    return "\n".join(lines)
