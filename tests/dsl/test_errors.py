"""Errors: every catalogued mistake gets its own code and message; nothing but DslError ever escapes."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl import (
    BOOL,
    NUMBER,
    Catalogue,
    DslError,
    DslLimitError,
    DslSyntaxError,
    check,
    compile,
    diagnose,
    parse,
)
from dsl.codes import CODES, codes_markdown
from dsl.errors import display_width

from .conftest import TODAY, project

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dsl-errors.md"
_EXAMPLES = [(c.code, c.bad) for c in CODES.values() if c.bad]


def test_the_mistakes_catalogue_has_at_least_thirty_syntax_entries() -> None:
    assert sum(1 for c in CODES.values() if c.family == "syntax") >= 30


@pytest.mark.parametrize(("code", "bad"), _EXAMPLES, ids=[code for code, _ in _EXAMPLES])
def test_each_catalogued_mistake_reports_its_own_code(catalogue: Catalogue, code: str, bad: str) -> None:
    expect = NUMBER if code == "E310" else BOOL
    problems = diagnose(bad, catalogue, expect=expect)
    assert problems, f"{bad!r} was accepted"
    assert problems[0].code == code, f"{bad!r}: {problems[0]}"


@pytest.mark.parametrize("code", [c.code for c in CODES.values() if c.good])
def test_each_catalogued_fix_is_accepted(catalogue: Catalogue, code: str) -> None:
    expect = {"E310": NUMBER, "E304": BOOL}.get(code)
    assert diagnose(CODES[code].good, catalogue, expect=expect) == []


def test_messages_never_show_lark_terminal_names(catalogue: Catalogue) -> None:
    for code, bad in _EXAMPLES:
        for problem in diagnose(bad, catalogue, expect=BOOL):
            text = problem.message + problem.message_en
            assert not re.search(r"__ANON|\bRPAR\b|\bLPAR\b|\bNAME\b|\$END|COMP_OP", text), (code, text)


def test_error_carries_position_code_and_both_languages() -> None:
    with pytest.raises(DslSyntaxError) as caught:
        parse("预算 > (1 +")
    error = caught.value
    assert (error.code, error.line, error.column) == ("E102", 1, 9)
    assert error.to_dict() == {
        "line": 1,
        "column": 9,
        "end_column": 10,
        "code": "E102",
        "message": error.message,
        "message_en": error.message_en,
    }
    assert "缺少运算对象" in error.message and "nothing after" in error.message_en


def test_caret_lines_up_under_chinese_text() -> None:
    with pytest.raises(DslError) as caught:
        parse('类别="交通" 且 预算 => 1')
    source_line, caret_line = caught.value.excerpt().splitlines()
    text = source_line.split("| ", 1)[1]
    start = caret_line.index("^") - (len(caret_line.split("| ", 1)[0]) + 2)
    assert start == display_width(text[: text.index("=>")])
    assert caret_line.count("^") == 2


def test_multi_line_source_reports_the_right_line() -> None:
    with pytest.raises(DslError) as caught:
        parse("预算 > 1\n且 类别 = '交通'")
    assert (caught.value.line, caught.value.column) == (2, 8)
    assert caught.value.excerpt().startswith("  2 | ")


def test_limits_are_reported_clearly() -> None:
    with pytest.raises(DslLimitError) as caught:
        parse("1" + " + 1" * 6000)
    assert caught.value.code == "E501"
    with pytest.raises(DslLimitError) as caught:
        parse("(" * 150 + "1" + ")" * 150)
    assert caught.value.code == "E502"
    with pytest.raises(DslLimitError) as caught:
        parse("-" * 150 + "1")
    assert caught.value.code == "E502"
    with pytest.raises(DslLimitError) as caught:
        parse("x in [" + ", ".join(["1"] * 1001) + "]")
    assert caught.value.code == "E503"
    with pytest.raises(DslLimitError) as caught:
        parse("1" * 40)
    assert caught.value.code == "E504"


def test_error_docs_have_one_entry_per_code_and_are_in_sync() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert text.strip() == codes_markdown().strip()
    for code in CODES:
        assert f"### {code} " in text


_FUZZ_ALPHABET = (
    "预算类别合同金额支出备注完工是否非税收入且或非为空不是否今天天万亿元%"
    "abcxyz_ andornotisnulliftheneelse"
    "0123456789.,+-*/=<>!&|()[]{}\"'`“”‘’#:;@$\n\t "
    "（）＞＜＝％，【】、。＂"
)


@given(st.text(alphabet=_FUZZ_ALPHABET, max_size=40))
def test_random_text_only_ever_raises_dsl_errors(catalogue: Catalogue, text: str) -> None:
    try:
        checked = check(text, catalogue)
    except DslError as error:
        assert error.code in CODES and error.line >= 1 and error.column >= 1
        error.excerpt()
        return
    compiled = compile(checked)
    for record in ({}, project()):
        try:
            compiled.evaluate(record, today=TODAY)
            compiled.explain(record, today=TODAY).render()
        except DslError:
            pass


@given(st.text(max_size=30))
def test_arbitrary_unicode_only_ever_raises_dsl_errors(catalogue: Catalogue, text: str) -> None:
    with contextlib.suppress(DslError):
        check(text, catalogue)
