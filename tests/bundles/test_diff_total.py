"""The diffs the studio shows before publishing never fail, whatever a mid-edit schema, UI schema or type
configuration holds: they describe what they can read."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bundles.diff import form_changes, type_changes

_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "properties",
                    "required",
                    "items",
                    "title",
                    "x-field",
                    "fields",
                    "order",
                    "sections",
                    "steps",
                    "code",
                    "name",
                    "stages",
                    "indicators",
                    "flows",
                    "thresholds",
                    "forms",
                    "validations",
                    "visible_if",
                    "a",
                    "b",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json, _json, _json, _json)
def test_form_changes_is_total(schema_a, ui_a, schema_b, ui_b):
    lines = form_changes({"schema": schema_a, "ui_schema": ui_a}, {"schema": schema_b, "ui_schema": ui_b})
    assert all(isinstance(line, str) for line in lines)


@settings(max_examples=300, deadline=None)
@given(_json, _json)
def test_type_changes_is_total(a, b):
    old = a if isinstance(a, dict) else {}
    new = b if isinstance(b, dict) else {}
    assert all(isinstance(line, str) for line in type_changes(old, new))


def test_an_added_field_is_named():
    old = {"schema": {"properties": {"甲": {"x-field": "text", "title": "甲"}}}, "ui_schema": {}}
    new = {
        "schema": {
            "properties": {
                "甲": {"x-field": "text", "title": "甲"},
                "乙": {"x-field": "integer", "title": "乙数"},
            },
            "required": ["乙"],
        },
        "ui_schema": {"fields": {"乙": {"visible_if": '甲 = "x"'}}},
    }
    lines = form_changes(old, new)
    assert any("+ 字段 乙" in line and "必填" in line for line in lines)
