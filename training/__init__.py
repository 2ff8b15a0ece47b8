"""Learning from search: the pair store, the perplexity filter, expert-iteration SFT, DPO,
model merging, and GRPO with the MAI-Thinking-1 changes as the alternative learner."""
