"""Best-first search, its graph, and the pass@k scheduler, on a toy environment and on the embedded server."""
from __future__ import annotations

import asyncio

import pytest

from conftest import run, thm
from fake_env import FakeEnv, theorem
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig, priority, search, unique_tactics
from search.generators.base import TacticCandidate
from search.passk import summarize, unbiased_pass_at_k
from search.records import AttemptRecord, append_jsonl, read_jsonl, repair_jsonl
from search.scheduler import RunConfig, run_attempts
from search.scripted import ScriptedGenerator
from search.tree import FAILED, OPEN, PROVED, QED, SearchTree


def scripted(table):
    gen = ScriptedGenerator(lambda s: table)
    return gen, GenerationBatcher(gen).propose


def test_finds_a_proof_and_verifies_it():
    env = FakeEnv()
    _, propose = scripted([("dec", -0.1), ("half", -0.2), ("zero", -0.05)])
    rec, tree = run(search(theorem(6), env, propose, SearchConfig(3, 50)))
    assert rec.proved and rec.proof[-1] == "zero"
    assert env.verified[-1] == rec.proof
    assert [s.tactic for s in rec.steps] == rec.proof and rec.steps[0].state == "⊢ 6"
    assert tree.proved and tree.node(tree.root)["status"] == PROVED


def test_shortest_proof_is_extracted():
    env = FakeEnv()
    # `dec` looks best, so search goes 4 -> 3 -> 2 ...; `half` gives 4 -> 2 -> 1 -> 0: shorter.
    _, propose = scripted([("dec", -0.01), ("half", -0.5), ("zero", -0.01)])
    rec, tree = run(search(theorem(4), env, propose, SearchConfig(3, 100, alpha=0.0)))
    assert rec.proved and len(rec.proof) == len(tree.shortest_proof())
    assert len(rec.proof) <= 4


def test_identical_states_are_merged():
    env = FakeEnv()
    _, propose = scripted([("dec", -0.1), ("half", -0.1), ("zero", -0.1)])
    _, tree = run(search(theorem(4), env, propose, SearchConfig(3, 3)))
    # 4 -half-> 2 and 4 -dec-> 3 -dec-> 2: one node "⊢ 2" with two parents
    assert tree.has("⊢ 2") and tree.g.in_degree("⊢ 2") == 2
    assert sum(1 for n in tree.g.nodes if n == "⊢ 2") == 1


def test_status_propagation_on_a_hand_built_graph():
    t = SearchTree("A")
    for parent, child in [("A", "B"), ("A", "C"), ("B", "D"), ("C", "D")]:
        t.add_child(parent, child, f"{parent}{child}", -0.1)
    assert not t.add_child("D", "A", "DA", -0.1)   # would close a cycle
    for k in ("D", "B"):
        t.mark_expanded(k)
    assert t.node("D")["status"] == FAILED and t.node("B")["status"] == FAILED
    assert t.node("A")["status"] == OPEN            # C is not expanded yet
    t.mark_expanded("C")
    t.mark_expanded("A")
    assert t.node("A")["status"] == FAILED
    t2 = SearchTree("A")
    t2.add_child("A", "B", "ab", -0.1)
    t2.add_child("B", QED, "done", -0.1)
    t2.propagate("B")
    assert t2.node("A")["status"] == PROVED and t2.shortest_proof() == ["ab", "done"]


def test_budget_and_exhaustion():
    env = FakeEnv()
    _, propose = scripted([("dec", -0.1)])
    rec, _ = run(search(theorem(50), env, propose, SearchConfig(1, 5)))
    assert not rec.proved and rec.failure == "budget: expansions" and rec.expansions == 5
    _, propose = scripted([("half", -0.1)])
    rec, _ = run(search(theorem(3), env, propose, SearchConfig(1, 5)))
    assert rec.failure == "exhausted" and rec.lean_errors == 1


def test_wall_clock_budget():
    env = FakeEnv(slow_seconds=0.2)
    _, propose = scripted([("slow", -0.1), ("same", -0.2)])
    rec, _ = run(search(theorem(5), env, propose, SearchConfig(2, 1000, wall_seconds=0.3)))
    assert rec.failure in ("budget: time", "exhausted") and rec.timeouts >= 1 and rec.wall < 2


def test_forbidden_and_duplicate_tactics_never_reach_the_env():
    env = FakeEnv()
    _, propose = scripted([("dec", -0.1), ("dec", -0.3), ("sorry", -0.01), ("native_decide", -0.01), ("zero", -0.2)])
    run(search(theorem(2), env, propose, SearchConfig(5, 10)))
    assert "sorry" not in env.calls and "native_decide" not in env.calls
    cands = unique_tactics([TacticCandidate("dec", -1.0, 2), TacticCandidate(" dec ", -0.2, 1), TacticCandidate("admit", 0, 1)])
    assert [c.tactic for c in cands] == ["dec"] and cands[0].mean_logprob == -0.2


def test_proof_that_fails_verification_is_not_reported():
    env = FakeEnv()
    _, propose = scripted([("cheat", -0.01)])
    rec, _ = run(search(theorem(3), env, propose, SearchConfig(1, 3)))
    assert not rec.proved and rec.proof is None and env.verified == [["cheat"]]


def test_start_failure_is_a_recorded_failure():
    rec, tree = run(search(theorem(3, name="bad3"), FakeEnv(), scripted([("dec", 0)])[1], SearchConfig()))
    assert tree is None and not rec.proved and rec.failure.startswith("start: LeanError")


def test_priority_normalises_by_depth():
    assert priority(-1.0, 1, 2.0) == -1.0 and priority(-1.0, 2, 2.0) == -0.25 and priority(-1.0, 2, 0.0) == -1.0


def test_pass_at_k_cancels_after_first_verified_proof_and_batches_across_searches():
    env = FakeEnv()
    gen = ScriptedGenerator(lambda s: [("dec", -0.1), ("zero", -0.1)])
    batcher = GenerationBatcher(gen, max_batch=64, linger=0.01)
    thms = [theorem(n) for n in range(1, 9)]
    records = run(run_attempts(thms, env, batcher, SearchConfig(2, 20), RunConfig(attempts=4, concurrency=16)))
    by = {}
    for r in records:
        by.setdefault(r.theorem_id, []).append(r)
    assert all(sum(r.proved for r in rs) == 1 for rs in by.values())   # later attempts were cancelled
    assert max(gen.calls) > 1                                         # requests from searches were batched
    s = summarize([t.id for t in thms], records, 4)
    assert s.pass_at_k == 1.0 and s.theorems == 8


def test_a_crashing_search_does_not_stop_the_others():
    env = FakeEnv()
    gen = ScriptedGenerator(lambda s: [("boom", -0.1)] if s == "⊢ 3" else [("dec", -0.1), ("zero", -0.1)])
    batcher = GenerationBatcher(gen)
    with pytest.raises(RuntimeError):
        run(run_attempts([theorem(3), theorem(2)], env, batcher, SearchConfig(2, 10), RunConfig()))
    done = []
    run(run_attempts([theorem(2)], env, GenerationBatcher(gen), SearchConfig(2, 10), RunConfig(), on_record=done.append))
    assert done and done[0].proved


def test_resume_skips_recorded_attempts(tmp_path):
    env = FakeEnv()
    gen = ScriptedGenerator(lambda s: [("dec", -0.1), ("zero", -0.1)])
    thms = [theorem(n) for n in (1, 2, 3)]
    skip = {("toy1", 0), ("toy2", 0)}
    records = run(run_attempts(thms, env, GenerationBatcher(gen), SearchConfig(2, 10), RunConfig(attempts=1, skip=skip)))
    assert [r.theorem_id for r in records] == ["toy3"]


def test_pass_at_k_estimators():
    assert unbiased_pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert unbiased_pass_at_k(5, 0, 3) == 0.0 and unbiased_pass_at_k(5, 3, 3) == 1.0
    assert unbiased_pass_at_k(10, 3, 2) == pytest.approx(1 - (7 * 6) / (10 * 9))
    with pytest.raises(ValueError):
        unbiased_pass_at_k(2, 1, 3)
    recs = [AttemptRecord("a", "b", "test", 0, False, None, env_failures=1, failure="env: x"),
            AttemptRecord("b", "b", "test", 0, True, ["t"])]
    s = summarize(["a", "b", "c"], recs, 1)
    # the environment failure and the never-attempted theorem stay in the denominator
    assert (s.theorems, s.proved, s.env_failures) == (3, 1, 1) and s.pass_at_k == pytest.approx(1 / 3)


def test_jsonl_appends_survive_a_torn_tail(tmp_path):
    p = tmp_path / "a.jsonl"
    append_jsonl(p, [{"x": 1}])
    with open(p, "ab") as f:
        f.write(b'{"x": 2, "trunc')   # a write killed half-way
    assert [r["x"] for r in read_jsonl(p)] == [1]
    append_jsonl(p, [{"x": 3}])
    assert [r["x"] for r in read_jsonl(p)] == [1, 3]
    p.write_text('{"x": 1}\nnot json\n{"x": 2}\n')
    with pytest.raises(ValueError, match=":2:"):
        list(read_jsonl(p))
    assert repair_jsonl(tmp_path / "missing.jsonl") == 0


def test_tree_export(tmp_path):
    env = FakeEnv()
    _, propose = scripted([("dec", -0.1), ("zero", -0.1)])
    _, tree = run(search(theorem(2), env, propose, SearchConfig(2, 10)))
    tree.to_json(tmp_path / "t.json")
    tree.to_graphml(tmp_path / "t.graphml")
    tree.draw(tmp_path / "t.png")
    import json
    import networkx as nx

    data = json.loads((tmp_path / "t.json").read_text())
    assert {n["id"] for n in data["nodes"]} >= {"⊢ 2", "⊢ 1", QED}
    assert nx.read_graphml(tmp_path / "t.graphml").number_of_nodes() == len(tree.g)
    assert (tmp_path / "t.png").stat().st_size > 1000


def test_search_on_the_embedded_server():
    from lean_env.factory import make_env

    async def go():
        env = make_env(workers=1)
        try:
            gen = ScriptedGenerator(lambda s: [("rw [h₀]", -0.1), ("omega", -0.5)] if "a + b" in s else [("ring", -0.1)])
            return await search(thm("theorem e (a b : ℕ) (h₀ : a = 2) : a + b = b + 2 := by"), env,
                                GenerationBatcher(gen).propose, SearchConfig(2, 10))
        finally:
            await env.close()
    rec, tree = run(go())
    assert rec.proved and rec.proof in (["rw [h₀]", "ring"], ["omega"])
