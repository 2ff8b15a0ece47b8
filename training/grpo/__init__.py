"""GRPO with the MAI-Thinking-1 changes: batched multi-turn rollouts against a ProofEnv (engine.py:
the sampler and its weight sync; rollout.py), the clipped token-level objective with adaptive upper
clip and optional truncated IS (loss.py, controller.py), pass-rate filtering (filter.py), the
off-policy trainer (trainer.py), self-distillation (distill.py) and collapse recovery (recovery.py)."""
