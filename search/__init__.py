"""Best-first search over Lean tactic states, whole-proof attempts with repair and the hybrid, the
scheduler that runs many attempts at once and pass@k evaluation (`evaluate`); generators live in policy/."""
