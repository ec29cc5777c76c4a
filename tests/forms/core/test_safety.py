"""Hostile definitions are refused; hostile payloads are answered quickly with a Chinese error."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from forms.core import FormDefinition, validator_for
from forms.core.keywords import reference_validator
from forms.core.safety import check_pattern, check_schema_safety, pattern_matcher
from tests.forms.core.conftest import project_schema, project_ui, valid_record


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|a)*$", "(a*)*b", "(.*a){20}", "(\\w+\\s?)+$", "(x+x+)+y"])
def test_catastrophic_patterns_are_refused(pattern: str) -> None:
    assert check_pattern(pattern)


@pytest.mark.parametrize("pattern", ["^[0-9]{6}$", "^[A-Z]{2}[0-9]+$", "^(0[0-9]{2,3}-)?[0-9]{7,8}$", "项目"])
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert check_pattern(pattern) == []


def test_overlong_pattern_and_back_reference_are_refused() -> None:
    assert check_pattern("a" * 501)
    assert check_pattern("(a)\\1")


def test_pattern_matching_takes_bounded_time_even_for_a_pattern_that_slipped_through() -> None:
    matches = pattern_matcher("^(a+)+$")
    started = time.perf_counter()
    assert not matches("a" * 5000 + "!")
    assert time.perf_counter() - started < 0.5


def test_pattern_properties_are_checked_too() -> None:
    problems = check_schema_safety({"patternProperties": {"(a+)+": {}}})
    assert problems and problems[0][0] == "/patternProperties/(a+)+"


def test_remote_and_dynamic_refs_are_refused_and_nested_ids_too() -> None:
    found = check_schema_safety(
        {
            "properties": {
                "a": {"$ref": "http://example.com/s.json"},
                "b": {"$dynamicRef": "other.json#meta"},
                "c": {"$id": "http://example.com/", "$ref": "#x"},
                "d": {"$ref": "#/$defs/ok"},
            }
        }
    )
    pointers = sorted(p for p, _ in found)
    assert pointers == ["/properties/a/$ref", "/properties/b/$dynamicRef", "/properties/c/$id"]


def test_the_reference_validator_never_retrieves_a_remote_schema() -> None:
    from referencing.exceptions import Unresolvable

    validator = reference_validator({"$ref": "http://127.0.0.1:9/never.json"})
    with pytest.raises(Unresolvable):
        validator.is_valid(1)


def test_schema_depth_and_size_are_bounded() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(200):
        node["items"] = {}
        node = node["items"]
    assert "嵌套过深" in check_schema_safety(deep)[0][1]
    wide = {"properties": {f"f{i}": {"type": "string"} for i in range(25_000)}}
    assert "过大" in check_schema_safety(wide)[0][1]
    assert FormDefinition(deep, {}).check()


def payload_errors(data: Any) -> list[tuple[str, str]]:
    validator = validator_for(FormDefinition(project_schema(), project_ui()))
    return [(e.code, e.message) for e in validator.validate(data)]


def test_oversized_array_is_one_chinese_error() -> None:
    data = valid_record() | {"预算明细": [{"科目": "x"}] * 5000}
    [(code, message)] = payload_errors(data)
    assert code == "payload_too_large" and "列表过长" in message


def test_deep_payload_is_one_chinese_error() -> None:
    value: Any = "x"
    for _ in range(5000):
        value = [value]
    [(code, message)] = payload_errors(valid_record() | {"项目名称": value})
    assert code == "payload_too_deep" and "嵌套过深" in message


def test_huge_string_is_refused_before_any_keyword_runs() -> None:
    [(code, _)] = payload_errors(valid_record() | {"超支说明": "长" * 200_000})
    assert code == "payload_too_large"


def test_nan_infinity_and_foreign_types_are_refused() -> None:
    assert payload_errors(valid_record() | {"预算金额": Decimal("NaN")})[0][0] == "payload_invalid"
    assert payload_errors(valid_record() | {"预算金额": float("inf")})[0][0] == "payload_invalid"
    assert payload_errors(valid_record() | {"预算金额": {1, 2}})[0][0] == "payload_invalid"
    assert payload_errors({1: "x"})[0][0] == "payload_invalid"


def test_hostile_payloads_are_validated_in_bounded_time() -> None:
    schema = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "x-field": "text", "pattern": "^[a-z]+[0-9]*$", "maxLength": 50},
            "tags": {
                "type": "array",
                "x-field": "multichoice",
                "items": {"type": "string", "enum": ["a", "b"]},
                "uniqueItems": True,
            },
            "amount": {"type": "number", "x-field": "money", "x-scale": 2, "multipleOf": 0.01},
        },
    }
    validator = validator_for(FormDefinition(schema, {}))
    hostile = [
        {"code": "a" * 99_000 + "!"},
        {"tags": ["a", "b"] * 1000},
        {"amount": Decimal("1e999999")},
        {"amount": Decimal("1E-999999")},
        {"tags": [str(i) for i in range(2000)]},
        {f"k{i}": i for i in range(1001)},
    ]
    for data in hostile:
        started = time.perf_counter()
        errors = validator.validate(data)
        assert errors and time.perf_counter() - started < 1.0, data if len(str(data)) < 200 else "large"
        assert len(errors) <= validator.limits.max_errors + 1
