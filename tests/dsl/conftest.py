"""Shared fixtures: a catalogue shaped like a real 政府投资项目 form, and a fixed today()."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import settings

from dsl import Catalogue

settings.register_profile("dsl", max_examples=150, deadline=None)
settings.load_profile("dsl")

TODAY = date(2026, 3, 1)

PROJECT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "预算": {"type": "number", "title": "预算总额"},
        "实际支出": {"type": ["number", "null"], "x-title": "累计实际支出"},
        "超支率": {"type": "number"},
        "形象进度": {"type": "number"},
        "估算": {"type": "number"},
        "概算": {"type": "number"},
        "类别": {"type": "string", "enum": ["住建", "交通", "水利", "教育"]},
        "名称": {"type": "string"},
        "项目 名称": {"type": "string"},
        "备注": {"type": ["string", "null"]},
        "施工许可证号": {"type": "string"},
        "开工日期": {"type": "string", "format": "date"},
        "计划完工日期": {"type": "string", "format": "date"},
        "验收日期": {"type": "string", "format": "date"},
        "完工": {"type": "boolean"},
        "是否完工": {"type": "boolean"},
        "非税收入": {"type": "number"},
        "年份": {"type": "integer"},
        "标签": {"type": "array", "items": {"type": "string"}},
        "合同": {
            "type": "object",
            "properties": {"金额": {"type": "number"}, "签订日期": {"type": "string", "format": "date"}},
        },
        "支出": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"金额": {"type": "number"}, "日期": {"type": "string", "format": "date"}},
            },
        },
    },
}


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.from_json_schema(PROJECT_SCHEMA)


def project(**overrides: Any) -> dict[str, Any]:
    """A typical record; keyword arguments replace fields (None clears one)."""
    record: dict[str, Any] = {
        "预算": Decimal("1000000"),
        "实际支出": Decimal("1073100"),
        "超支率": Decimal("0.0731"),
        "形象进度": Decimal("0.40"),
        "估算": Decimal("5000000"),
        "概算": Decimal("5600000"),
        "类别": "住建",
        "名称": "老旧小区改造一期",
        "备注": None,
        "施工许可证号": "330100202601010101",
        "开工日期": date(2026, 1, 1),
        "计划完工日期": date(2026, 12, 31),
        "验收日期": None,
        "完工": False,
        "是否完工": False,
        "非税收入": Decimal("0"),
        "年份": Decimal("2026"),
        "标签": ["民生", "重点"],
        "合同": {"金额": Decimal("1200000"), "签订日期": date(2025, 12, 1)},
        "支出": [
            {"金额": Decimal("500000"), "日期": date(2026, 1, 15)},
            {"金额": Decimal("573100"), "日期": date(2026, 2, 15)},
            {"金额": None, "日期": None},
        ],
    }
    record.update(overrides)
    return record
