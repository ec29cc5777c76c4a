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
    """A checked and compiled expression plus what it reads (top-level names) and its result type.

    ``paths`` are the dotted catalogue names it reads (``预算明细.金额``), so a record need only hold those fields
    of a group's rows.
    """

    source: str
    expr: CompiledExpr
    type: DslType
    reads: frozenset[str]
    paths: frozenset[str] = frozenset()


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
    return Compiled(source, compiled, checked.type, reads, frozenset(checked.reads)), []


def evaluate(compiled: Compiled, record: Mapping[str, Any], today: date | None) -> Any:
    """The expression's value, or None (SQL null) when the record cannot be evaluated."""
    try:
        return compiled.expr.evaluate(record, today=today)
    except DslError:
        return None
    except (ArithmeticError, ValueError, TypeError, AttributeError, RecursionError):
        return None


Reader = Callable[[Any], Any]


def _reader(kind: DslType, only: frozenset[str] | None = None) -> Reader:
    """Converts a JSON value to a DSL value of type ``kind``; ``only`` limits an object (or the objects of a list)
    to those fields."""
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
        item = _reader(kind.item, only)

        def convert(v: Any) -> Any:
            return [None if x is None else item(x) for x in v] if v.__class__ is list else None

        cells = _identity_cells(kind.item, only)
        return convert if cells is None else _rows_as_they_are(cells, convert)
    if isinstance(kind, ObjectType):
        fields = {name: _reader(sub) for name, sub in kind.fields.items() if only is None or name in only}
        return lambda v: _read_object(fields, v) if v.__class__ is dict else None
    return lambda v: v  # any: passed through (the DSL checks what it reads)


#: DSL kinds whose reader returns the JSON value itself, and the classes it accepts as they are.
_IDENTITY_CLASSES: dict[str, tuple[type, ...]] = {"number": (Decimal, int), "string": (str,), "bool": (bool,)}


def _identity_cells(
    kind: DslType, only: frozenset[str] | None
) -> tuple[tuple[str, tuple[type, ...]], ...] | None:
    """For rows read only through ``only``: each wanted cell and the classes its reader returns unchanged, or None
    when some wanted cell needs converting (a date) or the rows are read whole."""
    if only is None or not isinstance(kind, ObjectType):
        return None
    cells = []
    for name, sub in kind.fields.items():
        if name in only:
            classes = _IDENTITY_CLASSES.get(sub.kind)
            if classes is None:
                return None
            cells.append((name, classes))
    return tuple(cells)


def _rows_as_they_are(cells: tuple[tuple[str, tuple[type, ...]], ...], convert: Reader) -> Reader:
    """The submitted rows themselves when every cell the expressions read is already a DSL value, else ``convert``.

    ``sum(预算明细.金额)`` reaches a row only through ``金额`` (objects are reachable only by dotted paths), so rows
    whose ``金额`` is a Decimal, an int or absent read the same as their converted copies; copying ten rows on every
    submission only to get the same sum is what this avoids. Anything else (a float, a row that is not an object)
    takes the converting path, which turns it into null.
    """

    def read(v: Any) -> Any:
        if v.__class__ is not list:
            return None
        for row in v:
            if row.__class__ is dict:
                for name, classes in cells:
                    cell = row.get(name)
                    if cell is not None and cell.__class__ not in classes:
                        return convert(v)
            elif row is not None:
                return convert(v)
        return v

    return read


def _read_object(fields: Mapping[str, Reader], value: Mapping[str, Any]) -> dict[str, Any]:
    return {name: read(value[name]) for name, read in fields.items() if value.get(name) is not None}


def _wanted_fields(name: str, paths: Iterable[str] | None) -> frozenset[str] | None:
    """The fields of ``name`` 's objects that ``paths`` read, or None when the value is read whole.

    ``sum(预算明细.金额)`` reads only ``金额`` of each row: converting the other cells of every row, on every
    submission, would be work the expression never looks at.
    """
    if paths is None:
        return None
    paths = list(paths)
    if name in paths:
        return None
    prefix = name + "."
    below = frozenset(p[len(prefix) :].split(".", 1)[0] for p in paths if p.startswith(prefix))
    return below or None


def record_reader(
    catalogue: Catalogue, names: Iterable[str] | None = None, paths: Iterable[str] | None = None
) -> Callable[[Mapping[str, Any]], dict]:
    """A function turning form data into a DSL record, reading only ``names`` (all top-level names if None), and of
    those only the sub-fields in ``paths`` (the dotted names the expressions read; everything if None)."""
    wanted = None if names is None else set(names)
    paths = None if paths is None else frozenset(paths)
    readers: dict[str, Reader] = {}
    for item in catalogue.fields():
        if len(item.path) == 1 and (wanted is None or item.name in wanted):
            readers[item.name] = _reader(item.type, _wanted_fields(item.name, paths))

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
