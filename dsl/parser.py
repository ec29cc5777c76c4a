"""Text → AST: the Lark LALR parser (grammar loaded once) and a transformer that builds :mod:`dsl.ast` nodes.

The transformer runs inline with the LALR parser, so no Lark ``Tree`` is ever built and none escapes this package.
Every failure — Lark's or ours — leaves :func:`parse` as a :class:`~dsl.errors.DslError`; Lark's terminal names
are translated into words an administrator understands by :mod:`dsl.syntax_errors`.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput

from dsl import ast as a
from dsl.errors import DslError, DslLimitError, DslSyntaxError
from dsl.functions import canonical_name, function_words
from dsl.lexer import CURRENT, CatalogueSplitter, LexState, fold_fullwidth
from dsl.limits import LIMITS
from dsl.syntax_errors import from_lark

if TYPE_CHECKING:
    from dsl.catalogue import Catalogue

__all__ = ["parse"]

_MULTIPLIERS = {"%": -2, "万": 4, "亿": 8, "万亿": 12}
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)(%|天|万亿|万|亿)?元?$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")


def _span(first: Any, last: Any) -> a.Span:
    """The span from the start of ``first`` to the end of ``last`` (tokens or nodes)."""
    head = first.span if isinstance(first, a.Node) else _token_span(first)
    tail = last.span if isinstance(last, a.Node) else _token_span(last)
    assert head is not None and tail is not None
    return a.Span(head.line, head.column, tail.end_line, tail.end_column, head.start, tail.end)


def _token_span(token: Token) -> a.Span:
    return a.Span(
        token.line or 1,
        token.column or 1,
        token.end_line or 1,
        token.end_column or 1,
        token.start_pos or 0,
        token.end_pos or 0,
    )


class _AstBuilder(Transformer):  # type: ignore[type-arg]
    """Lark callbacks → AST nodes. Runs inline with the LALR parser."""

    def if_expr(self, c: list[Any]) -> a.If:
        return a.If(c[1], c[3], c[5], span=_span(c[0], c[5]))

    def _chain(self, op: str, c: list[Any]) -> a.Logical:
        operands = tuple(c[::2])
        return a.Logical(op, operands, span=_span(c[0], c[-1]))  # type: ignore[arg-type]

    def or_chain(self, c: list[Any]) -> a.Logical:
        return self._chain("or", c)

    def and_chain(self, c: list[Any]) -> a.Logical:
        return self._chain("and", c)

    def not_expr(self, c: list[Any]) -> a.Unary:
        return a.Unary("not", c[1], span=_span(c[0], c[1]))

    def compare(self, c: list[Any]) -> a.Compare:
        op = {"==": "=", "≠": "!=", "≤": "<=", "≥": ">="}.get(c[1].value, c[1].value)
        return a.Compare(op, c[0], c[2], span=_span(c[0], c[2]))

    def in_list(self, c: list[Any]) -> a.InList:
        return a.InList(c[0], c[2], False, span=_span(c[0], c[2]))

    def not_in_list(self, c: list[Any]) -> a.InList:
        return a.InList(c[0], c[-1], True, span=_span(c[0], c[-1]))

    def is_null(self, c: list[Any]) -> a.IsNull:
        return a.IsNull(c[0], False, span=_span(c[0], c[-1]))

    def is_not_null(self, c: list[Any]) -> a.IsNull:
        return a.IsNull(c[0], True, span=_span(c[0], c[-1]))

    def binary(self, c: list[Any]) -> a.Binary:
        return a.Binary(c[1].value, c[0], c[2], span=_span(c[0], c[2]))

    def negate(self, c: list[Any]) -> a.Unary:
        return a.Unary("-", c[1], span=_span(c[0], c[1]))

    def number(self, c: list[Any]) -> a.Literal:
        token: Token = c[0]
        state = CURRENT.get()
        match = _NUMBER.match(token.value)
        assert match is not None  # the terminal's pattern guarantees it
        digits, suffix = match.groups()
        significant = len(digits.replace(".", "").lstrip("0"))
        if significant > LIMITS.max_digits:
            raise DslLimitError.at("E504", token, state.source, limit=LIMITS.max_digits)
        value = Decimal(digits)
        if suffix == "天":
            if value != value.to_integral_value():
                raise DslSyntaxError.at("E152", token, state.source)
            if value > LIMITS.max_days:
                raise DslLimitError.at("E504", token, state.source, limit=LIMITS.max_digits)
            return a.Literal(timedelta(days=int(value)), "duration", span=_token_span(token))
        if suffix:
            value = value.scaleb(_MULTIPLIERS[suffix])
            if value == value.to_integral_value():
                value = Decimal(int(value))  # 100万 is 1000000, not 1.00E+6
        return a.Literal(value, "number", span=_token_span(token))

    def string(self, c: list[Any]) -> a.Literal:
        raw: str = c[0].value
        if raw.startswith("“"):
            text = raw[1:-1]
        else:
            text = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw[1:-1])
        return a.Literal(text, "string", span=_token_span(c[0]))

    def date(self, c: list[Any]) -> a.Literal:
        token: Token = c[0]
        source = CURRENT.get().source
        if not _ISO_DATE.match(token.value):
            raise DslSyntaxError.at("E149", token, source)
        try:
            value = date.fromisoformat(token.value)
        except ValueError:
            raise DslSyntaxError.at("E127", token, source, token=token.value, token_en=token.value) from None
        return a.Literal(value, "date", span=_token_span(token))

    def true(self, c: list[Any]) -> a.Literal:
        return a.Literal(True, "bool", span=_token_span(c[0]))

    def false(self, c: list[Any]) -> a.Literal:
        return a.Literal(False, "bool", span=_token_span(c[0]))

    def null(self, c: list[Any]) -> a.Literal:
        return a.Literal(None, "null", span=_token_span(c[0]))

    def path(self, c: list[Any]) -> a.Name:
        segments = tuple(t.value[1:-1] if t.type == "QNAME" else t.value for t in c[::2])
        return a.Name(segments, span=_span(c[0], c[-1]))

    def call(self, c: list[Any]) -> a.Call:
        args = c[2] or ()
        return a.Call(canonical_name(c[0].value), tuple(args), span=_span(c[0], c[-1]))

    def list_expr(self, c: list[Any]) -> a.ListExpr:
        items = tuple(c[1] or ())
        if len(items) > LIMITS.max_list:
            state = CURRENT.get()
            raise DslLimitError.at(
                "E503", _span(c[0], c[-1]), state.source, length=len(items), limit=LIMITS.max_list
            )
        return a.ListExpr(items, span=_span(c[0], c[-1]))

    def items(self, c: list[Any]) -> list[Any]:
        return c[::2]

    def paren(self, c: list[Any]) -> Any:
        # Parentheses make no node, but the span takes them in so the parent's source slice stays balanced.
        return dataclasses.replace(c[1], span=_span(c[0], c[2]))


_LARK = Lark.open(
    "grammar.lark",
    rel_to=__file__,
    parser="lalr",
    lexer="basic",
    postlex=CatalogueSplitter(),
    transformer=_AstBuilder(),
    maybe_placeholders=True,
)


def terminals() -> dict[str, tuple[str, str]]:
    """The grammar's terminals: name → (``"re"`` or ``"str"``, pattern). Editors build their highlighter from these,
    so the grammar stays the one definition of what a number, a date or an operator looks like."""
    return {t.name: (t.pattern.type, t.pattern.value) for t in _LARK.terminals}


def parse(source: str, catalogue: Catalogue | None = None) -> a.Expr:
    """Parse ``source`` into an AST, or raise a :class:`DslError` subclass.

    ``catalogue`` supplies the vocabulary for reading Chinese written without spaces; without one, runs of word
    characters are never split (``备注为空`` is then a single name).
    """
    if not isinstance(source, str):
        raise TypeError(f"DSL source must be str, not {type(source).__name__}")
    if len(source) > LIMITS.max_source:
        raise DslLimitError("E501", {"length": len(source), "limit": LIMITS.max_source}, source=source[:200])
    words = catalogue.words() | function_words() if catalogue is not None else function_words()
    text = fold_fullwidth(source)
    state = LexState(source=source, words=words, max_depth=LIMITS.max_depth)
    reset = CURRENT.set(state)
    try:
        tree: a.Expr = _LARK.parse(text)
    except DslError:
        raise
    except UnexpectedInput as exc:
        raise from_lark(exc, state, text) from None
    finally:
        CURRENT.reset(reset)
    if a.depth(tree) > LIMITS.max_depth:
        deepest = _deepest(tree)
        raise DslLimitError.at("E502", deepest, source, limit=LIMITS.max_depth)
    return tree


def _deepest(tree: a.Expr) -> a.Expr:
    """The node at which nesting first exceeds the limit, to point the caret at it."""
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if level > LIMITS.max_depth:
            return node
        stack.extend((child, level + 1) for child in a.children(node))
    return tree
