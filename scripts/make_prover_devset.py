"""A small dev set of proofs a released prover wrote for miniF2F and real Lean accepted.

Source: Kimina-Prover-Preview's published miniF2F-test solutions (MoonshotAI/Kimina-Prover-Preview,
`minif2f_test_solved.zip`, a Lake project on Lean v4.15.0 + Mathlib whose files all build; Apache-2.0).
Only the short proofs are kept (at most `--max-lines` lines, header included): the dev set
measures whether the embedded kernel reads prover-written Lean as Lean does, not how strong its
tactics are, and it is never used for tuning beyond syntax. The chain-of-thought text is dropped.

    python scripts/make_prover_devset.py --jsonl /tmp/kimina/a/minif2f_test_solved/minif2f-test-solved.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys

SOURCE = ("MoonshotAI/Kimina-Prover-Preview@7abd61a5d9861bf5c15b195c216c1bb233ac32e4:"
          "minif2f_test_solved.zip/minif2f_test_solved/minif2f-test-solved.jsonl")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jsonl", required=True, help="the unzipped minif2f-test-solved.jsonl")
    ap.add_argument("--out", default="data/conformance/prover_proofs.jsonl")
    ap.add_argument("--max-lines", type=int, default=25)
    args = ap.parse_args(argv)
    kept = 0
    with open(args.jsonl, encoding="utf-8") as f, open(args.out, "w", encoding="utf-8") as out:
        for line in f:
            row = json.loads(line)
            proof = row["correct_proof"]
            if proof.count("\n") + 1 > args.max_lines:
                continue
            out.write(json.dumps({"name": row["name"], "prover": "Kimina-Prover-Preview", "lean": "v4.15.0",
                                  "source": SOURCE, "licence": "Apache-2.0", "text": proof},
                                 ensure_ascii=False) + "\n")
            kept += 1
    print(f"{kept} proofs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
