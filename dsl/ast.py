"""The abstract syntax tree: eleven small immutable node classes.

This is the one representation every back end shares — the Python closure compiler here, the Django ORM compiler in
``rules/``, and a future JavaScript evaluator — so it is deliberately small and explicit:

========== ====================================================================================================
Literal    ``value`` with ``kind`` ∈ number (Decimal ≥ 0), string, bool, null, date, duration (timedelta, days)
Name       ``path``: a catalogue name split at dots, e.g. ``("合同", "金额")``
Unary      ``op`` ∈ ``-``, ``not``
Binary     ``op`` ∈ ``+ - * /``
Compare    ``op`` ∈ ``= != < <= > >=`` (``==`` is read as ``=``)
Logical    ``op`` ∈ ``and``, ``or`` over two or more ``operands`` (a chain written without parentheses)
InList     ``needle in haystack`` or, with ``negated``, ``not in``
IsNull     ``operand is null`` or, with ``negated``, ``is not null``
If         ``if cond then then_ else otherwise``
Call       ``name`` (canonical English name when it is a known function, else as written) and ``args``
ListExpr   ``[items…]``
========== ====================================================================================================

Source positions live in ``span`` and are excluded from equality, so ``parse(print(ast)) == ast`` holds. Negative
numbers are ``Unary("-", Literal(…))``: the parser never produces a negative literal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeAlias
from typing import Literal as Lit

__all__ = [
    "Binary",
    "Call",
    "Compare",
    "Expr",
    "If",
    "InList",
    "IsNull",
    "ListExpr",
    "Literal",
    "Logical",
    "Name",
    "Node",
    "Span",
    "Unary",
    "children",
    "depth",
    "walk",
]


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node was written: 1-based line/column, ``end_column`` exclusive, and 0-based character offsets."""

    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int


class Node:
    """Base of all nodes; gives them position accessors that errors understand."""

    __slots__ = ()
    span: Span | None

    @property
    def line(self) -> int:
        return self.span.line if self.span else 1

    @property
    def column(self) -> int:
        return self.span.column if self.span else 1

    @property
    def end_line(self) -> int:
        return self.span.end_line if self.span else 1

    @property
    def end_column(self) -> int:
        return self.span.end_column if self.span else 2


LiteralKind = Lit["number", "string", "bool", "null", "date", "duration"]
_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "number": (Decimal,),
    "string": (str,),
    "bool": (bool,),
    "null": (type(None),),
    "date": (date,),
    "duration": (timedelta,),
}


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant. ``kind`` is explicit so ``true`` and ``1`` never compare equal as Python values would."""

    value: Any
    kind: LiteralKind
    span: Span | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.value, _KIND_TYPES[self.kind]) or (
            self.kind == "number" and type(self.value) is bool
        ):
            raise ValueError(f"literal of kind {self.kind} cannot hold {self.value!r}")


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A reference to a catalogue field; ``path`` holds the dotted segments as written."""

    path: tuple[str, ...]
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: Lit["-", "not"]
    operand: Expr
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: Lit["+", "-", "*", "/"]
    left: Expr
    right: Expr
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: Lit["=", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """``a and b and c`` is one node with three operands; parentheses keep nested chains apart."""

    op: Lit["and", "or"]
    operands: tuple[Expr, ...]
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class InList(Node):
    needle: Expr
    haystack: Expr
    negated: bool = False
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    operand: Expr
    negated: bool = False
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class If(Node):
    cond: Expr
    then: Expr
    otherwise: Expr
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Expr, ...]
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    items: tuple[Expr, ...]
    span: Span | None = field(default=None, compare=False, repr=False)


Expr: TypeAlias = Literal | Name | Unary | Binary | Compare | Logical | InList | IsNull | If | Call | ListExpr


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``node``, in source order."""
    if isinstance(node, Literal | Name):
        return ()
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary | Compare):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, InList):
        return (node.needle, node.haystack)
    if isinstance(node, IsNull):
        return (node.operand,)
    if isinstance(node, If):
        return (node.cond, node.then, node.otherwise)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, ListExpr):
        return node.items
    raise TypeError(f"not a DSL node: {node!r}")


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children (iterative, so deep trees cannot overflow the stack)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def depth(node: Expr) -> int:
    """Height of the tree (a lone literal has depth 1), computed without recursion."""
    best = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        best = max(best, level)
        stack.extend((child, level + 1) for child in children(current))
    return best
