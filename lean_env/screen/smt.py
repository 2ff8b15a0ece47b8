"""Typed terms as z3 formulas, with Lean's semantics.

ℕ and ℤ are z3 integers (a ℕ variable gets `x ≥ 0`); ℚ and ℝ are z3 reals (a statement's ℚ
variables range over the reals, so a model counts only once its values are rational and exact
evaluation refutes the statement there; a quantifier over ℚ inside a statement is not encoded).
SMT-LIB's integer `div`/`mod` are Euclidean, which is exactly `Int.ediv`/`Int.emod`; division and
`%` by zero are Lean's (`x / 0 = 0`, `x % 0 = x`); ℕ subtraction truncates.

`Real.sqrt` is defined exactly (`y = √x ↔ (x ≤ 0 ∧ y = 0) ∨ (x > 0 ∧ y ≥ 0 ∧ y² = x)`); the
other real functions, `π` and the number-theoretic functions of variables are uninterpreted with
true facts only (`exp x > 0`, `3.1415 < π < 3.1416`, `n ! ≥ 1`), so an unsat answer is a proof,
and `exact` says whether a model is a Lean counterexample as it stands. A local function binder
is an uninterpreted function: any model of it is a counterexample, since the statement is for
every function.
"""
from __future__ import annotations

from fractions import Fraction

import z3

from lean_env.screen.elaborate import FIELDS, INT, NAT, ORDER, PROP, RAT, REAL, T, Var
from lean_env.screen.evaluate import Opaque, domain_of, elements, pow_value, truth, value

MAX_UNROLL = 60
MAX_POWER = 12


class NoZ3(Exception):
    """The term has no z3 encoding here."""


def z3_value(v) -> z3.ExprRef:
    if isinstance(v, bool):
        return z3.BoolVal(v)
    if isinstance(v, Fraction):
        return z3.RealVal(f"{v.numerator}/{v.denominator}") if v.denominator != 1 else z3.RealVal(v.numerator)
    return z3.IntVal(v)


def _num(v, ty: str) -> z3.ExprRef:
    if ty in FIELDS:
        f = Fraction(v)
        return z3.RealVal(f"{f.numerator}/{f.denominator}")
    return z3.IntVal(int(v))


class Encoder:
    def __init__(self, variables: tuple[Var, ...], macros: dict | None = None):
        self.macros = macros or {}        # local function -> (bound keys, body): defined by a hypothesis
        self.exact = True                 # every model is a Lean counterexample
        self.side: list[z3.BoolRef] = []  # definitions and true facts about the functions
        self.consts: dict[str, z3.ExprRef] = {}
        self.funs: dict[str, tuple[z3.FuncDeclRef, Var]] = {}
        self._free: dict[int, frozenset] = {}
        self._fresh = 0
        self._axioms: set[str] = set()
        for v in variables:
            if isinstance(v.ty, tuple):
                _, params, result = v.ty
                if any(p == RAT for p in params) or result == RAT:
                    self.exact = False        # a function's ℚ values may come out irrational
                f = z3.Function(f"{v.key}", *[_sort(p) for p in params], _sort(result))
                self.funs[v.key] = (f, v)
            else:
                if v.ty == RAT:
                    self.exact = False        # z3's reals: a model counts once its ℚ values are rational
                c = {PROP: z3.Bool, NAT: z3.Int, INT: z3.Int}.get(v.ty, z3.Real)(v.key)
                self.consts[v.key] = c
                if v.ty == NAT:
                    self.side.append(c >= 0)
        self.top = frozenset(self.consts) | frozenset(self.funs)

    # -------------------------------------------------- helpers
    def free(self, t: T) -> frozenset:
        got = self._free.get(id(t))
        if got is None:
            if t.op in ("var", "pvar", "app"):
                got = frozenset((t.data,))
            else:
                got = frozenset()
            for a in t.args:
                got |= self.free(a)
            if t.op in ("sum", "prod", "filter"):
                got = got - {t.data}
            elif t.op in ("forall", "exists"):
                got = got - {t.data[0]}
            if t.op == "app":
                got |= {t.data}
            self._free[id(t)] = got
        return got

    def fresh(self, name: str, ty: str) -> z3.ExprRef:
        self._fresh += 1
        return (z3.Bool if ty == PROP else z3.Int if ty in (NAT, INT) else z3.Real)(f"{name}!{self._fresh}")

    def ground(self, t: T) -> bool:
        """Whether `t` mentions only the statement's own variables (not a bound one)."""
        return self.free(t) <= self.top

    # -------------------------------------------------- terms
    def expr(self, t: T, env: dict) -> z3.ExprRef:
        if t.op != "num" and not self.free(t):
            try:                          # a closed subterm: its exact value
                return _num(value(t, {}), t.ty)
            except (Opaque, ZeroDivisionError, KeyError):
                pass
        op = t.op
        if op == "num":
            return _num(t.data, t.ty)
        if op == "var":
            return env[t.data]
        if op == "cast":
            inner = self.expr(t.args[0], env)
            if t.ty in FIELDS and t.args[0].ty not in FIELDS:
                return z3.ToReal(inner)
            return inner
        if op == "neg":
            return -self.expr(t.args[0], env)
        if op in ("add", "sub", "mul", "div", "mod"):
            a, b = self.expr(t.args[0], env), self.expr(t.args[1], env)
            if op == "add":
                return a + b
            if op == "mul":
                return a * b
            if op == "sub":
                return z3.If(a >= b, a - b, 0) if t.ty == NAT else a - b
            if t.ty in FIELDS:
                if op == "mod":
                    raise NoZ3("% on a field")
                return z3.If(b == 0, z3.RealVal(0), a / b)
            if op == "div":
                return z3.If(b == 0, z3.IntVal(0), a / b)
            return z3.If(b == 0, a, a % b)
        if op == "pow":
            return self.power(t, env)
        if op == "call":
            return self.call(t, env)
        if op == "app" and t.data in self.macros:
            bound, body = self.macros[t.data]
            args = [self.expr(a, env) for a in t.args]
            return self.expr(body, {**self.consts, **dict(zip(bound, args))})
        if op == "app":
            f, v = self.funs[t.data]
            r = f(*[self.expr(a, env) for a in t.args])
            return z3.If(r >= 0, r, -r) if v.ty[2] == NAT else r
        if op in ("sum", "prod"):
            if not self.ground(t.args[0]) or self.free(t.args[0]):
                raise NoZ3("a sum over a range with variable bounds")
            try:
                ks = elements(t.args[0], {})
            except Opaque:
                raise NoZ3("a sum over a range the screen cannot list") from None
            if len(ks) > MAX_UNROLL:
                raise NoZ3("a long sum")
            out = _num(0 if op == "sum" else 1, t.ty)
            for k in ks:
                term = self.expr(t.args[1], {**env, t.data: _num(k, t.args[0].ty.elem)})
                out = out + term if op == "sum" else out * term
            return out
        raise NoZ3(f"no encoding for {op}")

    def power(self, t: T, env: dict) -> z3.ExprRef:
        base_t, exp_t = t.args
        if self.free(exp_t):
            if exp_t.ty in FIELDS:
                self.exact = False
                return self.uninterpreted("Real.rpow", [self.expr(base_t, env), self.expr(exp_t, env)], REAL)
            raise NoZ3("a variable exponent")
        n = value(exp_t, {})
        base = self.expr(base_t, env)
        if exp_t.ty in FIELDS:
            if Fraction(n).denominator != 1:
                self.exact = False
                return self.uninterpreted("Real.rpow", [base, _num(n, REAL)], REAL)
            n = int(n)
        if abs(n) > MAX_POWER:
            raise NoZ3("a large power")
        out = _num(1, t.ty)
        for _ in range(abs(n)):
            out = out * base
        if n < 0:
            return z3.If(base == 0, z3.RealVal(0), 1 / out)
        return out

    def uninterpreted(self, name: str, args: list, ty: str) -> z3.ExprRef:
        key = f"{name}/{len(args)}"
        if key not in self.funs:
            sorts = [a.sort() for a in args]
            self.funs[key] = (z3.Function(name.replace(".", "_") + "_opaque", *sorts, _sort(ty)), None)
        return self.funs[key][0](*args)

    def call(self, t: T, env: dict) -> z3.ExprRef:
        name = t.data
        args = [self.expr(a, env) for a in t.args]
        ground = all(self.ground(a) for a in t.args)
        if name == "abs":
            return z3.If(args[0] >= 0, args[0], -args[0])
        if name in ("min", "max"):
            a, b = args
            return z3.If(a <= b, a, b) if name == "min" else z3.If(a <= b, b, a)
        if name == "Inv.inv":
            return z3.If(args[0] == 0, z3.RealVal(0), 1 / args[0])
        if name in ("Int.floor", "Nat.floor", "Int.ceil", "Nat.ceil", "Int.fract"):
            x = args[0] if t.args[0].ty in FIELDS else z3.ToReal(args[0])
            f = z3.ToInt(x) if "floor" in name or name == "Int.fract" else -z3.ToInt(-x)
            if name == "Int.fract":
                return x - z3.ToReal(f) if t.args[0].ty in FIELDS else z3.IntVal(0)
            return z3.If(f >= 0, f, 0) if name.startswith("Nat.") else f
        if name in ("Int.natAbs",):
            return z3.If(args[0] >= 0, args[0], -args[0])
        if name == "Int.toNat":
            return z3.If(args[0] >= 0, args[0], 0)
        if name == "Nat.succ":
            return args[0] + 1
        if name == "Nat.pred":
            return z3.If(args[0] >= 1, args[0] - 1, 0)
        if name == "Real.sqrt":
            y = self.uninterpreted(name, args, REAL)
            x = args[0]
            definition = z3.Or(z3.And(x <= 0, y == 0), z3.And(x > 0, y >= 0, y * y == x))
            if ground:
                self.side.append(definition)
            elif "sqrt" not in self._axioms:
                self._axioms.add("sqrt")
                v = z3.Real("sqrt_arg!")
                sv = self.uninterpreted(name, [v], REAL)
                self.side.append(z3.ForAll([v], z3.Or(z3.And(v <= 0, sv == 0), z3.And(v > 0, sv >= 0, sv * sv == v)),
                                           patterns=[sv]))
            return y
        # everything else: uninterpreted, with true facts about its ground applications
        self.exact = False
        if name in ("π", "Real.pi"):
            pi = z3.Real("π!")
            if "pi" not in self._axioms:
                self._axioms.add("pi")
                self.side += [pi > z3.RealVal("3.14159"), pi < z3.RealVal("3.1416")]
            return pi
        y = self.uninterpreted(name, args, t.ty)
        if ground:
            self.side += _facts(name, args, y)
        return y

    # -------------------------------------------------- propositions
    def prop(self, p: T, env: dict) -> z3.BoolRef:
        op = p.op
        if op == "true":
            return z3.BoolVal(True)
        if op == "false":
            return z3.BoolVal(False)
        if op == "pvar":
            return env[p.data]
        if op == "not":
            return z3.Not(self.prop(p.args[0], env))
        if op in ("and", "or", "imp", "iff"):
            a, b = self.prop(p.args[0], env), self.prop(p.args[1], env)
            return {"and": z3.And, "or": z3.Or, "imp": z3.Implies, "iff": lambda x, y: x == y}[op](a, b)
        if op == "rel":
            a, b = self.expr(p.args[0], env), self.expr(p.args[1], env)
            if p.data == "∣":
                if p.args[0].ty in FIELDS:
                    return z3.Or(a != 0, b == 0)
                return z3.If(a == 0, b == 0, b % a == 0)
            return {"=": lambda: a == b, "≠": lambda: a != b, "<": lambda: a < b, "≤": lambda: a <= b,
                    ">": lambda: a > b, "≥": lambda: a >= b}[p.data]()
        if op == "pred":
            if not self.free(p):
                v = truth(p, {})
                if v is not None:
                    return z3.BoolVal(v)
            if p.args[0].ty in FIELDS:
                return z3.BoolVal(True)
            x = self.expr(p.args[0], env)
            if p.data == "Even":
                return x % 2 == 0
            if p.data == "Odd":
                return x % 2 == 1
            d = self.fresh("d", INT)
            return z3.And(x >= 2, z3.ForAll([d], z3.Implies(z3.And(d >= 2, d < x), x % d != 0)))
        if op == "mem":
            x = self.expr(p.args[0], env)
            s = p.args[1]
            if s.op in ("range", "Icc", "Ico", "Ioc", "Ioo"):
                bounds = [self.expr(a, env) for a in s.args]
                if s.op == "range":
                    return z3.And(0 <= x, x < bounds[0])
                lo, hi = bounds
                low = lo <= x if s.op in ("Icc", "Ico") else lo < x
                high = x <= hi if s.op in ("Icc", "Ioc") else x < hi
                return z3.And(low, high)
            if self.free(s):
                raise NoZ3("membership in a set with variables")
            try:
                ks = elements(s, {})
            except Opaque:
                raise NoZ3("a set the screen cannot list") from None
            return z3.Or([x == _num(k, p.args[0].ty) for k in ks]) if ks else z3.BoolVal(False)
        if op in ("forall", "exists"):
            return self.quantifier(p, env)
        raise NoZ3(f"no encoding for {op}")

    def quantifier(self, p: T, env: dict) -> z3.BoolRef:
        key, ty = p.data
        body = p.args[0]
        forall = p.op == "forall"
        try:
            domain, exact = domain_of(key, ty, body, forall, {})
        except (Opaque, KeyError):
            domain, exact = [], False
        if exact and len(domain) <= MAX_UNROLL:
            cases = [self.prop(body, {**env, key: z3_value(k) if ty != PROP else z3.BoolVal(k)}) for k in domain]
            return z3.And(cases) if forall else z3.Or(cases)
        if ty == RAT:
            raise NoZ3("a quantifier over ℚ")
        if ty not in ORDER and ty != PROP:
            raise NoZ3(f"a quantifier over {ty}")
        x = self.fresh(key.split("#")[0], ty)
        inner = self.prop(body, {**env, key: x})
        if ty == NAT:
            return z3.ForAll([x], z3.Implies(x >= 0, inner)) if forall else z3.Exists([x], z3.And(x >= 0, inner))
        return z3.ForAll([x], inner) if forall else z3.Exists([x], inner)


def _sort(ty: str) -> z3.SortRef:
    return z3.BoolSort() if ty == PROP else z3.IntSort() if ty in (NAT, INT) else z3.RealSort()


def _facts(name: str, args: list, y: z3.ExprRef) -> list[z3.BoolRef]:
    """True facts about one application (Mathlib lemmas), for the uninterpreted functions."""
    x = args[0] if args else None
    if name == "Real.exp":
        return [y > 0, y >= x + 1]
    if name == "Real.log":
        return [z3.Implies(x > 0, y <= x - 1), z3.Implies(x >= 1, y >= 0), z3.Implies(z3.And(x > 0, x <= 1), y <= 0)]
    if name in ("Real.sin", "Real.cos"):
        return [y >= -1, y <= 1]
    if name == "Real.arctan":
        return [y > -2, y < 2]
    if name == "Real.cosh":
        return [y >= 1]
    if name in ("Nat.factorial",):
        return [y >= 1]
    if name in ("Nat.gcd", "Nat.lcm", "Nat.choose", "Nat.sqrt", "Int.gcd"):
        return [y >= 0]
    return []


def model_value(v: z3.ExprRef):
    """A model's value as an exact Python number (None: irrational, not checkable exactly)."""
    if z3.is_true(v):
        return True
    if z3.is_false(v):
        return False
    if z3.is_int_value(v):
        return v.as_long()
    if z3.is_rational_value(v):
        f = v.as_fraction()
        return f.numerator if f.denominator == 1 else f
    return None


def model_point(enc: Encoder, model: z3.ModelRef, variables: tuple[Var, ...]) -> dict | None:
    """The model's values for the statement's variables (local functions as Python callables),
    or None when one is irrational."""
    point: dict = {}
    for v in variables:
        if isinstance(v.ty, tuple):
            f, _ = enc.funs[v.key]
            _, params, result = v.ty

            def fn(*xs, f=f, params=params, result=result):
                r = model_value(model.eval(f(*[_num(x, p) for x, p in zip(xs, params)]), model_completion=True))
                if r is None:
                    raise Opaque("an irrational function value")
                return abs(r) if result == NAT else r
            point[v.key] = fn
        else:
            r = model_value(model.eval(enc.consts[v.key], model_completion=True))
            if r is None:
                return None
            point[v.key] = r
    return point


def describe_function(enc: Encoder, model: z3.ModelRef, v: Var) -> str:
    f, _ = enc.funs[v.key]
    interp = model[f]
    if interp is None:
        return "fun _ => 0"
    return str(interp).replace("\n", " ")
