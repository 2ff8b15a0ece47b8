"""The embedded environment: a pure-Python kernel for a fragment of Lean 4 (ℕ/ℤ arithmetic and
first-order logic) served over the Lean REPL's JSON protocol by `python -m lean_env.embedded`."""
from lean_env.embedded.session import Session as EmbeddedLean

__all__ = ["EmbeddedLean"]
