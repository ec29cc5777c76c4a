"""The forms API: list, fetch a version, validate without saving, submit — errors by field path in Chinese."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db


def _body(data: dict) -> dict:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def test_staff_of_a_district_see_city_forms(world, api, published_form):
    client = api.as_user(world.users["clerk_a"])
    codes = [f["code"] for f in client.get("/api/v1/forms/").json()["results"]]
    assert codes == ["laojiu-lixiang"]
    detail = client.get("/api/v1/forms/laojiu-lixiang/").json()
    assert detail["version"]["number"] == 1
    assert "项目总投资" in detail["version"]["schema"]["properties"]
    assert client.get("/api/v1/forms/laojiu-lixiang/versions/1/").json()["content_hash"]


def test_validate_without_saving(world, api, published_form, valid_data):
    client = api.as_user(world.users["clerk_a"])
    bad = dict(_body(valid_data), 联系电话="1380013800")
    response = client.post("/api/v1/forms/laojiu-lixiang/validate/", {"data": bad}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert body["errors"][0]["path"] == "联系电话"
    assert body["errors"][0]["message"].startswith("联系电话：")
    assert client.post(
        "/api/v1/forms/laojiu-lixiang/validate/", {"data": _body(valid_data)}, format="json"
    ).json() == {"valid": True, "errors": []}


def test_submit_and_errors_through_the_api(world, api, published_form, valid_data):
    client = api.as_user(world.users["clerk_a"])
    response = client.post(
        "/api/v1/forms/laojiu-lixiang/submissions/", {"data": _body(valid_data)}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["form_version"] == 1
    assert response.json()["data"]["项目总投资"] == "12800000.00"
    bad = dict(_body(valid_data), 项目名称="")
    response = client.post("/api/v1/forms/laojiu-lixiang/submissions/", {"data": bad}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed" and "项目名称" in body["fields"]


def test_money_as_json_float_is_read_exactly(world, api, published_form, valid_data):
    client = api.as_user(world.users["clerk_a"])
    raw = (
        '{"data": {"项目名称": "精确", "建设单位信用代码": "913301005000000002", "小区名称": "甲", "改造户数": 10,'
        ' "项目总投资": 0.3, "资金来源": [{"来源": "中央补助", "金额": 0.1}, {"来源": "市县配套", "金额": 0.2}],'
        ' "联系人": "甲", "联系电话": "13800138000"}}'
    )
    response = client.generic(
        "POST", "/api/v1/forms/laojiu-lixiang/submissions/", raw.encode(), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["data"]["项目总投资"] == "0.3"


def test_other_district_submission_is_invisible(world, api, published_form, valid_data):
    created = (
        api.as_user(world.users["clerk_a"])
        .post("/api/v1/forms/laojiu-lixiang/submissions/", {"data": _body(valid_data)}, format="json")
        .json()
    )
    other = type(api)()
    other = other.as_user(world.users["clerk_b"])
    assert other.get(f"/api/v1/submissions/{created['id']}/").status_code == 404
    assert other.get("/api/v1/submissions/").json()["count"] == 0


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
_field_names = st.sampled_from(
    ["项目名称", "改造户数", "项目总投资", "资金来源", "计划工期", "改造类别", "是否加装电梯", "x"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(_field_names, _json, max_size=6))
def test_no_form_payload_yields_a_500(world, api, published_form, payload):
    client = api.as_user(world.users["clerk_a"])
    for url in ("/api/v1/forms/laojiu-lixiang/validate/", "/api/v1/forms/laojiu-lixiang/submissions/"):
        response = client.post(url, {"data": payload}, format="json")
        assert response.status_code < 500, (payload, response.content)


@pytest.mark.parametrize(
    "data",
    [
        [1, 2],
        "x",
        5,
        {"资金来源": [[[]]]},
        {"项目总投资": "1e999999"},
        {"项目总投资": "NaN"},
        {"a" * 10000: 1},
        {"资金来源": [{"金额": "x"}] * 2000},
    ],
)
def test_hostile_payloads_get_4xx_or_errors(world, api, published_form, data):
    client = api.as_user(world.users["clerk_a"])
    validated = client.post("/api/v1/forms/laojiu-lixiang/validate/", {"data": data}, format="json")
    assert validated.status_code in (200, 400)
    if validated.status_code == 200:
        assert validated.json()["valid"] is False
    submitted = client.post("/api/v1/forms/laojiu-lixiang/submissions/", {"data": data}, format="json")
    assert submitted.status_code == 400
    assert set(submitted.json()) == {"code", "message", "fields"}
