"""Publish-time checks of a form definition."""

from __future__ import annotations

from typing import Any

from forms.core import FormDefinition
from tests.forms.core.conftest import project_schema, project_ui


def problems(schema: dict[str, Any] | None = None, ui: dict[str, Any] | None = None) -> list[str]:
    found = FormDefinition(schema or project_schema(), project_ui() if ui is None else ui).check()
    return [f"{p.path}｜{p.message}" for p in found]


def test_realistic_definition_passes(definition: FormDefinition) -> None:
    assert definition.check() == []


def test_content_hash_is_stable_across_key_order() -> None:
    schema = project_schema()
    reordered = dict(reversed(list(schema.items())))
    reordered["properties"] = dict(reversed(list(schema["properties"].items())))
    assert (
        FormDefinition(schema, project_ui()).content_hash
        == FormDefinition(reordered, project_ui()).content_hash
    )
    assert FormDefinition(schema, {}).content_hash != FormDefinition(schema, project_ui()).content_hash


def test_definition_is_immutable_and_copies_its_input() -> None:
    schema = project_schema()
    definition = FormDefinition(schema, {})
    before = definition.content_hash
    schema["properties"]["新字段"] = {"type": "string", "x-field": "text"}
    assert "新字段" not in definition.properties() and definition.content_hash == before
    try:
        definition.schema = {}  # type: ignore[misc]
    except AttributeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("FormDefinition accepted an assignment")


def test_unknown_field_in_ui_schema_is_reported_everywhere_it_is_referenced() -> None:
    ui = project_ui()
    ui["order"].append("项目名")
    ui["sections"][0]["fields"].append("地址")
    ui["fields"]["备注"] = {"help": "x"}
    ui["fields"]["预算明细"]["item"]["order"].append("税率")
    ui["validations"][0]["fields"] = ["完工日期"]
    found = problems(ui=ui)
    assert any(p.startswith("ui_schema/order/4｜") and "项目名" in p for p in found)
    assert any(p.startswith("ui_schema/sections/0/fields/2｜") for p in found)
    assert any(p.startswith("ui_schema/fields/备注｜") for p in found)
    assert any(p.startswith("ui_schema/fields/预算明细/item/order/2｜") for p in found)
    assert any(p.startswith("ui_schema/validations/0/fields/0｜") for p in found)


def test_misspelt_ui_option_is_reported() -> None:
    ui = project_ui()
    ui["fields"]["超支说明"]["visble_if"] = "超支率 > 5%"
    assert any("visble_if" in p for p in problems(ui=ui))


def test_bad_dsl_reports_code_line_and_column() -> None:
    ui = project_ui()
    ui["fields"]["超支说明"]["visible_if"] = "超支率 >"
    found = FormDefinition(project_schema(), ui).check()
    assert len(found) == 1
    problem = found[0]
    assert problem.path == "ui_schema/fields/超支说明/visible_if"
    assert problem.code and problem.line == 1 and problem.column is not None


def test_unknown_name_in_dsl_is_reported() -> None:
    ui = project_ui()
    ui["validations"][0]["rule"] = "开工日期 <= 完工日期"
    found = FormDefinition(project_schema(), ui).check()
    assert [p.path for p in found] == ["ui_schema/validations/0/rule"]
    assert "完工日期" in found[0].message


def test_condition_must_be_boolean() -> None:
    ui = project_ui()
    ui["fields"]["超支说明"]["required_if"] = "超支率 + 1"
    assert any(p.startswith("ui_schema/fields/超支说明/required_if｜") for p in problems(ui=ui))


def test_computed_type_must_fit_the_field() -> None:
    ui = project_ui()
    ui["fields"]["明细合计"]["computed"] = "项目名称"
    assert any("计算结果的类型" in p for p in problems(ui=ui))


def test_computed_cycle_is_reported() -> None:
    schema = project_schema()
    schema["properties"]["合计二"] = {"type": "number", "x-field": "computed"}
    ui = project_ui()
    ui["fields"]["明细合计"]["computed"] = "合计二 + 1"
    ui["fields"]["合计二"] = {"computed": "明细合计 * 2"}
    assert any("循环引用" in p for p in problems(schema, ui))


def test_computed_field_needs_an_expression_and_only_computed_fields_have_one() -> None:
    ui = project_ui()
    del ui["fields"]["明细合计"]
    ui["fields"]["项目名称"] = {"computed": '"x"'}
    found = problems(ui=ui)
    assert any(p.startswith("ui_schema/fields/明细合计｜") for p in found)
    assert any(p.startswith("ui_schema/fields/项目名称/computed｜") for p in found)


def test_unknown_x_field_and_inconsistent_type_are_reported() -> None:
    schema = project_schema()
    schema["properties"]["项目名称"]["x-field"] = "texte"
    schema["properties"]["预算金额"]["type"] = "string"
    schema["properties"]["建设地点"]["format"] = "cn-uscc"
    found = problems(schema)
    assert any(p.startswith("schema/properties/项目名称/x-field｜未知的字段类型") for p in found)
    assert any(p.startswith("schema/properties/预算金额｜") and "number" in p for p in found)
    assert any(p.startswith("schema/properties/建设地点｜") for p in found)


def test_missing_x_field_and_bad_disclosure_are_reported() -> None:
    schema = project_schema()
    del schema["properties"]["项目名称"]["x-field"]
    schema["properties"]["项目类型"]["x-disclosure"] = "公开"
    found = problems(schema)
    assert any("缺少 x-field" in p for p in found)
    assert any("x-disclosure" in p for p in found)


def test_meta_schema_violation_is_reported() -> None:
    schema = project_schema()
    schema["properties"]["项目名称"]["maxLength"] = -1
    schema["required"] = "项目名称"
    found = problems(schema)
    assert any(
        p.startswith("schema/properties/项目名称/maxLength｜不符合 JSON Schema 2020-12") for p in found
    )
    assert any(p.startswith("schema/required｜") for p in found)


def test_unknown_format_is_reported() -> None:
    schema = project_schema()
    schema["properties"]["项目名称"]["format"] = "cn-passport"
    assert any("format" in p for p in problems(schema))


def test_remote_ref_is_rejected() -> None:
    schema = project_schema()
    schema["properties"]["项目名称"] = {"$ref": "https://example.com/evil.json", "x-field": "text"}
    found = problems(schema)
    assert any(p.startswith("schema/properties/项目名称/$ref｜") for p in found)


def test_catastrophic_pattern_is_rejected() -> None:
    schema = project_schema()
    schema["properties"]["项目名称"]["pattern"] = "^(a+)+$"
    assert any(p.startswith("schema/properties/项目名称/pattern｜") and "回溯" in p for p in problems(schema))


def test_group_rows_cannot_use_visible_if_yet() -> None:
    ui = project_ui()
    ui["fields"]["预算明细"]["item"]["fields"]["科目"] = {"visible_if": "数量 > 1"}
    assert any("重复组内暂不支持" in p for p in problems(ui=ui))


def test_catalogue_exposes_fields_and_group_subfields(definition: FormDefinition) -> None:
    catalogue = definition.catalogue()
    assert "预算金额" in catalogue and "预算明细.单价" in catalogue
    assert catalogue.lookup("开工日期").type.kind == "date"  # type: ignore[union-attr]


def test_non_object_root_is_reported() -> None:
    assert FormDefinition({"type": "string"}, {}).check()[0].path == "schema"
