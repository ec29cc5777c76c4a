"""台账 DSL: the expression language for conditions, computed indicators, approval guards and validations.

A pure-Python pipeline, importing nothing from Django::

    source ──parse──▶ AST ──check(catalogue)──▶ CheckedExpr ──compile──▶ CompiledExpr.evaluate(record)
                                                                            └──────▶ .explain(record) → Trace

Semantics are those of DESIGN.md ("The DSL"); the user guide is ``docs/dsl.md`` and every error code is documented
in ``docs/dsl-errors.md``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dsl.ast import (
    Binary,
    Call,
    Compare,
    Expr,
    If,
    InList,
    IsNull,
    ListExpr,
    Literal,
    Logical,
    Name,
    Span,
    Unary,
)
from dsl.catalogue import Catalogue, Field, default_getter
from dsl.checker import CheckedExpr, check, diagnose
from dsl.compiler import CompiledExpr, compile, compile_expr
from dsl.errors import (
    DslAmbiguityError,
    DslArityError,
    DslError,
    DslEvalError,
    DslLimitError,
    DslNameError,
    DslSyntaxError,
    DslTypeError,
)
from dsl.explain import SKIPPED, Trace
from dsl.functions import FUNCTIONS, Function, register
from dsl.limits import LIMITS
from dsl.parser import parse
from dsl.printer import print_expr
from dsl.types import ANY, BOOL, DATE, DURATION, NULL, NUMBER, STRING, DslType, ListType, ObjectType

__all__ = [
    "ANY",
    "BOOL",
    "DATE",
    "DURATION",
    "FUNCTIONS",
    "LIMITS",
    "NULL",
    "NUMBER",
    "SKIPPED",
    "STRING",
    "Binary",
    "Call",
    "Catalogue",
    "CheckedExpr",
    "Compare",
    "CompiledExpr",
    "DslAmbiguityError",
    "DslArityError",
    "DslError",
    "DslEvalError",
    "DslLimitError",
    "DslNameError",
    "DslSyntaxError",
    "DslType",
    "DslTypeError",
    "Expr",
    "Field",
    "Function",
    "If",
    "InList",
    "IsNull",
    "ListExpr",
    "ListType",
    "Literal",
    "Logical",
    "Name",
    "ObjectType",
    "Span",
    "Trace",
    "Unary",
    "check",
    "compile",
    "compile_expr",
    "default_getter",
    "diagnose",
    "evaluate",
    "parse",
    "print_expr",
    "register",
]


def evaluate(source: str, record: Any, catalogue: Catalogue, *, today: date | None = None) -> Any:
    """Check, compile and evaluate ``source`` once — for scripts and tests; rules should compile once and reuse."""
    return compile(check(source, catalogue)).evaluate(record, today=today)
