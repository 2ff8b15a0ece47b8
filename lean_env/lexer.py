"""Lean 4's tokens, with their positions: one lexer for everything that reads Lean text.

Lean has no separate lexer (its parser reads tokens on demand, see `Lean.Parser.Basic`), but the
token shapes are fixed, and they are what decide what a piece of text *is*:

- a comment (`--` to the end of the line, nested `/- ... -/`) separates tokens like whitespace, so
  `so/- -/rry` is the two identifiers `so` and `rry`, never the keyword `sorry`;
- `--` or `sorry` inside a string literal is part of the string;
- doc comments (`/-- ... -/`, `/-! ... -/`) are tokens of their own in Lean; here they are
  comments with `doc=True`, since nothing downstream elaborates them.

Identifier characters follow `Lean.isIdFirst` / `isIdRest` (`Char.isAlpha` is ASCII in Lean; the
non-ASCII letters are Greek without λ Π Σ, the letter-like block with ℕ ℤ ℝ, Latin-1 and
Latin Extended-A letters, mathematical alphanumerics, and subscripts). So `h₀`, `x'`, `exact?`,
`Nat.succ_le`, `«my name»` are single identifiers, while `h.1` is `h` `.` `1` as Lean reads it.
Keywords are identifiers by shape (`sorry`, `fun`, `at`): compare `Token.text`.

Positions are what the Lean REPL reports: `line` from 1, `column` from 0 in codepoints (Lean's
`FileMap.toPosition`); `start`/`end` are character offsets into the text, `byte` is the UTF-8
offset. Text Lean refuses (a tab, an unterminated comment or string) raises `LexError` with Lean's
message and position; `LexError.tokens` holds the tokens read before it.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterator

IDENT = "ident"          # identifier or keyword: `h₀`, `Nat.succ`, `«a b»`, `sorry`, `_`
NUM = "num"              # natural number literal: `42`, `0x2A`, `0b101`, `1_000`; `h.1` field index `1`
SCI = "sci"              # scientific literal: `1.5`, `2e10`, `2.`
STR = "str"              # string literal, raw string literal: `"a\n"`, `r#"x"#`
CHAR = "char"            # character literal: `'a'`, `'\n'`
NAME = "name"            # name literal: `` `foo ``, ``` ``foo ```
SYMBOL = "symbol"        # everything else: `:=`, `⟨`, `<;>`, `·`, `#print`, `@[`
COMMENT = "comment"      # `-- ...`, `/- ... -/`, and doc comments (`doc=True`)

# Multi-character symbols, longest first where one is a prefix of another (Lean matches the
# longest token in its token table; any other character is a one-character symbol).
_SYMBOLS = sorted(
    [
        ":=", "::", "<;>", "<->", "->", "<-", "=>", "<=", ">=", "!=", "==", "&&", "||", "++", "...",
        "..", "<|>", "<|", "|>.", "|>", "@[", "#[", "%[", "^^^", "<<<", ">>>", ">>=", ">>", "<*>",
        "<*", "*>", "<$>", "⁻¹", "|||", "&&&",
        # Mathlib's tokens with a prime (preimage, image, tsum, tprod): never a char literal
        "⁻¹'", "''", "∑'", "∏'",
    ],
    key=len,
    reverse=True,
)
_BLANKS = re.compile(r"[ \n]+")
_ASCII_IDENT_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_'!?]*")
_DECIMAL = re.compile(r"[0-9][0-9_]*")
_SYMBOLS_BY_FIRST: dict[str, list[str]] = {}
for _sym in _SYMBOLS:
    _SYMBOLS_BY_FIRST.setdefault(_sym[0], []).append(_sym)
_QUOTABLE = set("\\\"'rnt")
_HEX = set("0123456789abcdefABCDEF")


class LexError(ValueError):
    """Text that Lean's tokenizer refuses; `message` is Lean's wording."""

    def __init__(self, message: str, offset: int, line: int, column: int, tokens: list["Token"]):
        super().__init__(f"{line}:{column}: {message}")
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
        self.tokens = tokens


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str           # exactly as written (with quotes, guillemets, comment markers)
    start: int          # character offset of the first character
    end: int            # character offset just past the last character
    line: int           # 1-based line of `start`
    column: int         # 0-based codepoint column of `start`
    end_line: int
    end_column: int
    byte: int           # UTF-8 byte offset of `start`
    doc: bool = False   # a `/-- -/` or `/-! -/` doc comment

    @property
    def name(self) -> str:
        """An identifier's name with `«»` escapes removed: `Nat.«sorry»` is `Nat.sorry`."""
        if self.kind != IDENT or "«" not in self.text:
            return self.text
        return ".".join(part.removeprefix("«").removesuffix("»") for part in split_name(self.text))


def is_letter_like(c: str) -> bool:
    if len(c) != 1:   # `at` answers "" past the end of the text
        return False
    v = ord(c)
    return ((0x3B1 <= v <= 0x3C9 and v != 0x3BB)                     # Greek lower, not λ
            or (0x391 <= v <= 0x3A9 and v not in (0x3A0, 0x3A3))     # Greek upper, not Π Σ
            or 0x3CA <= v <= 0x3FB                                   # Coptic
            or 0x1F00 <= v <= 0x1FFE                                 # polytonic Greek
            or 0x2100 <= v <= 0x214F                                 # letter-like block: ℕ ℤ ℝ
            or 0x1D49C <= v <= 0x1D59F                               # script, double-struck, Fraktur
            or (0xC0 <= v <= 0xFF and v not in (0xD7, 0xF7))         # Latin-1 letters, not × ÷
            or 0x100 <= v <= 0x17F)                                  # Latin Extended-A


def is_subscript_alnum(c: str) -> bool:
    if len(c) != 1:
        return False
    v = ord(c)
    return 0x2080 <= v <= 0x2089 or 0x2090 <= v <= 0x209C or 0x1D62 <= v <= 0x1D6A or v == 0x2C7C


def is_id_first(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_" or is_letter_like(c)


def is_id_rest(c: str) -> bool:
    return (is_id_first(c) or "0" <= c <= "9" or c in "'!?" or is_subscript_alnum(c))


class LineIndex:
    """Character offset <-> (line, column) for one text, the way Lean's `FileMap` counts."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        row = bisect.bisect_right(self.starts, offset) - 1
        return row + 1, offset - self.starts[row]

    def offset(self, line: int, column: int) -> int:
        return self.starts[max(0, min(line - 1, len(self.starts) - 1))] + column

    def pos(self, offset: int) -> dict:
        """The REPL's `{"line": .., "column": ..}` object for an offset."""
        line, column = self.position(offset)
        return {"line": line, "column": column}


def tokenize(text: str, *, comments: bool = True) -> list[Token]:
    """All tokens of `text` in order (without comments when `comments=False`); raises LexError."""
    return [t for t in _Lexer(text).run() if comments or t.kind != COMMENT]


def code_tokens(text: str) -> list[Token]:
    """The tokens that mean something: everything but comments."""
    return tokenize(text, comments=False)


def blank_comments(text: str, tokens: list[Token] | None = None) -> str:
    """`text` with every comment replaced by spaces (newlines kept): same length, same offsets,
    same lines and columns, and a comment still separates the words around it. Raises LexError.
    Pass `tokens` (from `tokenize(text)`) to avoid reading the text twice."""
    out = list(text)
    for t in tokenize(text) if tokens is None else tokens:
        if t.kind == COMMENT:
            for i in range(t.start, t.end):
                if out[i] != "\n":
                    out[i] = " "
    return "".join(out)


def split_name(text: str) -> list[str]:
    """`Nat.«a.b».c` -> `["Nat", "«a.b»", "c"]`: the components of a dotted identifier."""
    parts, cur, escaped = [], [], False
    for c in text:
        if c == "«":
            escaped = True
        elif c == "»":
            escaped = False
        if c == "." and not escaped:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts


def numeral_value(text: str) -> int:
    """The value of a NUM token (`42`, `0x2A`, `0b101`, `0o17`, `1_000`), however many digits:
    Python's int() refuses decimal strings past 4300 digits, Lean does not."""
    s = text.replace("_", "")
    if len(s) > 2 and s[0] == "0" and s[1] in "xXbBoO":
        return int(s[2:], {"x": 16, "b": 2, "o": 8}[s[1].lower()])  # power-of-two bases: no limit
    if len(s) <= 4000:
        return int(s)
    # split in halves: value = high * 10^len(low) + low (each half under the limit eventually)
    half = len(s) // 2
    return numeral_value(s[:half]) * 10 ** (len(s) - half) + numeral_value(s[half:])


def numeral_text(n: int) -> str:
    """`str(n)` for an int of any size (the inverse of `numeral_value`), for printing goals."""
    if n < 0:
        return "-" + numeral_text(-n)
    if n.bit_length() <= 13_000:   # under 3914 digits: always within str()'s limit, and fast
        return str(n)
    digits = n.bit_length() * 3 // 10  # a lower bound on the decimal digit count
    half = max(1, digits // 2)
    high, low = divmod(n, 10 ** half)
    return numeral_text(high) + numeral_text(low).rjust(half, "0")


class _Lexer:
    def __init__(self, text: str):
        self.text = text
        self.n = len(text)
        self.lines = LineIndex(text)
        self.tokens: list[Token] = []
        self._byte_at = 0     # UTF-8 offset of `_byte_pos`, advanced incrementally
        self._byte_pos = 0
        self._row = 0         # line index of the last position asked
        self.ascii = text.isascii()

    # -- helpers
    def at(self, i: int) -> str:
        return self.text[i] if i < self.n else ""

    def error(self, message: str, offset: int) -> LexError:
        line, col = self.lines.position(offset)
        return LexError(message, offset, line, col, list(self.tokens))

    def byte(self, offset: int) -> int:
        if self.ascii:
            return offset
        self._byte_at += len(self.text[self._byte_pos:offset].encode("utf-8", "surrogatepass"))
        self._byte_pos = offset
        return self._byte_at

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of an offset at or after the last one asked: tokens come in order."""
        starts = self.lines.starts
        while self._row + 1 < len(starts) and starts[self._row + 1] <= offset:
            self._row += 1
        return self._row + 1, offset - starts[self._row]

    def emit(self, kind: str, start: int, end: int, doc: bool = False) -> None:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        self.tokens.append(Token(kind, self.text[start:end], start, end, line, col, end_line, end_col,
                                 self.byte(start), doc))

    # -- the main loop
    def run(self) -> list[Token]:
        i = 0
        while i < self.n:
            c = self.text[i]
            if c == "\t":
                raise self.error("tabs are not allowed; please configure your editor to expand them", i)
            if c == "\r":
                if self.at(i + 1) != "\n":
                    raise self.error("isolated carriage returns are not allowed", i)
                i += 1
            elif c == " " or c == "\n":
                i = _BLANKS.match(self.text, i).end()
            elif c.isspace():
                i += 1
            elif c == "-" and self.at(i + 1) == "-":
                j = self.text.find("\n", i)
                j = self.n if j < 0 else j
                if j > i and self.text[j - 1] == "\r":
                    j -= 1
                self.emit(COMMENT, i, j)
                i = j
            elif c == "/" and self.at(i + 1) == "-":
                i = self.block_comment(i)
            else:
                i = self.token(i)
        return self.tokens

    def block_comment(self, i: int) -> int:
        nxt = self.at(i + 2)
        doc = (nxt == "-" and self.at(i + 3) != "/") or nxt == "!"   # `/--/` is a plain comment
        j, depth = i + 2, 1
        while j < self.n:
            if self.text.startswith("-/", j):
                depth -= 1
                j += 2
                if depth == 0:
                    self.emit(COMMENT, i, j, doc)
                    return j
            elif self.text.startswith("/-", j):
                depth += 1
                j += 2
            else:
                j += 1
        raise self.error("unterminated comment", self.n)

    def token(self, i: int) -> int:
        c = self.text[i]
        if c == '"':
            return self.string(i)
        if c == "'" and self.at(i + 1) != "'":
            return self.char(i)
        if "0" <= c <= "9":
            return self.number(i)
        if c == "`":
            j = i + 1 + (self.at(i + 1) == "`")
            if is_id_first(self.at(j)) or self.at(j) == "«":
                end = self.ident_end(j)
                self.emit(NAME, i, end)
                return end
        if c == "r" and self._raw_string_start(i + 1):
            return self.raw_string(i)
        if is_id_first(c) or c == "«":
            end = self.ident_end(i)
            self.emit(IDENT, i, end)
            return end
        if c == "#" and is_id_first(self.at(i + 1)):   # `#print`, `#eval`: command keywords
            j = i + 1
            while j < self.n and is_id_rest(self.text[j]):
                j += 1
            self.emit(SYMBOL, i, j)
            return j
        for sym in _SYMBOLS_BY_FIRST.get(c, ()):
            if self.text.startswith(sym, i):
                self.emit(SYMBOL, i, i + len(sym))
                return i + len(sym)
        self.emit(SYMBOL, i, i + 1)
        return i + 1

    def ident_end(self, i: int) -> int:
        """End of the dotted identifier starting at `i` (Lean's `identFnAux`)."""
        while True:
            if self.at(i) == "«":
                j = self.text.find("»", i + 1)
                if j < 0:
                    raise self.error("unterminated identifier escape", i + 1)
                i = j + 1
            else:
                m = _ASCII_IDENT_PART.match(self.text, i)
                i = m.end() if m else i + 1
                while i < self.n and is_id_rest(self.text[i]):
                    i += 1
            # a `.` continues the name only when a name part follows it at once
            if self.at(i) == "." and (is_id_first(self.at(i + 1)) or self.at(i + 1) == "«"):
                i += 1
                continue
            return i

    def digits(self, i: int, ok, expecting: str, need: bool) -> int:
        """Digits with `_` separators (Lean's `takeDigitsFn`): a `_` must be followed by a digit."""
        while True:
            c = self.at(i)
            if c == "_":
                need, i = True, i + 1
            elif c and ok(c):
                need, i = False, i + 1
            elif need:
                raise self.error(f"unexpected character; expected {expecting}", i)
            else:
                return i

    def number(self, i: int) -> int:
        prev = self.tokens[-1] if self.tokens else None
        if prev is not None and prev.text == "." and prev.end == i:
            # a field index (`h.1`, `p.2.1`): digits only, the next `.` is another projection
            j = i
            while "0" <= self.at(j) <= "9":
                j += 1
            self.emit(NUM, i, j)
            return j
        if self.text[i] == "0" and self.at(i + 1) in ("b", "B", "o", "O", "x", "X"):
            base = self.at(i + 1).lower()
            ok, what = {
                "b": (lambda c: c in "01", "binary number"),
                "o": (lambda c: "0" <= c <= "7", "octal number"),
                "x": (lambda c: c in _HEX, "hexadecimal number"),
            }[base]
            j = self.digits(i + 2, ok, what, need=True)
            self.emit(NUM, i, j)
            return j
        isdigit = lambda c: "0" <= c <= "9"  # noqa: E731 -- ASCII digits only, like Lean
        j = _DECIMAL.match(self.text, i).end()
        if self.text[j - 1] == "_":   # a `_` separator must be followed by a digit
            raise self.error("unexpected character; expected decimal number", j)
        if self.at(j) not in (".", "e", "E"):
            self.emit(NUM, i, j)
            return j
        if self.at(j) == ".":
            j += 1
            if isdigit(self.at(j)):
                j = self.digits(j, isdigit, "decimal number", need=False)
        if self.at(j) in ("e", "E"):
            k = j + 1
            if self.at(k) in ("+", "-"):
                k += 1
            if not isdigit(self.at(k)):
                raise self.error("missing exponent digits in scientific literal", k)
            j = self.digits(k, isdigit, "decimal number", need=False)
        self.emit(SCI, i, j)
        return j

    def escape(self, i: int, in_string: bool) -> int:
        """After a backslash at i-1: the end of the escape (Lean's `quotedCharCoreFn`)."""
        c = self.at(i)
        if not c:
            raise self.error("unexpected end of input", i)
        if c in _QUOTABLE:
            return i + 1
        if c in ("x", "u"):
            count = 2 if c == "x" else 4
            for k in range(i + 1, i + 1 + count):
                if self.at(k) not in _HEX:
                    raise self.error("invalid hexadecimal numeral", k)
            return i + 1 + count
        if in_string and c == "\n":   # a string gap: `\`, newline, indentation
            j = i + 1
            while j < self.n and self.text[j] in " \t\r":
                j += 1
            if self.at(j) == "\n":
                raise self.error("unexpected additional newline in string gap", j)
            return j
        raise self.error("invalid escape sequence", i)

    def string(self, i: int) -> int:
        j = i + 1
        while j < self.n:
            c = self.text[j]
            if c == '"':
                self.emit(STR, i, j + 1)
                return j + 1
            j = self.escape(j + 1, in_string=True) if c == "\\" else j + 1
        raise self.error("unterminated string literal", i)

    def char(self, i: int) -> int:
        j = i + 1
        if j >= self.n:
            raise self.error("unexpected end of input", j)
        j = self.escape(j + 1, in_string=False) if self.text[j] == "\\" else j + 1
        if self.at(j) != "'":
            raise self.error("missing end of character literal", j + 1 if j < self.n else j)
        self.emit(CHAR, i, j + 1)
        return j + 1

    def _raw_string_start(self, j: int) -> bool:
        while self.at(j) == "#":
            j += 1
        return self.at(j) == '"'

    def raw_string(self, i: int) -> int:
        j = i + 1
        hashes = 0
        while self.text[j] == "#":
            hashes, j = hashes + 1, j + 1
        closing = '"' + "#" * hashes
        k = self.text.find(closing, j + 1)
        if k < 0:
            raise self.error("unterminated raw string literal", i)
        self.emit(STR, i, k + len(closing))
        return k + len(closing)


def identifiers(text: str) -> Iterator[Token]:
    """The identifier tokens of `text` (comments and literals skipped). Raises LexError."""
    return (t for t in tokenize(text) if t.kind == IDENT)
