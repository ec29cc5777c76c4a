"""Every API error is a 4xx JSON body {code, message, fields}; no input yields a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db


def _shape(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    return body


def test_unauthenticated_is_401(api):
    response = api.get("/api/v1/projects/")
    assert response.status_code == 401
    assert _shape(response)["code"] == "not_authenticated"


def test_bad_token_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert _shape(api.get("/api/v1/me/"))["code"] == "authentication_failed"


def test_malformed_json_is_400(world, api):
    client = api.as_user(world.users["clerk_a"])
    response = client.generic("POST", "/api/v1/projects/", "{oops", content_type="application/json")
    assert response.status_code == 400
    assert _shape(response)["code"] == "parse_error"


def test_unknown_api_path_is_json_404(world, api):
    response = api.as_user(world.users["clerk_a"]).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert _shape(response)["code"] == "not_found"


def test_wrong_method_is_405(world, api):
    response = api.as_user(world.users["clerk_a"]).delete("/api/v1/me/")
    assert response.status_code == 405
    assert _shape(response)["code"] == "method_not_allowed"


def test_validation_errors_name_fields(world, api):
    response = api.as_user(world.users["clerk_a"]).post(
        "/api/v1/projects/", {"org": "330106-zjj", "name": "", "budget": "-5"}, format="json"
    )
    assert response.status_code == 400
    body = _shape(response)
    assert body["fields"]["name"] == ["项目名称：不能为空"]
    assert body["fields"]["budget"][0].startswith("预算：")


def test_money_in_json_is_exact(world, api):
    response = api.as_user(world.users["clerk_a"]).post(
        "/api/v1/projects/", {"org": "330106-zjj", "name": "精确金额", "budget": 0.1}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["budget"] == "0.10"


def test_stale_version_is_409(world, api):
    client = api.as_user(world.users["clerk_a"])
    project = world.projects_a[0]
    assert (
        client.patch(
            f"/api/v1/projects/{project.pk}/", {"name": "甲", "version": 1}, format="json"
        ).status_code
        == 200
    )
    response = client.patch(f"/api/v1/projects/{project.pk}/", {"name": "乙", "version": 1}, format="json")
    assert response.status_code == 409
    assert _shape(response)["code"] == "stale_version"


@pytest.mark.parametrize("query", [{"page": "x"}, {"page": "0"}, {"page_size": "100000"}, {"page": "999"}])
def test_bad_paging_is_4xx(world, api, query):
    response = api.as_user(world.users["clerk_a"]).get("/api/v1/projects/", query)
    assert 400 <= response.status_code < 500
    _shape(response)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.dictionaries(
        st.sampled_from(["org", "name", "budget", "category", "description", "code", "version", "x"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=40),
            st.lists(st.integers(), max_size=3),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ),
    )
)
def test_no_project_payload_yields_a_500(world, api, payload):
    client = api.as_user(world.users["clerk_a"])
    for response in (
        client.post("/api/v1/projects/", payload, format="json"),
        client.patch(f"/api/v1/projects/{world.projects_a[0].pk}/", payload, format="json"),
    ):
        assert response.status_code < 500, (payload, response.content)
        if response.status_code >= 400:
            _shape(response)
