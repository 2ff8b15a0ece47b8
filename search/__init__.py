"""Best-first search over Lean tactic states and the scheduler that runs many searches at once;
the tactic generators it calls live in policy/."""
