"""Everything between the raw text and Lark's parser: full-width folding, keywords, and splitting Chinese runs.

Chinese is written without spaces, so ``预算>=100万且类别="住建"`` reaches the lexer with ``且类别`` as one run of
word characters. :class:`CatalogueSplitter` (a Lark post-lexer) cuts such runs into catalogue names and keywords:

* a run that is a known word — a catalogue name segment, a function name, or a keyword — stays whole, so
  ``非税收入`` and ``或然负债`` are names when the catalogue has them;
* otherwise every way of cutting the run into known words is considered, keeping only readings a grammar could
  accept (no two names side by side, ``为空`` only after a value …); the reading with the fewest pieces — longest
  names first — wins;
* two or more readings with equally few pieces are a genuine ambiguity: :class:`DslAmbiguityError` lists them;
* a run with no complete reading is left whole, and the checker reports it as an unknown name.

Keywords are matched exactly (English ones case-insensitively); a field spelled exactly like a keyword needs
back-quotes. Full-width punctuation typed by Chinese input methods is folded to ASCII by :func:`fold_fullwidth`,
character for character, so positions never shift.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from lark import Token
from lark.lark import PostLex

from dsl.errors import DslAmbiguityError, DslLimitError, DslSyntaxError

__all__ = [
    "KEYWORDS",
    "CatalogueSplitter",
    "LexState",
    "fold_fullwidth",
    "split_run",
]

#: spelling → terminal type. Chinese spellings also join the vocabulary of the splitter.
KEYWORDS: dict[str, str] = {
    "and": "AND", "且": "AND", "并且": "AND",
    "or": "OR", "或": "OR", "或者": "OR",
    "not": "NOT", "非": "NOT",
    "in": "IN", "属于": "IN", "不属于": "NOT_IN",
    "is": "IS", "null": "NULL",
    "true": "TRUE", "是": "TRUE", "false": "FALSE", "否": "FALSE",
    "if": "IF", "如果": "IF", "then": "THEN", "那么": "THEN", "else": "ELSE", "否则": "ELSE",
    "为空": "IS_NULL", "不为空": "NOT_NULL",
}  # fmt: skip

_CHINESE_KEYWORDS = {word: kind for word, kind in KEYWORDS.items() if not word.isascii()}

# Grammatical role of a piece inside a run, for rejecting readings no grammar could accept.
_OPERAND, _PREFIX, _INFIX, _POSTFIX = "operand", "prefix", "infix", "postfix"
_ROLE = {
    "AND": _INFIX, "OR": _INFIX, "IN": _INFIX, "NOT_IN": _INFIX, "THEN": _INFIX, "ELSE": _INFIX,
    "NOT": _PREFIX, "IF": _PREFIX,
    "IS_NULL": _POSTFIX, "NOT_NULL": _POSTFIX,
    "TRUE": _OPERAND, "FALSE": _OPERAND,
}  # fmt: skip
_FOLLOWS: dict[str | None, frozenset[str]] = {
    None: frozenset({_OPERAND, _PREFIX, _INFIX, _POSTFIX}),
    _OPERAND: frozenset({_INFIX, _POSTFIX}),
    _PREFIX: frozenset({_OPERAND, _PREFIX}),
    _INFIX: frozenset({_OPERAND, _PREFIX}),
    _POSTFIX: frozenset({_INFIX}),
}

# Full-width forms (U+FF01–FF5E) map to ASCII by a fixed offset; a few more marks that Chinese IMEs produce.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD.update({ord("【"): ord("["), ord("】"): ord("]"), ord("、"): ord(","), ord("。"): ord(".")})
_FOLD.update({ord("×"): ord("*"), ord("÷"): ord("/"), 0x3000: ord(" ")})


def fold_fullwidth(source: str) -> str:
    """Fold full-width punctuation to ASCII outside texts, back-quoted names and comments; same length as input.

    ``＂…＂`` delimiters become ``"`` while the text inside keeps its characters; an unclosed quote is left for the
    lexer to report (``E105``).
    """
    if source.isascii():
        return source
    out: list[str] = []
    index, size = 0, len(source)
    while index < size:
        char = source[index]
        folded = char.translate(_FOLD)
        if folded in ('"', "“", "`"):
            closer = {'"': ('"', "＂"), "“": ("”",), "`": ("`", "｀")}[folded]
            end = _find_close(source, index + 1, closer, escapes=folded == '"')
            if end < 0:
                out.append(source[index:])
                break
            close_char = '"' if folded == '"' else ("`" if folded == "`" else "”")
            out.append(folded + source[index + 1 : end] + close_char)
            index = end + 1
        elif folded == "#":
            end = source.find("\n", index)
            end = size if end < 0 else end
            out.append("#" + source[index + 1 : end])
            index = end
        else:
            out.append(folded)
            index += 1
    return "".join(out)


def _find_close(source: str, start: int, closers: tuple[str, ...], *, escapes: bool) -> int:
    index = start
    while index < len(source):
        char = source[index]
        if char == "\n":
            return -1
        if escapes and char == "\\":
            index += 2
            continue
        if char in closers:
            return index
        index += 1
    return -1


@dataclass
class LexState:
    """Per-parse state shared with the post-lexer through a context variable (Lark builds its lexer once)."""

    source: str
    words: frozenset[str]
    max_depth: int
    tokens: list[Token] = field(default_factory=list)
    opened: list[Token] = field(default_factory=list)


CURRENT: ContextVar[LexState] = ContextVar("dsl_lex_state")

_NUMBER_UNIT = re.compile(r"(天|万亿|万|亿|元)")
_TIME_UNIT = re.compile(r"(个月|月|周|星期|年|小时|分钟|日)$")
_CN_DATE = re.compile(r"年\d{1,2}月(\d{1,2}日?)?$")


class CatalogueSplitter(PostLex):
    """Lark post-lexer: keyword typing, run splitting, bracket depth and a few lexical mistakes."""

    always_accept = ("NAME",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        state = CURRENT.get()
        tokens = state.tokens
        for token in stream:
            pieces = self._name(token, state) if token.type == "NAME" else (token,)
            for piece in pieces:
                self._check(piece, state)
                tokens.append(piece)
                yield piece

    def _name(self, token: Token, state: LexState) -> tuple[Token, ...]:
        value = token.value
        keyword = KEYWORDS.get(value.lower() if value.isascii() else value)
        if keyword:
            return (Token.new_borrow_pos(keyword, value, token),)
        if value in state.words or not any(word in value for word in _CHINESE_KEYWORDS):
            return (token,)
        readings = split_run(value, state.words)
        if not readings:
            return (token,)
        if len(readings) > 1:
            shown = "、".join("「" + " ".join(reading) + "」" for reading in readings)
            raise DslAmbiguityError.at(
                "E701", token, state.source, run=value, readings=shown, reading_list=readings
            )
        out = []
        offset = 0
        for piece in readings[0]:
            start = token.start_pos + offset
            kind = _CHINESE_KEYWORDS.get(piece, "NAME")
            out.append(
                Token(
                    kind,
                    piece,
                    start,
                    token.line,
                    token.column + offset,
                    token.line,
                    token.column + offset + len(piece),
                    start + len(piece),
                )
            )
            offset += len(piece)
        return tuple(out)

    def _check(self, token: Token, state: LexState) -> None:
        """Bracket depth limit, and mistakes the grammar would accept or misreport (dates with slashes, units)."""
        kind = token.type
        if kind in ("LPAR", "LSQB"):
            state.opened.append(token)
            if len(state.opened) > state.max_depth:
                raise DslLimitError.at("E502", token, state.source, limit=state.max_depth)
        elif kind in ("RPAR", "RSQB") and state.opened:
            state.opened.pop()
        previous = state.tokens[-1] if state.tokens else None
        if previous is None or previous.type != "NUMBER":
            return
        if kind == "NAME":
            adjacent = previous.end_pos == token.start_pos
            unit = _NUMBER_UNIT.match(token.value)
            if _CN_DATE.match(token.value) and adjacent:
                raise _span_error("E149", previous, token, state)
            if _TIME_UNIT.match(token.value):
                raise DslSyntaxError.at("E150", token, state.source, unit=token.value)
            if unit and not adjacent:
                code = "E109" if unit.group(1) == "天" else "E126"
                raise _span_error(code, previous, token, state, number=previous.value, unit=unit.group(1))
        elif kind == "SLASH" and len(state.tokens) >= 3:
            first, slash, second = state.tokens[-3:]
            if (
                first.type == "NUMBER" and slash.type == "SLASH" and second.type == "NUMBER"
                and len(first.value) == 4 and first.value.isdigit() and previous is second
                and first.end_pos == slash.start_pos and second.end_pos == token.start_pos
            ):  # fmt: skip
                raise _span_error("E149", first, token, state)


def _span_error(code: str, first: Token, last: Token, state: LexState, **fields: object) -> DslSyntaxError:
    return DslSyntaxError(
        code,
        fields,
        source=state.source,
        line=first.line,
        column=first.column,
        end_line=last.end_line,
        end_column=last.end_column,
    )


def split_run(run: str, words: frozenset[str], limit: int = 4) -> list[tuple[str, ...]]:
    """All minimal readings of ``run`` as known words and Chinese keywords (at most ``limit``); [] if none.

    Dynamic programming from the end of the run over (position, role of the previous piece), so even a long run
    costs O(length × longest word). A reading is minimal when no valid reading has fewer pieces.
    """
    vocabulary = words | _CHINESE_KEYWORDS.keys()
    longest = max((len(word) for word in vocabulary), default=1)
    size = len(run)
    roles: list[str | None] = [None, _OPERAND, _PREFIX, _INFIX, _POSTFIX]
    # best[position][role] = (count, readings); count is None when the suffix cannot be read at all.
    best: list[dict[str | None, tuple[int | None, list[tuple[str, ...]]]]] = [{} for _ in range(size + 1)]
    for role in roles:
        best[size][role] = (0, [()])
    for position in range(size - 1, -1, -1):
        candidates: list[tuple[str, str]] = []
        for length in range(min(longest, size - position), 0, -1):
            piece = run[position : position + length]
            if piece in _CHINESE_KEYWORDS:
                candidates.append((piece, _ROLE[_CHINESE_KEYWORDS[piece]]))
            elif piece in vocabulary:
                candidates.append((piece, _OPERAND))
        for role in roles:
            count: int | None = None
            readings: list[tuple[str, ...]] = []
            for piece, piece_role in candidates:
                if piece_role not in _FOLLOWS[role]:
                    continue
                rest_count, rest = best[position + len(piece)][piece_role]
                if rest_count is None:
                    continue
                total = rest_count + 1
                if count is None or total < count:
                    count, readings = total, [(piece, *tail) for tail in rest][:limit]
                elif total == count:
                    readings.extend((piece, *tail) for tail in rest)
                    del readings[limit:]
            best[position][role] = (count, readings)
    return best[0][None][1]
