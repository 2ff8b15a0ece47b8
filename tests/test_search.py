"""Best-first search on a toy environment (tests/fake_env.py) and on the embedded server."""
from __future__ import annotations

import asyncio

import pytest

from conftest import run
from fake_env import FakeEnv, theorem
from lean_env.types import Outcome
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig, priority, search, unique_tactics
from policy.base import TacticCandidate
from policy.scripted import ScriptedGenerator
from search.tree import PROVED, QED


def propose_from(table):
    """A propose function over a scripted generator (no batcher needed for one search)."""
    gen = ScriptedGenerator(table if not isinstance(table, list) else (lambda s: table))

    async def propose(state: str, n: int):
        return gen.generate([state], n)[0]
    return propose


def go(n, table, cfg, env=None, **kw):
    env = env or FakeEnv()
    rec, tree = run(search(theorem(n), env, propose_from(table), cfg, **kw))
    return rec, tree, env


def test_finds_a_proof_and_every_reported_proof_verifies():
    rec, tree, env = go(6, [("dec", -0.1), ("half", -0.2), ("zero", -0.05)], SearchConfig(3, 50))
    assert rec.proved and rec.proof[-1] == "zero" and not rec.failure
    assert env.verified[-1] == rec.proof                       # the reported proof is one that verified
    assert run(env.verify(theorem(6), rec.proof)).ok
    assert [s.tactic for s in rec.steps] == rec.proof and rec.steps[0].state == "⊢ 6"
    assert [s.depth for s in rec.steps] == list(range(len(rec.proof)))
    assert tree.proved and tree.nodes[tree.root].status == PROVED


def test_logprob_on_proof_steps_is_the_mean_token_logprob():
    async def propose(state, n):
        return [TacticCandidate("dec", -3.0, 3), TacticCandidate("zero", -1.0, 4)]
    rec, _ = run(search(theorem(1), FakeEnv(), propose, SearchConfig(2, 5)))
    assert [(s.tactic, s.logprob) for s in rec.steps] == [("dec", -1.0), ("zero", -0.25)]


def test_best_first_order_follows_scores():
    # alpha = 0: pure cumulative score. `half` is cheap, `dec` costs 2, so 8 -> 4 -> 2 -> 1 first;
    # then ⊢ 7 (-2.0) before ⊢ 3 (-2.01) before ⊢ 0 (-2.03).
    order = []
    scripted = propose_from([("half", -0.01), ("dec", -2.0), ("zero", -0.01)])

    async def propose(state, n):
        order.append(state)
        return await scripted(state, n)
    rec, tree = run(search(theorem(8), FakeEnv(), propose, SearchConfig(3, 50, alpha=0.0)))
    assert order == ["⊢ 8", "⊢ 4", "⊢ 2", "⊢ 1", "⊢ 7", "⊢ 3", "⊢ 0"]
    assert rec.proved and rec.proof == ["half", "half", "half", "dec", "zero"]
    assert tree.nodes["⊢ 0"].score == pytest.approx(-2.03)


def test_depth_normalisation_changes_the_order():
    # alpha = 2 divides by depth²: deep cheap nodes lose to shallow ones sooner than with alpha = 0.
    order = []
    scripted = propose_from([("half", -0.5), ("dec", -1.0)])

    async def propose(state, n):
        order.append(state)
        return await scripted(state, n)
    run(search(theorem(8), FakeEnv(), propose, SearchConfig(2, 4, alpha=2.0)))
    # depth 1: ⊢ 4 (-0.5) ⊢ 7 (-1.0); depth 2 from ⊢ 4: ⊢ 2 (-1.0/4) ⊢ 3 (-1.5/4): ⊢ 2 beats ⊢ 7.
    assert order == ["⊢ 8", "⊢ 4", "⊢ 2", "⊢ 1"]


def test_shortest_proof_is_extracted_and_reverified():
    # `dec` looks best, so search goes 4 -> 3 -> 2 -> 1 -> 0; `half` merges 4 -> 2 on the way.
    rec, tree, env = go(4, [("dec", -0.01), ("half", -0.5), ("zero", -0.01)], SearchConfig(3, 100, alpha=0.0))
    assert rec.proved and rec.proof == tree.shortest_proof()
    assert len(rec.proof) == 4 and rec.proof[0] == "half"      # 4 -half-> 2 -dec-> 1 -dec-> 0 -zero-> QED
    assert rec.proof in env.verified


def test_identical_states_are_merged():
    rec, tree, env = go(4, [("dec", -0.1), ("half", -0.1), ("zero", -0.1)], SearchConfig(3, 3))
    # 4 -half-> 2 and 4 -dec-> 3 -dec-> 2: one node "⊢ 2" with two parents
    assert tree.g.in_degree("⊢ 2") == 2
    assert len(tree.state_nodes()) == len({k for k in tree.state_nodes()})
    assert env.calls.count("dec") == rec.expansions                # "⊢ 2" was not expanded twice


def test_cycles_and_self_loops_are_ignored():
    # at ⊢ 1, inc returns to the parent ⊢ 2 (a cycle) and same returns ⊢ 1 itself.
    table = {"⊢ 2": [("dec", -0.5)], "⊢ 1": [("inc", -0.01), ("same", -0.01), ("dec", -0.5)],
             "⊢ 0": [("zero", -0.1)]}
    rec, tree, env = go(2, table, SearchConfig(4, 20))
    assert rec.proved and rec.proof == ["dec", "dec", "zero"]
    assert "inc" in env.calls and "same" in env.calls
    import networkx as nx
    assert nx.is_directed_acyclic_graph(tree.g)
    assert not tree.g.has_edge("⊢ 2", "⊢ 2")


def test_expansion_budget():
    rec, _, _ = go(50, [("dec", -0.1)], SearchConfig(1, 5))
    assert not rec.proved and rec.failure == "budget: expansions" and rec.expansions == 5


def test_exhaustion_and_error_edges():
    rec, tree, _ = go(3, [("half", -0.1)], SearchConfig(1, 5))
    assert rec.failure == "exhausted" and rec.lean_errors == 1 and rec.proof is None
    (edge,) = tree.rejected(tree.root)
    assert edge.outcome == Outcome.LEAN_ERROR and edge.error == "odd" and edge.tactic == "half"


def test_wall_clock_budget_with_a_sleeping_env():
    env = FakeEnv(slow_seconds=0.15)
    rec, _, _ = go(5, [("slow", -0.1), ("inc", -0.2)], SearchConfig(2, 1000, wall_seconds=0.3), env=env)
    assert rec.failure == "budget: time" and rec.timeouts >= 1
    assert 0.3 <= rec.wall < 0.3 + 3 * 0.15       # overshoot at most the step in flight
    assert rec.time_env >= 0.15 and rec.time_env <= rec.wall


def test_time_split_adds_up():
    rec, _, _ = go(6, [("dec", -0.1), ("zero", -0.05)], SearchConfig(2, 50))
    assert rec.time_generate > 0 and rec.time_env > 0 and rec.time_bookkeeping >= 0
    assert rec.time_generate + rec.time_env + rec.time_bookkeeping == pytest.approx(rec.wall)


def test_forbidden_and_duplicate_tactics_never_reach_the_env():
    table = [("dec", -0.1), ("dec", -0.3), (" dec ", -0.05), ("sorry", -0.01), ("native_decide", -0.01),
             ("simp; admit", -0.01), ("", -0.01), ("zero", -0.2)]
    rec, _, env = go(2, table, SearchConfig(8, 10))
    assert rec.proved
    assert not any(bad in c for c in env.calls for bad in ("sorry", "native_decide", "admit"))
    assert "" not in env.calls
    assert env.calls.count("dec") == rec.expansions              # one `dec` per expansion, not three
    assert rec.tactics_tried == len(env.calls)
    cands = unique_tactics([TacticCandidate("dec", -1.0, 2), TacticCandidate(" dec ", -0.2, 1), TacticCandidate("admit", 0, 1)])
    assert [c.tactic for c in cands] == ["dec"] and cands[0].mean_logprob == -0.2


def test_proof_that_fails_verification_is_not_reported():
    rec, tree, env = go(3, [("cheat", -0.01)], SearchConfig(1, 3))
    assert not rec.proved and rec.proof is None and env.verified == [["cheat"]]
    assert rec.failure == "exhausted"
    (edge,) = tree.rejected(tree.root)
    assert edge.outcome == Outcome.VERIFY_FAILED and "cheat" in edge.error
    assert not tree.g.has_edge(tree.root, QED)


def test_search_continues_after_a_failed_verification():
    rec, tree, env = go(1, [("cheat", -0.01), ("dec", -0.5), ("zero", -0.6)], SearchConfig(3, 10))
    assert rec.proved and rec.proof == ["dec", "zero"]
    assert ["cheat"] in env.verified
    # error siblings along the proof path include the rejected `zero` at ⊢ 1 and the failed `cheat`
    sib = {(e.state, e.tactic) for e in rec.error_siblings}
    assert ("⊢ 1", "zero") in sib and ("⊢ 1", "cheat") in sib
    assert all(e.depth in (0, 1) for e in rec.error_siblings)


def test_start_failure_is_a_recorded_failure():
    rec, tree = run(search(theorem(3, name="bad3"), FakeEnv(), propose_from([("dec", 0)]), SearchConfig()))
    assert tree is None and not rec.proved and rec.failure == "start: malformed statement"
    assert rec.theorem_id == "bad3"


def test_a_raising_env_call_is_an_env_failure_not_a_crash():
    rec, tree, env = go(2, [("boom", -0.01), ("dec", -0.5), ("zero", -0.6)], SearchConfig(3, 10))
    assert rec.proved and rec.env_failures >= 1
    assert any(e.outcome == Outcome.ENV_FAILURE and "exploded" in e.error for e in tree.rejected(tree.root))


def test_too_many_env_failures_end_the_attempt():
    rec, _, _ = go(9, [("envfail", -0.01), ("dec", -0.5)], SearchConfig(2, 50, max_env_failures=3))
    assert rec.failure.startswith("env: 3 environment failures") and "worker died" in rec.failure


def test_a_raising_start_is_an_env_failure():
    class Broken(FakeEnv):
        async def start(self, t):
            raise ConnectionError("pool is gone")
    rec, tree = run(search(theorem(2), Broken(), propose_from([("dec", 0)]), SearchConfig()))
    assert tree is None and rec.failure == "env: ConnectionError: pool is gone" and rec.env_failures == 1


def test_cancellation_stops_the_search():
    async def main():
        cancel = asyncio.Event()
        calls = 0

        async def propose(state, n):
            nonlocal calls
            calls += 1
            if calls == 3:
                cancel.set()
            return [TacticCandidate("dec", -0.1, 1)]
        return await search(theorem(50), FakeEnv(), propose, SearchConfig(1, 100), cancel=cancel)
    rec, _ = run(main())
    assert rec.failure == "cancelled" and rec.expansions == 2 and not rec.proved


def test_generator_errors_propagate():
    async def propose(state, n):
        raise RuntimeError("CUDA out of memory")
    with pytest.raises(RuntimeError, match="CUDA"):
        run(search(theorem(2), FakeEnv(), propose, SearchConfig()))


def test_priority_normalises_by_depth():
    assert priority(-1.0, 1, 2.0) == -1.0 and priority(-1.0, 2, 2.0) == -0.25 and priority(-1.0, 2, 0.0) == -1.0
    assert priority(0.0, 0, 2.0) == 0.0


def test_bad_config_is_rejected():
    with pytest.raises(ValueError):
        SearchConfig(0, 10)
    with pytest.raises(ValueError):
        SearchConfig(2, 10, wall_seconds=0)


def test_search_on_the_embedded_server(two_step):
    try:
        from lean_env.factory import make_env
        env = make_env(workers=1)
    except Exception as e:  # pragma: no cover - depends on the env engineer's backend
        pytest.skip(f"embedded environment unavailable: {e}")

    async def go_embedded():
        try:
            gen = ScriptedGenerator(lambda s: [("rw [h₀]", -0.1), ("omega", -0.5)] if "a + b" in s else [("ring", -0.1), ("omega", -0.2)])
            batcher = GenerationBatcher(gen)
            try:
                return await search(two_step, env, batcher.propose, SearchConfig(2, 10))
            finally:
                await batcher.close()
        finally:
            await env.close()
    rec, tree = run(go_embedded())
    if rec.failure.startswith("env:"):
        pytest.skip(f"embedded environment failed: {rec.failure}")
    assert rec.proved, rec.failure
    assert rec.proof in (["rw [h₀]", "ring"], ["rw [h₀]", "omega"], ["omega"])
    assert isinstance(tree.root, str) and "a + b" in tree.root


@pytest.mark.parametrize("tactic", [
    "exact \u0455orry",          # Cyrillic dze imitating `s`
    "simp\u200b; omega",        # zero-width space
    "decide +native",           # compiler trust without the word native_decide
    "run_tac pure ()",
    "exact h.",                 # text that ends mid-name used to crash the refusal check
])
def test_search_refuses_what_the_verifier_refuses(tactic):
    """The search drops a tactic by the verifier's own rules (never a word list that spellings evade),
    and never raises on model text."""
    from lean_env.rules import forbidden_tactic

    kept = [c.tactic for c in unique_tactics([TacticCandidate(tactic, -0.1, 1), TacticCandidate("omega", -0.5, 1)])]
    assert kept == (["omega"] if forbidden_tactic(tactic) else [tactic, "omega"])
    if tactic != "exact h.":
        assert forbidden_tactic(tactic), tactic
