"""The rules API: alerts (filters, scope, explanation) and their closed loop, notifications, rule packs (test,
preview, load with file:line errors) and the policy library; errors are 4xx ``{code, message, fields}``."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from rules.models import AlertStatus, Notification, RulePack

from .rule_fixtures import BLOCK_PAYMENTS, OVERSPEND, laojiu_project, make_pack, pack_text, pay

pytestmark = pytest.mark.django_db

OVER, BLOCK = OVERSPEND, BLOCK_PAYMENTS


@pytest.fixture
def project(world, project_type, valid_data):
    make_pack(world.city, [OVER, BLOCK])
    project = laojiu_project(world, project_type, valid_data, budget="1000000.00")
    pay(world, project, "1080000.00", "V1")
    return project


@pytest.fixture
def alert(project):
    return project.alerts.get()


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"} and body["code"] == code, body
    return body


def test_list_and_retrieve_with_the_explanation(world, api, alert):
    client = api.as_user(world.users["clerk_a"])
    body = client.get("/api/v1/alerts/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == alert.pk and row["status"] == "open" and row["severity"] == "预警"
    assert row["message"] == "西湖区翠苑一区老旧小区改造工程超支8.00%" and row["org"] == "330106-zjj"
    assert row["url"] == f"/alerts/{alert.pk}/"
    detail = client.get(f"/api/v1/alerts/{alert.pk}/").json()
    assert detail["trace"]["text"] == "超支率 > 5%" and detail["trace"]["value"] is True
    assert detail["values"]["超支率"] == "0.08"  # decimals as strings
    assert detail["versions"]["rule_pack"] == "test-pack v1"
    assert [e["kind"] for e in detail["events"]] == ["fired"]
    assert detail["actions"] == ["acknowledge", "rectify"]
    assert detail["condition"] == "超支率 > 5%" and detail["evidence"] is None


def test_filters_and_scope(world, api, project, alert):
    client = api.as_user(world.users["clerk_a"])
    assert client.get("/api/v1/alerts/", {"status": "open", "severity": "预警"}).json()["count"] == 1
    assert client.get("/api/v1/alerts/", {"severity": "严重"}).json()["count"] == 0
    assert client.get("/api/v1/alerts/", {"project": project.pk}).json()["count"] == 1
    assert client.get("/api/v1/alerts/", {"org": "330106"}).json()["count"] == 1
    assert client.get("/api/v1/alerts/", {"org": "330102"}).json()["count"] == 0
    assert client.get("/api/v1/alerts/", {"tab": "todo"}).json()["count"] == 1
    assert client.get("/api/v1/alerts/", {"search": "翠苑"}).json()["count"] == 1
    body = _error(
        client.get("/api/v1/alerts/", {"status": "bogus", "project": "x"}), 400, "validation_failed"
    )
    assert set(body["fields"]) == {"status", "project"}

    other = api.as_user(world.users["clerk_b"])
    assert other.get("/api/v1/alerts/").json()["count"] == 0
    _error(other.get(f"/api/v1/alerts/{alert.pk}/"), 404, "not_found")
    _error(other.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {}, format="json"), 404, "not_found")
    _error(api.as_user(world.users["clerk_a"]).get("/api/v1/alerts/abc/"), 404, "not_found")


def test_the_closed_loop_through_the_api(world, api, alert):
    clerk = api.as_user(world.users["clerk_a"])
    body = clerk.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/",
        {"note": "已知悉", "expected_version": alert.version},
        format="json",
    ).json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == "clerk_a"
    _error(clerk.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {}, format="json"), 409, "invalid_state")
    _error(
        clerk.post(f"/api/v1/alerts/{alert.pk}/close/", {"expected_version": 1}, format="json"),
        409,
        "stale_version",
    )
    bad = _error(
        clerk.post(f"/api/v1/alerts/{alert.pk}/rectify/", {"cause": "", "action": "", "deadline": "x"}),
        400,
        "validation_failed",
    )
    assert set(bad["fields"]) == {"cause", "action", "deadline", "evidence"}
    evidence = SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    body = clerk.post(
        f"/api/v1/alerts/{alert.pk}/rectify/",
        {
            "cause": "合同变更",
            "action": "追加预算",
            "deadline": (timezone.localdate() + timedelta(days=7)).isoformat(),
            "evidence": evidence,
        },
        format="multipart",
    ).json()
    assert body["status"] == "rectifying" and body["evidence"] == f"/alerts/{alert.pk}/evidence/"
    _error(clerk.post(f"/api/v1/alerts/{alert.pk}/close/", {}, format="json"), 403, "permission_denied")

    regulator = api.as_user(world.users["regulator"])
    assert regulator.get(f"/api/v1/alerts/{alert.pk}/").json()["actions"] == ["close", "reject"]
    bad = _error(
        regulator.post(f"/api/v1/alerts/{alert.pk}/reject/", {"note": ""}, format="json"),
        400,
        "validation_failed",
    )
    assert "note" in bad["fields"]
    body = regulator.post(f"/api/v1/alerts/{alert.pk}/reject/", {"note": "缺付款凭证"}, format="json").json()
    assert body["status"] == "acknowledged"
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED


def test_a_blocking_rule_answers_409_rule_blocked(world, api, project):
    body = _error(
        api.as_user(world.users["clerk_a"]).post(
            f"/api/v1/projects/{project.pk}/expenditures/",
            {"voucher_no": "PZ-2", "paid_on": "2026-05-02", "payee": "某建设集团", "amount": "50000.00"},
            format="json",
        ),
        409,
        "rule_blocked",
    )
    assert "超支13.00%，暂停登记新的支出" in body["message"]
    assert body["fields"]["rules"] == ["测试规则包test-pack CZ-02 严重超支禁止支出"]


def test_notifications_are_ones_own_and_can_be_marked_read(world, api, alert):
    clerk = api.as_user(world.users["clerk_a"])
    body = clerk.get("/api/v1/notifications/", {"unread": "true"}).json()
    assert (
        body["count"] == 1 and body["results"][0]["alert"] == alert.pk and body["results"][0]["read"] is False
    )
    other = Notification.objects.filter(user=world.users["regulator"]).get()
    assert clerk.post("/api/v1/notifications/read/", {"ids": [other.pk]}, format="json").json() == {
        "marked": 0
    }
    assert clerk.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 1}
    assert clerk.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 0
    _error(clerk.get("/api/v1/notifications/", {"unread": "maybe"}), 400, "validation_failed")


# Rule packs and the policy library -----------------------------------------------------------------------------


def _file(data: bytes, name: str = "zijin.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/x-yaml")


def test_pack_test_preview_and_load(world, api, project_type, valid_data):
    overspent = laojiu_project(world, project_type, valid_data, budget="1000000.00")
    pay(world, overspent, "1080000.00", "V1")
    regulator = api.as_user(world.users["regulator"])

    report = regulator.post(
        "/api/v1/rule-packs/test/", {"file": _file(pack_text())}, format="multipart"
    ).json()
    assert report["ok"] is True and report["passed"] == 1 and report["code"] == "t-zijin"
    failing = regulator.post(
        "/api/v1/rule-packs/test/", {"source": pack_text(expect="false").decode()}, format="json"
    ).json()
    assert failing["ok"] is False and failing["problems"][0]["line"] > 0

    preview = regulator.post(
        "/api/v1/rule-packs/preview/", {"file": _file(pack_text()), "org": "330100"}, format="multipart"
    ).json()
    (rule,) = preview["rules"]
    assert rule["code"] == "R1" and [p["id"] for p in rule["newly"]] == [overspent.pk]
    assert not RulePack.objects.exists()

    bad = _error(
        regulator.post(
            "/api/v1/rule-packs/load/",
            {"file": _file(pack_text(when="超支率 > 5% 且 无此字段 > 1"), "bad.yaml"), "org": "330100"},
            format="multipart",
        ),
        400,
        "validation_failed",
    )
    assert any(key.startswith("bad.yaml:") for key in bad["fields"])

    loaded = regulator.post(
        "/api/v1/rule-packs/load/", {"file": _file(pack_text()), "org": "330100"}, format="multipart"
    )
    assert loaded.status_code == 201, loaded.content
    body = loaded.json()
    assert body["code"] == "t-zijin" and body["status"] == "active" and len(body["checksum"]) == 64
    assert body["rules"][0]["code"] == "R1" and isinstance(body["rules"][0]["in_database"], bool)
    assert body["rules"][0]["article"]["url"].startswith("/rules/regulations/")
    _error(
        regulator.post(
            "/api/v1/rule-packs/load/", {"file": _file(pack_text()), "org": "330100"}, format="multipart"
        ),
        409,
        "already_loaded",
    )
    listed = regulator.get("/api/v1/rule-packs/").json()
    assert [p["code"] for p in listed["results"]] == ["t-zijin"]
    assert (
        regulator.get(f"/api/v1/rule-packs/{body['id']}/").json()["rules"][0]["verdict"]
        == body["rules"][0]["verdict"]
    )

    regulations = api.as_user(world.users["clerk_a"]).get("/api/v1/regulations/").json()["results"]
    assert regulations[0]["title"] == "测试用法规（虚构）"
    assert regulations[0]["articles"][0]["anchor"].startswith("article-")


def test_pack_api_is_for_regulators_in_their_scope(world, api):
    clerk = api.as_user(world.users["clerk_a"])
    _error(clerk.get("/api/v1/rule-packs/"), 403, "permission_denied")
    _error(
        clerk.post("/api/v1/rule-packs/test/", {"source": pack_text().decode()}, format="json"),
        403,
        "permission_denied",
    )
    regulator = api.as_user(world.users["regulator"])
    _error(
        regulator.post(
            "/api/v1/rule-packs/load/", {"source": pack_text().decode(), "org": "330000"}, format="json"
        ),
        404,
        "not_found",
    )  # the province is above its grant
    _error(
        regulator.post("/api/v1/rule-packs/load/", {"org": "330100"}, format="json"), 400, "validation_failed"
    )
    big = base64.b64encode(b"x" * (1024 * 1024 + 10))
    _error(
        regulator.post("/api/v1/rule-packs/test/", {"file": _file(big)}, format="multipart"),
        400,
        "validation_failed",
    )


def test_rules_endpoints_are_in_the_openapi_schema(world, api):
    schema = api.as_user(world.users["clerk_a"]).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/alerts/",
        "/api/v1/alerts/{id}/",
        "/api/v1/alerts/{id}/acknowledge/",
        "/api/v1/alerts/{id}/rectify/",
        "/api/v1/alerts/{id}/close/",
        "/api/v1/alerts/{id}/reject/",
        "/api/v1/notifications/",
        "/api/v1/notifications/read/",
        "/api/v1/rule-packs/",
        "/api/v1/rule-packs/{id}/",
        "/api/v1/rule-packs/test/",
        "/api/v1/rule-packs/preview/",
        "/api/v1/rule-packs/load/",
        "/api/v1/regulations/",
    ):
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/v1/alerts/{id}/rectify/"]["post"]["requestBody"]["content"]
