"""Extract the conformance items from Lean's and Mathlib's own test files.

Each `example`/`theorem`/`lemma` of a test file becomes an item with the outcome Lean gives it,
read from the file itself (the files are checked by Lean's and Mathlib's CI, so they are an
oracle neither this project nor its reviewers wrote):

- a declaration under `#guard_msgs in` whose expected-message doc comment holds an `error:`: reject;
- every other declaration: accept (a test file that fails to build fails Lean's/Mathlib's CI);
- each top-level `fail_if_success TAC` of an accepted proof: also a reject item, the proof's
  tactics before it (less the other `fail_if_success` lines, which are no-ops) followed by TAC;
  `fail_if_success` succeeds only when TAC fails there, so that proof fails in Lean.

An item depends on nothing this script decides about the embedded kernel: whether its statement
starts in the fragment is found when the suite runs (`lean_env.embedded.conformance`). Items that
mention a name the file itself declares (`def`, `axiom`, an earlier `theorem`, `variable`) are
marked `context` and not run: they cannot be checked without the rest of the file.

The test files are read from a local copy (`--cache`, laid out as `<owner>/<name>/<path>`), fetched
with the project's search tools at the commits in data/conformance/sources.json; they are not
committed. Usage:

    python scripts/extract_lean_tests.py --cache /tmp/lean_tests_cache --out data/conformance/items.jsonl
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from lean_env.lexer import COMMENT, IDENT, Token, tokenize

SOURCES = Path(__file__).resolve().parent.parent / "data" / "conformance" / "sources.json"

# Tokens that start a command when they are first on a line at column 0.
_COMMAND_WORDS = frozenset({
    "example", "theorem", "lemma", "def", "abbrev", "instance", "axiom", "opaque", "structure", "inductive",
    "class", "section", "namespace", "end", "variable", "open", "set_option", "universe", "noncomputable",
    "private", "protected", "attribute", "macro", "macro_rules", "syntax", "elab", "elab_rules", "local",
    "scoped", "notation", "infix", "infixl", "infixr", "prefix", "postfix", "import", "mutual", "deriving",
    "run_cmd", "unsafe", "partial", "@[", "register_simp_attr", "irreducible_def", "alias", "assert_not_exists",
    "initialize", "declare_syntax_cat", "add_decl_doc", "suppress_compilation", "omit", "include",
})
_DECLS = ("example", "theorem", "lemma")
_DECLARES = ("def", "abbrev", "axiom", "opaque", "theorem", "lemma", "instance", "structure", "inductive",
             "class", "irreducible_def", "alias")
_OPEN = {"(": ")", "[": "]", "{": "}", "⟨": "⟩", "@[": "]", "#[": "]", "%[": "]", "⦃": "⦄"}
_CLOSE = frozenset(_OPEN.values())


@dataclass
class Item:
    id: str            # "<file>:<line>" (+ "/fail_if_success@<line>" for a derived reject item)
    file: str          # the test file's short name ("linarith", "omega", ...)
    repo: str
    path: str
    commit: str
    licence: str
    line: int          # line of the declaration keyword in the source file (1-based)
    text: str          # the command as it is run: `open`/`set_option ... in` prefixes, declaration, proof
    statement: str     # the same command up to its `:=` (the statement, to test whether it starts)
    preamble: str      # the file-level `open` commands in force at the item
    expected: str      # "accept" or "reject"
    why: str           # where the expectation comes from
    context: str = ""  # a name the file declares that the item uses ("" if none): not runnable alone


def _is_doc(tok: Token) -> bool:
    """A declaration's doc comment `/-- -/` (not a module doc `/-! -/`)."""
    return tok.kind == COMMENT and tok.text.startswith("/--")


def _is_command_start(tok: Token, prev: Token | None) -> bool:
    if tok.column != 0 or (prev is not None and prev.end_line == tok.line):
        return False
    return tok.text in _COMMAND_WORDS or tok.text.startswith("#") or (tok.kind == COMMENT and tok.doc)


def split_commands(tokens: list[Token]) -> list[list[Token]]:
    """Commands of a file: each starts at a column-0 command word, `#command`, or doc comment; a
    doc comment and the command it documents are one, and so are `#guard_msgs in` /
    `set_option .. in` / `open .. in` and the command they apply to."""
    out: list[list[Token]] = []
    prev = None
    for tok in tokens:
        if tok.kind == COMMENT and not tok.doc:
            continue
        continues = out and (out[-1][-1].text == "in" or _is_doc(out[-1][-1]))
        if _is_command_start(tok, prev) and not continues:
            out.append([tok])
        elif out:
            out[-1].append(tok)
        prev = tok
    return out


def _depth_change(tok: Token) -> int:
    return 1 if tok.text in _OPEN else -1 if tok.text in _CLOSE else 0


def _top_level(toks: list[Token], text: str, start: int = 0) -> int | None:
    depth = 0
    for i in range(start, len(toks)):
        if depth == 0 and toks[i].text == text:
            return i
        depth += _depth_change(toks[i])
    return None


def _guard_expectation(toks: list[Token]) -> tuple[str, str, int] | None:
    """For `[/-- msgs -/] #guard_msgs [(spec)] in DECL`: (expected, why, index of DECL's first
    token); None if `toks` is not a guarded command or its spec hides errors (no expectation)."""
    i, doc = 0, ""
    if toks[0].kind == COMMENT:
        doc, i = toks[0].text, 1
    if i >= len(toks) or toks[i].text != "#guard_msgs":
        return None
    j = _top_level(toks, "in", i)
    if j is None:
        return None
    spec = " ".join(t.text for t in toks[i + 1:j])
    if re.search(r"drop\s+(error|all)|\berror\b.*\bdrop\b", spec):
        return None
    has_error = bool(re.search(r"(^|\n|/--\s*)error:", doc))
    return ("reject", "#guard_msgs expects an error", j + 1) if has_error else ("accept", "#guard_msgs expects no error", j + 1)


def _tactics(toks: list[Token]) -> list[list[Token]]:
    """The top-level tactics of a `by` block (`toks` after `by`): Lean's layout rule (the first
    tactic's column; a line starting there starts a tactic) and `;` at bracket depth 0."""
    if not toks:
        return []
    col = toks[0].column
    out: list[list[Token]] = [[toks[0]]]
    depth = _depth_change(toks[0])
    for prev, tok in zip(toks, toks[1:]):
        if depth == 0 and tok.text == ";":
            out.append([])
            continue
        new_line = tok.line > prev.end_line
        if depth == 0 and (not out[-1] or (new_line and tok.column <= col)):
            if out[-1]:
                out.append([])
        out[-1].append(tok)
        depth += _depth_change(tok)
    return [t for t in out if t]


def _unwrap(tac: list[Token]) -> list[Token]:
    """`( tac )` -> `tac` (a parenthesised tactic sequence of one tactic)."""
    while len(tac) > 2 and tac[0].text == "(" and tac[-1].text == ")" and _top_level(tac, ")", 1) == len(tac) - 1:
        tac = tac[1:-1]
    return tac


def _place(text: str, toks: list[Token], col: int) -> str:
    """The source of `toks` laid out to start at column `col` (continuation lines keep their
    indentation relative to the first token's line)."""
    src = text[toks[0].start:toks[-1].end]
    shift = toks[0].column - col
    lines = src.split("\n")
    if shift > 0:
        lines = [lines[0]] + [l[shift:] if l[:shift].strip() == "" else l.lstrip() for l in lines[1:]]
    return " " * col + "\n".join(lines)


def _fail_if_success_items(text: str, decl: list[Token], by_index: int) -> list[tuple[int, str]]:
    """(line of the `fail_if_success`, the reject proof text after `by`) for each top-level
    `fail_if_success TAC` of the `by` block starting at decl[by_index]."""
    tactics = _tactics(decl[by_index + 1:])
    if not tactics:
        return []
    col = 2
    out = []
    kept: list[str] = []
    for tac in tactics:
        inner = _unwrap(tac)
        if inner[0].kind == IDENT and inner[0].text == "fail_if_success":
            body = inner[1:]
            if body:
                out.append((inner[0].line, "\n".join(kept + [_place(text, body, col)])))
            continue
        kept.append(_place(text, tac, col))
    return out


@dataclass(frozen=True)
class _Binder:
    """One binder group of a `variable` command, as text (`(a b : ℚ)`), with its names and the
    identifiers its type mentions (an instance binder `[Field α]` has no names)."""

    text: str
    names: tuple[str, ...]
    mentions: frozenset[str]
    bracket: str


def _binder_groups(text: str, toks: list[Token]) -> list[_Binder]:
    out, i = [], 0
    while i < len(toks):
        if toks[i].text not in ("(", "{", "[", "⦃", "{{"):
            i += 1
            continue
        depth, j = 0, i
        while j < len(toks):
            depth += _depth_change(toks[j])
            if depth == 0:
                break
            j += 1
        group = toks[i:j + 1]
        colon = _top_level(group[1:-1], ":")
        inner = group[1:-1]
        names = tuple(t.text for t in inner[:colon]) if colon is not None and toks[i].text != "[" else ()
        rest = inner[colon + 1:] if colon is not None else inner
        out.append(_Binder(text[group[0].start:group[-1].end], names,
                           frozenset(t.text for t in rest if t.kind == IDENT), toks[i].text))
        i = j + 1
    return out


def _included(mentioned: set[str], groups: list[_Binder]) -> list[_Binder]:
    """The variable binders a declaration mentioning `mentioned` gets (Lean's rule: the variables
    its statement uses, the ones their types use, and the instance binders about them), each
    group cut down to the names used."""
    used: set[str] = set()
    changed = True
    while changed:
        changed = False
        for g in groups:
            new = {n for n in g.names if n in mentioned or n in used} - used
            if new:
                used |= new
                mentioned = mentioned | g.mentions
                changed = True
    out = []
    for g in groups:
        if g.names:
            keep = [n for n in g.names if n in used]
            if keep:
                body = g.text[1:-1].split(":", 1)[1]
                close = {"(": ")", "{": "}", "⦃": "⦄", "{{": "}}"}[g.bracket]
                out.append(_Binder(f"{g.bracket}{' '.join(keep)} :{body}{close}", tuple(keep), g.mentions, g.bracket))
        elif g.bracket == "[" and g.mentions & used:
            out.append(g)
    return out


def _binder_names(signature: str) -> set[str]:
    names: set[str] = set()
    for m in re.finditer(r"[({⦃\[]\s*([^:(){}\[\]⦃⦄]*?)\s*:", signature):
        names.update(m.group(1).split())
    for m in re.finditer(r"[∀∃λ]\s*([^,:]*?)\s*[,:]", signature):
        names.update(m.group(1).replace("(", " ").replace(")", " ").split())
    return names


def extract_file(text: str, source: dict) -> list[Item]:
    tokens = tokenize(text)
    items: list[Item] = []
    # (section name, opens, declared names, `variable` binder groups)
    scopes: list[tuple[str, list[str], set[str], list[_Binder]]] = [("", [], set(), [])]
    file = source["name"]
    for cmd in split_commands(tokens):
        head = cmd[0] if cmd[0].kind != COMMENT else (cmd[1] if len(cmd) > 1 else cmd[0])
        if head.text in ("section", "namespace"):
            name = cmd[cmd.index(head) + 1].text if len(cmd) > cmd.index(head) + 1 else ""
            scopes.append((name, [], set(), []))
            continue
        if head.text == "end":
            if len(scopes) > 1:
                scopes.pop()
            continue
        if head.text == "open" and _top_level(cmd, "in") is None:
            scopes[-1][1].append(text[head.start:cmd[-1].end])
            continue
        if head.text == "variable":
            scopes[-1][3].extend(_binder_groups(text, cmd[cmd.index(head) + 1:]))
            continue
        guard = _guard_expectation(cmd)
        start = guard[2] if guard else (1 if cmd[0].kind == COMMENT else 0)
        body = cmd[start:]
        # `set_option .. in` / `open .. in` prefixes and modifiers stay with the declaration
        k = 0
        while k < len(body) and body[k].text in ("set_option", "open", "private", "protected", "noncomputable",
                                                  "@[", "/--") or (k < len(body) and body[k].kind == COMMENT):
            if body[k].text in ("set_option", "open"):
                j = _top_level(body, "in", k)
                if j is None:
                    break
                k = j + 1
            elif body[k].text == "@[":
                depth = 0
                while k < len(body):
                    depth += _depth_change(body[k])
                    k += 1
                    if depth == 0:
                        break
            else:
                k += 1
        if k >= len(body):
            continue
        kw = body[k]
        declared = set().union(*(s[2] for s in scopes))
        if kw.text in _DECLARES and kw.text not in ("theorem", "lemma") and k + 1 < len(body):
            scopes[-1][2].add(body[k + 1].text.split(".")[-1])
            scopes[-1][2].add(body[k + 1].text)
        if kw.text not in _DECLS:
            continue
        if kw.text != "example" and k + 1 < len(body):
            scopes[-1][2].add(body[k + 1].text)
        assign = _top_level(body, ":=", k)
        if assign is None or assign + 1 >= len(body):
            continue
        # the section's `variable`s the statement mentions become binders of the declaration, as Lean
        # includes them (with the instance binders about them)
        at = body[k + 1] if kw.text == "example" else body[k + 2]
        sig_names = {t.text for t in body[k + 1:assign] if t.kind == IDENT}
        extra = _included(sig_names, [g for s in scopes for g in s[3]])
        head_text = text[body[0].start:at.start] + "".join(g.text + " " for g in extra)
        decl_text = head_text + text[at.start:body[-1].end]
        statement = head_text + text[at.start:body[assign].start].rstrip()
        binders = _binder_names(text[kw.start:body[assign].start])
        used = {t.text for t in body[k + 1:] if t.kind == IDENT}
        own = body[k + 1].text if kw.text != "example" else ""
        context = sorted(n for n in declared if n in used and n not in binders and n != own)
        preamble = "\n".join(o for s in scopes for o in s[1])
        if guard:
            expected, why = guard[0], guard[1]
        else:
            expected, why = "accept", "no error in a test file Lean's/Mathlib's CI builds"
        base = dict(file=file, repo=source["repo"], path=source["path"], commit=source["commit"],
                    licence=source["licence"], preamble=preamble, context=context[0] if context else "")
        if extra:
            why += "; the section's `variable`s it mentions are its binders, as Lean includes them"
        items.append(Item(id=f"{file}:{kw.line}", line=kw.line, text=decl_text, statement=statement,
                          expected=expected, why=why, **base))
        if expected == "accept" and body[assign + 1].text == "by":
            prefix = head_text + text[at.start:body[assign + 1].end]
            for line, proof in _fail_if_success_items(text, body, assign + 1):
                items.append(Item(id=f"{file}:{kw.line}/fail_if_success@{line}", line=kw.line,
                                  text=prefix + "\n" + proof, statement=statement, expected="reject",
                                  why=f"`fail_if_success` at line {line}: the tactic fails there", **base))
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", required=True, help="folder with the fetched test files (<owner>/<name>/<path>)")
    ap.add_argument("--out", default="data/conformance/items.jsonl")
    ap.add_argument("--sources", default=str(SOURCES))
    args = ap.parse_args(argv)
    sources = json.loads(Path(args.sources).read_text(encoding="utf-8"))
    items: list[Item] = []
    for src in sources:
        path = Path(args.cache) / src["repo"] / src["path"]
        if not path.exists():
            print(f"missing {path}: fetch {src['repo']} {src['path']} at {src['commit']} first", file=sys.stderr)
            return 1
        got = extract_file(path.read_text(encoding="utf-8"), src)
        items.extend(got)
        print(f"{src['name']:<20} {len(got):>4} items  ({src['repo']}:{src['path']}@{src['commit'][:12]})")
    with open(args.out, "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(asdict(it), ensure_ascii=False) + "\n")
    print(f"{len(items)} items -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
