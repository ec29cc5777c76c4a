"""A user of district A can read, list, search or export nothing of district B — through every interface."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from accounts import permissions
from core.errors import NotFound
from projects import selectors

pytestmark = pytest.mark.django_db


def _names(response) -> set[str]:
    return {row["name"] for row in response.json()["results"]}


def test_project_list_shows_only_own_district(world, api):
    response = api.as_user(world.users["clerk_a"]).get("/api/v1/projects/")
    assert response.status_code == 200
    assert _names(response) == {p.name for p in world.projects_a}


def test_project_detail_of_other_district_is_404_not_403(world, api):
    other = world.projects_b[0]
    response = api.as_user(world.users["clerk_a"]).get(f"/api/v1/projects/{other.pk}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "对象不存在或您无权查看。", "fields": {}}


def test_search_cannot_find_other_district(world, api):
    response = api.as_user(world.users["leader_a"]).get("/api/v1/projects/", {"search": "上城区"})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    response = api.get("/api/v1/projects/", {"search": "老旧小区"})
    assert _names(response) == {"西湖区翠苑一区老旧小区改造"}


def test_filter_by_other_org_id_returns_nothing(world, api):
    response = api.as_user(world.users["leader_a"]).get("/api/v1/projects/", {"org": world.bureau_b.pk})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_export_contains_only_own_district(world, api):
    response = api.as_user(world.users["leader_a"]).get("/api/v1/projects/export/")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    rows = list(load_workbook(io.BytesIO(content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert list(rows[0][:2]) == ["项目代码", "项目名称"]
    assert {r[1] for r in rows[1:]} == {p.name for p in world.projects_a}


def test_city_regulator_sees_both_districts(world, api):
    response = api.as_user(world.users["regulator"]).get("/api/v1/projects/")
    assert _names(response) == {p.name for p in world.projects_a + world.projects_b}


def test_update_of_other_district_project_is_404(world, api):
    other = world.projects_b[0]
    response = api.as_user(world.users["clerk_a"]).patch(
        f"/api/v1/projects/{other.pk}/", {"name": "改名"}, format="json"
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.name == "上城区紫阳街道老旧小区整治"


def test_create_in_other_district_is_refused(world, api):
    response = api.as_user(world.users["clerk_a"]).post(
        "/api/v1/projects/", {"org": world.bureau_b.code, "name": "越权项目", "budget": "1.00"}, format="json"
    )
    assert response.status_code == 404


def test_orgs_users_and_audit_are_scoped(world, api):
    client = api.as_user(world.users["sysadmin_a"])
    orgs = {o["code"] for o in client.get("/api/v1/orgs/").json()["results"]}
    assert orgs == {"330106", "330106-zjj"}
    users = {u["username"] for u in client.get("/api/v1/users/").json()["results"]}
    assert "clerk_b" not in users and "clerk_a" in users
    assert client.get("/api/v1/users/clerk_b/").status_code == 404
    auditor = api.as_user(world.users["auditor_a"])
    events = auditor.get("/api/v1/audit-events/", {"page_size": 500}).json()["results"]
    assert events and all(e["org"] in {"330106", "330106-zjj"} for e in events)


def test_selectors_and_permission_api_agree(world):
    clerk = world.users["clerk_a"]
    visible = set(selectors.project_list(user=clerk).values_list("pk", flat=True))
    assert visible == {p.pk for p in world.projects_a}
    assert not permissions.can(clerk, "project.view", world.projects_b[0])
    assert permissions.can(clerk, "project.view", world.projects_a[0])
    with pytest.raises(NotFound):
        selectors.project_get(user=clerk, pk=world.projects_b[0].pk)


def test_ledger_page_shows_only_own_district(world, client):
    client.force_login(world.users["leader_a"])
    page = client.get("/projects/", {"q": "老旧小区"}).content.decode()
    assert "西湖区翠苑一区老旧小区改造" in page
    assert "上城区紫阳街道老旧小区整治" not in page


def test_user_without_grants_sees_nothing(world, api):
    client = api.as_user(world.users["nobody"])
    assert client.get("/api/v1/projects/").json()["count"] == 0
    assert client.get("/api/v1/orgs/").json()["count"] == 0
    assert client.get("/api/v1/projects/export/").status_code == 403
