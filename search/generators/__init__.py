"""Tactic generators: goal states + n -> sampled tactics with token log-probs.
Backends: Hugging Face transformers, vLLM, an OpenAI-compatible server, and the embedded tiny model."""
