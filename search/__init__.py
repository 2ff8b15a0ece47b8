"""Best-first search over Lean tactic states, the scheduler that runs many searches at once and
pass@k evaluation (`evaluate`); the tactic generators it calls live in policy/."""
