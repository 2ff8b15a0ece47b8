"""pass@k: the unbiased estimator against hand-computed values, and the summary over records."""
from __future__ import annotations

from math import comb

import pytest

from search.passk import budget_string, solved_within, summarize, unbiased_pass_at_k
from search.records import AttemptRecord


def rec(tid: str, attempt: int, proved: bool, env_failures: int = 0) -> AttemptRecord:
    return AttemptRecord(tid, "toy", "test", attempt, proved, ["t"] if proved else None,
                         env_failures=env_failures, failure="" if proved else "exhausted")


@pytest.mark.parametrize("n,c,k,expected", [
    (5, 2, 1, 0.4),                          # c/n
    (5, 0, 3, 0.0),
    (5, 3, 3, 1.0),                          # fewer than k failures: some pick must succeed
    (5, 5, 5, 1.0),
    (5, 1, 5, 1.0),                          # k = n: solved iff any sample is
    (5, 0, 5, 0.0),
    (10, 3, 2, 1 - (7 * 6) / (10 * 9)),
    (4, 1, 2, 0.5),                          # 1 - C(3,2)/C(4,2) = 1 - 3/6
])
def test_unbiased_estimator_hand_computed(n, c, k, expected):
    assert unbiased_pass_at_k(n, c, k) == pytest.approx(expected)


def test_unbiased_estimator_matches_binomials_and_stays_stable():
    for n, c, k in [(20, 7, 5), (64, 1, 8), (100, 50, 10)]:
        assert unbiased_pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))
    # C(2048, 32) overflows a float; the product form does not
    assert 0.0 < unbiased_pass_at_k(2048, 3, 32) < 1.0


@pytest.mark.parametrize("n,c,k", [(2, 1, 3), (5, 6, 1), (5, -1, 1), (5, 1, 0)])
def test_unbiased_estimator_rejects_impossible_counts(n, c, k):
    with pytest.raises(ValueError):
        unbiased_pass_at_k(n, c, k)


def test_summary_keeps_env_failures_and_unattempted_theorems_in_the_denominator():
    recs = [rec("a", 0, False, env_failures=1), rec("b", 0, True)]
    s = summarize(["a", "b", "c"], recs, 1, budget_string(1, 8, 100))
    assert (s.theorems, s.attempted, s.proved, s.env_failures) == (3, 2, 1, 1)
    assert s.pass_at_k == pytest.approx(1 / 3) and s.budget == "1x8x100"
    assert s.unbiased is None                                  # c was never attempted
    assert "pass@1 = 33.3% (1/3)" in s.line()


def test_solved_within_k_counts_only_the_first_k_attempts():
    recs = [rec("a", 0, False), rec("a", 1, True), rec("b", 0, True), rec("c", 2, True)]
    assert solved_within(recs, 1) == {"b"}
    assert solved_within(recs, 2) == {"a", "b"}
    assert summarize(["a", "b", "c"], recs, 2).proved == 2
    assert summarize(["a", "b", "c"], recs, 3).proved == 3


def test_unbiased_mean_over_theorems_and_duplicates_count_once():
    recs = [rec("a", i, i < 2) for i in range(5)] + [rec("b", i, False) for i in range(5)]
    recs.append(rec("a", 0, True))                              # a duplicated line (resumed run)
    s = summarize(["a", "b"], recs, 1)
    assert s.unbiased == pytest.approx((0.4 + 0.0) / 2)
    assert s.pass_at_k == 0.5                                   # a solved at attempt 0
    assert summarize(["x"], recs, 1).theorems == 1 and summarize(["x"], recs, 1).proved == 0


def test_records_of_other_theorems_are_ignored():
    s = summarize(["a"], [rec("a", 0, False), rec("zzz", 0, True)], 1)
    assert (s.theorems, s.proved, s.attempted) == (1, 0, 1)


def test_empty_and_bad_k():
    assert summarize([], [], 1).pass_at_k == 0.0
    with pytest.raises(ValueError):
        summarize(["a"], [], 0)


def test_an_attempt_s_failure_reads_back_as_its_kind():
    from search.records import Failure

    rec = lambda failure: AttemptRecord("t", "b", "test", 0, False, None, failure=failure)
    assert rec("budget: expansions").failure_kind is Failure.BUDGET
    assert rec("cancelled").failure_kind is Failure.CANCELLED and rec("").failure_kind is Failure.NONE
    assert rec(Failure.START.because("unknown identifier 'x'")).failure_kind is Failure.START
    assert rec("plan: no valid plan; fallback: exhausted").failure_kind is Failure.PLAN
    with pytest.raises(ValueError, match="unknown attempt failure 'timeout'"):
        rec("timeout").failure_kind
