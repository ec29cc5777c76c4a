"""Live form state for HTMX round-trips: visibility, requiredness, computed values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from forms.core import FormDefinition, form_state
from tests.forms.core.conftest import project_schema, project_ui, valid_record


def test_field_is_hidden_until_its_condition_holds(definition: FormDefinition) -> None:
    state = form_state(definition, valid_record())
    assert state.visible["超支说明"] is False and state.visible["项目名称"] is True
    assert state.required["超支说明"] is False
    state = form_state(definition, valid_record() | {"超支率": Decimal("0.06")})
    assert state.visible["超支说明"] is True and state.required["超支说明"] is True


def test_condition_on_an_empty_field_hides(definition: FormDefinition) -> None:
    state = form_state(definition, {})
    assert state.visible["超支说明"] is False
    assert state.required["项目名称"] is True


def test_computed_values_top_level_and_per_row(definition: FormDefinition) -> None:
    state = form_state(definition, valid_record())
    assert state.computed["预算明细[0].金额"] == Decimal("201.00")
    assert state.computed["预算明细[1].金额"] == Decimal("300000")
    assert state.computed["明细合计"] == Decimal("300201.00")
    assert state.data["明细合计"] == Decimal("300201.00")
    assert state.required["预算明细[0].科目"] is True and state.required["预算明细[0].数量"] is False


def test_computed_value_is_null_when_inputs_are_missing_or_invalid(definition: FormDefinition) -> None:
    data = valid_record()
    data["预算明细"] = [{"科目": "x", "数量": "两个", "单价": Decimal("1")}]
    state = form_state(definition, data)
    assert state.computed["预算明细[0].金额"] is None
    assert state.computed["明细合计"] == Decimal("0")


def test_state_can_include_errors(definition: FormDefinition) -> None:
    state = form_state(definition, valid_record() | {"超支率": Decimal("0.5")}, errors=True)
    assert [str(e) for e in state.errors or []] == ["超支说明：必填"]
    assert form_state(definition, valid_record()).errors is None


def test_today_is_passed_to_expressions() -> None:
    schema = project_schema()
    schema["properties"]["已开工超30天"] = {"type": "boolean", "x-field": "computed"}
    ui = project_ui()
    ui["fields"]["已开工超30天"] = {"computed": "今天() - 开工日期 > 30天"}
    definition = FormDefinition(schema, ui)
    assert definition.check() == []
    assert form_state(definition, valid_record(), today=date(2025, 6, 1)).computed["已开工超30天"] is True
    assert form_state(definition, valid_record(), today=date(2025, 3, 10)).computed["已开工超30天"] is False


def test_garbage_input_still_gives_a_state(definition: FormDefinition) -> None:
    state = form_state(definition, {"预算明细": "not rows", "超支率": 0.06})
    assert state.visible["超支说明"] is False
    assert state.computed["明细合计"] is None or state.computed["明细合计"] == Decimal("0")
