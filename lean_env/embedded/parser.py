"""Parse the Lean 4 surface syntax of the fragment: terms, propositions and theorem statements.

A Pratt parser over Lean's own precedence levels (see `terms.BIN_PREC`), so that what we parse
prints back the way Lean prints it.
"""
from __future__ import annotations

from dataclasses import dataclass

from lean_env.embedded.terms import (
    BIN_PREC, COMPLEX, INT, MAX_PREC, NAT, RAT, REAL, Anon, App, Bin, ByTac, Cast, Const, Hole, Num, Proj, Quant, Term, Typed,
    Un, Var, type_of,
)
from lean_env.embedded.errors import IllTyped
from lean_env.embedded.functions import context_entries
from lean_env.lexer import LexError, code_tokens, numeral_value


class ParseError(Exception):
    """A syntax error; `pos` is a character offset into the parsed text."""

    def __init__(self, message: str, pos: int = 0):
        super().__init__(message)
        self.message = message
        self.pos = pos


_ASCII = {"->": "→", "<->": "↔", "<=": "≤", ">=": "≥", "λ": "fun"}
TYPES = {"ℕ": NAT, "ℤ": INT, "ℚ": RAT, "ℝ": REAL, "ℂ": COMPLEX, "Nat": NAT, "Int": INT, "Rat": RAT, "Real": REAL,
         "Complex": COMPLEX, "Prop": "Prop"}
CONSTANTS = ("π", "Real.pi", "Complex.I")   # applications to no arguments (`functions.SIGNATURES`)
_KINDS = {"ident": "ident", "num": "num", "symbol": "sym"}


@dataclass
class Tok:
    kind: str   # "num", "ident", "sym", "end"
    text: str
    pos: int


def tokenize(text: str) -> list[Tok]:
    """Lean's tokens (`lean_env.lexer`, the one tokenizer) as the parser reads them: `?_` is one
    token, ASCII arrows are their Unicode forms. Text Lean's lexer refuses (`x✝` is not an
    identifier a proof may mention) is a parse error."""
    try:
        lexed = code_tokens(text)
    except LexError as e:
        raise ParseError(e.message, e.offset) from None
    toks: list[Tok] = []
    for t in lexed:
        kind = _KINDS.get(t.kind)
        if kind is None:
            raise ParseError(f"unexpected token '{t.text}'; expected term", t.start)
        if t.text == "_" and toks and toks[-1].text == "?" and toks[-1].pos + 1 == t.start:
            toks[-1] = Tok("sym", "?_", toks[-1].pos)
            continue
        toks.append(Tok("ident" if t.text == "λ" else kind, _ASCII.get(t.text, t.text), t.start))
    toks.append(Tok("end", "", len(text)))
    return toks


def _own_type(t: Term) -> Term:
    """An operator tree as parsed with each part whose type is already fixed (`Real.sqrt 2 : ℝ`,
    `Complex.I : ℂ`, `Nat.gcd a b : ℕ`) ascribed its own type: the leaves stay leaves, so
    elaboration meets them at the tree's type as `binop%` does (`a - Nat.gcd a b - √2` is
    `↑a - ↑(Nat.gcd a b) - √2`, never a truncated ℕ subtraction cast)."""
    if isinstance(t, Bin) and t.op in BIN_PREC and t.op not in ("∧", "∨", "→", "↔"):
        return Bin(t.op, _own_type(t.lhs), _own_type(t.rhs))
    if isinstance(t, Un) and t.op == "-":
        return Un("-", _own_type(t.arg))
    ty = type_of(t)
    return Typed(t, ty) if isinstance(ty, str) and ty in TYPES.values() and ty != "Prop" else t


def _built(node, *parts):
    """A node as parsed. Parts typed by their function's signature may not meet yet (`(1 + Complex.I) /
    Real.sqrt 2`, `2 ^ Real.sqrt 2`): elaboration inserts the casts (`binop%`) or picks `Real.rpow`,
    so their typed leaves enter as ascriptions, which the node does not type-check."""
    try:
        return node(*parts)
    except IllTyped:
        if node is App:
            fn, args = parts
            return App(fn, tuple(_own_type(a) for a in args))
        op, lhs, rhs = parts
        return Bin(op, _own_type(lhs), _own_type(rhs))


class Parser:
    def __init__(self, text: str, type_vars: dict[str, str] | None = None):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.type_vars = type_vars or {}   # the lemma table's `α`

    # -- helpers
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def next(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("sym", "ident") and self.tok.text in texts

    def expect(self, text: str) -> Tok:
        if not self.at(text):
            got = self.tok.text or "end of input"
            raise ParseError(f"unexpected token '{got}'; expected '{text}'", self.tok.pos)
        return self.next()

    def ident(self) -> str:
        if self.tok.kind != "ident":
            got = self.tok.text or "end of input"
            raise ParseError(f"unexpected token '{got}'; expected identifier", self.tok.pos)
        return self.next().text

    def done(self) -> None:
        if self.tok.kind != "end":
            raise ParseError(f"unexpected token '{self.tok.text}'; expected end of term", self.tok.pos)

    # -- terms
    def term(self, prec: int = 0) -> Term:
        lhs = self.prefix()
        while True:
            t = self.tok
            if t.kind == "sym" and t.text == "∈" and prec <= 50:   # `infix:50 " ∈ "`: Membership.mem
                self.next()
                lhs = App(Var("Membership.mem"), (lhs, self.term(51)))
            elif t.kind == "sym" and t.text == "\\" and prec <= 70:   # `infixl:70 " \\ "`: set difference
                self.next()
                lhs = App(Var("SDiff.sdiff"), (lhs, self.term(71)))
            elif t.text == "/" and self.toks[self.i + 1].text == "." and self.toks[self.i + 1].pos == t.pos + 1:
                if prec > 70:   # `infixl:70 " /. " => Rat.divInt`
                    break
                self.next()
                self.next()
                lhs = _built(App, Var("Rat.divInt"), (lhs, self.term(71)))
            elif t.kind == "sym" and t.text == "≡" and prec <= 50:   # `notation:50 a " ≡ " b " [MOD " n "]"`
                self.next()
                rhs = self.term(51)
                self.expect("[")
                kind = self.tok.text
                if kind not in ("MOD", "ZMOD"):
                    raise ParseError(f"unexpected token '{kind}'; expected 'MOD' or 'ZMOD'", self.tok.pos)
                self.next()
                modulus = self.term()
                self.expect("]")
                lhs = _built(App, Var("Nat.ModEq" if kind == "MOD" else "Int.ModEq"), (modulus, lhs, rhs))
            elif t.kind == "sym" and t.text in BIN_PREC:
                p, _, rp = BIN_PREC[t.text]
                if p < prec:
                    break
                self.next()
                rhs = self.term(rp)
                lhs = _built(Bin, t.text, lhs, rhs)
            elif prec <= MAX_PREC and self._starts_argument():
                args = []
                while self._starts_argument():
                    args.append(self.argument())
                lhs = _built(App, lhs, tuple(args))
            else:
                break
        return lhs

    def _starts_argument(self) -> bool:
        t = self.tok
        if t.kind in ("num",):
            return True
        if t.kind == "ident":
            return t.text not in ("by", "at", "with", "using", "generalizing", "fun", "then", "else", "from")
        return t.kind == "sym" and t.text in ("(", "⟨", "_", "?_", "{")

    def argument(self) -> Term:
        """An atom with optional `.field` projections (application arguments are atoms)."""
        return self.postfix(self.atom())

    def postfix(self, t: Term) -> Term:
        while True:
            if self.at(".") and self.toks[self.i + 1].kind in ("ident", "num"):
                self.next()
                t = Proj(t, self.next().text)
            elif self.at("⁻¹"):   # `postfix:max "⁻¹"`
                self.next()
                t = App(Var("Inv.inv"), (t,))
            elif self.at("!"):    # Mathlib's `n !` (`notation:10000 n "!" => Nat.factorial n`)
                self.next()
                t = App(Var("Nat.factorial"), (t,))
            else:
                return t

    def prefix(self) -> Term:
        t = self.tok
        if t.kind == "sym" and t.text == "¬":
            self.next()
            return Un("¬", self.term(40))
        if t.kind == "sym" and t.text == "-":
            self.next()
            return Un("-", self.term(75))
        if t.kind == "sym" and t.text in ("∀", "∃"):
            return self.quantifier()
        if t.kind == "ident" and t.text == "by":
            return self.by_block()
        if t.kind == "ident" and t.text == "fun":
            return self.lambda_()
        if t.kind == "ident" and t.text == "show":
            return self.show()
        if t.kind == "sym" and t.text == "↑":
            self.next()
            return Cast(None, self.argument())
        if t.kind == "sym" and t.text in ("∑", "∏"):
            return self.big_operator()
        if t.kind == "sym" and t.text == "√":   # `prefix:100 "√" => Real.sqrt`
            self.next()
            return App(Var("Real.sqrt"), (self.term(100),))
        return self.argument()

    def atom(self) -> Term:
        t = self.next()
        if t.kind == "num":
            return Num(numeral_value(t.text))
        if t.kind == "ident":
            if t.text == "_":
                return Hole()
            if t.text == "True":
                return Const(True)
            if t.text == "False":
                return Const(False)
            if t.text in CONSTANTS:   # a constant: an application to no arguments
                return App(Var(t.text), ())
            const = next((c for c in CONSTANTS if t.text.startswith(c + ".")), None)
            if const is not None:   # `Complex.I.re`: a projection of a constant
                base = App(Var(const), ())
                for f in t.text[len(const) + 1:].split("."):
                    base = Proj(base, f)
                return base
            if "." in t.text:  # h.1, h.mp, Or.inl: split projections off local names later
                head, *fields = t.text.split(".")
                if head[0].islower() or head[0] in "hH" or not head[0].isupper():
                    base: Term = Var(head)
                    for f in fields:
                        base = Proj(base, f)
                    return base
            return Var(t.text)
        if t.kind == "sym" and t.text == "_":
            return Hole()
        if t.kind == "sym" and t.text == "?_":
            return Hole(synthetic=True)
        if t.kind == "sym" and t.text == "(":
            colon = self._ascription_colon() if self.at("by") else None
            inner = self.by_block(stop=colon) if colon is not None else self.term()
            if self.at(":"):
                self.next()
                if self.tok.kind == "ident" and self.toks[self.i + 1].text == ")" and (
                        self.tok.text in TYPES or self.tok.text in self.type_vars):
                    ty = self.type_name()
                    self.expect(")")
                    return Typed(inner, ty)   # elaboration types the numeral or inserts the cast
                prop = self.term()   # `(h : a < b)`, `(by omega : x < 5)`: a proof ascribed its proposition
                self.expect(")")
                return Typed(inner, prop)
            self.expect(")")
            return inner
        if t.kind == "sym" and t.text == "{":   # `{x : ℕ | p x}` (`setOf`) or `{a}` (a singleton set)
            if self.tok.kind == "ident" and self.toks[self.i + 1].text in (":", "|"):
                var, ty = self.ident(), None
                if self.at(":"):
                    self.next()
                    ty = self.type_name()
                self.expect("|")
                body = self.term()
                self.expect("}")
                return App(Var("setOf"), (Quant("fun", var, ty, body),))
            item = self.term()
            if self.at(","):
                raise ParseError("unexpected token ','; the embedded fragment has singleton set literals only",
                                 self.tok.pos)
            self.expect("}")
            return App(Var("Singleton.singleton"), (item,))
        if t.kind == "sym" and t.text in ("⌊", "⌈"):   # `⌊x⌋` is `Int.floor x`, `⌈x⌉₊` is `Nat.ceil x`
            inner = self.term()
            self.expect("⌋" if t.text == "⌊" else "⌉")
            fn = "floor" if t.text == "⌊" else "ceil"
            if self.at("₊"):
                self.next()
                return self.postfix(App(Var(f"Nat.{fn}"), (inner,)))
            return self.postfix(App(Var(f"Int.{fn}"), (inner,)))
        if t.kind == "sym" and t.text == "|":   # `|a|` is `abs a`
            inner = self.term()
            self.expect("|")
            return self.postfix(App(Var("abs"), (inner,)))
        if t.kind == "sym" and t.text == "⟨":
            items = []
            if not self.at("⟩"):
                items.append(self.term())
                while self.at(","):
                    self.next()
                    items.append(self.term())
            self.expect("⟩")
            return Anon(tuple(items))
        got = t.text or "end of input"
        raise ParseError(f"unexpected token '{got}'; expected term", t.pos)

    def type_name(self) -> str:
        t = self.tok
        name = self.ident()
        if name in self.type_vars:
            return self.type_vars[name]
        if name not in TYPES:
            raise ParseError(f"unknown type '{name}' (the embedded fragment has ℕ, ℤ, ℚ, ℝ, ℂ and Prop)", t.pos)
        return TYPES[name]

    def quantifier(self) -> Term:
        kind = self.next().text
        if self.tok.kind == "ident" and self.toks[self.i + 1].text in ("<", "≤", ">", "≥", "≠", "∈"):
            return self._binder_predicate(kind)
        groups: list[tuple[list[str], str | None] | Term] = []   # a Term: a hypothesis binder `(_ : p)`
        while not self.at(","):
            if self.at("("):
                self.next()
                names = [self.next().text if self.at("_") else self.ident()]
                while self.tok.kind == "ident" and not self.at(":"):
                    names.append(self.ident())
                if self.at(")"):                # `∀ (x) (_ : x ≠ 0), P`: an untyped binder
                    self.next()
                    groups.append((names, None))
                    continue
                self.expect(":")
                if self.tok.kind == "ident" and self.toks[self.i + 1].text == ")" and (
                        self.tok.text in TYPES or self.tok.text in self.type_vars):
                    groups.append((names, self.type_name()))
                else:                           # `(h : x ≠ 0)`: the body is an implication
                    groups.extend([self.term()] * len(names))
                self.expect(")")
            else:
                names = [self.ident()]
                while self.tok.kind == "ident":
                    names.append(self.ident())
                ty = None
                if self.at(":"):
                    self.next()
                    ty = self.type_name()
                groups.append((names, ty))
            if self.tok.kind == "end":
                raise ParseError("unexpected end of input; expected ','", self.tok.pos)
        self.expect(",")
        body = self.term(0)
        for group in reversed(groups):
            if not isinstance(group, tuple):
                if kind != "∀":
                    raise ParseError("a hypothesis binder in ∃ is outside the embedded fragment", self.tok.pos)
                body = Bin("→", group, body)
                continue
            names, ty = group
            for name in reversed(names):
                body = Quant(kind, name, ty, body)   # an untyped binder is typed by elaboration
        return body

    def lambda_(self) -> Term:
        """`fun x (h : p) _ => e` (a proof term; binder types are optional)."""
        self.next()
        binders: list[tuple[str, str | None]] = []
        while not self.at("=>"):
            if self.at("("):
                self.next()
                names = [self.ident()]
                while self.tok.kind == "ident" and not self.at(":"):
                    names.append(self.ident())
                ty = None
                if self.at(":"):
                    self.next()
                    ty = self.type_name() if self.tok.text in TYPES and self.toks[self.i + 1].text == ")" else None
                    if ty is None:   # a hypothesis binder `(h : p)`: its type is the goal's premise
                        depth = 0
                        while not (depth == 0 and self.at(")")) and self.tok.kind != "end":
                            depth += self.at("(") - self.at(")")
                            self.next()
                self.expect(")")
                binders.extend((n, ty) for n in names)
            elif self.tok.kind == "ident" or self.at("_"):
                binders.append((self.next().text, None))
            else:
                got = self.tok.text or "end of input"
                raise ParseError(f"unexpected token '{got}'; expected '=>'", self.tok.pos)
        self.expect("=>")
        body = self.term(0)
        for name, ty in reversed(binders):
            body = Quant("fun", name, ty, body)
        return body

    def show(self) -> Term:
        """`show T from e` and `show T by tac`: the proof ascribed its proposition, `(e : T)`."""
        self.next()
        prop = self.term(0)
        if self.at("from"):
            self.next()
            return Typed(self.term(0), prop)
        if self.at("by"):
            return Typed(self.by_block(), prop)
        got = self.tok.text or "end of input"
        raise ParseError(f"unexpected token '{got}'; expected 'by' or 'from'", self.tok.pos)

    def big_operator(self) -> Term:
        """`∑ i in s, f i` (and the newer `∑ i ∈ s, f i`, `∑ i : ℤ in s, f i`) is `Finset.sum s
        (fun i => f i)`, `∏` is `Finset.prod`; the body is parsed at precedence 67 as Mathlib's
        notation does, so `∑ i in s, f i + 1` is `(∑ i in s, f i) + 1`."""
        op = self.next().text
        var = self.ident()
        ty = None
        if self.at(":"):
            self.next()
            ty = self.type_name()
        if not self.at("in", "∈"):
            got = self.tok.text or "end of input"
            raise ParseError(f"unexpected token '{got}'; expected 'in' or '∈'", self.tok.pos)
        self.next()
        s = self.term(0)
        self.expect(",")
        body = self.term(67)
        return App(Var("Finset.sum" if op == "∑" else "Finset.prod"), (s, Quant("fun", var, ty, body)))

    def _binder_predicate(self, kind: str) -> Term:
        """`∀ x > 0, P` is `∀ x, x > 0 → P`; `∃ x > 0, P` is `∃ x, x > 0 ∧ P` (the binder's type
        is found by elaboration, from the bound and the body)."""
        var = self.ident()
        op = self.next().text
        bound = self.term(51)
        self.expect(",")
        body = self.term(0)
        pred = App(Var("Membership.mem"), (Var(var), bound)) if op == "∈" else Bin(op, Var(var), bound)
        return Quant(kind, var, None, Bin("→" if kind == "∀" else "∧", pred, body))

    def _ascription_colon(self) -> int | None:
        """In `(by tac : P)`, the index of the `:` that ascribes P: the last one at the bracket's
        depth with no `:=` after it (`(by have h : p := q; exact h)` has none)."""
        depth, candidate = 0, None
        for j in range(self.i, len(self.toks)):
            text = self.toks[j].text if self.toks[j].kind == "sym" else ""
            if text in ("(", "⟨", "["):
                depth += 1
            elif text in (")", "⟩", "]"):
                if depth == 0:
                    return candidate
                depth -= 1
            elif depth == 0 and text == ":":
                candidate = j
            elif depth == 0 and text == ":=":
                candidate = None
        return None

    def by_block(self, stop: int | None = None) -> Term:
        """`by tac`: the tactic text runs to the closing bracket or comma at this depth (or to
        the token `stop`, an ascription's colon)."""
        start = self.next().pos + 2
        depth = 0
        while self.tok.kind != "end" and self.i != stop:
            if self.at("(", "⟨", "["):
                depth += 1
            elif self.at(")", "⟩", "]"):
                if depth == 0:
                    break
                depth -= 1
            elif self.at(",") and depth == 0:
                break
            self.next()
        # a block on lines of its own keeps its leading newline: `dedent_block` then keeps its layout
        text = self.text[start:self.tok.pos].rstrip().lstrip(" ")
        return ByTac(text if text.startswith("\n") else text.strip())


def parse_term(text: str, type_vars: dict[str, str] | None = None) -> Term:
    p = Parser(text, type_vars)
    try:
        t = p.term()
    except RecursionError:
        raise ParseError("maximum recursion depth has been reached (term nested too deeply)", 0) from None
    p.done()
    return t


# ---------------------------------------------------------------- statements

@dataclass(frozen=True)
class Statement:
    """A parsed `theorem NAME binders : prop`: variables and hypotheses in binder order."""

    kind: str                               # "theorem", "lemma", "example"
    name: str
    binders: tuple[tuple[str, object], ...]  # (name, "ℕ"/"ℤ") for variables, (name, Term) for hyps
    goal: Term


def parse_statement(text: str) -> Statement:
    """Parse and elaborate a declaration header up to (not including) `:=`: every hypothesis and
    the goal come back typed (`types.elab_prop`); an elaboration error is reported like a parse
    error, with Lean's message."""
    try:
        kind, name, binders, goal = _parse_header(text)
        binders = [(n, ty) for n, ty, _ in binders]
    except RecursionError:
        raise ParseError("maximum recursion depth has been reached (term nested too deeply)", 0) from None
    from lean_env.embedded.types import ElabError, binder_type, elab_prop

    from lean_env.embedded.goals import fresh_inaccessible

    ctx: dict[str, str] = {}
    typed_binders: list[tuple[str, object]] = []
    try:
        for i, (n, ty) in enumerate(binders):
            if any(m == n for m, _ in typed_binders):
                typed_binders, ctx = _shadow(typed_binders, ctx, n, fresh_inaccessible(n, {m for m, _ in typed_binders}))
            if ty is None:   # `(n)`: the type Lean's unifier gives it from the rest of the statement
                rest = [t for _, t in binders[i + 1:] if not isinstance(t, str) and t is not None] + [goal]
                body = rest[0]
                for t in rest[1:]:
                    body = Bin("∧", body, t)
                ty = binder_type(n, body, ctx)
            if isinstance(ty, str):
                ctx.update(context_entries(n, ty))
                typed_binders.append((n, ty))
            else:
                typed_binders.append((n, elab_prop(ty, ctx)))
        goal = elab_prop(goal, ctx)
    except ElabError as e:
        raise ParseError(str(e), 0) from None
    except RecursionError:
        raise ParseError("maximum recursion depth has been reached (term nested too deeply)", 0) from None
    return Statement(kind, name, tuple(typed_binders), goal)


def _shadow(binders: list[tuple[str, object]], ctx: dict[str, str], name: str, dead: str
            ) -> tuple[list[tuple[str, object]], dict[str, str]]:
    """A later binder `name` shadows the earlier one, which becomes inaccessible (`x✝`), as do
    its mentions in the hypotheses stated before the new one (they keep their meaning)."""
    from lean_env.embedded.terms import subst

    out: list[tuple[str, object]] = []
    renamed_var = False
    for n, ty in binders:
        if n == name:
            renamed_var = renamed_var or isinstance(ty, str)
            n = dead
        elif renamed_var and not isinstance(ty, str):
            ty = subst(ty, name, Var(dead))
        out.append((n, ty))
    ctx = {(dead if k == name else k): v for k, v in ctx.items()}
    return out, ctx


def _function_type(p: Parser, close: str) -> str:
    """`ℕ → ℕ → ℝ` up to the binder's closing bracket, as its type string (`functions.local_function`)."""
    from lean_env.embedded.functions import function_type

    types = [p.type_name()]
    while p.at("→"):
        p.next()
        types.append(p.type_name())
    if not p.at(close):
        raise ParseError(f"unexpected token '{p.tok.text}'; the embedded fragment's function types are ℕ → ... → T", p.tok.pos)
    if "Prop" in types:
        raise ParseError("functions into or from Prop are outside the embedded fragment", p.tok.pos)
    return function_type(tuple(types[:-1]), types[-1])


def _parse_header(text: str, type_vars: dict[str, str] | None = None
                  ) -> tuple[str, str, list[tuple[str, object, bool]], Term]:
    """`theorem NAME binders : goal` as parsed (binders are (name, type, implicit))."""
    p = Parser(text, type_vars)
    kind = p.ident()
    if kind not in ("theorem", "lemma", "example"):
        raise ParseError(f"unexpected token '{kind}'; expected 'theorem'", 0)
    name = "_example" if kind == "example" else p.ident()
    binders: list[tuple[str, object, bool]] = []
    while p.at("(", "{", "["):
        close = {"(": ")", "{": "}", "[": "]"}[p.next().text]
        if close == "]":
            raise ParseError("instance binders are not supported by the embedded environment", p.tok.pos)
        names = [p.ident()]
        while p.tok.kind == "ident" and not p.at(":"):
            names.append(p.ident())
        if close == ")" and p.at(")"):   # `(n)`: an untyped binder, typed by its uses (`parse_statement`)
            p.next()
            binders.extend((n, None, False) for n in names)
            continue
        p.expect(":")
        if p.tok.kind == "ident" and (p.tok.text in TYPES or p.tok.text in p.type_vars) and p.toks[p.i + 1].text == close:
            ty: object = p.type_name()
        elif p.tok.kind == "ident" and p.tok.text in TYPES and p.toks[p.i + 1].text == "→":
            ty = _function_type(p, close)   # `(f : ℕ → ℕ)`, `(a : ℕ → ℝ)`: a local function
        elif (p.tok.text == "Equiv" and p.toks[p.i + 1].text in TYPES and p.toks[p.i + 2].text in TYPES
              and p.toks[p.i + 3].text == close):
            p.next()                        # `(σ : Equiv ℝ ℝ)`: "Equiv ℝ ℝ" in the context
            ty = f"Equiv {p.type_name()} {p.type_name()}"
        elif p.tok.text in ("Finset", "Set") and p.toks[p.i + 1].text in TYPES and p.toks[p.i + 2].text == close:
            kind = p.next().text            # `(S : Finset ℕ)`: a set variable, "Finset ℕ" in the context
            ty = f"{kind} {p.type_name()}"
        else:
            ty = p.term()
        if close == "}":
            if not p.at("}"):
                raise ParseError("unexpected token; expected '}'", p.tok.pos)
            p.next()
        else:
            p.expect(close)
        for n in names:
            binders.append((n, ty, close == "}"))
    p.expect(":")
    goal = p.term()
    p.done()
    return kind, name, binders, goal
