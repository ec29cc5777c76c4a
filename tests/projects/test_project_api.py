"""The whole project lifecycle through the API: create from a type, spend, report, move to 结项."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db


def _json(data):
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def test_lifecycle_through_the_api(world, api, project_type, valid_data):
    client = api.as_user(world.users["clerk_a"])
    types = client.get("/api/v1/project-types/").json()["results"]
    assert [t["code"] for t in types] == ["laojiu"]
    assert types[0]["version"]["effective"]["stages"][0]["code"] == "立项"

    created = client.post(
        "/api/v1/project-types/laojiu/projects/", {"data": _json(valid_data)}, format="json"
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert created.json()["budget"] == "12800000.00"

    line = client.post(
        f"/api/v1/projects/{pid}/budget-lines/",
        {"year": 2026, "fund_source": "中央财政", "amount": "8000000.00"},
        format="json",
    )
    assert line.status_code == 201, line.content
    spent = client.post(
        f"/api/v1/projects/{pid}/expenditures/",
        {
            "voucher_no": "PZ-1",
            "paid_on": "2026-04-01",
            "payee": "杭州某建设集团",
            "amount": "1280000.00",
            "budget_line": line.json()["item"]["id"],
        },
        format="json",
    )
    assert spent.status_code == 201, spent.content
    assert spent.json()["project"]["spent_total"] == "1280000.00"
    assert client.get(f"/api/v1/projects/{pid}/expenditures/").json()[0]["amount"] == "1280000.00"

    contract = client.post(
        f"/api/v1/projects/{pid}/contracts/",
        {
            "code": "HT-1",
            "name": "施工总承包",
            "kind": "施工",
            "counterparty": "杭州某建设集团",
            "amount": "11800000.00",
            "signed_on": "2026-03-15",
        },
        format="json",
    )
    assert contract.status_code == 201, contract.content
    assert (
        client.post(
            f"/api/v1/projects/{pid}/milestones/",
            {"name": "主体完工", "planned_date": "2026-09-30"},
            format="json",
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/projects/{pid}/tasks/",
            {"code": "1", "name": "基础类改造", "percent": "40%"},
            format="json",
        ).status_code
        == 201
    )
    daily = client.post(
        f"/api/v1/projects/{pid}/forms/",
        {"role": "每日简报", "data": {"今日进展": "管网开挖", "现场人数": 30}},
        format="json",
    )
    assert daily.status_code == 201, daily.content

    indicators = client.get(f"/api/v1/projects/{pid}/indicators/").json()
    assert {"name": "预算执行率", "shown": "10.00%"}.items() <= next(
        i for i in indicators["indicators"] if i["name"] == "预算执行率"
    ).items()

    for stage in ("执行", "验收"):
        assert (
            client.post(f"/api/v1/projects/{pid}/stage/", {"to_stage": stage}, format="json").status_code
            == 200
        )
    blocked = client.post(f"/api/v1/projects/{pid}/stage/", {"to_stage": "结项"}, format="json")
    assert blocked.status_code == 409 and blocked.json()["code"] == "stage_forms_missing"
    assert (
        client.post(
            f"/api/v1/projects/{pid}/forms/",
            {"role": "验收申请", "data": {"验收日期": "2026-12-20", "验收结论": "合格"}},
            format="json",
        ).status_code
        == 201
    )
    done = client.post(f"/api/v1/projects/{pid}/stage/", {"to_stage": "结项"}, format="json")
    assert done.status_code == 200 and done.json()["stage"] == "结项"


def test_errors_are_4xx_bodies(world, api, project_type, valid_data):
    client = api.as_user(world.users["clerk_a"])
    bad = client.post("/api/v1/project-types/laojiu/projects/", {"data": {"项目名称": ""}}, format="json")
    assert bad.status_code == 400 and "项目总投资" in bad.json()["fields"]
    pid = client.post(
        "/api/v1/project-types/laojiu/projects/", {"data": _json(valid_data)}, format="json"
    ).json()["id"]
    wrong = client.post(
        f"/api/v1/projects/{pid}/expenditures/",
        {"voucher_no": "A", "paid_on": "2026-13-01", "payee": "x", "amount": "-5"},
        format="json",
    )
    assert wrong.status_code == 400
    assert set(wrong.json()["fields"]) >= {"paid_on", "amount"}
    other = api.__class__().as_user(world.users["clerk_b"])
    assert (
        other.post(
            f"/api/v1/projects/{pid}/expenditures/",
            {"voucher_no": "B", "paid_on": "2026-04-01", "payee": "x", "amount": "1"},
            format="json",
        ).status_code
        == 404
    )


def test_config_admin_manages_types_through_the_api(world, api, config_admin, published_form):
    from .conftest import DAILY, TYPE_CONFIG  # noqa: F401

    client = api.as_user(config_admin)
    config = {
        **TYPE_CONFIG,
        "forms": {"立项申请": "laojiu-lixiang"},
        "stages": [{"code": "立项"}, {"code": "执行"}, {"code": "验收"}, {"code": "结项"}],
    }
    created = client.post(
        "/api/v1/project-types/", {"org": "330100", "code": "t1", "config": config}, format="json"
    )
    assert created.status_code == 201, created.content
    published = client.post("/api/v1/project-types/t1/publish/")
    assert published.status_code == 200, published.content
    assert published.json()["effective"]["name"] == "老旧小区改造"
    clerk = api.__class__().as_user(world.users["clerk_a"])
    assert clerk.post(
        "/api/v1/project-types/", {"org": "330106-zjj", "code": "t2", "config": config}, format="json"
    ).status_code in (403, 404)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    endpoint=st.sampled_from(
        ["budget-lines", "expenditures", "contracts", "milestones", "tasks", "stage", "forms"]
    ),
    payload=st.dictionaries(
        st.sampled_from(
            [
                "year",
                "fund_source",
                "amount",
                "voucher_no",
                "paid_on",
                "payee",
                "code",
                "name",
                "kind",
                "counterparty",
                "signed_on",
                "planned_date",
                "weight",
                "percent",
                "parent_code",
                "to_stage",
                "role",
                "data",
                "budget_line",
                "contract",
            ]
        ),
        st.none()
        | st.booleans()
        | st.integers(-5, 10**20)
        | st.text(max_size=12)
        | st.lists(st.integers(), max_size=2)
        | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        max_size=8,
    ),
)
def test_no_work_payload_yields_a_500(world, api, project_type, valid_data, endpoint, payload):
    """Fixtures are built once for all examples, so the project is created once and then hammered."""
    from projects.models import Project
    from projects.services import project_create_from_type

    project = Project.objects.filter(name=valid_data["项目名称"]).first() or project_create_from_type(
        actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, data=valid_data
    )
    client = api.as_user(world.users["clerk_a"])
    response = client.post(f"/api/v1/projects/{project.pk}/{endpoint}/", payload, format="json")
    assert response.status_code < 500, (endpoint, payload, response.content)
