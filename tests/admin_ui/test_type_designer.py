"""The studio's project type designer: the list of types at an org (own / overridden / inherited), creating and
overriding a type, autosave as an audit event, live checks (DSL diagnostics with their column), the publish preview
(diff and affected records), publishing with a confirmation, read-only users, earlier versions and drafts from them.
Every failure is a 4xx with ``{code, message, fields}``, never a 500."""

from __future__ import annotations

import copy
import json

import pytest

from tests.admin_ui.helpers import client_for, post_json
from tests.factories import UserFactory
from tests.project_fixtures import TYPE_CONFIG

pytestmark = pytest.mark.django_db

LIST = "/studio/types/"


@pytest.fixture
def district_admin(world):
    from accounts.models import Role
    from accounts.services import grant_create

    user = UserFactory(username="config_xihu", org=world.district_a)
    grant_create(actor=None, user=user, role=Role.objects.get(code="config_admin"), org=world.district_a)
    return user


@pytest.fixture
def road(world, config_admin, project_type):
    """A second published city type, so a district can both override one and inherit another."""
    from projects import services

    config = copy.deepcopy(TYPE_CONFIG)
    config["name"] = "道路提升"
    ptype = services.project_type_create(actor=config_admin, org=world.city, code="road", config=config)
    services.project_type_publish(actor=config_admin, ptype=ptype)
    return ptype


def _override(user, base, code="laojiu-xihu", delta=None):
    from projects import services

    return services.project_type_override(
        actor=user, base=base, org=user.org, code=code, delta=delta if delta is not None else {}
    )


def test_list_groups_own_overridden_and_inherited_for_a_district(world, project_type, road, district_admin):
    from projects import services

    services.project_type_create(
        actor=district_admin, org=world.district_a, code="xihu-own", config={"name": "西湖区微更新"}
    )
    _override(district_admin, road, code="road-xihu")
    response = client_for(district_admin).get(LIST)
    assert response.status_code == 200
    groups = response.context["own"], response.context["overridden"], response.context["inherited"]
    own, overridden, inherited = ([r["ptype"].code for r in g] for g in groups)
    assert own == ["xihu-own"]
    assert overridden == ["road-xihu"]
    assert inherited == ["laojiu"]  # road is adapted here, so it is not offered again
    html = response.content.decode()
    assert "本级类型" in html and "已覆盖" in html and "可继承" in html
    assert "新建类型" in html and 'data-override="laojiu"' in html
    assert "覆盖自 杭州市 的“道路提升”" in html
    assert "/studio/flows/laojiu/" in html


def test_list_for_a_read_only_user_has_no_write_buttons(world, project_type):
    response = client_for(world.users["clerk_a"]).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-override" not in html and "新建类型" not in html
    assert [r["ptype"].code for r in response.context["inherited"]] == ["laojiu"]


def test_create_a_type_opens_its_designer_with_a_draft(world, district_admin):
    from audit.models import AuditEvent
    from projects.models import ProjectType

    client = client_for(district_admin)
    bad = client.post("/studio/types/new/", {"code": "x", "name": "微更新", "category": "其他"})
    assert bad.status_code == 400 and "类型编码" in bad.content.decode()
    response = client.post("/studio/types/new/", {"code": "xihu-micro", "name": "微更新", "category": "其他"})
    assert response.status_code == 302 and response["Location"] == "/studio/types/xihu-micro/"
    ptype = ProjectType.objects.get(code="xihu-micro")
    assert ptype.org == world.district_a and ptype.draft().config["category"] == "其他"
    assert AuditEvent.objects.filter(action="project_type.create").exists()
    page = client.get(response["Location"])
    assert page.status_code == 200 and "项目类型设计器" in page.content.decode()


def test_override_an_inherited_type(world, project_type, district_admin):
    from projects.models import ProjectType

    client = client_for(district_admin)
    response = client.post(
        "/studio/types/laojiu/override/", {"org": world.district_a.pk, "code": "laojiu-xihu"}
    )
    assert response.status_code == 302 and response["Location"] == "/studio/types/laojiu-xihu/"
    ptype = ProjectType.objects.get(code="laojiu-xihu")
    assert ptype.base == project_type and ptype.org == world.district_a
    assert ptype.draft().config == {}
    page = client.get(response["Location"])
    assert page.context["i18n"]["editHere"] == "在本级修改"
    assert 'data-override="true"' in page.content.decode()
    # the effective panel starts with everything inherited
    data = page.context["data"]
    assert {row["origin"] for row in data["checked"]["effective"]} == {"继承"}


def test_autosave_writes_the_draft_and_an_audit_event(project_type, district_admin):
    from audit.models import AuditEvent

    ptype = _override(district_admin, project_type)
    client = client_for(district_admin)
    delta = {"thresholds": {**TYPE_CONFIG["thresholds"], "超支预警线": "0.08"}}
    response = post_json(client, f"/studio/types/{ptype.code}/save/", {"config": delta})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 1
    ptype.refresh_from_db()
    assert ptype.draft().config == delta
    event = AuditEvent.objects.filter(action="project_type.draft_save").latest("pk")
    assert event.actor_id == district_admin.pk
    bad = post_json(client, f"/studio/types/{ptype.code}/save/", {"config": {"stages": "立项"}})
    assert bad.status_code == 400 and "stages" in bad.json()["fields"]


def test_check_reports_an_indicator_typo_with_its_column(project_type, config_admin):
    client = client_for(config_admin)
    config = copy.deepcopy(TYPE_CONFIG)
    config["indicators"][0]["expr"] = "已支处 / 预算"
    response = post_json(client, "/studio/types/laojiu/check/", {"config": config})
    assert response.status_code == 200
    body = response.json()
    diagnostics = body["indicators"][0]
    assert diagnostics and diagnostics[0]["line"] == 1 and diagnostics[0]["column"] == 1
    assert "已支出" in json.dumps(diagnostics[0], ensure_ascii=False)  # did you mean
    assert body["indicators"][1] == []
    assert any(p["path"] == "indicators[0].expr" for p in body["problems"])
    config["indicators"][0]["expr"] = "已支出 / 预箅"
    later = post_json(client, "/studio/types/laojiu/check/", {"config": config}).json()["indicators"][0]
    assert later[0]["column"] == 7
    config["thresholds"]["超支预警线"] = "五个点"
    body = post_json(client, "/studio/types/laojiu/check/", {"config": config}).json()
    assert any(p["path"] == "thresholds.超支预警线" for p in body["problems"])


def test_check_of_an_override_maps_problems_to_the_delta(project_type, district_admin):
    ptype = _override(district_admin, project_type)
    client = client_for(district_admin)
    delta = {
        "indicators": [{"name": "每户改造费", "expr": "预算 / 改造户树", "format": "money"}],
        "thresholds": {"超支预警线": "0.08"},
    }
    body = post_json(client, f"/studio/types/{ptype.code}/check/", {"config": delta}).json()
    assert body["indicators"][0] and body["indicators"][0][0]["column"] == 6
    problem = next(p for p in body["problems"] if p["path"].endswith(".expr"))
    assert problem["path"] == "indicators[4].expr" and problem["edit_path"] == "indicators[0].expr"
    rows = {row["key"]: row for row in body["effective"]}
    assert rows["thresholds"]["origin"] == "修改" and rows["thresholds"]["changed"]
    assert rows["stages"]["origin"] == "继承"
    marks = {item["text"].split(" ")[0]: item["mark"] for item in rows["indicators"]["items"]}
    assert marks["每户改造费"] == "新增" and marks["预算执行率"] == "继承"
    assert [i["mark"] for i in rows["thresholds"]["items"]] == ["修改"]


def test_publish_preview_lists_changes_and_affected_projects(world, project_type, config_admin, valid_data):
    from projects import services

    services.project_create_from_type(
        actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, data=valid_data
    )
    client = client_for(config_admin)
    config = copy.deepcopy(TYPE_CONFIG)
    config["stages"].insert(2, {"code": "中期检查"})
    config["indicators"].append({"name": "户均支出", "expr": "已支出 / 改造户数", "format": "money"})
    body = post_json(client, "/studio/types/laojiu/publish-preview/", {"config": config}).json()
    assert body["ok"] and body["published"] == 1
    assert "+ 阶段 中期检查" in body["changes"]
    assert any(line.startswith("+ 指标 户均支出") for line in body["changes"])
    assert body["counts"]["projects"] == 1
    assert any("现有项目 1 个" in line for line in body["affected"])


def test_publish_needs_confirmation_then_publishes(project_type, district_admin):
    from audit.models import AuditEvent

    ptype = _override(district_admin, project_type)
    client = client_for(district_admin)
    delta = {"thresholds": {"超支预警线": "0.08"}}
    refused = post_json(client, f"/studio/types/{ptype.code}/publish/", {"config": delta})
    assert refused.status_code == 400 and refused.json()["fields"]["confirm"]
    assert ptype.published() is None
    response = post_json(client, f"/studio/types/{ptype.code}/publish/", {"config": delta, "confirm": True})
    assert response.status_code == 200, response.content
    published = ptype.published()
    assert published.number == 1 and published.effective["thresholds"]["超支预警线"] == "0.08"
    assert published.origin["thresholds"] == "修改"
    assert AuditEvent.objects.filter(action="project_type.publish").exists()


def test_publish_failure_keeps_the_draft_and_names_the_fields(project_type, config_admin):
    client = client_for(config_admin)
    config = copy.deepcopy(TYPE_CONFIG)
    config["indicators"][1]["expr"] = "已支出 >"
    config["stages"] = [{"code": "立项"}]
    response = post_json(client, "/studio/types/laojiu/publish/", {"config": config, "confirm": True})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "config_invalid"
    assert "indicators[1].expr" in body["fields"] and "stages" in body["fields"]
    project_type.refresh_from_db()
    assert project_type.published().number == 1
    assert project_type.draft().config["indicators"][1]["expr"] == "已支出 >"


def test_read_only_user_may_look_but_not_write(world, project_type):
    client = client_for(world.users["clerk_a"])
    page = client.get("/studio/types/laojiu/")
    assert page.status_code == 200 and 'data-can-edit="false"' in page.content.decode()
    assert post_json(client, "/studio/types/laojiu/check/", {"config": TYPE_CONFIG}).status_code == 200
    for url, body in (
        ("save/", {"config": TYPE_CONFIG}),
        ("publish/", {"config": TYPE_CONFIG, "confirm": True}),
        ("versions/1/draft/", {}),
    ):
        response = post_json(client, f"/studio/types/laojiu/{url}", body)
        assert response.status_code == 403, url
        assert response.json()["code"] == "permission_denied"
    override = client.post(
        "/studio/types/laojiu/override/", {"code": "laojiu-x"}, HTTP_ACCEPT="application/json"
    )
    assert override.status_code == 403
    assert project_type.draft() is None


def test_unknown_type_and_bad_body_are_4xx(project_type, config_admin):
    client = client_for(config_admin)
    assert post_json(client, "/studio/types/nosuch/check/", {"config": {}}).status_code == 404
    assert post_json(client, "/studio/types/laojiu/check/", "not json").status_code == 400
    assert post_json(client, "/studio/types/laojiu/check/", {"config": []}).status_code == 400
    assert client.get("/studio/types/laojiu/versions/9/").status_code == 404


def test_version_view_and_draft_from_it(project_type, config_admin):
    from projects import services

    config = copy.deepcopy(TYPE_CONFIG)
    config["thresholds"] = {"超支预警线": "0.10"}
    services.project_type_draft_save(actor=config_admin, ptype=project_type, config=config)
    services.project_type_publish(actor=config_admin, ptype=project_type)
    client = client_for(config_admin)
    page = client.get("/studio/types/laojiu/versions/1/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "版本 v1" in html and "超支预警线：0.05" in html and "以此版本新建草稿" in html
    response = post_json(client, "/studio/types/laojiu/versions/1/draft/", {})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 3
    project_type.refresh_from_db()
    assert project_type.draft().config["thresholds"] == {"超支预警线": "0.05"}
    # a plain form post goes back to the designer
    form = client.post("/studio/types/laojiu/versions/2/draft/")
    assert form.status_code == 302 and form["Location"] == "/studio/types/laojiu/"
    assert project_type.draft().config["thresholds"] == {"超支预警线": "0.10"}
    designer = client.get("/studio/types/laojiu/")
    assert designer.context["data"]["config"]["thresholds"] == {"超支预警线": "0.10"}


def test_an_upper_type_is_read_only_with_an_offer_to_override(project_type, district_admin):
    page = client_for(district_admin).get("/studio/types/laojiu/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-can-edit="false"' in html and 'id="td-override-here"' in html
    assert page.context["override_at"]["code"] == "laojiu-330106"
