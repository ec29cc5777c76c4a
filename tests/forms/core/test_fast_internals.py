"""The shortcuts the validator takes on every submission agree with the plain definitions they replace.

``payload_scan`` with ``payload_problem`` (and with whether pruning nulls changes anything), the per-class predicates
with jsonschema on more keyword combinations, the shallow ``LocalErrors`` shortcut with the reference errors, the
quick ``x-scale`` test with ``scale_problem``, and the narrowed DSL record with the full one.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms.core import FormDefinition, validator_for
from forms.core import dsl_adapter as da
from forms.core.fastpath import LocalErrors, compile_predicate
from forms.core.keywords import reference_validator, scale_problem
from forms.core.safety import (
    PAYLOAD_CLEAN,
    PAYLOAD_HAS_NULLS,
    PAYLOAD_UNSAFE,
    SafetyLimits,
    payload_problem,
    payload_scan,
)
from forms.core.specialise import always, dispatch, never, scale_predicate
from forms.core.validation import _prune
from tests.forms.core.conftest import project_schema, project_ui, valid_record

FAST = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
SMALL = SafetyLimits(
    payload_max_depth=3, payload_max_nodes=12, payload_max_string=4, payload_max_array=3, payload_max_keys=3
)

hostile_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from([frozenset({1}), (1, 2), b"x"])
)
hostile = st.recursive(
    hostile_leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=3) | st.integers(0, 2), inner, max_size=4)
    ),
    max_leaves=25,
)


@FAST
@given(hostile)
def test_payload_scan_finds_a_problem_exactly_when_payload_problem_does(value: Any) -> None:
    for limits in (SMALL, SafetyLimits()):
        scan = payload_scan(value, limits)
        assert (scan == PAYLOAD_UNSAFE) == (payload_problem(value, limits) is not None)
        if scan != PAYLOAD_UNSAFE and value.__class__ in (dict, list):
            assert (scan == PAYLOAD_HAS_NULLS) == (_prune(value) is not value)


def test_payload_scan_depth_bound_is_payload_problems() -> None:
    limits = SafetyLimits(payload_max_depth=2)
    assert payload_scan([["x"]], limits) == PAYLOAD_CLEAN and payload_problem([["x"]], limits) is None
    assert payload_scan([[["x"]]], limits) == PAYLOAD_UNSAFE
    assert payload_scan({"a": [{"b": None}]}) == PAYLOAD_HAS_NULLS
    assert payload_scan({"a": [None]}) == PAYLOAD_CLEAN  # nulls in lists are kept, not dropped


scale_values = (
    st.decimals(allow_nan=True, allow_infinity=True)
    | st.decimals("-1e6", "1e6", places=4)
    | st.sampled_from(
        [Decimal("1e999999"), Decimal("1E-999999"), Decimal("1" + "0" * 250 + ".000"), Decimal("5.0")]
    )
)


@FAST
@given(scale_values, st.integers(0, 3))
def test_quick_scale_test_agrees_with_scale_problem(value: Decimal, scale: int) -> None:
    assert scale_predicate(scale)(value) == (scale_problem(value, scale) is None)
    assert not scale_predicate(scale, never)(value)


def test_dispatch_uses_the_table_for_its_classes_and_generic_for_the_rest() -> None:
    generic = lambda x: x == 1.0  # noqa: E731
    one = dispatch({str: always}, generic)
    two = dispatch({int: lambda x: x > 0, str: never}, generic)
    three = dispatch({int: never, str: always, list: bool, dict: always}, generic)
    assert one("x") and one(1.0) and not one(2.0)
    assert two(3) and not two(-3) and not two("x") and two(1.0)
    assert three("x") and three([1]) and not three([]) and three({}) and not three(5) and three(1.0)


KEYWORDS = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(
            [
                "string",
                "number",
                "integer",
                "object",
                "array",
                ["integer", "string"],
                ["number", "null"],
                ["array", "object"],
            ]
        ),
        "minimum": st.integers(-2, 2),
        "maximum": st.decimals("-2", "5", places=1),
        "exclusiveMinimum": st.decimals("-3", "1", places=1),
        "x-scale": st.integers(0, 2),
        "x-field": st.sampled_from(["money", "daterange", "text"]),
        "minLength": st.integers(0, 2),
        "enum": st.lists(
            st.sampled_from(["a", "b", 1, Decimal("2.5"), True, [1], {"a": 1}]), min_size=1, max_size=3
        ),
        "minItems": st.integers(0, 2),
        "uniqueItems": st.booleans(),
        "minProperties": st.integers(0, 2),
        "required": st.lists(st.sampled_from(["a", "开始"]), max_size=2, unique=True),
        "x-max-size": st.sampled_from([1, 10]),
        "x-accept": st.sampled_from([["image/*"], ["application/pdf"]]),
    },
)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 6)
    | st.decimals("-3", "6", places=3)
    | st.floats(-3, 6)
    | st.sampled_from(["a", "b", "", "2025-01-02", "2024-12-31", "image/png", "application/pdf"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "开始", "结束", "size", "content_type"]), inner, max_size=3)
    ),
    max_leaves=10,
)


@FAST
@given(KEYWORDS, values)
def test_per_class_predicates_agree_with_jsonschema(schema: dict[str, Any], value: Any) -> None:
    wrapped = {
        "type": "object",
        "properties": {"a": schema, "b": {"type": "array", "x-field": "group", "items": schema}},
        "required": ["a"],
    }
    reference = reference_validator(wrapped)
    predicate = compile_predicate(wrapped, reference)
    for instance in (value, {"a": value}, {"a": value, "b": [value, value]}):
        assert predicate(instance) == reference.is_valid(instance), instance

    def key(error: Any, prefix: tuple[Any, ...] = ()) -> str:
        return repr((*prefix, *error.absolute_path, error.validator, repr(error.validator_value)))

    instance = {"a": value, "b": [value, {"a": value}]}
    local = sorted(key(e, p) for e, p in LocalErrors(wrapped, reference).errors(instance))
    assert local == sorted(key(e) for e in reference.iter_errors(instance))


# -- the DSL record ---------------------------------------------------------------------------------------------------

cells = (
    st.none() | st.integers(-5, 5) | st.decimals("-5", "5", places=2) | st.floats(-1, 1) | st.text(max_size=2)
)
rows = st.lists(
    st.none()
    | st.text(max_size=2)
    | st.fixed_dictionaries({}, optional={"科目": cells, "数量": cells, "单价": cells, "金额": cells}),
    max_size=4,
)


@FAST
@given(rows)
def test_narrowed_record_gives_the_same_results_as_the_full_record(value: list[Any]) -> None:
    definition = FormDefinition(project_schema(), project_ui())
    catalogue = definition.catalogue()
    compiled, problems = da.check_expression("sum(预算明细.金额) + count(预算明细.单价)", catalogue)
    assert compiled is not None and not problems
    assert compiled.paths == {"预算明细.金额", "预算明细.单价"}
    full = da.record_reader(catalogue, {"预算明细"})({"预算明细": value})
    narrow = da.record_reader(catalogue, {"预算明细"}, compiled.paths)({"预算明细": value})
    assert da.evaluate(compiled, narrow, None) == da.evaluate(compiled, full, None)


def test_clean_rows_are_read_as_they_are_and_others_are_converted() -> None:
    catalogue = FormDefinition(project_schema(), project_ui()).catalogue()
    read = da.record_reader(catalogue, {"预算明细"}, {"预算明细.金额"})
    clean = [{"科目": "x", "金额": Decimal("1.50")}, None, {"科目": "y"}]
    assert read({"预算明细": clean})["预算明细"] is clean
    assert read({"预算明细": [{"金额": 1.5}, "row"]})["预算明细"] == [{"金额": None}, None]
    assert read({"预算明细": [{"科目": "x", "金额": 2}]})["预算明细"] == [{"科目": "x", "金额": 2}]
    dated = da.record_reader(catalogue, {"开工日期"}, {"开工日期"})
    assert dated({"开工日期": "2025-01-02"}) == {"开工日期": date(2025, 1, 2)}


# -- the validator's own shortcuts ------------------------------------------------------------------------------------


def test_validation_never_changes_the_submitted_data() -> None:
    validator = validator_for(FormDefinition(project_schema(), project_ui()))
    cases = [
        valid_record(),  # nothing to drop: validated in place
        valid_record() | {"超支说明": "hidden", "明细合计": "submitted"},
        valid_record() | {"开工日期": None, "预算明细": [{"科目": "x", "数量": None, "单价": None}]},
    ]
    for data in cases:
        before = copy.deepcopy(data)
        validator.validate(data)
        assert data == before


def test_nulls_inside_rows_are_dropped_before_validation() -> None:
    validator = validator_for(FormDefinition(project_schema(), project_ui()))
    data = valid_record() | {"预算明细": [{"科目": "x", "数量": None, "单价": None, "金额": None}]}
    assert validator.validate(data) == []
    data["预算明细"][0]["科目"] = None
    assert [(e.path, e.message) for e in validator.validate(data)] == [("预算明细[0].科目", "必填")]
