"""Checked AST → a tree of Python closures, specialised by shape so evaluation costs about what hand-written code does.

Semantics (DESIGN.md "The DSL"): SQL nulls — arithmetic and comparison with null give null, ``and``/``or``/``not``
are three-valued, ``x / 0`` is null, ``if null`` takes the else branch; exact ``Decimal`` arithmetic.

A naive compiler makes one Python call per AST node, which is two to three times slower than a hand-written lambda.
So the compiler fuses the shapes real rules are made of:

* constants are folded (``100万 * 1.1`` is computed once);
* a field read with the default dict accessor is inlined as ``r.get(key)`` into its parent;
* ``field ⊙ constant``, ``(field ⊕ field) ⊙ constant``, ``field in [constants]`` and ``field is null`` are each
  one closure doing the reads, the null tests and the operation;
* ``and``/``or`` chains are flattened into one closure per chain; ``not (a > b)`` becomes ``a <= b`` (which is
  exact under three-valued logic: both sides are null exactly when an operand is null).

No user text is ever passed to ``eval`` or ``exec``; the closures only capture values and keys.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from dsl import ast as a
from dsl.chains import and_chain, entry, or_chain
from dsl.checker import CheckedExpr
from dsl.closures import (
    FLIP,
    NEGATE,
    Built,
    Const,
    Fn,
    Read,
    arith,
    as_fn,
    cmp_arith_keys_const,
    cmp_fn_const,
    cmp_fn_fn,
    cmp_key_const,
    in_key_const,
    read_field,
)
from dsl.errors import DslError, DslEvalError
from dsl.functions import FUNCTIONS

__all__ = ["CompiledExpr", "compile", "compile_expr", "read_field"]


class CompiledExpr:
    """A compiled expression: call :meth:`evaluate` (or :meth:`explain`) as often as you like, from any thread."""

    __slots__ = ("_explainer", "checked", "evaluate", "fn")

    def __init__(self, checked: CheckedExpr, fn: Fn) -> None:
        self.checked = checked
        self.fn = fn
        self._explainer: Any = None
        self.evaluate = entry(fn, checked.uses_today)
        self.evaluate.__doc__ = (
            "evaluate(record, *, today=None): the value of the expression for ``record`` (None is SQL null)."
        )

    @property
    def source(self) -> str:
        return self.checked.source

    @property
    def type(self) -> Any:
        return self.checked.type

    @property
    def reads(self) -> frozenset[str]:
        return self.checked.reads

    def explain(self, record: Any, *, today: date | None = None) -> Any:
        """Evaluate ``record`` and return a :class:`~dsl.explain.Trace` of every sub-expression's value.

        The value-recording closure tree is built on first use, so rules never explained cost nothing extra.
        """
        run = self._explainer
        if run is None:
            from dsl.explain import Explainer  # deferred: explain imports the closures this module uses

            run = self._explainer = Explainer(self.checked).explain
        return run(record, today=today)

    def __repr__(self) -> str:
        return f"CompiledExpr({self.checked.source!r})"


def compile(checked: CheckedExpr) -> CompiledExpr:
    """Compile a checked expression to closures."""
    builder = _Builder(checked)
    return CompiledExpr(checked, builder.fn(checked.ast))


compile_expr = compile


# --------------------------------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, checked: CheckedExpr) -> None:
        self.checked = checked
        self.getter = checked.catalogue.getter

    def fn(self, node: a.Expr) -> Fn:
        return as_fn(self.build(node))

    def build(self, node: a.Expr) -> Built:
        built = getattr(self, "b_" + type(node).__name__)(node)
        if not isinstance(built, Const | Read) and _is_constant(node):
            try:
                return Const(built(None, None))
            except (DslError, ArithmeticError, ValueError, TypeError):
                return built  # leave the failure for evaluation time, where it is reported against a record
        return built

    # -- leaves ----------------------------------------------------------------------------------------------------

    def b_Literal(self, node: a.Literal) -> Built:
        return Const(node.value)

    def b_Name(self, node: a.Name) -> Built:
        found = self.checked.node_fields.get(id(node))
        if found is None:
            raise DslEvalError(
                "E602", {"name": node.dotted, "expected": "?", "expected_en": "?", "value": "?"}
            )
        return read_field(found, self.getter)

    # -- operators -------------------------------------------------------------------------------------------------

    def b_Unary(self, node: a.Unary) -> Built:
        if node.op == "not":
            inner = node.operand
            if isinstance(inner, a.Compare):
                return self.b_Compare(a.Compare(NEGATE[inner.op], inner.left, inner.right, inner.span))
            if isinstance(inner, a.IsNull):
                return self.b_IsNull(a.IsNull(inner.operand, not inner.negated, inner.span))
            if isinstance(inner, a.InList):
                return self.b_InList(a.InList(inner.needle, inner.haystack, not inner.negated, inner.span))
            f = self.fn(inner)

            def not_(r: Any, t: Any) -> Any:
                v = f(r, t)
                return None if v is None else not v

            return not_
        f = self.fn(node.operand)

        def neg(r: Any, t: Any) -> Any:
            v = f(r, t)
            return None if v is None else -v

        return neg

    def b_Binary(self, node: a.Binary) -> Built:
        left, right = self.build(node.left), self.build(node.right)
        return arith(node.op, left, right)

    def b_Compare(self, node: a.Compare) -> Built:
        op = node.op
        left_node, right_node = node.left, node.right
        left, right = self.build(left_node), self.build(right_node)
        if isinstance(left, Const) and not isinstance(right, Const):
            left, right, op = right, left, FLIP[op]
            left_node, right_node = right_node, left_node
        if isinstance(right, Const):
            if right.value is None:
                return Const(None)
            if isinstance(left, Read) and left.key is not None:
                return cmp_key_const(op, left.key, right.value, left.coerce, left.cls)
            if isinstance(left_node, a.Binary) and left_node.op in "+-*/":
                fused = self._cmp_keys_arith_const(op, left_node, right.value)
                if fused is not None:
                    return fused
            return cmp_fn_const(op, as_fn(left), right.value)
        return cmp_fn_fn(op, as_fn(left), as_fn(right))

    def _cmp_keys_arith_const(self, op: str, binary: a.Binary, const: Any) -> Fn | None:
        """``(a ⊕ b) ⊙ c`` over two plain number fields — ratios and differences against a threshold."""
        x, y = self.build(binary.left), self.build(binary.right)
        if not (isinstance(x, Read) and isinstance(y, Read) and x.key and y.key):
            return None
        if x.cls is not Decimal or y.cls is not Decimal:
            return None
        return cmp_arith_keys_const(op, binary.op, x.key, y.key, x.coerce, y.coerce, const)

    def b_Logical(self, node: a.Logical) -> Built:
        operands: list[Built] = []
        for child in _flatten(node):
            built = self.build(child)
            if isinstance(built, Const):
                absorbing = node.op == "or"  # True absorbs or, False absorbs and
                if built.value is absorbing:
                    return Const(absorbing)
                if built.value is (not absorbing):
                    continue  # the identity element drops out
            operands.append(built)
        if not operands:
            return Const(node.op == "and")
        fns = [as_fn(b) for b in operands]
        return and_chain(fns) if node.op == "and" else or_chain(fns)

    def b_IsNull(self, node: a.IsNull) -> Built:
        built = self.build(node.operand)
        if isinstance(built, Const):
            return Const((built.value is None) != node.negated)
        if isinstance(built, Read) and built.key is not None:
            key = built.key
            test: Any = (
                (lambda r, t: r.get(key) is not None) if node.negated else (lambda r, t: r.get(key) is None)
            )
            test.null_test = (key, not node.negated)  # lets a root and-chain inline it (see _entry)
            return test
        f = as_fn(built)
        if node.negated:
            return lambda r, t: f(r, t) is not None
        return lambda r, t: f(r, t) is None

    def b_InList(self, node: a.InList) -> Built:
        needle, haystack = self.build(node.needle), self.build(node.haystack)
        negated = node.negated
        if isinstance(haystack, Const):
            values = haystack.value
            if values is None:
                return Const(None)
            has_null = any(v is None for v in values)
            try:
                members: Any = frozenset(v for v in values if v is not None)
            except TypeError:
                members = [v for v in values if v is not None]
            miss = None if has_null else negated
            hit = not negated
            if isinstance(needle, Read) and needle.key is not None:
                return in_key_const(needle.key, needle.coerce, needle.cls, members, hit, miss)
            f = as_fn(needle)

            def in_const(r: Any, t: Any) -> Any:
                v = f(r, t)
                if v is None:
                    return None
                return hit if v in members else miss

            return in_const
        fn_needle, fn_haystack = as_fn(needle), as_fn(haystack)

        def in_dynamic(r: Any, t: Any) -> Any:
            v = fn_needle(r, t)
            items = fn_haystack(r, t)
            if v is None or items is None:
                return None
            if v in items:
                return not negated
            return None if None in items else negated

        return in_dynamic

    def b_If(self, node: a.If) -> Built:
        cond = self.build(node.cond)
        then, otherwise = self.build(node.then), self.build(node.otherwise)
        if isinstance(cond, Const):
            return then if cond.value is True else otherwise
        fc, fa, fb = as_fn(cond), as_fn(then), as_fn(otherwise)
        return lambda r, t: fa(r, t) if fc(r, t) is True else fb(r, t)

    def b_Call(self, node: a.Call) -> Built:
        function = FUNCTIONS[node.name]
        impl = function.impl
        if function.uses_today:
            today = date.today
            return lambda r, t: t if t is not None else today()
        fns = [self.fn(arg) for arg in node.args]
        if len(fns) == 1:
            (f,) = fns
            return lambda r, t: impl(f(r, t))
        if len(fns) == 2:
            f, g = fns
            return lambda r, t: impl(f(r, t), g(r, t))
        return lambda r, t: impl(*[f(r, t) for f in fns])

    def b_ListExpr(self, node: a.ListExpr) -> Built:
        built = [self.build(item) for item in node.items]
        if all(isinstance(b, Const) for b in built):
            return Const([b.value for b in built])  # type: ignore[union-attr]
        fns = [as_fn(b) for b in built]
        return lambda r, t: [f(r, t) for f in fns]


def _is_constant(node: a.Expr) -> bool:
    """No field reads and no ``today()``: the value is the same for every record."""
    return not any(
        isinstance(n, a.Name) or (isinstance(n, a.Call) and n.name == "today") for n in a.walk(node)
    )


def _flatten(node: a.Logical) -> list[a.Expr]:
    out: list[a.Expr] = []
    for operand in node.operands:
        if isinstance(operand, a.Logical) and operand.op == node.op:
            out.extend(_flatten(operand))
        else:
            out.append(operand)
    return out
