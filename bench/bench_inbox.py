"""Benchmark: the approver's inbox (待办) over 10 000 open tasks, and 200 concurrent approvals, on PostgreSQL.

Creates its own database (`bench_taizhang_inbox`, dropped and recreated; migrations run into it), a small org tree
(省 → 市 → 区 → 住建局 + 财政局) with 52 approvers and a leader, a published type whose 支出审批 flow is 科室审核
(或签) → 分管领导审批, 2 000 projects, then with SQL (`INSERT … SELECT generate_series`):

- 10 000 running approvals on which the benchmark approver (`ks1`) and a colleague (`ks2`) each hold an open task;
- noise: 30 000 open tasks of 50 other approvers, 10 000 approvals `ks1` already approved (已办);

and measures, through the Django test client (middleware, session, serializer included):

- `GET /api/v1/approval-tasks/` (待办, overdue first then oldest) at page sizes 10, 50, 100: server time (median of
  N runs), SQL time and query count (which must not grow with the page size);
- baselines measured in the same run: the same page without the joins (`select_related`: one query per row and
  relation) and the same page without the `(assignee, status, opened_at)` index (dropped inside a transaction that is
  rolled back);
- 200 approvals of 200 distinct tasks through `POST /api/v1/approval-tasks/{id}/approve/`: 20 threads × 10, each
  thread with its own client and connection, against a baseline of 200 more approved one after another in one thread.

Times are context only (a shared 2-core machine). Run:
``.venv/bin/python bench/bench_inbox.py [--keep] [--explain] [--runs N]``; `--keep` reuses the loaded database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import banner, recreate_database, setup_django

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
DB = "bench_taizhang_inbox"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings.test")
os.environ["ALLOWED_HOSTS"] = "testserver"

MY_OPEN = 10_000  # running approvals with an open task for ks1 (and one for ks2: 或签)
NOISE_OPEN = 30_000  # running approvals with an open task for one of 50 other approvers
MY_DONE = 10_000  # approvals ks1 already approved
PROJECTS = 2_000
NOISE_USERS = 50
CONCURRENT, THREADS = 200, 20
FLOW = {
    "code": "zhichu",
    "name": "支出审批",
    "transition": "支出审批",
    "steps": [
        {
            "code": "ks",
            "name": "科室审核",
            "approvers": [{"role": "approver", "org": "本单位"}],
            "mode": "或签",
            "sla": "3工作日",
        },
        {
            "code": "ld",
            "name": "分管领导审批",
            "approvers": [{"role": "leader", "org": "本级政府"}],
            "mode": "或签",
        },
    ],
}


def build_world() -> dict:
    """Orgs, users and a published type through the services and models (a few dozen rows)."""
    from accounts import services as accounts
    from accounts.models import Role
    from orgs import services as orgs
    from projects.config import DEFAULT_STAGES
    from projects.models import ProjectType, ProjectTypeVersion

    province = orgs.org_create(actor=None, parent=None, name="浙江省", kind="province", code="330000",
                               division_code="330000")  # fmt: skip
    city = orgs.org_create(actor=None, parent=province, name="杭州市", kind="city", code="330100",
                           division_code="330100")  # fmt: skip
    district = orgs.org_create(actor=None, parent=city, name="西湖区", kind="county", code="330106",
                               division_code="330106")  # fmt: skip
    bureau = orgs.org_create(actor=None, parent=district, name="西湖区住房和城乡建设局", kind="bureau",
                             code="330106-zjj")  # fmt: skip
    orgs.org_create(actor=None, parent=district, name="西湖区财政局", kind="bureau", code="330106-czj")
    password = "Bench@2026-mima"
    approver, leader_role, staff = (Role.objects.get(code=c) for c in ("approver", "leader", "staff"))

    def person(username: str, name: str, org, role) -> object:
        user = accounts.user_create(
            actor=None, username=username, password=password, org=org, display_name=name
        )
        accounts.grant_create(actor=None, user=user, role=role, org=org)
        return user

    clerk = person("clerk", "陈静", bureau, staff)
    ks1 = person("ks1", "王科长", bureau, approver)
    ks2 = person("ks2", "李科员", bureau, approver)
    leader = person("leader", "黄强", district, leader_role)
    noise = [person(f"sp{i:02d}", f"审批人{i:02d}", bureau, approver) for i in range(NOISE_USERS)]
    ptype = ProjectType.objects.create(org=city, code="road", name="道路提升")
    version = ProjectTypeVersion.objects.create(
        type=ptype, number=1, status="published", config={"name": "道路提升"},
        effective={"name": "道路提升", "stages": DEFAULT_STAGES, "flows": [FLOW]},
    )  # fmt: skip
    return {"bureau": bureau, "clerk": clerk, "ks1": ks1, "ks2": ks2, "leader": leader, "noise": noise,
            "version": version}  # fmt: skip


def generate(world: dict) -> dict[str, float]:
    """Projects with bulk_create; approvals and tasks with INSERT … SELECT generate_series (server-side)."""
    import json
    from decimal import Decimal

    from django.db import connection

    from projects.models import Project

    timings: dict[str, float] = {}
    start = time.perf_counter()
    Project.objects.bulk_create(
        [
            Project(
                org=world["bureau"],
                type_version=world["version"],
                code=f"2026-330106-{i:06d}",
                name=f"西湖区第{i}号道路提升工程",
                category="基本建设",
                stage="执行",
                year=2026,
                budget=Decimal("5000000.00"),
                owner=world["clerk"],
            )
            for i in range(1, PROJECTS + 1)
        ],
        batch_size=1000,
    )
    timings["projects (bulk_create)"] = time.perf_counter() - start
    first_project = Project.objects.order_by("id").values_list("id", flat=True).first()
    data = json.dumps({"project": {"code": "2026-330106-000001", "budget": "5000000.00"}, "data": {}},
                      ensure_ascii=False)  # fmt: skip
    params = {
        "definition": json.dumps(FLOW, ensure_ascii=False),
        "data": data,
        "tv": world["version"].pk,
        "applicant": world["clerk"].pk,
        "org": world["bureau"].pk,
        "p0": first_project,
        "np": PROJECTS,
    }
    total = MY_OPEN + NOISE_OPEN + MY_DONE
    start = time.perf_counter()
    with connection.cursor() as cursor:
        # approvals 1..MY_OPEN: ks1 + ks2 open; next NOISE_OPEN: one noise approver open; last MY_DONE: approved
        cursor.execute(
            f"""
            INSERT INTO workflow_flowinstance (project_id, transition, flow_code, flow_name, definition,
                type_version_id, subject, title, applicant_id, org_id, status, current_step, returned_from,
                round, data, version, started_at, finished_at)
            SELECT %(p0)s + (g %% %(np)s), '支出审批', 'zhichu', '支出审批', %(definition)s::jsonb,
                %(tv)s, jsonb_build_object('expenditure', g, 'amount', ((g * 7919) %% 900000 + 1000)::text || '.00'),
                '第' || g || '笔支出审批', %(applicant)s, %(org)s,
                CASE WHEN g > {MY_OPEN + NOISE_OPEN} THEN 'approved' ELSE 'running' END,
                CASE WHEN g > {MY_OPEN + NOISE_OPEN} THEN '' ELSE 'ks' END, '', 1, %(data)s::jsonb, 1,
                now() - ((g * 613) %% 86400 || ' minutes')::interval,
                CASE WHEN g > {MY_OPEN + NOISE_OPEN} THEN now() ELSE NULL END
            FROM generate_series(1, {total}) g ORDER BY g
            """,
            params,
        )
        cursor.execute("SELECT min(id) FROM workflow_flowinstance")
        (i0,) = cursor.fetchone()
        noise_ids = [u.pk for u in world["noise"]]
        cursor.execute(
            f"""
            INSERT INTO workflow_approvaltask (instance_id, step, step_name, round, seq, assignee_id, status,
                opened_at, due_at, acted_at, comment, attachment, snapshot, timed_out, version)
            SELECT i.id, 'ks', '科室审核', 1, 0, who.assignee,
                CASE WHEN n > {MY_OPEN + NOISE_OPEN} THEN 'approved' ELSE 'open' END,
                i.started_at, i.started_at + interval '3 days',
                CASE WHEN n > {MY_OPEN + NOISE_OPEN} THEN i.started_at + interval '1 day' ELSE NULL END,
                '', '', '{{}}'::jsonb, false, 1
            FROM (SELECT id, started_at, id - %(i0)s + 1 AS n FROM workflow_flowinstance) i
            CROSS JOIN LATERAL (
                SELECT %(ks1)s AS assignee WHERE i.n <= {MY_OPEN} OR i.n > {MY_OPEN + NOISE_OPEN}
                UNION ALL SELECT %(ks2)s WHERE i.n <= {MY_OPEN}
                UNION ALL SELECT (%(noise)s::int[])[1 + (i.n %% {NOISE_USERS})]
                    WHERE i.n > {MY_OPEN} AND i.n <= {MY_OPEN + NOISE_OPEN}
            ) who
            """,
            {"i0": i0, "ks1": world["ks1"].pk, "ks2": world["ks2"].pk, "noise": noise_ids},
        )
        timings["approvals + tasks (INSERT … SELECT)"] = time.perf_counter() - start
        start = time.perf_counter()
        cursor.execute("VACUUM ANALYZE workflow_approvaltask")
        cursor.execute("ANALYZE")
        timings["VACUUM ANALYZE"] = time.perf_counter() - start
    return timings


class QueryCounter:
    """Counts queries and their database time through an execute wrapper."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


def _median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float, int]:
    from django.db import connection

    fn()  # warm caches (URL resolver, serializers, PostgreSQL buffers)
    samples, sql_samples = [], []
    queries = 0
    for _ in range(runs):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
        sql_samples.append(counter.seconds * 1000)
        queries = counter.count
    return statistics.median(samples), statistics.median(sql_samples), queries


def _inbox_request(client, size: int) -> Callable[[], object]:
    def call():
        response = client.get("/api/v1/approval-tasks/", {"page_size": size})
        assert response.status_code == 200, (response.status_code, response.content[:300])
        assert len(response.json()["results"]) == size
        return response

    return call


def _page_deferred(user, size: int) -> Callable[[], object]:
    """What the API does (``workflow.api._page``): count and the page's ids on the task table alone, then the
    page's rows with the selector's joins, serialised."""
    from workflow import selectors
    from workflow.serializers import InboxTaskSerializer

    def call():
        rows = selectors.todo(user)
        count = rows.count()
        ids = list(rows.values_list("pk", flat=True)[:size])
        by_id = rows.in_bulk(ids)
        return count, InboxTaskSerializer([by_id[pk] for pk in ids], many=True).data

    return call


def _page_joined(user, size: int) -> Callable[[], object]:
    """Baseline: the selector's queryset sliced as is — every open task joined to its approval, project and
    applicant, then sorted, then cut to the page."""
    from workflow import selectors
    from workflow.serializers import InboxTaskSerializer

    def call():
        rows = selectors.todo(user)
        return rows.count(), InboxTaskSerializer(list(rows[:size]), many=True).data

    return call


def _page_naive(user, size: int) -> Callable[[], object]:
    """Baseline: the same rows in the same order without any join; each relation is read per row (N+1)."""
    from django.db.models import Case, IntegerField, Value, When
    from django.utils import timezone

    from workflow.models import ApprovalTask, TaskStatus
    from workflow.serializers import InboxTaskSerializer

    def call():
        now = timezone.now()
        rows = (
            ApprovalTask.objects.filter(assignee=user, status=TaskStatus.OPEN)
            .annotate(
                overdue=Case(
                    When(due_at__lt=now, then=Value(0)), default=Value(1), output_field=IntegerField()
                )
            )
            .order_by("overdue", "opened_at", "id")
        )
        return rows.count(), InboxTaskSerializer(list(rows[:size]), many=True).data

    return call


def _without_index(fn: Callable[[], object], runs: int) -> tuple[float, float, int]:
    """``fn`` timed with the inbox index dropped inside a transaction that is then rolled back."""
    from django.db import connection, transaction

    result: tuple[float, float, int] = (0.0, 0.0, 0)

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DROP INDEX task_inbox_idx")
            result = _median_ms(fn, runs)
            raise Rollback
    except Rollback:
        pass
    return result


def approve_many(task_ids: list[int], threads: int) -> tuple[int, list[str], float]:
    """Approve ``task_ids`` through the API with ``threads`` threads (own client, own connection each)."""
    from django.db import connection
    from rest_framework.test import APIClient

    from accounts.models import User

    share = len(task_ids) // threads
    chunks = [task_ids[i * share : (i + 1) * share] for i in range(threads)]
    barrier = threading.Barrier(threads)
    done: list[int] = []
    errors: list[str] = []

    def work(chunk: list[int]) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user=User.objects.get(username="ks1"))
            barrier.wait()
            for pk in chunk:
                response = client.post(
                    f"/api/v1/approval-tasks/{pk}/approve/", {"comment": "同意"}, format="json"
                )
                if response.status_code == 200:
                    done.append(pk)
                else:
                    errors.append(f"{response.status_code} {response.content[:120]!r}")
        except BaseException as exc:  # counted, never hidden
            errors.append(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return len(done), errors, time.perf_counter() - start


def explain(user, size: int) -> None:
    """EXPLAIN ANALYZE of the two queries that build the API's page, and of the selector sliced as is."""
    from django.db import connection

    from workflow import selectors

    rows = selectors.todo(user)
    ids = list(rows.values_list("pk", flat=True)[:size])
    for label, queryset in (
        (f"ours, the page's ids ({size})", rows.values_list("pk", flat=True)[:size]),
        ("ours, the page's rows with their joins", rows.filter(pk__in=ids).order_by()),
        ("baseline, the selector sliced as is", rows[:size]),
    ):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print(f"\n-- {label}: EXPLAIN ANALYZE")
            for (line,) in cursor.fetchall():
                print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="reuse the loaded benchmark database")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the inbox query")
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()

    if not args.keep:
        recreate_database(DB, ADMIN_URL)
    setup_django()
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from audit.models import AuditEvent
    from workflow import selectors
    from workflow.models import ApprovalTask, FlowInstance, TaskStatus

    if not args.keep:
        start = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrate_s = time.perf_counter() - start
        start = time.perf_counter()
        world = build_world()
        setup_s = time.perf_counter() - start
        timings = generate(world)
        banner("Data generation")
        print("| step | seconds |\n|---|---:|")
        print(f"| migrate (empty database) | {migrate_s:.1f} |")
        print(f"| org tree, {NOISE_USERS + 4} users, a published type with a 支出审批 flow | {setup_s:.1f} |")
        for step, seconds in timings.items():
            print(f"| {step} | {seconds:.1f} |")
    ks1 = User.objects.get(username="ks1")
    mine = ApprovalTask.objects.filter(assignee=ks1, status=TaskStatus.OPEN).count()
    print(
        f"\nrows: {FlowInstance.objects.count():,} approvals, {ApprovalTask.objects.count():,} tasks, "
        f"{mine:,} open for ks1; counts() = {selectors.counts(ks1)}"
    )

    client = Client()
    client.force_login(ks1)
    sizes = (10, 50, 100)
    banner(f"待办 first page, GET /api/v1/approval-tasks/ (Django test client, median of {args.runs})")
    print("| request | page size | server ms | of which SQL ms | queries |\n|---|---:|---:|---:|---:|")
    for size in sizes:
        median, sql_ms, queries = _median_ms(_inbox_request(client, size), args.runs)
        print(f"| API 待办, first page | {size} | **{median:.1f}** | {sql_ms:.1f} | {queries} |")

    banner(
        f"How the page is built: query + serializer without HTTP (median of {args.runs}; baselines of fewer)"
    )
    print(
        "| page built by | page size | ms | of which SQL ms | queries | × ours |\n|---|---:|---:|---:|---:|---:|"
    )
    few = max(5, args.runs // 3)
    cases = [
        (
            "**ours: ids on the task index, then join the page (deferred join)**",
            _page_deferred,
            args.runs,
            False,
        ),
        ("baseline: selector sliced as is (join every open task, then sort)", _page_joined, few, False),
        ("baseline: no joins, relations read per row (N+1)", _page_naive, few, False),
        ("baseline: ours without the (assignee, status, opened_at) index", _page_deferred, few, True),
    ]
    ours: dict[int, float] = {}
    for label, build, runs, drop_index in cases:
        for size in sizes:
            measure = _without_index if drop_index else _median_ms
            median, sql_ms, queries = measure(build(ks1, size), runs)
            ours.setdefault(size, median)
            print(
                f"| {label} | {size} | {median:.1f} | {sql_ms:.1f} | {queries} | {median / ours[size]:.2f}× |"
            )

    banner(f"{CONCURRENT} approvals of distinct tasks through POST /api/v1/approval-tasks/{{id}}/approve/")
    open_ids = list(selectors.todo(ks1).values_list("id", flat=True)[: 2 * CONCURRENT])
    audit_before = AuditEvent.objects.filter(action="approval.approve").count()
    print("| run | threads | approvals | completed | errors | wall s | approvals/s | × sequential |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|")  # fmt: skip
    seq_done, seq_errors, seq_wall = approve_many(open_ids[CONCURRENT:], 1)
    con_done, con_errors, con_wall = approve_many(open_ids[:CONCURRENT], THREADS)
    print(f"| baseline: one after another | 1 | {CONCURRENT} | {seq_done} | {len(seq_errors)} | {seq_wall:.1f} | "
          f"{seq_done / seq_wall:.1f} | 1.00× |")  # fmt: skip
    print(f"| **concurrent ({THREADS} threads × {CONCURRENT // THREADS})** | {THREADS} | {CONCURRENT} | "
          f"**{con_done}** | **{len(con_errors)}** | {con_wall:.1f} | {con_done / con_wall:.1f} | "
          f"{seq_wall / con_wall:.2f}× |")  # fmt: skip
    for message in (seq_errors + con_errors)[:5]:
        print("   error:", message)
    approved = ApprovalTask.objects.filter(pk__in=open_ids, status=TaskStatus.APPROVED).count()
    leader_tasks = ApprovalTask.objects.filter(instance__tasks__in=open_ids, step="ld", status="open").count()
    audited = AuditEvent.objects.filter(action="approval.approve").count() - audit_before
    print(f"\nchecked afterwards: {approved} tasks approved, {leader_tasks} 分管领导 tasks opened, "
          f"{audited} audit events, audit chain intact: {_verify()}")  # fmt: skip

    if args.explain:
        banner("Plan")
        explain(ks1, 50)


def _verify() -> bool:
    from audit.services import audit_verify

    return bool(audit_verify().ok)


if __name__ == "__main__":
    main()
