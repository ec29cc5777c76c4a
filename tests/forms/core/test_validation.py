"""Server-side validation: Chinese messages per keyword, labels and paths, DSL rules, hidden fields, the cache."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from forms.core import DefinitionError, FieldError, FormDefinition, validator_for
from tests.forms.core.conftest import project_schema, project_ui, valid_record


def messages(definition: FormDefinition, data: dict[str, Any]) -> list[str]:
    return [str(e) for e in validator_for(definition).validate(data)]


def single_field(prop: dict[str, Any], value: Any) -> list[FieldError]:
    schema = {"type": "object", "properties": {"字段": {"x-field": "text", **prop}}}
    return validator_for(FormDefinition(schema, {})).validate({"字段": value})


def test_valid_record_has_no_errors(definition: FormDefinition) -> None:
    assert validator_for(definition).validate(valid_record()) == []


def test_error_reads_label_then_message(definition: FormDefinition) -> None:
    data = valid_record() | {"预算金额": Decimal("0")}
    [error] = validator_for(definition).validate(data)
    assert str(error) == "预算金额：必须大于 0"
    assert (error.path, error.field_label, error.code) == ("预算金额", "预算金额", "exclusiveMinimum")


def test_title_is_used_as_label(definition: FormDefinition) -> None:
    data = valid_record() | {"建设单位代码": "913301005000000003"}
    assert messages(definition, data) == ["统一社会信用代码：统一社会信用代码格式或校验位不正确"]


def test_row_errors_have_machine_path_and_human_label(definition: FormDefinition) -> None:
    data = valid_record()
    data["预算明细"] = [*data["预算明细"], {"科目": "x", "单价": Decimal("-1")}, {"数量": 1}]
    errors = validator_for(definition).validate(data)
    assert [(e.path, e.field_label, e.message) for e in errors] == [
        ("预算明细[2].单价", "预算明细[3].单价", "必须大于或等于 0"),
        ("预算明细[3].科目", "预算明细[4].科目", "必填"),
    ]


@pytest.mark.parametrize(
    ("prop", "value", "message", "code"),
    [
        ({"type": "string"}, 12, "应为文本", "type"),
        ({"type": "integer", "x-field": "integer"}, Decimal("1.5"), "应为整数", "type"),
        ({"type": "number", "x-field": "percent", "minimum": 1}, 0, "必须大于或等于 1", "minimum"),
        ({"type": "number", "x-field": "percent", "maximum": 10}, 11, "必须小于或等于 10", "maximum"),
        (
            {"type": "number", "x-field": "percent", "exclusiveMaximum": 10},
            10,
            "必须小于 10",
            "exclusiveMaximum",
        ),
        (
            {"type": "number", "x-field": "percent", "multipleOf": 0.5},
            Decimal("0.3"),
            "必须是 0.5 的整数倍",
            "multipleOf",
        ),
        ({"type": "string", "maxLength": 3}, "四个字啊", "不能超过 3 个字", "maxLength"),
        ({"type": "string", "minLength": 2}, "一", "至少需要 2 个字", "minLength"),
        ({"type": "string", "pattern": "^[A-Z]{2}$"}, "abc", "格式不正确", "pattern"),
        (
            {"type": "string", "pattern": "^[A-Z]{2}$", "x-pattern-message": "应为两个大写字母"},
            "abc",
            "应为两个大写字母",
            "pattern",
        ),
        ({"type": "string", "x-field": "choice", "enum": ["甲", "乙"]}, "丙", "必须是 甲、乙 之一", "enum"),
        (
            {"type": "string", "x-field": "choice", "enum": ["A"], "x-enum-labels": {"A": "甲类"}},
            "B",
            "必须是 甲类 之一",
            "enum",
        ),
        ({"type": "string", "const": "是"}, "否", "必须等于 是", "const"),
        (
            {"type": "string", "x-field": "mobile", "format": "cn-mobile"},
            "１３８００１３８０００",
            "手机号应为 11 位数字，以 13–19 开头",
            "format",
        ),
        (
            {"type": "string", "x-field": "idcard", "format": "cn-idcard"},
            "110105194912310021",
            "居民身份证号格式、出生日期或校验位不正确",
            "format",
        ),
        (
            {"type": "string", "x-field": "date", "format": "date"},
            "2023-02-29",
            "日期格式应为 YYYY-MM-DD，且须是有效日期",
            "format",
        ),
        (
            {
                "type": "array",
                "x-field": "multichoice",
                "items": {"type": "string", "enum": ["a", "b"]},
                "uniqueItems": True,
                "minItems": 1,
            },
            [],
            "至少需要 1 项",
            "minItems",
        ),
        (
            {
                "type": "array",
                "x-field": "multichoice",
                "items": {"type": "string", "enum": ["a", "b"]},
                "uniqueItems": True,
            },
            ["a", "a"],
            "不能有重复项",
            "uniqueItems",
        ),
        (
            {
                "type": "array",
                "x-field": "multichoice",
                "items": {"type": "string", "enum": ["a", "b"]},
                "uniqueItems": True,
                "maxItems": 1,
            },
            ["a", "b"],
            "最多 1 项",
            "maxItems",
        ),
        (
            {"type": "number", "x-field": "money", "x-scale": 2},
            Decimal("1.005"),
            "最多保留 2 位小数",
            "x-scale",
        ),
        (
            {"type": "number", "x-field": "money", "x-scale": 2},
            1.5,
            "金额须以精确小数提交，不能是浮点数",
            "x-field",
        ),
        ({"type": "boolean", "x-field": "yesno"}, "是", "应为是或否", "type"),
    ],
)
def test_chinese_message_per_keyword(prop: dict[str, Any], value: Any, message: str, code: str) -> None:
    errors = single_field(prop, value)
    assert [(e.message, e.code) for e in errors] == [(message, code)]


def test_daterange_start_after_end_is_an_error() -> None:
    from forms.core.fields import FIELD_TYPES

    prop = dict(FIELD_TYPES["daterange"].template)
    [error] = single_field(prop, {"开始": "2025-02-01", "结束": "2025-01-01"})
    assert error.message == "开始日期不能晚于结束日期"


def test_file_limits() -> None:
    from forms.core.fields import FIELD_TYPES

    prop = {**FIELD_TYPES["file"].template, "x-max-size": 1 << 20, "x-accept": ["application/pdf", "image/*"]}
    ok = {"name": "a.png", "size": 10, "content_type": "image/png", "key": "k"}
    assert single_field(prop, ok) == []
    assert [e.message for e in single_field(prop, ok | {"size": 2 << 20})] == ["文件不能超过 1 MB"]
    assert [e.code for e in single_field(prop, ok | {"content_type": "application/zip"})] == ["x-accept"]


def test_unknown_field_in_data_is_reported_when_the_schema_is_closed(definition: FormDefinition) -> None:
    data = valid_record()
    data["预算明细"][0]["税率"] = Decimal("0.1")
    errors = validator_for(definition).validate(data)
    assert [(e.path, e.message) for e in errors] == [("预算明细[0].税率", "不是表单中的字段")]


def test_missing_required_fields_each_get_an_error(definition: FormDefinition) -> None:
    errors = validator_for(definition).validate({})
    assert {(e.path, e.message) for e in errors} == {
        ("项目名称", "必填"),
        ("项目类型", "必填"),
        ("预算金额", "必填"),
    }


def test_none_means_not_filled(definition: FormDefinition) -> None:
    data = valid_record() | {"开工日期": None, "项目名称": None}
    assert [(e.path, e.message) for e in validator_for(definition).validate(data)] == [("项目名称", "必填")]


def test_hidden_field_is_neither_required_nor_validated(definition: FormDefinition) -> None:
    validator = validator_for(definition)
    # 超支率 2% → 超支说明 hidden: missing is fine, and even an invalid value is ignored.
    assert validator.validate(valid_record() | {"超支说明": 12}) == []


def test_visible_field_with_required_if_true_is_required(definition: FormDefinition) -> None:
    errors = validator_for(definition).validate(valid_record() | {"超支率": Decimal("0.08")})
    assert [(e.path, e.message, e.code) for e in errors] == [("超支说明", "必填", "required")]


def test_cross_field_rule_attaches_its_message_to_the_named_field(definition: FormDefinition) -> None:
    data = valid_record() | {"开工日期": "2026-01-01"}
    assert messages(definition, data) == ["竣工日期：开工日期不能晚于竣工日期"]


def test_rule_with_an_empty_or_invalid_operand_does_not_fire(definition: FormDefinition) -> None:
    data = valid_record()
    del data["竣工日期"]
    assert validator_for(definition).validate(data) == []
    errors = validator_for(definition).validate(valid_record() | {"竣工日期": "2025-13-01"})
    assert [e.code for e in errors] == ["format"]


def test_submitted_computed_values_are_ignored_and_recomputed(definition: FormDefinition) -> None:
    validator = validator_for(definition)
    data = valid_record() | {"明细合计": "hacked"}
    data["预算明细"][0]["金额"] = "also hacked"
    assert validator.validate(data) == []
    computed = validator.compute(data)
    assert computed["明细合计"] == Decimal("300201.00")
    assert computed["预算明细"][0]["金额"] == Decimal("201.00")


def test_float_money_in_payload_is_an_error(definition: FormDefinition) -> None:
    errors = validator_for(definition).validate(valid_record() | {"预算金额": 1280000.5})
    assert [e.code for e in errors] == ["x-field"]


def test_validator_is_cached_by_content_hash(definition: FormDefinition) -> None:
    same = FormDefinition(project_schema(), project_ui())
    assert same is not definition
    assert validator_for(same) is validator_for(definition)
    ui = project_ui()
    del ui["order"]
    other = FormDefinition(project_schema(), ui)
    assert validator_for(other) is not validator_for(definition)


def test_validator_refuses_a_definition_with_problems() -> None:
    ui = project_ui()
    ui["order"].append("不存在")
    with pytest.raises(DefinitionError) as raised:
        validator_for(FormDefinition(project_schema(), ui))
    assert raised.value.problems[0].path == "ui_schema/order/4"


def test_non_object_payload_is_one_error(definition: FormDefinition) -> None:
    assert [e.code for e in validator_for(definition).validate([1, 2])] == ["type"]


def test_errors_follow_form_order(definition: FormDefinition) -> None:
    data = valid_record() | {"预算金额": Decimal("-1"), "项目名称": "x", "建设地点": "999999"}
    paths = [e.path for e in validator_for(definition).validate(data)]
    assert paths == ["项目名称", "预算金额", "建设地点"]
