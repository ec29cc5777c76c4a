"""AST → canonical source text, such that ``parse(print_expr(ast)) == ast``.

The printer is how tools rewrite rules (renaming a field, normalising full-width input) and how an AST built by code
becomes something an administrator can read. It emits the minimum parentheses the binding powers require, ASCII
operators and English keywords, ``"…"`` texts with backslash escapes, and back-quotes for names that are not plain
identifiers, are keywords, or — given the catalogue the text will be parsed with — would be split into pieces.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from dsl import ast as a
from dsl.functions import function_words
from dsl.lexer import KEYWORDS, fold_fullwidth, split_run

if TYPE_CHECKING:
    from dsl.catalogue import Catalogue

__all__ = ["format_decimal", "print_expr"]

_IDENTIFIER = re.compile(r"(?!\d)\w+")
_ESCAPE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}

# Binding powers, loosest first; operands print at (power of their slot) and get parentheses when looser.
_IF, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = range(9)


def format_decimal(value: Decimal) -> str:
    """Plain positional notation (``1000000``, ``0.05``), never exponents, which the grammar does not read."""
    return format(value, "f")


def print_expr(node: a.Expr, catalogue: Catalogue | None = None) -> str:
    """Source text for ``node``. Pass the ``catalogue`` the text will be parsed with so splittable names get quoted."""
    words = (catalogue.words() if catalogue is not None else frozenset()) | function_words()
    return _Printer(words).expr(node, _IF)


class _Printer:
    def __init__(self, words: frozenset[str]) -> None:
        self.words = words

    def expr(self, node: a.Expr, slot: int) -> str:
        power, text = self._render(node)
        return f"({text})" if power < slot else text

    def _render(self, node: a.Expr) -> tuple[int, str]:
        if isinstance(node, a.Literal):
            return _ATOM, _literal(node)
        if isinstance(node, a.Name):
            return _ATOM, ".".join(self._segment(segment) for segment in node.path)
        if isinstance(node, a.Call):
            args = ", ".join(self.expr(arg, _IF) for arg in node.args)
            return _ATOM, f"{node.name}({args})"
        if isinstance(node, a.ListExpr):
            return _ATOM, "[" + ", ".join(self.expr(item, _IF) for item in node.items) + "]"
        if isinstance(node, a.Unary):
            if node.op == "-":
                return _NEG, "-" + self.expr(node.operand, _NEG)
            return _NOT, "not " + self.expr(node.operand, _NOT)
        if isinstance(node, a.Binary):
            power = _ADD if node.op in "+-" else _MUL
            return power, f"{self.expr(node.left, power)} {node.op} {self.expr(node.right, power + 1)}"
        if isinstance(node, a.Compare):
            return _CMP, f"{self.expr(node.left, _ADD)} {node.op} {self.expr(node.right, _ADD)}"
        if isinstance(node, a.InList):
            op = "not in" if node.negated else "in"
            return _CMP, f"{self.expr(node.needle, _ADD)} {op} {self.expr(node.haystack, _ADD)}"
        if isinstance(node, a.IsNull):
            return _CMP, f"{self.expr(node.operand, _ADD)} is {'not ' if node.negated else ''}null"
        if isinstance(node, a.Logical):
            power = _OR if node.op == "or" else _AND
            return power, f" {node.op} ".join(self.expr(operand, power + 1) for operand in node.operands)
        if isinstance(node, a.If):
            cond, then, otherwise = (self.expr(n, _IF) for n in (node.cond, node.then, node.otherwise))
            return _IF, f"if {cond} then {then} else {otherwise}"
        raise TypeError(f"not a DSL node: {node!r}")

    def _segment(self, segment: str) -> str:
        if "`" in segment or "\n" in segment or not segment:
            raise ValueError(f"name segment {segment!r} cannot be written in the DSL")
        bare = (
            _IDENTIFIER.fullmatch(segment) is not None
            and KEYWORDS.get(segment.lower() if segment.isascii() else segment) is None
            and fold_fullwidth(segment) == segment
            and not (segment not in self.words and split_run(segment, self.words))
        )
        return segment if bare else f"`{segment}`"


def _literal(node: a.Literal) -> str:
    value = node.value
    if node.kind == "number":
        return format_decimal(value)
    if node.kind == "string":
        return '"' + "".join(_ESCAPE.get(char, char) for char in value) + '"'
    if node.kind == "bool":
        return "true" if value else "false"
    if node.kind == "null":
        return "null"
    if node.kind == "date":
        assert isinstance(value, date)
        return value.isoformat()
    assert isinstance(value, timedelta)
    return f"{value.days}天"
