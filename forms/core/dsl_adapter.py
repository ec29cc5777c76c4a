"""The one place the forms core talks to ``dsl/``.

Keeping every DSL call here means a change in the DSL's API is a change in one small module, and the rest of
``forms/core`` deals in plain results: a compiled expression or a list of problems, a value or ``None``.

Records handed to the DSL must hold DSL values (``date`` objects, ``Decimal`` s), while form data holds JSON values
(``"2024-05-01"``) that may also be wrong (a float, a malformed date). :func:`record_reader` converts, per catalogue
type, and turns anything unreadable into ``None`` — SQL null — so an invalid value makes a rule unknown rather than
crashing it; the schema check reports the value itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import dsl
from dsl import BOOL, Catalogue, CompiledExpr, DslError, DslType, ListType, ObjectType
from forms.core.formats import is_date

__all__ = [
    "BOOL",
    "Catalogue",
    "Compiled",
    "DslType",
    "catalogue_for",
    "check_expression",
    "evaluate",
    "record_reader",
    "to_json_value",
]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A checked and compiled expression plus what it reads (top-level names) and its result type."""

    source: str
    expr: CompiledExpr
    type: DslType
    reads: frozenset[str]


def catalogue_for(schema: Mapping[str, Any]) -> Catalogue:
    """The DSL catalogue of a form (or of one repeating group's row schema)."""
    return Catalogue.from_json_schema(schema)


def check_expression(
    source: Any, catalogue: Catalogue, *, boolean: bool = False
) -> tuple[Compiled | None, list[DslError]]:
    """Check ``source``; a condition (``boolean``) must be 是/否. Returns the compiled form or every problem."""
    if not isinstance(source, str) or not source.strip():
        return None, []
    expect = BOOL if boolean else None
    problems = dsl.diagnose(source, catalogue, expect=expect)
    if problems:
        return None, problems
    try:
        checked = dsl.check(source, catalogue, expect=expect)
        compiled = dsl.compile(checked)
    except DslError as error:  # diagnose and check agree; this is belt and braces
        return None, [error]
    reads = frozenset(name.split(".", 1)[0] for name in checked.reads)
    return Compiled(source, compiled, checked.type, reads), []


def evaluate(compiled: Compiled, record: Mapping[str, Any], today: date | None) -> Any:
    """The expression's value, or None (SQL null) when the record cannot be evaluated."""
    try:
        return compiled.expr.evaluate(record, today=today)
    except DslError:
        return None
    except (ArithmeticError, ValueError, TypeError, AttributeError, RecursionError):
        return None


Reader = Callable[[Any], Any]


def _reader(kind: DslType) -> Reader:
    k = kind.kind
    if k == "number":
        return lambda v: v if v.__class__ in (Decimal, int) else None
    if k == "date":
        return lambda v: date.fromisoformat(v) if v.__class__ is str and is_date(v) else None
    if k == "string":
        return lambda v: v if v.__class__ is str else None
    if k == "bool":
        return lambda v: v if v.__class__ is bool else None
    if isinstance(kind, ListType):
        item = _reader(kind.item)
        return lambda v: [None if x is None else item(x) for x in v] if v.__class__ is list else None
    if isinstance(kind, ObjectType):
        fields = {name: _reader(sub) for name, sub in kind.fields.items()}
        return lambda v: _read_object(fields, v) if v.__class__ is dict else None
    return lambda v: v  # any: passed through (the DSL checks what it reads)


def _read_object(fields: Mapping[str, Reader], value: Mapping[str, Any]) -> dict[str, Any]:
    return {name: read(value[name]) for name, read in fields.items() if value.get(name) is not None}


def record_reader(
    catalogue: Catalogue, names: Iterable[str] | None = None
) -> Callable[[Mapping[str, Any]], dict]:
    """A function turning form data into a DSL record, reading only ``names`` (all top-level names if None)."""
    wanted = None if names is None else set(names)
    readers: dict[str, Reader] = {}
    for item in catalogue.fields():
        if len(item.path) == 1 and (wanted is None or item.name in wanted):
            readers[item.name] = _reader(item.type)

    def read(data: Mapping[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for name, reader in readers.items():
            value = data.get(name)
            if value is not None:
                record[name] = reader(value)
        return record

    return read


def to_json_value(value: Any) -> Any:
    """A DSL result as stored in form data: dates as ISO text, durations as whole days, Decimals kept."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.days
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    return value
