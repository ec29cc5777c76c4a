"""A real Celery worker killed in the middle of a sweep leaves no duplicate and no half-written alert.

A worker process (`celery -A taizhang worker`, prefork, against Redis and this test's PostgreSQL database) runs
``rules.tasks.sweep_all``; ``TAIZHANG_SWEEP_PAUSE_SECONDS`` makes it hold each rule's transaction open after the rule's
writes. Once the first rule's alerts are committed and the second rule's transaction is open, the worker is killed
with SIGKILL. The task was acknowledged late, so the broker hands it out again and the rerun must converge on exactly
what a clean sweep gives.

- Whole worker killed (main process and pool child): nothing acknowledges or rejects the message, Redis restores it
  after ``visibility_timeout`` and a fresh worker runs it.
- Only the pool child killed: the worker sees the child die (``WorkerLostError``) and, with
  ``reject_on_worker_lost``, puts the message back at once for its next child.

Isolation: a Redis database of its own (``REDIS_DB``), a key prefix and a queue name unique to the run; the worker
reads this test's database name from the live connection. Workers are always killed in teardown.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import audit_verify
from rules import sweep
from rules.alerting import recipients
from rules.models import Alert, AlertEvent, AlertStatus, Notification, Rule
from rules.spec import spec_of

from .rule_fixtures import make_pack
from .test_sweep import TODAY, _create, _pay

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 13  # used by nothing else in the suite
BROKER = f"redis://127.0.0.1:6379/{REDIS_DB}"
PAUSE = 2.5  # seconds each rule's transaction stays open in the worker that is killed
RULES = [
    {"code": "KW-01", "name": "超支", "condition": "已支出 > 预算", "message": "{项目名称}超支{超支率:%}"},
    {
        "code": "KW-02",
        "name": "执行率过半",
        "condition": "预算执行率 >= 50%",
        "severity": "提示",
        "message": "{项目名称}执行率{预算执行率:%}",
        "notify": ["staff"],
    },
    {
        "code": "KW-03",
        "name": "大额预算",
        "condition": "预算 >= 150万",
        "message": "{项目名称}预算{预算:万元}",
    },
]

pytestmark = pytest.mark.django_db(transaction=True)  # the worker must see the committed data


class Worker:
    """One `celery worker` process in its own process group (so SIGKILL reaches the pool children too)."""

    def __init__(self, tmp: Path, name: str, queue: str, transport: dict, extra_env: dict[str, str]) -> None:
        db = connection.settings_dict
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "TAIZHANG_SWEEP"))},
            "DJANGO_SETTINGS_MODULE": "taizhang.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": BROKER,
            "CELERY_RESULT_BACKEND": BROKER,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(transport),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
            **extra_env,
        }
        self.log = tmp / f"{name}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "taizhang", "worker", "--pool", "prefork", "--concurrency", "1",
            "--queues", queue, "--hostname", f"{name}-{uuid.uuid4().hex[:8]}@%h", "--prefetch-multiplier", "1",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def kill(self) -> None:
        """SIGKILL to the worker's whole process group: main process and pool children, no chance to clean up."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@pytest.fixture
def workers(tmp_path, monkeypatch):
    started: list[Worker] = []
    sent: list[str] = []
    queue = f"test-sweep-kill-{uuid.uuid4().hex}"
    prefix = f"taizhang-test-{uuid.uuid4().hex[:12]}:"
    # Celery reads these variables before any argument given to the app: point the sending side at REDIS_DB too
    monkeypatch.setenv("CELERY_BROKER_URL", BROKER)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", BROKER)

    def start(name: str, *, visibility_timeout: int = 3600, pause: float = 0) -> Worker:
        transport = {
            "global_keyprefix": prefix,
            "visibility_timeout": visibility_timeout,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": 5,
        }
        extra = {"TAIZHANG_SWEEP_PAUSE_SECONDS": str(pause)} if pause else {}
        worker = Worker(tmp_path, name, queue, transport, extra)
        started.append(worker)
        return worker

    def send(today: str):
        from celery import Celery

        app = Celery("sweep-kill-test", broker=BROKER, backend=BROKER, set_as_current=False)
        app.conf.broker_transport_options = {"global_keyprefix": prefix}
        assert app.conf.broker_url == BROKER
        result = app.send_task("rules.tasks.sweep_all", args=[today], queue=queue)
        sent.append(result.id)
        return result

    start.send = send  # type: ignore[attr-defined]
    start.started = started  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        for worker in started:
            worker.kill()
        _drop_redis_keys(prefix, sent)


def _drop_redis_keys(prefix: str, task_ids: list[str]) -> None:
    import redis

    client = redis.Redis.from_url(BROKER)
    try:
        keys = [*client.scan_iter(match=f"{prefix}*"), *(f"celery-task-meta-{i}" for i in task_ids)]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def ledger(world, project_type, valid_data):
    """Eight projects at 西湖 and 上城, with payments, written before the pack (nothing fires on save)."""
    clerks = {world.bureau_a: world.users["clerk_a"], world.bureau_b: world.users["clerk_b"]}
    plan = [
        (world.bureau_a, "1000000.00", "1100000.00"),  # 超支, 执行率 110%
        (world.bureau_a, "1000000.00", "600000.00"),  # 执行率 60%
        (world.bureau_a, "2000000.00", "100000.00"),  # 大额
        (world.bureau_a, "3000000.00", "3300000.00"),  # all three
        (world.bureau_b, "1000000.00", "1200000.00"),  # 超支
        (world.bureau_b, "1500000.00", "800000.00"),  # 执行率 53%, 大额
        (world.bureau_b, "800000.00", "100000.00"),  # nothing
        (world.bureau_b, "900000.00", "900000.00"),  # 执行率 100%
    ]
    rows = []
    for n, (org, budget, spent) in enumerate(plan):
        clerk = clerks[org]
        project = _create(
            world, project_type, valid_data, org=org, actor=clerk, budget=budget, name=f"杀进程{n}"
        )
        _pay(clerk, project, spent, f"K{n}")
        rows.append(project.pk)
    return rows


def _wait(predicate, timeout: float, what: str, worker: Worker | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker is not None and not worker.alive():
            pytest.fail(f"worker exited while waiting for {what}:\n{worker.tail()}")
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}" + (f":\n{worker.tail()}" if worker else ""))


def _open_sweep_transactions() -> int:
    """Backends of this database (not ours) inside a transaction that has written: the killed worker's rule."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'idle in transaction' AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0]


def _expected(world) -> dict[str, set[int]]:
    return {r.code: sweep.matching_ids(spec_of(r), world.city, today=TODAY) for r in Rule.objects.all()}


def _assert_converged(world, expected: dict[str, set[int]]) -> None:
    """Exactly one open alert per (rule, firing project), each fully written; a clean sweep finds nothing to do."""
    alerts = list(Alert.objects.select_related("rule"))
    per_pair = Counter((a.rule_key, a.project_id) for a in alerts)
    assert max(per_pair.values()) == 1, per_pair  # no duplicate, open or not
    assert all(a.status == AlertStatus.OPEN for a in alerts)
    for code, ids in expected.items():
        assert {a.project_id for a in alerts if a.rule.code == code} == ids, code
    for alert in alerts:
        assert alert.message and alert.message != alert.rule.name  # rendered, with the project's values
        assert alert.trace["value"] is True and alert.trace["text"]
        assert alert.values and alert.versions["rule_pack"] == "test-pack v1"
        assert list(alert.events.values_list("kind", flat=True)) == [AlertEvent.Kind.FIRED]
        assert AuditEvent.objects.filter(action="alert.fire", object_id=str(alert.pk)).count() == 1
        wanted = len(recipients(alert.rule.notify, alert.project.org))
        assert Notification.objects.filter(alert=alert).count() == wanted
    assert Notification.objects.filter(alert__isnull=False).count() == sum(
        len(recipients(a.rule.notify, a.project.org)) for a in alerts
    )
    assert audit_verify().ok  # the killed transaction left no gap or stray link in the hash chain
    clean = {r.rule.split("/")[1]: r for r in sweep.sweep(today=TODAY)}
    for code, ids in expected.items():
        result = clean[code]
        assert (result.fired, result.opened, result.refreshed, result.resolved) == (len(ids), 0, len(ids), 0)


def test_a_worker_killed_mid_sweep_leaves_no_duplicate_or_half_written_alert(world, ledger, workers):
    make_pack(world.city, RULES)
    expected = _expected(world)
    assert [len(expected[c]) for c in ("KW-01", "KW-02", "KW-03")] == [3, 6, 3]
    first, second, third = Rule.objects.order_by("position")

    doomed = workers("doomed", pause=PAUSE)
    result = workers.send(TODAY.isoformat())
    _wait(lambda: Alert.objects.filter(rule=first).count() == 3, 60, "the first rule to commit", doomed)
    _wait(lambda: _open_sweep_transactions() == 1, 10, "the second rule's open transaction", doomed)
    assert Alert.objects.filter(rule=second).count() == 0  # written, not committed
    doomed.kill()

    _wait(lambda: _open_sweep_transactions() == 0, 10, "PostgreSQL to roll the killed transaction back")
    assert Alert.objects.filter(rule=first).count() == 3
    assert not Alert.objects.filter(rule__in=[second, third]).exists()  # nothing half-written
    assert AuditEvent.objects.filter(action="rules.sweep").count() == 1  # only the committed rule

    # Redis restores the unacknowledged message once it is older than the fresh worker's visibility timeout
    workers("fresh", visibility_timeout=6)
    summary = result.get(timeout=45)
    assert [(r["rule"], r["fired"]) for r in summary] == [
        ("test-pack/KW-01", 3),
        ("test-pack/KW-02", 6),
        ("test-pack/KW-03", 3),
    ]
    assert [(r["opened"], r["refreshed"]) for r in summary] == [(0, 3), (6, 0), (3, 0)]
    _assert_converged(world, expected)
    assert (
        Alert.objects.get(rule=first, project_id=ledger[0]).fire_count == 3
    )  # killed run, rerun, clean sweep


def test_a_killed_pool_child_is_rejected_and_redelivered_at_once(world, ledger, workers):
    make_pack(world.city, RULES)
    expected = _expected(world)
    first = Rule.objects.order_by("position").first()

    worker = workers("survivor", pause=1.5)
    result = workers.send(TODAY.isoformat())
    _wait(lambda: Alert.objects.filter(rule=first).count() == 3, 60, "the first rule to commit", worker)
    _wait(lambda: _open_sweep_transactions() == 1, 10, "the second rule's open transaction", worker)
    (child,) = worker.children()
    os.kill(child, signal.SIGKILL)  # only the child: the main process sees it lost and rejects with requeue

    summary = result.get(timeout=45)
    assert worker.alive() and child not in worker.children()
    assert [(r["opened"], r["refreshed"]) for r in summary] == [(0, 3), (6, 0), (3, 0)]
    log = worker.log.read_text(errors="replace")
    assert "WorkerLostError" in log
    assert log.count(f"Task rules.tasks.sweep_all[{result.id}] received") == 2  # delivered again, same worker
    _assert_converged(world, expected)
