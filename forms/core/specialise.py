"""Closure builders for the fast predicate: one closure per schema node, specialised to the value's class.

In CPython the cost of a predicate is mostly the number of Python calls it makes, not the comparisons inside them.
A schema node such as ``{"type": "string", "maxLength": 100}`` composed keyword by keyword costs four calls per value
(the node, its type test, a "when it is a string" guard, the length test); dispatched on ``x.__class__`` it costs
one, because the guard and the type test are the same comparison. :mod:`forms.core.fastpath` therefore builds, for
every node, a *generic* predicate (keyword by keyword, exact for any value) and a table ``class → predicate`` for the
classes a JSON parser produces (``str``, ``int``, ``Decimal``, ``bool``, ``dict``, ``list``); :func:`dispatch` joins
them so the common classes take the specialised path and anything else (floats, ``None``, subclasses) the generic
one. Both are built from the same keyword checks, and the property tests hold the result to jsonschema.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from forms.core.keywords import scale_problem, unique_ok

__all__ = [
    "Predicate",
    "all_of",
    "always",
    "array_predicate",
    "bounds_predicate",
    "dispatch",
    "never",
    "number_node",
    "object_predicate",
    "scale_predicate",
    "string_node",
]

Predicate = Callable[[Any], bool]

_INF = float("inf")


def always(x: Any) -> bool:
    return True


def never(x: Any) -> bool:
    return False


def all_of(checks: list[Predicate]) -> Predicate:
    """The conjunction of ``checks`` with as few frames as possible (``always`` when there are none)."""
    checks = [c for c in checks if c is not always]
    if not checks:
        return always
    if never in checks:
        return never
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)
    if len(checks) == 3:
        one, two, three = checks
        return lambda x: one(x) and two(x) and three(x)
    frozen = tuple(checks)

    def every(x: Any) -> bool:  # a loop, not all(genexpr): this runs per value on every submission
        for check in frozen:  # noqa: SIM110
            if not check(x):
                return False
        return True

    return every


def dispatch(table: dict[type, Predicate], generic: Predicate) -> Predicate:
    """A predicate that runs ``table[x.__class__]`` when there is one and ``generic`` otherwise.

    ``table`` must agree with ``generic`` on its classes; entries equal to :func:`never` are left to ``generic``
    (a value of a refused class is rare: it is an invalid submission). One or two live classes — the usual case,
    since form fields declare a single ``type`` — are tested inline instead of through a dictionary.
    """
    live = [(cls, check) for cls, check in table.items() if check is not never]
    if not live:
        return generic
    if len(live) == 1:
        [(cls, check)] = live
        if check is always:
            return lambda x: x.__class__ is cls or generic(x)
        return lambda x: check(x) if x.__class__ is cls else generic(x)
    if len(live) == 2:
        (cls1, check1), (cls2, check2) = live

        def either(x: Any) -> bool:
            cls = x.__class__
            if cls is cls1:
                return check1(x)
            if cls is cls2:
                return check2(x)
            return generic(x)

        return either
    get = dict(live).get

    def by_class(x: Any) -> bool:
        check = get(x.__class__)
        return generic(x) if check is None else check(x)

    return by_class


def string_node(lo: int, hi: float, rest: Predicate, generic: Predicate) -> Predicate:
    """A node whose only specialised class is ``str``: length bounds inline, then ``rest`` (pattern, format, enum)."""
    bounded = lo > 0 or hi != _INF
    if rest is never:
        return generic
    if rest is always:
        if not bounded:
            return lambda x: x.__class__ is str or generic(x)
        return lambda x: lo <= len(x) <= hi if x.__class__ is str else generic(x)
    if not bounded:
        return lambda x: rest(x) if x.__class__ is str else generic(x)
    return lambda x: (lo <= len(x) <= hi and rest(x)) if x.__class__ is str else generic(x)


def bounds_predicate(
    minimum: Any = None, maximum: Any = None, ex_min: Any = None, ex_max: Any = None
) -> Predicate | None:
    """One closure for ``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum`` on a number.

    Each present bound is one comparison, chained in a single frame instead of one lambda per keyword.
    """
    present = [b is not None for b in (minimum, maximum, ex_min, ex_max)]
    if not any(present):
        return None
    if present == [True, False, False, False]:
        return lambda x: x >= minimum
    if present == [False, False, True, False]:
        return lambda x: x > ex_min
    if present == [True, True, False, False]:
        return lambda x: minimum <= x <= maximum
    if present == [False, True, False, False]:
        return lambda x: x <= maximum
    checks: list[Predicate] = []
    if minimum is not None:
        checks.append(lambda x: x >= minimum)
    if maximum is not None:
        checks.append(lambda x: x <= maximum)
    if ex_min is not None:
        checks.append(lambda x: x > ex_min)
    if ex_max is not None:
        checks.append(lambda x: x < ex_max)
    return all_of(checks)


_QUANTIZE = decimal.Context(prec=200, Emax=999_999, Emin=-999_999, traps=[decimal.InvalidOperation]).quantize


def scale_predicate(scale: Any, first: Predicate = always) -> Predicate:
    """``first`` (the node's other checks), then ``x-scale`` for a Decimal, in one frame.

    The scale test is a quick "is it already a multiple of 10^-scale": ``quantize`` is three times cheaper than
    ``as_tuple`` (which builds a tuple of every digit), and when it leaves the value unchanged the value certainly
    has at most ``scale`` places; in every other case (more places, a value too large to quantize, NaN)
    :func:`forms.core.keywords.scale_problem` decides, as the reference validator does.
    """
    if not isinstance(scale, int):
        return first
    step = Decimal(1).scaleb(-scale)
    checked = first is not always

    def scale_ok(x: Any) -> bool:
        if checked and not first(x):
            return False
        try:
            if _QUANTIZE(x, step) == x:
                return True
        except decimal.DecimalException:
            pass
        return scale_problem(x, scale) is None

    return scale_ok


def number_node(
    minimum: Any, maximum: Any, ex_min: Any, ex_max: Any, scale: Any, integer: bool, generic: Predicate
) -> Predicate:
    """A ``number`` (or ``integer``) node with only bounds and ``x-scale``, the shape of every money, percent and
    count field: ints and Decimals are checked in this one frame (bounds, then the quick scale test), anything else
    — floats, which ``x-field`` refuses for money, or a Decimal in an ``integer`` field — by ``generic``."""
    step = Decimal(1).scaleb(-scale) if isinstance(scale, int) else None
    decimals = not integer

    def number(x: Any) -> bool:
        cls = x.__class__
        if cls is not int and (cls is not Decimal or not decimals):
            return generic(x)
        if minimum is not None and not x >= minimum:
            return False
        if maximum is not None and not x <= maximum:
            return False
        if ex_min is not None and not x > ex_min:
            return False
        if ex_max is not None and not x < ex_max:
            return False
        if step is None or cls is int:
            return True
        try:
            if _QUANTIZE(x, step) == x:
                return True
        except decimal.DecimalException:
            pass
        return scale_problem(x, scale) is None

    return number


def object_predicate(
    props: dict[str, Predicate],
    required: tuple[str, ...],
    closed: bool,
    extra: Predicate | None,
    lo: int,
    hi: float,
) -> Predicate:
    """The object keywords for a value already known to be a dict."""
    get = props.get
    needed = frozenset(required)
    counted = lo > 0 or hi != _INF

    def check_object(x: dict[str, Any]) -> bool:
        if needed and not x.keys() >= needed:
            return False
        for key, value in x.items():
            predicate = get(key)
            if predicate is None:
                if closed:
                    return False
                if extra is not None and not extra(value):
                    return False
            elif not predicate(value):
                return False
        return not counted or lo <= len(x) <= hi

    return check_object


def array_predicate(item: Predicate | None, lo: int, hi: float, unique: bool) -> Predicate:
    """The array keywords for a value already known to be a list; items are checked by ``all(map(…))``, which
    loops in C."""
    counted = lo > 0 or hi != _INF
    if item is None or item is always:
        if unique:
            return lambda x: lo <= len(x) <= hi and unique_ok(x)
        return (lambda x: lo <= len(x) <= hi) if counted else always
    if unique:
        return lambda x: lo <= len(x) <= hi and all(map(item, x)) and unique_ok(x)
    if counted:
        return lambda x: lo <= len(x) <= hi and all(map(item, x))
    return lambda x: all(map(item, x))
