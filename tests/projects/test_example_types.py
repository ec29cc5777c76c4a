"""Every example bundle's project type runs its whole life through the API: 立项, money, 简报, stages, 验收, end."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from bundles import bundle_load, bundle_read
from projects.models import Project
from taizhang.demo_projects import PROJECTS

pytestmark = pytest.mark.django_db
BUNDLES = Path(__file__).resolve().parents[2] / "examples" / "bundles"
UNITS = [{"角色": "施工单位", "单位名称": "杭州某建设集团有限公司", "信用代码": "913301005000000002"}]
REPORTS = {
    "laojiu": {"简报日期": "2026-06-01", "今日进展": "外墙脚手架搭设", "现场人数": 40, "形象进度": "0.35"},
    "daolu": {
        "简报日期": "2026-06-01",
        "天气": "晴",
        "今日进展": "沥青摊铺 300 米",
        "现场人数": 80,
        "形象进度": "0.4",
    },
    "xiaoshe": {
        "简报日期": "2026-07-20",
        "在校期间施工": False,
        "今日进展": "构造柱浇筑",
        "现场人数": 25,
        "形象进度": "0.5",
    },
    "zhihui": {"简报日期": "2026-06-01", "今日进展": "联调测试", "投入人数": 12, "形象进度": "0.6"},
}
ACCEPTANCE = {
    "laojiu": {
        "验收日期": "2026-12-28",
        "实际工期": {"开始": "2026-03-15", "结束": "2026-12-20"},
        "完成户数": 1460,
        "结算金额": "12650000.00",
        "参建单位": UNITS,
        "验收结论": "合格",
    },
    "daolu": {
        "验收日期": "2027-03-30",
        "实际完工日期": "2027-03-20",
        "实际里程": 1200,
        "结算金额": "35200000.00",
        "参建单位": UNITS,
        "验收结论": "合格",
    },
    "xiaoshe": {
        "验收日期": "2026-08-30",
        "实际完工日期": "2026-08-26",
        "结算金额": "4550000.00",
        "消防验收": "已通过",
        "室内空气检测": "合格",
        "检测报告编号": "HJ-2026-0831",
        "验收结论": "合格",
    },
    "zhihui": {
        "验收日期": "2026-10-30",
        "试运行期": {"开始": "2026-09-01", "结束": "2026-10-20"},
        "上线系统数": 3,
        "等保测评结论": "符合",
        "测评报告编号": "DB-2026-1021",
        "合同金额": "2860000.00",
        "验收结论": "通过",
    },
}


def _approve_everything(project_id: int) -> None:
    """Act as each open task's assignee until the project's approvals are done (types with flows need them)."""
    from workflow.models import ApprovalTask, TaskStatus
    from workflow.services import task_approve

    for _ in range(20):
        task = ApprovalTask.objects.filter(instance__project_id=project_id, status=TaskStatus.OPEN).first()
        if task is None:
            return
        task_approve(actor=task.assignee, task=task, comment="同意")
    raise AssertionError("approvals did not finish")


def _data(type_code: str) -> dict:
    spec = next(p for p in PROJECTS if p[0] == type_code)
    return json.loads(json.dumps(spec[3], cls=DjangoJSONEncoder))


@pytest.mark.parametrize("type_code", ["laojiu", "daolu", "xiaoshe", "zhihui"])
def test_each_example_type_runs_to_its_last_stage(world, api, config_admin, type_code):
    bundle_load(actor=config_admin, bundle=bundle_read(BUNDLES / f"{type_code}.yaml"), org=world.city)
    client = api.as_user(world.users["clerk_a"])
    created = client.post(
        f"/api/v1/project-types/{type_code}/projects/", {"data": _data(type_code)}, format="json"
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    spent = client.post(
        f"/api/v1/projects/{pid}/expenditures/",
        {
            "voucher_no": "PZ-1",
            "paid_on": "2026-06-01",
            "payee": "杭州某建设集团有限公司",
            "amount": "100000.00",
        },
        format="json",
    )
    assert spent.status_code == 201, spent.content
    _approve_everything(pid)
    report = client.post(
        f"/api/v1/projects/{pid}/forms/", {"role": "每日简报", "data": REPORTS[type_code]}, format="json"
    )
    assert report.status_code == 201, report.content
    stages = [
        s["code"]
        for s in client.get(f"/api/v1/project-types/{type_code}/").json()["version"]["effective"]["stages"]
    ]
    for stage in stages[1:3]:
        moved = client.post(f"/api/v1/projects/{pid}/stage/", {"to_stage": stage}, format="json")
        assert moved.status_code in (200, 202), moved.content
        _approve_everything(pid)
    accepted = client.post(
        f"/api/v1/projects/{pid}/forms/", {"role": "验收申请", "data": ACCEPTANCE[type_code]}, format="json"
    )
    assert accepted.status_code == 201, accepted.content
    final = client.post(f"/api/v1/projects/{pid}/stage/", {"to_stage": stages[-1]}, format="json")
    assert final.status_code in (200, 202), final.content
    _approve_everything(pid)
    assert Project.objects.get(pk=pid).stage == stages[-1]
    assert Project.objects.get(pk=pid).spent_total == Decimal("100000.00")
    indicators = client.get(f"/api/v1/projects/{pid}/indicators/").json()
    assert indicators["indicators"] and indicators["days_late"] == 0
