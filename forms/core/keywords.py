"""Keyword semantics shared by the fast path and the jsonschema reference validator.

Every keyword whose behaviour we define or repair is written **once**, here, and called by both validators, so the
two cannot drift apart: the custom ``x-`` keywords our field types generate, a ``multipleOf`` that works on
``Decimal`` (jsonschema's divides a Decimal by a float and crashes), a ``pattern`` that runs in bounded time, and an
``integer`` type that accepts ``Decimal("5.0")`` as draft 2020-12 says it should.

The reference validator is :func:`reference_validator`: Draft 2020-12 extended with these keywords, our format
checker and a registry that never retrieves anything.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema._utils import uniq

from forms.core.formats import format_checker, is_date
from forms.core.safety import local_registry, pattern_matcher

__all__ = [
    "NUMERIC_KEYWORDS",
    "ReferenceValidator",
    "accept_problem",
    "is_integer_value",
    "max_size_problem",
    "multiple_of_ok",
    "normalise_schema",
    "pattern_ok",
    "reference_validator",
    "scale_problem",
    "unique_ok",
    "x_field_problem",
]

NUMERIC_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_VALUE_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_EXACT = decimal.Context(prec=200, Emax=999_999, Emin=-999_999, traps=[decimal.InvalidOperation])


def is_integer_value(value: Any) -> bool:
    """JSON Schema's integer: an int (not bool), or a float or Decimal with no fractional part."""
    cls = value.__class__
    if cls is int:
        return True
    if cls is float:
        return value.is_integer()  # type: ignore[no-any-return]
    if cls is Decimal:
        return value.is_finite() and value == value.to_integral_value()  # type: ignore[no-any-return]
    return isinstance(value, int) and not isinstance(value, bool)


def _as_decimal(value: Any) -> Decimal:
    return Decimal(repr(value)) if value.__class__ is float else Decimal(value)


def multiple_of_ok(value: Any, divisor: Any) -> bool:
    """Exact ``multipleOf`` for int, float and Decimal alike; a quotient too large to decide counts as failure."""
    try:
        remainder = _EXACT.remainder(_as_decimal(value), _as_decimal(divisor))
    except (decimal.InvalidOperation, ValueError, TypeError):
        return False
    return remainder == 0


def pattern_ok(value: str, pattern: str) -> bool:
    """``pattern`` with search semantics, in bounded time (see :func:`forms.core.safety.pattern_matcher`)."""
    return pattern_matcher(pattern)(value)


def unique_ok(value: list[Any]) -> bool:
    """``uniqueItems``: strings by a set, anything else by jsonschema's own comparison (1 == 1.0, True != 1)."""
    if all(item.__class__ is str for item in value):
        return len(set(value)) == len(value)
    return bool(uniq(value))


def scale_problem(value: Any, scale: Any) -> str | None:
    """``x-scale``: at most ``scale`` decimal places (money is kept to the 分)."""
    if value.__class__ is not Decimal or not isinstance(scale, int):
        return None  # ints have no decimals; floats are refused by x-field
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent >= -scale:
        return None
    try:
        ok = value == value.quantize(Decimal(1).scaleb(-scale), context=_EXACT)
    except decimal.InvalidOperation:
        ok = False
    return None if ok else f"最多保留 {scale} 位小数"


def x_field_problem(kind: Any, value: Any) -> str | None:
    """What ``x-field`` itself asserts: exact decimals for money and percent, and start ≤ end for date ranges."""
    if kind in ("money", "percent"):
        if value.__class__ is float:
            return (
                "金额须以精确小数提交，不能是浮点数"
                if kind == "money"
                else "百分比须以精确小数提交，不能是浮点数"
            )
    elif kind == "daterange" and value.__class__ is dict:
        start, end = value.get("开始"), value.get("结束")
        if (
            start.__class__ is str
            and end.__class__ is str
            and is_date(start)
            and is_date(end)
            and start > end
        ):
            return "开始日期不能晚于结束日期"
    return None


def max_size_problem(value: Any, limit: Any) -> str | None:
    """``x-max-size`` on a file object: its ``size`` in bytes must not exceed ``limit``."""
    if value.__class__ is not dict or not isinstance(limit, int):
        return None
    size = value.get("size")
    if size.__class__ is int and size > limit:
        return f"文件不能超过 {_human_size(limit)}"
    return None


def accept_problem(value: Any, accept: Any) -> str | None:
    """``x-accept`` on a file object: ``content_type`` must match one entry (``image/*`` matches any image)."""
    if value.__class__ is not dict or not isinstance(accept, list):
        return None
    kind = value.get("content_type")
    if kind.__class__ is not str:
        return None
    kind = kind.split(";", 1)[0].strip().lower()
    for entry in accept:
        if not isinstance(entry, str):
            continue
        entry = entry.lower()
        if entry == kind or (entry.endswith("/*") and kind.startswith(entry[:-1])):
            return None
    return f"文件类型不允许，允许：{'、'.join(str(a) for a in accept)}"


def _human_size(size: int) -> str:
    if size >= 1 << 20 and size % (1 << 20) == 0:
        return f"{size >> 20} MB"
    if size >= 1 << 10 and size % (1 << 10) == 0:
        return f"{size >> 10} KB"
    return f"{size} 字节"


# -- the reference validator -----------------------------------------------------------------------------------------


def _kw_multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "number") and not multiple_of_ok(instance, divisor):
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


def _kw_pattern(validator: Any, pattern: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not pattern_ok(instance, pattern):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _kw_unique(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if unique and validator.is_type(instance, "array") and not unique_ok(instance):
        yield ValidationError(f"{instance!r} has non-unique elements")


def _message_keyword(check: Any) -> Any:
    def keyword(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        problem = check(instance, value) if check is not x_field_problem else check(value, instance)
        if problem:
            yield ValidationError(problem)

    return keyword


def _is_integer(checker: Any, instance: Any) -> bool:
    return is_integer_value(instance)


ReferenceValidator: Any = validators.extend(
    Draft202012Validator,
    validators={
        "multipleOf": _kw_multiple_of,
        "pattern": _kw_pattern,
        "uniqueItems": _kw_unique,
        "x-field": _message_keyword(x_field_problem),
        "x-scale": _message_keyword(scale_problem),
        "x-max-size": _message_keyword(max_size_problem),
        "x-accept": _message_keyword(accept_problem),
    },
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)

_FORMAT_CHECKER = format_checker()


@lru_cache(maxsize=1)
def _registry() -> Any:
    return local_registry()


def reference_validator(schema: Mapping[str, Any]) -> Any:
    """The full jsonschema validator for a (normalised) schema: the authority on every detailed error."""
    return ReferenceValidator(schema, format_checker=_FORMAT_CHECKER, registry=_registry())


def normalise_schema(schema: Any) -> Any:
    """A copy of ``schema`` whose numeric keyword values are Decimal (floats in a schema would make comparisons
    with Decimal data inexact, and jsonschema's float ``multipleOf`` crash on them). Values under ``const``/``enum``/
    ``default``/``examples`` are data, not keywords, and are copied as they are."""
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in NUMERIC_KEYWORDS and value.__class__ is float:
                out[key] = Decimal(repr(value))
            elif key in _VALUE_KEYWORDS:
                out[key] = value
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {name: normalise_schema(sub) for name, sub in value.items()}
            else:
                out[key] = normalise_schema(value)
        return out
    if isinstance(schema, list):
        return [normalise_schema(item) for item in schema]
    return schema
