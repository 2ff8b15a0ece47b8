"""Campaign recipes: one expert-iteration round, one GRPO round, and the pieces they share."""
