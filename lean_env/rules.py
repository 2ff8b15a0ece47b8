"""What a proof may not contain, shared by the search (drop before sending) and the verifier."""
from __future__ import annotations

import re

# Tactics that close goals without a proof (or with `sorry` when they fail), or trust the compiler.
FORBIDDEN_TACTICS: tuple[str, ...] = ("sorry", "admit", "native_decide", "apply?", "exact?")

# `#print axioms` may list only these for a proof to count.
ALLOWED_AXIOMS: frozenset[str] = frozenset({"propext", "Classical.choice", "Quot.sound"})

# Top-level commands that a model's tactic text must never smuggle in.
TOP_LEVEL_COMMANDS: tuple[str, ...] = (
    "theorem", "lemma", "def", "axiom", "axioms", "example", "instance", "abbrev", "structure",
    "inductive", "class", "macro", "macro_rules", "syntax", "notation", "infix", "infixl", "infixr",
    "prefix", "postfix", "elab", "set_option", "open", "namespace", "section", "end", "variable",
    "universe", "import", "attribute", "opaque", "noncomputable", "private", "protected",
    "unsafe", "partial", "mutual", "deriving", "#eval", "#print", "#check", "#exit", "#reduce",
    "run_cmd", "run_tac", "local", "scoped",
)

_WORD = r"(?<![\w.?!'])({})(?![\w?!'])"
_FORBIDDEN_RE = re.compile(_WORD.format("|".join(re.escape(t) for t in FORBIDDEN_TACTICS)))


def forbidden_tactic(text: str) -> str | None:
    """The first forbidden tactic named in `text`, or None. Matches whole words only, so
    `sorry_lemma` or `h_admit` do not trip it but `exact?` and `simp; sorry` do."""
    m = _FORBIDDEN_RE.search(text)
    return m.group(1) if m else None
