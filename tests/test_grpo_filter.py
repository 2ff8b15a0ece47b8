"""Two-stage pass-rate filter: exact integer boundaries, inclusive convention, degenerate groups."""
from __future__ import annotations

import asyncio

import pytest
import torch

from grpo_fixtures import PRINTABLE, ScriptedEnv, char_tokenizer, micro_model, theorem
from grpo_fixtures import one_torch_thread  # noqa: F401  (autouse)
from policy.params import SamplingParams
from policy.factory import GeneratorConfig
from training.grpo.config import GRPOConfig
from training.grpo.filter import count_bounds, count_successes, is_degenerate
from training.grpo.records import Trajectory, Turn
from training.grpo.rollout import Policy
from training.grpo.trainer import collect_groups, turns_with_advantages


def test_default_early_stage_boundaries():
    b = count_bounds(16, 0.05, 0.8)        # 0.8 and 12.8 -> 1..12
    assert (b.lo, b.hi) == (1, 12)
    assert [b.keeps(s) for s in (0, 1, 12, 13, 16)] == [False, True, True, False, False]


def test_default_final_stage_boundaries():
    b = count_bounds(128, 0.1, 0.8)        # 12.8 and 102.4 -> 13..102
    assert (b.lo, b.hi) == (13, 102)
    assert [b.keeps(s) for s in (12, 13, 102, 103)] == [False, True, True, False]


def test_bounds_that_land_exactly_on_integers_are_inclusive_and_exact():
    # in floats 0.55 * 100 = 55.00000000000001, whose ceil would wrongly exclude 55 successes
    assert 0.55 * 100 > 55
    b = count_bounds(100, 0.55, 0.8)
    assert (b.lo, b.hi) == (55, 80) and b.keeps(55) and not b.keeps(54)
    # and 0.7 * 90 = 62.99999999999999, whose floor would wrongly exclude 63
    assert 0.7 * 90 < 63
    b = count_bounds(90, 0.1, 0.7)
    assert (b.lo, b.hi) == (9, 63) and b.keeps(63) and b.keeps(9) and not b.keeps(64) and not b.keeps(8)
    b = count_bounds(20, 0.05, 0.8)        # exactly 1 and 16
    assert (b.lo, b.hi) == (1, 16)


def test_bad_bounds_and_counts_are_rejected():
    with pytest.raises(ValueError):
        count_bounds(16, 0.9, 0.1)
    with pytest.raises(ValueError):
        count_bounds(0, 0.1, 0.8)
    with pytest.raises(ValueError):
        count_bounds(16, 0.05, 0.8).keeps(17)
    with pytest.raises(ValueError):
        GRPOConfig(bounds=(0.5, 1.5))


def test_degenerate_groups():
    assert is_degenerate([1.0, 1.0, 1.0]) and is_degenerate([0.0, 0.0]) and is_degenerate([])
    assert not is_degenerate([0.0, 1.0])
    assert count_successes([1.0, 0.3, 0.0, 1.0]) == 2   # shaped rewards < 1 are not successes


def _traj(theorem: str, i: int, reward: float) -> Trajectory:
    turn = Turn(f"{theorem}#{i}", "p", "t", [1, 5], [6, 2], [-0.5, -0.1], [None, None], 1.0)
    return Trajectory(theorem, f"{theorem}#{i}", [turn], reward, verified=reward == 1.0)


def test_degenerate_groups_are_dropped_before_batching():
    trajs = [_traj("all_ok", i, 1.0) for i in range(3)] + [_traj("mixed", i, float(i % 2)) for i in range(4)]
    items, kept, degenerate = turns_with_advantages(trajs, GRPOConfig())
    assert (kept, degenerate) == (1, 1)
    assert {it.turn.attempt_id.split("#")[0] for it in items} == {"mixed"}
    assert sorted(it.advantage > 0 for it in items) == [False, False, True, True]


@pytest.fixture(scope="module")
def policy():
    tok = char_tokenizer()
    return Policy(micro_model(tok, seed=1), tok)


def _collect(policy, env, cfg):
    g = torch.Generator().manual_seed(0)
    return asyncio.run(collect_groups(policy, env, [theorem("a"), theorem("b")], cfg, g))


def test_two_stage_filter_drops_solved_and_hopeless_theorems(policy):
    cfg = GRPOConfig(G=8, G_early=4, rollout=GeneratorConfig(sampling=SamplingParams(max_tokens=4)), max_turns=1)
    for env in (ScriptedEnv(finish=PRINTABLE), ScriptedEnv()):     # everything proves / nothing does
        out, counts = _collect(policy, env, cfg)
        assert out == [] and counts["dropped_early"] == 2 and counts["rollouts"] == 8


def test_two_stage_filter_keeps_the_full_group_of_a_mixed_theorem(policy):
    cfg = GRPOConfig(G=8, G_early=4, early_bounds=(0.0, 1.0), bounds=(0.0, 1.0), rollout=GeneratorConfig(sampling=SamplingParams(max_tokens=4)), max_turns=1)
    out, counts = _collect(policy, ScriptedEnv(finish=PRINTABLE[::2]), cfg)
    assert counts["kept"] == 2 and len(out) == 16            # early samples reused: G in total
    assert len({t.attempt_id for t in out}) == 16
    cfg = GRPOConfig(G=8, G_early=4, early_bounds=(0.0, 1.0), bounds=(1.0, 1.0), rollout=GeneratorConfig(sampling=SamplingParams(max_tokens=4)), max_turns=1)
    out, counts = _collect(policy, ScriptedEnv(finish=PRINTABLE[::2]), cfg)
    n_ok = sum(t.reward == 1.0 for t in out)
    assert counts["dropped_final"] + counts["kept"] == 2 and n_ok == len(out)


def test_theorems_that_do_not_start_are_counted_not_trained(policy):
    out, counts = _collect(policy, ScriptedEnv(start_fails=True), GRPOConfig(G=4, G_early=2, rollout=GeneratorConfig(sampling=SamplingParams(max_tokens=4))))
    assert out == [] and counts["start_failed"] == 2
