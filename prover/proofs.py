"""The proofs a campaign keeps, and what they are made of.

`ProofBook`: the shortest verified proof of every statement proved so far, as JSON Lines (what
`prover verify PROOFS --benchmark B` checks again) and as a .lean file any Lean user can check
(the header once, then each theorem with its proof). `tactic_mix`: which kinds of tactic the
proofs use: only fixed tactics (the scripted closers and the search's `closers`, which no model
proposed), or hint lists (`nlinarith [...]`, `norm_num [h]`), `field_simp`, rewriting, `have`.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

from lean_env.jsonl import read_jsonl, write_jsonl_atomic
from lean_env.types import Theorem
from lean_env.verify import build_proof_text
from policy.scripted import DEFAULT_TACTICS


@dataclass(frozen=True)
class KeptProof:
    """One statement's shortest verified proof and where it came from."""

    id: str
    tactics: list[str]
    round: int          # the round whose search found it (0: the fixed closers)
    found_by: str       # the checkpoint that searched, or "closers"
    model_steps: int = 0  # tactics the model proposed (the rest: fixed closers or hint templates)

    @property
    def length(self) -> int:
        return len(self.tactics)


class ProofBook:
    """`<stem>.jsonl` (one KeptProof per line, sorted by id) and `<stem>.lean`, rewritten together."""

    def __init__(self, stem: Path):
        self.jsonl, self.lean = stem.with_suffix(".jsonl"), stem.with_suffix(".lean")

    def proofs(self) -> dict[str, KeptProof]:
        return {r["id"]: KeptProof(**r) for r in read_jsonl(self.jsonl)}

    def write(self, proofs: dict[str, KeptProof], theorems: Sequence[Theorem]) -> None:
        """Both files from `proofs` (a statement not in `theorems` is an error: the .lean file
        needs its statement)."""
        by_id = {t.id: t for t in theorems}
        rows = [proofs[k] for k in sorted(proofs)]
        write_jsonl_atomic(self.jsonl, [asdict(p) for p in rows])
        tmp = self.lean.with_name(self.lean.name + ".tmp")
        tmp.write_text(lean_file([(by_id[p.id], p) for p in rows]), encoding="utf-8")
        os.replace(tmp, self.lean)


def keep_shortest(book: dict[str, KeptProof], new: Iterable[KeptProof]) -> dict[str, KeptProof]:
    """`book` with each new proof that is the statement's first or strictly shorter than its kept one."""
    out = dict(book)
    for p in new:
        if p.id not in out or p.length < out[p.id].length:
            out[p.id] = p
    return out


def lean_file(proved: Sequence[tuple[Theorem, KeptProof]]) -> str:
    """The header of the first statement, then each statement with its proof and where it came
    from; a statement with another header gets its own lines as a comment (not checkable then)."""
    if not proved:
        return "-- no statement proved yet\n"
    header = proved[0][0].header.rstrip() + "\n"
    parts = [header]
    for theorem, p in proved:
        note = f"-- {theorem.id}: {p.length} tactic(s), round {p.round}, {p.found_by}"
        if theorem.header.rstrip() + "\n" != header:
            note += " (another header: " + theorem.header.strip().replace("\n", "; ") + ")"
        parts.append(f"{note}\n{build_proof_text(theorem, p.tactics)}\n")
    return "\n".join(parts)


CLOSERS = frozenset(DEFAULT_TACTICS)

# (category, test on one tactic); a proof counts once in each category one of its tactics is in
CATEGORIES = (
    ("nlinarith [hints]", lambda t: t.startswith("nlinarith [")),
    ("linarith [hints]", lambda t: t.startswith("linarith [")),
    ("norm_num [h]", lambda t: t.startswith("norm_num [") or t.startswith("norm_num at")),
    ("simp [lemmas]", lambda t: t.startswith("simp [") or t.startswith("simp only") or t.startswith("simp at")),
    ("field_simp", lambda t: t.startswith("field_simp")),
    ("rw", lambda t: t.startswith("rw ") or t.startswith("rewrite ")),
    ("have", lambda t: t.startswith("have ")),
)


def tactic_mix(proofs: Iterable[Sequence[str]], closers: Iterable[str] = ()) -> dict[str, int]:
    """Proofs per kind: `fixed tactics only` (every tactic a bare scripted closer or one of the
    search's `closers`), each category of CATEGORIES, and `other` (a tactic in no category and
    not a fixed one). By text: a model tactic equal to a closer counts as fixed here."""
    fixed = CLOSERS | set(closers)
    mix: Counter[str] = Counter()
    for proof in proofs:
        tactics = [t.strip() for t in proof]
        if all(t in fixed for t in tactics):
            mix["fixed tactics only"] += 1
            continue
        hit = {name for name, test in CATEGORIES for t in tactics if test(t)}
        if any(t not in fixed and not any(test(t) for _, test in CATEGORIES) for t in tactics):
            hit.add("other")
        mix.update(hit)
    return dict(sorted(mix.items()))


def tactic_heads(proofs: Iterable[Sequence[str]]) -> dict[str, int]:
    """Tactics per first word, most used first."""
    heads = Counter(t.strip().split()[0] for proof in proofs for t in proof if t.strip())
    return dict(heads.most_common())
