"""Rules evaluated on save: alerts raised with explanation and versions, refreshed, resolved; blocking rules stop the
write and leave nothing behind; a save re-evaluates only the rules that read what it changed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from projects import services
from projects.models import Expenditure, Project
from rules.engine import RuleBlocked
from rules.models import Alert, AlertEvent, AlertStatus, Notification

from .rule_fixtures import BLOCK_PAYMENTS, OVERSPEND, laojiu_project, make_pack, pay

pytestmark = pytest.mark.django_db

OVER5 = {
    **OVERSPEND,
    "message": "{项目名称}超支{超支率:%}，已支出{已支出:万元}",
    "notify": ["staff"],
    "email": True,
}
OVER10 = BLOCK_PAYMENTS


@pytest.fixture
def project(world, project_type, valid_data):
    return laojiu_project(world, project_type, valid_data, budget="1000000.00")


def test_overspending_fires_an_explained_alert_and_notifies(
    world, project, django_capture_on_commit_callbacks, mailoutbox
):
    make_pack(world.city, [OVER5])
    pay(world, project, "1000000.00", "V1")
    assert not Alert.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        pay(world, project, "60000.00", "V2")
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.OPEN and alert.severity == "预警"
    assert alert.message == "西湖区翠苑一区老旧小区改造工程超支6.00%，已支出106.00万元"
    assert alert.values["超支率"] == "0.06" and alert.trace["value"] is True
    assert "超支率" in alert.trace["text"]
    assert alert.versions["project_type"] == "laojiu v1" and alert.versions["rule_pack"] == "test-pack v1"
    assert alert.org == world.bureau_a
    assert AlertEvent.objects.filter(alert=alert, kind="fired").count() == 1
    assert AuditEvent.objects.filter(action="alert.fire", object_id=str(alert.pk)).exists()
    assert Notification.objects.filter(user=world.users["clerk_a"], alert=alert).exists()
    assert len(mailoutbox) == (1 if world.users["clerk_a"].email else 0)


def test_refiring_updates_the_one_open_alert_and_clearing_resolves_it(world, project):
    make_pack(world.city, [OVER5])
    pay(world, project, "1060000.00", "V1")
    pay(world, project, "10000.00", "V2")
    alert = Alert.objects.get()
    assert alert.fire_count == 2 and alert.values["超支率"] == "0.07"
    services.project_update(actor=world.users["clerk_a"], project=project, budget="2000000")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert alert.events.filter(kind="resolved").exists()
    assert AuditEvent.objects.filter(action="alert.resolve", object_id=str(alert.pk)).exists()
    pay(world, Project.objects.get(pk=project.pk), "1100000.00", "V3")
    assert (
        Alert.objects.filter(status=AlertStatus.OPEN).count() == 1
    )  # a new alert: the old one stays resolved
    assert Alert.objects.count() == 2


def test_a_blocking_rule_stops_the_write_and_nothing_is_written(world, project):
    make_pack(world.city, [OVER5, OVER10])
    pay(world, project, "1080000.00", "V1")  # 8%: allowed, raises the 预警
    before = (Expenditure.objects.count(), AuditEvent.objects.count(), Alert.objects.count())
    with pytest.raises(RuleBlocked) as err:
        pay(world, project, "30000.00", "V2")  # would be 11%
    assert err.value.status == 409 and err.value.code == "rule_blocked"
    assert "超支11.00%，暂停登记新的支出" in err.value.message and "严重超支禁止支出" in err.value.message
    assert (Expenditure.objects.count(), AuditEvent.objects.count(), Alert.objects.count()) == before
    assert Project.objects.get(pk=project.pk).spent_total == Decimal("1080000.00")


def test_a_new_blocking_rule_does_not_freeze_unrelated_edits(world, project):
    pay(world, project, "1200000.00", "V1")  # 20% over before any rule exists
    make_pack(world.city, [{**OVER10, "block": ["支出登记", "项目修改"]}])
    clerk = world.users["clerk_a"]
    renamed = services.project_update(actor=clerk, project=project, name="翠苑一区改造（调整）")
    assert renamed.name == "翠苑一区改造（调整）"  # the rule does not read 项目名称
    with pytest.raises(RuleBlocked):
        services.project_update(actor=clerk, project=renamed, budget="1050000")  # still 14% over
    services.project_update(
        actor=clerk, project=renamed, budget="1150000"
    )  # 4%: the write that fixes it passes
    services.budget_line_add(actor=clerk, project=project, year=2026, fund_source="市级财政", amount="100000")


def test_a_save_re_evaluates_only_rules_reading_what_changed(world, project):
    make_pack(
        world.city, [{"code": "JD-01", "condition": "实际进度 < 50%", "message": "进度不足一半"}, OVER5]
    )
    alerts = Alert.objects.filter(rule__code="JD-01", status=AlertStatus.OPEN)
    assert alerts.count() == 0  # created before the pack: nothing evaluated it yet
    services.project_update(actor=world.users["clerk_a"], project=project, name="改名")
    assert alerts.count() == 0  # 项目名称 is not read by JD-01
    services.task_save(
        actor=world.users["clerk_a"], project=project, code="1", name="主体施工", weight="1", percent="0.2"
    )
    assert alerts.count() == 1
    Project.objects.filter(pk=project.pk).update(progress=Decimal("0.9"))  # behind the services' back
    pay(world, Project.objects.get(pk=project.pk), "100.00", "V1")
    assert alerts.count() == 1  # an expenditure does not re-evaluate a progress rule


def test_rules_outside_the_pack_org_or_types_do_not_apply(world, project_type, valid_data):
    make_pack(world.district_b, [OVER5], code="sc-only")
    make_pack(world.city, [{**OVER5, "code": "CZ-09", "types": ["daolu"]}], code="daolu-only")
    project = laojiu_project(world, project_type, valid_data, budget="100000.00")
    pay(world, project, "200000.00", "V1")
    assert not Alert.objects.exists()


def test_no_stage_move_to_acceptance_while_a_severe_alert_is_open(world, project):
    guard = {
        "code": "YS-01",
        "name": "严重预警未闭环不得验收",
        "condition": '阶段 = "验收" and 严重预警数 > 0',
        "raise_alert": False,
        "block": ["阶段变更"],
        "message": "存在{严重预警数}条未闭环的严重预警，不能进入验收",
    }
    make_pack(world.city, [{**OVER5, "severity": "严重"}, guard])
    clerk = world.users["clerk_a"]
    pay(world, project, "1100000.00", "V1")
    project = services.project_stage_move(actor=clerk, project=project, to_stage="执行")
    with pytest.raises(RuleBlocked) as err:
        services.project_stage_move(actor=clerk, project=project, to_stage="验收")
    assert "存在1条未闭环的严重预警，不能进入验收" in err.value.message
    assert Project.objects.get(pk=project.pk).stage == "执行"
    Alert.objects.update(status=AlertStatus.CLOSED)
    assert services.project_stage_move(actor=clerk, project=project, to_stage="验收").stage == "验收"
