"""pass@k from attempt records: "solved within k attempts" and the unbiased estimator.

Every theorem asked for stays in the denominator: one whose environment failed, or that was never
attempted, counts as unsolved (ReProver's evaluation drops environment failures; we do not).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from search.records import AttemptRecord, Failure


def unbiased_pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k): the chance that k of n samples (c of them correct) include a correct
    one, as the product prod_{i=n-c+1}^{n} (1 - k/i), which never forms huge binomials."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n (n={n}, c={c})")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n samples (n={n}, k={k})")
    if n - c < k:
        return 1.0
    prob_all_fail = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_fail *= 1.0 - k / i
    return 1.0 - prob_all_fail


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a pass rate (z=1.96: 95%). Unlike the normal approximation it
    stays inside [0, 1] and is not empty at 0 or n successes, which small eval splits often give."""
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n (n={n}, successes={successes})")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def budget_string(passes: int, tactics_per_expansion: int, expansions: int) -> str:
    """The field's notation "passes x tactics per expansion x expansions", e.g. "32x8x100"."""
    return f"{passes}x{tactics_per_expansion}x{expansions}"


@dataclass
class PassAtK:
    theorems: int             # the denominator: every theorem asked for, attempted or not
    attempted: int
    proved: int
    k: int
    pass_at_k: float          # solved within the first k attempts (attempt index < k)
    unbiased: float | None    # mean unbiased estimate when every theorem has n >= k attempts
    env_failures: int         # unproved attempts that met an environment failure (counted as failures)
    budget: str = ""
    soundness_incidents: int = 0   # proofs the backend accepted of statements the screen refutes
    not_started: int = 0      # theorems whose statement never started (Lean refused it): unsolved, not searched

    def line(self) -> str:
        unb = f", unbiased {self.unbiased:.1%}" if self.unbiased is not None else ""
        return (f"pass@{self.k} = {self.pass_at_k:.1%} ({self.proved}/{self.theorems}){unb}; "
                f"budget {self.budget}; env failures {self.env_failures}; did not start {self.not_started}; "
                f"soundness incidents {self.soundness_incidents}")


def solved_within(records: Iterable[AttemptRecord], k: int) -> set[str]:
    """Theorem ids with a verified proof among their attempts 0..k-1."""
    return {r.theorem_id for r in records if r.proved and r.attempt < k}


def summarize(theorem_ids: Sequence[str], records: Iterable[AttemptRecord], k: int, budget: str = "") -> PassAtK:
    """pass@k over `theorem_ids`. Records of other theorems are ignored; a repeated
    (theorem, attempt) counts once, proved if any copy is."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    outcome: dict[str, dict[int, bool]] = {t: {} for t in theorem_ids}
    env_failures, incidents, started = 0, 0, set()
    for r in records:
        if r.theorem_id not in outcome:
            continue
        incidents += r.soundness_incidents
        attempts = outcome[r.theorem_id]
        attempts[r.attempt] = attempts.get(r.attempt, False) or r.proved
        env_failures += r.env_failures > 0 and not r.proved
        if r.proved or Failure.of(r.failure) is not Failure.START:
            started.add(r.theorem_id)
    n_total = len(outcome)
    proved = sum(any(ok for a, ok in att.items() if a < k) for att in outcome.values())
    attempted = sum(bool(att) for att in outcome.values())
    unbiased = None
    if outcome and all(len(att) >= k for att in outcome.values()):
        unbiased = sum(unbiased_pass_at_k(len(att), sum(att.values()), k) for att in outcome.values()) / n_total
    not_started = sum(bool(att) and t not in started for t, att in outcome.items())
    return PassAtK(n_total, attempted, proved, k, proved / n_total if n_total else 0.0, unbiased, env_failures, budget,
                   not_started=not_started, soundness_incidents=incidents)
