"""The proof environment layer: run Lean tactics step by step and verify whole proofs.
Backends: the Lean REPL pool, LeanDojo, Kimina, the embedded Lean fragment (the default), and Ray actors over a cluster."""
