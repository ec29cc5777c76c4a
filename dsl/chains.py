"""Three-valued ``and``/``or`` chains and the public ``evaluate`` entry points built on them.

A chain is one closure however many operands it has. The entry point wraps the root closure to turn rare low-level
failures into :class:`~dsl.errors.DslEvalError`; for the commonest root shapes (an ``and`` of two or three
conditions, possibly ending in a null test) the chain is inlined into the entry itself, saving calls per record.
``try`` costs nothing in CPython 3.11+ until something is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from dsl.errors import DslError, DslEvalError

Fn = Callable[[Any, Any], Any]

__all__ = ["and_chain", "entry", "or_chain", "runtime_error"]


def entry(fn: Fn, uses_today: bool) -> Callable[..., Any]:
    """The public evaluate: turns the rare low-level failures into :class:`DslEvalError`.

    A three-way ``and`` root (the commonest rule shape) gets its own entry with the chain inlined, saving a call
    per evaluation; ``try`` costs nothing in CPython 3.11+ until something is raised.
    """
    chain = getattr(fn, "chain", None)
    tail = getattr(chain[-1], "null_test", None) if chain else None
    if tail is not None and chain is not None and len(chain) == 3 and hasattr(chain[1], "eq_test"):
        return _entry_eq_null_tail(chain[0], *chain[1].eq_test, *tail)
    if tail is not None and chain is not None and len(chain) in (2, 3):
        return _entry_null_tail(chain[:-1], *tail)
    if chain is not None and len(chain) == 3:
        f1, f2, f3 = chain

        def evaluate_and3(record: Any, *, today: date | None = None) -> Any:
            try:
                a1 = f1(record, today)
                if a1 is False:
                    return False
                a2 = f2(record, today)
                if a2 is False:
                    return False
                a3 = f3(record, today)
                if a3 is False:
                    return False
                return None if a1 is None or a2 is None or a3 is None else True
            except DslError:
                raise
            except Exception as exc:
                raise runtime_error(exc, record) from exc

        return evaluate_and3
    if chain is not None and len(chain) == 2:
        f1, f2 = chain

        def evaluate_and2(record: Any, *, today: date | None = None) -> Any:
            try:
                a1 = f1(record, today)
                if a1 is False:
                    return False
                a2 = f2(record, today)
                if a2 is False:
                    return False
                return None if a1 is None or a2 is None else True
            except DslError:
                raise
            except Exception as exc:
                raise runtime_error(exc, record) from exc

        return evaluate_and2

    def evaluate(record: Any, *, today: date | None = None) -> Any:
        try:
            return fn(record, today)
        except DslError:
            raise
        except Exception as exc:
            raise runtime_error(exc, record) from exc

    return evaluate


def _entry_null_tail(head: list[Fn], key: str, want_null: bool) -> Callable[..., Any]:
    """Root ``… 且 字段 为空`` / ``不为空`` chains: the trailing null test runs inline, in its written place."""
    if len(head) == 1:
        (f1,) = head

        def evaluate_and_null(record: Any, *, today: date | None = None) -> Any:
            try:
                a1 = f1(record, today)
                if a1 is False or (record.get(key) is None) is not want_null:
                    return False
                return a1
            except DslError:
                raise
            except Exception as exc:
                raise runtime_error(exc, record) from exc

        return evaluate_and_null
    f1, f2 = head

    def evaluate_and2_null(record: Any, *, today: date | None = None) -> Any:
        try:
            a1 = f1(record, today)
            if a1 is False:
                return False
            a2 = f2(record, today)
            if a2 is False or (record.get(key) is None) is not want_null:
                return False
            return None if a1 is None or a2 is None else True
        except DslError:
            raise
        except Exception as exc:
            raise runtime_error(exc, record) from exc

    return evaluate_and2_null


def _entry_eq_null_tail(f1: Fn, key: str, value: Any, null_key: str, want_null: bool) -> Callable[..., Any]:
    """Root ``条件 且 字段 = 常量 且 字段 为空`` — the canonical alert shape — with both tests inline, in order."""

    def evaluate_and_eq_null(record: Any, *, today: date | None = None) -> Any:
        try:
            a1 = f1(record, today)
            if a1 is False:
                return False
            v = record.get(key)
            if v is not None and v != value:
                return False
            if (record.get(null_key) is None) is not want_null:
                return False
            return None if a1 is None or v is None else True
        except DslError:
            raise
        except Exception as exc:
            raise runtime_error(exc, record) from exc

    return evaluate_and_eq_null


def runtime_error(exc: Exception, record: Any) -> Exception:
    if isinstance(exc, DslError):
        return exc
    if isinstance(exc, AttributeError):
        return DslEvalError("E604", {"value": type(record).__name__})
    if isinstance(exc, ArithmeticError | ValueError | TypeError):
        return DslEvalError("E603", {"detail": str(exc) or type(exc).__name__})
    return exc


def and_chain(fns: list[Fn]) -> Fn:
    """Three-valued ``and``: false if any operand is false (stop there), else null if any is null, else true."""
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        f1, f2 = fns

        def and2(r: Any, t: Any) -> Any:
            a1 = f1(r, t)
            if a1 is False:
                return False
            a2 = f2(r, t)
            if a2 is False:
                return False
            return None if a1 is None or a2 is None else True

        and2.chain = fns  # type: ignore[attr-defined]  # lets _entry inline the chain
        return and2
    if len(fns) == 3:
        f1, f2, f3 = fns

        def and3(r: Any, t: Any) -> Any:
            a1 = f1(r, t)
            if a1 is False:
                return False
            a2 = f2(r, t)
            if a2 is False:
                return False
            a3 = f3(r, t)
            if a3 is False:
                return False
            return None if a1 is None or a2 is None or a3 is None else True

        and3.chain = fns  # type: ignore[attr-defined]
        return and3

    def and_n(r: Any, t: Any) -> Any:
        unknown = False
        for f in fns:
            v = f(r, t)
            if v is False:
                return False
            if v is None:
                unknown = True
        return None if unknown else True

    return and_n


def or_chain(fns: list[Fn]) -> Fn:
    """Three-valued ``or``: true if any operand is true (stop there), else null if any is null, else false."""
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        f1, f2 = fns

        def or2(r: Any, t: Any) -> Any:
            a1 = f1(r, t)
            if a1 is True:
                return True
            a2 = f2(r, t)
            if a2 is True:
                return True
            return None if a1 is None or a2 is None else False

        return or2

    def or_n(r: Any, t: Any) -> Any:
        unknown = False
        for f in fns:
            v = f(r, t)
            if v is True:
                return True
            if v is None:
                unknown = True
        return None if unknown else False

    return or_n
