"""Building blocks of ``rules.sql``: typed SQL values and the operations on them, for PostgreSQL and SQLite.

Every DSL value compiles to a :class:`Val`: its kind (number, string, bool, date, duration), and either a Django
expression or, when it is known at compile time, the Python value itself. The operations here follow the DSL's
semantics (DESIGN.md "The DSL"): SQL nulls, ``x / 0`` is null, date − date is a duration in whole days.

Exactness. Python evaluates with ``Decimal`` in the default context: every ``+ - * /``, unary minus and ``abs``
rounds its result to 28 significant digits, half to even. PostgreSQL's ``numeric`` is exact for ``+ - *`` and
divides to a scale of its own choosing, so on PostgreSQL a quotient is computed to 100 decimals and then, like every
result that may have more than 28 significant digits, rounded as Python rounds (:meth:`Builder.sig28`). Operands
carry an upper bound on their digits (:attr:`Val.digits`, integer and fraction digits) so that the common case —
money columns and short constants — needs no rounding at all. SQLite has only integers and doubles: it divides in
floating point and is exact only for values a double holds exactly (see ``tests/rules/test_sql_property.py``).

Durations are whole days, held as integers; dates are ``date`` on PostgreSQL and ISO text on SQLite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Expression

PG = "postgresql"
NUMBER, STRING, BOOL, DATE, DURATION, NULL = "number", "string", "bool", "date", "duration", "null"
SCALARS = (NUMBER, STRING, BOOL, DATE, DURATION)
PRECISION = 28  # significant digits of Python's default Decimal context
DIVISION_SCALE = 100  # decimals PostgreSQL keeps in a quotient before it is rounded like Python
_FIELDS: dict[str, type[models.Field]] = {
    NUMBER: models.DecimalField,
    STRING: models.TextField,
    BOOL: models.BooleanField,
    DATE: models.DateField,
    DURATION: models.IntegerField,
}
_PG_TYPES = {NUMBER: "numeric", STRING: "text", BOOL: "boolean", DATE: "date", DURATION: "integer"}
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_LEADING_ZEROS = r"^0\.(0*)"
Digits = tuple[int, int] | None  # (integer digits, fraction digits) at most; None: unknown
NO_VALUE: Any = type("NoValue", (), {"__repr__": lambda self: "NO_VALUE"})()


class Raw(Expression):
    """SQL written as a template over sub-expressions ``{0}``, ``{1}`` …; a placeholder may appear several times.

    Values never enter the template: they are :class:`Param` sub-expressions, so user text is always a parameter.
    """

    def __init__(self, template: str, *args: Any, kind: str = BOOL) -> None:
        super().__init__(output_field=_FIELDS.get(kind, models.BooleanField)())
        self.template = template
        self.args = list(args)

    def get_source_expressions(self) -> list[Any]:
        return list(self.args)

    def set_source_expressions(self, exprs: list[Any]) -> None:
        self.args = list(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        compiled = [compiler.compile(arg) for arg in self.args]
        pieces: list[str] = []
        params: list[Any] = []
        last = 0
        for match in _PLACEHOLDER.finditer(self.template):
            sql, arg_params = compiled[int(match[1])]
            pieces += [self.template[last : match.start()], sql]
            params += list(arg_params)
            last = match.end()
        pieces.append(self.template[last:])
        return "".join(pieces), params


class Param(Expression):
    """One query parameter, optionally cast (``CAST(%s AS numeric)``) so PostgreSQL never has to guess its type."""

    def __init__(self, value: Any, cast: str = "", kind: str = STRING) -> None:
        super().__init__(output_field=_FIELDS.get(kind, models.TextField)())
        self.value = value
        self.cast = cast

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return (f"CAST(%s AS {self.cast})" if self.cast else "%s"), [self.value]


@dataclass(frozen=True)
class Val:
    """A compiled DSL value. ``const`` holds the Python value when it is known at compile time (else NO_VALUE).

    Lists are not SQL values: ``rel`` names a money list (with ``column`` for ``支出.金额``), ``items`` holds the
    items of a list written in the rule, ``json`` the path of a list or object stored in the 立项 form data.
    """

    kind: str
    sql: Any = None
    const: Any = NO_VALUE
    digits: Digits = None
    rel: str | None = None
    column: str | None = None
    items: tuple[Val, ...] = ()
    json: tuple[str, ...] | None = None
    name: str = ""
    item: str = ""  # the kind of a list's items

    @property
    def is_const(self) -> bool:
        return self.const is not NO_VALUE

    @property
    def is_null(self) -> bool:
        return self.const is None


def constant(kind: str, value: Any) -> Val:
    """A value known at compile time; numbers carry their exact digit counts."""
    if isinstance(value, bool):
        kind = BOOL
    elif isinstance(value, Decimal):
        kind = NUMBER
    elif isinstance(value, timedelta):
        kind = DURATION
    elif isinstance(value, date):
        kind = DATE
    elif isinstance(value, str):
        kind = STRING
    elif isinstance(value, list):
        kind = "list"
    return Val(kind, const=value, digits=decimal_digits(value) if isinstance(value, Decimal) else None)


def decimal_digits(value: Decimal) -> Digits:
    """(integer digits, fraction digits) of a finite Decimal."""
    if not value.is_finite():
        return None
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if exponent >= 0:
        return (len(digits) + exponent, 0)
    return (max(len(digits) + exponent, 0), -exponent)


def _merge(*bounds: Digits) -> Digits:
    if any(b is None for b in bounds):
        return None
    return (max(b[0] for b in bounds), max(b[1] for b in bounds))  # type: ignore[index]


def _arith_digits(op: str, a: Digits, b: Digits) -> Digits:
    if a is None or b is None or op == "/":
        return None
    if op == "*":
        return (a[0] + b[0], a[1] + b[1])
    return (max(a[0], b[0]) + 1, max(a[1], b[1]))


class Builder:
    """Emits the SQL of each operation for one database vendor."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.pg = vendor == PG

    # -- leaves ------------------------------------------------------------------------------------------------------

    def expr(self, val: Val) -> Any:
        """The Django expression for ``val`` (a parameter when it is a constant)."""
        if not val.is_const:
            return val.sql
        return self.literal(val.kind, val.const)

    def literal(self, kind: str, value: Any) -> Any:
        if value is None:
            return self.null(kind)
        if kind == BOOL:
            return Raw(("TRUE" if value else "FALSE") if self.pg else ("1" if value else "0"), kind=BOOL)
        if kind == DURATION:
            return Param(value.days, "integer" if self.pg else "", DURATION)
        if self.pg:
            return Param(value, _PG_TYPES[kind], kind)
        if kind == NUMBER:
            whole = (
                value == value.to_integral_value() and abs(value) < 2**63
            )  # else a double, as SQLite stores it
            return Param(int(value) if whole else float(value), "", NUMBER)
        if kind == DATE:
            return Param(value.isoformat(), "", DATE)
        return Param(value, "", kind)

    def null(self, kind: str) -> Any:
        if self.pg and kind in _PG_TYPES:
            return Raw(f"CAST(NULL AS {_PG_TYPES[kind]})", kind=kind)
        return Raw("NULL", kind=kind)

    @property
    def fence(self) -> str:
        """Ends a derived table so the planner keeps it (and computes its columns once) instead of inlining it."""
        return " OFFSET 0" if self.pg else " LIMIT -1 OFFSET 0"

    def val(self, kind: str, template: str, *args: Val | Any, digits: Digits = None) -> Val:
        """A new value computed by ``template`` over ``args`` (Vals or expressions)."""
        exprs = [self.expr(a) if isinstance(a, Val) else a for a in args]
        return Val(kind, Raw(template, *exprs, kind=kind), digits=digits)

    # -- numbers -----------------------------------------------------------------------------------------------------

    def rounded(self, val: Val) -> Val:
        """``val`` rounded as Python's context would round it, when it may exceed 28 significant digits."""
        if not self.pg or (val.digits is not None and sum(val.digits) <= PRECISION):
            return val
        return Val(NUMBER, self.sig28(val.sql), digits=None)

    def sig28(self, sql: Any) -> Raw:
        """Round to 28 significant digits, half to even (Python's default Decimal context), on PostgreSQL.

        The operand is bound once in a derived table; ``p`` is the number of decimals that keeps 28 significant
        digits (from the text of the integer part, or the zeros after the point), ``u`` one unit in that place.
        ``OFFSET 0`` keeps PostgreSQL from pulling the derived tables up, which would copy the operand into every
        reference (exponential in the nesting of such roundings).
        """
        template = (
            "(SELECT CASE WHEN abs(_z.v - _z.t) * 2 = _z.u AND mod(abs(_z.t), 2 * _z.u) = 0 THEN _z.t"
            " ELSE round(_z.v, _z.p) END FROM (SELECT _y.v, _y.p, trunc(_y.v, _y.p) AS t,"
            " CAST('1e' || CAST(-_y.p AS text) AS numeric) AS u FROM (SELECT _x.v, CASE WHEN _x.v = 0 THEN 0"
            f" WHEN abs(_x.v) >= 1 THEN {PRECISION} - length(CAST(trunc(abs(_x.v)) AS text))"
            f" ELSE {PRECISION} + length(substring(CAST(abs(_x.v) AS text) from {{1}})) END AS p"
            " FROM (SELECT CAST({0} AS numeric) AS v OFFSET 0) AS _x OFFSET 0) AS _y OFFSET 0) AS _z)"
        )
        return Raw(template, sql, Param(_LEADING_ZEROS, "text"), kind=NUMBER)

    def arith(self, op: str, a: Val, b: Val) -> Val:
        """``a op b`` for numbers (``/`` by zero is null), with Python's rounding."""
        if op == "/":
            return self.divide(a, b)
        return self.rounded(
            self.val(NUMBER, f"({{0}} {op} {{1}})", a, b, digits=_arith_digits(op, a.digits, b.digits))
        )

    def divide(self, a: Val, b: Val) -> Val:
        if not self.pg:
            return self.val(NUMBER, "(CAST({0} AS REAL) / NULLIF({1}, 0))", a, b)
        quotient = self.val(
            NUMBER,
            f"(round(CAST({{0}} AS numeric), {DIVISION_SCALE}) / NULLIF(CAST({{1}} AS numeric), 0))",
            a,
            b,
        )
        return self.rounded(quotient)

    def negate(self, a: Val) -> Val:
        result = self.val(a.kind, "(-{0})", a, digits=a.digits)
        return self.rounded(result) if a.kind == NUMBER else result

    def absolute(self, a: Val) -> Val:
        result = self.val(a.kind, "abs({0})", a, digits=a.digits)
        return self.rounded(result) if a.kind == NUMBER else result

    def round(self, a: Val, places: int) -> Val:
        """四舍五入 to ``places`` decimals (negative: tens, hundreds …), half away from zero like Python's round."""
        digits = None if a.digits is None else (a.digits[0] + 1, max(places, 0))
        if self.pg:
            return self.val(NUMBER, f"round(CAST({{0}} AS numeric), {int(places)})", a, digits=digits)
        if places >= 0:
            return self.val(NUMBER, f"round({{0}}, {int(places)})", a, digits=digits)
        scale = 10 ** (-places)  # SQLite's round() treats negative places as 0
        return self.val(NUMBER, f"(round(CAST({{0}} AS REAL) / {scale}) * {scale})", a, digits=digits)

    def as_number(self, sql: Any, digits: Digits) -> Val:
        """An integer-valued SQL expression (a count, a length, days) as a DSL number."""
        return self.val(NUMBER, "CAST({0} AS numeric)" if self.pg else "{0}", sql, digits=digits)

    # -- comparisons and logic ---------------------------------------------------------------------------------------

    def compare(self, op: str, a: Val, b: Val) -> Val:
        return self.val(BOOL, f"({{0}} {'<>' if op == '!=' else op} {{1}})", a, b)

    def logical(self, op: str, operands: list[Val]) -> Val:
        joiner = f" {op.upper()} "
        return self.val(BOOL, "(" + joiner.join(f"{{{i}}}" for i in range(len(operands))) + ")", *operands)

    def negation(self, a: Val) -> Val:
        return self.val(BOOL, "(NOT {0})", a)

    def is_null(self, a: Val, negated: bool) -> Val:
        return self.val(BOOL, "({0} IS NOT NULL)" if negated else "({0} IS NULL)", a)

    def member(self, needle: Val, items: list[Val], negated: bool) -> Val:
        """``needle [not] in (items…)``: SQL's IN has the DSL's three-valued meaning; an empty list is false."""
        if not items:  # null when the needle is null, else false (true for not in)
            return self.val(
                BOOL, "(NOT NULLIF({0} IS NULL, TRUE))" if negated else "NULLIF({0} IS NULL, TRUE)", needle
            )
        listed = ", ".join(f"{{{i + 1}}}" for i in range(len(items)))
        return self.val(BOOL, f"({{0}} {'NOT IN' if negated else 'IN'} ({listed}))", needle, *items)

    # -- choices -----------------------------------------------------------------------------------------------------

    def case(self, kind: str, cond: Val, then: Val, otherwise: Val) -> Val:
        return self.val(kind, "CASE WHEN {0} THEN {1} ELSE {2} END", cond, then, otherwise,
                        digits=_merge(then.digits, otherwise.digits))  # fmt: skip

    def coalesce(self, kind: str, items: list[Val]) -> Val:
        if len(items) == 1:
            return items[0]
        placeholders = ", ".join(f"{{{i}}}" for i in range(len(items)))
        return self.val(kind, f"COALESCE({placeholders})", *items, digits=_merge(*(i.digits for i in items)))

    def extreme(self, kind: str, pick: str, items: list[Val]) -> Val:
        """Least (``pick`` "min") or greatest of ``items``, skipping nulls (null when all are null)."""
        if len(items) == 1:
            return items[0]
        digits = _merge(*(i.digits for i in items))
        n = len(items)
        if self.pg:
            placeholders = ", ".join(f"{{{i}}}" for i in range(n))
            return self.val(
                kind, f"{'LEAST' if pick == 'min' else 'GREATEST'}({placeholders})", *items, digits=digits
            )
        # SQLite's scalar MIN/MAX are null as soon as one argument is null; its aggregates skip nulls
        rows = " UNION ALL ".join(f"SELECT {{{i}}} AS x" for i in range(n))
        return self.val(kind, f"(SELECT {pick.upper()}(_v.x) FROM ({rows}) AS _v)", *items, digits=digits)

    # -- dates and durations -----------------------------------------------------------------------------------------

    def date_diff(self, a: Val, b: Val) -> Val:
        if self.pg:
            return self.val(DURATION, "({0} - {1})", a, b)
        return self.val(DURATION, "CAST(julianday({0}) - julianday({1}) AS INTEGER)", a, b)

    def date_shift(self, day: Val, days: Val, sign: str) -> Val:
        if self.pg:
            return self.val(DATE, f"({{0}} {sign} {{1}})", day, days)
        return self.val(DATE, f"date(julianday({{0}}) {sign} {{1}})", day, days)

    def durations(self, op: str, a: Val, b: Val) -> Val:
        return self.val(DURATION, f"({{0}} {op} {{1}})", a, b)
