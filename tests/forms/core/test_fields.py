"""Field-type registry and coercion of submitted HTML-form strings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from forms.core.fields import FIELD_TYPES, FieldType, coerce, coerce_data, register
from tests.forms.core.conftest import project_schema

EXPECTED = {
    "text", "textarea", "integer", "money", "percent", "date", "daterange", "choice", "multichoice", "yesno",
    "org", "user", "division", "file", "group", "computed", "uscc", "idcard", "mobile", "phone", "postcode",
}  # fmt: skip


def test_registry_holds_every_field_type_of_the_issue() -> None:
    assert set(FIELD_TYPES) == EXPECTED
    for kind in FIELD_TYPES.values():
        assert kind.zh and kind.widget and kind.dsl_type is not None


def test_registering_a_duplicate_type_fails_at_registration() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(FIELD_TYPES["text"])


def test_registering_an_inconsistent_template_fails_at_registration() -> None:
    bad = FieldType("broken", "坏", "number", "text", FIELD_TYPES["text"].dsl_type, FIELD_TYPES["text"].coercer,
                    template={"type": "string", "x-field": "broken"})  # fmt: skip
    with pytest.raises(ValueError, match="inconsistent"):
        register(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,280,000.50", Decimal("1280000.50")),
        ("１２８０", Decimal("1280")),
        ("¥3,000", Decimal("3000")),
        ("3000元", Decimal("3000")),
        ("-12.5", Decimal("-12.5")),
        ("", None),
        ("   ", None),
    ],
)
def test_money_coerces_thousands_separators_and_full_width(raw: str, expected: Decimal | None) -> None:
    result = coerce("money", raw)
    assert result.ok and result.value == expected
    assert result.value is None or isinstance(result.value, Decimal)


def test_money_typed_in_wan_yuan_is_stored_in_yuan() -> None:
    assert coerce("money", "128.5", display="万元").value == Decimal("1285000.00")
    assert coerce("money", "12万元").value == Decimal("120000.00")


@pytest.mark.parametrize("raw", ["abc", "1.234", "1e5", "12,3.4.5", "NaN", "Infinity", "9" * 60])
def test_money_bad_input_is_a_chinese_error_not_an_exception(raw: str) -> None:
    result = coerce("money", raw)
    assert not result.ok and result.value is None
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.error or "")


def test_integer_coercion() -> None:
    assert coerce("integer", "1,200").value == 1200
    assert coerce("integer", "１２").value == 12
    assert coerce("integer", "1.5").error == "请输入整数"
    assert coerce("integer", "").value is None


def test_percent_is_typed_as_shown_and_stored_as_a_fraction() -> None:
    assert coerce("percent", "12.5%").value == Decimal("0.125")
    assert coerce("percent", "5").value == Decimal("0.05")
    assert coerce("percent", "百分之五").error


@pytest.mark.parametrize("raw", ["2024-01-05", "2024/1/5", "2024年1月5日", "2024.01.05", "２０２４-01-05"])
def test_date_accepts_common_spellings_and_stores_iso(raw: str) -> None:
    assert coerce("date", raw).value == "2024-01-05"


def test_date_rejects_impossible_dates() -> None:
    assert coerce("date", "2023-02-29").error == "日期不存在"
    assert coerce("date", "yesterday").error


def test_daterange_from_text_pair_or_mapping() -> None:
    expected = {"开始": "2024-01-01", "结束": "2024-02-01"}
    assert coerce("daterange", "2024-01-01 至 2024-02-01").value == expected
    assert coerce("daterange", ["2024-01-01", "2024-02-01"]).value == expected
    assert coerce("daterange", {"开始": "2024/1/1", "结束": "2024/2/1"}).value == expected
    assert coerce("daterange", "2024-02-01 至 2024-01-01").error == "开始日期不能晚于结束日期"
    assert coerce("daterange", {"开始": "2024-01-01", "结束": ""}).error


def test_choice_accepts_value_or_label_and_rejects_others() -> None:
    prop = {"type": "string", "enum": ["A", "B"], "x-enum-labels": {"A": "甲", "B": "乙"}}
    assert coerce("choice", "A", prop=prop).value == "A"
    assert coerce("choice", "乙", prop=prop).value == "B"
    assert coerce("choice", "丙", prop=prop).error == "「丙」不是可选项"


def test_multichoice_from_list_or_separated_text_without_duplicates() -> None:
    prop = {"type": "array", "items": {"type": "string", "enum": ["交通", "教育", "水利"]}}
    assert coerce("multichoice", ["交通", "教育", "交通"], prop=prop).value == ["交通", "教育"]
    assert coerce("multichoice", "交通、水利", prop=prop).value == ["交通", "水利"]
    assert coerce("multichoice", "航天", prop=prop).error


@pytest.mark.parametrize(
    ("raw", "expected"), [("是", True), ("否", False), ("on", True), ("0", False), ("", None)]
)
def test_yesno(raw: str, expected: bool | None) -> None:
    assert coerce("yesno", raw).value is expected


def test_identifier_fields_fold_full_width_and_separators() -> None:
    assert coerce("mobile", "+86 138-0013-8000").value == "13800138000"
    assert coerce("mobile", "１３８００１３８０００").value == "13800138000"
    assert coerce("uscc", " 9133 0100 5000 0000 02 ").value == "913301005000000002"
    assert coerce("idcard", "11010519491231002x").value == "11010519491231002X"
    assert coerce("phone", "(0571)87654321").value == "0571-87654321"
    assert coerce("postcode", "３１０ ００６").value == "310006"
    assert coerce("division", " 110108 ").value == "110108"


def test_text_fields_strip_and_treat_blank_as_not_filled() -> None:
    assert coerce("text", "  项目  ").value == "项目"
    assert coerce("textarea", "一\r\n二").value == "一\n二"
    assert coerce("text", "").value is None
    assert coerce("org", "330106-zjj").value == "330106-zjj"
    assert coerce("user", "zhangsan").value == "zhangsan"


def test_file_from_upload_mapping() -> None:
    raw = {"name": "批复.pdf", "size": "2048", "content_type": "application/pdf", "key": "k/1"}
    assert coerce("file", raw).value == {**raw, "size": 2048}
    assert coerce("file", {"name": "x"}).error


def test_computed_input_is_ignored() -> None:
    assert coerce("computed", "999").value is None


def test_unknown_type_and_wrong_input_type_never_raise() -> None:
    assert coerce("nope", "x").error == "未知的字段类型：nope"
    assert coerce("money", 12.5).error  # type: ignore[arg-type]


def test_coerce_data_reads_a_whole_form_including_group_rows() -> None:
    raw = {
        "项目名称": " 改造 ",
        "预算金额": "128",
        "资金来源": ["中央补助"],
        "预算明细": [{"科目": "屋面", "数量": "2", "单价": "1,000"}, {"科目": "", "数量": ""}],
        "不存在": "x",
    }
    data, problems = coerce_data(project_schema(), raw, ui_fields={"预算金额": {"display": "万元"}})
    assert problems == []
    assert data == {
        "项目名称": "改造",
        "预算金额": Decimal("1280000.00"),
        "资金来源": ["中央补助"],
        "预算明细": [{"科目": "屋面", "数量": 2, "单价": Decimal("1000")}],
    }


def test_coerce_data_reports_each_unreadable_value_with_its_label() -> None:
    _, problems = coerce_data(project_schema(), {"预算金额": "很多", "建设单位代码": "x"})
    assert [(p.path, p.field_label) for p in problems] == [("预算金额", "预算金额")]
    assert str(problems[0]).startswith("预算金额：")
