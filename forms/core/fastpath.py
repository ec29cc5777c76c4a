"""Compile a JSON Schema once into a fast yes/no predicate.

Full jsonschema builds an error object per keyword per value and resolves keywords through dictionaries on every
call; that is the right tool for explaining *what* is wrong but too slow to ask "is it valid?" thousands of times a
second. Most submissions are valid, so :func:`compile_predicate` turns the schema into nested closures, one per
schema node, each specialised to the keywords that node uses and dispatched on the value's class, so a typical field
costs one Python call per value (:mod:`forms.core.specialise` says why that is what matters). The validator calls
the predicate first and runs the reference validator only when the predicate says no, to produce the detailed
errors — and then, through :class:`LocalErrors`, only on the subtrees at fault.

Keywords outside the compiled set (``$ref``, ``anyOf``, ``if``/``then``, ``unevaluatedProperties`` …) make that
*subschema* fall back to the reference validator, so coverage is never lost, only speed. Agreement with the
reference validator is a property test (``tests/forms/core/test_fastpath.py``), not a hope.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jsonschema._utils import equal

from forms.core.formats import FORMATS
from forms.core.keywords import (
    ReferenceValidator,
    accept_problem,
    is_integer_value,
    max_size_problem,
    multiple_of_ok,
    scale_problem,
    x_field_problem,
)
from forms.core.safety import pattern_matcher
from forms.core.specialise import (
    Predicate,
    all_of,
    always,
    array_predicate,
    bounds_predicate,
    dispatch,
    never,
    number_node,
    object_predicate,
    scale_predicate,
    string_node,
)

__all__ = ["LocalErrors", "Predicate", "compile_predicate"]

_INF = float("inf")

#: keywords that only annotate (or that we implement as part of another keyword).
_IGNORED = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "readOnly",
        "writeOnly",
        "deprecated",
        "$schema",
        "$id",
        "$anchor",
        "$defs",
        "definitions",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
    }
)
_COMPILED = frozenset(
    {
        "type",
        "enum",
        "const",
        "format",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
        "maxProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "x-field",
        "x-scale",
        "x-max-size",
        "x-accept",
    }
)
_KNOWN = frozenset(ReferenceValidator.VALIDATORS)
#: anywhere in the schema, these need the dynamic scope only the reference validator keeps.
_DYNAMIC = frozenset({"$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor"})

_TYPE_TESTS: dict[str, Predicate] = {
    "string": lambda x: x.__class__ is str,
    "integer": is_integer_value,
    "number": lambda x: x.__class__ in (int, float, Decimal),
    "boolean": lambda x: x.__class__ is bool,
    "null": lambda x: x is None,
    "array": lambda x: x.__class__ is list,
    "object": lambda x: x.__class__ is dict,
}
_NUMBER = (int, float, Decimal)


class _Unsupported(Exception):
    """A keyword (or keyword value) this compiler does not specialise; the subschema falls back."""


def compile_predicate(schema: Any, reference: Any) -> Predicate:
    """A predicate equivalent to ``reference.is_valid`` for ``schema`` (the root the reference was built on).

    ``reference`` is the reference validator; subschemas that cannot be compiled are checked with
    ``reference.evolve(schema=subschema).is_valid``, which keeps the root's reference resolution.
    """
    if _mentions(schema, _DYNAMIC):
        return reference.is_valid  # type: ignore[no-any-return]
    return _Compiler(reference).node(schema)


#: our own keywords look at the node's value only (never apply a subschema), so a shallow check keeps them whole:
#: a repeating group is ``x-field: group`` and must still be explained row by row.
_LOCAL_X_KEYS = frozenset({"x-field", "x-max-size", "x-accept"})
_OBJECT_KEYS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
        "maxProperties",
        *_LOCAL_X_KEYS,
    }
)
_ARRAY_KEYS = frozenset({"type", "items", "minItems", "maxItems", "uniqueItems", *_LOCAL_X_KEYS})


class LocalErrors:
    """Detailed errors for an invalid value, computed only where the value is invalid.

    Running the reference validator over a whole 40-field submission to explain one bad 统一社会信用代码 costs as much
    as validating it all. For object and array nodes made only of structural keywords, this checks the node's own
    keywords with its children replaced by ``true`` (so ``required`` and ``additionalProperties`` still see every
    name) and descends only into children the fast predicate rejects. Any other node is explained by the reference
    validator, whole. The errors are the reference validator's own, with their paths prefixed.
    """

    __slots__ = ("children", "full", "item", "kind", "predicate", "shallow", "shallow_ok")

    def __init__(self, schema: Any, reference: Any) -> None:
        self.predicate = (
            compile_predicate(schema, reference)
            if isinstance(schema, Mapping)
            else reference.evolve(schema=schema).is_valid
        )
        self.kind = "full"
        self.children: dict[str, LocalErrors] = {}
        self.item: LocalErrors | None = None
        self.shallow: Any = None
        self.shallow_ok: Predicate = always
        self.full: Any = reference.evolve(schema=schema)
        if not isinstance(schema, Mapping) or _mentions(schema, _DYNAMIC):
            return
        structural = {k for k in schema if k in _KNOWN}
        props = schema.get("properties")
        if schema.get("type") == "object" and structural <= _OBJECT_KEYS and isinstance(props, Mapping):
            self.kind = "object"
            self.shallow_schema({**schema, "properties": dict.fromkeys(props, True)}, reference)
            self.children = {name: LocalErrors(sub, reference) for name, sub in props.items()}
        elif (
            schema.get("type") == "array"
            and structural <= _ARRAY_KEYS
            and isinstance(schema.get("items"), Mapping)
        ):
            self.kind = "array"
            self.shallow_schema({**schema, "items": True}, reference)
            self.item = LocalErrors(schema["items"], reference)

    def shallow_schema(self, shallow: Mapping[str, Any], reference: Any) -> None:
        """The node's own keywords, children replaced by ``true``: a reference validator for the errors and a
        compiled predicate, so jsonschema runs only when the node itself is at fault (a 40-property object costs
        jsonschema 40 descents even when the fault is deeper down)."""
        self.shallow = reference.evolve(schema=shallow)
        self.shallow_ok = compile_predicate(shallow, reference)

    def errors(self, value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
        """``(ValidationError, path prefix)`` pairs for ``value``."""
        if self.kind == "object" and value.__class__ is dict:
            if not self.shallow_ok(value):
                for error in self.shallow.iter_errors(value):
                    yield error, prefix
            for key, sub in value.items():
                child = self.children.get(key)
                if child is not None and not child.predicate(sub):
                    yield from child.errors(sub, (*prefix, key))
        elif self.kind == "array" and value.__class__ is list and self.item is not None:
            if not self.shallow_ok(value):
                for error in self.shallow.iter_errors(value):
                    yield error, prefix
            item = self.item
            for index, sub in enumerate(value):
                if not item.predicate(sub):
                    yield from item.errors(sub, (*prefix, index))
        else:
            for error in self.full.iter_errors(value):
                yield error, prefix


def _mentions(schema: Any, keys: frozenset[str]) -> bool:
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if keys.intersection(node):
                return True
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return False


@dataclass(slots=True)
class _Parts:
    """One schema node's keyword checks, grouped by the value class they apply to."""

    types: tuple[str, ...] | None
    value_checks: list[Predicate] = field(default_factory=list)  # enum, const: every class
    str_members: Predicate | None = None  # enum, for a value known to be a str
    lo_len: int = 0
    hi_len: float = _INF
    string_checks: list[Predicate] = field(default_factory=list)  # pattern, format
    bounds: Predicate | None = None
    number_checks: list[Predicate] = field(default_factory=list)  # multipleOf
    scale: Any = None
    dict_checks: list[Predicate] = field(default_factory=list)  # object keywords, daterange, file limits
    array_check: Predicate | None = None
    x_field: Any = None

    def numeric(self) -> list[Predicate]:
        return [*([self.bounds] if self.bounds else []), *self.number_checks]


class _Compiler:
    """Builds each node's keyword checks once, then assembles them twice: keyword by keyword (exact for any value,
    the fallback) and per value class (:mod:`forms.core.specialise`), the path valid submissions take."""

    def __init__(self, reference: Any) -> None:
        self.reference = reference

    def node(self, schema: Any) -> Predicate:
        if schema is True:
            return always
        if schema is False:
            return never
        if not isinstance(schema, Mapping):
            return self.fallback(schema)
        try:
            return self.compile(schema)
        except _Unsupported:
            return self.fallback(schema)

    def fallback(self, schema: Any) -> Predicate:
        sub = self.reference.evolve(schema=schema)
        return sub.is_valid  # type: ignore[no-any-return]

    def compile(self, schema: Mapping[str, Any]) -> Predicate:
        for key in schema:
            if key in _COMPILED or key in _IGNORED:
                continue
            if key in _KNOWN:
                raise _Unsupported(key)
            # any other key (x-title, x-disclosure, x-enum-labels …) is an annotation, as jsonschema treats it
        parts = self.parts(schema)
        return self.specialised(parts, schema, self.generic(parts))

    def parts(self, schema: Mapping[str, Any]) -> _Parts:
        """Every keyword check of the node, built once (children are compiled here, exactly once)."""
        parts = _Parts(types=self.types(schema["type"]) if "type" in schema else None)
        if "enum" in schema:
            parts.value_checks.append(_enum(schema["enum"]))
            parts.str_members = _string_members(schema["enum"])
        if "const" in schema:
            const = schema["const"]
            parts.value_checks.append(lambda x: equal(const, x))
        parts.lo_len, parts.hi_len, parts.string_checks = self.string_checks(schema)
        parts.bounds, parts.number_checks = self.number_checks(schema)
        parts.scale = schema.get("x-scale")
        parts.array_check = self.array_check(schema)
        object_check = self.object_check(schema)
        if object_check is not None:
            parts.dict_checks.append(object_check)
        kind = parts.x_field = schema.get("x-field")
        if kind == "daterange":
            parts.dict_checks.append(lambda x: x_field_problem(kind, x) is None)
        if "x-max-size" in schema:
            limit = schema["x-max-size"]
            parts.dict_checks.append(lambda x: max_size_problem(x, limit) is None)
        if "x-accept" in schema:
            accept = schema["x-accept"]
            parts.dict_checks.append(lambda x: accept_problem(x, accept) is None)
        return parts

    def generic(self, parts: _Parts) -> Predicate:
        """Keyword by keyword, each guarded by the class it applies to: exact for any value."""
        checks = list(parts.value_checks)
        kind, scale, lo_len, hi_len = parts.x_field, parts.scale, parts.lo_len, parts.hi_len
        if kind in ("money", "percent"):
            checks.append(lambda x: x_field_problem(kind, x) is None)
        if parts.dict_checks:
            checks.append(_when(dict, all_of(parts.dict_checks)))
        if lo_len > 0 or hi_len != _INF:
            checks.append(_when(str, lambda x: lo_len <= len(x) <= hi_len))
        if parts.string_checks:
            checks.append(_when(str, all_of(parts.string_checks)))
        numeric = parts.numeric()
        if scale is not None:
            numeric.append(lambda x: scale_problem(x, scale) is None)
        if numeric:
            checks.append(_when_number(all_of(numeric)))
        if parts.array_check is not None:
            checks.append(_when(list, parts.array_check))
        rest = all_of(checks)
        if parts.types is None:
            return rest
        type_test = self.type_test(parts.types)
        return type_test if rest is always else (lambda x: type_test(x) and rest(x))

    @staticmethod
    def specialised(parts: _Parts, schema: Mapping[str, Any], generic: Predicate) -> Predicate:
        """One predicate per common class (:mod:`forms.core.specialise`), ``generic`` for the others."""
        types, value_checks, lo_len, hi_len = parts.types, parts.value_checks, parts.lo_len, parts.hi_len

        def accepts(*names: str) -> bool:
            return types is None or any(name in types for name in names)

        table: dict[type, Predicate] = {}
        if accepts("string"):
            members = [] if parts.str_members is None else [parts.str_members]
            const_checks = value_checks[1:] if "enum" in schema else value_checks
            rest_str = all_of([*members, *const_checks, *parts.string_checks])
            if types == ("string",):
                return string_node(lo_len, hi_len, rest_str, generic)
            bounded = lo_len > 0 or hi_len != _INF
            table[str] = all_of([lambda x: lo_len <= len(x) <= hi_len, rest_str]) if bounded else rest_str
        if types in (("number",), ("integer",)) and not value_checks and not parts.number_checks:
            get = schema.get
            return number_node(
                get("minimum"),
                get("maximum"),
                get("exclusiveMinimum"),
                get("exclusiveMaximum"),
                parts.scale,
                types == ("integer",),
                generic,
            )
        number_common = [*value_checks, *parts.numeric()]
        if accepts("integer", "number"):
            table[int] = all_of(number_common)  # x-scale and x-field say nothing about an int
            integral = [] if accepts("number") else [is_integer_value]
            decimal_checks = all_of([*integral, *number_common])
            scale = parts.scale
            table[Decimal] = decimal_checks if scale is None else scale_predicate(scale, decimal_checks)
        if accepts("boolean"):
            table[bool] = all_of(value_checks)
        if accepts("object"):
            table[dict] = all_of([*value_checks, *parts.dict_checks])
        if accepts("array"):
            table[list] = all_of([*value_checks, *([] if parts.array_check is None else [parts.array_check])])
        if types is not None and len(types) == 1 and types[0] in ("integer", "number"):
            order = (int, Decimal) if types[0] == "integer" else (Decimal, int)
            table = {cls: table[cls] for cls in order}
        return dispatch(table, generic)

    @staticmethod
    def types(declared: Any) -> tuple[str, ...]:
        names = [declared] if isinstance(declared, str) else declared
        if not isinstance(names, list) or not all(isinstance(t, str) and t in _TYPE_TESTS for t in names):
            raise _Unsupported("type")
        return tuple(names)

    @staticmethod
    def type_test(types: tuple[str, ...]) -> Predicate:
        if len(types) == 1:
            return _TYPE_TESTS[types[0]]
        tests = [_TYPE_TESTS[t] for t in types]
        return lambda x: any(test(x) for test in tests)

    @staticmethod
    def string_checks(schema: Mapping[str, Any]) -> tuple[int, float, list[Predicate]]:
        """Length bounds (kept apart, to be inlined) and the other string checks."""
        low, high = schema.get("minLength"), schema.get("maxLength")
        lo = 0 if low is None else _int_bound(low)
        hi = _INF if high is None else _int_bound(high)
        checks: list[Predicate] = []
        if "pattern" in schema:
            if not isinstance(schema["pattern"], str):
                raise _Unsupported("pattern")
            checks.append(pattern_matcher(schema["pattern"]))
        if "format" in schema:
            predicate = FORMATS.get(schema["format"])  # unknown formats are not asserted, as jsonschema does
            if predicate is not None:
                checks.append(predicate)
        return lo, hi, checks

    @staticmethod
    def number_checks(schema: Mapping[str, Any]) -> tuple[Predicate | None, list[Predicate]]:
        """The bounds as one closure, and ``multipleOf`` (``x-scale`` is added per class by the caller)."""
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
            if key in schema and schema[key].__class__ not in _NUMBER:
                raise _Unsupported(key)
        bounds = bounds_predicate(
            schema.get("minimum"),
            schema.get("maximum"),
            schema.get("exclusiveMinimum"),
            schema.get("exclusiveMaximum"),
        )
        checks: list[Predicate] = []
        if "multipleOf" in schema:
            divisor = schema["multipleOf"]
            checks.append(lambda x: multiple_of_ok(x, divisor))
        return bounds, checks

    def object_check(self, schema: Mapping[str, Any]) -> Predicate | None:
        """The object keywords, for a value known to be a dict (or None when the node has none)."""
        keys = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
        if not any(k in schema for k in keys):
            return None
        props_schema = schema.get("properties", {})
        required = schema.get("required", [])
        if not isinstance(props_schema, Mapping) or not isinstance(required, list):
            raise _Unsupported("properties")
        props = {name: self.node(sub) for name, sub in props_schema.items()}
        extra: Predicate | None = None
        closed = False
        if "additionalProperties" in schema:
            additional = schema["additionalProperties"]
            if additional is False:
                closed = True
            elif additional is not True:
                extra = self.node(additional)
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        lo = 0 if low is None else _int_bound(low)
        hi = _INF if high is None else _int_bound(high)
        return object_predicate(props, tuple(dict.fromkeys(required)), closed, extra, lo, hi)

    def array_check(self, schema: Mapping[str, Any]) -> Predicate | None:
        """The array keywords, for a value known to be a list (or None when the node has none)."""
        if not any(k in schema for k in ("items", "minItems", "maxItems", "uniqueItems")):
            return None
        item = self.node(schema["items"]) if "items" in schema else None
        low, high = schema.get("minItems"), schema.get("maxItems")
        lo = 0 if low is None else _int_bound(low)
        hi = _INF if high is None else _int_bound(high)
        return array_predicate(item, lo, hi, schema.get("uniqueItems") is True)


def _string_members(values: Any) -> Predicate:
    """``enum`` for a value known to be a str: a frozenset lookup (jsonschema's equality never equates a str with
    anything but an equal str)."""
    if not isinstance(values, list):
        raise _Unsupported("enum")
    members = frozenset(v for v in values if v.__class__ is str)
    return members.__contains__ if members else never


def _int_bound(value: Any) -> int:
    if not is_integer_value(value):
        raise _Unsupported("bound")
    return int(value)


def _enum(values: Any) -> Predicate:
    if not isinstance(values, list):
        raise _Unsupported("enum")
    if values and all(v.__class__ is str for v in values):
        members = frozenset(values)
        return lambda x: x.__class__ is str and x in members
    return lambda x: any(equal(v, x) for v in values)


def _when(cls: type, check: Predicate) -> Predicate:
    return lambda x: x.__class__ is not cls or check(x)


def _when_number(check: Predicate) -> Predicate:
    return lambda x: x.__class__ not in _NUMBER or check(x)
