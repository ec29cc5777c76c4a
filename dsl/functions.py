"""The function registry: every function an expression may call, with its arity, types and implementation.

Functions are an explicit, closed registry filled at import time (house style rule 11): registering checks the name
and aliases are new, so a clash fails at start-up, not in a user's rule. Each function declares

* ``signature(arg_types) -> result type`` — raises :class:`ArgumentTypeIssue` for a wrong argument, which the
  checker turns into a positioned ``E402``;
* ``impl(*values)`` — pure, total, SQL-null aware (aggregates skip nulls, ``sum([])`` is 0);
* Chinese aliases, so ``求和(支出.金额)`` and ``sum(支出.金额)`` are the same call (the parser stores the canonical
  English name in the AST, which keeps other back ends to one spelling).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

from dsl.types import ANY, DATE, DURATION, NUMBER, DslType, ListType, unify

__all__ = [
    "FUNCTIONS",
    "ArgumentTypeIssue",
    "Function",
    "canonical_name",
    "function_words",
    "lookup",
    "register",
    "round_half_up",
]

ORDERABLE = ("number", "date", "duration")


class ArgumentTypeIssue(Exception):
    """Raised by a signature: argument ``index`` (0-based) should have been ``expected_zh``/``expected_en``."""

    def __init__(self, index: int, expected_zh: str, expected_en: str) -> None:
        super().__init__(index, expected_zh, expected_en)
        self.index = index
        self.expected_zh = expected_zh
        self.expected_en = expected_en


@dataclass(frozen=True, slots=True)
class Function:
    """A callable of the DSL. ``max_args`` None means variadic; ``uses_today`` marks ``today()``."""

    name: str
    aliases: tuple[str, ...]
    min_args: int
    max_args: int | None
    signature: Callable[[Sequence[DslType]], DslType]
    impl: Callable[..., Any]
    doc_zh: str
    doc_en: str
    uses_today: bool = False

    def arity_text(self, lang: str) -> str:
        if self.max_args == self.min_args:
            return str(self.min_args)
        if self.max_args is None:
            return f"至少{self.min_args}" if lang == "zh" else f"at least {self.min_args}"
        return f"{self.min_args}–{self.max_args}" if lang == "zh" else f"{self.min_args} to {self.max_args}"


FUNCTIONS: dict[str, Function] = {}
_ALIASES: dict[str, str] = {}


def register(function: Function) -> Function:
    """Add ``function`` to the registry; a name or alias already taken is a programming error."""
    for spelling in (function.name, *function.aliases):
        if spelling in _ALIASES:
            raise ValueError(f"DSL function name {spelling!r} is already registered")
    FUNCTIONS[function.name] = function
    for spelling in (function.name, *function.aliases):
        _ALIASES[spelling] = function.name
    return function


def lookup(name: str) -> Function | None:
    """The function spelled ``name`` (canonical or alias), or None."""
    canonical = _ALIASES.get(name)
    return FUNCTIONS[canonical] if canonical else None


def canonical_name(name: str) -> str:
    """The canonical English name for a known spelling; unknown names are returned unchanged."""
    return _ALIASES.get(name, name)


def function_words() -> frozenset[str]:
    """Every spelling of every function: part of the vocabulary for splitting Chinese written without spaces."""
    return frozenset(_ALIASES)


# --- signatures --------------------------------------------------------------------------------------------------


def _list_of(types: Sequence[DslType], index: int, kinds: tuple[str, ...], zh: str, en: str) -> DslType:
    """The item type of list argument ``index``, which must be a list of one of ``kinds``."""
    arg = types[index]
    if arg.kind in ("any", "null"):
        return ANY
    if isinstance(arg, ListType) and (arg.item.kind in (*kinds, "any", "null")):
        return arg.item
    raise ArgumentTypeIssue(index, zh, en)


def _sig_sum(types: Sequence[DslType]) -> DslType:
    _list_of(types, 0, ("number",), "数值列表", "list of numbers")
    return NUMBER


def _sig_count(types: Sequence[DslType]) -> DslType:
    if not (isinstance(types[0], ListType) or types[0].kind in ("any", "null")):
        raise ArgumentTypeIssue(0, "列表", "list")
    return NUMBER


def _sig_extreme(types: Sequence[DslType]) -> DslType:
    if len(types) == 1:
        item = _list_of(types, 0, ORDERABLE, "数值、日期或时长的列表", "list of numbers, dates or durations")
        return item if item.kind != "null" else ANY
    result: DslType = ANY
    for index, kind in enumerate(types):
        if kind.kind not in (*ORDERABLE, "any", "null"):
            raise ArgumentTypeIssue(index, "数值、日期或时长", "number, date or duration")
        unified = unify(result, kind)
        if unified is None:
            raise ArgumentTypeIssue(index, result.zh, result.en)
        result = unified
    return result


def _sig_number(types: Sequence[DslType]) -> DslType:
    for index, kind in enumerate(types):
        if kind.kind not in ("number", "any", "null"):
            raise ArgumentTypeIssue(index, NUMBER.zh, NUMBER.en)
    return NUMBER


def _sig_abs(types: Sequence[DslType]) -> DslType:
    if types[0].kind not in ("number", "duration", "any", "null"):
        raise ArgumentTypeIssue(0, "数值或时长", "number or duration")
    return types[0] if types[0].kind == "duration" else NUMBER


def _sig_len(types: Sequence[DslType]) -> DslType:
    if not (isinstance(types[0], ListType) or types[0].kind in ("string", "any", "null")):
        raise ArgumentTypeIssue(0, "文本或列表", "text or list")
    return NUMBER


def _sig_coalesce(types: Sequence[DslType]) -> DslType:
    result: DslType = types[0]
    for index, kind in enumerate(types[1:], start=1):
        unified = unify(result, kind)
        if unified is None:
            raise ArgumentTypeIssue(index, result.zh, result.en)
        result = unified
    return result


def _sig_today(types: Sequence[DslType]) -> DslType:
    return DATE


def _sig_days(types: Sequence[DslType]) -> DslType:
    if types[0].kind not in ("duration", "any", "null"):
        raise ArgumentTypeIssue(0, DURATION.zh, DURATION.en)
    return NUMBER


# --- implementations ---------------------------------------------------------------------------------------------

_ZERO = Decimal(0)
_ROUNDING = Context(prec=100, rounding=ROUND_HALF_UP)


def _sum(values: Sequence[Any] | None) -> Decimal:
    total = _ZERO
    for value in values or ():
        if value is not None:
            total += value
    return total


def _count(values: Sequence[Any] | None) -> Decimal:
    return Decimal(sum(1 for value in values or () if value is not None))


def _avg(values: Sequence[Any] | None) -> Decimal | None:
    present = [value for value in values or () if value is not None]
    if not present:
        return None
    return sum(present, _ZERO) / len(present)


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        values = args[0] if len(args) == 1 else args
        present = [value for value in values or () if value is not None]
        return pick(present) if present else None

    return run


def _abs(value: Any) -> Any:
    return None if value is None else abs(value)


def round_half_up(value: Decimal | None, digits: Decimal | int | None = 0) -> Decimal | None:
    """四舍五入: round half away from zero (``ROUND_HALF_UP`` on Decimal, as PostgreSQL rounds numerics).

    ``digits`` may be negative (round to tens, hundreds …) and must be a whole number in [-20, 20]; the checker
    enforces that for literals and a non-whole runtime value is truncated towards zero.
    """
    if value is None or digits is None:
        return None
    places = int(digits)
    if not -20 <= places <= 20:
        from dsl.errors import DslEvalError  # deferred: errors is a leaf, but keep functions importable alone

        raise DslEvalError("E603", {"detail": f"round digits {places}"})
    try:
        return value.quantize(Decimal(1).scaleb(-places), context=_ROUNDING)
    except InvalidOperation:
        return value


def _len(value: Any) -> Decimal | None:
    return None if value is None else Decimal(len(value))


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def _today(today: date) -> date:
    return today


def _days(value: timedelta | None) -> Decimal | None:
    return None if value is None else Decimal(value.days)


register(
    Function(
        "sum",
        ("求和", "合计"),
        1,
        1,
        _sig_sum,
        _sum,
        "列表中非空数值之和；空列表为 0",
        "sum of the non-null numbers of a list; 0 for an empty list",
    )
)
register(
    Function(
        "count",
        ("计数", "个数"),
        1,
        1,
        _sig_count,
        _count,
        "列表中非空元素的个数",
        "number of non-null items of a list",
    )
)
register(
    Function(
        "avg",
        ("平均", "平均值"),
        1,
        1,
        _sig_sum,
        _avg,
        "列表中非空数值的平均值；没有时为空",
        "average of the non-null numbers; null when there are none",
    )
)
register(
    Function(
        "min",
        ("最小", "最小值"),
        1,
        None,
        _sig_extreme,
        _extreme(min),
        "最小值：一个列表，或多个值；跳过空值",
        "smallest of a list or of several values; nulls skipped",
    )
)
register(
    Function(
        "max",
        ("最大", "最大值"),
        1,
        None,
        _sig_extreme,
        _extreme(max),
        "最大值：一个列表，或多个值；跳过空值",
        "largest of a list or of several values; nulls skipped",
    )
)
register(Function("abs", ("绝对值",), 1, 1, _sig_abs, _abs, "绝对值", "absolute value"))
register(
    Function(
        "round",
        ("四舍五入",),
        1,
        2,
        _sig_number,
        round_half_up,
        "四舍五入到指定位数（默认 0 位）",
        "round half away from zero to n places (default 0)",
    )
)
register(
    Function(
        "len", ("长度",), 1, 1, _sig_len, _len, "文本的字数或列表的元素个数", "length of a text or a list"
    )
)
register(
    Function(
        "coalesce",
        ("首个非空",),
        1,
        None,
        _sig_coalesce,
        _coalesce,
        "第一个非空的参数",
        "the first non-null argument",
    )
)
register(
    Function(
        "today",
        ("今天",),
        0,
        0,
        _sig_today,
        _today,
        "今天的日期（可在测试中注入）",
        "today's date (injectable in tests)",
        uses_today=True,
    )
)
register(
    Function(
        "days",
        ("天数",),
        1,
        1,
        _sig_days,
        _days,
        "时长包含的天数（数值）",
        "the number of days of a duration, as a number",
    )
)
