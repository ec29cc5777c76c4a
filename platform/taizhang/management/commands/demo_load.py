"""`taizhang demo_load`: the demo org tree, one user per role, and a few projects. Idempotent."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as accounts
from accounts.models import Role, User
from bundles import bundle_load, bundle_read
from core import context
from orgs import services as orgs
from orgs.models import Org
from projects import services as projects
from projects.models import Project, ProjectType
from rules.models import OPEN_STATUSES, Alert
from rules.services.packs import pack_load
from rules.sweep import sweep
from taizhang.demo_projects import PROJECTS
from workflow import services as approvals
from workflow.models import ApprovalTask, TaskStatus

DEMO_PASSWORD = "Taizhang@2026"
EXAMPLE_BUNDLES = settings.BASE_DIR / "examples" / "bundles"
EXAMPLE_PACKS = settings.BASE_DIR / "examples" / "packs"

# (code, parent code, name, kind, division code)
ORGS = (
    ("330000", None, "浙江省", "province", "330000"),
    ("330100", "330000", "杭州市", "city", "330100"),
    ("330100-czj", "330100", "杭州市财政局", "bureau", ""),
    ("330106", "330100", "西湖区", "county", "330106"),
    ("330106-zjj", "330106", "西湖区住房和城乡建设局", "bureau", ""),
    ("330106-zjj-cjk", "330106-zjj", "城市建设科", "section", ""),
    ("330106-czj", "330106", "西湖区财政局", "bureau", ""),
    ("330102", "330100", "上城区", "county", "330102"),
    ("330102-zjj", "330102", "上城区住房和城乡建设局", "bureau", ""),
)
# (username, display name, org code, role, grant org code)
USERS = (
    ("sysadmin", "张伟", "330000", "sys_admin", "330000"),
    ("secadmin", "李娜", "330000", "sec_admin", "330000"),
    ("auditor", "王芳", "330000", "audit_admin", "330000"),
    ("config", "刘洋", "330100", "config_admin", "330100"),
    ("config_xh", "郑洁", "330106-zjj", "config_admin", "330106-zjj"),
    ("clerk", "陈静", "330106-zjj", "staff", "330106-zjj"),
    ("approver", "杨磊", "330106-zjj", "approver", "330106-zjj"),
    ("regulator", "赵敏", "330100-czj", "regulator", "330100"),
    ("caizheng", "孙丽", "330106-czj", "approver", "330106-czj"),
    ("caizheng2", "吴刚", "330106-czj", "approver", "330106-czj"),
    ("leader", "黄强", "330106", "leader", "330106"),
    ("clerk_sc", "周杰", "330102-zjj", "staff", "330102-zjj"),
)
ROLE_ORDER = [u[3] for u in USERS]


def _approve_pending(project: Project) -> None:
    """The demo's history: the payments recorded so far went through 支出审批 and were approved by their approvers."""
    for _ in range(50):
        task = ApprovalTask.objects.filter(instance__project=project, status=TaskStatus.OPEN).first()
        if task is None:
            return
        approvals.task_approve(actor=task.assignee, task=task, comment="同意支付")


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where CJK characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


class Command(BaseCommand):
    help = "载入演示数据：机构树、各角色用户（打印密码）和示例项目。可重复执行。"

    def handle(self, *args, **options):
        with context.bind(context.RequestContext(request_id=context.new_request_id(), channel="cli")):
            created = self._load()
            if created:
                self._rules_and_approvals()
        self.stdout.write(self.style.SUCCESS("演示数据已就绪" if created else "演示数据已存在，未重复创建"))
        self._print_users()

    @transaction.atomic
    def _load(self) -> bool:
        if Org.objects.filter(code=ORGS[0][0]).exists():
            return False
        by_code: dict[str, Org] = {}
        for code, parent, name, kind, division in ORGS:
            by_code[code] = orgs.org_create(
                actor=None,
                parent=by_code.get(parent) if parent else None,
                name=name,
                kind=kind,
                code=code,
                division_code=division,
            )
        users: dict[str, User] = {}
        for username, display, org_code, role, grant_org in USERS:
            users[username] = accounts.user_create(
                actor=None,
                username=username,
                password=DEMO_PASSWORD,
                org=by_code[org_code],
                display_name=display,
            )
            accounts.grant_create(
                actor=None, user=users[username], role=Role.objects.get(code=role), org=by_code[grant_org]
            )
        for path in sorted(EXAMPLE_BUNDLES.glob("*.yaml")):
            bundle_load(actor=users["config"], bundle=bundle_read(path), org=by_code["330100"])
        for spec in PROJECTS:
            self._project(users, by_code, *spec)
        return True

    def _project(self, users, by_code, type_code, owner, org_code, data, lines, payments, milestones) -> None:
        actor = users[owner]
        ptype = ProjectType.objects.get(code=type_code)
        project = projects.project_create_from_type(
            actor=actor, org=by_code[org_code], ptype=ptype, data=data
        )
        budget_lines = [
            projects.budget_line_add(
                actor=actor, project=project, year=year, fund_source=source, amount=amount
            )
            for year, source, amount in lines
        ]
        for voucher, day, payee, amount in payments:
            projects.expenditure_record(
                actor=actor,
                project=project,
                voucher_no=voucher,
                paid_on=day,
                payee=payee,
                amount=amount,
                budget_line=budget_lines[0],
            )
        _approve_pending(project)
        for name, planned, actual in milestones:
            milestone = projects.milestone_add(actor=actor, project=project, name=name, planned_date=planned)
            if actual:
                projects.milestone_complete(actor=actor, milestone=milestone, actual_date=actual)

    def _rules_and_approvals(self) -> None:
        """The regulators' example packs, an overspending payment that raises an alert, the nightly sweep, and a
        立项审批 waiting in the 住建局 approver's inbox."""
        regulator, clerk = User.objects.get(username="regulator"), User.objects.get(username="clerk")
        city = Org.objects.get(code="330100")
        for path in sorted(EXAMPLE_PACKS.glob("*.yaml")):
            pack_load(actor=regulator, org=city, source=path.read_bytes(), filename=path.name)
        platform = Project.objects.get(name="西湖区智慧住建监管平台（一期）")
        projects.expenditure_record(
            actor=clerk,
            project=platform,
            voucher_no="JZ-2026-1015",
            paid_on="2026-10-15",
            payee="杭州数智信息技术有限公司",
            amount="100000.00",
            note="二期接口联调（超出合同）",
        )
        sweep()
        cuiyuan = Project.objects.get(name="西湖区翠苑一区老旧小区改造工程")
        approvals.stage_request(
            actor=clerk, project=cuiyuan, to_stage="实施", note="立项材料已齐备，申请立项审批"
        )
        alerts = Alert.objects.filter(status__in=OPEN_STATUSES).count()
        self.stdout.write(
            f"已载入政策规则包 {len(list(EXAMPLE_PACKS.glob('*.yaml')))} 个，未闭环预警 {alerts} 条。"
        )

    def _print_users(self) -> None:
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        self.stdout.write("  " + _pad("用户名", 12) + _pad("姓名", 8) + _pad("角色", 12) + "授权机构")
        for username, display, _org, role, grant_org in USERS:
            role_name = Role.objects.get(code=role).name
            org_name = Org.objects.get(code=grant_org).name
            self.stdout.write("  " + _pad(username, 12) + _pad(display, 8) + _pad(role_name, 12) + org_name)
        self.stdout.write(f"\n项目 {Project.objects.count()} 个。打开 http://127.0.0.1:8000/ 登录。")
