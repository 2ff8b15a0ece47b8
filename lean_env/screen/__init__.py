"""The refutation screen: a second, separately written elaborator of theorem statements (Lean's
typing rules, its own code) and a model finder (exact evaluation and z3) that tries to refute them."""
