"""Project types as configuration; projects created from them move through their stages."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from core.errors import Conflict, ValidationFailed
from projects import services
from projects.indicators import project_indicators
from projects.models import ProjectTypeVersion, StageChange

from .conftest import TYPE_CONFIG

pytestmark = pytest.mark.django_db


def _data(valid_data) -> dict:
    return copy.deepcopy(valid_data)


def test_publish_checks_forms_stages_and_indicator_dsl(world, config_admin, published_form):
    bad = copy.deepcopy(TYPE_CONFIG)
    bad["indicators"].append({"name": "坏指标", "expr": "已支出 / 预箅"})
    bad["stages"][2]["required_forms"] = ["no-such-form"]
    ptype = services.project_type_create(actor=config_admin, org=world.city, code="bad", config=bad)
    with pytest.raises(ValidationFailed) as err:
        services.project_type_publish(actor=config_admin, ptype=ptype)
    fields = err.value.fields
    assert any("预箅" in m or "预算" in m for m in fields["indicators[4].expr"])
    assert "no-such-form" in fields["stages[2].required_forms"][0]


def test_project_created_from_type_pins_versions_and_maps_fields(world, project_type, valid_data):
    project = services.project_create_from_type(
        actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, data=_data(valid_data)
    )
    assert project.type_version.number == 1 and project.form_version.number == 1
    assert project.name == "西湖区翠苑一区老旧小区改造工程"
    assert project.budget == Decimal("12800000.00")
    assert project.planned_start == date(2026, 3, 1) and project.stage == "立项"
    assert project.data["项目总投资"] == "12800000.00"
    assert "cyyq" in project.search_text


def test_invalid_lixiang_data_is_refused_with_field_errors(world, project_type, valid_data):
    with pytest.raises(ValidationFailed) as err:
        services.project_create_from_type(
            actor=world.users["clerk_a"],
            org=world.bureau_a,
            ptype=project_type,
            data=dict(_data(valid_data), 联系电话="123"),
        )
    assert "联系电话" in err.value.fields


def test_stage_moves_require_the_stage_forms(world, project_type, valid_data):
    clerk = world.users["clerk_a"]
    project = services.project_create_from_type(
        actor=clerk, org=world.bureau_a, ptype=project_type, data=_data(valid_data)
    )
    with pytest.raises(Conflict):
        services.project_stage_move(actor=clerk, project=project, to_stage="验收")
    project = services.project_stage_move(actor=clerk, project=project, to_stage="执行")
    project = services.project_stage_move(actor=clerk, project=project, to_stage="验收")
    with pytest.raises(Conflict) as err:
        services.project_stage_move(actor=clerk, project=project, to_stage="结项")
    assert err.value.code == "stage_forms_missing" and "验收申请" in err.value.message
    services.project_form_submit(
        actor=clerk, project=project, role="验收申请", data={"验收日期": "2026-12-20", "验收结论": "合格"}
    )
    project = services.project_stage_move(actor=clerk, project=project, to_stage="结项", note="验收合格")
    assert project.stage == "结项"
    assert list(StageChange.objects.filter(project=project).values_list("to_stage", flat=True)) == [
        "执行",
        "验收",
        "结项",
    ]


def test_indicators_are_computed_with_the_dsl(world, project_type, valid_data):
    clerk = world.users["clerk_a"]
    project = services.project_create_from_type(
        actor=clerk, org=world.bureau_a, ptype=project_type, data=_data(valid_data)
    )
    services.expenditure_record(
        actor=clerk,
        project=project,
        voucher_no="PZ-001",
        paid_on="2026-04-01",
        payee="杭州某建设集团",
        amount="13440000.00",
    )
    project.refresh_from_db()
    values = {i.name: i for i in project_indicators(project, today=date(2026, 8, 1))}
    assert values["预算执行率"].value == Decimal("1.05")
    assert values["超支率"].shown == "5.00%"
    assert values["户均投资"].shown == "¥8,767.12"


def test_lower_org_overrides_an_upper_type(world, project_type, valid_data):
    from accounts.models import Role
    from accounts.services import grant_create
    from tests.factories import UserFactory

    district_admin = UserFactory(username="config_xh", org=world.district_a)
    grant_create(
        actor=None, user=district_admin, role=Role.objects.get(code="config_admin"), org=world.district_a
    )
    delta = {
        "thresholds": {"超支预警线": "0.03"},
        "extend_forms": {
            "立项申请": {
                "properties": {"街道": {"type": "string", "title": "所在街道", "x-field": "text"}},
                "required": ["街道"],
            }
        },
    }
    local = services.project_type_override(
        actor=district_admin, base=project_type, org=world.district_a, code="laojiu-xihu", delta=delta
    )
    version = services.project_type_publish(actor=district_admin, ptype=local)
    assert version.effective["thresholds"] == {"超支预警线": "0.03"}
    assert version.origin["thresholds"] == "修改" and version.origin["stages"] == "继承"
    assert version.effective["forms"]["立项申请"] == "laojiu-lixiang--laojiu-xihu"
    with pytest.raises(ValidationFailed) as err:
        services.project_create_from_type(
            actor=world.users["clerk_a"], org=world.bureau_a, ptype=local, data=_data(valid_data)
        )
    assert "街道" in err.value.fields
    project = services.project_create_from_type(
        actor=world.users["clerk_a"],
        org=world.bureau_a,
        ptype=local,
        data=dict(_data(valid_data), 街道="翠苑街道"),
    )
    assert project.data["街道"] == "翠苑街道"
    with pytest.raises(ValidationFailed):
        services.project_create_from_type(
            actor=world.users["clerk_b"],
            org=world.bureau_b,
            ptype=local,
            data=dict(_data(valid_data), 街道="x"),
        )


def test_published_type_version_is_immutable(project_type):
    version = project_type.published()
    version.config = {"name": "改"}
    with pytest.raises(TypeError):
        version.save()
    assert ProjectTypeVersion.objects.get(pk=version.pk).config["name"] == "老旧小区改造"
