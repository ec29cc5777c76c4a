"""Parsing: every construct of the design, binding powers, Chinese without spaces, full-width punctuation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dsl import (
    BOOL,
    NUMBER,
    Binary,
    Call,
    Catalogue,
    Compare,
    DslAmbiguityError,
    DslSyntaxError,
    Field,
    If,
    InList,
    IsNull,
    ListExpr,
    Literal,
    Logical,
    Name,
    Unary,
    parse,
)


def num(text: str) -> Literal:
    return Literal(Decimal(text), "number")


def name(*path: str) -> Name:
    return Name(tuple(path))


@pytest.mark.parametrize(
    ("source", "value", "kind"),
    [
        ("0.1", Decimal("0.1"), "number"),
        ("5%", Decimal("0.05"), "number"),
        ("12.5%", Decimal("0.125"), "number"),
        ("50万", Decimal("500000"), "number"),
        ("2亿", Decimal("200000000"), "number"),
        ("1.5万亿", Decimal("1500000000000"), "number"),
        ("100万元", Decimal("1000000"), "number"),
        ('"交通"', "交通", "string"),
        ("“交通”", "交通", "string"),
        (r'"say \"hi\"\n"', 'say "hi"\n', "string"),
        ("true", True, "bool"),
        ("是", True, "bool"),
        ("FALSE", False, "bool"),
        ("null", None, "null"),
        ("2026-01-31", date(2026, 1, 31), "date"),
        ("30天", timedelta(days=30), "duration"),
    ],
)
def test_literals_read_as_exact_values(source: str, value: object, kind: str) -> None:
    assert parse(source) == Literal(value, kind)  # type: ignore[arg-type]


def test_lists_names_paths_and_backquoted_names() -> None:
    assert parse('["交通", "教育"]') == ListExpr((Literal("交通", "string"), Literal("教育", "string")))
    assert parse("[]") == ListExpr(())
    assert parse("合同.金额") == name("合同", "金额")
    assert parse("`项目 名称`.`a.b`") == name("项目 名称", "a.b")


def test_binding_from_loosest_or_and_not_comparison_sum_product_unary() -> None:
    a, b, c = name("a"), name("b"), name("c")
    assert parse("a or b and c") == Logical("or", (a, Logical("and", (b, c))))
    assert parse("not 1 > 2") == Unary("not", Compare(">", num("1"), num("2")))
    assert parse("1 + 2 * 3 > 6") == Compare(
        ">", Binary("+", num("1"), Binary("*", num("2"), num("3"))), num("6")
    )
    assert parse("-a * b") == Binary("*", Unary("-", a), b)
    assert parse("a - b - c") == Binary("-", Binary("-", a, b), c)
    assert parse("(a or b) and c") == Logical("and", (Logical("or", (a, b)), c))


def test_chains_without_parentheses_are_one_logical_node() -> None:
    assert parse("a and b and c") == Logical("and", (name("a"), name("b"), name("c")))
    assert parse("a and (b and c)") == Logical("and", (name("a"), Logical("and", (name("b"), name("c")))))


@pytest.mark.parametrize("spelling", ["=", "=="])
def test_equality_accepts_single_and_double_equals(spelling: str) -> None:
    assert parse(f"a {spelling} 1") == Compare("=", name("a"), num("1"))


def test_membership_null_tests_and_if() -> None:
    items = ListExpr((num("1"),))
    assert parse("a in [1]") == InList(name("a"), items)
    assert parse("a not in [1]") == InList(name("a"), items, negated=True)
    assert parse("a is null") == IsNull(name("a"))
    assert parse("a is not null") == IsNull(name("a"), negated=True)
    assert parse("a 为空") == IsNull(name("a"))
    assert parse("a 不为空") == IsNull(name("a"), negated=True)
    assert parse("if a then 1 else 2") == If(name("a"), num("1"), num("2"))
    assert parse("如果 a 那么 1 否则 2") == If(name("a"), num("1"), num("2"))


def test_chinese_keywords_alias_english_ones() -> None:
    assert parse("a 且 b 或 非 c") == parse("a and b or not c")
    assert parse("a 并且 b 或者 c") == parse("a and b or c")


def test_function_calls_store_the_canonical_name() -> None:
    assert parse("今天()") == Call("today", ())
    assert parse("求和(支出.金额)") == Call("sum", (name("支出", "金额"),))
    assert parse("round(x, 2)") == Call("round", (name("x"), num("2")))


def test_comments_and_newlines_are_ignored() -> None:
    assert parse("a > 1 # 超过一\n  且 b # 注释") == parse("a > 1 and b")


def test_positions_are_recorded_but_not_compared() -> None:
    tree = parse("预算 >  100万")
    assert isinstance(tree, Compare)
    assert tree.right.span is not None
    assert (tree.right.span.column, tree.right.span.end_column) == (7, 11)
    assert tree == parse("预算>100万")


def test_full_width_punctuation_reads_as_ascii(catalogue: Catalogue) -> None:
    assert parse("（预算＞100万）或（类别＝“交通”）", catalogue) == parse('(预算 > 100万) or (类别 = "交通")')
    assert parse("预算＞＝５０％", catalogue) == parse("预算 >= 50%")
    assert parse("类别 in 【“交通”，“教育”】", catalogue) == parse('类别 in ["交通", "教育"]')


def test_full_width_characters_inside_text_are_kept() -> None:
    assert parse("名称 = “一期（东区）”") == Compare("=", name("名称"), Literal("一期（东区）", "string"))


def test_chinese_without_spaces_reads_as_spaced(catalogue: Catalogue) -> None:
    assert parse("备注为空", catalogue) == parse("备注 is null")
    assert parse("备注不为空", catalogue) == parse("备注 is not null")
    assert parse('预算>=100万且类别="住建"', catalogue) == parse('预算 >= 100万 and 类别 = "住建"')
    assert parse("完工或非是否完工", catalogue) == parse("完工 or not 是否完工")
    assert parse("合同.金额为空", catalogue) == parse("合同.金额 is null")


def test_a_name_containing_a_keyword_stays_whole(catalogue: Catalogue) -> None:
    assert parse("非税收入>0", catalogue) == Compare(">", name("非税收入"), num("0"))
    assert parse("是否完工=是", catalogue) == Compare("=", name("是否完工"), Literal(True, "bool"))
    debts = Catalogue([Field("或然负债", NUMBER), Field("负债", NUMBER)])
    assert parse("或然负债>0", debts) == Compare(">", name("或然负债"), num("0"))


def test_longest_names_win_over_a_split_through_a_keyword() -> None:
    cat = Catalogue([Field("非税收入", NUMBER), Field("税收入", NUMBER)])
    assert parse("非税收入为空", cat) == IsNull(name("非税收入"))


def test_genuinely_ambiguous_run_lists_its_readings() -> None:
    cat = Catalogue([Field(n, BOOL) for n in ("甲", "乙", "丙", "甲或乙", "乙且丙")])
    with pytest.raises(DslAmbiguityError) as caught:
        parse("甲或乙且丙", cat)
    error = caught.value
    assert error.code == "E701"
    assert set(error.readings) == {("甲或乙", "且", "丙"), ("甲", "或", "乙且丙")}
    assert "甲或乙 且 丙" in error.message


def test_without_a_catalogue_runs_are_not_split() -> None:
    assert parse("备注为空") == name("备注为空")


def test_unknown_run_is_left_whole_for_the_checker(catalogue: Catalogue) -> None:
    assert parse("预箅为空", catalogue) == name("预箅为空")


def test_chained_comparison_is_a_syntax_error() -> None:
    with pytest.raises(DslSyntaxError) as caught:
        parse("1 < a < 5")
    assert caught.value.code == "E141"
