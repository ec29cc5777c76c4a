"""The type checker: names resolved against the catalogue, every node typed, every mistake positioned.

Checking happens when a rule is saved, not when it runs, so a rule that passes never fails at evaluation time for a
reason the administrator could have fixed. The checker works in two modes: ``check`` raises the first problem;
``diagnose`` (live editors) keeps going and returns them all, typing a faulty node as ``any`` so one mistake is
reported once rather than at every enclosing operator.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dsl import ast as a
from dsl.catalogue import Catalogue, Field
from dsl.errors import (
    DslArityError,
    DslError,
    DslNameError,
    DslTypeError,
    suggestion_hint,
)
from dsl.functions import ArgumentTypeIssue, function_words
from dsl.functions import lookup as lookup_function
from dsl.lexer import KEYWORDS
from dsl.parser import parse
from dsl.printer import format_decimal, print_expr
from dsl.types import (
    ANY,
    BOOL,
    DATE,
    DURATION,
    NULL,
    NUMBER,
    STRING,
    DslType,
    ListType,
    ObjectType,
    unify,
)

__all__ = ["CheckedExpr", "check", "check_ast", "diagnose"]

_LITERAL_TYPES: dict[str, DslType] = {
    "number": NUMBER,
    "string": STRING,
    "bool": BOOL,
    "null": NULL,
    "date": DATE,
    "duration": DURATION,
}
_ORDERED = ("number", "date", "duration", "null", "any")
_NULLISH = ("null", "any")
_CHINESE_OPS = {"and": "且（and）", "or": "或（or）", "not": "非（not）"}


@dataclass(frozen=True, eq=False)
class CheckedExpr:
    """A parsed and type-checked expression, ready to compile.

    ``reads`` lists the dotted catalogue names the expression reads, so a save re-evaluates only the rules whose
    inputs changed. ``node_types`` and ``node_fields`` (keyed by ``id`` of AST nodes, which this object keeps
    alive) are for compilers.
    """

    source: str
    ast: a.Expr
    type: DslType
    reads: frozenset[str]
    catalogue: Catalogue
    uses_today: bool = False
    node_types: Mapping[int, DslType] = field(default_factory=dict, repr=False)
    node_fields: Mapping[int, Field] = field(default_factory=dict, repr=False)

    def type_of(self, node: a.Expr) -> DslType:
        return self.node_types.get(id(node), ANY)


def check(source: str | a.Expr, catalogue: Catalogue, *, expect: DslType | None = None) -> CheckedExpr:
    """Parse and check ``source`` (or an already-built AST); raise the first :class:`DslError` found."""
    if isinstance(source, str):
        tree = parse(source, catalogue)
        text = source
    else:
        tree, text = source, print_expr(source, catalogue)
    return check_ast(tree, catalogue, source=text, expect=expect)


def check_ast(
    tree: a.Expr, catalogue: Catalogue, *, source: str = "", expect: DslType | None = None
) -> CheckedExpr:
    checker = _Checker(catalogue, source, collect=False)
    result = checker.root(tree, expect)
    return CheckedExpr(
        source,
        tree,
        result,
        frozenset(checker.reads),
        catalogue,
        checker.uses_today,
        checker.types,
        checker.fields,
    )


def diagnose(source: str, catalogue: Catalogue, *, expect: DslType | None = None) -> list[DslError]:
    """Every problem in ``source`` (an empty list means it is fine); for editors that underline as you type."""
    try:
        tree = parse(source, catalogue)
    except DslError as error:
        return [error]
    checker = _Checker(catalogue, source, collect=True)
    checker.root(tree, expect)
    return checker.problems


class _Checker:
    def __init__(self, catalogue: Catalogue, source: str, *, collect: bool) -> None:
        self.catalogue = catalogue
        self.source = source
        self.collect = collect
        self.problems: list[DslError] = []
        self.types: dict[int, DslType] = {}
        self.fields: dict[int, Field] = {}
        self.reads: set[str] = set()
        self.uses_today = False

    # -- plumbing --------------------------------------------------------------------------------------------------

    def fail(self, cls: type[DslError], code: str, node: Any, **fields: Any) -> DslType:
        error = cls.at(code, node, self.source, **fields)
        if not self.collect:
            raise error
        self.problems.append(error)
        return ANY

    def root(self, tree: a.Expr, expect: DslType | None) -> DslType:
        result = self.visit(tree)
        if expect is not None and not expect.accepts(result):
            if expect == BOOL:
                self.fail(DslTypeError, "E304", tree, type=result.zh, type_en=result.en)
            else:
                self.fail(
                    DslTypeError, "E310", tree, expected=expect.zh, expected_en=expect.en, type=result.zh,
                    type_en=result.en,
                )  # fmt: skip
        return result

    def visit(self, node: a.Expr) -> DslType:
        method = getattr(self, "visit_" + type(node).__name__)
        result: DslType = method(node)
        self.types[id(node)] = result
        return result

    # -- leaves ----------------------------------------------------------------------------------------------------

    def visit_Literal(self, node: a.Literal) -> DslType:
        return _LITERAL_TYPES[node.kind]

    def visit_Name(self, node: a.Name) -> DslType:
        found = self.catalogue.lookup(node.dotted)
        if found is not None:
            self.fields[id(node)] = found
            self.reads.add(found.name)
            return found.type
        return self._unknown_name(node)

    def _unknown_name(self, node: a.Name) -> DslType:
        path = node.path
        for cut in range(len(path) - 1, 0, -1):
            parent = self.catalogue.lookup(".".join(path[:cut]))
            if parent is None:
                continue
            inner = parent.type
            while isinstance(inner, ListType):
                inner = inner.item
            if not isinstance(inner, ObjectType):
                return self.fail(
                    DslNameError, "E204", node, name=parent.name, type=parent.type.zh, type_en=parent.type.en
                )
            close = difflib.get_close_matches(path[cut], list(inner), n=3, cutoff=0.4)
            return self.fail(
                DslNameError, "E205", node, parent=parent.name, name=path[cut], suggestions=close,
                hint=suggestion_hint(close, "zh"), hint_en=suggestion_hint(close, "en"),
            )  # fmt: skip
        name = node.dotted
        if len(path) == 1 and lookup_function(name) is not None:
            return self.fail(DslNameError, "E203", node, name=name)
        if name in ("None", "NULL", "Null", "nil", "空", "空值"):
            return self.fail(DslNameError, "E207", node, name=name)
        close = self._suggest(name)
        hint, hint_en = suggestion_hint(close, "zh"), suggestion_hint(close, "en")
        if any(word in name for word in KEYWORDS if not word.isascii()):
            hint += "（名称和关键字连写时，可以用空格分开）"
            hint_en += " (separate names and keywords with spaces)"
        return self.fail(DslNameError, "E201", node, name=name, suggestions=close, hint=hint, hint_en=hint_en)

    def _suggest(self, name: str) -> list[str]:
        names = self.catalogue.names()
        by_label = [f.name for f in self.catalogue if f.label and (f.label == name or name in f.label)]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        return list(dict.fromkeys([*by_label, *close]))[:3]

    # -- operators -------------------------------------------------------------------------------------------------

    def visit_Unary(self, node: a.Unary) -> DslType:
        operand = self.visit(node.operand)
        if node.op == "not":
            if not BOOL.accepts(operand):
                return self.fail(
                    DslTypeError,
                    "E305",
                    node.operand,
                    op=_CHINESE_OPS["not"],
                    type=operand.zh,
                    type_en=operand.en,
                )
            return BOOL
        if operand.kind in ("number", "duration"):
            return operand
        if operand.kind in _NULLISH:
            return ANY
        return self.fail(DslTypeError, "E313", node, type=operand.zh, type_en=operand.en)

    def visit_Binary(self, node: a.Binary) -> DslType:
        left, right = self.visit(node.left), self.visit(node.right)
        result = _arithmetic(node.op, left, right)
        if result is None:
            return self.fail(
                DslTypeError, "E301", node, op=node.op, left=left.zh, right=right.zh, left_en=left.en,
                right_en=right.en,
            )  # fmt: skip
        return result

    def visit_Compare(self, node: a.Compare) -> DslType:
        left, right = self.visit(node.left), self.visit(node.right)
        for side in (node.left, node.right):
            if isinstance(side, a.Literal) and side.kind == "null":
                fix = (
                    ("is not null / 不为空", "'is not null'")
                    if node.op == "!="
                    else ("is null / 为空", "'is null'")
                )
                return self.fail(DslTypeError, "E307", node, fix=fix[0], fix_en=fix[1])
        kinds = {left.kind, right.kind}
        if kinds == {"duration", "number"}:
            number_side = node.right if right.kind == "number" else node.left
            shown = format_decimal(number_side.value) if isinstance(number_side, a.Literal) else "30"
            return self.fail(DslTypeError, "E303", number_side, number=shown)
        if unify(left, right) is None:
            return self.fail(
                DslTypeError, "E302", node, left=left.zh, right=right.zh, left_en=left.en, right_en=right.en
            )
        if node.op not in ("=", "!=") and not (left.kind in _ORDERED and right.kind in _ORDERED):
            shown = left if left.kind not in _NULLISH else right
            return self.fail(DslTypeError, "E312", node, type=shown.zh, type_en=shown.en, op=node.op)
        self._check_enum(node.left, node.right)
        self._check_enum(node.right, node.left)
        return BOOL

    def _check_enum(self, name: a.Expr, value: a.Expr) -> None:
        """A text literal compared with an enum field must be one of its values (else the rule can never fire)."""
        found = self.fields.get(id(name))
        if found is None or not isinstance(value, a.Literal) or value.kind != "string":
            return
        choices = found.meta.get("enum")
        if not choices or value.value in choices:
            return
        texts = [str(c) for c in choices]
        close = difflib.get_close_matches(value.value, texts, n=3, cutoff=0.3)
        self.fail(
            DslNameError, "E206", value, value=value.value, name=found.name, suggestions=close,
            hint=suggestion_hint(close, "zh"), hint_en=suggestion_hint(close, "en"), choices="、".join(texts),
        )  # fmt: skip

    def visit_InList(self, node: a.InList) -> DslType:
        needle, haystack = self.visit(node.needle), self.visit(node.haystack)
        if haystack.kind in _NULLISH:
            return BOOL
        if not isinstance(haystack, ListType):
            return self.fail(DslTypeError, "E306", node.haystack, type=haystack.zh, type_en=haystack.en)
        if unify(needle, haystack.item) is None:
            return self.fail(
                DslTypeError, "E314", node, left=needle.zh, right=haystack.zh, left_en=needle.en,
                right_en=haystack.en,
            )  # fmt: skip
        if isinstance(node.haystack, a.ListExpr):
            for item in node.haystack.items:
                self._check_enum(node.needle, item)
        return BOOL

    def visit_IsNull(self, node: a.IsNull) -> DslType:
        self.visit(node.operand)
        return BOOL

    def visit_Logical(self, node: a.Logical) -> DslType:
        for operand in node.operands:
            kind = self.visit(operand)
            if not BOOL.accepts(kind):
                self.fail(
                    DslTypeError, "E305", operand, op=_CHINESE_OPS[node.op], type=kind.zh, type_en=kind.en
                )
        return BOOL

    def visit_If(self, node: a.If) -> DslType:
        cond = self.visit(node.cond)
        if not BOOL.accepts(cond):
            self.fail(DslTypeError, "E309", node.cond, type=cond.zh, type_en=cond.en)
        then, otherwise = self.visit(node.then), self.visit(node.otherwise)
        result = unify(then, otherwise)
        if result is None:
            return self.fail(
                DslTypeError, "E308", node, left=then.zh, right=otherwise.zh, left_en=then.en,
                right_en=otherwise.en,
            )  # fmt: skip
        return result

    def visit_ListExpr(self, node: a.ListExpr) -> DslType:
        item: DslType = NULL
        for element in node.items:
            kind = self.visit(element)
            unified = unify(item, kind)
            if unified is None:
                self.fail(
                    DslTypeError,
                    "E311",
                    element,
                    left=item.zh,
                    right=kind.zh,
                    left_en=item.en,
                    right_en=kind.en,
                )
                continue
            item = unified
        return ListType(ANY if item.kind == "null" else item)

    def visit_Call(self, node: a.Call) -> DslType:
        arg_types = [self.visit(arg) for arg in node.args]
        function = lookup_function(node.name)
        if function is None:
            close = difflib.get_close_matches(node.name, sorted(function_words()), n=3, cutoff=0.5)
            return self.fail(
                DslNameError, "E202", node, name=node.name, suggestions=close,
                hint=suggestion_hint(close, "zh"), hint_en=suggestion_hint(close, "en"),
            )  # fmt: skip
        count = len(node.args)
        if count < function.min_args or (function.max_args is not None and count > function.max_args):
            return self.fail(
                DslArityError, "E401", node, name=node.name, expected=function.arity_text("zh"),
                expected_en=function.arity_text("en"), actual=count,
            )  # fmt: skip
        if function.uses_today:
            self.uses_today = True
        try:
            result = function.signature(arg_types)
        except ArgumentTypeIssue as issue:
            kind = arg_types[issue.index]
            return self.fail(
                DslTypeError, "E402", node.args[issue.index], name=node.name, index=issue.index + 1,
                expected=issue.expected_zh, expected_en=issue.expected_en, type=kind.zh, type_en=kind.en,
            )  # fmt: skip
        if node.name == "round" and count == 2:
            digits = _constant_number(node.args[1])
            if digits is not None and (digits != digits.to_integral_value() or not -20 <= digits <= 20):
                return self.fail(DslTypeError, "E403", node.args[1])
        return result


def _constant_number(node: a.Expr) -> Decimal | None:
    if isinstance(node, a.Literal) and node.kind == "number":
        return node.value  # type: ignore[no-any-return]
    if isinstance(node, a.Unary) and node.op == "-":
        inner = _constant_number(node.operand)
        return None if inner is None else -inner
    return None


def _arithmetic(op: str, left: DslType, right: DslType) -> DslType | None:
    """Result type of ``left op right``, or None when the operator does not apply (SQL-style, null fits all)."""
    lk, rk = left.kind, right.kind
    if lk in _NULLISH and rk in _NULLISH:
        return ANY
    if lk in _NULLISH or rk in _NULLISH:
        other = rk if lk in _NULLISH else lk
        if op in "*/":
            return NUMBER if other == "number" else None
        if other in ("number", "duration"):
            return left if lk == other else right
        if other == "date":
            return DATE if op == "+" else ANY
        return None
    table = {
        ("+", "number", "number"): NUMBER,
        ("-", "number", "number"): NUMBER,
        ("*", "number", "number"): NUMBER,
        ("/", "number", "number"): NUMBER,
        ("+", "date", "duration"): DATE,
        ("+", "duration", "date"): DATE,
        ("-", "date", "duration"): DATE,
        ("-", "date", "date"): DURATION,
        ("+", "duration", "duration"): DURATION,
        ("-", "duration", "duration"): DURATION,
    }
    return table.get((op, lk, rk))
