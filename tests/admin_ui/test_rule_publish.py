"""Publishing a rule from the rule editor as a pack's next version: other rules and tests kept, a rule with the
same code replaced, a new pack, a rule that does not type-check refused with its problems (nothing written), and
``rulepack.manage`` required."""

from __future__ import annotations

import json

import pytest

from tests.rules.rule_fixtures import pack_text

pytestmark = pytest.mark.django_db

PUBLISH = "/studio/rules/publish/"


@pytest.fixture
def zijin(world, project_type):
    """``t-zijin`` v1 in force at the city: rule R1 (超支率 > 5%) with one embedded test."""
    from rules.services.packs import pack_load

    return pack_load(actor=None, org=world.city, source=pack_text(), filename="zijin.yaml")


def _publish(client, org, **fields):
    body = {
        "org": org.pk,
        "pack": "t-zijin",
        "type": "laojiu",
        "code": "R2",
        "name": "预算过亿",
        "severity": "提示",
        "message": "{项目名称}预算超过一亿元",
        "source": "预算 > 1亿",
        "triggers": ["保存"],
    } | fields
    return client.post(PUBLISH, data=json.dumps(body, ensure_ascii=False), content_type="application/json")


def test_publishing_into_an_existing_pack_keeps_its_rules_and_tests(world, zijin, client):
    from rules.models import PackStatus, RulePack

    client.force_login(world.users["regulator"])
    preview = _publish(client, world.city)
    body = preview.json()
    assert preview.status_code == 200, body
    assert body["pack"] == {"code": "t-zijin", "version": "2", "previous": "1"}
    assert any("R2" in change and change.startswith("+") for change in body["changes"])
    assert body["tests"]["passed"] >= 1 and body["tests"]["failed"] == 0
    assert {r["code"] for r in body["impact"]} == {"R1", "R2"}
    assert RulePack.objects.count() == 1  # a preview writes nothing

    response = _publish(client, world.city, confirm=True, base="1")
    assert response.status_code == 200, response.json()
    assert response.json()["published"] is True
    new = RulePack.objects.get(code="t-zijin", status=PackStatus.ACTIVE)
    assert new.version == "2" and new.supersedes_id == zijin.pk
    assert [r.code for r in new.rules.order_by("position")] == ["R1", "R2"]
    r2 = new.rules.get(code="R2")
    assert (r2.condition, r2.severity, r2.types, r2.on_save, r2.on_schedule) == (
        "预算 > 1亿",
        "提示",
        ["laojiu"],
        True,
        False,
    )
    assert new.tests_passed == 1 and "超支6%" in new.source  # the embedded test travelled along
    zijin.refresh_from_db()
    assert zijin.status == PackStatus.SUPERSEDED

    # the same code again replaces the rule in v3, R1 and the test still there
    response = _publish(client, world.city, confirm=True, source="预算 > 2亿")
    assert response.status_code == 200, response.json()
    v3 = RulePack.objects.get(code="t-zijin", status=PackStatus.ACTIVE)
    assert v3.version == "3"
    assert [r.code for r in v3.rules.order_by("position")] == ["R1", "R2"]
    assert v3.rules.get(code="R2").condition == "预算 > 2亿"

    # replacing R1 keeps what the panel does not edit (its notify roles and its article)
    response = _publish(client, world.city, confirm=True, code="R1", name="超支预警", source="超支率 > 5.5%")
    assert response.status_code == 200, response.json()
    r1 = RulePack.objects.get(code="t-zijin", status=PackStatus.ACTIVE).rules.get(code="R1")
    assert r1.condition == "超支率 > 5.5%" and r1.notify == ["staff", "regulator"] and r1.article is not None


def test_a_stale_preview_is_refused(world, zijin, client):
    client.force_login(world.users["regulator"])
    response = _publish(client, world.city, confirm=True, base="0")
    assert response.status_code == 409 and response.json()["code"] == "stale_preview"


def test_publishing_a_new_pack(world, project_type, client):
    from audit.models import AuditEvent
    from rules.models import RulePack

    client.force_login(world.users["regulator"])
    response = _publish(client, world.city, pack="hz-new", pack_name="新规则包", confirm=True)
    assert response.status_code == 200, response.json()
    pack = RulePack.objects.get(code="hz-new")
    assert (pack.version, pack.name, pack.issuer) == ("1", "新规则包", world.city.name)
    assert [r.code for r in pack.rules.all()] == ["R2"]
    assert AuditEvent.objects.filter(action="rulepack.load", actor=world.users["regulator"]).exists()


def test_a_rule_that_does_not_check_is_refused_with_its_problems(world, zijin, client):
    from rules.models import RulePack

    client.force_login(world.users["regulator"])
    for source in ("超支律 > 5%", '预算 > "很多"'):
        response = _publish(client, world.city, source=source, confirm=True)
        body = response.json()
        assert response.status_code == 400, body
        assert body["problems"] and any("rules[1].when" in p["path"] for p in body["problems"])
        assert body["fields"]
    assert "超支率" in json.dumps(
        _publish(client, world.city, source="超支律 > 5%").json(), ensure_ascii=False
    )
    assert list(RulePack.objects.values_list("version", flat=True)) == ["1"]


def test_publishing_needs_rulepack_manage(world, zijin, config_admin, client):
    from rules.models import RulePack

    client.force_login(config_admin)  # configures types, does not load packs
    assert _publish(client, world.city, confirm=True).status_code == 403
    html = client.get("/studio/rules/").content.decode()
    assert 'id="publish-denied"' in html
    client.force_login(world.users["clerk_a"])
    assert _publish(client, world.city, confirm=True).status_code == 403
    client.force_login(world.users["regulator"])  # at the city: not at the province above it
    assert _publish(client, world.province, confirm=True).status_code == 403
    client.logout()
    assert _publish(client, world.city, confirm=True).status_code == 403
    assert RulePack.objects.count() == 1

    client.force_login(world.users["regulator"])
    html = client.get("/studio/rules/").content.decode()
    assert 'id="publish-panel"' in html and "t-zijin v1" in html
