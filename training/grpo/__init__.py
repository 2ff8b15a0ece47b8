"""GRPO with the MAI-Thinking-1 changes: multi-turn rollouts against a ProofEnv, the clipped
token-level objective with adaptive upper clip, pass-rate filtering, the trainer and self-distillation."""
