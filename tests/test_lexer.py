"""Lean 4's tokens: comments, literals, identifiers and positions as Lean reads them."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lean_env.rules import forbidden_tactic
from lean_env.lexer import (
    CHAR, COMMENT, IDENT, NAME, NUM, SCI, STR, SYMBOL, LexError, LineIndex, blank_comments, code_tokens,
    numeral_text, numeral_value, tokenize,
)


def kinds_texts(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text)]


def code_words(text: str) -> list[str]:
    return [t.text for t in code_tokens(text)]


def test_a_comment_inside_a_word_separates_it():
    assert code_words("so/- -/rry") == ["so", "rry"]
    assert code_words("so--x\nrry") == ["so", "rry"]
    assert "sorry" not in code_words("nat/--/ive_decide so/-! -/rry")


def test_nested_block_comments_and_doc_comments():
    toks = tokenize("/- a /- b -/ sorry -/ x /-- doc -/ y /-! mod -/ z /--/ w")
    assert [t.text for t in toks if t.kind != COMMENT] == ["x", "y", "z", "w"]
    docs = [t.doc for t in toks if t.kind == COMMENT]
    assert docs == [False, True, True, False]  # `/--/` opens and closes a plain comment


def test_strings_and_chars_hide_comment_markers_and_keywords():
    assert kinds_texts('"a -- b /- c" sorry') == [(STR, '"a -- b /- c"'), (IDENT, "sorry")]
    assert kinds_texts(r'"q\"uote" x') == [(STR, r'"q\"uote"'), (IDENT, "x")]
    assert kinds_texts(r"'a' '\n' '\'' ") == [(CHAR, "'a'"), (CHAR, r"'\n'"), (CHAR, r"'\''")]
    assert kinds_texts('r#"has " inside"# y') == [(STR, 'r#"has " inside"#'), (IDENT, "y")]
    assert kinds_texts('"gap \\\n   continues"')[0][0] == STR


def test_identifiers_follow_lean():
    assert code_words("h₀ x' exact? n! Nat.succ_le «my name».z αβ ℕ") == [
        "h₀", "x'", "exact?", "n!", "Nat.succ_le", "«my name».z", "αβ", "ℕ"]
    # λ, Π, Σ are not letters in Lean; `h.1` is a projection, not a dotted name
    assert code_words("λx") == ["λ", "x"]
    assert kinds_texts("h.1.2") == [(IDENT, "h"), (SYMBOL, "."), (NUM, "1"), (SYMBOL, "."), (NUM, "2")]
    assert tokenize("Nat.«sorry»")[0].name == "Nat.sorry"


def test_numerals():
    assert kinds_texts("42 0x2A 0b101 0o17 1_000 2.5 1e10 2.5E-3") == [
        (NUM, "42"), (NUM, "0x2A"), (NUM, "0b101"), (NUM, "0o17"), (NUM, "1_000"),
        (SCI, "2.5"), (SCI, "1e10"), (SCI, "2.5E-3")]
    assert [numeral_value(t) for t in ("42", "0x2A", "0b101", "0o17", "1_000")] == [42, 42, 5, 15, 1000]


def test_numerals_beyond_pythons_digit_limit():
    big = "9" * 10_000
    assert numeral_value(big) == 10 ** 10_000 - 1
    assert numeral_text(10 ** 10_000 - 1) == big
    assert numeral_text(-(10 ** 5000)) == "-1" + "0" * 5000


def test_symbols_longest_match():
    assert code_words("a <;> b := ⟨x, y⟩ -> c <-> d · #print axioms @[simp]") == [
        "a", "<;>", "b", ":=", "⟨", "x", ",", "y", "⟩", "->", "c", "<->", "d", "·", "#print", "axioms",
        "@[", "simp", "]"]
    assert kinds_texts("`foo ``Nat.succ") == [(NAME, "`foo"), (NAME, "``Nat.succ")]


def test_mathlib_tokens_with_a_prime_are_not_char_literals():
    assert code_words("f ⁻¹' {7} ∪ f '' A ∪ ∑' i, g i ∪ ∏' i, g i ∪ h''") == [
        "f", "⁻¹'", "{", "7", "}", "∪", "f", "''", "A", "∪", "∑'", "i", ",", "g", "i", "∪", "∏'", "i", ",",
        "g", "i", "∪", "h''"]


def test_positions_are_lean_positions():
    text = "theorem t (h₀ : a = 2) :\n  a = 2 := by\n  exact h₀ -- done"
    toks = {t.text: t for t in tokenize(text)}
    colon = tokenize(text)[4]
    assert (toks["exact"].line, toks["exact"].column) == (3, 2)
    assert (colon.text, colon.line, colon.column) == (":", 1, 14)   # columns count codepoints
    assert colon.byte == 16                                         # `₀` is three bytes
    assert (toks["-- done"].end_line, toks["-- done"].end_column) == (3, len("  exact h₀ -- done"))
    lines = LineIndex(text)
    assert lines.position(text.index("exact")) == (3, 2)
    assert lines.offset(3, 2) == text.index("exact")
    assert lines.pos(0) == {"line": 1, "column": 0}


@pytest.mark.parametrize("text, message, line, column", [
    ("/- open\n", "unterminated comment", 2, 0),
    ('x "abc', "unterminated string literal", 1, 2),
    ("a\tb", "tabs are not allowed; please configure your editor to expand them", 1, 1),
    ("'ab", "missing end of character literal", 1, 3),
    ('"\\q"', "invalid escape sequence", 1, 2),
    ("1e+", "missing exponent digits in scientific literal", 1, 3),
])
def test_lean_refuses(text, message, line, column):
    with pytest.raises(LexError) as err:
        tokenize(text)
    assert (err.value.message, err.value.line, err.value.column) == (message, line, column)


def test_lex_error_keeps_the_tokens_before_it():
    with pytest.raises(LexError) as err:
        tokenize("theorem t : True := trivial\n/- never closed")
    assert [t.text for t in err.value.tokens][-1] == "trivial"


def test_blank_comments_keeps_offsets():
    text = "a /- x\n y -/ b -- c\nd \"-- s\""
    blank = blank_comments(text)
    assert len(blank) == len(text) and blank.count("\n") == text.count("\n")
    assert blank.split() == ["a", "b", "d", '"--', 's"']
    assert blank.index("b") == text.index("b")


@pytest.mark.parametrize("text", ["exact h.", "rw #", "#", "exact Nat.", "x.", "h.1.", "«a»."])
def test_text_ending_mid_token_lexes_or_is_refused(text):
    # model-written tactics end anywhere; an internal error here crashed whole search attempts
    try:
        tokenize(text)
    except LexError:
        pass


_ALPHABET = "ab_1 .#«»'\"-/!?:=()⟨⟩ℕ₀αλ\n\\"


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=12))
def test_any_text_lexes_or_gets_a_lex_error(text):
    forbidden_tactic(text)   # the refusal rules never raise: a lexical error is a finding
    try:
        toks = tokenize(text)
    except LexError:
        return
    assert all(0 <= t.start <= t.end <= len(text) for t in toks)
