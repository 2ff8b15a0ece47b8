"""The named functions of the fragment and their types: what `Real.sqrt x`, `|x|` or `min a b`
take and give, for elaboration (`types.py`) to type an application as a leaf of an operator tree.

A parameter or result "α" is the carrier the application is used at, which must have the class
`cls` (`carriers.has_class`): `|x|` needs a linearly ordered additive group, so `|n|` with `n : ℕ`
fails as in Lean. Every function here is opaque to the decision procedures (an atom for
`linarith` and `ring`); what the kernel knows about one is only its lemmas (`lemmas.py`) and the
sign rules of `positivity`. Nothing here needs `terms`, so `terms` can ask what is a function.
"""
from __future__ import annotations

from dataclasses import dataclass

ALPHA = "α"


@dataclass(frozen=True)
class Signature:
    params: tuple[str, ...]   # a concrete type ("ℝ"), or ALPHA
    result: str               # a concrete type, ALPHA, or "Prop" (a predicate)
    cls: str = ""             # the class ALPHA needs


SIGNATURES: dict[str, Signature] = {
    # Mathlib's real functions: total, with junk values outside their domain (√(-1) = 0, log 0 = 0)
    "Real.sqrt": Signature(("ℝ",), "ℝ"),
    "Real.log": Signature(("ℝ",), "ℝ"),
    "Real.exp": Signature(("ℝ",), "ℝ"),
    "Real.logb": Signature(("ℝ", "ℝ"), "ℝ"),   # `Real.logb b x = log x / log b`
    "Real.cos": Signature(("ℝ",), "ℝ"),
    "Real.sin": Signature(("ℝ",), "ℝ"),
    "Real.tan": Signature(("ℝ",), "ℝ"),
    "Real.rpow": Signature(("ℝ", "ℝ"), "ℝ"),   # `x ^ y` with a real exponent, printed so
    # constants are applications to no arguments, so no free variable: `π` is `open Real`'s spelling
    "Real.pi": Signature((), "ℝ"),
    "π": Signature((), "ℝ"),
    # ℂ: `Complex.I` a constant with I * I = -1 (`Complex.I_mul_I`); the rest opaque
    "Complex.I": Signature((), "ℂ"),
    "Complex.abs": Signature(("ℂ",), "ℝ"),
    "Complex.normSq": Signature(("ℂ",), "ℝ"),
    "Complex.re": Signature(("ℂ",), "ℝ"),
    "Complex.im": Signature(("ℂ",), "ℝ"),
    "Complex.exp": Signature(("ℂ",), "ℂ"),
    "abs": Signature((ALPHA,), ALPHA, "LinearOrderedAddCommGroup"),
    "min": Signature((ALPHA, ALPHA), ALPHA, "LinearOrder"),
    "max": Signature((ALPHA, ALPHA), ALPHA, "LinearOrder"),
    "Inv.inv": Signature((ALPHA,), ALPHA, "DivisionRing"),   # `x⁻¹`, with 0⁻¹ = 0
    "zpow": Signature((ALPHA, "ℤ"), ALPHA, "DivisionRing"),   # `x ^ (n : ℤ)`, printed so; `0 ^ (-1) = 0`
    # number theory (`values.VALUES` evaluates them on numerals; otherwise atoms)
    "Nat.gcd": Signature(("ℕ", "ℕ"), "ℕ"),
    "Nat.lcm": Signature(("ℕ", "ℕ"), "ℕ"),
    "Nat.choose": Signature(("ℕ", "ℕ"), "ℕ"),
    "Nat.factorial": Signature(("ℕ",), "ℕ"),   # `n !`
    "Nat.sqrt": Signature(("ℕ",), "ℕ"),        # the floor of the square root
    "Int.natAbs": Signature(("ℤ",), "ℕ"),
    "Int.toNat": Signature(("ℤ",), "ℕ"),
    "Nat.Prime": Signature(("ℕ",), "Prop"),
    "Nat.Coprime": Signature(("ℕ", "ℕ"), "Prop"),
    "Nat.ModEq": Signature(("ℕ", "ℕ", "ℕ"), "Prop"),   # `a ≡ b [MOD n]` is `Nat.ModEq n a b` (definitions.py)
    "Int.ModEq": Signature(("ℤ", "ℤ", "ℤ"), "Prop"),
    "Irrational": Signature(("ℝ",), "Prop"),            # opaque: only its lemmas would know it
    "Nat.minFac": Signature(("ℕ",), "ℕ"),
    "Nat.fib": Signature(("ℕ",), "ℕ"),
    "Nat.log": Signature(("ℕ", "ℕ"), "ℕ"),
    "Int.gcd": Signature(("ℤ", "ℤ"), "ℕ"),
    "Int.lcm": Signature(("ℤ", "ℤ"), "ℕ"),
    "Nat.digits": Signature(("ℕ", "ℕ"), "List ℕ"),   # little-endian; only `List.sum` of it is a number
    "List.sum": Signature(("List ℕ",), "ℕ"),
    "Rat.divInt": Signature(("ℤ", "ℤ"), "ℚ"),   # `n /. d`, the fraction n / d (0 when d = 0)
    "Rat.num": Signature(("ℚ",), "ℤ"),   # `q.num`, `q.den`: of the reduced fraction, den > 0
    "Rat.den": Signature(("ℚ",), "ℕ"),
    # Even/Odd keep their ℕ/ℤ meaning only (over a field every number is `Even`): `Dvd` says ℕ/ℤ
    "Even": Signature((ALPHA,), "Prop", "Dvd"),
    "Odd": Signature((ALPHA,), "Prop", "Dvd"),
    "Int.floor": Signature((ALPHA,), "ℤ", "FloorRing"),
    "Int.ceil": Signature((ALPHA,), "ℤ", "FloorRing"),
    "Nat.floor": Signature((ALPHA,), "ℕ", "FloorRing"),   # ⌊x⌋₊: 0 below 0
    "Nat.ceil": Signature((ALPHA,), "ℕ", "FloorRing"),
    # finite sets, sums and products: binders inside, elaborated and evaluated by `discrete.py`
    "Finset.range": Signature(("ℕ",), "Finset"),
    "Finset.Icc": Signature((ALPHA, ALPHA), "Finset"),
    "Finset.Ico": Signature((ALPHA, ALPHA), "Finset"),
    "Finset.filter": Signature(("fun", "Finset"), "Finset"),
    "Nat.divisors": Signature(("ℕ",), "Finset"),
    "Nat.properDivisors": Signature(("ℕ",), "Finset"),
    "Finset.card": Signature(("Finset",), "ℕ"),
    "Membership.mem": Signature((ALPHA, "Finset"), "Prop"),   # `x ∈ s`, also for a `Set` variable
    "Finset.sum": Signature(("Finset", "fun"), ALPHA),
    "Finset.prod": Signature(("Finset", "fun"), ALPHA),
}


# Mathlib definitions applied like functions, which `definitions.py` unfolds: sets built from a
# predicate or from other sets, and predicates with a definition rather than a decision procedure
SET_BUILDERS = ("setOf", "SDiff.sdiff", "Singleton.singleton", "lowerBounds", "upperBounds")
DEFINED_PREDICATES = ("IsLeast", "IsGreatest", "Function.Injective")


def function_type(params: tuple[str, ...], result: str) -> str:
    """A local function's type as Lean prints it and as the context stores it: "ℕ → ℝ"."""
    return " → ".join(params + (result,))


def local_function(ty: object) -> tuple[tuple[str, ...], str] | None:
    """(parameter types, result type) of a local function variable's type ("ℕ → ℕ → ℤ"); None
    for a number, a proposition or anything else."""
    if not isinstance(ty, str) or " → " not in ty:
        return None
    *params, result = ty.split(" → ")
    return tuple(params), result


# Finite sets, sums and products: applications with a binder inside (`discrete.py` rewrites them,
# `values.py` evaluates them, `types.py` elaborates them).
BIG_OPERATORS = {"Finset.sum": "∑", "Finset.prod": "∏"}
SETS = ("Finset.range", "Finset.Icc", "Finset.Ico", "Finset.filter", "Nat.divisors", "Nat.properDivisors")
BINDER_FUNCTIONS = frozenset(BIG_OPERATORS) | frozenset(SETS) | {"Finset.card", "Membership.mem"}
SET_TYPES = ("Finset", "Set")   # a set variable's type in the context: "Finset ℕ", "Set ℤ"

# `S.card`, `n.divisors`, `n !` spelled `n.factorial`: Lean's dot notation on ℕ/ℤ/Finset values
DOT_FUNCTIONS = {"card": "Finset.card", "divisors": "Nat.divisors", "properDivisors": "Nat.properDivisors",
                 "factorial": "Nat.factorial", "natAbs": "Int.natAbs", "toNat": "Int.toNat",
                 "num": "Rat.num", "den": "Rat.den", "re": "Complex.re", "im": "Complex.im",
                 "sum": "List.sum"}


# `σ : Equiv ℝ ℝ` (`ℝ ≃ ℝ`): two local functions, `σ.toFun` (also `σ.1`, `σ x`) and `σ.invFun`
# (also `σ.2`, `σ.symm`), related only by `σ.left_inv`/`σ.right_inv` (`elab.py`)
EQUIV_FIELDS = {"1": "toFun", "toFun": "toFun", "2": "invFun", "invFun": "invFun", "symm": "invFun"}


def equiv_types(ty: object) -> tuple[str, str] | None:
    """(α, β) for a context type "Equiv α β"; None for anything else."""
    if isinstance(ty, str) and ty.startswith("Equiv "):
        parts = ty.split(" ")
        if len(parts) == 3:
            return parts[1], parts[2]
    return None


def context_entries(name: str, ty: object) -> dict[str, object]:
    """What a variable puts in a typing context: itself, and an equivalence its two functions."""
    out: dict[str, object] = {name: ty}
    eq = equiv_types(ty)
    if eq is not None:
        out[f"{name}.toFun"] = function_type((eq[0],), eq[1])
        out[f"{name}.invFun"] = function_type((eq[1],), eq[0])
    return out


def set_variable(ty: object) -> tuple[str, str] | None:
    """("Finset", "ℕ") for a context type "Finset ℕ"; None for anything else."""
    if isinstance(ty, str) and " " in ty and ty.split(" ", 1)[0] in SET_TYPES:
        kind, elem = ty.split(" ", 1)
        return kind, elem
    return None


def head(t) -> str | None:
    """The function name of an application `f a b` (None for anything else)."""
    fn = getattr(t, "fn", None)
    return getattr(fn, "name", None) if fn is not None and type(fn).__name__ == "Var" else None
