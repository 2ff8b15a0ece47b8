"""pass@k from attempt records: "solved within k attempts" and the unbiased estimator."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from search.records import AttemptRecord


def unbiased_pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k), in the numerically stable product form (Chen et al., 2021)."""
    if k > n:
        raise ValueError(f"need n >= k samples (n={n}, k={k})")
    if n - c < k:
        return 1.0
    prob_all_fail = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_fail *= 1.0 - k / i
    return 1.0 - prob_all_fail


@dataclass
class PassAtK:
    theorems: int             # the denominator: every theorem asked for, attempted or not
    attempted: int
    proved: int
    k: int
    pass_at_k: float          # solved within the first k attempts
    unbiased: float | None    # mean unbiased estimate when every theorem has n >= k attempts
    env_failures: int         # attempts that failed because the environment did (counted as failures)
    budget: str = ""

    def line(self) -> str:
        unb = f", unbiased {self.unbiased:.1%}" if self.unbiased is not None else ""
        return (f"pass@{self.k} = {self.pass_at_k:.1%} ({self.proved}/{self.theorems}){unb}; "
                f"budget {self.budget}; env failures {self.env_failures}")


def summarize(theorem_ids: Sequence[str], records: Iterable[AttemptRecord], k: int, budget: str = "") -> PassAtK:
    by_thm: dict[str, list[AttemptRecord]] = {t: [] for t in theorem_ids}
    env_failures = 0
    for r in records:
        if r.theorem_id in by_thm:
            by_thm[r.theorem_id].append(r)
            env_failures += r.env_failures > 0 and not r.proved
    proved = sum(any(r.proved and r.attempt < k for r in rs) for rs in by_thm.values())
    attempted = sum(bool(rs) for rs in by_thm.values())
    n_total = len(by_thm)
    unbiased = None
    if by_thm and all(len({r.attempt for r in rs}) >= k for rs in by_thm.values()):
        unbiased = sum(unbiased_pass_at_k(len({r.attempt for r in rs}), sum(r.proved for r in rs), k)
                       for rs in by_thm.values()) / n_total
    return PassAtK(n_total, attempted, proved, k, proved / n_total if n_total else 0.0, unbiased, env_failures, budget)
