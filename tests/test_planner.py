"""The planner (search/planner/): plans, validation, phased focus search, the progress store
(prefix sharing, compare-and-set, wipe on a failed whole proof), regeneration and replanning,
with a scripted planner and a scripted generator on the embedded kernel."""
from __future__ import annotations

import dataclasses

import pytest

from conftest import run, thm
from lean_env.factory import make_env
from lean_env.types import LeanError, ProofFinished, TacticState, Verdict
from search.batcher import GenerationBatcher
from search.best_first import SearchConfig
from search.planner.backends import EmbeddedPlanner, PlannerConfig, ScriptedPlanner, solve_linear
from search.planner.plan import PlanRequest
from search.planner.driver import PlannerSearch
from search.planner.phases import PhaseEnv, validate_plan
from search.planner.plan import PlanError, PlanStep, parse_plan, prompt_state, proved_have, with_hypotheses
from search.planner.store import LocalProgressStore, ProgressTable
from search.records import AttemptRecord
from policy.scripted import ScriptedGenerator

CYCLIC = thm("theorem cyc (m w x : ℤ) (h₀ : m + w = 8) (h₁ : w + x = 9) (h₂ : x + m = 7) : m * w * x = 60 := by")
GOOD = "```lean\nhave e0 : m = 3\nhave e1 : w = 5\nhave e2 : x = 4\n```"
CLOSERS = ["linarith", "rw [e0, e1, e2]"]


class Recording(ScriptedGenerator):
    """The same tactics at every state; remembers the prompts it was shown."""

    def __init__(self, tactics=CLOSERS):
        super().__init__(list(tactics))
        self.states: list[str] = []

    def generate(self, states, n):
        self.states.extend(states)
        return super().generate(states, n)


def attempt(planner, cfg=PlannerConfig(), gen=None, theorem=CYCLIC, budget=16, store=None, env_wrap=None):
    gen = gen or Recording()

    async def go():
        env = make_env(workers=1)
        batcher = GenerationBatcher(gen)
        try:
            ps = PlannerSearch(planner, cfg, store)
            return await ps(theorem, env_wrap(env) if env_wrap else env, batcher.propose, SearchConfig(4, budget))
        finally:
            await batcher.close()
            await env.close()

    rec, trees = run(go())
    return rec, trees, gen


# ---------------------------------------------------------------- plans as text

def test_parse_plan_reads_fenced_numbered_and_sorried_lines():
    text = "Here is my plan:\n```lean\n1. have h1 : x = 3 := by sorry\n- have h2 : ∀ y : ℕ, y + x = x + y\nhave : x ≠ 0\n```\nhave ignored : 1 = 1"
    plan = parse_plan(text)
    assert [(s.name, s.statement) for s in plan.steps] == [
        ("h1", "x = 3"), ("h2", "∀ y : ℕ, y + x = x + y"), ("step3", "x ≠ 0")]


def test_parse_plan_refuses_a_reply_that_is_not_a_plan():
    with pytest.raises(PlanError, match="not a plan"):
        parse_plan("I think the answer is 42.")
    with pytest.raises(PlanError, match="malformed plan line"):
        parse_plan("have 3 h : x = 1")


def test_with_hypotheses_inserts_binders_before_the_type():
    t = with_hypotheses(CYCLIC, [PlanStep("e0", "m = 3"), PlanStep("e1", "w = 5")])
    assert t.statement == ("theorem cyc (m w x : ℤ) (h₀ : m + w = 8) (h₁ : w + x = 9) (h₂ : x + m = 7) (e0 : m = 3) "
                           "(e1 : w = 5) : m * w * x = 60 := by")
    bare = thm("theorem bare : ∀ n : ℕ, n = n := by")
    assert with_hypotheses(bare, [PlanStep("a", "1 = 1")]).statement == "theorem bare (a : 1 = 1) : ∀ n : ℕ, n = n := by"


def test_proved_have_indents_multiline_tactics():
    assert proved_have(PlanStep("h", "p ∧ q"), ["constructor", "· exact hp\n  "]) == \
        "have h : p ∧ q := by\n  constructor\n  · exact hp\n    "


def test_prompt_state_shows_the_first_goal_without_case_tag_and_placeholders():
    state = "case left\nx : ℕ\nx✝ : x > 0\na✝ : ℕ\nh : a✝ = 1\n⊢ x = 3\n\nx : ℕ\n⊢ main"
    assert prompt_state(state) == "x : ℕ\na✝ : ℕ\nh : a✝ = 1\n⊢ x = 3"


def test_solve_linear_finds_the_determined_unknowns():
    goal = "a b c : ℤ\nn : ℕ\nh₀ : a + b = 3\nh₁ : 2 * (a - b) = 2\nh₂ : c * a = 4\nh₃ : n + 1 = 0\n⊢ a * b = 2"
    assert solve_linear(goal) == [("a", 2), ("b", 1)]   # c only in a product; n would be negative


# ---------------------------------------------------------------- validation and phases

def test_validation_accepts_an_elaborating_plan_and_names_the_bad_step():
    async def go():
        env = make_env(workers=1)
        try:
            ok = await validate_plan(env, CYCLIC, parse_plan(GOOD))
            unknown = await validate_plan(env, CYCLIC, parse_plan("have e0 : m = 3\nhave e1 : k = 5"))
            ill = await validate_plan(env, CYCLIC, parse_plan("have e0 : m = 3\nhave e1 : e0 + 1 = 2"))
            return ok, unknown, ill
        finally:
            await env.close()

    ok, unknown, ill = run(go())
    assert ok.ok and ok.error == ""
    assert not unknown.ok and unknown.error.startswith("step 2 `have e1 : k = 5`")   # no auto-bound `k`
    assert not ill.ok and ill.error.startswith("step 2")


class _Stub:
    """An environment whose every tactic gives the state it is told to."""

    def __init__(self, result):
        self.result = result

    async def run_tactic(self, state, tactic):
        return self.result


def test_phase_env_focuses_on_the_have_goal():
    main = ("x : ℕ\nh : x = 1\n⊢ main",)

    def focused(result):
        env = PhaseEnv(_Stub(result), [], PlanStep("h", "x = 1"))
        env.main = main
        return run(env.run_tactic(TacticState(("⊢ x = 1",) + main, 0), "t"))

    assert isinstance(focused(TacticState(main, 1)), ProofFinished)            # closed; only the main goal left
    sub = TacticState(("⊢ a", "⊢ b") + main, 2)
    assert focused(sub) is sub                                                # still working on the step
    assert isinstance(focused(TacticState(("⊢ x = 1", "⊢ main changed"), 3)), LeanError)   # touched the main goal
    assert isinstance(focused(ProofFinished(4)), LeanError)                   # closed the main goal too


def test_phases_prove_the_steps_in_order_then_the_main_goal():
    rec, trees, gen = attempt(ScriptedPlanner({"cyc": [GOOD]}))
    assert rec.proved
    assert rec.proof == ["have e0 : m = 3 := by\n  linarith", "have e1 : w = 5 := by\n  linarith",
                         "have e2 : x = 4 := by\n  linarith", "rw [e0, e1, e2]", "linarith"]
    t = rec.planner
    assert [(p.step, p.proved, p.accepted) for p in t.progress] == [(0, True, True), (1, True, True),
                                                                    (2, True, True), (3, True, True)]
    assert [label for label, _ in trees] == ["searcher 0 step 1", "searcher 0 step 2", "searcher 0 step 3",
                                              "searcher 0 main goal"]
    # every step phase showed the model only the step's goal: never the main goal behind it
    assert [s.split("⊢ ")[-1] for s in gen.states] == ["m = 3", "w = 5", "x = 4", "m * w * x = 60", "3 * 5 * 4 = 60"]
    assert "e0 : m = 3" in gen.states[1] and "e1" not in gen.states[1]
    assert all(s.count("⊢") == 1 for s in gen.states)
    # each phase starts from a fresh root: cumulative log-prob 0
    assert all(tree.nodes[tree.root].score == 0.0 and tree.nodes[tree.root].depth == 0 for _, tree in trees)
    assert rec.expansions == 5 and [s.tactic for s in rec.steps] == ["linarith"] * 3 + ["rw [e0, e1, e2]", "linarith"]


def test_a_proven_prefix_in_the_store_is_used_verbatim():
    store = LocalProgressStore()
    steps = parse_plan(GOOD).steps
    p = run(store.set_plan("cyc", steps, 0))
    p = run(store.submit("cyc", 0, ["nlinarith [h₀, h₁, h₂]"], p.version))   # another searcher's proof of step 1
    rec, trees, _ = attempt(ScriptedPlanner({}), store=store)
    assert rec.proved and rec.proof[0] == "have e0 : m = 3 := by\n  nlinarith [h₀, h₁, h₂]"
    assert [label for label, _ in trees][0] == "searcher 0 step 2"
    assert rec.planner.plans == []   # the stored plan was used: no planner call


def test_store_takes_a_step_only_at_the_current_progress_and_version():
    table = ProgressTable()
    steps = parse_plan(GOOD).steps
    p = table.set_plan("t", steps, 0)
    assert table.submit("t", 1, ["linarith"], p.version) is None       # step 2 before step 1
    p2 = table.submit("t", 0, ["linarith"], p.version)
    assert p2 is not None and p2.step == 1
    assert table.submit("t", 1, ["linarith"], p.version) is None       # stale version
    assert table.set_plan("t", steps[1:], p2.version) is None          # a plan that drops the proven prefix
    assert table.set_plan("t", steps[:1] + (PlanStep("f", "w = 5"),), p2.version) is not None
    assert table.wipe("t", p2.version) is None                          # stale
    assert table.wipe("t", table.get("t").version).plan == ()


def test_two_searchers_share_progress_and_each_step_is_taken_once():
    rec, trees, _ = attempt(ScriptedPlanner({"cyc": [GOOD]}), PlannerConfig(searchers=2), budget=16)
    assert rec.proved
    accepted = [p.step for p in rec.planner.progress if p.accepted]
    assert sorted(accepted) == [0, 1, 2, 3]   # every step taken once, whoever proved it
    assert {p.searcher for p in rec.planner.progress} == {0, 1}
    refused = [p for p in rec.planner.progress if p.proved and not p.accepted]
    for p in refused:   # a searcher that proved a step someone else had already taken
        assert p.step in accepted


class _FailingVerify:
    """The embedded environment, except that whole-proof verification always fails."""

    def __init__(self, env):
        self.env = env

    def __getattr__(self, name):
        return getattr(self.env, name)

    async def verify(self, theorem, tactics):
        return Verdict(False, ("verification: rejected for the test",))


def test_a_failed_whole_proof_wipes_the_progress():
    store = LocalProgressStore()
    rec, _, _ = attempt(ScriptedPlanner({"cyc": [GOOD]}), PlannerConfig(fallback=False), store=store,
                        env_wrap=_FailingVerify, budget=12)
    assert not rec.proved and rec.planner.wiped >= 1
    # after a wipe the theorem was planned and proven again from scratch
    assert len(rec.planner.plans) == rec.planner.wiped + (run(store.get("cyc")).plan != ())
    assert [p.step for p in rec.planner.progress[:4]] == [0, 1, 2, 3]
    assert rec.planner.progress[4].step == 0


def test_replanning_keeps_the_proven_prefix():
    stuck = "have e0 : m = 3\nhave e1 : w = 6\nhave e2 : x = 4"   # w = 6 is false: step 2 cannot be proved
    replies = {"cyc": [stuck, "have e1 : w = 5\nhave e2 : x = 4"]}  # the replan forgets e0: it is put back
    planner = ScriptedPlanner(replies)
    rec, _, _ = attempt(planner, PlannerConfig(replan=True, phase_expansions=2, fallback=False), budget=16)
    assert rec.proved and rec.proof[0] == "have e0 : m = 3 := by\n  linarith"
    plans = rec.planner.plans
    assert [(p.reason, p.valid, p.kept) for p in plans] == [("initial", True, 0), ("replan", True, 1)]
    assert plans[1].steps == ["have e0 : m = 3", "have e1 : w = 5", "have e2 : x = 4"]
    second = planner.calls[1]
    assert second.prefix == (PlanStep("e0", "m = 3"),) and "step 2 `have e1 : w = 6`" in second.feedback


def test_without_replanning_a_stuck_plan_falls_back_to_plain_search_at_the_same_budget():
    stuck = "have e0 : m = 3\nhave e1 : w = 6"
    rec, trees, _ = attempt(ScriptedPlanner({"cyc": [stuck]}), PlannerConfig(phase_expansions=2), budget=10)
    assert not rec.proved and "stuck at step 2" in rec.failure
    assert trees[-1][0] == "fallback search"
    assert rec.expansions <= 10


def test_an_invalid_plan_is_redrawn_at_most_three_times():
    replies = {"cyc": ["no idea", "have e0 : k = 3", "have e0 : m = 3\nhave e1 : w = 5\nhave e2 : x = 4"]}
    rec, _, _ = attempt(ScriptedPlanner(replies))
    assert rec.proved
    assert [(p.reason, p.valid) for p in rec.planner.plans] == [("initial", False), ("regenerate", False),
                                                                ("regenerate", True)]
    assert rec.planner.plans[0].error.startswith("not a plan")
    never = ScriptedPlanner({"cyc": ["no idea"]})
    rec, _, _ = attempt(never, PlannerConfig(fallback=False))
    assert len(never.calls) == 4 and rec.failure == "plan: no valid plan" and not rec.proved


def test_records_round_trip_with_the_planner_trace():
    rec, _, _ = attempt(ScriptedPlanner({"cyc": [GOOD]}))
    back = AttemptRecord.from_dict(rec.to_dict())
    assert back.planner == rec.planner and back.proof == rec.proof


def test_the_embedded_planner_plans_the_have_chain_benchmark():
    from lean_env.benchmarks import load_benchmark

    theorems = load_benchmark("embedded-havechain")
    assert {t.split for t in theorems} == {"valid", "test"} and len(theorems) == 72

    async def go():
        env = make_env(workers=1)
        try:
            out = []
            for t in theorems[::9]:
                root = await env.start(t)
                plan = parse_plan(EmbeddedPlanner().plan(PlanRequest(t, root.pp)))
                out.append((await validate_plan(env, t, plan)).ok)
            return out
        finally:
            await env.close()

    assert all(run(go()))


def test_planner_config_refuses_fields_of_other_kinds(tmp_path):
    with pytest.raises(ValueError, match="does not use base_url"):
        PlannerConfig(kind="embedded", base_url="http://x")
    with pytest.raises(ValueError, match="needs base_url and model"):
        PlannerConfig(kind="openai", model="m")
    (tmp_path / "system.txt").write_text("s")
    (tmp_path / "plan.txt").write_text("no placeholders")
    (tmp_path / "replan.txt").write_text("{statement} {goal} {prefix}")
    with pytest.raises(ValueError, match="lacks"):
        PlannerConfig(kind="openai", model="m", base_url="http://x", prompts=str(tmp_path))


def test_eval_cli_with_a_planner_records_and_shows_the_plan(tmp_path):
    from typer.testing import CliRunner

    from prover.cli import app

    plans = tmp_path / "plans.jsonl"
    plans.write_text('{"id": "hc_cyclic_product_0000", "plan": ["have e0 : m = 3", "have e1 : w = 5", "have e2 : x = 4"]}\n')
    out = tmp_path / "eval"
    res = CliRunner().invoke(app, ["eval", "--benchmark", "embedded-havechain", "--split", "test", "--limit", "1",
                                   "--model", "scripted", "--planner", "file", "--expansions", "8",
                                   "--out", str(out), "--workers", "1"])
    assert res.exit_code == 2 and "needs path" in res.output   # kind file without its plans file
    res = CliRunner().invoke(app, ["eval", "--benchmark", "embedded-havechain", "--split", "test", "--limit", "1",
                                   "--model", "scripted", "--planner", str(_yaml(tmp_path, plans)),
                                   "--expansions", "8", "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["show-tree", "hc_cyclic_product_0000", "--attempts", str(out / "attempts.jsonl")])
    assert res.exit_code == 0
    assert "plan 1 (initial): valid" in res.output and "step 1 `have e0 : m = 3`: accepted" in res.output


def _yaml(tmp_path, plans):
    path = tmp_path / "planner.yaml"
    path.write_text(f"planner:\n  kind: file\n  path: {plans}\n")
    return path


def test_campaign_config_takes_a_planner_section():
    from prover.config import CampaignConfig

    cfg = CampaignConfig(**{"planner": {"kind": "embedded", "replan": True, "searchers": 2}})
    assert cfg.planner.replan and cfg.planner.searchers == 2
    assert CampaignConfig().planner is None
    with pytest.raises(ValueError, match="does not use path"):
        CampaignConfig(**{"planner": {"kind": "embedded", "path": "plans.jsonl"}})


def test_file_planner_learns_plans_from_the_have_steps_of_proofs(tmp_path):
    proofs = tmp_path / "proofs.jsonl"
    proofs.write_text('{"id": "cyc", "tactics": ["have e0 : m = 3 := by linarith", "have e1 : w = 5 := by\\n  linarith", '
                      '"have := h₀", "rw [e0, e1]", "norm_num"]}\n{"id": "other", "tactics": ["omega"]}\n')
    planner = ScriptedPlanner.from_jsonl(proofs)
    assert parse_plan(planner.plan(PlanRequest(CYCLIC, ""))).steps == (PlanStep("e0", "m = 3"), PlanStep("e1", "w = 5"))
    with pytest.raises(PlanError):   # a proof without `have` steps gives no plan
        parse_plan(planner.plan(PlanRequest(dataclasses.replace(CYCLIC, id="other"), "")))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(ValueError, match="needs an 'id' and a 'plan'"):
        ScriptedPlanner.from_jsonl(bad)
