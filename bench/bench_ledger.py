"""Benchmark: the unified ledger (统一项目台账) over 100 000 projects and 1 000 000 expenditures on PostgreSQL.

Creates its own database (`taizhang_bench`, dropped and recreated; migrations run into it), bulk-loads an org
tree (省 → 市 → 10 区 → 30 局 → 60 科) with COPY, then measures, through the Django test client (middleware,
session, permission scope, template or serializer included):

- the ledger page's first page with three filters (org subtree + stage + year) and its totals row;
- the same with a pinyin-initials search, the API's first page, and page 200 of the whole city;
- the .xlsx export of ~10 000 rows: streamed (write-only workbook, `select_related`, cursor iterator) against
  a baseline measured in the same run (openpyxl normal mode in memory, rows without `select_related`).

Times are the median of N runs (context only: a shared 2-core machine). Run:
``.venv/bin/python bench/bench_ledger.py [--keep] [--explain] [--runs N]``; `--keep` reuses the loaded database.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from benchlib import banner, recreate_database, setup_django

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
DB = "taizhang_bench"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings.test")
os.environ["ALLOWED_HOSTS"] = "testserver"

PROJECTS = 100_000
EXPENDITURES_PER_PROJECT = 10
BUDGET_LINES_PER_PROJECT = 2
STAGES = (("立项", 20), ("执行", 45), ("验收", 15), ("结项", 20))
SOURCES = ("中央财政", "省级财政", "市级财政", "区县财政", "专项债券", "自筹资金")
DISTRICTS = ("西湖", "上城", "拱墅", "滨江", "萧山", "余杭", "临平", "钱塘", "富阳", "临安")
PLACES = (
    "翠苑一区", "文三路", "古荡", "紫阳街道", "湖滨", "清波", "小营", "望江", "南星", "长庆",
    "武林", "天水", "朝晖", "潮鸣", "米市巷", "湖墅", "和睦", "大关", "祥符", "康桥",
    "西兴", "长河", "浦沿", "北山", "灵隐", "转塘", "留下", "蒋村", "三墩", "翠苑二区",
)  # fmt: skip
KINDS = ("老旧小区改造", "道路提升", "雨污分流", "学校新建", "公园绿化", "智慧城管", "停车场建设", "管网改造")


def build_orgs_and_users():
    from accounts import services as accounts
    from accounts.models import Role
    from orgs import services as orgs

    province = orgs.org_create(actor=None, parent=None, name="浙江省", kind="province", code="330000",
                               division_code="330000")  # fmt: skip
    city = orgs.org_create(actor=None, parent=province, name="杭州市", kind="city", code="330100",
                           division_code="330100")  # fmt: skip
    leaves = []
    districts = []
    for d, name in enumerate(DISTRICTS):
        district = orgs.org_create(actor=None, parent=city, name=f"{name}区", kind="county",
                                   code=f"33011{d}", division_code=f"33011{d}")  # fmt: skip
        districts.append(district)
        for b, bureau_name in enumerate(("住建局", "交通局", "教育局")):
            bureau = orgs.org_create(actor=None, parent=district, name=f"{name}区{bureau_name}", kind="bureau",
                                     code=f"33011{d}-{b}")  # fmt: skip
            leaves.append(bureau)
            for s in range(2):
                leaves.append(orgs.org_create(actor=None, parent=bureau, name=f"{bureau.name}第{s + 1}科",
                                              kind="section", code=f"33011{d}-{b}-{s}"))  # fmt: skip
    password = "Bench@2026-mima"
    regulator = accounts.user_create(actor=None, username="regulator", password=password, org=city)
    accounts.grant_create(actor=None, user=regulator, role=Role.objects.get(code="regulator"), org=city)
    leader = accounts.user_create(actor=None, username="leader", password=password, org=districts[0])
    accounts.grant_create(actor=None, user=leader, role=Role.objects.get(code="leader"), org=districts[0])
    return city, districts, leaves, regulator, leader


def build_types(city) -> list[int]:
    from projects.config import DEFAULT_STAGES
    from projects.models import ProjectType, ProjectTypeVersion

    ids = []
    for code, name in (("laojiu", "老旧小区改造"), ("road", "道路提升"), ("school", "学校新建")):
        ptype = ProjectType.objects.create(org=city, code=code, name=name)
        version = ProjectTypeVersion.objects.create(
            type=ptype, number=1, status="published", config={"name": name},
            effective={"name": name, "stages": DEFAULT_STAGES},
        )  # fmt: skip
        ids.append(version.pk)
    return ids


def generate(leaves, type_version_ids) -> dict[str, float]:
    """COPY 100 000 projects, 200 000 budget lines and 1 000 000 expenditures; then set the ledger totals."""
    from django.db import connection

    from projects.search import search_text

    rng = random.Random(20261124)
    stage_pool = [s for s, weight in STAGES for _ in range(weight)]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    today = date(2026, 11, 24)
    timings: dict[str, float] = {}
    # Leaves are bureaus and sections in district order: 9 per district → 10 000 projects per district.
    per_leaf = PROJECTS // len(leaves)
    names_cache: dict[tuple[str, str], str] = {}
    start = time.perf_counter()
    project_rows = []
    budgets: list[int] = []
    for i in range(PROJECTS):
        leaf = leaves[min(i // per_leaf, len(leaves) - 1)]
        district = leaf.name[:2]
        place = rng.choice(PLACES)
        kind = rng.choice(KINDS)
        name = f"{district}区{place}{kind}"
        code = f"2026-{leaf.code[:6]}-{i + 1:06d}"
        if name not in names_cache:
            names_cache[name] = search_text(name, "")
        text = names_cache[name]
        base, _, rest = text.partition("  ")  # search_text(name, "") → "name  pinyin initials"
        text = f"{base} {code.lower()} {rest}"
        budget_cents = rng.randrange(10_0000_00, 5000_0000_00, 100)
        budgets.append(budget_cents)
        year = rng.choice((2021, 2022, 2023, 2024, 2025, 2025, 2026, 2026))
        planned_start = date(year, rng.randint(1, 12), 1)
        planned_end = planned_start + timedelta(days=rng.randint(120, 900))
        updated = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
        tv = rng.choice(type_version_ids) if i % 4 else None
        project_rows.append(
            (i + 1, leaf.pk, tv, code, name, "基本建设", rng.choice(stage_pool), year,
             Decimal(budget_cents) / 100, planned_start, planned_end, "{}", text, updated)
        )  # fmt: skip
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            "COPY projects_project (id, org_id, type_version_id, code, name, category, stage, year, budget, "
            "planned_start, planned_end, data, search_text, created_at, updated_at, allocated_total, "
            "spent_total, contract_total, progress, description, version) FROM STDIN"
        ) as copy:
            for row in project_rows:
                copy.write_row((*row, row[-1], 0, 0, 0, 0, "", 1))
        timings["projects"] = time.perf_counter() - start
        del project_rows

        start = time.perf_counter()
        line_id = 0
        lines_of: list[tuple[int, int]] = []  # (first line id, budget cents) per project
        with raw.copy(
            "COPY projects_budgetline (id, project_id, year, fund_source, amount, subject, note) FROM STDIN"
        ) as copy:
            for pid in range(1, PROJECTS + 1):
                budget = budgets[pid - 1]
                first = line_id + 1
                for share in (60, 40):
                    line_id += 1
                    copy.write_row(
                        (
                            line_id,
                            pid,
                            2026,
                            rng.choice(SOURCES),
                            Decimal(budget * share // 100) / 100,
                            "",
                            "",
                        )
                    )
                lines_of.append((first, budget))
        timings["budget lines"] = time.perf_counter() - start

        start = time.perf_counter()
        exp_id = 0
        with raw.copy(
            "COPY projects_expenditure (id, project_id, budget_line_id, voucher_no, paid_on, payee, amount, "
            "note, created_at) FROM STDIN"
        ) as copy:
            for pid in range(1, PROJECTS + 1):
                first, budget = lines_of[pid - 1]
                # most projects spend 0–100 % of the budget; about 5 % overspend
                ratio = rng.choice((0.0, 0.2, 0.45, 0.7, 0.9, 1.0)) if pid % 20 else 1.15
                each = int(budget * ratio / EXPENDITURES_PER_PROJECT)
                for k in range(EXPENDITURES_PER_PROJECT):
                    exp_id += 1
                    copy.write_row(
                        (exp_id, pid, first + (k % 2), f"PZ-{pid}-{k}", today - timedelta(days=k * 17),
                         "杭州某建设集团有限公司", Decimal(each) / 100, "", now)
                    )  # fmt: skip
        timings["expenditures"] = time.perf_counter() - start

        start = time.perf_counter()
        cursor.execute(
            "UPDATE projects_project p SET allocated_total = b.s FROM "
            "(SELECT project_id, SUM(amount) s FROM projects_budgetline GROUP BY project_id) b WHERE b.project_id = p.id"
        )
        cursor.execute(
            "UPDATE projects_project p SET spent_total = e.s FROM "
            "(SELECT project_id, SUM(amount) s FROM projects_expenditure GROUP BY project_id) e WHERE e.project_id = p.id"
        )
        for table in ("projects_project", "projects_budgetline", "projects_expenditure"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE projects_project")
        cursor.execute(
            "ANALYZE"
        )  # every table, the small org tree included (its LIKE estimate drives the plan)
        timings["totals + analyze"] = time.perf_counter() - start
    return timings


class QueryCounter:
    """Counts queries and their database time through an execute wrapper (Django's debug log keeps only 9 000)."""

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


def _median_ms(fn, runs: int) -> tuple[float, float, int]:
    from django.db import connection

    fn()  # warm caches (templates, URL resolver, PostgreSQL buffers)
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


def _get(client, url: str, params: dict):
    def call():
        response = client.get(url, params)
        assert response.status_code == 200, (response.status_code, response.content[:300])
        return response

    return call


def export_streaming(user, filters) -> int:
    """What the API does: the audited service's queryset → write-only workbook in a temporary file."""
    from projects import services
    from projects.ledger import ledger_totals
    from projects.ledger.xlsx import ledger_xlsx_file

    rows = services.project_export(actor=user, filters=filters)
    handle = ledger_xlsx_file(rows.iterator(chunk_size=2000), filters=filters, totals=ledger_totals(rows))
    size = handle.seek(0, io.SEEK_END)
    handle.close()
    return size


def export_naive(user, filters) -> int:
    """Baseline: the whole workbook in memory (openpyxl normal mode), rows without select_related (N+1)."""
    from openpyxl import Workbook

    from accounts import permissions
    from orgs.models import Org
    from projects.ledger.xlsx import HEADERS
    from projects.models import Project

    org_path = Org.objects.get(code=filters.org).path
    rows = list(
        permissions.visible(user, "project.export", Project.objects.filter(org__path__startswith=org_path))
    )
    wb = Workbook()
    ws = wb.active
    ws.append(list(HEADERS))
    for number, p in enumerate(rows, start=2):
        type_name = p.type_version.type.name if p.type_version_id else ""
        ws.append([p.code, p.name, p.org.name, p.org.code, type_name, p.category, p.stage, p.year, p.budget,
                   p.allocated_total, p.spent_total, None, None, p.contract_total, p.planned_start,
                   p.planned_end, "", timezone_naive(p.updated_at)])  # fmt: skip
        for column in (9, 10, 11, 14):
            ws.cell(row=number, column=column).number_format = "#,##0.00"
    buffer = io.BytesIO()
    wb.save(buffer)
    return len(buffer.getvalue())


def timezone_naive(moment):
    from django.utils import timezone

    return timezone.localtime(moment).replace(tzinfo=None)


def _measure_export(fn, user, filters) -> tuple[float, float, int, int]:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        size = fn(user, filters)
        wall = time.perf_counter() - start
    tracemalloc.start()
    fn(user, filters)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return wall * 1000, peak / 2**20, counter.count, size


def explain(client, url: str, params: dict) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()  # a full log would make the capture below empty
    with CaptureQueriesContext(connection) as captured:
        client.get(url, params)
    for q in captured.captured_queries:
        sql = q["sql"]
        if 'FROM "projects_project"' not in sql:
            continue
        kind = "totals" if "SUM(" in sql else "page rows"
        print(f"\n-- {kind}: EXPLAIN ANALYZE ({params})")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            for (line,) in cursor.fetchall():
                print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="reuse the loaded benchmark database")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the ledger queries")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    if not args.keep:
        recreate_database(DB, ADMIN_URL)
    setup_django()
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from orgs.models import Org
    from projects.ledger import LedgerFilters
    from projects.models import Expenditure, Project

    if not args.keep:
        start = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrate_s = time.perf_counter() - start
        start = time.perf_counter()
        city, _districts, leaves, _regulator, _leader = build_orgs_and_users()
        type_versions = build_types(city)
        setup_s = time.perf_counter() - start
        timings = generate(leaves, type_versions)
        banner("Data generation")
        print("| step | seconds |\n|---|---:|")
        print(f"| migrate (empty database) | {migrate_s:.1f} |")
        print(f"| org tree (102 orgs), users, 3 project types | {setup_s:.1f} |")
        for step, seconds in timings.items():
            print(
                f"| COPY {step} | {seconds:.1f} |" if "analyze" not in step else f"| {step} | {seconds:.1f} |"
            )
        print(f"| **total data generation (COPY + totals + ANALYZE)** | **{sum(timings.values()):.1f}** |")
    print(
        f"\nrows: {Project.objects.count():,} projects, {Expenditure.objects.count():,} expenditures, "
        f"{Project.objects.values('org__path').distinct().count()} leaf orgs"
    )

    regulator = User.objects.get(username="regulator")
    client = Client()
    client.force_login(regulator)
    district = "330110"  # 西湖区: ~10 000 projects
    three = {"org": district, "stage": "执行", "year": "2025"}
    search = {"org": district, "search": "cyyq"}
    cases = [
        ("page 1, 3 filters (org subtree + stage + year) + totals", "/projects/", three),
        ("page 1, org subtree + pinyin search `cyyq` + totals", "/projects/", search),
        ("page 1, whole city (100 000 rows) + totals", "/projects/", {}),
        ("API page 1 (50 rows), 3 filters + totals", "/api/v1/projects/", three),
        ("page 200 of the whole city (50 rows/page) + totals", "/projects/", {"page": 200, "page_size": 50}),
        ("API page 200 of the whole city (50 rows/page) + totals", "/api/v1/projects/", {"page": 200}),
    ]
    banner(f"Ledger requests (Django test client, median of {args.runs})")
    print("| request | matching rows | server ms | of which SQL ms | queries |\n|---|---:|---:|---:|---:|")
    for label, url, params in cases:
        from projects.ledger import ledger_filters_parse, ledger_queryset, ledger_totals

        count = ledger_totals(ledger_queryset(regulator, ledger_filters_parse(params))).count
        median, sql_ms, queries = _median_ms(_get(client, url, params), args.runs)
        print(f"| {label} | {count:,} | {median:.1f} | {sql_ms:.1f} | {queries} |")

    banner("Excel export of one district (~10 000 rows)")
    filters = LedgerFilters(org=district)
    print(
        "| export | rows | wall ms | peak MiB (tracemalloc) | queries | file KiB |\n|---|---:|---:|---:|---:|---:|"
    )
    rows = Project.objects.filter(org__path__startswith=Org.objects.get(code=district).path).count()
    results = {}
    for label, fn in (
        ("**streamed**: write-only + temp file + select_related + iterator", export_streaming),
        ("baseline: normal workbook in memory, no select_related", export_naive),
    ):
        wall, peak, queries, size = _measure_export(fn, regulator, filters)
        results[fn.__name__] = (wall, peak)
        print(f"| {label} | {rows:,} | {wall:.0f} | {peak:.1f} | {queries:,} | {size / 1024:.0f} |")
    (sw, sp), (nw, np_) = results["export_streaming"], results["export_naive"]
    print(f"\nstreamed vs baseline: {nw / sw:.2f}× faster, {np_ / sp:.1f}× less peak memory")

    if args.explain:
        banner("Plans")
        explain(client, "/projects/", three)
        explain(client, "/projects/", search)
        explain(client, "/projects/", {"page": 200, "page_size": 50})


if __name__ == "__main__":
    main()
