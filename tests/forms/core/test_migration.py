"""Migrating records between form versions: rename, default, computed, _legacy, preview."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from forms.core import DefinitionError, FormDefinition, migrate_record, plan_migration, preview


def old_version() -> FormDefinition:
    return FormDefinition(
        {
            "type": "object",
            "properties": {
                "名称": {"type": "string", "x-field": "text"},
                "预算万元": {"type": "number", "x-field": "money", "x-scale": 2},
                "类别": {"type": "string", "x-field": "choice", "enum": ["住建", "交通"]},
                "备注": {"type": "string", "x-field": "textarea"},
            },
            "required": ["名称"],
        },
        {},
    )


def new_version() -> FormDefinition:
    return FormDefinition(
        {
            "type": "object",
            "properties": {
                "项目名称": {"type": "string", "x-field": "text", "maxLength": 10},
                "预算金额": {"type": "number", "x-field": "money", "x-scale": 2},
                "类别": {"type": "string", "x-field": "choice", "enum": ["住建", "交通"]},
                "公开属性": {"type": "string", "x-field": "choice", "enum": ["主动公开", "不予公开"]},
            },
            "required": ["项目名称", "公开属性"],
        },
        {},
    )


MAPPING: dict[str, Any] = {
    "项目名称": {"from": "名称"},
    "预算金额": {"computed": "预算万元 * 10000"},
    "公开属性": {"default": "主动公开"},
}


def test_rename_default_computed_and_same_name() -> None:
    plan = plan_migration(old_version(), new_version(), MAPPING)
    new, errors = migrate_record(plan, {"名称": "改造", "预算万元": Decimal("12.5"), "类别": "住建"})
    assert errors == []
    legacy = {"预算万元": Decimal("12.5")}  # a computation may not be invertible, so its inputs are kept
    assert new == {
        "项目名称": "改造",
        "预算金额": Decimal("125000.0"),
        "类别": "住建",
        "公开属性": "主动公开",
        "_legacy": legacy,
    }


def test_unmapped_old_fields_are_kept_under_legacy() -> None:
    plan = plan_migration(old_version(), new_version(), MAPPING)
    record = {"名称": "改造", "预算万元": Decimal("1"), "备注": "保留我", "_legacy": {"更早": 1}}
    new, _ = migrate_record(plan, record)
    assert new["_legacy"] == {"更早": 1, "预算万元": Decimal("1"), "备注": "保留我"}


def test_migrated_record_is_validated_against_the_new_version() -> None:
    plan = plan_migration(old_version(), new_version(), MAPPING)
    _, errors = migrate_record(plan, {"名称": "一个非常非常长的项目名称啊"})
    assert [(e.path, e.code) for e in errors] == [("项目名称", "maxLength")]


def test_preview_counts_passes_and_lists_failures_by_index() -> None:
    plan = plan_migration(old_version(), new_version(), MAPPING)
    records = [{"名称": "甲"}, {"预算万元": Decimal("1")}, {"名称": "乙", "类别": "住建"}]
    result = preview(plan, records)
    assert result.passed == 2
    assert [(index, [e.path for e in errors]) for index, errors in result.failed] == [(1, ["项目名称"])]
    assert result["passed"] == 2


def test_mapping_problems_are_reported_together() -> None:
    bad = {
        "项目名称": {"from": "标题"},
        "预算金额": {"computed": "预算万元 *"},
        "公开属性": {"default": "保密"},
        "不存在": {"default": 1},
    }
    with pytest.raises(DefinitionError) as raised:
        plan_migration(old_version(), new_version(), bad)
    paths = sorted(p.path for p in raised.value.problems)
    assert paths == sorted(
        ["mapping/不存在", "mapping/公开属性/default", "mapping/预算金额/computed", "mapping/项目名称/from"]
    )


def test_computed_mapping_type_must_fit_the_new_field() -> None:
    with pytest.raises(DefinitionError) as raised:
        plan_migration(old_version(), new_version(), {**MAPPING, "预算金额": {"computed": "名称"}})
    assert "类型" in raised.value.problems[0].message
