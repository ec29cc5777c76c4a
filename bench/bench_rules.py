"""Benchmark: rule sweeps in the database against evaluating every project in Python, and the cost of rules on save.

Creates its own PostgreSQL database (`bench_taizhang_rules`, dropped and recreated; migrations run into it), an org
tree (省 → 市 → 10 区 → 30 局), the four example project types (`examples/bundles/*.yaml`, loaded through the bundle
service) and two rule packs at the city with 20 rules between them: 超支率 and 执行率 (type indicators, a threshold),
进度偏差 against 计划进度, dates and durations with 今天(), aggregates over 支出.金额 / 支出.支付日期 (max, sum,
count, avg), the contract total, and 立项 form fields read from the JSON column (integers, booleans, strings, money
held as strings, absent keys). Projects and expenditures are generated with ``INSERT … SELECT generate_series``
(deterministic: hashes of the row id), first a tenth of them, then the rest.

Measured in the same run, on the same data:

- the flagged set of every rule: (a) ``rules.sweep.matching_ids`` — the rule compiled to SQL, run by PostgreSQL —
  against (b) the baseline: load every project with its expenditures (``prefetch_related``, chunks of 2 000) and
  evaluate the compiled closures in Python (bindings cached per type version, one record per project). Both must
  flag exactly the same projects (asserted);
- (a) at a tenth of the projects and at all of them (same rules): the growth factor;
- the full ``rules.sweep.sweep_rule`` of every rule, alert writes included (first sweep: raises; second: refreshes);
- ``expenditure_record`` with the 20 rules in force against no rule in force (interleaved blocks, median), and how
  many rules a save re-evaluates: an expenditure against a progress update.

Times are context only (a shared 2-core machine); ratios are against baselines measured in the same run. Run:
``.venv/bin/python bench/bench_rules.py [--quick] [--runs N]`` (``--quick``: 2 000 projects, well under a minute).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from benchlib import banner, recreate_database

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
DB = "bench_taizhang_rules"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ.setdefault("LOG_LEVEL", "ERROR")

TODAY = date(2026, 6, 1)
EXPENDITURES_PER_PROJECT = 10
DISTRICTS = ("西湖", "上城", "拱墅", "滨江", "萧山", "余杭", "临平", "钱塘", "富阳", "临安")
TYPES = ("laojiu", "daolu", "xiaoshe", "zhihui")  # project i has type TYPES[i % 4]
STAGES = {  # each type's stages: 立项, the works, 验收, the last
    "laojiu": ("立项", "实施", "验收", "决算"),
    "daolu": ("立项", "施工", "验收", "决算"),
    "xiaoshe": ("立项", "实施", "验收", "交付"),
    "zhihui": ("立项", "建设", "验收", "运维"),
}

# (code, name, condition, severity, message, types): 财政局 pack first, then 发改委 pack with the type-specific rules.
CZJ = [
    ("CZ-01", "超预算支出预警", "超支率 > 超支预警线 and 超支率 <= 10%", "预警",
     "{项目名称}已支出{已支出:万元}，超出预算{超支率:%}", ()),
    ("CZ-02", "严重超预算支出", "超支率 > 10%", "严重", "{项目名称}超出预算{超支率:%}，暂停支出登记", ()),
    ("ZX-01", "执行率远低于计划进度", "预算执行率 < 计划进度 - 35%", "预警",
     "{项目名称}执行率{预算执行率:%}，计划进度{计划进度:%}", ()),
    ("ZX-02", "跨年项目执行率不足", "立项年度 <= 2023 and 预算执行率 < 65%", "提示",
     "{项目名称}（{立项年度}年立项）执行率仅{预算执行率:%}", ()),
    ("ZC-01", "单笔大额支出", "单笔最大支出 > 500万", "提示", "{项目名称}单笔支出{单笔最大支出:万元}", ()),
    ("ZC-02", "小额项目支出频繁", "count(支出.金额) >= 10 and 预算 < 15万", "提示",
     "{项目名称}预算{预算:万元}，已登记支出10笔以上", ()),
    ("ZC-03", "支出明细与已支出不符", "sum(支出.金额) != 已支出", "严重",
     "{项目名称}支出明细合计与已支出{已支出:元}不符", ()),
    ("ZC-04", "施工期长期无支付", '阶段 in ["实施", "施工", "建设"] and 今天() - max(支出.支付日期) > 400天', "预警",
     "{项目名称}最近一笔支付距今超过400天", ()),
    ("ZC-05", "平均单笔支出过高", "avg(支出.金额) > 预算 * 11.5%", "提示", "{项目名称}平均单笔支出过高", ()),
    ("HT-01", "合同额超预算", "合同金额 > 预算 * 102%", "预警",
     "{项目名称}合同金额{合同金额:万元}超过预算{预算:万元}", ()),
]  # fmt: skip
FGW = [
    ("JD-01", "进度滞后预警", "进度偏差 < -15% and 进度偏差 >= -30%", "预警",
     "{项目名称}计划进度{计划进度:%}，实际进度{实际进度:%}", ()),
    ("JD-02", "进度严重滞后", "进度偏差 < -30%", "严重", "{项目名称}滞后{进度偏差:%}", ()),
    ("JD-03", "竣工验收超期", '今天() - 计划完工日期 > 30天 and 阶段 not in ["决算", "交付", "运维", "结项"]',
     "预警", "{项目名称}计划于{计划完工日期}完工，当前阶段{阶段}", ()),
    ("JD-04", "临近完工进度不足", "计划完工日期 - 今天() <= 60天 and 计划完工日期 >= 今天() and 实际进度 < 90%",
     "预警", "{项目名称}将于{计划完工日期}完工，实际进度{实际进度:%}", ()),
    ("JD-05", "逾期未开工", '今天() - 计划开工日期 > 90天 and 阶段 = "立项"', "预警",
     "{项目名称}计划开工{计划开工日期}，仍在立项阶段", ()),
    ("LJ-01", "户均投资超上限", "户均投资 > 户均投资上限", "提示",
     "{项目名称}户均投资{户均投资:元}，上限{户均投资上限:元}", ("laojiu",)),
    ("LJ-02", "大型小区执行缓慢", '改造户数 >= 2800 and 预算执行率 < 20% and 阶段 = "实施"', "预警",
     "{项目名称}（{改造户数}户）执行率{预算执行率:%}", ("laojiu",)),
    ("DL-01", "概算超估算", "概算超估算率 > 概算超估算预警线", "预警",
     "{项目名称}概算超估算{概算超估算率:%}", ("daolu",)),
    ("XS-01", "需抗震加固项目未开工", '需抗震加固 = true and 阶段 = "立项" and 今天() > 计划开工日期', "严重",
     "{项目名称}需抗震加固，计划{计划开工日期}开工，仍未开工", ("xiaoshe",)),
    ("ZH-01", "信息化投资结构与密评", '软件投资占比 > 75% or (等保等级 in ["第三级", "第四级"] and 密评方案 is null)',
     "预警", "{项目名称}软件投资占比{软件投资占比:%}，等保{等保等级}", ("zhihui",)),
]  # fmt: skip
PACK_INDICATORS = [{"name": "单笔最大支出", "expr": "max(支出.金额)", "format": "money"}]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def build_world() -> dict[str, Any]:
    """Orgs, a clerk at the city (records the on-save payments), the example types, the two packs."""
    from accounts import services as accounts
    from accounts.models import Role
    from bundles import bundle_load, bundle_read
    from forms.models import FormVersion
    from orgs import services as orgs
    from projects.models import ProjectTypeVersion
    from tests.rules.rule_fixtures import make_pack

    province = orgs.org_create(actor=None, parent=None, name="浙江省", kind="province", code="330000",
                               division_code="330000")  # fmt: skip
    city = orgs.org_create(actor=None, parent=province, name="杭州市", kind="city", code="330100",
                           division_code="330100")  # fmt: skip
    leaves = []
    for d, name in enumerate(DISTRICTS):
        district = orgs.org_create(actor=None, parent=city, name=f"{name}区", kind="county",
                                   code=f"33011{d}", division_code=f"33011{d}")  # fmt: skip
        for b, bureau in enumerate(("住建局", "交通局", "教育局")):
            leaves.append(orgs.org_create(actor=None, parent=district, name=f"{name}区{bureau}", kind="bureau",
                                          code=f"33011{d}-{b}"))  # fmt: skip
    clerk = accounts.user_create(actor=None, username="clerk", password="Bench@2026-mima", org=city)
    accounts.grant_create(actor=None, user=clerk, role=Role.objects.get(code="staff"), org=city)
    for path in sorted((ROOT / "examples" / "bundles").glob("*.yaml")):
        bundle_load(actor=None, bundle=bundle_read(path), org=city)
    versions = {}
    for code in TYPES:
        tv = ProjectTypeVersion.objects.get(type__code=code, status="published")
        form = FormVersion.objects.get(form__code=tv.effective["forms"]["立项申请"], status="published")
        versions[code] = (tv.pk, form.pk)

    def rules(rows):
        return [
            {
                "code": c,
                "name": n,
                "condition": w,
                "severity": s,
                "message": m,
                "types": list(t),
                "notify": ["staff"],
            }
            for c, n, w, s, m, t in rows
        ]

    packs = [
        make_pack(city, rules(CZJ), indicators=PACK_INDICATORS, code="hz-czj-bench", version="2026.1"),
        make_pack(city, rules(FGW), code="hz-fgw-bench", version="2026.1"),
    ]
    return {"city": city, "leaves": leaves, "clerk": clerk, "versions": versions, "packs": packs}


def generate(world: dict[str, Any], first: int, last: int) -> dict[str, float]:
    """Projects ``first``..``last`` and their expenditures, with SQL only; then the ledger totals and ANALYZE."""
    from django.db import connection

    leaves = [org.pk for org in world["leaves"]]
    tvs = [world["versions"][code][0] for code in TYPES]
    fvs = [world["versions"][code][1] for code in TYPES]
    stage_rows = [list(STAGES[code]) for code in TYPES]
    timings = {}
    with connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute(PROJECTS_SQL, {"first": first, "last": last, "leaves": leaves, "tvs": tvs, "fvs": fvs,
                                      "stages": stage_rows, "today": TODAY})  # fmt: skip
        timings["projects"] = time.perf_counter() - start
        start = time.perf_counter()
        cursor.execute(
            EXPENDITURES_SQL, {"first": first, "last": last, "n": EXPENDITURES_PER_PROJECT, "today": TODAY}
        )
        timings["expenditures"] = time.perf_counter() - start
        start = time.perf_counter()
        cursor.execute(
            "UPDATE projects_project p SET spent_total = e.s, allocated_total = p.budget FROM (SELECT project_id, "
            "SUM(amount) s FROM projects_expenditure WHERE project_id BETWEEN %(first)s AND %(last)s "
            "GROUP BY project_id) e WHERE e.project_id = p.id",
            {"first": first, "last": last},
        )
        for table in ("projects_project", "projects_expenditure"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE projects_project")
        cursor.execute("VACUUM ANALYZE projects_expenditure")
        cursor.execute("ANALYZE")
        timings["totals + vacuum/analyze"] = time.perf_counter() - start
    return timings


# Hashes of the row id stand in for random numbers, so every run builds the same ledger. pp is where the project
# should be today (计划进度); most projects are near it, one in twenty lags by 10–40 points; one in fifty has not
# left 立项; most finished projects have reached their type's last stage.
PROJECTS_SQL = """
WITH g AS (
    SELECT i, i %% 4 AS t,
           abs(hashint8(i)) AS h1, abs(hashint8(-i)) AS h2, abs(hashint8(i * 7 + 3)) AS h3,
           abs(hashint8(i * 13 + 5)) AS h4, abs(hashint8(i * 17 + 11)) AS h5, abs(hashint8(i * 19 + 23)) AS h6
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
), v AS (
    SELECT g.*, round((5 + h1 %% 3000) * 10000 * (1 + (h5 %% 7) / 10.0), 2)::numeric(18, 2) AS budget,
           date '2023-01-01' + (h2 %% 1200)::int AS start_on, (180 + h3 %% 720)::int AS span
    FROM g
), w AS (
    SELECT v.*, start_on + span AS end_on,
           LEAST(1, GREATEST(0, (%(today)s::date - start_on)::numeric / span)) AS pp
    FROM v
)
INSERT INTO projects_project (id, org_id, type_version_id, form_version_id, code, name, category, stage, year,
    budget, planned_start, planned_end, progress, data, description, search_text, version, created_at,
    updated_at, allocated_total, spent_total, contract_total, owner_id)
SELECT i, (%(leaves)s::bigint[])[1 + (i / 7) %% cardinality(%(leaves)s::bigint[])],
       (%(tvs)s::bigint[])[1 + t], (%(fvs)s::bigint[])[1 + t],
       'B-' || lpad(i::text, 8, '0'), '项目' || i, '基本建设',
       (%(stages)s::text[])[1 + t][CASE WHEN pp < 0.05 OR h6 %% 50 = 0 THEN 1 WHEN pp < 0.95 THEN 2
                                        WHEN pp < 1 OR h6 %% 100 < 8 THEN 3 ELSE 4 END],
       extract(year FROM start_on)::int, budget, start_on, end_on,
       round(LEAST(1, GREATEST(0, pp + CASE WHEN h6 %% 20 = 1 THEN -(10 + (h6 / 10) %% 31) / 100.0
                                            ELSE ((h6 / 10) %% 16 - 5) / 100.0 END)), 4),
       jsonb_strip_nulls(jsonb_build_object(
           '项目名称', '项目' || i,
           '项目总投资', budget::text,
           '计划工期', jsonb_build_object('开始', start_on::text, '结束', (start_on + span)::text),
           '改造户数', CASE WHEN t = 0 THEN 100 + h3 %% 2900 END,
           '可研估算', CASE WHEN t = 1 THEN round(budget * 0.95, 2)::text END,
           '初设概算', CASE WHEN t = 1 THEN round(budget * (0.95 + (h4 %% 40) / 400.0), 2)::text END,
           '建设里程', CASE WHEN t = 1 THEN 500 + h4 %% 9500 END,
           '在校学生数', CASE WHEN t = 2 THEN 200 + h4 %% 2800 END,
           '建筑面积', CASE WHEN t = 2 THEN 1000 + h5 %% 19000 END,
           '需抗震加固', CASE WHEN t = 2 THEN h5 %% 5 = 0 END,
           '软件投资', CASE WHEN t = 3 THEN round(budget * (0.2 + (h4 %% 60) / 100.0), 2)::text END,
           '系统数量', CASE WHEN t = 3 THEN 1 + h5 %% 20 END,
           '等保等级', CASE WHEN t = 3 THEN (ARRAY['第二级', '第三级', '第四级'])[1 + h5 %% 3] END,
           '密评方案', CASE WHEN t = 3 AND h6 %% 8 <> 0 THEN '采用商用密码，委托第三方密评' END
       )),
       '', '', 1, now(), now(), 0, 0, round(budget * (0.6 + (h5 %% 45) / 100.0), 2), NULL
FROM w
"""
# Ten payments per project adding up to budget × ratio: mostly 60–110 % of the planned progress (计划进度), 1.5 %
# each at 103 %, 108 %, 115 % of the budget; one project in 50 pays its last instalment three times over, one in 40
# stopped paying early (ten payments in its first ten weeks).
EXPENDITURES_SQL = """
INSERT INTO projects_expenditure (project_id, voucher_no, paid_on, payee, amount, note, created_at, approval)
SELECT p.id, 'PZ-' || p.id || '-' || k,
       CASE WHEN h %% 40 = 7 THEN p.planned_start + k * 7
            ELSE LEAST(p.planned_start + k * (p.planned_end - p.planned_start) / 12, %(today)s::date - (%(n)s + 1 - k))
       END,
       '杭州某建设集团有限公司',
       GREATEST(0.01, round(p.budget * r.ratio * (k + 5) / 105 * CASE WHEN k = %(n)s AND h %% 50 = 0 THEN 3 ELSE 1 END, 2)),
       '', now(), ''
FROM projects_project p
CROSS JOIN LATERAL (SELECT abs(hashint8(p.id * 13 + 5)) AS h,
                           LEAST(1, GREATEST(0, (%(today)s::date - p.planned_start)::numeric
                                                / (p.planned_end - p.planned_start))) AS pp) hh
CROSS JOIN LATERAL (SELECT CASE WHEN h %% 200 < 3 THEN 1.15 WHEN h %% 200 < 6 THEN 1.08 WHEN h %% 200 < 9 THEN 1.03
                                ELSE GREATEST(0.02, pp * (0.6 + ((h / 200) %% 50) / 100.0)) END AS ratio) r
CROSS JOIN generate_series(1, %(n)s) AS k
WHERE p.id BETWEEN %(first)s AND %(last)s
"""


def all_rules() -> list[Any]:
    from rules.models import Rule

    return list(Rule.objects.select_related("pack", "pack__org", "article").order_by("pack_id", "position"))


def in_database(rules: list[Any], org: Any) -> tuple[dict[str, set[int]], dict[str, float]]:
    """(a) ``matching_ids`` of every rule: the flagged sets and the seconds per rule."""
    from rules.spec import spec_of
    from rules.sweep import matching_ids

    flagged, seconds = {}, {}
    for rule in rules:
        spec = spec_of(rule)
        start = time.perf_counter()
        flagged[rule.code] = matching_ids(spec, org, today=TODAY)
        seconds[rule.code] = time.perf_counter() - start
    return flagged, seconds


def in_python(rules: list[Any], org: Any) -> dict[str, set[int]]:
    """(b) The baseline: every project with its expenditures, in chunks; the compiled closures evaluated in Python.

    Fair to Python: a rule is bound (checked and compiled) once per (type version, form version), each project's
    record is built once per context with only the lists its rules read.
    """
    import dsl
    from projects.models import Project
    from rules.context import project_record
    from rules.engine import bind

    flagged: dict[str, set[int]] = {rule.code: set() for rule in rules}
    bindings: dict[tuple, list] = {}
    needs: dict[int, frozenset[str]] = {}
    projects = (
        Project.objects.filter(org__path__startswith=org.path)
        .select_related("type_version__type", "form_version__form")
        .prefetch_related("expenditures")
        .order_by("id")
    )
    for project in projects.iterator(chunk_size=2000):
        key = (project.type_version_id, project.form_version_id)
        bound = bindings.get(key)
        if bound is None:
            bound = []
            for rule in rules:
                try:
                    found = bind(rule, project)
                except dsl.DslError:
                    continue
                if found is not None:
                    bound.append(found)
            bindings[key] = bound
            for item in bound:
                needs[id(item.ctx)] = needs.get(id(item.ctx), frozenset()) | item.reads
        records: dict[int, dict] = {}
        for item in bound:
            record = records.get(id(item.ctx))
            if record is None:
                record = records[id(item.ctx)] = project_record(
                    project, item.ctx, today=TODAY, needs=needs[id(item.ctx)]
                )
            if item.evaluate(record, TODAY):
                flagged[item.rule.code].add(project.pk)
    return flagged


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def sweep_all(rules: list[Any]) -> tuple[list[Any], float]:
    from rules.sweep import sweep_rule

    start = time.perf_counter()
    results = [sweep_rule(rule, today=TODAY) for rule in rules]
    return results, time.perf_counter() - start


def on_save(world: dict[str, Any], writes: int) -> dict[str, Any]:
    """``expenditure_record`` with the packs in force and withdrawn, interleaved in blocks; and rules evaluated."""
    from projects import services
    from projects.models import Project
    from rules import engine
    from rules.models import PackStatus, RulePack

    pack_ids = [p.pk for p in world["packs"]]
    # xiaoshe and zhihui have no 支出审批 flow: a payment counts at once and runs the rules
    pool = list(
        Project.objects.filter(type_version__type__code__in=["xiaoshe", "zhihui"]).order_by("id")[
            : writes * 2
        ]
    )
    clerk = world["clerk"]
    counter = {"n": 0}

    def pay(project: Any, tag: str) -> float:
        counter["n"] += 1
        start = time.perf_counter()
        services.expenditure_record(actor=clerk, project=project, voucher_no=f"OS-{tag}-{counter['n']}",
                                    paid_on=TODAY, payee="杭州某建设集团有限公司", amount="100.00")  # fmt: skip
        return time.perf_counter() - start

    def set_rules(active: bool) -> None:
        status = PackStatus.ACTIVE if active else PackStatus.WITHDRAWN
        RulePack.objects.filter(pk__in=pack_ids).update(status=status)

    def queries(active: bool) -> int:
        from django.db import connection

        count = {"n": 0}

        def counting(execute, sql, params, many, context):
            count["n"] += 1
            return execute(sql, params, many, context)

        set_rules(active)
        with connection.execute_wrapper(counting):
            pay(pool[-1], "queries")
        return count["n"]

    samples: dict[bool, list[float]] = {True: [], False: []}
    block = max(1, writes // 10)
    for warm in (True, False):  # warm caches (bindings, contexts, plans) in both modes
        set_rules(warm)
        for project in pool[:5]:
            pay(project, "warm")
    for b in range(0, writes, block):
        for active in (b // block % 2 == 0, b // block % 2 != 0):
            set_rules(active)
            for project in pool[(b if active else writes + b) :][:block]:
                samples[active].append(pay(project, "on" if active else "off"))
    query_counts = {active: queries(active) for active in (False, True)}
    set_rules(True)

    # rules a save re-evaluates: count the closures evaluated by one payment and by one progress update
    evaluated = {"n": 0}
    original = engine.Bound.evaluate

    def counting(self, record, today):
        evaluated["n"] += 1
        return original(self, record, today)

    project = Project.objects.select_related("type_version__type").get(pk=pool[0].pk)
    applicable = len(engine.bound_rules(project))
    engine.Bound.evaluate = counting
    try:
        pay(project, "count")
        by_payment = evaluated["n"]
        evaluated["n"] = 0
        services.task_save(actor=clerk, project=Project.objects.get(pk=project.pk), code="1", name="主体施工",
                           weight="1", percent="0.5")  # fmt: skip
        by_progress = evaluated["n"]
    finally:
        engine.Bound.evaluate = original
    return {
        "samples": samples,
        "queries": query_counts,
        "applicable": applicable,
        "type": project.type_version.type.code,
        "by_payment": by_payment,
        "by_progress": by_progress,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 000 projects (a smoke run, under a minute)")
    parser.add_argument("--projects", type=int, help="number of projects (default 100 000; --quick: 2 000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of the in-database sweep (median)")
    parser.add_argument(
        "--writes", type=int, help="payments per mode in the on-save measurement (default 200)"
    )
    args = parser.parse_args()
    total = args.projects or (2_000 if args.quick else 100_000)
    small = total // 10
    writes = args.writes or (60 if args.quick else 200)

    recreate_database(DB, ADMIN_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from forms.models import FormVersion
    from projects.models import Expenditure, Project, ProjectTypeVersion
    from rules import sql
    from rules.spec import spec_of

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - started
    started = time.perf_counter()
    world = build_world()
    setup_s = time.perf_counter() - started
    city = world["city"]
    rules = all_rules()
    assert len(rules) == 20

    gen1 = generate(world, 1, small)
    runs_small = [in_database(rules, city) for _ in range(args.runs)]
    gen2 = generate(world, small + 1, total)
    projects, expenditures = Project.objects.count(), Expenditure.objects.count()
    runs_full = [in_database(rules, city) for _ in range(args.runs)]
    python_flagged, python_s = timed(lambda: in_python(rules, city))

    db_flagged = runs_full[0][0]
    for flagged, _ in runs_full[1:]:
        assert flagged == db_flagged
    mismatched = [code for code in db_flagged if db_flagged[code] != python_flagged[code]]
    assert not mismatched, f"the database and Python disagree on {mismatched}"

    def total_s(runs: list) -> float:
        return statistics.median(sum(seconds.values()) for _, seconds in runs)

    def per_rule(runs: list, code: str) -> float:
        return statistics.median(seconds[code] for _, seconds in runs)

    db_small_s, db_full_s = total_s(runs_small), total_s(runs_full)

    first_results, first_s = sweep_all(rules)
    second_results, second_s = sweep_all(rules)
    for a, b, (code, ids) in zip(first_results, second_results, db_flagged.items(), strict=True):
        assert a.fired == b.fired == len(ids) and a.opened == len(ids) and b.refreshed == len(ids), code
        assert a.in_database and b.in_database
    saves = on_save(world, writes)

    # -- report ----------------------------------------------------------------------------------------------------
    print(
        f"# bench_rules: {projects:,} projects, {expenditures:,} expenditures, 20 rules in 2 packs, today {TODAY}"
    )
    banner("Data generation (INSERT … SELECT generate_series)")
    print("| step | seconds |\n|---|---:|")
    print(f"| migrate (empty database) | {migrate_s:.1f} |")
    print(f"| orgs, users, 4 example bundles, 2 packs | {setup_s:.1f} |")
    for label, timings in ((f"first {small:,}", gen1), (f"other {total - small:,}", gen2)):
        for step, seconds in timings.items():
            print(f"| {label}: {step} | {seconds:.1f} |")

    banner(f"Flagged sets of the 20 rules over {projects:,} projects (same sets asserted)")
    print("| method | seconds | µs per project | × baseline | rules agreeing |\n|---|---:|---:|---:|---:|")
    agree = sum(1 for code in db_flagged if db_flagged[code] == python_flagged[code])
    print(f"| (b) baseline: load every project + expenditures (prefetch, chunks of 2 000), compiled closures in "
          f"Python | {python_s:.2f} | {python_s * 1e6 / projects:.0f} | 1.00× | {agree}/20 |")  # fmt: skip
    print(f"| **(a) in the database: `matching_ids` per rule (median of {args.runs})** | **{db_full_s:.2f}** | "
          f"{db_full_s * 1e6 / projects:.0f} | **{python_s / db_full_s:.1f}× faster** | {agree}/20 |")  # fmt: skip

    banner("Per rule (in-database, median ms)")
    print(
        f"| rule | condition | flagged of {projects:,} | runs in | ms @ {small:,} | ms @ {projects:,} | growth |"
    )
    print("|---|---|---:|---|---:|---:|---:|")
    for rule in rules:
        spec = spec_of(rule)
        tv, fv = world["versions"][rule.types[0] if rule.types else "laojiu"]
        ctx = spec.context(ProjectTypeVersion.objects.get(pk=tv), FormVersion.objects.get(pk=fv))
        where = sql.verdict(spec.checked(ctx), ctx) or "数据库"
        a, b = per_rule(runs_small, rule.code), per_rule(runs_full, rule.code)
        condition = rule.condition.replace("|", "\\|")
        print(f"| {rule.code} {rule.name} | `{condition}` | {len(db_flagged[rule.code]):,} | {where} | "
              f"{a * 1000:.1f} | {b * 1000:.1f} | {b / a:.1f}× |")  # fmt: skip

    banner("Scaling of the in-database sweep (same 20 rules)")
    print("| projects | expenditures | seconds (20 rules) | growth |\n|---:|---:|---:|---:|")
    print(f"| {small:,} | {small * EXPENDITURES_PER_PROJECT:,} | {db_small_s:.2f} | 1.00× |")
    print(f"| {projects:,} | {expenditures:,} | {db_full_s:.2f} | {db_full_s / db_small_s:.2f}× "
          f"(data ×{projects / small:.0f}) |")  # fmt: skip

    banner("Full sweep (`sweep_rule` × 20: flagged sets + alert writes, one transaction per rule)")
    print("| run | fired | opened | refreshed | resolved | seconds | ms per alert written |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, results, seconds in (("first (raises)", first_results, first_s),
                                    ("second (refreshes)", second_results, second_s)):  # fmt: skip
        fired = sum(r.fired for r in results)
        written = sum(r.opened + r.refreshed + r.resolved for r in results)
        print(f"| {label} | {fired:,} | {sum(r.opened for r in results):,} | {sum(r.refreshed for r in results):,} "
              f"| {sum(r.resolved for r in results):,} | {seconds:.1f} | "
              f"{(seconds - db_full_s) * 1000 / max(written, 1):.2f} |")  # fmt: skip
    print(
        f"\n(ms per alert written: the run's time less the in-database flagged sets ({db_full_s:.2f} s), per alert)"
    )

    banner(f"On save: `expenditure_record` ({writes} writes per mode, interleaved blocks)")
    on, off = saves["samples"][True], saves["samples"][False]
    print("| rules in force | median ms | p90 ms | queries | added ms per write |\n|---|---:|---:|---:|---:|")
    p90 = lambda xs: sorted(xs)[int(len(xs) * 0.9)]  # noqa: E731
    q = saves["queries"]
    print(f"| none (baseline) | {_ms(statistics.median(off))} | {_ms(p90(off))} | {q[False]} | — |")
    print(f"| 20 rules (2 packs) | {_ms(statistics.median(on))} | {_ms(p90(on))} | {q[True]} | "
          f"**{_ms(statistics.median(on) - statistics.median(off))}** |")  # fmt: skip
    print(f"\nrules re-evaluated by one save of a {saves['type']} project ({saves['applicable']} rules apply to it): "
          f"a payment (支出登记) {saves['by_payment']}, a progress update (进度填报) {saves['by_progress']}")  # fmt: skip
    print(f"\nconnection: PostgreSQL {connection.pg_version // 10000}; total wall time "
          f"{time.perf_counter() - started + setup_s + migrate_s:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
