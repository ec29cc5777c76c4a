"""The pure half of the ledger import: columns from a 立项 form, header mapping, cells coerced like the form."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from projects.imports.columns import columns_for, map_header, parse_row
from projects.imports.workbook import cell_text

EXAMPLE = json.loads(
    (Path(__file__).resolve().parents[2] / "examples" / "forms" / "laojiu-lixiang.json").read_text("utf-8")
)
COLUMNS = columns_for(EXAMPLE["schema"], EXAMPLE["ui_schema"])


def test_columns_follow_the_form_sections_and_skip_computed_fields():
    titles = [c.title for c in COLUMNS]
    assert titles[:4] == ["机构编码", "项目代码", "项目名称", "建设单位统一社会信用代码"]
    assert "资金来源合计" not in titles
    funds = next(c for c in COLUMNS if c.key == "资金来源")
    assert funds.item_keys == ("来源", "金额") and "中央补助:8000000; 中央预算内投资:4800000" in funds.hint()


def test_header_accepts_field_names_and_a_required_marker_and_names_bad_columns():
    header = map_header(
        ["机构编码", "项目名称*", "建设单位信用代码", " 联系人 ", "负责人", "错误说明"], COLUMNS
    )
    assert header.positions["项目名称"] == 1 and header.positions["建设单位信用代码"] == 2
    assert header.error_column == 5
    assert "第 E 列「负责人」不是该项目类型立项表单中的字段" in header.problems
    assert "缺少必填列「小区名称」" in header.problems and "缺少必填列「联系人」" not in header.problems


def test_cells_become_typed_form_values():
    titles = ["机构编码", "项目总投资", "资金来源", "计划工期", "改造类别", "是否加装电梯", "建成年份"]
    header = map_header(titles, COLUMNS)
    cells = [
        "330106-zjj",
        "1280万元",
        "中央补助：800万元\n市县配套: 4,800,000",
        "2026-03-01 至 2026-12-31",
        "基础类，完善类",
        "是",
        "1992",
    ]
    row = parse_row(7, cells, header, COLUMNS)
    assert row.problems == {} and row.number == 7 and row.org_code == "330106-zjj"
    assert row.data["项目总投资"] == Decimal("12800000.00")
    assert row.data["资金来源"] == [
        {"来源": "中央补助", "金额": Decimal("8000000.00")},
        {"来源": "市县配套", "金额": Decimal("4800000")},
    ]
    assert row.data["计划工期"] == {"开始": "2026-03-01", "结束": "2026-12-31"}
    assert row.data["改造类别"] == ["基础类", "完善类"] and row.data["是否加装电梯"] is True
    bad = parse_row(8, ["x", "很多", "中央补助:abc", "明年", "豪华类", "也许", "1992.5"], header, COLUMNS)
    assert set(bad.problems) == {"项目总投资", "资金来源", "计划工期", "改造类别", "是否加装电梯", "建成年份"}
    assert bad.problems["资金来源"].startswith("资金来源：第1行「金额」")


def test_excel_cell_values_read_as_what_a_person_typed():
    assert cell_text(12800000.0) == "12800000" and cell_text(1234.56) == "1234.56"
    assert cell_text(0.125, "0.0%") == "12.5%" and cell_text(13800138000) == "13800138000"
    assert cell_text(datetime(2026, 3, 1)) == "2026-03-01" and cell_text(date(2026, 3, 1)) == "2026-03-01"
    assert cell_text(True) == "是" and cell_text(None) == ""
