"""The kernel's one error type for a failed tactic or term, at the bottom of the import order so
that every module (carriers, elaboration, the procedures) raises the same thing."""
from __future__ import annotations


class TacticError(Exception):
    """A tactic failed; the message is what Lean would print."""


class IllTyped(TacticError):
    """A term node whose parts have different types (`(0 : ℕ) = (z : ℤ)`): raised when the node
    is built, so no procedure can ever see one."""
