"""Turn Lark's parse failures into messages an administrator understands.

Lark reports an unexpected token and the set of terminal names it would have accepted (``RPAR``, ``__ANON_0`` …).
We never show those: the failing token, the tokens before it and the expected set are matched against the common
mistakes catalogued in :mod:`dsl.codes` (``=>``, a missing operand, an unclosed bracket, ``30 天`` …) and,
failing a specific match, described in words (``这里需要运算符或右括号 )``).
"""

from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dsl.errors import DslSyntaxError
from dsl.functions import lookup
from dsl.lexer import LexState

__all__ = ["from_lark"]

_OPERAND_START = frozenset(
    {
        "NAME",
        "QNAME",
        "NUMBER",
        "STRING",
        "DATE",
        "TRUE",
        "FALSE",
        "NULL",
        "LPAR",
        "LSQB",
        "MINUS",
        "NOT",
        "IF",
    }
)
_OPERATORS = frozenset(
    {
        "COMP_OP",
        "PLUS",
        "MINUS",
        "STAR",
        "SLASH",
        "AND",
        "OR",
        "IN",
        "NOT_IN",
        "IS",
        "IS_NULL",
        "NOT_NULL",
        "DOT",
    }
)
_BREAKS = frozenset({"AND", "OR", "NOT", "LPAR", "LSQB", "COMMA", "IF", "THEN", "ELSE"})
_CLOSERS = {"RPAR": "LPAR", "RSQB": "LSQB"}

# Expected-terminal groups, described in words.
_WORDS: list[tuple[frozenset[str], str, str]] = [
    (
        frozenset({"NAME", "NUMBER", "STRING", "LPAR"}),
        "名称、数字、文本等值",
        "a value (name, number, text …)",
    ),
    (frozenset({"COMP_OP", "PLUS", "STAR", "AND", "OR"}), "运算符", "an operator"),
    (frozenset({"RPAR"}), "右括号 )", "')'"),
    (frozenset({"RSQB"}), "右方括号 ]", "']'"),
    (frozenset({"COMMA"}), "逗号 ,", "','"),
    (frozenset({"THEN"}), "then（那么）", "'then'"),
    (frozenset({"ELSE"}), "else（否则）", "'else'"),
    (frozenset({"NULL"}), "null", "'null'"),
    (frozenset({"$END"}), "表达式结束", "the end of the expression"),
]


def _describe(expected: set[str]) -> tuple[str, str]:
    zh, en = [], []
    for group, words_zh, words_en in _WORDS:
        if group & expected:
            zh.append(words_zh)
            en.append(words_en)
    if not zh:
        return "其他内容", "something else"
    return "或".join(zh), " or ".join(en)


def _shown(token: Token) -> tuple[str, str]:
    if token.type == "$END":
        return "表达式结尾", "the end of the expression"
    return f"「{token.value}」", f"'{token.value}'"


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _error(
    code: str, state: LexState, first: Token, last: Token | None = None, **fields: object
) -> DslSyntaxError:
    last = last or first
    if first.type == "$END":
        line, column = _position(state.source, len(state.source))
        return DslSyntaxError(
            code, fields, source=state.source, line=line, column=column, end_column=column + 1
        )
    return DslSyntaxError(
        code,
        fields,
        source=state.source,
        line=first.line or 1,
        column=first.column or 1,
        end_line=last.end_line,
        end_column=last.end_column,
    )


def _token_fields(token: Token) -> dict[str, str]:
    zh, en = _shown(token)
    return {"token": zh, "token_en": en}


def from_lark(exc: UnexpectedInput, state: LexState, text: str) -> DslSyntaxError:
    """The most specific :class:`DslSyntaxError` for a Lark failure on ``text`` (the folded source)."""
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, state, text)
    assert isinstance(exc, UnexpectedToken)
    return _bad_token(exc, state, text)


def _bad_character(exc: UnexpectedCharacters, state: LexState, text: str) -> DslSyntaxError:
    offset = exc.pos_in_stream
    char = text[offset]
    line, column = exc.line, exc.column

    def at(code: str, width: int = 1, **fields: object) -> DslSyntaxError:
        return DslSyntaxError(
            code, fields, source=state.source, line=line, column=column, end_column=column + width
        )

    rest_of_line = len(text[offset:].split("\n", 1)[0])
    if char in ('"', "“"):
        return at("E105", rest_of_line)
    if char in ("'", "‘", "’"):
        return at("E115", rest_of_line)
    if char == "`":
        return at("E123", rest_of_line)
    if char in "&|":
        width = 2 if text[offset : offset + 2] in ("&&", "||") else 1
        shown = text[offset : offset + width]
        return at("E110" if char == "&" else "E111", width, token=f"「{shown}」", token_en=f"'{shown}'")
    if char == "!":
        return at("E112")
    if char == "%":
        return at("E125")
    if char == ":":
        return at("E146", 2 if text[offset : offset + 2] == ":=" else 1)
    return at("E116", token=f"「{char}」", token_en=f"'{char}' (U+{ord(char):04X})")


def _bad_token(exc: UnexpectedToken, state: LexState, text: str) -> DslSyntaxError:
    token: Token = exc.token
    expected = set(exc.expected)
    tokens = state.tokens
    before = tokens[:-1] if tokens and tokens[-1] is token else tokens
    previous = before[-1] if before else None
    kind = token.type
    adjacent = previous is not None and kind != "$END" and previous.end_pos == token.start_pos
    wants_operand = "NAME" in expected

    if kind == "$END":
        if not tokens:
            return _error("E100", state, token)
        unclosed = _unclosed(tokens)
        pending = _pending_if(tokens)
        if pending == "THEN" and not wants_operand:
            return _error("E119", state, token)
        if pending == "ELSE" and not wants_operand:
            return _error("E118", state, token)
        if wants_operand and previous is not None:
            return _error("E102", state, previous, **_token_fields(previous))
        if unclosed is not None:
            code = "E103" if unclosed.type == "LPAR" else "E122"
            return _error(code, state, unclosed, open_line=unclosed.line, open_column=unclosed.column)
        return _error("E101", state, token, **_token_fields(token), **_expected_fields(expected))

    if previous is not None and adjacent and previous.type == "COMP_OP" and kind == "COMP_OP":
        pair = previous.value + token.value
        code = {"=>": "E106", "=<": "E107", "<>": "E108", "===": "E128", "==>": "E106"}.get(pair)
        if code:
            return _error(code, state, previous, token)
    if previous is not None and previous.type == "IS" and kind not in ("NULL", "NOT"):
        return _error("E130", state, token)
    if len(before) >= 2 and before[-2].type == "IS" and previous is not None and previous.type == "NOT":
        return _error("E130", state, token)
    if previous is not None and previous.type == "NOT" and not wants_operand:
        return _error("E129", state, previous)
    if kind == "NAME" and not wants_operand:
        lowered = token.value.lower()
        if lowered == "between":
            return _error("E139", state, token)
        if lowered in ("like", "ilike", "contains", "包含", "匹配"):
            return _error("E140", state, token, **_token_fields(token))
    if kind in _CLOSERS and _unmatched_closer(before, kind):
        return _error("E104", state, token, **_token_fields(token))
    if kind == "RPAR" and previous is not None and previous.type == "LPAR":
        return _error("E120", state, previous, token)
    if kind in _CLOSERS and previous is not None and previous.type == "COMMA":
        return _error("E121", state, previous)
    if (
        kind == "COMMA" and previous is not None and previous.type == "NUMBER" and adjacent
        and re.match(r"\d{3}(?!\d)", text[token.end_pos :])
    ):  # fmt: skip
        return _error("E124", state, previous, token)
    if kind == "IF" and wants_operand:
        return _error("E151", state, token)
    if kind == "COMP_OP" and not wants_operand and _inside_comparison(before):
        return _error("E141", state, token)
    if kind in _OPERAND_START and not wants_operand:
        if previous is not None and previous.type == "NAME" and lookup(previous.value) and kind != "LPAR":
            return _error("E142", state, previous, **_token_fields(previous))
        pending = _pending_if(before)
        if pending == "THEN" and "THEN" in expected:
            return _error("E119", state, token)
        if pending == "ELSE" and "ELSE" in expected:
            return _error("E118", state, token)
        return _error("E114", state, token, **_token_fields(token))
    if wants_operand and (kind in _OPERATORS or kind in ("COMMA", "RPAR", "RSQB", "THEN", "ELSE")):
        if previous is None or previous.type in ("LPAR", "LSQB", "COMMA"):
            return _error("E113", state, token, **_token_fields(token))
        return _error("E102", state, previous, **_token_fields(previous))
    return _error("E101", state, token, **_token_fields(token), **_expected_fields(expected))


def _expected_fields(expected: set[str]) -> dict[str, str]:
    zh, en = _describe(expected)
    return {"expected": zh, "expected_en": en}


def _unclosed(tokens: list[Token]) -> Token | None:
    stack: list[Token] = []
    for token in tokens:
        if token.type in ("LPAR", "LSQB"):
            stack.append(token)
        elif token.type in _CLOSERS and stack:
            stack.pop()
    return stack[-1] if stack else None


def _unmatched_closer(before: list[Token], kind: str) -> bool:
    depth = 0
    for token in before:
        if token.type in ("LPAR", "LSQB"):
            depth += 1
        elif token.type in _CLOSERS:
            depth -= 1
    return depth <= 0


def _inside_comparison(before: list[Token]) -> bool:
    """Whether a comparison was already made at this bracket level since the last and/or/not/bracket."""
    depth = 0
    for token in reversed(before):
        if token.type in _CLOSERS:
            depth += 1
        elif token.type in ("LPAR", "LSQB"):
            if depth == 0:
                return False
            depth -= 1
        elif depth == 0 and token.type in _BREAKS:
            return False
        elif depth == 0 and token.type in ("COMP_OP", "IN", "NOT_IN", "IS", "IS_NULL", "NOT_NULL"):
            return True
    return False


def _pending_if(before: list[Token]) -> str | None:
    """Which keyword the innermost open ``if`` at the current bracket level still waits for, if any."""
    levels: list[list[str]] = [[]]
    for token in before:
        kind = token.type
        if kind in ("LPAR", "LSQB"):
            levels.append([])
        elif kind in _CLOSERS and len(levels) > 1:
            levels.pop()
        elif kind == "IF":
            levels[-1].append("THEN")
        elif kind == "THEN" and levels[-1] and levels[-1][-1] == "THEN":
            levels[-1][-1] = "ELSE"
        elif kind == "ELSE" and levels[-1] and levels[-1][-1] == "ELSE":
            levels[-1].pop()
    return levels[-1][-1] if levels[-1] else None
