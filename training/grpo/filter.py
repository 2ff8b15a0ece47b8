"""The two-stage pass-rate filter and the degenerate-group filter.

Bounds are turned into INTEGER success counts once, exactly: lo_count = ceil(lo * G) and
hi_count = floor(hi * G), computed with `fractions.Fraction` on the bounds' decimal text, so
0.1 * 30 is exactly 3 (not 3.0000000000000004 -> 4). The interval is inclusive: a group is kept
when lo_count <= successes <= hi_count. With the defaults: G_early=16 keeps 1..12 successes,
G=128 keeps 13..102.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence


@dataclass(frozen=True)
class CountBounds:
    lo: int
    hi: int
    G: int

    def keeps(self, successes: int) -> bool:
        if not 0 <= successes <= self.G:
            raise ValueError(f"{successes} successes out of G={self.G} is impossible")
        return self.lo <= successes <= self.hi


def count_bounds(G: int, lo: float, hi: float) -> CountBounds:
    """Inclusive integer success-count bounds for pass-rate bounds [lo, hi] over G samples."""
    if G < 1:
        raise ValueError("G must be >= 1")
    flo, fhi = Fraction(repr(float(lo))), Fraction(repr(float(hi)))
    if not 0 <= flo <= fhi <= 1:
        raise ValueError(f"pass-rate bounds must satisfy 0 <= lo <= hi <= 1, got {(lo, hi)}")
    return CountBounds(lo=math.ceil(flo * G), hi=math.floor(fhi * G), G=G)


def count_successes(rewards: Sequence[float]) -> int:
    """A success is a verified proof: reward 1 (shaped failures stay below 1)."""
    return sum(1 for r in rewards if r >= 1.0)


def is_degenerate(rewards: Sequence[float]) -> bool:
    """All rewards equal: every advantage is zero, the group carries no signal."""
    return len(set(rewards)) <= 1
