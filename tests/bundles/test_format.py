"""The file format without a database: exact numbers, line numbers, deterministic output, format checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bundles import BundleInvalid, bundle_check, bundle_diff, bundle_dump, bundle_parse

from .conftest import EXAMPLE_FILES, line_of


def _problems(text: str) -> list:
    return bundle_check(bundle_parse(text, filename="t.yaml"))


def test_numbers_with_a_fraction_load_as_decimal_and_dump_as_the_same_text():
    bundle = bundle_parse("taizhang_bundle: 1\nx: 0.050\ny: 12800000.00\nz: 7\n", filename="n.yaml")
    assert bundle.data["x"] == Decimal("0.050") and isinstance(bundle.data["x"], Decimal)
    assert isinstance(bundle.data["z"], int)
    text = bundle_dump(bundle)
    assert "x: 0.050\n" in text and "y: 12800000.00\n" in text


def test_codes_dates_and_yes_stay_text():
    bundle = bundle_parse("taizhang_bundle: 1\norg: 0571\nd: 2024-01-05\nw: yes\n", filename="s.yaml")
    assert bundle.data == {"taizhang_bundle": 1, "org": "0571", "d": "2024-01-05", "w": "yes"}
    assert bundle_parse(bundle_dump(bundle), filename="s2.yaml").data == bundle.data


def test_yaml_syntax_error_names_file_and_line():
    with pytest.raises(BundleInvalid) as caught:
        bundle_parse("taizhang_bundle: 1\nforms:\n  - code: a\n    name: [unclosed\n", filename="bad.yaml")
    problem = caught.value.problems[0]
    assert problem.file == "bad.yaml" and problem.line is not None and problem.line >= 4
    assert "YAML 语法错误" in str(problem)


def test_duplicate_keys_are_refused_with_their_line():
    with pytest.raises(BundleInvalid) as caught:
        bundle_parse("taizhang_bundle: 1\norg: a\norg: b\n", filename="dup.yaml")
    assert [(p.line, p.path) for p in caught.value.problems] == [(3, "org")]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_passes_the_checks(path):
    bundle = bundle_parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert bundle_check(bundle) == []
    assert bundle.org == "330100"
    assert len(bundle.forms) == 3 and len(bundle.project_types) == 1
    stages = bundle.project_types[0]["config"]["stages"]
    assert len(stages) == 4
    acceptance = bundle.project_types[0]["config"]["forms"]["验收申请"]
    assert any(s["code"] == "验收" and acceptance in s.get("required_forms", []) for s in stages)


def test_dump_is_a_fixed_point(laojiu_text):
    once = bundle_dump(bundle_parse(laojiu_text, filename="a.yaml"))
    twice = bundle_dump(bundle_parse(once, filename="b.yaml"))
    assert once == twice
    assert bundle_diff(bundle_parse(laojiu_text, filename="a"), bundle_parse(once, filename="b")) == []


def test_unknown_field_type_is_reported_at_its_line_and_path(laojiu_text):
    broken = laojiu_text.replace(
        "title: 项目总投资\n          x-field: money\n", "title: 项目总投资\n          x-field: monye\n"
    )
    assert broken != laojiu_text
    problems = [p for p in _problems(broken) if p.path.startswith("forms[0].schema")]
    assert [p.path for p in problems] == ["forms[0].schema.properties.项目总投资.x-field"]
    assert problems[0].line == line_of(broken, "x-field: monye")
    assert str(problems[0]).startswith(
        f"t.yaml:{problems[0].line}: forms[0].schema.properties.项目总投资.x-field: "
    )
    assert "monye" in problems[0].message


def test_bad_dsl_in_an_indicator_is_reported_at_its_line(laojiu_text):
    broken = laojiu_text.replace("expr: 预算 / 改造户数", "expr: 预算 / 改造户", 1)
    problems = _problems(broken)
    assert [p.path for p in problems] == ["project_types[0].config.indicators[3].expr"]
    assert problems[0].line == line_of(broken, "expr: 预算 / 改造户,")


def test_missing_form_reference_is_reported(laojiu_text):
    broken = laojiu_text.replace("验收申请: laojiu-yanshou", "验收申请: laojiu-yanshuo", 1)
    problems = _problems(broken)
    assert [p.path for p in problems] == ["project_types[0].config.forms.验收申请"]
    assert "laojiu-yanshuo" in problems[0].message
    assert problems[0].line == line_of(broken, "laojiu-yanshuo")


def test_format_errors_and_reserved_sections(laojiu_text):
    broken = laojiu_text.replace("taizhang_bundle: 1\n", "taizhang_bundle: 2\nflows: []\nextra: 1\n", 1)
    messages = {p.path: p.message for p in _problems(broken)}
    assert messages["taizhang_bundle"] == "必须是 1"
    assert "config.flows" in messages["flows"]
    assert "未知的键" in messages["extra"]


def test_an_entry_with_a_broken_shape_is_not_checked_further():
    problems = _problems("taizhang_bundle: 1\nforms:\n  - code: xb\n    name: 表\n    schema: []\n")
    assert [(p.line, p.path, p.message) for p in problems] == [(5, "forms[0].schema", "应为映射（键: 值）")]


def test_diff_reports_an_added_field_and_a_changed_threshold(laojiu_text):
    changed = laojiu_text.replace("超支预警线: 0.05", "超支预警线: 0.08", 1).replace(
        "        备注: {type: string",
        "        物业服务: {type: string, title: 改造后物业管理方式, x-field: choice, enum: [专业物业, 准物业, 自治管理]}\n"
        "        备注: {type: string",
        1,
    )
    lines = bundle_diff(bundle_parse(laojiu_text, filename="a"), bundle_parse(changed, filename="b"))
    text = "\n".join(lines)
    assert "+ 字段 物业服务（choice，“改造后物业管理方式”）" in text
    assert "~ 阈值 超支预警线：0.05 → 0.08" in text
    assert lines[0].startswith("~ 表单 laojiu-lixiang")
