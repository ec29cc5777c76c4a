"""The checker: names against the catalogue, types, arity, conditions, and which fields a rule reads."""

from __future__ import annotations

import pytest

from dsl import (
    ANY,
    BOOL,
    DATE,
    DURATION,
    NUMBER,
    STRING,
    Catalogue,
    DslArityError,
    DslNameError,
    DslTypeError,
    Field,
    ListType,
    ObjectType,
    check,
    diagnose,
)


def test_unknown_name_suggests_closest(catalogue: Catalogue) -> None:
    with pytest.raises(DslNameError) as caught:
        check("预箅 > 100万", catalogue)
    assert caught.value.code == "E201"
    assert caught.value.suggestions[0] == "预算"
    assert "是不是要写「预算」" in caught.value.message
    assert "did you mean '预算'" in caught.value.message_en


def test_unknown_name_is_found_by_its_label(catalogue: Catalogue) -> None:
    with pytest.raises(DslNameError) as caught:
        check("累计实际支出 > 1", catalogue)
    assert "实际支出" in caught.value.suggestions


def test_unknown_field_of_an_object_suggests_its_fields(catalogue: Catalogue) -> None:
    with pytest.raises(DslNameError) as caught:
        check("合同.金钱 > 1", catalogue)
    assert caught.value.code == "E205"
    assert caught.value.suggestions == ("金额",)


def test_enum_value_typo_suggests_the_allowed_value(catalogue: Catalogue) -> None:
    with pytest.raises(DslNameError) as caught:
        check('类别 in ["交通", "住键"]', catalogue)
    assert (caught.value.code, caught.value.suggestions) == ("E206", ("住建",))


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ('"a" > 3', "E302"),
        ("预算 + 开工日期", "E301"),
        ("今天() - 开工日期 > 30", "E303"),
        ('类别 > "交通"', "E312"),
        ("预算 且 完工", "E305"),
        ('类别 in "交通"', "E306"),
        ("备注 = null", "E307"),
        ('if 完工 then 1 else "否"', "E308"),
        ("if 预算 then 1 else 0", "E309"),
        ('[1, "a"] = [1]', "E311"),
        ('-类别 = "交通"', "E313"),
        ('预算 in ["交通"]', "E314"),
        ("sum(预算) > 1", "E402"),
        ("支出.金额 > 1", "E302"),
    ],
)
def test_type_mismatches_are_rejected(catalogue: Catalogue, source: str, code: str) -> None:
    with pytest.raises(DslTypeError) as caught:
        check(source, catalogue)
    assert caught.value.code == code


def test_duration_compared_with_number_suggests_days(catalogue: Catalogue) -> None:
    with pytest.raises(DslTypeError) as caught:
        check("今天() - 开工日期 > 45", catalogue)
    assert "45天" in caught.value.message


@pytest.mark.parametrize("source", ["round()", "today(1)", "coalesce()", "sum(支出.金额, 1)"])
def test_wrong_function_arity_is_rejected(catalogue: Catalogue, source: str) -> None:
    with pytest.raises(DslArityError) as caught:
        check(source, catalogue)
    assert caught.value.code == "E401"


def test_a_condition_must_be_boolean_where_one_is_required(catalogue: Catalogue) -> None:
    with pytest.raises(DslTypeError) as caught:
        check("预算 * 2", catalogue, expect=BOOL)
    assert caught.value.code == "E304"
    assert check("备注 为空", catalogue, expect=BOOL).type == BOOL


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("预算 * 5%", NUMBER),
        ("今天() - 开工日期", DURATION),
        ("开工日期 + 30天", DATE),
        ("30天 + 开工日期", DATE),
        ("计划完工日期 - 30天", DATE),
        ("名称", STRING),
        ("支出.金额", ListType(NUMBER)),
        ("合同", ObjectType({"金额": NUMBER, "签订日期": DATE})),
        ("[]", ListType(ANY)),
        ('coalesce(备注, "无")', STRING),
        ("max(支出.日期)", DATE),
        ("max(预算, 实际支出)", NUMBER),
        ("days(今天() - 开工日期) / 365", NUMBER),
        ("if 完工 then null else 1", NUMBER),
    ],
)
def test_inferred_types(catalogue: Catalogue, source: str, kind: object) -> None:
    assert check(source, catalogue).type == kind


def test_reads_lists_every_catalogue_name_used(catalogue: Catalogue) -> None:
    checked = check("sum(支出.金额) > 预算 且 合同.金额 > 0 且 今天() > 开工日期", catalogue)
    assert checked.reads == frozenset({"支出.金额", "预算", "合同.金额", "开工日期"})
    assert checked.uses_today


def test_diagnose_collects_every_problem_once(catalogue: Catalogue) -> None:
    problems = diagnose('预箅 > 1 且 "a" > 3 且 round()', catalogue)
    assert [p.code for p in problems] == ["E201", "E302", "E401"]
    assert diagnose("预算 > 1", catalogue) == []
    assert [p.code for p in diagnose("预算 >", catalogue)] == ["E102"]


def test_type_names_are_chinese() -> None:
    assert [t.zh for t in (NUMBER, STRING, BOOL, DATE, DURATION)] == ["数值", "文本", "是/否", "日期", "时长"]
    assert ListType(NUMBER).zh == "列表〈数值〉"
    assert ObjectType({"a": NUMBER}).zh == "对象"


def test_catalogue_from_json_schema_types_nested_paths(catalogue: Catalogue) -> None:
    assert catalogue.lookup("实际支出") == Field("实际支出", NUMBER, ("实际支出",), "累计实际支出", {})
    assert catalogue.lookup("预算").label == "预算总额"  # type: ignore[union-attr]
    assert catalogue.lookup("年份").type == NUMBER  # type: ignore[union-attr]
    assert catalogue.lookup("类别").meta["enum"] == ("住建", "交通", "水利", "教育")  # type: ignore[union-attr]
    assert catalogue.lookup("支出.日期").type == ListType(DATE)  # type: ignore[union-attr]
    assert catalogue.lookup("合同.金额").path == ("合同", "金额")  # type: ignore[union-attr]
    assert "支出.金额" in catalogue.names()


def test_catalogue_extend_adds_computed_indicators(catalogue: Catalogue) -> None:
    extended = catalogue.extend([Field("执行率", NUMBER, meta={"computed": "实际支出 / 预算"})])
    assert check("执行率 < 30%", extended).reads == frozenset({"执行率"})
    assert catalogue.lookup("执行率") is None
    assert extended.lookup("执行率").meta["computed"] == "实际支出 / 预算"  # type: ignore[union-attr]
