"""Sweeps (PostgreSQL): every project in a pack's jurisdiction checked by the database, alerts raised with their
explanation, refreshed without duplicates, resolved when the condition clears; scoping by org subtree and type;
rules the database cannot run fall back to chunked Python and agree; the Celery tasks in eager mode."""

from __future__ import annotations

import copy
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from projects import services
from projects.models import Project
from rules import sql, sweep, tasks
from rules.context import project_record
from rules.engine import bind
from rules.models import Alert, AlertEvent, AlertStatus, PackStatus, Rule
from rules.spec import spec_of

from .rule_fixtures import make_pack

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)
OVER5 = {
    "code": "CZ-01",
    "name": "超支预警",
    "condition": "超支率 > 超支预警线",
    "severity": "预警",
    "message": "{项目名称}超支{超支率:%}，已支出{已支出:万元}",
}
# `资金来源` is a list inside the 立项 form's JSON: the database compiler cannot read its items, so this rule
# runs in Python; it flags exactly the projects OVER5 flags (every project's 资金来源 sums to its budget).
OVER5_PY = {
    "code": "CZ-01P",
    "name": "超支预警（Python）",
    "condition": "超支率 > 超支预警线 and sum(资金来源.金额) = 预算",
    "message": "{项目名称}超支{超支率:%}",
}


def _create(world, project_type, valid_data, *, org, actor, budget: str, name: str):
    data = copy.deepcopy(valid_data)
    data.update(
        项目名称=name, 项目总投资=Decimal(budget), 资金来源=[{"来源": "中央补助", "金额": Decimal(budget)}]
    )
    return services.project_create_from_type(actor=actor, org=org, ptype=project_type, data=data)


def _pay(actor, project, amount: str, voucher: str):
    services.expenditure_record(
        actor=actor,
        project=project,
        voucher_no=voucher,
        paid_on="2026-05-01",
        payee="杭州某建设有限公司",
        amount=amount,
    )


@pytest.fixture
def ledger(world, project_type, valid_data):
    return build_ledger(world, project_type, valid_data)


def build_ledger(world, project_type, valid_data) -> dict[str, Project]:
    """Four 老旧小区改造 projects, written before any pack exists (so only a sweep can find them):

    西湖 p1 超支10%, 西湖 p2 spent half, 上城 p3 超支20%, 西湖 p4 超支3%.
    """
    clerk_a, clerk_b = world.users["clerk_a"], world.users["clerk_b"]
    rows = {}
    for key, org, clerk, budget, spent in (
        ("p1", world.bureau_a, clerk_a, "1000000.00", "1100000.00"),
        ("p2", world.bureau_a, clerk_a, "1000000.00", "500000.00"),
        ("p3", world.bureau_b, clerk_b, "1000000.00", "1200000.00"),
        ("p4", world.bureau_a, clerk_a, "2000000.00", "2060000.00"),
    ):
        project = _create(
            world, project_type, valid_data, org=org, actor=clerk, budget=budget, name=f"测试项目{key}"
        )
        _pay(clerk, project, spent, f"V-{key}")
        rows[key] = Project.objects.get(pk=project.pk)
    return rows


def _python_hits(rule: Rule, today: date = TODAY) -> set[int]:
    """The reference: every project in the pack's subtree evaluated one by one with the compiled closure."""
    hits = set()
    for project in Project.objects.filter(org__path__startswith=rule.pack.org.path):
        try:
            bound = bind(rule, project)
        except Exception:  # a type without the names the rule reads: the sweep skips it too
            continue
        if bound is not None and bound.evaluate(project_record(project, bound.ctx, today=today), today):
            hits.add(project.pk)
    return hits


def test_a_sweep_raises_explained_alerts_for_the_projects_that_fire(world, ledger):
    pack = make_pack(world.city, [OVER5])
    assert not Alert.objects.exists()
    (result,) = sweep.sweep(today=TODAY)
    assert (result.rule, result.fired, result.opened, result.refreshed, result.resolved) == (
        "test-pack/CZ-01",
        2,
        2,
        0,
        0,
    )
    assert result.in_database is True and result.reasons == []
    alerts = {a.project_id: a for a in Alert.objects.all()}
    assert set(alerts) == {ledger["p1"].pk, ledger["p3"].pk}
    alert = alerts[ledger["p1"].pk]
    assert alert.status == AlertStatus.OPEN and alert.severity == "预警"
    assert alert.message == "测试项目p1超支10.00%，已支出110.00万元"
    assert alert.rule_key == f"{world.city.pk}/test-pack/CZ-01" and alert.org == world.bureau_a
    assert alert.trace["value"] is True and "超支率" in alert.trace["text"]
    assert alert.values["超支率"] == "0.1" and alert.values["超支预警线"] == "0.05"
    assert alert.versions == {
        "rule_pack": "test-pack v1",
        "rule_pack_checksum": pack.checksum[:12],
        "project_type": "laojiu v1",
        "form": "laojiu-lixiang v1",
    }
    assert alerts[ledger["p3"].pk].org == world.bureau_b
    for alert in alerts.values():
        assert list(alert.events.values_list("kind", flat=True)) == [AlertEvent.Kind.FIRED]
        assert AuditEvent.objects.filter(action="alert.fire", object_id=str(alert.pk)).count() == 1
    sweep_event = AuditEvent.objects.get(action="rules.sweep")
    assert sweep_event.after["opened"] == 2 and sweep_event.after["today"] == "2026-06-01"


def test_a_second_sweep_refreshes_and_never_duplicates(world, ledger):
    make_pack(world.city, [OVER5])
    sweep.sweep(today=TODAY)
    first = {a.pk: a for a in Alert.objects.all()}
    (again,) = sweep.sweep(today=TODAY)
    assert (again.fired, again.opened, again.refreshed, again.resolved) == (2, 0, 2, 0)
    assert Alert.objects.count() == 2
    for alert in Alert.objects.all():
        assert alert.pk in first and alert.status == AlertStatus.OPEN
        assert alert.fire_count == 2 and alert.version == first[alert.pk].version + 1
        assert alert.last_fired_at > first[alert.pk].last_fired_at
        assert alert.events.count() == 1  # a refresh is not a new finding
    assert AuditEvent.objects.filter(action="alert.fire").count() == 2


def test_a_project_that_no_longer_fires_is_resolved_automatically(world, ledger):
    make_pack(world.city, [OVER5])
    sweep.sweep(today=TODAY)
    # the budget is raised behind the services' back (an import, a migration): only the sweep can notice
    Project.objects.filter(pk=ledger["p1"].pk).update(budget=Decimal("5000000.00"))
    (result,) = sweep.sweep(today=TODAY)
    assert (result.fired, result.opened, result.refreshed, result.resolved) == (1, 0, 1, 1)
    resolved = Alert.objects.get(project=ledger["p1"])
    assert resolved.status == AlertStatus.RESOLVED and resolved.closed_at is not None
    assert resolved.events.filter(kind=AlertEvent.Kind.RESOLVED, note="预警条件已不再成立").count() == 1
    assert AuditEvent.objects.filter(action="alert.resolve", object_id=str(resolved.pk)).count() == 1
    assert Alert.objects.get(project=ledger["p3"]).status == AlertStatus.OPEN
    (quiet,) = sweep.sweep(today=TODAY)
    assert quiet.resolved == 0 and Alert.objects.filter(project=ledger["p1"]).count() == 1


def test_rules_apply_only_to_their_pack_subtree_and_types(world, ledger):
    make_pack(world.district_b, [OVER5], code="shangcheng")
    make_pack(world.city, [{**OVER5, "code": "DL-01", "types": ["daolu"]}], code="daolu-only")
    make_pack(world.city, [{**OVER5, "code": "LJ-01", "types": ["laojiu"]}], code="laojiu-only")
    make_pack(world.city, [{**OVER5, "code": "NS-01", "on_schedule": False}], code="save-only")
    results = {r.rule: r for r in sweep.sweep(today=TODAY)}
    assert set(results) == {"shangcheng/CZ-01", "daolu-only/DL-01", "laojiu-only/LJ-01"}
    assert results["shangcheng/CZ-01"].fired == 1
    assert set(Alert.objects.filter(rule__code="CZ-01").values_list("project_id", flat=True)) == {
        ledger["p3"].pk
    }
    assert results["daolu-only/DL-01"].fired == 0
    assert results["laojiu-only/LJ-01"].fired == 2
    assert not Alert.objects.filter(rule__code="NS-01").exists()
    only = sweep.sweep(rule_code="LJ-01", today=TODAY)
    assert [r.rule for r in only] == ["laojiu-only/LJ-01"] and only[0].refreshed == 2


def test_a_withdrawn_pack_is_not_swept(world, ledger):
    pack = make_pack(world.city, [OVER5])
    pack.status = PackStatus.WITHDRAWN
    pack.save(update_fields=["status"])
    assert sweep.sweep(today=TODAY) == []
    assert tasks.sweep_rule.delay(pack.rules.get().pk, TODAY.isoformat()).get() is None


def test_rules_the_database_cannot_run_fall_back_to_chunked_python_and_agree(world, ledger, monkeypatch):
    pack = make_pack(world.city, [OVER5, OVER5_PY])
    fast, slow = pack.rules.order_by("position")
    ctx = spec_of(slow).context(ledger["p1"].type_version, ledger["p1"].form_version)
    reason = sql.verdict(spec_of(slow).checked(ctx), ctx)
    assert reason is not None and "资金来源.金额" in reason
    assert sql.verdict(spec_of(fast).checked(ctx), ctx) is None
    # the world's untyped projects have no 超支率: neither rule runs there, so they add no reason
    assert sweep.rule_verdicts(pack) == {"CZ-01": "", "CZ-01P": reason}

    monkeypatch.setattr(sweep, "CHUNK", 1)  # one project in memory at a time: the chunks must add up
    by_rule = {r.rule: r for r in sweep.sweep(today=TODAY)}
    db, py = by_rule["test-pack/CZ-01"], by_rule["test-pack/CZ-01P"]
    assert db.in_database is True and db.reasons == []
    assert py.in_database is False and py.reasons == [reason]
    assert (py.fired, py.opened) == (db.fired, db.opened) == (2, 2)

    def flagged(rule):
        return set(
            Alert.objects.filter(rule=rule, status=AlertStatus.OPEN).values_list("project_id", flat=True)
        )

    assert flagged(slow) == flagged(fast) == _python_hits(fast) == _python_hits(slow)
    assert Alert.objects.get(rule=slow, project=ledger["p3"]).message == "测试项目p3超支20.00%"
    # an expression reading the alert counts runs in Python too
    make_pack(world.city, [{"code": "YJ-01", "condition": "未闭环预警数 >= 2"}], code="counts")
    (counts,) = sweep.sweep(rule_code="YJ-01", today=TODAY)
    assert counts.in_database is False and counts.fired == 2  # p1 and p3 carry two open alerts each


def test_matching_ids_is_the_flagged_set_in_the_database(world, ledger):
    pack = make_pack(world.city, [OVER5])
    spec = spec_of(pack.rules.get())
    assert sweep.matching_ids(spec, world.city, today=TODAY) == {ledger["p1"].pk, ledger["p3"].pk}
    assert sweep.matching_ids(spec, world.district_b, today=TODAY) == {ledger["p3"].pk}
    assert sweep.matching_ids(spec, world.bureau_a, today=TODAY) == {ledger["p1"].pk}
    daolu = spec_of(make_pack(world.city, [{**OVER5, "types": ["daolu"]}], code="d").rules.get())
    assert sweep.matching_ids(daolu, world.city, today=TODAY) == set()
    assert not Alert.objects.exists()  # matching_ids only reads

    # 今天() is the sweep's date: 计划工期 ends 2026-12-31 for every project of the fixture
    late = make_pack(
        world.city,
        [{"code": "JD-03", "condition": '今天() - 计划完工日期 > 30天 and 阶段 not in ["决算", "结项"]'}],
        code="late",
    ).rules.get()
    assert sweep.matching_ids(spec_of(late), world.city, today=date(2027, 1, 30)) == set()
    everyone = {p.pk for p in ledger.values()}
    assert sweep.matching_ids(spec_of(late), world.city, today=date(2027, 1, 31)) == everyone
    assert _python_hits(late, date(2027, 1, 31)) == everyone

    # ledger names only: the untyped projects of the world fixture are in scope too
    plain = make_pack(world.city, [{"code": "ZC-01", "condition": "已支出 >= 预算 * 50%"}], code="plain")
    expected = _python_hits(plain.rules.get())
    assert expected == {ledger[k].pk for k in ("p1", "p2", "p3", "p4")}
    assert sweep.matching_ids(spec_of(plain.rules.get()), world.city, today=TODAY) == expected


def test_the_sweep_all_task_sweeps_every_rule_in_eager_mode(world, ledger, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    make_pack(
        world.city, [OVER5, {**OVER5, "code": "CZ-02", "condition": "超支率 > 15%", "severity": "严重"}]
    )
    results = tasks.sweep_all.delay(TODAY.isoformat()).get()
    assert [(r["rule"], r["fired"], r["opened"], r["in_database"]) for r in results] == [
        ("test-pack/CZ-01", 2, 2, True),
        ("test-pack/CZ-02", 1, 1, True),
    ]
    assert tasks.sweep_all.delay(TODAY.isoformat()).get()[0]["refreshed"] == 2
    assert Alert.objects.count() == 3
    assert AuditEvent.objects.filter(action="rules.sweep", channel="task").count() == 4


def test_the_escalate_task_moves_unacknowledged_alerts_up_one_level(world, ledger):
    make_pack(world.city, [{**OVER5, "escalate_after_days": 2}])
    sweep.sweep(today=TODAY)
    assert tasks.escalate.delay().get() == 0  # just fired: not yet due
    Alert.objects.filter(project=ledger["p1"]).update(fired_at=timezone.now() - timedelta(days=3))
    assert tasks.escalate.delay().get() == 1
    alert = Alert.objects.get(project=ledger["p1"])
    assert alert.org == world.district_a and alert.escalation_level == 1
    assert alert.events.filter(kind=AlertEvent.Kind.ESCALATED).count() == 1
    assert Alert.objects.get(project=ledger["p3"]).org == world.bureau_b
    assert tasks.escalate.delay().get() == 0  # idempotent: the clock restarted


def _in_thread(fn) -> list[BaseException]:
    """Run ``fn`` on its own thread (its own database connection) and wait; returns what it raised."""
    errors: list[BaseException] = []

    def run():
        try:
            fn()
        except BaseException as error:  # reported to the test
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return errors


@pytest.mark.django_db(transaction=True)
def test_a_payment_during_a_sweep_waits_instead_of_deadlocking(world, ledger, monkeypatch):
    """The sweep holds the rule's open alerts; a payment on one of those projects takes the audit chain lock before
    it reaches them (rules run after the service's audit event). The sweep takes the chain lock first, so the
    payment waits for it; taking the alerts first deadlocked (PostgreSQL aborted one of the two)."""
    make_pack(world.city, [OVER5])
    sweep.sweep(today=TODAY)  # p1 and p3 have open alerts: the next sweep only refreshes them
    rule = Rule.objects.select_related("pack__org").get()
    holding = threading.Event()
    original = sweep._fire_all

    def slow_fire_all(*args, **kwargs):  # alerts locked, nothing audited yet: where the deadlock happened
        holding.set()
        time.sleep(1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(sweep, "_fire_all", slow_fire_all)
    results = []
    sweeper = threading.Thread(
        target=lambda: results.append(_in_thread(lambda: sweep.sweep_rule(rule, today=TODAY)))
    )
    sweeper.start()
    assert holding.wait(timeout=30)
    paid = _in_thread(
        lambda: _pay(world.users["clerk_a"], Project.objects.get(pk=ledger["p1"].pk), "1000.00", "V-during")
    )
    sweeper.join(timeout=60)
    assert paid == [] and results == [[]]
    alert = Alert.objects.get(project=ledger["p1"])
    assert alert.status == AlertStatus.OPEN and alert.fire_count == 3  # first sweep, this sweep, the payment
    assert Alert.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_save_committed_while_the_sweep_computed_is_not_undone(world, ledger, monkeypatch):
    """p4 starts firing (its payment raises the alert on save) after the sweep's query but before its locks. The
    payment is not held up by the sweep's lock on the rule row, and the sweep decides p4 again under the lock: it
    refreshes the new alert instead of resolving it."""
    make_pack(world.city, [OVER5])
    rule = Rule.objects.select_related("pack__org").get()
    original = sweep._lock_chain
    paid: list = []

    def pay_then_lock():
        p4 = Project.objects.get(pk=ledger["p4"].pk)
        payer = threading.Thread(
            target=lambda: paid.extend(
                _in_thread(lambda: _pay(world.users["clerk_a"], p4, "100000.00", "V-between"))
            )
        )
        payer.start()
        payer.join(timeout=10)  # a payment blocked by the sweep would deadlock with it below
        original()

    monkeypatch.setattr(sweep, "_lock_chain", pay_then_lock)
    result = sweep.sweep_rule(rule, today=TODAY)
    assert paid == []
    assert (result.fired, result.opened, result.refreshed, result.resolved) == (3, 2, 1, 0)
    alert = Alert.objects.get(project=ledger["p4"])
    assert alert.status == AlertStatus.OPEN and alert.fire_count == 2
    assert alert.message == "测试项目p4超支8.00%，已支出216.00万元"
