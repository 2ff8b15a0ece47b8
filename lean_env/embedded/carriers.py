"""The number types of the fragment, one row each: what every procedure asks about a carrier.

Elaboration, the decision procedures, the simplifier and the cast tactics read a carrier's facts
here (is `-` truncating? is `/` field division? does `decide` compute its order? which Mathlib
classes does it have?) instead of testing `ty == REAL` or `ty in FIELDS` in place. Adding ℂ is
adding a row (unordered: no `LinearOrder`, no `FloorRing`).

`require_same_carrier` is the one check behind `.trans`, `▸`, `calc` and `Eq.subst`: a chain of
relations is one proof only when every link is about the same type (an ℤ `1 - 2 = -1` and an ℕ
`1 - 2 = 0` print alike and must never join).
"""
from __future__ import annotations

from dataclasses import dataclass

from lean_env.embedded.errors import TacticError

NAT, INT, RAT, REAL, COMPLEX = "ℕ", "ℤ", "ℚ", "ℝ", "ℂ"

# Mathlib's algebraic and order classes, grouped by the weakest carrier of the fragment having them.
_SEMIRING = frozenset({
    "Monoid", "CommMonoid", "AddMonoid", "AddCommMonoid", "Semiring", "CommSemiring", "MulZeroClass",
    "AddLeftCancelMonoid", "Nontrivial",
})
_ORDER = frozenset({
    "Preorder", "PartialOrder", "LinearOrder", "OrderedSemiring", "StrictOrderedSemiring", "OrderedCommSemiring",
    "LinearOrderedSemiring", "LinearOrderedCommSemiring", "OrderedAddCommMonoid",
})
_RING = frozenset({"Neg", "Sub", "AddGroup", "AddCommGroup", "Ring", "CommRing"})
_ORDERED_RING = frozenset({
    "OrderedRing", "StrictOrderedRing", "LinearOrderedRing", "LinearOrderedCommRing", "OrderedAddCommGroup",
    "LinearOrderedAddCommGroup", "FloorRing",
})
_FIELD = frozenset({"DivisionRing", "Field", "Semifield", "GroupWithZero", "DivisionSemiring", "Inv", "Div"})
_ORDERED_FIELD = frozenset({"LinearOrderedField", "LinearOrderedSemifield"})


@dataclass(frozen=True)
class Carrier:
    """One number type and the facts about it every procedure of the kernel relies on."""

    name: str                 # as Lean prints it: ℕ
    lean: str                 # the type's constant: Nat
    rank: int                 # coercion order: a carrier casts into every one of higher rank
    ordered: bool             # a linear order (`<`, `≤`, `min`, `|x|`)
    field: bool               # `/` is field division with x / 0 = 0, `x⁻¹` exists, no `%`
    truncating_sub: bool      # `a - b = 0` when b > a (ℕ)
    division: str             # "floor" (Nat.div), "euclid" (Int.ediv/emod), "field"
    computes: bool            # closed arithmetic reduces by `rfl`/`decide` (ℝ's is classical)
    simprocs: bool            # plain simp folds closed arithmetic (core's Nat.reduceAdd, Int.reduceMul, ...);
                              # elsewhere only norm_num does: simp leaves `(2 : ℝ) + 2` alone
    dvd: bool                 # `∣` in the fragment (over a field every nonzero number divides)
    classes: frozenset        # the Mathlib classes it has

    def has(self, cls: str) -> bool:
        return cls == "Type" or cls in self.classes


CARRIERS: dict[str, Carrier] = {c.name: c for c in (
    Carrier(NAT, "Nat", 0, ordered=True, field=False, truncating_sub=True, division="floor", computes=True,
            simprocs=True, dvd=True, classes=_SEMIRING | _ORDER | {"Dvd", "CanonicallyOrderedAddCommMonoid"}),
    Carrier(INT, "Int", 1, ordered=True, field=False, truncating_sub=False, division="euclid", computes=True,
            simprocs=True, dvd=True, classes=_SEMIRING | _ORDER | _RING | _ORDERED_RING | {"Dvd"}),
    Carrier(RAT, "Rat", 2, ordered=True, field=True, truncating_sub=False, division="field", computes=True,
            simprocs=False, dvd=False, classes=_SEMIRING | _ORDER | _RING | _ORDERED_RING | _FIELD | _ORDERED_FIELD),
    Carrier(REAL, "Real", 3, ordered=True, field=True, truncating_sub=False, division="field", computes=False,
            simprocs=False, dvd=False, classes=_SEMIRING | _ORDER | _RING | _ORDERED_RING | _FIELD | _ORDERED_FIELD),
    Carrier(COMPLEX, "Complex", 4, ordered=False, field=True, truncating_sub=False, division="field",
            computes=False, simprocs=False, dvd=False, classes=_SEMIRING | _RING | _FIELD),
)}

NUMBER_TYPES = tuple(sorted(CARRIERS, key=lambda n: CARRIERS[n].rank))   # in coercion order
FIELDS = tuple(n for n in NUMBER_TYPES if CARRIERS[n].field)
LEAN_NAMES = {c.lean: c.name for c in CARRIERS.values()}                 # `Nat` ↦ ℕ


def carrier(ty: object) -> Carrier | None:
    """The row of a number type; None for Prop, a set type, a lemma's type variable, None."""
    return CARRIERS.get(ty) if isinstance(ty, str) and type(ty) is str else None


def is_number(ty: object) -> bool:
    return carrier(ty) is not None


def is_ordered(ty: object) -> bool:
    """A linear order: what `linarith`, `nlinarith`, `positivity` and the order lemmas need."""
    c = carrier(ty)
    return c is not None and c.ordered


def is_field(ty: object) -> bool:
    c = carrier(ty)
    return c is not None and c.field


def truncates(ty: object) -> bool:
    c = carrier(ty)
    return c is not None and c.truncating_sub


def is_integral(ty: object) -> bool:
    """ℕ or ℤ: what `omega`, `interval_cases` and the `<`-unfolding to `+ 1 ≤` are about."""
    c = carrier(ty)
    return c is not None and c.division in ("floor", "euclid")


def computes(ty: object) -> bool:
    c = carrier(ty)
    return c is not None and c.computes


def simp_folds(ty: object) -> bool:
    c = carrier(ty)
    return c is not None and c.simprocs


def has_dvd(ty: object) -> bool:
    c = carrier(ty)
    return c is not None and c.dvd


def has_class(ty: object, cls: str) -> bool:
    c = carrier(ty)
    return cls == "Type" or (c is not None and c.has(cls))


def coerces(src: object, dst: object) -> bool:
    """Is there a coercion `↑ : src → dst` (one step or a chain, as Lean's `NatCast`/`IntCast`/`RatCast`)?"""
    a, b = carrier(src), carrier(dst)
    return a is not None and b is not None and a.rank < b.rank


def join(types) -> str | None:
    """The type the leaves of one operator tree meet at: the largest number type among them."""
    numbers = [t for t in types if carrier(t) is not None]
    return max(numbers, key=lambda t: CARRIERS[t].rank) if numbers else None


class CarrierError(TacticError):
    """Two things that must be about one type are about two."""


def require_same_carrier(left: object, right: object, where: str) -> None:
    """The one-carrier rule of `Eq.trans`, `LE.le.trans`, `▸`, `calc` and `Eq.subst`: both
    relations (or a relation and the term it rewrites) are about the same type. `left`/`right`
    are the carriers; `where` names the construct for the message. A carrier still unknown
    (None: numerals of no fixed type) is no evidence of a mismatch."""
    if left is None or right is None or left == right:
        return
    raise CarrierError(
        f"type mismatch in {where}: the carriers differ, {left} vs {right}\n"
        f"(a relation over {left} cannot be chained with one over {right})")


# Which relations a cast reflects (`↑a R ↑b ↔ a R b`), and between which carriers Mathlib states it:
# `Nat.cast_le`/`Nat.cast_inj`/`Int.cast_lt`/`Rat.cast_le`... hold along every coercion of the
# fragment (ordered fields and rings of characteristic zero), but `Int.natCast_dvd_natCast` is
# ℕ → ℤ only: in ℚ and ℝ every nonzero number divides, so `(2 : ℝ) ∣ 3` while `¬ 2 ∣ 3`.
CAST_REFLECTS_EVERYWHERE = ("=", "≠", "<", "≤", ">", "≥")
CAST_REFLECTS_ONLY = {"∣": {(NAT, INT)}}


def cast_reflects(op: str, src: object, dst: object) -> bool:
    """Does `↑a op ↑b ↔ a op b` hold for the coercion src → dst (a Mathlib `norm_cast` lemma)?"""
    if not coerces(src, dst):
        return False
    if op not in ("=", "≠") and not is_ordered(dst):   # no `<` on ℂ to reflect
        return False
    if op in CAST_REFLECTS_EVERYWHERE:
        return True
    return (src, dst) in CAST_REFLECTS_ONLY.get(op, set())


def lean_type_name(text: str) -> str:
    """`Nat` ↦ ℕ, `ℤ` ↦ ℤ: the type an ascription names."""
    return LEAN_NAMES.get(text, text)
