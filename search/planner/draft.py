"""A planner whose plan is the `have` chain of a whole-proof model's draft (issue 23): the draft is
sampled with its preset's prompt (search/whole_proof.py) and its proof text is the reply, so
`parse_plan` keeps its `have NAME : STATEMENT` lines and drops their proofs; the planner-driven
search then proves each step and the main goal itself. A draft without a `have` is no plan (the
driver falls back to plain search)."""
from __future__ import annotations

from policy.base import PromptInput
from search.planner.plan import PlanRequest


class DraftPlanner:
    def __init__(self, generator, drafter):
        self.generator, self.drafter = generator, drafter   # a raw-prompt generator, a WholeProofSearch

    def plan(self, request: PlanRequest) -> str:
        d, theorem = self.drafter, request.theorem
        # keyed by the request, so each attempt's (and each replan's) draft is its own sample
        got = self.generator.generate([PromptInput(d.render(d.first_messages(theorem)))], 1, [request.identity])[0]
        if not got:
            return ""
        tactics, _ = d.proof_of(theorem, got[0].tactic)
        return "\n".join(tactics)


def make_draft_planner(model: str, preset: str | None, temperature: float, max_tokens: int, seed: int = 0):
    from policy.factory import GeneratorConfig, make_generator
    from search.whole_proof import WholeProofSearch, raw_generator_config

    cfg = GeneratorConfig(kind="hf", model=model, preset=preset or "tiny-whole",
                          sampling={"temperature": temperature, "max_tokens": max_tokens, "seed": seed})
    generator = make_generator(raw_generator_config(cfg))
    return DraftPlanner(generator, WholeProofSearch(cfg.preset, tokenizer=getattr(generator, "tokenizer", None)))
