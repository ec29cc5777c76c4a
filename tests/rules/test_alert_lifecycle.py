"""The alert's closed loop (闭环) through the services: acknowledge → 整改 → verified closed or sent back, who may
do each step, stale writes, escalation of unacknowledged alerts and notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import Conflict, PermissionDenied, ValidationFailed
from rules.models import AlertStatus, Notification
from rules.services import alerts as svc

from .rule_fixtures import laojiu_project, make_pack, pay

pytestmark = pytest.mark.django_db

RULE = {
    "code": "CZ-01",
    "condition": "已支出 > 预算",
    "severity": "严重",
    "message": "{项目名称}已超预算",
    "notify": ["staff", "regulator"],
}


@pytest.fixture
def alert(world, project_type, valid_data):
    make_pack(world.city, [RULE])
    project = laojiu_project(world, project_type, valid_data, budget="100000.00")
    pay(world, project, "120000.00", "V1")
    return project.alerts.get()


def _evidence(name: str = "整改报告.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def _rectify(world, alert, **changes):
    fields = {
        "cause": "合同变更未及时调整预算",
        "action": "追加预算并暂停非必要支出",
        "deadline": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "evidence": _evidence(),
    }
    fields.update(changes)
    return svc.alert_rectify(actor=world.users["clerk_a"], alert=alert, **fields)


def test_the_closed_loop_from_open_to_verified_closed(world, alert):
    clerk, regulator = world.users["clerk_a"], world.users["regulator"]
    alert = svc.alert_acknowledge(actor=clerk, alert=alert, note="已知悉，正在核查")
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == clerk
    alert = _rectify(world, alert)
    assert alert.status == AlertStatus.RECTIFYING and alert.evidence.name.endswith(".pdf")
    assert Notification.objects.filter(user=regulator, text__startswith="【整改待核销】").exists()
    alert = svc.alert_close(actor=regulator, alert=alert, note="整改材料已核实")
    assert alert.status == AlertStatus.CLOSED and alert.closed_by == regulator
    kinds = list(alert.events.values_list("kind", flat=True))
    assert kinds == ["fired", "acknowledged", "rectified", "closed"]
    actions = set(AuditEvent.objects.filter(object_id=str(alert.pk)).values_list("action", flat=True))
    assert {"alert.fire", "alert.acknowledge", "alert.rectify", "alert.close"} <= actions


def test_the_owner_can_send_a_rectification_back_with_a_reason(world, alert):
    regulator = world.users["regulator"]
    alert = _rectify(world, alert)
    with pytest.raises(ValidationFailed) as err:
        svc.alert_reject(actor=regulator, alert=alert, note="  ")
    assert "note" in err.value.fields
    alert = svc.alert_reject(actor=regulator, alert=alert, note="佐证材料缺少付款凭证")
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert Notification.objects.filter(
        user=world.users["clerk_a"], text__contains="佐证材料缺少付款凭证"
    ).exists()


def test_only_the_responsible_unit_handles_and_only_the_owner_verifies(world, alert):
    with pytest.raises(PermissionDenied):
        svc.alert_acknowledge(actor=world.users["clerk_b"], alert=alert)  # 上城区: not responsible
    with pytest.raises(PermissionDenied):
        svc.alert_acknowledge(actor=world.users["leader_a"], alert=alert)  # may view, not handle
    alert = _rectify(world, alert)
    with pytest.raises(PermissionDenied):
        svc.alert_close(actor=world.users["clerk_a"], alert=alert)  # the unit cannot close its own alert


def test_steps_out_of_order_and_stale_writes_are_refused(world, alert):
    with pytest.raises(Conflict) as err:
        svc.alert_close(actor=world.users["regulator"], alert=alert)
    assert err.value.code == "invalid_state"
    with pytest.raises(Conflict) as err:
        svc.alert_acknowledge(actor=world.users["clerk_a"], alert=alert, expected_version=alert.version + 1)
    assert err.value.code == "stale_version"
    svc.alert_acknowledge(actor=world.users["clerk_a"], alert=alert)
    with pytest.raises(Conflict):
        svc.alert_acknowledge(actor=world.users["clerk_a"], alert=alert)  # twice: the second is refused


def test_a_rectification_needs_cause_action_a_future_deadline_and_evidence(world, alert):
    with pytest.raises(ValidationFailed) as err:
        _rectify(world, alert, cause="", action=" ", deadline="2020-01-01", evidence=None)
    assert set(err.value.fields) == {"cause", "action", "deadline", "evidence"}
    assert "原因分析" in err.value.fields["cause"][0]
    with pytest.raises(ValidationFailed) as err:
        _rectify(world, alert, evidence=_evidence("run.exe"))
    assert "evidence" in err.value.fields
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_unacknowledged_alerts_escalate_one_level_at_a_time(world, alert):
    assert svc.alerts_escalate() == []  # not yet due
    later = timezone.now() + timedelta(days=4)
    (escalated,) = svc.alerts_escalate(now=later)
    assert escalated.org == world.district_a and escalated.escalation_level == 1
    assert svc.alerts_escalate(now=later) == []  # idempotent: the clock restarted
    (again,) = svc.alerts_escalate(now=later + timedelta(days=4))
    assert again.org == world.city and again.escalation_level == 2
    assert again.events.filter(kind="escalated").count() == 2
    assert Notification.objects.filter(
        user=world.users["regulator"], text__startswith="【预警升级】"
    ).exists()


def test_acknowledged_alerts_do_not_escalate(world, alert):
    svc.alert_acknowledge(actor=world.users["clerk_a"], alert=alert)
    assert svc.alerts_escalate(now=timezone.now() + timedelta(days=30)) == []


def test_notifications_are_marked_read(world, alert):
    clerk = world.users["clerk_a"]
    assert Notification.objects.filter(user=clerk, read_at__isnull=True).count() == 1
    assert svc.notifications_read(actor=clerk) == 1
    assert not Notification.objects.filter(user=clerk, read_at__isnull=True).exists()
