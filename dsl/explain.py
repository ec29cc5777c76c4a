"""Explanations: the value of every sub-expression, as alerts show them (``超支率 (0.0731) > 5% (0.05) → 是``).

Explaining runs a second, unfused closure tree that writes each node's value into a flat list (one slot per node,
numbered in pre-order). The :class:`Trace` handed back is a lazy view over that list: nodes, values and children
are materialised only when someone looks, so explaining costs a small multiple of plain evaluation.

Evaluation order and short-circuits mirror the compiled evaluator: in ``a and b`` with ``a`` false, ``b`` is not
evaluated and shows as 未计算 (not evaluated); ``if`` evaluates only the branch it takes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date
from typing import Any

from dsl import ast as a
from dsl.chains import runtime_error
from dsl.checker import CheckedExpr
from dsl.closures import read_field
from dsl.errors import DslError
from dsl.functions import FUNCTIONS
from dsl.printer import print_expr
from dsl.values import format_value, to_json

__all__ = ["SKIPPED", "Explainer", "Trace"]


class _Skipped:
    """Marker for a sub-expression that evaluation did not need (short-circuit, untaken branch)."""

    def __repr__(self) -> str:
        return "SKIPPED"


SKIPPED: Any = _Skipped()

XFn = Callable[[Any, Any, list[Any]], Any]
_OPS: dict[str, Callable[[Any, Any], Any]] = {
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


class _Plan:
    """The static part of a trace: nodes in pre-order, each node's children indices, the source for display."""

    __slots__ = ("catalogue", "children", "index", "nodes", "source")

    def __init__(self, checked: CheckedExpr) -> None:
        self.source = checked.source
        self.catalogue = checked.catalogue
        self.nodes: list[a.Expr] = list(a.walk(checked.ast))
        self.index = {id(node): i for i, node in enumerate(self.nodes)}
        self.children: list[tuple[int, ...]] = [
            tuple(self.index[id(child)] for child in a.children(node)) for node in self.nodes
        ]

    def text(self, i: int) -> str:
        node = self.nodes[i]
        span = node.span
        if span is not None and self.source and span.end <= len(self.source):
            return self.source[span.start : span.end]
        return print_expr(node)


class Trace:
    """One node of an explanation: ``node`` (AST), ``value`` (``SKIPPED`` if not evaluated), ``children``."""

    __slots__ = ("_i", "_plan", "_values")

    def __init__(self, plan: _Plan, values: list[Any], i: int = 0) -> None:
        self._plan, self._values, self._i = plan, values, i

    @property
    def node(self) -> a.Expr:
        return self._plan.nodes[self._i]

    @property
    def value(self) -> Any:
        value = self._values[self._i]
        return None if value is SKIPPED else value

    @property
    def evaluated(self) -> bool:
        return self._values[self._i] is not SKIPPED

    @property
    def text(self) -> str:
        """The sub-expression as written in the source."""
        return self._plan.text(self._i)

    @property
    def children(self) -> tuple[Trace, ...]:
        return tuple(Trace(self._plan, self._values, j) for j in self._plan.children[self._i])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``{text, value, evaluated, children}`` with decimals as strings, dates ISO, durations P…D."""
        return {
            "text": self.text,
            "value": to_json(self.value),
            "evaluated": self.evaluated,
            "children": [child.to_dict() for child in self.children],
        }

    def render(self, lang: str = "zh") -> str:
        """Indented lines, one per compound sub-expression: leaves are shown inline with their values."""
        lines: list[str] = []
        self._render(lines, 0, lang)
        return "\n".join(lines)

    def _shown(self, lang: str) -> str:
        if not self.evaluated:
            return "未计算" if lang == "zh" else "not evaluated"
        return format_value(self.value, lang)

    def _render(self, lines: list[str], level: int, lang: str) -> None:
        lines.append("  " * level + f"{self._annotated(lang)} → {self._shown(lang)}")
        for child in self.children:
            if child.children:
                child._render(lines, level + 1, lang)

    def _annotated(self, lang: str) -> str:
        """The node's text with ``(value)`` after each leaf child whose value is not already evident."""
        node = self.node
        text = self.text
        span = node.span
        if span is None or not self._plan.source or isinstance(node, a.Literal | a.Name):
            return text
        inserts: list[tuple[int, str]] = []
        for child in self.children:
            child_node = child.node
            if not isinstance(child_node, a.Literal | a.Name) or child_node.span is None:
                continue
            shown = child._shown(lang)
            if isinstance(child_node, a.Literal) and (child_node.kind != "number" or child.text == shown):
                continue  # a literal is only annotated when written differently from its value (5%, 100万)
            inserts.append((child_node.span.end - span.start, f" ({shown})"))
        for offset, label in sorted(inserts, reverse=True):
            text = text[:offset] + label + text[offset:]
        return text

    def __repr__(self) -> str:
        return f"Trace({self.text!r} → {self.value!r})"


class Explainer:
    """Builds the value-recording closure tree for one checked expression (once) and runs it per record."""

    def __init__(self, checked: CheckedExpr) -> None:
        self.plan = _Plan(checked)
        self.getter = checked.catalogue.getter
        self.checked = checked
        self.template: list[Any] = [SKIPPED] * len(self.plan.nodes)
        for i, node in enumerate(self.plan.nodes):
            if isinstance(node, a.Literal):
                self.template[i] = node.value
        root = self._build(0)
        template = self.template
        plan = self.plan

        def explain(record: Any, *, today: date | None = None) -> Trace:
            values = template.copy()
            try:
                root(record, today, values)
            except DslError:
                raise
            except Exception as exc:
                raise runtime_error(exc, record) from exc
            return Trace(plan, values)

        self.explain = explain

    def _build(self, i: int) -> XFn:
        node = self.plan.nodes[i]
        kids = [self._build(j) for j in self.plan.children[i]]
        if isinstance(node, a.Literal):
            value = node.value
            return lambda r, t, vs: value
        if isinstance(node, a.Name):
            reader = read_field(self.checked.node_fields[id(node)], self.getter)
            key, coerce, cls = reader.key, reader.coerce, reader.cls
            if key is not None and (coerce is None or cls is not None):

                def name_key(r: Any, t: Any, vs: list[Any]) -> Any:
                    v = r.get(key)
                    if v is not None and coerce is not None and v.__class__ is not cls:
                        v = coerce(v)
                    vs[i] = v
                    return v

                return name_key
            read = reader.fn

            def name(r: Any, t: Any, vs: list[Any]) -> Any:
                vs[i] = v = read(r, t)
                return v

            return name
        if isinstance(node, a.Unary):
            (f,) = kids
            negate = node.op == "-"

            def unary(r: Any, t: Any, vs: list[Any]) -> Any:
                v = f(r, t, vs)
                vs[i] = v = None if v is None else (-v if negate else not v)
                return v

            return unary
        if isinstance(node, a.Binary | a.Compare):
            f, g = kids
            compute = _OPS[node.op]
            divide = node.op == "/"
            right = node.right
            if isinstance(right, a.Literal):  # `… > 5%`: the constant needs no call (its slot is pre-filled)
                c = right.value
                nothing = c is None or (divide and not c)

                def binary_const(r: Any, t: Any, vs: list[Any]) -> Any:
                    x = f(r, t, vs)
                    if x is None or nothing:
                        vs[i] = None
                        return None
                    vs[i] = v = compute(x, c)
                    return v

                return binary_const

            def binary(r: Any, t: Any, vs: list[Any]) -> Any:
                x = f(r, t, vs)
                y = g(r, t, vs)
                if x is None or y is None or (divide and not y):
                    vs[i] = None
                    return None
                vs[i] = v = compute(x, y)
                return v

            return binary
        if isinstance(node, a.Logical):
            stop = node.op == "or"  # or stops at true, and at false

            def logical(r: Any, t: Any, vs: list[Any]) -> Any:
                unknown = False
                for f in kids:
                    v = f(r, t, vs)
                    if v is stop:
                        vs[i] = stop
                        return stop
                    if v is None:
                        unknown = True
                vs[i] = v = None if unknown else (not stop)
                return v

            return logical
        if isinstance(node, a.InList):
            f, g = kids
            negated = node.negated

            def in_list(r: Any, t: Any, vs: list[Any]) -> Any:
                v = f(r, t, vs)
                items = g(r, t, vs)
                if v is None or items is None:
                    result = None
                elif v in items:
                    result = not negated
                else:
                    result = None if None in items else negated
                vs[i] = result
                return result

            return in_list
        if isinstance(node, a.IsNull):
            (f,) = kids
            negated = node.negated

            def is_null(r: Any, t: Any, vs: list[Any]) -> Any:
                vs[i] = v = (f(r, t, vs) is None) != negated
                return v

            return is_null
        if isinstance(node, a.If):
            fc, fa, fb = kids

            def if_(r: Any, t: Any, vs: list[Any]) -> Any:
                vs[i] = v = fa(r, t, vs) if fc(r, t, vs) is True else fb(r, t, vs)
                return v

            return if_
        if isinstance(node, a.Call):
            function = FUNCTIONS[node.name]
            if function.uses_today:
                today = date.today

                def today_(r: Any, t: Any, vs: list[Any]) -> Any:
                    vs[i] = v = t if t is not None else today()
                    return v

                return today_
            impl = function.impl

            def call(r: Any, t: Any, vs: list[Any]) -> Any:
                vs[i] = v = impl(*[f(r, t, vs) for f in kids])
                return v

            return call
        assert isinstance(node, a.ListExpr)

        def list_expr(r: Any, t: Any, vs: list[Any]) -> Any:
            vs[i] = v = [f(r, t, vs) for f in kids]
            return v

        return list_expr
