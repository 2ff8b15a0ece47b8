"""Values of closed terms with Lean's meaning: the type of an elaborated term, exact evaluation
over ℕ/ℤ (truncating `-`, Euclidean `/`, `%`) and ℚ/ℝ (exact fractions, `x / 0 = 0`), number
theory on numerals (`Nat.gcd`, `n !`, `Nat.Prime`, ...), finite sets, sums and products, and the
`decide` procedure on closed propositions.

It sits below the decision procedures (`arith`), the rewriting lemmas of sums (`discrete`) and
definitional equality (`goals`), which all evaluate; it imports none of them.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

from lean_env.embedded import definitions
from lean_env.embedded.carriers import INT, NAT, REAL, computes, is_field
from lean_env.embedded.functions import (
    ALPHA, BIG_OPERATORS, BINDER_FUNCTIONS, SETS, SIGNATURES, head, local_function,
)
from lean_env.embedded.terms import App, Bin, Cast, Const, Num, Quant, Term, Typed, Un, Var, REL_OPS, free_vars, num, pp, subst

Ctx = dict[str, str]  # variable name -> "ℕ" / "ℤ" / "ℚ" / "ℝ"


class ArithError(Exception):
    pass


def _discrete_app(t: Term) -> bool:
    return isinstance(t, App) and isinstance(t.fn, Var) and (t.fn.name in VALUES or t.fn.name in BINDER_FUNCTIONS)


def term_type(t: Term, ctx: Ctx) -> str | None:
    """The carrier type of an arithmetic term: from its variables or ascriptions; None if unknown."""
    if isinstance(t, Var):
        return ctx.get(t.name)
    if isinstance(t, Num):
        return t.ty
    if isinstance(t, (Cast, Typed)):
        return t.ty
    if isinstance(t, App) and isinstance(t.fn, Var) and local_function(ctx.get(t.fn.name)):   # `f x`, f : ℕ → ℝ
        return local_function(ctx[t.fn.name])[1]
    if isinstance(t, App) and app_type(t, ctx) is not None:   # a sum, a product, a card
        return app_type(t, ctx)
    if isinstance(t, App) and isinstance(t.fn, Var) and t.fn.name in SIGNATURES:
        result = SIGNATURES[t.fn.name].result
        if result != ALPHA:
            return result
        return next((ty for ty in (term_type(a, ctx) for a in t.args) if ty), None)
    if isinstance(t, Bin):
        if t.op == "^":
            return term_type(t.lhs, ctx)
        return term_type(t.lhs, ctx) or term_type(t.rhs, ctx)
    if isinstance(t, Un) and t.op == "-":
        return term_type(t.arg, ctx) or INT
    return None


def typed(t: Term, ty: str | None) -> Term:
    """Give untyped numerals the carrier `ty`, so a term keeps its type when it replaces a
    variable (`n = 3` rewriting `n : ℤ` must leave an integer `3`, not a natural one)."""
    if ty is None or ty == "Prop":
        return t
    if isinstance(t, Num):
        return t if t.ty else Num(t.value, ty)
    if isinstance(t, Bin) and t.op in ("+", "-", "*", "/", "%"):
        return Bin(t.op, typed(t.lhs, ty), typed(t.rhs, ty))
    if isinstance(t, Bin) and t.op == "^":
        return Bin("^", typed(t.lhs, ty), t.rhs)
    if isinstance(t, Un) and t.op == "-":
        return Un("-", typed(t.arg, ty))
    if isinstance(t, App) and t.fn == Var("Inv.inv") and len(t.args) == 1:
        return App(t.fn, (typed(t.args[0], ty),))
    return t


def relation_type(t: Bin, ctx: Ctx) -> str:
    """The type of `a R b`: elaboration (`types.py`) put both sides at one type with typed
    numerals, so any typed leaf tells it; numerals alone default to ℕ."""
    return term_type(t.lhs, ctx) or term_type(t.rhs, ctx) or NAT


def ediv(a: int, b: int) -> int:
    """Lean's `Int.ediv` (and `Nat.div`): Euclidean division, x / 0 = 0."""
    if b == 0:
        return 0
    q = a // b if b > 0 else -(a // -b)
    return q


def emod(a: int, b: int) -> int:
    if b == 0:
        return a
    return a - b * ediv(a, b)


def evaluate(t: Term, ty: str) -> int | Fraction:
    """Value of a closed arithmetic term with Lean's semantics for `ty`: an int over ℕ/ℤ, an exact
    Fraction over ℚ/ℝ (where `/` is field division with `x / 0 = 0`, and there is no `%`)."""
    if _discrete_app(t):   # discrete.py: `Nat.gcd 4 6`, `∑ i ∈ Finset.range 5, i`, `Nat.Prime 7`
        if not is_closed_app(t):
            raise ArithError(f"not a closed numeral expression: {pp(t)}")
        return evaluate_app(t, ty)
    if is_field(ty):
        return _evaluate_field(t)
    if isinstance(t, Num):
        return t.value
    if isinstance(t, Cast):   # `Nat.cast`: the natural number's value, computed in ℕ
        return evaluate(t.arg, t.src)
    if isinstance(t, Un) and t.op == "-":
        if ty == NAT:
            raise ArithError("failed to synthesize Neg ℕ")
        return -evaluate(t.arg, ty)
    if isinstance(t, Bin):
        a = evaluate(t.lhs, ty)
        if t.op == "^":
            b = evaluate(t.rhs, NAT)
            if b > 4096 or (abs(a) > 1 and b * max(abs(a).bit_length(), 1) > 100_000):
                raise ArithError("exponent too large to evaluate")
            return a ** b
        b = evaluate(t.rhs, ty)
        if t.op == "+":
            return a + b
        if t.op == "*":
            return a * b
        if t.op == "-":
            return max(a - b, 0) if ty == NAT else a - b
        if t.op == "/":
            return ediv(a, b)
        if t.op == "%":
            return emod(a, b)
    raise ArithError(f"not a closed numeral expression: {pp(t)}")


def _evaluate_field(t: Term) -> Fraction:
    if isinstance(t, Num):
        return Fraction(t.value)
    if _discrete_app(t):   # discrete.py: a sum over a field is a Fraction too
        return Fraction(evaluate(t, REAL))
    if isinstance(t, Cast):   # the value computed in the cast's own type, then embedded
        return Fraction(evaluate(t.arg, t.src))
    if isinstance(t, Un) and t.op == "-":
        return -_evaluate_field(t.arg)
    if isinstance(t, App) and t.fn == Var("Inv.inv") and len(t.args) == 1:
        a = _evaluate_field(t.args[0])
        return 1 / a if a else Fraction(0)
    if isinstance(t, Bin) and t.op in ("+", "-", "*", "/", "^"):
        a = _evaluate_field(t.lhs)
        if t.op == "^":
            b = evaluate(t.rhs, NAT)
            size = max(a.numerator.bit_length(), a.denominator.bit_length(), 1)
            if b > 4096 or (abs(a) != 1 and a != 0 and b * size > 100_000):
                raise ArithError("exponent too large to evaluate")
            return a ** b
        b = _evaluate_field(t.rhs)
        if t.op == "+":
            return a + b
        if t.op == "-":
            return a - b
        if t.op == "*":
            return a * b
        return a / b if b else Fraction(0)
    raise ArithError(f"not a closed numeral expression: {pp(t)}")


def is_closed_arith(t: Term, functions: "bool | Callable[[App], bool]" = True) -> bool:
    """A numeral expression `evaluate` can compute. With `functions=False` only numerals and the
    ring/division operators count: `omega`, `linarith` and `ring` see `Nat.gcd 4 6` or a closed
    `∑ i ∈ range 10, i` as atoms, as in Lean (only `decide`, `rfl`, `norm_num`, `simp` evaluate them).
    `functions` may also be a test of each application (what norm_num's extensions take:
    `discrete.norm_num_evaluates`)."""
    if isinstance(t, Num):
        return True
    if isinstance(t, Cast):
        return is_closed_arith(t.arg, functions)
    if isinstance(t, Un) and t.op == "-":
        return is_closed_arith(t.arg, functions)
    if isinstance(t, Bin) and t.op in ("+", "-", "*", "/", "%", "^"):
        return is_closed_arith(t.lhs, functions) and is_closed_arith(t.rhs, functions)
    if isinstance(t, App) and t.fn == Var("Inv.inv") and len(t.args) == 1:
        return is_closed_arith(t.args[0], functions)
    if _discrete_app(t):   # discrete.py
        return (functions is True or callable(functions) and functions(t)) and is_closed_app(t)
    return False


def decide_relation(op: str, a: int | Fraction, b: int | Fraction) -> bool:
    if op == "∣" and (isinstance(a, Fraction) or isinstance(b, Fraction)):
        raise ArithError("failed to synthesize Decidable")   # `∣` over a field: not the fragment's
    return {
        "=": a == b, "≠": a != b, "<": a < b, "≤": a <= b, ">": a > b, "≥": a >= b,
        "∣": (b == 0) if a == 0 else b % a == 0,
    }[op]


def decide(p: Term, ctx: Ctx) -> bool:
    """Evaluate a closed proposition (the `decide` tactic); raises ArithError when not decidable."""
    if isinstance(p, Const):
        return p.value
    if isinstance(p, Un) and p.op == "¬":
        return not decide(p.arg, ctx)
    if isinstance(p, App) and p.fn == Var("Membership.mem") and definitions.REWRITES["Set.mem_setOf_eq"](p):
        return decide(definitions.REWRITES["Set.mem_setOf_eq"](p), ctx)   # `Set.decidableSetOf`
    if _discrete_app(p):   # a predicate on numerals: `Nat.Prime 7`, `Even 4` (`Nat.decidablePrime1`)
        if not is_closed_app(p):
            raise ArithError("expected type must not contain free variables")
        return bool(evaluate_app(p, NAT))
    if isinstance(p, Bin):
        if p.op in REL_OPS:
            ty = relation_type(p, ctx)
            if not computes(ty):   # `Real.decidableLT` is classical: `decide` cannot evaluate it
                raise ArithError("failed to synthesize Decidable")
            if not (is_closed_arith(p.lhs) and is_closed_arith(p.rhs)):
                raise ArithError("expected type must not contain free variables")
            return decide_relation(p.op, evaluate(p.lhs, ty), evaluate(p.rhs, ty))
        a = decide(p.lhs, ctx)
        if p.op == "∧":
            return a and decide(p.rhs, ctx)
        if p.op == "∨":
            return a or decide(p.rhs, ctx)
        if p.op == "→":
            return (not a) or decide(p.rhs, ctx)
        if p.op == "↔":
            return a == decide(p.rhs, ctx)
    if isinstance(p, Quant):
        return _decide_bounded(p, ctx)
    raise ArithError("failed to synthesize Decidable")


MAX_DECIDE_RANGE = 1024   # Lean's kernel gives up on much longer `Nat.decidableBallLT` unfoldings


def _decide_bounded(q: Quant, ctx: Ctx) -> bool:
    """`∀ x, x < n → P x` and `∃ x, x < n ∧ P x` over ℕ with a numeral bound are decidable in
    Lean (`Nat.decidableBallLT`, `Nat.decidableExistsLT`); every other quantifier is not."""
    body = q.body
    link = "→" if q.kind == "∀" else "∧"
    if q.ty != NAT or not (isinstance(body, Bin) and body.op == link):
        raise ArithError("failed to synthesize Decidable")
    bound = body.lhs
    if not (isinstance(bound, Bin) and bound.op in ("<", "≤") and bound.lhs == Var(q.var)
            and is_closed_arith(bound.rhs)):
        raise ArithError("failed to synthesize Decidable")
    n = evaluate(bound.rhs, NAT) + (1 if bound.op == "≤" else 0)
    if n > MAX_DECIDE_RANGE:
        raise ArithError("maximum recursion depth has been reached")
    values = (decide(subst(body.rhs, q.var, Num(k, NAT)), ctx) for k in range(n))
    return all(values) if q.kind == "∀" else any(values)



# ---------------------------------------------------------------- number theory on numerals

MAX_ELEMENTS = 20_000     # sets longer than this are not enumerated (Lean's `decide` gives up far sooner)
MAX_FACTORIAL = 3_000


# ---------------------------------------------------------------- number theory on numerals

_MR_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
_MR_DETERMINISTIC = 3_317_044_064_679_887_385_961_981   # the bases above decide every n below this


def _prime(n: int) -> bool:
    """`Nat.Prime n` (Mathlib's norm_num extension proves it with a certificate): trial division for
    small n, Miller-Rabin above. A Miller-Rabin witness proves n composite; the bases used decide
    primality for every n below `_MR_DETERMINISTIC`, and larger n that pass are refused."""
    if n < 2:
        return False
    for p in _MR_BASES:
        if n % p == 0:
            return n == p
    if n < 41 * 41:
        return True
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in _MR_BASES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    if n >= _MR_DETERMINISTIC:
        raise ArithError("numeral too large to test for primality")
    return True


def _factorial(n: int) -> int:
    if n > MAX_FACTORIAL:
        raise ArithError("factorial too large to evaluate")
    return math.factorial(n)


def _choose(n: int, k: int) -> int:
    if k > n:
        return 0
    if min(k, n - k) > MAX_FACTORIAL:
        raise ArithError("binomial coefficient too large to evaluate")
    return math.comb(n, k)


# name -> exact value on integer arguments (the argument types are the signature's)
VALUES: dict[str, Callable[..., int | bool]] = {
    "Nat.gcd": math.gcd,
    "Nat.lcm": lambda a, b: 0 if a == 0 or b == 0 else a * b // math.gcd(a, b),
    "Nat.factorial": _factorial,
    "Nat.choose": _choose,
    "Nat.Prime": _prime,
    "Even": lambda n: n % 2 == 0,
    "Odd": lambda n: n % 2 == 1,
    "Int.natAbs": abs,
    "Nat.sqrt": math.isqrt,
    "Int.toNat": lambda z: max(z, 0),
    "Int.floor": math.floor,   # exact on a Fraction
    "Int.ceil": math.ceil,
    "Nat.floor": lambda x: max(math.floor(x), 0),
    "Nat.ceil": lambda x: max(math.ceil(x), 0),
    "Nat.Coprime": lambda a, b: math.gcd(a, b) == 1,
    "Nat.ModEq": lambda n, a, b: emod(a, n) == emod(b, n),   # norm_num's `evalNatModEq`; `[MOD 0]` is `=`
    "Int.ModEq": lambda n, a, b: emod(a, n) == emod(b, n),
    "Nat.minFac": lambda n: 1 if n == 1 else _min_fac(n),
    "Nat.fib": lambda n: _fib(n),
    "Nat.log": lambda b, n: _nat_log(b, n),
    "Int.gcd": math.gcd,   # of the absolute values
    "Int.lcm": lambda a, b: 0 if a == 0 or b == 0 else abs(a * b) // math.gcd(a, b),
    "Rat.divInt": lambda n, d: Fraction(n, d) if d else Fraction(0),
    "zpow": lambda x, n: _zpow(Fraction(x), n),
    "Nat.digits": lambda b, n: _digits(b, n),
    "List.sum": sum,
    "Rat.num": lambda q: Fraction(q).numerator,
    "Rat.den": lambda q: Fraction(q).denominator,
}


def _zpow(x: Fraction, n: int) -> Fraction:
    """`x ^ (n : ℤ)` in a field: `(x ^ |n|)⁻¹` for n < 0, with `0⁻¹ = 0`."""
    if abs(n) > 4096:
        raise ArithError("exponent too large to evaluate")
    if n >= 0:
        return x ** n
    return 1 / x ** -n if x else Fraction(0)


def _digits(b: int, n: int) -> list[int]:
    """`Nat.digits b n`, least significant first: `digits 0 n = [n]`, `digits 1 n = [1, ..., 1]`
    (n ones), `[]` for n = 0."""
    if n == 0:
        return []
    if b == 0:
        return [n]
    if b == 1:
        if n > 100_000:
            raise ArithError("value too large to evaluate")
        return [1] * n
    out = []
    while n:
        n, d = divmod(n, b)
        out.append(d)
    return out


def _min_fac(n: int) -> int:
    """`Nat.minFac`: the least prime factor (`minFac 0 = 2`, `minFac 1 = 1`)."""
    if n % 2 == 0:
        return 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return d
        d += 2
        if d > 10 ** 7:
            raise ArithError("numeral too large to factor")
    return n


def _fib(n: int) -> int:
    if n > 100_000:
        raise ArithError("Fibonacci number too large to evaluate")
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _nat_log(b: int, n: int) -> int:
    """`Nat.log b n`: the largest k with b ^ k ≤ n (0 when b ≤ 1 or n < b)."""
    if b <= 1:
        return 0
    k = 0
    while n >= b:
        n //= b
        k += 1
    return k



# ---------------------------------------------------------------- finite sets, sums and products

def app_type(t: App, ctx: dict) -> str | None:
    """The type of an elaborated sum/product/card (None for anything else)."""
    name = head(t)
    if name == "Finset.card":
        return NAT
    if name in BIG_OPERATORS and len(t.args) == 2 and isinstance(t.args[1], Quant):
        f = t.args[1]
        return term_type(f.body, {**ctx, f.var: f.ty})
    return None


# ---------------------------------------------------------------- evaluation

def elements(s: Term) -> list[int]:
    """The elements of a closed finite set, in increasing order."""
    name = head(s)
    args = s.args if isinstance(s, App) else ()
    if name in ("Finset.range", "Nat.divisors", "Nat.properDivisors"):
        n = _value(args[0], NAT)
        if n > MAX_ELEMENTS:
            raise ArithError("finite set too large to enumerate")
        if name == "Finset.range":
            return list(range(n))
        divs = [d for d in range(1, n + 1) if n % d == 0]
        return divs if name == "Nat.divisors" else [d for d in divs if d != n]
    if name in ("Finset.Icc", "Finset.Ico"):
        ty = _elem_type(s)
        lo, hi = _value(args[0], ty), _value(args[1], ty)
        if name == "Finset.Ico":
            hi -= 1
        if hi - lo + 1 > MAX_ELEMENTS:
            raise ArithError("finite set too large to enumerate")
        return list(range(lo, hi + 1))
    if name == "Finset.filter":
        p = args[0]
        assert isinstance(p, Quant)
        return [k for k in elements(args[1]) if decide(subst(p.body, p.var, num(k, p.ty)), {})]
    raise ArithError(f"not a finite set of the fragment: {pp(s)}")


def _elem_type(s: Term) -> str:
    name = head(s)
    if name == "Finset.filter":
        return s.args[0].ty
    if name in ("Finset.Icc", "Finset.Ico"):
        return term_type(s.args[0], {}) or term_type(s.args[1], {}) or NAT
    return NAT


def _value(t: Term, ty: str) -> int:
    if not is_closed_arith(t):
        raise ArithError(f"not a closed numeral expression: {pp(t)}")
    return evaluate(t, ty)


def evaluate_app(t: App, ty: str) -> int | bool:
    """The value of a closed application at its type `ty` (a predicate's truth value)."""
    name = head(t)
    if name == "Finset.card":
        return len(elements(t.args[0]))
    if name == "Membership.mem":
        x, s = t.args
        return _value(x, _elem_type(s)) in elements(s)
    if name in BIG_OPERATORS:
        s, f = t.args
        assert isinstance(f, Quant)
        ety = _elem_type(s)
        total = 0 if name == "Finset.sum" else 1
        for k in elements(s):
            v = evaluate(subst(f.body, f.var, num(k, ety)), ty)
            total = total + v if name == "Finset.sum" else total * v
            if _bits(total) > 100_000:
                raise ArithError("value too large to evaluate")
        return total
    fn = VALUES.get(name or "")
    if fn is None:
        raise ArithError(f"not a closed numeral expression: {pp(t)}")
    params = SIGNATURES[name].params
    # a polymorphic argument is at its own type (`Int.floor (7 / 2 : ℚ)`), read off its numerals
    return fn(*(_value(a, p if p != ALPHA else term_type(a, {}) or ty) for a, p in zip(t.args, params)))


def _bits(v: int | Fraction) -> int:
    """The size of an exact value (a sum over ℚ/ℝ is a Fraction)."""
    v = Fraction(v)
    return max(abs(v.numerator).bit_length(), v.denominator.bit_length())


def is_closed_app(t: App) -> bool:
    """Whether `t` is an application this module can evaluate: a known function of closed
    arguments, a big operator whose set is closed and whose body mentions only its binder."""
    name = head(t)
    if name in BIG_OPERATORS and len(t.args) == 2 and isinstance(t.args[1], Quant):
        f = t.args[1]
        return _closed_set(t.args[0]) and free_vars(f.body) <= {f.var}
    if name == "Finset.card" and len(t.args) == 1:
        return _closed_set(t.args[0])
    if name == "Membership.mem" and len(t.args) == 2:
        return is_closed_arith(t.args[0]) and _closed_set(t.args[1])
    return name in VALUES and all(is_closed_arith(a) for a in t.args)


def _closed_set(s: Term) -> bool:
    name = head(s)
    if name == "Finset.filter" and len(s.args) == 2 and isinstance(s.args[0], Quant):
        p = s.args[0]
        return free_vars(p.body) <= {p.var} and _closed_set(s.args[1])
    return name in SETS and all(is_closed_arith(a) for a in s.args)

