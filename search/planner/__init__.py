"""The planner: BFS-Prover-V2's multi-agent search with `have` subgoals, shared progress and
replanning.

    plan.py      plans (`have name : statement` lines), the Lean text built from them, and what a
                 planner is asked (`PlanRequest`, the `Planner` interface)
    backends.py  planners behind one interface (OpenAI-compatible chat, local HF, file, embedded)
                 and `PlannerConfig`; prompts are files in prompts/
    phases.py    plan validation and `PhaseEnv`, which shows one phase to the unchanged search
    store.py     the progress store (in-process, or a Ray actor), compare-and-set
    driver.py    one planner-driven attempt, top to bottom (`PlannerSearch`)
    show.py      the planner part of an attempt record as text (`prover show-tree --attempts`)

Whole-proof verification stays the only authority: a planner proof is the `have` chain with the
found proofs plus the main proof, checked from scratch by `env.verify`.

Embedded kernel note: its `focus tac` demands that `tac` closes the goal (Lean's `focus` does
not; that is `·`), and it has no `rotate_left`/`swap`/`case`. The planner needs none of them:
phases are focused by `PhaseEnv` and plans are validated with binders, so the same code runs on
real Lean.
"""
