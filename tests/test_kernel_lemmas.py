"""The lemma table: every line is a typed statement with a known class, and the classes decide
where a lemma applies (ℕ is a semiring, ℤ a ring)."""
from __future__ import annotations

import pytest

from lean_env.embedded.lemmas import LIBRARY, TABLE
from lean_env.embedded.terms import NAT, INT, NUMBER_TYPES, REAL, Num, Quant, TyVar, Typed, children
from lean_env.embedded.types import ElabError, check_class, has_class, type_vars


def _nodes(t):
    yield t
    for c in children(t):
        yield from _nodes(c)


def test_every_line_is_one_lemma_with_a_unique_name():
    lines = [l for l in TABLE.strip().splitlines() if l.strip()]
    assert len(LIBRARY) == len(lines)


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_statements_are_fully_elaborated(name):
    lemma = LIBRARY[name]
    for node in _nodes(lemma.statement):
        assert not isinstance(node, Typed)
        if isinstance(node, Quant):
            assert node.ty is not None
        if isinstance(node, Num):
            assert node.ty is not None
    tvs = type_vars(lemma.statement) | {ty for _, ty in lemma.implicit if isinstance(ty, TyVar)}
    if name.startswith(("Nat.", "Int.")):
        assert not tvs, name          # about ℕ or ℤ only
    for tv in tvs:
        assert any(has_class(ty, tv.cls) for ty in NUMBER_TYPES), (name, tv.cls)


def test_classes_follow_mathlib_instances():
    assert has_class(NAT, "OrderedSemiring") and has_class(INT, "OrderedSemiring")
    assert not has_class(NAT, "CommRing") and has_class(INT, "CommRing")
    assert not has_class(NAT, "AddGroup") and not has_class(INT, "Field")
    assert has_class(REAL, "LinearOrderedField") and has_class(REAL, "CommRing") and not has_class(REAL, "Dvd")
    with pytest.raises(ElabError, match="failed to synthesize\n  CommRing ℕ"):
        check_class(TyVar("α", "CommRing"), NAT)


def test_core_names_people_type_exist():
    for name in ("Nat.add_zero", "Nat.pow_succ", "Nat.succ_le", "Nat.zero_le", "Nat.succ_pos", "sub_sq",
                 "add_comm", "mul_pos", "Nat.cast_sub", "Nat.cast_le", "sq_nonneg", "le_antisymm"):
        assert name in LIBRARY, name
