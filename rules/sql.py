"""Rule conditions as database filters: a checked DSL expression → a Django ``Q`` over ``projects.Project``.

A sweep asks the database for the projects where a rule holds instead of loading every project into Python::

    Project.objects.filter(condition(checked, ctx, today=today, vendor=connection.vendor))

returns exactly the projects for which ``dsl.compile(checked).evaluate(project_record(…), today=today) is True``.
Names read what ``rules.context.project_record`` gives Python (columns, 计划进度, 立项 form data, the money lists as
correlated subqueries, thresholds as constants, indicators inlined); the semantics are the DSL's (SQL nulls,
three-valued logic, ``x / 0`` null, exact decimals rounded as Python's ``Decimal`` rounds — see ``rules.sql_values``).

Whatever SQL cannot compute exactly as Python does raises :class:`NotInDatabase` with a short Chinese description;
the caller then evaluates that rule in Python. :func:`verdict` says in advance which it will be. That is: lists in
the 立项 form other than ``is null``, ``len`` and ``文本 in 文本列表`` (``sum(资金来源.金额)``, fields inside a list),
``round`` with digits that are not a constant, text fields the form stores as numbers, and constant parts that fail
when evaluated. Parts of a rule that are the same for every project (literals, thresholds, ``today()``, constant
indicators) are computed once, by the DSL's own evaluator, so they cannot disagree.

Stored data that does not match the form's schema (a number field holding ``"12,000"``, a date field holding
``"2026-02-30"``) reads as null in SQL; Python reads such dates as null too, and fails on such numbers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q

import dsl
from dsl import ast as a
from dsl.catalogue import Field

from .context import RuleContext
from .sql_reads import (
    RELATIONS,
    ROWS_DIGITS,
    column,
    json_is_null,
    json_length,
    json_member,
    json_scalar,
    parses_strings,
    planned_progress,
    rel_aggregate,
    rel_member,
    schema_at,
)
from .sql_values import BOOL, DURATION, NUMBER, PG, SCALARS, STRING, Builder, Raw, Val, constant

__all__ = ["NotInDatabase", "condition", "verdict"]


class NotInDatabase(Exception):
    """The rule uses something SQL cannot compute exactly as Python does; ``construct`` says what, in Chinese."""

    def __init__(self, construct: str) -> None:
        super().__init__(construct)
        self.construct = construct


def condition(checked: dsl.CheckedExpr, ctx: RuleContext, *, today: date, vendor: str) -> Q:
    """A filter over ``Project`` selecting the projects where ``checked`` is true on ``today``.

    ``vendor`` is ``connection.vendor`` ("postgresql" or "sqlite"). Raises :class:`NotInDatabase`.
    """
    root = _Compiler(ctx, today, vendor).rule(checked)
    if root.is_const:
        return Q(pk__isnull=False) if root.const is True else Q(pk__in=[])
    if root.kind != BOOL:
        raise NotInDatabase("不是条件的表达式")
    return Q(root.sql)


def verdict(checked: dsl.CheckedExpr, ctx: RuleContext) -> str | None:
    """None when the whole of ``checked`` runs in the database; else why not (the :class:`NotInDatabase` text)."""
    try:
        _Compiler(ctx, date.today(), PG).rule(checked)
    except NotInDatabase as reason:
        return reason.construct
    return None


class _Compiler:
    """What one compilation shares: the context, the sweep's date, the vendor's builder, compiled indicators."""

    def __init__(self, ctx: RuleContext, today: date, vendor: str) -> None:
        self.ctx = ctx
        self.today = today
        self.b = Builder(vendor)
        self.known: dict[str, Any] = dict(ctx.thresholds)  # names with the same value for every project
        self.indicators: dict[str, Val] = {}
        self.names: dict[str, Val] = {}

    def rule(self, checked: dsl.CheckedExpr) -> Val:
        return _Scope(self, checked).visit(checked.ast)

    def indicator(self, name: str) -> Val:
        """The indicator's expression, inlined (compiled once per condition)."""
        if name not in self.indicators:
            item = self.ctx.indicator(name)
            if item is None:
                raise NotInDatabase(f"指标“{name}”")
            try:
                found = self.rule(item.checked)
            except NotInDatabase as reason:
                raise NotInDatabase(f"指标“{name}”中的{reason.construct}") from None
            self.indicators[name] = found
            if found.is_const:
                self.known[name] = found.const
        return self.indicators[name]

    def name(self, field: Field, catalogue: dsl.Catalogue) -> Val:
        if field.name not in self.names:
            self.names[field.name] = self._read(field, catalogue)
        return self.names[field.name]

    def _read(self, field: Field, catalogue: dsl.Catalogue) -> Val:
        meta, kind = field.meta, field.type.kind
        if "column" in meta:
            if meta["column"] == "planned_progress":
                return planned_progress(self.b, self.today)
            return column(self.b, meta["column"], kind)
        if "indicator" in meta:
            return self.indicator(field.name)
        if "threshold" in meta:
            return constant(NUMBER, self.ctx.thresholds[field.name])
        if "relation" in meta:
            return Val("list", rel=field.name, name=field.name)
        chain = [field]
        while (
            "parent" in chain[-1].meta and (parent := catalogue.lookup(chain[-1].meta["parent"])) is not None
        ):
            chain.append(parent)
        root = chain[-1]
        if "relation" in root.meta and len(chain) == 2 and field.path[-1] in RELATIONS[root.name][1]:
            return Val("list", rel=root.name, column=RELATIONS[root.name][1][field.path[-1]], name=field.name)
        if "json" in root.meta:
            if any(isinstance(f.type, dsl.ListType) for f in chain[1:]):
                raise NotInDatabase(f"表单中列表里的字段“{field.name}”")
            return self._json(field)
        raise NotInDatabase(f"字段“{field.name}”")

    def _json(self, field: Field) -> Val:
        path = field.path[1:]  # ("data", key…) → the keys inside Project.data
        schema = schema_at(self.ctx.form_schema, path)
        kind = field.type.kind
        if kind == STRING and parses_strings(schema):
            raise NotInDatabase(f"按数值保存的文本字段“{field.name}”")
        if kind in SCALARS and kind != DURATION:
            return json_scalar(self.b, path, kind, schema)
        if isinstance(field.type, dsl.ListType):
            return Val("list", json=path, name=field.name, item=field.type.item.kind)
        if kind == "object":
            return Val("object", json=path, name=field.name)
        raise NotInDatabase(f"表单字段“{field.name}”")


class _Scope:
    """Compiles the nodes of one checked expression (a rule, or an indicator being inlined)."""

    def __init__(self, compiler: _Compiler, checked: dsl.CheckedExpr) -> None:
        self.c = compiler
        self.b = compiler.b
        self.checked = checked
        self._constant: dict[int, bool] = {}

    def kind(self, node: a.Expr) -> str:
        found = self.checked.type_of(node)
        return "list" if isinstance(found, dsl.ListType) else found.kind

    def visit(self, node: a.Expr) -> Val:
        if self.is_constant(node):
            return constant(self.kind(node), self.fold(node))
        return getattr(self, "v_" + type(node).__name__)(node)

    # -- constants ---------------------------------------------------------------------------------------------------

    def is_constant(self, node: a.Expr) -> bool:
        """No project value in it: literals, thresholds, ``today()`` (the sweep's date), constant indicators."""
        key = id(node)
        if key not in self._constant:
            self._constant[key] = all(self._known(n) for n in a.walk(node) if isinstance(n, a.Name))
        return self._constant[key]

    def _known(self, node: a.Name) -> bool:
        field = self.checked.node_fields.get(id(node))
        if field is None or "threshold" in field.meta:
            return field is not None
        if "indicator" not in field.meta:
            return False
        try:
            return self.c.indicator(field.name).is_const
        except NotInDatabase:
            return False

    def fold(self, node: a.Expr) -> Any:
        """The value of a constant sub-expression, computed by the DSL's own evaluator."""
        sub = dsl.CheckedExpr(
            "", node, self.checked.type_of(node), frozenset(), self.checked.catalogue, True,
            self.checked.node_types, self.checked.node_fields,
        )  # fmt: skip
        try:
            return dsl.compile(sub).evaluate(dict(self.c.known), today=self.c.today)
        except dsl.DslError:
            raise NotInDatabase(f"运行时出错的常量部分“{dsl.print_expr(node)}”") from None

    # -- helpers -----------------------------------------------------------------------------------------------------

    def scalar(self, val: Val, node: a.Expr) -> Val:
        """``val`` if it is a single SQL value, else NotInDatabase naming what it is."""
        if val.kind in SCALARS or val.is_null:
            return val
        if val.json is not None:
            what = "列表" if val.kind == "list" else "对象"
            raise NotInDatabase(f"表单中的{what}字段“{val.name}”")
        if val.rel is not None:
            raise NotInDatabase(f"列表“{val.name}”（只能用在 sum、count、avg、min、max、len 或 in 中）")
        raise NotInDatabase(f"列表或无类型的值“{dsl.print_expr(node)}”")

    def typed(self, val: Val, kind: str) -> Val:
        return Val(kind, const=None) if val.is_null else val

    # -- nodes -------------------------------------------------------------------------------------------------------

    def v_Name(self, node: a.Name) -> Val:
        field = self.checked.node_fields.get(id(node))
        if field is None:
            raise NotInDatabase(f"名称“{node.dotted}”")
        return self.c.name(field, self.checked.catalogue)

    def v_Unary(self, node: a.Unary) -> Val:
        operand = self.scalar(self.visit(node.operand), node.operand)
        if operand.is_null:
            return constant(self.kind(node), None)
        return self.b.negation(operand) if node.op == "not" else self.b.negate(operand)

    def v_Binary(self, node: a.Binary) -> Val:
        left = self.scalar(self.visit(node.left), node.left)
        right = self.scalar(self.visit(node.right), node.right)
        if left.is_null or right.is_null or (node.op == "/" and right.is_const and not right.const):
            return constant(self.kind(node), None)
        if left.kind == NUMBER and right.kind == NUMBER:
            return self.b.arith(node.op, left, right)
        if left.kind == "date" and right.kind == "date":
            return self.b.date_diff(left, right)
        if left.kind == "date":
            return self.b.date_shift(left, right, node.op)
        if right.kind == "date":
            return self.b.date_shift(right, left, "+")
        return self.b.durations(node.op, left, right)

    def v_Compare(self, node: a.Compare) -> Val:
        left = self.scalar(self.visit(node.left), node.left)
        right = self.scalar(self.visit(node.right), node.right)
        if left.is_null or right.is_null:
            return constant(BOOL, None)
        return self.b.compare(node.op, left, right)

    def v_Logical(self, node: a.Logical) -> Val:
        absorbing = node.op == "or"  # true absorbs or, false absorbs and
        operands: list[Val] = []
        for child in _flatten(node):
            found = self.scalar(self.visit(child), child)
            if found.is_const and found.const is absorbing:
                return constant(BOOL, absorbing)
            if not (found.is_const and found.const is (not absorbing)):
                operands.append(self.typed(found, BOOL))
        if not operands:
            return constant(BOOL, not absorbing)
        return operands[0] if len(operands) == 1 else self.b.logical(node.op, operands)

    def v_IsNull(self, node: a.IsNull) -> Val:
        found = self.visit(node.operand)
        if found.json is not None:
            return json_is_null(self.b, found.json, node.negated)
        if found.kind == "list":  # a money list or a list written in the rule is never null
            return constant(BOOL, node.negated)
        return self.b.is_null(self.scalar(found, node.operand), node.negated)

    def v_InList(self, node: a.InList) -> Val:
        needle = self.scalar(self.visit(node.needle), node.needle)
        haystack = self.visit(node.haystack)
        if needle.is_null or haystack.is_null:
            return constant(BOOL, None)
        if haystack.is_const and isinstance(haystack.const, list):
            items = [self.typed(constant(needle.kind, v), needle.kind) for v in haystack.const]
            return self.b.member(needle, items, node.negated)
        if haystack.items:
            items = [self.typed(self.scalar(i, node.haystack), needle.kind) for i in haystack.items]
            return self.b.member(needle, items, node.negated)
        if haystack.rel is not None and haystack.column is not None:
            return rel_member(self.b, needle, haystack.rel, haystack.column, node.negated)
        if haystack.json is not None and haystack.kind == "list" and haystack.item == STRING:
            return json_member(self.b, needle, haystack.json, node.negated)
        self.scalar(haystack, node.haystack)
        raise NotInDatabase(f"in 的列表“{dsl.print_expr(node.haystack)}”")

    def v_If(self, node: a.If) -> Val:
        cond = self.scalar(self.visit(node.cond), node.cond)
        then = self.scalar(self.visit(node.then), node.then)
        otherwise = self.scalar(self.visit(node.otherwise), node.otherwise)
        if cond.is_const:
            return then if cond.const is True else otherwise
        if then.is_const and otherwise.is_const and _same(then.const, otherwise.const):
            return then
        kind = self.kind(node)
        return self.b.case(kind, cond, self.typed(then, kind), self.typed(otherwise, kind))

    def v_ListExpr(self, node: a.ListExpr) -> Val:
        items = tuple(self.scalar(self.visit(item), item) for item in node.items)
        found = self.checked.type_of(node)
        item = found.item.kind if isinstance(found, dsl.ListType) else "any"
        return Val("list", items=items, name="列表", item=item)

    def v_Call(self, node: a.Call) -> Val:
        handler = getattr(self, "f_" + node.name, None)
        if handler is None:
            raise NotInDatabase(f"函数“{node.name}”")
        return handler(node)  # type: ignore[no-any-return]

    # -- functions ---------------------------------------------------------------------------------------------------

    def f_sum(self, node: a.Call) -> Val:
        return self.aggregate("sum", node)

    def f_count(self, node: a.Call) -> Val:
        return self.aggregate("count", node)

    def f_avg(self, node: a.Call) -> Val:
        return self.aggregate("avg", node)

    def f_min(self, node: a.Call) -> Val:
        return self.aggregate("min", node) if len(node.args) == 1 else self.extreme("min", node, node.args)

    def f_max(self, node: a.Call) -> Val:
        return self.aggregate("max", node) if len(node.args) == 1 else self.extreme("max", node, node.args)

    def aggregate(self, fn: str, node: a.Call) -> Val:
        """sum/count/avg/min/max of one list: a money list, or a list written in the rule."""
        found = self.visit(node.args[0])
        if found.rel is not None:
            if fn == "avg":
                total = rel_aggregate(self.b, found.rel, found.column, "sum", NUMBER)
                return self.b.divide(total, rel_aggregate(self.b, found.rel, found.column, "count", NUMBER))
            return rel_aggregate(self.b, found.rel, found.column, fn, self.kind(node))
        if found.items:
            return self.list_aggregate(fn, node, list(found.items))
        self.scalar(found, node.args[0])
        raise NotInDatabase(f"{fn} 的参数“{dsl.print_expr(node.args[0])}”")

    def list_aggregate(self, fn: str, node: a.Call, items: list[Val]) -> Val:
        present = [item for item in items if not item.is_null]
        if fn in ("min", "max"):
            return (
                self.b.extreme(self.kind(node), fn, present) if present else constant(self.kind(node), None)
            )
        total = constant(NUMBER, Decimal(0))  # Python: total = 0; total += each non-null item
        for item in present:
            added = item if item.is_const else self.b.coalesce(NUMBER, [item, constant(NUMBER, Decimal(0))])
            total = self.b.arith("+", total, added) if fn != "count" else total
        count = self.count(present)
        if fn == "sum":
            return total
        return count if fn == "count" else self.b.divide(total, count)

    def count(self, items: list[Val]) -> Val:
        known = sum(1 for item in items if item.is_const)
        tests = [item for item in items if not item.is_const]
        if not tests:
            return constant(NUMBER, Decimal(known))
        template = " + ".join(f"CASE WHEN {{{i}}} IS NULL THEN 0 ELSE 1 END" for i in range(len(tests)))
        summed = Raw(f"({template} + {known})", *(self.b.expr(t) for t in tests), kind=NUMBER)
        return self.b.as_number(summed, (ROWS_DIGITS, 0))

    def extreme(self, fn: str, node: a.Call, args: tuple[a.Expr, ...] | list[a.Expr]) -> Val:
        found = [self.scalar(self.visit(arg), arg) for arg in args]
        present = [item for item in found if not item.is_null]
        if not present:
            return constant(self.kind(node), None)
        return self.b.extreme(self.kind(node), fn, present)

    def f_len(self, node: a.Call) -> Val:
        found = self.visit(node.args[0])
        if found.rel is not None:
            return rel_aggregate(self.b, found.rel, None, "count", NUMBER)
        if found.kind == "list" and found.json is None:
            return constant(NUMBER, Decimal(len(found.items)))
        if found.json is not None and found.kind == "list":
            return json_length(self.b, found.json)
        text = self.scalar(found, node.args[0])
        length = "char_length({0})" if self.b.pg else "length({0})"
        return self.b.as_number(Raw(length, self.b.expr(text), kind=NUMBER), (ROWS_DIGITS, 0))

    def f_abs(self, node: a.Call) -> Val:
        value = self.scalar(self.visit(node.args[0]), node.args[0])
        return constant(self.kind(node), None) if value.is_null else self.b.absolute(value)

    def f_round(self, node: a.Call) -> Val:
        value = self.scalar(self.visit(node.args[0]), node.args[0])
        if value.is_null:
            return constant(NUMBER, None)
        places = 0
        if len(node.args) == 2:
            given = self.visit(node.args[1])
            if not given.is_const:
                raise NotInDatabase("round 的位数不是常数")
            if given.const is None:
                return constant(NUMBER, None)
            places = int(given.const)
            if not -20 <= places <= 20:
                raise NotInDatabase("round 的位数超出 −20 到 20")
        return self.b.round(value, places)

    def f_coalesce(self, node: a.Call) -> Val:
        kind = self.kind(node)
        items: list[Val] = []
        for arg in node.args:
            found = self.scalar(self.visit(arg), arg)
            if found.is_null:
                continue
            items.append(found)
            if found.is_const:
                break  # later arguments are never reached
        return self.b.coalesce(kind, items) if items else constant(kind, None)

    def f_days(self, node: a.Call) -> Val:
        value = self.scalar(self.visit(node.args[0]), node.args[0])
        return constant(NUMBER, None) if value.is_null else self.b.as_number(self.b.expr(value), (9, 0))


def _flatten(node: a.Logical) -> list[a.Expr]:
    out: list[a.Expr] = []
    for operand in node.operands:
        out.extend(
            _flatten(operand) if isinstance(operand, a.Logical) and operand.op == node.op else [operand]
        )
    return out


def _same(x: Any, y: Any) -> bool:
    return type(x) is type(y) and x == y
