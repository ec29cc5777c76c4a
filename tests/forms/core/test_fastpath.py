"""The fast predicate agrees with the reference jsonschema validator; validation never raises."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms.core import FormDefinition, validator_for
from forms.core.fastpath import compile_predicate
from forms.core.keywords import normalise_schema, reference_validator
from tests.forms.core.conftest import project_schema, project_ui, valid_record

FAST = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))

# hypothesis-jsonschema does not run on this Hypothesis version, so records are generated field by field: each
# field gets values that are mostly valid and sometimes just over a bound, which is where predicates disagree.
money = st.decimals("-10", "10000000", places=2) | st.decimals("0", "10", places=3) | st.integers(-5, 10**7)
record_fields = {
    "项目名称": st.text(min_size=1, max_size=52),
    "项目类型": st.sampled_from(["基本建设", "技术改造", "信息化", "其他", "未知"]),
    "建设单位代码": st.sampled_from(["913301005000000002", "913301005000000003", "91330100500000000"]),
    "建设地点": st.sampled_from(["330106", "110108", "990101", "11010"]),
    "联系电话": st.sampled_from(["13800138000", "12800138000", "１３８００１３８０００"]),
    "预算金额": money,
    "超支率": st.decimals("-1", "2", places=4),
    "超支说明": st.text(max_size=10),
    "开工日期": st.sampled_from(["2025-01-01", "2025-02-29", "2024-02-29", "2025/01/01"]),
    "竣工日期": st.dates().map(str),
    "资金来源": st.lists(
        st.sampled_from(["中央补助", "省级补助", "市县配套", "专项债券", "外资"]), max_size=4
    ),
    "预算明细": st.lists(
        st.fixed_dictionaries(
            {"科目": st.text(max_size=22)},
            optional={"数量": st.integers(-2, 100), "单价": money, "金额": money},
        ),
        max_size=4,
    ),
}
records = st.fixed_dictionaries({}, optional=record_fields)


SCHEMA = normalise_schema(project_schema())
REFERENCE = reference_validator(SCHEMA)
PREDICATE = compile_predicate(SCHEMA, REFERENCE)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        ["913301005000000002", "2025-02-29", "2025-01-01", "13800138000", "330106", "基本建设"]
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A valid-looking record with one value replaced, one key removed, or one key added."""
    record = copy.deepcopy(draw(records)) if draw(st.booleans()) else valid_record()
    paths = [p for p in _paths(record) if p]
    if not paths:
        return record
    path = draw(st.sampled_from(paths))
    parent: Any = record
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[path[-1]] = draw(json_values)
    elif action == "remove" and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=4))] = draw(json_values)
    return record


@FAST
@given(records)
def test_fast_path_agrees_with_jsonschema_on_generated_records(record: Any) -> None:
    assert PREDICATE(record) == REFERENCE.is_valid(record)


@FAST
@given(mutated())
def test_fast_path_agrees_with_jsonschema_on_mutated_records(record: Any) -> None:
    assert PREDICATE(record) == REFERENCE.is_valid(record)


@FAST
@given(json_values)
def test_fast_path_agrees_with_jsonschema_on_arbitrary_json(value: Any) -> None:
    assert PREDICATE(value) == REFERENCE.is_valid(value)


KEYWORD_SCHEMAS = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(
            ["string", "number", "integer", "array", "object", "boolean", ["string", "null"]]
        ),
        "minimum": st.integers(-5, 5) | st.decimals("-5", "5", places=1),
        "exclusiveMaximum": st.integers(-5, 5),
        "multipleOf": st.sampled_from([Decimal("0.5"), Decimal("0.01"), 2, 3]),
        "minLength": st.integers(0, 3),
        "maxLength": st.integers(0, 5),
        "pattern": st.sampled_from(["^[0-9]+$", "a", "^$"]),
        "format": st.sampled_from(["date", "cn-mobile", "cn-uscc", "unknown-format"]),
        "enum": st.lists(st.sampled_from(["a", "b", 1, Decimal("1.0"), True, None]), min_size=1, max_size=3),
        "const": st.sampled_from(["a", 1, True, None, [1]]),
        "uniqueItems": st.booleans(),
        "maxItems": st.integers(0, 3),
        "required": st.lists(st.sampled_from(["a", "b"]), max_size=2, unique=True),
        "additionalProperties": st.booleans(),
        "maxProperties": st.integers(0, 2),
        "x-scale": st.integers(0, 2),
        "x-field": st.sampled_from(["money", "percent", "text"]),
    },
)


@FAST
@given(KEYWORD_SCHEMAS, json_values)
def test_fast_path_agrees_with_jsonschema_keyword_by_keyword(schema: dict[str, Any], value: Any) -> None:
    schema = {"type": "object", "properties": {"a": schema, "b": {"items": schema}}}
    reference = reference_validator(schema)
    predicate = compile_predicate(schema, reference)
    for instance in (value, {"a": value}, {"b": [value, value]}):
        assert predicate(instance) == reference.is_valid(instance), instance


def test_unsupported_keywords_fall_back_to_the_reference_validator() -> None:
    schema = {
        "type": "object",
        "$defs": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}},
        "properties": {
            "a": {"$ref": "#/$defs/code"},
            "b": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "c": {"if": {"type": "string"}, "then": {"minLength": 2}},
        },
    }
    reference = reference_validator(schema)
    predicate = compile_predicate(schema, reference)
    for instance in ({"a": "123456"}, {"a": "12"}, {"b": 1}, {"b": []}, {"c": "x"}, {"c": 1}):
        assert predicate(instance) == reference.is_valid(instance)


DEFINITION = FormDefinition(project_schema(), project_ui())


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(json_values | mutated())
def test_any_payload_gives_a_list_of_field_errors_and_never_raises(value: Any) -> None:
    errors = validator_for(DEFINITION).validate(value)
    assert isinstance(errors, list)
    for error in errors:
        assert error.message and isinstance(error.code, str)


@FAST
@given(mutated())
def test_localised_errors_are_exactly_the_reference_validators_errors(record: Any) -> None:
    from forms.core.fastpath import LocalErrors

    def key(error: Any, prefix: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        return (*prefix, *error.absolute_path, error.validator, repr(error.validator_value))

    local = sorted(map(repr, (key(e, p) for e, p in LocalErrors(SCHEMA, REFERENCE).errors(record))))
    full = sorted(map(repr, (key(e) for e in REFERENCE.iter_errors(record))))
    assert local == full
