"""Whole-proof attempts, Lean-error repair and the draft-then-search hybrid (search/whole_proof.py,
search/hybrid.py) against the embedded environment: the first failing tactic of a hand-made draft,
the repair prompts (the error in, the reference solution never), truncate-and-resume, and an
end-to-end `prover eval --mode whole|hybrid` on a micro model. Every returned proof is re-verified."""
from __future__ import annotations

import asyncio
import json

import pytest

from lean_env.benchmarks import load_benchmark
from lean_env.factory import EnvConfig, make_env
from lean_env.types import TacticState
from policy.base import TacticCandidate
from search.best_first import SearchConfig
from search.hybrid import HybridSearch
from search.whole_proof import WholeProofConfig, WholeProofSearch, diagnose, tactic_state_comment

THEOREM_ID = "emb_exists_transfer_0012"
REFERENCE = ["obtain ⟨k, hk⟩ := h₀", "use k + 3", "rw [hk]", "ring"]      # data/embedded/known_proofs.jsonl
DRAFT = ["obtain ⟨k, hk⟩ := h₀", "use k + 3", "rw [nope]", "ring"]        # third line fails


@pytest.fixture(scope="module")
def theorem():
    return next(t for t in load_benchmark("embedded") if t.id == THEOREM_ID)


def run(coro_fn):
    async def main():
        env = make_env(EnvConfig(workers=1))
        try:
            return await coro_fn(env)
        finally:
            await env.close()
    return asyncio.run(main())


class Scripted:
    """A propose function that answers each call with the next scripted output and keeps every prompt."""

    def __init__(self, outputs):
        self.outputs, self.prompts = list(outputs), []

    async def __call__(self, state, n, key=None):
        self.prompts.append(str(state))
        self.keys = getattr(self, "keys", []) + [key]
        out = self.outputs.pop(0) if self.outputs else "sorry"
        return [TacticCandidate(out, -1.0, 7)]


async def state_after(env, theorem, tactics):
    state = await env.start(theorem)
    for tac in tactics:
        state = await env.run_tactic(state, tac)
    return state


def test_diagnose_cuts_a_draft_at_its_first_failing_tactic(theorem):
    async def go(env):
        return await diagnose(env, theorem, DRAFT), await state_after(env, theorem, DRAFT[:2])

    d, good_state = run(go)
    assert d.good == 2 and d.tactics == DRAFT
    assert isinstance(good_state, TacticState) and d.state.pp == good_state.pp
    [err] = d.errors
    code = (theorem.header + theorem.statement + "\n  " + "\n  ".join(DRAFT)).split("\n")
    assert code[err.line - 1][err.column:err.end_column] == "rw [nope]"
    assert "nope" in err.message and err.goal_before == good_state.pp


@pytest.mark.parametrize("fmt", ["goedel", "kimina"])
def test_a_repair_turn_holds_the_error_and_never_the_reference(theorem, fmt):
    body = "\n  ".join
    propose = Scripted([body(DRAFT), body(REFERENCE)])
    search = WholeProofSearch("tiny-whole", WholeProofConfig(repair_rounds=2, repair_format=fmt))

    async def go(env):
        rec, _ = await search(theorem, env, propose)
        return rec, (await env.verify(theorem, rec.proof)) if rec.proved else None

    rec, verdict = run(go)
    first, repair = propose.prompts
    assert first == theorem.statement + "\n"
    assert "unknown identifier 'nope'" in repair
    if fmt == "goedel":
        assert "<error>rw [nope]</error>" in repair and "The proof (Round 0) is not correct" in repair
    else:
        assert "Goals state before error position" in repair and "⊢ x + 12 = 4 * (k + 3)" in repair
    for prompt in propose.prompts:
        assert "rw [hk]" not in prompt and body(REFERENCE) not in prompt
    assert rec.proved and verdict.ok and rec.whole["fixed_in_round"] == 1
    assert [t["verified"] for t in rec.whole["turns"]] == [False, True] and rec.tokens == 14


def test_resume_repair_continues_the_good_prefix(theorem):
    propose = Scripted(["\n  ".join(DRAFT), "rw [hk]\n  ring"])
    search = WholeProofSearch("tiny-whole", WholeProofConfig(repair_rounds=1))

    async def go(env):
        rec, _ = await search(theorem, env, propose)
        good = await state_after(env, theorem, DRAFT[:2])
        return rec, good, (await env.verify(theorem, rec.proof)) if rec.proved else None

    rec, good, verdict = run(go)
    prefix = "  obtain ⟨k, hk⟩ := h₀\n  use k + 3\n"
    assert propose.prompts[1] == theorem.statement + "\n" + prefix + tactic_state_comment(good.pp)
    assert rec.proved and verdict.ok and rec.whole["fixed_in_round"] == 1


def test_a_changed_statement_is_refused_before_lean(theorem):
    search = WholeProofSearch("kimina-prover", tokenizer=object())
    weaker = theorem.statement.replace("x + 12", "x + 0")
    tactics, reasons = search.proof_of(theorem, f"```lean4\nimport Mathlib\n{weaker}\n  omega\n```")
    assert tactics == [] and reasons[0].startswith("statement tampering")


def test_hybrid_search_resumes_from_the_draft_s_last_good_state(theorem):
    draft = Scripted(["\n  ".join(DRAFT)])
    asked: list[str] = []

    async def step(state, n):
        asked.append(str(state))
        return [TacticCandidate(t, -0.5, 3) for t in ("rw [hk]", "ring")]

    async def go(env):
        rec, _ = await HybridSearch(WholeProofSearch("tiny-whole"), draft)(theorem, env, step, SearchConfig(2, 4))
        good = await state_after(env, theorem, DRAFT[:2])
        return rec, good, (await env.verify(theorem, rec.proof)) if rec.proved else None

    rec, good, verdict = run(go)
    assert asked[0] == good.pp                   # the search's root is the state after the good prefix
    assert rec.proved and rec.proof == DRAFT[:2] + ["rw [hk]", "ring"] and verdict.ok
    assert rec.whole["resumed_from"] == 2 and rec.whole["draft_verified"] is False


def test_each_hybrid_attempt_asks_for_its_own_draft(theorem):
    """Drafts are keyed by (theorem, attempt): attempts draw different samples, a resume the same."""
    draft = Scripted(["  sorry"] * 3)

    async def step(state, n):
        return []

    async def go(env):
        for attempt in (0, 1, 0):
            await HybridSearch(WholeProofSearch("tiny-whole"), draft)(theorem, env, step, SearchConfig(1, 1), attempt)

    run(go)
    assert len(draft.keys) == 3 and None not in draft.keys
    assert draft.keys[0] != draft.keys[1] and draft.keys[0] == draft.keys[2]


@pytest.fixture(scope="module")
def micro_model(tmp_path_factory):
    from policy.checkpoint import save_checkpoint
    from policy.tiny import create_model, train_tokenizer

    corpus = [t.statement for t in load_benchmark("embedded", "train")[:60]] + REFERENCE
    tok = train_tokenizer(corpus, vocab_size=300)
    path = tmp_path_factory.mktemp("micro") / "model"
    save_checkpoint(create_model(tok, "micro", 0), tok, path, {"what": "untrained micro"})
    return path


@pytest.mark.parametrize("mode", ["whole", "hybrid"])
def test_prover_eval_whole_and_hybrid_modes_end_to_end(micro_model, tmp_path, mode):
    from lean_env.jsonl import read_jsonl
    from policy.factory import GeneratorConfig
    from prover.eval_cmd import EvalRequest, run_eval_cli

    whole = GeneratorConfig(kind="hf", model=str(micro_model), preset="tiny-whole", sampling={"max_tokens": 24})
    tactic = GeneratorConfig(kind="hf", model=str(micro_model), sampling={"max_tokens": 12})
    out = tmp_path / mode
    req = EvalRequest(limit=3, samples=2, pass_k=1, out=out, env=EnvConfig(workers=1),
                      generator=whole if mode == "whole" else tactic, search=SearchConfig(2, 2), mode=mode,
                      repair_rounds=1 if mode == "whole" else 0, draft=whole if mode == "hybrid" else None)
    run_eval_cli(req)
    summary = json.loads((out / "summary.json").read_text())
    rows = list(read_jsonl(out / "attempts.jsonl"))
    assert summary["mode"] == mode and len(rows) == 6 and summary["tokens_generated"] == sum(r["tokens"] for r in rows)
    assert summary["tokens_generated"] > 0
    for r in rows:
        turns = r["whole"]["turns"]
        if mode == "whole":   # a failed first proof gets its repair turn
            assert len(turns) == (1 if turns[0]["verified"] else 2)
        assert r["proved"] == (r["proof"] is not None)
    if mode == "whole":
        assert len(summary["repair_fixed_per_round"]) == 1
    theorems = {t.id: t for t in load_benchmark("embedded", "test")}

    async def reverify(env):
        return [(await env.verify(theorems[r["theorem_id"]], r["proof"])).ok for r in rows if r["proved"]]

    assert all(run(reverify))


def test_bad_mode_settings_get_one_clear_line(micro_model):
    from policy.factory import GeneratorConfig
    from search.hybrid import mode_search

    with pytest.raises(ValueError, match="whole-proof preset"):
        mode_search("whole", GeneratorConfig(kind="hf", model=str(micro_model)))
    with pytest.raises(ValueError, match="draft model"):
        mode_search("hybrid", GeneratorConfig(kind="hf", model=str(micro_model)))
    with pytest.raises(ValueError, match="unknown mode"):
        mode_search("beam", GeneratorConfig(kind="scripted"))


def test_the_draft_model_is_sampled_by_the_tactic_model_s_kind():
    from policy.factory import GeneratorConfig
    from prover.cli import _draft_config

    tactic = GeneratorConfig(kind="vllm", dtype="float32", engine_args={"enforce_eager": True})
    draft = _draft_config(tactic, "whole-dir", "tiny-whole", 3)
    assert (draft.kind, draft.model, draft.dtype, draft.engine_args) == ("vllm", "whole-dir", "float32",
                                                                         {"enforce_eager": True})
    assert draft.preset == "tiny-whole" and draft.sampling.seed == 3 and draft.sampling.max_tokens == 160
    assert _draft_config(GeneratorConfig(kind="hf"), "whole-dir", "tiny-whole", 0).kind == "hf"
    with pytest.raises(ValueError, match="hf or vllm"):
        _draft_config(GeneratorConfig(kind="scripted"), "whole-dir", "tiny-whole", 0)


def test_the_planner_takes_its_have_chain_from_a_whole_proof_draft():
    from search.planner.backends import PlannerConfig
    from search.planner.plan import PlanRequest
    from search.planner.draft import DraftPlanner
    from search.planner.plan import parse_plan

    t = next(x for x in load_benchmark("embedded") if x.id == "emb_solve_then_product_0005")

    class Gen:   # a raw-prompt generator that writes one draft, the second `have` wrongly proved
        prompts: list[str] = []
        keys: list[str] = []

        def generate(self, states, n, keys=None):
            self.prompts += [str(s) for s in states]
            self.keys += list(keys)
            return [[TacticCandidate("have e3 : n = 1 := by linarith\n  have e2 : x = 3 := by nlinarith [foo]\n"
                                     "  norm_num", -1.0, 20)]]

    gen = Gen()
    reply = DraftPlanner(gen, WholeProofSearch("tiny-whole")).plan(PlanRequest(t, "⊢ goal", key="k1"))
    plan = parse_plan(reply)
    assert gen.keys == ["k1"]   # the draft is sampled under the request's own name
    assert [(s.name, s.statement) for s in plan.steps] == [("e3", "n = 1"), ("e2", "x = 3")]
    assert gen.prompts == [t.statement + "\n"]
    with pytest.raises(ValueError, match="needs model"):
        PlannerConfig(kind="draft")


@pytest.mark.parametrize("preset,fmt", [("goedel-prover-v2", "goedel"), ("kimina-prover", "kimina"),
                                        ("deepseek-prover-v2", "goedel")])
def test_chat_presets_repair_as_a_conversation_through_the_chat_template(theorem, preset, fmt):
    """The error-fix turn continues the conversation: the first prompt, the model's own answer, then
    the feedback user turn (Goedel-Prover-V2 `generate_correction_prompt`; Kimina `error_fix.py`)."""
    from tests.preset_fixtures import family_tokenizer

    tok = family_tokenizer("deepseek" if preset.startswith("deepseek") else "qwen3", [theorem.statement])

    def block(tactics, lead="Plan: use the witness k + 3.\n"):
        return f"{lead}```lean4\n{theorem.header}{theorem.statement}\n  " + "\n  ".join(tactics) + "\n```"

    propose = Scripted([block(DRAFT), block(REFERENCE, "Fixed.\n")])
    search = WholeProofSearch(preset, WholeProofConfig(repair_rounds=1), tokenizer=tok)
    assert search.format == fmt
    conversations = []
    render = search.render
    search.render = lambda messages: conversations.append(messages) or render(messages)

    async def go(env):
        rec, _ = await search(theorem, env, propose)
        return rec, (await env.verify(theorem, rec.proof)) if rec.proved else None

    rec, verdict = run(go)
    first = search.first_messages(theorem)
    assert propose.prompts[0] == tok.apply_chat_template(first, tokenize=False, add_generation_prompt=True)
    repair = next(c for c in conversations if len(c) > len(first))
    assert repair[: len(first)] == first and repair[len(first)] == {"role": "assistant", "content": block(DRAFT)}
    feedback = repair[-1]["content"]
    assert repair[-1]["role"] == "user" and feedback in propose.prompts[1]
    assert "unknown identifier 'nope'" in feedback and "rw [hk]" not in propose.prompts[1]
    assert rec.proved and verdict.ok and rec.whole["fixed_in_round"] == 1
