"""The printer: ``parse(print_expr(ast)) == ast`` for every AST, proved over generated trees."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dsl import (
    NUMBER,
    Binary,
    Call,
    Catalogue,
    Compare,
    Expr,
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
    print_expr,
)
from dsl.functions import FUNCTIONS

_SEGMENT_CHARS = "预算类别合同金额支出且或非为空不是否今天天万亿abcXYZ_ 019-.#`（）＝"

numbers = st.decimals(min_value=0, max_value=Decimal("1e12"), places=4, allow_nan=False, allow_infinity=False)
segments = st.text(alphabet=_SEGMENT_CHARS.replace("`", ""), min_size=1, max_size=6)
literals = st.one_of(
    numbers.map(lambda d: Literal(d, "number")),
    st.text(max_size=8).map(lambda s: Literal(s, "string")),
    st.booleans().map(lambda b: Literal(b, "bool")),
    st.just(Literal(None, "null")),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)).map(lambda d: Literal(d, "date")),
    st.integers(0, 20000).map(lambda n: Literal(timedelta(days=n), "duration")),
)
names = st.lists(segments, min_size=1, max_size=3).map(lambda p: Name(tuple(p)))
function_names = st.sampled_from([*sorted(FUNCTIONS), "自定义函数", "foo"])


def _compound(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    pairs = st.tuples(children, children)
    return st.one_of(
        st.builds(Unary, st.sampled_from(["-", "not"]), children),
        pairs.flatmap(lambda p: st.sampled_from("+-*/").map(lambda op: Binary(op, *p))),  # type: ignore[arg-type]
        pairs.flatmap(
            lambda p: st.sampled_from(["=", "!=", "<", "<=", ">", ">="]).map(lambda op: Compare(op, *p))  # type: ignore[arg-type]
        ),
        st.builds(
            Logical, st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=4).map(tuple)
        ),
        st.builds(InList, children, children, st.booleans()),
        st.builds(IsNull, children, st.booleans()),
        st.builds(If, children, children, children),
        st.builds(Call, function_names, st.lists(children, max_size=3).map(tuple)),
        st.lists(children, max_size=3).map(lambda items: ListExpr(tuple(items))),
    )


asts = st.recursive(st.one_of(literals, names), _compound, max_leaves=16)


@given(asts)
def test_print_then_parse_gives_back_the_same_ast(tree: Expr) -> None:
    assert parse(print_expr(tree)) == tree


_CATALOGUE = Catalogue([Field(n, NUMBER) for n in ("预算", "类别", "合同", "金额", "是否完工", "非税收入")])


@given(asts)
def test_round_trip_holds_under_a_catalogue_that_splits_runs(tree: Expr) -> None:
    assert parse(print_expr(tree, _CATALOGUE), _CATALOGUE) == tree


def test_printer_adds_only_the_parentheses_binding_requires() -> None:
    assert print_expr(parse("(a + b) * c - -d")) == "(a + b) * c - -d"
    assert print_expr(parse("a or b and not c")) == "a or b and not c"
    assert print_expr(parse("(a or b) and c")) == "(a or b) and c"
    assert print_expr(parse("1 + (if a then 1 else 2)")) == "1 + (if a then 1 else 2)"


def test_printer_normalises_to_ascii_and_english_keywords(catalogue: Catalogue) -> None:
    text = print_expr(parse("预算＞100万且类别＝“交通”且备注为空", catalogue), catalogue)
    assert text == '预算 > 1000000 and 类别 = "交通" and 备注 is null'


def test_names_that_would_be_misread_are_back_quoted(catalogue: Catalogue) -> None:
    assert print_expr(Name(("备注为空",)), catalogue) == "`备注为空`"
    assert print_expr(Name(("if",))) == "`if`"
    assert print_expr(Name(("项目 名称",))) == "`项目 名称`"
    assert print_expr(Name(("非税收入",)), catalogue) == "非税收入"
