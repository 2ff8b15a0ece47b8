"""Tactic text: cutting a script into tactic blocks (Lean's layout rule, `;`), splitting on
separators outside brackets, and parsing the pieces tactics take (terms, name lists, `at h`,
`[rules]`, `| tag names => tac` alternatives)."""
from __future__ import annotations

import re

from lean_env.embedded.goals import TacticError
from lean_env.lexer import IDENT, LexError, code_tokens
from lean_env.embedded.parser import ParseError, parse_term
from lean_env.embedded.terms import Term


class TacticSyntaxError(TacticError):
    """The text does not parse as tactics (reported by the REPL as a top-level `message`)."""


def matching_close(text: str, i: int) -> int:
    pairs = {"(": ")", "[": "]", "⟨": "⟩", "{": "}"}
    depth, want = 0, []
    for j in range(i, len(text)):
        c = text[j]
        if c in pairs:
            want.append(pairs[c])
            depth += 1
        elif want and c == want[-1]:
            want.pop()
            depth -= 1
            if depth == 0:
                return j
    return -1


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c in "_'!?.₀₁₂₃₄₅₆₇₈₉✝"


def starts_by(text: str, i: int) -> bool:
    """Whether the keyword `by` (not part of a longer name) starts at `text[i]`."""
    return (text.startswith("by", i) and (i == 0 or not _is_ident_char(text[i - 1]))
            and (i + 2 == len(text) or not _is_ident_char(text[i + 2])))


def split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside brackets and quotes. A nested `by` outside brackets takes the rest
    of the text as its tactic sequence (`have h : p := by simp; ring` runs both inside the `by`),
    so the tactic separators `;` and `<;>` are not split after it."""
    out, depth, start, i, quote = [], 0, 0, 0, False
    while i < len(text):
        c = text[i]
        if c == '"':
            quote = not quote
        elif not quote and c in "([⟨{":
            depth += 1
        elif not quote and c in ")]⟩}":
            depth -= 1
        elif not quote and depth == 0 and sep in (";", "<;>") and starts_by(text, i):
            break
        elif not quote and depth == 0 and sep == ";" and _starts_sequence(text, start, i):
            break   # `| alt => a; b`, `case h => a; b`: the rest is that tactic's own sequence
        elif not quote and depth == 0 and text.startswith(sep, i):
            if sep == "|" and (text.startswith("|>", i) or text.startswith("||", i)):
                pass
            elif sep == ";" and text.startswith("<;>", i - 1):
                pass  # the `;` inside `<;>` is not a sequence separator
            else:
                out.append(text[start:i])
                start = i + len(sep)
                i += len(sep)
                continue
        i += 1
    out.append(text[start:])
    return out


def _starts_sequence(text: str, start: int, i: int) -> bool:
    """Whether a tactic sequence that runs to the end begins at `text[i]`: an alternative
    `| tag names =>`, or the `=>` of a `case`/`next`/`on_goal` that the segment opens with."""
    if text[i] == "|":
        return _ALT_RE.match(text, i) is not None
    return text.startswith("=>", i) and text[start:i].lstrip().startswith(("case ", "next", "on_goal "))


def split_tactics(text: str) -> list[str]:
    """Top-level tactic blocks of a script: one per line (more-indented lines continue the block
    above, as Lean's layout rule says), then `;` within a line."""
    lines = [l for l in text.replace("\t", "  ").split("\n") if l.strip() and not l.strip().startswith("--")]
    if not lines:
        return []
    base = min(len(l) - len(l.lstrip()) for l in lines)
    blocks: list[str] = []
    depth = 0   # brackets open at the end of the line above: a term that goes on
    for line in lines:
        indent = len(line) - len(line.lstrip())
        body = line.lstrip()
        # a more-indented line, `| alt =>`, a line starting with `<;>` or after one ending with
        # it, a line inside open brackets, and a `calc` step `_ = ..` continue the tactic above
        continues = blocks and (indent > base or depth > 0 or body.startswith(("| ", "<;>", "_ "))
                                or blocks[-1].rstrip().endswith(("<;>", "calc")))
        if continues:
            blocks[-1] += "\n" + line[base:]
        else:
            blocks.append(line[base:])
        depth = max(0, depth + _depth_change(line))
    out: list[str] = []
    for b in blocks:
        if b.lstrip().startswith("·") or b.lstrip().startswith(". "):
            out.append(b)  # a focus block keeps its own layout
        elif "\n" in b:   # a multi-line tactic keeps its layout; `;` on its first line still separates
            *firsts, last = split_top(b, ";")
            out.extend(p.strip() for p in firsts if p.strip())
            out.append(last if not firsts else last.lstrip(" "))
        else:
            out.extend(p for p in (s.strip() for s in split_top(b, ";")) if p)
    return out


# Named arguments a tactic may take before its other arguments (`linarith (config := {splitNe :=
# true})`, `field_simp (discharger := ..)`, `simp (config := .arith)`), and what the kernel does with
# each config field: an option Lean uses to make the tactic *stronger* (or that changes nothing
# the kernel computes) is ignored, since the kernel's tactic is then at most as strong as Lean's;
# one that makes Lean's tactic weaker (`splitHypotheses := false`, a custom discharger) cannot be
# ignored without accepting what Lean rejects, so it is refused with a clear error.
_NAMED_OPTION = re.compile(r"\(\s*(config|discharger|disch)\s*:=")
IGNORED_CONFIG = {
    "decide": {"true", "false"},         # true: Lean decides more (weaker here); false: the default
    "splitNe": {"true"},                 # linarith case-splits `≠` hypotheses
    "oracle": None,                      # linarith's search procedure: same answers, any value
    "splitHypotheses": {"true"},         # linarith's default
    "exfalso": {"true"},                 # linarith's default
    "splitDisjunctions": {"true"},       # omega's defaults
    "splitNatSub": {"true"},
    "splitNatAbs": {"true"},
    "splitMinMax": {"true"},
    "zeta": {"true"}, "beta": {"true"}, "eta": {"true"}, "iota": {"true"}, "proj": {"true"},
}   # not `maxSteps`: `field_simp (config := {maxSteps := 0})` fails in Lean


def split_options(rest: str) -> tuple[str, list[tuple[str, str]]]:
    """Take the named options off a tactic's arguments: `(config := {a := 1, b := true}) [h]` ->
    ("[h]", [("a", "1"), ("b", "true")]); a discharger is ("discharger", its text). They come
    first in Lean's syntax (after `only` for simp: `simp only (config := c) [..]` is not Lean)."""
    options: list[tuple[str, str]] = []
    text = rest.strip()
    while True:
        m = _NAMED_OPTION.match(text)
        if not m:
            return text, options
        close = matching_close(text, 0)
        if close < 0:
            raise TacticSyntaxError("<input>:1:0: unexpected end of input; expected ')'")
        value = text[m.end():close].strip()
        if m.group(1) == "config":
            options.extend(_config_fields(value))
        else:
            options.append(("discharger", value))
        text = text[close + 1:].strip()


def _config_fields(value: str) -> list[tuple[str, str]]:
    """`{ a := 1, b := true }` -> [("a", "1"), ("b", "true")]; `{}` -> []; `.arith` -> [(".arith", "")]."""
    if not (value.startswith("{") and value.endswith("}")):
        return [(value, "")]
    fields = []
    for part in split_top(value[1:-1], ","):
        if not part.strip():
            continue
        key, _, val = part.partition(":=")
        fields.append((key.strip(), " ".join(val.split())))
    return fields


def refused_option(options: list[tuple[str, str]]) -> str | None:
    """The first option the kernel cannot ignore without being stronger than Lean (None if all can)."""
    for key, val in options:
        allowed = IGNORED_CONFIG.get(key, ())
        if key == "discharger" or allowed == () or (allowed is not None and val not in allowed):
            return f"{key} := {val}" if val else key
    return None


def goal_locations(rest: str) -> tuple[str, list[str], bool, bool] | None:
    """`args at h₁ h₂ ⊢` -> (args, [h₁, h₂], True (the goal too), False); `args at *` -> (args, [],
    True, True). None when there is no `at` clause naming the goal or `*`."""
    body, where = at_clause(rest)
    if not where or not ("⊢" in where or "*" in where):
        return None
    if where == ["*"]:
        return body, [], True, True
    if "*" in where:
        raise TacticSyntaxError("<input>:1:0: unexpected token '*'; expected term")
    return body, [w for w in where if w != "⊢"], True, False


def dedent_block(text: str) -> str:
    """A nested tactic block laid out from column 0. When it starts on a line of its own (`text`
    begins with a newline: `by\n    calc\n      a = b := ..`), its first line keeps its column and
    all lines move left together. When its first tactic follows the keyword on the same line (its
    column is lost), the other lines move left to the column of the leftmost of them."""
    if text.startswith("\n") or (text.startswith(" ") and text.lstrip(" ").startswith("\n")):
        lines = [l for l in text.split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        ind = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
        return "\n".join(l[ind:] for l in lines).rstrip()
    lines = text.split("\n")
    first, rest = lines[0], lines[1:]
    if not rest:
        return first
    ind = min((len(l) - len(l.lstrip()) for l in rest if l.strip()), default=0)
    return "\n".join([first] + [l[ind:] for l in rest])


def term(text: str) -> Term:
    try:
        return parse_term(text.strip())
    except ParseError as e:
        raise TacticSyntaxError(f"<input>:1:{e.pos}: {e.message}") from e


def names_list(text: str) -> list[str]:
    return [n for n in text.split() if n]


# Words that lex as identifiers but are tokens of Lean's grammar (keywords), so its `ident` and
# `binderIdent` parsers refuse them: `with`, `at`, `generalizing`, `using` are the tokens of the
# tactics that take name lists; the rest are term and command keywords.
KEYWORDS = frozenset({
    "with", "at", "generalizing", "using", "fun", "λ", "by", "have", "show", "from", "then", "else",
    "if", "let", "in", "do", "match", "end", "where", "calc", "suffices", "obtain", "sorry",
    "theorem", "lemma", "example", "def", "Type", "Sort", "Prop", "forall", "exists",
})


def is_binder_ident(word: str) -> bool:
    """Whether `word` is what Lean's `binderIdent` parser reads: one identifier (no keyword) or `_`."""
    try:
        toks = code_tokens(word)
    except LexError:
        return False
    return len(toks) == 1 and toks[0].kind == IDENT and toks[0].text == word and word not in KEYWORDS


def binder_names(text: str) -> list[str]:
    """A `binderIdent+` list (`induction' n with k ih`, `cases' h with a b`, `rename_i x y`); any
    other token (`40)`, a second `with`) is Lean's parse error."""
    names = names_list(text)
    for n in names:
        if not is_binder_ident(n):
            raise TacticSyntaxError(f"<input>:1:0: unexpected token '{_first_token(n)}'; expected identifier or '_'")
    return names


def _first_token(word: str) -> str:
    try:
        return next((t.text for t in code_tokens(word)), word)
    except LexError:
        return word


def at_clause(rest: str) -> tuple[str, list[str] | None]:
    """Split `... at h h'` (or `at *`) off a tactic's arguments."""
    m = re.search(r"(?:^|\s)at\s+(.+)$", rest)
    if not m:
        return rest, None
    return rest[: m.start()].strip(), m.group(1).split()


def split_patterns(text: str) -> list[str]:
    """Split binder patterns at spaces outside brackets: `x ⟨a, b⟩ (h : p)` -> three."""
    out, depth, cur = [], 0, ""
    for c in text.strip():
        if c in "(⟨[{":
            depth += 1
        elif c in ")⟩]}":
            depth -= 1
        if c.isspace() and depth == 0:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += c
    return out + ([cur] if cur else [])


def parse_fun(text: str) -> tuple[list[str], str] | None:
    """`fun x ⟨a, b⟩ (h : p) => body` (or `λ`, `↦`) as (binder patterns, body); None if `text`
    is not a `fun` term. Parentheses around the whole term are dropped."""
    t = text.strip()
    while t.startswith("(") and matching_close(t, 0) == len(t) - 1:
        t = t[1:-1].strip()
    if t.startswith("λ"):
        t = "fun" + t[1:]
    if not (t.startswith("fun") and len(t) > 3 and not _is_ident_char(t[3])):
        return None
    depth = 0
    for i in range(3, len(t)):
        c = t[i]
        if c in "([⟨{":
            depth += 1
        elif c in ")]⟩}":
            depth -= 1
        elif depth == 0 and (t.startswith("=>", i) or c == "↦"):
            binders = split_patterns(t[3:i])
            if not binders:
                raise TacticSyntaxError("<input>:1:3: expected binder")
            return binders, t[i + (1 if c == "↦" else 2):].strip()
    raise TacticSyntaxError("<input>:1:0: unexpected end of input; expected '↦', '=>'")


def bracket_list(rest: str) -> list[str]:
    """`[a, b, c]` -> ["a", "b", "c"]; no list -> []. Text after the list is a syntax error, as
    in Lean (`rw [h] norm_num` must not silently drop `norm_num`)."""
    rest = rest.strip()
    if not rest:
        return []
    if not rest.startswith("["):
        raise TacticSyntaxError(f"<input>:1:0: unexpected token '{rest.split()[0]}'; expected '['")
    close = matching_close(rest, 0)
    if close < 0:
        raise TacticSyntaxError("<input>:1:0: unexpected end of input; expected ']'")
    tail = rest[close + 1 :].strip()
    if tail:
        raise TacticSyntaxError(f"<input>:1:{close + 1}: unexpected token '{tail.split()[0]}'; expected command")
    return [s.strip() for s in split_top(rest[1:close], ",") if s.strip()]


_ALT_RE = re.compile(r"\|\s*([\w'.]+)((?:\s+[\w'₀-₉✝]+)*)\s*=>")


def parse_alternatives(text: str) -> dict[str, tuple[list[str], str]]:
    """`| zero => tac | succ n ih => tac` (inline or one per line) as {tag: (names, tactic text)}."""
    starts = _own_alternatives(text, [m for m in _ALT_RE.finditer(text) if _depth_at(text, m.start()) == 0])
    if not starts or text[: starts[0].start()].strip():
        raise TacticSyntaxError("<input>:1:0: unexpected token; expected '|'")
    alts: dict[str, tuple[list[str], str]] = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[m.end():end].rstrip()
        alts[m.group(1)] = (m.group(2).split(), dedent_block(body.lstrip(" ") if body.strip() else ""))
    return alts


def _line_start_column(text: str, pos: int) -> int | None:
    """The column of `text[pos]` when it is the first thing on its line (not the text's first
    line, which continues the tactic's head), else None."""
    line_start = text.rfind("\n", 0, pos) + 1
    return pos - line_start if line_start and not text[line_start:pos].strip() else None


def _own_alternatives(text: str, matches: list) -> list:
    """The alternatives of this tactic, not of one nested in them (`| succ n ih =>` followed by a
    `have .. := by induction n with | zero => ..` further in): by Lean's layout, ours are the
    ones on the first alternative's line and those starting a line at the column where the first
    line-initial one stands."""
    if not matches:
        return matches
    first_line_end = text.find("\n", matches[0].start())
    first_line_end = len(text) if first_line_end < 0 else first_line_end
    own, col = [], None
    for m in matches:
        c = _line_start_column(text, m.start())
        if m.start() < first_line_end and (c is None or not own):
            own.append(m)
            col = c if col is None else col
        elif c is not None and (col is None or c == col):
            col = c
            own.append(m)
    return own


def _depth_change(line: str) -> int:
    """Brackets opened minus closed on a line (outside string literals)."""
    depth, quote = 0, False
    for c in line:
        if c == '"':
            quote = not quote
        elif not quote and c in "([⟨{":
            depth += 1
        elif not quote and c in ")]⟩}":
            depth -= 1
    return depth


def _depth_at(text: str, pos: int) -> int:
    depth = 0
    for c in text[:pos]:
        if c in "([⟨{":
            depth += 1
        elif c in ")]⟩}":
            depth -= 1
    return depth
