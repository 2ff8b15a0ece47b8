"""What a proof may not contain, read token by token: shared by the search (drop a tactic before
sending it), the pool and LeanDojo backends (refuse it), and whole-proof verification.

Everything here works on `lean_env.lexer` tokens, never on raw text: comments and string
literals are not code (`-- sorry` and `"sorry"` are harmless), `so/- -/rry` is two identifiers,
`«sorry»` is the name `sorry`, and text Lean's own tokenizer refuses is refused here too. So
nothing can be hidden from these checks across lines, inside comments or with unusual spacing.
"""
from __future__ import annotations

import functools

import unicodedata
from dataclasses import dataclass

from lean_env.lexer import IDENT, NUM, SYMBOL, LexError, Token, code_tokens

# `#print axioms` may list only these for a proof to count.
ALLOWED_AXIOMS: frozenset[str] = frozenset({"propext", "Classical.choice", "Quot.sound"})

# Each class of refusal, with the words that put a proof in it. The class name leads the reason.
SORRY = "sorry"                          # closes goals with `sorryAx` (or does when it fails)
COMPILER = "trusts the compiler"         # `Lean.ofReduceBool`: the compiler's output taken as proof
METAPROGRAMMING = "metaprogramming"      # adds declarations or bypasses elaboration
DECLARATION = "declaration"              # a new constant: a proof may not bring its own axioms
COMMAND = "top-level command"            # ends the `by` block and changes the environment
TERMINATION = "termination trick"        # well-founded recursion clauses on the theorem itself
SET_OPTION = "set_option"
UNICODE = "unicode look-alike"
LEXICAL = "lexical error"

_WORDS: dict[str, str] = {}
for _cls, _words in (
    (SORRY, ("sorry", "admit", "stop", "exact?", "apply?", "rw?", "sorryAx")),   # `stop` admits the rest
    (COMPILER, ("native_decide", "native", "ofReduceBool", "trustCompiler", "implemented_by", "extern")),
    (METAPROGRAMMING, ("run_tac", "run_cmd", "run_elab", "run_meta", "by_elab", "elab", "elab_rules",
                       "macro", "macro_rules", "syntax", "declare_syntax_cat", "notation", "infix", "infixl",
                       "infixr", "prefix", "postfix", "initialize", "builtin_initialize", "unsafe", "partial",
                       "simproc", "dsimproc")),
    (DECLARATION, ("axiom", "axioms", "opaque", "constant", "theorem", "lemma", "def", "example", "instance",
                   "abbrev", "structure", "inductive", "class", "mutual", "deriving", "where")),
    (COMMAND, ("import", "namespace", "section", "end", "variable", "universe", "attribute", "local",
               "scoped", "export", "noncomputable", "private", "protected", "omit", "include")),
    (TERMINATION, ("termination_by", "termination_by?", "decreasing_by")),
):
    for _w in _words:
        _WORDS[_w] = _cls

# `set_option NAME VALUE in tac` inside a proof, for these names only: resource limits, nothing
# that changes what counts as a proof (never `debug.*`, e.g. `debug.skipKernelTC`).
ALLOWED_OPTIONS: frozenset[str] = frozenset(
    {"maxHeartbeats", "maxRecDepth", "synthInstance.maxHeartbeats", "synthInstance.maxSize"})

# Characters Lean would either reject or that make text read differently than it parses:
# format controls (zero-width, bidi overrides), non-ASCII spaces, private-use and unassigned ones,
# and letters that imitate Latin ones (Cyrillic `ѕ`, fullwidth `ｓ`).
_SUSPICIOUS_CATEGORIES = {"Cf", "Co", "Cn", "Cs", "Zs", "Zl", "Zp", "Cc"}


@dataclass(frozen=True)
class Finding:
    """One reason to refuse: its class, the offending text and where it starts in the text."""

    cls: str
    text: str
    line: int = 0
    column: int = 0

    def reason(self) -> str:
        where = f" at line {self.line}, column {self.column}" if self.line else ""
        return f"{self.cls}: {self.text}{where}"


def _suspicious_char(text: str) -> Finding | None:
    line, col = 1, 0
    for c in text:
        if c == "\n":
            line, col = line + 1, 0
            continue
        if c != " " and (unicodedata.category(c) in _SUSPICIOUS_CATEGORIES or any(w in unicodedata.name(c, "") for w in ("CYRILLIC", "FULLWIDTH"))):
            return Finding(UNICODE, f"character U+{ord(c):04X} {unicodedata.name(c, '(unnamed)')!s}", line, col)
        col += 1
    return None


def scan(text: str) -> list[Finding]:
    """Every reason to refuse tactic text, in order of appearance (empty: nothing found)."""
    odd = _suspicious_char(text)
    findings = [odd] if odd else []
    try:
        toks = code_tokens(text)
    except LexError as e:
        return findings + [Finding(LEXICAL, e.message, e.line, e.column)]
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == SYMBOL and (t.text.startswith("#") and len(t.text) > 1 and t.text not in ("#[",)):
            cls = METAPROGRAMMING if t.text.startswith("#eval") else COMMAND   # `#exit` would skip the check
            findings.append(Finding(cls, f"`{t.text}`", t.line, t.column))
        elif t.kind == SYMBOL and t.text == "@[":
            findings.append(Finding(DECLARATION, "attribute `@[...]`", t.line, t.column))
        elif t.kind == IDENT and t.text == "set_option":
            bad, i = _set_option(toks, i)
            if bad:
                findings.append(bad)
            continue
        elif t.kind == IDENT and t.text == "open":
            bad, i = _open_in(toks, i)
            if bad:
                findings.append(bad)
            continue
        elif t.kind == IDENT:
            parts = t.name.split(".")
            cls = _WORDS.get(t.name)
            if cls is None and len(parts) > 1 and parts[0] == "Lean":
                # the meta-level API (`Lean.Elab...`, `Lean.ofReduceBool`) has no place in a proof
                cls = _WORDS.get(parts[-1], METAPROGRAMMING)
            if cls:
                findings.append(Finding(cls, f"`{t.name}`", t.line, t.column))
        i += 1
    return findings


def _set_option(toks: list[Token], i: int) -> tuple[Finding | None, int]:
    """`set_option NAME VALUE in` with NAME allowed and a numeral VALUE; the tactic after `in` is
    scanned like any other text. Returns the finding (if any) and the index to continue from."""
    t = toks[i]
    name = toks[i + 1] if i + 1 < len(toks) else None
    val = toks[i + 2] if i + 2 < len(toks) else None
    kw = toks[i + 3] if i + 3 < len(toks) else None
    if name is None or name.kind != IDENT:
        return Finding(SET_OPTION, "`set_option` without an option name", t.line, t.column), i + 1
    if kw is None or kw.text != "in":
        return Finding(COMMAND, f"`set_option {name.text}` as a command (only `set_option ... in tac`)", t.line, t.column), i + 2
    if name.name not in ALLOWED_OPTIONS:
        return Finding(SET_OPTION, f"option `{name.name}` is not allowed in a proof (allowed: "
                       f"{', '.join(sorted(ALLOWED_OPTIONS))})", t.line, t.column), i + 4
    if val is None or val.kind != NUM:
        return Finding(SET_OPTION, f"option `{name.name}` needs a numeral value", t.line, t.column), i + 4
    return None, i + 4


def _open_in(toks: list[Token], i: int) -> tuple[Finding | None, int]:
    """`open A B in tac` (namespaces only) is a tactic combinator; any other `open` is a command."""
    t, j = toks[i], i + 1
    while j < len(toks) and toks[j].kind == IDENT and toks[j].text != "in" and toks[j].name not in _WORDS:
        j += 1
    if j == i + 1 or j >= len(toks) or toks[j].text != "in":
        return Finding(COMMAND, "`open` as a command (only `open Ns in tac`)", t.line, t.column), j
    return None, j + 1


@functools.lru_cache(maxsize=1 << 16)
def forbidden_tactic(text: str) -> str | None:
    """What the first refusal found in a single tactic, or None: `sorry`, `native_decide`,
    `#eval`... Whole words only, so `sorry_lemma` or `h_admit` pass, `simp; sorry` does not."""
    found = scan(text)
    return found[0].text.strip("`") if found else None
