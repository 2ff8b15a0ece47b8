"""Agreement of the embedded kernel with Lean on Lean's and Mathlib's own tests (and on the prover
dev set), per file, and the known differences.

    python scripts/conformance_report.py                 # the tables
    python scripts/conformance_report.py --update-known  # rewrite data/conformance/known_differences.yaml

`--update-known` keeps the reason written for every difference that is still there, drops the
ones that went away (the kernel now agrees with Lean), and files each new one under a reason
found from the kernel's error (`unclassified` when none fits: write one).
"""
from __future__ import annotations

import argparse
import json
import re
import sys

import yaml

from lean_env.embedded.conformance import (
    KNOWN, PROVER_PROOFS, disagreements, load_items, load_known, markdown_table, per_file, run_items, run_proofs,
)

# Why the kernel and Lean differ, as read from the kernel's first error: (key, pattern, reason).
REASONS = [
    ("stronger-than-lean", None, "the kernel accepts what Lean rejects: a fidelity bug, flagged for the typed core"),
    ("missing-tactic", r"^unknown tactic", "a tactic the kernel does not have (cancel_denoms, conv, conv_lhs, "
                                          "set, use!, ...)"),
    ("missing-lemma", r"^unknown (identifier|constant)", "a lemma or term the kernel's table does not have"),
    ("weaker-positivity", r"^failed to prove positivity", "positivity ignores hypotheses such as `3 ≤ a` and is "
                                                          "weak on `≠ 0` (Mathlib's uses assumptions and extensions)"),
    ("weaker-omega", r"^omega could not prove", "omega's input language: ∃/natAbs/min/max/if, `2 ^ (e + 1)`, Fin"),
    ("weaker-linarith", r"^linarith failed", "linarith's preprocessing (∧/↔ splitting, splitNe, nat casts)"),
    ("weaker-ring", r"^ring(_nf)? failed", "ring/ring_nf normal form (symbolic exponents, under functions, at h ⊢)"),
    ("weaker-norm_num", r"^norm_num failed|^simp made no progress|failed to simplify",
     "norm_num/simp extensions (sqrt of squares, Nat.Prime, divisibility, ...)"),
    ("weaker-interval_cases", r"^interval_cases", "interval_cases forms: `using h1, h2`, `h : n % 3`, case limits"),
    ("refused-option", r"does not support the option", "a config option the kernel refuses rather than ignore "
                                                       "(ignoring it could accept what Lean rejects)"),
    ("fail-if-success-stronger", r"^tactic succeeded", "the tactic under `fail_if_success` succeeds in the kernel "
                                                       "where Lean's fails (its reject item is flagged too)"),
    ("elaboration", r"type mismatch|application type mismatch|could not unify|don't know how to synthesize|"
                    r"type expected", "term elaboration (metavariables in lemma arguments, `apply` unification)"),
    ("no-goals", r"^no goals", "an earlier tactic closed a goal that Lean's leaves open (or the reverse)"),
    ("unsolved-goals", r"^unsolved goals", "a tactic left a goal that Lean's closes"),
    ("outside-fragment", r"embedded fragment has no|outside the embedded fragment",
     "the proof uses something outside the kernel's fragment (Finset.empty, ...)"),
    ("linarith-only", r"unexpected token 'only'", "`linarith only [..]`: the kernel's linarith cannot leave out "
                                                  "the other hypotheses, so it refuses the form"),
    ("data-have", r"cannot elaborate .* as a proof", "`have := 0` (a value, not a proof) is outside the kernel's `have`"),
    ("weaker-field_simp", None, "field_simp leaves a different normal form than Mathlib's (written by hand)"),
    ("timeout", r"^no answer in", "the kernel did not answer within the time limit"),
    ("kernel-exception", r"embedded kernel exception", "a kernel bug (an exception), reported as an error"),
]
TEXT = {key: text for key, _, text in REASONS}


def classify(o) -> str:
    if o.stronger:
        return "stronger-than-lean"
    for key, pattern, _ in REASONS:
        if pattern and re.search(pattern, o.error):
            return key
    return "unclassified"


def update_known(outcomes) -> dict:
    old = load_known()["differences"]
    diffs = {}
    for i, o in sorted(disagreements(outcomes).items()):
        kept = old.get(i, {})
        reason = kept.get("reason") if kept.get("reason") not in (None, "unclassified") else classify(o)
        if o.stronger:
            reason = "stronger-than-lean"
        diffs[i] = {"reason": reason, "kernel": o.kernel, "error": (o.error.split("\n")[0])[:120]}
    reasons = {k: TEXT.get(k, load_known()["reasons"].get(k, "")) for k in sorted({d["reason"] for d in diffs.values()})}
    return {"reasons": reasons, "differences": diffs}


_HEADER = """\
# Where the embedded kernel and Lean disagree on Lean's/Mathlib's own test items
# (data/conformance/items.jsonl), one entry per item, with the reason. Made and kept current by
#   python scripts/conformance_report.py --update-known
# tests/test_conformance_lean.py fails when the kernel's answers and this file part ways, and on any
# item where the kernel accepts what Lean rejects that is not listed here as `stronger-than-lean`.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update-known", action="store_true", help="rewrite known_differences.yaml")
    ap.add_argument("--no-provers", action="store_true", help="skip the prover dev set")
    args = ap.parse_args(argv)
    outcomes = run_items(load_items())
    print("## Lean's and Mathlib's test files\n")
    print(markdown_table(per_file(outcomes)))
    reasons: dict[str, int] = {}
    known = load_known()["differences"]
    for i, o in disagreements(outcomes).items():
        key = known.get(i, {}).get("reason") or classify(o)
        reasons[key] = reasons.get(key, 0) + 1
    print("\nDifferences by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])))
    stronger = [o.id for o in outcomes if o.stronger]
    print(f"Kernel accepts, Lean rejects ({len(stronger)}): {', '.join(stronger) or 'none'}")
    if not args.no_provers and PROVER_PROOFS.exists():
        rows = [json.loads(line) for line in PROVER_PROOFS.read_text(encoding="utf-8").splitlines() if line.strip()]
        print("\n## Proofs a released prover wrote that Lean accepted (dev set)\n")
        print(markdown_table(per_file(run_proofs(rows))))
    if args.update_known:
        data = update_known(outcomes)
        KNOWN.write_text(_HEADER + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120),
                         encoding="utf-8")
        print(f"\n{len(data['differences'])} known differences -> {KNOWN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
