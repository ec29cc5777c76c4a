"""A small but realistic 立项申请 form shared by the forms-core tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from forms.core import FormDefinition, clear_validator_cache


def project_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "项目名称": {
                "type": "string",
                "x-field": "text",
                "minLength": 2,
                "maxLength": 50,
                "x-disclosure": "主动公开",
            },
            "项目类型": {
                "type": "string",
                "x-field": "choice",
                "enum": ["基本建设", "技术改造", "信息化", "其他"],
            },
            "建设单位代码": {
                "type": "string",
                "x-field": "uscc",
                "format": "cn-uscc",
                "title": "统一社会信用代码",
            },
            "建设地点": {"type": "string", "x-field": "division", "format": "cn-division"},
            "联系电话": {
                "type": "string",
                "x-field": "mobile",
                "format": "cn-mobile",
                "x-sensitivity": "个人信息",
            },
            "预算金额": {"type": "number", "x-field": "money", "x-scale": 2, "exclusiveMinimum": 0},
            "超支率": {"type": "number", "x-field": "percent"},
            "超支说明": {"type": "string", "x-field": "textarea", "maxLength": 500},
            "开工日期": {"type": "string", "x-field": "date", "format": "date"},
            "竣工日期": {"type": "string", "x-field": "date", "format": "date"},
            "资金来源": {
                "type": "array",
                "x-field": "multichoice",
                "items": {"type": "string", "enum": ["中央补助", "省级补助", "市县配套", "专项债券"]},
                "uniqueItems": True,
            },
            "预算明细": {
                "type": "array",
                "x-field": "group",
                "maxItems": 50,
                "items": {
                    "type": "object",
                    "properties": {
                        "科目": {"type": "string", "x-field": "text", "maxLength": 20},
                        "数量": {"type": "integer", "x-field": "integer", "minimum": 0},
                        "单价": {"type": "number", "x-field": "money", "x-scale": 2, "minimum": 0},
                        "金额": {"type": "number", "x-field": "computed"},
                    },
                    "required": ["科目"],
                    "additionalProperties": False,
                },
            },
            "明细合计": {"type": "number", "x-field": "computed"},
        },
        "required": ["项目名称", "项目类型", "预算金额", "超支说明"],
    }


def project_ui() -> dict[str, Any]:
    return {
        "order": ["项目名称", "项目类型", "预算金额", "预算明细"],
        "sections": [{"title": "基本信息", "fields": ["项目名称", "项目类型"]}],
        "fields": {
            "预算金额": {"widget": "money", "help": "单位：元", "display": "万元"},
            "超支说明": {"visible_if": "超支率 > 5%", "required_if": "超支率 > 5%"},
            "明细合计": {"computed": "sum(预算明细.金额)"},
            "预算明细": {
                "page_size": 20,
                "item": {"order": ["科目", "金额"], "fields": {"金额": {"computed": "数量 * 单价"}}},
            },
        },
        "validations": [
            {"rule": "开工日期 <= 竣工日期", "message": "开工日期不能晚于竣工日期", "fields": ["竣工日期"]}
        ],
    }


def valid_record() -> dict[str, Any]:
    return {
        "项目名称": "幸福里老旧小区改造",
        "项目类型": "基本建设",
        "建设单位代码": "913301005000000002",
        "建设地点": "330106",
        "联系电话": "13800138000",
        "预算金额": Decimal("1280000.50"),
        "超支率": Decimal("0.02"),
        "开工日期": "2025-03-01",
        "竣工日期": "2025-12-31",
        "资金来源": ["中央补助", "市县配套"],
        "预算明细": [
            {"科目": "屋面修缮", "数量": 2, "单价": Decimal("100.50")},
            {"科目": "加装电梯", "数量": 1, "单价": Decimal("300000")},
        ],
    }


@pytest.fixture
def definition() -> FormDefinition:
    return FormDefinition(project_schema(), project_ui())


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_validator_cache()
