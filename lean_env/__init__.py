"""The proof environment layer: run Lean tactics step by step and verify whole proofs.
Backends: the Lean REPL pool, LeanDojo, and the embedded pure-Python Lean fragment (the default)."""
