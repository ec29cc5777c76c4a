"""Specialised closures: the shapes the compiler fuses so evaluation costs about what hand-written code does.

Each comparison operator gets its own closure body so the operator is a bytecode, not a call; a plain field read
(default dict accessor, one key) is inlined as ``r.get(key)``; null tests and the ``x / 0 → null`` rule are written
out in each body. Every closure takes ``(record, today)``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from dsl.catalogue import Field, default_getter
from dsl.types import ListType
from dsl.values import coercer

Fn = Callable[[Any, Any], Any]

OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
NEGATE = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


class Const:
    """A value known at compile time (a literal, or a folded constant sub-expression)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Read:
    """A field read: ``key`` is set when it is a plain ``record.get(key)`` (default accessor, one segment)."""

    __slots__ = ("cls", "coerce", "fn", "key")

    def __init__(self, fn: Fn, key: str | None, coerce: Any, cls: type | None) -> None:
        self.fn, self.key, self.coerce, self.cls = fn, key, coerce, cls


Built = Const | Read | Fn


def as_fn(built: Built) -> Fn:
    if isinstance(built, Const):
        value = built.value
        return lambda r, t: value
    if isinstance(built, Read):
        return built.fn
    return built


def read_field(found: Field, getter: Any) -> Read:
    """The closure reading ``found`` from a record, validating the value against the field's type."""
    coerce, cls = coercer(found.type, found.name)
    path = found.path
    if getter is None and len(path) == 1:
        key = path[0]
        if coerce is None:
            return Read(lambda r, t: r.get(key), key, None, None)
        if cls is None:

            def read_list(r: Any, t: Any) -> Any:
                v = r.get(key)
                return None if v is None else coerce(v)

            return Read(read_list, key, coerce, cls)

        def read_checked(r: Any, t: Any) -> Any:
            v = r.get(key)
            if v is None or v.__class__ is cls:
                return v
            return coerce(v)

        return Read(read_checked, key, coerce, cls)
    get = getter or default_getter
    if coerce is None:
        return Read(lambda r, t: get(r, path), None, None, None)
    list_item = isinstance(found.type, ListType)

    def read_path(r: Any, t: Any) -> Any:
        v = get(r, path)
        if v is None or (not list_item and v.__class__ is cls):
            return v
        return coerce(v)

    return Read(read_path, None, coerce, cls)


# -- specialised closures --------------------------------------------------------------------------------------------
# Each comparison operator gets its own closure body so the operator is a bytecode, not a call.


def cmp_key_const(op: str, key: str, c: Any, coerce: Any, cls: type | None) -> Fn:
    if coerce is None:
        if op == "=":
            equal: Any = lambda r, t: None if (v := r.get(key)) is None else v == c  # noqa: E731
            equal.eq_test = (key, c)  # lets a root and-chain inline it (see chains.entry)
            return equal
        if op == "!=":
            return lambda r, t: None if (v := r.get(key)) is None else v != c
        if op == "<":
            return lambda r, t: None if (v := r.get(key)) is None else v < c
        if op == "<=":
            return lambda r, t: None if (v := r.get(key)) is None else v <= c
        if op == ">":
            return lambda r, t: None if (v := r.get(key)) is None else v > c
        return lambda r, t: None if (v := r.get(key)) is None else v >= c
    if op == "=":

        def f(r: Any, t: Any) -> Any:
            v = r.get(key)
            if v is None:
                return None
            if v.__class__ is not cls:
                v = coerce(v)
            return v == c
    elif op == "!=":

        def f(r: Any, t: Any) -> Any:
            v = r.get(key)
            if v is None:
                return None
            if v.__class__ is not cls:
                v = coerce(v)
            return v != c
    elif op == "<":

        def f(r: Any, t: Any) -> Any:
            v = r.get(key)
            if v is None:
                return None
            if v.__class__ is not cls:
                v = coerce(v)
            return v < c
    elif op == "<=":

        def f(r: Any, t: Any) -> Any:
            v = r.get(key)
            if v is None:
                return None
            if v.__class__ is not cls:
                v = coerce(v)
            return v <= c
    elif op == ">":

        def f(r: Any, t: Any) -> Any:
            v = r.get(key)
            if v is None:
                return None
            if v.__class__ is not cls:
                v = coerce(v)
            return v > c
    else:

        def f(r: Any, t: Any) -> Any:
            v = r.get(key)
            if v is None:
                return None
            if v.__class__ is not cls:
                v = coerce(v)
            return v >= c

    return f


def cmp_fn_const(op: str, g: Fn, c: Any) -> Fn:
    if op == "=":
        return lambda r, t: None if (v := g(r, t)) is None else v == c
    if op == "!=":
        return lambda r, t: None if (v := g(r, t)) is None else v != c
    if op == "<":
        return lambda r, t: None if (v := g(r, t)) is None else v < c
    if op == "<=":
        return lambda r, t: None if (v := g(r, t)) is None else v <= c
    if op == ">":
        return lambda r, t: None if (v := g(r, t)) is None else v > c
    return lambda r, t: None if (v := g(r, t)) is None else v >= c


def cmp_fn_fn(op: str, f: Fn, g: Fn) -> Fn:
    compare = OPS[op]

    def cmp(r: Any, t: Any) -> Any:
        x = f(r, t)
        if x is None:
            return None
        y = g(r, t)
        return None if y is None else compare(x, y)

    return cmp


def cmp_arith_keys_const(op: str, aop: str, k1: str, k2: str, c1: Any, c2: Any, c: Any) -> Fn:
    """``(r[k1] aop r[k2]) op c`` in one closure; the arithmetic is one C call, the comparison inline."""
    arith = OPS[aop]
    divide = aop == "/"
    D = Decimal
    if divide and op in (">", ">=", "<", "<="):
        return cmp_ratio_const(op, k1, k2, c1, c2, c)
    if op == ">":

        def f(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D:
                x = c1(x)
            if y.__class__ is not D:
                y = c2(y)
            if divide and not y:
                return None
            return arith(x, y) > c
    elif op == ">=":

        def f(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D:
                x = c1(x)
            if y.__class__ is not D:
                y = c2(y)
            if divide and not y:
                return None
            return arith(x, y) >= c
    elif op == "<":

        def f(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D:
                x = c1(x)
            if y.__class__ is not D:
                y = c2(y)
            if divide and not y:
                return None
            return arith(x, y) < c
    elif op == "<=":

        def f(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D:
                x = c1(x)
            if y.__class__ is not D:
                y = c2(y)
            if divide and not y:
                return None
            return arith(x, y) <= c
    else:
        compare = OPS[op]

        def f(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D:
                x = c1(x)
            if y.__class__ is not D:
                y = c2(y)
            if divide and not y:
                return None
            return compare(arith(x, y), c)

    return f


def cmp_ratio_const(op: str, k1: str, k2: str, c1: Any, c2: Any, c: Any) -> Fn:
    """``r[k1] / r[k2] ⊙ c`` — the commonest threshold shape (超支率, 执行率) — with the division inline."""
    D = Decimal
    if op == ">":

        def f(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D or y.__class__ is not D:
                x, y = c1(x), c2(y)
            return None if not y else x / y > c
    elif op == ">=":

        def f(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D or y.__class__ is not D:
                x, y = c1(x), c2(y)
            return None if not y else x / y >= c
    elif op == "<":

        def f(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D or y.__class__ is not D:
                x, y = c1(x), c2(y)
            return None if not y else x / y < c
    else:

        def f(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D or y.__class__ is not D:
                x, y = c1(x), c2(y)
            return None if not y else x / y <= c

    return f


def arith(op: str, left: Built, right: Built) -> Built:
    """``left op right`` with null propagation; ``/`` by zero is null. Works for numbers, dates and durations."""
    compute = OPS[op]
    divide = op == "/"
    if isinstance(right, Const):
        c = right.value
        if c is None or (divide and not c):
            return Const(None)
        f = as_fn(left)
        if op == "*":
            return lambda r, t: None if (v := f(r, t)) is None else v * c
        if op == "/":
            return lambda r, t: None if (v := f(r, t)) is None else v / c
        if op == "+":
            return lambda r, t: None if (v := f(r, t)) is None else v + c
        return lambda r, t: None if (v := f(r, t)) is None else v - c
    if isinstance(left, Const):
        c = left.value
        if c is None:
            return Const(None)
        g = as_fn(right)
        if divide:
            return lambda r, t: None if (v := g(r, t)) is None or not v else c / v
        return lambda r, t: None if (v := g(r, t)) is None else compute(c, v)
    if isinstance(left, Read) and isinstance(right, Read) and left.key and right.key and left.cls is Decimal:
        k1, k2, c1, c2 = left.key, right.key, left.coerce, right.coerce
        D = Decimal

        def keys(r: Any, t: Any) -> Any:
            x = r.get(k1)
            if x is None:
                return None
            y = r.get(k2)
            if y is None:
                return None
            if x.__class__ is not D:
                x = c1(x)
            if y.__class__ is not D:
                y = c2(y)
            if divide and not y:
                return None
            return compute(x, y)

        return keys
    f, g = as_fn(left), as_fn(right)

    def general(r: Any, t: Any) -> Any:
        x = f(r, t)
        if x is None:
            return None
        y = g(r, t)
        if y is None or (divide and not y):
            return None
        return compute(x, y)

    return general


def in_key_const(key: str, coerce: Any, cls: type | None, members: Any, hit: Any, miss: Any) -> Fn:
    if coerce is None or cls is None:

        def f(r: Any, t: Any) -> Any:
            v = r.get(key)
            if v is None:
                return None
            return hit if v in members else miss

        return f

    def g(r: Any, t: Any) -> Any:
        v = r.get(key)
        if v is None:
            return None
        if v.__class__ is not cls:
            v = coerce(v)
        return hit if v in members else miss

    return g
