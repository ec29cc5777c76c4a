"""Shared fixture: a published 老旧小区改造 project type at the city, with 立项, 每日简报 and 验收申请 forms."""

from __future__ import annotations

import pytest

DAILY = {
    "type": "object",
    "properties": {
        "今日进展": {"type": "string", "title": "今日进展", "x-field": "textarea", "maxLength": 500},
        "现场人数": {"type": "integer", "title": "现场人数", "x-field": "integer", "minimum": 0},
    },
    "required": ["今日进展"],
}
ACCEPTANCE = {
    "type": "object",
    "properties": {
        "验收日期": {"type": "string", "title": "验收日期", "x-field": "date", "format": "date"},
        "验收结论": {"type": "string", "title": "验收结论", "x-field": "choice", "enum": ["合格", "不合格"]},
    },
    "required": ["验收日期", "验收结论"],
}
TYPE_CONFIG = {
    "name": "老旧小区改造",
    "category": "基本建设",
    "stages": [
        {"code": "立项", "required_forms": ["laojiu-lixiang"]},
        {"code": "执行"},
        {"code": "验收", "required_forms": ["laojiu-yanshou"]},
        {"code": "结项"},
    ],
    "forms": {"立项申请": "laojiu-lixiang", "每日简报": "daily-brief", "验收申请": "laojiu-yanshou"},
    "field_map": {
        "name": "项目名称",
        "budget": "项目总投资",
        "planned_start": "计划工期.开始",
        "planned_end": "计划工期.结束",
    },
    "indicators": [
        {"name": "预算执行率", "expr": "已支出 / 预算", "format": "percent"},
        {
            "name": "超支率",
            "expr": "if 已支出 > 预算 then (已支出 - 预算) / 预算 else 0",
            "format": "percent",
        },
        {"name": "进度偏差", "expr": "实际进度 - 计划进度", "format": "percent"},
        {"name": "户均投资", "expr": "预算 / 改造户数", "format": "money"},
    ],
    "thresholds": {"超支预警线": "0.05"},
    "public_fields": ["项目名称", "项目总投资", "改造户数"],
}


@pytest.fixture
def project_type(world, config_admin, published_form):
    from forms import services as forms
    from projects import services

    for code, name, purpose, schema in (
        ("daily-brief", "每日简报", "每日简报", DAILY),
        ("laojiu-yanshou", "老旧小区改造验收申请", "验收申请", ACCEPTANCE),
    ):
        form = forms.form_create(
            actor=config_admin,
            org=world.city,
            code=code,
            name=name,
            purpose=purpose,
            schema=schema,
            ui_schema={},
        )
        forms.form_publish(actor=config_admin, form=form)
    ptype = services.project_type_create(
        actor=config_admin, org=world.city, code="laojiu", config=TYPE_CONFIG
    )
    services.project_type_publish(actor=config_admin, ptype=ptype)
    return ptype
