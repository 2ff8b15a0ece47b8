"""Multi-turn rollouts against a scripted ProofEnv: rewards only from verified proofs, turn
limits, retries, environment failures, and complete records for the trainer's replay."""
from __future__ import annotations

import asyncio
import json

import pytest

from lean_env.config import dump_record, load_record
import torch

from grpo_fixtures import PRINTABLE, ScriptedEnv, char_tokenizer, micro_model, theorem
from grpo_fixtures import one_torch_thread  # noqa: F401  (autouse)
from lean_env.types import Outcome
from policy.base import PromptFormat
from policy.params import SamplingParams
from policy.factory import GeneratorConfig
from training.grpo.config import GRPOConfig
from training.grpo.records import Trajectory
from training.grpo.rollout import Policy, prompt_ids, rollout_group
from training.grpo.trainer import grpo_step, make_controller, make_trainer


@pytest.fixture(scope="module")
def policy():
    tok = char_tokenizer()
    return Policy(micro_model(tok, seed=2), tok)


def roll(policy, env, n=6, seed=0, **cfg):
    sampling = SamplingParams(max_tokens=5, temperature=cfg.pop("temperature", 1.0), top_p=cfg.pop("top_p", 1.0))
    cfg = GRPOConfig(rollout=GeneratorConfig(sampling=sampling), **cfg)
    return asyncio.run(rollout_group(policy, env, theorem(), n, cfg, torch.Generator().manual_seed(seed)))


def test_reward_one_only_for_verified_proofs(policy):
    env = ScriptedEnv(finish=PRINTABLE)
    trajs = roll(policy, env)
    assert any(t.reward == 1.0 for t in trajs)
    for t in trajs:
        if t.turns[0].tactic:          # a non-empty tactic finishes, then verification decides
            assert (t.reward, t.verified, len(t.turns), t.turns[0].outcome) == (1.0, True, 1, Outcome.FINISHED)
        else:
            assert t.reward == 0.0 and t.turns[0].outcome == Outcome.LEAN_ERROR
    assert env.verified == [t.tactics for t in trajs if t.verified]


def test_failed_verification_gives_zero(policy):
    trajs = roll(policy, ScriptedEnv(finish=PRINTABLE, verify_ok=False))
    assert all(t.reward == 0.0 and not t.verified for t in trajs)
    # finished in tactic mode but rejected by whole-proof verification: the search tree's name for it
    assert any(t.turns[-1].outcome == Outcome.VERIFY_FAILED for t in trajs)
    assert all(t.turns[-1].outcome != Outcome.FINISHED for t in trajs)


def test_attempts_stop_at_max_turns_and_prompts_follow_the_state(policy):
    trajs = roll(policy, ScriptedEnv(step=PRINTABLE), max_turns=3)
    fmt = PromptFormat()
    assert any(len(t.turns) == 3 for t in trajs)
    for t in trajs:
        assert 1 <= len(t.turns) <= 3 and t.reward == 0.0
        for depth, turn in enumerate(t.turns):
            assert turn.prompt == fmt.prompt(f"⊢ goal{depth}")
        if len(t.turns) < 3:           # ended early only through an empty (rejected) tactic
            assert t.turns[-1].outcome == Outcome.LEAN_ERROR and not t.turns[-1].tactic


def test_error_ends_the_attempt_unless_retries_are_configured(policy):
    env = ScriptedEnv()
    assert all(len(t.turns) == 1 and t.reward == 0.0 for t in roll(policy, env, max_turns=5))
    trajs = roll(policy, env, max_turns=5, error_retries=2)
    assert all(len(t.turns) == 3 and all(x.outcome == Outcome.LEAN_ERROR for x in t.turns) for t in trajs)
    assert env.verified == []


def test_verification_sees_only_accepted_tactics(policy):
    env = ScriptedEnv(finish=PRINTABLE[::3])
    trajs = roll(policy, env, n=10, max_turns=4, error_retries=3)
    verified = [t for t in trajs if t.verified]
    assert verified and any(len(t.turns) > 1 for t in verified)
    for t in verified:
        assert [x.outcome for x in t.turns] == [Outcome.LEAN_ERROR] * (len(t.turns) - 1) + [Outcome.FINISHED]
        assert [t.turns[-1].tactic] in env.verified


def test_environment_failures_are_marked_and_never_trained(policy):
    trajs = roll(policy, ScriptedEnv(envfail=PRINTABLE))
    marked = [t for t in trajs if t.env_failed]
    assert marked and all(t.reward == 0.0 and t.turns[-1].outcome == Outcome.ENV_FAILURE for t in marked)
    cfg = GRPOConfig(lr=1e-2)
    before = [p.detach().clone() for p in policy.model.parameters()]
    stats = grpo_step(make_trainer(policy.model, cfg), trajs, cfg, make_controller(cfg))
    assert stats.skipped and stats.env_failed == len(marked)
    assert all(torch.equal(a, b) for a, b in zip(before, policy.model.parameters()))


def test_statement_that_does_not_start_gives_no_group(policy):
    assert roll(policy, ScriptedEnv(start_fails=True)) is None


@pytest.mark.parametrize("top_p", [1.0, 0.8])
def test_records_hold_what_replay_needs(policy, top_p):
    tok = policy.tokenizer
    trajs = roll(policy, ScriptedEnv(step=PRINTABLE), max_turns=2, top_p=top_p, temperature=0.9)
    for t in trajs:
        for turn in t.turns:
            assert turn.attempt_id == t.attempt_id and turn.temperature == 0.9
            assert turn.prompt_ids[0] == tok.bos_token_id
            assert 1 <= len(turn.completion_ids) <= 5
            assert all(lp <= 0.0 for lp in turn.infer_logprobs)
            if tok.eos_token_id in turn.completion_ids:
                assert turn.completion_ids.index(tok.eos_token_id) == len(turn.completion_ids) - 1
            for tid, kept in zip(turn.completion_ids, turn.kept_ids):
                assert (kept is None) if top_p == 1.0 else (tid in kept and list(kept) == sorted(kept))
    again = Trajectory.from_dict(trajs[0].to_dict())
    assert again == trajs[0]


def test_step_bonus_shapes_failed_attempts_only_when_enabled(policy):
    plain = roll(policy, ScriptedEnv(step=PRINTABLE), max_turns=3)
    assert all(t.reward == 0.0 for t in plain)
    shaped = roll(policy, ScriptedEnv(step=PRINTABLE), max_turns=3, step_bonus=0.1)
    for t in shaped:
        accepted = sum(x.outcome == Outcome.STATE for x in t.turns)
        assert t.reward == pytest.approx(0.1 * accepted) and t.reward < 1.0


def test_long_prompts_keep_bos_and_their_end(policy):
    ids = prompt_ids(policy, "⊢ " + "x" * 50 + "END:::", max_tokens=10)
    tok = policy.tokenizer
    assert len(ids) == 10 and ids[0] == tok.bos_token_id
    assert tok.decode(ids[1:]) == ("x" * 50 + "END:::")[-9:]


def test_config_rejects_bad_values():
    for bad in ({"rollout": GeneratorConfig(sampling=SamplingParams(temperature=0.0))}, {"rollout": {"kind": "scripted"}}, {"G_early": 200, "G": 128}, {"r_max": 1.5},
                {"max_turns": 0}, {"step_bonus": 1.0}):
        with pytest.raises(ValueError):
            GRPOConfig(**bad)
    with pytest.raises(ValueError, match="typo_key"):
        GRPOConfig(**{"G": 4, "typo_key": 1})
    cfg = GRPOConfig(G=8, G_early=2)
    assert load_record(GRPOConfig, json.loads(json.dumps(dump_record(cfg)))) == cfg   # saved grpo_config.json loads back


class ReleasingEnv(ScriptedEnv):
    """Counts `release` calls, as LeanDojo's adapter frees one Dojo per started theorem."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.released = []

    async def release(self, root):
        self.released.append(root)


def test_each_started_theorem_is_released_once_when_the_batch_ends(policy):
    env = ReleasingEnv(step=PRINTABLE)
    trajs = roll(policy, env, n=4, max_turns=2)
    assert len(trajs) == 4
    assert len(env.released) == 1 and env.released[0].pp == "⊢ goal0"   # the start, not a later state
