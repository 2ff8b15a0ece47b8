"""Best-first search over Lean tactic states, the scheduler that runs many searches at once,
and the tactic generators (LLM backends) that propose tactics for a goal state."""
