"""Compile a JSON Schema once into a fast yes/no predicate.

Full jsonschema builds an error object per keyword per value and resolves keywords through dictionaries on every
call; that is the right tool for explaining *what* is wrong but too slow to ask "is it valid?" thousands of times a
second. Most submissions are valid, so :func:`compile_predicate` turns the schema into nested closures, one per
schema node, each specialised to the keywords that node uses. The validator calls the predicate first and runs the
reference validator only when the predicate says no, to produce the detailed errors.

Keywords outside the compiled set (``$ref``, ``anyOf``, ``if``/``then``, ``unevaluatedProperties`` …) make that
*subschema* fall back to the reference validator, so coverage is never lost, only speed. Agreement with the
reference validator is a property test (``tests/forms/core/test_fastpath.py``), not a hope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
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
    unique_ok,
    x_field_problem,
)
from forms.core.safety import pattern_matcher

__all__ = ["LocalErrors", "Predicate", "compile_predicate"]

Predicate = Callable[[Any], bool]

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


_OBJECT_KEYS = frozenset(
    {"type", "properties", "required", "additionalProperties", "minProperties", "maxProperties"}
)
_ARRAY_KEYS = frozenset({"type", "items", "minItems", "maxItems", "uniqueItems"})


class LocalErrors:
    """Detailed errors for an invalid value, computed only where the value is invalid.

    Running the reference validator over a whole 40-field submission to explain one bad 统一社会信用代码 costs as much
    as validating it all. For object and array nodes made only of structural keywords, this checks the node's own
    keywords with its children replaced by ``true`` (so ``required`` and ``additionalProperties`` still see every
    name) and descends only into children the fast predicate rejects. Any other node is explained by the reference
    validator, whole. The errors are the reference validator's own, with their paths prefixed.
    """

    __slots__ = ("children", "full", "item", "kind", "predicate", "shallow")

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
        self.full: Any = reference.evolve(schema=schema)
        if not isinstance(schema, Mapping) or _mentions(schema, _DYNAMIC):
            return
        structural = {k for k in schema if k in _KNOWN}
        props = schema.get("properties")
        if schema.get("type") == "object" and structural <= _OBJECT_KEYS and isinstance(props, Mapping):
            self.kind = "object"
            self.shallow = reference.evolve(schema={**schema, "properties": dict.fromkeys(props, True)})
            self.children = {name: LocalErrors(sub, reference) for name, sub in props.items()}
        elif (
            schema.get("type") == "array"
            and structural <= _ARRAY_KEYS
            and isinstance(schema.get("items"), Mapping)
        ):
            self.kind = "array"
            self.shallow = reference.evolve(schema={**schema, "items": True})
            self.item = LocalErrors(schema["items"], reference)

    def errors(self, value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
        """``(ValidationError, path prefix)`` pairs for ``value``."""
        if self.kind == "object" and value.__class__ is dict:
            for error in self.shallow.iter_errors(value):
                yield error, prefix
            for key, sub in value.items():
                child = self.children.get(key)
                if child is not None and not child.predicate(sub):
                    yield from child.errors(sub, (*prefix, key))
        elif self.kind == "array" and value.__class__ is list and self.item is not None:
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


class _Compiler:
    def __init__(self, reference: Any) -> None:
        self.reference = reference

    def node(self, schema: Any) -> Predicate:
        if schema is True:
            return _always
        if schema is False:
            return _never
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
        checks: list[Predicate] = []
        type_test = self.type_test(schema.get("type")) if "type" in schema else None

        if "enum" in schema:
            checks.append(_enum(schema["enum"]))
        if "const" in schema:
            const = schema["const"]
            checks.append(lambda x: equal(const, x))

        string_checks = self.string_checks(schema)
        number_checks = self.number_checks(schema)
        object_check = self.object_check(schema)
        array_check = self.array_check(schema)

        if "x-field" in schema:
            kind = schema["x-field"]
            if kind in ("money", "percent", "daterange"):
                checks.append(lambda x: x_field_problem(kind, x) is None)
        if "x-max-size" in schema:
            limit = schema["x-max-size"]
            checks.append(lambda x: max_size_problem(x, limit) is None)
        if "x-accept" in schema:
            accept = schema["x-accept"]
            checks.append(lambda x: accept_problem(x, accept) is None)

        if string_checks:
            checks.append(_when(str, _all(string_checks)))
        if number_checks:
            checks.append(_when_number(_all(number_checks)))
        if object_check is not None:
            checks.append(object_check)
        if array_check is not None:
            checks.append(array_check)

        rest = _all(checks) if checks else None
        if type_test is None:
            return rest or _always
        if rest is None:
            return type_test

        def typed(x: Any) -> bool:
            return type_test(x) and rest(x)

        return typed

    @staticmethod
    def type_test(declared: Any) -> Predicate:
        if isinstance(declared, str):
            if declared not in _TYPE_TESTS:
                raise _Unsupported("type")
            return _TYPE_TESTS[declared]
        if isinstance(declared, list) and all(isinstance(t, str) and t in _TYPE_TESTS for t in declared):
            tests = [_TYPE_TESTS[t] for t in declared]
            return lambda x: any(test(x) for test in tests)
        raise _Unsupported("type")

    @staticmethod
    def string_checks(schema: Mapping[str, Any]) -> list[Predicate]:
        checks: list[Predicate] = []
        low, high = schema.get("minLength"), schema.get("maxLength")
        if low is not None or high is not None:
            lo = -1 if low is None else _int_bound(low)
            hi = float("inf") if high is None else _int_bound(high)
            checks.append(lambda x: lo <= len(x) <= hi)
        if "pattern" in schema:
            if not isinstance(schema["pattern"], str):
                raise _Unsupported("pattern")
            checks.append(pattern_matcher(schema["pattern"]))
        if "format" in schema:
            predicate = FORMATS.get(schema["format"])  # unknown formats are not asserted, as jsonschema does
            if predicate is not None:
                checks.append(predicate)
        return checks

    @staticmethod
    def number_checks(schema: Mapping[str, Any]) -> list[Predicate]:
        checks: list[Predicate] = []
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
            if key in schema and schema[key].__class__ not in _NUMBER:
                raise _Unsupported(key)
        if "minimum" in schema:
            minimum = schema["minimum"]
            checks.append(lambda x: x >= minimum)
        if "maximum" in schema:
            maximum = schema["maximum"]
            checks.append(lambda x: x <= maximum)
        if "exclusiveMinimum" in schema:
            ex_min = schema["exclusiveMinimum"]
            checks.append(lambda x: x > ex_min)
        if "exclusiveMaximum" in schema:
            ex_max = schema["exclusiveMaximum"]
            checks.append(lambda x: x < ex_max)
        if "multipleOf" in schema:
            divisor = schema["multipleOf"]
            checks.append(lambda x: multiple_of_ok(x, divisor))
        if "x-scale" in schema:
            scale = schema["x-scale"]
            checks.append(lambda x: scale_problem(x, scale) is None)
        return checks

    def object_check(self, schema: Mapping[str, Any]) -> Predicate | None:
        keys = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
        if not any(k in schema for k in keys):
            return None
        props_schema = schema.get("properties", {})
        required = schema.get("required", [])
        if not isinstance(props_schema, Mapping) or not isinstance(required, list):
            raise _Unsupported("properties")
        props = {name: self.node(sub) for name, sub in props_schema.items()}
        required_keys = tuple(dict.fromkeys(required))
        extra: Predicate | None = None
        closed = False
        if "additionalProperties" in schema:
            additional = schema["additionalProperties"]
            if additional is False:
                closed = True
            elif additional is not True:
                extra = self.node(additional)
        low = schema.get("minProperties")
        high = schema.get("maxProperties")
        lo = 0 if low is None else _int_bound(low)
        hi = float("inf") if high is None else _int_bound(high)
        get = props.get

        def check_object(x: Any) -> bool:
            if x.__class__ is not dict:
                return True
            for key in required_keys:
                if key not in x:
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
            return lo <= len(x) <= hi

        return check_object

    def array_check(self, schema: Mapping[str, Any]) -> Predicate | None:
        if not any(k in schema for k in ("items", "minItems", "maxItems", "uniqueItems")):
            return None
        item = self.node(schema["items"]) if "items" in schema else None
        low, high = schema.get("minItems"), schema.get("maxItems")
        lo = 0 if low is None else _int_bound(low)
        hi = float("inf") if high is None else _int_bound(high)
        unique = schema.get("uniqueItems") is True

        def check_array(x: Any) -> bool:
            if x.__class__ is not list:
                return True
            if not lo <= len(x) <= hi:
                return False
            if item is not None:
                for value in x:
                    if not item(value):
                        return False
            return not unique or unique_ok(x)

        return check_array


def _int_bound(value: Any) -> int:
    if not is_integer_value(value):
        raise _Unsupported("bound")
    return int(value)


def _always(x: Any) -> bool:
    return True


def _never(x: Any) -> bool:
    return False


def _enum(values: Any) -> Predicate:
    if not isinstance(values, list):
        raise _Unsupported("enum")
    if values and all(v.__class__ is str for v in values):
        members = frozenset(values)
        return lambda x: x.__class__ is str and x in members
    return lambda x: any(equal(v, x) for v in values)


def _all(checks: list[Predicate]) -> Predicate:
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)
    frozen = tuple(checks)

    def every(x: Any) -> bool:  # a loop, not all(genexpr): this runs per value on every submission
        for check in frozen:  # noqa: SIM110
            if not check(x):
                return False
        return True

    return every


def _when(cls: type, check: Predicate) -> Predicate:
    return lambda x: x.__class__ is not cls or check(x)


def _when_number(check: Predicate) -> Predicate:
    return lambda x: x.__class__ not in _NUMBER or check(x)
